"""MaxMind DB files (``.mmdb``): GeoLite2/GeoIP2 Country, City, ASN and Anonymous-IP.

The search tree is walked with ``maxminddb``'s reader iteration (``for network, record in
reader``), so every network of the file becomes facts; the kind of database is read from
the records themselves, so any MaxMind-format file with these fields works:

* ``country.iso_code`` (else ``registered_country.iso_code``): a country fact;
* ``autonomous_system_number`` / ``_organization``: an ASN fact labelled with the org;
* Anonymous-IP flags: ``is_tor_exit_node`` -> ``tor``, ``is_anonymous_vpn`` -> ``vpn``,
  ``is_public_proxy`` and ``is_residential_proxy`` -> ``proxy``, ``is_hosting_provider``
  -> ``hosting``.

Time model (docs/intel.md): the file's date is the metadata ``build_epoch``. Anonymity flags
(tor, vpn, proxy) describe current use, which churns in days, so they hold
:data:`ANONYMITY_WINDOW` either side of the build date. Country, ASN and hosting facts change
slowly and are applied to every date, marked ``projected``.

A file that ``maxminddb`` cannot open or walk raises ``IntelError`` naming the file.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from slipcatch.errors import IntelError
from slipcatch.intel.addr import parse_cidr, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.model import Category, Fact, SourceInfo

__all__ = ["ANONYMITY_WINDOW", "FLAGS", "METADATA_MARKER", "read", "sniff", "sniff_tail"]

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
#: How long either side of the build date an anonymity flag holds.
ANONYMITY_WINDOW = timedelta(days=7)
#: record flag -> (category, label, time-bounded?)
FLAGS: dict[str, tuple[Category, str, bool]] = {
    "is_tor_exit_node": (Category.TOR, "Tor exit (MaxMind)", True),
    "is_anonymous_vpn": (Category.VPN, "anonymous VPN (MaxMind)", True),
    "is_public_proxy": (Category.PROXY, "public proxy (MaxMind)", True),
    "is_residential_proxy": (Category.PROXY, "residential proxy (MaxMind)", True),
    "is_hosting_provider": (Category.HOSTING, "hosting provider (MaxMind)", False),
}
LICENCE = "MaxMind DB: see the file's metadata description and the vendor's licence (GeoLite2 EULA)"


def sniff(head: bytes, name: str) -> float:
    """By name only (the metadata marker is at the end of the file: see :func:`sniff_tail`)."""
    return 0.5 if name.lower().endswith(".mmdb") else 0.0


def sniff_tail(tail: bytes) -> float:
    """The MaxMind metadata marker in the last 128 KiB of the file."""
    return 1.0 if METADATA_MARKER in tail else 0.0


def _country(rec: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        sub = rec.get(key)
        if isinstance(sub, dict) and isinstance(sub.get("iso_code"), str):
            code = sub["iso_code"].upper()
            if len(code) == 2 and code.isalpha():
                return code
    return None


def read(path: Path) -> Loaded:
    """Walk an .mmdb file's networks into facts.

    Raises:
        IntelError: the file cannot be opened as a MaxMind DB, or its tree or data section is
            corrupt (the message names the file).
    """
    import maxminddb
    from maxminddb.errors import InvalidDatabaseError

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IntelError(f"cannot read: {exc.strerror or exc}", str(path)) from exc
    sha = hashlib.sha256(raw).hexdigest()
    out = Loaded()
    source = f"mmdb:{path.name}"
    try:
        reader = maxminddb.open_database(str(path), maxminddb.MODE_MEMORY)
    except (InvalidDatabaseError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise IntelError(f"not a readable MaxMind DB: {exc}", str(path)) from exc
    try:
        meta = reader.metadata()
        built = datetime.fromtimestamp(int(meta.build_epoch), UTC)
        day = built.date().isoformat()
        dbtype = str(meta.database_type)
        lo, hi = built - ANONYMITY_WINDOW, built + ANONYMITY_WINDOW
        proj_note = f"{dbtype} of {day}: not historical, projected to other dates"
        flag_note = (f"{dbtype} of {day}: flag applied {ANONYMITY_WINDOW.days} days either "
                     "side of the build date")
        records = 0
        for network, rec in reader:
            records += 1
            first, last = parse_cidr(str(network))
            rng = range_text(first, last)
            if not isinstance(rec, dict):
                continue
            cc = _country(rec)
            asn = rec.get("autonomous_system_number")
            org = rec.get("autonomous_system_organization")
            if cc is not None or isinstance(asn, int):
                out.facts.append(FactRow(first, last, Fact(
                    range=rng, category=None, source=source, country=cc,
                    asn=asn if isinstance(asn, int) and not isinstance(asn, bool) else None,
                    label=org if isinstance(org, str) else None,
                    note=proj_note, projected=True,
                )))
            for flag, (cat, label, bounded) in FLAGS.items():
                if rec.get(flag) is True:
                    out.facts.append(FactRow(first, last, Fact(
                        range=rng, category=cat, source=source, label=label,
                        valid_from=lo if bounded else None, valid_to=hi if bounded else None,
                        note=flag_note if bounded else proj_note, projected=not bounded,
                    )))
    except (InvalidDatabaseError, ValueError, KeyError, TypeError, OSError,
            UnicodeDecodeError, RecursionError) as exc:
        raise IntelError(f"corrupt MaxMind DB: {type(exc).__name__}: {exc}", str(path)) from exc
    finally:
        reader.close()
    out.sources.append(SourceInfo(
        name=source, kind="mmdb", version=f"{dbtype} {day}", records=records,
        valid_from=None, valid_to=None, licence=LICENCE, sha256=sha,
    ))
    return out

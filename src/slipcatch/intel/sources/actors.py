"""Actor registries (YAML): actors and their exclusive address ranges.

The shipped registry is ``slipcatch/data/actors.yaml``; ``--intel`` may layer more registries
of the same schema on top (see that file's header and docs/intel.md). Validation is strict:
any schema violation raises :class:`IntelError` naming the file and the entry, because an
actor range that is silently mis-read would attribute events wrongly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from slipcatch.errors import IntelError
from slipcatch.intel.addr import parse_cidr, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.intel.sources.timeparse import parse_time
from slipcatch.model import Actor, Category, Fact, OperatingPeriod, SourceInfo

__all__ = ["SHIPPED_NAME", "load", "load_bytes", "shipped_bytes", "sniff"]

SHIPPED_NAME = "slipcatch-actors"
_ACTOR_KEYS = {
    "id",
    "name",
    "aliases",
    "country",
    "timezones",
    "operating_countries",
    "asns",
    "sources",
    "caveats",
    "ranges",
}
_RANGE_KEYS = {
    "cidr", "asn", "label", "country", "valid_from", "valid_to", "exclusivity", "sources",
    "caveats",
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_CC_RE = re.compile(r"^[A-Z]{2}$")


def shipped_bytes() -> bytes:
    """The bytes of the shipped registry ``slipcatch/data/actors.yaml``."""
    return resources.files("slipcatch").joinpath("data/actors.yaml").read_bytes()


def sniff(head: bytes, name: str) -> float:
    """An actor registry: YAML with a top-level ``actors:`` key."""
    if re.search(rb"(?m)^actors:\s*$", head):
        return 0.9
    return 0.0


def _texts(value: Any, where: str, file: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise IntelError(f"{where}: expected a list of non-empty texts", file)
    return tuple(v.strip() for v in value)


def _time(value: Any, where: str, file: str) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise IntelError(f"{where}: {exc}", file) from exc


def _operating(
    value: Any, where: str, file: str
) -> tuple[list[str], list[OperatingPeriod]]:
    """Operating countries: a code (undated) or ``{country, valid_from, valid_to}`` (dated)."""
    where = f"{where}.operating_countries"
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise IntelError(f"{where}: expected a list", file)
    codes: list[str] = []
    periods: list[OperatingPeriod] = []
    for k, item in enumerate(value):
        here = f"{where}[{k}]"
        if isinstance(item, Mapping):
            bad = set(item) - {"country", "valid_from", "valid_to"}
            if bad:
                raise IntelError(f"{here}: unknown keys {sorted(bad)}", file)
            code = item.get("country")
            vfrom = _time(item.get("valid_from"), f"{here}.valid_from", file)
            vto = _time(item.get("valid_to"), f"{here}.valid_to", file)
            if vfrom is not None and vto is not None and vfrom >= vto:
                raise IntelError(f"{here}: valid_from is not before valid_to", file)
        else:
            code, vfrom, vto = item, None, None
        if not isinstance(code, str) or not _CC_RE.match(code):
            raise IntelError(f"{here}: {code!r} is not an ISO 3166-1 alpha-2 code", file)
        if vfrom is None and vto is None:
            codes.append(code)
        else:
            periods.append(OperatingPeriod(code, vfrom, vto))
    return codes, periods


def _range(
    entry: Any, where: str, file: str, actor: Actor, source: str
) -> FactRow:
    if not isinstance(entry, Mapping):
        raise IntelError(f"{where}: expected a mapping", file)
    unknown = set(entry) - _RANGE_KEYS
    if unknown:
        raise IntelError(f"{where}: unknown keys {sorted(unknown)}", file)
    cidr = entry.get("cidr")
    if not isinstance(cidr, str):
        raise IntelError(f"{where}: cidr is required", file)
    try:
        first, last = parse_cidr(cidr)
    except ValueError as exc:
        raise IntelError(f"{where}: bad cidr {cidr!r}: {exc}", file) from exc
    asn = entry.get("asn")
    if asn is not None and (isinstance(asn, bool) or not isinstance(asn, int) or asn < 0):
        raise IntelError(f"{where}: asn must be a non-negative integer", file)
    excl = entry.get("exclusivity")
    if isinstance(excl, bool) or not isinstance(excl, int | float) or not 0.0 <= excl <= 1.0:
        raise IntelError(f"{where}: exclusivity must be a number in 0..1, got {excl!r}", file)
    vfrom = _time(entry.get("valid_from"), f"{where}.valid_from", file)
    vto = _time(entry.get("valid_to"), f"{where}.valid_to", file)
    if vfrom is not None and vto is not None and vfrom >= vto:
        raise IntelError(f"{where}: valid_from {vfrom.isoformat()} is not before valid_to", file)
    sources = _texts(entry.get("sources"), f"{where}.sources", file)
    if not sources:
        raise IntelError(f"{where}: at least one source (citation) is required", file)
    caveats = _texts(entry.get("caveats"), f"{where}.caveats", file)
    country = entry.get("country")
    if country is not None and (not isinstance(country, str) or not _CC_RE.match(country)):
        raise IntelError(f"{where}: country must be an ISO 3166-1 alpha-2 code", file)
    label = entry.get("label")
    if label is not None and not isinstance(label, str):
        raise IntelError(f"{where}: label must be text", file)
    note = "; ".join((*caveats, *(f"source: {s}" for s in sources)))
    fact = Fact(
        range=range_text(first, last),
        category=Category.ACTOR,
        source=source,
        label=label,
        actor=actor.id,
        country=country,
        asn=asn,
        valid_from=vfrom,
        valid_to=vto,
        note=note,
        exclusivity=float(excl),
    )
    return FactRow(first, last, fact)


def load_bytes(raw: bytes, file: str, source: str) -> Loaded:
    """Validate and load a registry from its bytes.

    Raises:
        IntelError: not YAML, or any schema violation (bad CIDR, host bits, valid_from not
            before valid_to, exclusivity outside 0..1, unknown key, duplicate actor id ...);
            the message names the file and the entry (``actors[0].ranges[1]``).
    """
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise IntelError(f"not valid YAML: {exc}", file) from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("actors"), list):
        raise IntelError("an actor registry needs a top-level 'actors' list", file)
    unknown = set(doc) - {"version", "actors"}
    if unknown:
        raise IntelError(f"unknown top-level keys {sorted(unknown)}", file)
    out = Loaded()
    seen: set[str] = set()
    for i, entry in enumerate(doc["actors"]):
        where = f"actors[{i}]"
        if not isinstance(entry, Mapping):
            raise IntelError(f"{where}: expected a mapping", file)
        bad = set(entry) - _ACTOR_KEYS
        if bad:
            raise IntelError(f"{where}: unknown keys {sorted(bad)}", file)
        aid, name = entry.get("id"), entry.get("name")
        if not isinstance(aid, str) or not _ID_RE.match(aid):
            raise IntelError(f"{where}: id must match {_ID_RE.pattern}", file)
        if aid in seen:
            raise IntelError(f"{where}: duplicate actor id {aid!r}", file)
        seen.add(aid)
        if not isinstance(name, str) or not name.strip():
            raise IntelError(f"{where}: name is required", file)
        country = entry.get("country")
        if country is not None and (not isinstance(country, str) or not _CC_RE.match(country)):
            raise IntelError(f"{where}: country must be an ISO 3166-1 alpha-2 code", file)
        operating, periods = _operating(entry.get("operating_countries"), where, file)
        asns = entry.get("asns") or []
        if not isinstance(asns, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 < n < 2**32 for n in asns
        ):
            raise IntelError(f"{where}.asns: expected a list of AS numbers (1 to 2^32 - 1)", file)
        actor = Actor(
            id=aid,
            name=name.strip(),
            aliases=_texts(entry.get("aliases"), f"{where}.aliases", file),
            country=country,
            timezones=_texts(entry.get("timezones"), f"{where}.timezones", file),
            operating_countries=tuple(dict.fromkeys(operating)),
            operating_periods=tuple(dict.fromkeys(periods)),
            sources=_texts(entry.get("sources"), f"{where}.sources", file),
            caveats=_texts(entry.get("caveats"), f"{where}.caveats", file),
            asns=tuple(dict.fromkeys(asns)),
        )
        out.actors.append(actor)
        ranges = entry.get("ranges") or []
        if not isinstance(ranges, list):
            raise IntelError(f"{where}.ranges: expected a list", file)
        for j, r in enumerate(ranges):
            out.facts.append(_range(r, f"{where}.ranges[{j}]", file, actor, source))
    version = doc.get("version")
    out.sources.append(
        SourceInfo(
            name=source,
            kind="actor-registry",
            version=str(version) if version is not None else "",
            records=len(out.facts),
            licence="slipcatch (Apache-2.0); citations inside" if source == SHIPPED_NAME else "",
            sha256=hashlib.sha256(raw).hexdigest(),
        )
    )
    return out


def load(path: Path | None = None) -> Loaded:
    """Load an actor registry file, or the shipped one when ``path`` is None.

    Raises:
        IntelError: see :func:`load_bytes`; also an unreadable file.
    """
    if path is None:
        return load_bytes(shipped_bytes(), "slipcatch/data/actors.yaml", SHIPPED_NAME)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IntelError(f"cannot read: {exc.strerror}", str(path)) from exc
    return load_bytes(raw, str(path), f"actor-registry:{path.name}")

"""Actor names from MISP galaxies and STIX bundles (MITRE ATT&CK intrusion sets).

Personas sign with names ("Guardians of Peace") that threat-intel catalogues list as aliases
of an actor. Two formats are read, only for names (no address facts):

* a MISP galaxy cluster file: ``{"type": ..., "values": [{"value", "uuid", "meta":
  {"synonyms", "country"}}]}``. MISP keeps aliases in several galaxies (``threat-actor``,
  ``mitre-intrusion-set`` ...); "Guardians of Peace" sits in the intrusion-set one;
* a STIX 2.0/2.1 bundle: every ``intrusion-set`` and ``threat-actor`` object's ``name`` and
  ``aliases``, with its ATT&CK id (``G0032``) from ``external_references``.

The pack merges each set into the matching registry actor (``pack._merge_alias_sets``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from slipcatch.errors import IntelError
from slipcatch.intel.records import AliasSet, Loaded
from slipcatch.model import SourceInfo

__all__ = ["read", "sniff_galaxy", "sniff_stix"]


def sniff_galaxy(head: bytes, name: str) -> float:
    """JSON with a ``values`` list of clusters (``uuid``, ``meta``)."""
    t = head.lstrip()
    if t.startswith(b"{") and b'"values"' in t and b'"uuid"' in t and b'"list"' not in t:
        return 0.85
    return 0.0


def sniff_stix(head: bytes, name: str) -> float:
    """A STIX bundle holding an intrusion-set or threat-actor."""
    t = head.lstrip()
    if t.startswith(b"{") and b'"bundle"' in t and (
        b'"intrusion-set"' in t or b'"threat-actor"' in t or b"intrusion-set--" in t
    ):
        return 0.85
    return 0.0


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())


def read(path: Path, raw: bytes, fmt: str) -> Loaded:
    """Read a ``misp-galaxy`` or ``stix-bundle`` file into alias sets.

    Raises:
        IntelError: not JSON, or not laid out as the format says.
    """
    sha = hashlib.sha256(raw).hexdigest()
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntelError(f"not JSON: {exc}", str(path)) from exc
    out = Loaded()
    source = f"{fmt}:{path.name}"
    if fmt == "misp-galaxy":
        values = doc.get("values") if isinstance(doc, dict) else None
        if not isinstance(values, list):
            raise IntelError("a MISP galaxy needs a 'values' list", str(path))
        for i, v in enumerate(values):
            if not isinstance(v, dict) or not isinstance(v.get("value"), str):
                raise IntelError(f"values[{i}]: a cluster needs a 'value' name", str(path))
            meta: dict[str, Any] = v["meta"] if isinstance(v.get("meta"), dict) else {}
            cc = meta.get("country")
            out.alias_sets.append(AliasSet(
                source=source, ref=str(v.get("uuid", "")), name=v["value"].strip(),
                aliases=_texts(meta.get("synonyms")),
                country=cc.upper() if isinstance(cc, str) and len(cc) == 2 else None,
            ))
        version = f"{doc.get('type', 'galaxy')} v{doc.get('version', '?')}"
        licence = "MISP galaxy: CC0-1.0 or BSD-2-Clause"
    else:
        objs = doc.get("objects") if isinstance(doc, dict) else None
        if not isinstance(objs, list):
            raise IntelError("a STIX bundle needs an 'objects' list", str(path))
        modified = []
        for o in objs:
            if not isinstance(o, dict) or o.get("type") not in ("intrusion-set", "threat-actor"):
                continue
            if not isinstance(o.get("name"), str):
                continue
            ext = tuple(
                str(r["external_id"]) for r in o.get("external_references", [])
                if isinstance(r, dict) and r.get("source_name") == "mitre-attack"
                and r.get("external_id")
            )
            out.alias_sets.append(AliasSet(
                source=source, ref=str(o.get("id", "")), name=o["name"].strip(),
                aliases=_texts(o.get("aliases")), external_ids=ext,
            ))
            if isinstance(o.get("modified"), str):
                modified.append(o["modified"])
        version = f"STIX {doc.get('spec_version', '2.1')}" + (
            f" modified {max(modified)}" if modified else "")
        licence = "see the bundle's marking definitions (ATT&CK: MITRE ATT&CK terms of use)"
    out.sources.append(SourceInfo(
        name=source, kind="actor-aliases", version=version, records=len(out.alias_sets),
        licence=licence, sha256=sha,
    ))
    return out

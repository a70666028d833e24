"""Intel source formats: one module per feed format, each with a cheap ``sniff``.

``recognise`` picks the format of an ``--intel`` file from its first bytes (and name);
``load_extras`` loads several such files, merging Tor snapshots of one feed across files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.records import Loaded
from slipcatch.intel.sources import actors, cidrlist, tordnsel, warninglists
from slipcatch.intel.sources.tordnsel import TorSnapshot
from slipcatch.model import Category

__all__ = ["FORMATS", "load_extras", "recognise"]

_HEAD = 8192

#: (format name, sniff) in order of preference on equal scores.
FORMATS: tuple[tuple[str, Callable[[bytes, str], float]], ...] = (
    ("tordnsel", tordnsel.sniff),
    ("tor-bulk-list", cidrlist.sniff_tor_bulk),
    ("actor-registry", actors.sniff),
    ("warninglist", warninglists.sniff),
    ("cidr-list", cidrlist.sniff),
)


def recognise(head: bytes, name: str) -> str | None:
    """The best-scoring format for a file's first bytes, or None."""
    best, score = None, 0.0
    for fmt, sniff in FORMATS:
        s = sniff(head, name)
        if s > score:
            best, score = fmt, s
    return best


def _warninglist(path: Path) -> Loaded:
    name = path.parent.name if path.name == "list.json" else path.stem
    spec = warninglists.LISTS.get(name) or warninglists.ListSpec(
        Category.UNKNOWN, name, "warninglist without a slipcatch category mapping"
    )
    return warninglists.load_one(path, spec, name)


def load_extras(paths: Sequence[str | Path]) -> tuple[Loaded, list[str]]:
    """Load ``--intel`` files; returns what they hold and their SHA-256s (in given order).

    A file whose content is identical to one already loaded is skipped.

    Raises:
        IntelError: a path cannot be read, or its format is not recognised (naming the file);
            or a recognised file is unusable as a whole (see each format).
    """
    out = Loaded()
    snapshots: list[TorSnapshot] = []
    hashes: list[str] = []
    for p in paths:
        path = Path(p)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IntelError(f"cannot read intel source: {exc.strerror or exc}", str(path)) from exc
        sha = hashlib.sha256(raw).hexdigest()
        if sha in hashes:
            continue
        hashes.append(sha)
        fmt = recognise(raw[:_HEAD], path.name)
        if fmt is None:
            raise IntelError(
                "unrecognised intel source (expected a TorDNSEL exit list, CIDR list, "
                "actor registry YAML or MISP warninglist)",
                str(path),
            )
        if fmt == "tordnsel":
            snapshots.append(tordnsel.read(path, raw))
        elif fmt == "tor-bulk-list":
            snapshots.append(cidrlist.read_tor_bulk(path, raw))
        elif fmt == "actor-registry":
            out.extend(actors.load_bytes(raw, str(path), f"actor-registry:{path.name}"))
        elif fmt == "warninglist":
            out.extend(_warninglist(path))
        else:
            out.extend(cidrlist.read(path, raw))
    if snapshots:
        out.extend(tordnsel.merge_snapshots(snapshots))
    return out, hashes

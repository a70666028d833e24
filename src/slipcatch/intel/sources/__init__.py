"""Intel source formats: one module per feed format, each with a cheap ``sniff``.

``recognise`` picks the format of an ``--intel`` file from its first bytes (and name);
``load_extras`` loads several such files, directories (walked, sorted) and tar archives
(``.tar``, ``.tar.xz``, ``.tar.gz``, ``.tar.bz2``: CollecTor's monthly exit-list archives),
merging Tor snapshots of one feed across all of them.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.records import Loaded
from slipcatch.intel.sources import (
    actors,
    cidrlist,
    consensus,
    galaxy,
    iptoasn,
    mmdb,
    rir,
    routing,
    tordnsel,
    warninglists,
)
from slipcatch.intel.sources.tordnsel import TorSnapshot
from slipcatch.model import Category

__all__ = ["FORMATS", "load_extras", "recognise"]

_HEAD = 8192
_TAIL = 128 * 1024
_MAX_INFLATED = 4 << 30  # refuse to inflate a compressed source beyond 4 GiB

#: (format name, sniff) in order of preference on equal scores.
FORMATS: tuple[tuple[str, Callable[[bytes, str], float]], ...] = (
    ("tordnsel", tordnsel.sniff),
    ("tor-consensus", consensus.sniff),
    ("tor-bulk-list", cidrlist.sniff_tor_bulk),
    ("actor-registry", actors.sniff),
    ("warninglist", warninglists.sniff),
    ("misp-galaxy", galaxy.sniff_galaxy),
    ("stix-bundle", galaxy.sniff_stix),
    ("rir-delegated", rir.sniff),
    ("pyasn", routing.sniff_pyasn),
    ("caida-prefix2as", routing.sniff_caida),
    ("iptoasn", iptoasn.sniff),
    ("mmdb", mmdb.sniff),
    ("cidr-list", cidrlist.sniff),
)
_EXPECTED = (
    "expected a TorDNSEL exit list, Tor consensus, CIDR list, actor registry YAML, MISP "
    "warninglist or galaxy, STIX bundle, RIR delegated statistics, pyasn/CAIDA prefix2as, "
    "iptoasn TSV, MaxMind DB, or a directory or tar archive of these"
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


def _is_tar(raw: bytes) -> bool:
    return len(raw) > 262 and raw[257:262] == b"ustar"


def _compression(raw: bytes) -> str | None:
    if raw.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if raw.startswith(b"\x1f\x8b"):
        return "gz"
    if raw.startswith(b"BZh"):
        return "bz2"
    return None


def _inflate(raw: bytes, kind: str, label: str) -> bytes:
    try:
        if kind == "xz":
            data = lzma.LZMADecompressor().decompress(raw, _MAX_INFLATED)
        elif kind == "gz":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                data = fh.read(_MAX_INFLATED)
        else:
            data = bz2.BZ2Decompressor().decompress(raw, _MAX_INFLATED)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
        raise IntelError(f"corrupt or truncated {kind} data: {exc}", label) from exc
    return data


def _tar_members(raw: bytes, label: str) -> Iterator[tuple[str, bytes]]:
    """Regular members of a tar archive (any compression), sorted by name.

    Raises:
        IntelError: the archive is truncated or corrupt: it is refused as a whole, since a
            partly read archive would silently drop snapshots (and their evidence of absence).
    """
    members: list[tuple[str, bytes]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
            for m in tar:
                if not m.isfile():
                    continue
                fh = tar.extractfile(m)
                if fh is None:
                    continue
                with fh:
                    data = fh.read()
                if len(data) != m.size:
                    raise tarfile.ReadError(f"member {m.name} is truncated")
                members.append((m.name, data))
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise IntelError(f"corrupt or truncated archive: {exc}", label) from exc
    yield from sorted(members)


class _Collector:
    def __init__(self) -> None:
        self.out = Loaded()
        self.snapshots: list[TorSnapshot] = []

    def add(self, path: Path, raw: bytes, label: str, *, real_file: bool, depth: int = 0) -> None:
        """Load one unit of content; ``label`` names it in errors (``a.tar.xz!member``)."""
        kind = _compression(raw)
        if kind is not None and depth < 2:
            inner = _inflate(raw, kind, label)
            name = path.name
            for suffix in (".xz", ".gz", ".bz2"):
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            if _is_tar(inner):
                self._archive(path, inner, label)
            else:
                self.add(path.with_name(name), inner, label, real_file=False, depth=depth + 1)
            return
        if _is_tar(raw):
            self._archive(path, raw, label)
            return
        fmt = "mmdb" if mmdb.sniff_tail(raw[-_TAIL:]) else recognise(raw[:_HEAD], path.name)
        if fmt is None:
            raise IntelError(f"unrecognised intel source ({_EXPECTED})", label)
        if fmt == "mmdb":
            if not real_file:
                raise IntelError("MaxMind DB files are read from disk, not from archives", label)
            self.out.extend(mmdb.read(path))
        elif fmt == "tordnsel":
            self.snapshots.append(tordnsel.read(Path(label), raw))
        elif fmt == "tor-consensus":
            snap, _relays = consensus.read(Path(label), raw)
            self.snapshots.append(snap)
        elif fmt == "tor-bulk-list":
            self.snapshots.append(cidrlist.read_tor_bulk(Path(label), raw))
        elif fmt == "actor-registry":
            self.out.extend(actors.load_bytes(raw, label, f"actor-registry:{path.name}"))
        elif fmt == "warninglist":
            self.out.extend(_warninglist(path) if real_file else _warninglist_bytes(path, raw))
        elif fmt in ("misp-galaxy", "stix-bundle"):
            self.out.extend(galaxy.read(Path(label), raw, fmt))
        elif fmt == "rir-delegated":
            self.out.extend(rir.read(Path(label), raw))
        elif fmt in ("pyasn", "caida-prefix2as"):
            self.out.extend(routing.read(Path(label), raw, fmt))
        elif fmt == "iptoasn":
            self.out.extend(iptoasn.read(Path(label), raw))
        else:
            self.out.extend(cidrlist.read(Path(label), raw))

    def _archive(self, path: Path, raw: bytes, label: str) -> None:
        for name, data in _tar_members(raw, label):
            self.add(Path(name), data, f"{label}!{name}", real_file=False, depth=1)


def _warninglist_bytes(path: Path, raw: bytes) -> Loaded:
    name = path.parent.name if path.name == "list.json" else path.stem
    spec = warninglists.LISTS.get(name) or warninglists.ListSpec(
        Category.UNKNOWN, name, "warninglist without a slipcatch category mapping"
    )
    return warninglists.load_raw(raw, str(path), spec, name)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    return [path]


def load_extras(paths: Sequence[str | Path]) -> tuple[Loaded, list[str]]:
    """Load ``--intel`` files, directories and archives; returns what they hold and the
    SHA-256 of each file read (in the order given; directories in sorted order).

    A file whose content is identical to one already loaded is skipped.

    Raises:
        IntelError: a path cannot be read, or a file's format is not recognised (naming the
            file, or ``archive!member``); or a recognised file is unusable as a whole (see
            each format: a corrupt MaxMind DB, a truncated archive, an undated snapshot ...).
    """
    col = _Collector()
    hashes: list[str] = []
    for p in paths:
        root = Path(p)
        if not root.exists():
            raise IntelError("cannot read intel source: missing", str(root))
        for path in _files(root):
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise IntelError(
                    f"cannot read intel source: {exc.strerror or exc}", str(path)
                ) from exc
            sha = hashlib.sha256(raw).hexdigest()
            if sha in hashes:
                continue
            hashes.append(sha)
            col.add(path, raw, str(path), real_file=True)
    if col.snapshots:
        col.out.extend(tordnsel.merge_snapshots(col.snapshots))
    return col.out, hashes

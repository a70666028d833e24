"""Country and AS-organisation ranges from the data file shipped inside ``geoip2fast``.

``geoip2fast-asn-ipv6.dat.gz`` is a gzip'd pickle ``(dat_version, source_info, total,
mainDatabase)``; with country+ASN data, ``mainDatabase`` is ten lists::

    mainIndex, mainIndexASN, namesCountry, namesASN, firstIP, firstIPASN,
    idCountry, idASN, netlength, netlengthASN

``firstIP``/``idCountry``/``netlength`` (and the ASN triple) are chunked, sorted lists: the
first address of each network, an index into the names list and the prefix length. IPv4
networks are stored as plain 32-bit integers, IPv6 ones as 128-bit integers. The ASN names
list holds AS *organisation names* only, no AS numbers.

The file comes from a registry package we depend on, yet it is still read with an
unpickler that refuses every global: only lists, tuples, dicts, strings and integers load.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.errors import IntelError
from slipcatch.model import SourceInfo

__all__ = ["DATA_FILE", "SOURCE_NAME", "GeoLayer", "GeoTables", "data_path", "load"]

DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"
SOURCE_NAME = "geoip2fast-geolite2"
CAVEAT = (
    "GeoLite2 country/AS-organisation snapshot of {date} (via geoip2fast); not historical: "
    "applied to events of other dates as the best available guess"
)
LICENCE = (
    "data: MaxMind GeoLite2 (GeoLite2 EULA; 'This product includes GeoLite2 data created by "
    "MaxMind'); geoip2fast code: MIT"
)
_PRIVATE_IDS = 16  # geoip2fast: country ids below 16 name reserved/private blocks
_NOT_FOUND = "99"
_UNKNOWN_ORG = "<unknown>"


class _DataOnlyUnpickler(pickle.Unpickler):
    """Refuses every global, so only builtin containers, strings and numbers load."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused global {module}.{name} in a data file")


@dataclass(frozen=True)
class GeoLayer:
    """Non-overlapping networks of one layer and family, sorted by first address.

    v4 keys are ``uint32``; v6 keys are 16-byte big-endian strings (``S16``) so that NumPy
    can sort and search them as 128-bit numbers.
    """

    first: npt.NDArray[Any]
    last: npt.NDArray[Any]
    netlen: npt.NDArray[np.uint8]
    value: npt.NDArray[np.int32]  # index into GeoTables.countries / .orgs; -1 = none


@dataclass(frozen=True)
class GeoTables:
    country4: GeoLayer
    country6: GeoLayer
    asn4: GeoLayer
    asn6: GeoLayer
    countries: list[str]
    orgs: list[str]
    info: SourceInfo
    snapshot: str  # "2024-06-18"


def data_path() -> Path:
    """Path of the data file inside the installed geoip2fast package.

    Raises:
        IntelError: geoip2fast is not installed or lacks the file.
    """
    try:
        import geoip2fast
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise IntelError("the geoip2fast package is not installed", DATA_FILE) from exc
    path = Path(geoip2fast.__file__).resolve().parent / DATA_FILE
    if not path.is_file():
        raise IntelError("data file missing from the geoip2fast package", str(path))
    return path


def key16(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> npt.NDArray[Any]:
    """128-bit keys as sortable 16-byte big-endian strings."""
    buf = np.empty((len(hi), 2), dtype=">u8")
    buf[:, 0] = hi
    buf[:, 1] = lo
    return buf.view("S16").ravel()


def ints_to_key16(values: list[int]) -> npt.NDArray[Any]:
    mask = (1 << 64) - 1
    hi = np.fromiter((v >> 64 for v in values), dtype=np.uint64, count=len(values))
    lo = np.fromiter((v & mask for v in values), dtype=np.uint64, count=len(values))
    return key16(hi, lo)


def _flatten(chunks: Any, what: str, path: Path) -> list[int]:
    if not isinstance(chunks, list) or not all(isinstance(c, list) for c in chunks):
        raise IntelError(f"unexpected layout of {what}", str(path))
    out: list[int] = [x for c in chunks for x in c]
    return out


def _layers(
    first: list[int], netlen: list[int], ids: list[int], id_map: npt.NDArray[np.int32]
) -> tuple[GeoLayer, GeoLayer]:
    n4 = sum(1 for x in first if x < (1 << 32))
    f4 = np.array(first[:n4], dtype=np.uint64)
    l4n = np.array(netlen[:n4], dtype=np.uint8)
    last4 = f4 + (np.uint64(1) << (np.uint64(32) - l4n.astype(np.uint64))) - np.uint64(1)
    # geoip2fast nests one network in another (240.0.0.0/4 holds 255.255.255.255/32); the
    # later, more specific one wins and the earlier is clipped in front of it.
    last4[:-1] = np.minimum(last4[:-1], f4[1:] - np.uint64(1))
    v4 = GeoLayer(
        f4.astype(np.uint32), last4.astype(np.uint32), l4n, id_map[np.array(ids[:n4], np.int64)]
    )
    f6_int = first[n4:]
    n6l = netlen[n4:]
    last6_int = [f + (1 << (128 - n)) - 1 for f, n in zip(f6_int, n6l, strict=True)]
    for i in range(len(f6_int) - 1):
        if last6_int[i] >= f6_int[i + 1]:
            last6_int[i] = f6_int[i + 1] - 1
    v6 = GeoLayer(
        ints_to_key16(f6_int),
        ints_to_key16(last6_int),
        np.array(n6l, dtype=np.uint8),
        id_map[np.array(ids[n4:], np.int64)],
    )
    return v4, v6


def load(path: Path | None = None) -> GeoTables:
    """Read and convert the geoip2fast data file into NumPy layers.

    Raises:
        IntelError: the file cannot be read, holds anything but plain data, or is not laid out
            as a geoip2fast 1.2 country+ASN file.
    """
    path = path or data_path()
    raw = path.read_bytes()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            obj = _DataOnlyUnpickler(fh).load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise IntelError(f"cannot read geoip2fast data: {exc}", str(path)) from exc
    if not (isinstance(obj, tuple | list) and len(obj) == 4):
        raise IntelError("not a geoip2fast data tuple", str(path))
    version, source_info, _total, db = obj
    if version not in (120, 121) or not isinstance(source_info, dict):
        raise IntelError(f"unsupported geoip2fast data version {version!r}", str(path))
    if not (source_info.get("country") and source_info.get("asn")) or len(db) != 10:
        raise IntelError("geoip2fast data file lacks country+ASN layers", str(path))
    _, _, names_country, names_asn, first, first_asn, id_c, id_a, nl, nl_a = db
    info_text = str(source_info.get("info", ""))
    date_digits = info_text.rsplit("-", 1)[-1]
    snapshot = (
        f"{date_digits[:4]}-{date_digits[4:6]}-{date_digits[6:8]}"
        if len(date_digits) == 8 and date_digits.isdigit()
        else "unknown date"
    )

    codes = [str(n).split(":", 1)[0] for n in names_country]
    countries = sorted({c for i, c in enumerate(codes) if i >= _PRIVATE_IDS and c != _NOT_FOUND})
    cindex = {c: i for i, c in enumerate(countries)}
    cmap = np.array(
        [cindex.get(c, -1) if i >= _PRIVATE_IDS else -1 for i, c in enumerate(codes)],
        dtype=np.int32,
    )
    orgs = sorted({str(n) for n in names_asn if n != _UNKNOWN_ORG})
    oindex = {o: i for i, o in enumerate(orgs)}
    omap = np.array([oindex.get(str(n), -1) for n in names_asn], dtype=np.int32)

    c4, c6 = _layers(
        _flatten(first, "firstIP", path), _flatten(nl, "netlength", path),
        _flatten(id_c, "idCountry", path), cmap,
    )
    a4, a6 = _layers(
        _flatten(first_asn, "firstIPASN", path), _flatten(nl_a, "netlengthASN", path),
        _flatten(id_a, "idASN", path), omap,
    )
    try:
        pkg_version = metadata.version("geoip2fast")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        pkg_version = "unknown"
    info = SourceInfo(
        name=SOURCE_NAME,
        kind="geo-asn",
        version=f"{info_text} (geoip2fast {pkg_version})",
        records=len(c4.first) + len(c6.first) + len(a4.first) + len(a6.first),
        licence=LICENCE,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    return GeoTables(c4, c6, a4, a6, countries, orgs, info, snapshot)


def file_sha256(path: Path | None = None) -> str:
    """SHA-256 of the data file (its content hash enters the pack id)."""
    return hashlib.sha256((path or data_path()).read_bytes()).hexdigest()

"""Pack files: the cache directory, compiling the default sources, writing and reading packs.

On-disk layout (``LAYOUT_VERSION`` 2), one directory per pack id under
``<cache>/intel/`` (or the directory ``slipcatch intel build --out`` names)::

    <pack_id>/manifest.json     layout, pack_id, sources, actors, string tables, and for
                                every array its file, dtype, shape and SHA-256
    <pack_id>/manifest.sha256   SHA-256 of manifest.json
    <pack_id>/<name>.npy        NumPy arrays (no pickles): geo layers and partitions, the
                                fact table columns, the IPv4/IPv6 fact partitions

A pack is written to a temporary directory and renamed into place, so concurrent runs never
see half a pack; a cached pack whose hashes do not verify is moved aside and rebuilt. The
layout version is part of the default pack id, so a reader never meets another layout under
the id it asks for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import secrets
import shutil
import typing
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.errors import PackError
from slipcatch.intel import torhistory
from slipcatch.intel.index import (
    FactPartition,
    FactTable,
    build_fact_partitions,
    build_geo_partition,
    concat_tables,
)
from slipcatch.intel.records import Loaded
from slipcatch.intel.sources import (
    access_orgs,
    asn_subset,
    geoip2fast_data,
    hosting_orgs,
    reserved,
    warninglists,
)
from slipcatch.intel.sources import actors as actor_source
from slipcatch.model import Actor, Rejection, SourceInfo

__all__ = [
    "FAST_DIR",
    "LAYOUT_VERSION",
    "PackData",
    "base_inputs",
    "base_pack_id",
    "cache_root",
    "fast_index_key",
    "load_base",
    "read_fast_index",
    "read_pack_dir",
    "write_fast_index",
    "write_pack_dir",
]

LAYOUT_VERSION = 2
_GEO_LAYERS = ("c4", "c6", "a4", "a6")


def cache_root(cache_dir: Path | None = None) -> Path:
    """Where packs are cached: ``cache_dir``, else ``$SLIPCATCH_CACHE``, else
    ``~/.cache/slipcatch``; packs live in its ``intel/`` subdirectory."""
    if cache_dir is not None:
        return Path(cache_dir) / "intel"
    env = os.environ.get("SLIPCATCH_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "slipcatch"
    return base / "intel"


def base_inputs() -> list[tuple[str, str]]:
    """(name, content SHA-256) of every default source, in a fixed order."""
    out = [(geoip2fast_data.SOURCE_NAME, geoip2fast_data.file_sha256())]
    for path in warninglists.list_paths():
        out.append((f"misp-warninglist:{path.parent.name}",
                    hashlib.sha256(path.read_bytes()).hexdigest()))
    out.append((reserved.SOURCE_NAME, reserved.load().sources[0].sha256))
    out.append((actor_source.SHIPPED_NAME,
                hashlib.sha256(actor_source.shipped_bytes()).hexdigest()))
    out.append((hosting_orgs.SOURCE_NAME, hosting_orgs.table_sha256()))
    out.append((access_orgs.SOURCE_NAME, access_orgs.table_sha256()))
    out.append((torhistory.SOURCE_NAME, torhistory.file_sha256()))
    out.append((asn_subset.SOURCE_NAME, asn_subset.file_sha256()))
    return out


def base_pack_id() -> str:
    """Content hash of the default pack: layout version and every source's content hash.

    Raises:
        IntelError: a default source is missing.
    """
    h = hashlib.sha256(f"slipcatch-intel-layout-{LAYOUT_VERSION}\n".encode())
    for name, sha in base_inputs():
        h.update(f"{name}={sha}\n".encode())
    return h.hexdigest()


def _source_dict(s: SourceInfo) -> dict[str, Any]:
    d = asdict(s)
    d["valid_from"] = s.valid_from.isoformat() if s.valid_from else None
    d["valid_to"] = s.valid_to.isoformat() if s.valid_to else None
    return d


def _source_from(d: dict[str, Any]) -> SourceInfo:
    return SourceInfo(
        **{**d, "valid_from": datetime.fromisoformat(d["valid_from"]) if d["valid_from"] else None,
           "valid_to": datetime.fromisoformat(d["valid_to"]) if d["valid_to"] else None}
    )


def _plain(value: Any) -> Any:
    """``value`` as JSON: tuples as lists, dataclasses as dicts, datetimes as ISO text."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _typed(hint: Any, value: Any) -> Any:
    """The JSON ``value`` of :func:`_plain` back as type ``hint``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and isinstance(value, list):
        return tuple(_typed(args[0], v) for v in value)
    if isinstance(value, dict) and isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{k: _typed(hints[k], v) for k, v in value.items()})
    if isinstance(value, str) and datetime in (hint, *args):
        return datetime.fromisoformat(value)
    return value


def _actor_dict(a: Actor) -> dict[str, Any]:
    """An actor as JSON, every field (nested dataclasses and times included)."""
    return {f.name: _plain(getattr(a, f.name)) for f in dataclasses.fields(Actor)}


def _actor_from(d: dict[str, Any]) -> Actor:
    hints = typing.get_type_hints(Actor)
    return Actor(**{k: _typed(hints[k], v) for k, v in d.items()})


@dataclass
class PackData:
    """Everything a pack holds, in memory."""

    pack_id: str
    sources: list[SourceInfo]
    actors: list[Actor]
    countries: list[str]
    orgs: list[str]
    geo_snapshot: str
    geo: dict[str, npt.NDArray[Any]]  # c4_first, c4_len, c4_val, ... and g4_*, g6_*
    table: FactTable
    parts: tuple[FactPartition, FactPartition]
    rejections: list[Rejection] = field(default_factory=list)


def compile_base(pack_id: str, tor_history: bool = True) -> PackData:
    """Compile the default sources (``tor_history=False`` leaves the shipped Tor history out:
    only for the before/after benchmark, ``benchmarks/lookup/tor_history.py``)."""
    geo = geoip2fast_data.load()
    loaded = Loaded()
    loaded.extend(reserved.load())
    loaded.extend(warninglists.load())
    loaded.extend(actor_source.load())
    loaded.extend(hosting_orgs.load(geo))
    loaded.extend(access_orgs.load(geo))
    loaded.extend(asn_subset.load())
    countries = list(geo.countries)
    tor = torhistory.load()
    table = FactTable.build(loaded.facts, countries)
    arrays: dict[str, npt.NDArray[Any]] = {}
    if tor_history:
        table = concat_tables(
            table, torhistory.fact_table(tor.table_rows, tor.meta["source_names"], countries))
        arrays.update(tor.table_rows)
    for name, layer in zip(_GEO_LAYERS, (geo.country4, geo.country6, geo.asn4, geo.asn6),
                           strict=True):
        arrays[f"{name}_first"], arrays[f"{name}_last"] = layer.first, layer.last
        arrays[f"{name}_len"], arrays[f"{name}_val"] = layer.netlen, layer.value
    for fam, v6 in (("4", False), ("6", True)):
        g = build_geo_partition(arrays[f"c{fam}_first"], arrays[f"c{fam}_last"],
                                arrays[f"a{fam}_first"], arrays[f"a{fam}_last"], v6)
        arrays[f"g{fam}_starts"], arrays[f"g{fam}_country"], arrays[f"g{fam}_asn"] = (
            g.starts, g.country, g.asn)
    return PackData(
        pack_id=pack_id,
        sources=[geo.info, *loaded.sources, *([tor.info] if tor_history else [])],
        actors=loaded.actors,
        countries=countries,
        orgs=geo.orgs,
        geo_snapshot=geo.snapshot,
        geo=arrays,
        table=table,
        parts=build_fact_partitions(table),
        rejections=loaded.rejections,
    )


def _all_arrays(d: PackData) -> dict[str, npt.NDArray[Any]]:
    out = dict(d.geo)
    out.update({f"f_{k}": v for k, v in d.table.arrays().items()})
    for fam, p in zip("46", d.parts, strict=True):
        out[f"p{fam}_starts"], out[f"p{fam}_offsets"], out[f"p{fam}_ids"] = (
            p.starts, p.offsets, p.ids)
    return out


def _write_arrays(folder: Path, arrays: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """Each array as ``<name>.npy`` in ``folder``; their manifest entries (file hash, dtype,
    shape) by name."""
    meta: dict[str, Any] = {}
    for name, arr in sorted(arrays.items()):
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        raw = buf.getvalue()
        (folder / f"{name}.npy").write_bytes(raw)
        meta[name] = {"sha256": hashlib.sha256(raw).hexdigest(), "dtype": arr.dtype.str,
                      "shape": list(arr.shape)}
    return meta


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()
    (folder / "manifest.json").write_bytes(text)
    (folder / "manifest.sha256").write_text(hashlib.sha256(text).hexdigest() + "\n")


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a pack (or index) directory, checked against its hash.

    Raises:
        PackError: missing, or not matching its hash, or not a JSON object.
    """
    try:
        text = (path / "manifest.json").read_bytes()
        want = (path / "manifest.sha256").read_text().strip()
    except OSError as exc:
        raise PackError(f"cannot read pack: {exc.strerror or exc}", str(path)) from exc
    if hashlib.sha256(text).hexdigest() != want:
        raise PackError("manifest does not match its hash", str(path))
    try:
        m = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PackError(f"bad manifest: {exc}", str(path)) from exc
    if not isinstance(m, dict):
        raise PackError("bad manifest: not an object", str(path))
    return m


def _read_arrays(path: Path, table: Any) -> dict[str, npt.NDArray[Any]]:
    """The arrays a manifest's array ``table`` lists, each checked against its hash, dtype
    and shape.

    Raises:
        PackError: the table is not one, or an array is missing or does not match.
    """
    arrays: dict[str, npt.NDArray[Any]] = {}
    if not isinstance(table, dict):
        raise PackError("manifest without an array table", str(path))
    for name, info in table.items():
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise PackError(f"bad array name {name!r}", str(path))
        try:
            raw = (path / f"{name}.npy").read_bytes()
        except OSError as exc:
            raise PackError(f"missing array {name}", str(path)) from exc
        try:
            if hashlib.sha256(raw).hexdigest() != info["sha256"]:
                raise PackError(f"array {name} does not match its hash", str(path))
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
            if arr.dtype.str != info["dtype"] or list(arr.shape) != info["shape"]:
                raise PackError(f"array {name} has an unexpected dtype or shape", str(path))
        except (KeyError, TypeError, ValueError) as exc:
            raise PackError(f"bad array {name}: {exc}", str(path)) from exc
        arrays[name] = arr
    return arrays


def write_pack_dir(d: PackData, final: Path) -> None:
    """Write a pack atomically: temp directory, then rename into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{d.pack_id[:16]}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        meta = _write_arrays(tmp, _all_arrays(d))
        manifest = {
            "layout": LAYOUT_VERSION,
            "pack_id": d.pack_id,
            "geo_snapshot": d.geo_snapshot,
            "sources": [_source_dict(s) for s in d.sources],
            "actors": [_actor_dict(a) for a in d.actors],
            "rejections": [asdict(r) for r in d.rejections],
            "countries": d.countries,
            "orgs": d.orgs,
            "strings": d.table.strings,
            "actor_ids": d.table.actor_ids,
            "arrays": meta,
        }
        _write_manifest(tmp, manifest)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "manifest.json").exists():
                raise
            shutil.rmtree(tmp)  # another run finished the same pack first; keep theirs
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_pack_dir(path: Path, pack_id: str | None) -> PackData:
    """Load and verify a pack directory (``pack_id`` None: whichever id its manifest names).

    Raises:
        PackError: missing, corrupt (a hash does not match), or another layout/pack id.
    """
    m = _read_manifest(path)
    if m.get("layout") != LAYOUT_VERSION:
        raise PackError(f"pack of another layout version (this is {LAYOUT_VERSION})", str(path))
    if pack_id is None:
        pack_id = str(m.get("pack_id", ""))
        if len(pack_id) != 64 or any(c not in "0123456789abcdef" for c in pack_id):
            raise PackError("manifest without a valid pack id", str(path))
    elif m.get("pack_id") != pack_id:
        raise PackError("pack of another content (pack id differs)", str(path))
    arrays = _read_arrays(path, m.get("arrays"))
    try:
        table = FactTable(
            **{c: arrays.pop(f"f_{c}") for c in FactTable.COLUMNS},
            strings=m["strings"], actor_ids=m["actor_ids"],
        )
        parts = tuple(
            FactPartition(arrays.pop(f"p{f}_starts"), arrays.pop(f"p{f}_offsets"),
                          arrays.pop(f"p{f}_ids"))
            for f in "46"
        )
        return PackData(
            pack_id=pack_id,
            sources=[_source_from(s) for s in m["sources"]],
            actors=[_actor_from(a) for a in m["actors"]],
            countries=m["countries"],
            orgs=m["orgs"],
            geo_snapshot=m["geo_snapshot"],
            geo=arrays,
            table=table,
            parts=(parts[0], parts[1]),
            rejections=[Rejection(**r) for r in m["rejections"]],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PackError(f"incomplete pack: {exc}", str(path)) from exc


def _discard(folder: Path, name: str) -> None:
    """Move a damaged cache directory aside (atomic: no run reads it any more), then delete
    it. If another run moved it first, building anew is still right."""
    bad = folder.parent / f".bad-{name[:16]}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        folder.rename(bad)
        shutil.rmtree(bad, ignore_errors=True)
    except OSError:
        pass


def load_base(cache_dir: Path | None) -> PackData:
    """The default pack from the cache under ``cache_dir`` (see :func:`cache_root`); compiled
    and written there when missing or damaged.

    Raises:
        IntelError: a default source is missing.
    """
    pack_id = base_pack_id()
    root = cache_root(cache_dir)
    final = root / pack_id
    if final.exists():
        try:
            return read_pack_dir(final, pack_id)
        except PackError:
            _discard(final, pack_id)  # never trust a damaged pack
    data = compile_base(pack_id)
    try:
        write_pack_dir(data, final)
    except OSError:
        # an unwritable cache costs speed on the next run, not correctness
        return data
    return data


#: Subdirectory of the cache root holding the default pack's fast-path tables
#: (``fastindex.Fast4``/``Fast6``), one directory per ``fast_index_key``.
FAST_DIR = "fast-index"


def fast_index_key(pack_id: str) -> str | None:
    """The cache key of a pack's fast-path tables: the pack id and the source of the modules
    that build them (``addr``, ``index``, ``fastindex``), so that a change to how the tables
    are built never meets tables built the old way. None when the sources cannot be read
    (nothing is cached then)."""
    from slipcatch.intel import addr, fastindex, index

    h = hashlib.sha256(f"slipcatch fast index\n{pack_id}\n".encode())
    try:
        for module in (addr, index, fastindex):
            h.update(Path(str(module.__file__)).read_bytes())
    except (OSError, TypeError):
        return None
    return h.hexdigest()


def read_fast_index(root: Path, key: str) -> tuple[dict[str, npt.NDArray[Any]],
                                                   dict[str, Any]] | None:
    """The arrays and description (``fastindex.fast_arrays``) cached under ``root`` for
    ``key``, every array checked against its hash; None when there are none. A damaged entry
    is removed (the caller builds the tables anew)."""
    folder = root / FAST_DIR / key
    if not folder.is_dir():
        return None
    try:
        m = _read_manifest(folder)
        if m.get("key") != key or not isinstance(m.get("meta"), dict):
            raise PackError("fast index of another key", str(folder))
        return _read_arrays(folder, m.get("arrays")), m["meta"]
    except PackError:
        _discard(folder, key)
        return None


def write_fast_index(root: Path, key: str, arrays: dict[str, npt.NDArray[Any]],
                     meta: dict[str, Any]) -> None:
    """Cache a pack's fast-path tables under ``root`` for ``key`` (atomically: a temporary
    directory renamed into place), and remove the entries of other keys (tables of an older
    build of slipcatch or of an older default pack). An unwritable cache is left alone: it
    costs speed on the next run, not correctness."""
    base = root / FAST_DIR
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp = base / f".tmp-{key[:16]}-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
    except OSError:
        return
    try:
        _write_manifest(tmp, {"key": key, "meta": meta, "arrays": _write_arrays(tmp, arrays)})
        tmp.rename(base / key)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # e.g. another run wrote the same key first
        return
    for other in base.iterdir():
        if other.name != key and not other.name.startswith(".tmp-"):
            shutil.rmtree(other, ignore_errors=True)

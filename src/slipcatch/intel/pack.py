"""The intel pack: compile the default sources once, cache them, load them fast.

On-disk layout (``LAYOUT_VERSION`` 1), one directory per pack id under
``<cache>/intel/``::

    <pack_id>/manifest.json     layout, pack_id, sources, actors, string tables, and for
                                every array its file, dtype, shape and SHA-256
    <pack_id>/manifest.sha256   SHA-256 of manifest.json
    <pack_id>/<name>.npy        NumPy arrays (no pickles): geo layers and partitions, the
                                fact table columns, the IPv4/IPv6 fact partitions

A pack is written to a temporary directory and renamed into place, so concurrent runs never
see half a pack; a pack whose hashes do not verify is moved aside and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from slipcatch.errors import IntelError, PackError
from slipcatch.intel.addr import from_micros, ip_to_int, ips_to_arrays, to_micros
from slipcatch.intel.lookup import (
    CATEGORY_ORDER,
    FactPartition,
    FactTable,
    Fast4,
    Fast6,
    GeoPartition,
    LookupArrays,
    build_fact_partitions,
    build_fast4,
    build_fast6,
    build_geo_partition,
    combine,
    concat_tables,
    lookup_arrays,
)
from slipcatch.intel.records import AliasSet, FactRow, Loaded
from slipcatch.intel.sources import (
    access_orgs,
    geoip2fast_data,
    hosting_orgs,
    load_extras,
    reserved,
    warninglists,
)
from slipcatch.intel.sources import actors as actor_source
from slipcatch.model import Actor, AddressFacts, Fact, Rejection, SourceInfo, canonical_ip, utc

__all__ = [
    "LAYOUT_VERSION",
    "IntelPack",
    "base_pack_id",
    "cache_root",
    "load_pack",
    "open_pack",
    "save_pack",
]

_T = TypeVar("_T")

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


def _base_inputs() -> list[tuple[str, str]]:
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
    return out


def base_pack_id() -> str:
    """Content hash of the default pack: layout version and every source's content hash.

    Raises:
        IntelError: a default source is missing.
    """
    h = hashlib.sha256(f"slipcatch-intel-layout-{LAYOUT_VERSION}\n".encode())
    for name, sha in _base_inputs():
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


def _actor_dict(a: Actor) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(a).items()}


def _actor_from(d: dict[str, Any]) -> Actor:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return Actor(**fields)


@dataclass
class _Data:
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


def _compile_base(pack_id: str) -> _Data:
    geo = geoip2fast_data.load()
    loaded = Loaded()
    loaded.extend(reserved.load())
    loaded.extend(warninglists.load())
    loaded.extend(actor_source.load())
    loaded.extend(hosting_orgs.load(geo))
    loaded.extend(access_orgs.load(geo))
    countries = list(geo.countries)
    table = FactTable.build(loaded.facts, countries)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, layer in zip(_GEO_LAYERS, (geo.country4, geo.country6, geo.asn4, geo.asn6),
                           strict=True):
        arrays[f"{name}_first"], arrays[f"{name}_last"] = layer.first, layer.last
        arrays[f"{name}_len"], arrays[f"{name}_val"] = layer.netlen, layer.value
    for fam, v6 in (("4", False), ("6", True)):
        g = build_geo_partition(arrays[f"c{fam}_first"], arrays[f"c{fam}_last"],
                                arrays[f"a{fam}_first"], arrays[f"a{fam}_last"], v6)
        arrays[f"g{fam}_starts"], arrays[f"g{fam}_country"], arrays[f"g{fam}_asn"] = (
            g.starts, g.country, g.asn)
    return _Data(
        pack_id=pack_id,
        sources=[geo.info, *loaded.sources],
        actors=loaded.actors,
        countries=countries,
        orgs=geo.orgs,
        geo_snapshot=geo.snapshot,
        geo=arrays,
        table=table,
        parts=build_fact_partitions(table),
        rejections=loaded.rejections,
    )


def _all_arrays(d: _Data) -> dict[str, npt.NDArray[Any]]:
    out = dict(d.geo)
    out.update({f"f_{k}": v for k, v in d.table.arrays().items()})
    for fam, p in zip("46", d.parts, strict=True):
        out[f"p{fam}_starts"], out[f"p{fam}_offsets"], out[f"p{fam}_ids"] = (
            p.starts, p.offsets, p.ids)
    return out


def _write(d: _Data, final: Path) -> None:
    """Write a pack atomically: temp directory, then rename into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{d.pack_id[:16]}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        meta: dict[str, Any] = {}
        for name, arr in sorted(_all_arrays(d).items()):
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=False)
            raw = buf.getvalue()
            (tmp / f"{name}.npy").write_bytes(raw)
            meta[name] = {"sha256": hashlib.sha256(raw).hexdigest(), "dtype": arr.dtype.str,
                          "shape": list(arr.shape)}
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
        text = json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()
        (tmp / "manifest.json").write_bytes(text)
        (tmp / "manifest.sha256").write_text(hashlib.sha256(text).hexdigest() + "\n")
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "manifest.json").exists():
                raise
            shutil.rmtree(tmp)  # another run finished the same pack first; keep theirs
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read(path: Path, pack_id: str | None) -> _Data:
    """Load and verify a pack directory (``pack_id`` None: whichever id its manifest names).

    Raises:
        PackError: missing, corrupt (a hash does not match), or another layout/pack id.
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
    if not isinstance(m, dict) or m.get("layout") != LAYOUT_VERSION:
        raise PackError(f"pack of another layout version (this is {LAYOUT_VERSION})", str(path))
    if pack_id is None:
        pack_id = str(m.get("pack_id", ""))
        if len(pack_id) != 64 or any(c not in "0123456789abcdef" for c in pack_id):
            raise PackError("manifest without a valid pack id", str(path))
    elif m.get("pack_id") != pack_id:
        raise PackError("pack of another content (pack id differs)", str(path))
    arrays: dict[str, npt.NDArray[Any]] = {}
    if not isinstance(m.get("arrays"), dict):
        raise PackError("manifest without an array table", str(path))
    for name, info in m["arrays"].items():
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise PackError(f"bad array name {name!r}", str(path))
        try:
            raw = (path / f"{name}.npy").read_bytes()
        except OSError as exc:
            raise PackError(f"missing array {name}", str(path)) from exc
        if hashlib.sha256(raw).hexdigest() != info["sha256"]:
            raise PackError(f"array {name} does not match its hash", str(path))
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
        if arr.dtype.str != info["dtype"] or list(arr.shape) != info["shape"]:
            raise PackError(f"array {name} has an unexpected dtype or shape", str(path))
        arrays[name] = arr
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
        return _Data(
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


def _base(cache_dir: Path | None) -> _Data:
    pack_id = base_pack_id()
    root = cache_root(cache_dir)
    final = root / pack_id
    if final.exists():
        try:
            return _read(final, pack_id)
        except PackError:
            # never trust a damaged pack: move it aside (atomic), then delete it
            bad = root / f".bad-{pack_id[:16]}-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                final.rename(bad)
                shutil.rmtree(bad, ignore_errors=True)
            except OSError:
                pass  # another run moved it first; building anew below is still right
    data = _compile_base(pack_id)
    try:
        _write(data, final)
    except OSError:
        # an unwritable cache costs speed on the next run, not correctness
        return data
    return data


def _norm(name: str) -> str:
    """Names compared without case, spaces or punctuation ("APT 38" == "apt38")."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.casefold()).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out or "actor"


def _union_names(old: tuple[str, ...], new: Sequence[str], skip: set[str]) -> tuple[str, ...]:
    seen = set(skip) | {_norm(x) for x in old}
    out = list(old)
    for x in new:
        k = _norm(x)
        if k and k not in seen:
            seen.add(k)
            out.append(x)
    return tuple(out)


def _match_alias_set(actors: list[Actor], s: AliasSet) -> int | None:
    """The registry actor an alias set names: by reference (uuid, STIX id, ATT&CK id) found
    in the actor's id, aliases or citations; else by a shared name or alias with compatible
    countries. First match in registry order."""
    refs = {r.casefold() for r in (s.ref, *s.external_ids) if len(r) >= 5}
    for i, a in enumerate(actors):
        text = " ".join((a.id, *a.aliases, *a.sources)).casefold()
        if any(r in text for r in refs):
            return i
    names = {_norm(n) for n in (s.name, *s.aliases)} - {""}
    for i, a in enumerate(actors):
        if names & {_norm(n) for n in (a.name, *a.aliases)} and (
            s.country is None or a.country is None or s.country == a.country
        ):
            return i
    return None


def _merge_alias_sets(actors: list[Actor], sets: Sequence[AliasSet]) -> list[Actor]:
    """Merge galaxy / ATT&CK names into the matching actors; an unmatched set becomes a new
    actor (id ``<source kind>-<name>``) with no ranges."""
    out = list(actors)
    for s in sets:
        cite = f"{s.source} ({s.ref})" if s.ref else s.source
        i = _match_alias_set(out, s)
        if i is None:
            kind = "attack" if s.source.startswith("stix") else "galaxy"
            base = f"{kind}-{_slug(s.external_ids[0] if s.external_ids else s.name)}"
            aid, n = base, 2
            while any(a.id == aid for a in out):
                aid, n = f"{base}-{n}", n + 1
            out.append(Actor(
                id=aid, name=s.name,
                aliases=_union_names((), (*s.aliases, *s.external_ids), {_norm(s.name)}),
                country=s.country, sources=(cite,),
            ))
            continue
        a = out[i]
        out[i] = Actor(
            id=a.id, name=a.name,
            aliases=_union_names(a.aliases, (s.name, *s.aliases, *s.external_ids),
                                 {_norm(a.name)}),
            country=a.country or s.country, timezones=a.timezones,
            operating_countries=a.operating_countries,
            sources=tuple(dict.fromkeys((*a.sources, cite))), caveats=a.caveats, asns=a.asns,
            operating_periods=a.operating_periods,
        )
    return out


def _merge_actors(base: list[Actor], extra: list[Actor]) -> list[Actor]:
    """Layer actors: an id seen again adds aliases, timezones, operating countries (undated and
    dated), sources, caveats and AS numbers."""
    out: dict[str, Actor] = {a.id: a for a in base}
    for a in extra:
        old = out.get(a.id)
        if old is None:
            out[a.id] = a
            continue

        def union(x: tuple[_T, ...], y: tuple[_T, ...]) -> tuple[_T, ...]:
            return tuple(dict.fromkeys((*x, *y)))

        out[a.id] = Actor(
            id=a.id, name=old.name, aliases=union(old.aliases, a.aliases),
            country=old.country or a.country, timezones=union(old.timezones, a.timezones),
            operating_countries=union(old.operating_countries, a.operating_countries),
            sources=union(old.sources, a.sources), caveats=union(old.caveats, a.caveats),
            asns=union(old.asns, a.asns),
            operating_periods=union(old.operating_periods, a.operating_periods),
        )
    return list(out.values())


def _with_extras(base: _Data, extra: Sequence[str | Path]) -> _Data:
    loaded, hashes = load_extras(extra)
    if not hashes:
        return base
    h = hashlib.sha256(f"{base.pack_id}\n".encode())
    for sha in hashes:
        h.update(f"{sha}\n".encode())
    countries = list(base.countries)
    extra_rows: list[FactRow] = loaded.facts
    table = concat_tables(base.table, FactTable.build(extra_rows, countries))
    return _Data(
        pack_id=h.hexdigest(),
        sources=[*base.sources, *loaded.sources],
        actors=_merge_alias_sets(_merge_actors(base.actors, loaded.actors), loaded.alias_sets),
        countries=countries,
        orgs=base.orgs,
        geo_snapshot=base.geo_snapshot,
        geo=base.geo,
        table=table,
        parts=build_fact_partitions(table),
        rejections=[*base.rejections, *loaded.rejections],
    )


def load_pack(extra: Sequence[str | Path] = (), cache_dir: Path | None = None) -> IntelPack:
    """The default pack (compiled on first use and cached), with ``extra`` sources on top.

    Extra sources (``--intel``) are recognised from their content; they change the pack id
    (a hash of the default pack id and the extras' content hashes, in the order given) and
    are never written into the cached default pack.

    Raises:
        IntelError: an extra source cannot be read, is not recognised, or is unusable as a
            whole (e.g. an actor registry that fails validation); a default source is missing.
    """
    data = _base(cache_dir)
    if extra:
        data = _with_extras(data, extra)
    return IntelPack(data)


def save_pack(pack: IntelPack, out_dir: Path) -> Path:
    """Write ``pack`` (default sources and any extras) as a pack directory at ``out_dir``.

    The directory is written beside ``out_dir`` and renamed into place; an existing pack
    directory there is replaced. Returns ``out_dir``.

    Raises:
        IntelError: ``out_dir`` exists and is not a pack directory (nothing is overwritten),
            or it cannot be written.
    """
    out_dir = Path(out_dir)
    old: Path | None = None
    if out_dir.exists():
        if not out_dir.is_dir() or (
            any(out_dir.iterdir()) and not (out_dir / "manifest.json").is_file()
        ):
            raise IntelError("exists and is not an intel pack directory; not overwritten",
                             str(out_dir))
        old = out_dir.parent / f".old-{out_dir.name}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            out_dir.rename(old)
        except OSError as exc:
            raise IntelError(f"cannot replace: {exc.strerror or exc}", str(out_dir)) from exc
    try:
        _write(pack._d, out_dir)
    except OSError as exc:
        if old is not None:
            old.rename(out_dir)
        raise IntelError(f"cannot write pack: {exc.strerror or exc}", str(out_dir)) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out_dir


def open_pack(path: Path) -> IntelPack:
    """Load a pack directory written by :func:`save_pack` (``slipcatch intel build``),
    verifying the manifest hash and every array's hash, dtype and shape.

    Raises:
        PackError: missing, corrupt, or of another layout version.
    """
    return IntelPack(_read(Path(path), None))


class IntelPack:
    """A loaded intel pack: what every address was, at any moment, per its sources."""

    def __init__(self, data: _Data):
        self._d = data
        self.pack_id: str = data.pack_id
        self.sources: tuple[SourceInfo, ...] = tuple(data.sources)
        self.actors: tuple[Actor, ...] = tuple(data.actors)
        #: Records of the sources that could not be used (file, line, reason).
        self.rejections: tuple[Rejection, ...] = tuple(data.rejections)
        g = data.geo
        self._parts = (
            combine(GeoPartition(g["g4_starts"], g["g4_country"], g["g4_asn"]), data.parts[0],
                    (g["c4_val"], g["a4_val"])),
            combine(GeoPartition(g["g6_starts"], g["g6_country"], g["g6_asn"]), data.parts[1],
                    (g["c6_val"], g["a6_val"])),
        )
        self._fast4: Fast4 | None = None
        self._fast6: Fast6 | None = None
        self._fast4_built = False
        self._facts: dict[int, Fact] = {}
        self._geo_facts: dict[tuple[str, int], Fact] = {}
        self._caveat = geoip2fast_data.CAVEAT.format(date=data.geo_snapshot)

    @property
    def countries(self) -> tuple[str, ...]:
        """Country codes that ``LookupArrays.country`` indexes."""
        return tuple(self._d.countries)

    @property
    def as_orgs(self) -> tuple[str, ...]:
        """AS-organisation names that ``LookupArrays.as_org`` indexes."""
        return tuple(self._d.orgs)

    @property
    def actor_ids(self) -> tuple[str, ...]:
        """Actor ids that ``LookupArrays.actor`` indexes."""
        return tuple(self._d.table.actor_ids)

    def lookup_arrays(
        self,
        hi: npt.NDArray[np.uint64],
        lo: npt.NDArray[np.uint64],
        times_us: npt.NDArray[np.int64],
    ) -> LookupArrays:
        """Bulk lookup on integer arrays: addresses as ``(hi, lo)`` uint64 halves (IPv4
        mapped, as in ``model.EVENT_SCHEMA``), times as int64 microseconds since the epoch.
        Category codes index ``lookup.CATEGORY_ORDER``.

        Large batches use a /24 table of the IPv4 space (64 MiB, plus 1 KiB per /24 split by
        a longer network: about 20 MiB for the default pack; built on the first large batch,
        about 0.5 s); see ``lookup.Fast4``.

        Raises:
            ValueError: the arrays differ in length.
        """
        if len(hi) >= 1 << 12 and not self._fast4_built:
            self._fast4 = build_fast4(self._parts[0], self._d.parts[0], self._d.table)
            self._fast6 = build_fast6(self._parts[1], self._d.parts[1], self._d.table)
            self._fast4_built = True
        return lookup_arrays(
            hi, lo, times_us, parts=self._parts,
            facts=self._d.parts, table=self._d.table, fast4=self._fast4, fast6=self._fast6,
        )

    def fact(self, fid: int) -> Fact:
        """The fact with id ``fid`` (a row of the fact table)."""
        f = self._facts.get(fid)
        if f is None:
            t, s = self._d.table, self._d.table.strings

            def text(i: int) -> str | None:
                return s[int(i)] if i >= 0 else None

            cat = int(t.cat[fid])
            f = Fact(
                range=s[int(t.rng[fid])],
                category=CATEGORY_ORDER[cat] if cat < len(CATEGORY_ORDER) else None,
                source=s[int(t.source[fid])],
                label=text(t.label[fid]),
                actor=t.actor_ids[int(t.actor[fid])] if t.actor[fid] >= 0 else None,
                country=self._d.countries[int(t.country[fid])] if t.country[fid] >= 0 else None,
                asn=int(t.asn[fid]) if t.asn[fid] >= 0 else None,
                valid_from=from_micros(int(t.vfrom[fid])),
                valid_to=from_micros(int(t.vto[fid])),
                note=text(t.note[fid]),
                exclusivity=None if np.isnan(t.excl[fid]) else float(t.excl[fid]),
                projected=bool(t.proj[fid]),
            )
            self._facts[fid] = f
        return f

    def _geo_range(self, layer: str, idx: int) -> str:
        first = self._d.geo[f"{layer}_first"][idx]
        netlen = int(self._d.geo[f"{layer}_len"][idx])
        if layer.endswith("4"):
            return f"{ipaddress.IPv4Address(int(first))}/{netlen}"
        padded = bytes(first).ljust(16, b"\x00")  # NumPy drops trailing NULs of S16 items
        return f"{ipaddress.IPv6Address(padded)}/{netlen}"

    def _geo_fact(self, layer: str, idx: int) -> Fact | None:
        key = (layer, idx)
        if key in self._geo_facts:
            return self._geo_facts[key]
        val = int(self._d.geo[f"{layer}_val"][idx])
        fact = None
        if val >= 0:
            is_country = layer.startswith("c")
            fact = Fact(
                range=self._geo_range(layer, idx),
                category=None,
                source=geoip2fast_data.SOURCE_NAME,
                label=None if is_country else self._d.orgs[val],
                country=self._d.countries[val] if is_country else None,
                note=self._caveat,
                projected=True,
            )
        self._geo_facts[key] = fact  # type: ignore[assignment]
        return fact

    def _address_facts(self, r: LookupArrays, i: int, ip: str, when: datetime) -> AddressFacts:
        fam = "4" if r.is_v4[i] else "6"
        part = self._parts[0 if r.is_v4[i] else 1]
        seg = int(r.segment[i])
        ci, ai = int(part.geo_country[seg]), int(part.geo_asn[seg])
        cf = self._geo_fact(f"c{fam}", ci) if ci >= 0 else None
        af = self._geo_fact(f"a{fam}", ai) if ai >= 0 else None
        geo = [f for f in (cf, af) if f is not None]
        ids = r.fact_ids[r.fact_offsets[i]:r.fact_offsets[i + 1]]
        facts = [self.fact(int(x)) for x in ids]
        dec = int(r.decisive[i])
        asn_fact = int(r.asn_fact[i])
        as_org = self._d.orgs[int(r.as_org[i])] if r.as_org[i] >= 0 else None
        if as_org is None and asn_fact >= 0:
            as_org = self.fact(asn_fact).label
        if dec >= 0:
            prefix: str | None = self.fact(dec).range
        else:
            prefix = af.range if af else (cf.range if cf else None)
        return AddressFacts(
            ip=ip,
            time=when,
            category=CATEGORY_ORDER[int(r.category[i])],
            country=self._d.countries[int(r.country[i])] if r.country[i] >= 0 else None,
            asn=int(r.asn[i]) if r.asn[i] >= 0 else None,
            as_org=as_org,
            prefix=prefix,
            actor=self._d.table.actor_ids[int(r.actor[i])] if r.actor[i] >= 0 else None,
            facts=(*geo, *facts),
            projected=dec >= 0 and self.fact(dec).projected,
        )

    def lookup(self, ips: Sequence[str], times: Sequence[datetime]) -> list[AddressFacts]:
        """What each address was at the paired time (naive times are taken as UTC).

        ``AddressFacts.ip`` is the canonical text (IPv4-mapped IPv6 becomes IPv4).

        Raises:
            ValueError: the sequences differ in length, or ``ips[i]`` is not an address (the
                message names the index); nothing is returned in that case.
        """
        if len(ips) != len(times):
            raise ValueError("ips and times must have the same length")
        hi, lo = ips_to_arrays(ips)
        whens = [utc(t) for t in times]
        us = np.fromiter((to_micros(t) for t in whens), dtype=np.int64, count=len(whens))
        r = self.lookup_arrays(hi, lo, us)
        return [
            self._address_facts(r, i, canonical_ip(ip), whens[i]) for i, ip in enumerate(ips)
        ]

    def lookup_one(self, ip: str, at: datetime) -> AddressFacts:
        """What ``ip`` was at ``at``.

        Raises:
            ValueError: ``ip`` is not an IPv4/IPv6 address.
        """
        ip_to_int(ip)  # raises ValueError with the address, not an index
        return self.lookup([ip], [at])[0]

    def resolve_alias(self, name: str) -> Actor | None:
        """The actor that ``name`` (an actor name, id, alias, ATT&CK id ...) denotes, compared
        without case, spaces or punctuation; names and ids win over aliases, then the first
        actor in registry order. None when no actor carries the name."""
        key = _norm(name)
        if not key:
            return None
        for a in self.actors:
            if key in (_norm(a.name), _norm(a.id)):
                return a
        for a in self.actors:
            if any(_norm(x) == key for x in a.aliases):
                return a
        return None

    def describe(self) -> dict[str, Any]:
        """A deterministic summary for ``slipcatch intel info``."""
        return {
            "pack_id": self.pack_id,
            "layout": LAYOUT_VERSION,
            "actors": len(self.actors),
            "facts": len(self._d.table),
            "rejections": len(self.rejections),
            "sources": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "version": s.version,
                    "valid_from": s.valid_from.isoformat() if s.valid_from else None,
                    "valid_to": s.valid_to.isoformat() if s.valid_to else None,
                    "records": s.records,
                    "licence": s.licence,
                    "sha256": s.sha256,
                }
                for s in sorted(self.sources, key=lambda s: (s.kind, s.name))
            ],
        }


_ = IntelError  # documented in load_pack's Raises

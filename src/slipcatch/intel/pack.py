"""The intel pack facade: load the default pack with any extras, save and open pack
directories, and answer queries (:class:`IntelPack`).

Pack files and the cache are in :mod:`slipcatch.intel.store`, actor layering in
:mod:`slipcatch.intel.layering`, the query kernel in :mod:`slipcatch.intel.kernel`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import secrets
import shutil
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.errors import IntelError
from slipcatch.intel.addr import from_micros, ip_to_int, ips_to_arrays, to_micros
from slipcatch.intel.fastindex import (
    Answers,
    FactBits,
    Fast4,
    Fast6,
    build_fast4,
    build_fast6,
    fact_bits,
    fast_arrays,
    fast_from_arrays,
)
from slipcatch.intel.index import (
    CATEGORY_ORDER,
    FactTable,
    GeoPartition,
    build_fact_partitions,
    combine,
    concat_tables,
)
from slipcatch.intel.kernel import LookupArrays, lookup_arrays
from slipcatch.intel.layering import merge_actors, merge_alias_sets, norm
from slipcatch.intel.records import FactRow
from slipcatch.intel.sources import geoip2fast_data, load_extras
from slipcatch.intel.sources.routing import WINDOW as ROUTING_WINDOW
from slipcatch.intel.store import (
    FAST_DIR,
    LAYOUT_VERSION,
    PackData,
    base_pack_id,
    cache_root,
    fast_index_key,
    load_base,
    read_fast_index,
    read_pack_dir,
    write_fast_index,
    write_pack_dir,
)
from slipcatch.intel.torhistory import LISTED, NO_DAYS, STATUS_TEXT, TorIndex
from slipcatch.model import (
    Actor,
    AddressFacts,
    Category,
    Fact,
    Rejection,
    SourceInfo,
    canonical_ip,
    utc,
)

__all__ = [
    "LAYOUT_VERSION",
    "IntelPack",
    "base_pack_id",
    "cache_root",
    "load_pack",
    "open_pack",
    "save_pack",
]

_FAST_BUILD = threading.Lock()  # one build of a pack's fast-path tables at a time


def _with_extras(base: PackData, extra: Sequence[str | Path]) -> PackData:
    loaded, hashes = load_extras(extra)
    if not hashes:
        return base
    h = hashlib.sha256(f"{base.pack_id}\n".encode())
    for sha in hashes:
        h.update(f"{sha}\n".encode())
    countries = list(base.countries)
    extra_rows: list[FactRow] = loaded.facts
    table = concat_tables(base.table, FactTable.build(extra_rows, countries))
    return PackData(
        pack_id=h.hexdigest(),
        sources=[*base.sources, *loaded.sources],
        actors=merge_alias_sets(merge_actors(base.actors, loaded.actors), loaded.alias_sets),
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
    data = load_base(cache_dir)
    if extra:
        return IntelPack(_with_extras(data, extra))
    # the default pack's fast-path tables are cached beside it (a pack with extras is one
    # case's: its tables are built when first needed, as for a pack directory)
    return IntelPack(data, fast_cache=cache_root(cache_dir))


def save_pack(pack: IntelPack, out_dir: Path, *, fast_tables: bool = False) -> Path:
    """Write ``pack`` (default sources and any extras) as a pack directory at ``out_dir``.

    The directory is written beside ``out_dir`` and renamed into place; an existing pack
    directory there is replaced. Returns ``out_dir``.

    ``fast_tables``: the lookup's fast-path tables go with it (``<out_dir>/fast-index/``,
    laid out and verified like the cache's, 112 MB for the default pack), so that every
    process that opens it (a Spark worker) reads them instead of building them (about 2 s).

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
        write_pack_dir(pack._d, out_dir)
    except OSError as exc:
        if old is not None:
            old.rename(out_dir)
        raise IntelError(f"cannot write pack: {exc.strerror or exc}", str(out_dir)) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if fast_tables:
        pack._save_fast(out_dir)
    return out_dir


def open_pack(path: Path) -> IntelPack:
    """Load a pack directory written by :func:`save_pack` (``slipcatch intel build``),
    verifying the manifest hash and every array's hash, dtype and shape.

    Raises:
        PackError: missing, corrupt, or of another layout version.
    """
    path = Path(path)
    shipped = path / FAST_DIR
    return IntelPack(read_pack_dir(path, None), fast_cache=path if shipped.is_dir() else None)


class IntelPack:
    """A loaded intel pack: what every address was, at any moment, per its sources."""

    def __init__(self, data: PackData, *, fast_cache: Path | None = None):
        """``fast_cache``: a cache root (``intel.store.cache_root``) where the fast-path
        tables of this pack are read from, or written to once built."""
        self._d = data
        self._fast_cache = fast_cache
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
        self._bits: FactBits | None = None
        self._bits_error: str | None = None
        self._facts: dict[int, Fact] = {}
        self._geo_facts: dict[tuple[str, int], Fact] = {}
        self._caveat = geoip2fast_data.CAVEAT.format(date=data.geo_snapshot)
        self._tor: TorIndex | None = None

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

    def fact_bits(self) -> FactBits:
        """The per-fact source bits and Tor flags that ``lookup_arrays(..., extras=True)``
        reduces per row (``FactBits.names[i]`` is bit ``i``); worked out once per pack.

        Raises:
            ValueError: the pack's facts come from more than 63 sources.
        """
        if self._bits is None:
            if self._bits_error is not None:
                raise ValueError(self._bits_error)
            try:
                self._bits = fact_bits(self._d.table)
            except ValueError as exc:
                self._bits_error = str(exc)
                raise
        return self._bits

    def _fast_bits(self) -> FactBits | None:
        try:
            return self.fact_bits()
        except ValueError:
            return None

    def prepare_fast_index(self) -> None:
        """Build the /24 and /64 tables of the fast paths now (the first large
        :meth:`lookup_arrays` batch does it otherwise); once per pack, safe to call from
        several threads, which may then share the pack's lookups."""
        if self._fast4_built:
            return
        with _FAST_BUILD:
            if not self._fast4_built:
                fb = self._fast_bits()
                key = None
                if self._fast_cache is not None:  # tables with or without source bits
                    key = self._fast_key(fb)
                self._fast4, self._fast6 = self._cached_fast(key, fb) or self._build_fast(key, fb)
                self._fast4_built = True

    def _fast_key(self, fb: FactBits | None) -> str | None:
        """The cache key of this pack's fast-path tables (with or without source bits)."""
        return fast_index_key(self.pack_id if fb is not None else f"{self.pack_id}/no-bits")

    def _save_fast(self, root: Path) -> None:
        """Write the fast-path tables (built or read now if need be) under ``root`` as a
        cache would hold them (``save_pack``)."""
        self.prepare_fast_index()
        key = self._fast_key(self._fast_bits())
        if key is not None and self._fast6 is not None:
            write_fast_index(root, key, *fast_arrays(self._fast4, self._fast6))

    def _build_fast(self, key: str | None, fb: FactBits | None) -> tuple[Fast4 | None, Fast6]:
        """The fast-path tables built (and written to the cache under ``key``, if any)."""
        fast4 = build_fast4(self._parts[0], self._d.parts[0], self._d.table, fb)
        fast6 = build_fast6(self._parts[1], self._d.parts[1], self._d.table, fb)
        if self._fast_cache is not None and key is not None:
            write_fast_index(self._fast_cache, key, *fast_arrays(fast4, fast6))
        return fast4, fast6

    def _cached_fast(self, key: str | None, fb: FactBits | None
                     ) -> tuple[Fast4 | None, Fast6] | None:
        """The fast-path tables cached under ``key`` (verified), or None."""
        if self._fast_cache is None or key is None:
            return None
        found = read_fast_index(self._fast_cache, key)
        if found is None:
            return None
        try:
            fast4, fast6 = fast_from_arrays(*found)
        except (KeyError, TypeError, ValueError):
            return None
        if (fast6.source_set is None) != (fb is None):
            return None
        return fast4, fast6

    def lookup_arrays(
        self,
        hi: npt.NDArray[np.uint64],
        lo: npt.NDArray[np.uint64],
        times_us: npt.NDArray[np.int64],
        *,
        extras: bool = False,
        into: Answers | None = None,
        into_extras: tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]] | None = None,
    ) -> LookupArrays:
        """Bulk lookup on integer arrays: addresses as ``(hi, lo)`` uint64 halves (IPv4
        mapped, as in ``intel.addr``), times as int64 microseconds since the epoch.
        Category codes index ``slipcatch.intel.CATEGORY_ORDER``.

        Large batches use a /24 table of the IPv4 space (64 MiB, plus 1 KiB per /24 split by
        a longer network: about 43 MiB for the default pack; built on the first large batch,
        about 2 s, or read from the cache for the default pack); see
        ``slipcatch.intel.fastindex.Fast4`` and ``docs/intel.md``.

        ``extras=True`` also computes ``source_bits`` (the sources of each row's valid facts,
        as bits of :meth:`fact_bits` ``.names``) and ``tor_fact`` (one of them is a Tor
        fact) in the same pass, without the per-row fact lists: the fast paths read them
        from per-segment tables built with the /24 table.

        ``into`` / ``into_extras``: arrays of the caller's that receive the answers (see
        :func:`slipcatch.intel.kernel.lookup_arrays`).

        Raises:
            ValueError: the arrays differ in length; ``extras`` for a pack whose facts come
                from more than 63 sources.
        """
        bits = self.fact_bits() if extras else None
        if len(hi) >= 1 << 12:
            self.prepare_fast_index()
        return lookup_arrays(
            hi, lo, times_us, parts=self._parts,
            facts=self._d.parts, table=self._d.table, fast4=self._fast4, fast6=self._fast6,
            bits=bits, into=into, into_extras=into_extras,
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

    def _tor_index(self) -> TorIndex | None:
        if self._tor is None and "th_hi" in self._d.geo:
            days = []
            for s in self.sources:
                if s.kind == "tor-exit":
                    try:
                        when = utc(datetime.fromisoformat(s.version))
                    except ValueError:
                        continue
                    days.append(int(when.timestamp()) // 86400)
            self._tor = TorIndex({k: v for k, v in self._d.geo.items() if k.startswith("th_")},
                                 np.array(days, np.int32))
        return self._tor

    def tor_status(
        self, hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
        times_us: npt.NDArray[np.int64],
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32]]:
        """The three-way Tor answer per query, vectorised (docs/intel.md, "Tor exit
        history"): status codes index ``torhistory.STATUS_TEXT`` (listed, not-listed,
        no-data), and the signed calendar days to the nearest interval that lists the
        address (``torhistory.NO_DAYS`` when none does, or when listed).

        A pack without the history layer answers ``no-data`` everywhere.
        """
        idx = self._tor_index()
        if idx is None:
            return (np.full(len(hi), 2, np.int8), np.full(len(hi), NO_DAYS, np.int32))
        status, near, _ = idx.status(hi, lo, times_us)
        near = np.where(status == LISTED, NO_DAYS, near).astype(np.int32)
        return status, near

    def coverage(self) -> list[dict[str, Any]]:
        """Periods the dated layers cover: ``{layer, from, to}`` for ``tor`` (first to last
        snapshot day of the history and any dated exit list), ``routing`` (routing snapshots'
        windows) and ``geolocation`` (the geo snapshot ± the routing window). ``from`` and
        ``to`` are None when the pack has no such layer."""
        out: list[dict[str, Any]] = []
        idx = self._tor_index()
        tor_from, tor_to = idx.coverage() if idx is not None else (None, None)
        for s in self.sources:
            if s.kind in ("tor-exit", "tor-consensus", "tor-bulk") and s.valid_from:
                tor_from = min(tor_from or s.valid_from, s.valid_from)
                tor_to = max(tor_to or s.valid_to or s.valid_from, s.valid_to or s.valid_from)
        out.append({"layer": "tor", "from": tor_from, "to": tor_to})
        r_from: datetime | None = None
        r_to: datetime | None = None
        for s in self.sources:
            if s.kind in ("routing", "ip-asn") and s.valid_from:
                lo_, hi_ = s.valid_from, s.valid_to or s.valid_from
                r_from = lo_ if r_from is None else min(r_from, lo_)
                r_to = hi_ if r_to is None else max(r_to, hi_)
        out.append({"layer": "routing", "from": r_from, "to": r_to})
        try:
            geo_day = datetime.fromisoformat(self._d.geo_snapshot).replace(tzinfo=UTC)
            out.append({"layer": "geolocation", "from": geo_day - ROUTING_WINDOW,
                        "to": geo_day + ROUTING_WINDOW})
        except ValueError:
            out.append({"layer": "geolocation", "from": None, "to": None})
        return out

    def covered(self, layer: str, is_v4: npt.NDArray[np.bool_],
                times_us: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Whether a snapshot of ``layer`` covers each time: for ``tor`` the three-way rule's
        coverage (a snapshot day, or a gap of at most 3 days, of a source carrying the
        family); for the others the period of :meth:`coverage`."""
        t = np.asarray(times_us, np.int64)
        if layer == "tor":
            idx = self._tor_index()
            if idx is not None:
                hi = np.where(is_v4, 0, 1).astype(np.uint64)
                lo = np.where(is_v4, np.uint64(0xFFFF << 32), 0).astype(np.uint64)
                status, _, _ = idx.status(hi, lo, t)
                return status != 2  # a probe address without intervals: coverage only
        for c in self.coverage():
            if c["layer"] == layer and c["from"] is not None:
                return (t >= to_micros(c["from"])) & (t < to_micros(c["to"]))
        return np.zeros(len(t), np.bool_)

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
        status, near = self.tor_status(hi, lo, us)
        tor_code = CATEGORY_ORDER.index(Category.TOR)
        out = []
        for i, ip in enumerate(ips):
            a = self._address_facts(r, i, canonical_ip(ip), whens[i])
            st = int(status[i])
            if int(r.category[i]) == tor_code or any(
                    f.category == Category.TOR for f in a.facts):
                st = LISTED  # a Tor fact valid at the time (history or an extra exit list)
            out.append(dataclasses.replace(
                a, tor=STATUS_TEXT[st],
                tor_nearest_listing_days=None if st == LISTED or near[i] == NO_DAYS
                else int(near[i])))
        return out

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
        key = norm(name)
        if not key:
            return None
        for a in self.actors:
            if key in (norm(a.name), norm(a.id)):
                return a
        for a in self.actors:
            if any(norm(x) == key for x in a.aliases):
                return a
        return None

    def describe(self) -> dict[str, Any]:
        """A deterministic summary for ``slipcatch intel info``."""
        self._tor_index()  # the Tor coverage below needs it
        return {
            "pack_id": self.pack_id,
            "layout": LAYOUT_VERSION,
            "actors": len(self.actors),
            "facts": len(self._d.table),
            "rejections": len(self.rejections),
            "coverage": [
                {"layer": c["layer"],
                 "from": c["from"].isoformat() if c["from"] else None,
                 "to": c["to"].isoformat() if c["to"] else None,
                 **({"snapshot_days": len(self._tor.days4)}
                    if c["layer"] == "tor" and self._tor is not None else {})}
                for c in self.coverage()
            ],
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

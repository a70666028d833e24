"""Enrichment on columns: what each event's source address was at the event's time.

``enrich`` adds the ``eventtable.ENRICHED_FIELDS`` to a record batch of events in one
vectorised pass: the address text becomes two 64-bit halves (IPv4 dotted quads parsed on the
Arrow buffers; the few IPv6 texts, and the IPv6 forms that carry an IPv4 address — NAT64,
6to4, IPv4-compatible — through ``intel.addr.lookup_address`` one by one), then the intel
kernel answers the whole batch (``IntelPack.lookup_arrays`` and ``IntelPack.tor_status``).

Every column means exactly what ``IntelPack.lookup`` (through ``engine.observe.observe``)
says for the event: category, country, AS, actor, ``projected`` and the three-way Tor answer,
where a Tor fact valid at the time makes the answer ``listed`` even when a fact of higher
precedence decided the category (tests/engine/test_enrich.py checks every column against
``observe`` on the demo case and on generated addresses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.eventtable import ENRICHED_SCHEMA, EVENT_SCHEMA
from slipcatch.intel import CATEGORY_ORDER, IntelPack
from slipcatch.intel.addr import (
    MAPPED_FIRST,
    MAPPED_LAST,
    addresses_from_arrow,
    ip_to_int,
    lookup_address,
)
from slipcatch.intel.torhistory import LISTED, NO_DAYS, STATUS_TEXT
from slipcatch.model import Category

__all__ = ["AddressError", "Enricher", "address_keys", "enrich", "time_micros"]

_MASK64 = (1 << 64) - 1
_TOR_CODE = CATEGORY_ORDER.index(Category.TOR)
#: Categories a fact of higher precedence than a valid Tor fact can decide.
_MAY_HIDE_TOR = np.array([CATEGORY_ORDER.index(c) for c in CATEGORY_ORDER
                          if c not in (Category.TOR, Category.RESIDENTIAL, Category.UNKNOWN)],
                         np.int64)
_CATEGORY_TEXT = pa.array([str(c) for c in CATEGORY_ORDER], pa.string())
_STATUS_TEXT = pa.array(list(STATUS_TEXT), pa.string())


class AddressError(ValueError):
    """A source address that is not an address; ``row`` is its row in the column."""

    def __init__(self, message: str, row: int):
        super().__init__(message)
        self.row = row


def address_keys(src_ip: pa.Array | pa.ChunkedArray) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint64]
]:
    """The ``(hi, lo)`` halves of the address each text is looked up as (IPv4 mapped).

    IPv4 dotted quads are parsed on the Arrow buffers (``intel.addr.addresses_from_arrow``);
    every other text goes through ``lookup_address`` (the IPv4 address a NAT64, 6to4 or
    IPv4-compatible form carries) and ``ip_to_int``, as ``observe`` does, one by one: they are
    few in the logs this path is for.

    Raises:
        AddressError: a text is not an address (the message names its row), as
            ``IntelPack.lookup`` refuses it.
    """
    hi, lo, valid = addresses_from_arrow(src_ip)
    v4 = valid & (hi == 0) & (lo >= np.uint64(MAPPED_FIRST)) & (lo <= np.uint64(MAPPED_LAST))
    rest = np.flatnonzero(~v4)
    if len(rest):
        arr = src_ip.combine_chunks() if isinstance(src_ip, pa.ChunkedArray) else src_ip
        texts = arr.take(pa.array(rest, pa.int64())).to_pylist()
        for i, text in zip(rest.tolist(), texts, strict=True):
            try:
                v = ip_to_int(lookup_address(text))
            except (ValueError, AttributeError, TypeError) as exc:
                raise AddressError(f"row {i}: not an IP address: {text!r}", i) from exc
            hi[i], lo[i] = v >> 64, v & _MASK64
    return hi, lo


def time_micros(time: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Microseconds since the epoch of a ``timestamp("us", tz="UTC")`` column."""
    if isinstance(time, pa.ChunkedArray):
        time = time.combine_chunks()
    if time.type != pa.timestamp("us", tz="UTC"):
        time = time.cast(pa.timestamp("us", tz="UTC"))
    return np.asarray(time.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _texts(names: pa.Array, idx: npt.NDArray[Any]) -> pa.Array:
    """``names[idx]`` as an Arrow string array, null where ``idx`` is negative."""
    missing = idx < 0
    if missing.all():
        return pa.nulls(len(idx), pa.string())
    return names.take(pa.array(np.where(missing, 0, idx), pa.int64(), mask=missing))


@dataclass
class Enricher:
    """Enrichment with one pack, batch after batch: the pack's name tables as Arrow arrays and
    which facts are Tor facts are worked out once and kept (``enrich`` makes one per call)."""

    pack: IntelPack
    _countries: pa.Array = field(init=False)
    _actors: pa.Array = field(init=False)
    _tor_fact: dict[int, bool] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._countries = pa.array(list(self.pack.countries), pa.string())
        self._actors = pa.array(list(self.pack.actor_ids), pa.string())

    def _tor_facts(self, ids: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
        """Whether each fact id is a Tor fact (looked up once per distinct fact)."""
        uniq, inverse = np.unique(ids, return_inverse=True)
        flags = np.empty(len(uniq), np.bool_)
        for k, fid in enumerate(uniq.tolist()):
            flag = self._tor_fact.get(fid)
            if flag is None:
                flag = self._tor_fact[fid] = self.pack.fact(fid).category == Category.TOR
            flags[k] = flag
        return flags[inverse.ravel()]

    def columns(
        self, hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
        us: npt.NDArray[np.int64],
    ) -> list[pa.Array]:
        """The ``ENRICHED_FIELDS`` columns for addresses ``(hi, lo)`` at times ``us``."""
        n = len(hi)
        r = self.pack.lookup_arrays(hi, lo, us)
        status, near = self.pack.tor_status(hi, lo, us)
        status = np.asarray(status, np.int8).copy()
        cat = np.asarray(r.category, np.int64)
        listed = cat == _TOR_CODE
        # A Tor fact valid at the time lists the address even when a fact of higher precedence
        # (reserved, an actor range, a provider-specific cover list) decided the category.
        # Only rows decided by such a fact can hold one: Tor facts outrank residential ones,
        # and ``unknown`` means no fact with a category was valid. Their fact lists (the
        # kernel's general path) are expanded for those rows only.
        maybe = np.flatnonzero(np.isin(cat, _MAY_HIDE_TOR))
        if len(maybe):
            sub = r if len(maybe) == n else self.pack.lookup_arrays(
                hi[maybe], lo[maybe], us[maybe])
            offsets, ids = sub.fact_offsets, sub.fact_ids
            if len(ids):
                tor_f = self._tor_facts(ids)
                if tor_f.any():
                    owner = np.repeat(maybe, np.diff(offsets))
                    listed[owner[tor_f]] = True
        status[listed] = LISTED
        near = np.asarray(near, np.int64)
        no_days = (status == LISTED) | (near == NO_DAYS)
        asn = np.asarray(r.asn, np.int64)
        return [
            pa.array(hi, pa.uint64()),
            pa.array(lo, pa.uint64()),
            _CATEGORY_TEXT.take(pa.array(cat, pa.int64())),
            _texts(self._countries, np.asarray(r.country)),
            pa.array(asn, pa.int64(), mask=asn < 0),
            _texts(self._actors, np.asarray(r.actor)),
            pa.array(np.asarray(r.projected, np.bool_), pa.bool_()),
            _STATUS_TEXT.take(pa.array(status.astype(np.int64), pa.int64())),
            pa.array(np.where(no_days, 0, near).astype(np.int32), pa.int32(), mask=no_days),
        ]

    def enrich(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """``batch`` (the ``EVENT_SCHEMA`` columns) with the ``ENRICHED_FIELDS`` added.

        Raises:
            AddressError: a source address is not an address (the message names the event's
                file and locator, and its row in the batch).
            KeyError: a column of ``EVENT_SCHEMA`` is missing.
        """
        if isinstance(batch, pa.Table):
            batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else \
                pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
        base = [batch.column(name) for name in EVENT_SCHEMA.names]
        try:
            hi, lo = address_keys(base[EVENT_SCHEMA.get_field_index("src_ip")])
        except AddressError as exc:
            where = f"{batch.column('path')[exc.row]} {batch.column('locator')[exc.row]}"
            raise AddressError(f"{where}: {exc}", exc.row) from exc
        us = time_micros(base[EVENT_SCHEMA.get_field_index("time")])
        cols = self.columns(hi, lo, us)
        base = [col if col.type == f.type else pc.cast(col, f.type)
                for col, f in zip(base, EVENT_SCHEMA, strict=True)]
        return pa.RecordBatch.from_arrays([*base, *cols], schema=ENRICHED_SCHEMA)


def enrich(batch: pa.RecordBatch | pa.Table, pack: IntelPack) -> pa.RecordBatch:
    """``batch`` (events of ``EVENT_SCHEMA``) with the ``ENRICHED_FIELDS`` added: what each
    source address was at the event's time per ``pack`` (see the module docstring).

    Raises:
        AddressError: a source address is not an address (a ``ValueError`` naming the
            event's file and locator, and its row in the batch).
        KeyError: a column of ``EVENT_SCHEMA`` is missing.
    """
    return Enricher(pack).enrich(batch)

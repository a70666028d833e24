"""``enrich``'s ``sources`` and ``tor`` equal the implementation they replaced (per-row fact
lists, a factorize per fact column, an Arrow ``take`` of the lists), kept here as the
reference, on 100k rows: known networks, uniform addresses, Tor exits, IPv6 and bad rows."""

from __future__ import annotations

import ipaddress

import numpy as np
import pyarrow as pa


def _old_fact_columns(pack, r, n, ok):  # type: ignore[no-untyped-def]
    import pandas as pd

    from slipcatch.api import _Facts, _geo_source, _per_row

    facts = _Facts(pack)
    offsets = np.asarray(r.fact_offsets, np.int64)
    fids = np.asarray(r.fact_ids, np.int64)
    src_codes, src_names = facts.column(fids, "source")
    geo_name = _geo_source(pack)
    names = sorted({*src_names, *([geo_name] if geo_name else [])})
    order = {name: i for i, name in enumerate(names)}
    remap = np.asarray([order[x] for x in src_names] or [0], np.uint64)
    bits = np.left_shift(np.uint64(1), remap[np.maximum(src_codes, 0)])
    bits[src_codes < 0] = 0
    mask = _per_row(bits, offsets, n, np.bitwise_or)
    if geo_name is not None:
        geo = (np.asarray(r.as_org) >= 0) | (
            (np.asarray(r.country) >= 0) & (np.asarray(r.asn_fact) < 0))
        mask[geo] |= np.uint64(1) << np.uint64(order[geo_name])
    mask[~ok] = 0
    codes, uniq = pd.factorize(mask)
    lists = [[names[b] for b in range(len(names)) if (int(m) >> b) & 1] for m in uniq]
    sources = pa.array(lists, pa.list_(pa.string())).take(pa.array(np.asarray(codes, np.int64)))
    tor = _per_row(facts.tor(fids).astype(np.uint8), offsets, n, np.maximum).astype(np.bool_)
    return sources, tor & ok


def _first(rng: str) -> str:
    """An address inside a fact's range text (``a.b.c.d/n`` or ``first-last``)."""
    if "-" in rng:
        return rng.split("-")[0].strip()
    return str(ipaddress.ip_network(rng, strict=False)[-1])


def _texts(pack, n: int, seed: int = 3) -> list[str]:  # type: ignore[no-untyped-def]
    from slipcatch.intel import CATEGORY_ORDER
    from slipcatch.model import Category

    rng = np.random.default_rng(seed)
    table = pack._d.table
    tor = np.flatnonzero(np.asarray(table.cat) == CATEGORY_ORDER.index(Category.TOR))
    ranges = [table.strings[int(table.rng[f])] for f in tor[:2000]]
    tor_ips = [_first(x) for x in ranges if x]
    known = [_first(table.strings[int(i)])
             for i in np.asarray(table.rng)[rng.integers(0, len(table), 3000)] if i >= 0]
    out: list[str] = []
    for k in rng.integers(0, 5, n):
        if k == 0 and tor_ips:
            out.append(tor_ips[rng.integers(0, len(tor_ips))])
        elif k == 1:
            out.append(known[rng.integers(0, len(known))])
        elif k == 2:
            out.append(str(ipaddress.IPv4Address(int(rng.integers(1 << 24, 0xDF000000)))))
        elif k == 3:
            out.append(f"2001:db8::{int(rng.integers(0, 65535)):x}" if rng.random() < 0.5
                       else known[rng.integers(0, len(known))])
        else:
            out.append("not an address" if rng.random() < 0.1 else tor_ips[0])
    return out


def test_sources_and_tor_equal_the_old_implementation() -> None:
    import pandas as pd

    import slipcatch
    from slipcatch.api import _arrow_strings, _time_micros
    from slipcatch.intel import addresses_from_arrow, load_pack

    pack = load_pack()
    n = 100_000
    texts = _texts(pack, n)
    rng = np.random.default_rng(5)
    us = rng.integers(1_388_534_400_000_000, 1_735_689_600_000_000, n, dtype=np.int64)
    df = pd.DataFrame({"time": pd.to_datetime(us, unit="us", utc=True), "src_ip": texts})
    out = slipcatch.enrich(df, pack=pack)

    arr = _arrow_strings(df["src_ip"])
    t, time_ok = _time_micros(df["time"], n)
    hi, lo, valid = addresses_from_arrow(arr)
    ok = valid & time_ok
    r = pack.lookup_arrays(hi, lo, np.where(ok, t, 0).astype(np.int64))
    sources, tor = _old_fact_columns(pack, r, n, ok)
    assert out["tor"].to_numpy(bool).tolist() == tor.tolist()
    assert out["tor"].any()  # the rows include Tor exits
    assert pa.array(out["sources"]).to_pylist() == sources.to_pylist()
    assert len({tuple(x) for x in sources.to_pylist()}) > 2

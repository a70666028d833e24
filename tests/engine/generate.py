"""Generated event tables for the engine tests and measurements, built on columns (no Python
object per event), against the demo case's intel (its ranges, Tor exit lists and actor).

Every address the generator uses has a category the demo pack gives it at the generated
times (2014-11-21 .. 2014-12-20, inside the demo Tor lists' period), stated here and checked
by tests/engine/test_local.py through the enrichment itself.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.eventtable import EVENT_SCHEMA
from slipcatch.intel import IntelPack, load_pack

DEMO = Path(__file__).resolve().parents[2] / "src" / "slipcatch" / "data" / "demo"
T0 = datetime(2014, 11, 21, tzinfo=UTC)
T0_US = int(T0.timestamp()) * 1_000_000
SPAN_US = 29 * 86_400 * 1_000_000  # up to 2014-12-20

# Address pools (IPv4 as integers), by the category the demo pack gives them.
VPN = [int(ipaddress.IPv4Address("95.211.118.0")) + k for k in range(1, 255)]
HOSTING = [int(ipaddress.IPv4Address("46.28.106.0")) + k for k in range(1, 255)]
RESIDENTIAL = [int(ipaddress.IPv4Address("126.209.64.0")) + k for k in range(1, 16000)]
ACTOR = [int(ipaddress.IPv4Address("175.45.176.0")) + k for k in range(1, 1020)]


@cache
def demo_pack() -> IntelPack:
    """The demo case's pack (default sources plus its ranges and Tor exit lists)."""
    manifest = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    return load_pack([DEMO / p for p in manifest["intel"]])


@cache
def tor_exits() -> list[int]:
    """Addresses every one of the demo's daily exit lists names (listed on each day)."""
    sets = []
    for path in sorted((DEMO / "intel").glob("tor-exit-*.txt")):
        found = re.findall(r"^ExitAddress (\S+) ", path.read_text(encoding="utf-8"), re.M)
        sets.append({int(ipaddress.IPv4Address(a)) for a in found})
    return sorted(set.intersection(*sets))


def v4_text(values: np.ndarray) -> pa.Array:
    """Dotted quads of uint32 addresses, on columns."""
    v = np.asarray(values, np.uint32)
    parts = [pa.array(((v >> np.uint32(s)) & np.uint32(255)).astype(np.int64)).cast(pa.string())
             for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*parts, ".")


def event_table(
    persona: np.ndarray,
    names: list[str],
    addresses: pa.Array,
    times_us: np.ndarray,
    *,
    channel: str = "web",
    first_line: int = 1,
) -> pa.Table:
    """An ``EVENT_SCHEMA`` table: row k is persona ``names[persona[k]]`` at ``times_us[k]``
    from ``addresses[k]``; ids ``ev--<16 hex digits of the line number>``."""
    n = len(persona)
    line = np.arange(first_line, first_line + n, dtype=np.int64)
    hexes = pc.utf8_lpad(pa.array(line).cast(pa.string()), 16, "0")
    return pa.table(
        {
            "id": pc.binary_join_element_wise("ev--", hexes, ""),
            "time": pa.array(np.asarray(times_us, np.int64), pa.timestamp("us", tz="UTC")),
            "src_ip": addresses,
            "persona": pa.array(names, pa.string()).take(pa.array(persona, pa.int64())),
            "channel": pa.array([channel] * n, pa.string()) if n < 1024 else
            pa.repeat(pa.scalar(channel), n),
            "path": pa.repeat(pa.scalar("generated.log"), n),
            "sha256": pa.repeat(pa.scalar("0" * 64), n),
            "locator": pc.binary_join_element_wise("line ", pa.array(line).cast(pa.string()),
                                                   ""),
            "origin_trust": pa.nulls(n, pa.string()),
            "entry_ip": pa.nulls(n, pa.string()),
            "attributes": pa.repeat(pa.scalar("{}"), n),
            "hops": pa.repeat(pa.scalar("[]"), n),
            "mail": pa.nulls(n, pa.string()),
        },
        schema=EVENT_SCHEMA,
    )


def hunt_log(n: int, personas: int, *, seed: int = 0, cover_share: float = 0.05,
             slip_rate: float = 0.02, first_line: int = 1,
             window: tuple[int, int] = (T0_US, T0_US + SPAN_US)) -> pa.Table:
    """``n`` events of ``personas`` accounts (Zipf-skewed activity) in time order: most
    accounts work from residential or unknown addresses; one in ``1 / cover_share`` of them
    (the last of every stride of ``round(1 / cover_share)``) works under Tor/VPN/hosting
    cover and slips to the actor's space or home with probability ``slip_rate`` per event."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, personas + 1) ** 0.8
    weights /= weights.sum()
    who = rng.choice(personas, size=n, p=weights)
    times = np.sort(rng.integers(window[0], window[1], size=n))
    stride = max(1, round(1 / cover_share)) if cover_share > 0 else personas + 1
    covered = who % stride == stride - 1
    pick = rng.random(n)
    tor = np.array(tor_exits(), np.uint32)
    pools = {
        "tor": tor, "vpn": np.array(VPN, np.uint32), "hosting": np.array(HOSTING, np.uint32),
        "residential": np.array(RESIDENTIAL, np.uint32), "actor": np.array(ACTOR, np.uint32),
    }
    # a home address per account: access-network space (81.x) for a third of the accounts
    home = np.where(np.arange(personas) % 3 == 0,
                    np.uint32(int(ipaddress.IPv4Address("81.0.0.0"))) +
                    rng.integers(1, 1 << 20, personas).astype(np.uint32),
                    pools["residential"][np.arange(personas) % len(RESIDENTIAL)])
    addr = home[who].astype(np.uint32)
    kind = rng.integers(0, 3, n)
    for k, name in enumerate(("tor", "vpn", "hosting")):
        m = covered & (kind == k)
        addr[m] = pools[name][rng.integers(0, len(pools[name]), int(m.sum()))]
    slip = covered & (pick < slip_rate)
    to_actor = slip & (rng.random(n) < 0.5)
    addr[to_actor] = pools["actor"][rng.integers(0, len(ACTOR), int(to_actor.sum()))]
    names = [f"acct{k:06d}" for k in range(personas)]
    return event_table(who, names, v4_text(addr), times, first_line=first_line)


def hunt_batches(n: int, personas: int, rows: int, *, seed: int = 0) -> Iterator[pa.RecordBatch]:
    """``hunt_log`` of ``n`` events made and yielded ``rows`` at a time (consecutive time
    windows, each its own seed): never the whole log in memory."""
    chunks = max(1, -(-n // rows))
    step = SPAN_US // chunks
    for k in range(chunks):
        size = min(rows, n - k * rows)
        table = hunt_log(size, personas, seed=seed + k, first_line=1 + k * rows,
                         window=(T0_US + k * step, T0_US + (k + 1) * step))
        yield from table.to_batches()


def batches(table: pa.Table, rows: int) -> list[pa.RecordBatch]:
    """``table`` as record batches of at most ``rows`` rows."""
    return table.to_batches(max_chunksize=rows)

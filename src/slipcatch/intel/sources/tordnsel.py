"""Tor exit lists: TorDNSEL snapshots and the time model that turns them into intervals.

Formats: CollecTor's ``@type tordnsel 1.0`` exit lists (``Downloaded`` header, then
``ExitNode``/``Published``/``LastStatus``/``ExitAddress`` records) and check.torproject.org's
``exit-addresses`` (the same records without the header). One file is one snapshot.

Time model (docs/intel.md): each ``ExitAddress IP TIME`` line is an observation; the address
counts as a Tor exit from ``TIME - WINDOW`` to ``TIME + WINDOW``. A snapshot of the same feed
that does *not* list the address is evidence of absence at the snapshot's time and cuts the
interval there. Overlapping intervals of one address are merged into one fact.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slipcatch.intel.addr import ip_to_int, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.model import Category, Fact, Rejection, SourceInfo

__all__ = ["WINDOW", "TorSnapshot", "merge_snapshots", "read", "sniff"]

#: How long either side of an observation an address counts as a Tor exit.
WINDOW = timedelta(hours=24)
_EPS = timedelta(microseconds=1)
LICENCE = "Tor Project data, CC0 (Tor Metrics)"

_FPR = re.compile(r"^[0-9A-F]{40}$")
_TIME_FMT = "%Y-%m-%d %H:%M:%S"


@dataclass
class TorSnapshot:
    """One snapshot of an exit feed: which ranges it lists, observed when."""

    feed: str  # "tordnsel" or "torbulkexitlist": absence only counts within one feed
    path: str
    sha256: str
    time: datetime  # when the snapshot was taken (Downloaded, or newest time inside)
    observations: dict[tuple[int, int], list[datetime]] = field(default_factory=dict)
    labels: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    nodes: int = 0  # ExitNode records (the file's record count)
    exit_addresses: int = 0
    multi_address_nodes: int = 0  # ExitNode records with more than one ExitAddress
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def name(self) -> str:
        archive, bang, member = self.path.partition("!")
        if bang:  # a member of an archive: "feed:archive.tar.xz!member/path"
            return f"{self.feed}:{Path(archive).name}!{member}"
        return f"{self.feed}:{Path(self.path).name}"

    def add(self, first: int, last: int, when: datetime, label: str | None) -> None:
        key = (first, last)
        self.observations.setdefault(key, []).append(when)
        if label:
            self.labels.setdefault(key, set()).add(label)


def sniff(head: bytes, name: str) -> float:
    """TorDNSEL with its ``@type`` header, or records starting with ``ExitNode <fpr>``."""
    if head.startswith(b"@type tordnsel "):
        return 1.0
    if re.search(rb"(?m)^ExitNode [0-9A-F]{40}\r?$", head[:4096]):
        return 0.95
    return 0.0


def _time(text: str) -> datetime:
    return datetime.strptime(text.strip(), _TIME_FMT).replace(tzinfo=UTC)


def read(path: Path, raw: bytes | None = None) -> TorSnapshot:
    """Read one TorDNSEL / exit-addresses file.

    Unusable lines become rejections (``bad-line``, ``bad-cidr``, ``bad-time``), counted in
    the snapshot; the file itself is never rejected once recognised.

    Raises:
        OSError: the file cannot be read.
    """
    raw = path.read_bytes() if raw is None else raw
    sha = hashlib.sha256(raw).hexdigest()
    snap = TorSnapshot("tordnsel", str(path), sha, datetime.fromtimestamp(0, UTC))
    downloaded: datetime | None = None
    newest: datetime | None = None
    node: str | None = None
    node_addresses = 0

    def reject(lineno: int, reason: str, detail: str) -> None:
        snap.rejections.append(Rejection(str(path), sha, f"line {lineno}", reason, detail))

    def close_node() -> None:
        if node is not None and node_addresses > 1:
            snap.multi_address_nodes += 1

    text = raw.decode("utf-8", "replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        try:
            if keyword == "@type":
                continue
            if keyword == "Downloaded":
                downloaded = _time(rest)
            elif keyword == "ExitNode":
                close_node()
                if not _FPR.match(rest.strip()):
                    reject(lineno, "bad-line", f"bad fingerprint: {line[:80]!r}")
                    node = None
                    continue
                node, node_addresses = rest.strip(), 0
                snap.nodes += 1
            elif keyword in ("Published", "LastStatus"):
                t = _time(rest)
                newest = t if newest is None or t > newest else newest
            elif keyword == "ExitAddress":
                addr, _, when = rest.partition(" ")
                if node is None:
                    reject(lineno, "bad-line", "ExitAddress outside an ExitNode record")
                    continue
                try:
                    v = ip_to_int(addr)
                except ValueError:
                    reject(lineno, "bad-cidr", f"not an address: {addr[:60]!r}")
                    continue
                t = _time(when)
                newest = t if newest is None or t > newest else newest
                snap.add(v, v, t, node)
                snap.exit_addresses += 1
                node_addresses += 1
            else:
                reject(lineno, "bad-line", f"unknown keyword: {line[:80]!r}")
        except ValueError:
            reject(lineno, "bad-time", f"bad time: {line[:80]!r}")
    close_node()
    # a file with no time at all cannot place its observations; the epoch keeps it sortable
    snap.time = downloaded or newest or datetime.fromtimestamp(0, UTC)
    return snap


def _source_info(snap: TorSnapshot, kind: str) -> SourceInfo:
    times = [t for obs in snap.observations.values() for t in obs]
    return SourceInfo(
        name=snap.name,
        kind=kind,
        version=snap.time.isoformat(),
        records=snap.nodes,
        valid_from=(min(times) - WINDOW) if times else None,
        valid_to=(max(times) + WINDOW) if times else None,
        licence=LICENCE,
        sha256=snap.sha256,
    )


def merge_snapshots(snapshots: list[TorSnapshot]) -> Loaded:
    """Turn snapshots into time-bounded ``tor`` facts, one per address and merged interval.

    Snapshots are grouped by feed; within a feed every snapshot that does not list an
    address cuts that address's intervals at the snapshot's time.
    """
    out = Loaded()
    by_feed: dict[str, list[TorSnapshot]] = defaultdict(list)
    for s in snapshots:
        by_feed[s.feed].append(s)
    for feed in sorted(by_feed):
        snaps = sorted(by_feed[feed], key=lambda s: (s.time, s.path))
        times = [s.time for s in snaps]
        for s in snaps:
            out.sources.append(_source_info(s, "tor-exit"))
            out.rejections.extend(s.rejections)
        listed: dict[tuple[int, int], set[int]] = defaultdict(set)
        obs: dict[tuple[int, int], list[tuple[datetime, int]]] = defaultdict(list)
        labels: dict[tuple[int, int], set[str]] = defaultdict(set)
        for i, s in enumerate(snaps):
            for key, ts in s.observations.items():
                listed[key].add(i)
                obs[key].extend((t, i) for t in ts)
                labels[key] |= s.labels.get(key, set())
        for key in sorted(obs):
            absent = [times[i] for i in range(len(snaps)) if i not in listed[key]]
            spans: list[tuple[datetime, datetime, int]] = []
            for t, i in sorted(obs[key]):
                lo, hi = t - WINDOW, t + WINDOW
                k = bisect.bisect_left(absent, t)
                if k > 0:
                    lo = max(lo, absent[k - 1] + _EPS)  # absent at that snapshot's time
                if k < len(absent):
                    hi = min(hi, absent[k])
                if lo < hi:
                    spans.append((lo, hi, i))
            spans.sort()
            merged: list[tuple[datetime, datetime, set[int]]] = []
            for lo, hi, i in spans:
                if merged and lo <= merged[-1][1]:
                    plo, phi, members = merged[-1]
                    members.add(i)
                    merged[-1] = (plo, max(phi, hi), members)
                else:
                    merged.append((lo, hi, {i}))
            first, last_ip = key
            label = ", ".join(sorted(labels[key])) or None
            for lo, hi, idx in merged:
                ordered = sorted(idx)
                names = ", ".join(Path(snaps[m].path).name for m in ordered)
                fact = Fact(
                    range=range_text(first, last_ip),
                    category=Category.TOR,
                    source=snaps[ordered[0]].name,
                    label=f"Tor exit {label}" if label else "Tor exit",
                    valid_from=lo,
                    valid_to=hi,
                    note=(
                        f"listed in {names}; window {int(WINDOW.total_seconds() // 3600)} h "
                        "either side of each observation, cut by snapshots not listing it"
                    ),
                )
                out.facts.append(FactRow(first, last_ip, fact))
    return out

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slipcatch.errors import IntelError
from slipcatch.intel import IntelPack, load_pack, recognise
from slipcatch.intel.addr import parse_cidr
from slipcatch.intel.sources import cidrlist, tordnsel
from slipcatch.model import AddressFacts, Category


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# file -> (format, ExitNode records, ExitAddress lines, nodes with >1 address, addresses,
#          snapshot time)
EXIT_LISTS = {
    "exit-list-2016-09-20-13-02-00": ("tordnsel", 1118, 1148, 29, 1040, at(2016, 9, 20, 13, 2)),
    "exit-list-2017-07-17-17-02-00-cropped": ("tordnsel", 44, 44, 0, 44, at(2017, 7, 17, 17, 2)),
    "exit-addresses-2018-10-11": ("tordnsel", 920, 923, 1, 859, at(2018, 10, 11, 21, 3, 42)),
    "exit-list-2018-11-01-00-02-01": ("tordnsel", 931, 934, 1, 869, at(2018, 11, 1, 0, 2, 1)),
    "exit-list-2018-11-02-01-02-01": ("tordnsel", 925, 929, 2, 862, at(2018, 11, 2, 1, 2, 1)),
}
BULK = {
    "torbulkexitlist-x4b-cidr-2021-06-30.txt": (790, at(2021, 6, 30, 12)),
    "torbulkexitlist-x4b-cidr-2024-01-14.txt": (908, at(2024, 1, 14, 12)),
    "torbulkexitlist-x4b-cidr-2026-08-22.txt": (809, at(2026, 8, 22, 12)),
}


@pytest.mark.parametrize("name", sorted(EXIT_LISTS))
def test_exit_list_counts(tor_dir: Path, name: str) -> None:
    fmt, nodes, addrs, multi, distinct, when = EXIT_LISTS[name]
    raw = (tor_dir / name).read_bytes()
    assert recognise(raw[:8192], name) == fmt
    snap = tordnsel.read(tor_dir / name)
    assert (snap.nodes, snap.exit_addresses, snap.multi_address_nodes) == (nodes, addrs, multi)
    assert len(snap.observations) == distinct
    assert snap.time == when
    assert snap.rejections == []


def test_exit_list_spot_values(tor_dir: Path) -> None:
    snap = tordnsel.read(tor_dir / "exit-list-2016-09-20-13-02-00")
    key = parse_cidr("162.247.72.201")
    assert snap.observations[key] == [at(2016, 9, 20, 8, 9, 39)]
    assert snap.labels[key] == {"0011BD2485AD45D984EC4159C88FC066E5E3300E"}
    assert len(snap.observations[parse_cidr("192.99.125.120")]) == 4


@pytest.mark.parametrize("name", sorted(BULK))
def test_bulk_lists(tor_dir: Path, name: str) -> None:
    lines, when = BULK[name]
    raw = (tor_dir / name).read_bytes()
    assert recognise(raw[:8192], name) == "tor-bulk-list"
    snap = cidrlist.read_tor_bulk(tor_dir / name, raw)
    assert (snap.nodes, snap.exit_addresses, snap.time) == (lines, lines, when)
    assert snap.rejections == []


def test_bulk_list_without_date_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "torbulkexitlist.txt"
    f.write_text("1.2.3.4/32\n")
    with pytest.raises(IntelError, match="without a date"):
        cidrlist.read_tor_bulk(f, f.read_bytes())
    dated = tmp_path / "torbulkexitlist-undated-name.txt"
    dated.write_text("# date: 2020-01-02\n1.2.3.4/32\n")
    assert cidrlist.read_tor_bulk(dated, dated.read_bytes()).time == at(2020, 1, 2, 12)


@pytest.fixture(scope="module")
def tor_pack(pack: IntelPack, pack_cache: Path, tor_dir: Path) -> IntelPack:
    return load_pack(
        [tor_dir / "exit-list-2018-11-01-00-02-01", tor_dir / "exit-list-2018-11-02-01-02-01"],
        cache_dir=pack_cache,
    )


HISTORY = "tor-exit-history"  # the shipped history (tests/intel/test_tor_history.py)


def _listed(a: AddressFacts) -> bool:
    """A Tor fact of the lists given here applies (the shipped history left aside: these
    tests are about the time model of extra exit lists)."""
    return any(f.category is Category.TOR and f.source != HISTORY for f in a.facts)


def test_snapshot_absence_ends_interval(tor_pack: IntelPack) -> None:
    # in the 11-01 list (observed 2018-10-31 12:07:53), absent from the 11-02 list
    ip = "41.100.114.28"
    assert _listed(tor_pack.lookup_one(ip, at(2018, 11, 1)))
    assert not _listed(tor_pack.lookup_one(ip, at(2018, 11, 2, 2)))
    fact = next(f for f in tor_pack.lookup_one(ip, at(2018, 11, 1)).facts
                if f.category is Category.TOR and f.source != HISTORY)
    assert fact.valid_from == at(2018, 10, 30, 12, 7, 53)
    assert fact.valid_to == at(2018, 11, 1, 12, 7, 53)  # window ends before 11-02's snapshot
    assert fact.source == "tordnsel:exit-list-2018-11-01-00-02-01"


def test_snapshot_absence_starts_interval(tor_pack: IntelPack) -> None:
    # only in the 11-02 list (observed 2018-11-01 18:05:39): not an exit when 11-01 was taken
    ip = "31.131.25.154"
    assert not _listed(tor_pack.lookup_one(ip, at(2018, 11, 1, 0, 0)))
    assert _listed(tor_pack.lookup_one(ip, at(2018, 11, 1, 18)))
    fact = next(f for f in tor_pack.lookup_one(ip, at(2018, 11, 1, 18)).facts
                if f.category is Category.TOR and f.source != HISTORY)
    assert fact.valid_from == at(2018, 11, 1, 0, 2, 1) + timedelta(microseconds=1)


def test_present_in_both_is_merged(tor_pack: IntelPack) -> None:
    a = tor_pack.lookup_one("162.247.74.201", at(2018, 11, 1, 12))
    tor = [f for f in a.facts if f.category is Category.TOR and f.source != HISTORY]
    assert len(tor) == 1
    assert tor[0].valid_from == at(2018, 10, 30, 6, 3, 23)
    assert tor[0].valid_to == at(2018, 11, 2, 18, 8, 13)
    assert "exit-list-2018-11-01-00-02-01, exit-list-2018-11-02-01-02-01" in (tor[0].note or "")
    assert a.category is Category.TOR


def test_later_exit_is_not_cover_earlier(pack: IntelPack, pack_cache: Path, tor_dir: Path) -> None:
    p = load_pack([tor_dir / "exit-list-2018-11-02-01-02-01"], cache_dir=pack_cache)
    ip = "31.131.25.154"
    assert _listed(p.lookup_one(ip, at(2018, 11, 1, 18)))
    assert not _listed(p.lookup_one(ip, at(2018, 10, 30)))
    assert not _listed(p.lookup_one(ip, at(2014, 12, 1)))
    assert not _listed(p.lookup_one(ip, at(2018, 11, 3, 0)))


def test_bulk_list_in_pack(pack: IntelPack, pack_cache: Path, tor_dir: Path) -> None:
    p = load_pack([tor_dir / "torbulkexitlist-x4b-cidr-2021-06-30.txt"], cache_dir=pack_cache)
    # 23.129.64.144/28 is one merged line of that list
    assert _listed(p.lookup_one("23.129.64.150", at(2021, 6, 30, 20)))
    assert not _listed(p.lookup_one("23.129.64.150", at(2021, 6, 28)))
    assert not _listed(p.lookup_one("23.129.64.150", at(2021, 7, 2, 1)))
    info = next(s for s in p.sources if s.kind == "tor-exit")
    assert info.records == 790 and info.name.startswith("torbulkexitlist:")


def test_tordnsel_bad_lines_are_rejections(tmp_path: Path) -> None:
    f = tmp_path / "exits"
    f.write_text(
        "@type tordnsel 1.0\nDownloaded 2020-01-01 00:00:00\n"
        "ExitAddress 1.2.3.4 2020-01-01 00:00:00\n"
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n"
        "ExitAddress 999.1.1.1 2019-12-31 10:00:00\n"
        "ExitAddress 1.2.3.5 not-a-time\n"
        "Bogus line\n"
        "ExitAddress 1.2.3.6 2019-12-31 11:00:00\n"
    )
    snap = tordnsel.read(f)
    assert [(r.locator, r.reason) for r in snap.rejections] == [
        ("line 3", "bad-line"),
        ("line 5", "bad-cidr"),
        ("line 6", "bad-time"),
        ("line 7", "bad-line"),
    ]
    assert list(snap.observations) == [parse_cidr("1.2.3.6")]

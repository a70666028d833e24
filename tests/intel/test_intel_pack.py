from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from slipcatch.errors import IntelError
from slipcatch.intel import CATEGORY_ORDER, IntelPack, base_pack_id, load_pack
from slipcatch.intel.addr import ips_to_arrays
from slipcatch.model import Category

T2014 = datetime(2014, 12, 1, tzinfo=UTC)


def test_geo_spot_values(pack: IntelPack) -> None:
    kp = pack.lookup_one("175.45.176.27", T2014)
    assert kp.country == "KP"
    google = pack.lookup_one("8.8.8.8", T2014)
    assert (google.country, google.as_org) == ("US", "GOOGLE")
    v6 = pack.lookup_one("2001:4860:4860::8888", T2014)
    assert (v6.country, v6.as_org) == ("US", "GOOGLE")
    assert v6.prefix == "2001:4860:4840::/42"
    geo = [f for f in google.facts if f.source == "geoip2fast-geolite2"]
    assert [f.range for f in geo] == ["8.8.0.0/15", "8.8.8.0/24"]
    assert all("2024-06-18" in (f.note or "") for f in geo)
    # geoip2fast carries AS names, not numbers; the number is the shipped iptoasn subset's
    assert google.asn == 15169


def test_actor_range_is_time_aware(pack: IntelPack) -> None:
    hit = pack.lookup_one("175.45.176.27", T2014)
    assert hit.category is Category.ACTOR
    assert hit.actor == "dprk-rgb"
    assert hit.asn == 131279
    assert hit.prefix == "175.45.176.0/22"
    actor_facts = [f for f in hit.facts if f.category is Category.ACTOR]
    assert len(actor_facts) == 1
    assert actor_facts[0].exclusivity == 0.95
    assert actor_facts[0].valid_from == datetime(2009, 12, 21, tzinfo=UTC)
    before = pack.lookup_one("175.45.176.27", datetime(2005, 1, 1, tzinfo=UTC))
    assert before.category is Category.UNKNOWN
    assert before.actor is None and before.asn is None
    assert before.country == "KP"


def test_other_actor_ranges_and_registry(pack: IntelPack) -> None:
    assert [a.id for a in pack.actors] == ["dprk-rgb"]
    actor = pack.actors[0]
    assert actor.country == "KP" and actor.timezones == ("Asia/Pyongyang",)
    assert {
        "Lazarus Group",
        "Guardians of Peace",
        "GOP",
        "Hidden Cobra",
        "APT38",
        "ZINC",
        "Diamond Sleet",
    } <= set(actor.aliases)
    assert any("Trend Micro" in c for c in actor.caveats)
    kptc = pack.lookup_one("210.52.109.9", datetime(2000, 1, 1, tzinfo=UTC))
    assert (kptc.category, kptc.actor) == (Category.ACTOR, "dprk-rgb")
    assert [f.exclusivity for f in kptc.facts if f.actor] == [0.8]
    sat = pack.lookup_one("77.94.35.200", T2014)
    assert [f.exclusivity for f in sat.facts if f.actor] == [0.6]
    assert sat.as_org == "SatGate LLC"


def test_reserved_wins_and_all_facts_kept(pack: IntelPack) -> None:
    a = pack.lookup_one("10.1.2.3", T2014)
    assert a.category is Category.RESERVED
    assert a.country is None
    assert {f.source for f in a.facts if f.category is Category.RESERVED} == {
        "iana-special-purpose",
        "misp-warninglist:rfc1918",
        "misp-warninglist:rfc5735",
    }
    for ip in ("fe80::1", "2001:db8::5", "::1", "192.0.2.7", "ff02::1", "100.64.1.1"):
        assert pack.lookup_one(ip, T2014).category is Category.RESERVED, ip


def test_hosting_and_vpn_from_warninglists(pack: IntelPack) -> None:
    aws = pack.lookup_one("103.53.48.1", T2014)  # amazon-aws lists 103.53.48.0/22
    assert aws.category is Category.HOSTING
    assert aws.prefix == "103.53.48.0/22"
    assert any(
        f.source == "misp-warninglist:amazon-aws" and f.label == "Amazon AWS" for f in aws.facts
    )
    # the generic MISP vpn list also holds datacentre space: all facts kept, and the
    # provider-specific hosting fact wins over the catch-all list (docs/intel.md)
    both = pack.lookup_one("3.5.140.1", T2014)
    assert both.category is Category.HOSTING
    assert {f.category for f in both.facts if f.category} == {Category.VPN, Category.HOSTING}
    tencent = pack.lookup_one("1.116.0.1", T2014)
    assert tencent.category is Category.HOSTING
    assert [(f.source, f.label) for f in tencent.facts if f.category] == [
        ("slipcatch-hosting-orgs", "Tencent Cloud"),
        ("misp-warninglist:vpn-ipv4", "VPN provider"),
    ]
    assert tencent.prefix == "1.116.0.0/15"


def test_google_dns_is_hosting_google_not_vpn(pack: IntelPack) -> None:
    g = pack.lookup_one("8.8.8.8", T2014)
    assert (g.category, g.prefix, g.projected) == (Category.HOSTING, "8.8.8.0/24", True)
    decisive = next(f for f in g.facts if f.category is Category.HOSTING)
    assert (decisive.label, decisive.source) == ("Google", "slipcatch-hosting-orgs")
    assert any(f.category is Category.VPN for f in g.facts)  # kept, outranked


def test_vpn_list_alone_still_decides(pack: IntelPack) -> None:
    # a vpn-ipv4 range with no provider-specific cover fact stays vpn
    from slipcatch.intel.sources import warninglists

    doc = json.loads((warninglists.data_dir() / "vpn-ipv4" / "list.json").read_text())
    rnd = random.Random(3)
    for cidr in rnd.sample(doc["list"], 200):
        ip = cidr.split("/")[0]
        a = pack.lookup_one(ip, T2014)
        hosting = [f for f in a.facts if f.category is Category.HOSTING]
        if a.category is Category.RESERVED or a.category is Category.ACTOR:
            continue
        assert a.category is (Category.HOSTING if hosting else Category.VPN), ip


def test_snapshot_facts_are_projected(pack: IntelPack) -> None:
    old = pack.lookup_one("103.53.48.1", datetime(2005, 1, 1, tzinfo=UTC))
    assert (old.category, old.projected) == (Category.HOSTING, True)
    aws = next(f for f in old.facts if f.source == "misp-warninglist:amazon-aws")
    assert aws.projected and aws.valid_from is None and aws.valid_to is None
    assert "projected to other dates" in (aws.note or "")
    assert all(f.projected for f in old.facts if f.source == "geoip2fast-geolite2")
    # definitions and curated dated ranges are not projections
    assert pack.lookup_one("10.1.1.1", T2014).projected is False
    assert pack.lookup_one("175.45.176.1", T2014).projected is False


def test_ipv4_mapped_is_ipv4(pack: IntelPack) -> None:
    a = pack.lookup_one("::ffff:175.45.176.27", T2014)
    assert a.ip == "175.45.176.27" and a.actor == "dprk-rgb"


def test_bad_addresses(pack: IntelPack) -> None:
    with pytest.raises(ValueError, match="999"):
        pack.lookup_one("1.2.3.999", T2014)
    with pytest.raises(ValueError, match=r"ips\[1\]"):
        pack.lookup(["8.8.8.8", "not-an-ip"], [T2014, T2014])
    with pytest.raises(ValueError, match="same length"):
        pack.lookup(["8.8.8.8"], [])


def test_naive_times_are_utc(pack: IntelPack) -> None:
    a = pack.lookup_one("175.45.176.27", datetime(2014, 12, 1))
    assert a.time == T2014 and a.actor == "dprk-rgb"


def test_lookup_arrays_matches_lookup(pack: IntelPack) -> None:
    ips = ["175.45.176.27", "8.8.8.8", "10.0.0.1", "2001:4860:4860::8888", "1.116.0.1"]
    hi, lo = ips_to_arrays(ips)
    us = np.full(len(ips), int(T2014.timestamp() * 1_000_000), np.int64)
    r = pack.lookup_arrays(hi, lo, us)
    objs = pack.lookup(ips, [T2014] * len(ips))
    assert [CATEGORY_ORDER[c] for c in r.category] == [o.category for o in objs]
    assert [pack.countries[c] if c >= 0 else None for c in r.country] == [o.country for o in objs]
    assert [pack.as_orgs[c] if c >= 0 else None for c in r.as_org] == [o.as_org for o in objs]


def test_geo_agrees_with_geoip2fast(pack: IntelPack) -> None:
    import ipaddress

    from geoip2fast import GeoIP2Fast

    g = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn-ipv6.dat.gz")
    rnd = random.Random(7)
    ips = [str(ipaddress.IPv4Address(rnd.getrandbits(32))) for _ in range(1500)]
    ips += ["2001:4860:4860::8888", "2a00:1450:4001:82a::200e", "2606:4700:4700::1111"]
    got = pack.lookup(ips, [T2014] * len(ips))
    for ip, a in zip(ips, got, strict=True):
        ref = g.lookup(ip)
        want = ref.country_code if len(ref.country_code) == 2 and ref.country_code != "--" else None
        assert a.country == want, ip
        # geoip2fast 1.2.2 checks an IPv4 address against its AS network with IPv6 sizes in
        # the v4+v6 file, so it names an AS whose network does not hold the address
        # (129.231.78.245 -> 'BP', 129.230.242.0/24): compare only where it really holds it.
        held = ref.asn_cidr and ipaddress.ip_address(ip) in ipaddress.ip_network(ref.asn_cidr)
        if held and ref.asn_name != "<unknown>":
            assert a.as_org == ref.asn_name, ip
        elif not held:
            assert a.as_org is None, ip


def test_pack_is_cached_and_reloads(pack: IntelPack, pack_cache: Path) -> None:
    # correctness only: the load time is a benchmark figure (benchmarks/lookup/pack_load.py)
    assert pack.pack_id == base_pack_id()
    manifest = pack_cache / "intel" / pack.pack_id / "manifest.json"
    assert manifest.is_file()
    written = manifest.stat().st_mtime_ns
    again = load_pack(cache_dir=pack_cache)
    assert manifest.stat().st_mtime_ns == written  # read from the cache, not rebuilt
    assert again.pack_id == pack.pack_id
    assert again.describe() == pack.describe()
    assert again.lookup_one("175.45.176.27", T2014) == pack.lookup_one("175.45.176.27", T2014)


def test_describe_is_deterministic(pack: IntelPack) -> None:
    d = pack.describe()
    assert json.dumps(d, sort_keys=True) == json.dumps(pack.describe(), sort_keys=True)
    names = [s["name"] for s in d["sources"]]
    assert "geoip2fast-geolite2" in names and "slipcatch-actors" in names
    assert "misp-warninglist:vpn-ipv4" in names
    geo = next(s for s in d["sources"] if s["name"] == "geoip2fast-geolite2")
    assert "20240618" in geo["version"] and "GeoLite2" in geo["licence"]
    assert d["actors"] == 1


def test_corrupt_cache_is_rebuilt(tmp_path: Path, pack: IntelPack) -> None:
    first = load_pack(cache_dir=tmp_path)
    arr = tmp_path / "intel" / first.pack_id / "f_cat.npy"
    raw = bytearray(arr.read_bytes())
    raw[-1] ^= 0xFF
    arr.write_bytes(bytes(raw))
    rebuilt = load_pack(cache_dir=tmp_path)
    assert rebuilt.lookup_one("175.45.176.27", T2014).actor == "dprk-rgb"
    assert arr.read_bytes() != bytes(raw)  # the damaged file was replaced
    assert not [p for p in (tmp_path / "intel").iterdir() if p.name.startswith(".")]


def test_env_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pack_cache: Path, pack: IntelPack
) -> None:
    monkeypatch.setenv("SLIPCATCH_CACHE", str(pack_cache))
    assert load_pack().pack_id == pack.pack_id


def test_extras_change_id_and_stay_out_of_base_cache(
    pack: IntelPack, pack_cache: Path, tmp_path: Path
) -> None:
    lst = tmp_path / "proxies.txt"
    lst.write_text("# category: proxy\n# label: test proxies\n203.0.114.0/24\n")
    p2 = load_pack([lst], cache_dir=pack_cache)
    assert p2.pack_id != pack.pack_id
    assert p2.lookup_one("203.0.114.9", T2014).category is Category.PROXY
    assert pack.lookup_one("203.0.114.9", T2014).category is not Category.PROXY
    p2.prepare_fast_index()  # a case's pack: its fast tables are built in memory only
    from slipcatch.intel.store import FAST_DIR, fast_index_key

    assert sorted(p.name for p in (pack_cache / "intel").iterdir() if p.name != FAST_DIR) == [
        pack.pack_id]
    fast = pack_cache / "intel" / FAST_DIR
    base_keys = {fast_index_key(pack.pack_id), fast_index_key(f"{pack.pack_id}/no-bits")}
    assert {p.name for p in fast.iterdir()} <= base_keys if fast.exists() else True
    assert load_pack([lst], cache_dir=pack_cache).pack_id == p2.pack_id


def test_unrecognised_intel_file(pack_cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello world\nthis is not intel\n")
    with pytest.raises(IntelError, match=r"notes\.txt"):
        load_pack([bad], cache_dir=pack_cache)
    with pytest.raises(IntelError, match="missing"):
        load_pack([tmp_path / "missing"], cache_dir=pack_cache)


def test_misp_events_and_stix_indicators_are_not_intel_sources(pack_cache: Path) -> None:
    data = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    for name in (
        "misp-event-circl-osint-sednit-2017-12-21.json",
        "misp-event-circl-osint-xorist-2016-08-29.json",
        "stix21-oasis-example-indicator-c2-ip.json",
        "stix21-oasis-example-infrastructure-ipv4.json",
        "MITRE-ATTACK-LICENSE.txt",
    ):
        with pytest.raises(IntelError, match="unrecognised") as err:
            load_pack([data / "intel" / name], cache_dir=pack_cache)
        assert name in str(err.value)


def test_reserved_blocks_agree_with_ipaddress() -> None:
    import ipaddress

    from slipcatch.intel.sources.reserved import BLOCKS

    for cidr, _label in BLOCKS:
        net = ipaddress.ip_network(cidr)
        a = net.network_address
        assert (
            a.is_private
            or a.is_reserved
            or a.is_multicast
            or a.is_loopback
            or a.is_link_local
            or a.is_unspecified
            or not a.is_global
        ), cidr


def test_extra_warninglist(pack: IntelPack, pack_cache: Path, tmp_path: Path) -> None:
    d = tmp_path / "zscaler"
    d.mkdir()
    (d / "list.json").write_text(
        json.dumps(
            {"name": "Z", "type": "cidr", "version": 7, "list": ["203.0.114.0/24", "1.2.3.4/8"]}
        )
    )
    p = load_pack([d / "list.json"], cache_dir=pack_cache)
    assert p.lookup_one("203.0.114.1", T2014).category is Category.PROXY
    assert [(r.locator, r.reason) for r in p.rejections] == [("list[1]", "host-bits")]


def test_bulk_ipv4_agrees_with_small_batches(pack: IntelPack) -> None:
    # correctness only: the bulk rate is a benchmark figure (benchmarks/lookup/run.py,
    # slipcatch-pack); a large batch takes the /24 table, a small one the general kernel
    rng = np.random.default_rng(1)
    n = 200_000
    lo = rng.integers(0, 2**32, n, dtype=np.uint64) | np.uint64(0xFFFF << 32)
    hi = np.zeros(n, np.uint64)
    us = np.full(n, int(T2014.timestamp() * 1_000_000), np.int64)
    r = pack.lookup_arrays(hi, lo, us)
    assert r.category.shape == (n,)
    small = pack.lookup_arrays(hi[:2000], lo[:2000], us[:2000])
    for col in (
        "category",
        "country",
        "asn",
        "as_org",
        "asn_fact",
        "actor",
        "decisive",
        "projected",
    ):
        assert np.array_equal(getattr(r, col)[:2000], getattr(small, col)), col


def _fast_tables(p: IntelPack) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    from slipcatch.intel.fastindex import fast_arrays

    p.prepare_fast_index()
    assert p._fast6 is not None
    return fast_arrays(p._fast4, p._fast6)


def test_fast_tables_are_cached_verified_and_rebuilt(
    pack: IntelPack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import slipcatch.intel.pack as pack_module
    from slipcatch.intel.store import FAST_DIR, fast_index_key

    built, built_meta = _fast_tables(IntelPack(pack._d))  # no cache: built in memory
    assert not (tmp_path / FAST_DIR).exists()
    stale = tmp_path / FAST_DIR / ("0" * 64)
    stale.mkdir(parents=True)
    first = IntelPack(pack._d, fast_cache=tmp_path)
    _fast_tables(first)
    key = fast_index_key(pack.pack_id)
    assert key is not None and len(key) == 64
    entry = tmp_path / FAST_DIR / key
    assert sorted(p.name for p in (tmp_path / FAST_DIR).iterdir()) == [key]  # stale removed
    assert (entry / "f4_code24.npy").stat().st_size == 4 * (1 << 24) + 128

    # a second pack reads the tables, equal to those built, without building any
    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built instead of read from the cache")

    monkeypatch.setattr(pack_module, "build_fast4", no_build)
    monkeypatch.setattr(pack_module, "build_fast6", no_build)
    cached, meta = _fast_tables(IntelPack(pack._d, fast_cache=tmp_path))
    assert meta == built_meta and meta["fast4"] is True and meta["blocks"] > 0
    assert sorted(cached) == sorted(built)
    for name, arr in built.items():
        assert cached[name].dtype == arr.dtype and np.array_equal(cached[name], arr), name

    # a damaged array is never used: the entry is dropped and the tables built anew
    monkeypatch.undo()
    code8 = entry / "f4_code8.npy"
    raw = bytearray(code8.read_bytes())
    raw[-5] ^= 0x01
    code8.write_bytes(bytes(raw))
    again, _ = _fast_tables(IntelPack(pack._d, fast_cache=tmp_path))
    assert np.array_equal(again["f4_code8"], built["f4_code8"])
    assert code8.read_bytes() != bytes(raw)  # rewritten from the rebuilt tables
    rng = np.random.default_rng(3)
    lo = rng.integers(0, 2**32, 50_000, dtype=np.uint64) | np.uint64(0xFFFF << 32)
    hi = np.zeros(len(lo), np.uint64)
    us = np.full(len(lo), int(T2014.timestamp() * 1_000_000), np.int64)
    fresh = IntelPack(pack._d, fast_cache=tmp_path).lookup_arrays(hi, lo, us)
    plain = IntelPack(pack._d).lookup_arrays(hi, lo, us)
    for col in ("category", "country", "asn", "as_org", "actor", "decisive", "projected"):
        assert np.array_equal(getattr(fresh, col), getattr(plain, col)), col


def test_saved_pack_carries_its_fast_tables(
    pack: IntelPack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``save_pack(fast_tables=True)`` (the Spark engine's shipment) writes the tables beside
    the pack; ``open_pack`` reads them (verified) instead of building them; a plain saved pack
    has none and builds them in memory without writing into its directory."""
    import slipcatch.intel.pack as pack_module
    from slipcatch.intel import open_pack, save_pack
    from slipcatch.intel.store import FAST_DIR

    built, built_meta = _fast_tables(IntelPack(pack._d))
    shipped = save_pack(IntelPack(pack._d), tmp_path / "shipped", fast_tables=True)
    plain = save_pack(IntelPack(pack._d), tmp_path / "plain")
    assert len(list((shipped / FAST_DIR).iterdir())) == 1
    assert not (plain / FAST_DIR).exists()

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built instead of read from the pack directory")

    monkeypatch.setattr(pack_module, "build_fast4", no_build)
    monkeypatch.setattr(pack_module, "build_fast6", no_build)
    opened, meta = _fast_tables(open_pack(shipped))
    assert meta == built_meta and sorted(opened) == sorted(built)
    for name, arr in built.items():
        assert np.array_equal(opened[name], arr), name
    with pytest.raises(AssertionError, match="built instead"):
        _fast_tables(open_pack(plain))
    monkeypatch.undo()
    _fast_tables(open_pack(plain))
    assert not (plain / FAST_DIR).exists()


def test_fast_table_key_follows_pack_and_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipcatch.intel import fastindex
    from slipcatch.intel.store import fast_index_key

    a, b = fast_index_key("a" * 64), fast_index_key("b" * 64)
    assert a is not None and b is not None and a != b
    assert fast_index_key("a" * 64) == a  # stable for one build of slipcatch
    changed = tmp_path / "fastindex.py"
    changed.write_bytes(Path(fastindex.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(fastindex, "__file__", str(changed))
    assert fast_index_key("a" * 64) not in (a, None)  # another way of building: another key
    monkeypatch.setattr(fastindex, "__file__", str(tmp_path / "missing.py"))
    assert fast_index_key("a" * 64) is None  # sources unreadable: nothing cached

"""Loaders of every real sample file in shared/data/{tor,rir,intel}, with exact counts."""

from __future__ import annotations

import io
import lzma
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slipcatch.errors import IntelError
from slipcatch.intel import IntelPack, load_pack, recognise
from slipcatch.intel.sources import consensus, galaxy, iptoasn, rir, routing
from slipcatch.model import Category

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RIR, TOR, INTEL = DATA / "rir", DATA / "tor", DATA / "intel"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def head(p: Path) -> bytes:
    return p.read_bytes()[:8192]


# file -> (format, records, facts, first allocation date)
RIR_FILES = {
    "delegated-apnic-extended-20260627-excerpt.txt": ("rir-delegated", 117, 89, at(1988, 12, 16)),
    "delegated-afrinic-extended-20260505-excerpt.txt": (
        "rir-delegated",
        420,
        223,
        at(2005, 10, 21),
    ),
}


@pytest.mark.parametrize("name", sorted(RIR_FILES))
def test_rir_delegated_counts(name: str) -> None:
    fmt, records, facts, first = RIR_FILES[name]
    path = RIR / name
    assert recognise(head(path), name) == fmt
    out = rir.read(path, path.read_bytes())
    assert (out.sources[0].records, len(out.facts), out.rejections) == (records, facts, [])
    assert out.sources[0].valid_from == first
    assert all(r.fact.category is None and r.fact.country for r in out.facts)


def test_rir_spot_values() -> None:
    path = RIR / "delegated-apnic-extended-20260627-excerpt.txt"
    out = rir.read(path, path.read_bytes())
    kp = [r.fact for r in out.facts if r.fact.country == "KP"]
    assert [(f.range, f.valid_from) for f in kp] == [("175.45.176.0/22", at(2009, 12, 21))]
    assert "still so as of 2026-06-27" in (kp[0].note or "")
    assert out.sources[0].version == "apnic 2026-06-27"
    af = RIR / "delegated-afrinic-extended-20260505-excerpt.txt"
    v6 = [r.fact for r in rir.read(af, af.read_bytes()).facts if ":" in r.fact.range]
    assert len(v6) == 23 and v6[0].range == "2001:4200::/32" and v6[0].country == "ZA"


def test_rir_bad_records(tmp_path: Path) -> None:
    f = tmp_path / "delegated-test"
    f.write_text(
        "2|ripencc|20200101|4|19830705|20200101|+0100\n"
        "ripencc|*|ipv4|*|3|summary\n"
        "ripencc|NL|ipv4|10.0.0.0|256|20100101|allocated\n"
        "ripencc|NL|ipv4|10.0.1.300|256|20100101|allocated\n"
        "ripencc|NL|ipv6|2001:db8::1|32|20100101|allocated\n"
        "ripencc|XX1|ipv4|10.0.2.0|256|20100101|allocated\n"
        "ripencc|NL|ipv4|10.0.3.0\n"
        "ripencc|NL|ipv4|10.0.4.0|256|2010-01|allocated\n"
    )
    out = rir.read(f, f.read_bytes())
    assert [(r.locator, r.reason) for r in out.rejections] == [
        ("line 4", "bad-range"),
        ("line 5", "host-bits"),
        ("line 6", "bad-country"),
        ("line 7", "bad-row"),
        ("line 8", "bad-time"),
    ]
    assert [r.fact.range for r in out.facts] == ["10.0.0.0/24"]
    f.write_text("ripencc|NL|ipv4|10.0.0.0|256|20100101|allocated\n" * 3)
    with pytest.raises(IntelError, match=r"delegated-test.*version line"):
        rir.read(f, f.read_bytes())


def test_pyasn_excerpt() -> None:
    path = RIR / "pyasn-ipasn_20140513-routeviews-rib-excerpt.dat"
    assert recognise(head(path), path.name) == "pyasn"
    out = routing.read(path, path.read_bytes(), "pyasn")
    assert (out.sources[0].records, len(out.facts), out.rejections) == (464, 464, [])
    assert out.sources[0].version == "2014-05-13"
    kp = [r.fact for r in out.facts if r.fact.range.startswith("175.45.17")]
    assert [(f.range, f.asn) for f in kp] == [
        (f"175.45.{n}.0/24", 131279) for n in (176, 177, 178, 179)
    ]
    assert kp[0].valid_from == at(2014, 5, 13) - routing.WINDOW
    assert kp[0].valid_to == at(2014, 5, 13) + routing.WINDOW


def test_pyasn_in_pack_gives_asn_and_rir_country(pack: IntelPack, pack_cache: Path) -> None:
    p = load_pack(
        [
            RIR / "pyasn-ipasn_20140513-routeviews-rib-excerpt.dat",
            RIR / "delegated-apnic-extended-20260627-excerpt.txt",
        ],
        cache_dir=pack_cache,
    )
    a = p.lookup_one("175.45.178.9", at(2014, 5, 13))
    assert (a.country, a.asn, a.actor) == ("KP", 131279, "dprk-rgb")
    srcs = {f.source: f for f in a.facts}
    assert srcs["pyasn:pyasn-ipasn_20140513-routeviews-rib-excerpt.dat"].asn == 131279
    assert srcs["rir:delegated-apnic-extended-20260627-excerpt.txt"].range == "175.45.176.0/22"
    # a routing fact outside its window says nothing; nested prefixes: most specific wins
    far = p.lookup_one("175.45.178.9", at(2016, 1, 1))
    assert "pyasn:pyasn-ipasn_20140513-routeviews-rib-excerpt.dat" not in {
        f.source for f in far.facts
    }
    nested = p.lookup_one("175.98.1.1", at(2014, 5, 13))
    assert [f.range for f in nested.facts if f.source.startswith("pyasn")] == [
        "175.98.0.0/19",
        "175.98.0.0/17",
        "175.98.0.0/16",
        "175.96.0.0/14",
    ]


def test_routing_snapshot_needs_a_date(tmp_path: Path) -> None:
    f = tmp_path / "ipasn.dat"
    f.write_text("1.0.0.0/24\t13335\n1.0.0.0/24\t13335\n2.0.0.0/33\t1\n")
    with pytest.raises(IntelError, match="without a date"):
        routing.read(f, f.read_bytes(), "pyasn")
    g = tmp_path / "routeviews-rv2-20200102-1200.pfx2as"
    g.write_text(
        "1.0.0.0\t24\t13335\n1.0.0.0\t24\t13335\n1.0.4.0\t22\t56203_38803\n"
        "1.0.8.1\t24\t4134\n1.0.9.0\t24\tx\n"
    )
    assert recognise(g.read_bytes(), g.name) == "caida-prefix2as"
    out = routing.read(g, g.read_bytes(), "caida-prefix2as")
    assert [(r.locator, r.reason) for r in out.rejections] == [
        ("line 2", "overlap"),
        ("line 4", "host-bits"),
        ("line 5", "bad-asn"),
    ]
    assert [(r.fact.range, r.fact.asn) for r in out.facts] == [
        ("1.0.0.0/24", 13335),
        ("1.0.4.0/22", 56203),
        ("1.0.4.0/22", 38803),
    ]


def test_iptoasn_subset(pack: IntelPack, pack_cache: Path) -> None:
    path = RIR / "iptoasn-ip2asn-v4-subset-google-cloudflare-2020.tsv"
    assert recognise(head(path), path.name) == "iptoasn"
    out = iptoasn.read(path, path.read_bytes())
    assert (out.sources[0].records, len(out.facts), out.rejections) == (1427, 1427, [])
    assert out.sources[0].version == "undated"  # a year alone in the name is not a date
    assert all(r.fact.projected and r.fact.valid_from is None for r in out.facts)
    p = load_pack([path], cache_dir=pack_cache)
    g = p.lookup_one("8.8.8.8", at(2014, 12, 1))
    assert (g.asn, g.category) == (15169, Category.HOSTING)
    one = p.lookup_one("1.1.1.1", at(2020, 1, 1))
    assert (one.asn, one.as_org) == (7497, "CLOUDFLARENET")  # geo name wins over the label
    # the default pack ships the same subset (iptoasn-subset-2020-05-07): both facts show
    assert [f.label for f in one.facts if f.asn] == [
        "CSTNET-AS-AP Computer Network Information Center"] * 2


def test_iptoasn_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "ip2asn-2020-05-07.tsv"
    f.write_text(
        "1.0.0.0\t1.0.0.255\t13335\tUS\tCF\n"
        "1.0.0.128\t1.0.1.255\t1\tUS\tX\n"
        "1.0.3.0\t1.0.2.0\t2\tUS\tX\n"
        "1.0.4.0\t1.0.4.255\t0\tNone\tNot routed\n"
        "1.0.5.0\t1.0.5.255\tAS9\tUS\tX\n"
    )
    out = iptoasn.read(f, f.read_bytes())
    assert [(r.locator, r.reason) for r in out.rejections] == [
        ("line 3", "bad-range"),
        ("line 5", "bad-asn"),
        ("line 2", "overlap"),
    ]
    assert [(r.fact.range, r.fact.asn) for r in out.facts] == [("1.0.0.0/24", 13335)]
    assert out.facts[0].fact.valid_to == at(2020, 5, 7) + routing.WINDOW


@pytest.mark.parametrize(
    ("name", "relays", "exits", "addresses"),
    [
        ("consensus-2016-09-20-13-00-00-first700", 700, 83, 82),
        ("consensus-2017-07-17-17-00-00-cropped", 5, 0, 0),
    ],
)
def test_consensus_counts(name: str, relays: int, exits: int, addresses: int) -> None:
    path = TOR / name
    assert recognise(head(path), name) == "tor-consensus"
    snap, n = consensus.read(path, path.read_bytes())
    assert (n, snap.exit_addresses, len(snap.observations)) == (relays, exits, addresses)
    assert snap.rejections == []


def test_consensus_exit_relays_in_pack(pack: IntelPack, pack_cache: Path) -> None:
    p = load_pack([TOR / "consensus-2016-09-20-13-00-00-first700"], cache_dir=pack_cache)
    # relay 0011BD24... is also the 162.247.72.201 exit of the same hour's TorDNSEL list
    a = p.lookup_one("162.247.72.201", at(2016, 9, 20, 13))
    tor = [f for f in a.facts if f.category is Category.TOR]
    assert a.category is Category.TOR
    assert tor[0].label == "Tor exit 0011BD2485AD45D984EC4159C88FC066E5E3300E"
    assert tor[0].valid_from == at(2016, 9, 19, 13) and tor[0].valid_to == at(2016, 9, 21, 13)
    assert p.lookup_one("162.247.72.201", at(2016, 9, 22)).category is not Category.TOR
    info = next(s for s in p.sources if s.name.startswith("tor-consensus:"))
    assert info.records == 700


def test_exit_list_presence_then_absence(pack: IntelPack, pack_cache: Path) -> None:
    p = load_pack(
        [TOR / "exit-list-2018-11-01-00-02-01", TOR / "exit-list-2018-11-02-01-02-01"],
        cache_dir=pack_cache,
    )
    t0 = at(2018, 11, 1, 0, 2, 1)
    assert p.lookup_one("41.100.114.28", t0).category is Category.TOR
    assert p.lookup_one("41.100.114.28", t0 + timedelta(hours=25)).category is not Category.TOR


def _tar_xz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_collector_archive_and_directory(pack: IntelPack, pack_cache: Path, tmp_path: Path) -> None:
    names = ["exit-list-2018-11-01-00-02-01", "exit-list-2018-11-02-01-02-01"]
    archive = tmp_path / "exit-list-2018-11.tar.xz"
    archive.write_bytes(
        _tar_xz({f"exit-list-2018-11/{n[18:20]}/{n[10:]}": (TOR / n).read_bytes() for n in names})
    )
    from_tar = load_pack([archive], cache_dir=pack_cache)
    d = tmp_path / "lists"
    (d / "sub").mkdir(parents=True)
    for n in names:
        (d / "sub" / n).write_bytes((TOR / n).read_bytes())
    from_dir = load_pack([d], cache_dir=pack_cache)
    from_files = load_pack([TOR / n for n in names], cache_dir=pack_cache)
    for p in (from_tar, from_dir):
        assert len(p.sources) == len(from_files.sources)
        for ip, t in (
            ("41.100.114.28", at(2018, 11, 1)),
            ("41.100.114.28", at(2018, 11, 2, 2)),
            ("31.131.25.154", at(2018, 11, 1, 18)),
        ):
            assert p.lookup_one(ip, t).category is from_files.lookup_one(ip, t).category
    assert any("exit-list-2018-11.tar.xz!exit-list-2018-11/01/" in s.name for s in from_tar.sources)


def test_truncated_archive_is_refused(pack_cache: Path, tmp_path: Path) -> None:
    raw = _tar_xz(
        {
            "a/" + n: (TOR / n).read_bytes()
            for n in ("exit-list-2018-11-01-00-02-01", "exit-list-2018-11-02-01-02-01")
        }
    )
    bad = tmp_path / "exits.tar.xz"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IntelError, match=r"exits\.tar\.xz.*(corrupt|truncated)"):
        load_pack([bad], cache_dir=pack_cache)
    assert lzma.decompress(raw)  # the whole archive was fine


def test_exit_list_with_garbage_lines(pack_cache: Path, tmp_path: Path) -> None:
    f = tmp_path / "exit-list-garbage"
    good = (TOR / "exit-list-2017-07-17-17-02-00-cropped").read_text()
    f.write_text(good + "garbage here\nExitAddress 1.2.3.4 yesterday\n")
    p = load_pack([f], cache_dir=pack_cache)
    assert [(r.reason, r.locator) for r in p.rejections][-2:] == [
        ("bad-line", f"line {good.count(chr(10)) + 1}"),
        ("bad-time", f"line {good.count(chr(10)) + 2}"),
    ]


def test_text_cidr_list_overlaps_are_rejections(tmp_path: Path) -> None:
    from slipcatch.intel.sources import cidrlist

    f = tmp_path / "p.txt"
    f.write_text(
        "# category: proxy\n203.0.114.0/24\n203.0.114.128/25\n203.0.115.0/24\n203.0.112.0/22\n"
    )
    out = cidrlist.read(f, f.read_bytes())
    assert [(r.locator, r.reason, r.detail) for r in out.rejections] == [
        ("line 3", "overlap", "203.0.114.128/25 overlaps line 2"),
        ("line 5", "overlap", "203.0.112.0/22 overlaps line 2"),
    ]


def test_galaxy_and_attack_aliases(pack: IntelPack, pack_cache: Path) -> None:
    g = INTEL / "misp-galaxy-threat-actor-lazarus-group.json"
    s = INTEL / "mitre-attack-G0032-lazarus-intrusion-set-stix20.json"
    assert recognise(head(g), g.name) == "misp-galaxy"
    assert recognise(head(s), s.name) == "stix-bundle"
    gal = galaxy.read(g, g.read_bytes(), "misp-galaxy")
    assert [(a.name, a.ref, a.country, len(a.aliases)) for a in gal.alias_sets] == [
        ("Lazarus Group", "68391641-859f-4a9a-9a1e-3e5cf71ec376", "KP", 41)
    ]
    att = galaxy.read(s, s.read_bytes(), "stix-bundle")
    assert [(a.name, a.external_ids) for a in att.alias_sets] == [("Lazarus Group", ("G0032",))]
    assert "Guardians of Peace" in att.alias_sets[0].aliases
    assert pack.resolve_alias("Andariel") is None
    p = load_pack([g, s], cache_dir=pack_cache)
    assert [a.id for a in p.actors] == ["dprk-rgb"]  # merged, not added
    for name in (
        "Guardians of Peace",
        "guardians-of-peace",
        "Andariel",
        "APT 38",
        "G0032",
        "Moonstone Sleet",
        "dprk-rgb",
    ):
        actor = p.resolve_alias(name)
        assert actor is not None and actor.id == "dprk-rgb", name
    assert p.resolve_alias("Fancy Bear") is None
    dprk = p.actors[0]
    assert len(dprk.aliases) == 44  # 15 registry aliases + 29 new (case/space variants merged)
    assert any("68391641-859f-4a9a-9a1e-3e5cf71ec376" in x for x in dprk.sources)


def test_unmatched_intrusion_set_becomes_an_actor(pack_cache: Path) -> None:
    p = load_pack([INTEL / "stix21-oasis-example-apt1-threat-report.json"], cache_dir=pack_cache)
    # the report's intrusion set and its threat actors (people, units) have no registry match
    assert [a.id for a in p.actors] == [
        "dprk-rgb",
        "attack-apt1",
        "attack-ugly-gorilla",
        "attack-dota",
        "attack-communist-party-of-china",
        "attack-unit-61398",
    ]
    apt1 = p.actors[1]
    assert apt1.id == "attack-apt1" and p.resolve_alias("Comment Crew") == apt1


def test_warninglist_of_any_version(pack_cache: Path, tmp_path: Path) -> None:
    import json

    d = tmp_path / "amazon-aws"
    d.mkdir()
    for version in (3, "20240101", "v2"):
        (d / "list.json").write_text(
            json.dumps(
                {"name": "AWS", "type": "cidr", "version": version, "list": ["203.0.114.0/24"]}
            )
        )
        p = load_pack([d / "list.json"], cache_dir=pack_cache)
        a = p.lookup_one("203.0.114.9", at(2014, 1, 1))
        assert (a.category, a.projected) == (Category.HOSTING, True), version

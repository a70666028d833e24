"""MaxMind DB files (built in the test with mmdb-writer) and the `intel` CLI commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipcatch.cli import main
from slipcatch.errors import IntelError
from slipcatch.intel import IntelPack, load_pack, open_pack
from slipcatch.intel.sources import mmdb
from slipcatch.model import Category

TOR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tor"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def build_mmdb(path: Path, dbtype: str, nets: dict[str, dict[str, object]], epoch: int) -> Path:
    import mmdb_writer as writer_mod  # from the test extras
    from netaddr import IPSet

    w = writer_mod.MMDBWriter(ip_version=6, database_type=dbtype, ipv4_compatible=True)
    for cidr, rec in nets.items():
        w.insert_network(IPSet([cidr]), rec)
    w.to_db_file(str(path))
    raw = bytearray(path.read_bytes())
    # mmdb-writer stamps the current time: rewrite build_epoch (a uint64 in the metadata map)
    # so that the file's date, and so the facts' windows, are fixed
    key = b"build_epoch"
    i = raw.rindex(key) + len(key)
    ctrl = raw[i]
    size = ctrl & 0x1F
    assert ctrl >> 5 == 0 and raw[i + 1] == 2, "uint64 expected"  # extended type 9 = uint64
    raw[i + 2 : i + 2 + size] = epoch.to_bytes(size, "big")
    path.write_bytes(bytes(raw))
    return path


EPOCH_2014 = int(at(2014, 12, 1).timestamp())


def test_anonymous_ip_and_asn_mmdb(pack: IntelPack, pack_cache: Path, tmp_path: Path) -> None:
    anon = build_mmdb(
        tmp_path / "GeoIP2-Anonymous-IP.mmdb",
        "GeoIP2-Anonymous-IP",
        {
            "203.0.114.0/24": {"is_anonymous": True, "is_tor_exit_node": True},
            "203.0.115.0/24": {
                "is_anonymous": True,
                "is_anonymous_vpn": True,
                "is_hosting_provider": True,
            },
            "2001:db9::/32": {"is_residential_proxy": True},
        },
        EPOCH_2014,
    )
    asn = build_mmdb(
        tmp_path / "GeoLite2-ASN.mmdb",
        "GeoLite2-ASN",
        {
            "203.0.114.0/23": {
                "autonomous_system_number": 64500,
                "autonomous_system_organization": "Example Hosting",
            },
        },
        EPOCH_2014,
    )
    out = mmdb.read(anon)
    assert out.sources[0].records == 3
    assert out.sources[0].version == "GeoIP2-Anonymous-IP 2014-12-01"
    assert sorted((r.fact.range, str(r.fact.category)) for r in out.facts) == [
        ("2001:db9::/32", "proxy"),
        ("203.0.114.0/24", "tor"),
        ("203.0.115.0/24", "hosting"),
        ("203.0.115.0/24", "vpn"),
    ]
    p = load_pack([anon, asn], cache_dir=pack_cache)
    t = p.lookup_one("203.0.114.7", at(2014, 12, 2))
    assert (t.category, t.asn, t.as_org) == (Category.TOR, 64500, "Example Hosting")
    # anonymity flags hold a week either side of the build date; hosting is projected
    assert p.lookup_one("203.0.114.7", at(2014, 12, 9)).category is Category.UNKNOWN
    v = p.lookup_one("203.0.115.7", at(2014, 12, 2))
    assert v.category is Category.VPN
    late = p.lookup_one("203.0.115.7", at(2020, 1, 1))
    assert (late.category, late.projected) == (Category.HOSTING, True)
    assert p.lookup_one("2001:db9::1", at(2014, 12, 1)).category is Category.PROXY


def test_country_mmdb(pack_cache: Path, tmp_path: Path) -> None:
    f = build_mmdb(
        tmp_path / "GeoLite2-Country.mmdb",
        "GeoLite2-Country",
        {
            "203.0.114.0/24": {"country": {"iso_code": "KP"}},
            "203.0.115.0/24": {"registered_country": {"iso_code": "NZ"}},
        },
        EPOCH_2014,
    )
    p = load_pack([f], cache_dir=pack_cache)
    for ip, cc in (("203.0.114.1", "KP"), ("203.0.115.1", "NZ")):
        a = p.lookup_one(ip, at(2010, 1, 1))
        mm = [f for f in a.facts if f.source == "mmdb:GeoLite2-Country.mmdb"]
        assert [(f.country, f.projected) for f in mm] == [(cc, True)]
        assert a.country == "CN"  # the default geo source answers first (docs/intel.md)


def test_corrupt_mmdb_names_the_file(pack_cache: Path, tmp_path: Path) -> None:
    f = build_mmdb(
        tmp_path / "x.mmdb",
        "GeoLite2-ASN",
        {"203.0.114.0/24": {"autonomous_system_number": 1}},
        EPOCH_2014,
    )
    raw = bytearray(f.read_bytes())
    bad = tmp_path / "corrupt.mmdb"
    bad.write_bytes(b"\xff" * 64 + bytes(raw[64:]))  # tree overwritten, metadata intact
    with pytest.raises(IntelError, match=r"corrupt\.mmdb"):
        load_pack([bad], cache_dir=pack_cache)
    cut = tmp_path / "cut.mmdb"
    cut.write_bytes(bytes(raw[:40]))
    with pytest.raises(IntelError, match=r"cut\.mmdb"):
        mmdb.read(cut)


def test_cli_build_info_lookup_diff(
    pack: IntelPack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["intel", "build", "--out", str(a)]) == 0
    assert (
        main(
            [
                "intel",
                "build",
                str(TOR / "exit-list-2018-11-01-00-02-01"),
                "--out",
                str(b),
                "--json",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    built = json.loads(out[out.index("{") :])
    assert built["path"] == str(b) and built["pack_id"] == open_pack(b).pack_id
    assert open_pack(a).pack_id == pack.pack_id
    assert main(["intel", "info", "--pack", str(b), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert "tordnsel:exit-list-2018-11-01-00-02-01" in [s["name"] for s in info["sources"]]
    assert (
        main(
            [
                "intel",
                "lookup",
                "41.100.114.28",
                "--pack",
                str(b),
                "--at",
                "2018-11-01T00:00:00Z",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)[0]["category"] == "tor"
    # 41.100.114.28 is already a Tor exit then in the default pack (the shipped history);
    # 193.171.202.150 is in this list but not in the history at that time
    assert main(["intel", "diff", str(a), str(b), "--ip", "41.100.114.28", "--ip", "8.8.8.8",
                 "--ip", "193.171.202.150", "--at", "2018-11-01T00:00:00Z", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in d["sources"]["added"]] == ["tordnsel:exit-list-2018-11-01-00-02-01"]
    assert d["sources"]["removed"] == [] and d["sources"]["changed"] == []
    x, g, h = d["addresses"]
    assert "category" not in x["fields"]  # tor in both
    assert len(x["facts_added"]) == 1 and x["facts_added"][0].startswith("tordnsel:")
    assert (g["ip"], g["changed"]) == ("8.8.8.8", False)
    assert h["fields"]["category"]["to"] == "tor"
    assert main(["intel", "diff", str(a), str(b), "--ip", "193.171.202.150",
                 "--at", "2018-11-01"]) == 0
    text = capsys.readouterr().out
    assert "+ tordnsel:exit-list-2018-11-01-00-02-01" in text
    assert "-> tor" in text


def test_cli_build_refuses_to_overwrite_other_dirs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "precious"
    d.mkdir()
    (d / "notes.txt").write_text("keep me")
    assert main(["intel", "build", "--out", str(d)]) == 2
    assert "not an intel pack directory" in capsys.readouterr().err
    assert (d / "notes.txt").read_text() == "keep me"
    assert main(["intel", "diff", str(d), str(d)]) == 2


def test_saved_pack_round_trip_and_tamper(pack: IntelPack, tmp_path: Path) -> None:
    from slipcatch.errors import PackError
    from slipcatch.intel import save_pack

    p = load_pack([TOR / "exit-list-2018-11-01-00-02-01"], cache_dir=tmp_path / "c")
    out = save_pack(p, tmp_path / "pack")
    q = open_pack(out)
    assert q.pack_id == p.pack_id and q.describe() == p.describe()
    ip, t = "41.100.114.28", at(2018, 11, 1)
    assert q.lookup_one(ip, t) == p.lookup_one(ip, t)
    save_pack(q, out)  # replacing a pack directory is allowed
    arr = out / "f_vto.npy"
    raw = arr.read_bytes()
    arr.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
    with pytest.raises(PackError, match="f_vto"):
        open_pack(out)

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipcatch.errors import IntelError
from slipcatch.intel import IntelPack, load_pack
from slipcatch.intel.sources import actors, cidrlist
from slipcatch.model import Category

T = datetime(2014, 12, 1, tzinfo=UTC)


def test_text_list_rejections_and_category(tmp_path: Path) -> None:
    f = tmp_path / "list.txt"
    f.write_text(
        "# category: proxy\n# label: open proxies\n"
        "198.51.100.0/24\n"
        "10.0.0.1/8\n"
        "garbage here\n"
        "2001:db8::/32  # trailing comment\n"
        "\n"
        "192.0.2.7\n"
    )
    out = cidrlist.read(f, f.read_bytes())
    assert [(r.locator, r.reason) for r in out.rejections] == [
        ("line 4", "host-bits"),
        ("line 5", "bad-cidr"),
    ]
    assert [r.fact.range for r in out.facts] == ["198.51.100.0/24", "2001:db8::/32", "192.0.2.7/32"]
    assert {r.fact.category for r in out.facts} == {Category.PROXY}
    assert out.sources[0].records == 5
    assert out.sources[0].kind == "cidr-list"


def test_plain_list_is_unknown(tmp_path: Path) -> None:
    f = tmp_path / "plain.txt"
    f.write_text("203.0.114.0/24\n")
    out = cidrlist.read(f, f.read_bytes())
    assert out.facts[0].fact.category is Category.UNKNOWN
    assert "without '# category:'" in (out.facts[0].fact.note or "")


def test_bad_header_category_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("# category: villain\n1.2.3.0/24\n")
    with pytest.raises(IntelError, match=r"x\.txt"):
        cidrlist.read(f, f.read_bytes())


def test_csv_list(tmp_path: Path) -> None:
    f = tmp_path / "list.csv"
    f.write_text(
        "cidr,category,label,valid_from,valid_to\n"
        "203.0.114.0/24,proxy,ProxyCo,2014-01-01,2015-01-01\n"
        "203.0.115.0/24,residential,ISP,,\n"
        "203.0.116.1/24,vpn,x,,\n"
        "203.0.117.0/24,villain,x,,\n"
        "203.0.118.0/24,vpn,x,2015-01-01,2014-01-01\n"
        "203.0.119.0/24,vpn\n"
    )
    out = cidrlist.read(f, f.read_bytes())
    assert [(r.locator, r.reason) for r in out.rejections] == [
        ("line 4", "host-bits"),
        ("line 5", "bad-category"),
        ("line 6", "bad-time"),
        ("line 7", "bad-row"),
    ]
    assert len(out.facts) == 2
    f0 = out.facts[0].fact
    assert (f0.category, f0.label, f0.valid_from) == (
        Category.PROXY,
        "ProxyCo",
        datetime(2014, 1, 1, tzinfo=UTC),
    )
    assert out.sources[0].records == 6


def test_csv_list_in_pack_is_time_bounded(
    pack: IntelPack, pack_cache: Path, tmp_path: Path
) -> None:
    f = tmp_path / "list.csv"
    f.write_text(
        "cidr,category,label,valid_from,valid_to\n"
        "203.0.114.0/24,proxy,ProxyCo,2014-01-01,2015-01-01\nbad,proxy,,,\n"
    )
    p = load_pack([f], cache_dir=pack_cache)
    assert p.lookup_one("203.0.114.5", T).category is Category.PROXY
    assert (
        p.lookup_one("203.0.114.5", datetime(2015, 1, 1, tzinfo=UTC)).category is Category.UNKNOWN
    )
    assert [(r.path, r.locator, r.reason) for r in p.rejections] == [(str(f), "line 3", "bad-cidr")]


GOOD_ACTOR = """
version: "t1"
actors:
  - id: test-actor
    name: Test
    ranges:
      - cidr: 203.0.114.0/24
        exclusivity: 0.5
        sources: ["a citation"]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("cidr: 203.0.114.1/24", r"actors\[0\]\.ranges\[0\]: bad cidr"),
        ("cidr: not-a-net", r"actors\[0\]\.ranges\[0\]: bad cidr"),
        ("exclusivity: 1.5", "exclusivity must be a number in 0..1"),
        ("exclusivity: -0.1", "exclusivity must be a number in 0..1"),
        (
            "exclusivity: 0.5\n        valid_from: 2015-01-01\n        valid_to: 2014-01-01",
            "valid_from .* is not before valid_to",
        ),
        ("exclusivity: 0.5\n        colour: red", "unknown keys"),
        ("exclusivity: 0.5\n        valid_from: someday", "valid_from"),
    ],
)
def test_bad_actor_yaml(tmp_path: Path, change: str, message: str) -> None:
    key = change.split(":")[0]
    f = tmp_path / "actors.yaml"
    f.write_text(re.sub(rf"{key}: [^\n]*", lambda _: change, GOOD_ACTOR, count=1))
    with pytest.raises(IntelError, match=message) as err:
        actors.load(f)
    assert str(f) in str(err.value)


def test_actor_registry_errors_name_file(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("actors:\n  - id: x\n    name: X\n  - id: x\n    name: Y\n")
    with pytest.raises(IntelError, match=r"a.yaml: actors\[1\]: duplicate actor id"):
        actors.load(f)
    f.write_text("actors: [\n")
    with pytest.raises(IntelError, match="not valid YAML"):
        actors.load(f)


def test_extra_actor_registry_layers(pack: IntelPack, pack_cache: Path, tmp_path: Path) -> None:
    f = tmp_path / "more-actors.yaml"
    f.write_text(
        GOOD_ACTOR
        + """
  - id: dprk-rgb
    name: Ignored name
    aliases: [Andariel]
"""
    )
    p = load_pack([f], cache_dir=pack_cache)
    assert [a.id for a in p.actors] == ["dprk-rgb", "test-actor"]
    dprk = p.actors[0]
    assert dprk.name == pack.actors[0].name and dprk.aliases[-1] == "Andariel"
    # operating countries layer like aliases: the shipped ones stay, new ones are added
    g = tmp_path / "operating.yaml"
    g.write_text("actors:\n  - id: dprk-rgb\n    name: X\n    operating_countries: [RU, CN]\n")
    layered = load_pack([g], cache_dir=pack_cache).actors[0]
    assert layered.operating_countries == (*pack.actors[0].operating_countries, "RU")
    # AS numbers layer the same way
    h = tmp_path / "asns.yaml"
    h.write_text("actors:\n  - id: dprk-rgb\n    name: X\n    asns: [64500, 131279]\n")
    assert load_pack([h], cache_dir=pack_cache).actors[0].asns == (131279, 64500)
    hit = p.lookup_one("203.0.114.9", T)
    assert (hit.category, hit.actor) == (Category.ACTOR, "test-actor")
    assert p.lookup_one("175.45.176.1", T).actor == "dprk-rgb"


def test_operating_countries_are_country_codes(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("actors:\n  - id: x\n    name: X\n    operating_countries: [CN, China]\n")
    with pytest.raises(
        IntelError, match=r"a.yaml: actors\[0\]\.operating_countries\[1\]: 'China' is not an ISO"
    ):
        actors.load(f)
    f.write_text("actors:\n  - id: x\n    name: X\n    operating_countries: [CN, CN, MY]\n")
    assert actors.load(f).actors[0].operating_countries == ("CN", "MY")


def test_operating_countries_may_be_dated(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(
        "actors:\n  - id: x\n    name: X\n    operating_countries:\n"
        "      - MY\n      - {country: CN, valid_from: 2011-01-01, valid_to: 2014-01-01}\n"
    )
    [actor] = actors.load(f).actors
    assert actor.operating_countries == ("MY",)
    [period] = actor.operating_periods
    assert (period.country, period.valid_from.year, period.valid_to.year) == ("CN", 2011, 2014)
    assert actor.operates_in("cn", datetime(2012, 6, 1, tzinfo=UTC))
    assert not actor.operates_in("CN", datetime(2014, 1, 1, tzinfo=UTC))  # valid_to exclusive
    assert actor.operates_in("MY", datetime(1999, 1, 1, tzinfo=UTC))  # undated: always
    for bad, message in (
        ("{country: CN, since: 2011-01-01}", r"operating_countries\[0\]: unknown keys"),
        ("{country: CN, valid_from: 2014-01-01, valid_to: 2011-01-01}", "is not before"),
        ("{country: China, valid_from: 2011-01-01}", "'China' is not an ISO"),
    ):
        f.write_text(f"actors:\n  - id: x\n    name: X\n    operating_countries: [{bad}]\n")
        with pytest.raises(IntelError, match=message):
            actors.load(f)


def test_asns_are_as_numbers(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    for bad in ("[AS131279]", "[true]", "[0]", "[4294967296]", "131279"):
        f.write_text(f"actors:\n  - id: x\n    name: X\n    asns: {bad}\n")
        with pytest.raises(IntelError, match=r"a.yaml: actors\[0\]\.asns: expected a list of AS"):
            actors.load(f)
    f.write_text("actors:\n  - id: x\n    name: X\n    asns: [64500, 64500, 131279]\n")
    assert actors.load(f).actors[0].asns == (64500, 131279)


def test_shipped_registry_is_valid() -> None:
    out = actors.load()
    assert out.actors[0].asns == (131279,)  # Star JV, the DPRK's own AS
    # DOJ (Park Jin Hyok, Dalian) and Recorded Future 2017 (operations likely run from abroad)
    assert out.actors[0].operating_countries == ("CN", "IN", "MY", "NZ", "NP", "KE", "MZ", "ID")
    assert [r.fact.range for r in out.facts] == [
        "175.45.176.0/22",
        "210.52.109.0/24",
        "77.94.35.0/24",
    ]
    assert [r.fact.exclusivity for r in out.facts] == [0.95, 0.8, 0.6]
    assert all("source:" in (r.fact.note or "") for r in out.facts)

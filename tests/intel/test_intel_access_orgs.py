"""The access-ISP table: residential facts by AS organisation, below every cover category."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slipcatch.intel import IntelPack
from slipcatch.intel.sources import access_orgs, geoip2fast_data, hosting_orgs
from slipcatch.model import Category

T2014 = datetime(2014, 12, 1, tzinfo=UTC)


def _decisive(pack: IntelPack, ip: str) -> tuple[Category, str | None, str | None, str | None]:
    a = pack.lookup_one(ip, T2014)
    dec = next((f for f in a.facts if f.category is a.category), None)
    return a.category, a.prefix, dec.source if dec else None, dec.label if dec else None


def test_every_table_name_is_a_geo_as_organisation(pack: IntelPack) -> None:
    known = set(pack.as_orgs)
    assert sorted(o for o in access_orgs.ORGS if o not in known) == []
    assert set(geoip2fast_data.load().orgs) == known


def test_table_does_not_overlap_hosting_table() -> None:
    assert set(access_orgs.ORGS) & set(hosting_orgs.ORGS) == set()
    assert "GOOGLE-FIBER" in access_orgs.ORGS  # an access ISP, not Google's cloud
    # national backbones that mix access, transit and data centres are left out
    for org in (
        "Chinanet",
        "CHINA UNICOM China169 Backbone",
        "China Mobile Communications Group Co., Ltd.",
        "CHARTER-16787-DC",
    ):
        assert org not in access_orgs.ORGS


def test_comcast_is_residential_with_label(pack: IntelPack) -> None:
    a = pack.lookup_one("73.0.0.1", T2014)
    assert (a.category, a.as_org, a.prefix, a.projected) == (
        Category.RESIDENTIAL,
        "COMCAST-7922",
        "73.0.0.0/13",
        True,
    )
    facts = [f for f in a.facts if f.category is Category.RESIDENTIAL]
    assert len(facts) == 1
    f = facts[0]
    assert (f.source, f.label, f.range, f.projected) == (
        "slipcatch-access-orgs",
        "Comcast (access ISP, by AS organisation)",
        "73.0.0.0/13",
        True,
    )
    assert f.valid_from is None and f.valid_to is None
    assert f.note is not None and f.note.startswith("COMCAST-7922: ")
    assert "2024-06-18" in f.note


@pytest.mark.parametrize(
    ("ip", "prefix", "label"),
    [
        ("2601::1", "2601::/26", "Comcast (access ISP, by AS organisation)"),
        ("79.192.0.1", "79.192.0.0/10", "Deutsche Telekom (access ISP, by AS organisation)"),
        ("90.0.0.1", "90.0.0.0/13", "Orange France (access ISP, by AS organisation)"),
        ("126.0.0.1", "126.0.0.0/12", "SoftBank (access ISP, by AS organisation)"),
    ],
)
def test_other_access_isps(pack: IntelPack, ip: str, prefix: str, label: str) -> None:
    assert _decisive(pack, ip) == (Category.RESIDENTIAL, prefix, "slipcatch-access-orgs", label)


def test_cover_actor_and_reserved_still_win(pack: IntelPack) -> None:
    assert _decisive(pack, "8.8.8.8") == (
        Category.HOSTING,
        "8.8.8.0/24",
        "slipcatch-hosting-orgs",
        "Google",
    )
    kp = pack.lookup_one("175.45.176.27", T2014)
    assert (kp.category, kp.actor, kp.prefix) == (Category.ACTOR, "dprk-rgb", "175.45.176.0/22")
    assert _decisive(pack, "10.1.1.1")[0] is Category.RESERVED
    # a VPN range inside AT&T's AS: the catch-all vpn list still outranks residential
    att = pack.lookup_one("102.129.178.1", T2014)
    assert (att.category, att.as_org, att.prefix) == (
        Category.VPN,
        "ATT-INTERNET4",
        "102.129.178.0/24",
    )
    assert [(f.source, f.label) for f in att.facts if f.category] == [
        ("misp-warninglist:vpn-ipv4", "VPN provider"),
        ("slipcatch-access-orgs", "AT&T (access ISP, by AS organisation)"),
    ]
    # an Akamai cache inside PLDT's AS is hosting
    assert _decisive(pack, "104.105.0.1") == (
        Category.HOSTING,
        "104.64.0.0/10",
        "misp-warninglist:akamai",
        "Akamai",
    )


def test_org_not_in_table_stays_unknown(pack: IntelPack) -> None:
    for ip, org in (("132.239.1.1", "UCSD"), ("81.2.69.142", "Andrews & Arnold Ltd")):
        a = pack.lookup_one(ip, T2014)
        assert (a.category, a.as_org) == (Category.UNKNOWN, org)
        assert [f for f in a.facts if f.category] == []
    before = pack.lookup_one("175.45.176.27", datetime(2005, 1, 1, tzinfo=UTC))
    assert before.category is Category.UNKNOWN  # KP, but not in the table


def test_source_entry_and_pack_id(pack: IntelPack) -> None:
    [src] = [s for s in pack.describe()["sources"] if s["name"] == "slipcatch-access-orgs"]
    assert (src["kind"], src["version"]) == ("access-orgs", "2 (geo 2024-06-18)")
    assert src["sha256"] == access_orgs.table_sha256()
    assert src["records"] == 110480  # 117,271 before UUNET (6,791 networks) left the table
    assert len(access_orgs.ORGS) == 262
    assert access_orgs.label("KT") == "KT (access ISP, by AS organisation)"
    # the table enters the pack id, like the hosting table
    from slipcatch.intel.store import base_inputs

    assert ("slipcatch-access-orgs", access_orgs.table_sha256()) in base_inputs()


def test_table_hash_follows_content(monkeypatch: pytest.MonkeyPatch) -> None:
    from slipcatch.intel import base_pack_id

    before, pid = access_orgs.table_sha256(), base_pack_id()
    monkeypatch.setitem(access_orgs.ORGS, "UCSD", "UCSD")
    assert access_orgs.table_sha256() != before
    assert base_pack_id() != pid

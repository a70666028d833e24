"""Issue 14: AS numbers in the default pack, provider-specific facts over catch-all lists."""

from __future__ import annotations

from datetime import UTC, datetime

from slipcatch.intel import IntelPack
from slipcatch.model import Category

T = datetime(2019, 6, 1, tzinfo=UTC)


def test_google_dns_has_its_as_number(pack: IntelPack) -> None:
    a = pack.lookup_one("8.8.8.8", T)
    assert a.asn == 15169
    assert any(f.source == "iptoasn-subset-2020-05-07" and f.asn == 15169 and f.projected
               for f in a.facts)


def test_hetzner_is_hosting_not_catch_all_vpn(pack: IntelPack) -> None:
    seen_vpn = False
    for ip in ("5.9.0.1", "88.198.1.1", "136.243.1.1", "144.76.1.1", "78.46.1.1"):
        a = pack.lookup_one(ip, T)
        assert a.category == Category.HOSTING, (ip, a.category)
        assert any(f.label == "Hetzner" for f in a.facts)
        seen_vpn |= any(f.category == Category.VPN for f in a.facts)  # kept and shown
    assert seen_vpn


def test_uunet_is_not_residential(pack: IntelPack) -> None:
    from slipcatch.intel.sources import access_orgs

    assert "UUNET" not in access_orgs.ORGS
    assert "UUNET" not in [o for o in pack.as_orgs if access_orgs.ORGS.get(o)]

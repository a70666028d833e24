"""A small, complete, fixed assessment built by hand (no evidence/intel/analysis code).

Two personas:

* ``HOSTILE_NAME`` works under Tor/VPN/hosting cover and slips twice from 175.45.176.10 (an
  actor range, 175.45.176.0/22 for "lazarus"), once by e-mail (relay-written Received chain
  with three hops) and once on the web; the slip is closed 210 s later by a Tor event.
* ``noise`` has exposed events only, so no slips, and an "unknown" verdict.

Every string a report shows from evidence carries markup somewhere: the persona name holds
``<script>alert(1)</script>``, quotes, ``&``, a pipe and a backtick.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from slipcatch.model import (
    Actor,
    AddressFacts,
    Alternative,
    Assessment,
    Category,
    Event,
    EvidenceFile,
    EvidenceLine,
    EvidenceRef,
    Fact,
    Hop,
    Hypothesis,
    Observation,
    OriginTrust,
    Persona,
    PersonaAssessment,
    Rejection,
    Remainder,
    Slip,
    SourceInfo,
    Verdict,
    event_id,
    icd203_term,
    stable_id,
)

SCRIPT = "<script>alert(1)</script>"
HOSTILE_NAME = f'GOP {SCRIPT} "God\'sApstls" & Co | `wiper`'
NOISE_NAME = "noise"
# A channel column from a CSV table is evidence too; this one tries to leave an SVG <title>.
HOSTILE_CHANNEL = "table:post</title><script>alert(3)</script>"
GENERATED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

MBOX = "evidence/gop-mail.mbox"
CSV = "evidence/posts & <logins>.csv"
MBOX_SHA = hashlib.sha256(b"gop-mail.mbox").hexdigest()
CSV_SHA = hashlib.sha256(b"posts.csv").hexdigest()

ACTOR_RANGE = "175.45.176.0/22"
SLIP_IP = "175.45.176.10"
TOR_IP = "171.25.193.20"
VPN_IP = "185.100.87.1"
HOSTING_IP = "104.16.0.1"


def t(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2014, 11, day, hh, mm, ss, tzinfo=UTC)


def _address(ip: str, at: datetime) -> AddressFacts:
    geo = {
        TOR_IP: ("SE", 198093, "Foreningen for digitala fri- och rattigheter", "171.25.193.0/24"),
        VPN_IP: ("RO", 9009, "M247 Ltd", "185.100.87.0/24"),
        SLIP_IP: ("KP", 131279, "Ryugyong-dong", ACTOR_RANGE),
        HOSTING_IP: ("US", 13335, "CLOUDFLARENET", "104.16.0.0/12"),
        "98.0.0.1": ("US", 11351, "TWC-11351-NORTHEAST <ny&nj>", "98.0.0.0/15"),
        "2a02:8108::1": ("DE", 3209, "Vodafone GmbH", "2a02:8108::/32"),
    }
    country, asn, org, prefix = geo[ip]
    geo_fact = Fact(
        range=prefix, category=None, source="geoip2fast", label=org, country=country, asn=asn
    )
    category, extra = {
        TOR_IP: (
            Category.TOR,
            Fact(
                range=f"{TOR_IP}/32", category=Category.TOR, source="tor-exit-2014-11", label="exit"
            ),
        ),
        VPN_IP: (
            Category.VPN,
            Fact(
                range="185.100.87.0/24",
                category=Category.VPN,
                source="misp-vpn-ipv4",
                label="M247 VPN",
            ),
        ),
        SLIP_IP: (
            Category.ACTOR,
            Fact(
                range=ACTOR_RANGE,
                category=Category.ACTOR,
                source="actor-registry",
                label="Star JV",
                actor="lazarus",
                country="KP",
                asn=131279,
                exclusivity=1.0,
            ),
        ),
        HOSTING_IP: (
            Category.HOSTING,
            Fact(
                range="104.16.0.0/12",
                category=Category.HOSTING,
                source="misp-cloudflare",
                label="Cloudflare",
            ),
        ),
        "98.0.0.1": (Category.RESIDENTIAL, None),
        "2a02:8108::1": (Category.UNKNOWN, None),
    }[ip]
    facts = (geo_fact,) if extra is None else (geo_fact, extra)
    return AddressFacts(
        ip=ip,
        time=at,
        category=category,
        country=country,
        asn=asn,
        as_org=org,
        prefix=prefix,
        actor="lazarus" if category == Category.ACTOR else None,
        facts=facts,
    )


def _mail_hops(src_ip: str, at: datetime) -> tuple[Hop, ...]:
    return (
        Hop(
            index=0,
            from_host="relay.mail.example",
            from_ip="192.0.2.25",
            by_host="mx1.spe.example",
            protocol="ESMTPS",
            time=at,
            trust=OriginTrust.TRUSTED_RELAY,
            raw="from relay.mail.example ([192.0.2.25]) by mx1.spe.example with ESMTPS",
        ),
        Hop(
            index=1,
            from_host="[<unknown>]",
            from_ip=src_ip,
            by_host="relay.mail.example",
            protocol="ESMTPSA",
            time=at,
            trust=OriginTrust.SENDER_PROVIDER,
            raw=f"from [<unknown>] ([{src_ip}]) by relay.mail.example with ESMTPSA",
        ),
        Hop(
            index=2,
            from_host="localhost",
            from_ip="127.0.0.1",
            by_host="gop | `box`",
            protocol="SMTP",
            time=None,
            trust=OriginTrust.SENDER_WRITTEN,
            flags=("forged?", "<helo>"),
            raw="from localhost by gop | `box`",
        ),
    )


def _event(
    n: int,
    at: datetime,
    ip: str,
    persona: str,
    channel: str,
    path: str,
    sha: str,
    locator: str,
    **attrs: str,
) -> Event:
    digest = hashlib.sha256(f"record {n}".encode()).hexdigest()
    mail = channel == "email"
    return Event(
        id=event_id(channel, at, ip, persona, digest),
        time=at,
        src_ip=ip,
        persona=persona,
        channel=channel,
        evidence=EvidenceRef(path=path, sha256=sha, locator=locator),
        attributes=attrs,
        origin_trust=OriginTrust.TRUSTED_RELAY if mail else None,
        entry_ip=ip if mail else None,
        hops=_mail_hops(ip, at) if mail else (),
    )


def build_events() -> list[Event]:
    """Nine events in deliberately shuffled order (the reports sort them)."""
    g, z = HOSTILE_NAME, NOISE_NAME
    return [
        _event(
            6,
            t(24, 10, 0),
            HOSTING_IP,
            g,
            HOSTILE_CHANNEL,
            CSV,
            CSV_SHA,
            "row 12",
            text="Hacked By #GOP </title><img src=x onerror=alert(2)>",
        ),
        _event(
            1,
            t(21, 8, 0),
            TOR_IP,
            g,
            "email",
            MBOX,
            MBOX_SHA,
            "message 1",
            subject="Notice to Sony Pictures Entertainment",
        ),
        _event(
            3,
            t(21, 9, 0),
            SLIP_IP,
            g,
            "email",
            MBOX,
            MBOX_SHA,
            "message 2",
            subject='Pay the damage & "behave wisely"',
        ),
        _event(2, t(21, 8, 30), VPN_IP, g, "web", CSV, CSV_SHA, "row 2"),
        _event(4, t(21, 9, 2), SLIP_IP, g, "web", CSV, CSV_SHA, "row 3"),
        _event(5, t(21, 9, 5, 30), TOR_IP, g, "web", CSV, CSV_SHA, "row 4"),
        _event(7, t(22, 1, 0), "98.0.0.1", z, "web", CSV, CSV_SHA, "row 5"),
        _event(8, t(22, 2, 0), "2a02:8108::1", z, "web", CSV, CSV_SHA, "row 6"),
        _event(9, t(23, 3, 0), HOSTING_IP, z, "web", CSV, CSV_SHA, "row 10"),
    ]


def _hyp(
    hid: str,
    kind: str,
    actor: str | None,
    statement: str,
    prior: float,
    p: float,
    supporting: tuple[str, ...] = (),
    contradicting: tuple[str, ...] = (),
) -> Hypothesis:
    return Hypothesis(
        id=hid,
        kind=kind,
        actor=actor,
        statement=statement,  # type: ignore[arg-type]
        prior=prior,
        probability=p,
        supporting=supporting,
        contradicting=contradicting,
    )


def build_assessment() -> Assessment:
    """The fixed case. Same call, same object, every time."""
    events = build_events()
    by_n = {e.evidence.locator: e for e in events}
    observations = tuple(
        sorted(
            (Observation(e, _address(e.src_ip, e.time)) for e in events),
            key=lambda o: (o.event.time, o.event.id),
        )
    )
    gop_events = tuple(e.id for e in events if e.persona == HOSTILE_NAME)
    noise_events = tuple(e.id for e in events if e.persona == NOISE_NAME)
    gop_id = stable_id("persona", HOSTILE_NAME)
    noise_id = stable_id("persona", NOISE_NAME)

    slip_events = (by_n["message 2"].id, by_n["row 3"].id)
    slip = Slip(
        id=stable_id("slip", gop_id, SLIP_IP, t(21, 9, 0).isoformat()),
        persona=gop_id,
        ip=SLIP_IP,
        first_seen=t(21, 9, 0),
        last_seen=t(21, 9, 2),
        event_ids=slip_events,
        category=Category.ACTOR,
        prefix=ACTOR_RANGE,
        asn=131279,
        country="KP",
        attributed_to="lazarus",
        closed_after_seconds=210.0,
        channels=("web", "email"),
        origin_trust=OriginTrust.TRUSTED_RELAY,
    )

    h_actor, h_flag, h_unknown = "H-lazarus", "H-false-flag", "H-unknown"
    l_range = EvidenceLine(
        id="L1-actor-range",
        kind="actor-range-slip",
        summary=f"2 events from {ACTOR_RANGE} (Star JV, KP), exclusive to lazarus",
        likelihoods={h_actor: 0.9, h_flag: 0.05, h_unknown: 0.001},
        reliability="B2",
        rule="R1 actor-range slip",
        event_ids=slip_events,
        slip_ids=(slip.id,),
    )
    l_pattern = EvidenceLine(
        id="L2-slip-pattern",
        kind="slip-pattern",
        summary="slip closed after 210 s amid cover ratio 67% <fast close>",
        likelihoods={h_actor: 0.6, h_flag: 0.3, h_unknown: 0.1},
        reliability="C3",
        rule="R2 closed-quickly",
        event_ids=slip_events,
        slip_ids=(slip.id,),
    )
    l_country = EvidenceLine(
        id="L3-country",
        kind="country-hit",
        summary='country KP | `geo` only * not _exclusive_ [see] & "quoted"',
        likelihoods={h_actor: 0.5, h_flag: 0.5, h_unknown: 0.0},
        reliability="D4",
        rule="R5 country",
        event_ids=(by_n["row 3"].id,),
    )
    gop = PersonaAssessment(
        persona=Persona(
            id=gop_id,
            name=HOSTILE_NAME,
            identities=("gop@example.net", f"{SCRIPT}@example.net"),
            event_ids=gop_events,
            channels=("web", HOSTILE_CHANNEL, "email"),
            cover_ratio=4 / 6,
        ),
        slips=(slip,),
        evidence=(l_range, l_pattern, l_country),
        hypotheses=(
            _hyp(
                h_unknown,
                "unknown",
                None,
                "An unknown third party operated the persona.",
                0.75,
                0.02,
                contradicting=(l_range.id, l_pattern.id),
            ),
            _hyp(
                h_actor,
                "actor",
                "lazarus",
                "Lazarus Group operated the persona.",
                0.2,
                0.93,
                supporting=(l_range.id, l_pattern.id, l_country.id),
            ),
            _hyp(
                h_flag,
                "false_flag",
                None,
                "Someone framed Lazarus <false flag>.",
                0.05,
                0.05,
                supporting=(l_country.id,),
                contradicting=(l_range.id,),
            ),
        ),
        verdict=Verdict(
            actor="lazarus",
            probability=0.93,
            likelihood=icd203_term(0.93),
            confidence="moderate",
            statement=f"We assess it is very likely (93%) that {HOSTILE_NAME} is Lazarus Group.",
            confidence_reasons=(
                "two slip events from one exclusive range",
                "a single actor-range source <registry>",
            ),
            linchpins=(l_range.id, slip.id),
        ),
        alternatives=(
            Alternative(
                item=l_range.id,
                explanation="Leased or compromised host inside 175.45.176.0/22 & relayed",
                discriminator="Routing history of AS131279 | other users of the range",
            ),
            Alternative(
                item=slip.id,
                explanation="Spoofed Received header <forged>",
                discriminator="Hop 0 written by a trusted relay",
            ),
        ),
    )

    h_n_actor, h_n_unknown = "H-n-lazarus", "H-n-unknown"
    l_noise = EvidenceLine(
        id="L4-no-slip",
        kind="no-cover",
        summary="exposed events only; nothing distinguishes an operator",
        likelihoods={h_n_actor: 0.2, h_n_unknown: 0.8},
        reliability="C3",
        rule="R7 no cover",
        event_ids=noise_events,
    )
    l_partial = EvidenceLine(
        id="L5-partial",
        kind="timezone",
        summary="activity at 01:00-03:00 UTC",
        likelihoods={h_n_unknown: 0.5},
        reliability="E5",
        rule="R9 pattern-of-life",
    )
    noise = PersonaAssessment(
        persona=Persona(
            id=noise_id,
            name=NOISE_NAME,
            identities=("noise",),
            event_ids=noise_events,
            channels=("web",),
            cover_ratio=1 / 3,
        ),
        slips=(),
        evidence=(l_noise, l_partial),
        hypotheses=(
            _hyp(
                h_n_actor,
                "actor",
                "lazarus",
                "Lazarus Group operated the persona.",
                0.2,
                0.25,
                contradicting=(l_noise.id,),
            ),
            _hyp(
                h_n_unknown,
                "unknown",
                None,
                "An unknown party operated the persona.",
                0.8,
                0.75,
                supporting=(l_noise.id,),
            ),
        ),
        verdict=Verdict(
            actor=None,
            probability=0.75,
            likelihood=icd203_term(0.75),
            confidence="low",
            statement="It is likely (75%) that noise is not a known actor.",
            confidence_reasons=("no slips",),
        ),
    )

    return Assessment(
        generated_at=GENERATED_AT,
        evidence=(
            EvidenceFile(
                path=MBOX,
                sha256=MBOX_SHA,
                size=20480,
                format="mbox",
                records=3,
                events=2,
                rejected=1,
                duplicates=0,
            ),
            EvidenceFile(
                path=CSV,
                sha256=CSV_SHA,
                size=4096,
                format="table",
                records=10,
                events=7,
                rejected=2,
                duplicates=1,
            ),
        ),
        rejections=(
            Rejection(
                path=CSV,
                sha256=CSV_SHA,
                locator="row 11",
                reason="bad-address",
                detail="src_ip '999.1.1.1 <b>' is not an address",
            ),
            Rejection(
                path=MBOX,
                sha256=MBOX_SHA,
                locator="message 3",
                reason="no-origin",
                detail="no Received header & no X-Originating-IP",
            ),
            Rejection(
                path=CSV, sha256=CSV_SHA, locator="row 9", reason="bad-address", detail="empty"
            ),
        ),
        pack_id="pack--0123456789abcdef",
        sources=(
            SourceInfo(
                name="geoip2fast",
                kind="geo-asn",
                version="1.2.2",
                records=450000,
                licence="CC-BY-SA-4.0",
                sha256=hashlib.sha256(b"geo").hexdigest(),
            ),
            SourceInfo(
                name="tor-exit-2014-11",
                kind="tor-exit",
                version="2014-11-30",
                records=1118,
                valid_from=datetime(2014, 11, 1, tzinfo=UTC),
                valid_to=datetime(2014, 12, 1, tzinfo=UTC),
                licence="CC0-1.0",
            ),
            SourceInfo(
                name="actor-registry",
                kind="actor-registry",
                version="1",
                records=2,
                valid_from=datetime(2010, 1, 1, tzinfo=UTC),
            ),
        ),
        observations=observations,
        personas=(noise, gop),
        actors=(
            Actor(
                id="lazarus",
                name="Lazarus Group",
                aliases=("Guardians of Peace", "HIDDEN COBRA"),
                country="KP",
                timezones=("Asia/Pyongyang",),
                sources=("actor-registry",),
            ),
            Actor(id="apt28", name="APT28", aliases=("Sofacy",), country="RU"),
        ),
        model_version="0.1.0",
    )


#: An unassessed remainder with hostile names (escaping) and an unknown country.
REMAINDER = Remainder(
    events=12345,
    personas=3,
    by_category=(("tor", 9000), ("residential", 3000), ("<b>hosting</b>", 345)),
    by_country=(("SE", 8000), ("", 4000), ("K|P", 345)),
    top_addresses=(("185.220.101.7", "tor", 5000), ("<script>x</script>", "unknown", 12)),
)

#: ``REMAINDER`` as assessment.json (and the workbench's overview) carry it.
REMAINDER_DOC = {
    "events": 12345,
    "personas": 3,
    "by_category": [
        {"category": "tor", "events": 9000},
        {"category": "residential", "events": 3000},
        {"category": "<b>hosting</b>", "events": 345},
    ],
    "by_country": [
        {"country": "SE", "events": 8000},
        {"country": "", "events": 4000},
        {"country": "K|P", "events": 345},
    ],
    "top_addresses": [
        {"ip": "185.220.101.7", "category": "tor", "events": 5000},
        {"ip": "<script>x</script>", "category": "unknown", "events": 12},
    ],
}

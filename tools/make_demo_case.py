#!/usr/bin/env python3
"""Write the bundled demo case (``slipcatch demo``): a seeded, byte-for-byte reproducible
reconstruction of the 2014 Sony Pictures hack as seen through network evidence.

Usage::

    python tools/make_demo_case.py --out src/slipcatch/data/demo

Standard library only. Every random choice comes from one ``random.Random(SEED)`` consumed in a
fixed order, so the same code writes the same bytes on every run and machine; the committed files
are checked against a fresh run by ``tests/test_demo_case.py``. The story, what is real and what
is invented are in ``docs/demo.md``.

The generator also checks its own ground truth before writing (slips closed within 1-10 minutes
by a covered event, cover ratio, every Tor use listed within hours) and raises ``AssertionError``
if a change to the plan breaks it.
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import json
import quopri
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

SEED = 20141124
PERSONA = "Guardians of Peace"
GOP_ACCOUNT = "gop"

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

PST = timezone(timedelta(hours=-8), "PST")  # the victim's mail servers (Culver City)
CET = timezone(timedelta(hours=1), "CET")  # the invented free-mail provider "Inboxer"
EST = timezone(timedelta(hours=-5), "EST")  # the invented free-mail provider "Webpost"
UTC0 = timezone(timedelta(0), "UTC")

#: Receiving side (victim): these are the hosts and networks to pass as --trusted-relay.
TRUSTED_RELAYS = (
    "mx1.spe.example",
    "mail-gw.spe.example",
    "exhub01.spe.example",
    "exhub02.spe.example",
    "10.20.0.0/16",
)

# Actor space from the public record (see docs/demo.md): Star JV 175.45.176.0/22 and the
# KPTC range 210.52.109.0/24. The intel package's actor registry carries these; the demo's own
# intel deliberately does not, so the slips are found through the shipped registry.
DPRK_RANGES = ("175.45.176.0/22", "210.52.109.0/24")
SLIP_EMAIL_IP = "175.45.176.71"
SLIP_WEB_IP = "175.45.179.36"
SLIP_POST1_IP = "210.52.109.22"
SLIP_POST2_IP = "175.45.177.140"
TAIPEI_HOTEL_IP = "61.216.152.77"
JAPAN_RESIDENTIAL_IP = "126.209.87.154"
BANGKOK_HOTEL_IP = "171.97.64.18"


@dataclass(frozen=True)
class Net:
    cidr: str
    category: str
    label: str
    valid_from: str
    valid_to: str


# The demo's CIDR intel (intel/demo-ranges.csv). Providers are invented; the address space is
# real routable space of hosting companies / access ISPs in the countries named, so the default
# geo/ASN data agrees with the story. The proxy and hosting ranges lie outside the MISP
# ``vpn-ipv4`` warninglist (which covers most big data centres and outranks proxy/hosting), so
# the default pack and the demo's own intel give them the same category. Hotels are access
# networks, hence ``residential``.
KESTREL = Net(
    "95.211.118.0/24",
    "vpn",
    "Kestrel VPN exit servers (invented provider)",
    "2013-03-01",
    "2015-12-31",
)
FJORD = Net(
    "37.187.97.0/24",
    "vpn",
    "Blue Fjord VPN exit servers (invented provider)",
    "2013-11-01",
    "2015-06-30",
)
PROXY_A = Net(
    "188.120.13.77/32",
    "proxy",
    "open HTTP proxy on a compromised server (invented)",
    "2013-12-01",
    "2015-01-31",
)
PROXY_B = Net(
    "185.38.14.171/32",
    "proxy",
    "open SOCKS proxy, public proxy list (invented)",
    "2013-10-15",
    "2015-01-31",
)
SKYLINE = Net(
    "46.28.106.0/24",
    "hosting",
    "Skyline VPS customer range (invented provider)",
    "2013-01-01",
    "2016-12-31",
)
INBOXER = Net(
    "46.28.110.0/26",
    "hosting",
    "Inboxer free-mail outbound relays (invented provider)",
    "2012-01-01",
    "2016-12-31",
)
WEBPOST = Net(
    "46.28.105.0/25",
    "hosting",
    "Webpost free-mail outbound relays (invented provider)",
    "2012-01-01",
    "2016-12-31",
)
TAIPEI = Net(
    "61.216.152.64/27", "residential", "hotel guest network, Taipei", "2012-01-01", "2016-12-31"
)
JAPAN = Net(
    "126.209.64.0/18",
    "residential",
    "residential broadband, Japanese access ISP",
    "2010-01-01",
    "2016-12-31",
)
BANGKOK = Net(
    "171.97.64.0/27", "residential", "hotel guest network, Bangkok", "2012-01-01", "2016-12-31"
)
DEMO_RANGES = (KESTREL, FJORD, PROXY_A, PROXY_B, SKYLINE, INBOXER, WEBPOST, TAIPEI, JAPAN, BANGKOK)
COVER_NETS = {
    "vpn-kestrel": KESTREL,
    "vpn-fjord": FJORD,
    "proxy-a": PROXY_A,
    "proxy-b": PROXY_B,
    "hosting": SKYLINE,
}

# Hosting space Tor exits are placed in (Hetzner, Leaseweb, OVH, Scaleway, Voxility, ...).
TOR_PREFIXES = (
    "5.9.0.0/16",
    "78.46.0.0/16",
    "144.76.0.0/16",
    "176.9.0.0/16",
    "46.165.208.0/20",
    "37.59.32.0/19",
    "94.23.0.0/19",
    "195.154.64.0/18",
    "212.47.224.0/19",
    "109.163.232.0/22",
    "37.221.160.0/21",
    "104.236.0.0/16",
    "107.170.0.0/16",
    "178.62.0.0/17",
    "192.99.0.0/19",
    "176.10.96.0/22",
    "185.25.48.0/22",
    "77.109.141.0/24",
)
# Access ISPs worldwide, for the file share's anonymous downloaders (noise).
NOISE_PREFIXES = (
    "73.160.0.0/14",
    "76.100.0.0/15",
    "98.200.0.0/14",
    "86.136.0.0/13",
    "90.16.0.0/13",
    "79.192.0.0/10",
    "91.32.0.0/12",
    "83.40.0.0/15",
    "177.40.0.0/13",
    "187.8.0.0/13",
    "117.200.0.0/14",
    "58.160.0.0/12",
    "121.128.0.0/11",
    "113.96.0.0/11",
    "14.160.0.0/12",
    "1.52.0.0/14",
    "41.96.0.0/12",
    "95.24.0.0/13",
    "85.96.0.0/13",
    "190.48.0.0/14",
    "36.70.0.0/15",
    "93.32.0.0/12",
    "2.80.0.0/14",
    "62.100.0.0/18",
    "60.32.0.0/12",
    "49.228.0.0/14",
    "114.32.0.0/13",
)

TOR_BROWSER_UA = "Mozilla/5.0 (Windows NT 6.1; rv:31.0) Gecko/20100101 Firefox/31.0"
SLIP_UA = (
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/39.0.2171.71 Safari/537.36"
)
HOTEL_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:34.0) Gecko/20100101 Firefox/34.0"
NOISE_UAS = (
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:33.0) Gecko/20100101 Firefox/33.0",
    "Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/39.0.2171.65 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.1.25 (KHTML, like Gecko) "
    "Version/8.0.1 Safari/600.1.25",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:34.0) Gecko/20100101 Firefox/34.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 8_1_1 like Mac OS X) AppleWebKit/600.1.4 (KHTML, "
    "like Gecko) Version/8.0 Mobile/12B435 Safari/600.1.4",
    "Wget/1.15 (linux-gnu)",
    "curl/7.38.0",
    "Transmission/2.84",
)


def t(text: str) -> datetime:
    """A UTC datetime from ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rfc5322_date(dt: datetime, tz: timezone, style: str) -> str:
    """The date as each MTA writes it: Postfix space-pads the day and adds the zone name,
    Exim zero-pads, Exchange does not pad."""
    local = dt.astimezone(tz)
    off = local.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    day = {"postfix": f"{local.day:2d}", "exim": f"{local.day:02d}"}.get(style, str(local.day))
    text = (
        f"{DAYS[local.weekday()]}, {day} {MONTHS[local.month - 1]} {local.year} "
        f"{local:%H:%M:%S} {zone}"
    )
    if style == "postfix":
        text += f" ({local.tzname()})"
    return text


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_nets(ip: str, cidrs: tuple[str, ...]) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr in ipaddress.ip_network(c) for c in cidrs)


@dataclass
class GopEvent:
    """One act of the persona, for the ground truth."""

    time: datetime
    ip: str
    category: str  # tor, vpn, proxy, hosting, actor, residential
    channel: str  # email, posting, web
    where: str  # file and locator
    label: str = ""
    origin_trust: str = ""  # e-mail only


@dataclass
class Plan:
    rng: random.Random
    used_ips: set[str] = field(default_factory=set)
    gop: list[GopEvent] = field(default_factory=list)
    tor_uses: list[tuple[str, datetime]] = field(default_factory=list)
    last_tor_use: dict[str, datetime] = field(default_factory=dict)
    cover_hosts: dict[tuple[str, str], str] = field(default_factory=dict)

    def host_in(self, cidr: str) -> str:
        """A fresh, ordinary host address in ``cidr`` (no .0/.255, never reused)."""
        net = ipaddress.ip_network(cidr)
        if net.num_addresses == 1:
            return str(net.network_address)
        while True:
            ip = str(net.network_address + self.rng.randrange(1, net.num_addresses - 1))
            if ip.endswith((".0", ".255")) or ip in self.used_ips:
                continue
            self.used_ips.add(ip)
            return ip


# --------------------------------------------------------------------------------------------
# Tor relays


@dataclass
class Relay:
    fingerprint: str
    addresses: tuple[str, ...]
    alive_from: datetime
    alive_to: datetime
    gop: bool


def make_relays(plan: Plan) -> list[Relay]:
    rng = plan.rng
    relays = []
    start, end = t("2014-11-15 00:00:00"), t("2014-12-23 00:00:00")
    for i in range(30):
        fp = "".join(rng.choice("0123456789ABCDEF") for _ in range(40))
        addr = plan.host_in(TOR_PREFIXES[i % len(TOR_PREFIXES)])
        addresses: tuple[str, ...] = (addr,)
        gop = i < 14
        if gop:
            alive_from, alive_to = start, end
        else:
            # Churn: other relays come and go during the month.
            a = start + timedelta(hours=rng.randrange(0, 24 * 30))
            alive_from, alive_to = a, min(end, a + timedelta(days=rng.randrange(6, 30)))
            second = str(ipaddress.ip_address(addr) + 1)
            if i % 7 == 0 and second not in plan.used_ips and not second.endswith(".255"):
                plan.used_ips.add(second)
                addresses = (addr, second)
        relays.append(Relay(fp, addresses, alive_from, alive_to, gop))
    return relays


class CoverPicker:
    """Chooses the persona's cover address for a session."""

    def __init__(self, plan: Plan, relays: list[Relay]):
        self.plan = plan
        self.gop_exits = [r.addresses[0] for r in relays if r.gop]
        self.noise_exits = [r.addresses[0] for r in relays if not r.gop and len(r.addresses) == 1]

    def pick(self, kind: str, at: datetime) -> tuple[str, str]:
        """Return (ip, category) for a session of ``kind`` starting at ``at``."""
        if kind == "tor":
            # An exit is not reused within two days, so every use has its own ExitAddress.
            free = [
                ip
                for ip in self.gop_exits
                if at - self.plan.last_tor_use.get(ip, at - timedelta(days=9)) > timedelta(days=2)
            ]
            ip = self.plan.rng.choice(free)
            self.plan.last_tor_use[ip] = at
            return ip, "tor"
        net = COVER_NETS[kind]
        return self.plan.host_in(net.cidr), net.category


# --------------------------------------------------------------------------------------------
# E-mail


RECIPIENTS_EXECS = (
    ("Marian Holt", "marian.holt@spe.example"),
    ("Julian Reyes", "julian.reyes@spe.example"),
    ("Priya Anand", "priya.anand@spe.example"),
    ("Thomas Becker", "thomas.becker@spe.example"),
    ("Elena Sato", "elena.sato@spe.example"),
)
STAFF = (
    "g.alvarez@spe.example",
    "k.obrien@spe.example",
    "s.nakamura@spe.example",
    "d.moreau@spe.example",
    "l.fischer@spe.example",
    "a.kowalski@spe.example",
)


def qid_postfix(rng: random.Random) -> str:
    alphabet = string.digits + "BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
    return "3j" + "".join(rng.choice(alphabet) for _ in range(10))


def qid_hex(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(10))


def qid_exim(rng: random.Random) -> str:
    a = string.digits + string.ascii_letters
    return (
        "1X"
        + "".join(rng.choice(a) for _ in range(4))
        + "-000"
        + "".join(rng.choice(a) for _ in range(3))
        + "-"
        + "".join(rng.choice(a) for _ in range(2))
    )


@dataclass
class Mail:
    name: str
    sent: datetime  # time of the hop that records the origin (client) address
    route: str  # exim-auth, webmail, postfix-auth, vps, partner
    client_ip: str
    from_header: str
    envelope: str
    to_header: str
    rcpt: str
    subject: str
    body: str
    helo: str = "[127.0.0.1]"
    cc_header: str = ""
    qp: bool = False


def victim_hops(
    rng: random.Random, at: datetime, entry_host: str, entry_ip: str, rcpt: str, tls: bool
) -> tuple[list[str], datetime]:
    """The receiving side's three hops, bottom (mx1) first; returns them and the time the
    message entered (mx1's Received time, the receiving side's own clock)."""
    hops = []
    at += timedelta(seconds=rng.randint(1, 5))
    entered = at
    using = (
        (
            "\n\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))"
            "\n\t(No client certificate requested)"
        )
        if tls
        else ""
    )
    hops.append(
        f"from {entry_host} ({entry_host} [{entry_ip}]){using}\n"
        f"\tby mx1.spe.example (Postfix) with {'ESMTPS' if tls else 'ESMTP'} id "
        f"{qid_postfix(rng)}\n\tfor <{rcpt}>; {rfc5322_date(at, PST, 'postfix')}"
    )
    at += timedelta(seconds=rng.randint(1, 3))
    hops.append(
        f"from mx1.spe.example (mx1.spe.example [10.20.0.25])\n"
        f"\tby mail-gw.spe.example (Postfix) with ESMTP id {qid_postfix(rng)}\n"
        f"\tfor <{rcpt}>; {rfc5322_date(at, PST, 'postfix')}"
    )
    at += timedelta(seconds=rng.randint(1, 3))
    hub, hub_ip = rng.choice((("EXHUB01", "10.20.3.21"), ("EXHUB02", "10.20.3.22")))
    date = rfc5322_date(at, PST, "exchange")
    # Exchange folds wherever the line gets long, even inside the date.
    head, _, tail = date.rpartition(" 2014 ")
    hops.append(
        f"from mail-gw.spe.example (10.20.1.15) by {hub}.spe.example\n"
        f" ({hub_ip}) with Microsoft SMTP Server (TLS) id 14.3.210.2; {head}\n"
        f" 2014 {tail}"
    )
    return hops, entered


def render_mail(plan: Plan, m: Mail) -> tuple[str, str, str, datetime]:
    """Build the message text; returns (text, entry_ip, origin trust, time it entered)."""
    rng = plan.rng
    at = m.sent
    below: list[str] = []  # bottom first
    extra_headers: list[str] = []
    if m.route == "exim-auth":
        below.append(
            f"from [{m.client_ip}] (helo={m.helo})\n"
            f"\tby smtp.inboxer.example with esmtpsa "
            f"(TLS1.2:DHE_RSA_AES_256_CBC_SHA1:256)\n\t(Exim 4.84)\n"
            f"\t(envelope-from <{m.envelope}>)\n\tid {qid_exim(rng)}\n"
            f"\tfor {m.rcpt}; {rfc5322_date(at, CET, 'exim')}"
        )
        at += timedelta(seconds=rng.randint(1, 3))
        below.append(
            f"from smtp.inboxer.example ([172.16.4.7] helo=smtp.inboxer.example)\n"
            f"\tby out2.inboxer.example with esmtp (Exim 4.84)\n"
            f"\t(envelope-from <{m.envelope}>)\n\tid {qid_exim(rng)}\n"
            f"\tfor {m.rcpt}; {rfc5322_date(at, CET, 'exim')}"
        )
        entry_host, entry_ip, tls, trust = (
            "out2.inboxer.example",
            "46.28.110.23",
            True,
            "sender-provider",
        )
        msgid = f"<{rng.getrandbits(32):08X}.{rng.randrange(1000, 9999)}@inboxer.example>"
        date_hdr = rfc5322_date(m.sent - timedelta(seconds=rng.randint(2, 9)), UTC0, "exim")
    elif m.route == "webmail":
        below.append(
            f"from [{m.client_ip}] by webmail.webpost.example with HTTP; "
            f"{rfc5322_date(at, EST, 'exim')}"
        )
        at += timedelta(seconds=rng.randint(1, 2))
        below.append(
            f"from webmail.webpost.example (localhost [127.0.0.1])\n"
            f"\t(Authenticated sender: {m.envelope})\n"
            f"\tby smtp.webpost.example (Postfix) with ESMTPSA id {qid_hex(rng)}\n"
            f"\tfor <{m.rcpt}>; {rfc5322_date(at, EST, 'postfix')}"
        )
        extra_headers.append(f"X-Originating-IP: [{m.client_ip}]")
        entry_host, entry_ip, tls, trust = (
            "smtp.webpost.example",
            "46.28.105.41",
            True,
            "sender-provider",
        )
        msgid = f"<{int(m.sent.timestamp())}.{rng.randrange(10000, 99999)}.webmail@webpost.example>"
        date_hdr = rfc5322_date(m.sent, EST, "exim")
    elif m.route == "postfix-auth":
        below.append(
            f"from {m.helo} (unknown [{m.client_ip}])\n"
            f"\t(Authenticated sender: {m.envelope})\n"
            f"\tby smtp.webpost.example (Postfix) with ESMTPSA id {qid_hex(rng)}\n"
            f"\tfor <{m.rcpt}>; {rfc5322_date(at, EST, 'postfix')}"
        )
        entry_host, entry_ip, tls, trust = (
            "smtp.webpost.example",
            "46.28.105.41",
            True,
            "sender-provider",
        )
        msgid = f"<{rng.getrandbits(48):012x}.{rng.randrange(100, 999)}@webpost.example>"
        date_hdr = rfc5322_date(m.sent - timedelta(seconds=rng.randint(2, 9)), UTC0, "exim")
    elif m.route == "vps":
        # The sender's own mail server wrote the only header naming the client: sender-written.
        below.append(
            f"from [{m.client_ip}] (unknown [{m.client_ip}])\n"
            f"\tby vps77.skyline-vps.example (Postfix) with ESMTP id {qid_hex(rng)}\n"
            f"\tfor <{m.rcpt}>; {rfc5322_date(at, UTC0, 'postfix')}"
        )
        entry_host, entry_ip, tls, trust = (
            "vps77.skyline-vps.example",
            "46.28.106.77",
            False,
            "sender-written",
        )
        extra_headers.append("X-Mailer: PHPMailer 5.2.9 (https://github.com/PHPMailer/PHPMailer/)")
        msgid = f"<{rng.getrandbits(64):016x}@vps77.skyline-vps.example>"
        date_hdr = rfc5322_date(m.sent - timedelta(seconds=1), UTC0, "exim")
    elif m.route == "partner":
        below.append(
            f"from [192.168.1.23] (c-{m.client_ip.replace('.', '-')}.hsd1.ca.isp.example"
            f" [{m.client_ip}])\n\t(Authenticated sender: {m.envelope})\n"
            f"\tby mail.northlight-films.example (Postfix) with ESMTPSA id "
            f"{qid_hex(rng)}\n\tfor <{m.rcpt}>; {rfc5322_date(at, PST, 'postfix')}"
        )
        entry_host, entry_ip, tls, trust = (
            "mail.northlight-films.example",
            "24.16.210.45",
            True,
            "sender-provider",
        )
        msgid = f"<{rng.getrandbits(64):016X}@northlight-films.example>"
        date_hdr = rfc5322_date(m.sent - timedelta(seconds=4), PST, "exim")
    else:
        raise AssertionError(m.route)
    up, entered = victim_hops(rng, at, entry_host, entry_ip, m.rcpt, tls)
    received = list(reversed(below + up))  # top (latest) first, as on the wire
    lines = [f"Received: {r}" for r in received]
    if m.route == "vps":
        # mx1 records its SPF verdict above its own Received line.
        lines.insert(
            len(up) - 1,
            (
                "Received-SPF: softfail (mx1.spe.example: domain of transitioning "
                f"{m.envelope} does not designate {entry_ip} as permitted sender)\n"
                f"\tclient-ip={entry_ip}; envelope-from=<{m.envelope}>; helo={entry_host};"
            ),
        )
    lines += extra_headers
    lines += [
        f"Message-ID: {msgid}",
        f"Date: {date_hdr}",
        f"From: {m.from_header}",
        f"To: {m.to_header}",
    ]
    if m.cc_header:
        lines.append(f"Cc: {m.cc_header}")
    lines += [f"Subject: {m.subject}", "MIME-Version: 1.0"]
    if m.qp:
        lines += [
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
        ]
        body = quopri.encodestring(m.body.encode("utf-8")).decode("ascii")
    else:
        lines += [
            "Content-Type: text/plain; charset=utf-8; format=flowed",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        body = m.body
    return "\n".join(lines) + "\n" + body.rstrip("\n") + "\n", entry_ip, trust, entered


def plan_mail(plan: Plan, cover: CoverPicker) -> list[tuple[Mail, str, str]]:
    """The threat e-mails and one unrelated one; returns (mail, category, persona)."""
    execs_to = ", ".join(f'"{n}" <{a}>' for n, a in RECIPIENTS_EXECS[:3])
    execs_cc = ", ".join(f'"{n}" <{a}>' for n, a in RECIPIENTS_EXECS[3:])
    paste = "https://paste.example/"
    out: list[tuple[Mail, str, str]] = []

    sent = t("2014-11-21 03:47:12")
    ip, cat = cover.pick("tor", sent)
    out.append(
        (
            Mail(
                "2014-11-21-notice-to-spe.eml",
                sent,
                "exim-auth",
                ip,
                '"God\'sApstls" <godsapstls@inboxer.example>',
                "godsapstls@inboxer.example",
                execs_to,
                RECIPIENTS_EXECS[0][1],
                "Notice to Sony Pictures Entertainment",
                "Notice to Sony Pictures Entertainment\n\n"
                "[…]\n"
                "Pay the damage, or Sony Pictures will be bombarded as a whole.\n"
                "[…]\n"
                "You'd better behave wisely.\n\n"
                "From God'sApstls\n",
                cc_header=execs_cc,
            ),
            cat,
            PERSONA,
        )
    )

    sent = t("2014-11-28 02:14:09")
    out.append(
        (
            Mail(
                "2014-11-28-data-links-slip.eml",
                sent,
                "webmail",
                SLIP_EMAIL_IP,
                '"GOP" <peace.guardian03@webpost.example>',
                "peace.guardian03@webpost.example",
                '"Julian Reyes" <julian.reyes@spe.example>',
                "julian.reyes@spe.example",
                "Sony Pictures data",
                "We have your data.\nLinks are below.\n\n"
                f"{paste}Zq7Wm2Lk\n{paste}Hx4Rt9Pd\n\nGOP\n",
            ),
            "actor",
            PERSONA,
        )
    )

    sent = t("2014-11-28 02:18:41")
    ip, cat = cover.pick("vpn-kestrel", sent)
    out.append(
        (
            Mail(
                "2014-11-28-data-links-resent.eml",
                sent,
                "postfix-auth",
                ip,
                '"GOP" <peace.guardian03@webpost.example>',
                "peace.guardian03@webpost.example",
                '"Julian Reyes" <julian.reyes@spe.example>',
                "julian.reyes@spe.example",
                "Sony Pictures data",
                "We have your data.\nLinks are below.\n\n"
                f"{paste}Zq7Wm2Lk\n{paste}Hx4Rt9Pd\n\nGOP\n",
                helo="[10.0.2.15]",
            ),
            cat,
            PERSONA,
        )
    )

    sent = t("2014-12-01 05:12:33")
    ip, cat = cover.pick("proxy-a", sent)
    out.append(
        (
            Mail(
                "2014-12-01-data-part-2-links.eml",
                sent,
                "exim-auth",
                ip,
                "peace.guardian05@inboxer.example",
                "peace.guardian05@inboxer.example",
                "undisclosed-recipients:;",
                STAFF[1],
                "SPE data part 2",
                f"SPE data part 2 is ready.\n\n{paste}Nc3Vb8Qe\n{paste}Lp6Ty1Ws\n",
                helo="WIN-7F3K2Q9",
            ),
            cat,
            PERSONA,
        )
    )

    sent = t("2014-12-05 13:05:27")
    out.append(
        (
            Mail(
                "2014-12-05-employee-threat.eml",
                sent,
                "vps",
                JAPAN_RESIDENTIAL_IP,
                '"Guardians of Peace" <peace.guardian13@webpost.example>',
                "peace.guardian13@webpost.example",
                "undisclosed-recipients:;",
                STAFF[0],
                "To the employees of SPE",
                "Please sign your name to object the false of the company\n"
                "[…]\n"
                "not only you but your family will be in danger.\n",
                qp=True,
            ),
            "residential",
            PERSONA,
        )
    )

    sent = t("2014-12-10 12:40:02")
    out.append(
        (
            Mail(
                "2014-12-10-re-sony-pictures-data.eml",
                sent,
                "webmail",
                TAIPEI_HOTEL_IP,
                '"GOP" <peace.guardian21@webpost.example>',
                "peace.guardian21@webpost.example",
                '"Priya Anand" <priya.anand@spe.example>',
                "priya.anand@spe.example",
                "Re: Sony Pictures data",
                "More data will come.\n\nGOP\n",
            ),
            "residential",
            PERSONA,
        )
    )

    sent = t("2014-12-16 07:31:50")
    ip, cat = cover.pick("tor", sent)
    out.append(
        (
            Mail(
                "2014-12-16-warning.eml",
                sent,
                "exim-auth",
                ip,
                '"GOP" <peace.guardian07@inboxer.example>',
                "peace.guardian07@inboxer.example",
                "undisclosed-recipients:;",
                STAFF[2],
                "Warning",
                "Warning\n\n"
                "[…]\n"
                'at the very time and places "The Interview" be shown\n'
                "[…]\n"
                "Remember the 11th of September 2001.\n"
                "[…]\n"
                "(If your house is nearby, you'd better leave.)\n",
            ),
            cat,
            PERSONA,
        )
    )

    sent = t("2014-12-18 23:47:30")
    ip, cat = cover.pick("vpn-fjord", sent)
    out.append(
        (
            Mail(
                "2014-12-18-message-from-gop.eml",
                sent,
                "postfix-auth",
                ip,
                '"GOP" <peace.guardian11@webpost.example>',
                "peace.guardian11@webpost.example",
                execs_to,
                RECIPIENTS_EXECS[0][1],
                "Message from GOP",
                "Message from GOP\n\n"
                "It's very wise that you have made the decision to cancel the release\n"
                "[…]\n"
                "we want you never let the movie released, distributed or leaked in any form\n",
                helo="WIN-7F3K2Q9",
                cc_header=execs_cc,
            ),
            cat,
            PERSONA,
        )
    )

    sent = t("2014-12-02 17:03:15")
    out.append(
        (
            Mail(
                "2014-12-02-screening-schedule.eml",
                sent,
                "partner",
                "73.162.10.93",
                '"Dana Whitfield" <dana.whitfield@northlight-films.example>',
                "dana.whitfield@northlight-films.example",
                '"Ravi Menon" <ravi.menon@spe.example>',
                "ravi.menon@spe.example",
                "Screening schedule for 9 Dec",
                "Hi Ravi,\n\nThe 9 Dec screening moves to 7 pm; the room is booked.\n"
                "Can you confirm the list of guests by Friday?\n\nThanks,\nDana\n",
            ),
            "residential",
            "Dana Whitfield",
        )
    )
    plan.used_ips.update({SLIP_EMAIL_IP, TAIPEI_HOTEL_IP, JAPAN_RESIDENTIAL_IP, "73.162.10.93"})
    return out


# --------------------------------------------------------------------------------------------
# Postings


SITES = ("paste", "gist", "friendpaste")


def posting_url(rng: random.Random, site: str) -> str:
    if site == "paste":
        return "https://paste.example/" + "".join(
            rng.choice(string.ascii_letters + string.digits) for _ in range(8)
        )
    if site == "gist":
        return "https://gist.codehub.example/gopeace/" + "".join(
            rng.choice("0123456789abcdef") for _ in range(20)
        )
    return "https://friendpaste.example/" + "".join(
        rng.choice("0123456789abcdef") for _ in range(24)
    )


STOP_TITLE = (
    "Stop immediately showing the movie of terrorism which can break the regional "
    "peace and cause the War! You, SONY & FBI, cannot find us."
)

# (start UTC, cover kind, titles). Each title is one posting; mirrors follow minutes apart.
POSTING_SESSIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("2014-11-25 00:41:10", "tor", ("Hacked By #GOP: warning and links",) * 2),
    ("2014-11-27 03:20:05", "tor", ("SPE films (links)",)),
    ("2014-11-28 05:05:40", "tor", ("SPE films (mirror list)",)),
    ("2014-11-29 04:10:30", "vpn-fjord", ("SPE data (samples)",)),
    ("2014-12-01 01:30:00", "tor", ("SPE data part 1",) * 3),
    ("2014-12-02 01:15:40", "vpn-kestrel", ("SPE data part 2",)),
    ("2014-12-03 03:05:20", "tor", ("SPE data part 3",) * 2),
    ("2014-12-04 02:30:10", "proxy-b", ("SPE data part 4",)),
    ("2014-12-05 00:55:00", "tor", ("SPE data part 5",) * 2),
    ("2014-12-06 02:20:15", "vpn-fjord", ("SPE data part 5 (index)",)),
    ("2014-12-08 06:34:55", "tor", (STOP_TITLE,) * 3),  # closes slip P1
    ("2014-12-09 01:50:30", "tor", ("SPE data part 6",)),
    ("2014-12-10 02:10:15", "vpn-kestrel", ("SPE data part 7",) * 2),
    ("2014-12-11 01:40:45", "tor", ("SPE data (index)",)),
    ("2014-12-12 03:15:00", "tor", ("SPE data part 8",) * 2),
    ("2014-12-13 03:19:30", "vpn-fjord", ("SPE data part 9",) * 2),  # closes slip P2
    ("2014-12-15 00:35:00", "hosting", ("SPE data part 10",)),
    ("2014-12-16 07:05:10", "tor", ("Warning",) * 3),
    ("2014-12-17 02:00:45", "vpn-kestrel", ("SPE data part 11",)),
    ("2014-12-18 01:30:20", "proxy-a", ("SPE data part 11 (index)",)),
    ("2014-12-19 00:20:00", "tor", ("Message from GOP",) * 2),
    ("2014-12-20 01:10:00", "tor", ("SPE data part 12",)),
)
POSTING_SLIPS = (
    ("2014-12-08 06:31:40", SLIP_POST1_IP, STOP_TITLE),
    ("2014-12-13 03:12:05", SLIP_POST2_IP, "SPE data part 9"),
)
NOISE_POSTERS = (
    (
        "hollywood_watcher",
        "98.200.0.0/14",
        (
            ("2014-11-25 19:10:12", "Sony hack: what we know so far"),
            ("2014-12-01 22:40:55", "Leaked films showing up on torrent sites"),
            ("2014-12-09 18:20:03", "Sony hack timeline (updated)"),
            ("2014-12-17 21:05:40", "Theatres drop The Interview"),
        ),
    ),
    (
        "leakmirror",
        "162.243.0.0/16",
        (
            ("2014-12-01 03:12:00", "mirror: SPE data part 1"),
            ("2014-12-03 04:40:31", "mirror: SPE data part 3"),
            ("2014-12-09 03:02:10", "mirror: SPE data part 6"),
            ("2014-12-12 05:25:45", "mirror: SPE data part 8"),
            ("2014-12-16 09:10:05", "mirror: Warning"),
        ),
    ),
    (
        "netwatch_de",
        "91.32.0.0/12",
        (
            ("2014-12-04 14:33:20", "Destover wiper: notes on the FBI FLASH indicators"),
            ("2014-12-20 10:05:00", "Comments on the FBI attribution statement"),
        ),
    ),
    ("anon_8831", "76.100.0.0/15", (("2014-12-24 04:15:00", "threat against CNN (hoax)"),)),
)


def plan_postings(plan: Plan, cover: CoverPicker) -> list[dict[str, str]]:
    rng = plan.rng
    rows: list[tuple[datetime, int, dict[str, str]]] = []
    seq = 0

    def add(at: datetime, ip: str, persona: str, title: str, cat: str | None) -> None:
        nonlocal seq
        site = SITES[seq % len(SITES)] if persona == PERSONA else "paste"
        row = {
            "time": iso(at),
            "src_ip": ip,
            "persona": persona,
            "channel": "posting",
            "url": posting_url(rng, site),
            "title": title,
        }
        rows.append((at, seq, row))
        seq += 1
        if cat is not None:
            plan.gop.append(GopEvent(at, ip, cat, "posting", "", title))
            if cat == "tor":
                plan.tor_uses.append((ip, at))

    for start, ip, title in POSTING_SLIPS:
        plan.used_ips.add(ip)
        add(t(start), ip, PERSONA, title, "actor")
    for start, kind, titles in POSTING_SESSIONS:
        at = t(start)
        ip, cat = cover.pick(kind, at)
        for n, title in enumerate(titles):
            if n:
                at += timedelta(seconds=rng.randint(150, 420))
            add(at, ip, PERSONA, title, cat)
    for persona, prefix, posts in NOISE_POSTERS:
        ip = plan.host_in(prefix)
        for when, title in posts:
            add(t(when), ip, persona, title, None)
    rows.sort(key=lambda r: (r[0], r[1]))
    out = [r[2] for r in rows]
    for i, row in enumerate(out, start=2):  # line 1 is the header
        for ev in plan.gop:
            if ev.channel == "posting" and iso(ev.time) == row["time"] and ev.ip == row["src_ip"]:
                ev.where = f"evidence/postings.csv line {i}"
    return out


# --------------------------------------------------------------------------------------------
# File-share access log


# (start UTC, cover kind, number of uploads)
WEB_SESSIONS: tuple[tuple[str, str, int], ...] = (
    ("2014-11-26 02:10:00", "vpn-kestrel", 4),
    ("2014-11-27 01:05:00", "tor", 3),
    ("2014-11-28 06:30:00", "tor", 2),
    ("2014-12-01 02:00:00", "tor", 3),
    ("2014-12-02 00:40:00", "vpn-fjord", 2),
    ("2014-12-03 01:43:20", "tor", 3),  # closes slip W1
    ("2014-12-06 03:00:00", "vpn-kestrel", 2),
    ("2014-12-09 01:20:00", "tor", 2),
    ("2014-12-11 02:00:00", "hosting", 3),
    ("2014-12-12 03:40:00", "tor", 2),
    ("2014-12-15 01:10:00", "tor", 2),
    ("2014-12-16 06:40:00", "tor", 3),
    ("2014-12-20 00:20:00", "tor", 2),
)


@dataclass
class LogLine:
    time: datetime
    seq: int
    ip: str
    user: str
    request: str
    status: int
    size: str
    referer: str
    agent: str
    gop_cat: str | None = None
    hostile: str = ""  # "", "script-ua", "invalid-address", "truncated"


def apache_time(dt: datetime) -> str:
    local = dt.astimezone(CET)
    return f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} +0100"


def render_line(line: LogLine) -> str:
    text = (
        f'{line.ip} - {line.user} [{apache_time(line.time)}] "{line.request}" '
        f'{line.status} {line.size} "{line.referer}" "{line.agent}"'
    )
    if line.hostile == "truncated":
        text = text[: text.index('"') + 14]
    return text


def plan_fileshare(plan: Plan, cover: CoverPicker) -> list[LogLine]:
    rng = plan.rng
    lines: list[LogLine] = []
    uploads: list[tuple[datetime, str, int]] = []  # (time, path, size)
    seq = 0
    part = 0

    def add(
        at: datetime,
        ip: str,
        user: str,
        req: str,
        status: int,
        size: str,
        agent: str,
        cat: str | None,
        referer: str = "-",
        hostile: str = "",
    ) -> None:
        nonlocal seq
        lines.append(LogLine(at, seq, ip, user, req, status, size, referer, agent, cat, hostile))
        seq += 1
        if cat is not None:
            plan.gop.append(GopEvent(at, ip, cat, "web", ""))
            if cat == "tor":
                plan.tor_uses.append((ip, at))

    def session(at: datetime, ip: str, cat: str, n_uploads: int, agent: str) -> datetime:
        nonlocal part
        if rng.random() < 0.3:  # a mistyped password first
            add(at, ip, GOP_ACCOUNT, "GET /upload/ HTTP/1.1", 401, "381", agent, cat)
            at += timedelta(seconds=rng.randint(4, 15))
        add(
            at,
            ip,
            GOP_ACCOUNT,
            "GET /upload/ HTTP/1.1",
            200,
            str(rng.randint(2800, 3400)),
            agent,
            cat,
        )
        for _ in range(n_uploads):
            at += timedelta(seconds=rng.randint(25, 170))
            part += 1
            fid = "".join(rng.choice("0123456789abcdef") for _ in range(8))
            path = f"/f/{fid}/SPE_part{part:02d}.zip"
            size = rng.randint(180_000_000, 2_000_000_000)
            add(
                at,
                ip,
                GOP_ACCOUNT,
                "POST /upload/ HTTP/1.1",
                201,
                str(rng.randint(300, 420)),
                agent,
                cat,
                referer="https://share.dropvault.example/upload/",
            )
            uploads.append((at, path, size))
        at += timedelta(seconds=rng.randint(20, 90))
        add(
            at,
            ip,
            GOP_ACCOUNT,
            "GET /upload/list HTTP/1.1",
            200,
            str(rng.randint(4000, 9000)),
            agent,
            cat,
        )
        return at

    # Slip W1: the operator's browser, not Tor Browser, straight from Star JV space.
    plan.used_ips.update({SLIP_WEB_IP, BANGKOK_HOTEL_IP})
    at = t("2014-12-03 01:40:12")
    add(at, SLIP_WEB_IP, GOP_ACCOUNT, "GET /upload/ HTTP/1.1", 200, "3120", SLIP_UA, "actor")
    add(
        at + timedelta(seconds=3),
        SLIP_WEB_IP,
        GOP_ACCOUNT,
        "GET /upload/list HTTP/1.1",
        200,
        "6233",
        SLIP_UA,
        "actor",
    )
    add(
        at + timedelta(seconds=39),
        SLIP_WEB_IP,
        GOP_ACCOUNT,
        "GET /upload/list?page=2 HTTP/1.1",
        200,
        "5871",
        SLIP_UA,
        "actor",
    )
    # The Bangkok hotel upload: 2 Dec 00:25 Bangkok time (UTC+7).
    session(t("2014-12-01 17:25:04"), BANGKOK_HOTEL_IP, "residential", 1, HOTEL_UA)
    for start, kind, n in WEB_SESSIONS:
        ip, cat = cover.pick(kind, t(start))
        session(t(start), ip, cat, n, TOR_BROWSER_UA)

    # Noise: anonymous downloaders worldwide, a few named accounts, two via Tor.
    first, last = t("2014-11-26 00:00:00"), t("2014-12-20 23:00:00")
    span = int((last - first).total_seconds())
    uploads.sort()
    users: list[tuple[str, str, str]] = []  # (ip, user, agent)
    for _ in range(112):
        users.append((plan.host_in(rng.choice(NOISE_PREFIXES)), "-", rng.choice(NOISE_UAS)))
    users.append((plan.host_in("177.40.0.0/13"), "dlfan77", NOISE_UAS[0]))
    users.append((plan.host_in("162.243.0.0/16"), "mirrorbot", "Wget/1.15 (linux-gnu)"))
    users.append((plan.host_in("121.128.0.0/11"), "cinephile_kr", NOISE_UAS[1]))
    for ip, user, agent in users:
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6))):
            at = first + timedelta(seconds=rng.randrange(span))
            done = [u for u in uploads if u[0] < at]
            if not done or rng.random() < 0.12:
                add(
                    at,
                    ip,
                    user,
                    "GET / HTTP/1.1",
                    200,
                    str(rng.randint(5200, 5400)),
                    agent,
                    None,
                    referer=rng.choice(("-", "https://paste.example/")),
                )
                continue
            _, path, size = rng.choice(done[-8:])
            if rng.random() < 0.2:
                add(
                    at,
                    ip,
                    user,
                    f"GET {path} HTTP/1.1",
                    206,
                    str(rng.randint(1, size // 3)),
                    agent,
                    None,
                )
            else:
                add(
                    at,
                    ip,
                    user,
                    f"GET {path} HTTP/1.1",
                    200,
                    str(size),
                    agent,
                    None,
                    referer=rng.choice(("-", "https://paste.example/", "https://t.co/")),
                )
    for ip in cover.noise_exits[:2]:
        at = uploads[0][0] + timedelta(seconds=rng.randrange(3600, span // 2))
        path = [u for u in uploads if u[0] < at][-1][1]
        add(at, ip, "-", f"GET {path} HTTP/1.1", 200, "1048576", TOR_BROWSER_UA, None)
        plan.tor_uses.append((ip, at))

    # Hostile lines: they must end as rejections or as safely escaped data.
    script_ip = plan.host_in("83.40.0.0/15")
    add(
        t("2014-12-04 19:12:44"),
        script_ip,
        "-",
        "GET / HTTP/1.1",
        200,
        "5310",
        "<script>alert(document.cookie)</script>",
        None,
        hostile="script-ua",
    )
    add(
        t("2014-12-07 11:02:19"),
        "999.80.12.4",
        "-",
        "GET / HTTP/1.1",
        200,
        "5310",
        NOISE_UAS[0],
        None,
        hostile="invalid-address",
    )
    add(
        t("2014-12-10 15:47:03"),
        plan.host_in("90.16.0.0/13"),
        "-",
        f"GET {uploads[0][1]} HTTP/1.1",
        200,
        str(uploads[0][2]),
        NOISE_UAS[2],
        None,
        hostile="truncated",
    )

    lines.sort(key=lambda ln: (ln.time, ln.seq))
    by_key = {(ev.time, ev.ip): ev for ev in plan.gop if ev.channel == "web"}
    for n, line in enumerate(lines, start=1):
        ev = by_key.get((line.time, line.ip))
        if ev is not None and line.gop_cat is not None:
            ev.where = f"evidence/fileshare-access.log line {n}"
    return lines


# --------------------------------------------------------------------------------------------
# Tor exit lists


def snapshot_days() -> list[datetime]:
    day = t("2014-11-20 23:02:00")
    out = []
    while day <= t("2014-12-21 23:02:00"):
        out.append(day)
        day += timedelta(days=1)
    return out


def fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def plan_tor(plan: Plan, relays: list[Relay]) -> dict[str, str]:
    """One TorDNSEL snapshot per day; every Tor use is listed shortly before it happened."""
    rng = plan.rng
    downloads = snapshot_days()
    # (download, address) -> ExitAddress time for addresses used in that snapshot's window.
    pinned: dict[tuple[datetime, str], datetime] = {}
    for ip, used_at in sorted(plan.tor_uses):
        seen = used_at - timedelta(minutes=rng.randint(10, 150))
        dl = next(d for d in downloads if d - timedelta(days=1) < seen <= d)
        key = (dl, ip)
        pinned[key] = min(pinned.get(key, seen), seen)
    for ip, used_at in plan.tor_uses:
        assert any(
            abs(v - used_at) <= timedelta(hours=5) for (d, a), v in pinned.items() if a == ip
        ), (ip, used_at)
    files: dict[str, str] = {}
    for dl in downloads:
        out = ["@type tordnsel 1.0", f"Downloaded {fmt(dl)}"]
        for relay in sorted(relays, key=lambda r: r.fingerprint):
            used = any((dl, a) in pinned for a in relay.addresses)
            if not used and not relay.alive_from <= dl - timedelta(hours=2) <= relay.alive_to:
                continue
            times = []
            for addr in relay.addresses:
                pin = pinned.get((dl, addr))
                if pin is None:
                    pin = dl - timedelta(seconds=rng.randrange(60, 23 * 3600))
                times.append(pin.replace(microsecond=0))
            published = min(times) - timedelta(seconds=rng.randrange(3600, 18 * 3600))
            last_status = max(
                published,
                dl.replace(minute=2, second=0) - timedelta(hours=1, seconds=-rng.randrange(30, 59)),
            )
            out.append(f"ExitNode {relay.fingerprint}")
            out.append(f"Published {fmt(published)}")
            out.append(f"LastStatus {fmt(last_status)}")
            for addr, seen in zip(relay.addresses, times, strict=True):
                out.append(f"ExitAddress {addr} {fmt(seen)}")
        files[f"intel/tor-exit-{dl:%Y-%m-%d}.txt"] = "\n".join(out) + "\n"
    return files


# --------------------------------------------------------------------------------------------
# Ground truth and the small files


def ground_truth(
    plan: Plan, mails: list[dict[str, object]], log_lines: list[LogLine]
) -> dict[str, object]:
    events = sorted(plan.gop, key=lambda e: (e.time, e.channel, e.ip))
    cover = {"tor", "vpn", "proxy", "hosting"}
    slips: list[dict[str, object]] = []
    exposed: list[dict[str, object]] = []
    i = 0
    while i < len(events):
        ev = events[i]
        if ev.category in cover:
            i += 1
            continue
        run = [ev]
        while (
            i + len(run) < len(events)
            and events[i + len(run)].ip == ev.ip
            and events[i + len(run)].category not in cover
        ):
            run.append(events[i + len(run)])
        after = events[i + len(run)] if i + len(run) < len(events) else None
        before = events[i - 1] if i else None
        closed = (after.time - run[-1].time).total_seconds() if after else None
        item: dict[str, object] = {
            "ip": ev.ip,
            "category": ev.category,
            "channel": ev.channel,
            "first_seen": iso(run[0].time),
            "last_seen": iso(run[-1].time),
            "events": len(run),
            "where": [e.where for e in run],
            "previous_event_category": before.category if before else None,
            "next_event": (
                {
                    "time": iso(after.time),
                    "ip": after.ip,
                    "category": after.category,
                    "channel": after.channel,
                }
                if after
                else None
            ),
            "closed_after_seconds": closed,
        }
        if ev.category == "actor":
            item["prefix"] = next(c for c in DPRK_RANGES if in_nets(ev.ip, (c,)))
            slips.append(item)
        else:
            exposed.append(item)
        i += len(run)
    covered = sum(1 for e in events if e.category in cover)
    counts: dict[str, int] = {}
    cats: dict[str, int] = {}
    for e in events:
        counts[e.channel] = counts.get(e.channel, 0) + 1
        cats[e.category] = cats.get(e.category, 0) + 1
    return {
        "case": "Sony Pictures Entertainment, Nov-Dec 2014 (reconstruction; not real evidence)",
        "persona": PERSONA,
        "trusted_relays": list(TRUSTED_RELAYS),
        "event_time_rule": (
            "e-mail: the time the receiving side's entry relay (mx1) wrote in "
            "its Received header; log line and posting: their own time"
        ),
        "cover_ratio_if_sender_written_origins_are_not_used": round(
            (covered + sum(1 for e in events if e.origin_trust == "sender-written")) / len(events),
            4,
        ),
        "events": {
            "by_channel": dict(sorted(counts.items())),
            "by_category": dict(sorted(cats.items())),
            "total": len(events),
            "cover": covered,
            "exposed": len(events) - covered,
        },
        "cover_ratio": round(covered / len(events), 4),
        "actor_slips": slips,
        "weak_exposed": exposed,
        "email": mails,
        "fileshare": {
            "lines": len(log_lines),
            "gop_lines": sum(1 for ln in log_lines if ln.gop_cat is not None),
            "hostile": [
                {"line": n, "kind": ln.hostile}
                for n, ln in enumerate(log_lines, start=1)
                if ln.hostile
            ],
        },
        "noise_personas": sorted(
            [
                "Dana Whitfield",
                "hollywood_watcher",
                "leakmirror",
                "netwatch_de",
                "anon_8831",
                "dlfan77",
                "mirrorbot",
                "cinephile_kr",
                "anonymous file-share downloaders",
            ]
        ),
    }


PERSONA_MAP = (
    ("God'sApstls", PERSONA),
    ("godsapstls@inboxer.example", PERSONA),
    # One row serves the display name "GOP" and the file-share account "gop" (matching is
    # case-insensitive, so two rows would be duplicates).
    ("gop", PERSONA),
    ("#GOP", PERSONA),
    (PERSONA, PERSONA),
    (r"re:^peace\.guardian[0-9]{2}@(inboxer|webpost)\.example$", PERSONA),
)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def readme(truth: dict[str, object]) -> str:
    ev = truth["events"]
    assert isinstance(ev, dict)
    slips = truth["actor_slips"]
    assert isinstance(slips, list)
    lines = [
        "# Demo case: Sony Pictures Entertainment, November-December 2014",
        "",
        "A **reconstruction**, not real evidence. Dates, the threat messages' quoted words and",
        "North Korea's address ranges are from the public record; every address, mailbox,",
        "host name, staff name, provider and exact time is invented (see `docs/demo.md`).",
        "Generated by `tools/make_demo_case.py` (seeded; do not edit by hand).",
        "",
        "    slipcatch demo",
        "    # or, by hand:",
        "    slipcatch analyze evidence/mail evidence/postings.csv \\",
        "        evidence/fileshare-access.log \\",
        "        --persona-map evidence/persona-map.csv --intel intel/demo-ranges.csv \\",
        "        --intel intel/tor-exit-*.txt --evidence-file analyst-evidence.yaml \\",
        *[
            f"        --trusted-relay {r}" + (" \\" if n < len(TRUSTED_RELAYS) - 1 else "")
            for n, r in enumerate(TRUSTED_RELAYS)
        ],
        "",
        "Files: `evidence/mail/*.eml` (threat e-mails and one unrelated message),",
        "`evidence/postings.csv` (statements), `evidence/fileshare-access.log` (leak file share,",
        "Apache combined), `evidence/persona-map.csv`, `intel/tor-exit-*.txt` (daily TorDNSEL",
        "snapshots), `intel/demo-ranges.csv` (VPN/proxy/hosting/hotel/ISP ranges),",
        "`ground-truth.json` (what the analysis should recover, machine-readable).",
        "",
        "## Ground truth",
        "",
        f"- Persona **{PERSONA}**: {ev['total']} events, {ev['cover']} under cover "
        f"(Tor, VPN, proxy, hosting): cover ratio {truth['cover_ratio']:.4f}.",
        f"- {len(slips)} slips from North Korean space, on different days, each closed by a "
        "covered event within 1-10 minutes:",
    ]
    for s in slips:
        assert isinstance(s, dict)
        lines.append(
            f"  - {s['first_seen']} {s['channel']} from {s['ip']} ({s['prefix']}), "
            f"{s['events']} event(s), closed after {s['closed_after_seconds']:.0f} s"
        )
    lines += [
        "- Weak, compromisable exposed hops: a Taipei hotel guest network (e-mail via webmail),",
        "  a Japanese residential address named only in a sender-written header (5 Dec employee",
        "  threat), a Bangkok hotel network (file-share upload, 2 Dec 00:25 Bangkok time).",
        "- Everyone else (an unrelated e-mail, other posters, file-share downloaders) is noise.",
        "- The file-share log holds 3 hostile lines: a `<script>` user agent (kept, escaped),",
        "  an invalid address and a truncated line (both rejected).",
        "",
    ]
    return "\n".join(lines)


#: Evidence that is not about addresses, as the FBI stated it in public on 19 Dec 2014
#: (shared/domain/sony-facts.md, "FBI statement"): what an analyst would enter with
#: --evidence-file. Real public claims; the ratios and codes are our judgement.
ANALYST_EVIDENCE = """\
# Analyst evidence for the demo case (slipcatch analyze --evidence-file).
# Source: FBI statement of 19 Dec 2014 (Reuters idINL1N0U31CQ20141219). The FBI gave no
# technical detail in public, hence credibility 3 ("possibly true"); planted code is possible
# (false flags plant code: Olympic Destroyer), hence the false-flag ratio above 1.
evidence:
  - id: fbi-malware-links
    summary: >-
      FBI: the wiper links to malware North Korean actors previously developed (lines of code,
      encryption algorithms, data deletion methods, compromised networks)
    reliability: B3
    personas: [Guardians of Peace]
    likelihoods: {actor: 6, false_flag: 2}
  - id: fbi-darkseoul-similarity
    summary: >-
      FBI: similarities to the March 2013 attack on South Korean banks and media (DarkSeoul)
    reliability: B3
    personas: [Guardians of Peace]
    likelihoods: {actor: 3, false_flag: 1.5}
"""


def build() -> dict[str, bytes]:
    """Every file of the case, by path relative to the case directory."""
    plan = Plan(random.Random(SEED))
    # Reserve the fixed addresses so random picks never collide with them.
    plan.used_ips.update({"46.28.110.23", "46.28.105.41", "46.28.106.77", "24.16.210.45"})
    relays = make_relays(plan)
    cover = CoverPicker(plan, relays)
    files: dict[str, str] = {}

    mail_truth: list[dict[str, object]] = []
    for m, cat, persona in plan_mail(plan, cover):
        text, entry_ip, trust, entered = render_mail(plan, m)
        files[f"evidence/mail/{m.name}"] = text
        mail_truth.append(
            {
                "file": f"evidence/mail/{m.name}",
                "persona": persona,
                "origin_ip": m.client_ip,
                "origin_trust": trust,
                "entry_ip": entry_ip,
                "category": cat,
                "time": iso(entered),
                "origin_hop_time": iso(m.sent),
            }
        )
        if persona == PERSONA:
            # A reader that takes origins only from headers a provider vouches for reports
            # the entry relay instead of a sender-written origin: here a hosting VPS (cover).
            assert trust != "sender-written" or in_nets(entry_ip, (SKYLINE.cidr,))
            plan.gop.append(
                GopEvent(
                    entered,
                    m.client_ip,
                    cat,
                    "email",
                    f"evidence/mail/{m.name}",
                    origin_trust=trust,
                )
            )
            if cat == "tor":
                plan.tor_uses.append((m.client_ip, m.sent))
    mail_truth.sort(key=lambda d: str(d["file"]))

    postings = plan_postings(plan, cover)
    files["evidence/postings.csv"] = csv_text(
        ["time", "src_ip", "persona", "channel", "url", "title"],
        [
            [r["time"], r["src_ip"], r["persona"], r["channel"], r["url"], r["title"]]
            for r in postings
        ],
    )

    log_lines = plan_fileshare(plan, cover)
    files["evidence/fileshare-access.log"] = "".join(render_line(x) + "\n" for x in log_lines)
    files["evidence/persona-map.csv"] = csv_text(
        ["identity", "persona"], [list(r) for r in PERSONA_MAP]
    )
    files.update(plan_tor(plan, relays))
    files["intel/demo-ranges.csv"] = csv_text(
        ["cidr", "category", "label", "valid_from", "valid_to"],
        [[n.cidr, n.category, n.label, n.valid_from, n.valid_to] for n in DEMO_RANGES],
    )

    truth = ground_truth(plan, mail_truth, log_lines)
    check(plan, truth)
    files["ground-truth.json"] = (
        json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    files["README.md"] = readme(truth)
    # What `slipcatch demo` runs: evidence listed file by file (the persona map sits beside
    # them and must not be read as evidence), the intel files and the receiving side.
    files["case.json"] = (
        json.dumps(
            {
                "title": "Sony Pictures Entertainment, Nov-Dec 2014 (reconstruction)",
                "evidence": [
                    "evidence/mail",
                    "evidence/postings.csv",
                    "evidence/fileshare-access.log",
                ],
                "intel": sorted(p for p in files if p.startswith("intel/")),
                "persona_map": "evidence/persona-map.csv",
                "trusted_relays": list(TRUSTED_RELAYS),
                "evidence_file": "analyst-evidence.yaml",
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    files["analyst-evidence.yaml"] = ANALYST_EVIDENCE
    return {path: text.encode("utf-8") for path, text in sorted(files.items())}


def check(plan: Plan, truth: dict[str, object]) -> None:
    """The plan's promises; a change that breaks one fails loudly here."""
    slips = truth["actor_slips"]
    assert isinstance(slips, list) and len(slips) == 4
    assert len({str(s["first_seen"])[:10] for s in slips}) == 4
    for s in slips:
        assert 60 <= s["closed_after_seconds"] <= 600, s
        assert s["next_event"]["category"] in {"tor", "vpn", "proxy", "hosting"}, s
        assert s["previous_event_category"] in {"tor", "vpn", "proxy", "hosting"}, s
    ratio = truth["cover_ratio"]
    assert isinstance(ratio, float) and ratio >= 0.85
    for ev in plan.gop:
        assert ev.where, ev
        if ev.category == "actor":
            assert in_nets(ev.ip, DPRK_RANGES)
        else:
            assert not in_nets(ev.ip, DPRK_RANGES)
        if ev.category in {"vpn", "proxy", "hosting", "residential"}:
            assert in_nets(ev.ip, tuple(n.cidr for n in DEMO_RANGES)), ev


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="case directory to write")
    args = parser.parse_args(argv)
    for rel, data in build().items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

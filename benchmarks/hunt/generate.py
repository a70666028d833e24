"""Seeded Apache combined logs for the hunt benchmark, with planted slips and their truth.

One command (from the repository root)::

    .venv/bin/python benchmarks/hunt/generate.py --lines 2000000 --out /tmp/hunt/access-2m.log

writes the log and, beside it, ``<log>.truth.json``. The log covers three days (2024-01-13 to
2024-01-16 UTC, written in the server's zone +0100), in time order, streamed to disk in chunks
(memory stays flat in the number of lines: only the accounts' events, about 2 % of the lines,
are planned in memory).

What is in it:

* background visitors (authuser ``-``): a pool of client addresses drawn once from the routed
  IPv4 space (actor space, reserved space and the actors' own ASes left out), picked per line
  with a Zipf skew so that about one distinct client per 10 lines is seen (200 k per 2 M); a
  few of them are Tor exits. Each client keeps its browser; paths, methods, statuses, sizes and
  referers follow a site's usual mix, and a few user agents carry a backslash-escaped quote as
  real logs do;
* accounts in the authuser field (one per 700 lines): most log in from one to three home
  addresses (residential or unknown to the pack); some use a VPN for 30 % of their requests
  (below the cover ratio of 0.5: they do not "work under cover"); one in a hundred work under
  cover in sessions (Tor with a new exit every ten minutes, a VPN or a hosting address),
  taken from the real Tor exit list of 2024-01-14 in ``shared/data/tor`` and from the VPN and
  hosting ranges of the default intel pack;
* slips: inside some cover sessions the operator connects directly from actor space (the
  actor registry's ranges: 175.45.176.0/22 and the others the default pack's registry holds),
  for one to four requests, then returns to cover after a planned number of seconds (from a
  second to four hours); some slips start in the same second as the last covered request (a
  tie: covered events sort first), some have an internal (reserved, neutral) request in the
  middle, and one slip is never closed (the account's last requests).

The truth file lists every slip slipcatch must report, as ``slipcatch.analysis.slips`` defines
it, worked out here independently from the planned events: each account's events in time order
(covered events first within a second), neutral events skipped, a slip a maximal run of
exposed events with the same /24, category and actor, in a persona with at least two covered
events that are at least half of its events; closed after the seconds to the next covered
event. The category of every account event is the default pack's answer at the event's time;
the generator checks that the planned cover is cover, the planned actor space actor, and that
the slips it planted are exactly the slips of that definition (and none elsewhere), or stops.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "data"
TOR_LIST = SHARED / "tor" / "torbulkexitlist-x4b-cidr-2024-01-14.txt"

START = datetime(2024, 1, 13, tzinfo=UTC)
DAYS = 3
WINDOW = DAYS * 86400
ZONE = "+0100"
ZONE_SECONDS = 3600
T0 = int(START.timestamp())
MID = T0 + WINDOW // 2

CHUNK = 250_000
LINES_PER_ACCOUNT = 700
LINES_PER_CLIENT = 10
ZIPF_S = 1.0
ZIPF_Q = 2.0

CATS = ("reserved", "tor", "actor", "vpn", "proxy", "hosting", "residential", "unknown")
COVER = frozenset({"tor", "vpn", "proxy", "hosting"})
EXPOSED = frozenset({"actor", "residential", "unknown"})
MIN_COVER_RATIO = 0.5
MIN_COVERED_EVENTS = 2
V4_MAPPED = np.uint64(0xFFFF << 32)


# --------------------------------------------------------------------------- the site


def _site_paths(rng: np.random.Generator, n: int = 4000) -> list[str]:
    words = (
        "about",
        "news",
        "products",
        "support",
        "blog",
        "careers",
        "pricing",
        "docs",
        "contact",
        "team",
        "events",
        "press",
        "partners",
        "security",
        "download",
    )
    out = [
        "/",
        "/index.html",
        "/favicon.ico",
        "/robots.txt",
        "/sitemap.xml",
        "/login",
        "/logout",
        "/account",
        "/account/settings",
        "/search",
        "/wp-login.php",
        "/.env",
        "/api/v1/session",
        "/feed.xml",
    ]
    while len(out) < n:
        kind = rng.integers(0, 7)
        w = words[rng.integers(0, len(words))]
        if kind == 0:
            out.append(
                f"/{w}/{rng.integers(2015, 2025)}/{rng.integers(1, 13):02d}/"
                f"{words[rng.integers(0, len(words))]}-{rng.integers(1, 999)}.html"
            )
        elif kind == 1:
            out.append(f"/static/js/{w}.{rng.integers(0, 1 << 32):08x}.js")
        elif kind == 2:
            out.append(f"/static/css/{w}.{rng.integers(0, 1 << 32):08x}.css")
        elif kind == 3:
            out.append(f"/images/{w}/{rng.integers(1, 5000)}.{('png', 'jpg', 'webp')[kind % 3]}")
        elif kind == 4:
            out.append(f"/api/v1/{w}/{rng.integers(1, 100000)}")
        elif kind == 5:
            out.append(
                f"/search?q={w}+{words[rng.integers(0, len(words))]}&page={rng.integers(1, 9)}"
            )
        else:
            out.append(f"/{w}/{words[rng.integers(0, len(words))]}")
    return out


USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Wget/1.21.3",
    "Mozilla/5.0 (Windows NT 10.0; rv:115.0) Gecko/20100101 Firefox/115.0",  # Tor Browser
    # real logs hold backslash-escaped quotes (docs/formats.md; shared/data/weblogs/beats-*)
    'Mozilla/5.0 (compatible; \\"Scanner\\"; +https://scan.example.net/)',
)
UA_WEIGHTS = np.array([18, 9, 10, 9, 3, 8, 12, 10, 6, 4, 2, 2, 1.5, 1.5, 0.8, 0.5, 0.6, 0.01])
METHODS = ("GET", "POST", "HEAD")
METHOD_P = (0.9, 0.08, 0.02)
PROTOCOLS = ("HTTP/1.1", "HTTP/2.0", "HTTP/1.0")
PROTOCOL_P = (0.72, 0.26, 0.02)
STATUSES = np.array([200, 304, 301, 302, 404, 403, 500, 206])
STATUS_P = np.array([0.79, 0.08, 0.03, 0.03, 0.05, 0.01, 0.005, 0.005])
REFERERS = (
    "-",
    "https://www.example-corp.com/",
    "https://www.google.com/",
    "https://www.example-corp.com/blog/",
    "https://duckduckgo.com/",
    "https://www.bing.com/search?q=example+corp",
    "https://t.co/x7Ykq2",
)
REFERER_P = (0.48, 0.25, 0.12, 0.08, 0.03, 0.02, 0.02)

FIRST = (
    "anna",
    "ben",
    "chen",
    "dmitri",
    "elena",
    "farid",
    "grace",
    "hiro",
    "ines",
    "jonas",
    "kim",
    "lea",
    "marco",
    "nina",
    "omar",
    "paula",
    "quinn",
    "rosa",
    "sven",
    "tara",
    "umar",
    "vera",
    "wei",
    "yara",
    "zoe",
    "li",
    "jun",
    "mei",
    "ali",
    "sara",
)
LAST = (
    "keller",
    "smith",
    "nguyen",
    "garcia",
    "novak",
    "kowalski",
    "tanaka",
    "silva",
    "meyer",
    "rossi",
    "dubois",
    "jensen",
    "park",
    "ivanova",
    "hughes",
    "moreau",
    "berg",
)


def _account_names(rng: np.random.Generator, n: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        f, s = FIRST[rng.integers(0, len(FIRST))], LAST[rng.integers(0, len(LAST))]
        style = rng.integers(0, 5)
        if style == 0:
            name = f"{f}.{s}"
        elif style == 1:
            name = f"{f[0]}{s}"
        elif style == 2:
            name = f"{f}_{s[0]}{rng.integers(1, 99)}"
        elif style == 3:
            name = f"{s}{rng.integers(1, 999)}"
        else:
            name = f"{f}{s[:3]}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


# --------------------------------------------------------------------------- the pack


class Classifier:
    """The default pack's category, actor and AS of IPv4 addresses at given times."""

    def __init__(self) -> None:
        from slipcatch.intel import load_pack

        self.pack = load_pack()
        self.actor_ids = self.pack.actor_ids
        self.actor_asns = {asn for a in self.pack.actors for asn in a.asns}

    def classify(self, ips: np.ndarray, times: np.ndarray | int) -> tuple[np.ndarray, ...]:
        ips = np.asarray(ips, np.uint64)
        t = np.broadcast_to(np.asarray(times, np.int64) * 1_000_000, ips.shape).copy()
        r = self.pack.lookup_arrays(np.zeros(len(ips), np.uint64), V4_MAPPED | ips, t)
        status, _ = self.pack.tor_status(np.zeros(len(ips), np.uint64), V4_MAPPED | ips, t)
        return (np.asarray(r.category), np.asarray(r.actor), np.asarray(r.asn), np.asarray(status))

    def fact_ranges(self, category: str) -> np.ndarray:
        """IPv4 (first, last) of every fact of ``category`` (the pack's fact table; a
        benchmark may read the private table, the library does not offer it)."""
        t = self.pack._d.table
        code = CATS.index(category)
        first = t.first_lo.astype(np.int64) - int(V4_MAPPED)
        last = t.last_lo.astype(np.int64) - int(V4_MAPPED)
        keep = (
            (t.cat == code) & (t.first_hi == 0) & (t.last_hi == 0) & (first >= 0) & (last < 1 << 32)
        )
        return np.stack([first[keep], last[keep]], axis=1)


def _hourly(ci: Classifier, ips: np.ndarray, wanted: frozenset[str]) -> np.ndarray:
    """Which addresses the pack puts in ``wanted`` at every hour of the window."""
    ok = np.ones(len(ips), bool)
    codes = [CATS.index(c) for c in wanted]
    for h in range(0, WINDOW + 1, 3600):
        cat, _, _, _ = ci.classify(ips, T0 + h)
        ok &= np.isin(cat, codes)
    return ok


def _inside(rng: np.random.Generator, ranges: np.ndarray, n: int) -> np.ndarray:
    """``n`` addresses inside random ranges (network and broadcast of a /24 avoided)."""
    pick = ranges[rng.integers(0, len(ranges), n)]
    size = pick[:, 1] - pick[:, 0] + 1
    off = (rng.random(n) * size).astype(np.int64)
    ip = pick[:, 0] + off
    low = ip & 0xFF
    ip = np.where((low == 0) & (size > 2), ip + 1, ip)
    ip = np.where((low == 255) & (size > 2), ip - 1, ip)
    return ip.astype(np.uint64)


@dataclass
class Space:
    """Address sets the accounts and visitors are drawn from."""

    pool: np.ndarray  # background clients, in Zipf rank order
    pool_cat: np.ndarray
    home: np.ndarray  # residential / unknown addresses of the pool
    tor: np.ndarray
    vpn: np.ndarray
    hosting: np.ndarray
    actor: list[np.ndarray]  # per actor range: addresses inside it


def _space(rng: np.random.Generator, ci: Classifier, pool_size: int, tor_path: Path) -> Space:
    exits: list[int] = []
    for line in tor_path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            net = ipaddress.ip_network(line, strict=False)
            if net.version == 4:
                exits.extend(int(a) for a in (net if net.num_addresses == 1 else net.hosts()))
    tor = np.array(sorted(set(exits)), np.uint64)
    tor = tor[_hourly(ci, tor, frozenset({"tor"}))]
    vpn = _inside(rng, ci.fact_ranges("vpn"), 3000)
    vpn = np.unique(vpn[_hourly(ci, vpn, frozenset({"vpn"}))])
    hosting = _inside(rng, ci.fact_ranges("hosting"), 3000)
    hosting = np.unique(hosting[_hourly(ci, hosting, frozenset({"hosting"}))])
    actor = []
    for first, last in ci.fact_ranges("actor"):
        inside = np.arange(first + 1, last, dtype=np.uint64)
        inside = inside[(inside & 0xFF != 0) & (inside & 0xFF != 255)]
        actor.append(inside[_hourly(ci, inside, frozenset({"actor"}))])
    if len(tor) < 50 or len(vpn) < 50 or len(hosting) < 50 or not actor:
        raise SystemExit("the default pack lacks Tor/VPN/hosting/actor ranges for the window")

    # background clients: routed-looking IPv4, no actor, reserved or actor-AS space
    got: list[np.ndarray] = []
    cats: list[np.ndarray] = []
    need = pool_size
    while need > 0:
        cand = np.unique(
            rng.integers(0x01000000, 0xE0000000, int(need * 1.3) + 1000, dtype=np.uint64)
        )
        cat, _, asn, _ = ci.classify(cand, MID)
        ok = (cat != CATS.index("actor")) & (cat != CATS.index("reserved"))
        ok &= ~np.isin(asn, list(ci.actor_asns)) if ci.actor_asns else ok
        got.append(cand[ok])
        cats.append(cat[ok])
        need -= int(ok.sum())
    pool = np.concatenate(got)
    pool_cat = np.concatenate(cats)
    pool, idx = np.unique(pool, return_index=True)
    pool_cat = pool_cat[idx]
    order = rng.permutation(len(pool))[:pool_size]
    pool, pool_cat = pool[order], pool_cat[order]
    # about 0.3 % of the visitors are Tor users
    n_tor = max(1, pool_size // 300)
    at = rng.choice(pool_size, n_tor, replace=False)
    pool[at] = tor[rng.integers(0, len(tor), n_tor)]
    pool_cat[at] = CATS.index("tor")
    home_codes = [CATS.index("residential"), CATS.index("unknown")]
    home = pool[np.isin(pool_cat, home_codes)]
    return Space(pool, pool_cat, home, tor, vpn, hosting, actor)


# --------------------------------------------------------------------------- accounts


@dataclass
class Planted:
    persona: str
    first: int
    last: int
    ip: int
    events: int
    closed_after: int | None


@dataclass
class Account:
    name: str
    kind: str  # "home", "mixed", "cover"
    times: list[int] = field(default_factory=list)
    ips: list[int] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)


def _closed_after(rng: np.random.Generator) -> int:
    u = rng.random()
    if u < 0.6:
        return int(rng.integers(1, 121))
    if u < 0.9:
        return int(rng.integers(121, 3601))
    return int(rng.integers(3601, 14401))


def _cover_account(rng: np.random.Generator, sp: Space, name: str, unclosed: bool) -> Account:
    acct = Account(name, "cover")
    sessions = int(rng.integers(4, 9))
    slot = WINDOW // sessions
    n_slips = int(rng.integers(1, 4))
    slip_at = set(rng.choice(sessions, min(n_slips, sessions), replace=False).tolist())
    if unclosed:
        slip_at.add(sessions - 1)
    own_vpn = sp.vpn[rng.integers(0, len(sp.vpn), 2)]
    own_host = sp.hosting[rng.integers(0, len(sp.hosting), 1)]
    for s in range(sessions):
        kind = str(rng.choice(("tor", "vpn", "hosting"), p=(0.5, 0.3, 0.2)))
        planted: list[Planted] = []
        n_cover = int(rng.integers(8, 41))
        last_slip = unclosed and s == sessions - 1
        j = n_cover if last_slip else int(rng.integers(1, n_cover))
        offs: list[int] = []
        ips: list[int] = []
        t = 0
        cover_ip = _Cover(
            rng,
            sp.tor,
            kind,
            int((own_vpn if kind == "vpn" else own_host)[s % 2 if kind == "vpn" else 0]),
        )

        for i in range(n_cover + 1):
            if i == j and s in slip_at:
                # the slip: one to four direct requests from one actor range's /24
                rng_idx = int(rng.choice(len(sp.actor), p=_actor_p(len(sp.actor))))
                space = sp.actor[rng_idx]
                first_ip = int(space[rng.integers(0, len(space))])
                net = first_ip >> 8
                same_net = space[(space >> np.uint64(8)) == net]
                k = int(rng.integers(1, 5))
                tie = bool(offs) and rng.random() < 0.3
                t = t if tie else t + int(rng.integers(1, 61))
                first_t = t
                members = 0
                for m in range(k):
                    if m:
                        t += int(rng.integers(2, 41))
                    ip = (
                        first_ip
                        if m == 0 or rng.random() < 0.8
                        else int(same_net[rng.integers(0, len(same_net))])
                    )
                    offs.append(t)
                    ips.append(ip)
                    members += 1
                    if m == 0 and k > 1 and rng.random() < 0.2:
                        # an internal request in the middle: reserved, neutral
                        offs.append(t + 1)
                        ips.append(
                            int(ipaddress.IPv4Address("10.20.0.0")) + int(rng.integers(1, 250))
                        )
                        t += 1
                closed = None if last_slip else _closed_after(rng)
                planted.append(Planted(name, first_t, t, first_ip, members, closed))
                if closed is not None:
                    t += closed
                    offs.append(t)
                    ips.append(cover_ip(t))
                continue
            if i == n_cover:
                break
            t += int(rng.integers(1, 45)) if offs else 0
            offs.append(t)
            ips.append(cover_ip(t))
        span = offs[-1]
        room = max(0, slot - span - 60)
        start = T0 + s * slot + int(rng.integers(0, room + 1))
        acct.times.extend(start + o for o in offs)
        acct.ips.extend(ips)
        for p in planted:  # session offsets -> times
            p.first += start
            p.last += start
            acct.planted.append(p)
    return acct


class _Cover:
    """The covered address of a session at a time: a Tor exit that changes every ten minutes,
    or the session's one VPN / hosting address."""

    def __init__(self, rng: np.random.Generator, tor: np.ndarray, kind: str, fixed: int):
        self.rng, self.tor, self.kind, self.fixed = rng, tor, kind, fixed
        self.exit, self.since = int(tor[rng.integers(0, len(tor))]), 0

    def __call__(self, at: int) -> int:
        if self.kind != "tor":
            return self.fixed
        if at - self.since > 600:
            self.exit, self.since = int(self.tor[self.rng.integers(0, len(self.tor))]), at
        return self.exit


def _actor_p(n: int) -> np.ndarray:
    p = np.full(n, 0.3 / max(1, n - 1)) if n > 1 else np.ones(1)
    if n > 1:
        p[0] = 0.7
    return p / p.sum()


def _home_account(rng: np.random.Generator, sp: Space, name: str, mixed: bool) -> Account:
    acct = Account(name, "mixed" if mixed else "home")
    n = int(min(400, 1 + rng.geometric(1 / 12)))
    if mixed:
        n = max(n, 20)
    homes = sp.home[rng.integers(0, len(sp.home), int(rng.integers(1, 4)))]
    times = np.sort(rng.integers(T0, T0 + WINDOW, n))
    ips = homes[rng.integers(0, len(homes), n)]
    if mixed:  # a VPN for 30 % of the requests: never half of them
        vpn = sp.vpn[rng.integers(0, len(sp.vpn))]
        ips[rng.choice(n, int(0.3 * n), replace=False)] = vpn
    acct.times = [int(x) for x in times]
    acct.ips = [int(x) for x in ips]
    return acct


# --------------------------------------------------------------------------- truth


def _network(ip: int) -> str:
    return f"{ipaddress.IPv4Address(ip & 0xFFFFFF00)}/24"


def slips_of(
    name: str, times: np.ndarray, ips: np.ndarray, cats: list[str], actors: list[str | None]
) -> list[dict[str, Any]]:
    """The slips of one persona by the definition in the module docstring."""
    order = sorted(range(len(times)), key=lambda i: (int(times[i]), cats[i] not in COVER))
    covered = sum(1 for c in cats if c in COVER)
    if covered < MIN_COVERED_EVENTS or covered / len(cats) < MIN_COVER_RATIO:
        return []
    runs: list[list[int]] = []
    key: tuple[str, str, str] | None = None
    for i in order:
        if cats[i] in COVER:
            key = None
        elif cats[i] in EXPOSED:
            k = (_network(int(ips[i])), cats[i], actors[i] or "")
            if k == key:
                runs[-1].append(i)
            else:
                runs.append([i])
                key = k
    next_cover: dict[int, int | None] = {}
    upcoming: int | None = None
    for i in reversed(order):
        next_cover[i] = upcoming
        if cats[i] in COVER:
            upcoming = int(times[i])
    out = []
    for run in runs:
        last = int(times[run[-1]])
        closing = next_cover[run[-1]]
        closed = None if closing is None else closing - last
        first = run[0]
        out.append(
            {
                "persona": name,
                "ip": str(ipaddress.IPv4Address(int(ips[first]))),
                "network": _network(int(ips[first])),
                "category": cats[first],
                "attributed_to": actors[first] if cats[first] == "actor" else None,
                "first_seen": _iso(int(times[first])),
                "last_seen": _iso(last),
                "events": len(run),
                "closed_after_seconds": closed,
            }
        )
    return out


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- sizes and time


def _pool_size(draws: int, target: int) -> int:
    """Pool size whose Zipf draws (``draws`` of them) hit about ``target`` distinct clients."""

    def distinct(k: int) -> float:
        w = 1.0 / (np.arange(k, dtype=np.float64) + ZIPF_Q) ** ZIPF_S
        p = w / w.sum()
        return float(np.sum(-np.expm1(draws * np.log1p(-p))))

    lo, hi = target, target * 2
    while distinct(hi) < target and hi < target * 64:
        lo, hi = hi, hi * 2
    for _ in range(30):
        mid = (lo + hi) // 2
        if distinct(mid) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= max(1, target // 1000):
            break
    return hi


def _zipf_cdf(k: int) -> np.ndarray:
    w = 1.0 / (np.arange(k, dtype=np.float64) + ZIPF_Q) ** ZIPF_S
    cdf = np.cumsum(w)
    return cdf / cdf[-1]


def _diurnal() -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of the background lines by minute (a daily cycle in local time,
    busiest about 16:00 +0100) and the minutes' start times (seconds)."""
    minutes = np.arange(DAYS * 1440, dtype=np.float64)
    local_hour = ((minutes / 60.0) + ZONE_SECONDS / 3600) % 24
    density = 1.0 + 0.55 * np.sin(2 * math.pi * (local_hour - 10) / 24)
    cdf = np.concatenate([[0.0], np.cumsum(density)])
    return cdf / cdf[-1], T0 + np.arange(DAYS * 1440 + 1, dtype=np.float64) * 60


# --------------------------------------------------------------------------- rendering


class Renderer:
    """Combined-log lines from integer columns, vectorised with polars (no per-line Python)."""

    def __init__(self, rng: np.random.Generator):
        import pyarrow as pa

        self.pa = pa
        self.paths = pa.array(_site_paths(rng))
        self.path_cdf = _zipf_cdf(len(self.paths))
        self.uas = pa.array(USER_AGENTS)
        self.methods, self.protocols = pa.array(METHODS), pa.array(PROTOCOLS)
        self.referers = pa.array(REFERERS)

    def ua_of(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(USER_AGENTS), n, p=UA_WEIGHTS / UA_WEIGHTS.sum())

    def render(
        self, rng: np.random.Generator, t: np.ndarray, ip: np.ndarray, user: Any, ua: np.ndarray
    ) -> bytes:
        import polars as pl

        pa = self.pa
        n = len(t)
        status = STATUSES[rng.choice(len(STATUSES), n, p=STATUS_P)]
        size = np.exp(rng.normal(8.3, 1.6, n)).astype(np.int64) + 20
        no_body = (status == 304) | (rng.random(n) < 0.01)
        df = pl.DataFrame(
            {
                "t": pl.Series(t + ZONE_SECONDS, dtype=pl.Int64),
                "ip": pl.Series(ip.astype(np.int64)),
                "user": user,
                "method": pl.from_arrow(self.methods.take(pa.array(rng.choice(3, n, p=METHOD_P)))),
                "path": pl.from_arrow(
                    self.paths.take(pa.array(np.searchsorted(self.path_cdf, rng.random(n))))
                ),
                "proto": pl.from_arrow(
                    self.protocols.take(pa.array(rng.choice(3, n, p=PROTOCOL_P)))
                ),
                "status": pl.Series(status).cast(pl.String),
                "size": pl.Series(size),
                "no_body": pl.Series(no_body),
                "ref": pl.from_arrow(
                    self.referers.take(pa.array(rng.choice(len(REFERERS), n, p=REFERER_P)))
                ),
                "ua": pl.from_arrow(self.uas.take(pa.array(ua))),
            }
        )
        ipc = pl.col("ip")
        octets = [(ipc // (1 << s)) % 256 for s in (24, 16, 8, 0)]
        line = pl.concat_str(
            [
                pl.concat_str([o.cast(pl.String) for o in octets], separator="."),
                pl.lit(" - "),
                pl.col("user"),
                pl.lit(" ["),
                pl.from_epoch(pl.col("t"), time_unit="s").dt.strftime("%d/%b/%Y:%H:%M:%S"),
                pl.lit(f' {ZONE}] "'),
                pl.col("method"),
                pl.lit(" "),
                pl.col("path"),
                pl.lit(" "),
                pl.col("proto"),
                pl.lit('" '),
                pl.col("status"),
                pl.lit(" "),
                pl.when(pl.col("no_body"))
                .then(pl.lit("-"))
                .otherwise(pl.col("size").cast(pl.String)),
                pl.lit(' "'),
                pl.col("ref"),
                pl.lit('" "'),
                pl.col("ua"),
                pl.lit('"'),
            ]
        )
        text = df.select(line.str.join("\n")).item()
        return (text + "\n").encode()


# --------------------------------------------------------------------------- generation


@dataclass
class Plan:
    accounts: list[Account]
    times: np.ndarray
    ips: np.ndarray
    owner: np.ndarray  # account index per event
    truth: list[dict[str, Any]]
    actor_lines: int


def _plan_accounts(rng: np.random.Generator, sp: Space, lines: int) -> list[Account]:
    n_acc = max(24, lines // LINES_PER_ACCOUNT)
    n_cover = max(4, n_acc // 100)
    n_mixed = max(2, n_acc // 25)
    names = _account_names(rng, n_acc)
    kinds = ["cover"] * n_cover + ["mixed"] * n_mixed + ["home"] * (n_acc - n_cover - n_mixed)
    kinds = [kinds[i] for i in rng.permutation(n_acc)]
    out = []
    first_cover = kinds.index("cover")
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind == "cover":
            out.append(_cover_account(rng, sp, name, unclosed=i == first_cover))
        else:
            out.append(_home_account(rng, sp, name, mixed=kind == "mixed"))
    return out


def _check_plan(ci: Classifier, accounts: list[Account]) -> Plan:
    """Classify every account event at its time, work out the truth, and check it is what
    was planted."""
    times = np.concatenate([np.array(a.times, np.int64) for a in accounts])
    ips = np.concatenate([np.array(a.ips, np.uint64) for a in accounts])
    owner = np.concatenate([np.full(len(a.times), i, np.int32) for i, a in enumerate(accounts)])
    cat, actor, asn, tor_status = ci.classify(ips, times)
    if (tor_status == 2).any():
        raise SystemExit("the pack's Tor history does not cover the log's window")
    exposed_codes = [CATS.index("residential"), CATS.index("unknown")]
    if (np.isin(cat, exposed_codes) & np.isin(asn, list(ci.actor_asns))).any():
        raise SystemExit("an exposed account address lies in an actor's AS")
    names = [CATS[c] for c in cat]
    acts = [ci.actor_ids[a] if a >= 0 else None for a in actor]
    truth: list[dict[str, Any]] = []
    bounds = np.concatenate([[0], np.cumsum([len(a.times) for a in accounts])])
    for i, a in enumerate(accounts):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        found = slips_of(a.name, times[lo:hi], ips[lo:hi], names[lo:hi], acts[lo:hi])
        planted = [
            {
                "persona": p.persona,
                "ip": str(ipaddress.IPv4Address(p.ip)),
                "first_seen": _iso(p.first),
                "last_seen": _iso(p.last),
                "events": p.events,
                "closed_after_seconds": p.closed_after,
            }
            for p in a.planted
        ]
        seen = [{k: s[k] for k in planted[0]} for s in found] if planted else found
        if seen != planted or any(s["category"] != "actor" for s in found):
            raise SystemExit(
                f"account {a.name}: planted slips {planted} but the definition gives {found}"
            )
        truth.extend(found)
    actor_lines = int((cat == CATS.index("actor")).sum())
    return Plan(accounts, times, ips, owner, truth, actor_lines)


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, total, size):
        yield lo, min(total, lo + size)


def generate(
    lines: int, out: Path, seed: int = 2024, tor_list: Path = TOR_LIST, quiet: bool = False
) -> dict[str, Any]:
    """Write ``lines`` log lines to ``out`` and the truth to ``<out>.truth.json``; return the
    truth document."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    ci = Classifier()
    n_acc_est = max(24, lines // LINES_PER_ACCOUNT)
    bg_est = max(1, lines - n_acc_est * 14)
    pool_size = _pool_size(bg_est, max(1, lines // LINES_PER_CLIENT))
    sp = _space(rng, ci, pool_size, tor_list)
    plan = _check_plan(ci, _plan_accounts(rng, sp, lines))
    n_acc_lines = len(plan.times)
    background = lines - n_acc_lines
    if background < 1:
        raise SystemExit(f"{lines} lines are too few for {len(plan.accounts)} accounts")
    renderer = Renderer(rng)
    client_ua = renderer.ua_of(rng, len(sp.pool))
    account_ua = renderer.ua_of(rng, len(plan.accounts))
    order = np.argsort(plan.times, kind="stable")
    a_times, a_ips, a_owner = plan.times[order], plan.ips[order], plan.owner[order]
    a_names = np.array([a.name for a in plan.accounts], dtype=object)
    cdf, edges = _diurnal()
    zipf = _zipf_cdf(len(sp.pool))
    seen = np.zeros(len(sp.pool), bool)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    written = 0
    import polars as pl

    with tmp.open("wb") as fh:
        taken = 0
        for lo, hi in _chunks(background, CHUNK):
            u = np.sort(lo / background + rng.random(hi - lo) * (hi - lo) / background)
            bt = np.floor(np.interp(u, cdf, edges)).astype(np.int64)
            last = hi == background
            bound = np.inf if last else math.floor(np.interp(hi / background, cdf, edges))
            take = int(np.searchsorted(a_times, bound, side="left")) if not last else len(a_times)
            at, aip, aown = a_times[taken:take], a_ips[taken:take], a_owner[taken:take]
            taken = take
            idx = np.searchsorted(zipf, rng.random(hi - lo))
            seen[idx] = True
            t = np.concatenate([bt, at])
            ip = np.concatenate([sp.pool[idx], aip])
            user = pl.Series(
                np.concatenate([np.full(hi - lo, "-", object), a_names[aown]]), dtype=pl.String
            )
            ua = np.concatenate([client_ua[idx], account_ua[aown]])
            o = np.argsort(t, kind="stable")
            fh.write(renderer.render(rng, t[o], ip[o], user.gather(o), ua[o]))
            written += len(t)
            if not quiet:
                print(f"\r{written:,} / {lines:,} lines", end="", file=sys.stderr, flush=True)
    if not quiet:
        print(file=sys.stderr)
    if written != lines:
        raise SystemExit(f"internal error: wrote {written} lines, not {lines}")
    tmp.replace(out)
    distinct = int(np.unique(np.concatenate([sp.pool[seen], plan.ips])).size)
    kinds = [a.kind for a in plan.accounts]
    truth = {
        "generator": "benchmarks/hunt/generate.py",
        "seed": seed,
        "lines": lines,
        "log": out.name,
        "start": _iso(T0),
        "end": _iso(T0 + WINDOW),
        "zone": ZONE,
        "tor_list": tor_list.name,
        "distinct_clients": distinct,
        "client_pool": len(sp.pool),
        "accounts": len(plan.accounts),
        "cover_accounts": kinds.count("cover"),
        "mixed_accounts": kinds.count("mixed"),
        "account_lines": n_acc_lines,
        "anonymous_lines": background,
        "actor_lines": plan.actor_lines,
        "slips": sorted(plan.truth, key=lambda s: (s["persona"], s["first_seen"])),
        "seconds": round(time.perf_counter() - started, 2),
    }
    truth_path(out).write_text(json.dumps(truth, indent=2) + "\n")
    return truth


def truth_path(log: Path) -> Path:
    return log.with_name(log.name + ".truth.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--out", type=Path, required=True, help="the log to write")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--tor-list", type=Path, default=TOR_LIST)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    truth = generate(args.lines, args.out, args.seed, args.tor_list, args.quiet)
    print(
        f"{truth['lines']:,} lines, {truth['distinct_clients']:,} distinct clients, "
        f"{truth['accounts']:,} accounts ({truth['cover_accounts']} under cover), "
        f"{len(truth['slips'])} planted slips, {truth['seconds']} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

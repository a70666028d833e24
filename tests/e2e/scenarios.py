"""Generated cases for end-to-end tests, written in the contract's file formats.

A scenario is a set of evidence files (a CSV event table) and intel files (TorDNSEL exit-list
snapshots and a CIDR CSV) whose ground truth is known by construction. Addresses:

- Tor exits are drawn from 185.220.101.0/24 and are listed in a dated snapshot near each use;
- commercial VPN endpoints from 198.51.100.0/24 are NOT used (documentation space is reserved);
  instead 45.83.64.0/24 is declared a VPN range in the CIDR list;
- residential users come from 126.0.0.0/16 (declared residential, a Japanese ISP) and
  95.90.0.0/16 (declared residential);
- actor slips come from 175.45.176.0/22 (DPRK Star JV, in the shipped actor registry).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2014, 11, 20, 8, 0, tzinfo=UTC)
TOR_NET = "185.220.101."
VPN_NET = "45.83.64."
RES_NETS = ("126.0.", "95.90.")
ACTOR_NET = "175.45.17"  # + 6..9


@dataclass
class Scenario:
    rows: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    tor_uses: list[tuple[datetime, str]] = field(default_factory=list)

    def add(self, t: datetime, ip: str, persona: str, channel: str = "posting") -> None:
        self.rows.append((t, ip, persona, channel))
        if ip.startswith(TOR_NET):
            self.tor_uses.append((t, ip))

    def write(self, root: Path) -> tuple[list[Path], list[Path]]:
        """Write the evidence table and intel files; return (evidence paths, intel paths)."""
        root.mkdir(parents=True, exist_ok=True)
        events = root / "events.csv"
        with events.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["time", "src_ip", "persona", "channel"])
            for t, ip, persona, channel in sorted(self.rows):
                w.writerow([t.strftime("%Y-%m-%dT%H:%M:%SZ"), ip, persona, channel])
        intel = [self._write_cidrs(root / "ranges.csv")]
        intel.extend(self._write_tor(root / "tor"))
        return [events], intel

    @staticmethod
    def _write_cidrs(path: Path) -> Path:
        path.write_text(
            "cidr,category,label,valid_from,valid_to\n"
            f"{VPN_NET}0/24,vpn,ExampleVPN,2010-01-01,2020-01-01\n"
            f"{RES_NETS[0]}0.0/16,residential,Example JP ISP,2010-01-01,2020-01-01\n"
            f"{RES_NETS[1]}0.0/16,residential,Example DE ISP,2010-01-01,2020-01-01\n",
            encoding="utf-8",
        )
        return path

    def _write_tor(self, folder: Path) -> list[Path]:
        """One TorDNSEL snapshot per day of use, listing every exit used that day."""
        folder.mkdir(exist_ok=True)
        by_day: dict[str, list[tuple[datetime, str]]] = {}
        for t, ip in sorted(self.tor_uses):
            by_day.setdefault(t.strftime("%Y-%m-%d"), []).append((t, ip))
        paths = []
        all_exits = sorted({ip for _, ip in self.tor_uses})
        for day, uses in sorted(by_day.items()):
            last_use = max(t for t, _ in uses)
            downloaded = last_use + timedelta(minutes=5)
            lines = ["@type tordnsel 1.0", f"Downloaded {downloaded:%Y-%m-%d %H:%M:%S}"]
            # Every exit of the scenario is listed in every snapshot (a stable exit set), each
            # tested half an hour before the day's first use.
            first_use = min(t for t, _ in uses)
            tested = first_use - timedelta(minutes=30)
            for n, ip in enumerate(all_exits):
                lines += [
                    f"ExitNode {n:040X}",
                    f"Published {tested - timedelta(hours=2):%Y-%m-%d %H:%M:%S}",
                    f"LastStatus {tested:%Y-%m-%d %H:%M:%S}",
                    f"ExitAddress {ip} {tested:%Y-%m-%d %H:%M:%S}",
                ]
            path = folder / f"exit-list-{day}"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            paths.append(path)
        return paths


def _tor(rng: random.Random) -> str:
    return f"{TOR_NET}{rng.randint(1, 60)}"


def _vpn(rng: random.Random) -> str:
    return f"{VPN_NET}{rng.randint(1, 250)}"


def _res(rng: random.Random) -> str:
    return f"{rng.choice(RES_NETS)}{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _actor(rng: random.Random) -> str:
    return f"{ACTOR_NET}{rng.randint(6, 9)}.{rng.randint(1, 254)}"


def slipping_actor(seed: int = 1, slips: int = 4, persona: str = "Op Shadow") -> Scenario:
    """An operator under Tor/VPN cover who slips ``slips`` times from actor space, each slip
    closed by a covered event 1-6 minutes later, on different days; plus noise users."""
    rng = random.Random(seed)
    sc = Scenario()
    slip_days = set(rng.sample(range(2, 20), slips))
    for day in range(20):
        base = START + timedelta(days=day, hours=rng.randint(0, 8))
        for k in range(3):
            t = base + timedelta(minutes=40 * k + rng.randint(0, 20))
            sc.add(t, _tor(rng) if rng.random() < 0.7 else _vpn(rng), persona)
        if day in slip_days:
            t = base + timedelta(hours=3)
            sc.add(t, _actor(rng), persona)
            sc.add(t + timedelta(minutes=rng.randint(1, 6)), _tor(rng), persona)
    _add_noise(sc, rng)
    return sc


def noise_only(seed: int = 2, persona: str = "Op Noise") -> Scenario:
    """A persona mixing cover and residential addresses, never touching an actor range."""
    rng = random.Random(seed)
    sc = Scenario()
    for day in range(15):
        base = START + timedelta(days=day, hours=rng.randint(0, 10))
        for k in range(4):
            t = base + timedelta(minutes=30 * k + rng.randint(0, 10))
            choice = rng.random()
            ip = _tor(rng) if choice < 0.4 else _vpn(rng) if choice < 0.7 else _res(rng)
            sc.add(t, ip, persona)
    _add_noise(sc, rng)
    return sc


def lone_actor_event(seed: int = 3, persona: str = "Op Lone") -> Scenario:
    """A persona that never uses cover, with one event from actor space."""
    rng = random.Random(seed)
    sc = Scenario()
    for day in range(12):
        t = START + timedelta(days=day, hours=rng.randint(0, 12))
        sc.add(t, _res(rng), persona)
        sc.add(t + timedelta(hours=2), _res(rng), persona)
    sc.add(START + timedelta(days=6, hours=15), _actor(rng), persona)
    return sc


def _add_noise(sc: Scenario, rng: random.Random) -> None:
    for n in range(30):
        t = START + timedelta(minutes=rng.randint(0, 20 * 24 * 60))
        sc.add(t, _res(rng), f"user{n % 7}")

"""The bundled demo case: reproducible from its generator, well-formed, and telling the story
docs/demo.md tells (the slips, the cover, the weak hops), read from the files themselves."""

from __future__ import annotations

import csv
import email
import email.message
import ipaddress
import itertools
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "slipcatch" / "data" / "demo"
TOOL = ROOT / "tools" / "make_demo_case.py"
DOC = ROOT / "docs" / "demo.md"

PERSONA = "Guardians of Peace"
STAR_JV = ipaddress.ip_network("175.45.176.0/22")
KPTC = ipaddress.ip_network("210.52.109.0/24")
CATEGORIES = {"tor", "vpn", "proxy", "hosting", "residential", "reserved", "actor", "unknown"}
COVER = {"tor", "vpn", "proxy", "hosting"}

COMBINED = re.compile(
    r'^(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<req>[^"]*)" (?P<status>\d{3}) '
    r'(?P<size>\d+|-) "(?P<ref>[^"]*)" "(?P<ua>[^"]*)"$'
)
EXIT_LINE = re.compile(r"^ExitAddress (\S+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$")
TOR_LINE = re.compile(
    r"^(ExitNode [0-9A-F]{40}|(Published|LastStatus) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    r"|ExitAddress \S+ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$"
)


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def mails() -> dict[str, email.message.Message]:
    return {
        p.name: email.message_from_bytes(p.read_bytes())
        for p in sorted((DEMO / "evidence" / "mail").glob("*.eml"))
    }


def unfold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def received(msg: email.message.Message) -> list[str]:
    return [unfold(str(v)) for v in msg.get_all("Received", [])]


def hop_time(hop: str) -> datetime:
    return parsedate_to_datetime(hop.rpartition(";")[2].strip()).astimezone(UTC)


def hop_ip(hop: str) -> str:
    """The address a hop says it received from (the last bracketed one in its from-part)."""
    from_part = re.sub(r"helo=\S+", "", hop.split(" by ", 1)[0])
    return re.findall(r"\[(\d+\.\d+\.\d+\.\d+)\]", from_part)[-1]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def persona_map() -> list[tuple[str, str]]:
    _, rows = read_csv(DEMO / "evidence" / "persona-map.csv")
    return [(r["identity"], r["persona"]) for r in rows]


def resolve(*identities: str | None) -> str | None:
    """The contract's rule: exact identity case-insensitively, or ``re:`` pattern."""
    for identity, persona in persona_map():
        for ident in identities:
            if not ident:
                continue
            if identity.startswith("re:"):
                if re.search(identity[3:], ident):
                    return persona
            elif identity.casefold() == ident.casefold():
                return persona
    return None


def mail_persona(msg: email.message.Message) -> str:
    ((name, addr),) = getaddresses([str(msg["From"])])
    return resolve(name, addr) or name or addr


def tor_exits() -> dict[str, list[datetime]]:
    out: dict[str, list[datetime]] = {}
    for path in sorted((DEMO / "intel").glob("tor-exit-*.txt")):
        for line in path.read_text(encoding="ascii").splitlines():
            m = EXIT_LINE.match(line)
            if m:
                when = datetime.fromisoformat(m.group(2)).replace(tzinfo=UTC)
                out.setdefault(m.group(1), []).append(when)
    return out


def demo_ranges() -> list[dict[str, str]]:
    return read_csv(DEMO / "intel" / "demo-ranges.csv")[1]


@dataclass(frozen=True)
class Ev:
    time: datetime
    ip: str
    channel: str
    where: str


def gop_events() -> list[Ev]:
    """Every act of the persona, read from the evidence files as the contract describes."""
    out = []
    for name, msg in mails().items():
        if mail_persona(msg) == PERSONA:
            # Dated by the receiving side's entry relay (mx1, the third hop from the top);
            # sourced from the client address at the bottom of the chain.
            hops = received(msg)
            out.append(Ev(hop_time(hops[2]), hop_ip(hops[-1]), "email", name))
    _, rows = read_csv(DEMO / "evidence" / "postings.csv")
    for n, row in enumerate(rows, start=2):
        if row["persona"] == PERSONA:
            when = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
            out.append(Ev(when, row["src_ip"], "posting", f"postings.csv line {n}"))
    log = (DEMO / "evidence" / "fileshare-access.log").read_text(encoding="utf-8")
    for n, line in enumerate(log.splitlines(), start=1):
        m = COMBINED.match(line)
        if m and resolve(m["user"]) == PERSONA:
            when = datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
            out.append(Ev(when, m["ip"], "web", f"fileshare-access.log line {n}"))
    return sorted(out, key=lambda e: (e.time, e.channel))


def category(ip: str, at: datetime) -> str:
    """What the demo's own intel plus the public DPRK ranges say ``ip`` was at ``at``."""
    addr = ipaddress.ip_address(ip)
    if addr in STAR_JV or addr in KPTC:
        return "actor"
    if any(abs(t - at) <= timedelta(hours=6) for t in tor_exits().get(ip, [])):
        return "tor"
    for row in demo_ranges():
        if addr in ipaddress.ip_network(row["cidr"]):
            return row["category"]
    return "unknown"


def slips(events: list[Ev]) -> list[tuple[list[Ev], Ev]]:
    """Runs of events from actor space, each with the persona's next event."""
    out = []
    i = 0
    while i < len(events):
        if category(events[i].ip, events[i].time) != "actor":
            i += 1
            continue
        run = [events[i]]
        while events[i + len(run)].ip == events[i].ip:
            run.append(events[i + len(run)])
        out.append((run, events[i + len(run)]))
        i += len(run)
    return out


# ------------------------------------------------------------------------------------------


def test_regenerating_gives_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    subprocess.run([sys.executable, str(TOOL), "--out", str(out)], check=True, capture_output=True)
    committed, fresh = tree(DEMO), tree(out)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in committed if committed[name] != fresh[name]]
    assert changed == []


def test_case_has_the_documented_files() -> None:
    files = tree(DEMO)
    assert len([f for f in files if f.startswith("evidence/mail/")]) == 9
    assert len([f for f in files if f.startswith("intel/tor-exit-")]) == 32
    for name in (
        "README.md",
        "ground-truth.json",
        "evidence/postings.csv",
        "evidence/fileshare-access.log",
        "evidence/persona-map.csv",
        "intel/demo-ranges.csv",
    ):
        assert name in files


def test_every_mail_parses_with_a_received_chain_whose_times_rise_going_up() -> None:
    found = mails()
    assert len(found) == 9
    for name, msg in found.items():
        assert not msg.defects, name
        hops = received(msg)
        assert len(hops) >= 4, name
        times = [hop_time(h) for h in hops]
        for upper, lower in itertools.pairwise(times):
            assert timedelta(seconds=1) <= upper - lower <= timedelta(seconds=30), name
        # The victim's relays are at the top, the client address at the bottom.
        assert hops[0].startswith("from mail-gw.spe.example (10.20.1.15) by EXHUB0"), name
        assert "by mail-gw.spe.example (Postfix)" in hops[1], name
        assert "by mx1.spe.example (Postfix)" in hops[2], name
        assert ipaddress.ip_address(hop_ip(hops[-1])).is_global, name
        assert msg.get_payload(decode=True), name


def test_mail_header_styles_and_origin_kinds() -> None:
    found = mails()
    text = "\n".join("\n".join(received(m)) for m in found.values())
    assert "(Exim 4.84)" in text and "with esmtpsa" in text
    assert "with ESMTPSA" in text and "Microsoft SMTP Server" in text
    assert "with HTTP;" in text
    xoip = {n: str(m["X-Originating-IP"]) for n, m in found.items() if m["X-Originating-IP"]}
    assert xoip == {
        "2014-11-28-data-links-slip.eml": "[175.45.176.71]",
        "2014-12-10-re-sony-pictures-data.eml": "[61.216.152.77]",
    }
    # The 5 Dec threat names its client only in a header the sender's own server wrote.
    threat = received(found["2014-12-05-employee-threat.eml"])
    assert len(threat) == 4
    assert "by vps77.skyline-vps.example" in threat[-1] and "Authenticated" not in threat[-1]
    assert hop_ip(threat[-1]) == "126.209.87.154"
    assert hop_ip(threat[-2]) == "46.28.106.77"


def test_mail_personas_resolve_through_the_persona_map() -> None:
    personas = {name: mail_persona(m) for name, m in mails().items()}
    assert personas == {
        "2014-11-21-notice-to-spe.eml": PERSONA,
        "2014-11-28-data-links-resent.eml": PERSONA,
        "2014-11-28-data-links-slip.eml": PERSONA,
        "2014-12-01-data-part-2-links.eml": PERSONA,
        "2014-12-02-screening-schedule.eml": "Dana Whitfield",
        "2014-12-05-employee-threat.eml": PERSONA,
        "2014-12-10-re-sony-pictures-data.eml": PERSONA,
        "2014-12-16-warning.eml": PERSONA,
        "2014-12-18-message-from-gop.eml": PERSONA,
    }


def test_real_quotes_are_in_the_messages_they_belong_to() -> None:
    def body(name: str) -> str:
        payload = mails()[name].get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode("utf-8")

    assert "Pay the damage, or Sony Pictures will be bombarded as a whole." in body(
        "2014-11-21-notice-to-spe.eml"
    )
    assert "From God'sApstls" in body("2014-11-21-notice-to-spe.eml")
    assert "Please sign your name to object the false of the company" in body(
        "2014-12-05-employee-threat.eml"
    )
    assert "Remember the 11th of September 2001" in body("2014-12-16-warning.eml")
    assert "It's very wise that you have made the decision to cancel the release" in body(
        "2014-12-18-message-from-gop.eml"
    )


def test_csv_files_have_the_contract_headers() -> None:
    assert read_csv(DEMO / "evidence" / "postings.csv")[0] == [
        "time",
        "src_ip",
        "persona",
        "channel",
        "url",
        "title",
    ]
    assert read_csv(DEMO / "evidence" / "persona-map.csv")[0] == ["identity", "persona"]
    assert read_csv(DEMO / "intel" / "demo-ranges.csv")[0] == [
        "cidr",
        "category",
        "label",
        "valid_from",
        "valid_to",
    ]


def test_postings_rows_are_well_formed() -> None:
    _, rows = read_csv(DEMO / "evidence" / "postings.csv")
    assert 30 <= len(rows) <= 60
    times = [datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in rows]
    assert times == sorted(times)
    assert all(t.tzinfo is not None and t.year == 2014 and t.month in (11, 12) for t in times)
    assert {r["channel"] for r in rows} == {"posting"}
    assert all(ipaddress.ip_address(r["src_ip"]).is_global for r in rows)
    personas = sorted({r["persona"] for r in rows})
    assert personas == [PERSONA, "anon_8831", "hollywood_watcher", "leakmirror", "netwatch_de"]
    assert sum(r["persona"] == PERSONA for r in rows) == 37
    titles = {r["title"] for r in rows if r["persona"] == PERSONA}
    assert {"Warning", "Message from GOP"} <= titles
    assert any(t.startswith("Stop immediately showing the movie of terrorism") for t in titles)


def test_persona_map_rows_are_well_formed() -> None:
    rows = persona_map()
    assert len(rows) == 6
    seen = set()
    for identity, persona in rows:
        assert identity.strip() == identity and identity
        assert persona == PERSONA
        assert identity.casefold() not in seen  # matching is case-insensitive: no duplicates
        seen.add(identity.casefold())
        if identity.startswith("re:"):
            re.compile(identity[3:])
    assert resolve("peace.guardian42@webpost.example") == PERSONA
    assert resolve("peace.guardian42@gmail.example") is None
    assert resolve("GOP") == resolve("gop") == PERSONA


def test_demo_ranges_are_well_formed_and_cover_2014() -> None:
    rows = demo_ranges()
    assert len(rows) == 10
    for row in rows:
        net = ipaddress.ip_network(row["cidr"])  # strict: no host bits
        assert net.is_global
        assert not net.overlaps(STAR_JV) and not net.overlaps(KPTC)
        assert row["category"] in CATEGORIES and row["label"]
        start = datetime.fromisoformat(row["valid_from"])
        end = datetime.fromisoformat(row["valid_to"])
        assert start <= datetime(2014, 1, 1) and end >= datetime(2015, 1, 1)
    labels = {r["label"]: r["category"] for r in rows}
    assert labels["hotel guest network, Taipei"] == "residential"
    assert labels["hotel guest network, Bangkok"] == "residential"
    assert sorted(r["category"] for r in rows).count("vpn") == 2


def test_tor_lists_are_well_formed_tordnsel_snapshots() -> None:
    files = sorted((DEMO / "intel").glob("tor-exit-*.txt"))
    for path in files:
        lines = path.read_text(encoding="ascii").splitlines()
        assert lines[0] == "@type tordnsel 1.0"
        m = re.fullmatch(r"Downloaded (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", lines[1])
        assert m
        downloaded = datetime.fromisoformat(m.group(1))
        assert path.name == f"tor-exit-{downloaded:%Y-%m-%d}.txt"
        assert lines[2].startswith("ExitNode ")
        for line in lines[2:]:
            assert TOR_LINE.match(line), (path.name, line)
            exit_line = EXIT_LINE.match(line)
            if exit_line:
                assert ipaddress.ip_address(exit_line.group(1)).is_global
                seen = datetime.fromisoformat(exit_line.group(2))
                assert downloaded - timedelta(days=1) < seen <= downloaded
    assert len(tor_exits()) == 33


def test_every_gop_use_of_a_tor_exit_is_listed_within_six_hours() -> None:
    exits = tor_exits()
    tor_events = [e for e in gop_events() if e.ip in exits]
    assert len(tor_events) == 68
    for ev in tor_events:
        assert any(abs(t - ev.time) <= timedelta(hours=6) for t in exits[ev.ip]), ev


def test_every_gop_address_is_known_to_the_demo_intel() -> None:
    cats = [category(e.ip, e.time) for e in gop_events()]
    assert "unknown" not in cats
    counts = {c: cats.count(c) for c in sorted(set(cats))}
    assert counts == {"actor": 6, "hosting": 6, "proxy": 3, "residential": 5, "tor": 68, "vpn": 25}


def test_cover_ratio_is_as_documented() -> None:
    events = gop_events()
    covered = sum(category(e.ip, e.time) in COVER for e in events)
    assert (covered, len(events)) == (102, 113)
    assert covered / len(events) >= 0.85


def test_slips_are_where_the_docs_say() -> None:
    events = gop_events()
    assert sum(ipaddress.ip_address(e.ip) in STAR_JV for e in events) == 5
    assert sum(ipaddress.ip_address(e.ip) in KPTC for e in events) == 1
    found = slips(events)
    summary = [
        (
            run[0].channel,
            run[0].ip,
            run[0].time.isoformat(),
            len(run),
            (nxt.time - run[-1].time).total_seconds(),
        )
        for run, nxt in found
    ]
    assert summary == [
        ("email", "175.45.176.71", "2014-11-28T02:14:13+00:00", 1, 270.0),
        ("web", "175.45.179.36", "2014-12-03T01:40:12+00:00", 3, 149.0),
        ("posting", "210.52.109.22", "2014-12-08T06:31:40+00:00", 1, 195.0),
        ("posting", "175.45.177.140", "2014-12-13T03:12:05+00:00", 1, 445.0),
    ]
    assert [run[0].where for run, _ in found] == [
        "2014-11-28-data-links-slip.eml",
        "fileshare-access.log line 126",
        "postings.csv line 22",
        "postings.csv line 35",
    ]
    for _, nxt in found:
        assert category(nxt.ip, nxt.time) in COVER


def test_weak_hops_are_where_the_docs_say() -> None:
    exposed = [
        (e.channel, e.ip, e.time.isoformat())
        for e in gop_events()
        if category(e.ip, e.time) == "residential"
    ]
    assert exposed == [
        ("web", "171.97.64.18", "2014-12-01T17:25:04+00:00"),
        ("web", "171.97.64.18", "2014-12-01T17:26:47+00:00"),
        ("web", "171.97.64.18", "2014-12-01T17:27:35+00:00"),
        ("email", "126.209.87.154", "2014-12-05T13:05:31+00:00"),
        ("email", "61.216.152.77", "2014-12-10T12:40:09+00:00"),
    ]


def test_fileshare_log_noise_and_hostile_lines() -> None:
    lines = (DEMO / "evidence" / "fileshare-access.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 396
    bad = []
    users = set()
    for n, line in enumerate(lines, start=1):
        m = COMBINED.match(line)
        try:
            ok = m is not None and ipaddress.ip_address(m["ip"]).is_global
        except ValueError:
            ok = False
        if not ok:
            bad.append(n)
        elif m is not None:
            users.add(m["user"])
    assert bad == [189, 232]
    assert lines[188].startswith("999.80.12.4 ")
    assert [n for n, line in enumerate(lines, start=1) if "<script>" in line] == [159]
    assert users == {"-", "gop", "dlfan77", "mirrorbot", "cinephile_kr"}
    assert sum(" gop [" in line for line in lines) == 68


def test_ground_truth_file_agrees_with_the_evidence() -> None:
    truth = json.loads((DEMO / "ground-truth.json").read_text(encoding="utf-8"))
    assert truth["persona"] == PERSONA
    assert truth["events"]["total"] == len(gop_events()) == 113
    assert truth["cover_ratio"] == pytest.approx(102 / 113, abs=1e-4)
    assert [
        (s["ip"], s["first_seen"], s["closed_after_seconds"]) for s in truth["actor_slips"]
    ] == [
        ("175.45.176.71", "2014-11-28T02:14:13Z", 270.0),
        ("175.45.179.36", "2014-12-03T01:40:12Z", 149.0),
        ("210.52.109.22", "2014-12-08T06:31:40Z", 195.0),
        ("175.45.177.140", "2014-12-13T03:12:05Z", 445.0),
    ]
    assert [h["line"] for h in truth["fileshare"]["hostile"]] == [159, 189, 232]


def test_docs_state_the_same_ground_truth() -> None:
    doc = DOC.read_text(encoding="utf-8")
    truth = json.loads((DEMO / "ground-truth.json").read_text(encoding="utf-8"))
    for s in truth["actor_slips"]:
        assert s["ip"] in doc and s["first_seen"] in doc
        assert f"{s['closed_after_seconds']:.0f} s" in doc
    assert "102 of 113" in doc and "0.9027" in doc
    for ip in ("61.216.152.77", "126.209.87.154", "171.97.64.18"):
        assert ip in doc
    for row in demo_ranges():
        assert row["cidr"] in doc

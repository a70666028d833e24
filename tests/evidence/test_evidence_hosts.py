"""IIS W3C, Squid, vsftpd and the syslog lines beyond sshd logins (PAM ``rhost=``, ``message
repeated``, ftpd, Postfix, Dovecot): golden tests on the real samples in shared/data/today
(expected values read from the raw lines), the year options, and recognition that says "not
supported" once per file."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile.corpus import auth_long_lines
from slipcatch.evidence import ReadOptions, authlog, iis, ingest, squid, vsftpd
from slipcatch.evidence._ingest import scores
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

TODAY = "today"


def _read(path: Path, options: ReadOptions | None = None):  # type: ignore[no-untyped-def]
    result = ingest(path, options or ReadOptions())
    [acct] = result.files
    return acct, result.events, Counter(r.reason for r in result.rejections), result.rejections


# -- IIS --------------------------------------------------------------------------------------


def test_iis_tunna_log_is_read_not_sniffed_as_sshd(shared_data: Path) -> None:
    p = shared_data / TODAY / "iis-w3c/evtxattack-Tunna_rdp_tunnel_IIS-part1.log"
    assert scores(Source(p, ReadOptions()))["authlog"] == 0.0
    acct, events, _reasons, _ = _read(p)
    # 2600 lines: 4 directives, the repo author's "# Default traces" comment, one blank line;
    # 2594 records, of which 1390 distinct lines (`sort -u`); a line repeated in the same
    # second is the same record again (a duplicate), as for every reader.
    assert (acct.format, acct.confidence) == ("iis", 0.95)
    assert (acct.records, acct.events, acct.rejected, acct.duplicates) == (2594, 1390, 0, 1204)
    first = events[0]
    assert first.time == datetime(2019, 9, 3, 10, 13, 36, tzinfo=UTC)
    assert (first.src_ip, first.persona, first.channel) == ("10.0.2.17", "(anonymous)", "web")
    assert first.attributes["path"] == "/erp/conn.aspx?proxy&port=3389&ip=127.0.0.1"
    assert (first.attributes["method"], first.attributes["status"]) == ("GET", "200")
    assert (first.attributes["s-ip"], first.attributes["time-taken"]) == ("10.0.2.15", "7")
    assert events[-1].time == datetime(2019, 9, 3, 10, 24, 58, tzinfo=UTC)
    assert {e.src_ip for e in events} == {"10.0.2.17"}


def test_iis6_with_sitename(shared_data: Path) -> None:
    acct, events, _reasons, _ = _read(shared_data / TODAY / "iis-w3c/plaso-iis6.log")
    assert (acct.records, acct.events, acct.rejected) == (12, 12, 0)
    assert Counter(e.src_ip for e in events) == {"22.22.22.200": 9, "10.10.10.100": 2,
                                                 "222.222.222.222": 1}  # fmt: skip
    last = events[-1]
    assert last.time == datetime(2015, 10, 16, 13, 1, 2, tzinfo=UTC)
    assert last.attributes["path"] == "/foo/bar/baz.asp?ID=ERROR[`cat%20passwd|echo`]"
    assert (last.attributes["s-sitename"], last.attributes["status"]) == ("SOME1234NAME", "500")


def test_iis_rejections(tmp_path: Path) -> None:
    p = tmp_path / "u_ex.log"
    p.write_text(
        "2014-01-01 00:00:00 1.1.1.1 GET / 200\n"  # before any #Fields
        "#Fields: date time c-ip cs-username cs-method cs-uri-stem sc-status\n"
        "2014-01-01 00:00:01 1.1.1.1 bob GET /a 200\n"
        "2014-01-01 00:00:02 1.1.1.1 GET /a\n"
        "2014-01-01 00:00:03 - - GET /a 200\n"
        "2014-01-01 00:00:04 999.1.1.1 - GET /a 200\n"
        "2014-13-01 00:00:05 1.1.1.1 - GET /a 200\n"
        "#Fields: c-ip cs-method\n"
        "1.1.1.1 GET\n"
    )
    acct, events, _reasons, rejections = _read(p)
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("iis", 7, 1, 6)
    assert [r.reason for r in rejections] == [
        "unparsed-line", "column-count", "missing-address", "bad-address", "bad-time",
        "missing-time",
    ]  # fmt: skip
    assert (events[0].persona, events[0].attributes["path"]) == ("bob", "/a")


def test_iis_time_only_block_and_byte_order_mark(tmp_path: Path) -> None:
    p = tmp_path / "u_ex130730.log"
    p.write_bytes(
        b"\xef\xbb\xbf#Software: Microsoft Internet Information Services 7.5\r\n"
        b"#Date: 2013-07-30 00:00:00\r\n#Fields: time c-ip cs-method cs-uri-stem\r\n"
        b"00:00:05 198.51.100.3 GET /owa/\r\n"
    )
    acct, events, _, _ = _read(p)
    assert (acct.format, acct.records, acct.events) == ("iis", 1, 1)
    assert events[0].time == datetime(2013, 7, 30, 0, 0, 5, tzinfo=UTC)  # the #Date's day


# -- Squid ------------------------------------------------------------------------------------


def test_squid_native(shared_data: Path) -> None:
    acct, events, _reasons, _ = _read(shared_data / TODAY / "squid/beats-squid-access1-head12.log")
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("squid", 12, 12, 0)
    first = events[0]
    assert first.time == datetime(2006, 9, 8, 4, 21, 52, 49000, tzinfo=UTC)  # 1157689312.049
    assert (first.src_ip, first.persona, first.channel) == ("10.105.21.199", "badeyek", "proxy")
    assert first.attributes == {
        "bytes": "19763", "elapsed_ms": "5006", "hierarchy": "DIRECT", "method": "CONNECT",
        "peer": "209.73.177.115", "result": "TCP_MISS", "status": "200",
        "url": "login.yahoo.com:443",
    }  # fmt: skip
    assert Counter(e.attributes["result"] for e in events) == {
        "TCP_MISS": 5, "TCP_REFRESH_HIT": 4, "TCP_HIT": 3,
    }  # fmt: skip


# -- vsftpd -----------------------------------------------------------------------------------


def test_vsftpd_native(shared_data: Path) -> None:
    acct, events, _reasons, _ = _read(shared_data / TODAY / "ftpd/plaso-vsftpd.log")
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("vsftpd", 25, 25, 0)
    first = events[0]
    assert first.time == datetime(2016, 6, 6, 18, 43, 28, tzinfo=UTC)
    assert (first.src_ip, first.persona, first.channel) == ("192.168.1.9", "(anonymous)", "ftp")
    assert (first.attributes["outcome"], first.attributes["action"]) == ("connect", "connect")
    # 4 CONNECT lines (no user yet), 13 by [jean], 8 by [ftp] (anonymous FTP)
    assert Counter(e.persona for e in events) == {"jean": 13, "ftp": 8, "(anonymous)": 4}
    fails = [e for e in events if e.attributes["outcome"] == "failed"]
    assert [(e.src_ip, e.attributes["action"]) for e in fails] == [
        ("192.168.1.9", "download"),
        ("192.168.1.7", "download"),
    ]


# -- syslog -----------------------------------------------------------------------------------


def test_plaso_sshd_with_year_option(shared_data: Path) -> None:
    acct, events, reasons, _rejections = _read(
        shared_data / TODAY / "syslog-sshd/plaso-syslog_ssh.log", ReadOptions(year=2015)
    )
    # 9 lines: "Server listening" and "Connection from" name no login; 7 logins (two spaces
    # after the colon, "port 42532  ssh2", and a Failed line without "ssh2" included)
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("authlog", 9, 7, 2)
    assert reasons == {"no-client-event": 2}
    first = events[0]
    assert first.time == datetime(2015, 3, 11, 19, 26, 39, tzinfo=UTC)
    assert (first.src_ip, first.persona) == ("192.168.0.1", "plaso")
    assert first.attributes["year_source"] == "option"
    assert {e.src_ip for e in events} == {
        "192.0.2.60", "188.124.3.41", "192.168.0.1", "1:db8:a0b:12f0::1", "2001:db8:a0b:12f0::1",
    }  # fmt: skip
    # without --year the year of this 2015 log would come from the copy's mtime
    _, undated, _, _ = _read(shared_data / TODAY / "syslog-sshd/plaso-syslog_ssh.log")
    assert {e.attributes["year_source"] for e in undated} == {"mtime"}


def test_dovecot_logins_and_auth_workers(shared_data: Path) -> None:
    acct, events, _reasons, _ = _read(
        shared_data / TODAY / "mail-postfix-dovecot/crowdsec-dovecot-logs.log",
        ReadOptions(year=2015),
    )
    assert (acct.records, acct.events, acct.rejected) == (15, 15, 0)
    first = events[0]  # line 3, the earliest: Sep 8 07:16:27 imap-login ... auth failed
    assert first.time == datetime(2015, 9, 8, 7, 16, 27, tzinfo=UTC)
    assert (first.src_ip, first.persona, first.channel) == ("1.1.1.1", "toto@toto.com", "imap")
    assert (first.attributes["outcome"], first.attributes["local_ip"]) == ("failed", "7.7.7.7")
    assert Counter(e.channel for e in events) == {"dovecot": 8, "pop3": 4, "imap": 3}
    logins = [e for e in events if e.attributes["outcome"] == "accepted"]
    assert [(e.persona, e.src_ip) for e in logins] == [("test@yourdomain.net", "172.17.0.1")]
    assert "needle" in {e.persona for e in events}  # pam(needle,5.34.207.161)


def test_postfix_lines(shared_data: Path) -> None:
    acct, events, _reasons, _ = _read(
        shared_data / TODAY / "mail-postfix-dovecot/crowdsec-postfix-logs.log",
        ReadOptions(year=2015),
    )
    assert (acct.records, acct.events, acct.rejected) == (7, 7, 0)
    assert {(e.src_ip, e.channel) for e in events} == {("192.168.1.1", "smtp")}
    assert Counter(e.attributes["outcome"] for e in events) == {
        "reject": 4, "non-smtp-command": 2, "failed": 1,
    }  # fmt: skip
    sasl = [e for e in events if e.attributes["outcome"] == "failed"]
    assert sasl[0].attributes["method"] == "LOGIN"


SYSLOG = (
    "Mar  1 10:00:00 h sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 "
    "euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root\n"
    "Mar  1 10:00:01 h sshd[1]: PAM 2 more authentication failures; logname= uid=0 euid=0 "
    "tty=ssh ruser= rhost=203.0.113.5  user=root\n"
    "Mar  1 10:00:02 h sshd[2]: message repeated 5 times: [ Failed password for root from "
    "203.0.113.6 port 2222 ssh2]\n"
    "Mar  1 10:00:03 h ftpd[3]: connection from host.example (203.0.113.7)\n"
    "Mar  1 10:00:04 h ftpd[3]: connection from 203.0.113.8\n"
    "Mar  1 10:00:05 h postfix/smtpd[4]: 4F1A2B: client=mail.example[203.0.113.9], "
    "sasl_method=LOGIN, sasl_username=carol\n"
    "Mar  1 10:00:06 h sshd[5]: pam_unix(sshd:auth): authentication failure; logname= uid=0 "
    "euid=0 tty=ssh ruser= rhost=scanner.example\n"
    "Mar  1 10:00:07 h su[6]: pam_unix(su:auth): authentication failure; logname=bob uid=1 "
    "euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=root\n"
)


def test_pam_repeated_ftpd_postfix(tmp_path: Path) -> None:
    p = tmp_path / "auth.log"
    p.write_text(SYSLOG)
    acct, events, _reasons, rejections = _read(p, ReadOptions(year=2016))
    assert (acct.records, acct.events, acct.rejected) == (8, 6, 2)
    got = [(e.src_ip, e.persona, e.channel, e.attributes.get("outcome")) for e in events]
    assert got == [
        ("203.0.113.5", "root", "ssh", "failed"),
        ("203.0.113.5", "root", "ssh", "failed"),
        ("203.0.113.6", "root", "ssh", "failed"),
        ("203.0.113.7", "(anonymous)", "ftp", "connect"),
        ("203.0.113.8", "(anonymous)", "ftp", "connect"),
        ("203.0.113.9", "carol", "smtp", "accepted"),
    ]
    assert events[1].attributes["count"] == "2"
    # "message repeated 5 times": ONE event (one record = one line) stating the count
    assert events[2].attributes["repeated"] == "5"
    assert events[3].attributes["client_host"] == "host.example"
    assert events[5].attributes["method"] == "LOGIN"
    # a host name in rhost= is not an address; a local su failure (empty rhost) names no client
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line 7", "bad-address"),
        ("line 8", "no-client-event"),
    ]


def test_year_from_name_and_its_source(tmp_path: Path) -> None:
    line = "Mar 11 22:55:32 h sshd[3]: Failed password for root from 188.124.3.41 port 1 ssh2\n"
    p = tmp_path / "auth.log-2015"
    p.write_text(line)
    [e] = ingest(p, ReadOptions(year_from_name=True)).events
    assert (e.time.year, e.attributes["year_source"]) == (2015, "name")
    [e] = ingest(p, ReadOptions(year=2012, year_from_name=True)).events
    assert (e.time.year, e.attributes["year_source"]) == (2012, "option")  # --year wins
    [e] = ingest(p, ReadOptions()).events
    assert e.attributes["year_source"] == "mtime"  # the name is used only when asked
    assert authlog.year_from_name("secure-20150311") == 2015
    assert authlog.year_from_name("auth.log.1") is None
    assert authlog.year_from_name("host12015.log") is None


# -- not supported: once per file ---------------------------------------------------------------

#: Lines in the layout of a Windows CBS log (C:\Windows\Logs\CBS\CBS.log): a date, a comma, a
#: level, a component; no syslog host or program.
CBS = (
    "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505 "
    "with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack\\cbscore.dll\n"
    "2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/27:20:30:31.455 "
    "WcpInitialize (wcp.dll version 0.0.0.6) called (stack @0x7fed806eb5d)\n"
    "2016-09-28 04:30:31, Info                  CBS    Ending TrustedInstaller initialization.\n"
) * 40


def test_a_non_evidence_file_is_one_unrecognised_rejection(tmp_path: Path) -> None:
    p = tmp_path / "CBS.log"
    p.write_text(CBS)
    acct, _events, _reasons, rejections = _read(p)
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("unknown", 1, 0, 1)
    [r] = rejections
    assert (r.reason, r.locator) == ("unrecognised-format", "file")
    assert r.detail.startswith("no format matched (no reader found its records")
    assert "2016-09-28 04:30:30, Info" in r.detail


def test_syslog_minority_is_not_claimed(tmp_path: Path) -> None:
    # 3 syslog lines among 7 others: most lines would be unparsed, so the file is not claimed
    p = tmp_path / "mixed.log"
    p.write_text("Jan  1 00:00:01 h sshd[1]: Invalid user x from 1.2.3.4\n" * 3 + "free text\n" * 7)
    acct, _, reasons, rejections = _read(p)
    assert (acct.format, acct.records, reasons) == ("unknown", 1, {"unrecognised-format": 1})
    detail = rejections[0].detail
    # 3 of 10 lines: 0.45 x 0.3, a guess named but far from the 0.5 a claim needs
    assert detail.startswith("no format matched (best guess authlog at 0.1")
    assert detail.endswith("first line: 'Jan  1 00:00:01 h sshd[1]: Invalid user x from 1.2.3.4'")


# -- properties -------------------------------------------------------------------------------

PIECES: dict[ModuleType, list[str]] = {
    iis: ["#Fields: date time c-ip cs-username cs-uri-stem", "#Date: 2014-01-01 00:00:00",
          "2014-01-01 00:00:00 1.1.1.1 - /", "#", " ", "-", "c-ip", "\t"],
    squid: ["1157689312.049 1 10.1.1.1 TCP_MISS/200 1 GET http://a/ u DIRECT/1.2.3.4 -",
            "TCP_HIT/200", " ", "-", "/", "1e99"],
    vsftpd: ['Mon Jun  6 18:43:28 2016 [pid 2] CONNECT: Client "192.168.1.9"',
             '[pid 1] [u] OK LOGIN: Client "::1"', "Feb 30", '"', "[", "]"],
    authlog: [SYSLOG.splitlines()[i] for i in range(8)] + ["[ ", "]", "rhost=", "message "],
}  # fmt: skip


def _lines(fmt: ModuleType) -> st.SearchStrategy[bytes]:
    piece = st.one_of(st.sampled_from(PIECES[fmt]), st.text(max_size=30))
    line = st.lists(piece, max_size=4).map("".join)
    return st.lists(line, max_size=10).map(
        lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")
    )


@pytest.mark.parametrize("fmt", list(PIECES), ids=lambda m: m.NAME)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_records_are_events_plus_rejections(fmt: ModuleType, data: st.DataObject) -> None:
    raw = data.draw(_lines(fmt))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f"
        p.write_bytes(raw)
        items = list(fmt.read(Source(p, ReadOptions(year=2014))))
        assert all(isinstance(i, Event | Rejection) for i in items)
        want = sum(
            1 for ln in raw.split(b"\n")
            if ln.strip() and not (fmt is iis and ln.startswith(b"#"))
        )  # fmt: skip
        if not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            assert len(items) == want
        for acct in ingest(p, ReadOptions(year=2014)).files:
            assert acct.records == acct.events + acct.rejected + acct.duplicates


# -- recognition of every real sample ---------------------------------------------------------

REAL = {
    "windows-evtx/evtxattack-CA_4624_4625_LogonType2_LogonProc_chrome.evtx": "winsec",
    "windows-evtx/evtxattack-DE_RDP_Tunneling_4624.evtx": "winsec",
    "windows-evtx/evtxattack-LM_WMI_4624_4688_TargetHost.evtx": "winsec",
    "windows-evtx/evtxattack-privexchange_dirkjan.evtx": "winsec",
    "windows-security-export/crowdsec-windows-logs-4625-xml.log": "winsec",
    "windows-security-export/msticpy-host_logons-SecurityEvent-4624.csv": "winsec",
    "windows-security-export/otrf-rdp-interactive-lsass-dump-logon-events.json": "winsec",
    "iis-w3c/evtxattack-Tunna_rdp_tunnel_IIS-part1.log": "iis",
    "iis-w3c/plaso-iis10.log": "iis",
    "iis-w3c/plaso-iis10_cookies.log": "iis",
    "iis-w3c/plaso-iis6.log": "iis",
    "squid/beats-squid-access1-head12.log": "squid",
    "ftpd/plaso-vsftpd.log": "vsftpd",
    "syslog-sshd/plaso-syslog_ssh.log": "authlog",
    "mail-postfix-dovecot/crowdsec-dovecot-logs.log": "authlog",
    "mail-postfix-dovecot/crowdsec-postfix-logs.log": "authlog",
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_sample_is_recognised_clearly(shared_data: Path, name: str) -> None:
    got = scores(Source(shared_data / TODAY / name, ReadOptions()))
    best = max(got.values())
    assert got[REAL[name]] == best >= 0.9
    assert sorted(got.values())[-2] < best  # no tie left to the registration order
    acct, events, _, _ = _read(shared_data / TODAY / name, ReadOptions(year=2015))
    assert acct.records == acct.events + acct.rejected + acct.duplicates
    assert acct.events == len(events)


def test_channels_of_other_programs(tmp_path: Path) -> None:
    p = tmp_path / "messages"
    p.write_text(
        "Mar  1 10:00:00 h postfix/smtpd[1]: disconnect from unknown[203.0.113.20] ehlo=1 quit=1\n"
        "Mar  1 10:00:01 h postfix/smtpd[1]: connect from unknown[203.0.113.21]\n"
        "Mar  1 10:00:02 h vsftpd[2]: pam_unix(vsftpd:auth): authentication failure; logname= "
        "uid=0 euid=0 tty=ftp ruser=eve rhost=203.0.113.22\n"
        "Mar  1 10:00:03 h login[3]: pam_unix(remote:auth): authentication failure; logname= "
        "uid=0 euid=0 tty=pts/1 ruser= rhost=203.0.113.23  user=mallory\n"
    )
    _, events, _, _ = _read(p, ReadOptions(year=2016))
    got = [(e.src_ip, e.channel, e.attributes["outcome"], e.persona) for e in events]
    assert got == [
        ("203.0.113.20", "smtp", "disconnect", "(anonymous)"),
        ("203.0.113.21", "smtp", "connect", "(anonymous)"),
        ("203.0.113.22", "ftp", "failed", "eve"),  # vsftpd names the account as ruser=
        ("203.0.113.23", "auth", "failed", "mallory"),
    ]
    assert events[3].attributes["program"] == "login"


def test_hostile_long_lines_are_each_accounted(tmp_path: Path) -> None:
    # how long they take is a benchmark figure (benchmarks/hostile/long_lines.py)
    lines = auth_long_lines()
    p = tmp_path / "auth.log"
    p.write_text("\n".join(lines) + "\n")
    acct, _, _, _ = _read(p, ReadOptions(year=2016))
    assert acct.records == len(lines) == acct.events + acct.rejected

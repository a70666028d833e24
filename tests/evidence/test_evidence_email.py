"""E-mail reading beyond the golden files: mbox, time fallbacks, missing addresses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import ingest
from slipcatch.evidence.mail import decode_words

MSG = (
    "Received: from x (y [{ip}]) by mx.example.org with ESMTP; {rdate}\n"
    "From: {frm}\nSubject: s\nDate: Mon, 24 Nov 2014 08:00:00 +0000\n\nbody\n"
)


def _msg(ip: str = "175.45.178.1", rdate: str = "Mon, 24 Nov 2014 09:00:00 +0000",
         frm: str = "GOP <gop@example.org>") -> str:  # fmt: skip
    return MSG.format(ip=ip, rdate=rdate, frm=frm)


def test_mbox_of_three(tmp_path: Path) -> None:
    p = tmp_path / "box.mbox"
    p.write_text(
        "From a@b Mon Nov 24 09:00:00 2014\n" + _msg() + "\n"
        "From a@b Mon Nov 24 09:00:00 2014\n" + _msg(ip="8.8.8.8") + "\n"
        "From a@b Mon Nov 24 09:00:00 2014\n" + _msg(ip="hostname", frm="x@y") + "\n"
    )
    result = ingest(p)
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("email", 3, 2, 1)
    assert sorted(e.src_ip for e in result.events) == ["175.45.178.1", "8.8.8.8"]
    assert [(r.locator, r.reason) for r in result.rejections] == [("message 3", "no-address")]


def test_time_falls_back_to_date_header(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_text(_msg(rdate="not a date"))
    [ev] = ingest(p).events
    assert ev.time == datetime(2014, 11, 24, 8, tzinfo=UTC)


def test_no_time_anywhere(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_text(_msg(rdate="never").replace("Date: Mon, 24 Nov 2014 08:00:00 +0000", "Date: x"))
    [rej] = ingest(p).rejections
    assert rej.reason == "bad-time"


def test_crlf_and_lf_copies_are_one_event(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_text(_msg())
    (tmp_path / "b.eml").write_bytes(_msg().replace("\n", "\r\n").encode())
    result = ingest(tmp_path)
    assert [(f.events, f.duplicates) for f in result.files] == [(1, 0), (0, 1)]


def test_persona_is_data(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_text(_msg(frm='"<script>alert(1)</script>" <a@b>'))
    [ev] = ingest(p).events
    assert ev.persona == "<script>alert(1)</script>"


def test_invalid_utf8_header_kept_as_latin1(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_bytes(_msg(frm="Caf\udce9 <a@b>").encode("utf-8", "surrogateescape"))
    [ev] = ingest(p).events
    assert ev.persona == "Café"


def test_decode_words() -> None:
    assert decode_words("=?ISO-8859-1?Q?Maril=F9?= x") == "Marilù x"
    assert decode_words("=?utf-8?B?R09Q?= =?utf-8?Q?_team?=") == "GOP team"
    assert decode_words("=?no-such-charset?Q?abc?=") == "=?no-such-charset?Q?abc?="

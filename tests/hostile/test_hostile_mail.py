"""Issue 18, the e-mail attacks: lone surrogates from RFC 2047 words, header padding that hid
mail from the format check, and impossible years. Each ends with exit 0, no traceback, every
record accounted, and the right count and reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slipcatch.cli import demo_case_dir, main
from slipcatch.evidence import ReadOptions, ingest
from slipcatch.evidence.mail import reader
from slipcatch.model import Event

RECEIVED = (
    b"Received: from x (y [175.45.178.%d]) by mx.example.org with ESMTP; "
    b"Mon, 24 Nov 2014 09:00:%02d +0000\n"
)


def _msg(n: int = 1, *, headers: bytes = b"", subject: bytes = b"s") -> bytes:
    return (
        headers
        + RECEIVED % (n % 250 + 1, n % 60)
        + b"From: a@b.example\nSubject: "
        + subject
        + b"\nMessage-ID: <%d@b.example>\n\nbody %d\n" % (n, n)
    )


def _mbox(messages: list[bytes]) -> bytes:
    return b"".join(b"From a@b.example Mon Nov 24 09:00:00 2014\n" + m + b"\n" for m in messages)


def _analyze(tmp_path: Path, *paths: Path, extra: tuple[str, ...] = ()) -> dict[str, object]:
    out = tmp_path / "out"
    code = main(["analyze", *map(str, paths), "--out", str(out), *extra])
    assert code == 0
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _accounted(path: Path) -> tuple[list[Event], list[str]]:
    result = ingest(path, ReadOptions())
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates, f
    return list(result.events), [r.reason for r in result.rejections]


def _valid(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- 1. lone surrogates --------------------------------------------------------------------------

SURROGATE_WORD = b"=?utf-7?Q?+2AA-?="


def test_utf7_surrogate_in_demo_mailbox_keeps_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(demo_case_dir(), demo)
    manifest = json.loads((demo / "case.json").read_text(encoding="utf-8"))
    mail = demo / "evidence" / "mail"
    src = (mail / "2014-12-16-warning.eml").read_bytes()
    head, _, body = src.partition(b"\n\n")
    lines = [
        b'From: "' + SURROGATE_WORD + b'" <peace.guardian07@inboxer.example>'
        if ln.startswith(b"From:")
        else b"Subject: " + SURROGATE_WORD + b" x"
        if ln.startswith(b"Subject:")
        else b"Message-ID: <hostile-surrogate@inboxer.example>"
        if ln.startswith(b"Message-ID:")
        else ln
        for ln in head.split(b"\n")
    ]
    (mail / "2014-12-16-hostile.eml").write_bytes(b"\n".join(lines) + b"\n\n" + body)

    def run(root: Path, out: Path) -> list[str]:
        args = ["analyze", *(str(root / p) for p in manifest["evidence"]), "--out", str(out)]
        for p in manifest["intel"]:
            args += ["--intel", str(root / p)]
        for relay in manifest["trusted_relays"]:
            args += ["--trusted-relay", relay]
        args += ["--persona-map", str(root / manifest["persona_map"])]
        args += ["--evidence-file", str(root / manifest["evidence_file"])]
        capsys.readouterr()
        assert main(args) == 0
        text = capsys.readouterr().out
        assert "internal error" not in text and "Traceback" not in text
        verdicts = text.split("Verdicts:\n", 1)[1].splitlines()
        return [v for v in verdicts if v.startswith(" ")]

    hostile = run(demo, tmp_path / "out")
    baseline = run(demo_case_dir(), tmp_path / "base")
    assert hostile == baseline
    events = [
        json.loads(line)
        for line in (tmp_path / "out" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    mine = [e for e in events if "hostile" in json.dumps(e)]
    assert len(mine) == 1
    attrs = mine[0]["attributes"]
    assert attrs["subject"] == "\ufffd x"
    assert "+2AA-" in attrs["from_raw"]
    assert "+2AA-" in attrs["subject_raw"]


_TEXT = st.text(
    st.one_of(
        st.characters(blacklist_categories=()),  # surrogates (Cs) included
        st.sampled_from(["\ud800", "\udfff", "\udce9", "\x00", "\u202e", "\ufffd"]),
    ),
    max_size=12,
)


def _word(text: str, charset: str, kind: str) -> bytes:
    import base64

    data = text.encode(charset, "surrogatepass")
    payload = base64.b64encode(data) if kind == "B" else b"".join(b"=%02X" % b for b in data)
    return b"=?" + charset.encode() + b"?" + kind.encode() + b"?" + payload + b"?="


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    display=_TEXT,
    subject=_TEXT,
    charset=st.sampled_from(["utf-8", "utf-16-le", "utf-7", "utf-32-le", "raw"]),
    kind=st.sampled_from(["B", "Q"]),
)
@example(display="\ud800", subject="a\udfffb", charset="utf-7", kind="Q")
@example(display="x\udce9", subject="\udc80", charset="utf-7", kind="B")
@example(display="\ud800", subject="\udfff", charset="raw", kind="B")
def test_any_unicode_in_from_and_subject(
    tmp_path_factory: pytest.TempPathFactory, display: str, subject: str, charset: str, kind: str
) -> None:
    from slipcatch.pipeline import analyze

    tmp = tmp_path_factory.mktemp("u")
    if charset == "raw":  # written as bytes in the header itself
        d = display.encode("utf-8", "surrogatepass").replace(b"\n", b" ").replace(b"\r", b" ")
        s = subject.encode("utf-8", "surrogatepass").replace(b"\n", b" ").replace(b"\r", b" ")
    else:
        d, s = _word(display, charset, kind), _word(subject, charset, kind)
    msg = (
        RECEIVED % (1, 1)
        + b'From: "'
        + d.replace(b'"', b"'").replace(b"\\", b"/")
        + b'" <a@b.example>\nSubject: '
        + s
        + b"\nTo: "
        + s
        + b"\n\nbody\n"
    )
    path = tmp / "m.eml"
    path.write_bytes(msg)
    events, reasons = _accounted(path)
    if b"\x00" in msg:
        # a raw NUL in the first 8000 bytes makes the file binary: one loud rejection, as for
        # any evidence file (test_a_raw_nul_in_a_header_is_a_loud_rejection)
        assert events == [] and reasons == ["unrecognised-format"]
        return
    assert len(events) == 1 and reasons == []
    ev = events[0]
    for text in [ev.persona, *ev.attributes.keys(), *map(str, ev.attributes.values())]:
        assert _valid(text), repr(text)
    assert ev.mail is not None
    for text in (ev.mail.display_name or "", ev.mail.from_addr or ""):
        assert _valid(text)
    for hop in ev.hops:
        assert _valid(hop.raw)
    analyze([path], out_dir=tmp / "out")  # every writer
    for f in (tmp / "out").iterdir():
        # rejections.jsonl is empty: the message is read, not rejected
        assert f.stat().st_size > 0 or f.name == "rejections.jsonl"
    assert (tmp / "out" / "rejections.jsonl").read_bytes() == b""


def test_undecodable_bytes_in_received_are_valid_text(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_bytes(_msg().replace(b"by mx.example.org", b"by mx.example.org (\xff\xfe\xed\xa0\x80)"))
    events, _ = _accounted(p)
    (hop,) = events[0].hops
    assert _valid(hop.raw) and "\\xff" in hop.raw
    _analyze(tmp_path, p)


# -- 2. header padding -------------------------------------------------------------------------


@pytest.mark.parametrize("idlen", [20, 300])  # within the sniffed 64 KiB head, and beyond it
def test_199_forged_received_headers_are_one_event(tmp_path: Path, idlen: int) -> None:
    pad = b"".join(
        b"Received: from f%d.example ([198.51.100.%d]) by f%d.example with SMTP id %s; "
        b"Mon, 24 Nov 2014 08:00:00 +0000\n" % (i, i % 250 + 1, i, b"x" * idlen)
        for i in range(199)
    )
    p = tmp_path / "padded.eml"
    top = b"Received: from a (b [203.0.113.9]) by mx.example.org; Mon, 24 Nov 2014 09:00:00 +0000\n"
    p.write_bytes(top + pad + b"From: a@b\nDate: x\n\nbody\n")
    assert (len(p.read_bytes().split(b"\n\n")[0]) > 64 * 1024) == (idlen > 100)
    events, reasons = _accounted(p)
    assert (len(events), reasons) == (1, [])
    _analyze(tmp_path, p)


def test_mbox_with_padded_first_message_reads_every_message(tmp_path: Path) -> None:
    pad = b"X-Pad: " + b"a" * 70 + b"\n" + b" " + b"b" * 70 + b"\n"
    first = _msg(0, headers=b"".join(RECEIVED % (1, i % 60) for i in range(199)) + pad * 500)
    p = tmp_path / "box.mbox"
    p.write_bytes(_mbox([first] + [_msg(n) for n in range(1, 1001)]))
    result = ingest(p, ReadOptions())
    (f,) = result.files
    assert f.format == "email"
    assert f.records == 1001 == f.events + f.rejected + f.duplicates
    assert f.events >= 1000
    _analyze(tmp_path, p)


def test_70kb_sender_header_before_from(tmp_path: Path) -> None:
    one_line = b"X-Sender-Junk: " + b"j" * 70 * 1024 + b"\n"
    folded = b"X-Sender-Junk: a\n" + b"".join([b" " + b"j" * 999 + b"\n"] * 70)
    for pad in (one_line, folded):
        p = tmp_path / "long.eml"
        p.write_bytes(pad + _msg())
        events, reasons = _accounted(p)
        assert (len(events), reasons) == (1, [])
        assert "x-sender-junk" not in events[0].attributes  # read, not mistaken for anything
        box = tmp_path / "long.mbox"
        box.write_bytes(_mbox([pad + _msg(0)] + [_msg(n) for n in range(1, 4)]))
        events, reasons = _accounted(box)
        assert (len(events), reasons) == (4, [])


def test_header_block_over_the_limit_is_rejected_loudly_and_the_mbox_goes_on(
    tmp_path: Path,
) -> None:
    pad = b"X-Pad: " + (b"a" * 998 + b"\n ") * (reader.MAX_HEADER // 1000 + 10) + b"end\n"
    p = tmp_path / "box.mbox"
    p.write_bytes(_mbox([_msg(0, headers=pad)] + [_msg(n) for n in range(1, 6)]))
    events, reasons = _accounted(p)
    assert (len(events), reasons) == (5, ["oversized-header"])
    single = tmp_path / "one.eml"
    single.write_bytes(_msg(0, headers=pad))
    assert _accounted(single) == ([], ["oversized-header"])
    # an embedded message over the limit is rejected alone; its container is read
    bounce = _msg(9).replace(b"Subject: s\n", b"Subject: s\nContent-Type: message/rfc822\n")
    single.write_bytes(bounce.replace(b"body 9\n", _msg(10, headers=pad)))
    events, reasons = _accounted(single)
    assert (len(events), reasons) == (1, ["oversized-header"])
    _analyze(tmp_path, p)


def test_a_short_file_of_one_field_is_not_mail() -> None:
    assert reader.sniff(b"Note: something", "n.txt") == 0.0
    assert reader.sniff(b"X-Pad: " + b"a" * 70_000, "p.eml") == 0.6


# -- 3. impossible times -----------------------------------------------------------------------


def _dated(received_year: bytes, date_year: bytes | None = None) -> bytes:
    date = b"" if date_year is None else b"Date: Mon, 24 Nov " + date_year + b" 09:00:00 +0000\n"
    return (
        b"Received: from x (y [175.45.178.1]) by mx.example.org with ESMTP; "
        b"Mon, 24 Nov " + received_year + b" 09:00:00 +0000\n" + date + b"From: a@b\n\nbody\n"
    )


@pytest.mark.parametrize("year", [b"0000", b"0001", b"0099", b"1969", b"2100", b"9999"])
def test_impossible_year_is_bad_time(tmp_path: Path, year: bytes) -> None:
    p = tmp_path / "m.eml"
    p.write_bytes(_dated(year))
    assert _accounted(p) == ([], ["bad-time"])
    p.write_bytes(_dated(b"2014", year))  # a usable Received time: the rule that applies
    events, reasons = _accounted(p)
    assert reasons == [] and events[0].time.year == 2014
    p.write_bytes(_dated(year, b"2014"))  # the impossible Received time is no time: Date is used
    events, reasons = _accounted(p)
    assert reasons == [] and events[0].time.year == 2014
    _analyze(tmp_path, p)


@pytest.mark.parametrize(
    ("year", "expected"),
    [(b"14", 2014), (b"49", 2049), (b"99", 1999), (b"70", 1970), (b"114", 2014), (b"2014", 2014)],
)
def test_two_and_three_digit_years_fold_as_rfc_5322(
    tmp_path: Path, year: bytes, expected: int
) -> None:
    p = tmp_path / "m.eml"
    p.write_bytes(_dated(year))
    events, reasons = _accounted(p)
    assert reasons == [] and events[0].time.year == expected


@pytest.mark.parametrize("year", [b"50", b"68", b"069"])  # 1950, 1968, 1969: before 1970
def test_folded_years_before_1970_are_bad_time(tmp_path: Path, year: bytes) -> None:
    p = tmp_path / "m.eml"
    p.write_bytes(_dated(year))
    assert _accounted(p) == ([], ["bad-time"])


def test_a_raw_nul_in_a_header_is_a_loud_rejection(tmp_path: Path) -> None:
    # Not a quiet mis-reading: the file is one rejection that says why, counted and shown.
    path = tmp_path / "nul.eml"
    path.write_bytes(RECEIVED % (1, 1) + b"From: a@b.example\nSubject: x\x00y\n\nbody\n")
    result = ingest(path, ReadOptions())
    [f] = result.files
    assert (f.records, f.events, f.rejected) == (1, 0, 1)
    [r] = result.rejections
    assert (r.reason, r.detail) == ("unrecognised-format", "binary content")

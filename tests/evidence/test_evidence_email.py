"""E-mail reading beyond the golden files: mbox, time fallbacks, missing addresses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import PersonaMap, ReadOptions, ingest
from slipcatch.evidence.mail import decode_words
from slipcatch.model import MailOrigin, OriginTrust

TR = OriginTrust.TRUSTED_RELAY
SP = OriginTrust.SENDER_PROVIDER
SW = OriginTrust.SENDER_WRITTEN

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


def test_mboxrd_quoting_undone(tmp_path: Path) -> None:
    body_a = "line\n>From the desk of GOP\n>>From quoted twice\n"
    p = tmp_path / "rd.mbox"
    p.write_text(
        "From a@b Mon Nov 24 09:00:00 2014\n" + _msg().replace("body\n", body_a) + "\n"
        "From a@b Mon Nov 24 09:00:00 2014\n" + _msg(ip="8.8.8.8") + "\n"
    )
    result = ingest(p)
    assert [e.evidence.locator for e in sorted(result.events, key=lambda e: e.src_ip)] == [
        "message 1",
        "message 2",
    ]
    # The unquoted message hashes like the same message in its own .eml file: a duplicate.
    (tmp_path / "one.eml").write_text(_msg().replace("body\n", "line\nFrom the desk of GOP\n"
                                                       ">From quoted twice\n"))  # fmt: skip
    both = ingest([p, tmp_path / "one.eml"])
    assert [(f.events, f.duplicates) for f in both.files] == [(2, 0), (0, 1)]


# A provider's outbound relay hands over a message that came from inside its own network.
PROVIDER_CHAIN = (
    "Received: from out2.inboxer.example (out2.inboxer.example [198.51.100.7]) "
    "by mx.victim.example with ESMTPS; Mon, 24 Nov 2014 09:00:02 +0000\n"
    "Received: from smtp.inboxer.example ([172.16.4.7]) by out2.inboxer.example with ESMTP; "
    "Mon, 24 Nov 2014 09:00:01 +0000\n"
    "Received: from [10.9.9.9] (helo=laptop) by smtp.inboxer.example with ESMTP; "
    "Mon, 24 Nov 2014 09:00:00 +0000\n"
    "From: GOP <gop@inboxer.example>\nDate: Mon, 24 Nov 2014 09:00:00 +0000\n\nbody\n"
)


def test_provider_internal_hops_are_provider_written(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_text(PROVIDER_CHAIN)
    [ev] = ingest(p).events
    assert (ev.src_ip, ev.entry_ip, ev.origin_trust) == ("198.51.100.7", "198.51.100.7", TR)
    # hop 1 joins the entry (by = the entry's from-host); hop 2 joins hop 1 (by = its HELO).
    assert [(h.trust, h.flags) for h in ev.hops] == [(TR, ()), (SP, ()), (SP, ())]
    assert "claimed_client_ip" not in ev.attributes  # private addresses are no client claim


def test_private_hop_not_joining_the_entry_is_flagged(tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_text(PROVIDER_CHAIN.replace("by out2.inboxer.example", "by elsewhere.example"))
    [ev] = ingest(p).events
    assert [(h.trust, h.flags) for h in ev.hops] == [
        (TR, ()),
        (SW, ("private-outside-boundary",)),
        (SW, ("private-outside-boundary",)),
    ]


def test_helo_of_the_entry_does_not_join(tmp_path: Path) -> None:
    # The entry's HELO is the sender's word; only the receiver-recorded name joins the chain.
    p = tmp_path / "m.eml"
    p.write_text(PROVIDER_CHAIN.replace("(out2.inboxer.example [198.51.100.7])",
                                        "(rented.hoster.example [198.51.100.7])"))  # fmt: skip
    [ev] = ingest(p).events
    assert ev.hops[1].trust is SW
    assert ev.hops[1].flags == ("private-outside-boundary",)


def test_claimed_client_recorded_origin_stays_entry(tmp_path: Path) -> None:
    # A rented server relays a message whose lower (sender-written) hop names a residential
    # address in Japan: the origin is the relay; the claim is kept for the report.
    p = tmp_path / "m.eml"
    p.write_text(
        "Received: from vps.hoster.example (vps.hoster.example [203.0.113.50]) "
        "by mx.victim.example with ESMTP; Mon, 24 Nov 2014 09:00:02 +0000\n"
        "Received: from home (p123.tokyo.isp.example [126.5.6.7]) by vps.hoster.example "
        "with ESMTP; Mon, 24 Nov 2014 09:00:01 +0000\n"
        "From: GOP <gop@x.example>\nDate: Mon, 24 Nov 2014 09:00:00 +0000\n\nbody\n"
    )
    [ev] = ingest(p).events
    assert (ev.src_ip, ev.origin_trust) == ("203.0.113.50", TR)
    assert ev.attributes["claimed_client_ip"] == "126.5.6.7"
    assert ev.attributes["claimed_client_trust"] == "sender-written"
    assert ev.attributes["claimed_client_evidence"] == "hop 1"
    assert ev.hops[1].trust is SW
    # the typed e-mail part holds the same, and the attributes are its flat view
    assert ev.mail == MailOrigin(
        from_addr="gop@x.example",
        display_name="GOP",
        claimed_client_ip="126.5.6.7",
        claimed_client_trust=SW,
        claimed_client_evidence="hop 1",
    )
    assert ev.mail.attributes().items() <= ev.attributes.items()


def test_raw_hop_bytes_survive_and_serialise(tmp_path: Path) -> None:
    raw = (
        b"Received: from x (y [175.45.178.1])\r\n\tby mx.example.org with ESMTP\r\n"
        b"\t(caf\xe9 \xff\xfe); Mon, 24 Nov 2014 09:00:00 +0000\r\n"
        b"From: =?iso-8859-1?q?Caf=E9?= <a@b>\r\nDate: Mon, 24 Nov 2014 09:00:00 +0000\r\n\r\nx\r\n"
    )
    p = tmp_path / "m.eml"
    p.write_bytes(raw)
    [ev] = ingest(p).events
    hop = ev.hops[0]
    want = b"from x (y [175.45.178.1])\tby mx.example.org with ESMTP\t(caf\xe9 \xff\xfe); " \
        b"Mon, 24 Nov 2014 09:00:00 +0000"  # fmt: skip
    # Valid text for every writer (issue 18): undecodable bytes are escaped as \\xNN.
    assert hop.raw == want.decode("utf-8", "backslashreplace")
    assert "(caf\\xe9 \\xff\\xfe)" in hop.raw
    hop.raw.encode("utf-8")
    assert ev.persona == "Café"
    text = json.dumps({"raw": hop.raw}, ensure_ascii=False)
    assert json.loads(text)["raw"] == hop.raw


BOUNCE = (
    "Received: from mx.bounce.example (mx.bounce.example [198.51.100.9]) by mx.victim.example "
    "with ESMTP; Tue, 25 Nov 2014 10:00:00 +0000\n"
    "From: Mail Delivery System <MAILER-DAEMON@bounce.example>\n"
    "Date: Tue, 25 Nov 2014 10:00:00 +0000\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\n\n'
    "preamble\n--B1\nContent-Type: text/plain\n\nundeliverable\n"
    "--B1\nContent-Type: message/delivery-status\n\nStatus: 5.0.0\n"
    "--B1\nContent-Type: message/rfc822\n\n"
    "Received: from gop-laptop (unknown [175.45.178.9]) by smtp.bounce.example with ESMTPSA; "
    "Tue, 25 Nov 2014 09:59:00 +0000\n"
    "From: GOP <gop@bounce.example>\nSubject: warning\nDate: Tue, 25 Nov 2014 09:59:00 +0000\n"
    'Content-Type: multipart/mixed; boundary="B2"\n\n'
    "--B2\nContent-Type: text/plain\n\nhi\n"
    "--B2\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{b64}\n"
    "--B2--\n"
    "--B1--\n"
)
INNER = (
    "Received: from a (b [8.8.4.4]) by c.example with SMTP; Tue, 25 Nov 2014 09:00:00 +0000\n"
    "From: inner@x.example\nDate: Tue, 25 Nov 2014 09:00:00 +0000\n\nnested\n"
)


def test_embedded_messages_are_records(tmp_path: Path) -> None:
    p = tmp_path / "bounce.eml"
    b64 = base64.encodebytes(INNER.encode()).decode().strip()
    p.write_text(BOUNCE.format(b64=b64))
    result = ingest(p)
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected) == (3, 3, 0)
    ev = {e.evidence.locator: e for e in result.events}
    assert sorted(ev) == ["message 1", "message 1 part 3", "message 1 part 3.2"]
    outer, orig, nested = ev["message 1"], ev["message 1 part 3"], ev["message 1 part 3.2"]
    assert (outer.src_ip, outer.origin_trust) == ("198.51.100.9", TR)
    # The embedded original: its top hop is the bouncing provider's record of the client, copied
    # by the bounce system -> at best sender-provider.
    assert (orig.src_ip, orig.origin_trust, orig.persona) == ("175.45.178.9", SP, "GOP")
    assert orig.time == datetime(2014, 11, 25, 9, 59, tzinfo=UTC)
    assert orig.attributes["embedded_in"] == "message 1"
    assert orig.attributes["container_src_ip"] == "198.51.100.9"
    assert [h.trust for h in orig.hops] == [SP]
    assert (nested.src_ip, nested.origin_trust) == ("8.8.4.4", SP)
    assert nested.attributes["embedded_in"] == "message 1"


def test_embedded_without_address_is_rejected_alone(tmp_path: Path) -> None:
    p = tmp_path / "bounce.eml"
    p.write_text(BOUNCE.format(b64="").replace("Received: from gop-laptop", "X-Received: from g"))
    result = ingest(p)
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected) == (3, 1, 2)
    assert [(r.locator, r.reason) for r in result.rejections] == [
        ("message 1 part 3", "no-address"),
        ("message 1 part 3.2", "no-address"),
    ]


def test_unterminated_multipart_still_finds_the_part(tmp_path: Path) -> None:
    p = tmp_path / "cut.eml"
    text = BOUNCE.format(b64="").split("--B2\nContent-Type: text/plain")[0]
    p.write_text(text)
    result = ingest(p)
    assert sorted(e.evidence.locator for e in result.events) == ["message 1", "message 1 part 3"]


def test_persona_by_an_attribute_of_the_message(tmp_path: Path) -> None:
    # throwaway senders whose messages share a subject line: one persona by attr:subject; an
    # identity row above it still wins for its sender
    box = tmp_path / "box.mbox"
    box.write_text(
        "From a@b Mon Nov 24 09:00:00 2014\n"
        + _msg(frm="x1@throwaway.example").replace("Subject: s", "Subject: Notice to SPE")
        + "\nFrom a@b Mon Nov 24 09:00:00 2014\n"
        + _msg(ip="8.8.8.8", frm="x2@throwaway.example").replace("Subject: s", "Subject: Notice")
        + "\nFrom a@b Mon Nov 24 09:00:00 2014\n"
        + _msg(ip="9.9.9.9", frm="known@example.org").replace("Subject: s", "Subject: Notice")
    )
    pmap = PersonaMap.from_pairs([("known@example.org", "Known"), ("attr:subject=^notice", "GOP")])
    events = ingest(box, ReadOptions(persona_map=pmap)).events
    assert sorted((e.src_ip, e.persona) for e in events) == [
        ("175.45.178.1", "GOP"),
        ("8.8.8.8", "GOP"),
        ("9.9.9.9", "Known"),
    ]

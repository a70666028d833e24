"""Outlook .msg files: recognised from content, read through their transport headers.

No real .msg is among the shared samples, so each file here is built by ``msgforge`` (a
registry package that writes genuine MS-CFB/MS-OXMSG files, round-tripped through extract-msg
by its authors). ``msgforge`` has no option for the transport-headers property
(``PR_TRANSPORT_MESSAGE_HEADERS``, 0x007D), so the test adds it through msgforge's own property
writer, next to the message class, exactly as it writes every other string property.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import olefile
import pytest
from msgforge import Message, _builder

from slipcatch.evidence import ingest
from slipcatch.evidence.mail import sniff
from slipcatch.model import OriginTrust

# A real-world shape: the recipient's MX, the sender's provider and its authenticated client.
HEADERS = (
    "Received: from mail.sender.example (mail.sender.example [198.51.100.20])\r\n"
    "\tby mx.victim.example (Postfix) with ESMTP id 3jgR80W13M7v\r\n"
    "\tfor <bob@victim.example>; Tue, 3 Mar 2020 10:00:02 +0000\r\n"
    "Received: from [192.168.1.5] (unknown [203.0.113.9])\r\n"
    "\tby mail.sender.example with ESMTPSA id 55; Tue, 3 Mar 2020 10:00:01 +0000\r\n"
    "From: Alice Example <alice@sender.example>\r\n"
    "To: bob@victim.example\r\n"
    "Subject: quarterly figures\r\n"
    "Date: Tue, 3 Mar 2020 10:00:00 +0000\r\n"
    "Message-ID: <m1@sender.example>\r\n"
)


@pytest.fixture
def with_transport_headers(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """msgforge writes PR_TRANSPORT_MESSAGE_HEADERS (0x007D) after the message class."""
    headers = {"text": HEADERS}
    original = _builder._Props.add_unicode

    def add_unicode(self, ole, parent, prop_id, value):  # type: ignore[no-untyped-def]
        original(self, ole, parent, prop_id, value)
        if prop_id == 0x001A and parent is ole.root:
            original(self, ole, parent, 0x007D, headers["text"])

    monkeypatch.setattr(_builder._Props, "add_unicode", add_unicode)
    yield HEADERS


def _message() -> Message:
    return Message(
        subject="quarterly figures",
        text_body="see attached",
        to=[("bob@victim.example", "Bob")],
        sender=("alice@sender.example", "Alice Example"),
        sent=datetime(2020, 3, 3, 10, 0, tzinfo=UTC),
    )


def test_msg_with_transport_headers_gives_the_same_origin_as_eml(
    tmp_path: Path, with_transport_headers: str
) -> None:
    path = tmp_path / "figures.msg"
    path.write_bytes(_message().as_bytes())
    # a genuine OLE2 compound file holding the property streams and the 0x007D string
    with olefile.OleFileIO(str(path)) as ole:
        assert ole.exists("__properties_version1.0")
        assert ole.exists("__substg1.0_007D001F")
    result = ingest(path)
    [f] = result.files
    assert (f.format, f.records, f.events, f.rejected) == ("email", 1, 1, 0)
    [ev] = result.events
    assert (ev.src_ip, ev.origin_trust, ev.entry_ip) == (
        "203.0.113.9",
        OriginTrust.SENDER_PROVIDER,
        "198.51.100.20",
    )
    assert ev.attributes["origin_evidence"] == "authenticated submission, hop 1"
    assert ev.time == datetime(2020, 3, 3, 10, 0, 2, tzinfo=UTC)
    assert ev.persona == "Alice Example"
    assert ev.mail is not None and ev.mail.from_addr == "alice@sender.example"
    assert ev.mail.boundary == "mx.victim.example"
    assert ev.evidence.locator == "message 1"
    # the same headers as an .eml give the same reading
    eml = tmp_path / "figures.eml"
    eml.write_text(HEADERS.replace("\r\n", "\n") + "\nsee attached\n")
    [same] = ingest(eml).events
    assert (same.src_ip, same.origin_trust, same.entry_ip, same.time) == (
        ev.src_ip,
        ev.origin_trust,
        ev.entry_ip,
        ev.time,
    )


def test_msg_without_transport_headers_is_a_clear_rejection(tmp_path: Path) -> None:
    # A draft saved from Outlook: display properties only, no Internet headers.
    path = tmp_path / "draft.msg"
    path.write_bytes(_message().as_bytes())
    result = ingest(path)
    [f] = result.files
    assert (f.format, f.records, f.events, f.rejected) == ("email", 1, 0, 1)
    [r] = result.rejections
    assert (r.locator, r.reason) == ("message 1", "msg-no-headers")
    assert "PR_TRANSPORT_MESSAGE_HEADERS" in r.detail


def test_msg_is_recognised_from_content_not_name(tmp_path: Path) -> None:
    data = _message().as_bytes()
    assert sniff(data[:65536], "anything.bin") == 0.95
    # Any other OLE2 compound file (here one holding a WordDocument stream, written by
    # msgforge's compound-file writer) is looked into and said not to be a message.
    writer = _builder._OleWriter()
    writer.add_stream(writer.root, "WordDocument", b"x" * 5000)
    other = tmp_path / "report.bin"
    other.write_bytes(writer.build())
    assert sniff(other.read_bytes(), "report.bin") == 0.5
    result = ingest(other)
    [f] = result.files
    assert (f.records, f.events, f.rejected) == (1, 0, 1)
    [r] = result.rejections
    assert (r.locator, r.reason, r.detail) == (
        "file",
        "unrecognised-format",
        "an OLE2 compound file without Outlook message streams (not a .msg)",
    )


def test_damaged_msg_is_a_rejection_not_a_traceback(tmp_path: Path) -> None:
    data = bytearray(_message().as_bytes())
    data[600:1400] = b"\xff" * 800  # the allocation table overwritten
    path = tmp_path / "broken.msg"
    path.write_bytes(bytes(data))
    result = ingest(path)
    assert result.events == []
    [r] = result.rejections
    assert (r.locator, r.reason) == ("message 1", "msg-unreadable")
    assert r.detail.startswith("cannot read the .msg: OleFileError: ")
    assert sum(f.records for f in result.files) == 1


def test_binary_non_ole_content_is_not_mail() -> None:
    assert sniff(b"Received: from a\x00 by b\nFrom: x@y\nDate: d\n\n", "m.eml") == 0.0

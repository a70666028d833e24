"""Outlook ``.msg`` files: an OLE2 compound file holding one message's MAPI properties.

The file is recognised from its content (the OLE2 signature, then the message's property
streams), opened with ``extract-msg`` and read through its *transport headers*
(``PR_TRANSPORT_MESSAGE_HEADERS``, property 0x007D: the Internet headers as the last server
delivered them, Received chain included). Those headers go through the same origin analysis
as an ``.eml`` file. A ``.msg`` saved from a draft or a message that never crossed the Internet
has no transport headers: it is one ``msg-no-headers`` rejection (``extract-msg`` would build
substitute headers from the display properties, but they hold no Received chain and no origin).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from slipcatch.evidence._common import reject
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = [
    "MAX_MSG_FILE",
    "OLE_MAGIC",
    "is_ole",
    "looks_like_msg",
    "read_msg",
    "transport_headers",
]

#: A .msg file over this many bytes is ``message-too-large`` (attachments included, as stored).
MAX_MSG_FILE = 64 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Directory-entry names (UTF-16LE) every Outlook message has: its property stream and its
#: property value streams.
_MSG_MARKS = (
    "__properties_version1.0".encode("utf-16-le"),
    "__substg1.0_".encode("utf-16-le"),
)
_TRANSPORT_HEADERS = "__substg1.0_007D"  # extract-msg adds the string type (001F or 001E)
_PROPERTIES = "__properties_version1.0"


def is_ole(head: bytes) -> bool:
    return head.startswith(OLE_MAGIC)


def looks_like_msg(head: bytes) -> bool:
    """The OLE2 signature and, within the head, the directory entries of a message's property
    streams (an Outlook message, not a Word or Excel file)."""
    return is_ole(head) and all(mark in head for mark in _MSG_MARKS)


def transport_headers(data: bytes) -> tuple[str | None, str | None]:
    """(the transport-header text, None), or (None, why the file cannot give one).

    The why is ``not-msg`` for an OLE2 file without a message's property streams,
    ``no-headers`` for a message without transport headers, or the parser's complaint.
    """
    import extract_msg  # deferred: a large import only .msg files need
    import olefile

    logging.getLogger("extract_msg").setLevel(logging.CRITICAL)
    try:
        ole = olefile.OleFileIO(data)
        try:
            is_msg = ole.exists(_PROPERTIES)
        finally:
            ole.close()
        if not is_msg:
            return None, "not-msg"
        msg = extract_msg.openMsg(data, delayAttachments=True)
        try:
            text = msg.getStringStream(_TRANSPORT_HEADERS)
        finally:
            msg.close()
    # Hostile input: the OLE and MAPI parsers raise many kinds of error on a damaged file
    # (struct, value, index, key, their own); each is that file's rejection, never a traceback.
    except Exception as exc:
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if not text or not text.strip():
        return None, "no-headers"
    return text, None


def read_msg(source: Source, max_message: int = MAX_MSG_FILE) -> Iterator[Event | Rejection]:
    """One event (or rejection) for the ``.msg`` file: its transport headers read as a message
    of their own (``message 1``), with the same origin analysis as any e-mail."""
    from slipcatch.evidence.mail.reader import message_event  # the reader imports this module

    parts: list[bytes] = []
    size = 0
    for chunk in source.chunks():
        if not isinstance(chunk, bytes):
            yield reject(source, "message 1", chunk.reason, chunk.detail)
            return
        size += len(chunk)
        if size > max_message:
            yield reject(source, "message 1", "message-too-large", f"over {max_message} bytes")
            return
        parts.append(chunk)
    text, why = transport_headers(b"".join(parts))
    if text is None:
        if why == "not-msg":
            detail = "an OLE2 compound file without Outlook message streams (not a .msg)"
            yield reject(source, "file", "unrecognised-format", detail)
        elif why == "no-headers":
            detail = (
                "Outlook message without transport headers (PR_TRANSPORT_MESSAGE_HEADERS): "
                "a draft or a message that never crossed the Internet has no Received chain"
            )
            yield reject(source, "message 1", "msg-no-headers", detail)
        else:
            yield reject(source, "message 1", "msg-unreadable", f"cannot read the .msg: {why}")
        return
    lines = [ln.rstrip("\r").encode("utf-8", "surrogatepass") for ln in text.split("\n")]
    yield message_event(source, "message 1", lines)

"""The rejection-reason vocabulary: why a record of an evidence file produced no event.

The readers (``slipcatch.evidence``) reject records with these codes and the reports explain
them; both import the table from here, so a report never imports a reader.
"""

from __future__ import annotations

__all__ = ["REASONS"]

#: Rejection reason code -> meaning.
REASONS: dict[str, str] = {
    "unrecognised-format": "the file's content matches no supported format (or is binary); "
    "the whole file is one rejected record",
    "decompression-limit": "decompression stopped: more than 2 GiB out, or a ratio above 200:1 "
    "past 10 MiB (a likely decompression bomb); the rest of the file is one rejection",
    "truncated-compression": "the compressed stream is truncated or corrupt; records read before "
    "the fault are kept, the rest of the file is one rejection",
    "symlink-loop": "a directory entry that is a symbolic link into a directory already walked "
    "(or a link cycle): each directory is walked once, by device and inode",
    "dangling-link": "a directory entry that is a symbolic link to nothing",
    "not-regular-file": "a directory entry that is a FIFO, socket or device (never opened: "
    "reading one could block or never end)",
    "unreadable": "a directory entry that cannot be examined, opened or listed (permission)",
    "outside-tree": "a symbolic link leading out of the directory given (followed only with "
    "--follow-outside)",
    "line-too-long": "a line longer than 64 KiB (discarded unread)",
    "bad-encoding": "a log or table line that is not valid UTF-8 (a JSON string escaping a lone "
    "surrogate, \\ud800, is not rejected: it is read as U+FFFD, the original kept escaped in "
    "attribute NAME.escaped)",
    "bad-quoting": "a CSV row with an unterminated or misplaced quote (a record is one line; "
    "quoted fields cannot span lines)",
    "column-count": "a CSV row with a different number of fields than the header",
    "bad-json": "a JSON-lines record that is not a JSON object",
    "unparsed-line": "a line that does not match the file's recognised format",
    "no-client-event": "a well-formed record that names no remote client: an auth-log line "
    "(cron, sudo, session and daemon messages, sshd lines other than a login), a vsftpd line "
    "without a client, a Windows event other than logon events 4624/4625/4648/4776",
    "local-logon": "a Windows logon event without a usable source address: IpAddress absent, "
    "'-' or loopback (127.0.0.1, ::1: interactive, service and local logons), and every 4776 "
    "(it names a workstation, not an address)",
    "bad-record": "a binary record (EVTX) the parser cannot decode, or an EVTX file whose "
    "header cannot be read or that holds no readable record",
    "missing-time": "a record without a time",
    "bad-time": "a time that cannot be read (or, for e-mail, no parseable Received or Date time)",
    "missing-address": "a record without a source address",
    "bad-address": "a source address that is not a valid IPv4/IPv6 address: a host name, "
    "out-of-range octets (999.1.1.1), too few parts (1.2.3), or zero-padded octets (010.1.1.1, "
    "refused rather than guessed as octal or decimal)",
    "service-address": "a cloud record whose address field names the provider's own service "
    "acting for the account (CloudTrail ec2.amazonaws.com, AWS Internal), not a network address",
    "unspecified-address": "an address field holding the unspecified address (0.0.0.0 or ::), "
    "which services write when they know no client address",
    "record-too-large": "a record of a JSON document (array or wrapper object) larger than "
    "16 Mi characters; it and the rest of the document are one rejection",
    "bad-origin-trust": "a table row whose origin_trust is not trusted-relay, sender-provider or "
    "sender-written",
    "no-address": "an e-mail with no usable address in its Received chain or origin headers",
    "oversized-header": "an e-mail whose header block (up to the first blank line) is over "
    "1 MiB; the other messages of the file are read",
    "message-too-large": "an e-mail message larger than the 64 MiB limit",
    "mime-limit": "an e-mail's MIME structure nests deeper than 8 levels or has more than "
    "1000 parts; embedded messages beyond that were not examined (the message itself is read)",
    "msg-no-headers": "an Outlook .msg without transport headers (PR_TRANSPORT_MESSAGE_HEADERS): "
    "a draft or a message that never crossed the Internet has no Received chain to read",
    "msg-unreadable": "an Outlook .msg whose OLE2 structure or MAPI properties cannot be parsed",
}

"""RFC 5322 e-mail messages (one per file, or an mbox of several) and their origin analysis.

The reader is in five modules, one job each:

- ``framing``: a file's messages (mbox splitting) and the embedded messages of a MIME tree;
- ``headers``: header fields from bytes (UTF-8, else Latin-1), RFC 2047 words, From and Date;
- ``received``: the Received-header grammar (one header -> one hop) and the chain's flags;
- ``origin``: which hop is the entry, the trust boundary, who wrote each hop, provider-written
  client evidence and the client the sender's own headers claim;
- ``reader``: ``sniff`` and ``read`` (one event or rejection per message), building each
  event's typed e-mail part;
- ``outlook``: Outlook ``.msg`` files, read through their transport headers (extract-msg).

Origin analysis walks the Received chain from the top (index 0, nearest the recipient); each
header was written by the host in its ``by`` clause. See docs/formats.md for the full rules:
the entry hop, the trust boundary, provider-written client evidence and the hop flags.
"""

from __future__ import annotations

from slipcatch.evidence.mail.headers import decode_words
from slipcatch.evidence.mail.reader import BINARY, CHANNEL, MAX_MESSAGE, NAME, read, sniff
from slipcatch.evidence.mail.received import FLAGS, TIME_TOLERANCE

__all__ = [
    "BINARY",
    "CHANNEL",
    "FLAGS",
    "MAX_MESSAGE",
    "NAME",
    "TIME_TOLERANCE",
    "decode_words",
    "read",
    "sniff",
]

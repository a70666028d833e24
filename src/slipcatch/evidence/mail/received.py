"""The Received-header grammar: one header -> one hop, and the flags of the chain.

Each Received header was written by the host in its ``by`` clause; index 0 is the topmost
(nearest the recipient). Comments are set aside first (``skeleton``) so that addresses, the
HELO and the reverse-DNS name inside them are read from their own places.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slipcatch.evidence._common import parse_address
from slipcatch.evidence.mail.headers import parse_time

__all__ = [
    "BREAKS_CHAIN",
    "FLAGS",
    "TIME_TOLERANCE",
    "ReceivedHop",
    "chain_flags",
    "ips_in",
    "parse_received",
]

#: A lower hop may be this much later than the one above it before ``time-backwards``.
TIME_TOLERANCE = timedelta(minutes=10)

#: hop flag -> meaning
FLAGS: dict[str, str] = {
    "time-backwards": "this hop is dated more than 10 minutes after the hop above it",
    "ip-mismatch-by": "this hop's `by` is an IP literal that differs from the from-IP of the "
    "hop above it (the chain does not join up)",
    "private-outside-boundary": "a private/link-local from-IP outside the trust boundary",
    "helo-literal-mismatch": "the HELO is an IP literal different from the connecting IP",
    "ipv6-zone-id": "an IPv6 address carried a %zone id (stripped)",
    "empty-by": "the `by` clause is missing or names no host",
    "may-be-forged": "sendmail's '(may be forged)' annotation: reverse and forward DNS disagree",
    "unparsed-hop": "the header could not be parsed (unbalanced comments or no from/by)",
}
#: Flags that make the chain below the entry untrustworthy for provider evidence.
BREAKS_CHAIN = frozenset(
    {"time-backwards", "ip-mismatch-by", "empty-by", "may-be-forged", "unparsed-hop"}
)
_AUTH_PROTOCOL = re.compile(r"^(?:E?SMTPS?A|LMTPS?A|UTF8SMTPS?A|ASMTP|HTTPS?|WEBMAIL)$", re.I)
# Authentication recorded in the from comment: Yahoo ``(user@ip with login)``, Postfix
# ``(Authenticated sender: x)``, Courier ``(AUTH: LOGIN user)``, sendmail ``(authenticated
# bits=0)`` / ``(authenticated as user)``, SquirrelMail ``(SquirrelMail authenticated user x)``.
_AUTH_COMMENT = re.compile(
    r"\bwith login\b|\bauthenticated sender\b|^AUTH: \S+|^authenticated\b|"
    r"\bauthenticated (?:as|user)\b",
    re.I,
)
# Google writes its authenticated-client submissions with an SMTP id holding ``sm`` (for example
# ``id 8sm313822ywg.19.2009.10.28.01.24.57``); mail its MX receives from other MTAs has ``si``.
_GOOGLE_SUBMISSION_ID = re.compile(r"^[0-9a-z]+sm\d", re.I)
_GOOGLE_DOMAINS = frozenset({"google.com", "gmail.com", "googlemail.com"})
_TLS_SMTP = re.compile(r"^(?:E?SMTPS?A?)$", re.I)
_ADDR = re.compile(r"<?([^<>\s;,()\"]+@[^<>\s;,()\"]+?)>?[;,]?$")
_FETCH_PROTOCOL = re.compile(r"^(?:POP3?|IMAP4?)$", re.I)
_HELO_IN_COMMENT = re.compile(r"\b(?:HELO|EHLO)(?:\s+|=)([^\s)]*)", re.I)
_BRACKETED = re.compile(r"\[([^\]]*)\]")
_KEYWORDS = frozenset({"by", "with", "id", "for", "via", "from"})
_PH = re.compile(r"\x01(\d+)\x02")


@dataclass
class ReceivedHop:
    index: int
    raw: str
    from_host: str | None = None
    from_ip: str | None = None
    trust_name: str | None = None  # the receiver-recorded name, for --trusted-relay names
    by_host: str | None = None
    by_ip: str | None = None  # the by token itself as an IP literal
    protocol: str | None = None
    time: datetime | None = None
    bad_time: str | None = None  # the date as written when it names an impossible time
    auth: bool = False
    fetch: bool = False
    flags: set[str] = field(default_factory=set)
    rdns: str | None = None  # the reverse-DNS name the receiver recorded (never the HELO)
    for_addrs: list[str] = field(default_factory=list)  # envelope recipients in ``for``
    smtp_id: str | None = None  # the ``id`` token
    # Who recorded a client submission here, and how: "authenticated submission", "webmail
    # submission" (``via HTTP``), "provider client submission" (Google's client hops).
    submission: str | None = None
    bare_literal: bool = False  # the from clause names nothing but an IP literal


def _skeleton(text: str) -> tuple[str, list[str], bool]:
    """Replace top-level comments by placeholders; return (skeleton, comments, balanced)."""
    out: list[str] = []
    comments: list[str] = []
    depth = 0
    buf: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and depth and i + 1 < len(text):
            buf.append(text[i : i + 2])
            i += 2
            continue
        if c == "(":
            if depth:
                buf.append(c)
            depth += 1
        elif c == ")" and depth:
            depth -= 1
            if depth:
                buf.append(c)
            else:
                out.append(f" \x01{len(comments)}\x02 ")
                comments.append("".join(buf))
                buf = []
        elif depth:
            buf.append(c)
        else:
            out.append(c)
        i += 1
    balanced = depth == 0
    if not balanced:
        out.append(f" \x01{len(comments)}\x02 ")
        comments.append("".join(buf))
    return "".join(out), comments, balanced


def ips_in(text: str) -> Iterator[tuple[str, bool]]:
    for m in _BRACKETED.finditer(text):
        ip, zone = parse_address(m.group(1))
        if ip is not None:
            yield ip, zone
    for token in re.split(r"[\s,;()]+", _BRACKETED.sub(" ", text)):
        token = token.rsplit("@", 1)[-1].strip("[]")
        if token and (":" in token or token[:1].isdigit()):
            ip, zone = parse_address(token)
            if ip is not None:
                yield ip, zone


def parse_received(index: int, text: str) -> ReceivedHop:  # noqa: C901, PLR0915 - one branch per clause of the Received grammar
    hop = ReceivedHop(index=index, raw=text)
    skel, comments, balanced = _skeleton(text)
    if not balanced:
        hop.flags.add("unparsed-hop")
    if "may be forged" in text.lower():
        hop.flags.add("may-be-forged")
    semi = skel.rfind(";")
    clause = skel if semi < 0 else skel[:semi]
    if semi >= 0:
        hop.time, hop.bad_time = parse_time(_PH.sub(" ", skel[semi + 1 :]))
    if hop.time is None and hop.bad_time is None and text.rfind(";") >= 0:
        hop.time, hop.bad_time = parse_time(text[text.rfind(";") + 1 :])
    words = clause.split()
    lower = [w.lower() for w in words]
    # -- from clause
    if lower[:1] == ["from"]:
        end = next((i for i in range(1, len(words)) if lower[i] in _KEYWORDS), len(words))
        part = words[1:end]
        helo: str | None = None
        if part and not _PH.fullmatch(part[0]):
            helo = part[0]
        first_name = helo
        ips: list[tuple[str, bool]] = []
        rdns: str | None = None
        rdns_recorded = False
        for w in part[1:] if helo is not None else part:
            ph = _PH.fullmatch(w)
            if ph is None:
                ips.extend(ips_in(w))
                continue
            ctext = comments[int(ph.group(1))]
            hm = _HELO_IN_COMMENT.search(ctext)
            if hm:
                helo = hm.group(1)
                ctext = ctext[: hm.start()] + ctext[hm.end() :]
            if _AUTH_COMMENT.search(ctext.strip()):
                hop.auth = True
            found = list(ips_in(ctext))
            if found:
                first_word = ctext.split()[0] if ctext.split() else ""
                if first_word and not _BRACKETED.fullmatch(first_word) and first_word[:1] != "[":
                    name_ip, _ = parse_address(first_word)
                    if name_ip is None and "@" not in first_word:
                        rdns_recorded = True
                        if first_word.lower() != "unknown":
                            rdns = first_word.rstrip(".")
            ips.extend(found)
        helo_ip: str | None = None
        if helo:
            helo_ip, _ = parse_address(helo)
        # The first token is the HELO unless a (HELO x) comment says otherwise; as a literal it
        # is the only address some MTAs record (`from [1.2.3.4] (account ...)`, `from 1.2.3.4 by`).
        first_ip, first_zone = parse_address(part[0]) if part else (None, False)
        if ips:
            hop.from_ip, zone = ips[0]
            if zone:
                hop.flags.add("ipv6-zone-id")
        elif first_ip is not None:
            hop.from_ip = first_ip
            if first_zone:
                hop.flags.add("ipv6-zone-id")
        hop.from_host = helo if helo else None
        if helo_ip is not None and hop.from_ip is not None and helo_ip != hop.from_ip:
            hop.flags.add("helo-literal-mismatch")
        if (
            rdns is None
            and not rdns_recorded
            and first_name
            and first_name != helo
            and parse_address(first_name)[0] is None
            and first_name.lower() != "unknown"
        ):
            # qmail: ``from NAME (HELO x) (ip)`` -- the leading name is the reverse lookup
            rdns = first_name.rstrip(".")
        hop.rdns = rdns
        if rdns is not None:
            hop.trust_name = rdns
        elif not rdns_recorded and helo and helo_ip is None:
            hop.trust_name = helo.rstrip(".")
        hop.bare_literal = hop.from_ip is not None and _only_literals(part, comments)
    # -- by clause
    if "by" in lower:
        i = lower.index("by")
        token = words[i + 1] if i + 1 < len(words) else ""
        if not token or _PH.fullmatch(token) or token.lower() in _KEYWORDS:
            hop.flags.add("empty-by")
        else:
            hop.by_host = token
            by_ip, zone = parse_address(token)
            hop.by_ip = by_ip
            if zone:
                hop.flags.add("ipv6-zone-id")
        for w in words[i + 2 :]:
            ph = _PH.fullmatch(w)
            if ph is None:
                break
            if any(zone for _, zone in ips_in(comments[int(ph.group(1))])):
                hop.flags.add("ipv6-zone-id")
    elif lower[:1] == ["from"]:
        hop.flags.add("empty-by")
    elif not any(c.lower().startswith("qmail ") for c in comments):
        hop.flags.add("unparsed-hop")
    if "with" in lower:
        i = lower.index("with")
        if i + 1 < len(words) and not _PH.fullmatch(words[i + 1]):
            hop.protocol = _PH.sub("", words[i + 1]).rstrip(";") or None
    _clauses(hop, words, lower, comments)
    return hop


def _only_literals(part: list[str], comments: list[str]) -> bool:
    """Whether a from clause names nothing but IP literals (``[1.2.3.4]``, ``([1.2.3.4])``)."""
    texts = [comments[int(m.group(1))] if (m := _PH.fullmatch(w)) else w for w in part]
    return bool(texts) and all(parse_address(t.strip())[0] is not None for t in texts)


def _clauses(hop: ReceivedHop, words: list[str], lower: list[str], comments: list[str]) -> None:
    """The ``via``, ``id`` and ``for`` clauses, and the client submission they show."""
    webmail = False
    if hop.protocol is None:
        # Yahoo ``from [ip] by webNNN.mail.yahoo.com via HTTP``; GMX ``by web-mail.gmx.net
        # (...) (via HTTP)``: the protocol is HTTP, written by the webmail front end.
        if "via" in lower:
            i = lower.index("via")
            if i + 1 < len(words) and words[i + 1].rstrip(";").upper() in ("HTTP", "HTTPS"):
                hop.protocol = words[i + 1].rstrip(";").upper()
                webmail = True
        if hop.protocol is None and any(
            re.fullmatch(r"\s*via HTTPS?\s*", c, re.I) for c in comments
        ):
            hop.protocol = "HTTP"
            webmail = True
    if "id" in lower:
        i = lower.index("id")
        if i + 1 < len(words) and not _PH.fullmatch(words[i + 1]):
            hop.smtp_id = words[i + 1].rstrip(";")
    for i, w in enumerate(lower):
        if w != "for":
            continue
        for token in words[i + 1 : i + 3]:
            m = _ADDR.match(token)
            if m and not _PH.fullmatch(token):
                hop.for_addrs.append(m.group(1))
                break
    if hop.protocol:
        if _AUTH_PROTOCOL.match(hop.protocol):
            hop.auth = True
        if _FETCH_PROTOCOL.match(hop.protocol):
            hop.fetch = True
    if webmail:
        hop.submission = "webmail submission"
    elif hop.auth:
        hop.submission = "authenticated submission"
    elif _google_client(hop):
        hop.auth = True
        hop.submission = "provider client submission"


def _google_client(hop: ReceivedHop) -> bool:
    """Google's record of a mail client it accepted (``from [ip] by mx.google.com with ESMTPS
    id 8sm...``): written by ``mx.google.com``/``smtp.gmail.com`` over SMTP, with a submission
    id (``sm``) or from a client that gave nothing but an IP literal."""
    by = (hop.by_host or "").lower().rstrip(".")
    if not any(by == d or by.endswith("." + d) for d in _GOOGLE_DOMAINS):
        return False
    if hop.from_ip is None or not hop.protocol or not _TLS_SMTP.match(hop.protocol):
        return False
    return bool(hop.smtp_id and _GOOGLE_SUBMISSION_ID.match(hop.smtp_id)) or hop.bare_literal


def chain_flags(hops: list[ReceivedHop]) -> None:
    last_time: datetime | None = None
    for i, hop in enumerate(hops):
        if hop.time is not None:
            if last_time is not None and hop.time - last_time > TIME_TOLERANCE:
                hop.flags.add("time-backwards")
            last_time = hop.time
        if i and hop.by_ip is not None:
            above = hops[i - 1].from_ip
            if above is not None and above != hop.by_ip:
                hop.flags.add("ip-mismatch-by")

"""Origin analysis of a parsed Received chain: the entry hop, the trust boundary, who wrote
each hop, provider-written client evidence and the client the sender's own headers claim.

See docs/formats.md ("E-mail origin") for the rules in words.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from slipcatch.evidence._common import is_internal, is_loopback, parse_address
from slipcatch.evidence.mail.headers import Header
from slipcatch.evidence.mail.received import BREAKS_CHAIN, ReceivedHop, ips_in
from slipcatch.model import OriginTrust

__all__ = [
    "Analysis",
    "Boundary",
    "Origin",
    "Trusted",
    "analyse",
    "cap_embedded",
    "find_boundary",
    "hop_trust",
    "registered_domain",
]

_CLIENT_IP = re.compile(r"client-ip=([^;\s]+)", re.I)


class Trusted:
    def __init__(self, relays: Sequence[str]):
        self.nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: list[str] = []
        for relay in relays:
            text = relay.strip()
            if not text:
                continue
            try:
                self.nets.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                self.names.append(text.lstrip(".").rstrip(".").lower())

    def __bool__(self) -> bool:
        return bool(self.nets or self.names)

    def holds(self, hop: ReceivedHop) -> bool:
        if hop.from_ip is not None:
            addr = ipaddress.ip_address(hop.from_ip)
            if any(addr.version == n.version and addr in n for n in self.nets):
                return True
        if hop.trust_name:
            name = hop.trust_name.lower()
            return any(name == n or name.endswith("." + n) for n in self.names)
        return False


#: Envelope-recipient headers: written by the host whose Received header lies just below them.
_ENVELOPE = ("delivered-to", "x-original-to", "envelope-to", "x-delivered-to")
#: Headers naming a mailing list's own address: a list re-sends, it is never the recipient's.
_LIST_HEADERS = ("list-post", "x-beenthere", "list-id", "x-mailing-list", "mailing-list")
_MAIL_ADDR = re.compile(r"[^<>\s:;,()\"]+@[^<>\s;,()\"]+")
#: Second-level labels under which a country code's registered domains sit (``co.uk``).
_SLD = frozenset(
    {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "mil", "gob", "nom",
     "ltd", "plc", "gen", "biz", "info", "sch", "lg", "ad", "ed", "gr", "nic", "web"}
)  # fmt: skip
_NON_PUBLIC_TLD = frozenset(
    {"local", "localdomain", "lan", "internal", "home", "corp", "localhost"}
)


def registered_domain(name: str | None) -> str | None:
    """The registered domain of a host or address domain (``mx1.example.co.uk`` ->
    ``example.co.uk``), or None for a name outside public DNS (one label, ``.local``, an IP).

    A heuristic, not the Public Suffix List: the last two labels, or three under a country
    code's usual second-level labels (``co``, ``com``, ``ac``, ``ne``, ...).
    """
    if not name:
        return None
    labels = name.lower().rstrip(".").rsplit("@", 1)[-1].split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or labels[-1] in _NON_PUBLIC_TLD:
        return None
    if len(labels[-1]) == 2 and labels[-2] in _SLD and len(labels) >= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _local_part(addr: str) -> str:
    return addr.rsplit("@", 1)[0].split("+", 1)[0].lower().strip("<>\"")


@dataclass
class Boundary:
    """Where the recipient's side ends: the entry hop, and why each hop above it is inside.

    ``reasons``: (hop index, code, detail) for every hop above the entry (and every hop when
    none is the entry). ``told``: the boundary came from ``--trusted-relay``, not inference.
    """

    entry: int | None
    reasons: list[tuple[int, str, str]]
    told: bool

    def host(self, hops: Sequence[ReceivedHop]) -> str | None:
        """The recipient-side host that received the message from outside."""
        if self.entry is None:
            return None
        return hops[self.entry].by_host or f"hop {self.entry}"

    def basis(self, hops: Sequence[ReceivedHop]) -> str:
        """The boundary's basis in words: told or inferred, then each inside hop's reason."""
        head = "told (--trusted-relay)" if self.told else "inferred"
        receiver = hops[0].by_host if hops and hops[0].by_host else None
        parts = [f"receiver {receiver}"] if receiver else []
        for index, code, detail in self.reasons:
            parts.append(f"hop {index} {code}" + (f" ({detail})" if detail else ""))
        return head + ": " + ("; ".join(parts) if parts else "the topmost header's writer")


class _Side:
    """What the walk knows of the recipient's side: its envelope addresses and domains."""

    def __init__(self, hops: Sequence[ReceivedHop], headers: Sequence[Header]):
        self.addrs: set[str] = set()
        self.locals: set[str] = set()  # their local parts (``jm`` of ``jm+x@example.org``)
        self.domains: set[str] = set()
        self.envelope: dict[int, list[str]] = {}
        for h in headers:
            if h.name in _ENVELOPE:
                for addr in _MAIL_ADDR.findall(h.value):
                    self.envelope.setdefault(h.received_above, []).append(addr)
        self.lists = {
            a.lower()
            for h in headers
            if h.name in _LIST_HEADERS
            for a in _MAIL_ADDR.findall(h.value.replace("mailto:", " "))
        }
        self.list_ids = {
            m.lower()
            for h in headers
            if h.name == "list-id"
            for m in re.findall(r"<([^<>\s]+)>", h.value)
        }
        if hops:
            self.add_domain(hops[0].by_host)

    def add_domain(self, name: str | None) -> None:
        domain = registered_domain(name)
        if domain is not None:
            self.domains.add(domain)

    def learn(self, hop: ReceivedHop) -> None:
        """Addresses recorded by ``hop``'s writer, a host on the recipient's side."""
        for addr in [*hop.for_addrs, *self.envelope.get(hop.index, [])]:
            self.addrs.add(addr.lower())
            self.locals.add(_local_part(addr))
            self.add_domain(addr)

    def is_list(self, addr: str) -> bool:
        a = addr.lower()
        local, _, domain = a.partition("@")
        return a in self.lists or f"{local}.{domain}" in self.list_ids


def _links(hop: ReceivedHop, above: ReceivedHop) -> bool:
    """Whether ``hop`` was written by the host that the hop above received the message from:
    its ``by`` is that host's address, one of its recorded names, or a name in the same
    registered domain."""
    if hop.by_ip is not None:
        return hop.by_ip == above.from_ip
    if not hop.by_host:
        return False
    by = hop.by_host.lower().rstrip(".")
    names = {n.lower().rstrip(".") for n in (above.rdns, above.trust_name, above.from_host) if n}
    if by in names:
        return True
    domain = registered_domain(by)
    return domain is not None and domain in {registered_domain(n) for n in names}


#: Hops one host may write in a row (a local re-injection or two): bounds the look-ahead, so
#: that a chain of thousands of forged hops by one name is walked in linear time.
_MAX_RUN = 4


def _written_by(hops: Sequence[ReceivedHop], i: int) -> list[ReceivedHop]:
    """The hops below hop ``i`` that its from-host wrote: the first must link to hop ``i``, the
    rest share its writer (a local re-injection: ``by mail.x id ...`` over ``from y by mail.x``),
    at most ``_MAX_RUN``."""
    if i + 1 >= len(hops) or not _links(hops[i + 1], hops[i]):
        return []
    run = [hops[i + 1]]
    writer = (hops[i + 1].by_host or "").lower()
    for hop in hops[i + 2 : i + 1 + _MAX_RUN]:
        if not writer or (hop.by_host or "").lower() != writer:
            break
        run.append(hop)
    return run


def _own_relay(
    hops: Sequence[ReceivedHop], i: int, side: _Side
) -> tuple[str, str] | None:
    """Why hop ``i``'s from-host, a public address, is still the recipient's own relay, or None.

    Either way the host must have been named by its receiver (reverse DNS) and must have written
    the hop below (``_written_by``).

    - ``forwarding``: the host received the message for another address of the recipient (same
      local part as a recipient address already seen, not a mailing list's) and sent it on;
    - ``same-organisation``: the reverse-DNS name its receiver recorded lies in a registered
      domain of the recipient's side (an envelope recipient's or the receiving MTA's), and it
      wrote the hop below (a backup MX or internal relay).
    """
    hop = hops[i]
    run = _written_by(hops, i)
    if not run or hop.rdns is None:
        # Only a host its receiver named (reverse DNS) can be the recipient's own relay: a
        # HELO, or the single name Exchange and fetchmail record, is the sender's word.
        return None
    for lower in run:
        for addr in [*lower.for_addrs, *side.envelope.get(lower.index, [])]:
            a = addr.lower()
            if a in side.addrs or side.is_list(a) or registered_domain(a) is None:
                continue
            if _local_part(a) in side.locals:
                return "forwarding", f"{hop.rdns} received it for {addr} and sent it on"
    domain = registered_domain(hop.rdns)
    if domain is not None and domain in side.domains:
        return "same-organisation", f"{hop.rdns} in {domain}"
    return None


def find_boundary(
    hops: Sequence[ReceivedHop], headers: Sequence[Header], trusted: Trusted
) -> Boundary:
    """The entry hop and the reasons for every hop above it.

    Walking down from hop 0 (written by the receiving MTA), a hop's from-host is inside when it
    has no address, is loopback, is a mailbox fetch, or -- with ``--trusted-relay`` -- is
    trusted; without it, when its address is private or it is the recipient's own relay
    (``_own_relay``). Each inside hop's writer tells the walk the envelope addresses it
    recorded. The first hop that is not inside is the entry.
    """
    side = _Side(hops, headers)
    reasons: list[tuple[int, str, str]] = []
    for hop in hops:
        side.learn(hop)
        ip = hop.from_ip
        if hop.fetch:
            reasons.append((hop.index, "mailbox-fetch", hop.from_host or ""))
            side.add_domain(hop.from_host)
            continue
        if ip is None:
            reasons.append((hop.index, "no-address", ""))
            continue
        if is_loopback(ip):
            reasons.append((hop.index, "loopback", ""))
            continue
        if trusted:
            if trusted.holds(hop):
                reasons.append((hop.index, "trusted-relay", hop.trust_name or ip))
                continue
            return Boundary(hop.index, reasons, told=True)
        if is_internal(ip):
            reasons.append((hop.index, "private", ip))
            continue
        own = _own_relay(hops, hop.index, side)
        if own is None:
            return Boundary(hop.index, reasons, told=False)
        reasons.append((hop.index, *own))
        side.add_domain(hop.rdns)
    return Boundary(None, reasons, told=bool(trusted))


@dataclass
class Origin:
    ip: str
    trust: OriginTrust
    evidence: str


def _header_ips(value: str) -> list[str]:
    return [ip for ip, _ in ips_in(value.replace(",", " "))]


def _joins(hop: ReceivedHop, above: ReceivedHop, *, helo_ok: bool) -> bool:
    """Whether ``hop`` was written by the host that the hop above received the message from.

    The hop above recorded that host's address and name; ``helo_ok`` allows its HELO name too
    (for hops the sender's provider wrote; at the entry only the receiver-recorded name counts).
    """
    if hop.by_ip is not None:
        return hop.by_ip == above.from_ip
    if not hop.by_host:
        return False
    name = hop.by_host.lower().rstrip(".")
    names = {above.trust_name} | ({above.from_host} if helo_ok else set())
    return any(n is not None and n.lower().rstrip(".") == name for n in names)


def _provider_chain(hops: Sequence[ReceivedHop], entry: int | None) -> set[int]:
    """Hops just below the entry that the sender's provider wrote about its own network.

    Below the entry, a hop whose ``by`` host is the host the entry hop came from, and whose
    from-address is private, loopback or link-local, records a hand-off inside the sending
    provider's network (``from smtp.provider ([172.16.4.7]) by out2.provider``): it was written
    by the provider's outbound relay, and a private address there is normal. The run continues
    down while each hop joins the one above, is private and no hop breaks the chain. Loopback
    hand-offs (``from localhost (127.0.0.1) by host``) do not count: they show one machine, which
    may be the sender's own rented server, not a provider's network.
    """
    chain: set[int] = set()
    if entry is None:
        return chain
    above = hops[entry]
    for hop in hops[entry + 1 :]:
        ip = hop.from_ip
        if hop.flags & BREAKS_CHAIN or ip is None or not is_internal(ip) or is_loopback(ip):
            break
        if not _joins(hop, above, helo_ok=above.index != entry):
            break
        chain.add(hop.index)
        above = hop
    return chain


@dataclass
class Analysis:
    """What origin analysis found in one message's chain."""

    entry: int | None  # index of the entry hop, None when no hop qualifies
    origin: Origin | None  # None: no usable address anywhere (a ``no-address`` rejection)
    notes: dict[str, str]  # spf_client_ip, client_evidence: recorded for the report
    provider: set[int]  # hops the sender's provider wrote about its own network
    # The client the sender-written part of the chain names behind the entry relay.
    claim: Origin | None = None
    boundary: Boundary | None = None


def analyse(hops: list[ReceivedHop], headers: Sequence[Header], trusted: Trusted) -> Analysis:
    """The origin of one message's chain, with the trust boundary it was read at."""
    boundary = find_boundary(hops, headers, trusted)
    found = _analyse_from(boundary.entry, hops, headers)
    found.boundary = boundary
    return found


def _analyse_from(  # noqa: C901 - one rule per origin header, in order of trust
    entry: int | None, hops: list[ReceivedHop], headers: Sequence[Header]
) -> Analysis:
    notes: dict[str, str] = {}
    below = [h for h in hops if entry is not None and h.index > entry]
    provider = _provider_chain(hops, entry)
    for hop in below:
        if (
            hop.from_ip is not None
            and is_internal(hop.from_ip)
            and not is_loopback(hop.from_ip)
            and hop.index not in provider
        ):
            hop.flags.add("private-outside-boundary")
    if entry is not None:
        ehop = hops[entry]
        if ehop.from_ip is not None and is_internal(ehop.from_ip):
            ehop.flags.add("private-outside-boundary")

    def consistent(upto: int) -> bool:
        return not any(h.flags & BREAKS_CHAIN for h in below if h.index <= upto)

    last = hops[-1].index if hops else -1
    inside_x: list[tuple[str, str]] = []
    candidates: list[Origin] = []
    for hop in sorted(below, key=lambda h: -h.index):
        if hop.auth and hop.from_ip is not None and not is_internal(hop.from_ip):
            trust = (
                OriginTrust.SENDER_PROVIDER if consistent(hop.index) else OriginTrust.SENDER_WRITTEN
            )
            form = hop.submission or "authenticated submission"
            candidates.append(Origin(hop.from_ip, trust, f"{form}, hop {hop.index}"))
    for name in ("x-originating-ip", "x-sender-ip", "x-forwarded-for"):
        for h in headers:
            if h.name != name:
                continue
            for ip in _header_ips(h.value)[:1]:
                if entry is None or h.received_above <= entry:
                    inside_x.append((ip, name))
                    continue
                ok = bool(below) and consistent(last)
                trust = OriginTrust.SENDER_PROVIDER if ok else OriginTrust.SENDER_WRITTEN
                candidates.append(Origin(ip, trust, name))
    for h in headers:
        if h.name == "received-spf":
            m = _CLIENT_IP.search(h.value)
            spf_ip = parse_address(m.group(1))[0] if m else None
            if spf_ip is not None and (entry is None or h.received_above <= entry + 1):
                notes.setdefault("spf_client_ip", spf_ip)
    if candidates or inside_x:
        notes["client_evidence"] = "; ".join(
            [f"{c.evidence}: {c.ip} ({c.trust.value})" for c in candidates]
            + [f"{name}: {ip} (trusted-relay)" for ip, name in inside_x]
        )
    for c in candidates:
        if c.trust is OriginTrust.SENDER_PROVIDER and not is_internal(c.ip):
            return Analysis(entry, c, notes, provider)
    if entry is not None:
        entry_ip = hops[entry].from_ip
        if entry_ip is not None:  # always: _entry only returns hops with an address
            claim = _claimed_client(entry_ip, candidates, below, provider)
            origin = Origin(entry_ip, OriginTrust.TRUSTED_RELAY, f"entry hop {entry}")
            return Analysis(entry, origin, notes, provider, claim)
    for ip, name in inside_x:
        if not is_internal(ip):
            return Analysis(None, Origin(ip, OriginTrust.TRUSTED_RELAY, name), notes, provider)
    if "spf_client_ip" in notes:
        spf = notes["spf_client_ip"]
        return Analysis(
            None, Origin(spf, OriginTrust.TRUSTED_RELAY, "received-spf"), notes, provider
        )
    for hop in reversed(hops):
        if hop.from_ip is not None and not is_loopback(hop.from_ip):
            origin = Origin(hop.from_ip, OriginTrust.TRUSTED_RELAY, f"hop {hop.index}")
            return Analysis(None, origin, notes, provider)
    return Analysis(None, None, notes, provider)


def _claimed_client(
    entry_ip: str, candidates: Sequence[Origin], below: Sequence[ReceivedHop], provider: set[int]
) -> Origin | None:
    """The client the sender-written part of the chain claims, when the origin is the entry.

    The origin stays the entry relay (the most credible address); this claim is only recorded.
    Preference: a sender-written authenticated hop (lowest first) or X-header, else the lowest
    public from-address below the entry outside the provider chain.
    """
    for c in candidates:
        if c.trust is OriginTrust.SENDER_WRITTEN and not is_internal(c.ip) and c.ip != entry_ip:
            return c
    for hop in reversed(below):
        ip = hop.from_ip
        if hop.index in provider or ip is None or is_internal(ip) or ip == entry_ip:
            continue
        return Origin(ip, OriginTrust.SENDER_WRITTEN, f"hop {hop.index}")
    return None


def hop_trust(
    hop: ReceivedHop, entry: int | None, below: Sequence[ReceivedHop], provider: set[int]
) -> OriginTrust:
    if entry is None or hop.index <= entry:
        return OriginTrust.TRUSTED_RELAY
    if hop.index in provider:
        return OriginTrust.SENDER_PROVIDER
    if hop.auth and not any(h.flags & BREAKS_CHAIN for h in below if h.index <= hop.index):
        return OriginTrust.SENDER_PROVIDER
    return OriginTrust.SENDER_WRITTEN


def cap_embedded(trust: OriginTrust, embedded: bool) -> OriginTrust:
    # An embedded copy was written by whoever sent the outer message (a bounce or report
    # system, a forwarder): at best provider-written, never our own relays' record.
    if embedded and trust is OriginTrust.TRUSTED_RELAY:
        return OriginTrust.SENDER_PROVIDER
    return trust

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

__all__ = ["Analysis", "Origin", "Trusted", "analyse", "cap_embedded", "hop_trust"]

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


def _entry(hops: Sequence[ReceivedHop], trusted: Trusted) -> int | None:
    for hop in hops:
        if hop.fetch or hop.from_ip is None or is_loopback(hop.from_ip):
            continue  # a mailbox fetch, a local hand-off or an address-less internal relay
        if trusted:
            if trusted.holds(hop):
                continue
        elif is_internal(hop.from_ip):
            continue
        return hop.index
    return None


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


def analyse(  # noqa: C901 - one rule per origin header, in order of trust
    hops: list[ReceivedHop], headers: Sequence[Header], trusted: Trusted
) -> Analysis:
    entry = _entry(hops, trusted)
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
            candidates.append(
                Origin(hop.from_ip, trust, f"authenticated submission, hop {hop.index}")
            )
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

"""Events paired with what their addresses were: the per-event path the analysis reads.

``observe`` builds one ``Observation`` per event (the personas the analysis assesses);
``coverage`` counts the events outside each dated intel layer. Both were the pipeline's; the
columnar engine (``engine.local``) uses them for the personas it hands to the analysis and
must agree with them on every column it computes itself (tests/engine).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slipcatch.intel import IntelPack
from slipcatch.intel.addr import lookup_address, to_micros
from slipcatch.model import LayerCoverage, Observation, canonical_ip

__all__ = ["coverage", "observe"]


def observe(events: Sequence, pack: IntelPack) -> list[Observation]:
    """Pair every event with what its source address was at the event's time (and, for an
    e-mail whose sender-written headers name a client behind the entry relay, what that
    claimed client was then: ``Observation.claimed``). IPv6 forms that carry an IPv4 address
    are looked up as that address (``lookup_address``)."""
    facts = pack.lookup([lookup_address(e.src_ip) for e in events], [e.time for e in events])
    order: list[int] = []
    ips: list[str] = []
    for k, e in enumerate(events):
        text = e.mail.claimed_client_ip if e.mail is not None else None
        if not text:
            continue
        try:
            ip = canonical_ip(text)
        except ValueError:
            continue  # the e-mail reader records only addresses; a table may hold anything
        if ip != e.src_ip:
            order.append(k)
            ips.append(lookup_address(ip))
    found = pack.lookup(ips, [events[k].time for k in order])
    claimed = dict(zip(order, found, strict=True))
    return [
        Observation(event=e, address=f, claimed=claimed.get(k))
        for k, (e, f) in enumerate(zip(events, facts, strict=True))
    ]


def coverage(observations: Sequence[Observation], pack: IntelPack) -> tuple[LayerCoverage, ...]:
    """Per dated layer of ``pack`` (Tor, routing, geolocation), its period and the number of
    events whose time no snapshot of the layer covers (docs/intel.md, "Coverage")."""
    us = np.array([to_micros(o.event.time) for o in observations], np.int64)
    is_v4 = np.array([":" not in o.address.ip for o in observations], np.bool_)
    out = []
    for c in pack.coverage():
        inside = pack.covered(c["layer"], is_v4, us)
        out.append(LayerCoverage(layer=c["layer"], valid_from=c["from"], valid_to=c["to"],
                                 events_outside=int((~inside).sum())))
    return tuple(out)

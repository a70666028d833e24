"""How the analysis reads the three Tor answers, and the confidence cap for uncovered slips.

docs/model.md, "Tor exit history": per event the pack says ``listed`` (the category is
``tor``: cover), ``not-listed`` (a snapshot near enough says it was not an exit: the other facts
decide) or ``no-data`` (no snapshot near enough). ``no-data`` is never evidence of exposure by
itself, and:

* a ``no-data`` address whose nearest listing is at most ``NEAR_LISTING_DAYS`` days away, and
  that no other fact makes cover, actor or reserved, is read as *probable* Tor cover: it
  counts as covered (it can neither be nor extend a slip), with a ``tor`` fact marked
  projected whose label says how far the listing is;
* a verdict whose slips include an event the Tor data did not cover (``no-data``) cannot be
  held with more than low confidence: an unlisted exit cannot be ruled out there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from slipcatch.model import Category, Fact, Observation, Slip

__all__ = ["NEAR_LISTING_DAYS", "TOR_SOURCE", "cap_for_tor_coverage", "read_tor"]

#: A listing this many days (or fewer) from a ``no-data`` event makes it probable cover.
NEAR_LISTING_DAYS = 7
TOR_SOURCE = "tor-exit-history"
_OPEN = frozenset({Category.UNKNOWN, Category.RESIDENTIAL})


def read_tor(obs: Observation) -> Observation:
    """``obs`` with a near Tor listing read as probable cover (see the module docstring)."""
    a = obs.address
    days = a.tor_nearest_listing_days
    if a.tor != "no-data" or days is None or abs(days) > NEAR_LISTING_DAYS:
        return obs
    if a.category not in _OPEN:
        return obs
    when = f"{days} days later" if days > 0 else f"{-days} days earlier"
    if days == 0:
        when = "the same day"
    fact = Fact(
        range=f"{a.ip}/{128 if ':' in a.ip else 32}",
        category=Category.TOR,
        source=TOR_SOURCE,
        label=f"probable Tor exit (listed {when}; no snapshot at the event's time)",
        note=f"read as cover: a listing within {NEAR_LISTING_DAYS} days and no snapshot to "
             "say otherwise (docs/model.md, 'Tor exit history')",
        projected=True,
    )
    address = dataclasses.replace(a, category=Category.TOR, facts=(*a.facts, fact),
                                  projected=True)
    return dataclasses.replace(obs, address=address)


Confidence = Literal["low", "moderate", "high"]


def cap_for_tor_coverage(
    confidence: Confidence, slips: Sequence[Slip], observations: Sequence[Observation]
) -> tuple[Confidence, list[str]]:
    """The confidence after the Tor-coverage cap, and the reasons to state."""
    ids = {e for s in slips for e in s.event_ids}
    if not ids:
        return confidence, []
    outside = sum(1 for o in observations if o.event.id in ids and o.address.tor == "no-data")
    if not outside:
        return confidence, []
    reasons = [f"the Tor exit data did not cover the time of {outside} slip event(s) (no exit "
               "list snapshot near enough): an unlisted exit cannot be ruled out there"]
    if confidence in ("moderate", "high"):
        reasons.append("confidence capped at low: the cover data did not cover the slips' times")
        return "low", reasons
    return confidence, reasons

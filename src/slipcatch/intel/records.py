"""What a loader hands to the pack compiler: facts with their numeric ranges, and accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from slipcatch.model import Actor, Fact, Rejection, SourceInfo

__all__ = ["REASONS", "FactRow", "Loaded"]

#: Rejection reason codes for intel records (``model.Rejection.reason``).
REASONS: dict[str, str] = {
    "bad-cidr": "the line or cell is not an IPv4/IPv6 address or CIDR",
    "host-bits": "the CIDR has host bits set (e.g. 10.0.0.1/8); refused, not re-read",
    "bad-category": "the category is not one of the address categories",
    "bad-time": "valid_from/valid_to is not an ISO 8601 date or time, or from >= to",
    "bad-row": "the row has the wrong number of fields",
    "bad-line": "the line is not a record of the format (unknown keyword or missing field)",
}


@dataclass(frozen=True, slots=True)
class FactRow:
    """A fact with its inclusive 128-bit range (IPv4 mapped), as the compiler needs it."""

    first: int
    last: int
    fact: Fact


@dataclass
class Loaded:
    """The output of loading one or more intel sources."""

    facts: list[FactRow] = field(default_factory=list)
    sources: list[SourceInfo] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def extend(self, other: Loaded) -> None:
        self.facts.extend(other.facts)
        self.sources.extend(other.sources)
        self.actors.extend(other.actors)
        self.rejections.extend(other.rejections)

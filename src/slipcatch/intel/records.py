"""What a loader hands to the pack compiler: facts with their numeric ranges, and accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from slipcatch.model import Actor, Fact, Rejection, SourceInfo

__all__ = ["REASONS", "AliasSet", "FactRow", "Loaded"]

#: Rejection reason codes for intel records (``model.Rejection.reason``).
REASONS: dict[str, str] = {
    "bad-cidr": "the line or cell is not an IPv4/IPv6 address or CIDR",
    "host-bits": "the CIDR has host bits set (e.g. 10.0.0.1/8); refused, not re-read",
    "bad-category": "the category is not one of the address categories",
    "bad-time": "valid_from/valid_to is not an ISO 8601 date or time, or from >= to",
    "bad-row": "the row has the wrong number of fields",
    "bad-line": "the line is not a record of the format (unknown keyword or missing field)",
    "overlap": "the range overlaps an earlier record of the same list (and time window)",
    "bad-range": "the range is empty, inverted or leaves the address family",
    "bad-asn": "the AS number is not a number in 0..4294967295",
    "bad-country": "the country is not an ISO 3166-1 alpha-2 code",
}


@dataclass(frozen=True, slots=True)
class FactRow:
    """A fact with its inclusive 128-bit range (IPv4 mapped), as the compiler needs it.

    ``generic`` marks facts of a catch-all list (the MISP ``vpn-ipv4``/``vpn-ipv6`` lists mix
    VPN exits with data-centre space): they rank below provider-specific facts of other cover
    categories (docs/intel.md, "Primary category").
    """

    first: int
    last: int
    fact: Fact
    generic: bool = False


@dataclass(frozen=True, slots=True)
class AliasSet:
    """An actor as a galaxy or ATT&CK intrusion set names it, to merge into the registry."""

    source: str
    ref: str  # the cluster's uuid or the STIX id
    name: str
    aliases: tuple[str, ...]
    country: str | None = None
    external_ids: tuple[str, ...] = ()  # e.g. ("G0032",)


@dataclass
class Loaded:
    """The output of loading one or more intel sources."""

    facts: list[FactRow] = field(default_factory=list)
    sources: list[SourceInfo] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    alias_sets: list[AliasSet] = field(default_factory=list)

    def extend(self, other: Loaded) -> None:
        self.facts.extend(other.facts)
        self.sources.extend(other.sources)
        self.actors.extend(other.actors)
        self.rejections.extend(other.rejections)
        self.alias_sets.extend(other.alias_sets)

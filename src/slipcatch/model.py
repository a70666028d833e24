"""The nouns of slipcatch, shared by every stage.

Data flows one way::

    evidence  -> Event | Rejection            (slipcatch.evidence)
    intel     -> Fact, AddressFacts           (slipcatch.intel)
    Event + AddressFacts -> Observation       (slipcatch.pipeline)
    Observation as the analysis reads it      (slipcatch.analysis.reading)
    Observations -> Persona, Slip             (slipcatch.analysis.personas / slips)
    -> EvidenceLine                           (slipcatch.analysis.rules)
    -> Hypothesis, Verdict                    (slipcatch.analysis.hypotheses / confidence)
    -> Assessment                             (slipcatch.pipeline)
    -> JSON, Markdown, HTML, ...              (slipcatch.report)

Every object here is immutable once built. Times are timezone-aware UTC ``datetime``s.
Addresses are kept as canonical text (``ipaddress`` compressed form) on the objects; the
vectorised lookups (``slipcatch.intel``) take them as 128-bit integers split into two ``uint64``
halves, IPv4 as the IPv4-mapped IPv6 address.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar, Literal

__all__ = [
    "ANONYMOUS",
    "COVER",
    "ICD203_BANDS",
    "Actor",
    "AddressFacts",
    "Alternative",
    "Assessment",
    "Category",
    "Counterfactual",
    "Event",
    "EvidenceFile",
    "EvidenceLine",
    "EvidenceRef",
    "Fact",
    "Hop",
    "Hypothesis",
    "LayerCoverage",
    "MailOrigin",
    "Observation",
    "OperatingPeriod",
    "OriginTrust",
    "Persona",
    "PersonaAssessment",
    "Rejection",
    "Remainder",
    "Slip",
    "SourceInfo",
    "Verdict",
    "canonical_ip",
    "event_id",
    "icd203_term",
    "stable_id",
    "utc",
]

#: Persona of a record that names nobody (set by the readers, read by the analysis).
ANONYMOUS = "(anonymous)"


class Category(StrEnum):
    """Primary category of an address at one moment (see the CLI contract)."""

    TOR = "tor"
    VPN = "vpn"
    PROXY = "proxy"
    HOSTING = "hosting"
    RESIDENTIAL = "residential"
    RESERVED = "reserved"
    ACTOR = "actor"
    UNKNOWN = "unknown"


#: Infrastructure an operator can hide behind.
COVER: frozenset[Category] = frozenset(
    {Category.TOR, Category.VPN, Category.PROXY, Category.HOSTING}
)


class OriginTrust(StrEnum):
    """Who wrote the header an e-mail's origin address was read from."""

    TRUSTED_RELAY = "trusted-relay"
    SENDER_PROVIDER = "sender-provider"
    SENDER_WRITTEN = "sender-written"


def canonical_ip(text: str) -> str:
    """Return the canonical text of an IPv4/IPv6 address.

    Strict: leading zeros in IPv4 octets (``010.1.1.1``) are refused rather than read as octal
    or decimal, IPv6 zone ids are refused (callers strip and record them first), IPv4-mapped
    IPv6 addresses (``::ffff:1.2.3.4``) become the IPv4 address.

    Raises:
        ValueError: the text is not an address.
    """
    addr = ipaddress.ip_address(text.strip())
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id is not None:
            raise ValueError(f"zone id in address {text!r}")
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
    return str(addr)


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id: ``prefix--`` + 16 hex digits of SHA-256 over the parts."""
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogateescape"))
        h.update(b"\x1f")
    return f"{prefix}--{h.hexdigest()[:16]}"


def event_id(channel: str, time: datetime, src_ip: str, persona: str, digest: str) -> str:
    """Deterministic event id from the event's content (not its file or position).

    ``digest`` is a hash of the record itself (the raw line, the message bytes), so the same
    record seen in two files gets the same id and is counted once, as a duplicate.
    """
    return stable_id("ev", channel, time.isoformat(), src_ip, persona, digest)


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """Where an event came from: the file's SHA-256 and the record's locator in it."""

    path: str
    sha256: str
    locator: str  # "line 12", "message 3", "byte 4096", "row 7"


@dataclass(frozen=True, slots=True)
class Hop:
    """One Received hop of an e-mail, as read (for the report and origin analysis)."""

    index: int  # 0 = topmost (last added, nearest the recipient)
    from_host: str | None
    from_ip: str | None
    by_host: str | None
    protocol: str | None  # "ESMTPSA", "HTTP", "SMTP", ...
    time: datetime | None
    trust: OriginTrust | None  # who wrote this header, as judged against the trust boundary
    flags: tuple[str, ...] = ()
    raw: str = ""


@dataclass(frozen=True, slots=True)
class MailOrigin:
    """The e-mail part of an event (``Event.mail``): who the message says sent it, and the
    client that headers only the sender wrote name behind the entry relay.

    The e-mail reader fills it; a table row on channel ``email`` gets one from its columns of
    the same names (``from_attributes``). ``attributes()`` is the flat view the event also
    carries in ``Event.attributes`` (persona-map ``attr:`` rows, ``events.jsonl``). Where the
    message entered and who wrote each hop stay on the event (``origin_trust``, ``entry_ip``,
    ``hops``).
    """

    from_addr: str | None = None  # the From address: an identity of the persona
    display_name: str | None = None  # the From display name, RFC 2047 decoded
    # A client named behind the entry relay by headers only the sender wrote (the origin stays
    # the entry relay); the analysis looks it up (``Observation.claimed``).
    claimed_client_ip: str | None = None
    claimed_client_trust: OriginTrust | None = None
    claimed_client_evidence: str | None = None  # "hop 2", "x-originating-ip", ...
    # The trust boundary the origin was read at: the recipient-side host that received the
    # message from outside, and why the hops above it are the recipient's (told by
    # ``--trusted-relay`` or inferred: envelope recipients, fetch, forwarding, same organisation).
    boundary: str | None = None
    boundary_basis: str | None = None

    #: The fields that are also event attributes, under their own names.
    KEYS: ClassVar[tuple[str, ...]] = (
        "from_addr",
        "claimed_client_ip",
        "claimed_client_trust",
        "claimed_client_evidence",
        "boundary",
        "boundary_basis",
    )

    def attributes(self) -> dict[str, str]:
        """The fields as event attributes (the display name is not one: it names the persona)."""
        out: dict[str, str] = {}
        for key in self.KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value)
        return out

    @classmethod
    def from_attributes(
        cls, attributes: Mapping[str, str], display_name: str | None = None
    ) -> MailOrigin | None:
        """The e-mail part held in flat attributes (a table row, a case stored without it);
        None when they hold none of ``KEYS``. An unknown trust value is dropped."""
        if not any(attributes.get(k) for k in cls.KEYS):
            return None
        trust = attributes.get("claimed_client_trust")
        return cls(
            from_addr=attributes.get("from_addr") or None,
            display_name=display_name,
            claimed_client_ip=attributes.get("claimed_client_ip") or None,
            claimed_client_trust=(
                OriginTrust(trust) if trust in {t.value for t in OriginTrust} else None
            ),
            claimed_client_evidence=attributes.get("claimed_client_evidence") or None,
            boundary=attributes.get("boundary") or None,
            boundary_basis=attributes.get("boundary_basis") or None,
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One act of the adversary (or of anyone) seen in the evidence."""

    id: str
    time: datetime
    src_ip: str
    persona: str
    channel: str  # "email", "web", "zeek:ssh", or a table's channel column ("posting", ...)
    evidence: EvidenceRef
    attributes: Mapping[str, str] = field(default_factory=dict)
    origin_trust: OriginTrust | None = None  # e-mail only
    entry_ip: str | None = None  # e-mail only: where the message entered the receiving side
    hops: tuple[Hop, ...] = ()  # e-mail only
    mail: MailOrigin | None = None  # e-mail only: sender and claimed client


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that produced no event, with the reason (a code from ``reasons.REASONS``)."""

    path: str
    sha256: str
    locator: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """The exact account of one input file: records = events + rejected + duplicates."""

    path: str
    sha256: str
    size: int
    format: str
    records: int
    events: int
    rejected: int
    duplicates: int
    # The winning reader's sniff score (0..1): how sure the format recognition was. None for
    # empty and unrecognised files.
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Provenance of one intelligence source in a pack."""

    name: str
    kind: str  # "geo-asn", "warninglist", "actor-registry", "tor-exit", "cidr-list", ...
    version: str
    records: int
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    licence: str = ""
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class Fact:
    """Something an intel source says about an address range during a time interval."""

    range: str  # CIDR, or "first-last" for ranges that are not a single prefix
    category: Category | None  # None for facts that only carry country/ASN
    source: str  # SourceInfo.name
    label: str | None = None  # provider or network name
    actor: str | None = None  # actor id, for exclusive ranges
    country: str | None = None
    asn: int | None = None
    valid_from: datetime | None = None  # None = unbounded
    valid_to: datetime | None = None
    note: str | None = None  # caveats, citations
    # For actor ranges: how exclusively the actor used the range then (1.0 = nobody else
    # could originate traffic there; lower for leased or shared space with known abuse).
    exclusivity: float | None = None
    # True when the fact's validity is a projection of a snapshot beyond the moments the
    # source observed (a 2025 hosting list applied to a 2014 event): see docs/intel.md.
    projected: bool = False


@dataclass(frozen=True, slots=True)
class AddressFacts:
    """What one address was at one moment, with every fact that says so."""

    ip: str
    time: datetime
    category: Category
    country: str | None = None
    asn: int | None = None
    as_org: str | None = None
    prefix: str | None = None
    actor: str | None = None  # actor id whose exclusive range held the address then
    facts: tuple[Fact, ...] = ()
    # True when the fact that decided ``category`` is projected (``Fact.projected``).
    projected: bool = False
    # Dated Tor exit history (docs/intel.md): "listed", "not-listed" or "no-data" (None: not
    # looked up, e.g. an answer built outside a pack), and the signed calendar days to the
    # nearest interval listing the address when not listed.
    tor: str | None = None
    tor_nearest_listing_days: int | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """An event together with what its source address was at the event's time."""

    event: Event
    address: AddressFacts
    # E-mail: what the client a header only the sender wrote names behind the entry relay
    # (``event.mail.claimed_client_ip``) was at the event's time; else None.
    claimed: AddressFacts | None = None

    @property
    def is_cover(self) -> bool:
        return self.address.category in COVER


@dataclass(frozen=True, slots=True)
class OperatingPeriod:
    """A country an actor's operators are reported to work from, for a stated time."""

    country: str  # ISO 3166-1 alpha-2
    valid_from: datetime | None = None
    valid_to: datetime | None = None  # exclusive

    def covers(self, at: datetime) -> bool:
        t = utc(at)
        return (self.valid_from is None or self.valid_from <= t) and (
            self.valid_to is None or t < self.valid_to
        )


@dataclass(frozen=True, slots=True)
class Actor:
    """A threat actor from the registry (or from a galaxy / ATT&CK intrusion set)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None  # sponsor country, ISO 3166-1 alpha-2
    timezones: tuple[str, ...] = ()  # IANA names, for pattern-of-life
    # Countries besides the sponsor its operators are reported to work from (ISO 3166-1
    # alpha-2): an exposure there is consistent with the actor, not "elsewhere".
    operating_countries: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    # Autonomous systems the actor's side operates (a state network's own AS): an exposed
    # address they announce outside the registered ranges is an ASN-level hit.
    asns: tuple[int, ...] = ()
    # Operating countries reported for a stated time only (``operating_countries`` are undated).
    operating_periods: tuple[OperatingPeriod, ...] = ()

    def operates_in(self, country: str, at: datetime) -> bool:
        """Whether the actor's operators are reported to work from ``country`` at ``at``."""
        code = country.strip().upper()
        return code in self.operating_countries or any(
            p.country == code and p.covers(at) for p in self.operating_periods
        )


@dataclass(frozen=True, slots=True)
class Slip:
    """An exposed event, or a run of them, in a persona that otherwise works under cover."""

    id: str
    persona: str
    ip: str
    first_seen: datetime
    last_seen: datetime
    event_ids: tuple[str, ...]
    category: Category
    prefix: str | None = None
    asn: int | None = None
    country: str | None = None
    attributed_to: str | None = None  # actor id
    closed_after_seconds: float | None = None  # to the persona's next covered event
    channels: tuple[str, ...] = ()
    origin_trust: OriginTrust | None = None  # weakest trust among the slip's e-mail events

    @property
    def events(self) -> int:
        return len(self.event_ids)


@dataclass(frozen=True, slots=True)
class Persona:
    """Who the events claim to be: one name, possibly several identities."""

    id: str
    name: str
    identities: tuple[str, ...]
    event_ids: tuple[str, ...]
    channels: tuple[str, ...]
    cover_ratio: float


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One independent line of evidence, with its likelihood ratio against each hypothesis.

    ``likelihoods`` maps hypothesis id -> P(this evidence | hypothesis), up to a common factor;
    ratios between hypotheses are what matter. ``rule`` names the model rule in docs/model.md.
    """

    id: str
    kind: str  # "actor-range-slip", "slip-pattern", "country-hit", ...
    summary: str
    likelihoods: Mapping[str, float]
    reliability: str  # Admiralty code, e.g. "B2"
    rule: str
    event_ids: tuple[str, ...] = ()
    slip_ids: tuple[str, ...] = ()
    # ACH view of the line (docs/model.md, "ACH matrix"): hypothesis id -> "consistent",
    # "inconsistent" or "neutral", and the Bayes factor behind that mark (the line's likelihood
    # for the hypothesis over the prior-weighted rest).
    consistency: Mapping[str, str] = field(default_factory=dict)
    bayes_factors: Mapping[str, float] = field(default_factory=dict)
    # max / min likelihood across the persona's hypotheses: 1 = says nothing, 10 = the line cap.
    diagnosticity: float = 1.0


@dataclass(frozen=True, slots=True)
class Hypothesis:
    id: str
    kind: Literal["actor", "false_flag", "unknown", "analyst"]
    actor: str | None
    statement: str
    prior: float
    probability: float
    supporting: tuple[str, ...] = ()
    contradicting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    actor: str | None
    probability: float
    likelihood: str  # ICD 203 term
    confidence: Literal["low", "moderate", "high"]
    statement: str
    confidence_reasons: tuple[str, ...] = ()
    linchpins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alternative:
    """The skeptic's view of one attributing item."""

    item: str  # evidence line or slip id
    explanation: str
    discriminator: str  # what would tell the explanations apart


@dataclass(frozen=True, slots=True)
class Counterfactual:
    """What would change our mind: hypothetical evidence, and the verdict after re-running the
    model with it added (docs/model.md, "What would change our mind")."""

    id: str
    kind: str  # "another-actor-slip", "exposed-elsewhere", "range-shared", ...
    description: str
    probability: float  # P(the verdict's actor, or the best-supported actor) afterwards
    likelihood: str  # ICD 203 term of that probability
    shift: float  # probability afterwards minus the verdict's probability now
    verdict_actor: str | None = None  # the verdict's actor afterwards
    confidence: str = "low"  # the confidence afterwards (before linchpins)
    # contrary-/supporting-evidence: the effective likelihood ratio of the hypothetical line
    ratio: float | None = None


@dataclass(frozen=True, slots=True)
class PersonaAssessment:
    persona: Persona
    slips: tuple[Slip, ...]
    evidence: tuple[EvidenceLine, ...]
    hypotheses: tuple[Hypothesis, ...]
    verdict: Verdict
    alternatives: tuple[Alternative, ...] = ()
    # Hypothetical evidence that would most move the verdict, largest shift first.
    counterfactuals: tuple[Counterfactual, ...] = ()
    # The priors used, in words (defaults or the analyst's override), for the report.
    priors: str = ""


@dataclass(frozen=True, slots=True)
class LayerCoverage:
    """The period a dated intel layer covers, and how many of the run's events lie outside
    it (``assessment.json``: ``intel.coverage``; docs/intel.md, "Coverage")."""

    layer: str  # "tor", "routing", "geolocation"
    valid_from: datetime | None
    valid_to: datetime | None
    events_outside: int


@dataclass(frozen=True, slots=True)
class Remainder:
    """The events of personas that were not assessed one by one, summarised.

    At scale only the personas with something to weigh (an address in an actor's range, an
    exposed event amid cover, or one the analyst asked for) become ``PersonaAssessment``s; the
    rest of the log stays in the event table and is described here: how many events and
    personas, counts by category and by country (most first, then by name), and the busiest
    source addresses as ``(ip, category, events)``.
    """

    events: int
    personas: int
    by_category: tuple[tuple[str, int], ...] = ()
    by_country: tuple[tuple[str, int], ...] = ()
    top_addresses: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Assessment:
    """The whole result of one analysis run."""

    generated_at: datetime
    evidence: tuple[EvidenceFile, ...]
    rejections: tuple[Rejection, ...]
    pack_id: str
    sources: tuple[SourceInfo, ...]
    observations: tuple[Observation, ...]  # in time order
    personas: tuple[PersonaAssessment, ...]
    actors: tuple[Actor, ...]
    model_version: str = ""
    # Lines of intel sources that could not be used (file, line, reason); evidence rejections
    # are in ``rejections`` and reconcile with the evidence accounts, these do not.
    intel_rejections: tuple[Rejection, ...] = ()
    # Evidence rejections by reason over the whole run, when ``rejections`` is only a sample
    # (at most ``evidence.REJECTION_SAMPLE``; all stream to rejections.jsonl and the case store).
    # Empty when ``rejections`` holds them all.
    rejection_counts: tuple[tuple[str, int], ...] = ()
    # Warnings about the run itself (a persona-map pattern over its time budget, ...).
    warnings: tuple[str, ...] = ()
    # Per dated layer (Tor, routing, geolocation): its period and the events outside it.
    coverage: tuple[LayerCoverage, ...] = ()
    # Personas not assessed one by one (large logs, ``engine``); None when every persona was.
    remainder: Remainder | None = None


# ICD 203 expressions of likelihood, with their probability bands [low, high).
ICD203_BANDS: tuple[tuple[str, float, float], ...] = (
    ("almost no chance", 0.0, 0.05),
    ("very unlikely", 0.05, 0.20),
    ("unlikely", 0.20, 0.45),
    ("roughly even chance", 0.45, 0.55),
    ("likely", 0.55, 0.80),
    ("very likely", 0.80, 0.95),
    ("almost certain", 0.95, 1.0000001),
)


def icd203_term(p: float) -> str:
    """The ICD 203 word for probability ``p`` (0..1)."""
    for term, lo, hi in ICD203_BANDS:
        if lo <= p < hi:
            return term
    raise ValueError(f"probability out of range: {p!r}")


def utc(dt: datetime) -> datetime:
    """Make a datetime UTC-aware (naive times are taken as UTC)."""
    if dt.tzinfo is UTC:  # the readers' times: nothing to convert (the analysis' hot path)
        return dt
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


"""What the caller decides about a report beyond the assessment: its title, its TLP marking,
which personas the shared exports (STIX, MISP) carry, whether local paths may leave, and which
event files (events.jsonl, events.parquet) are written.

``ReportOptions()`` (the default) gives today's title, no TLP marking, ``share="attributed"``
file names with SHA-256 instead of local paths in the shared exports, and both event files.
See docs/sharing.md and docs/report.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from slipcatch.errors import UsageError
from slipcatch.model import COVER, ICD203_BANDS, Assessment

from ._view import PersonaView

__all__ = [
    "EVENT_FORMATS",
    "MAX_CONTEXT_ADDRESSES",
    "SHARE_MODES",
    "TLP_LEVELS",
    "PathScrubber",
    "ReportOptions",
    "is_attributed",
    "resting_addresses",
    "shared_addresses",
    "shared_personas",
]

#: TLP 2.0 levels (FIRST), in the order they tighten.
TLP_LEVELS: tuple[str, ...] = ("clear", "green", "amber", "amber+strict", "red")
#: ``--share`` choices: who goes into STIX and MISP.
SHARE_MODES: tuple[str, ...] = ("attributed", "slips", "all")
#: ``--events`` choices: which event files are written (docs/report.md).
EVENT_FORMATS: tuple[str, ...] = ("jsonl", "parquet", "both")
#: With ``--share all``: addresses of a persona beyond its findings that STIX and MISP carry
#: for context, at most (the busiest; see :func:`shared_addresses`).
MAX_CONTEXT_ADDRESSES = 100
#: Default report title (Markdown and HTML) when neither ``--title`` nor a case name is given.
DEFAULT_TITLE = "slipcatch assessment"

#: Lowest probability of the ICD 203 band above "roughly even chance" ("likely": 55%).
_ATTRIBUTED_FLOOR = next(lo for term, lo, _ in ICD203_BANDS if term == "likely")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Options every writer reads; immutable so one value serves all outputs of a run.

    Raises:
        UsageError: ``tlp`` or ``share`` is not one of :data:`TLP_LEVELS` / :data:`SHARE_MODES`.
    """

    title: str | None = None
    tlp: str | None = None
    share: str = "attributed"
    keep_paths: bool = False
    events: str = "both"  # events.jsonl and/or events.parquet: one of EVENT_FORMATS

    def __post_init__(self) -> None:
        if self.events not in EVENT_FORMATS:
            raise UsageError(
                f"--events must be one of {', '.join(EVENT_FORMATS)}, not {self.events!r}"
            )
        if self.tlp is not None and self.tlp not in TLP_LEVELS:
            raise UsageError(f"--tlp must be one of {', '.join(TLP_LEVELS)}, not {self.tlp!r}")
        if self.share not in SHARE_MODES:
            raise UsageError(
                f"--share must be one of {', '.join(SHARE_MODES)}, not {self.share!r}"
            )

    @property
    def heading(self) -> str:
        """The report's title: ``--title`` (or the case's) if given, else the default."""
        return self.title.strip() if self.title and self.title.strip() else DEFAULT_TITLE

    @property
    def tlp_label(self) -> str | None:
        """``TLP:AMBER+STRICT`` etc., or None without a marking."""
        return None if self.tlp is None else "TLP:" + self.tlp.upper()


def is_attributed(pv: PersonaView) -> bool:
    """An actor verdict above "roughly even chance" (likely, very likely, almost certain)."""
    v = pv.assessment.verdict
    return v.actor is not None and pv.attributable and v.probability >= _ATTRIBUTED_FLOOR


def shared_personas(personas: Iterable[PersonaView], share: str) -> list[PersonaView]:
    """The personas a shared export carries under ``share`` (in the given order).

    ``attributed``: actor verdicts above "roughly even chance"; ``slips``: those and every
    persona with a slip; ``all``: every persona.
    """
    out = []
    for pv in personas:
        if share == "all" or is_attributed(pv) or (share == "slips" and pv.slips):
            out.append(pv)
    return out


def resting_addresses(pv: PersonaView) -> set[str]:
    """Addresses the verdict rests on: exposed (non-cover) addresses of the events and slips
    cited by the lines that support the verdict's actor hypothesis. Empty without an actor
    verdict. These, and only these, are IDS indicators in the shared exports."""
    v = pv.assessment.verdict
    if v.actor is None:
        return set()
    support = {
        line_id
        for h in pv.hypotheses
        if h.kind == "actor" and h.actor == v.actor
        for line_id in h.supporting
    }
    lines = [lv.line for lv in pv.lines if lv.line.id in support]
    events = {e for line in lines for e in line.event_ids}
    slips = {s for line in lines for s in line.slip_ids}
    out = {
        o.event.src_ip
        for o in pv.observations
        if o.event.id in events and o.address.category not in COVER
    }
    out.update(s.ip for s in pv.slips if s.id in slips and s.category not in COVER)
    return out


def shared_addresses(pv: PersonaView, share: str = "attributed") -> set[str]:
    """The addresses of a shared persona that STIX and MISP carry: its findings, never every
    address of its log.

    The findings: its slips' addresses, the addresses its verdict rests on
    (:func:`resting_addresses`) and the addresses that were in an actor's range at the time of
    one of its events. With ``share="all"`` also its other addresses for context (cover exits,
    relays), the busiest first (then by address), up to :data:`MAX_CONTEXT_ADDRESSES` per
    persona. So the exports grow with what was found, not with the events; every address is
    in the event files.
    """
    out = resting_addresses(pv) | {s.ip for s in pv.slips}
    counts: Counter[str] = Counter()
    for o in pv.observations:
        if o.address.actor is not None:
            out.add(o.event.src_ip)
        counts[o.event.src_ip] += 1
    if share == "all":
        others = sorted((ip for ip in counts if ip not in out), key=lambda ip: (-counts[ip], ip))
        out.update(others[:MAX_CONTEXT_ADDRESSES])
    return out


# An absolute POSIX path of two segments or more, or a Windows drive path.
_POSIX_PATH = re.compile(r"(?<![\w.~:/-])/(?:[^/\s'\"()<>,;|]+/)+[^/\s'\"()<>,;|]+")
_WINDOWS_PATH = re.compile(r"(?<![\w])[A-Za-z]:\\(?:[^\\\s'\"()<>,;|]+\\)*[^\\\s'\"()<>,;|]+")


@dataclass(frozen=True, slots=True)
class PathScrubber:
    """Replaces local paths by file names (and, where a record is named, its SHA-256).

    With ``keep`` it changes nothing.
    """

    keep: bool
    known: Mapping[str, str]  # evidence path -> SHA-256

    @classmethod
    def for_assessment(cls, assessment: Assessment, options: ReportOptions) -> PathScrubber:
        return cls(options.keep_paths, {f.path: f.sha256 for f in assessment.evidence})

    def name(self, path: str) -> str:
        """A file's path as it may be shared: its name (the whole path with ``keep``)."""
        if self.keep:
            return path
        if "\\" in path and "/" not in path:
            return PureWindowsPath(path).name or path
        return PurePosixPath(path).name or path

    def record(self, path: str, sha256: str | None = None) -> str:
        """A record's file for a comment: name and SHA-256, or the path with ``keep``."""
        if self.keep:
            return path
        sha = sha256 or self.known.get(path)
        return f"{self.name(path)} (SHA-256 {sha})" if sha else self.name(path)

    def text(self, text: str) -> str:
        """Free text with every absolute path in it reduced to its file name."""
        if self.keep:
            return text
        for path in sorted(self.known, key=len, reverse=True):
            if path and path in text:
                text = text.replace(path, self.name(path))
        text = _POSIX_PATH.sub(lambda m: PurePosixPath(m.group(0)).name, text)
        return _WINDOWS_PATH.sub(lambda m: PureWindowsPath(m.group(0)).name, text)

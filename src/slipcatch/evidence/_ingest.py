"""Walk evidence paths, recognise each file's format and account for every record."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from slipcatch.errors import EvidenceError
from slipcatch.evidence import authlog, mail, table, weblog, weblog_json, zeek
from slipcatch.evidence._common import reject
from slipcatch.evidence._source import Source
from slipcatch.model import Event, EvidenceFile, Rejection

if TYPE_CHECKING:
    from slipcatch.evidence import ReadOptions

__all__ = ["FORMATS", "FileRead", "IngestResult", "ingest_paths", "recognise", "scores", "walk"]

#: Registered formats, in tie-break order (an equal sniff score goes to the earlier one).
FORMATS: tuple[ModuleType, ...] = (mail, weblog, weblog_json, zeek, authlog, table)
_MIN_SCORE = 0.5


@dataclass
class IngestResult:
    """Everything read: events (de-duplicated, sorted by time then id), rejections, accounts."""

    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    files: list[EvidenceFile] = field(default_factory=list)


def walk(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files under ``paths``: directories recursively in sorted order, hidden entries skipped.

    A file named explicitly is read even when hidden. Each resolved file is yielded once.

    Raises:
        EvidenceError: a path does not exist or a directory cannot be listed.
    """
    seen: set[Path] = set()

    def once(p: Path) -> Iterator[Path]:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            yield p

    def descend(d: Path) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            raise EvidenceError(f"cannot list directory: {exc.strerror or exc}", str(d)) from exc
        for e in entries:
            if e.name.startswith("."):
                continue
            child = d / e.name
            if e.is_dir(follow_symlinks=False):
                yield from descend(child)
            elif e.is_file():
                yield from once(child)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from descend(p)
        elif p.exists():
            yield from once(p)
        else:
            raise EvidenceError("no such file or directory", str(p))


def _binary(head: bytes) -> bool:
    # Like git: a NUL early on means binary; stray NULs deep in a text file are tolerated.
    return b"\x00" in head[:8000]


def scores(source: Source) -> dict[str, float]:
    """Every registered reader's sniff score for the file (0 for binary or blank content)."""
    head = source.head()
    if not head.strip() or _binary(head):
        return {fmt.NAME: 0.0 for fmt in FORMATS}
    return {
        fmt.NAME: min(1.0, max(0.0, float(fmt.sniff(head, source.path.name)))) for fmt in FORMATS
    }


def recognise(source: Source) -> tuple[ModuleType, float] | None:
    """The format module with the best sniff score (at least 0.5) and that score, or None.

    An equal score goes to the reader registered earlier in ``FORMATS``.
    """
    best: tuple[float, ModuleType] | None = None
    by_name = scores(source)
    for fmt in FORMATS:
        score = by_name[fmt.NAME]
        if score >= _MIN_SCORE and (best is None or score > best[0]):
            best = (score, fmt)
    return (best[1], best[0]) if best else None


def ingest_paths(paths: Iterable[str | os.PathLike[str]], options: ReadOptions) -> IngestResult:
    # Reading builds millions of small acyclic objects that all stay alive; the cyclic garbage
    # collector would rescan them again and again (a quarter of the time on large logs). Nothing
    # here creates reference cycles, so collection is paused while reading and then restored.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _ingest_paths(paths, options)
    finally:
        if paused:
            gc.enable()


class FileRead:
    """One evidence file being read: its format, and every record's outcome as a stream.

    ``items()`` yields exactly one ``Event`` or ``Rejection`` per record (an unrecognised file
    is one rejection); ``account(events, duplicates)`` then states the file's exact account,
    given how many of its events the caller kept and how many it found already seen.
    """

    def __init__(self, path: Path, options: ReadOptions):
        self.source = Source(path, options)
        found = recognise(self.source)
        self.format: ModuleType | None = found[0] if found is not None else None
        self.confidence: float | None = found[1] if found is not None else None
        self.records = 0
        self.rejected = 0

    @property
    def format_name(self) -> str:
        if self.format is not None:
            name = self.format.NAME
        elif not self.source.head().strip() and self.source.head_fault is None:
            name = "empty"
        else:
            name = "unknown"
        comp = self.source.compression
        return name if comp is None else f"{name}+{comp}"

    def items(self) -> Iterator[Event | Rejection]:
        for item in self._outcomes():
            self.records += 1
            if isinstance(item, Rejection):
                self.rejected += 1
            yield item

    def _outcomes(self) -> Iterator[Event | Rejection]:
        source = self.source
        if self.format is not None:
            yield from self.format.read(source)
            return
        if not source.head().strip() and source.head_fault is None:
            return  # an empty file has no records
        detail = "binary content" if _binary(source.head()) else "no format matched"
        if source.head_fault:
            detail = f"unreadable compressed stream ({source.head_fault})"
        yield reject(source, "file", "unrecognised-format", detail)

    def account(self, events: int, duplicates: int) -> EvidenceFile:
        """The file's account once ``items()`` is exhausted."""
        assert self.records == events + self.rejected + duplicates, "account does not reconcile"
        return EvidenceFile(
            path=self.source.name,
            sha256=self.source.sha256,
            size=self.source.size,
            format=self.format_name,
            records=self.records,
            events=events,
            rejected=self.rejected,
            duplicates=duplicates,
            confidence=self.confidence,
        )


def _ingest_paths(paths: Iterable[str | os.PathLike[str]], options: ReadOptions) -> IngestResult:
    result = IngestResult()
    seen: set[str] = set()
    files = list(walk(paths))  # fail on a missing path before reading anything
    for path in files:
        reading = FileRead(path, options)
        events = duplicates = 0
        for item in reading.items():
            if isinstance(item, Rejection):
                result.rejections.append(item)
            elif item.id in seen:
                duplicates += 1
            else:
                seen.add(item.id)
                events += 1
                result.events.append(item)
        result.files.append(reading.account(events, duplicates))
    result.events.sort(key=lambda e: (e.time, e.id))
    return result

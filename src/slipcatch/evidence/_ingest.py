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

__all__ = ["FORMATS", "IngestResult", "ingest_paths", "recognise", "scores", "walk"]

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


def _ingest_paths(paths: Iterable[str | os.PathLike[str]], options: ReadOptions) -> IngestResult:
    result = IngestResult()
    seen: set[str] = set()
    files = list(walk(paths))  # fail on a missing path before reading anything
    for path in files:
        source = Source(path, options)
        found = recognise(source)
        fmt, confidence = found if found is not None else (None, None)
        events = rejected = duplicates = records = 0
        if fmt is None:
            empty = not source.head().strip() and source.head_fault is None
            fmt_name = "empty" if empty else "unknown"
            if not empty:
                detail = "binary content" if _binary(source.head()) else "no format matched"
                if source.head_fault:
                    detail = f"unreadable compressed stream ({source.head_fault})"
                result.rejections.append(reject(source, "file", "unrecognised-format", detail))
                records = rejected = 1
        else:
            fmt_name = fmt.NAME
            for item in fmt.read(source):
                records += 1
                if isinstance(item, Rejection):
                    rejected += 1
                    result.rejections.append(item)
                elif item.id in seen:
                    duplicates += 1
                else:
                    seen.add(item.id)
                    events += 1
                    result.events.append(item)
        result.files.append(
            EvidenceFile(
                path=source.name,
                sha256=source.sha256,
                size=source.size,
                format=fmt_name
                if source.compression is None
                else f"{fmt_name}+{source.compression}",
                records=records,
                events=events,
                rejected=rejected,
                duplicates=duplicates,
                confidence=confidence,
            )
        )
    result.events.sort(key=lambda e: (e.time, e.id))
    return result

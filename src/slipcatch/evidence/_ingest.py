"""Walk evidence paths, recognise each file's format and account for every record."""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from slipcatch.errors import EvidenceError
from slipcatch.evidence import (
    authlog,
    iis,
    mail,
    squid,
    table,
    vsftpd,
    weblog,
    weblog_json,
    winsec,
    zeek,
)
from slipcatch.evidence._common import reject
from slipcatch.evidence._source import Source
from slipcatch.evidence.cloud import cloudtrail, entra, github, gworkspace, m365, okta
from slipcatch.evidence.siem import ecs, splunk, suricata
from slipcatch.model import Event, EvidenceFile, Rejection

if TYPE_CHECKING:
    from slipcatch.evidence import ReadOptions

__all__ = [
    "FORMATS",
    "FileRead",
    "IngestResult",
    "Skipped",
    "ingest_paths",
    "recognise",
    "scores",
    "skipped_file",
    "unrecognised_detail",
    "walk",
]

#: Registered formats, in tie-break order (an equal sniff score goes to the earlier one).
FORMATS: tuple[ModuleType, ...] = (
    mail,
    weblog,
    weblog_json,
    zeek,
    winsec,
    iis,
    squid,
    vsftpd,
    authlog,
    table,
)
_MIN_SCORE = 0.5

#: Cloud, identity and SIEM exports (evidence/cloud, evidence/siem), ahead of the generic table.
FORMATS = (*FORMATS[:-1], cloudtrail, entra, m365, okta, gworkspace, github, ecs, splunk,
           suricata, FORMATS[-1])  # fmt: skip


#: Rejections an ``IngestResult`` (and so an ``Assessment``) holds in memory: a hostile file of
#: millions of garbage lines must not exhaust the investigator's machine. Every rejection still
#: goes to the ``sink`` given to ``ingest_paths`` (rejections.jsonl, the case store) and is
#: counted by reason.
REJECTION_SAMPLE = 1000


@dataclass
class IngestResult:
    """Everything read: events (de-duplicated, sorted by time then id), rejections (the first
    ``REJECTION_SAMPLE``), rejection counts by reason (all of them), accounts."""

    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    files: list[EvidenceFile] = field(default_factory=list)
    rejection_counts: Counter[str] = field(default_factory=Counter)

    @property
    def sampled(self) -> bool:
        """Whether ``rejections`` holds only a sample of them."""
        return sum(self.rejection_counts.values()) > len(self.rejections)

    def add_rejection(self, rejection: Rejection, sink: Callable[[Rejection], None] | None) -> None:
        self.rejection_counts[rejection.reason] += 1
        if len(self.rejections) < REJECTION_SAMPLE:
            self.rejections.append(rejection)
        if sink is not None:
            sink(rejection)


@dataclass(frozen=True)
class Skipped:
    """A directory entry that is not read, and why (a reason code of ``REASONS``)."""

    path: Path
    reason: str
    detail: str


def _key(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


def _stat_entry(e: os.DirEntry[str], child: Path) -> tuple[bool, os.stat_result | Skipped]:
    """Whether a directory entry is a symbolic link, and what it leads to (followed), or why it
    cannot be examined."""
    try:
        link = e.is_symlink()
        try:
            return link, os.stat(child)
        except FileNotFoundError:
            if link:
                return link, Skipped(child, "dangling-link", f"-> {os.readlink(child)}")
            raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return True, Skipped(child, "symlink-loop", "too many levels of symbolic links")
        return False, Skipped(child, "unreadable", exc.strerror or str(exc))


def _stat_given(p: Path) -> os.stat_result:
    """What a path given on the command line leads to; an error names it when it leads nowhere."""
    try:
        return os.stat(p)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not p.is_symlink():
            raise EvidenceError("no such file or directory", str(p)) from exc
        reason = "symbolic link loop" if exc.errno == errno.ELOOP else exc.strerror
        raise EvidenceError(f"cannot read: {reason or exc}", str(p)) from exc


def walk(
    paths: Iterable[str | os.PathLike[str]], *, follow_outside: bool = False
) -> Iterator[Path | Skipped]:
    """Files under ``paths``: directories recursively in sorted order, hidden entries skipped.

    A file named explicitly is read even when hidden. Each file (by device and inode) is yielded
    once. Inside a directory every other entry is yielded as ``Skipped`` with its reason: a
    symbolic link followed a second time into a directory already walked (``symlink-loop``), a
    dangling link (``dangling-link``), a FIFO, socket or device (``not-regular-file``), an
    entry that cannot be examined or listed (``unreadable``), and a link leading out of the
    tree given (``outside-tree``, unless ``follow_outside``).

    Raises:
        EvidenceError: a path given does not exist or a directory given cannot be listed.
    """
    seen: set[tuple[int, int]] = set()
    walked: set[tuple[int, int]] = set()

    def once(p: Path, st: os.stat_result) -> Iterator[Path]:
        if _key(st) not in seen:
            seen.add(_key(st))
            yield p

    def inside(target: Path, root: Path) -> bool:
        return follow_outside or target == root or target.is_relative_to(root)

    def descend(d: Path, root: Path, top: bool) -> Iterator[Path | Skipped]:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            if top:
                raise EvidenceError(
                    f"cannot list directory: {exc.strerror or exc}", str(d)
                ) from exc
            yield Skipped(d, "unreadable", f"cannot list directory: {exc.strerror or exc}")
            return
        for e in entries:
            if e.name.startswith("."):
                continue
            child = d / e.name
            link, st = _stat_entry(e, child)
            if isinstance(st, Skipped):
                yield st
                continue
            if link and not inside(Path(os.path.realpath(child)), root):
                yield Skipped(child, "outside-tree", f"-> {os.path.realpath(child)}")
                continue
            if stat.S_ISDIR(st.st_mode):
                if _key(st) in walked:
                    yield Skipped(child, "symlink-loop", "a directory already walked")
                    continue
                walked.add(_key(st))
                yield from descend(child, root, False)
            elif stat.S_ISREG(st.st_mode):
                if not os.access(child, os.R_OK):
                    yield Skipped(child, "unreadable", "permission denied")
                    continue
                yield from once(child, st)
            else:
                yield Skipped(child, "not-regular-file", _kind(st.st_mode))

    for raw in paths:
        p = Path(raw)
        st = _stat_given(p)
        if stat.S_ISDIR(st.st_mode):
            walked.add(_key(st))
            yield from descend(p, Path(os.path.realpath(p)), True)
        else:
            yield from once(p, st)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def skipped_file(entry: Skipped) -> tuple[EvidenceFile, Rejection]:
    """The account of a skipped entry: one record, rejected with the entry's reason (its
    ``sha256`` is that of ``skipped:PATH``, since the entry has no content to hash)."""
    name = str(entry.path).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    digest = hashlib.sha256(f"skipped:{name}".encode()).hexdigest()
    account = EvidenceFile(
        path=name, sha256=digest, size=0, format="skipped", records=1, events=0, rejected=1,
        duplicates=0, confidence=None,
    )  # fmt: skip
    return account, Rejection(name, digest, "file", entry.reason, entry.detail[:500])


def _binary(head: bytes) -> bool:
    # Like git: a NUL early on means binary; stray NULs deep in a text file are tolerated.
    return b"\x00" in head[:8000]


def scores(source: Source) -> dict[str, float]:
    """Every registered reader's sniff score for the file (0 for binary or blank content; 1 for
    the table reader when the file holds every column of ``ReadOptions.columns``).

    Raises:
        UsageError: the file holds some of the mapped columns but not all (``table.mapped``).
    """
    head = source.head()
    if not head.strip():
        return {fmt.NAME: 0.0 for fmt in FORMATS}
    if _binary(head):  # only a reader of a binary format (EVTX) is asked
        return {
            fmt.NAME: min(1.0, max(0.0, float(fmt.sniff(head, source.path.name))))
            if getattr(fmt, "BINARY", False) else 0.0
            for fmt in FORMATS
        }
    got = {
        fmt.NAME: min(1.0, max(0.0, float(fmt.sniff(head, source.path.name)))) for fmt in FORMATS
    }
    # A column mapping (--columns) is the analyst's word on a table holding its columns.
    if source.options.columns and table.mapped(head, source.name, source.options.columns):
        got[table.NAME] = 1.0
    return got


def unrecognised_detail(source: Source) -> str:
    """Why a file is not read, in one line: binary content, or the closest reader (its score
    below the 0.5 needed, or none at all) and the file's first line, so that an analyst sees at
    once what the file is (a Windows CBS log, a format slipcatch does not read)."""
    head = source.head()
    if _binary(head):
        return "binary content"
    by_name = scores(source)
    best = max(FORMATS, key=lambda fmt: by_name[fmt.NAME])  # max keeps the earliest on a tie
    score = by_name[best.NAME]
    guess = (
        f"best guess {best.NAME} at {score:.2f}, below the {_MIN_SCORE} needed"
        if score > 0
        else "no reader found its records in the first lines"
    )
    first = next((ln for ln in head.split(b"\n") if ln.strip()), b"").strip()
    shown = first[:120].decode("utf-8", "replace")
    return f"no format matched ({guess}); first line: {shown!r}"


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


def ingest_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: ReadOptions,
    sink: Callable[[Rejection], None] | None = None,
) -> IngestResult:
    # Reading builds millions of small acyclic objects that all stay alive; the cyclic garbage
    # collector would rescan them again and again (a quarter of the time on large logs). Nothing
    # here creates reference cycles, so collection is paused while reading and then restored.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _ingest_paths(paths, options, sink)
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
        name = name if comp is None else f"{name}+{comp}"
        return f"{name}+utf-16" if self.source.encoding == "utf-16" else name

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
        detail = unrecognised_detail(source)
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


def _ingest_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: ReadOptions,
    sink: Callable[[Rejection], None] | None,
) -> IngestResult:
    result = IngestResult()
    seen: set[str] = set()
    files = list(walk(paths, follow_outside=options.follow_outside))  # fail on a missing path
    for path in files:
        if isinstance(path, Skipped):
            account, rejection = skipped_file(path)
            result.add_rejection(rejection, sink)
            result.files.append(account)
            continue
        reading = FileRead(path, options)
        events = duplicates = 0
        for item in reading.items():
            if isinstance(item, Rejection):
                result.add_rejection(item, sink)
            elif item.id in seen:
                duplicates += 1
            else:
                seen.add(item.id)
                events += 1
                result.events.append(item)
        result.files.append(reading.account(events, duplicates))
    result.events.sort(key=lambda e: (e.time, e.id))
    return result

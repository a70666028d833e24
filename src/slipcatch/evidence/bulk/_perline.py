"""The per-line readers run over one chunk's lines: the exact fallback of the bulk path.

A ``_ChunkSource`` stands in for ``Source``: it offers what the readers use (``name``,
``sha256``, ``options``, ``head()``, ``lines()``, ``path.stat()``) over the lines of a chunk,
with the state the chunk needs from the file's start put in front (``ChunkContext.header``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from slipcatch.evidence._source import Line, Problem
from slipcatch.model import Event, Rejection

if TYPE_CHECKING:
    from slipcatch.evidence.bulk import ChunkContext


@dataclass(frozen=True)
class _Stat:
    st_mtime: float


class _NoFile:
    """The ``path`` of a chunk: its name and its modification time, carried in the context (a
    Spark worker cannot stat the investigator's file)."""

    def __init__(self, path: str, mtime: float | None):
        self.name = PurePath(path).name  # the auth log may take its year from the file's name
        self._mtime = mtime

    def stat(self) -> _Stat:
        if self._mtime is None:
            raise OSError("no modification time known")
        return _Stat(self._mtime)


class ChunkSource:
    """A ``Source`` look-alike over ``items`` (header lines first, then the chunk's)."""

    def __init__(self, ctx: ChunkContext, items: Sequence[Line | Problem], head: bytes):
        self.name = ctx.path
        self.sha256 = ctx.sha256
        self.options = ctx.options
        self.path = _NoFile(ctx.path, ctx.mtime)
        self._items = items
        self._head = head

    def head(self) -> bytes:
        return self._head

    def lines(self, max_line: int = 0, keep_blank: bool = False) -> Iterator[Line | Problem]:
        return iter(self._items)


def header_lines(header: bytes) -> list[Line]:
    """The header's lines as records numbered 0 (they are directives or a header row, never
    records of the chunk)."""
    out = []
    for data in header.split(b"\n"):
        if data[-1:] == b"\r":
            data = data[:-1]
        if data and not data.isspace():
            out.append(Line(0, data))
    return out


def read_items(
    module: object, source: ChunkSource
) -> tuple[list[Event], list[int], list[Rejection]]:
    """Run a per-line reader over ``source``: its events, their line numbers, its rejections."""
    events: list[Event] = []
    numbers: list[int] = []
    rejections: list[Rejection] = []
    for item in module.read(source):  # type: ignore[attr-defined]
        if isinstance(item, Rejection):
            rejections.append(item)
        else:
            events.append(item)
            numbers.append(int(item.evidence.locator.removeprefix("line ")))
    return events, numbers, rejections


__all__ = ["ChunkSource", "header_lines", "read_items"]

"""Evidence ingestion: files -> ``Event | Rejection`` plus an exact account per file.

Each format is a module with ``NAME``, a cheap content-based ``sniff(head, name) -> float`` and
``read(source)`` yielding exactly one ``Event`` or ``Rejection`` per record, so that for every
file ``records = events + rejected + duplicates``. See docs/formats.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slipcatch.evidence._common import ANONYMOUS, REASONS
from slipcatch.evidence.personas import PersonaMap

__all__ = [
    "ANONYMOUS",
    "REASONS",
    "REJECTION_SAMPLE",
    "ColumnarIngest",
    "FileRead",
    "IngestResult",
    "PersonaMap",
    "ReadOptions",
    "ReadStatus",
    "ingest",
    "walk",
]


@dataclass(frozen=True)
class ReadOptions:
    """How to read evidence.

    ``trusted_relays``: host names (matched exactly or as a domain suffix) or CIDRs/addresses
    of the receiving organisation's mail hosts. ``persona_map``: identities -> persona names.
    ``year``: for syslog-style logs without a year; ``year_from_name``: else take that year
    from the file's name when it states one (``auth.log-2015``). ``follow_outside``: follow
    symbolic links that lead out of a directory given (by default such a link is skipped as
    ``outside-tree``). ``columns``: a column mapping ``((role, column), ...)`` for tables no
    reader knows (``--columns``; roles ``time``, ``src_ip``, ``persona``, ``channel``;
    ``table.parse_columns`` reads the flag's text): a table holding every mapped column is read
    through it.
    """

    trusted_relays: tuple[str, ...] = ()
    persona_map: PersonaMap | None = None
    year: int | None = None
    year_from_name: bool = False
    follow_outside: bool = False
    columns: tuple[tuple[str, str], ...] = ()


from slipcatch.evidence._ingest import (  # noqa: E402
    REJECTION_SAMPLE,
    FileRead,
    IngestResult,
    ingest_paths,
    walk,
)
from slipcatch.evidence.bulk import ColumnarIngest, ReadStatus  # noqa: E402
from slipcatch.model import Rejection  # noqa: E402


def ingest(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    options: ReadOptions | None = None,
    sink: Callable[[Rejection], None] | None = None,
) -> IngestResult:
    """Read every evidence file under ``paths`` (files or directories).

    Directories are walked recursively in sorted order; hidden files and directories (names
    starting with ``.``) inside them are skipped. Events are de-duplicated by id across all
    files (a later copy counts as a duplicate in its own file's account) and returned sorted
    by (time, id). An unrecognised or broken file is accounted, not raised. Every rejection is
    passed to ``sink`` as it happens; the result keeps counts by reason and the first
    ``REJECTION_SAMPLE`` (memory does not grow with the number of rejected records).

    Raises:
        EvidenceError: a path does not exist or cannot be read.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return ingest_paths(paths, options or ReadOptions(), sink)

"""The Spark engine: parsing, enrichment and slip finding as PySpark jobs (docs/spark.md).

For logs that outgrow one machine. The driver walks and recognises the evidence as the local
path does; line files of a bulk format are cut into byte ranges at newlines (each with its
first line number) and distributed as rows; ``mapInArrow`` reads each range, parses it with the
bulk chunk parser and enriches it with the intel pack (shipped to the workers as a pack
directory, ``intel.pack.save_pack``/``open_pack``, never pickled per task). E-mail and the
formats that cannot be cut (compressed or UTF-16 files, yearless syslog) are read on the driver
and joined in as a table. Rejections come back as rows of their own so that every file's
account reconciles (records = events + rejected + duplicates; duplicates by event id across
the whole input, the first in walk and line order kept, as in the local path).

The de-duplicated enriched table is written as Parquet under ``spill_dir``; the per-persona
statistics and the slips are Spark SQL window queries over it (``_spark_sql``); only the
personas that need an assessment come back to the driver, as ``model.Observation`` objects
for the same analysis the local engine feeds.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.engine import _spark_sql
from slipcatch.engine.enrich import enrich
from slipcatch.engine.findings import ASSESS_ALL_PERSONAS
from slipcatch.engine.local import EngineResult
from slipcatch.engine.observe import observe
from slipcatch.errors import UsageError
from slipcatch.eventtable import ENRICHED_SCHEMA, EVENT_SCHEMA, events_to_table, table_to_events
from slipcatch.evidence._source import MAX_LINE
from slipcatch.evidence.bulk import BULK_FORMATS, chunk_context, parse_chunk
from slipcatch.model import (
    ANONYMOUS,
    EvidenceFile,
    LayerCoverage,
    Rejection,
    Remainder,
)

if TYPE_CHECKING:
    from slipcatch.evidence import ReadOptions
    from slipcatch.evidence._source import Source
    from slipcatch.intel import IntelPack

__all__ = [
    "DEFAULT_MASTER",
    "RANGE_BYTES",
    "RECORD_SCHEMA",
    "SparkRun",
    "plan_ranges",
    "read_range",
    "run_spark",
    "spark_session",
    "stop_session",
]

#: The master used unless another is given: two local worker threads.
DEFAULT_MASTER = "local[2]"
#: Target size of one byte range of a line file (a range ends at the first newline after it).
RANGE_BYTES = 64 * 1024 * 1024
#: Lines parsed and enriched per Arrow batch inside a task (bounds a task's memory).
BATCH_LINES = 65536
#: Rejections kept in memory (as ``evidence.REJECTION_SAMPLE``); all go to the sink.
REJECTION_SAMPLE = 1000
#: Bulk formats whose chunks parse independently. An auth log's year-less stamps take their
#: year from the lines before them (a state carried through the file), so auth logs are read on
#: the driver, in order.
_SPLITTABLE_FORMATS = frozenset({"weblog", "zeek", "table"})
#: The ``evidence.bulk.BULK_FORMATS`` that can be cut into ranges for the executors.
_BULK_SPLITTABLE = frozenset(BULK_FORMATS) & _SPLITTABLE_FORMATS


# -- the record table a job returns ---------------------------------------------------------

#: One row per record outcome: the enriched event columns (address halves as signed 64-bit
#: integers with the same bits: Spark has no unsigned type), then ``_file`` (walk index),
#: ``_ord`` (order in the file: the line number, or the record's index for files read on the
#: driver), ``_outside`` (bit k set: no snapshot of the pack's k-th dated layer covers the
#: event), ``_kind`` (``event`` or ``reject``), and a rejection's ``_reason`` and ``_detail``
#: (its path, sha256 and locator are in the event columns of those names).
RECORD_SCHEMA = pa.schema(
    [
        pa.field(f.name, pa.int64() if f.name in ("ip_hi", "ip_lo") else f.type)
        for f in ENRICHED_SCHEMA
    ]
    + [
        pa.field("_file", pa.int32()),
        pa.field("_ord", pa.int64()),
        pa.field("_outside", pa.int32()),
        pa.field("_kind", pa.string()),
        pa.field("_reason", pa.string()),
        pa.field("_detail", pa.string()),
    ]
)


def _spark_ddl() -> str:
    names = {
        pa.string(): "string", pa.int64(): "bigint", pa.int32(): "int", pa.bool_(): "boolean",
        pa.timestamp("us", tz="UTC"): "timestamp",
    }  # fmt: skip
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in RECORD_SCHEMA)


def _outside_mask(batch: pa.RecordBatch, pack: IntelPack, layers: Sequence[str]) -> pa.Array:
    """Per event, bit k set when no snapshot of ``layers[k]`` covers its time
    (``engine.observe.coverage``, summed later over the de-duplicated events)."""
    n = batch.num_rows
    mask = np.zeros(n, np.int32)
    if not n:
        return pa.array(mask, pa.int32())
    hi = batch.column("ip_hi").to_numpy(zero_copy_only=False).astype(np.uint64)
    lo = batch.column("ip_lo").to_numpy(zero_copy_only=False).astype(np.uint64)
    is_v4 = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF))
    us = pc.cast(batch.column("time"), pa.int64()).to_numpy(zero_copy_only=False)
    for k, layer in enumerate(layers):
        mask |= (~pack.covered(layer, is_v4, us)).astype(np.int32) << k
    return pa.array(mask, pa.int32())


def _event_records(
    enriched: pa.RecordBatch, file_index: int, ords: pa.Array, outside: pa.Array
) -> pa.RecordBatch:
    n = enriched.num_rows
    cols: list[pa.Array] = []
    for f in RECORD_SCHEMA:
        if f.name in ("ip_hi", "ip_lo"):
            raw = enriched.column(f.name).to_numpy(zero_copy_only=False).astype(np.uint64)
            cols.append(pa.array(raw.view(np.int64), pa.int64()))
        elif f.name in ENRICHED_SCHEMA.names:
            cols.append(enriched.column(f.name).cast(f.type))
        elif f.name == "_file":
            cols.append(pa.array(np.full(n, file_index, np.int32)))
        elif f.name == "_ord":
            cols.append(ords.cast(pa.int64()))
        elif f.name == "_outside":
            cols.append(outside)
        elif f.name == "_kind":
            cols.append(pa.array(["event"] * n, pa.string()))
        else:
            cols.append(pa.nulls(n, f.type))
    return pa.RecordBatch.from_arrays(cols, schema=RECORD_SCHEMA)


def _line_of(locator: str, default: int) -> int:
    if locator.startswith("line "):
        head = locator[5:].split(" ", 1)[0].split("-", 1)[0]
        if head.isdigit():
            return int(head)
    return default


def _rejection_records(
    rejections: Sequence[Rejection], file_index: int, ords: Sequence[int]
) -> pa.RecordBatch:
    n = len(rejections)
    given = {
        "path": [r.path for r in rejections],
        "sha256": [r.sha256 for r in rejections],
        "locator": [r.locator for r in rejections],
        "_reason": [r.reason for r in rejections],
        "_detail": [r.detail for r in rejections],
        "_file": [file_index] * n,
        "_ord": list(ords),
        "_kind": ["reject"] * n,
    }
    cols = [
        pa.array(given[f.name], f.type) if f.name in given else pa.nulls(n, f.type)
        for f in RECORD_SCHEMA
    ]
    return pa.RecordBatch.from_arrays(cols, schema=RECORD_SCHEMA)


def _events_batch(
    events: pa.RecordBatch, pack: IntelPack, layers: Sequence[str], file_index: int, ords: Any
) -> pa.RecordBatch:
    enriched = enrich(events, pack)
    return _event_records(enriched, file_index, ords, _outside_mask(enriched, pack, layers))


# -- byte ranges ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    file: int
    start: int
    end: int
    first_line: int


def plan_ranges(
    opener: Callable[[], Any], size: int, file_index: int, range_bytes: int = RANGE_BYTES
) -> list[_Range]:
    """Cut a file of ``size`` bytes into ranges: each ends just after the first newline at or
    after its ``range_bytes``-th byte (the last one at the end of the file), and carries the
    number of its first line.

    ``opener()`` returns a binary file object positioned at 0. One sequential pass counts the
    newlines; nothing is held but one block.
    """
    if size <= 0:
        return []
    range_bytes = max(1, range_bytes)
    out: list[_Range] = []
    start, first, pos, lines = 0, 1, 0, 0
    with opener() as fh:
        while chunk := fh.read(1024 * 1024):
            at = 0  # where in this block the current range may end, at the earliest
            while True:
                at = max(at, start + range_bytes - 1 - pos)
                nl = chunk.find(b"\n", at) if at < len(chunk) else -1
                if nl < 0 or pos + nl + 1 >= size:
                    break
                first_next = lines + chunk.count(b"\n", 0, nl + 1) + 1
                out.append(_Range(file_index, start, pos + nl + 1, first))
                start, first, at = pos + nl + 1, first_next, nl + 1
            lines += chunk.count(b"\n")
            pos += len(chunk)
    out.append(_Range(file_index, start, size, first))
    return out


def _open_uri(path: str) -> Any:
    """A binary file object for a local path or a Hadoop-compatible URI (``pyarrow.fs``:
    ``hdfs://``, ``s3://``, ``gs://``, ``file://``; fsspec for any other scheme it knows)."""
    if "://" not in path:
        return Path(path).open("rb")
    try:
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        return filesystem.open_input_file(inner)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ImportError):
        import fsspec

        return fsspec.open(path, "rb").open()


def read_range(
    path: str, start: int, end: int, first_line: int
) -> Iterator[tuple[list[bytes], list[int], list[tuple[int, str, str]]]]:
    """The record lines of bytes ``[start, end)`` of a file, as the local reader sees them
    (``evidence._source.Source.lines``): without line endings, blank lines skipped but
    numbered, a line over ``MAX_LINE`` bytes reported as ``(number, "line-too-long",
    detail)``. Yields ``(lines, numbers, problems)`` of at most ``BATCH_LINES`` lines."""
    with _open_uri(path) as fh:
        fh.seek(start)
        data = fh.read(end - start)
    pieces = data.split(b"\n")
    last_open = not data.endswith(b"\n")
    if not last_open:
        pieces.pop()  # the empty piece after the final newline
    too_long = f"line longer than {MAX_LINE} bytes"
    lines: list[bytes] = []
    numbers: list[int] = []
    problems: list[tuple[int, str, str]] = []
    final = len(pieces) - 1
    for i, raw in enumerate(pieces):
        number = first_line + i
        limit = MAX_LINE if (last_open and i == final) else MAX_LINE + 1
        if len(raw) > limit:
            problems.append((number, "line-too-long", too_long))
        else:
            if raw[-1:] == b"\r":
                raw = raw[:-1]
            if raw and not raw.isspace():
                lines.append(raw)
                numbers.append(number)
        if len(lines) >= BATCH_LINES:
            yield lines, numbers, problems
            lines, numbers, problems = [], [], []
    if lines or problems:
        yield lines, numbers, problems


# -- the worker side -------------------------------------------------------------------------

_PACKS: dict[str, Any] = {}


def _worker_pack(name: str, local: str) -> IntelPack:
    """The pack at the driver's path ``local`` when this worker sees it (a local master, or a
    shared file system), else the copy shipped as ``name`` (``SparkContext.addFile``); opened
    once per worker process."""
    if name not in _PACKS:
        from slipcatch.intel import open_pack

        path = local
        if not os.path.isdir(local):  # an executor of a cluster: the shipped copy
            from pyspark import SparkFiles

            path = SparkFiles.get(name)
        _PACKS.clear()  # one pack per worker at a time
        _PACKS[name] = open_pack(Path(path))
    return _PACKS[name]


def _range_task(
    contexts: dict[int, Any], pack_name: str, pack_local: str, layers: tuple[str, ...]
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function: each input row is one byte range; yields record rows."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pack = _worker_pack(pack_name, pack_local)
        for batch in batches:
            for row in batch.to_pylist():
                ctx = contexts[row["file"]]
                yield from _range_records(ctx, row, pack, layers)

    return run


def _range_records(
    ctx: Any, row: dict[str, Any], pack: IntelPack, layers: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    index = row["file"]
    for lines, numbers, problems in read_range(
        ctx.path, row["start"], row["end"], row["first_line"]
    ):
        rejections: list[Rejection] = [
            Rejection(_display(ctx.path), ctx.sha256, f"line {n}", reason, detail)
            for n, reason, detail in problems
        ]
        if lines:
            events, rejected = parse_chunk(
                ctx, pa.array(lines, pa.binary()), pa.array(numbers, pa.int64())
            )
            rejections.extend(rejected)
            if events.num_rows:
                ords = pc.cast(pc.utf8_slice_codeunits(events.column("locator"), 5), pa.int64())
                yield _events_batch(events, pack, layers, index, ords)
        if rejections:
            yield _rejection_records(
                rejections, index, [_line_of(r.locator, row["first_line"]) for r in rejections]
            )


def _display(path: str) -> str:
    return path.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


# -- the session -----------------------------------------------------------------------------

_SESSION: dict[str, Any] = {}


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return True
    return shutil.which("java") is not None


def spark_session(master: str = DEFAULT_MASTER) -> Any:
    """The process's one SparkSession for ``master`` (created on first use, reused after;
    asking for another master stops the old session first).

    A local master is bound to 127.0.0.1; the web UI is off, shuffles use few partitions, the
    session time zone is UTC and Spark's own logging is kept to errors.

    Raises:
        UsageError: pyspark is not installed, no Java runtime is found, or the session cannot
            start (the message says why).
    """
    if _SESSION.get("master") == master:
        return _SESSION["session"]
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError("the Spark engine needs pyspark: pip install 'slipcatch[spark]'") from exc
    if not _java_available():
        raise UsageError(
            "the Spark engine needs a Java runtime (17 or later): install one "
            "(e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    stop_session()
    local = master.startswith("local")
    if local:
        # Local workers run this interpreter (its packages), unless the user chose another.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName("slipcatch")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4" if local else "200")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.log.level", "ERROR")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_log_config()}")
    )
    if local:
        # a local master runs its executors inside the driver's JVM: its heap is theirs
        # (SLIPCATCH_SPARK_DRIVER_MEMORY, default 2g; Spark's own default, 1g, is too small
        # for the windows over a persona of millions of events)
        memory = os.environ.get("SLIPCATCH_SPARK_DRIVER_MEMORY", "2g")
        builder = (
            builder.config("spark.driver.memory", memory)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.executorEnv.PYTHONPATH", _package_root())
        )
    try:
        with _quiet():
            session = builder.getOrCreate()
    except Exception as exc:  # py4j and JVM start failures have many types
        raise UsageError(f"cannot start Spark ({master}): {str(exc).splitlines()[0]}") from exc
    session.sparkContext.setLogLevel("ERROR")
    _SESSION.update(master=master, session=session)
    return session


_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{1}: %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""


def _log_config() -> str:
    """A log4j2 configuration that keeps Spark's JVM to errors from its first line (the
    session's log level only applies once it runs)."""
    import tempfile

    path = Path(tempfile.gettempdir()) / f"slipcatch-spark-log4j2-{os.getuid()}.properties"
    if not path.is_file() or path.read_text(encoding="utf-8") != _LOG4J:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(_LOG4J, encoding="utf-8")
        tmp.replace(path)
    return str(path)


def _package_root() -> str:
    """The directory holding the ``slipcatch`` package, for the local workers' path."""
    root = str(Path(__file__).resolve().parents[2])  # .../slipcatch/engine/spark.py
    rest = os.environ.get("PYTHONPATH")
    return root if not rest else os.pathsep.join([root, rest])


def stop_session() -> None:
    """Stop the process's SparkSession, if one is running."""
    session = _SESSION.pop("session", None)
    _SESSION.pop("master", None)
    if session is not None:
        session.stop()


# -- the run ----------------------------------------------------------------------------------


@dataclass
class SparkRun:
    """A Spark engine run: the engine's result (the same type ``engine.local.run_local``
    returns) and the evidence accounts, as ``evidence.IngestResult`` gives them (every file's
    account; the first ``REJECTION_SAMPLE`` rejections, in walk and line order; counts by
    reason over all of them)."""

    result: Any
    files: list[EvidenceFile] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rejection_counts: Counter[str] = field(default_factory=Counter)

    @property
    def sampled(self) -> bool:
        """Whether ``rejections`` holds only a sample of them."""
        return sum(self.rejection_counts.values()) > len(self.rejections)


@dataclass
class _Plan:
    """What the driver found: per walked file, how it is read."""

    accounts: list[Any] = field(default_factory=list)  # FileRead, or a skipped account
    contexts: dict[int, Any] = field(default_factory=dict)
    ranges: list[_Range] = field(default_factory=list)
    driver_batches: list[pa.RecordBatch] = field(default_factory=list)


def _plan(
    paths: Sequence[str | os.PathLike[str]],
    options: ReadOptions,
    pack: IntelPack,
    layers: Sequence[str],
    range_bytes: int,
) -> _Plan:
    """Walk the evidence (local paths as the local path walks them, then URIs), recognise
    each file and decide how it is read: byte ranges, or whole on the driver."""
    from slipcatch.evidence._ingest import FileRead, Skipped, skipped_file, walk

    plan = _Plan()
    bulk = _BULK_SPLITTABLE
    uris = [str(p) for p in paths if _is_uri(p)]
    local = [p for p in paths if not _is_uri(p)]
    index = -1
    for index, path in enumerate(walk(local, follow_outside=options.follow_outside)):
        if isinstance(path, Skipped):
            account, rejection = skipped_file(path)
            plan.accounts.append(account)
            plan.driver_batches.append(_rejection_records([rejection], index, [0]))
            continue
        reading = FileRead(path, options)
        plan.accounts.append(reading)
        src = reading.source
        name = reading.format.NAME if reading.format is not None else None
        # a column-mapped table is read by the per-line reader (evidence.bulk leaves it)
        mapped = name == "table" and bool(options.columns)
        if name in bulk and not mapped and src.compression is None and src.encoding == "":
            plan.contexts[index] = chunk_context(src, name)
            plan.ranges.extend(
                plan_ranges(functools.partial(src.path.open, "rb"), src.size, index, range_bytes)
            )
            continue
        plan.driver_batches.extend(_read_on_driver(reading, index, pack, layers))
    for uri in uris:
        for remote in _remote_files(uri, options):
            index += 1
            plan.accounts.append(remote)
            if remote.size:
                # chunk_context reads name, sha256, options and head(): a remote file has them
                plan.contexts[index] = chunk_context(cast("Source", remote), remote.fmt)
                plan.ranges.extend(plan_ranges(remote.open, remote.size, index, range_bytes))
    return plan


def _is_uri(path: str | os.PathLike[str]) -> bool:
    return isinstance(path, str) and "://" in path


class _RemoteSource:
    """An evidence file behind a URI (``pyarrow.fs``), seen from the driver: hashed and sniffed
    as ``evidence._source.Source`` does for a local file. Only uncompressed UTF-8 line files of
    a bulk format can be read this way (their ranges are read by the executors)."""

    def __init__(self, filesystem: Any, inner: str, uri: str, options: ReadOptions):
        import hashlib

        from slipcatch.evidence._source import HEAD_SIZE

        self._fs, self._inner = filesystem, inner
        self.path = self.name = uri
        self.options = options
        self.compression = None
        self.encoding = ""
        digest = hashlib.sha256()
        head = bytearray()
        self.size = 0
        with self.open() as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
                if len(head) < HEAD_SIZE:
                    head += chunk[: HEAD_SIZE - len(head)]
                self.size += len(chunk)
        self.sha256 = digest.hexdigest()
        self._head = bytes(head)
        self.fmt, self.confidence = _recognise_head(self._head, uri.rsplit("/", 1)[-1])

    def open(self) -> Any:
        return self._fs.open_input_stream(self._inner, compression=None)

    def head(self) -> bytes:
        return self._head

    @property
    def format_name(self) -> str:
        return self.fmt

    @property
    def source(self) -> _RemoteSource:
        return self


def _recognise_head(head: bytes, name: str) -> tuple[str, float | None]:
    """The format of a file by its first bytes, as ``evidence._ingest.recognise`` decides
    (best sniff score of at least 0.5, ties to the earlier reader); "empty" for no content."""
    from slipcatch.evidence._ingest import FORMATS

    if not head.strip():
        return "empty", None
    if b"\x00" in head[:8000]:
        return "unknown", None
    best: tuple[float, str] | None = None
    for fmt in FORMATS:
        score = min(1.0, max(0.0, float(fmt.sniff(head, name))))
        if score >= 0.5 and (best is None or score > best[0]):
            best = (score, fmt.NAME)
    return (best[1], best[0]) if best else ("unknown", None)


def _remote_files(uri: str, options: ReadOptions) -> Iterator[_RemoteSource]:
    """The files behind ``uri`` (a directory: recursively, sorted, hidden names skipped).

    Raises:
        EvidenceError: the URI cannot be opened or does not exist.
        UsageError: a file there cannot be read by byte ranges (compressed, UTF-16, not a
            bulk line format): such files are read from a local copy.
    """
    from pyarrow import fs

    from slipcatch.errors import EvidenceError

    try:
        filesystem, inner = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(inner)
        if info.type == fs.FileType.NotFound:
            raise EvidenceError("no such file or directory", uri)
        if info.type == fs.FileType.Directory:
            found = filesystem.get_file_info(fs.FileSelector(inner, recursive=True))
            names = sorted(
                f.path
                for f in found
                if f.type == fs.FileType.File
                and not any(part.startswith(".") for part in f.path[len(inner) :].split("/"))
            )
        else:
            names = [inner]
    except (OSError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise EvidenceError(f"cannot open: {exc}", uri) from exc
    prefix = uri[: len(uri) - len(inner)] if uri.endswith(inner) else uri.split("://")[0] + "://"
    bulk = _BULK_SPLITTABLE
    for name in names:
        full = prefix + name
        remote = _RemoteSource(filesystem, name, full, options)
        head = remote.head()
        packed = any(head.startswith(m) for m in (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"))
        utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
        if remote.size and (packed or utf16 or remote.fmt not in bulk):
            kind = "compressed" if packed else "UTF-16" if utf16 else f"format {remote.fmt}"
            raise UsageError(
                f"{kind}: only uncompressed line files of a bulk format "
                f"({', '.join(sorted(bulk))}) are read from a URI; read it from a local copy",
                full,
            )
        yield remote


def _read_on_driver(
    reading: Any, index: int, pack: IntelPack, layers: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    """A file read whole by its per-record reader (e-mail; files that cannot be cut)."""
    events: list[Any] = []
    event_ords: list[int] = []
    rejections: list[Rejection] = []
    rejection_ords: list[int] = []

    def flush() -> Iterator[pa.RecordBatch]:
        if events:
            table = events_to_table(events).combine_chunks()
            done = 0
            for batch in table.to_batches():
                ords = pa.array(event_ords[done : done + batch.num_rows], pa.int64())
                done += batch.num_rows
                yield _events_batch(batch, pack, layers, index, ords)
        if rejections:
            yield _rejection_records(rejections, index, rejection_ords)

    for k, item in enumerate(reading.items()):
        if isinstance(item, Rejection):
            rejections.append(item)
            rejection_ords.append(k)
        else:
            events.append(item)
            event_ords.append(k)
        if len(events) + len(rejections) >= BATCH_LINES:
            yield from flush()
            events, event_ords, rejections, rejection_ords = [], [], [], []
    yield from flush()


def _ship_pack(session: Any, pack: IntelPack, spill: Path) -> tuple[str, str]:
    """Write the pack as a directory under ``spill``, with the lookup's fast-path tables
    (each Python worker reads them instead of building them, about 2 s), and, on a cluster,
    register it with the file server (``SparkContext.addFile``): each executor fetches it
    once. A local master's workers read the driver's directory itself. Returns (name the
    workers ask ``SparkFiles`` for, the driver's path)."""
    from slipcatch.intel import save_pack

    name = f"slipcatch-pack-{secrets.token_hex(6)}"
    local = save_pack(pack, spill / name, fast_tables=True)
    if not session.sparkContext.master.startswith("local"):
        session.sparkContext.addFile(str(local), recursive=True)
    return name, str(local)


def run_spark(
    paths: Sequence[str | os.PathLike[str]],
    options: ReadOptions,
    pack: IntelPack,
    *,
    master: str = DEFAULT_MASTER,
    spill_dir: Path,
    assess: Iterable[str] = (),
    sink: Callable[[Rejection], None] | None = None,
    range_bytes: int = RANGE_BYTES,
    assess_all: int = ASSESS_ALL_PERSONAS,
) -> SparkRun:
    """Read, enrich and find slips in the evidence under ``paths`` on Spark at ``master``.

    ``spill_dir`` receives the shipped pack, the record table and ``events.parquet`` (the
    de-duplicated enriched events, sorted by time then id; a Parquet directory). ``assess``
    names personas to assess whatever they hold; with at most ``assess_all`` personas, every
    one is assessed (the selection rule of ``engine.findings``). Every rejection is passed to
    ``sink`` in walk and line order. ``range_bytes``: target size of one byte range of a line file.

    Raises:
        EvidenceError: a path given does not exist or cannot be read.
        UsageError: pyspark or Java is missing, or Spark cannot start.
    """
    with _quiet():
        return _run(
            paths,
            options,
            pack,
            master,
            Path(spill_dir).resolve(),
            tuple(assess),
            sink,
            range_bytes,
            assess_all,
        )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence pyspark's warning that it does not fully support the installed pandas (it
    checks the version on Arrow paths too; the engine never hands pandas data to Spark)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def _run(
    paths: Sequence[str | os.PathLike[str]],
    options: ReadOptions,
    pack: IntelPack,
    master: str,
    spill: Path,
    assess: tuple[str, ...],
    sink: Callable[[Rejection], None] | None,
    range_bytes: int,
    assess_all: int = ASSESS_ALL_PERSONAS,
) -> SparkRun:
    session = spark_session(master)
    spill.mkdir(parents=True, exist_ok=True)
    layers = tuple(c["layer"] for c in pack.coverage())
    plan = _plan(paths, options, pack, layers, range_bytes)
    records_path = spill / "records.parquet"
    records = _records_frame(session, plan, pack, spill, layers)
    records.write.mode("overwrite").parquet(str(records_path))
    records = session.read.parquet(str(records_path))
    events_path = spill / "events.parquet"
    per_file, outside, counts = _dedup(session, records, events_path, len(layers))
    run = SparkRun(result=None, rejection_counts=counts)
    run.files = _accounts(plan, per_file)
    _rejections(records, run, sink)
    coverage = tuple(
        LayerCoverage(
            layer=c["layer"], valid_from=c["from"], valid_to=c["to"], events_outside=outside[k]
        )
        for k, c in enumerate(pack.coverage())
    )
    run.result = _findings(session, events_path, pack, assess, coverage, assess_all)
    return run


def _records_frame(
    session: Any, plan: _Plan, pack: IntelPack, spill: Path, layers: tuple[str, ...]
) -> Any:
    ddl = _spark_ddl()
    frames = []
    if plan.ranges:
        pack_name, pack_local = _ship_pack(session, pack, spill)
        rows = [(r.file, r.start, r.end, r.first_line) for r in plan.ranges]
        rdd = session.sparkContext.parallelize(rows, numSlices=len(rows))
        ranges = session.createDataFrame(
            rdd, "file int, start bigint, end bigint, first_line bigint"
        )
        task = _range_task(plan.contexts, pack_name, pack_local, layers)
        frames.append(ranges.mapInArrow(task, ddl))
    if plan.driver_batches:
        table = pa.Table.from_batches(plan.driver_batches, schema=RECORD_SCHEMA)
        frames.append(session.createDataFrame(table, schema=ddl))
    if not frames:
        return session.createDataFrame(RECORD_SCHEMA.empty_table(), schema=ddl)
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def _dedup(
    session: Any, records: Any, events_path: Path, n_layers: int
) -> tuple[dict[int, tuple[int, int, int]], list[int], Counter[str]]:
    """Write the de-duplicated events (first by walk and line order) to ``events_path``;
    return per file (events, duplicates, rejected), events outside each dated layer, and
    rejection counts by reason (one aggregation over the record table)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.storagelevel import StorageLevel

    # Rejections have no id: each is keyed by its own place, so they do not all meet in one
    # window partition.
    key = F.coalesce(F.col("id"), F.concat_ws(":", F.lit("r"), "_file", "_ord", "locator"))
    first = Window.partitionBy(key).orderBy("_file", "_ord")
    ranked = records.withColumn(
        "_rn", F.when(F.col("_kind") == "event", F.row_number().over(first))
    ).persist(StorageLevel.DISK_ONLY)
    try:
        return _dedup_ranked(ranked, events_path, n_layers)
    finally:
        ranked.unpersist()


def _dedup_ranked(
    ranked: Any, events_path: Path, n_layers: int
) -> tuple[dict[int, tuple[int, int, int]], list[int], Counter[str]]:
    from pyspark.sql import functions as F

    ranked.filter("_rn = 1").select(*ENRICHED_SCHEMA.names).orderBy("time", "id").write.mode(
        "overwrite"
    ).parquet(str(events_path))
    kept = F.col("_rn") == 1
    aggs = [
        F.count_if(kept).alias("events"),
        F.count_if(F.col("_rn") > 1).alias("dups"),
        F.count_if(F.col("_kind") == "reject").alias("rejected"),
    ] + [
        F.count_if(kept & (F.col("_outside").bitwiseAND(1 << k) != 0)).alias(f"out{k}")
        for k in range(n_layers)
    ]
    per_file: dict[int, tuple[int, int, int]] = {}
    outside = [0] * n_layers
    counts: Counter[str] = Counter()
    for row in ranked.groupBy("_file", "_reason").agg(*aggs).collect():
        ev, dups, rej = per_file.get(row["_file"], (0, 0, 0))
        per_file[row["_file"]] = (ev + row["events"], dups + row["dups"], rej + row["rejected"])
        if row["_reason"] is not None:
            counts[row["_reason"]] += int(row["rejected"])
        for k in range(n_layers):
            outside[k] += int(row[f"out{k}"])
    return per_file, outside, counts


def _accounts(plan: _Plan, per_file: dict[int, tuple[int, int, int]]) -> list[EvidenceFile]:
    out = []
    for index, item in enumerate(plan.accounts):
        if isinstance(item, EvidenceFile):
            out.append(item)
            continue
        events, dups, rejected = per_file.get(index, (0, 0, 0))
        src = item.source  # FileRead's Source, or a _RemoteSource
        out.append(
            EvidenceFile(
                path=src.name,
                sha256=src.sha256,
                size=src.size,
                format=item.format_name,
                records=events + dups + rejected,
                events=events,
                rejected=rejected,
                duplicates=dups,
                confidence=item.confidence,
            )
        )
    return out


def _rejections(records: Any, run: SparkRun, sink: Callable[[Rejection], None] | None) -> None:
    """The rejection sample (and every rejection to ``sink``), in walk and line order."""
    rejected = records.filter("_kind = 'reject'").orderBy("_file", "_ord", "locator")
    cols = ["path", "sha256", "locator", "_reason", "_detail"]
    rows = (
        rejected.select(*cols).toLocalIterator()
        if sink
        else (rejected.select(*cols).limit(REJECTION_SAMPLE).collect())
    )
    for row in rows:
        r = Rejection(
            row["path"], row["sha256"], row["locator"], row["_reason"], row["_detail"] or ""
        )
        if len(run.rejections) < REJECTION_SAMPLE:
            run.rejections.append(r)
        if sink is not None:
            sink(r)


def _findings(
    session: Any,
    events_path: Path,
    pack: IntelPack,
    asked: tuple[str, ...],
    coverage: tuple[LayerCoverage, ...],
    assess_all: int = ASSESS_ALL_PERSONAS,
) -> Any:
    """Persona statistics, slips, the selected personas' observations and the remainder."""
    session.read.parquet(str(events_path)).createOrReplaceTempView("sc_events")
    for sql in _spark_sql.statements(a for actor in pack.actors for a in actor.asns):
        session.sql(sql)
    slips = session.sql(
        "SELECT persona, first_event, last_event, ip, category, actor, asn, country, "
        "first_seen, last_seen, events, channels, closed_after_seconds "
        "FROM sc_slips ORDER BY persona, first_seen, first_event"
    ).toArrow()
    stats = session.sql("SELECT * FROM sc_persona_stats ORDER BY persona").toArrow()
    slip_counts = Counter(slips.column("persona").to_pylist())
    wanted = set(asked)
    names = stats.column("persona").to_pylist()
    # An actor hit, an exposed event in an actor's AS, or a persona under cover with an
    # e-mail the analysis may read at a claimed client (the claim can make it a slip).
    hits = pc.or_(
        pc.or_(
            pc.greater(stats.column("actor_events"), 0),
            pc.greater(stats.column("actor_asn_events"), 0),
        ),
        pc.and_(stats.column("under_cover"), pc.greater(stats.column("claims"), 0)),
    ).to_pylist()
    exposed_under_cover = pc.and_(
        stats.column("under_cover"), pc.greater(stats.column("exposed"), 0)
    ).to_pylist()
    claims = pc.greater(stats.column("claims"), 0).to_pylist()
    # the selection rule of ``engine.findings.Findings.needs_assessment``: every persona of a
    # small case; else those with something to weigh (the anonymous one only when asked for)
    chosen_names = sorted(
        name
        for name, hit, exposed, claim in zip(names, hits, exposed_under_cover, claims,
                                             strict=True)
        if len(names) <= assess_all
        or name in wanted
        or (name != ANONYMOUS and (hit or exposed or claim or slip_counts[name]))
    )
    stats = stats.append_column(
        "slips", pa.array([slip_counts[n] for n in names], pa.int64())
    ).append_column("selected", pa.array([n in set(chosen_names) for n in names], pa.bool_()))
    session.createDataFrame([(n,) for n in chosen_names], "persona string").createOrReplaceTempView(
        "sc_selected"
    )
    chosen = session.sql(
        "SELECT * FROM sc_events WHERE persona IN (SELECT persona FROM sc_selected)"
    ).toArrow()
    events = sorted(
        table_to_events(chosen.select(EVENT_SCHEMA.names)), key=lambda e: (e.time, e.id)
    )
    total = int(pc.sum(stats.column("events")).as_py() or 0)
    return EngineResult(
        events_path=events_path,
        selected=tuple(chosen_names),
        observations=observe(events, pack),
        remainder=None if len(chosen_names) == len(names) else _remainder(session),
        coverage=coverage,
        slips=slips,
        persona_stats=stats,
        event_count=total,
    )


_TOP_ADDRESSES = 10


def _remainder(session: Any) -> Remainder:
    """The events of the personas not selected, summarised (``model.Remainder``): counts by
    category and by country in one grouping-sets query, the busiest addresses in another."""
    rest = "(SELECT * FROM sc_events WHERE persona NOT IN (SELECT persona FROM sc_selected))"
    rows = session.sql(
        f"SELECT grouping_id(category, country) AS g, category, country, count(*) AS n, "
        f"count(DISTINCT persona) AS p FROM {rest} "
        "GROUP BY GROUPING SETS ((), (category), (country))"
    ).collect()
    total = next((r for r in rows if r["g"] == 3), None)
    by_category = sorted(
        ((r["category"], int(r["n"])) for r in rows if r["g"] == 1), key=lambda x: (-x[1], x[0])
    )
    by_country = sorted(
        ((r["country"], int(r["n"])) for r in rows if r["g"] == 2 and r["country"] is not None),
        key=lambda x: (-x[1], x[0]),
    )
    top = session.sql(
        f"SELECT src_ip, category, count(*) AS n FROM {rest} GROUP BY src_ip, category "
        f"ORDER BY n DESC, src_ip, category LIMIT {_TOP_ADDRESSES}"
    ).collect()
    return Remainder(
        events=int(total["n"]) if total else 0,
        personas=int(total["p"]) if total else 0,
        by_category=tuple(by_category),
        by_country=tuple(by_country),
        top_addresses=tuple((r["src_ip"], r["category"], int(r["n"])) for r in top),
    )

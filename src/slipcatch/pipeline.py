"""One analysis run: evidence -> events -> observations -> findings -> assessment -> outputs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from slipcatch.analysis import MODEL_VERSION, assess
from slipcatch.engine.local import EngineResult, run_local
from slipcatch.errors import EvidenceError, UsageError
from slipcatch.evidence import (
    REJECTION_SAMPLE,
    ColumnarIngest,
    IngestResult,
    PersonaMap,
    ReadOptions,
    ReadStatus,
)
from slipcatch.intel import IntelPack, load_pack
from slipcatch.model import Assessment, Rejection

if TYPE_CHECKING:
    from slipcatch.case import Case
    from slipcatch.report import ReportOptions

__all__ = [
    "ReadStatus",
    "RunResult",
    "analyze",
    "check_out_dir",
    "run_time",
]


#: Worker processes that parse large line files (``ColumnarIngest.workers``), at most one a
#: core: the engine enriches and spills in this process meanwhile.
READ_WORKERS = 2


def _with_status(
    progress: Callable[[int, ReadStatus | None], None] | None, stream: ColumnarIngest | None
) -> Callable[[int], None] | None:
    """The engine's per-batch event count, passed on with the reading's status."""
    if progress is None:
        return None

    def report(events: int) -> None:
        progress(events, stream.status() if stream is not None else None)

    return report


@dataclass(frozen=True)
class RunResult:
    """An assessment and where its outputs were written (empty when no out_dir was given)."""

    assessment: Assessment
    outputs: dict[str, Path]


def run_time() -> datetime:
    """The run's ``generated_at``: now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC).replace(microsecond=0)


def _ingest_into_case(
    store: Case,
    paths: Sequence[str | Path],
    options: ReadOptions,
    sink: Callable[[Rejection], None] | None,
) -> IngestResult:
    """Ingest ``paths`` into the open case (idempotent), then read back the accounts and
    rejections of everything the case holds (the rejections as counts, a sample, and every one
    of them passed to ``sink``); its events stay in the store (``Case.event_batches``)."""
    store.ingest(list(paths), options)
    if sink is not None:
        for r in store.iter_rejections():
            sink(r)
    return IngestResult(
        rejections=store.rejections(limit=REJECTION_SAMPLE),
        files=store.files(),
        rejection_counts=Counter(dict(store.rejections_by_reason())),
    )


class _RejectionFile:
    """rejections.jsonl being written beside the outputs: a hidden temporary file in the output
    directory until the reports are written, then renamed into place with them."""

    NAME = "rejections.jsonl"

    def __init__(self, out: Path):
        from slipcatch.report.writer import file_mode

        fd, name = tempfile.mkstemp(prefix=".rejections.", suffix=".tmp", dir=out)
        os.fchmod(fd, file_mode())  # like the reports it is moved in with
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")

    def __call__(self, r: Rejection) -> None:
        from slipcatch.report.json_doc import _rejection

        try:
            self._fh.write(json.dumps(_rejection(r), sort_keys=True, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise UsageError(
                f"cannot write rejections: {exc.strerror or exc}; no report was written",
                source=str(self.path),
            ) from exc

    def close(self) -> None:
        try:
            self._fh.close()
        except OSError as exc:
            self.discard()
            raise UsageError(
                f"cannot write rejections: {exc.strerror or exc}; no report was written",
                source=str(self.path),
            ) from exc

    def discard(self) -> None:
        if not self._fh.closed:
            with contextlib.suppress(OSError):
                self._fh.close()
        self.path.unlink(missing_ok=True)


def _table_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """The enriched event table the engine left at ``path`` (a Parquet file, or a directory
    of parts from Spark), batch by batch in its (time, id) order."""
    import pyarrow.parquet as pq

    # ParquetFile.iter_batches reads a row group at a time; a dataset scan reads ahead many
    # (about 0.9 GB more resident memory on 2 M events, growing with the table). Without
    # pre_buffer=False the file's pre-buffered ranges stay cached as it is read: Arrow memory
    # grew by about 50 bytes an event (650 MB over 13 M events of the 20 M-line hunt).
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    for part in files:
        with pq.ParquetFile(part, pre_buffer=False) as table:
            yield from table.iter_batches(batch_size=1 << 16)


def _personas_named(evidence_file: str | Path, pack: IntelPack) -> tuple[str, ...]:
    """The personas the analyst evidence file names: the engine assesses them whatever their
    findings (an item naming a persona must find it; ``analysis.assess`` checks the names)."""
    from slipcatch.analysis.analyst import load_evidence_file

    analyst = load_evidence_file(evidence_file, [a.id for a in pack.actors], None)
    return tuple(sorted({p for item in analyst.items for p in item.personas}))


def check_out_dir(out_dir: str | Path) -> Path:
    """The output directory, created and checked writable before any analysis starts.

    Raises:
        UsageError: an empty name, or a path that cannot be created or written.
    """
    if not str(out_dir).strip():
        raise UsageError("--out: the output directory must be named (not empty)")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create output directory: {exc.strerror or exc}", source=str(out)
        ) from exc
    if not out.is_dir():
        raise UsageError("output path is not a directory", source=str(out))
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError("output directory is not writable", source=str(out))
    return out


def _run_engine(
    engine: str,
    paths: Sequence[str | Path],
    options: ReadOptions,
    pack: IntelPack,
    *,
    stream: ColumnarIngest | None,
    case: str | Path | None,
    spill: Path,
    wanted: tuple[str, ...],
    rejected: _RejectionFile | None,
    spark_master: str | None,
    timings: dict[str, float] | None,
    progress: Callable[[int, ReadStatus | None], None] | None,
) -> tuple[EngineResult, IngestResult]:
    """``analyze``'s reading and engine: the paths through Spark, or ``stream`` (the paths as
    record batches) or the case's events through the local engine."""
    if engine == "spark":
        from slipcatch.engine.spark import run_spark

        started = time.perf_counter()
        ran = run_spark(list(paths), options, pack, master=spark_master or "local[2]",
                        spill_dir=spill, assess=wanted, sink=rejected)
        if timings is not None:
            timings["engine"] = time.perf_counter() - started
        return ran.result, IngestResult(
            files=list(ran.files), rejections=list(ran.rejections),
            rejection_counts=Counter(ran.rejection_counts),
        )
    if stream is not None:
        stream.sink = rejected
        found = run_local(stream.tagged(), pack, spill_dir=spill, assess=wanted,
                          dedupe=True, timings=timings, progress=_with_status(progress, stream))
        stream.settle(found.duplicates)
        return found, IngestResult(
            files=list(stream.files), rejections=list(stream.rejections),
            rejection_counts=Counter(stream.rejection_counts),
        )
    from slipcatch.case import Case

    assert case is not None  # the local engine reads a stream without one
    with Case.open(case) as store:
        started = time.perf_counter()
        ingested = _ingest_into_case(store, paths, options, rejected)
        if timings is not None:
            timings["read"] = time.perf_counter() - started
        # the case's events go to the engine as Arrow batches, no objects
        found = run_local(store.event_batches(), pack, spill_dir=spill, assess=wanted,
                          timings=timings, progress=_with_status(progress, None))
    return found, ingested


def analyze(
    paths: Sequence[str | Path],
    *,
    intel: Sequence[str | Path] = (),
    persona_map: str | Path | None = None,
    trusted_relays: Sequence[str] = (),
    out_dir: str | Path | None = None,
    case: str | Path | None = None,
    cache_dir: Path | None = None,
    evidence_file: str | Path | None = None,
    report_options: ReportOptions | None = None,
    follow_outside: bool = False,
    year: int | None = None,
    year_from_name: bool = False,
    columns: tuple[tuple[str, str], ...] = (),
    engine: str = "local",
    spark_master: str | None = None,
    assess_personas: Sequence[str] = (),
    timings: dict[str, float] | None = None,
    progress: Callable[[int, ReadStatus | None], None] | None = None,
) -> RunResult:
    """Run the whole analysis on evidence paths and return the assessment.

    With ``case``, the paths are first ingested into that case store (files it already holds
    are not read again) and the analysis covers everything the case holds; the run is then
    recorded in the case. ``paths`` may be empty to analyse a case as it is.
    ``report_options`` (title, TLP, share, keep_paths) go to the report writers.

    With ``out_dir``, the directory is checked before anything is read, every rejection streams
    to ``rejections.jsonl`` there (the assessment keeps counts by reason and a sample), and the
    outputs are written as a set (``report.write_reports``). ``follow_outside``: follow
    symbolic links out of the directories given (``ReadOptions.follow_outside``). ``year``,
    ``year_from_name``: the year of year-less syslog stamps (``ReadOptions``). ``columns``:
    a column mapping for tables no reader knows (``ReadOptions.columns``).

    ``engine``: ``local`` (one machine: the enriched event table is written under a hidden
    work directory in ``out_dir`` or the system's temporary directory, findings computed in
    DuckDB) or ``spark`` (parsing, enrichment and findings as PySpark jobs on ``spark_master``,
    ``local[2]`` by default; docs/spark.md). Either way only the personas with something to
    weigh become objects for the analysis when there are many (``engine.findings``), plus the
    personas in ``assess_personas`` and those the analyst evidence file names.

    ``timings``, when given, receives the seconds of each stage (``engine.local.run_local``'s
    ``read``, ``enrich``, ``spill``, ``findings``, ``observe``; then ``assess`` and
    ``outputs``; ``engine`` for the whole Spark job). ``progress`` is called after each batch
    with the number of events read so far and, when evidence paths are read (not a case's
    held events), how far the reading has come (files, records, bytes of the input: a
    ``ReadStatus``); local engine only.

    Raises:
        EvidenceError: an evidence path does not exist or cannot be read.
        IntelError: an ``intel`` source cannot be recognised or loaded.
        UsageError: the output directory is empty, cannot be created or written; the persona
            map is malformed; a file holds some mapped ``columns`` but not all; the analyst
            evidence file (``evidence_file``,
            passed to ``analysis.assess``) cannot be read or has a bad entry.
        CaseError: the case store cannot be opened.
    """
    if engine not in ("local", "spark"):
        raise UsageError(f"--engine: expected local or spark, not {engine!r}")
    if engine == "spark" and case is not None:
        raise UsageError("--engine spark reads evidence paths; it does not work with --case")
    out = check_out_dir(out_dir) if out_dir is not None else None
    options = ReadOptions(
        trusted_relays=tuple(trusted_relays),
        persona_map=PersonaMap.load(persona_map) if persona_map else None,
        follow_outside=follow_outside,
        year=year,
        year_from_name=year_from_name,
        columns=columns,
    )
    with contextlib.ExitStack() as cleanup:
        stream = None
        if engine == "local" and case is None:
            # read as a stream of record batches, repeated events dropped by the engine's sort
            # (memory flat with the input); its parsing workers start importing while the
            # pack loads
            stream = ColumnarIngest(list(paths), options, sorted_blocks=True,
                                    workers=min(READ_WORKERS, os.cpu_count() or 1))
            cleanup.callback(stream.close)  # the workers, after an error before the reading
            stream.start()
        pack = load_pack(list(intel), cache_dir=cache_dir)
        asked = _personas_named(evidence_file, pack) if evidence_file is not None else ()
        rejected = _RejectionFile(out) if out is not None else None
        if rejected is not None:  # written and moved into place, or left unfinished: gone
            cleanup.callback(rejected.discard)
        spill = Path(tempfile.mkdtemp(prefix=".slipcatch-work-", dir=out))
        cleanup.callback(shutil.rmtree, spill, ignore_errors=True)
        try:
            found, ingested = _run_engine(
                engine, paths, options, pack, stream=stream, case=case, spill=spill,
                wanted=tuple(sorted({*asked, *assess_personas})), rejected=rejected,
                spark_master=spark_master, timings=timings, progress=progress)
        except EvidenceError as exc:
            if out is None:
                raise
            raise EvidenceError(
                f"{exc.reason}; no report was written ({out} unchanged)", exc.source, exc.locator
            ) from exc
        if rejected is not None:
            rejected.close()
        observations = found.observations
        started = time.perf_counter()
        personas = assess(observations, pack.actors, evidence_file=evidence_file)
        if timings is not None:
            timings["assess"] = time.perf_counter() - started
        assessment = Assessment(
            generated_at=run_time(),
            evidence=tuple(ingested.files),
            rejections=tuple(ingested.rejections),
            pack_id=pack.pack_id,
            sources=tuple(pack.sources),
            observations=tuple(observations),
            personas=tuple(personas),
            actors=tuple(pack.actors),
            model_version=MODEL_VERSION,
            intel_rejections=tuple(pack.rejections),
            rejection_counts=tuple(sorted(ingested.rejection_counts.items()))
            if ingested.sampled
            else (),
            warnings=tuple(options.persona_map.warnings()) if options.persona_map else (),
            coverage=found.coverage,
            remainder=found.remainder,
        )
        # The reports need the assessment only: the pack's tables (about 330 MB with the
        # lookup's fast paths) are let go before they are written.
        del pack
        outputs: dict[str, Path] = {}
        if out is not None and rejected is not None:
            from slipcatch.report import write_reports

            started = time.perf_counter()
            outputs = write_reports(
                assessment,
                out,
                extra={rejected.NAME: rejected.path},
                options=report_options,
                events=lambda: _table_batches(found.events_path),
            )
            if timings is not None:
                timings["outputs"] = time.perf_counter() - started
    if case is not None:
        from slipcatch.case import Case
        from slipcatch.report import assessment_document

        inputs = {
            "intel": [str(Path(p).resolve()) for p in intel],
            "persona_map": str(Path(persona_map).resolve()) if persona_map else None,
            "evidence_file": str(Path(evidence_file).resolve()) if evidence_file else None,
            "trusted_relays": list(trusted_relays),
        }
        with Case.open(case) as store:
            store.record_run(assessment, assessment_document(assessment), inputs)
    return RunResult(assessment=assessment, outputs=outputs)

"""The case store: an embedded DuckDB database holding what an investigation has seen.

Tables (keyed by content, so ingesting or recording the same thing twice adds nothing):

- ``evidence_files``: one row per input file — sha256, path, size, format, reader version,
  ingest time and the exact record account (records = events + rejected + duplicates, where
  duplicates include events the case already held) — the chain of custody;
- ``events``: one row per distinct event (id from content), with attributes, e-mail hops and
  the typed e-mail part (``mail``: sender, claimed client);
- ``rejections``: records that produced no event, with file, locator and reason;
- ``runs``: one row per analysis run (pack id, model version, the assessment document, and a
  lossless snapshot of the whole ``Assessment`` (``slipcatch.codec``) for ``export``);
- ``observations``: what each event's address was at its time, per run.

Each file is ingested in one transaction, streamed in batches of ``BATCH`` records (memory stays
bounded whatever the file's size): a crash or ``kill -9`` in the middle leaves the case as it
was before that file, and ingesting again completes it with no duplicates.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from slipcatch import codec
from slipcatch.errors import CaseError, EvidenceError, UsageError
from slipcatch.eventtable import (
    EVENT_SCHEMA,
    events_to_table,
    safe_text,
    table_to_events,
)
from slipcatch.model import (
    Assessment,
    Event,
    EvidenceFile,
    Observation,
    Rejection,
    stable_id,
)

__all__ = ["TABLES", "Case", "FileIngest", "case_path", "cases_dir", "list_cases"]

LAYOUT_VERSION = "1"
#: Records per insert while a file is ingested: memory stays bounded whatever the file's size.
BATCH = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS evidence_files (
    sha256 VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, size BIGINT NOT NULL,
    format VARCHAR NOT NULL, reader VARCHAR NOT NULL, records BIGINT NOT NULL,
    events BIGINT NOT NULL, rejected BIGINT NOT NULL, duplicates BIGINT NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL, format_confidence DOUBLE
);
CREATE TABLE IF NOT EXISTS events (
    id VARCHAR PRIMARY KEY, time TIMESTAMPTZ NOT NULL, src_ip VARCHAR NOT NULL,
    persona VARCHAR NOT NULL, channel VARCHAR NOT NULL, path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL, locator VARCHAR NOT NULL, origin_trust VARCHAR,
    entry_ip VARCHAR, attributes VARCHAR NOT NULL, hops VARCHAR NOT NULL, mail VARCHAR
);
CREATE TABLE IF NOT EXISTS rejections (
    sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, locator VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, detail VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, generated_at TIMESTAMPTZ NOT NULL, pack_id VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL, assessment VARCHAR NOT NULL, snapshot VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
    run_id VARCHAR NOT NULL, event_id VARCHAR NOT NULL, category VARCHAR NOT NULL,
    country VARCHAR, asn BIGINT, as_org VARCHAR, prefix VARCHAR, actor VARCHAR
);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id VARCHAR PRIMARY KEY, intel VARCHAR NOT NULL, persona_map VARCHAR,
    evidence_file VARCHAR, trusted_relays VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL
);
"""

#: Every table of the store, in the order docs/case-store.md describes them.
TABLES = ("meta", "evidence_files", "events", "rejections", "runs", "observations",
          "run_inputs")


def cases_dir() -> Path:
    """Where cases named by a plain name live: ``$SLIPCATCH_CASES``, else
    ``$XDG_DATA_HOME/slipcatch/cases``, else ``~/.local/share/slipcatch/cases``."""
    env = os.environ.get("SLIPCATCH_CASES")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "slipcatch" / "cases"


def is_case_name(name: str | Path) -> bool:
    """True for a plain case name (no ``/`` and not ending in ``.duckdb``), which resolves in
    ``cases_dir()``; anything else is a path (relative to the working directory)."""
    text = str(name)
    return not (isinstance(name, Path) and name.is_absolute()) and "/" not in text and (
        os.sep not in text) and not text.endswith(".duckdb")


def case_path(name: str | Path) -> Path:
    """The database file of a case.

    A plain name (``sony``) is ``cases_dir()/sony.duckdb``, whatever the working directory.
    A path (containing ``/``, or ending in ``.duckdb``) is that file: ``NAME`` itself if it
    has a suffix, else ``NAME.duckdb``.
    """
    if is_case_name(name):
        return cases_dir() / f"{name}.duckdb"
    p = Path(name).expanduser()
    return p if p.suffix else p.with_suffix(".duckdb")


def list_cases() -> list[Path]:
    """The case files in ``cases_dir()``, by name."""
    root = cases_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*.duckdb") if p.is_file())


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _observations_table(run_id: str, observations: Iterable[Observation]) -> pa.Table:
    rows = list(observations)
    return pa.table(
        {
            "run_id": pa.array([run_id] * len(rows), pa.string()),
            "event_id": pa.array([o.event.id for o in rows], pa.string()),
            "category": pa.array([str(o.address.category) for o in rows], pa.string()),
            "country": pa.array([o.address.country for o in rows], pa.string()),
            "asn": pa.array([o.address.asn for o in rows], pa.int64()),
            "as_org": pa.array([safe_text(o.address.as_org) for o in rows], pa.string()),
            "prefix": pa.array([o.address.prefix for o in rows], pa.string()),
            "actor": pa.array([o.address.actor for o in rows], pa.string()),
        }
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _options_fingerprint(opts: Any) -> str:
    """What of the reading options changes what is read from a file: the persona map's rows
    and the trusted relays. A column mapping (``ReadOptions.columns``) is not part of it: it
    applies to the tables of the ingest that gives it, so each file of a case may be read with
    its own (a held file is never read again)."""
    pmap = getattr(opts, "persona_map", None)
    key = {
        "persona_map": pmap.fingerprint() if pmap is not None else None,
        "trusted_relays": sorted(getattr(opts, "trusted_relays", ()) or ()),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise EvidenceError(f"cannot read: {exc.strerror or exc}", str(path)) from exc


@dataclass(frozen=True)
class FileIngest:
    """What ingesting one file did: its account, and whether it was already in the case."""

    file: EvidenceFile
    already_present: bool


class Case:
    """An open case store. Use as a context manager; see the module docstring for tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path):
        self._con = con
        self.path = path

    @classmethod
    def open(cls, name: str | Path, *, create: bool = True) -> Case:
        """Open the case database for ``name`` (creating it when ``create``).

        Raises:
            CaseError: the case does not exist (and ``create`` is false), the file is not a
                slipcatch case, or it cannot be written.
        """
        path = case_path(name)
        if not create and not path.exists():
            raise CaseError("no such case", source=str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(path))
            con.execute(_SCHEMA)
            # A case written before events had their typed e-mail part: add the column (its
            # rows read their e-mail part back from their attributes, see ``events``).
            con.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS mail VARCHAR")
            row = con.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta VALUES ('layout', ?)", [LAYOUT_VERSION])
            elif row[0] != LAYOUT_VERSION:
                con.close()
                raise CaseError(f"case layout {row[0]} is not {LAYOUT_VERSION}", str(path))
        except (duckdb.Error, OSError) as exc:
            if "lock" in str(exc).lower():
                raise CaseError(
                    "the case is in use by another slipcatch process (one writer at a time); "
                    "nothing was changed: run again when it has finished",
                    source=str(path),
                ) from exc
            raise CaseError(f"cannot open case store: {_one_line(exc)}", source=str(path)) from exc
        return cls(con, path)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str | Path], options: Any = None) -> list[FileIngest]:
        """Ingest evidence files; see ``iter_ingest``."""
        return list(self.iter_ingest(paths, options))

    def iter_ingest(self, paths: Sequence[str | Path], options: Any = None) -> Iterator[FileIngest]:
        """Ingest evidence files (directories are walked), one transaction per file, yielding
        each file's account as soon as it is committed.

        A file whose SHA-256 the case already holds is not read again. Events the case already
        holds (same id, e.g. the same message in another mailbox) count as duplicates in the
        new file's account. Entries of a directory that are not read (loops, dangling links,
        FIFOs, ...) are recorded as skipped files with their one rejection.

        Raises:
            EvidenceError: a path does not exist or cannot be read; a file vanishes or cannot be
                read during the ingest (the case is as it was before that file).
            CaseError: the case cannot be written (disk full, read-only); likewise.
            UsageError: the reading options differ from those the case's files were read with.
        """
        from slipcatch.evidence import ReadOptions

        opts = options or ReadOptions()
        if paths or _options_fingerprint(opts) != _options_fingerprint(ReadOptions()):
            self._check_options(opts)  # (analysing a case as it is, with no options, reads nothing)
        done = 0
        self._current: Path | None = None
        files = self._iter_files(paths, opts)
        while True:
            try:
                item = next(files)
            except StopIteration:
                return
            except (duckdb.Error, OSError, EvidenceError) as exc:
                kept = (
                    f"the case is as it was before this file ({done} earlier file(s) of this "
                    "run kept)"
                )
                if isinstance(exc, EvidenceError):
                    raise EvidenceError(f"{exc.reason}; {kept}", exc.source, exc.locator) from exc
                what = exc.strerror if isinstance(exc, OSError) else _one_line(exc)
                raise CaseError(
                    f"cannot ingest {self._current}: {what}; {kept}", source=str(self.path)
                ) from exc
            done += 1
            yield item

    def _iter_files(self, paths: Sequence[str | Path], opts: Any) -> Iterator[FileIngest]:
        from slipcatch._version import __version__
        from slipcatch.evidence import FileRead, walk
        from slipcatch.evidence._ingest import Skipped, skipped_file

        # Fail on a missing path before reading anything.
        files = list(walk(paths, follow_outside=opts.follow_outside))
        for path in files:
            if isinstance(path, Skipped):
                yield self._skipped(*skipped_file(path))
                continue
            self._current = path
            sha = _file_sha256(path)
            row = self._con.execute(
                "SELECT path, size, format, records, events, rejected, duplicates, "
                "format_confidence FROM evidence_files WHERE sha256 = ?",
                [sha],
            ).fetchone()
            if row is not None:
                yield FileIngest(EvidenceFile(row[0], sha, *row[1:]), True)
                continue
            reading = FileRead(path, opts)
            with self._transaction() as con:
                inserted = 0
                events: list[Event] = []
                rejections: list[Rejection] = []
                for item in reading.items():
                    if isinstance(item, Rejection):
                        rejections.append(item)
                    else:
                        events.append(item)
                    if len(events) >= BATCH or len(rejections) >= BATCH:
                        inserted += self._insert_batch(con, events, rejections)
                        events, rejections = [], []
                inserted += self._insert_batch(con, events, rejections)
                account = reading.account(
                    inserted, reading.records - reading.rejected - inserted
                )
                con.execute(
                    "INSERT INTO evidence_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        account.sha256,
                        safe_text(account.path),
                        account.size,
                        account.format,
                        f"{account.format}/slipcatch-{__version__}",
                        account.records,
                        account.events,
                        account.rejected,
                        account.duplicates,
                        datetime.now(tz=UTC),
                        account.confidence,
                    ],
                )
            yield FileIngest(account, False)

    def _check_options(self, opts: Any) -> None:
        """Refuse reading options that differ from those the case's files were read with: they
        could not apply to the files the case already holds (which are never read again).

        Raises:
            UsageError: the case holds files read with other ``--persona-map``/``--trusted-relay``.
        """
        mine = _options_fingerprint(opts)
        row = self._con.execute("SELECT value FROM meta WHERE key = 'read_options'").fetchone()
        held = self._con.execute("SELECT count(*) FROM evidence_files").fetchone()
        n = int(held[0]) if held else 0
        if row is None or n == 0:
            try:
                self._con.execute("INSERT OR REPLACE INTO meta VALUES ('read_options', ?)", [mine])
            except duckdb.Error as exc:
                raise CaseError(f"cannot write: {_one_line(exc)}", str(self.path)) from exc
            return
        if row[0] != mine:
            raise UsageError(
                f"--persona-map/--trusted-relay differ from those the case's {n} file(s) were "
                "read with, and could not apply to them (held files are never read again): use "
                "the same options, or a new case",
                source=str(self.path),
            )

    def _skipped(self, account: EvidenceFile, rejection: Rejection) -> FileIngest:
        """Record a directory entry that was not read (its one rejection says why)."""
        from slipcatch._version import __version__

        held = self._con.execute(
            "SELECT 1 FROM evidence_files WHERE sha256 = ?", [account.sha256]
        ).fetchone()
        if held is not None:
            return FileIngest(account, True)
        with self._transaction() as con:
            self._insert_batch(con, [], [rejection])
            con.execute(
                "INSERT INTO evidence_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [account.sha256, safe_text(account.path), 0, account.format,
                 f"skipped/slipcatch-{__version__}", 1, 0, 1, 0, datetime.now(tz=UTC), None],
            )
        return FileIngest(account, False)

    @staticmethod
    def _insert_batch(
        con: duckdb.DuckDBPyConnection, events: list[Event], rejections: list[Rejection]
    ) -> int:
        """Insert one batch of a file's records; returns how many events were new to the case
        (an event already held, from this file or another, is a duplicate)."""
        if rejections:
            con.executemany(
                "INSERT INTO rejections VALUES (?, ?, ?, ?, ?)",
                [[r.sha256, safe_text(r.path), r.locator, r.reason, safe_text(r.detail)]
                 for r in rejections],
            )
        if not events:
            return 0
        before = con.execute("SELECT count(*) FROM events").fetchall()[0]
        con.register("new_events", events_to_table(events))
        # DISTINCT ON: the same record twice within one batch is kept once.
        con.execute(
            "INSERT INTO events SELECT DISTINCT ON (id) * FROM new_events "
            "WHERE id NOT IN (SELECT id FROM events) ORDER BY id"
        )
        con.unregister("new_events")
        after = con.execute("SELECT count(*) FROM events").fetchall()[0]
        return int(after[0]) - int(before[0])

    # -- reading back ---------------------------------------------------------------------

    def files(self) -> list[EvidenceFile]:
        """Every evidence file's account, by path."""
        rows = self._con.execute(
            "SELECT path, sha256, size, format, records, events, rejected, duplicates, "
            "format_confidence FROM evidence_files ORDER BY path, sha256"
        ).fetchall()
        return [EvidenceFile(*r) for r in rows]

    def rejections(self, limit: int | None = None) -> list[Rejection]:
        """The case's rejections by file and locator (the first ``limit`` of them)."""
        rows = self._con.execute(
            "SELECT path, sha256, locator, reason, detail FROM rejections "
            "ORDER BY path, sha256, locator" + (f" LIMIT {int(limit)}" if limit is not None else "")
        ).fetchall()
        return [Rejection(*r) for r in rows]

    def iter_rejections(self, batch: int = BATCH) -> Iterator[Rejection]:
        """Every rejection, streamed in batches (memory stays bounded)."""
        cur = self._con.cursor()
        try:
            cur.execute(
                "SELECT path, sha256, locator, reason, detail FROM rejections "
                "ORDER BY path, sha256, locator"
            )
            while rows := cur.fetchmany(batch):
                yield from (Rejection(*r) for r in rows)
        finally:
            cur.close()

    def events(self) -> list[Event]:
        """Every event in the case, sorted by (time, id)."""
        names = ", ".join(EVENT_SCHEMA.names)
        cur = self._con.cursor()
        try:
            rel = cur.sql(f"SELECT {names} FROM events ORDER BY time, id")
            table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        finally:
            cur.close()
        return table_to_events(table)

    def event_batches(self, rows: int = 1 << 16) -> Iterator[pa.RecordBatch]:
        """Every event in the case as ``EVENT_SCHEMA`` record batches of at most ``rows`` rows,
        streamed from the store (memory stays bounded), in no particular order: for the engine,
        which sorts. The case must stay open until the batches are read."""
        names = ", ".join(EVENT_SCHEMA.names)
        cur = self._con.cursor()
        try:
            rel = cur.sql(f"SELECT {names} FROM events")
            reader = (rel.to_arrow_reader(rows) if hasattr(rel, "to_arrow_reader")
                      else rel.fetch_arrow_reader(rows))  # DuckDB before 1.4
            for batch in reader:
                if batch.num_rows:
                    yield pa.RecordBatch.from_arrays(
                        [batch.column(f.name).cast(f.type) for f in EVENT_SCHEMA],
                        schema=EVENT_SCHEMA)
        finally:
            cur.close()

    # -- runs -----------------------------------------------------------------------------

    def record_run(
        self,
        assessment: Assessment,
        document: Mapping[str, Any],
        inputs: dict[str, Any] | None = None,
    ) -> str:
        """Store a run's document (``report.assessment_document(assessment)``, built by the
        caller: the case stores and reads, it builds no report) and its observations; returns
        the run's id (from the document's content).

        Recording the same result twice (same inputs, pack and model) adds nothing.
        ``inputs`` (``intel``: list of paths, ``persona_map``, ``evidence_file``,
        ``trusted_relays``) are what the run was given, so that a later ``analyze --case``
        can reuse them (``latest_inputs``).
        """
        body = json.dumps(document, sort_keys=True, ensure_ascii=True)
        stable = dict(document, generated_at=None)
        run_id = stable_id("run", json.dumps(stable, sort_keys=True, ensure_ascii=True))
        with self._transaction() as con:
            exists = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone()
            if not exists:
                snapshot = json.dumps(
                    {"codec": codec.VERSION, "assessment": codec.encode(assessment)},
                    sort_keys=True,
                    ensure_ascii=True,
                )
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, assessment.generated_at, assessment.pack_id,
                     assessment.model_version, body, snapshot],
                )
                obs = _observations_table(run_id, assessment.observations)
                con.register("new_obs", obs)
                con.execute("INSERT INTO observations SELECT * FROM new_obs")
                con.unregister("new_obs")
            if inputs is not None:
                con.execute("DELETE FROM run_inputs WHERE run_id = ?", [run_id])
                con.execute(
                    "INSERT INTO run_inputs VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, json.dumps([str(p) for p in inputs.get("intel") or []]),
                     _opt(inputs.get("persona_map")), _opt(inputs.get("evidence_file")),
                     json.dumps(list(inputs.get("trusted_relays") or [])),
                     datetime.now(tz=UTC)],
                )
        return run_id

    def latest_inputs(self) -> dict[str, Any] | None:
        """The inputs recorded with the most recent run that has them (see ``record_run``),
        or None: ``{"run_id", "intel", "persona_map", "evidence_file", "trusted_relays"}``."""
        row = self._con.execute(
            "SELECT i.run_id, i.intel, i.persona_map, i.evidence_file, i.trusted_relays "
            "FROM run_inputs i JOIN runs r USING (run_id) "
            "ORDER BY r.generated_at DESC, i.recorded_at DESC, i.run_id LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return {"run_id": row[0], "intel": json.loads(row[1]), "persona_map": row[2],
                "evidence_file": row[3], "trusted_relays": json.loads(row[4])}

    def run_summaries(self) -> list[dict[str, Any]]:
        """Every run, oldest first: run_id, generated_at, pack_id, model_version, intel (the
        recorded ``--intel`` paths, None when not recorded), sources (names of the pack's
        sources), verdicts (statements of attributed personas)."""
        rows = self._con.execute(
            "SELECT r.run_id, r.generated_at, r.pack_id, r.model_version, r.assessment, "
            "i.intel FROM runs r LEFT JOIN run_inputs i USING (run_id) "
            "ORDER BY r.generated_at, r.run_id"
        ).fetchall()
        out = []
        for run_id, at, pack_id, model, body, intel in rows:
            doc = json.loads(body)
            sources = [s.get("name") for s in (doc.get("intel") or {}).get("sources", [])]
            verdicts = []
            for p in doc.get("personas", []):
                v = (p.get("assessment") or {}).get("verdict") or {}
                if v.get("actor"):
                    verdicts.append(f"{v.get('statement')} Confidence: {v.get('confidence')}.")
            out.append({"run_id": str(run_id), "generated_at": at.astimezone(UTC),
                        "pack_id": str(pack_id), "model_version": str(model),
                        "intel": json.loads(intel) if intel is not None else None,
                        "sources": sources, "verdicts": verdicts})
        return out

    def rename_paths(self, names: dict[str, str]) -> None:
        """Rename evidence paths (old -> new) in every table that holds them."""
        with self._transaction() as con:
            for old, new in names.items():
                for table in ("evidence_files", "events", "rejections"):
                    con.execute(f"UPDATE {table} SET path = ? WHERE path = ?", [new, old])

    def events_frame(self, where: str | None = None) -> Any:
        """The events as a pandas DataFrame with the latest run's observation columns
        (category, country, asn, as_org, prefix, actor; null before any run), filtered by
        the SQL condition ``where``.

        Raises:
            CaseError: ``where`` is not a valid condition over those columns.
        """
        sql = (
            "SELECT * FROM (SELECT e.id, e.time, e.src_ip, e.persona, e.channel, e.path, "
            "e.sha256, e.locator, e.origin_trust, e.entry_ip, o.category, o.country, o.asn, "
            "o.as_org, o.prefix, o.actor, e.attributes FROM events e LEFT JOIN observations o "
            "ON o.event_id = e.id AND o.run_id = (SELECT run_id FROM runs "
            "ORDER BY generated_at DESC, run_id LIMIT 1))"
        )
        if where:
            sql += f" WHERE {where}"
        sql += " ORDER BY time, id"
        try:
            return self._con.execute(sql).df()
        except duckdb.Error as exc:
            raise CaseError(f"events(where=...): {str(exc).splitlines()[0]}",
                            str(self.path)) from exc

    def load_run(self, run_id: str | None = None) -> Assessment:
        """The whole ``Assessment`` of a recorded run (the latest when ``run_id`` is None).

        Raises:
            CaseError: the case has no such run, or its snapshot cannot be read.
        """
        if run_id is None:
            row = self._con.execute(
                "SELECT run_id, snapshot FROM runs ORDER BY generated_at DESC, run_id LIMIT 1"
            ).fetchone()
        else:
            row = self._con.execute(
                "SELECT run_id, snapshot FROM runs WHERE run_id = ?", [run_id]
            ).fetchone()
        if row is None:
            what = "no analysis run recorded" if run_id is None else f"no run {run_id}"
            raise CaseError(f"{what} (run `slipcatch analyze --case`)", source=str(self.path))
        try:
            data = json.loads(row[1])
            if data.get("codec") != codec.VERSION:
                raise ValueError(f"snapshot codec {data.get('codec')!r}")
            return codec.decode(Assessment, data["assessment"])
        except (ValueError, KeyError) as exc:
            raise CaseError(f"run {row[0]}: unreadable snapshot: {exc}", str(self.path)) from exc

    def runs(self) -> list[tuple[str, datetime, str]]:
        """(run id, generated_at, pack id) of every recorded run, oldest first."""
        rows = self._con.execute(
            "SELECT run_id, generated_at, pack_id FROM runs ORDER BY generated_at, run_id"
        ).fetchall()
        return [(str(r[0]), r[1].astimezone(UTC), str(r[2])) for r in rows]

    def latest_document(self) -> dict[str, Any] | None:
        """The assessment document of the most recent run, or None."""
        row = self._con.execute(
            "SELECT assessment FROM runs ORDER BY generated_at DESC, run_id LIMIT 1"
        ).fetchone()
        return json.loads(row[0]) if row else None

    def counts(self) -> dict[str, int]:
        """Row counts of every table, for ``case info`` and tests."""
        out: dict[str, int] = {}
        for table in ("evidence_files", "events", "rejections", "runs", "observations"):
            row = self._con.execute(f"SELECT count(*) FROM {table}").fetchone()
            out[table] = int(row[0]) if row else 0
        return out

    def rejections_by_reason(self) -> list[tuple[str, int]]:
        """Rejections grouped by reason, most frequent first."""
        rows = self._con.execute(
            "SELECT reason, count(*) AS n FROM rejections GROUP BY reason ORDER BY n DESC, reason"
        ).fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

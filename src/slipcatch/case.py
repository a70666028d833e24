"""The case store: an embedded DuckDB database holding what an investigation has seen.

Tables (all keyed by content, so recording the same thing twice adds nothing):

- ``evidence_files``: one row per input file (sha256, path, size, format, exact record account,
  first recorded time) — the chain of custody;
- ``events``: one row per distinct event (id from content);
- ``rejections``: records that produced no event, with file, locator and reason;
- ``observations``: what each event's address was at its time, per run;
- ``runs``: one row per analysis run (pack id, model version, the assessment document).

Every ``record_run`` is one transaction: a crash leaves the case as it was before the call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa

from slipcatch.errors import CaseError
from slipcatch.model import Assessment, Event, Observation, stable_id

__all__ = ["Case", "case_path", "events_table"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence_files (
    sha256 VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, size BIGINT NOT NULL,
    format VARCHAR NOT NULL, records BIGINT NOT NULL, events BIGINT NOT NULL,
    rejected BIGINT NOT NULL, duplicates BIGINT NOT NULL, recorded_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id VARCHAR PRIMARY KEY, time TIMESTAMPTZ NOT NULL, src_ip VARCHAR NOT NULL,
    persona VARCHAR NOT NULL, channel VARCHAR NOT NULL, path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL, locator VARCHAR NOT NULL, origin_trust VARCHAR,
    entry_ip VARCHAR, attributes VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, locator VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, detail VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, generated_at TIMESTAMPTZ NOT NULL, pack_id VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL, assessment VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
    run_id VARCHAR NOT NULL, event_id VARCHAR NOT NULL, category VARCHAR NOT NULL,
    country VARCHAR, asn BIGINT, as_org VARCHAR, prefix VARCHAR, actor VARCHAR
);
"""


def case_path(name: str | Path) -> Path:
    """The database file of a case: NAME itself if it has a suffix, else NAME.duckdb."""
    p = Path(name)
    return p if p.suffix else p.with_suffix(".duckdb")


def events_table(events: Iterable[Event]) -> pa.Table:
    """The events as an Arrow table in the column order of the ``events`` table."""
    rows = list(events)
    return pa.table(
        {
            "id": pa.array([e.id for e in rows], pa.string()),
            "time": pa.array([e.time for e in rows], pa.timestamp("us", tz="UTC")),
            "src_ip": pa.array([e.src_ip for e in rows], pa.string()),
            "persona": pa.array([e.persona for e in rows], pa.string()),
            "channel": pa.array([e.channel for e in rows], pa.string()),
            "path": pa.array([e.evidence.path for e in rows], pa.string()),
            "sha256": pa.array([e.evidence.sha256 for e in rows], pa.string()),
            "locator": pa.array([e.evidence.locator for e in rows], pa.string()),
            "origin_trust": pa.array(
                [str(e.origin_trust) if e.origin_trust else None for e in rows], pa.string()
            ),
            "entry_ip": pa.array([e.entry_ip for e in rows], pa.string()),
            "attributes": pa.array(
                [json.dumps(dict(e.attributes), sort_keys=True, ensure_ascii=False) for e in rows],
                pa.string(),
            ),
        }
    )


def _observations_table(run_id: str, observations: Iterable[Observation]) -> pa.Table:
    rows = list(observations)
    return pa.table(
        {
            "run_id": pa.array([run_id] * len(rows), pa.string()),
            "event_id": pa.array([o.event.id for o in rows], pa.string()),
            "category": pa.array([str(o.address.category) for o in rows], pa.string()),
            "country": pa.array([o.address.country for o in rows], pa.string()),
            "asn": pa.array([o.address.asn for o in rows], pa.int64()),
            "as_org": pa.array([o.address.as_org for o in rows], pa.string()),
            "prefix": pa.array([o.address.prefix for o in rows], pa.string()),
            "actor": pa.array([o.address.actor for o in rows], pa.string()),
        }
    )


class Case:
    """An open case store. Use as a context manager; see the module docstring for tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path):
        self._con = con
        self.path = path

    @classmethod
    def open(cls, name: str | Path) -> Case:
        """Open (creating if needed) the case database for ``name``.

        Raises:
            CaseError: the file exists but is not a DuckDB database, or cannot be written.
        """
        path = case_path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(path))
            con.execute(_SCHEMA)
        except (duckdb.Error, OSError) as exc:
            raise CaseError(f"cannot open case store: {exc}", source=str(path)) from exc
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

    def record_run(self, assessment: Assessment) -> str:
        """Store a run's evidence accounts, events, rejections, observations and document.

        Files and events already in the case (same sha256 / same event id) are not added again.
        Returns the run id (deterministic from the document's content).
        """
        from slipcatch.report import assessment_document

        document = assessment_document(assessment)
        body = json.dumps(document, sort_keys=True, ensure_ascii=False)
        stable = dict(document, generated_at=None)
        run_id = stable_id("run", json.dumps(stable, sort_keys=True, ensure_ascii=False))
        with self._transaction() as con:
            known = {
                row[0]
                for row in con.execute("SELECT sha256 FROM evidence_files").fetchall()
            }
            added: set[str] = set()
            for f in assessment.evidence:
                if f.sha256 in known or f.sha256 in added:
                    continue
                con.execute(
                    "INSERT INTO evidence_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f.sha256, f.path, f.size, f.format, f.records, f.events, f.rejected,
                     f.duplicates, assessment.generated_at],
                )
                added.add(f.sha256)
            fresh = [r for r in assessment.rejections if r.sha256 in added]
            if fresh:
                con.executemany(
                    "INSERT INTO rejections VALUES (?, ?, ?, ?, ?)",
                    [[r.sha256, r.path, r.locator, r.reason, r.detail] for r in fresh],
                )
            new_events = events_table(o.event for o in assessment.observations)
            con.register("new_events", new_events)
            con.execute(
                "INSERT INTO events SELECT * FROM new_events "
                "WHERE id NOT IN (SELECT id FROM events)"
            )
            con.unregister("new_events")
            exists = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone()
            if not exists:
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?)",
                    [run_id, assessment.generated_at, assessment.pack_id,
                     assessment.model_version, body],
                )
                obs = _observations_table(run_id, assessment.observations)
                con.register("new_obs", obs)
                con.execute("INSERT INTO observations SELECT * FROM new_obs")
                con.unregister("new_obs")
        return run_id

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

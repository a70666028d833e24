"""What the workbench reads: a case store (read-write for notes) or an ``analyze --out`` directory.

Both are reduced to the same things: the assessment document (``assessment.json`` or the case's
latest run), the per-event records (``events.jsonl``-shaped dicts), and an ``events`` relation
that the evidence page filters with SQL (bound parameters only). A case also gives the whole
``Assessment`` of its latest run (``Case.load_run``), which the what-if needs.

Notes and tags live in the case store, in a table this module creates when missing::

    CREATE TABLE web_notes (id VARCHAR PRIMARY KEY, target_kind VARCHAR NOT NULL,
        target_id VARCHAR NOT NULL, tag VARCHAR NOT NULL, note VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL)

``target_kind`` is ``persona``, ``line`` or ``event``; ``target_id`` the object's id.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from slipcatch.errors import CaseError
from slipcatch.model import Assessment

__all__ = ["NOTE_KINDS", "PAGE_SIZE", "EventFilter", "Store", "open_store"]

PAGE_SIZE = 50
NOTE_KINDS = ("persona", "line", "event")
#: Filterable columns of the evidence page; the only column names that reach SQL text.
FILTER_COLUMNS = ("persona", "channel", "category", "country", "src_ip")

#: Table names the queries use (never user input): the filtered relation and the raw records.
CASE_TABLES = ("web.ev", "events")
OUT_TABLES = ("ev", "ev")

_NOTES_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_notes (
    id VARCHAR PRIMARY KEY, target_kind VARCHAR NOT NULL, target_id VARCHAR NOT NULL,
    tag VARCHAR NOT NULL, note VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL
)
"""


@dataclass(frozen=True)
class EventFilter:
    """The evidence page's filter: exact matches on a few columns, a substring, a time window."""

    persona: str = ""
    channel: str = ""
    category: str = ""
    country: str = ""
    src_ip: str = ""
    text: str = ""  # substring of the raw attributes
    since: str = ""
    until: str = ""
    page: int = 1

    def where(self, raw: str) -> tuple[str, list[Any]]:
        """The WHERE clause (fixed text) and its bound parameters (user input).

        ``raw`` is the relation holding the attributes (a constant of this module)."""
        clauses: list[str] = []
        params: list[Any] = []
        for column in FILTER_COLUMNS:
            value = getattr(self, column)
            if value:
                clauses.append(f"{column} = ?")  # column from the fixed list above
                params.append(value)
        if self.text:
            clauses.append(f"id IN (SELECT id FROM {raw} WHERE contains(attributes, ?))")
            params.append(self.text)
        if self.since:
            clauses.append("time >= CAST(? AS TIMESTAMPTZ)")
            params.append(self.since)
        if self.until:
            clauses.append("time < CAST(? AS TIMESTAMPTZ)")
            params.append(self.until)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (*FILTER_COLUMNS, "text", "since", "until", "page")}


@dataclass
class Store:
    """One served source. ``con`` holds a relation ``ev`` with the columns of the evidence page."""

    kind: str  # "case" or "out"
    path: Path
    con: duckdb.DuckDBPyConnection
    document: dict[str, Any]
    records: dict[str, dict[str, Any]]
    tables: tuple[str, str]  # (relation filtered, relation holding attributes and hops)
    assessment: Assessment | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The served data never changes (only notes do): results are cached per argument.
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    #: Bumped on every change of notes: keys cached pages that show them.
    notes_version: int = 0

    def cached(self, key: tuple[Any, ...], make: Any) -> Any:
        if key in self._cache:
            return self._cache[key]
        value = make()
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = value
        return value

    @property
    def writable(self) -> bool:
        return self.kind == "case"

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # One cursor per query: DuckDB cursors of one connection may be used from many threads.
        cur = self.con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    # -- evidence ---------------------------------------------------------------------------

    def events_page(self, flt: EventFilter) -> dict[str, Any]:
        where, params = flt.where(self.tables[1])
        page = max(1, flt.page)

        def count() -> int:
            with self.cursor() as cur:
                sql = f"SELECT count(*) FROM {self.tables[0]}{where}"
                row = cur.execute(sql, params).fetchone()
            return int(row[0]) if row else 0

        total = self.cached(("count", where, *params), count)
        if where:
            page_sql, page_params = f"{where} ORDER BY n LIMIT ? OFFSET ?", [
                *params, PAGE_SIZE, (page - 1) * PAGE_SIZE]
        else:  # unfiltered: the page is a range of n
            page_sql, page_params = " WHERE n > ? AND n <= ? ORDER BY n", [
                (page - 1) * PAGE_SIZE, page * PAGE_SIZE]
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT id, strftime(time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), src_ip, "
                f"persona, channel, category, country FROM {self.tables[0]}{page_sql}",
                page_params,
            ).fetchall()
        keys = ("id", "time", "src_ip", "persona", "channel", "category", "country")
        return {
            "filter": flt.as_dict(),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "page_size": PAGE_SIZE,
            "events": [dict(zip(keys, r, strict=True)) for r in rows],
        }

    def facets(self) -> dict[str, list[str]]:
        """Values offered in the filter's drop-downs (the most frequent 200 of each)."""
        return dict(self.cached(("facets",), self._facets))

    def _facets(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        with self.cursor() as cur:
            for column in ("channel", "category"):
                rows = cur.execute(
                    f"SELECT {column} FROM {self.tables[0]} WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} ORDER BY count(*) DESC LIMIT 200"
                ).fetchall()
                out[column] = sorted(str(r[0]) for r in rows)
        return out

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The event's record: its row, what its address was, the raw attributes and hops."""
        with self.cursor() as cur:
            row = cur.execute(
                "SELECT v.id, strftime(v.time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), "
                "v.src_ip, v.persona, v.channel, v.category, v.country, v.path, v.locator, "
                f"r.attributes, r.hops FROM {self.tables[0]} v JOIN {self.tables[1]} r "
                "ON r.id = v.id WHERE v.id = ?",
                [event_id],
            ).fetchone()
        if row is None:
            return None
        rec = dict(self.records.get(event_id, {}))
        rec.update(
            id=row[0], time=row[1], src_ip=row[2], persona=row[3], channel=row[4],
            category=row[5], country=row[6], path=row[7], locator=row[8],
        )
        rec["attributes"] = json.loads(row[9]) if isinstance(row[9], str) else row[9] or {}
        hops = json.loads(row[10]) if isinstance(row[10], str) else row[10]
        if hops and not rec.get("hops"):
            rec["hops"] = hops
        rec.setdefault("hops", [])
        return rec

    def persona_events(self, name: str, limit: int = 2000) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` events of the persona for its timeline (evenly thinned), and count."""
        result: tuple[list[dict[str, Any]], int] = self.cached(
            ("persona", name, limit), lambda: self._persona_events(name, limit)
        )
        return result

    def _persona_events(self, name: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        with self.cursor() as cur:
            row = cur.execute(
                f"SELECT count(*) FROM {self.tables[0]} WHERE persona = ?", [name]
            ).fetchone()
            total = int(row[0]) if row else 0
            step = max(1, -(-total // limit))
            rows = cur.execute(
                "SELECT id, strftime(time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), src_ip, "
                "channel, category, country FROM ("
                "  SELECT *, row_number() OVER (ORDER BY n) AS k "
                f"  FROM {self.tables[0]} WHERE persona = ?"
                ") WHERE (k - 1) % ? = 0 ORDER BY n",
                [name, step],
            ).fetchall()
        keys = ("id", "time", "src_ip", "channel", "category", "country")
        return [dict(zip(keys, r, strict=True)) for r in rows], total

    def address(self, ip: str) -> list[dict[str, Any]]:
        """Every event of ``ip`` with the facts about the address at that event's time."""
        out = []
        if self.assessment is not None:
            for o in self.assessment.observations:
                if o.event.src_ip != ip:
                    continue
                a = o.address
                out.append(
                    {
                        "event_id": o.event.id,
                        "time": o.event.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "category": str(a.category),
                        "country": a.country,
                        "asn": a.asn,
                        "prefix": a.prefix,
                        "projected": a.projected,
                        "facts": [
                            {
                                "source": f.source,
                                "range": f.range,
                                "category": None if f.category is None else str(f.category),
                                "label": f.label,
                                "actor": f.actor,
                                "country": f.country,
                                "asn": f.asn,
                                "valid_from": _iso(f.valid_from),
                                "valid_to": _iso(f.valid_to),
                                "exclusivity": f.exclusivity,
                                "projected": f.projected,
                            }
                            for f in a.facts
                        ],
                    }
                )
            return out
        for rec in self.records.values():
            if rec.get("src_ip") != ip:
                continue
            out.append(
                {
                    "event_id": rec["id"],
                    "time": rec["time"],
                    "category": rec.get("category"),
                    "country": rec.get("country"),
                    "asn": rec.get("asn"),
                    "prefix": rec.get("prefix"),
                    "projected": rec.get("projected"),
                    "facts": [
                        dict(f, valid_from=f.get("valid_from"), valid_to=f.get("valid_to"),
                             projected=f.get("projected"))
                        for f in rec.get("facts", [])
                    ],
                }
            )
        return sorted(out, key=lambda r: (r["time"], r["event_id"]))

    # -- notes ------------------------------------------------------------------------------

    def notes(
        self, kind: str | None = None, target: str | Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Notes, all or on one kind of object: one target id, or any of several."""
        if not self.writable:
            return []
        key = ("notes", self.notes_version, kind,
               target if target is None or isinstance(target, str) else tuple(target))
        found: list[dict[str, Any]] = self.cached(key, lambda: self._notes(kind, target))
        return [dict(n) for n in found]

    def _notes(
        self, kind: str | None, target: str | Sequence[str] | None
    ) -> list[dict[str, Any]]:
        sql = "SELECT id, target_kind, target_id, tag, note, created_at FROM web_notes"
        params: list[Any] = []
        if kind is not None and isinstance(target, str):
            sql += " WHERE target_kind = ? AND target_id = ?"
            params = [kind, target]
        elif kind is not None and target is not None:
            sql += " WHERE target_kind = ? AND list_contains(?::VARCHAR[], target_id)"
            params = [kind, list(target)]
        with self.lock, self.cursor() as cur:
            rows = cur.execute(sql + " ORDER BY created_at, id", params).fetchall()
        keys = ("id", "target_kind", "target_id", "tag", "note")
        return [
            dict(zip(keys, r[:5], strict=True), created_at=_iso(r[5])) for r in rows
        ]

    def add_note(self, kind: str, target: str, tag: str, note: str) -> dict[str, Any]:
        if not self.writable:
            raise CaseError("notes need a case store; this is a read-only output directory")
        if kind not in NOTE_KINDS:
            raise ValueError(f"notes attach to {', '.join(NOTE_KINDS)}, not {kind!r}")
        note_id = "note--" + secrets.token_hex(8)
        now = datetime.now(UTC)
        with self.lock, self.cursor() as cur:
            cur.execute(
                "INSERT INTO web_notes VALUES (?, ?, ?, ?, ?, ?)",
                [note_id, kind, target, tag.strip()[:100], note[:10_000], now],
            )
            self.notes_version += 1
        return {"id": note_id, "target_kind": kind, "target_id": target, "tag": tag.strip()[:100],
                "note": note[:10_000], "created_at": _iso(now)}

    def delete_note(self, note_id: str) -> bool:
        if not self.writable:
            return False
        with self.lock, self.cursor() as cur:
            row = cur.execute("DELETE FROM web_notes WHERE id = ? RETURNING id", [note_id])
            deleted = row.fetchone() is not None
            self.notes_version += 1
            return deleted

    def close(self) -> None:
        self.con.close()


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_case(path: Path) -> Store:
    from slipcatch.case import Case

    with Case.open(path, create=False) as case:
        document = case.latest_document()
        if document is None:
            raise CaseError("no analysis run recorded (run `slipcatch analyze --case`)", str(path))
        assessment = case.load_run()
        runs = [
            {"run_id": run_id, "generated_at": _iso(at), "pack_id": pack}
            for run_id, at, pack in case.runs()
        ]
        latest = case.runs()[-1][0] if runs else ""
    # The latest run by time; the store's own query so that ties resolve as load_run does.
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    con.execute(_NOTES_SCHEMA)
    row = con.execute(
        "SELECT run_id FROM runs ORDER BY generated_at DESC, run_id LIMIT 1"
    ).fetchone()
    run_id = str(row[0]) if row else latest
    # The evidence page's relation, materialised once in memory (the case file is not changed):
    # the events with what the latest run observed of their address.
    con.execute("ATTACH ':memory:' AS web")
    con.execute(
        "CREATE TABLE web.ev AS SELECT row_number() OVER (ORDER BY e.time, e.id) AS n, "
        "e.id, e.time, e.src_ip, e.persona, e.channel, e.path, e.locator, o.category, "
        "o.country FROM events e "
        "LEFT JOIN (SELECT event_id, any_value(category) AS category, "
        "any_value(country) AS country FROM observations WHERE run_id = ? "
        "GROUP BY event_id) o ON o.event_id = e.id ORDER BY e.time, e.id",
        [run_id],
    )
    records = _records(assessment, document)
    return Store("case", path, con, document, records, CASE_TABLES, assessment, runs)


def _records(assessment: Assessment, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the run said of each event, beyond the event's row (as in events.jsonl)."""
    persona_ids = {p["name"]: p["id"] for p in document.get("personas", [])}
    slip_of = {
        e: s["id"] for p in document.get("personas", []) for s in p.get("slips", [])
        for e in s.get("event_ids", [])
    }
    out: dict[str, dict[str, Any]] = {}
    for o in assessment.observations:
        e, a = o.event, o.address
        rec: dict[str, Any] = {
            "persona_id": persona_ids.get(e.persona),
            "slip": slip_of.get(e.id),
            "asn": a.asn,
            "as_org": a.as_org,
            "prefix": a.prefix,
            "actor": a.actor,
            "projected": a.projected,
        }
        if e.origin_trust is not None:
            rec["origin_trust"] = str(e.origin_trust)
            rec["entry_ip"] = e.entry_ip
        out[e.id] = rec
    return out


def _open_out(path: Path) -> Store:
    doc_path = path / "assessment.json"
    try:
        document = json.loads(doc_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseError(f"cannot read assessment.json: {exc}", str(path)) from exc
    records: dict[str, dict[str, Any]] = {}
    jsonl = path / "events.jsonl"
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    if jsonl.exists():
        with jsonl.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    records[rec["id"]] = rec
        rows = [
            (
                r["id"], r["time"], r["src_ip"], r["persona"], r["channel"], r.get("path", ""),
                r.get("locator", ""), json.dumps(r.get("attributes", {}), sort_keys=True),
                json.dumps(r.get("hops", [])), r.get("category"), r.get("country"),
            )
            for r in records.values()
        ]
        con.execute(
            "CREATE TABLE ev0 (id VARCHAR, time TIMESTAMPTZ, src_ip VARCHAR, persona VARCHAR, "
            "channel VARCHAR, path VARCHAR, locator VARCHAR, attributes VARCHAR, hops VARCHAR, "
            "category VARCHAR, country VARCHAR)"
        )
        if rows:
            con.executemany("INSERT INTO ev0 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    elif (path / "events.parquet").exists():
        con.execute(
            "CREATE TABLE ev0 AS SELECT id, CAST(time AS TIMESTAMPTZ) AS time, src_ip, persona, "
            "channel, path, locator, CAST(to_json(attributes) AS VARCHAR) AS attributes, "
            "CAST(to_json(hops) AS VARCHAR) AS hops, category, country FROM read_parquet(?)",
            [str(path / "events.parquet")],
        )
    else:
        raise CaseError("no events.jsonl or events.parquet beside assessment.json", str(path))
    # n: the position in (time, id) order, so that pages sort on one integer
    con.execute("CREATE TABLE ev AS SELECT row_number() OVER (ORDER BY time, id) AS n, * "
                "FROM ev0 ORDER BY time, id")
    con.execute("DROP TABLE ev0")
    return Store("out", path, con, document, records, OUT_TABLES)


def open_store(source: str | Path) -> Store:
    """A case store (a ``.duckdb`` file, or a case name) or an ``analyze --out`` directory.

    Raises:
        CaseError: neither, or unreadable.
    """
    p = Path(source)
    if p.is_dir():
        return _open_out(p)
    from slipcatch.case import case_path

    return _open_case(case_path(p))

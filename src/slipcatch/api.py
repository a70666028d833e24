"""The notebook surface: DataFrames in, DataFrames out (``../shared/contracts/API.md``).

::

    slipcatch.lookup(ips, at=None, *, pack=None) -> pandas.DataFrame
    slipcatch.enrich(df, ip="src_ip", time="time", *, prefix="") -> same kind of frame
    df.slipcatch.enrich(...)                                      # pandas accessor
    slipcatch.analyze(evidence, *, intel=(), persona_map=None, trusted_relays=(),
                      analyst=None, case=None) -> Result
    slipcatch.Case(name)  .ingest(paths)  .runs()  .events(where=None)

``lookup`` and ``enrich`` are vectorised over one ``IntelPack.lookup_arrays(...,
extras=True)`` pass (:mod:`slipcatch._lookupframe`): address texts are parsed from Arrow
buffers (IPv4 integers taken as they are), datetime columns read as int64 microseconds, and
every output column is built from the kernel's codes (dictionary-encoded: pandas
``category`` columns; ``sources`` a list of one-byte codes into the source names), with no
Python object per row on the way.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import pyarrow as pa

from slipcatch._lookupframe import LOOKUP_COLUMNS
from slipcatch.errors import CaseError, EvidenceError, IntelError, SlipcatchError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from slipcatch.intel import IntelPack
    from slipcatch.model import Assessment, Event, EvidenceFile, Rejection

__all__ = [
    "LOOKUP_COLUMNS",
    "Case",
    "CaseError",
    "EvidenceError",
    "IntelError",
    "Result",
    "SlipcatchError",
    "UsageError",
    "Verdict",
    "analyze",
    "demo_case",
    "enrich",
    "lookup",
]

#: Name under which a frame given to ``analyze`` appears as an evidence file.
FRAME_PATH = "<dataframe>"

Frame = TypeVar("Frame")


# -- the intel pack ------------------------------------------------------------------------


@cache
def _default_pack() -> IntelPack:
    from slipcatch.intel import load_pack

    return load_pack()


def _pack(pack: IntelPack | Sequence[str | Path] | str | Path | None) -> IntelPack:
    """``None``: the default pack (loaded once per process); an ``IntelPack`` as is; paths:
    the default pack with those extra sources."""
    from slipcatch.intel import IntelPack, load_pack

    if pack is None:
        return _default_pack()
    if isinstance(pack, IntelPack):
        return pack
    if isinstance(pack, str | Path):
        return load_pack([pack])
    return load_pack(list(pack))


def lookup(ips: Any, at: Any = None, *, pack: Any = None) -> pd.DataFrame:
    """What each address was at its time: one row per input, in input order.

    ``ips``: address texts (list, array, pandas/polars series, Arrow array), or IPv4
    addresses as unsigned integers (``3232235777`` is ``192.168.1.1``). ``at``: None
    (now), one time (``datetime``, ISO 8601 text, Unix epoch seconds) or a sequence aligned
    with ``ips``; naive times are UTC. ``pack``: an ``IntelPack``, extra intel source paths,
    or None for the default pack.

    Columns: ``ip``, ``at`` (UTC), ``category``, ``country``, ``asn`` (nullable integer),
    ``as_org``, ``prefix`` (the range that decided the category; null when only the
    geolocation layer knows the address), ``actor``, ``tor`` (a Tor
    exit list names the address then), ``projected`` (a fact behind the category comes from
    data dated after ``at``), ``sources`` (list of the sources that know the address).

    Raises:
        UsageError: an address or a time cannot be read (the message names the first one),
            or ``at`` is not aligned with ``ips``.
        IntelError: an extra intel source cannot be loaded.
    """
    import pandas as pd

    from slipcatch._lookupframe import address_column, address_keys, columns, time_micros
    from slipcatch._lookupframe import to_pandas as frame

    arr = address_column(ips)
    n = len(arr)
    us, time_ok = time_micros(at, n)
    if not time_ok.all():
        bad = int(np.flatnonzero(~time_ok)[0])
        raise UsageError(f"at[{bad}]: not an ISO 8601 time or Unix epoch")
    hi, lo, valid = address_keys(arr)
    if not valid.all():
        bad = int(np.flatnonzero(~valid)[0])
        raise UsageError(f"ips[{bad}]: not an IP address: {arr[bad].as_py()!r}")
    out = frame(columns(_pack(pack), hi, lo, valid, us, time_ok))
    out.insert(0, "at", pd.to_datetime(us.astype("datetime64[us]")).tz_localize(UTC))
    out.insert(0, "ip", arr.to_pandas())
    return out


# -- enrich ---------------------------------------------------------------------------------


def _columns_of(df: Any) -> list[str]:
    if isinstance(df, pa.Table):
        return list(df.column_names)
    return [str(c) for c in df.columns]


def enrich(df: Frame, ip: str = "src_ip", time: str = "time", *, prefix: str = "",
           pack: Any = None) -> Frame:
    """``df`` with the ``lookup`` columns (``prefix`` + category, country, asn, as_org,
    prefix, actor, tor, projected, sources) added for each row's address at its time.

    ``df`` may be a pandas or polars DataFrame or a pyarrow Table; the result is of the same
    kind (a new frame; ``df`` is not changed). The ``ip`` column holds address texts or IPv4
    addresses as unsigned integers; the ``time`` column datetimes (read as they are),
    ISO 8601 texts or Unix epoch seconds. Rows whose address or time cannot be read get
    nulls (``tor``/``projected`` false, no ``sources``).

    Column types: pandas ``category`` columns (Arrow dictionary columns for polars/Arrow) for
    category, country, as_org, prefix and actor; ``asn`` nullable int64; ``tor`` and
    ``projected`` bool; ``sources`` a list of source names per row (an Arrow
    ``list<dictionary<int8, string>>`` column, pandas ArrowDtype; polars
    ``list[cat]``).

    Raises:
        UsageError: ``ip`` or ``time`` is not a column, an added column would replace an
            existing one (use ``prefix``), or ``df`` is not a frame.
    """
    from slipcatch._lookupframe import (
        address_column,
        lookup_columns,
        time_micros,
        to_arrow,
        to_pandas,
    )

    names = _columns_of(df) if hasattr(df, "columns") or isinstance(df, pa.Table) else None
    if names is None:
        raise UsageError(f"enrich: need a pandas or polars DataFrame or an Arrow Table, "
                         f"not {type(df).__name__}")
    for col, what in ((ip, "ip"), (time, "time")):
        if col not in names:
            raise UsageError(f"enrich: no {what} column {col!r} (columns: {', '.join(names)})")
    clash = [prefix + c for c in LOOKUP_COLUMNS if prefix + c in names]
    if clash:
        raise UsageError(f"enrich: would replace column(s) {', '.join(clash)}; give a prefix")
    the_pack = _pack(pack)
    kind = "arrow" if isinstance(df, pa.Table) else type(df).__module__.split(".")[0]
    if kind not in ("arrow", "polars"):
        import pandas as pd

        if not isinstance(df, pd.DataFrame):
            raise UsageError(f"enrich: need a pandas or polars DataFrame or an Arrow Table, "
                             f"not {type(df).__name__}")
    frame: Any = df
    ips = frame.column(ip) if kind == "arrow" else frame[ip]
    times = frame.column(time) if kind == "arrow" else frame[time]
    n = frame.num_rows if kind == "arrow" else len(frame)
    us, time_ok = time_micros(times, n, time)
    cols = lookup_columns(the_pack, address_column(ips), us, time_ok)
    if kind == "arrow":
        out_t = frame
        added = to_arrow(cols, prefix)
        for name in added.column_names:
            out_t = out_t.append_column(name, added.column(name))
        return cast(Frame, out_t)
    if kind == "polars":
        import polars as pl

        extra = pl.from_arrow(to_arrow(cols, prefix))
        assert isinstance(extra, pl.DataFrame)
        return cast(Frame, frame.hstack(extra))
    import pandas as pd

    return cast(Frame, pd.concat([frame, to_pandas(cols, prefix, frame.index)], axis=1))


def _register_accessor() -> None:
    import pandas as pd

    if "slipcatch" in getattr(pd.DataFrame, "_accessors", set()):
        return

    @pd.api.extensions.register_dataframe_accessor("slipcatch")
    class _Accessor:
        """``df.slipcatch.enrich(ip="src_ip", time="time", prefix="")``."""

        def __init__(self, df: pd.DataFrame):
            self._df = df

        def enrich(self, ip: str = "src_ip", time: str = "time", *, prefix: str = "",
                   pack: Any = None) -> pd.DataFrame:
            return enrich(self._df, ip, time, prefix=prefix, pack=pack)

        def lookup(self, ip: str = "src_ip", time: str | None = None) -> pd.DataFrame:
            at = self._df[time] if time else None
            return lookup(self._df[ip], at)


# The accessor exists as soon as slipcatch.api is imported (any API name imports it).
_register_accessor()


# -- analyze --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """One persona's verdict: who (actor id, or None), how likely, how sure, in words."""

    persona: str
    actor: str | None
    probability: float
    likelihood: str
    confidence: str
    statement: str


def _frame_rows(frame: Any) -> pa.Table:
    """A pandas/polars frame or Arrow table as an Arrow table."""
    if isinstance(frame, pa.Table):
        return frame
    if type(frame).__module__.split(".")[0] == "polars":
        table = frame.to_arrow()
        assert isinstance(table, pa.Table)
        return table
    import pandas as pd

    if isinstance(frame, pd.DataFrame):
        return pa.Table.from_pandas(frame, preserve_index=False)
    raise UsageError(f"analyze: evidence must be paths or a frame, not {type(frame).__name__}")


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime):
        v = v if v.tzinfo else v.replace(tzinfo=UTC)
        return v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(v, float) and v != v:  # NaN: a missing value
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list | tuple | dict):
        return json.dumps(v, default=str, sort_keys=True)
    return v


def _write_frame(frame: Any, path: Path) -> int:
    """Write a table of events as JSON lines, one object a row (the ``table`` reader's input:
    the same column names, the same events, the same rejections with reasons)."""
    table = _frame_rows(frame)
    with path.open("w", encoding="utf-8") as fh:
        for batch in table.to_batches(max_chunksize=65_536):
            for row in batch.to_pylist():
                obj = {str(k): _json_value(v) for k, v in row.items()}
                fh.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    return int(table.num_rows)


def _split(evidence: Any) -> tuple[list[str | Path], list[Any]]:
    """Paths and frames in ``evidence`` (one of them, or a list mixing both)."""
    if isinstance(evidence, str | os.PathLike):
        return [Path(evidence)], []
    if _is_frame(evidence):
        return [], [evidence]
    paths: list[str | Path] = []
    frames: list[Any] = []
    for item in evidence:
        if isinstance(item, str | os.PathLike):
            paths.append(Path(item))
        elif _is_frame(item):
            frames.append(item)
        else:
            raise UsageError(f"analyze: evidence must be paths or frames, not "
                             f"{type(item).__name__}")
    return paths, frames


def _is_frame(x: Any) -> bool:
    if isinstance(x, pa.Table):
        return True
    mod = type(x).__module__.split(".")[0]
    return mod in ("pandas", "polars") and hasattr(x, "columns")


def _rename(path: str, names: Mapping[str, str]) -> str:
    return names.get(path, path)


def _relabel(a: Assessment, names: Mapping[str, str]) -> Assessment:
    """The assessment with the temporary files of frames named ``<dataframe>`` instead."""
    if not names:
        return a

    def ev(e: Event) -> Event:
        if e.evidence.path not in names:
            return e
        return dataclasses.replace(
            e, evidence=dataclasses.replace(e.evidence, path=names[e.evidence.path])
        )

    files: list[EvidenceFile] = [dataclasses.replace(f, path=_rename(f.path, names))
                                 for f in a.evidence]
    rejections: list[Rejection] = [dataclasses.replace(r, path=_rename(r.path, names))
                                   for r in a.rejections]
    observations = [dataclasses.replace(o, event=ev(o.event)) for o in a.observations]
    return dataclasses.replace(a, evidence=tuple(files), rejections=tuple(rejections),
                               observations=tuple(observations))


def analyze(
    evidence: Any = (),
    *,
    intel: Sequence[str | Path] = (),
    persona_map: str | Path | None = None,
    trusted_relays: Sequence[str] = (),
    analyst: str | Path | None = None,
    case: str | Path | None = None,
    out_dir: str | Path | None = None,
    cache_dir: Path | None = None,
    evidence_file: str | Path | None = None,
) -> Result:
    """Analyse evidence paths and/or tables of events; returns a :class:`Result`.

    ``evidence``: a path, a frame (pandas, polars or Arrow with columns time, src_ip,
    persona [, channel, id], any of the aliases of docs/formats.md), or a list of both.
    A frame is read by the same table reader as a CSV/JSON-lines file: each row is one event,
    or one rejection with its reason (``missing-time``, ``bad-address``...), and its account
    reconciles (records = events + rejected + duplicates); it appears as ``<dataframe>``
    (``<dataframe-2>``...) among the evidence files. ``analyst``: analyst evidence (YAML,
    docs/model.md); ``evidence_file`` is the same, under the pipeline's name. ``case``: ingest
    into that case store, analyse all it holds and record the run. ``out_dir``: also write
    the reports there.

    Raises:
        EvidenceError, IntelError, UsageError, CaseError: as ``pipeline.analyze``.
    """
    from slipcatch import pipeline

    if analyst is not None and evidence_file is not None:
        raise UsageError("analyze: give analyst= or evidence_file=, not both")
    paths, frames = _split(evidence)
    with tempfile.TemporaryDirectory(prefix="slipcatch-frames-") as tmp:
        names: dict[str, str] = {}
        for k, frame in enumerate(frames):
            path = Path(tmp) / f"frame-{k + 1}.jsonl"
            _write_frame(frame, path)
            label = FRAME_PATH if k == 0 else f"<dataframe-{k + 1}>"
            names[str(path)] = label
            paths.append(path)
        if case is not None and names:
            from slipcatch.case import Case as Store

            with Store.open(case) as store:
                store.ingest(paths, _read_options(persona_map, trusted_relays))
                store.rename_paths(names)
            paths = [p for p in paths if str(p) not in names]
        result = pipeline.analyze(
            paths, intel=intel, persona_map=persona_map, trusted_relays=trusted_relays,
            case=case, cache_dir=cache_dir, evidence_file=analyst or evidence_file,
        )
    assessment = _relabel(result.assessment, names)
    outputs: dict[str, Path] = {}
    res = Result(assessment, outputs)
    if out_dir is not None:
        outputs.update(res.write(out_dir))
    return res


def _read_options(persona_map: str | Path | None, trusted_relays: Sequence[str]) -> Any:
    from slipcatch.evidence import PersonaMap, ReadOptions

    return ReadOptions(
        trusted_relays=tuple(trusted_relays),
        persona_map=PersonaMap.load(persona_map) if persona_map else None,
    )


def _hypothesis_name(h: Any) -> str:
    if h.kind == "actor" and h.actor:
        return str(h.actor)
    if h.kind == "false_flag":
        return f"false-flag:{h.actor}" if h.actor else "false-flag"
    if h.kind == "unknown":
        return "unknown"
    return str(h.id)


class Result:
    """An analysis run's result: the ``model.Assessment`` and views of it as DataFrames."""

    def __init__(self, assessment: Assessment, outputs: dict[str, Path] | None = None):
        self.assessment = assessment
        #: Files written by ``analyze(out_dir=...)`` or ``write`` (key -> path).
        self.outputs: dict[str, Path] = outputs if outputs is not None else {}

    def __repr__(self) -> str:
        a = self.assessment
        return (f"<slipcatch.Result: {len(a.evidence)} files, {len(a.observations)} events, "
                f"{len(a.rejections)} rejected, {len(a.personas)} personas>")

    @property
    def verdicts(self) -> list[Verdict]:
        """One verdict per persona, attributed ones first, then by probability."""
        ranked = sorted(
            self.assessment.personas,
            key=lambda p: (p.verdict.actor is None, -p.verdict.probability, p.persona.name),
        )
        return [
            Verdict(p.persona.name, p.verdict.actor, p.verdict.probability,
                    p.verdict.likelihood, p.verdict.confidence, p.verdict.statement)
            for p in ranked
        ]

    def events(self) -> pd.DataFrame:
        """One row per event (time order): id, time, src_ip, persona, channel, path, locator,
        category (at the event's time), country, asn, as_org, prefix, actor, projected,
        origin_trust, entry_ip, slip (id of the slip it belongs to, if any)."""
        import pandas as pd

        slip_of = {e: s.id for p in self.assessment.personas for s in p.slips
                   for e in s.event_ids}
        persona_of = {e: p.persona.name for p in self.assessment.personas
                      for e in p.persona.event_ids}
        rows = []
        for o in self.assessment.observations:
            e, f = o.event, o.address
            rows.append({
                "id": e.id, "time": e.time, "src_ip": e.src_ip,
                "persona": persona_of.get(e.id, e.persona), "channel": e.channel,
                "path": e.evidence.path, "locator": e.evidence.locator,
                "category": str(f.category), "country": f.country, "asn": f.asn,
                "as_org": f.as_org, "prefix": f.prefix, "actor": f.actor,
                "projected": f.projected,
                "origin_trust": str(e.origin_trust) if e.origin_trust else None,
                "entry_ip": e.entry_ip, "slip": slip_of.get(e.id),
            })
        cols = ["id", "time", "src_ip", "persona", "channel", "path", "locator", "category",
                "country", "asn", "as_org", "prefix", "actor", "projected", "origin_trust",
                "entry_ip", "slip"]
        df = pd.DataFrame(rows, columns=cols)
        df["time"] = pd.to_datetime(df["time"], utc=True)
        df["asn"] = df["asn"].astype("Int64")
        df["projected"] = df["projected"].astype(bool)
        return df

    def slips(self) -> pd.DataFrame:
        """persona, ip, first_seen, last_seen, events, attributed_to, closed_after_seconds,
        category, country, asn, prefix, id."""
        import pandas as pd

        rows = [
            {"persona": p.persona.name, "ip": s.ip, "first_seen": s.first_seen,
             "last_seen": s.last_seen, "events": len(s.event_ids),
             "attributed_to": s.attributed_to, "closed_after_seconds": s.closed_after_seconds,
             "category": str(s.category), "country": s.country, "asn": s.asn,
             "prefix": s.prefix, "id": s.id}
            for p in self.assessment.personas for s in p.slips
        ]
        cols = ["persona", "ip", "first_seen", "last_seen", "events", "attributed_to",
                "closed_after_seconds", "category", "country", "asn", "prefix", "id"]
        df = pd.DataFrame(rows, columns=cols)
        for c in ("first_seen", "last_seen"):
            df[c] = pd.to_datetime(df[c], utc=True)
        df["asn"] = df["asn"].astype("Int64")
        df["events"] = df["events"].astype("int64")
        df["closed_after_seconds"] = df["closed_after_seconds"].astype("float64")
        return df.sort_values(["persona", "first_seen"], kind="stable").reset_index(drop=True)

    def personas(self) -> pd.DataFrame:
        """persona, events, cover_ratio, slips, actor, probability, likelihood, confidence."""
        import pandas as pd

        rows = [
            {"persona": p.persona.name, "events": len(p.persona.event_ids),
             "cover_ratio": p.persona.cover_ratio, "slips": len(p.slips),
             "actor": p.verdict.actor, "probability": p.verdict.probability,
             "likelihood": p.verdict.likelihood, "confidence": p.verdict.confidence}
            for p in self.assessment.personas
        ]
        cols = ["persona", "events", "cover_ratio", "slips", "actor", "probability",
                "likelihood", "confidence"]
        df = pd.DataFrame(rows, columns=cols)
        return df.sort_values(["probability", "persona"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)

    def lines(self) -> pd.DataFrame:
        """Evidence lines: persona, id, kind, summary, reliability, rule, diagnosticity,
        likelihoods (hypothesis -> likelihood), and one ``lr:<hypothesis>`` column per
        hypothesis with the line's likelihood ratio (Bayes factor) for it. Hypotheses are
        named by actor id (``lr:dprk-rgb``), ``unknown``, ``false-flag:<actor>`` or, for an
        analyst's hypothesis, its id."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for p in self.assessment.personas:
            names = {h.id: _hypothesis_name(h) for h in p.hypotheses}
            for line in p.evidence:
                row: dict[str, Any] = {
                    "persona": p.persona.name, "id": line.id, "kind": line.kind,
                    "summary": line.summary, "reliability": line.reliability,
                    "rule": line.rule, "diagnosticity": line.diagnosticity,
                    "likelihoods": {names.get(h, h): v for h, v in line.likelihoods.items()},
                }
                for h, v in line.bayes_factors.items():
                    row[f"lr:{names.get(h, h)}"] = v
                rows.append(row)
        base = ["persona", "id", "kind", "summary", "reliability", "rule", "diagnosticity",
                "likelihoods"]
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(columns=base)
        return df[base + sorted(c for c in df.columns if c not in base)]

    def to_json(self) -> str:
        """The ``assessment.json`` document, as written by ``slipcatch analyze``."""
        from slipcatch.report import assessment_document
        from slipcatch.report.json_doc import dumps_document

        return dumps_document(assessment_document(self.assessment))

    def to_html(self) -> str:
        """The self-contained HTML report (``report.html``; no network)."""
        from slipcatch.report import render_html

        return render_html(self.assessment)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the same files as ``slipcatch analyze --out out_dir``; returns key -> path."""
        from slipcatch.report import write_reports

        written = write_reports(self.assessment, Path(out_dir))
        self.outputs.update(written)
        return written

    def _repr_html_(self) -> str:
        from slipcatch._notebook import result_html

        return result_html(self)


def demo_case() -> dict[str, Any]:
    """The bundled demo case's inputs, as keyword arguments of ``analyze``:
    ``analyze(**slipcatch.api.demo_case())`` is ``slipcatch demo``. Keys: evidence (paths),
    intel (paths), persona_map, analyst, trusted_relays, and title (pop it first)."""
    from slipcatch.cli import demo_case_dir

    root = demo_case_dir()
    m = json.loads((root / "case.json").read_text(encoding="utf-8"))
    return {
        "evidence": [root / p for p in m["evidence"]],
        "intel": [root / p for p in m.get("intel", [])],
        "persona_map": root / m["persona_map"] if m.get("persona_map") else None,
        "analyst": root / m["evidence_file"] if m.get("evidence_file") else None,
        "trusted_relays": list(m.get("trusted_relays", [])),
        "title": str(m.get("title", "")),
    }


# -- case stores ----------------------------------------------------------------------------


class Case:
    """A case store (DuckDB) by name or path, created if missing (see docs/case-store.md).

    Each method opens the store for its own work and closes it again, so a notebook does not
    hold the database's lock between cells.
    """

    def __init__(self, name: str | Path, *, create: bool = True):
        from slipcatch.case import Case as Store
        from slipcatch.case import case_path

        self.path = case_path(name)
        self.name = str(name)
        if create or self.path.exists():
            Store.open(self.path, create=create).close()
        else:
            raise CaseError("no such case", source=str(self.path))

    def __repr__(self) -> str:
        return f"<slipcatch.Case {self.path}>"

    def _open(self) -> Any:
        from slipcatch.case import Case as Store

        return Store.open(self.path, create=False)

    def ingest(self, paths: str | Path | Iterable[str | Path], *,
               persona_map: str | Path | None = None,
               trusted_relays: Sequence[str] = ()) -> pd.DataFrame:
        """Ingest evidence files (idempotent); one row per file: path, sha256, format,
        records, events, rejected, duplicates, already_present."""
        import pandas as pd

        items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        with self._open() as store:
            done = store.ingest(items, _read_options(persona_map, trusted_relays))
        return pd.DataFrame(
            [{"path": d.file.path, "sha256": d.file.sha256, "format": d.file.format,
              "records": d.file.records, "events": d.file.events,
              "rejected": d.file.rejected, "duplicates": d.file.duplicates,
              "already_present": d.already_present} for d in done],
            columns=["path", "sha256", "format", "records", "events", "rejected",
                     "duplicates", "already_present"],
        )

    def analyze(self, evidence: Any = (), **kwargs: Any) -> Result:
        """``slipcatch.analyze(evidence, case=this case, ...)``."""
        return analyze(evidence, case=self.path, **kwargs)

    def runs(self) -> pd.DataFrame:
        """One row per recorded run, oldest first: run_id, generated_at, pack_id,
        model_version, sources (intel source names), verdicts (one statement each)."""
        import pandas as pd

        with self._open() as store:
            rows = store.run_summaries()
        df = pd.DataFrame(rows, columns=["run_id", "generated_at", "pack_id", "model_version",
                                         "sources", "verdicts"])
        df["generated_at"] = pd.to_datetime(df["generated_at"], utc=True)
        return df

    def events(self, where: str | None = None) -> pd.DataFrame:
        """The case's events (time order), with the category and facts of the latest run when
        there is one. ``where``: an SQL condition over these columns (DuckDB syntax), e.g.
        ``"category = 'actor'"``.

        Raises:
            CaseError: the condition is not valid SQL over the columns.
        """
        with self._open() as store:
            frame: pd.DataFrame = store.events_frame(where)
        return frame

    def load(self, run_id: str | None = None) -> Result:
        """A recorded run (the latest by default) as a ``Result``."""
        with self._open() as store:
            return Result(store.load_run(run_id))

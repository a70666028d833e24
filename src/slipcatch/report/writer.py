"""Writing the report files into an output directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

import pyarrow as pa

from slipcatch.errors import UsageError
from slipcatch.model import Assessment

from ._view import ReportView, build_view
from .event_files import (
    EventSource,
    enriched_table,
    output_batches,
    output_lines,
    write_event_files,
)
from .html import _render as _render_html
from .json_doc import _document, _event_lines, dumps_document
from .markdown import _render as _render_markdown
from .misp import _render as _render_misp
from .options import ReportOptions
from .stix import _render as _render_stix

#: Keys of the mapping write_reports returns, with the file each names.
FILES: dict[str, str] = {
    "assessment": "assessment.json",
    "events": "events.jsonl",
    "events_parquet": "events.parquet",
    "markdown": "report.md",
    "html": "report.html",
    "stix": "stix.json",
    "misp": "misp-event.json",
}


def file_mode() -> int:
    """The mode a new report file gets: 0666 less the process's umask (read by setting it and
    putting it back), as ``open`` would give; ``mkstemp`` alone makes 0600."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _write(path: Path, chunks: Iterable[str | bytes]) -> None:
    """Write text atomically (temp file + rename) so a reader never sees half a report.

    Lone surrogates (from evidence bytes that were not UTF-8) are written as JSON-style
    ``\\udcXX`` escapes instead of failing the whole report.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())  # reports follow the umask
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk if isinstance(chunk, bytes)
                         else chunk.encode("utf-8", "backslashreplace"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _event_files(
    view: ReportView, stage: Path, wanted: Collection[str], events: EventSource | None
) -> None:
    """Write the staged events.jsonl and/or events.parquet (the ``FILES`` keys ``events`` and
    ``events_parquet`` in ``wanted``).

    From ``events`` (the full enriched table, streamed batch by batch) when given; else from
    the assessment's observations: events.jsonl by the per-event writer
    (:func:`.json_doc.event_record`), events.parquet from the same observations as a table.
    """
    jsonl = stage / FILES["events"] if "events" in wanted else None
    parquet = stage / FILES["events_parquet"] if "events_parquet" in wanted else None
    if events is None:
        if jsonl is not None:
            _write(jsonl, (line + "\n" for line in _event_lines(view)))
        if parquet is None:
            return
        jsonl = None
        batches: Iterable[pa.RecordBatch | tuple[pa.RecordBatch, bytes]] = output_batches(
            enriched_table(view.observations).to_batches(), view)
    else:  # the engine's table: every event, converted on two threads
        batches = output_lines(events(), view, lines=jsonl is not None)
    with open(jsonl, "wb") if jsonl is not None else contextlib.nullcontext() as fh:
        write_event_files(batches, fh, parquet)
    for path in (jsonl, parquet):
        if path is not None:
            os.chmod(path, file_mode())


def write_reports(
    assessment: Assessment,
    out_dir: Path,
    only: Collection[str] | None = None,
    options: ReportOptions | None = None,
    extra: Mapping[str, Path] | None = None,
    events: EventSource | None = None,
) -> dict[str, Path]:
    """Write assessment.json, events.jsonl, events.parquet, report.md, report.html, stix.json
    (STIX 2.1 bundle) and misp-event.json (MISP event) into ``out_dir`` — or only the ``FILES``
    keys in ``only``.

    The directory is created if needed. The outputs are written as a set: each is rendered
    into a staging directory inside ``out_dir`` first, and only when all are written are they
    renamed into place, so a failure leaves the previous reports as they were (no mix of new
    and stale files). ``extra``: files already written elsewhere in ``out_dir`` (final name ->
    staged path, e.g. rejections.jsonl) moved into place with the set.

    ``events``: a source of the full enriched event table (a callable returning a
    ``pyarrow.RecordBatchReader``, or any iterable of record batches, of
    ``eventtable.ENRICHED_SCHEMA`` rows in (time, id) order, optionally with
    ``event_files.ADDRESS_DETAIL_FIELDS``; called once), for assessments whose observations
    hold only the assessed personas' events: events.jsonl and events.parquet are then written
    from it batch by batch (memory stays at one batch). Without it both come from
    ``assessment.observations``. ``options.events`` (``jsonl``, ``parquet``, ``both``) drops
    the event file not asked for.

    Returns the paths written, keyed ``assessment``, ``events``, ``events_parquet``,
    ``markdown``, ``html``, ``stix``, ``misp`` (and each ``extra`` name without its suffix).
    ``options`` (title, TLP, what to share, whether local paths may leave, event files) default
    to ``ReportOptions()``; ``assessment.json`` and the event files' content do not depend on
    them.

    Raises:
        UsageError: ``out_dir`` cannot be created or written (names the path and the cause),
            or ``only`` names an unknown output.
    """
    out = Path(out_dir)
    wanted = set(FILES) if only is None else set(only)
    if wanted - set(FILES):
        raise UsageError(f"unknown report output(s): {', '.join(sorted(wanted - set(FILES)))}")
    opts = options or ReportOptions()
    if opts.events == "jsonl":
        wanted.discard("events_parquet")
    elif opts.events == "parquet":
        wanted.discard("events")
    view = build_view(assessment)
    paths = {key: out / name for key, name in FILES.items() if key in wanted}
    renderers: dict[str, Callable[[], Iterable[str]]] = {
        "assessment": lambda: [dumps_document(_document(view))],
        "markdown": lambda: [_render_markdown(view, opts)],
        "html": lambda: [_render_html(view, opts)],
        "stix": lambda: [_render_stix(view, opts)],
        "misp": lambda: [_render_misp(view, opts)],
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".slipcatch-staging-", dir=out))
        try:
            for key, path in paths.items():
                if key in renderers:
                    _write(stage / path.name, renderers[key]())
            if wanted & {"events", "events_parquet"}:
                _event_files(view, stage, wanted, events)
            for path in list(paths.values()):  # all rendered and written: swap the set in
                os.replace(stage / path.name, path)
            for name, staged in (extra or {}).items():
                os.replace(staged, out / name)
                paths[name.partition(".")[0]] = out / name
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write reports: {exc.strerror or exc}", source=str(exc.filename or out)
        ) from exc
    return paths

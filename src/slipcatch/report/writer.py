"""Writing the report files into an output directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from slipcatch.errors import UsageError
from slipcatch.model import Assessment

from ._view import build_view
from .html import _render as _render_html
from .json_doc import _document, _event_lines, dumps_document
from .markdown import _render as _render_markdown
from .misp import _render as _render_misp
from .stix import _render as _render_stix

#: Keys of the mapping write_reports returns, with the file each names.
FILES: dict[str, str] = {
    "assessment": "assessment.json",
    "events": "events.jsonl",
    "markdown": "report.md",
    "html": "report.html",
    "stix": "stix.json",
    "misp": "misp-event.json",
}


def _write(path: Path, chunks: Iterable[str]) -> None:
    """Write text atomically (temp file + rename) so a reader never sees half a report.

    Lone surrogates (from evidence bytes that were not UTF-8) are written as JSON-style
    ``\\udcXX`` escapes instead of failing the whole report.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk.encode("utf-8", "backslashreplace"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(assessment: Assessment, out_dir: Path) -> dict[str, Path]:
    """Write assessment.json, events.jsonl, report.md, report.html, stix.json (STIX 2.1 bundle)
    and misp-event.json (MISP event) into ``out_dir``.

    The directory is created if needed; existing report files are replaced atomically.
    Returns the paths keyed ``assessment``, ``events``, ``markdown``, ``html``, ``stix``,
    ``misp``.

    Raises:
        UsageError: ``out_dir`` cannot be created or written (names the path and the cause).
    """
    out = Path(out_dir)
    view = build_view(assessment)
    paths = {key: out / name for key, name in FILES.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write(paths["assessment"], [dumps_document(_document(view))])
        _write(paths["events"], (line + "\n" for line in _event_lines(view)))
        _write(paths["markdown"], [_render_markdown(view)])
        _write(paths["html"], [_render_html(view)])
        _write(paths["stix"], [_render_stix(view)])
        _write(paths["misp"], [_render_misp(view)])
    except OSError as exc:
        raise UsageError(
            f"cannot write reports: {exc.strerror or exc}", source=str(exc.filename or out)
        ) from exc
    return paths

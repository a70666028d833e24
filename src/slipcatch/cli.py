"""The command line: the only place that prints and exits.

Exit status: 0 when the command ran (unusable records are counted as rejections, not fatal);
2 for a usage error or an unreadable path (one line on stderr, no traceback); 1 for an
internal fault (one line; the traceback only with SLIPCATCH_DEBUG=1). `simulate` exits 0 when
the calibration run completed, whether or not its targets were met: the report says which
("targets met" or "TARGETS MISSED"; `passed` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from slipcatch.errors import SlipcatchError, UsageError
from slipcatch.model import AddressFacts, Assessment, Rejection

if TYPE_CHECKING:
    from slipcatch._progress import Progress
    from slipcatch.case import Case, FileIngest
    from slipcatch.evidence import ReadOptions
    from slipcatch.intel import IntelPack
    from slipcatch.pipeline import ReadStatus
    from slipcatch.report import ReportOptions

__all__ = ["main"]

DEFAULT_OUT = "slipcatch-out"
#: `export --format` names -> the report outputs they write.
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {
    "html": ("html",),
    "md": ("markdown",),
    "json": ("assessment", "events", "events_parquet"),
    "stix": ("stix",),
    "misp": ("misp",),
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _parse_time(text: str) -> datetime:
    raw = text.strip()
    try:
        if raw.isdigit():
            return datetime.fromtimestamp(int(raw), tz=UTC)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise UsageError(f"--at: not an ISO 8601 time or Unix epoch: {text!r}") from exc
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _add_report_flags(p: argparse.ArgumentParser) -> None:
    """--title, --tlp, --share, --keep-paths, --events: options of the written reports
    (docs/sharing.md, docs/report.md)."""
    p.add_argument("--title", help="report title (default: from the case, else generic)")
    p.add_argument(
        "--tlp",
        choices=["clear", "green", "amber", "amber+strict", "red"],
        help="TLP 2.0 marking of every report and export",
    )
    p.add_argument(
        "--share",
        choices=["attributed", "slips", "all"],
        default="attributed",
        help="personas in the STIX and MISP exports: attributed (default: actor verdict above "
        "roughly even chance), slips (also every persona with a slip) or all",
    )
    p.add_argument(
        "--keep-paths",
        action="store_true",
        help="keep local evidence paths in the exports (default: file names and SHA-256)",
    )
    p.add_argument(
        "--events",
        choices=["jsonl", "parquet", "both"],
        default="both",
        help="event files to write: events.jsonl, events.parquet or both (default)",
    )


def _report_options(args: argparse.Namespace, case_name: str | None) -> ReportOptions:
    from slipcatch.report import ReportOptions

    title = args.title
    if not title and case_name:
        title = f"slipcatch assessment: {case_name}"
    return ReportOptions(
        title=title, tlp=args.tlp, share=args.share, keep_paths=args.keep_paths,
        events=args.events,
    )


def _case_name(case: str | None) -> str | None:
    return Path(case).stem if case else None


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="slipcatch",
        description="Who is behind hostile activity, judging by where it came from on the "
        "network, and how sure can we be? See README.md and docs/.",
    )
    from slipcatch import __version__

    parser.add_argument("--version", action="version", version=f"slipcatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    an = sub.add_parser("analyze", help="analyse evidence files or directories")
    an.add_argument(
        "evidence", nargs="*", help="evidence files or directories (optional with --case)"
    )
    an.add_argument("--out", default=DEFAULT_OUT, help="output directory (default ./slipcatch-out)")
    an.add_argument("--intel", action="append", default=[], help="extra intel source (repeatable)")
    an.add_argument("--persona-map", help="CSV identity,persona or YAML persona -> identities")
    an.add_argument(
        "--trusted-relay", action="append", default=[], help="receiving-side mail host or CIDR"
    )
    an.add_argument(
        "--case",
        help="ingest the evidence into this case store (DuckDB), analyse everything the case "
        "holds, and record the run there",
    )
    an.add_argument(
        "--follow-outside",
        action="store_true",
        help="follow symbolic links that lead out of the evidence directories given "
        "(by default each is skipped and counted as outside-tree)",
    )
    _add_year_flags(an)
    an.add_argument(
        "--evidence-file",
        help="analyst evidence (YAML): code reuse, language, tips, with Admiralty codes and "
        "likelihood ratios; optional analyst hypotheses and priors (docs/model.md)",
    )
    an.add_argument(
        "--columns",
        metavar="ROLE=COL,...",
        help="read tables no reader knows through a column mapping: "
        "time=COL,src_ip=COL[,persona=COL][,channel=COL] (JSON: dotted paths such as "
        "source.ip); a file holding some of the columns but not all is an error",
    )
    an.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="local: this machine (default); spark: parsing, enrichment and slip finding as "
        "PySpark jobs (docs/spark.md)",
    )
    an.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master (default local[2])",
    )
    an.add_argument(
        "--timings",
        metavar="FILE",
        help="write the seconds each stage took (read, enrich, spill, findings, observe, "
        "assess, outputs) to FILE as JSON",
    )
    an.add_argument(
        "--persona",
        action="append",
        default=[],
        metavar="NAME",
        help="assess this persona one by one whatever its findings (repeatable; in large logs "
        "only personas with findings are, the rest is summarised)",
    )
    _add_report_flags(an)
    an.add_argument(
        "--fresh",
        action="store_true",
        help="with --case: do not reuse the intel sources, persona map, trusted relays and "
        "analyst evidence recorded with the case's latest run",
    )
    an.add_argument("--quiet", action="store_true", help="no progress on standard error")

    sim = sub.add_parser(
        "simulate",
        help="calibrate the analytic model on simulated cases (docs/calibration.md)",
        description="Calibrate the analytic model on simulated cases (docs/calibration.md). "
        "Exits 0 when the run completed, whether or not the targets were met (the report says "
        "which: 'targets met' or 'TARGETS MISSED'; 'passed' in the JSON); 2 for a usage error. "
        "A progress line goes to stderr when it is a terminal, unless --quiet.",
    )
    sim.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    sim.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    sim.add_argument(
        "--seeds",
        default=None,
        help="comma-separated seeds or ranges (7,101-112): --cases from each, scored together "
        "(overrides --seed)",
    )
    sim.add_argument("--json", action="store_true", help="print JSON")
    sim.add_argument(
        "--no-analyst-evidence",
        action="store_true",
        help="the same cases without their simulated analyst evidence (network and timing "
        "evidence only)",
    )
    sim.add_argument(
        "--quiet", action="store_true", help="no progress line on stderr (none in pipes either)"
    )

    demo = sub.add_parser("demo", help="analyse the bundled demo case (offline)")
    demo.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    _add_report_flags(demo)

    intel = sub.add_parser("intel", help="the intelligence pack")
    isub = intel.add_subparsers(dest="intel_command", required=True, parser_class=_Parser)
    info = isub.add_parser("info", help="sources, versions, dates and record counts")
    info.add_argument("--intel", action="append", default=[], help="extra intel source")
    info.add_argument("--json", action="store_true", help="print JSON")
    lookup = isub.add_parser("lookup", help="every fact known about addresses at a time")
    lookup.add_argument(
        "ip", nargs="+",
        help="addresses or CIDR prefixes; '-' reads lines 'ADDRESS[,TIME]' from standard input",
    )
    lookup.add_argument("--at", help="ISO 8601 time or Unix epoch (default: now)")
    lookup.add_argument("--intel", action="append", default=[], help="extra intel source")
    lookup.add_argument("--json", action="store_true", help="print JSON")
    for p in (info, lookup):
        p.add_argument("--pack", help="use this pack directory (from 'intel build')")
        p.add_argument("--quiet", action="store_true", help="no progress on standard error")
    build = isub.add_parser("build", help="compile intel sources into a pack directory")
    build.add_argument("sources", nargs="*", help="extra intel sources (files, dirs, archives)")
    build.add_argument("--out", default="slipcatch-intel-pack", help="pack directory to write")
    build.add_argument("--json", action="store_true", help="print JSON")
    idiff = isub.add_parser("diff", help="what changed between two pack directories")
    idiff.add_argument("pack_a")
    idiff.add_argument("pack_b")
    idiff.add_argument("--ip", action="append", default=[], help="address to compare")
    idiff.add_argument("--at", help="ISO 8601 time or Unix epoch (default: now)")
    idiff.add_argument("--json", action="store_true", help="print JSON")

    upd = isub.add_parser("update", help="fetch dated layers from the public sources and "
                          "build a pack (docs/intel.md, 'intel update')")
    upd.add_argument("kinds", nargs="*", metavar="SOURCE_KIND",
                     help="tor-exits, tor-consensus, rir, routing, warninglists "
                          "(default: all but tor-consensus)")
    upd.add_argument("--since", help="first month (YYYY-MM; default: this month)")
    upd.add_argument("--until", help="last month (YYYY-MM; default: --since)")
    upd.add_argument("--out", default="slipcatch-intel-update",
                     help="directory for downloads/ and pack/")
    upd.add_argument("--base", action="append", default=[], metavar="NAME=URL",
                     help="base URL of collector, rir, routeviews or misp")

    _add_case_commands(sub)
    return parser


def _add_case_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The case-store commands: case, export, ingest and serve."""
    case = sub.add_parser("case", help="case stores")
    csub = case.add_subparsers(dest="case_command", required=True, parser_class=_Parser)
    cinfo = csub.add_parser("info", help="files, counts, rejections and runs of a case")
    cinfo.add_argument("case", help="case name (in the cases directory) or path")
    csub.add_parser(
        "list", help="cases in the cases directory ($SLIPCATCH_CASES, else "
        "~/.local/share/slipcatch/cases)"
    )
    ccreate = csub.add_parser("create", help="create an empty case store")
    ccreate.add_argument("case")

    exp = sub.add_parser("export", help="write a report of a case's recorded run")
    exp.add_argument("case")
    exp.add_argument(
        "--format",
        action="append",
        choices=sorted(EXPORT_FORMATS),
        required=True,
        help="html, md, json (assessment.json, events.jsonl, events.parquet), stix or misp; "
        "repeatable",
    )
    exp.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    exp.add_argument("--run", help="run id (default: the latest run)")
    _add_report_flags(exp)

    ing = sub.add_parser("ingest", help="add evidence to a case store (idempotent)")
    ing.add_argument("case")
    ing.add_argument("evidence", nargs="+", help="evidence files or directories")
    ing.add_argument("--persona-map", help="CSV identity,persona or YAML persona -> identities")
    ing.add_argument(
        "--trusted-relay", action="append", default=[], help="receiving-side mail host or CIDR"
    )
    ing.add_argument(
        "--follow-outside",
        action="store_true",
        help="follow symbolic links that lead out of the evidence directories given",
    )
    _add_year_flags(ing)
    ing.add_argument(
        "--columns",
        metavar="ROLE=COL,...",
        help="column mapping for the tables of this ingest (see analyze --columns); the case "
        "keeps each file as it was read, so files of later ingests may have their own",
    )
    ing.add_argument("--quiet", action="store_true", help="no progress on standard error")

    srv = sub.add_parser(
        "serve", help="browse a case (or an analyze --out directory) in a local web workbench"
    )
    srv.add_argument(
        "source", nargs="?", default=".", metavar="CASE | OUT_DIR",
        help="a case store, or an analyze --out directory (default: the current directory)",
    )
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")


def _add_year_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--year",
        type=_year,
        help="year of syslog stamps that carry none (Nov 24 09:00:01); default: the file's "
        "name with --year-from-name, a dated line in the file, else its modification time",
    )
    p.add_argument(
        "--year-from-name",
        action="store_true",
        help="take the year of year-less syslog stamps from the file's name (auth.log-2015) "
        "when it states one",
    )


def _year(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1970 <= int(text) <= 2099):
        raise argparse.ArgumentTypeError(f"not a year from 1970 to 2099: {text!r}")
    return int(text)


def _verdict_lines(assessment: Assessment) -> list[str]:
    lines = []
    ranked = sorted(
        assessment.personas,
        key=lambda p: (p.verdict.actor is None, -p.verdict.probability, p.persona.name),
    )
    for pa in ranked:
        v = pa.verdict
        if v.actor is None and not pa.slips:
            continue
        lines.append(f"- {v.statement} Confidence: {v.confidence}.")
    if not lines:
        lines.append("- No persona's activity could be attributed to a known actor.")
    return lines


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _safe(text: str) -> str:
    """Evidence text made harmless for a terminal: control characters (ESC, BEL, CR, C1,
    bidi overrides) shown as ``\\xNN``/``\\uNNNN`` escapes, lone surrogates as U+FFFD."""
    text = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
        else f"\\u{ord(m.group()):04x}",
        text,
    )
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _say(text: str, file: TextIO | None = None) -> None:
    print(_safe(text), file=file or sys.stdout)


#: Formats of files nothing could be read from (``_ingest``: no reader, a skipped entry).
_UNUSABLE = frozenset({"unknown", "skipped", "empty"})
#: Files without events listed on the console (a directory of thousands of unreadable files
#: must not bury the summary).
_NO_EVENT_SHOWN = 50


def _no_event_lines(assessment: Assessment) -> list[str]:
    """One line per file that yielded no event: its format and why (the most frequent
    rejection reason among the sampled rejections, with its detail when it is the file's only
    rejection)."""
    by_file: dict[str, list[Rejection]] = {}
    for r in assessment.rejections:
        by_file.setdefault(r.path, []).append(r)
    lines = []
    for f in assessment.evidence:
        if f.events:
            continue
        seen = by_file.get(f.path, [])
        if f.records == 0:
            why = "empty file"
        elif f.duplicates == f.records:
            why = f"all {f.records} records already read from an earlier file"
        elif seen:
            top, n = Counter(r.reason for r in seen).most_common(1)[0]
            why = f"{top}: {seen[0].detail}" if f.rejected == 1 else (
                f"{f.rejected} records rejected, mostly {top} ({n} of {len(seen)} shown)")
        else:
            why = f"{f.rejected} records rejected"
        lines.append(f"  {f.path} [{f.format}]: {why}")
    return lines


def _print_run(assessment: Assessment, outputs: dict[str, Path]) -> int:
    """Print the run's summary; the exit status: 0, or 2 when no file could be read at all
    (every input unrecognised, skipped or empty: docs/cli.md)."""
    total = sum(f.records for f in assessment.evidence)
    rejected = sum(f.rejected for f in assessment.evidence)
    _say(
        f"slipcatch: {len(assessment.evidence)} files, {total} records, "
        f"{len(assessment.observations)} events, {rejected} rejected, "
        f"{len(assessment.personas)} personas"
    )
    empty = _no_event_lines(assessment)
    if empty:
        print(f"Files that yielded no event ({len(empty)}):")
        for line in empty[:_NO_EVENT_SHOWN]:
            _say(line)
        if len(empty) > _NO_EVENT_SHOWN:
            print(f"  ... and {len(empty) - _NO_EVENT_SHOWN} more (every file's account: "
                  "assessment.json, the report's evidence accounting)")
    from slipcatch.report._coverage import coverage_warnings

    for warning in coverage_warnings(assessment):
        print(f"warning: {warning}")
    unusable = bool(assessment.evidence) and all(
        f.format.split("+")[0] in _UNUSABLE for f in assessment.evidence
    )
    if not assessment.observations:
        what = (
            "no input file is in a format slipcatch reads" if unusable
            else "the files were read but no record names a source address and time"
        )
        _say(f"nothing to analyse: 0 events from {len(assessment.evidence)} files ({what})")
    else:
        print("Verdicts:")
        for line in _verdict_lines(assessment):
            _say(line)
    for name in sorted(outputs):
        _say(f"{name}: {outputs[name]}")
    for warning in assessment.warnings:
        _say(f"slipcatch: warning: {warning}", sys.stderr)
    return 2 if unusable and not assessment.observations else 0


def tor_text(status: str | None, days: int | None) -> str:
    """``listed`` / ``not listed`` / ``no Tor data``, with the nearest listing in words."""
    text = {"listed": "listed (tor)", "not-listed": "not listed",
            "no-data": "no Tor data"}.get(status or "", "not looked up")
    if status != "listed" and days is not None:
        if days > 0:
            text += f"; listed {days} days later"
        elif days < 0:
            text += f"; listed {-days} days earlier"
        else:
            text += "; listed the same day"
    return text


def _facts_json(f: AddressFacts) -> dict[str, object]:
    """Every field of the answer and of each fact behind it (the model's own encoding)."""
    from slipcatch import codec

    encoded: dict[str, object] = codec.encode(f)
    return encoded


def _case_inputs(args: argparse.Namespace) -> None:
    """``analyze --case``: reuse what the case's latest run was given for every input not
    given now (unless ``--fresh``), and say which inputs were used."""
    from slipcatch.case import Case, case_path

    path = case_path(args.case)
    recorded = None
    if not args.fresh and path.exists():
        with Case.open(path, create=False) as store:
            recorded = store.latest_inputs()
    given = {
        "intel": args.intel, "persona_map": args.persona_map,
        "evidence_file": args.evidence_file, "trusted_relays": args.trusted_relay,
    }
    flags = {"intel": "--intel", "persona_map": "--persona-map",
             "evidence_file": "--evidence-file", "trusted_relays": "--trusted-relay"}
    for key, value in given.items():
        if value:
            shown = value if isinstance(value, list) else [value]
            print(f"case inputs: {flags[key]} as given: {', '.join(map(str, shown))}")
        elif recorded and recorded.get(key):
            old = recorded[key]
            setattr(args, key if key != "trusted_relays" else "trusted_relay", old)
            shown = old if isinstance(old, list) else [old]
            print(f"case inputs: {flags[key]} reused from run {recorded['run_id']}: "
                  f"{', '.join(map(str, shown))}")
        else:
            print(f"case inputs: {flags[key]}: none")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from slipcatch._progress import Progress, pack_needs_build
    from slipcatch.pipeline import analyze

    if not args.evidence and not args.case:
        raise UsageError("analyze: give evidence paths, or --case NAME, or both")
    if args.spark_master and args.engine != "spark":
        raise UsageError("--spark-master needs --engine spark")
    _check_names(args)
    progress = Progress(args.quiet)
    if args.case:
        _case_inputs(args)
        if args.evidence:
            _ingest_with_progress(args.case, args.evidence, _options(args), progress)
    if pack_needs_build():
        progress.step("building the intel pack (first use: about a minute)...")
    progress.step("analysing...")
    timings: dict[str, float] = {}
    result = analyze(
        args.evidence,
        intel=args.intel,
        persona_map=args.persona_map,
        trusted_relays=args.trusted_relay,
        out_dir=Path(args.out),
        case=args.case,
        evidence_file=args.evidence_file,
        report_options=_report_options(args, _case_name(args.case)),
        follow_outside=args.follow_outside,
        year=args.year,
        year_from_name=args.year_from_name,
        columns=_columns(args),
        engine=args.engine,
        spark_master=args.spark_master,
        assess_personas=args.persona,
        timings=timings,
        progress=_event_progress(progress),
    )
    progress.done()
    if args.timings:
        _write_timings(Path(args.timings), timings)
    return _print_run(result.assessment, result.outputs)


def _event_progress(progress: Progress) -> Callable[[int, ReadStatus | None], None] | None:
    """A callback showing the reading's progress on the status line (None when silent)."""
    if not progress.enabled:
        return None
    start = time.monotonic()

    def show(events: int, status: ReadStatus | None) -> None:
        progress.step(_progress_text(events, status, time.monotonic() - start))

    return show


def _progress_text(events: int, status: ReadStatus | None, elapsed: float) -> str:
    """``analyse``'s status line: files, records, bytes, the rate and the time left.

    The time left assumes the bytes still to read go at the rate so far (compressed files
    count their bytes on disk); it is shown once a second has passed and some bytes are read.
    """
    rate = events / max(elapsed, 1e-9)
    if status is None:
        return f"analysing: {events:,} events read ({rate:,.0f}/s)"
    text = (
        f"analysing: file {min(status.files_done + 1, status.files_total)}/{status.files_total}"
        f", {status.records:,} records, {_bytes_of(status.bytes_read, status.bytes_total)}"
        f", {rate:,.0f} events/s"
    )
    if elapsed >= 1 and 0 < status.bytes_read < status.bytes_total:
        left = elapsed * (status.bytes_total - status.bytes_read) / status.bytes_read
        text += f", about {_duration(left)} left"
    return text


def _bytes_of(done: int, total: int) -> str:
    """``done of total`` in the unit that suits ``total`` (KiB, MiB or GiB)."""
    unit, scale = next(
        (u, 2**p) for u, p in (("GiB", 30), ("MiB", 20), ("KiB", 10)) if total >= 2**p or u == "KiB"
    )
    return f"{done / scale:,.1f} of {total / scale:,.1f} {unit}"


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _write_timings(path: Path, timings: dict[str, float]) -> None:
    try:
        path.write_text(json.dumps({k: round(v, 6) for k, v in sorted(timings.items())},
                                   indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write timings: {exc.strerror or exc}", source=str(path)) from exc


def _options(args: argparse.Namespace) -> ReadOptions:
    from slipcatch.evidence import PersonaMap, ReadOptions

    return ReadOptions(
        trusted_relays=tuple(args.trusted_relay),
        persona_map=PersonaMap.load(args.persona_map) if args.persona_map else None,
        follow_outside=getattr(args, "follow_outside", False),
        year=getattr(args, "year", None),
        year_from_name=getattr(args, "year_from_name", False),
        columns=_columns(args),
    )


def _columns(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    from slipcatch.evidence.table import parse_columns

    text = getattr(args, "columns", None)
    return parse_columns(text) if text else ()


def _ingest_with_progress(
    case: str, paths: Sequence[str], options: ReadOptions, progress: Progress,
    report: bool = False,
) -> list[FileIngest]:
    """Ingest into a case, with a status line per file when stderr is a terminal; with
    ``report``, print each file's account as soon as it is committed."""
    from slipcatch.case import Case
    from slipcatch.evidence import walk

    total = len(list(walk(paths, follow_outside=options.follow_outside)))
    done: list[FileIngest] = []
    with Case.open(case) as store:
        for item in store.iter_ingest(paths, options):
            done.append(item)
            if report:
                progress.clear()
                f = item.file
                state = "already in case" if item.already_present else "ingested"
                _say(
                    f"{state}: {f.path} ({f.format}) {f.records} records = {f.events} events "
                    f"+ {f.rejected} rejected + {f.duplicates} duplicates"
                )
            progress.step(f"ingest {len(done)}/{total} files: {item.file.path}")
    progress.done()
    return done


def _check_names(args: argparse.Namespace) -> None:
    """Empty names are usage errors, not the working directory (``--out ''``, ``case ''``)."""
    if getattr(args, "out", None) is not None and not args.out.strip():
        raise UsageError(f"{args.command}: --out must name a directory, not ''")
    if getattr(args, "case", None) is not None and not str(args.case).strip():
        raise UsageError(f"{args.command}: the case name must not be empty")


def _cmd_simulate(args: argparse.Namespace, progress: bool | None = None) -> int:
    """Run and print the calibration report. Exit 0 whenever the run completed, targets met or
    missed (the output says which: "targets met" / "TARGETS MISSED", JSON ``passed``).

    ``progress``: show the progress line on stderr (None: when stderr is a terminal and not
    ``--quiet``)."""
    from slipcatch.calibration import ProgressLine, parse_seeds, render, run, run_seeds

    if args.cases < 1:
        raise UsageError(f"simulate: --cases must be at least 1, not {args.cases}")
    if progress is None:
        progress = not args.quiet and sys.stderr.isatty()
    line = ProgressLine(sys.stderr) if progress else None
    analyst_evidence = not args.no_analyst_evidence
    if args.seeds is not None:
        try:
            seeds = parse_seeds(args.seeds)
        except ValueError:
            raise UsageError(
                f"simulate: --seeds must be integers separated by commas, not {args.seeds!r}"
            ) from None
        report = run_seeds(args.cases, seeds, analyst_evidence, progress=line)
    else:
        report = run(args.cases, args.seed, analyst_evidence, progress=line)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        print(render(report))
    return 0


def demo_case_dir() -> Path:
    """Where the bundled demo case lives inside the installed package."""
    return Path(str(resources.files("slipcatch") / "data" / "demo"))


def _cmd_demo(args: argparse.Namespace) -> int:
    from slipcatch.pipeline import analyze

    _check_names(args)
    root = demo_case_dir()
    manifest = json.loads((root / "case.json").read_text(encoding="utf-8"))
    result = analyze(
        [root / p for p in manifest["evidence"]],
        intel=[root / p for p in manifest.get("intel", [])],
        persona_map=root / manifest["persona_map"] if manifest.get("persona_map") else None,
        evidence_file=root / manifest["evidence_file"] if manifest.get("evidence_file") else None,
        trusted_relays=manifest.get("trusted_relays", []),
        out_dir=Path(args.out),
        report_options=_report_options(args, manifest.get("title")),
    )
    print(f"Demo case: {manifest.get('title', 'bundled demo')}")
    _print_run(result.assessment, result.outputs)
    return 0


def _cmd_intel_build(args: argparse.Namespace) -> int:
    from slipcatch.intel import load_pack, open_pack, save_pack

    path = save_pack(load_pack(args.sources), Path(args.out))
    pack = open_pack(path)  # what was written is what is reported
    info = pack.describe()
    if args.json:
        print(json.dumps({"path": str(path), **info}, indent=2, sort_keys=True, default=str))
        return 0
    print(f"pack {pack.pack_id}")
    print(f"  written to {path}: {len(info['sources'])} sources, {info['facts']} facts, "
          f"{info['actors']} actors, {info['rejections']} rejected records")
    return 0


def _cmd_intel_update(args: argparse.Namespace) -> int:
    from slipcatch.intel.update import DEFAULT_KINDS, update

    bases = {}
    for item in args.base:
        name, sep, url = item.partition("=")
        if not sep or not url:
            raise UsageError(f"--base wants NAME=URL: {item!r}")
        bases[name] = url
    r = update(Path(args.out), args.kinds or DEFAULT_KINDS, args.since, args.until, bases)
    print(f"pack {r.pack_id}")
    print(f"  written to {r.pack_dir}: {len(r.files)} files ({r.fetched} fetched, "
          f"{r.resumed} resumed, {r.reused} reused from {Path(args.out) / 'downloads'})")
    for url in r.missing:
        print(f"  not on the server (HTTP 404), skipped: {url}")
    return 0


def _cmd_intel_diff(args: argparse.Namespace) -> int:
    from slipcatch.intel import diff_packs, open_pack

    at = _parse_time(args.at) if args.at else datetime.now(tz=UTC).replace(microsecond=0)
    a, b = open_pack(Path(args.pack_a)), open_pack(Path(args.pack_b))
    try:
        d = diff_packs(a, b, args.ip, at)
    except ValueError as exc:
        raise UsageError(f"--ip: {exc}") from exc
    if args.json:
        print(json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False))
        return 0
    print(f"a {d['a']}\nb {d['b']}" + ("  (identical)" if d["same"] else ""))
    for s in d["sources"]["added"]:
        print(f"  + {s['name']} version {s['version']}: {s['records']} records")
    for s in d["sources"]["removed"]:
        print(f"  - {s['name']} version {s['version']}: {s['records']} records")
    for c in d["sources"]["changed"]:
        print(f"  ~ {c['name']}: version {c['from']['version']} -> {c['to']['version']}, "
              f"{c['from']['records']} -> {c['to']['records']} records")
    for x in d["addresses"]:
        if not x["changed"]:
            print(f"  {x['ip']} at {x['time']}: unchanged")
            continue
        parts = [f"{k} {v['from']} -> {v['to']}" for k, v in sorted(x["fields"].items())]
        print(f"  {x['ip']} at {x['time']}: " + ("; ".join(parts) or "facts changed"))
        for f in x["facts_added"]:
            print(f"    + {f}")
        for f in x["facts_removed"]:
            print(f"    - {f}")
    return 0


def _cmd_intel(args: argparse.Namespace) -> int:
    from slipcatch.intel import load_pack, open_pack

    if args.intel_command == "build":
        return _cmd_intel_build(args)
    if args.intel_command == "diff":
        return _cmd_intel_diff(args)
    if args.intel_command == "update":
        return _cmd_intel_update(args)
    from slipcatch._progress import Progress, pack_needs_build

    if args.pack and args.intel:
        raise UsageError("--pack and --intel cannot be combined (build a pack with both)")
    progress = Progress(args.quiet)
    if not args.pack and pack_needs_build():
        progress.step("building the intel pack (first use: about a minute)...")
    pack = open_pack(Path(args.pack)) if args.pack else load_pack(args.intel)
    progress.done()
    if args.intel_command == "info":
        info = pack.describe()
        if args.json:
            print(json.dumps(info, indent=2, sort_keys=True, default=str))
            return 0
        print(f"pack {pack.pack_id}")
        for s in pack.sources:
            span = ""
            if s.valid_from or s.valid_to:
                lo = s.valid_from.date().isoformat() if s.valid_from else "…"
                hi = s.valid_to.date().isoformat() if s.valid_to else "…"
                span = f" [{lo} – {hi}]"
            print(f"  {s.name} ({s.kind}) version {s.version}: {s.records} records{span}")
        print(f"  actors: {len(pack.actors)}")
        for c in info["coverage"]:
            span = (f"{c['from'][:10]} – {c['to'][:10]}" if c["from"] else "no dated data")
            days = f", {c['snapshot_days']} snapshot days" if "snapshot_days" in c else ""
            print(f"  coverage {c['layer']}: {span}{days}")
        return 0
    return _cmd_intel_lookup(args, pack)


def _cmd_intel_lookup(args: argparse.Namespace, pack: IntelPack) -> int:
    at = _parse_time(args.at) if args.at else datetime.now(tz=UTC).replace(microsecond=0)
    queries = _lookup_queries(args.ip, at)
    prefixes = [(q, t) for q, t in queries if "/" in q]
    if prefixes:
        from slipcatch._prefix import prefix_facts, render_prefix

        if len(prefixes) != len(queries):
            raise UsageError("intel lookup: give addresses or CIDR prefixes, not both")
        found = [prefix_facts(pack, q, t) for q, t in prefixes]
        if args.json:
            print(json.dumps(found, indent=2, ensure_ascii=False, sort_keys=True))
        else:
            for item in found:
                print(render_prefix(item))
        return 0
    results = []
    for k, (ip, when) in enumerate(queries):
        try:
            results.append(pack.lookup_one(ip, when))
        except ValueError as exc:
            where = f" (standard input line {k + 1})" if args.ip == ["-"] else ""
            raise UsageError(f"not an IP address: {ip!r}{where}") from exc
    if args.json:
        print(json.dumps([_facts_json(f) for f in results], indent=2, ensure_ascii=False))
        return 0
    for f in results:
        where = ", ".join(x for x in (f.country, f.as_org, f.prefix) if x)
        actor = f" actor={f.actor}" if f.actor else ""
        print(f"{f.ip} at {f.time.isoformat()}: {f.category}{actor} ({where})")
        print(f"    Tor exit history: {tor_text(f.tor, f.tor_nearest_listing_days)}")
        for x in f.facts:
            said = [str(x.category) if x.category else None, x.range, x.country,
                    f"AS{x.asn}" if x.asn else None, x.label]
            if x.valid_from or x.valid_to:
                lo = x.valid_from.date().isoformat() if x.valid_from else "…"
                hi = x.valid_to.date().isoformat() if x.valid_to else "…"
                said.append(f"valid {lo} – {hi}")
            print(f"    {x.source}: " + ", ".join(p for p in said if p))
    return 0


def _lookup_queries(items: Sequence[str], at: datetime) -> list[tuple[str, datetime]]:
    """(address or CIDR, time) pairs: the arguments, or with ``-`` the lines of standard
    input (``ADDRESS`` or ``ADDRESS,TIME``; blank lines and ``#`` comments skipped)."""
    if list(items) != ["-"]:
        if "-" in items:
            raise UsageError("intel lookup: '-' (standard input) cannot be mixed with addresses")
        return [(ip, at) for ip in items]
    out = []
    for number, line in enumerate(sys.stdin, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        ip, _, when = text.partition(",")
        if ip.strip().lower() in ("ip", "address", "src_ip") and number == 1:
            continue  # a header line
        try:
            t = _parse_time(when) if when.strip() else at
        except UsageError:
            raise UsageError(
                f"standard input line {number}: not an ISO 8601 time or Unix epoch: {when!r}"
            ) from None
        out.append((ip.strip(), t))
    if not out:
        raise UsageError("intel lookup: no addresses on standard input")
    return out


def _cmd_case_list() -> int:
    from slipcatch.case import Case, cases_dir, list_cases

    root = cases_dir()
    found = list_cases()
    if not found:
        print(f"no cases in {root}")
        return 0
    print(f"cases in {root}:")
    for path in found:
        try:
            with Case.open(path, create=False) as store:
                counts = store.counts()
                runs = store.runs()
        except SlipcatchError as exc:
            print(f"  {path.stem}: unreadable ({exc.reason})")
            continue
        last = runs[-1][1].isoformat() if runs else "never"
        print(f"  {path.stem}: {counts['evidence_files']} files, {counts['events']} events, "
              f"{counts['runs']} runs (latest {last})")
    return 0


def _print_runs(store: Case) -> None:
    runs = store.run_summaries()
    if not runs:
        print("  runs: none (slipcatch analyze --case)")
    for r in runs:
        print(f"  run {r['run_id']} at {r['generated_at'].isoformat()} pack {r['pack_id'][:12]}")
        intel = r["intel"]
        if intel is None:
            print("    intel: not recorded")
        else:
            print("    intel: " + (", ".join(intel) if intel else "default pack only"))
        extra = [s for s in r["sources"] if s]
        print(f"    sources: {len(extra)} ({', '.join(extra[:8])}"
              + (", ..." if len(extra) > 8 else "") + ")")
        for v in r["verdicts"] or ["No persona's activity could be attributed."]:
            print(f"    verdict: {v}")


def _cmd_case(args: argparse.Namespace) -> int:
    from slipcatch.case import Case, case_path

    _check_names(args)
    if args.case_command == "list":
        return _cmd_case_list()
    path = case_path(args.case)
    if args.case_command == "create":
        if path.exists():
            raise UsageError(f"case already exists: {path}")
        Case.open(path).close()
        print(f"created case {path}")
        return 0
    with Case.open(path, create=False) as store:
        counts = store.counts()
        print(f"case {path}")
        for table, n in counts.items():
            print(f"  {table}: {n}")
        for reason, n in store.rejections_by_reason():
            print(f"  rejected ({reason}): {n}")
        for f in store.files():
            _say(
                f"  file {f.path} sha256 {f.sha256[:16]}… {f.format}: {f.records} records = "
                f"{f.events} events + {f.rejected} rejected + {f.duplicates} duplicates"
            )
        _print_runs(store)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from slipcatch.case import Case
    from slipcatch.report import write_reports

    _check_names(args)
    with Case.open(args.case, create=False) as store:
        assessment = store.load_run(args.run)
    only = [key for name in args.format for key in EXPORT_FORMATS[name]]
    outputs = write_reports(
        assessment, Path(args.out), only=only, options=_report_options(args, _case_name(args.case))
    )
    for name in sorted(outputs):
        print(f"{name}: {outputs[name]}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from slipcatch._progress import Progress

    _check_names(args)
    options = _options(args)
    _ingest_with_progress(args.case, args.evidence, options, Progress(args.quiet), report=True)
    for warning in options.persona_map.warnings() if options.persona_map else ():
        _say(f"slipcatch: warning: {warning}", sys.stderr)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from slipcatch.web import serve

    # The one line of output: the URL with its token (flushed: a script may be waiting for it).
    serve(args.source, host=args.host, port=args.port, echo=lambda url: print(url, flush=True))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``slipcatch`` console script; returns the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        handler = {
            "analyze": _cmd_analyze,
            "demo": _cmd_demo,
            "intel": _cmd_intel,
            "case": _cmd_case,
            "ingest": _cmd_ingest,
            "export": _cmd_export,
            "simulate": _cmd_simulate,
            "serve": _cmd_serve,
        }[args.command]
        return handler(args)
    except SlipcatchError as exc:
        _say(f"slipcatch: error: {exc}", sys.stderr)
        return 2
    except SystemExit as exc:  # --version and --help have printed and are done
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("slipcatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`slipcatch ... | head`): not a fault of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # the edge of the program: report, never show a raw traceback
        if os.environ.get("SLIPCATCH_DEBUG"):
            traceback.print_exc()
        print(f"slipcatch: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

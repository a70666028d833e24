"""CIDR lists: plain text (one CIDR or address a line) or CSV ``cidr,category[,label,...]``.

Text lists carry no category of their own. Optional header comments give one::

    # category: proxy          (one of the address categories; default: unknown)
    # label: Example proxies
    # valid_from: 2014-01-01   (ISO 8601; default unbounded)
    # valid_to: 2015-01-01
    # version: 2014-11

Tor bulk exit lists (``torbulkexitlist`` in the file name, e.g. the X4B mirror) are plain
CIDR lists whose date is only in the file name (``...-2021-06-30.txt``) or in a
``# date:`` comment; they are read as a Tor exit snapshot of that day (see ``tordnsel``).

A line that is not a CIDR, or a CIDR with host bits set, is a counted rejection with its
line number; it is never re-interpreted.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.addr import parse_cidr, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.intel.sources.timeparse import parse_time
from slipcatch.intel.sources.tordnsel import TorSnapshot
from slipcatch.model import Category, Fact, Rejection, SourceInfo

__all__ = ["is_tor_bulk", "read", "read_tor_bulk", "sniff", "sniff_tor_bulk"]

_HEADER = re.compile(r"^#\s*(category|label|valid_from|valid_to|version|date)\s*:\s*(.*?)\s*$")
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
_CIDR_LIKE = re.compile(rb"^[0-9A-Fa-f:.]+(/\d{1,3})?$")
_CSV_HEAD = re.compile(rb"^\s*cidr\s*,\s*category\b", re.IGNORECASE)


def _candidate_lines(head: bytes) -> list[bytes]:
    lines = [ln.split(b"#", 1)[0].strip() for ln in head.splitlines()[:200]]
    return [ln for ln in lines if ln]


def sniff(head: bytes, name: str) -> float:
    """CSV with a ``cidr,category`` header, or text whose lines are mostly CIDRs."""
    if _CSV_HEAD.match(head):
        return 0.9
    lines = _candidate_lines(head)
    if not lines:
        return 0.3 if head.lstrip().startswith(b"#") and b"category:" in head else 0.0
    good = sum(1 for ln in lines if _CIDR_LIKE.match(ln) and (b"." in ln or b":" in ln))
    return 0.6 if good / len(lines) >= 0.8 else 0.0


def is_tor_bulk(name: str) -> bool:
    return "torbulkexitlist" in name.lower()


def sniff_tor_bulk(head: bytes, name: str) -> float:
    """A CIDR text list named like a Tor bulk exit list."""
    return 0.97 if is_tor_bulk(name) and sniff(head, name) > 0 else 0.0


def _headers(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _HEADER.match(line.strip())
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2)
    return out


def _cidr(text: str, path: str, sha: str, locator: str, out: Loaded) -> tuple[int, int] | None:
    try:
        return parse_cidr(text)
    except ValueError as exc:
        reason = "host-bits" if "host bits" in str(exc) else "bad-cidr"
        out.rejections.append(Rejection(path, sha, locator, reason, f"{text[:80]!r}"))
        return None


def _text_records(text: str) -> list[tuple[int, str]]:
    recs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if body:
            recs.append((lineno, body))
    return recs


def read_tor_bulk(path: Path, raw: bytes) -> TorSnapshot:
    """Read a Tor bulk exit list as a snapshot of the day in its name or ``# date:``.

    Raises:
        IntelError: no date is known: an undated exit list cannot be placed in time, and
            using it for every date would call addresses Tor exits years before they were.
    """
    sha = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8", "replace")
    heads = _headers(text)
    date_text = heads.get("date")
    if not date_text:
        m = _DATE_IN_NAME.search(path.name)
        date_text = m.group(1) if m else None
    if not date_text:
        raise IntelError(
            "Tor bulk exit list without a date (put YYYY-MM-DD in the name or '# date:')",
            str(path),
        )
    try:
        day = parse_time(date_text)
    except ValueError as exc:
        raise IntelError(f"bad date {date_text!r}: {exc}", str(path)) from exc
    assert day is not None
    day = day.replace(hour=0, minute=0, second=0, microsecond=0)
    # only the day is known: observed over the whole day; absent "as of" its middle
    snap = TorSnapshot("torbulkexitlist", str(path), sha, day + timedelta(hours=12))
    sink = Loaded()
    for lineno, body in _text_records(text):
        snap.nodes += 1
        rng = _cidr(body, str(path), sha, f"line {lineno}", sink)
        if rng is None:
            continue
        snap.exit_addresses += 1
        snap.add(rng[0], rng[1], day, None)
        snap.add(rng[0], rng[1], day + timedelta(days=1), None)
    snap.rejections.extend(sink.rejections)
    return snap


def _overlaps(rows: list[tuple[int, int, int]]) -> dict[int, int]:
    """Lines whose range overlaps a range of an earlier line -> that earlier line.

    One list with one category and window has no reason to list an address twice; an
    overlap is a broken or mis-merged list, so the later line is refused, not re-read.
    """
    out: dict[int, int] = {}
    kept: list[tuple[int, int, int]] = []  # sorted by first, non-overlapping
    for first, last, lineno in sorted(rows, key=lambda r: r[2]):
        k = bisect.bisect_right(kept, (first, 1 << 129, 0))
        hit = None
        if k > 0 and kept[k - 1][1] >= first:
            hit = kept[k - 1][2]
        elif k < len(kept) and kept[k][0] <= last:
            hit = kept[k][2]
        if hit is not None:
            out[lineno] = hit
            continue
        kept.insert(k, (first, last, lineno))
    return out


def _category(text: str) -> Category:
    return Category(text.strip().lower())


def read(path: Path, raw: bytes) -> Loaded:
    """Read a text or CSV CIDR list.

    Raises:
        IntelError: a header comment has a bad category or time (the whole list would be
            mis-read, so this is not a per-line rejection).
    """
    sha = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8", "replace")
    source = f"cidr-list:{path.name}"
    out = Loaded()
    records = 0
    if _CSV_HEAD.match(raw):
        reader = csv.reader(io.StringIO(text))
        header = [h.strip().lower() for h in next(reader)]
        allowed = ["cidr", "category", "label", "valid_from", "valid_to"]
        if header != allowed[: len(header)]:
            raise IntelError(f"CSV header must be {','.join(allowed)} (prefix), got {header}",
                             str(path), "line 1")
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            records += 1
            loc = f"line {reader.line_num}"
            if len(row) != len(header):
                out.rejections.append(
                    Rejection(str(path), sha, loc, "bad-row",
                              f"{len(row)} fields, header has {len(header)}")
                )
                continue
            cells = dict(zip(header, (c.strip() for c in row), strict=True))
            rng = _cidr(cells["cidr"], str(path), sha, loc, out)
            if rng is None:
                continue
            try:
                cat = _category(cells["category"])
            except ValueError:
                out.rejections.append(
                    Rejection(str(path), sha, loc, "bad-category", repr(cells["category"][:40]))
                )
                continue
            try:
                vfrom = parse_time(cells.get("valid_from"))
                vto = parse_time(cells.get("valid_to"))
                if vfrom is not None and vto is not None and vfrom >= vto:
                    raise ValueError("valid_from is not before valid_to")
            except ValueError as exc:
                out.rejections.append(Rejection(str(path), sha, loc, "bad-time", str(exc)))
                continue
            out.facts.append(
                FactRow(rng[0], rng[1], Fact(
                    range=range_text(*rng), category=cat, source=source,
                    label=cells.get("label") or None, valid_from=vfrom, valid_to=vto,
                ))
            )
        version = ""
    else:
        heads = _headers(text)
        try:
            cat = _category(heads["category"]) if "category" in heads else Category.UNKNOWN
        except ValueError as exc:
            raise IntelError(f"bad '# category:' {heads['category']!r}", str(path)) from exc
        try:
            vfrom = parse_time(heads.get("valid_from"))
            vto = parse_time(heads.get("valid_to"))
        except ValueError as exc:
            raise IntelError(f"bad '# valid_from/valid_to:' header: {exc}", str(path)) from exc
        if vfrom is not None and vto is not None and vfrom >= vto:
            raise IntelError("'# valid_from:' is not before '# valid_to:'", str(path))
        note = None if "category" in heads else "plain CIDR list without '# category:'"
        parsed: list[tuple[int, int, int]] = []
        for lineno, body in _text_records(text):
            records += 1
            rng = _cidr(body, str(path), sha, f"line {lineno}", out)
            if rng is not None:
                parsed.append((rng[0], rng[1], lineno))
        overlapping = _overlaps(parsed)
        for first, last, lineno in parsed:
            if lineno in overlapping:
                out.rejections.append(Rejection(
                    str(path), sha, f"line {lineno}", "overlap",
                    f"{range_text(first, last)} overlaps line {overlapping[lineno]}"))
                continue
            rng = (first, last)
            out.facts.append(
                FactRow(rng[0], rng[1], Fact(
                    range=range_text(*rng), category=cat, source=source,
                    label=heads.get("label") or None, valid_from=vfrom, valid_to=vto, note=note,
                ))
            )
        version = heads.get("version", "")
    froms = [r.fact.valid_from for r in out.facts]
    tos = [r.fact.valid_to for r in out.facts]
    out.sources.append(
        SourceInfo(
            name=source,
            kind="cidr-list",
            version=version or f"sha256:{sha[:12]}",
            records=records,
            valid_from=None if not froms or None in froms else min(f for f in froms if f),
            valid_to=None if not tos or None in tos else max(t for t in tos if t),
            sha256=sha,
        )
    )
    return out



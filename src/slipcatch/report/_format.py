"""Formatting shared by every report: times, numbers, and text made safe to show.

Evidence text is hostile: it may hold markup, lone surrogates (from bytes that were not UTF-8)
or bidirectional controls that reorder what a reader sees. JSON keeps such text exactly (JSON
escapes it); the human-readable reports show it through :func:`clean_text` and, for Markdown,
:func:`md`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from slipcatch.model import utc

#: Decimals kept for every float in the machine-readable outputs.
DECIMALS = 6

# Controls (except tab and newline), lone surrogates, and the bidi embedding / override /
# isolate marks that could make a hostile name display as something else ("Trojan Source").
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_WHITESPACE_CONTROLS = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]")

# Characters with a meaning in CommonMark/GFM inline text (``$`` for GitHub math); escaped with
# a backslash. ``<``, ``>`` and ``&`` become entities so no viewer renders them as HTML.
_MD_PUNCT = frozenset("\\`*_[]|~#$!")


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 UTC with ``Z``; seconds unless the time has a fractional part."""
    if dt is None:
        return None
    t = utc(dt)
    spec = "microseconds" if t.microsecond else "seconds"
    return t.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def num(x: float | None) -> float | None:
    """A float rounded to :data:`DECIMALS`, ``-0.0`` folded to ``0.0``; None if not finite."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), DECIMALS) + 0.0


def clean_text(text: str) -> str:
    """Replace characters that must not reach a reader's screen with U+FFFD."""
    return _UNSAFE.sub("\ufffd", text)


def md(value: object) -> str:
    """Text made inert for Markdown inline context (table cells, list items, headings).

    Line breaks become spaces (they would end a table row); markup characters are escaped.
    """
    text = clean_text(_WHITESPACE_CONTROLS.sub(" ", str(value)))
    out: list[str] = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def pct(p: float | None) -> str:
    """A probability as a percentage with one decimal (``93.0%``)."""
    if p is None or not math.isfinite(p):
        return "n/a"
    return f"{p * 100:.1f}%"


def decimal(x: float | None) -> str:
    """A likelihood or prior, up to four significant digits."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.4g}"


def ratio(x: float | None) -> str:
    """A likelihood ratio: ``∞`` when unbounded, three significant digits otherwise; whole
    with thousands separators from 1,000 to below a billion, powers of ten beyond
    (``3.66e+15``: a grouped line of hundreds of episodes would print a hundred digits)."""
    if x is None:
        return "n/a"
    if math.isinf(x):
        return "∞"
    if 1000 <= x < 1e9:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def duration(seconds: float | None) -> str:
    """Seconds, with a readable breakdown for longer spans (``210 s (3 min 30 s)``)."""
    if seconds is None or not math.isfinite(seconds):
        return "not closed"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v} {u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if v]
    return f"{s} s ({' '.join(parts)})"


_NATURAL = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``line 2`` before ``line 12``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _NATURAL.split(text) if part
    )

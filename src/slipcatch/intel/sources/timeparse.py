"""Strict date/time reading for intel sources (all times UTC)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

__all__ = ["date_in_name", "parse_time"]


def parse_time(value: object) -> datetime | None:
    """A UTC datetime from an ISO 8601 date/time text, a ``date`` or a ``datetime``.

    Empty text and None give None (unbounded). Naive times are UTC.

    Raises:
        ValueError: anything else.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    raise ValueError(f"not a date or time: {value!r}")


_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


def date_in_name(name: str) -> datetime | None:
    """The first plausible ``YYYY-MM-DD`` or ``YYYYMMDD`` date in a file name (UTC midnight).

    A year alone (``...-2020.tsv``) is not a date: it returns None.
    """
    for m in _DATE_IN_NAME.finditer(name):
        y, mo, d = (int(g) for g in m.groups())
        if 1980 <= y <= 2100:
            try:
                return datetime(y, mo, d, tzinfo=UTC)
            except ValueError:
                continue
    return None

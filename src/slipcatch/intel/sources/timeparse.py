"""Strict date/time reading for intel sources (all times UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["parse_time"]


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

"""One row of ``slipcatch.lookup``/``enrich`` checked against the pack's own per-address
answer (``IntelPack.lookup``), column by column."""

from __future__ import annotations

from typing import Any

import pandas as pd

from slipcatch.model import AddressFacts, Category


def assert_row_matches(row: Any, facts: AddressFacts) -> None:
    """``row`` (a pandas row of the lookup columns) says what ``facts`` say."""
    assert row["category"] == str(facts.category)
    assert (None if pd.isna(row["country"]) else row["country"]) == facts.country
    assert (None if pd.isna(row["asn"]) else int(row["asn"])) == facts.asn
    assert (None if pd.isna(row["as_org"]) else row["as_org"]) == facts.as_org
    assert (None if pd.isna(row["actor"]) else row["actor"]) == facts.actor
    # prefix: the range that decided the category; the pack's answer falls back to the
    # geolocation range, which the vectorised path leaves null
    assert pd.isna(row["prefix"]) or row["prefix"] == facts.prefix
    assert bool(row["projected"]) == facts.projected
    assert list(row["sources"]) == sorted({x.source for x in facts.facts})
    if "tor" in row:
        assert bool(row["tor"]) == any(x.category == Category.TOR for x in facts.facts)

"""Stable import path for the lookup kernel and its indexes.

The code lives in :mod:`slipcatch.intel.index` (fact table, partitions),
:mod:`slipcatch.intel.fastindex` (the /24 and /64 fast-path tables) and
:mod:`slipcatch.intel.kernel` (the queries); this module re-exports their public names so
that ``from slipcatch.intel.lookup import ...`` keeps working. The kernel's tuning constants
(``_FAST_MIN``, ``_CHUNK``, ``_SORT_THRESHOLD``) are read from :mod:`slipcatch.intel.kernel`:
set them there.
"""

from __future__ import annotations

from slipcatch.intel.fastindex import Answers, Fast4, Fast6, build_fast4, build_fast6
from slipcatch.intel.index import (
    CATEGORY_ORDER,
    NO_CATEGORY,
    CombinedPartition,
    FactPartition,
    FactTable,
    GeoPartition,
    build_fact_partitions,
    build_geo_partition,
    combine,
    concat_tables,
    key16,
    key16_plus_one,
    precedence_rank,
    priorities,
    sorted_unique,
)
from slipcatch.intel.kernel import LookupArrays, lookup_arrays, split_keys

__all__ = [
    "CATEGORY_ORDER",
    "NO_CATEGORY",
    "Answers",
    "CombinedPartition",
    "FactPartition",
    "FactTable",
    "Fast4",
    "Fast6",
    "GeoPartition",
    "LookupArrays",
    "build_fact_partitions",
    "build_fast4",
    "build_fast6",
    "build_geo_partition",
    "combine",
    "concat_tables",
    "key16",
    "key16_plus_one",
    "lookup_arrays",
    "precedence_rank",
    "priorities",
    "sorted_unique",
    "split_keys",
]

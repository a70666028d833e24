"""slipcatch: who is behind hostile activity, judging by where it came from, and how sure we are.

The public API (``../shared/contracts/API.md``, docs/api.md) is pandas-first::

    slipcatch.lookup(ips, at=None)            -> DataFrame: what each address was then
    slipcatch.enrich(df, ip=..., time=...)    -> the frame with those columns added
    slipcatch.analyze(evidence, intel=...)    -> Result (.verdicts, .events(), .slips() ...)
    slipcatch.Case(name)                      -> a case store (.ingest, .runs, .events)

Errors are ``slipcatch.SlipcatchError`` and its subclasses. Names are imported lazily so that
``import slipcatch.model`` stays light for readers and tests.

Everything else is reached through the stage packages (evidence, intel, analysis, report)
and the command line (``slipcatch.cli``); ``slipcatch.calibration`` is the test bench.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipcatch._version import __version__
from slipcatch.errors import CaseError, EvidenceError, IntelError, SlipcatchError, UsageError

__all__ = [
    "Case",
    "CaseError",
    "EvidenceError",
    "IntelError",
    "Result",
    "RunResult",
    "SlipcatchError",
    "UsageError",
    "Verdict",
    "__version__",
    "analyze",
    "enrich",
    "lookup",
]

if TYPE_CHECKING:
    from slipcatch.api import Case, Result, Verdict, analyze, enrich, lookup
    from slipcatch.pipeline import RunResult

_API = frozenset({"Case", "Result", "Verdict", "analyze", "enrich", "lookup"})


def __getattr__(name: str) -> Any:
    if name in _API:
        from slipcatch import api

        return getattr(api, name)
    if name == "RunResult":
        from slipcatch import pipeline

        return pipeline.RunResult
    raise AttributeError(f"module 'slipcatch' has no attribute {name!r}")


def _accessor_if_pandas() -> None:
    # `df.slipcatch.enrich(...)` works as soon as both are imported: here when pandas came
    # first, else when the API is first used (slipcatch.api registers the accessor).
    import sys

    if "pandas" in sys.modules:
        from slipcatch import api  # noqa: F401


_accessor_if_pandas()

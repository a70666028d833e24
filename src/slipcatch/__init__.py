"""slipcatch: who is behind hostile activity, judging by where it came from, and how sure we are.

The public API is small: ``slipcatch.analyze(paths, ...)`` runs the whole pipeline and returns a
``RunResult`` (the ``model.Assessment`` and the outputs written); ``slipcatch.Case`` opens a case
store. Everything else is reached through the stage packages (evidence, intel, analysis,
report) and the command line (``slipcatch.cli``); ``slipcatch.calibration`` is the test bench.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipcatch._version import __version__

__all__ = ["Case", "RunResult", "__version__", "analyze"]

if TYPE_CHECKING:
    from slipcatch.case import Case
    from slipcatch.pipeline import RunResult, analyze


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import slipcatch.model` stays light for readers and tests.
    if name in ("analyze", "RunResult"):
        from slipcatch import pipeline

        return getattr(pipeline, name)
    if name == "Case":
        from slipcatch.case import Case

        return Case
    raise AttributeError(f"module 'slipcatch' has no attribute {name!r}")

"""Analysis: from observations to personas, slips, evidence lines, hypotheses and a verdict.

The analytic model (every rule, number, cap and criterion) is described in docs/model.md.

Public surface::

    assess(observations, actors, priors=None) -> list[PersonaAssessment]
    Priors(unknown=0.5, false_flag_share=0.2)
    MODEL_VERSION
"""

from __future__ import annotations

from .assessment import MODEL_VERSION, assess
from .hypotheses import Priors

__all__ = ["MODEL_VERSION", "Priors", "assess"]

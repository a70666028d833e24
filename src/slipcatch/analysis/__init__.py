"""Analysis: from observations to personas, slips, evidence lines, hypotheses and a verdict.

The analytic model (every rule, number, cap and criterion) is described in docs/model.md; its
calibration on simulated cases in docs/calibration.md.

Public surface::

    assess(observations, actors, priors=None, evidence_file=None) -> list[PersonaAssessment]
    Priors(unknown=0.75, false_flag_share=0.2, analyst=())
    load_evidence_file(path, actor_ids=(), persona_names=None) -> AnalystEvidence
    MODEL_VERSION
"""

from __future__ import annotations

from .analyst import AnalystEvidence, load_evidence_file
from .assessment import MODEL_VERSION, assess
from .hypotheses import Priors

__all__ = ["MODEL_VERSION", "AnalystEvidence", "Priors", "assess", "load_evidence_file"]

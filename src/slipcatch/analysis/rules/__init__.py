"""The analysis rules: each turns one ``PersonaCase`` into evidence lines.

Every rule has one signature, ``rule(case: PersonaCase) -> Sequence[EvidenceLine]``, and lives
in its own module with its tuning constants; each computes its numbers into a small typed score
(``*_scores``/``*_score``) and words it in a separate function (``*_summary``), so the numbers
can be tested without the sentence. ``RULES`` is the order the lines appear in an assessment;
a new rule is one module plus one entry here (docs/architecture.md, "Adding a rule").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slipcatch.model import EvidenceLine

from ..persona_case import PersonaCase
from .actor_range import RULE_ACTOR_RANGE, actor_range_lines
from .analyst import RULE_ANALYST, analyst_lines
from .channels import RULE_CHANNELS, exposure_channel_lines
from .country import RULE_COUNTRY, country_lines
from .elsewhere import RULE_ELSEWHERE, elsewhere_lines
from .hypothetical import hypothetical_lines
from .pattern_of_life import RULE_PATTERN, pattern_lines
from .range_access import RULE_ACCESS, access_lines
from .refutation import RULE_REFUTATION, read_under_staging, refutation_lines
from .slip_pattern import RULE_SLIP_PATTERN, slip_pattern_lines

__all__ = [
    "RULES",
    "RULE_ACCESS",
    "RULE_ACTOR_RANGE",
    "RULE_ANALYST",
    "RULE_CHANNELS",
    "RULE_COUNTRY",
    "RULE_ELSEWHERE",
    "RULE_PATTERN",
    "RULE_REFUTATION",
    "RULE_SLIP_PATTERN",
    "Rule",
    "evidence_lines",
]

Rule = Callable[[PersonaCase], Sequence[EvidenceLine]]

#: Every rule, in the order its lines appear.
RULES: tuple[Rule, ...] = (
    actor_range_lines,
    country_lines,
    slip_pattern_lines,
    access_lines,
    exposure_channel_lines,
    pattern_lines,
    elsewhere_lines,
    analyst_lines,
    refutation_lines,
    hypothetical_lines,
)


def evidence_lines(case: PersonaCase) -> tuple[EvidenceLine, ...]:
    """The lines of every rule for ``case``, in ``RULES`` order; with proven staging, the
    staged actor's exposures read as possibly staged (``refutation.read_under_staging``)."""
    return tuple(read_under_staging(case, [line for rule in RULES for line in rule(case)]))

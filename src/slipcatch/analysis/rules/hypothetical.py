"""Rule "hypothetical": the lines a what-if adds to the case (``PersonaCase.extra``).

A what-if that states independent evidence (``whatif``) puts its lines on the case it re-runs;
this rule passes them through, last, so every line of a re-run comes from ``RULES``.
"""

from __future__ import annotations

from slipcatch.model import EvidenceLine

from ..persona_case import PersonaCase

__all__ = ["hypothetical_lines"]


def hypothetical_lines(case: PersonaCase) -> tuple[EvidenceLine, ...]:
    return case.extra

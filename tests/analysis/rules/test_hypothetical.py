"""Rule "hypothetical": a what-if's lines pass through unchanged, last."""

from __future__ import annotations

from dataclasses import replace

from slipcatch.analysis.rules import RULES, evidence_lines
from slipcatch.analysis.rules.hypothetical import hypothetical_lines
from slipcatch.analysis.whatif import ratio_line

from ..builders import kp, tor
from .cases import case_of, hyp


def test_extra_lines_come_last_as_given():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])
    extra = ratio_line(case.persona, "tie", "hypothetical: tie", hyp(case, "actor"), 4.0)
    with_extra = replace(case, extra=(extra,))
    assert hypothetical_lines(case) == ()
    assert hypothetical_lines(with_extra) == (extra,)
    assert RULES[-1] is hypothetical_lines
    assert evidence_lines(with_extra)[-1] is extra
    # the ratio is effective: no reliability discount, no cap
    assert extra.likelihoods == {hyp(case, "actor"): 4.0}

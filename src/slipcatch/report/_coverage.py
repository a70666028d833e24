"""The coverage warning every report's key judgement and the console carry (docs/intel.md,
"Coverage"): which dated intel layers did not cover some events' times."""

from __future__ import annotations

from slipcatch.model import Assessment

__all__ = ["coverage_warnings"]

_NAMES = {"tor": "Tor exit data", "routing": "dated routing (AS) data",
          "geolocation": "geolocation snapshot"}


def coverage_warnings(assessment: Assessment) -> list[str]:
    """One sentence per dated layer that leaves events outside its coverage."""
    r = assessment.remainder
    total = len(assessment.observations) + (r.events if r is not None else 0)
    out = []
    for c in assessment.coverage:
        if not c.events_outside:
            continue
        name = _NAMES.get(c.layer, c.layer)
        if c.valid_from is None or c.valid_to is None:
            span = "the intel pack has none"
        else:
            span = f"it covers {c.valid_from.date().isoformat()} – {c.valid_to.date().isoformat()}"
        out.append(f"Coverage: {c.events_outside} of {total} events fall outside the {name} "
                   f"({span}); for those events the layer says nothing about their time.")
    return out

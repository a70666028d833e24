"""Rule "slip pattern": how an actor's episodes ended, one actor : false-flag line per actor.

A framer who imitates a mistake once imitates it every time, so the pattern is one observation
however many episodes show it: k episodes count as sqrt(k) observations of their typical
(geometric mean) ratio.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from slipcatch.model import EvidenceLine

from ..episodes import Episode
from ..hypotheses import LINE_CAP
from ..persona_case import PersonaCase
from ..reading import TRUST_WEIGHT
from ._lines import by_actor, episode_false_flag_line, episode_line_id

__all__ = [
    "CHANNEL_RATIOS",
    "FORGE_RATIO",
    "RULE_SLIP_PATTERN",
    "SLIP_PATTERNS",
    "SlipPatternScore",
    "episode_ratio",
    "slip_pattern_lines",
    "slip_pattern_scores",
    "slip_pattern_summary",
]

RULE_SLIP_PATTERN = "slip pattern"

#: Slip patterns: name -> (actor : false_flag ratio at full weight, meaning). Thresholds are on
#: the exposure time (``episodes.slip_pattern``): first exposed event of a slip to the next
#: covered event.
SLIP_PATTERNS: Mapping[str, tuple[float, str]] = {
    "quick-return": (3.0, "back under cover within 10 minutes"),
    "return-within-hour": (1.5, "back under cover within an hour"),
    "return-within-day": (1 / 1.5, "back under cover within a day"),
    "long-exposure": (1 / 3.0, "exposed for more than a day before returning to cover"),
    "unclosed": (1.0, "no covered event followed"),
    "partial-cover": (1.0, "the persona does not work under cover"),
    "no-cover": (0.8, "the persona never used cover"),
}
#: Channel kind -> actor : false-flag ratio at full weight, per episode. "public" is 1: whether
#: exposure fell *only* on public channels is one persona-level observation, the
#: exposure-channels line, not a per-episode one.
CHANNEL_RATIOS: Mapping[str, float] = {"back-end": 2.0, "public": 1.0, "other": 1.0}
#: How much likelier a framer's staging is than an operator's mistake to rest on an origin only
#: the sender wrote: a forged header costs a framer nothing. Applied as
#: ``FORGE_RATIO ** (1 - trust weight)`` against the actor.
FORGE_RATIO = 2.0


def episode_ratio(ep: Episode) -> float:
    """actor : false flag of one episode.

    An origin the sender wrote is either true (then it places the sender as well as a log does)
    or forged, and only a party that wants the actor's address there forges it: a framer. So a
    weak origin weakens the case against a framer. The ratio is the slip pattern and the channel
    kind, each moved toward 1 by the origin's trust weight (exclusivity concerns third parties,
    not how the actor's or a framer's own use of the range ended), divided by
    ``FORGE_RATIO ** (1 - trust weight)``.
    """
    s_pattern = SLIP_PATTERNS[ep.pattern][0]
    s_channel = CHANNEL_RATIOS[ep.channel]
    trust = TRUST_WEIGHT[ep.trust]
    s = (1.0 + (s_pattern - 1.0) * trust) * (1.0 + (s_channel - 1.0) * trust)
    return s / FORGE_RATIO ** (1.0 - trust)


@dataclass(frozen=True)
class SlipPatternScore:
    """The numbers of one actor's slip-pattern line."""

    actor: str
    episodes: tuple[Episode, ...]
    ratio: float  # actor : false flag, within LINE_CAP
    counts: tuple[tuple[str, int], ...]  # pattern / channel / weak-origin name -> episodes
    strongest: Episode  # the heaviest episode, whose origin gives the line's reliability


def slip_pattern_scores(case: PersonaCase) -> list[SlipPatternScore]:
    """One score per actor with episodes, by actor id.

    Each episode's ratio ``s`` is ``episode_ratio``; the actor's is
    ``S = exp(sum(ln s) / sqrt(k))`` over its k episodes, kept within ``LINE_CAP``.
    """
    groups = by_actor(case.episodes)
    out = []
    for actor in sorted(groups):
        group = groups[actor]
        # A dependent pool (episodes.pool_episodes) is one item: its episodes' mean log-ratio.
        items: dict[str, list[float]] = {}
        for k, ep in enumerate(group):
            items.setdefault(ep.pool or f"#{k}", []).append(math.log(episode_ratio(ep)))
        ratios = [math.exp(math.fsum(v) / len(v)) for v in items.values()]
        # k episodes of one habit are not k independent observations (a framer who imitates a
        # mistake once imitates it every time) nor one (an operator's lapses are separate
        # events): they count as sqrt(k) observations of their typical (geometric mean) ratio.
        big = math.exp(math.fsum(math.log(x) for x in ratios) / math.sqrt(len(ratios)))
        # The line cap, applied directly to the one ratio the line carries.
        big = min(LINE_CAP, max(1.0 / LINE_CAP, big))
        counts: dict[str, int] = {}
        for ep in group:
            counts[ep.pattern] = counts.get(ep.pattern, 0) + 1
            if ep.channel != "other":
                counts[f"{ep.channel} channel"] = counts.get(f"{ep.channel} channel", 0) + 1
            if TRUST_WEIGHT[ep.trust] < 1.0:
                forge = f"origin {ep.trust.value if ep.trust else 'unknown'}"
                counts[forge] = counts.get(forge, 0) + 1
        strongest = max(group, key=lambda ep: (ep.weight, episode_line_id(case.persona, ep)))
        out.append(
            SlipPatternScore(actor, tuple(group), big, tuple(sorted(counts.items())), strongest)
        )
    return out


def slip_pattern_summary(score: SlipPatternScore) -> str:
    patterns = ", ".join(f"{name} x{n}" for name, n in score.counts)
    return (
        f"how {len(score.episodes)} episode(s) from the range of {score.actor} ended: "
        f"{patterns}; actor : false flag {score.ratio:.2f} (geometric mean over the episodes: "
        "a habit, imitated or not, is one observation)"
    )


def slip_pattern_lines(case: PersonaCase) -> list[EvidenceLine]:
    """Likelihoods: false flag ``1 / S``, every other hypothesis 1."""
    out = []
    for score in slip_pattern_scores(case):
        # A framer can imitate a quick return: possibly true at best.
        out.append(
            episode_false_flag_line(
                case,
                score.actor,
                score.episodes,
                score.strongest,
                kind="slip-pattern",
                rule=RULE_SLIP_PATTERN,
                ratio=score.ratio,
                summary=slip_pattern_summary(score),
            )
        )
    return out

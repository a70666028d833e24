"""Rule "exposure channels": did an actor's exposures fall only on public-statement channels?

A framer needs its staging found, so it may plan to be seen only where investigators look
(public statements); an operator's mistakes fall wherever it works. One line per actor.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from slipcatch.model import EvidenceLine, Observation, utc

from ..episodes import PUBLIC_CHANNELS, Episode, channel_name, pool_effective_count
from ..hypotheses import LINE_CAP
from ..persona_case import PersonaCase
from ..reading import TRUST_WEIGHT
from ._lines import by_actor, episode_false_flag_line, trust_text

__all__ = [
    "RULE_CHANNELS",
    "STAGING_PLAN_SHARE",
    "ChannelScore",
    "channel_plan_factor",
    "channel_scores",
    "channel_summary",
    "effective_episodes",
    "exposure_channel_lines",
    "public_share",
]

RULE_CHANNELS = "exposure channels"
#: Share of framers who confine their staged exposure to public statements. Nobody has counted
#: it; P(all exposure public | framer) is linear in the share, so averaging over a uniform prior
#: on it is the same as taking its mean, 1/2.
STAGING_PLAN_SHARE = 0.5


def public_share(observations: Sequence[Observation]) -> float:
    """The share of the persona's sittings that were on a public-statement channel.

    A sitting is a (channel kind, UTC hour) with at least one event: a slip happens in a sitting,
    and a long sitting of many events is still one chance to forget the cover. 0 for no events.
    """
    sittings = {
        (channel_name(obs) in PUBLIC_CHANNELS, int(utc(obs.event.time).timestamp() // 3600))
        for obs in observations
    }
    if not sittings:
        return 0.0
    return sum(1 for public, _ in sittings if public) / len(sittings)


def effective_episodes(episodes: Sequence[Episode]) -> float:
    """How many independent chances to slip ``episodes`` are: one each for an episode that
    stands alone, ``pool_effective_count(n)`` for the n episodes of a dependent pool (one
    habit of one source, not n mistakes)."""
    pools = Counter(ep.pool for ep in episodes if ep.pool is not None)
    alone = sum(1 for ep in episodes if ep.pool is None)
    return alone + math.fsum(pool_effective_count(n) for n in pools.values())


def channel_plan_factor(episodes: float, all_public: bool, share: float) -> float:
    """actor : false flag from where an actor's ``episodes`` exposures fell.

    An operator's mistakes fall on its channels in proportion to its sittings there, so all k
    of them (``effective_episodes``) land on public channels with probability ``q ** k``
    (``q``: ``share``). A framer
    confines its staging to public statements with probability ``STAGING_PLAN_SHARE`` (π) and
    otherwise spreads it as a mistake would: ``π + (1 - π) q ** k``. All public: the ratio is
    ``q ** k / (π + (1 - π) q ** k)`` (at most 1); not all public: ``1 / (1 - π)``.
    """
    if episodes < 1:
        return 1.0
    plan = STAGING_PLAN_SHARE
    if not all_public:
        return 1.0 / (1.0 - plan)
    chance = min(1.0, max(0.0, share)) ** episodes
    return chance / (plan + (1.0 - plan) * chance)


@dataclass(frozen=True)
class ChannelScore:
    actor: str
    episodes: tuple[Episode, ...]
    effective: float  # ``effective_episodes``: k of the line
    public: int  # episodes on public-statement channels only
    share: float  # ``public_share`` of the persona
    strongest: Episode  # the strongest episode that decides the line
    ratio: float  # actor : false flag, within LINE_CAP

    @property
    def all_public(self) -> bool:
        return self.public == len(self.episodes)


def channel_scores(case: PersonaCase) -> list[ChannelScore]:
    """One score per actor with episodes whose ratio is not 1, by actor id.

    The ratio is ``channel_plan_factor`` over the actor's episodes (an episode is public when
    every event in it was on a public-statement channel), raised to the trust weight of the
    strongest episode that decides it (the strongest public one when all are public, else the
    strongest other one): an exposure read off a header the sender may have written may itself
    be staging, and says where the sender chose to be seen rather than where it slipped. Kept
    within ``LINE_CAP``. A ratio of 1 (a persona that only ever posts: its mistakes could fall
    nowhere else) gives no score.
    """
    groups = by_actor(case.episodes)
    share = public_share(case.observations)
    out = []
    for actor in sorted(groups):
        group = groups[actor]
        public = sum(1 for ep in group if ep.channel == "public")
        all_public = public == len(group)
        deciding = [ep for ep in group if (ep.channel == "public") == all_public]
        strongest = max(deciding, key=lambda ep: (TRUST_WEIGHT[ep.trust], ep.weight))
        trust = TRUST_WEIGHT[strongest.trust]
        effective = effective_episodes(group)
        ratio = channel_plan_factor(effective, all_public, share) ** trust
        ratio = min(LINE_CAP, max(1.0 / LINE_CAP, ratio))
        if not math.isclose(ratio, 1.0):
            out.append(
                ChannelScore(actor, tuple(group), effective, public, share, strongest, ratio)
            )
    return out


def channel_summary(score: ChannelScore) -> str:
    k, actor, share = len(score.episodes), score.actor, score.share
    power, pooled = str(k), ""
    if score.effective != k:
        power = f"{score.effective:.2f}"
        pooled = f" ({power} independent ones: a dependent pool's n episodes count as 1 + ln n)"
    if score.all_public:
        what = (
            f"all {k} exposure episode(s){pooled} from the range of {actor} fell on public-"
            f"statement channels, where {share:.0%} of the persona's sittings were: "
            f"{share:.2f}^{power} for an operator's mistakes, {STAGING_PLAN_SHARE:.0%} "
            "or more for a framer who plans to be seen"
        )
    else:
        what = (
            f"{k - score.public} of {k} exposure episode(s) from the range of "
            f"{actor} fell outside public-statement channels: not a plan to be seen only "
            f"in public (assumed for {STAGING_PLAN_SHARE:.0%} of framers)"
        )
    return f"{what}; {trust_text(score.strongest.trust)}; actor : false flag {score.ratio:.2f}"


def exposure_channel_lines(case: PersonaCase) -> list[EvidenceLine]:
    """Likelihoods: false flag ``1 / ratio``, every other hypothesis 1."""
    out = []
    for score in channel_scores(case):
        # A framer can spread its staging over channels as a mistake would.
        out.append(
            episode_false_flag_line(
                case,
                score.actor,
                score.episodes,
                score.strongest,
                kind="exposure-channels",
                rule=RULE_CHANNELS,
                ratio=score.ratio,
                summary=channel_summary(score),
            )
        )
    return out

"""Rule "actor-range episode": one line per episode of events from an actor's space.

Each episode tells "someone used the range" (the actor by mistake or a framer on purpose) from
"an unknown party happened to hop there"; the slip pattern (one line per actor) tells the actor
and the framer apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from slipcatch.model import EvidenceLine, stable_id

from ..analyst import DeclaredPool
from ..episodes import Episode, pool_effective_count
from ..hypotheses import hypothesis_id
from ..persona_case import PersonaCase
from ..reading import ASN_SOURCE, is_email, listing_texts, stated_trust
from ._lines import episode_line_id, reliability, rounded, span, trust_text
from .slip_pattern import SLIP_PATTERNS, episode_ratio

__all__ = [
    "GROUP_RATIO_BOUND",
    "MAX_EPISODE_LINES",
    "RULE_ACTOR_RANGE",
    "R_EPISODE",
    "EpisodeScore",
    "PoolScore",
    "actor_range_lines",
    "actor_range_scores",
    "episode_summary",
    "pool_scores",
    "pool_summary",
    "range_ratio",
]

RULE_ACTOR_RANGE = "actor-range episode"
#: actor : unknown ratio of one episode at full exclusivity and full origin trust.
R_EPISODE = 6.0
#: Most episode lines one actor's episodes that stand alone get: beyond it, the later ones share
#: one grouped line (their ratios multiply, as separate lines would), so that a large persona
#: keeps a bounded number of lines and every line can be tested as a linchpin.
MAX_EPISODE_LINES = 24
#: The grouped line's product is held here: hundreds of episodes of an exclusive range multiply
#: past what a float holds (6 ** 400 > 1e308). No hypothesis ends more than ``TOTAL_CAP`` (100)
#: below the best, so beyond 1e100 the product changes no assessment that capped lines and
#: analyst items can produce.
GROUP_RATIO_BOUND = 1e100


def range_ratio(exclusivity: float) -> float:
    """actor-or-false-flag : unknown of one episode in a range of this exclusivity ``e``.

    An unknown party uses the range as much as others use it, ``1 - e``, and an exclusive range
    only through a compromised or borrowed host, ``1 / R_EPISODE`` of the owner's use:
    ``r = 1 / (1 / R_EPISODE + (1 - 1 / R_EPISODE) (1 - e))`` (a half-shared range: 1.71).
    The origin's trust does not enter: a forged origin is a framer's, which this line weighs
    like the actor.
    """
    return 1.0 / (1.0 / R_EPISODE + (1.0 - 1.0 / R_EPISODE) * (1.0 - exclusivity))


@dataclass(frozen=True)
class EpisodeScore:
    """The numbers of one episode's line."""

    episode: Episode
    ratio: float  # actor or false flag : unknown; 1 for the same host again (``Episode.repeat``)
    pattern_ratio: float  # actor : false flag of the episode (``slip_pattern.episode_ratio``)
    asn_level: bool  # the space is an AS of the actor's side, not a registered range


def actor_range_scores(case: PersonaCase) -> list[EpisodeScore]:
    """One score per episode, in the case's episode order."""
    return [
        EpisodeScore(
            episode=ep,
            ratio=1.0 if ep.repeat else range_ratio(ep.exclusivity),
            pattern_ratio=episode_ratio(ep),
            asn_level=any(f.source == ASN_SOURCE for o in ep.observations for f in o.address.facts),
        )
        for ep in case.episodes
    ]


@dataclass(frozen=True)
class PoolScore:
    """The numbers of one dependent pool's line: its episodes count as
    ``pool_effective_count(n)`` of their typical (geometric mean) ratio, n the episodes with a
    new address (a repeated host adds nothing, as for a lone episode)."""

    actor: str
    pool: str
    scores: tuple[EpisodeScore, ...]
    counted: int  # episodes with a new address
    effective: float  # pool_effective_count(counted)
    ratio: float  # actor or false flag : unknown of the whole pool


def pool_scores(scores: list[EpisodeScore]) -> tuple[list[EpisodeScore], list[PoolScore]]:
    """(the episodes that stand alone, the pools) of ``actor_range_scores``."""
    alone: list[EpisodeScore] = []
    pools: dict[tuple[str, str], list[EpisodeScore]] = {}
    for score in scores:
        if score.episode.pool is None:
            alone.append(score)
        else:
            pools.setdefault((score.episode.actor, score.episode.pool), []).append(score)
    out = []
    for (actor, pool), group in pools.items():
        logs = [math.log(sc.ratio) for sc in group if not sc.episode.repeat]
        effective = pool_effective_count(len(logs))
        ratio = math.exp(math.fsum(logs) / len(logs) * effective) if logs else 1.0
        out.append(PoolScore(actor, pool, tuple(group), len(logs), effective, ratio))
    return alone, out


def pool_summary(score: PoolScore, name: str, declared: DeclaredPool | None = None) -> str:
    """The pool line's text; ``name`` is the actor's registry name, ``declared`` the analyst's
    pool the line holds (None: a pool of a shared range, found by the model)."""
    eps = [sc.episode for sc in score.scores]
    events = sum(len(ep.observations) for ep in eps)
    addresses = {o.address.ip for ep in eps for o in ep.observations}
    exclusivity = max(ep.exclusivity for ep in eps)
    listed = listing_texts([o for ep in eps for o in ep.observations])
    listing = (
        f" (addresses listed as {', '.join(listed)} then, so a third party could use them)"
        if listed
        else ""
    )
    why = (
        f"the analyst declared these addresses one source ({declared.summary}: "
        f"{declared.justification}), not {len(eps)}"
        if declared is not None
        else f"addresses of one pool of a shared range are one source, not {len(eps)}"
    )
    return (
        f"dependent pool of {len(eps)} episodes ({events} events from {len(addresses)} "
        f"addresses) in {score.pool}, range of {name} with exclusivity {exclusivity:.2f}"
        f"{listing}, "
        f"{span(eps[0].first, eps[-1].last)} UTC: {why}; {score.counted} episode(s) with a new "
        "address count as "
        f"1 + ln {score.counted} = {score.effective:.2f} independent ones; actor or false flag "
        f": unknown {score.ratio:.2f}"
    )


def episode_summary(score: EpisodeScore, name: str) -> str:
    """The line's text; ``name`` is the actor's registry name."""
    ep = score.episode
    prefixes = sorted({o.address.prefix or o.address.ip for o in ep.observations})
    channels = sorted({o.event.channel for o in ep.observations})
    closing = (
        f"exposure {ep.exposure_seconds:.0f} s"
        if ep.exposure_seconds is not None
        else "no exposure time"
    )
    listed = listing_texts(ep.observations)
    listing = (
        f"; the address was listed as {', '.join(listed)} then, so a third party could use it"
        if listed
        else ""
    )
    space = (
        f"an AS of the side of {name}, outside its registered ranges (ASN-level hit; "
        if score.asn_level
        else f"exclusive range of {name} ("
    )
    repeat = (
        f"{', '.join(ep.repeat)} already used in an earlier episode: the same host again, "
        "counted once (repeated use of one address is not independent); "
        if ep.repeat
        else ""
    )
    unstated = (
        "; no origin trust stated (e.g. a table without an origin_trust column): e-mail read "
        "as sender-written, the conservative reading"
        if any(is_email(o) and stated_trust(o) is None for o in ep.observations)
        else ""
    )
    return (
        f"{len(ep.observations)} event(s) from {', '.join(prefixes)}, {space}"
        f"exclusivity {ep.exclusivity:.2f}, {trust_text(ep.trust)}{unstated}{listing}), "
        f"{span(ep.first, ep.last)} UTC via {', '.join(channels)}; "
        f"{SLIP_PATTERNS[ep.pattern][1]} ({closing}); channel {ep.channel}; "
        f"{repeat}actor or false flag : unknown {score.ratio:.2f}; pattern ratio "
        f"{score.pattern_ratio:.2f} (see the slip pattern line)"
    )


def actor_range_lines(case: PersonaCase) -> list[EvidenceLine]:
    """Likelihoods: the actor and its false flag ``r`` each, every other hypothesis 1."""
    alone, pools = pool_scores(actor_range_scores(case))
    out = []
    by_actor: dict[str, list[EpisodeScore]] = {}
    for score in alone:
        by_actor.setdefault(score.episode.actor, []).append(score)
    grouped: set[int] = set()
    for actor, scores in sorted(by_actor.items()):
        if len(scores) <= MAX_EPISODE_LINES:
            continue
        rest = scores[MAX_EPISODE_LINES - 1 :]
        grouped.update(id(sc) for sc in rest)
        log_product = math.fsum(math.log(sc.ratio) for sc in rest)
        held = log_product > math.log(GROUP_RATIO_BOUND)
        ratio = GROUP_RATIO_BOUND if held else math.exp(log_product)
        shown = f"{ratio:.3g}, the product held at its bound" if held else f"{ratio:.2f}"
        likelihoods = dict.fromkeys(case.spec_ids, 1.0)
        likelihoods[hypothesis_id(case.persona.id, "actor", actor)] = ratio
        likelihoods[hypothesis_id(case.persona.id, "false_flag", actor)] = ratio
        strongest = max(rest, key=lambda sc: sc.episode.weight).episode
        out.append(
            EvidenceLine(
                id=stable_id("line", case.persona.id, "actor-range-group", actor),
                kind="actor-range-episode",
                summary=(
                    f"{len(rest)} further episodes from the range of {actor} grouped into one "
                    f"line (more than {MAX_EPISODE_LINES} episodes), "
                    f"{span(rest[0].episode.first, rest[-1].episode.last)} UTC: their ratios "
                    f"multiply as separate lines would; actor or false flag : unknown {shown}"
                ),
                likelihoods=rounded(likelihoods),
                reliability=reliability(strongest.trust, strongest.exclusivity),
                rule=RULE_ACTOR_RANGE,
                event_ids=tuple(e for sc in rest for e in sc.episode.event_ids),
                slip_ids=tuple(sorted({s.id for sc in rest for s in sc.episode.slips})),
            )
        )
    alone = [sc for sc in alone if id(sc) not in grouped]
    declared = {d.key: d for d in case.analyst.pools} if case.analyst is not None else {}
    for pool in pools:
        likelihoods = dict.fromkeys(case.spec_ids, 1.0)
        likelihoods[hypothesis_id(case.persona.id, "actor", pool.actor)] = pool.ratio
        likelihoods[hypothesis_id(case.persona.id, "false_flag", pool.actor)] = pool.ratio
        known = case.actors.get(pool.actor)
        strongest = max(pool.scores, key=lambda sc: sc.episode.weight).episode
        out.append(
            EvidenceLine(
                id=stable_id("line", case.persona.id, "actor-range-pool", pool.actor, pool.pool),
                kind="actor-range-episode",
                summary=pool_summary(
                    pool,
                    known.name if known is not None else pool.actor,
                    declared.get(pool.scores[0].episode.declared or ""),
                ),
                likelihoods=rounded(likelihoods),
                reliability=reliability(strongest.trust, strongest.exclusivity),
                rule=RULE_ACTOR_RANGE,
                event_ids=tuple(e for sc in pool.scores for e in sc.episode.event_ids),
                slip_ids=tuple(sorted({s.id for sc in pool.scores for s in sc.episode.slips})),
            )
        )
    for score in alone:
        ep = score.episode
        likelihoods = dict.fromkeys(case.spec_ids, 1.0)
        # A framer staging through the range produces an episode as readily as the actor's
        # operator forgetting the cover: the episode weighs both against an unknown party.
        likelihoods[hypothesis_id(case.persona.id, "actor", ep.actor)] = score.ratio
        likelihoods[hypothesis_id(case.persona.id, "false_flag", ep.actor)] = score.ratio
        known = case.actors.get(ep.actor)
        out.append(
            EvidenceLine(
                id=episode_line_id(case.persona, ep),
                kind="actor-range-episode",
                summary=episode_summary(score, known.name if known is not None else ep.actor),
                likelihoods=rounded(likelihoods),
                reliability=reliability(ep.trust, ep.exclusivity),
                rule=RULE_ACTOR_RANGE,
                event_ids=ep.event_ids,
                slip_ids=tuple(s.id for s in ep.slips),
            )
        )
    return out

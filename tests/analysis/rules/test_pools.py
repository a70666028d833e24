"""Dependent pools (model 2.7, issue 19): episodes from one pool of a low-exclusivity range
count as one item whose weight grows as 1 + ln n (docs/model.md, example 19)."""

from __future__ import annotations

import ipaddress
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.analysis import assess
from slipcatch.analysis.analyst import parse_evidence
from slipcatch.analysis.episodes import pool_effective_count
from slipcatch.analysis.rules.actor_range import actor_range_lines, range_ratio
from slipcatch.analysis.rules.slip_pattern import slip_pattern_lines
from slipcatch.calibration.scenarios import ACTOR
from slipcatch.errors import UsageError

from ..builders import P, kp
from .cases import case_of, hyp

HOUR = 3600.0


def logins(n: int, exclusivity: float, gap: float = 13 * HOUR) -> list:
    # one login every 13 hours (each its own episode), each from a new address of the range
    return [
        kp(
            k * gap,
            f"175.45.{176 + k % 4}.{1 + k // 4 % 250}",
            exclusivity=exclusivity,
            channel="ssh",
        )
        for k in range(n)
    ]


def test_effective_count_is_logarithmic():
    assert [round(pool_effective_count(n), 6) for n in (0, 1, 10, 100, 1000)] == [
        0.0,
        1.0,
        round(1 + math.log(10), 6),
        round(1 + math.log(100), 6),
        round(1 + math.log(1000), 6),
    ]


def test_a_thousand_low_exclusivity_episodes_are_one_saturating_line():
    case = case_of(logins(1000, 0.1))
    assert len(case.episodes) == 1000 and all(ep.pool for ep in case.episodes)
    [line] = actor_range_lines(case)
    r = range_ratio(0.1)
    assert r == pytest.approx(1.090909, abs=1e-6)
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(
        r ** (1 + math.log(1000)), abs=1e-6
    )
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(1.989861, abs=1e-6)
    assert line.summary.startswith("dependent pool of 1000 episodes")
    assert len(line.event_ids) == 1000
    [pattern] = slip_pattern_lines(case)
    assert "how 1000 episode(s)" in pattern.summary
    # the pool is one item of the slip pattern: no cover 0.8 x back-end 2 = 1.6
    assert pattern.likelihoods[hyp(case, "false_flag")] == 0.625
    [pa] = assess(logins(1000, 0.1), [ACTOR])
    assert pa.verdict.probability < 0.5 and len(pa.evidence) <= 30


def test_exclusive_ranges_are_not_pooled():
    case = case_of(logins(20, 1.0))
    assert not any(ep.pool for ep in case.episodes)
    assert len(actor_range_lines(case)) == 20


def test_a_pool_ends_after_thirty_days_without_an_episode():
    obs = logins(3, 0.2) + [
        kp(40 * 86400 + k * 13 * HOUR, f"175.45.179.{200 + k}", exclusivity=0.2, channel="ssh")
        for k in range(3)
    ]
    lines = actor_range_lines(case_of(obs))
    # the addresses of the later three (175.45.179.x) share no /24 with the first three
    # (175.45.176-178.x), and 40 days passed
    assert sorted(line.summary.split(" episodes")[0] for line in lines) == [
        "dependent pool of 3",
        "dependent pool of 3",
    ]


def test_an_email_without_stated_trust_says_it_is_read_as_sender_written():
    obs = [kp(0, channel="email"), kp(7200, "175.45.176.11", channel="email", origin_trust=None)]
    [first, *_] = actor_range_lines(case_of(obs))
    assert "no origin trust stated" in first.summary and "sender-written" in first.summary
    from slipcatch.model import OriginTrust

    stated = [kp(0, channel="email", origin_trust=OriginTrust.TRUSTED_RELAY)]
    [line] = actor_range_lines(case_of(stated))
    assert "no origin trust stated" not in line.summary


def test_a_large_persona_keeps_a_bounded_number_of_episode_lines():
    from slipcatch.analysis.rules.actor_range import MAX_EPISODE_LINES

    case = case_of(logins(40, 1.0))
    lines = actor_range_lines(case)
    assert len(case.episodes) == 40 and len(lines) == MAX_EPISODE_LINES == 24
    group = next(line for line in lines if "further episodes" in line.summary)
    assert group.summary.startswith("17 further episodes")
    # the same product as 17 separate lines of 6
    assert group.likelihoods[hyp(case, "actor")] == pytest.approx(6.0**17, rel=1e-6)
    [pa] = assess(logins(40, 1.0), [ACTOR])
    assert len(pa.evidence) < 30


def test_hundreds_of_exclusive_episodes_do_not_overflow_the_grouped_line():
    # 500 episodes at exclusivity 1 (6 : 1 each): the 477 grouped ones multiply to 6 ** 477,
    # about e^855, past the largest float; the line holds the product at its bound.
    from slipcatch.analysis.rules.actor_range import GROUP_RATIO_BOUND

    case = case_of(logins(500, 1.0))
    group = next(line for line in actor_range_lines(case) if "further episodes" in line.summary)
    assert group.summary.startswith("477 further episodes")
    assert group.likelihoods[hyp(case, "actor")] == GROUP_RATIO_BOUND == 1e100
    assert "1e+100, the product held at its bound" in group.summary
    [pa] = assess(logins(500, 1.0), [ACTOR])
    assert (pa.verdict.actor, pa.verdict.probability) == (ACTOR.id, 0.960518)


# Analyst-declared pools (issue 19, "or an analyst-declared pool"): addresses the analyst knows
# to be one source pool whatever their exclusivity and however far apart in time.


def _pools(*pools, personas=(P,)):
    return parse_evidence({"pools": list(pools)}, "ev.yaml", [ACTOR.id], list(personas))


def _pool(**extra):
    pool = {
        "id": "one-nat",
        "summary": "one building's NAT",
        "networks": ["175.45.176.0/22"],
        "justification": "the provider's records name one subscriber",
    }
    pool.update(extra)
    return pool


def test_a_declared_pool_joins_the_episodes_of_an_exclusive_range():
    case = case_of(logins(20, 1.0), analyst=_pools(_pool()))
    assert {ep.declared for ep in case.episodes} == {"one-nat"}
    [line] = actor_range_lines(case)
    # 20 episodes from new addresses at 6 : 1 count as 1 + ln 20 = 3.995732 of them:
    # 6 ** 3.995732 = e ** 7.159390 = 1286.13 (20 separate lines: 6 ** 20 = 3.66e15)
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(
        6.0 ** (1 + math.log(20)), abs=1e-6
    )
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(1286.13, abs=0.01)
    assert line.summary.startswith("dependent pool of 20 episodes (20 events from 20 addresses)")
    assert "in the analyst's pool 'one-nat' (175.45.176.0/22) from 2014-11-24 00:00" in line.summary
    assert (
        "the analyst declared these addresses one source (one building's NAT: the provider's "
        "records name one subscriber), not 20" in line.summary
    )
    [pattern] = slip_pattern_lines(case)
    assert "how 20 episode(s)" in pattern.summary


def test_a_declared_pool_holds_only_its_networks_and_its_time():
    # logins() spreads its addresses over 175.45.176-179: the /24 of 176 holds k = 0, 4, 8, ...
    only_176 = case_of(logins(20, 1.0), analyst=_pools(_pool(networks="175.45.176.0/24")))
    pooled = [ep for ep in only_176.episodes if ep.pool]
    assert len(pooled) == 5 and {ep.observations[0].address.ip for ep in pooled} == {
        f"175.45.176.{1 + k // 4 % 250}" for k in range(0, 20, 4)
    }
    assert len(actor_range_lines(only_176)) == 1 + 15
    # valid_to is exclusive: logins every 13 h from 2014-11-24 00:00; before 2014-11-27 00:00
    # (72 h) fall k = 0..5
    early = case_of(logins(20, 1.0), analyst=_pools(_pool(valid_to="2014-11-27")))
    assert sum(1 for ep in early.episodes if ep.pool) == 6
    late = case_of(logins(20, 1.0), analyst=_pools(_pool(valid_from="2014-11-27")))
    assert sum(1 for ep in late.episodes if ep.pool) == 14


def test_a_declared_pool_applies_to_its_personas_only():
    other = _pools(_pool(personas=["someone else"]), personas=(P, "someone else"))
    case = case_of(logins(20, 1.0), analyst=other)
    assert not any(ep.pool for ep in case.episodes)
    assert len(actor_range_lines(case)) == 20


def test_a_declared_pool_and_a_shared_range_pool_are_one_group():
    # low-exclusivity episodes already pool by /24 and access network; the declared pool names
    # the group
    case = case_of(logins(10, 0.2), analyst=_pools(_pool()))
    [line] = actor_range_lines(case)
    assert "the analyst's pool 'one-nat'" in line.summary
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(
        range_ratio(0.2) ** (1 + math.log(10)), abs=1e-6
    )


def test_declared_pools_cover_ipv6_and_only_their_version():
    [pool] = _pools(_pool(networks=["2001:db8:40::/44", "198.51.100.7"])).pools
    assert pool.networks == ("2001:db8:40::/44", "198.51.100.7/32")
    t = datetime(2020, 1, 1, tzinfo=UTC)
    assert pool.covers("2001:db8:4f:ffff::1", t)
    assert not pool.covers("2001:db8:50::1", t)
    assert pool.covers("198.51.100.7", t) and not pool.covers("198.51.100.8", t)
    assert not pool.covers("::ffff:198.51.100.7", t) and not pool.covers("not an address", t)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"networks": ["175.45.176.0/33"]}, "not an address or CIDR: '175.45.176.0/33'"),
        ({"networks": []}, "'networks' lists addresses or CIDRs"),
        ({"networks": [7]}, "'networks' lists addresses or CIDRs"),
        ({"justification": " "}, "a pool needs a 'justification'"),
        ({"summary": None}, "missing summary"),
        ({"id": "a b"}, "bad or missing id 'a b'"),
        ({"likelihoods": {"actor": 3}}, "unknown key(s): likelihoods"),
        ({"valid_from": "2015-01-01", "valid_to": "2014-01-01"}, "'valid_from' is not before"),
        ({"valid_to": "yesterday"}, "'valid_to' is not a date or time"),
        ({"personas": ["nobody"]}, "unknown persona(s): nobody"),
    ],
)
def test_a_bad_pool_is_a_usage_error_naming_it(change, message):
    with pytest.raises(UsageError) as err:
        _pools(_pool(**change))
    assert message in str(err.value) and "pools[0]" in str(err.value)


def test_pools_must_be_a_list_of_distinct_ids():
    with pytest.raises(UsageError, match="'pools' must be a list"):
        parse_evidence({"pools": {"id": "x"}}, "ev.yaml", [ACTOR.id], [P])
    with pytest.raises(UsageError, match="duplicate pool id 'one-nat'"):
        _pools(_pool(), _pool())


_v4 = st.builds(
    lambda a, n: ipaddress.ip_network((a, n), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
_v6 = st.builds(
    lambda a, n: ipaddress.ip_network((a, n), strict=False),
    st.integers(0, 2**128 - 1),
    st.integers(0, 128),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(_v4, _v6), min_size=1, max_size=6),
    st.lists(
        st.one_of(
            st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address),
            st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address),
        ),
        max_size=10,
    ),
    st.data(),
)
def test_covers_is_membership_of_any_network(networks, addresses, data):
    # addresses inside the networks too, not only random ones (which rarely fall inside)
    for net in networks:
        offset = data.draw(st.integers(0, net.num_addresses - 1))
        addresses.append(net.network_address + offset)
    [pool] = _pools(_pool(networks=[str(n) for n in networks])).pools
    t = datetime(2020, 1, 1, tzinfo=UTC)
    for addr in addresses:
        assert pool.covers(str(addr), t) == any(addr in net for net in networks)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["id", "summary", "networks", "personas", "valid_from", "valid_to", "justification"]
        ),
        _json | st.sampled_from(["175.45.176.0/22", "2014-11-27", "x", [P]]),
    )
)
def test_any_pool_entry_parses_or_is_a_usage_error(entry):
    try:
        evidence = _pools(entry)
    except UsageError as err:
        assert "pools[0]" in str(err)
    else:
        [pool] = evidence.pools
        assert pool.networks and pool.justification and pool.summary


def test_a_pool_over_several_ranges_names_them_all():
    from slipcatch.calibration.scenarios import observation
    from slipcatch.model import Category

    from ..builders import at

    blocks = ["58.246.0.0/15", "112.64.0.0/15", "139.226.0.0/15"]
    obs = []
    for k in range(3):
        # an episode (two logins 5 minutes apart) from block k and block k + 1: each episode
        # shares a /24 with the next, so the three are one pool over three ranges
        for j, block in enumerate((blocks[k], blocks[(k + 1) % 3])):
            obs.append(
                observation(
                    at(k * 13 * HOUR + j * 300),
                    block.split("/")[0].rsplit(".", 2)[0] + f".1.{10 + j}",
                    P,
                    category=Category.ACTOR,
                    channel="rdp",
                    actor=ACTOR.id,
                    exclusivity=0.1,
                    prefix=block,
                    country="CN",
                )
            )
    [line] = actor_range_lines(case_of(obs))
    assert line.summary.startswith(
        "dependent pool of 3 episodes (6 events from 6 addresses) in 58.246.0.0/15, "
        "112.64.0.0/15 and 139.226.0.0/15 from 2014-11-24 00:00"
    )


def test_a_pool_of_public_postings_counts_as_one_plus_ln_n_chances_on_the_channel_line():
    from slipcatch.analysis.rules.channels import exposure_channel_lines

    from ..builders import tor

    def postings(exclusivity: float) -> list:
        # ten postings from new addresses of the range, 13 h apart, each between two covered
        # web sittings in other hours: half the persona's sittings are public (q = 0.5)
        obs = []
        for k in range(10):
            obs.append(tor(k * 13 * HOUR - 2 * HOUR, 1))
            ip = f"175.45.177.{10 + k}"
            obs.append(kp(k * 13 * HOUR, ip, exclusivity=exclusivity, channel="posting"))
        return obs

    pooled = case_of(postings(0.2))
    assert {ep.pool for ep in pooled.episodes} != {None}
    [line] = exposure_channel_lines(pooled)
    # k = 1 + ln 10 = 3.302585; 0.5^k = 0.101350; actor : false flag = 0.101350 / (0.5 +
    # 0.101350 / 2) = 0.184046, so the false flag 5.433410 (ten mistakes: 0.5^10, at the cap)
    assert line.likelihoods[hyp(pooled, "false_flag")] == pytest.approx(5.43341, abs=1e-6)
    assert "all 10 exposure episode(s) (3.30 independent ones" in line.summary
    assert "0.50^3.30 for an operator's mistakes" in line.summary
    # the same postings from an exclusive range are ten separate mistakes: 0.5^10, at the cap
    [alone] = exposure_channel_lines(case_of(postings(1.0)))
    assert alone.likelihoods[hyp(pooled, "false_flag")] == 10.0
    assert "all 10 exposure episode(s) from the range" in alone.summary

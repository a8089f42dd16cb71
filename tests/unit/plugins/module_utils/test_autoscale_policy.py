"""Tables for the pure autoscaling policy: each row gives the load, the history and the options, and asserts the action,
the target and the reason that decided it."""

from dataclasses import replace

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale_policy as policy
from ansible_collections.livescale.cloudstack.plugins.module_utils._autoscale_policy import (
    Attempt, Policy, Rung, Sample, Size, decide)

NOW = 1767607200.0  # 2026-01-05T10:00:00Z
MIN = 60.0
TWO = Size(2, 2048)
LADDER = (Rung("Small", 1, 1024), Rung("Medium", 2, 2048), Rung("Large", 4, 4096), Rung("XLarge", 8, 8192))


def load(*levels, minutes=None, memory=None, end=NOW):
    """One sample a minute ending at ``end``: ``levels`` are (minutes, cpu %) runs, oldest first."""
    values = [cpu for count, cpu in levels for _minute in range(count)]
    return [Sample(end - (len(values) - 1 - index) * MIN, cpu, memory) for index, cpu in enumerate(values)]


THRESHOLD_TABLE = [
    # id, samples, attempts, options, action, target cpu, reason fragment
    ("steady-high", load((10, 90)), (), {}, policy.SCALE_UP, 3, "CPU min 90.0 % > 80.0 % for 300 s"),
    ("one-dip-min", load((3, 90), (1, 70), (3, 90)), (), {}, policy.NONE, None, "CPU is not above 80.0 % for 300 s"),
    ("one-dip-mean", load((3, 90), (1, 70), (3, 90)), (), {"statistic": "mean"}, policy.SCALE_UP, 3, "mean 86.7"),
    ("too-short", load((3, 95)), (), {}, policy.NO_DATA, None, "covers 180 s of the 300 s"),
    ("stale", load((10, 95), end=NOW - 10 * MIN), (), {}, policy.NO_DATA, None, "600 s old: the metrics are stale"),
    ("gap", [sample for index, sample in enumerate(load((10, 95))) if index not in (6, 7, 8)], (), {}, policy.NO_DATA,
     None, "has a gap of 240 s in the last 300 s"),
    ("at-max", load((10, 95)), (), {"max_cpu": 2}, policy.HOLD, None, "the bounds leave no bigger size"),
    ("cooldown", load((30, 95)), (Attempt(NOW - 10 * MIN),), {}, policy.HOLD, 3, "cooldown: the last scale was 600 s"),
    ("history-before-scale", load((30, 95)), (Attempt(NOW - 4 * MIN),), {"cooldown": 0}, policy.NO_DATA, None,
     "samples from before the last scale"),
    ("daily-cap", load((10, 95)), tuple(Attempt(NOW - hours * 3600) for hours in (2, 3, 4)),
     {"max_actions_per_day": 3}, policy.HOLD, 3, "cap: 3 scale actions in the last 24 h, at most 3"),
    ("old-attempts-not-capped", load((10, 95)), tuple(Attempt(NOW - hours * 3600) for hours in (25, 26, 27)),
     {"max_actions_per_day": 3}, policy.SCALE_UP, 3, "scale up to 3 vCPUs"),
    ("step-2", load((10, 90)), (), {"step_cpu": 2}, policy.SCALE_UP, 4, "scale up to 4 vCPUs"),
    ("low-recommend", load((70, 10)), (), {}, policy.RECOMMEND, 1, "scale-down is never live"),
    ("low-outside-window", load((70, 10)), (), {"allow_restart": True, "maintenance_windows": ("02:00-04:00",)},
     policy.RECOMMEND, 1, "only inside a maintenance window (02:00-04:00)"),
    ("low-in-window", load((70, 10)), (), {"allow_restart": True, "maintenance_windows": ("09:30-10:30",)},
     policy.SCALE_DOWN, 1, "CPU min 10.0 % < 30.0 % for 3600 s: scale down to 1 vCPUs"),
    # a 38 % peak of 2 vCPUs is 0.76 cores: 76 % of 1 vCPU, above 80 - 10
    ("hysteresis-peak", load((40, 10), (1, 38), (29, 10)), (),
     {"cpu_down": 40, "allow_restart": True, "maintenance_windows": ("09:30-10:30",)},
     policy.NONE, None, "no smaller size fits"),
    ("down-at-min", load((70, 10)), (), {"min_cpu": 2}, policy.NONE, None, "the bounds leave no smaller size"),
]


@pytest.mark.parametrize("samples, attempts, options, action, cpu, reason",
                         [row[1:] for row in THRESHOLD_TABLE], ids=[row[0] for row in THRESHOLD_TABLE])
def test_threshold_rules(samples, attempts, options, action, cpu, reason):
    decision = decide(TWO, samples, attempts, NOW, Policy(**options))
    assert decision.action == action, decision.reasons
    assert (decision.target.cpu if decision.target else None) == cpu
    assert any(reason in text for text in decision.reasons), decision.reasons


LADDER_TABLE = [
    ("next-rung", Size(2, 2048, "Medium"), load((10, 90)), policy.SCALE_UP, "Large"),
    ("top-rung", Size(8, 8192, "XLarge"), load((10, 90)), policy.HOLD, None),
    ("not-on-ladder", Size(2, 2048, "Other"), load((10, 90)), policy.HOLD, None),
    # 10 % of 4 vCPUs is 0.4 cores: the smallest rung keeping it below 80 - 10 % is Small, not the next one down
    ("down-to-fitting-rung", Size(4, 4096, "Large"), load((70, 10)), policy.RECOMMEND, "Small"),
    ("down-rung-hysteresis", Size(8, 8192, "XLarge"), load((70, 20)), policy.RECOMMEND, "Large"),
    # 95 % of 2 vCPUs is 1.9 cores: 3 vCPUs at 70 %, the first rung with at least 3 is Large
    ("up-to-fitting-rung", Size(2, 2048, "Medium"), load((10, 95)), policy.SCALE_UP, "Large"),
    ("saturated-skips-rungs", Size(1, 1024, "Small"), load((10, 100)), policy.SCALE_UP, "Medium"),
]


@pytest.mark.parametrize("current, samples, action, offering", [row[1:] for row in LADDER_TABLE],
                         ids=[row[0] for row in LADDER_TABLE])
def test_ladder(current, samples, action, offering):
    decision = decide(current, samples, (), NOW, Policy(ladder=LADDER))
    assert decision.action == action, decision.reasons
    assert (decision.target.offering if decision.target else None) == offering


def test_not_on_ladder_says_so():
    decision = decide(Size(2, 2048, "Other"), load((10, 90)), (), NOW, Policy(ladder=LADDER))
    assert "offering Other is not on the ladder (Small, Medium, Large, XLarge)" in decision.reasons[-1]


FOUR = Size(4, 4096)
# The step follows the overload: the demand in cores (the rule's mean plus the margin, never above its peak) at
# target_utilization (70 %), at least one step; a saturated VM (mean CPU >= 98 %) grows by saturated_growth (2).
DEMAND_STEP_TABLE = [
    # id, current, samples, options, action, target cpu
    ("sized-for-demand", FOUR, load((10, 95)), {}, policy.SCALE_UP, 6),  # 3.8 cores / 0.7 = 5.4
    ("margin-capped-by-peak", FOUR, load((10, 85)), {}, policy.SCALE_UP, 5),  # 3.4, not 3.4 * 1.15, / 0.7 = 4.9
    ("margin-below-peak", FOUR, load((5, 95), (5, 85)), {"statistic": "mean"}, policy.SCALE_UP, 6),  # 3.6 * 1.15
    ("one-saturated-sample-is-not-saturation", FOUR, load((9, 90), (1, 100)), {}, policy.SCALE_UP, 6),
    ("saturated-grows-by-factor", FOUR, load((10, 100)), {}, policy.SCALE_UP, 8),
    ("saturated-growth-capped-by-max", FOUR, load((10, 100)), {"max_cpu": 6}, policy.SCALE_UP, 6),
    ("at-least-one-step", TWO, load((10, 85)), {"step_cpu": 3}, policy.SCALE_UP, 5),
    ("small-overload-one-vcpu", FOUR, load((10, 81)), {"target_utilization": 75}, policy.SCALE_UP, 5),
    # the recommender's trigger sizes the same way: 10 vCPUs at a mean 94.5 % (one sample 99 %) is 9.45 cores plus
    # 5 % = 9.92, capped by the 9.9-core peak, at 75 %: 14 vCPUs (a single 99 % sample once grew it by 1.5 to 15)
    ("recommender-capped-by-peak", Size(10, 10240), load((9, 94), (1, 99)),
     {"mode": policy.RECOMMENDER, "statistic": "mean", "margin": 0.05, "target_utilization": 75,
      "saturated_growth": 1.5}, policy.SCALE_UP, 14),
    # down: straight to the smallest size keeping the down window's peak below cpu_up - hysteresis (70 %)
    ("down-to-fit", Size(8, 8192), load((70, 10)), {}, policy.RECOMMEND, 2),  # 0.8 cores / 0.7 = 1.1
    ("down-peak-limits", Size(8, 8192), load((40, 20), (1, 40), (29, 20)), {"cpu_down": 45}, policy.RECOMMEND, 5),
    ("down-not-below-min", Size(8, 8192), load((70, 10)), {"min_cpu": 3}, policy.RECOMMEND, 3),
]


@pytest.mark.parametrize("current, samples, options, action, cpu", [row[1:] for row in DEMAND_STEP_TABLE],
                         ids=[row[0] for row in DEMAND_STEP_TABLE])
def test_step_follows_the_demand(current, samples, options, action, cpu):
    decision = decide(current, samples, (), NOW, Policy(**options))
    assert decision.action == action, decision.reasons
    assert decision.target.cpu == cpu, decision.reasons


RECOMMENDER = dict(mode=policy.RECOMMENDER, window=6 * 3600, half_life=0, allow_restart=True,
                   maintenance_windows=("09:00-11:00",))
RECOMMENDER_TABLE = [
    # 6 h at 25 % of 8 vCPUs = 2 cores; p95 * 1.15 / 0.7 -> 3.29 -> 4 vCPUs; peak 2 cores fits 4 at 70 %
    ("steady-down", Size(8, 8192), load((360, 25)), {}, policy.SCALE_DOWN, 4, "p95 of demand 2.00 cores"),
    ("short-history", Size(8, 8192), load((120, 25)), {}, policy.NONE, None, "covers 33 % of the window, 75 %"),
    # a recent 70 % peak of 8 vCPUs (5.6 cores) needs 8 vCPUs to stay below 80 - 10 %: hysteresis keeps the size
    ("recent-peak-keeps-size", Size(8, 8192), load((355, 25), (5, 70)), {}, policy.NONE, None, "no smaller size fits"),
    ("old-peak-does-not", Size(8, 8192), load((300, 25), (5, 70), (55, 25)), {}, policy.SCALE_DOWN, 4, None),
    ("right-size", Size(4, 4096), load((360, 50)), {}, policy.NONE, None, None),
    # up: mean 90 % of 2 = 1.8 cores * 1.15 / 0.7 = 2.96 -> 3; at 100 % the demand is hidden: double
    ("sized-up", TWO, load((10, 90)), {}, policy.SCALE_UP, 3, "scale up to 3 vCPUs"),
    ("saturated-doubles", TWO, load((10, 100)), {}, policy.SCALE_UP, 4, "scale up to 4 vCPUs"),
    ("capped-up", TWO, load((10, 100)), {"max_cpu": 3}, policy.SCALE_UP, 3, "scale up to 3 vCPUs"),
    # 2 cores / 0.7 -> 3 vCPUs; saturated, at least 2 * 1.5 = 3
    ("saturated-grows-by-factor", TWO, load((10, 100)), {"saturated_growth": 1.5, "margin": 0}, policy.SCALE_UP, 3,
     "scale up to 3 vCPUs"),
]


@pytest.mark.parametrize("current, samples, options, action, cpu, reason", [row[1:] for row in RECOMMENDER_TABLE],
                         ids=[row[0] for row in RECOMMENDER_TABLE])
def test_recommender(current, samples, options, action, cpu, reason):
    decision = decide(current, samples, (), NOW, Policy(**dict(RECOMMENDER, **options)))
    assert decision.action == action, decision.reasons
    assert (decision.target.cpu if decision.target else None) == cpu
    assert reason is None or any(reason in text for text in decision.reasons), decision.reasons


W = 4 * MIN  # a window of four samples
CONFIDENCE_TABLE = [
    # id, sample times (minutes before NOW), half-life (s), confidence
    ("full-window", (0, 1, 2, 3), 0, 1.0),
    ("full-window-decayed", (0, 1, 2, 3), MIN, 1.0),
    ("recent-half", (0, 1), 0, 0.5),
    # decayed, the recent half weighs 1.5 of the full 1.875, but two minutes of history are only half the window
    ("recent-half-decayed-capped-by-lifespan", (0, 1), MIN, 0.5),
    ("old-half", (2, 3), 0, 0.5),
    ("old-half-decayed", (2, 3), MIN, 0.2),  # 0.25 + 0.125 of 1.875: an old history is trusted less
    ("none", (), MIN, 0.0),
]


@pytest.mark.parametrize("minutes, half_life, expected", [row[1:] for row in CONFIDENCE_TABLE],
                         ids=[row[0] for row in CONFIDENCE_TABLE])
def test_confidence_decays_with_the_age_of_the_history(minutes, half_life, expected):
    times = [NOW - minute * MIN for minute in minutes]
    assert policy.confidence(times, NOW, MIN, W, half_life) == pytest.approx(expected)


@pytest.mark.parametrize("half_life, action", [(0, policy.SCALE_DOWN), (3600, policy.NONE)])
def test_an_old_history_is_trusted_less(half_life, action):
    """Three hours of 25 % of 8 vCPUs at the start of a 6-hour window, a gap, then the last 10 minutes: by count the
    history covers 53 % of the window (min_confidence 0.5 passes); with a 1-hour half-life the old hours weigh little
    and the recommender waits."""
    samples = load((180, 25), end=NOW - 3 * 3600) + load((10, 25))
    rules = replace(Policy(**RECOMMENDER), min_confidence=0.5, half_life=half_life)
    decision = decide(Size(8, 8192), samples, (), NOW, rules)
    assert decision.action == action, decision.reasons
    assert (decision.evidence["recommendation"]["confidence"] >= 0.5) is (action == policy.SCALE_DOWN)


def test_recommender_evidence_names_window_samples_percentile_and_confidence():
    decision = decide(Size(8, 8192), load((360, 25)), (), NOW, Policy(**RECOMMENDER))
    evidence = decision.evidence["recommendation"]
    assert (evidence["window"], evidence["samples"], evidence["percentile"], evidence["confidence"]) == (
        21600, 360, 95.0, 1.0)
    assert (evidence["percentile_cores"], evidence["recommended_cpu"]) == (2.0, 4)


MEMORY_TABLE = [
    ("memory-real-high", load((10, 20), memory=95.0), True, policy.SCALE_UP, 3072),
    ("memory-not-real", load((10, 20)), False, policy.NONE, None),
    ("memory-fine", load((10, 20), memory=50.0), True, policy.NONE, None),
]


@pytest.mark.parametrize("samples, real, action, memory", [row[1:] for row in MEMORY_TABLE],
                         ids=[row[0] for row in MEMORY_TABLE])
def test_memory_rule_only_with_real_figures(samples, real, action, memory):
    decision = decide(TWO, samples, (), NOW, Policy(memory_up=90.0, cpu_down_for=10 * MIN), memory_real=real)
    assert decision.action in (action, policy.RECOMMEND if action == policy.NONE else action), decision.reasons
    assert (decision.target.memory if decision.action == policy.SCALE_UP else None) == memory
    if not real:
        assert any("balloon statistics" in reason for reason in decision.reasons)


@pytest.mark.parametrize("values, q, expected", [([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 95, 4), ([5], 10, 5),
                                                 ([], 50, None), ([3, 1, 2], 100, 3)])
def test_percentile(values, q, expected):
    assert policy.percentile(values, q) == expected


def test_decay_weights_favour_recent_samples():
    weights = policy.decay_weights([NOW - 2 * 3600, NOW - 3600, NOW], NOW, 3600)
    assert weights == [0.25, 0.5, 1.0]
    assert policy.percentile([10, 10, 1], 50, weights) == 1


@pytest.mark.parametrize("clock, windows, inside", [
    ("02:30", ("02:00-04:00",), True), ("04:00", ("02:00-04:00",), False), ("23:30", ("23:00-01:00",), True),
    ("00:30", ("23:00-01:00",), True), ("12:00", ("23:00-01:00", "11:00-12:30"), True), ("12:00", (), False)])
def test_maintenance_window(clock, windows, inside):
    hours, minutes = clock.split(":")
    assert policy.in_window(NOW - 10 * 3600 + int(hours) * 3600 + int(minutes) * 60, windows) is inside


@pytest.mark.parametrize("cores, utilization, vcpus", [(2.0, 70, 3), (2.1, 70, 3), (0.01, 70, 1), (1.4, 70, 2)])
def test_vcpus_for(cores, utilization, vcpus):
    assert policy.vcpus_for(cores, utilization) == vcpus


@pytest.mark.parametrize("outcomes, threshold, is_open", [
    ((False, False, False), 3, True), ((False, False, True), 3, False), ((False, False), 3, False),
    ((True, False, False, False), 3, False), ((False,), 0, False)])
def test_circuit_breaker(outcomes, threshold, is_open):
    assert policy.breaker_open(outcomes, threshold) is is_open


def test_fleet_cap_keeps_the_most_urgent():
    hot = decide(TWO, load((10, 99)), (), NOW, Policy())
    warm = decide(TWO, load((10, 85)), (), NOW, Policy())
    idle = decide(TWO, load((70, 40)), (), NOW, Policy())
    chosen = policy.select([warm, idle, hot], max_concurrent=1)
    assert [decision.action for decision in chosen] == [policy.HOLD, policy.NONE, policy.SCALE_UP]
    assert "fleet cap: at most 1 scale actions at once" in chosen[0].reasons[-1]


def test_open_breaker_holds_everything():
    hot = decide(TWO, load((10, 99)), (), NOW, Policy())
    chosen = policy.select([hot], max_concurrent=5, breaker=True)
    assert chosen[0].action == policy.HOLD and "circuit breaker" in chosen[0].reasons[-1]


def test_after_a_scale_only_new_samples_count():
    """The samples of the old size (and the first interval after the scale) are not used: 8 minutes after a scale
    from 2 to 3 vCPUs with 7 new minutes of 90 %, the rule has its 5 minutes again."""
    samples = load((20, 99), (8, 90))
    decision = decide(replace(TWO, cpu=3), samples, (Attempt(NOW - 8 * MIN),), NOW, Policy(cooldown=0))
    assert decision.action == policy.SCALE_UP and decision.evidence["up"]["samples"] == 6

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the pure vertical autoscaling policy (vm_autoscale).

Not a public API: it may change without notice. Stdlib only, no I/O, no clock: samples, the VM's size, its past
scale actions and the options go in; a ``Decision`` (action, target, evidence, reasons) comes out. Small pieces that
compose, as in the Vertical Pod Autoscaler's recommender logic: a percentile estimator, a safety margin, a confidence
from the length of the history, bounds; then the guardrails (cooldown, actions per day, hysteresis, maintenance
window, fleet cap, circuit breaker).

Scale-up is live; scale-down never is: it is a recommendation, or applied inside a maintenance window when the user
allows a restart. CPU figures are CloudStack's ``cpuused``: per cent of all the VM's vCPUs, so demand in cores is
``cpu / 100 * vcpus``. Samples taken before the VM's last scale (and during the first interval after it) were
measured at a size that is not known any more and are not used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from typing import Optional, Tuple

# dataclasses through _compat (stdlib only): on a Python without them the module still loads, and its edge names the
# Python needed
from ansible_collections.livescale.cloudstack.plugins.module_utils._compat import dataclass, field, replace

NONE = "none"                # nothing to change
SCALE_UP = "scale_up"        # apply now, live
SCALE_DOWN = "scale_down"    # apply now, with a restart, inside a maintenance window
RECOMMEND = "recommend"      # a change is advised, not applied (scale-down outside a window or without allow_restart)
HOLD = "hold"                # a change is wanted but a guardrail stops it
NO_DATA = "insufficient_data"  # the metrics cannot support a decision
ACTIONS = (NONE, SCALE_UP, SCALE_DOWN, RECOMMEND, HOLD, NO_DATA)
THRESHOLD = "threshold"
RECOMMENDER = "recommender"
DAY = 86400.0
SATURATED = 98.0  # per cent: above this the real demand is hidden by the VM's size
STALE_INTERVALS = 3  # the newest sample older than this many intervals: the metrics are stale


@dataclass(frozen=True)
class Sample:
    """One stats record: UTC epoch seconds, CPU per cent of all vCPUs, memory used per cent (None: not known)."""

    time: float
    cpu: Optional[float] = None
    memory: Optional[float] = None


@dataclass(frozen=True)
class Rung:
    """One offering of a user-given ladder, smallest first."""

    name: str
    cpu: int
    memory: int


@dataclass(frozen=True)
class Size:
    """A VM's size; ``offering`` is the ladder rung's name (empty for a custom offering)."""

    cpu: int
    memory: int
    offering: str = ""


@dataclass(frozen=True)
class Attempt:
    """A past scale of the VM (listEvents VM.UPGRADE): when, and whether it succeeded."""

    time: float
    ok: bool = True


@dataclass(frozen=True)
class Policy:
    """The options of vm_autoscale (percentages are 0-100, durations seconds, memory MiB)."""

    mode: str = THRESHOLD
    cpu_up: float = 80.0
    cpu_up_for: float = 300.0
    cpu_down: float = 30.0
    cpu_down_for: float = 3600.0
    statistic: str = "min"  # "min": every sample beyond the threshold; "mean": their mean
    memory_up: Optional[float] = None  # None: no memory rule
    memory_up_for: float = 300.0
    step_cpu: int = 1
    step_memory: int = 1024
    ladder: Tuple[Rung, ...] = ()
    min_cpu: int = 1
    max_cpu: Optional[int] = None
    min_memory: int = 0
    max_memory: Optional[int] = None
    window: float = 720 * 60.0  # vm.stats.max.retention.time default (StatsCollector: 720 minutes)
    percentile: float = 95.0
    margin: float = 0.15
    target_utilization: float = 70.0
    saturated_growth: float = 2.0  # the factor a saturated VM grows by at least (its real demand is not visible)
    half_life: float = DAY
    min_confidence: float = 0.75
    hysteresis: float = 10.0
    cooldown: float = 900.0
    max_actions_per_day: int = 6
    allow_restart: bool = False
    maintenance_windows: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What to do with one VM, the target size, the evidence and the reasons (plain English, in order)."""

    action: str
    current: Size
    target: Optional[Size] = None
    evidence: dict = field(default_factory=dict)
    reasons: Tuple[str, ...] = ()

    @property
    def applies(self):
        return self.action in (SCALE_UP, SCALE_DOWN)


# --- small estimators (each usable and testable alone) -------------------------------------------------------------

def percentile(values, q, weights=None):
    """The weighted ``q``-th percentile (0-100) of ``values``: the smallest value whose cumulative weight reaches q %."""
    if not values:
        return None
    pairs = sorted(zip(values, weights or [1.0] * len(values)))
    total = sum(weight for _value, weight in pairs)
    needed, running = total * q / 100.0, 0.0
    for value, weight in pairs:
        running += weight
        if running >= needed - 1e-9:
            return value
    return pairs[-1][0]


def decay_weights(times, now, half_life):
    """Exponential weights halving every ``half_life`` seconds into the past (VPA's decaying histogram)."""
    return [0.5 ** (max(0.0, now - time) / half_life) for time in times] if half_life else [1.0] * len(times)


def with_margin(value, margin):
    """The value plus a safety margin (a fraction, VPA's 15 % by default)."""
    return value * (1.0 + margin)


def confidence(times, now, interval, window, half_life=0.0):
    """How much of ``window`` the samples cover (0-1), the basis for trusting a percentile: their decayed weight over
    the weight of a full window, so a recent gap costs more than an old one (VPA's confidence from the history's
    sample count and lifespan, with the decaying histogram's weights); never more than the history's lifespan."""
    if not window or not times:
        return 0.0
    full = sum(decay_weights([now - index * interval for index in range(int(window // interval))], now, half_life))
    lifespan = (now - min(times) + interval) / window
    return min(1.0, lifespan, sum(decay_weights(times, now, half_life)) / full) if full else 0.0


def vcpus_for(cores, utilization):
    """The vCPUs that run ``cores`` of demand at ``utilization`` per cent."""
    return max(1, int(math.ceil(round(cores * 100.0 / utilization, 6))))


def cores(sample, vcpus):
    """The demand in cores of a sample taken at ``vcpus``."""
    return sample.cpu / 100.0 * vcpus


def in_window(now, windows):
    """Whether UTC epoch ``now`` is inside one of the daily ``HH:MM-HH:MM`` UTC windows (a window may cross midnight)."""
    minute = int(now // 60) % 1440
    for window in windows:
        start, end = (_minute_of_day(part) for part in window.split("-"))
        if (start <= minute < end) if start <= end else (minute >= start or minute < end):
            return True
    return False


def _minute_of_day(text):
    hours, minutes = text.strip().split(":")
    if not (0 <= int(hours) <= 24 and 0 <= int(minutes) < 60):
        raise ValueError("%s is not a time of day (HH:MM)" % text)
    return int(hours) * 60 + int(minutes)


# --- evidence ------------------------------------------------------------------------------------------------------

def usable(samples, attempts, interval, metric="cpu"):
    """Samples with the metric, in time order, taken after the last scale's first interval; and a note on the rest."""
    known = sorted((sample for sample in samples if getattr(sample, metric) is not None), key=lambda sample: sample.time)
    last = max((attempt.time for attempt in attempts), default=None)
    if last is None:
        return known, None
    kept = [sample for sample in known if sample.time >= last + interval]
    dropped = len(known) - len(kept)
    note = ("%d samples from before the last scale (and its first interval) are not used: the size they were measured"
            " at is not known" % dropped) if dropped else None
    return kept, note


def sustained(samples, now, duration, interval, metric, threshold, above, statistic="min"):
    """Whether the metric stayed beyond ``threshold`` for the last ``duration`` seconds, and the evidence.

    The history must reach back ``duration`` (within one interval), be fresh and have no gap longer than two
    intervals; otherwise the answer is None with the reason.
    """
    recent = [sample for sample in samples if sample.time > now - duration - interval / 2.0]
    evidence = dict(metric=metric, threshold=threshold, direction="above" if above else "below", duration=duration,
                    samples=len(recent), statistic=statistic)
    if samples and now - samples[-1].time > STALE_INTERVALS * interval:
        return None, evidence, "the newest %s sample is %d s old: the metrics are stale" % (metric, now - samples[-1].time)
    if not recent or recent[0].time > now - duration + interval:
        covered = now - recent[0].time + interval if recent else 0
        return None, evidence, "%s history covers %d s of the %d s the rule needs" % (metric, covered, duration)
    gaps = [later.time - earlier.time for earlier, later in zip(recent, recent[1:])]
    if gaps and max(gaps) > 2 * interval:
        return None, evidence, "the %s history has a gap of %d s in the last %d s" % (metric, max(gaps), duration)
    values = [getattr(sample, metric) for sample in recent]
    value = min(values) if (statistic == "min") == above else max(values)
    if statistic == "mean":
        value = sum(values) / len(values)
    evidence.update(value=round(value, 2), peak=round(max(values), 2), mean=round(sum(values) / len(values), 2))
    return (value > threshold) if above else (value < threshold), evidence, None


def recommend(samples, now, vcpus, policy, interval):
    """VPA-style: the decayed percentile of demand in cores over the window, plus the margin, as vCPUs at the target
    utilization; with the decayed confidence of the history and the window's peak."""
    window = [sample for sample in samples if sample.time > now - policy.window]
    demand = [cores(sample, vcpus) for sample in window]
    times = [sample.time for sample in window]
    evidence = dict(window=policy.window, samples=len(window), percentile=policy.percentile, margin=policy.margin,
                    target_utilization=policy.target_utilization,
                    confidence=round(confidence(times, now, interval, policy.window, policy.half_life), 3))
    if not demand:
        return None, evidence
    estimate = percentile(demand, policy.percentile, decay_weights(times, now, policy.half_life))
    evidence.update(percentile_cores=round(estimate, 3), peak_cores=round(max(demand), 3),
                    recommended_cpu=vcpus_for(with_margin(estimate, policy.margin), policy.target_utilization))
    return evidence["recommended_cpu"], evidence


def demand_target(policy, current, evidence):
    """The vCPUs a sustained overload asks for: its mean demand plus the margin, never above its observed peak, at
    the target utilization; a saturated VM (mean CPU at SATURATED or more hides its real demand) grows by at least
    ``saturated_growth``."""
    peak, mean = evidence["peak"] / 100.0 * current.cpu, evidence["mean"] / 100.0 * current.cpu
    wanted = vcpus_for(min(with_margin(mean, policy.margin), peak), policy.target_utilization)
    if evidence["mean"] >= SATURATED:
        wanted = max(wanted, int(math.ceil(current.cpu * policy.saturated_growth)))
    return wanted


# --- sizes ---------------------------------------------------------------------------------------------------------

def step(policy, current, direction, metric="cpu", to_cpu=None):
    """The size one step up (``direction`` 1) or down (-1): the next rung of the ladder, or +/- step_cpu / step_memory.

    ``to_cpu`` asks for that many vCPUs instead: up, at least one step and at least ``to_cpu`` (the top rung when none
    is that big); down, the smallest size with at least ``to_cpu``. None when the ladder or the bounds leave no room.
    """
    if policy.ladder:
        size = _ladder_step(policy, current, direction, to_cpu)
    elif metric == "memory":
        size = replace(current, memory=current.memory + direction * policy.step_memory)
    else:
        cpu = current.cpu + direction * policy.step_cpu
        if to_cpu is not None:
            cpu = max(cpu, to_cpu) if direction > 0 else to_cpu
        size = replace(current, cpu=clamp(cpu, policy.min_cpu, policy.max_cpu))
    return size if size is not None and size != current and within_bounds(policy, size) else None


def _ladder_step(policy, current, direction, to_cpu):
    names = [rung.name for rung in policy.ladder]
    if current.offering not in names:
        return None
    index = names.index(current.offering)
    if direction > 0:
        bigger = policy.ladder[index + 1:]
        fitting = [rung for rung in bigger if to_cpu is None or rung.cpu >= to_cpu]
        rung = (fitting or bigger[-1:] or [None])[0]
    else:
        smaller = policy.ladder[:index]
        fitting = [rung for rung in smaller if rung.cpu >= to_cpu] if to_cpu is not None else smaller[-1:]
        rung = fitting[0] if fitting else None
    return Size(rung.cpu, rung.memory, rung.name) if rung else None


def no_room(policy, current, direction):
    """Why there is no size in that direction."""
    if policy.ladder and current.offering not in [rung.name for rung in policy.ladder]:
        return "offering %s is not on the ladder (%s)" % (current.offering or "(custom)",
                                                          ", ".join(rung.name for rung in policy.ladder))
    if policy.ladder:
        return "the ladder has no %s offering than %s" % ("bigger" if direction > 0 else "smaller", current.offering)
    return "the bounds leave no %s size (min_cpu=%s, max_cpu=%s, min_memory=%s, max_memory=%s)" % (
        "bigger" if direction > 0 else "smaller", policy.min_cpu, policy.max_cpu, policy.min_memory, policy.max_memory)


def clamp(value, low, high):
    return max(low, value if high is None else min(high, value))


def within_bounds(policy, size):
    return (policy.min_cpu <= size.cpu and (policy.max_cpu is None or size.cpu <= policy.max_cpu)
            and policy.min_memory <= size.memory and (policy.max_memory is None or size.memory <= policy.max_memory))


# --- the decision --------------------------------------------------------------------------------------------------

def decide(current, samples, attempts, now, policy, interval=60.0, memory_real=True):
    """The decision for one VM. ``attempts`` are its past scales; ``memory_real`` tells whether the memory figures
    come from balloon statistics (without them there is no memory rule)."""
    cpu_samples, note = usable(samples, attempts, interval)
    reasons = (note,) if note else ()
    up = _up(current, cpu_samples, now, policy, interval, samples, attempts, memory_real)
    if up.action == NONE:
        down = _down(current, cpu_samples, now, policy, interval)
        up = replace(down if down.action != NONE else up, evidence=dict(up.evidence, **down.evidence),
                     reasons=up.reasons + down.reasons)
    decision = replace(up, reasons=reasons + up.reasons)
    return guard(decision, attempts, now, policy)


def _up(current, cpu_samples, now, policy, interval, samples, attempts, memory_real):
    fired, evidence, missing = sustained(cpu_samples, now, policy.cpu_up_for, interval, "cpu", policy.cpu_up, True,
                                         policy.statistic)
    evidence = dict(up=evidence)
    if fired:
        target = step(policy, current, +1, to_cpu=demand_target(policy, current, evidence["up"]))
        rule = "CPU %s %.1f %% > %s %% for %d s" % (policy.statistic, evidence["up"]["value"], policy.cpu_up,
                                                    policy.cpu_up_for)
        if target is None:
            return Decision(HOLD, current, None, evidence, ("%s, but %s" % (rule, no_room(policy, current, +1)),))
        return Decision(SCALE_UP, current, target, evidence, (rule + ": scale up to %s" % describe(target),))
    reasons = (missing,) if missing else ()
    if policy.memory_up is not None:
        memory_up = _memory_up(current, samples, attempts, now, policy, interval, memory_real)
        if memory_up.action != NONE:
            return replace(memory_up, evidence=dict(evidence, **memory_up.evidence), reasons=reasons + memory_up.reasons)
        evidence.update(memory_up.evidence)
        reasons += memory_up.reasons
    action = NO_DATA if missing else NONE
    return Decision(action, current, None, evidence, reasons or ("CPU is not above %s %% for %d s" % (
        policy.cpu_up, policy.cpu_up_for),))


def _memory_up(current, samples, attempts, now, policy, interval, memory_real):
    if not memory_real:
        return Decision(NONE, current, reasons=("no memory rule: CloudStack's memory figures are not real without"
                                                " balloon statistics (memoryintfreekbs is -1)",))
    memory_samples, _note = usable(samples, attempts, interval, "memory")
    fired, evidence, missing = sustained(memory_samples, now, policy.memory_up_for, interval, "memory",
                                         policy.memory_up, True, policy.statistic)
    if not fired:
        return Decision(NONE, current, None, dict(memory=evidence), (missing,) if missing else ())
    target = step(policy, current, +1, metric="memory")
    rule = "memory used %.1f %% > %s %% for %d s" % (evidence["value"], policy.memory_up, policy.memory_up_for)
    if target is None:
        return Decision(HOLD, current, None, dict(memory=evidence), ("%s, but %s" % (rule, no_room(policy, current, +1)),))
    return Decision(SCALE_UP, current, target, dict(memory=evidence), (rule + ": scale up to %s" % describe(target),))


def _down(current, cpu_samples, now, policy, interval):
    """A smaller size the evidence supports, with hysteresis: the peak of the recent evidence (the down rule's
    duration, or the up rule's for the recommender, whose target utilization is itself below cpu_up - hysteresis)
    must stay below cpu_up - hysteresis at the new size, so the next run does not scale straight up again. The
    threshold rule goes straight to the smallest such size (the rung that fits on a ladder), not one step: a
    scale-down is a restart, so one is better than several."""
    if policy.mode == RECOMMENDER:
        wanted, evidence = recommend(cpu_samples, now, current.cpu, policy, interval)
        evidence = dict(recommendation=evidence)
        if wanted is None or wanted >= current.cpu:
            return Decision(NONE, current, None, evidence)
        if evidence["recommendation"]["confidence"] < policy.min_confidence:
            return Decision(NONE, current, None, evidence, (
                "a smaller size (%d vCPUs) is not recommended yet: the history covers %.0f %% of the window, %.0f %%"
                " is needed" % (wanted, 100 * evidence["recommendation"]["confidence"], 100 * policy.min_confidence),))
        recent = [cores(sample, current.cpu) for sample in cpu_samples if sample.time > now - policy.cpu_up_for]
        peak = max(recent or [0.0])
        why = "p%g of demand %.2f cores + %d %% margin at %g %% utilization needs %d vCPUs" % (
            policy.percentile, evidence["recommendation"]["percentile_cores"], 100 * policy.margin,
            policy.target_utilization, wanted)
    else:
        fired, rule, _missing = sustained(cpu_samples, now, policy.cpu_down_for, interval, "cpu", policy.cpu_down, False,
                                          policy.statistic)
        evidence = dict(down=rule)
        if not fired:
            return Decision(NONE, current, None, evidence)
        peak, wanted = rule["peak"] / 100.0 * current.cpu, None
        why = "CPU %s %.1f %% < %s %% for %d s" % (policy.statistic, rule["value"], policy.cpu_down, policy.cpu_down_for)
    floor = vcpus_for(peak, policy.cpu_up - policy.hysteresis)
    wanted = floor if wanted is None else max(wanted, floor)
    target = step(policy, current, -1, to_cpu=wanted) if wanted < current.cpu else None
    if target is None or target.cpu < floor:
        blocker = no_room(policy, current, -1) if target is None and floor < current.cpu else (
            "with hysteresis (a recent peak of %.2f cores must stay below %g %% CPU) no smaller size fits" % (
                peak, policy.cpu_up - policy.hysteresis))
        return Decision(NONE, current, None, evidence, ("%s, but %s" % (why, blocker),))
    return Decision(SCALE_DOWN, current, target, evidence, ("%s: scale down to %s" % (why, describe(target)),))


def guard(decision, attempts, now, policy):
    """The per-VM guardrails: cooldown, actions per day, and scale-down only inside a maintenance window with
    allow_restart (else a recommendation)."""
    if not decision.applies:
        return decision
    last = max((attempt.time for attempt in attempts), default=None)
    today = [attempt for attempt in attempts if attempt.time > now - DAY]
    if last is not None and now - last < policy.cooldown:
        return _hold(decision, "cooldown: the last scale was %d s ago, the cooldown is %d s" % (now - last, policy.cooldown))
    if len(today) >= policy.max_actions_per_day:
        return _hold(decision, "cap: %d scale actions in the last 24 h, at most %d a day" % (
            len(today), policy.max_actions_per_day))
    if decision.action == SCALE_DOWN:
        if not policy.allow_restart:
            return replace(decision, action=RECOMMEND, reasons=decision.reasons + (
                "scale-down is never live: it needs a restart; set allow_restart and a maintenance window to apply it",))
        if not in_window(now, policy.maintenance_windows):
            return replace(decision, action=RECOMMEND, reasons=decision.reasons + (
                "scale-down needs a restart and is applied only inside a maintenance window (%s)" % (
                    ", ".join(policy.maintenance_windows) or "none given"),))
    return decision


def _hold(decision, reason):
    return replace(decision, action=HOLD, reasons=decision.reasons + (reason,))


def describe(size):
    name = "%s (" % size.offering if size.offering else ""
    return "%s%d vCPUs, %d MiB%s" % (name, size.cpu, size.memory, ")" if size.offering else "")


# --- the fleet -----------------------------------------------------------------------------------------------------

def breaker_open(outcomes, threshold):
    """Whether the newest ``threshold`` outcomes (newest first, True = success) are all failures."""
    return threshold > 0 and len(outcomes) >= threshold and not any(outcomes[:threshold])


def select(decisions, max_concurrent, breaker=False):
    """The fleet guardrails: at most ``max_concurrent`` actions (the most urgent first: scale-ups, then by CPU), none
    while the circuit breaker is open. Returns the decisions in the given order, the others put on hold."""
    acting = [index for index, decision in enumerate(decisions) if decision.applies]
    acting.sort(key=lambda index: (decisions[index].action != SCALE_UP, -_urgency(decisions[index])))
    allowed = set() if breaker else set(acting[:max(0, max_concurrent)])
    chosen = []
    for index, decision in enumerate(decisions):
        if decision.applies and index not in allowed:
            why = ("circuit breaker: the last scale actions failed in a row; fix the cause, then run again" if breaker
                   else "fleet cap: at most %d scale actions at once, more urgent VMs go first" % max_concurrent)
            decision = _hold(decision, why)
        chosen.append(decision)
    return chosen


def _urgency(decision):
    return decision.evidence.get("up", {}).get("value") or 0.0

"""Benchmark: the vm_autoscale policy against static peak and static mean provisioning over a simulated week.

Several VMs with a demand model (diurnal load with quieter weekends, random bursts, one step change, noise) are run
minute by minute. Each minute the VM produces the sample CloudStack would record (``cpuused`` = served demand over
the vCPUs, capped at 100 %), and the pure policy of ``plugins/module_utils/_autoscale_policy.py`` decides with only
what vm_autoscale would know: the samples, the VM's size and its past scales. A scale-up applies at the next minute
(a live scale); a scale-down is a restart and is only applied inside the maintenance window.

Measured per strategy: vCPU-hours, minutes above 80 % CPU and why each happened (the policy's decision in that
minute), scale actions, restarts (and those outside the window), oscillations (an up and a down of the same VM within
15 minutes, the module's default cooldown), reversals within an hour, and the largest size against static peak's.

    python benchmarks/autoscale_benchmark.py [--days 7] [--vms 6] [--seed 7] [--out benchmarks/results]

Writes ``autoscale.json``, ``autoscale.md`` (the tables) and ``autoscale.png`` (demand against allocation over time)
into ``--out``; exits 1 when the recommended policy misses a target.
"""

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / ".build" / "collections"))

from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale_policy as policy  # noqa: E402

MINUTE = 60.0
START = 1767571200.0  # 2026-01-05T00:00:00Z, a Monday
THRESHOLD = 80.0
WINDOW = "02:00-04:00"
OSCILLATION_MINUTES = 15  # vm_autoscale's default cooldown
VM_SHAPES = [  # name, night cores, day peak cores
    ("web-01", 0.3, 2.5), ("web-02", 0.4, 3.0), ("api-01", 0.6, 4.0), ("api-02", 0.5, 3.5), ("batch-01", 0.2, 1.5),
    ("db-01", 1.0, 3.0), ("cache-01", 0.3, 1.2), ("report-01", 0.2, 2.0)]
STEP_VM, STEP_DAY, STEP_FACTOR = "api-01", 3.5, 1.6
RECOMMENDED = "threshold"
POLICIES = {
    # the recommended options: a 2-minute trigger on the mean (a reaction costs about 2 minutes above 80 %), sized
    # for the demand at 75 %, a 10-minute cooldown, room for a day of diurnal steps and bursts
    "threshold": policy.Policy(mode=policy.THRESHOLD, cpu_up=80, cpu_up_for=120, statistic="mean", cpu_down=30,
                               cpu_down_for=3600, target_utilization=75, hysteresis=5, saturated_growth=1.5, max_cpu=16,
                               cooldown=600, max_actions_per_day=12, allow_restart=True, maintenance_windows=(WINDOW,)),
    # the design documents' rule (80 % for 5 minutes, every sample) with vm_autoscale's defaults otherwise
    "threshold_5min": policy.Policy(mode=policy.THRESHOLD, cpu_up=80, cpu_up_for=300, cpu_down=30, cpu_down_for=3600,
                                    max_cpu=16, cooldown=900, allow_restart=True, maintenance_windows=(WINDOW,)),
    # window 24 h: vm.stats.max.retention.time raised to 1440 minutes; VPA's 24 h half-life
    "recommender": policy.Policy(mode=policy.RECOMMENDER, cpu_up=80, cpu_up_for=300, max_cpu=16, cooldown=900,
                                 window=86400, percentile=95, margin=0.05, target_utilization=75, hysteresis=5,
                                 saturated_growth=1.5, half_life=86400, min_confidence=0.4, allow_restart=True,
                                 maintenance_windows=(WINDOW,)),
    # CloudStack's default retention (12 h), a 3-minute trigger
    "recommender_12h": policy.Policy(mode=policy.RECOMMENDER, cpu_up=80, cpu_up_for=180, max_cpu=16, cooldown=900,
                                     window=43200, percentile=95, margin=0.05, target_utilization=75, hysteresis=5,
                                     saturated_growth=1.5, half_life=86400, min_confidence=0.75, allow_restart=True,
                                     maintenance_windows=(WINDOW,)),
}
OVERLOAD_CAUSES = (  # why a minute above 80 % was not avoided: the policy's decision in that minute
    ("reacting", "the rule fired: the larger size serves from the next minute"),
    ("detecting", "the rule's duration is not filled yet (or a sample dipped below the threshold)"),
    ("fresh_history", "after a scale, the new size's history is shorter than the rule's duration"),
    ("cooldown", "a scale-up held by the cooldown"),
    ("daily_cap", "a scale-up held by max_actions_per_day"),
    ("max_cpu", "the bounds leave no bigger size"),
)


def demand_series(shape, minutes, rng):
    """Cores wanted each minute: diurnal cosine peaking at 14:00 UTC (weekends at 60 %), bursts, noise, step."""
    name, night, peak = shape
    bursts = []
    for day in range(int(math.ceil(minutes / 1440.0))):
        for _burst in range(rng.choice((0, 1, 1, 2))):
            start = day * 1440 + rng.randrange(7 * 60, 22 * 60)
            bursts.append((start, start + rng.randrange(10, 45), rng.uniform(1.0, 2.5)))
    noise, series = 0.0, []
    for minute in range(minutes):
        hour = (minute % 1440) / 60.0
        weekend = 0.6 if (minute // 1440) % 7 in (5, 6) else 1.0
        level = night + (peak * weekend - night) * (1 + math.cos(2 * math.pi * (hour - 14) / 24)) / 2
        noise = 0.8 * noise + rng.gauss(0, 0.04)
        level *= 1 + noise
        level += sum(extra for begin, end, extra in bursts if begin <= minute < end)
        if name == STEP_VM and minute >= STEP_DAY * 1440:
            level *= STEP_FACTOR
        series.append(max(0.05, level))
    return series


def utilization(demand, vcpus):
    """CPU per cent CloudStack shows: the demand the vCPUs can serve, over the vCPUs."""
    return min(demand, vcpus) / vcpus * 100.0


def run_static(demand, vcpus):
    """A fixed size for the whole run."""
    return dict(allocation=[vcpus] * len(demand), actions=[], overload={})


def run_hindsight(demand):
    """The bound no policy can beat: knowing the demand, never above 80 %, shrinking only inside the window."""
    vcpus, allocation = 0, []
    for minute, wanted in enumerate(demand):
        needed = policy.vcpus_for(wanted, THRESHOLD)
        inside = policy.in_window(START + (minute + 1) * MINUTE, (WINDOW,))
        vcpus = needed if inside else max(vcpus, needed)
        allocation.append(vcpus)
    return dict(allocation=allocation, actions=[], overload={})


def overload_cause(decision):
    """The OVERLOAD_CAUSES key of the decision taken in a minute above the threshold."""
    text = " ".join(decision.reasons)
    if decision.action == policy.HOLD:
        return "cooldown" if "cooldown:" in text else "daily_cap" if "cap:" in text else "max_cpu"
    return {policy.SCALE_UP: "reacting", policy.NO_DATA: "fresh_history"}.get(decision.action, "detecting")


def run_policy(demand, rules, start_vcpus):
    """The loop every minute with what vm_autoscale would know; returns the allocation and the actions."""
    vcpus, samples, attempts, actions, allocation, overload = start_vcpus, [], [], [], [], {}
    keep = max(rules.window, rules.cpu_down_for, rules.cpu_up_for) + 2 * MINUTE
    for minute, wanted in enumerate(demand):
        now = START + (minute + 1) * MINUTE
        samples.append(policy.Sample(now, round(utilization(wanted, vcpus), 2)))
        if samples[0].time < now - keep:
            samples.pop(0)
        allocation.append(vcpus)
        decision = policy.decide(policy.Size(vcpus, vcpus * 1024), samples, attempts, now, rules)
        if utilization(wanted, vcpus) > THRESHOLD:
            cause = overload_cause(decision)
            overload[cause] = overload.get(cause, 0) + 1
        if decision.applies:
            actions.append(dict(minute=minute + 1, action=decision.action, before=vcpus, after=decision.target.cpu,
                                in_window=policy.in_window(now, (WINDOW,))))
            attempts.append(policy.Attempt(now))
            vcpus = decision.target.cpu
            samples = [sample for sample in samples if sample.time > now]  # the loop cannot use them any more anyway
    return dict(allocation=allocation, actions=actions, overload=overload)


def measure(demand, outcome, cooldown_minutes):
    """The figures of one VM under one strategy."""
    allocation, actions = outcome["allocation"], outcome["actions"]
    above = sum(1 for wanted, vcpus in zip(demand, allocation) if utilization(wanted, vcpus) > THRESHOLD)
    restarts = [action for action in actions if action["action"] == policy.SCALE_DOWN]
    pairs = list(zip(actions, actions[1:]))

    def reversals(within):
        return sum(1 for first, second in pairs if first["action"] != second["action"]
                   and second["minute"] - first["minute"] <= within)
    return dict(vcpu_hours=round(sum(allocation) / 60.0, 1), minutes_above_80=above, minutes=len(demand),
                scale_actions=len(actions), scale_ups=len(actions) - len(restarts), restarts=len(restarts),
                restarts_outside_window=sum(1 for action in restarts if not action["in_window"]),
                oscillations=reversals(cooldown_minutes), reversals_within_1h=reversals(60), max_vcpus=max(allocation),
                above_80_by_cause=outcome["overload"])


def total(figures):
    keys = ("vcpu_hours", "minutes_above_80", "minutes", "scale_actions", "scale_ups", "restarts",
            "restarts_outside_window", "oscillations", "reversals_within_1h")
    summed = dict((key, round(sum(entry[key] for entry in figures), 1)) for key in keys)
    summed["share_above_80"] = round(summed["minutes_above_80"] / summed["minutes"], 5)
    summed["above_80_by_cause"] = dict((cause, sum(entry["above_80_by_cause"].get(cause, 0) for entry in figures))
                                       for cause, _text in OVERLOAD_CAUSES)
    return summed


def tables(results):
    """autoscale.md: the totals per strategy, the targets, and why minutes above 80 % happened."""
    lines = ["# Vertical autoscaling over a simulated week", "",
             "%d VMs, %d days, seed %d; maintenance window %s UTC; step change x%g on %s at day %g. Generated by"
             " `benchmarks/autoscale_benchmark.py`; recommended policy: `%s`. Oscillation: an up and a down of a VM"
             " within %d minutes. `hindsight` is a bound, not a policy: it knows the demand, is never above 80 %% and"
             " shrinks only inside the window (its size changes are not counted)." % (
                 len(results["vms"]), results["days"], results["seed"], WINDOW, STEP_FACTOR, STEP_VM, STEP_DAY,
                 results["recommended"], OSCILLATION_MINUTES), "",
             "| strategy | vCPU-h | vs static peak | x static mean | minutes > 80 % | share > 80 % | scale-ups |"
             " restarts | restarts outside window | oscillations | reversals <= 1 h | VMs above static peak size |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, entry in results["strategies"].items():
        figures = entry["total"]
        lines.append("| %s | %.1f | %+.1f %% | %.2f | %d | %.2f %% | %d | %d | %d | %d | %d | %d |" % (
            name, figures["vcpu_hours"], 0.0 - 100 * figures["saving_vs_static_peak"], figures["times_static_mean"],
            figures["minutes_above_80"], 100 * figures["share_above_80"], figures["scale_ups"], figures["restarts"],
            figures["restarts_outside_window"], figures["oscillations"], figures["reversals_within_1h"],
            figures["vms_above_static_peak_size"]))
    lines += ["", "Targets: at least 40 % fewer vCPU-hours than static peak, at most 1 % of minutes above 80 %, 0"
              " oscillations, 0 restarts outside the window.", "", "| policy | met | missed |", "|---|---|---|"]
    for name in POLICIES:
        targets = results["strategies"][name]["targets"]
        lines.append("| %s | %s | %s |" % (name, ", ".join(key for key, ok in targets.items() if ok) or "-",
                                           ", ".join(key for key, ok in targets.items() if not ok) or "-"))
    lines += ["", "Minutes above 80 % by the policy's decision in that minute:", "",
              "| policy | " + " | ".join(cause for cause, _text in OVERLOAD_CAUSES) + " |",
              "|---|" + "---|" * len(OVERLOAD_CAUSES)]
    for name in POLICIES:
        causes = results["strategies"][name]["total"]["above_80_by_cause"]
        lines.append("| %s | %s |" % (name, " | ".join(str(causes[cause]) for cause, _text in OVERLOAD_CAUSES)))
    lines += [""] + ["- `%s`: %s" % cause for cause in OVERLOAD_CAUSES]
    return "\n".join(lines) + "\n"


def plot(path, names, demands, outcomes, days):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axes = plt.subplots(len(names), 1, figsize=(14, 2.1 * len(names)), sharex=True)
    hours = [minute / 60.0 for minute in range(len(demands[0]))]
    for axis, name, demand in zip(axes, names, demands):
        axis.plot(hours, demand, color="0.55", linewidth=0.6, label="demand (cores)")
        axis.step(hours, outcomes["recommender"][name]["allocation"], where="post", color="tab:blue", linewidth=0.8,
                  alpha=0.8, label="recommender (vCPUs)")
        axis.step(hours, outcomes["threshold"][name]["allocation"], where="post", color="tab:green", linewidth=1.2,
                  label="threshold, recommended (vCPUs)")
        axis.step(hours, outcomes["threshold_5min"][name]["allocation"], where="post", color="tab:olive",
                  linewidth=0.7, alpha=0.8, label="threshold 5 min (vCPUs)")
        axis.step(hours, outcomes["recommender_12h"][name]["allocation"], where="post", color="tab:purple",
                  linewidth=0.8, alpha=0.8, label="recommender 12 h (vCPUs)")
        axis.plot(hours, outcomes["static_peak"][name]["allocation"], color="tab:red", linestyle="--", linewidth=0.8,
                  label="static peak")
        axis.plot(hours, outcomes["static_mean"][name]["allocation"], color="tab:orange", linestyle=":", linewidth=0.8,
                  label="static mean")
        axis.set_ylabel(name, rotation=0, ha="right")
        axis.set_xticks([day * 24 for day in range(days + 1)])
        axis.grid(alpha=0.3)
    axes[0].legend(loc="upper left", ncol=7, fontsize=7)
    axes[-1].set_xlabel("hours (simulated week from Monday 00:00 UTC; maintenance window %s UTC)" % WINDOW)
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--vms", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shapes = VM_SHAPES[:args.vms]
    if STEP_VM not in [shape[0] for shape in shapes]:
        shapes[-1] = (STEP_VM,) + shapes[-1][1:]
    minutes = args.days * 1440
    demands = [demand_series(shape, minutes, rng) for shape in shapes]
    names = [shape[0] for shape in shapes]
    started = time.monotonic()
    outcomes = dict((strategy, {}) for strategy in ("static_peak", "static_mean", "hindsight") + tuple(POLICIES))
    for name, demand in zip(names, demands):
        outcomes["static_peak"][name] = run_static(demand, policy.vcpus_for(max(demand), THRESHOLD))
        outcomes["static_mean"][name] = run_static(demand, policy.vcpus_for(sum(demand) / len(demand), THRESHOLD))
        outcomes["hindsight"][name] = run_hindsight(demand)
        start = outcomes["static_mean"][name]["allocation"][0]
        for strategy, rules in POLICIES.items():
            outcomes[strategy][name] = run_policy(demand, rules, start)
    results = dict(days=args.days, vms=names, seed=args.seed, threshold_percent=THRESHOLD, maintenance_window=WINDOW,
                   step_change=dict(vm=STEP_VM, day=STEP_DAY, factor=STEP_FACTOR),
                   policies=dict((name, rules.__dict__ if hasattr(rules, "__dict__") else str(rules))
                                 for name, rules in POLICIES.items()),
                   strategies={})
    for strategy, per_vm in outcomes.items():
        figures = dict((name, measure(demand, per_vm[name], OSCILLATION_MINUTES))
                       for name, demand in zip(names, demands))
        results["strategies"][strategy] = dict(total=total(list(figures.values())), per_vm=figures,
                                               actions=dict((name, per_vm[name]["actions"]) for name in names))
    peak_hours = results["strategies"]["static_peak"]["total"]["vcpu_hours"]
    mean_hours = results["strategies"]["static_mean"]["total"]["vcpu_hours"]
    peak_sizes = results["strategies"]["static_peak"]["per_vm"]
    for strategy in results["strategies"].values():
        strategy["total"]["saving_vs_static_peak"] = round(1 - strategy["total"]["vcpu_hours"] / peak_hours, 4)
        strategy["total"]["times_static_mean"] = round(strategy["total"]["vcpu_hours"] / mean_hours, 3)
        strategy["total"]["vms_above_static_peak_size"] = sum(
            1 for name, entry in strategy["per_vm"].items() if entry["max_vcpus"] > peak_sizes[name]["max_vcpus"])
    for strategy in POLICIES:
        figures = results["strategies"][strategy]["total"]
        results["strategies"][strategy]["targets"] = dict(
            saving_at_least_40_percent=figures["saving_vs_static_peak"] >= 0.40,
            at_most_1_percent_above_80=figures["share_above_80"] <= 0.01,
            no_oscillations=figures["oscillations"] == 0,
            no_restarts_outside_window=figures["restarts_outside_window"] == 0)
    results["recommended"] = RECOMMENDED
    results["overload_causes"] = dict(OVERLOAD_CAUSES)
    results["seconds"] = round(time.monotonic() - started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "autoscale.json").write_text(json.dumps(results, indent=1, default=list) + "\n")
    (out / "autoscale.md").write_text(tables(results))
    plot(out / "autoscale.png", names, demands, outcomes, args.days)
    for strategy, entry in results["strategies"].items():
        print("%-12s %s" % (strategy, json.dumps(entry["total"])))
    for strategy in POLICIES:
        print("targets %-16s %s" % (strategy, json.dumps(results["strategies"][strategy]["targets"])))
    return 0 if all(results["strategies"][RECOMMENDED]["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

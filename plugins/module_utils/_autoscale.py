# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the I/O side of vm_autoscale (and of the EDA event source).

Not a public API: it may change without notice. It lists the VMs, reads their usage (``_metrics``) and their past
scale actions (``listEvents`` ``VM.UPGRADE``, the event of ``ScaleVMCmd`` and ``UpgradeVMCmd``; completed events,
``ERROR`` level for a failed one, as ``ActionEventInterceptor`` records them), lets the pure policy decide,
plans every action with the same planner as vm_scale and carries it out with the same rollouts
(``_scaling.plan_vm``, ``_rollout.run_all``). Everything CloudStack knows (history, cooldowns, failures) is read
from CloudStack, so a run keeps no state of its own and is safe to repeat every minute.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.urls import open_url

from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale_policy as policy
from ansible_collections.livescale.cloudstack.plugins.module_utils import _metrics as metrics
from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackError, InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_vm, list_vms_named, owner_filters, owner_scope
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import Rollout, api_int, run_all, view
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import Reader, plan_vm, plan_view, predicted

SCALE_EVENT = "VM.UPGRADE"  # the @ActionEvent of scaleVirtualMachine and changeServiceForVirtualMachine
MINUTE = 60.0
DEFAULT_INTERVAL = 60.0  # vm.stats.interval default (Config.VmStatsInterval, 60000 ms)

POLICY_SPEC = dict(
    mode=dict(type="str", choices=[policy.THRESHOLD, policy.RECOMMENDER], default=policy.THRESHOLD),
    cpu_up=dict(type="float", default=80.0),
    cpu_up_for=dict(type="float", default=5),
    cpu_down=dict(type="float", default=30.0),
    cpu_down_for=dict(type="float", default=60),
    statistic=dict(type="str", choices=["min", "mean"], default="min"),
    memory_up=dict(type="float"),
    memory_up_for=dict(type="float", default=5),
    step_cpu=dict(type="int", default=1),
    step_memory=dict(type="int", default=1024),
    ladder=dict(type="list", elements="str", default=[]),
    min_cpu=dict(type="int", default=1),
    max_cpu=dict(type="int"),
    min_memory=dict(type="int", default=0),
    max_memory=dict(type="int"),
    window=dict(type="int", default=720),
    percentile=dict(type="float", default=95.0),
    margin=dict(type="float", default=0.15),
    target_utilization=dict(type="float", default=70.0),
    saturated_growth=dict(type="float", default=2.0),
    half_life=dict(type="int", default=1440),
    min_confidence=dict(type="float", default=0.75),
    hysteresis=dict(type="float", default=10.0),
    cooldown=dict(type="int", default=15),
    max_actions_per_day=dict(type="int", default=6),
    max_concurrent=dict(type="int", default=5),
    breaker_failures=dict(type="int", default=3),
    maintenance_windows=dict(type="list", elements="str", default=[]),
    allow_restart=dict(type="bool", default=False),
    allow_migration=dict(type="bool", default=False),
    metrics_source=dict(type="str", choices=["cloudstack", "prometheus"], default="cloudstack"),
    prometheus_url=dict(type="str"),
    prometheus_query=dict(type="str"),
    prometheus_label=dict(type="str", default="instance"),
    reference_time=dict(type="str"),
)
SELECT_SPEC = dict(vm=dict(type="list", elements="str", aliases=["vms"], default=[]), name=dict(type="str"),
                   tags=dict(type="dict", default={}))


# option: (lowest, highest, whether the lowest itself is allowed, what the option is); None for no bound
BOUNDS = dict(
    cpu_up=(0, 100, False, "a CPU per cent"), cpu_down=(0, 100, True, "a CPU per cent"),
    memory_up=(0, 100, False, "a memory per cent"), target_utilization=(0, 100, False, "a CPU per cent"),
    percentile=(0, 100, False, "a percentile"), hysteresis=(0, 100, True, "per cent points"),
    margin=(0, None, True, "a fraction (0.15 for 15 %)"), min_confidence=(0, 1, True, "a fraction (0.75 for 75 %)"),
    saturated_growth=(1, None, True, "a factor"), cpu_up_for=(0, None, False, "minutes"),
    cpu_down_for=(0, None, False, "minutes"), memory_up_for=(0, None, False, "minutes"), window=(0, None, False, "minutes"),
    half_life=(0, None, True, "minutes (0 for equal weights)"), cooldown=(0, None, True, "minutes"), step_cpu=(1, None, True, "vCPUs"),
    step_memory=(1, None, True, "MiB"), min_cpu=(1, None, True, "vCPUs"), max_cpu=(1, None, True, "vCPUs"),
    min_memory=(0, None, True, "MiB"), max_memory=(1, None, True, "MiB"),
    max_actions_per_day=(1, None, True, "actions"), max_concurrent=(1, None, True, "actions"),
    breaker_failures=(0, None, True, "failures (0 turns the breaker off)"),
)


def check_bounds(params):
    """InvalidValue naming the first option outside its range (BOUNDS), or min_* above max_*."""
    for name, (lowest, highest, lowest_allowed, unit) in BOUNDS.items():
        value = params.get(name)
        if value is None:
            continue
        below = value < lowest or (value == lowest and not lowest_allowed)
        if below or (highest is not None and value > highest):
            wanted = "%s %s" % ("at least" if lowest_allowed else "more than", lowest) + (
                " and at most %s" % highest if highest is not None else "")
            raise InvalidValue("%s=%s is out of range: give %s, %s" % (name, value, unit, wanted))
    for low, high in (("min_cpu", "max_cpu"), ("min_memory", "max_memory")):
        if params.get(high) is not None and params[high] < params[low]:
            raise InvalidValue("%s=%s is below %s=%s: raise %s or lower %s" % (high, params[high], low, params[low], high,
                                                                               low))


def policy_of(params, ladder=()):
    """The pure Policy of the module options (minutes become seconds); InvalidValue for options that cannot work."""
    check_bounds(params)
    if params["cpu_down"] >= params["cpu_up"] - params["hysteresis"]:
        raise InvalidValue("cpu_down=%s must be below cpu_up - hysteresis (%s - %s), or a scale-down would be followed by"
                           " a scale-up: lower cpu_down or raise cpu_up" % (
                               params["cpu_down"], params["cpu_up"], params["hysteresis"]))
    if params["target_utilization"] > params["cpu_up"] - params["hysteresis"]:
        raise InvalidValue("target_utilization=%s must not be above cpu_up - hysteresis (%s): lower it or raise cpu_up" % (
            params["target_utilization"], params["cpu_up"] - params["hysteresis"]))
    for window in params["maintenance_windows"]:
        try:
            policy.in_window(0, [window])
        except ValueError:
            raise InvalidValue("maintenance_windows: %r is not a daily window: give it as HH:MM-HH:MM (UTC), e.g."
                               " 22:00-04:00" % window)
    minutes = ("cpu_up_for", "cpu_down_for", "memory_up_for", "window", "half_life", "cooldown")
    names = ("mode", "cpu_up", "cpu_down", "statistic", "memory_up", "step_cpu", "step_memory", "min_cpu", "max_cpu",
             "min_memory", "max_memory", "percentile", "margin", "target_utilization", "saturated_growth", "min_confidence",
             "hysteresis",
             "max_actions_per_day", "allow_restart")
    values = dict((name, params[name]) for name in names)
    values.update((name, params[name] * MINUTE) for name in minutes)
    return policy.Policy(ladder=tuple(ladder), maintenance_windows=tuple(params["maintenance_windows"]), **values)


def reference_time(params):
    """The time to judge at: the option (CloudStack's date format, for replays and simulated clocks) or now."""
    if not params.get("reference_time"):
        return time.time()
    parsed = metrics.parse_time(params["reference_time"])
    if parsed is None:
        raise InvalidValue("reference_time=%r is not a time: give it as CloudStack writes dates, e.g."
                           " 2026-01-05T10:00:00+0000" % params["reference_time"])
    return parsed


def select_vms(api, params):
    """The VMs named in ``vm`` (id or exact name, each exactly one), else every VM matching the filters."""
    scope = owner_scope(api, params)
    if params["vm"]:
        return [find_vm(api, key, **scope) for key in params["vm"]]
    wanted = dict((key, tag_text(value)) for key, value in params["tags"].items())
    tags = [dict(key=key, value=value) for key, value in sorted(wanted.items())]
    rows = list_vms_named(api, params.get("name"), tags=tags or None, **owner_filters(**scope)[1])
    return [row for row in rows if all(dict((tag.get("key"), tag.get("value")) for tag in row.get("tags") or [])
                                       .get(key) == value for key, value in wanted.items())]


def tag_text(value):
    """A tag value as CloudStack stores it (YAML's true is the text ``true``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def scale_attempts(api, vm_ids, now):
    """{vm id: [Attempt]} from the completed scale events of the last day, and the outcomes newest first."""
    found = dict((vm_id, []) for vm_id in vm_ids)
    events = api.list("listEvents", "event", action="read scale events", type=SCALE_EVENT, listall=True,
                      startdate=metrics.format_time(now - policy.DAY))
    outcomes = []
    for event in events:
        when = metrics.parse_time(event.get("created"))
        if event.get("resourceid") not in found or when is None or event.get("state", "Completed") != "Completed":
            continue
        attempt = policy.Attempt(when, event.get("level") != "ERROR")
        found[event["resourceid"]].append(attempt)
        outcomes.append(attempt)
    return found, tuple(attempt.ok for attempt in sorted(outcomes, key=lambda attempt: -attempt.time))


def ladder_of(reader, names):
    """The ladder's offerings as Rungs, smallest first as given; each must be a fixed offering."""
    rungs = []
    for name in names:
        offering = reader.target_offering(name)
        if offering.custom:
            raise InvalidValue("ladder: %s is a custom offering; a ladder lists fixed offerings, smallest first: drop it,"
                               " or leave ladder out to step a custom offering by step_cpu" % name)
        rungs.append(policy.Rung(offering.name, offering.cpu, offering.memory))
    return rungs


class Run:
    """One pass of the loop over a fleet: read, decide, plan, apply (unless checking)."""

    def __init__(self, api, params, check_mode):
        self.api, self.params, self.check_mode = api, params, check_mode
        self.reader = Reader(api)
        self.now = reference_time(params)
        self.policy = policy_of(params, ladder_of(self.reader, params["ladder"]))
        self.interval = (self.reader.setting("vm.stats.interval", int) or DEFAULT_INTERVAL * 1000) / 1000.0

    def history_start(self):
        """How far back the rules and the recommender look."""
        spans = [self.policy.cpu_up_for, self.policy.cpu_down_for, self.policy.memory_up_for]
        if self.policy.mode == policy.RECOMMENDER:
            spans.append(self.policy.window)
        return self.now - max(spans) - 2 * self.interval

    def usage(self, vms):
        if self.params["metrics_source"] == "prometheus":
            return self.prometheus_usage(vms)
        return metrics.UsageReader(self.api).read(vms, self.history_start(), self.now)

    def prometheus_usage(self, vms):
        if not (self.params.get("prometheus_url") and self.params.get("prometheus_query")):
            raise InvalidValue("metrics_source=prometheus needs prometheus_url and prometheus_query: give both, or use"
                               " metrics_source=cloudstack")

        def opener(url):
            return open_url(url, timeout=self.params["api_timeout"], validate_certs=self.params["api_verify_ssl"]).read()
        found = metrics.prometheus_series(opener, self.params["prometheus_url"], self.params["prometheus_query"],
                                          self.history_start(), self.now, self.interval, self.params["prometheus_label"])
        by_vm = {}
        for vm in vms:
            keys = [vm.get(field) for field in ("name", "instancename", "id", "displayname")]
            missing = "Prometheus has no series with %s=%s" % (self.params["prometheus_label"], vm.get("name"))
            by_vm[vm["id"]] = next((found[key] for key in keys if key in found), None) or metrics.Series(
                [], metrics.PROMETHEUS, [missing])
        return by_vm

    def decide(self, vm, series, attempts):
        current = policy.Size(api_int(vm.get("cpunumber")) or 0, api_int(vm.get("memory")) or 0,
                              vm.get("serviceofferingname") or "")
        if vm.get("state") != "Running":
            return policy.Decision(policy.NONE, current, reasons=("VM is %s: only running VMs are scaled" % vm.get("state"),))
        decision = policy.decide(current, series.samples, attempts, self.now, self.policy, self.interval,
                                 series.memory_real)
        if decision.target is not None and not self.policy.ladder and not self.reader.offering(
                vm.get("serviceofferingid")).custom:
            decision = policy.Decision(policy.HOLD, current, None, decision.evidence, decision.reasons + (
                "VM %s has the fixed offering %s: give a ladder of offerings, or move it to a custom offering" % (
                    vm.get("name"), vm.get("serviceofferingname")),))
        return decision

    def target_of(self, vm, size):
        """The planner Target of a policy size: the rung's offering, or the custom offering with new values."""
        if size.offering and self.policy.ladder:
            return planner.Target(self.reader.target_offering(size.offering))
        offering = self.reader.offering(vm.get("serviceofferingid"))
        return planner.Target(offering, cpu=size.cpu, memory=size.memory)

    def options(self, decision):
        """Live only, unless the user allows more: a restart for a scale-down (inside a window), or for a scale-up
        inside a window with allow_restart."""
        restart = decision.action == policy.SCALE_DOWN or (
            self.policy.allow_restart and policy.in_window(self.now, self.policy.maintenance_windows))
        return planner.Options(allow_migration=self.params["allow_migration"], allow_restart=restart)

    def plan(self, vm, decision):
        """(decision, rollout or None, plan): a refused plan holds the decision with the planner's reasons."""
        options = self.options(decision)
        plan, situation = plan_vm(self.reader, vm, self.target_of(vm, decision.target), options)
        if plan.action == planner.REFUSE:
            return policy.Decision(policy.HOLD, decision.current, decision.target, decision.evidence, decision.reasons + tuple(
                "readiness: %s" % reason for reason in plan.reasons)), None, plan
        if plan.action == planner.NONE:
            return decision, None, plan
        self.reader.commit(vm, plan)
        return decision, Rollout(vm, plan, situation.settings.auto_migrate, options.allow_restart), plan

    def run(self):
        stopwatch = summary.Stopwatch()
        vms = select_vms(self.api, self.params)
        usage = self.usage(vms)
        attempts, outcomes = scale_attempts(self.api, [vm["id"] for vm in vms], self.now)
        breaker = policy.breaker_open(outcomes, self.params["breaker_failures"])
        decisions = policy.select([self.decide(vm, usage[vm["id"]], attempts[vm["id"]]) for vm in vms],
                                  self.params["max_concurrent"], breaker)
        entries, plans, rollouts = [], [], []
        for vm, decision in zip(vms, decisions):
            rollout = plan = None
            if decision.applies:
                decision, rollout, plan = self.plan(vm, decision)
            entry = entry_of(vm, decision, usage[vm["id"]], plan)
            if rollout is not None:
                rollouts.append((entry, rollout))
            entries.append(entry)
            plans.append(plan)
        if rollouts and not self.check_mode:
            self.apply(rollouts)
        for vm, entry, plan in zip(vms, entries, plans):
            entry["summary"] = entry_line(vm, entry, plan, self.check_mode)
        counts = action_counts(entries)
        return dict(changed=any(entry["applied"] for entry in entries) or bool(rollouts and self.check_mode),
                    vms=entries, counts=counts, summary=run_line(counts, stopwatch, self.check_mode),
                    breaker=dict(open=breaker, recent_outcomes=list(outcomes[:10])),
                    reference_time=metrics.format_time(self.now), stats_interval=self.interval)

    def apply(self, rollouts):
        """Carry out the rollouts, at most max_concurrent jobs at once; stop starting new ones after
        breaker_failures failures in a row."""
        limit = self.params["breaker_failures"]

        def may_start():
            failures = 0
            for _entry, rollout in reversed([pair for pair in rollouts if pair[1].finished]):
                if rollout.error is None:
                    break
                failures += 1
            return not (limit and failures >= limit)

        left = run_all(self.api, [rollout for _entry, rollout in rollouts], self.params["wait_timeout"],
                       max(1, self.params["max_concurrent"]), may_start)
        for entry, rollout in rollouts:
            if rollout in left:
                entry.update(action=policy.HOLD, reasons=entry["reasons"] + [
                    "circuit breaker: %d scale actions of this run failed in a row" % limit])
                continue
            try:
                entry["vm"] = rollout.outcome(self.api)
                entry.update(applied=True, plan=plan_view(rollout.plan))
            except CloudStackError as error:
                entry.update(error=str(error), reasons=entry["reasons"] + ["the scale failed: %s" % error])


def entry_of(vm, decision, series, plan):
    """One VM's entry in the result."""
    def size_view(size):
        return dict(cpu_number=size.cpu, memory=size.memory, service_offering=size.offering or None) if size else None
    return dict(id=vm["id"], name=vm.get("name"), action=decision.action, applied=False, error=None,
                current=size_view(decision.current), target=size_view(decision.target),
                evidence=decision.evidence, reasons=list(decision.reasons), metrics=series.view(),
                plan=plan_view(plan) if plan is not None else None)


def action_counts(entries):
    """How many VMs got each action, how many were applied and how many failed."""
    counts = dict((action, 0) for action in policy.ACTIONS)
    for entry in entries:
        counts[entry["action"]] += 1
    counts.update(applied=sum(entry["applied"] for entry in entries),
                  failed=sum(entry["error"] is not None for entry in entries))
    return counts


def run_line(counts, stopwatch, check_mode):
    """``5 VMs: 1 scale up, 3 none, 1 recommend, 1 applied, 0 failed, 2.3 s``."""
    tally = dict((action.replace("_", " "), counts[action]) for action in policy.ACTIONS)
    order = [action.replace("_", " ") for action in policy.ACTIONS]
    outcome = "%d applied, %d failed" % (counts["applied"], counts["failed"])
    return summary.counts("VM", tally, order, None if check_mode else stopwatch, check_mode, detail=outcome)


def entry_line(vm, entry, plan, check_mode):
    """One VM's ``summary``: the scale as vm_scale words it (in check mode as planned), its failure, or the decision
    and its first reason."""
    name = vm.get("name") or vm.get("id")
    if entry["applied"]:
        return summary.scaled(name, view(vm), view(entry["vm"]), plan.action)
    if entry["error"] is not None:
        return "%s: %s failed: %s" % (name, entry["action"].replace("_", " "), entry["error"])
    if check_mode and plan is not None and plan.action not in (planner.NONE, planner.REFUSE):
        return summary.scaled(name, view(vm), view(predicted(vm, plan)), plan.action, check_mode=True)
    return "%s: %s: %s" % (name, entry["action"].replace("_", " "), summary.first_reason(entry["reasons"]))


def autoscale(module):
    """vm_autoscale: one pass of the loop; returns the result dict."""
    return Run(module.api, module.params, module.check_mode).run()

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: scale many VMs in one task (vm_scale_fleet).

Not a public API: it may change without notice. The VMs are selected from one listVirtualMachines call, planned one
after the other with the same reader and planner as vm_scale (so each listing is read once for all of them, and each
plan counts the capacity and limits the plans before it take), then carried out with at most ``max_jobs`` jobs at a
time, every pending job polled in one round per tick.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import math
import re

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import Ambiguous, CloudStackError, InvalidValue, NotFound
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import label, owner_filters, owner_scope
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import (
    Rollout, interrupted, run_all, settle, submit_without_waiting, without_wait_problem)
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import (
    VALUE_OPTIONS, Reader, changes, options_of, plan_vm, plan_view, predicted, requested_target, requested_values)

OUTCOMES = ("unchanged", "scaled", "planned", "submitted", "refused", "failed", "skipped")

# How the fleet modules select VMs (documented once in doc_fragments/vm_selection.py).
SELECTION_SPEC = dict(
    vms=dict(type="list", elements="str"),
    cluster=dict(type="str"),
    current_offering=dict(type="str"),
    tags=dict(type="dict"),
    name_pattern=dict(type="str"),
)


def failure_limit(value, count):
    """How many failed VMs stop the task from starting more: ``max_failures`` as a number or ``N%`` of ``count``."""
    if value is None:
        return None
    text = str(value).strip()
    match = re.match(r"^(\d+(?:\.\d+)?)\s*%$", text)
    if match and 0 < float(match.group(1)) <= 100:
        return max(1, int(math.ceil(float(match.group(1)) * count / 100.0)))
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise InvalidValue("max_failures=%r is not valid: give a positive whole number of VMs or a percentage such as 10%%" % (value,))


def _tags_match(row, wanted):
    """Whether the VM carries every ``key: value`` resource tag of ``wanted``."""
    tags = dict((tag.get("key"), tag.get("value")) for tag in row.get("tags") or [])
    return all(tags.get(key) == str(value) for key, value in (wanted or {}).items())


def _pick(rows, keys, scope):
    """The VMs named (id or exact name) in ``keys``, in that order; NotFound or Ambiguous naming the key."""
    picked = []
    for key in keys:
        matches = [row for row in rows if key in (row.get("id"), row.get("name"))]
        if not matches:
            names = sorted(set(row.get("name") for row in rows if row.get("name")))
            close = difflib.get_close_matches(key, names, n=5, cutoff=0.6)
            raise NotFound("VM", key, scope=scope, hint="close matches: %s" % ", ".join(close) if close else
                           "none is close; the VMs there are: %s" % (", ".join(names[:10]) or "none"))
        if len(matches) > 1:
            raise Ambiguous("VM", key, sorted(label(row) for row in matches), scope=scope)
        picked.append(matches[0])
    return picked


def select_vms(api, reader, params, scope):
    """The VMs of the task: one listVirtualMachines for the zone and owner; cluster, offering, tags, name pattern
    (a regular expression, searched) and the ``vms`` list are applied to its answer."""
    where, filters = owner_filters(**scope)
    rows = api.list("listVirtualMachines", "virtualmachine", action="list VMs", **filters)
    try:
        pattern = re.compile(params["name_pattern"]) if params.get("name_pattern") else None
    except re.error as error:
        raise InvalidValue("name_pattern=%r is not a regular expression: %s; give a Python regular expression, e.g."
                           " '^web-0[1-4]$' (escape a literal bracket as \\( )" % (params["name_pattern"], error))

    def cluster_of(row):
        host = reader.host(row) or {}
        return host.get("clusterid"), host.get("clustername")

    rows = [row for row in rows if (not pattern or pattern.search(row.get("name") or ""))
            and _tags_match(row, params.get("tags"))
            and (not params.get("current_offering")
                 or params["current_offering"] in (row.get("serviceofferingid"), row.get("serviceofferingname")))
            and (not params.get("cluster") or params["cluster"] in cluster_of(row))]
    return _pick(rows, params["vms"], where) if params.get("vms") else rows


def targets_by_vm(params):
    """{VM name or id: (options, values)} of the ``targets`` list; values validated before anything is read."""
    found = {}
    for entry in params.get("targets") or []:
        options = dict((option, entry.get(option)) for option in ("service_offering",) + VALUE_OPTIONS)
        found[entry["vm"]] = (options, requested_values(options))
    return found


class Fleet:
    """The plans and outcomes of one vm_scale_fleet run."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.api = module.api
        self.reader = Reader(self.api)
        self.entries = []
        self.order = []
        self.jobs = []
        self.stopwatch = summary.Stopwatch()

    def entry(self, vm, outcome, plan=None, msg=None, after=None, jobs=()):
        before_view, after_view, _diff = changes(vm, after or vm)
        item = dict(id=vm.get("id"), name=vm.get("name"), outcome=outcome, plan=plan_view(plan) if plan else None,
                    before=before_view, after=after_view, msg=msg, jobs=list(jobs),
                    summary=entry_line(vm.get("name"), outcome, plan, msg, before_view, after_view, jobs))
        self.entries.append(item)
        self.jobs.extend(jobs)
        return item

    def plan(self, vms, scope):
        """Plan every VM in order, counting what each plan takes for the next; refused and bad targets are entries."""
        common = requested_values(self.params) if (self.params.get("service_offering") or any(
            self.params.get(option) is not None for option in VALUE_OPTIONS)) else None
        per_vm = targets_by_vm(self.params)
        options = options_of(self.params)
        planned = []
        for vm in vms:
            chosen = per_vm.get(vm.get("name")) or per_vm.get(vm.get("id"))
            if chosen is None and common is None:
                raise InvalidValue("no target for VM %s: give service_offering (or cpu_number/cpu_speed/memory) for all"
                                   " VMs, or an entry for it in targets" % label(vm))
            given, values = chosen or (self.params, common)
            try:
                target = requested_target(self.reader, given, values, vm, scope["zone"])
            except InvalidValue as error:
                self.entry(vm, "refused", msg=str(error))
                continue
            plan, situation = plan_vm(self.reader, vm, target, options)
            if plan.action == planner.REFUSE:
                self.entry(vm, "refused", plan, msg="; ".join(plan.reasons))
            elif plan.action == planner.NONE and interrupted(vm) is None:
                self.entry(vm, "unchanged", plan)
            else:
                self.reader.commit(vm, plan)
                planned.append((vm, plan, situation))
        return planned

    def carry_out(self, planned):
        """Run the rollouts; a failure count at ``max_failures`` stops new ones from starting."""
        limit = failure_limit(self.params.get("max_failures"), len(planned))
        rollouts = [Rollout(vm, plan, situation.settings.auto_migrate, self.params["allow_restart"])
                    for vm, plan, situation in planned]

        def may_start():
            return limit is None or sum(1 for rollout in rollouts if rollout.error is not None) < limit

        if not self.params["wait"]:
            for rollout in rollouts:
                self.leave_to_cloudstack(rollout)
            return
        never = run_all(self.api, rollouts, self.params["wait_timeout"], self.params["max_jobs"], may_start)
        for rollout in rollouts:
            if rollout in never:
                self.entry(rollout.vm, "skipped", rollout.plan, msg="not started: %d VM(s) failed, max_failures is %s"
                           % (sum(1 for other in rollouts if other.error is not None), self.params.get("max_failures")))
                continue
            try:
                after = rollout.outcome(self.api)
                # unchanged by this task: another task's job brought the VM to the target (the warning says so)
                self.entry(rollout.vm if rollout.changed else after, "scaled" if rollout.changed else "unchanged",
                           rollout.plan, after=after, msg="; ".join(rollout.warnings) or None)
            except CloudStackError as error:
                self.entry(rollout.vm, "failed", rollout.plan, msg=str(error))

    def leave_to_cloudstack(self, rollout):
        """``wait: false``: submit the VM's one job and record it (the VM as planned), or the failure of its submit."""
        try:
            jobs = [summary.job_entry(jobid, command, rollout.vm)
                    for jobid, command in submit_without_waiting(self.api, rollout)]
            if jobs:
                self.entry(rollout.vm, "submitted", rollout.plan, after=predicted(rollout.vm, rollout.plan), jobs=jobs)
            else:
                self.entry(rollout.vm, "scaled", rollout.plan, after=rollout.outcome(self.api))
        except CloudStackError as error:
            self.entry(rollout.vm, "failed", rollout.plan, msg=str(error))

    def refuse_without_wait(self, planned):
        """Before any write, ``wait: false`` needs one job per VM, no max_failures, and at most max_jobs jobs."""
        problems = [problem for problem in (without_wait_problem(Rollout(vm, plan, situation.settings.auto_migrate,
                                                                         self.params["allow_restart"]))
                                            for vm, plan, situation in planned) if problem]
        if self.params.get("max_failures") is not None:
            problems.append("max_failures=%s needs wait: true: failures are known only once the jobs end; drop"
                            " max_failures, or set wait: true" % self.params["max_failures"])
        if len(planned) > self.params["max_jobs"]:
            problems.append("%d VMs need a job, more than max_jobs=%d, and wait: false cannot hold the others back until"
                            " jobs end: raise max_jobs to %d, select fewer VMs, or set wait: true"
                            % (len(planned), self.params["max_jobs"], len(planned)))
        if problems:
            error = InvalidValue("wait: false cannot carry out this task, nothing was changed: %s" % "; ".join(problems))
            error.result = dict(changed=False, summary=summary.refused(summary.number_of(len(self.order), "VM"), problems))
            raise error

    def result(self):
        """The result dict; a CloudStackError carrying it when a VM was refused, failed or skipped."""
        order = dict((item.get("id"), index) for index, item in enumerate(self.order))
        self.entries.sort(key=lambda item: order.get(item["id"], 0))
        counts = dict((outcome, sum(1 for item in self.entries if item["outcome"] == outcome)) for outcome in OUTCOMES)
        line = summary.counts("VM", counts, OUTCOMES, None if self.jobs else self.stopwatch, self.module.check_mode)
        counts["total"] = len(self.entries)
        result = dict(changed=bool(counts["scaled"] or counts["planned"] or counts["submitted"]), vms=self.entries,
                      counts=counts, jobs=self.jobs, summary=summary.in_progress(line, self.jobs) if self.jobs else line)
        bad = counts["refused"] + counts["failed"] + counts["skipped"]
        if bad:
            error = CloudStackError("%d of %d VMs were not brought to their target (%s): see vms[].msg" % (
                bad, counts["total"], ", ".join("%d %s" % (counts[key], key) for key in ("refused", "failed", "skipped")
                                                if counts[key])))
            error.result = result
            raise error
        return result

    def run(self):
        if self.params["max_jobs"] < 1:
            raise InvalidValue("max_jobs=%s is not valid: give 1 or more jobs at a time" % self.params["max_jobs"])
        failure_limit(self.params.get("max_failures"), 1)
        scope = owner_scope(self.api, self.params)
        vms = settle(self.api, select_vms(self.api, self.reader, self.params, scope), self.params["wait_timeout"])[0]
        self.order = vms
        planned = self.plan(vms, scope)
        if not self.params["wait"]:
            self.refuse_without_wait(planned)
        if self.module.check_mode:
            for vm, plan, _situation in planned:
                self.entry(vm, "planned", plan, after=predicted(vm, plan))
        else:
            self.carry_out(planned)
        return self.result()


def scale_fleet(module):
    """vm_scale_fleet: select, plan, carry out; returns the result dict."""
    return Fleet(module).run()


def entry_line(name, outcome, plan, msg, before, after, jobs):
    """The ``summary`` of one VM of the fleet."""
    if outcome in ("unchanged", "scaled", "planned", "submitted"):
        line = summary.scaled(name, before, after, plan.action if plan else "none", check_mode=outcome == "planned")
        return summary.in_progress(line, jobs) if jobs else line
    if outcome == "refused":
        return summary.refused(name, list(plan.reasons) if plan else [msg])
    return "%s: %s: %s" % (name, outcome, (msg or "").split("; ")[0])

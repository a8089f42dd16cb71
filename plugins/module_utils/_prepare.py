# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: make existing VMs live-scalable, restarting them in batches (vm_prepare_fleet).

Not a public API: it may change without notice. The flags are set in CloudStack's order
(``UserVmManagerImpl.updateVirtualMachine`` checks the template, the offering, then ``enable.dynamic.scale.vm`` of the
zone): the zone setting, the templates (an offering's ``dynamicscalingenabled`` cannot be changed: such a VM is
refused), then each VM's ``isdynamicallyscalable``. A running domain gets its scaling head-room only when it starts
with the flag and the setting on, and the API does not show what held at the last start: a Running VM whose flag or
zone setting was off when this run read it was started without head-room, and is stopped and started. The restarts
run in batches (a number or a percentage), never two members of one anti-affinity group in the same batch,
optionally only inside a maintenance window; a failure stops the batches after it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import re

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError, InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._fleet import select_vms
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import label, owner_scope
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import DONE, api_int, run_all
from ansible_collections.livescale.cloudstack.plugins.module_utils._scalable import (
    FLAG, OFFERING_BLOCKED, ZONE_SETTING, explain, set_flag)
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import Reader
from ansible_collections.livescale.cloudstack.plugins.module_utils._setting import UPDATE, plan_write, read_setting
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils._vm_state import _action_call as action_call

OUTCOMES = ("unchanged", "flagged", "restarted", "planned", "refused", "failed", "skipped")
RESTART_CHOICES = ("unprepared", "unless_prepared", "never")
REFUSED_STATES = ("Error", "Expunging", "Destroyed")  # updateVirtualMachine: "Vm ... is not in the right state"
KVM_CPU_CAPACITY = "kvm.cpu.dynamic.scaling.capacity"
STATE_MODULE = "livescale.cloudstack.vm_state"
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$")


def batch_count(value, count):
    """VMs per batch: ``batch_size`` as a whole number, or ``N%`` of ``count`` (at least 1); InvalidValue otherwise."""
    text = str(value).strip()
    match = re.match(r"^(\d+(?:\.\d+)?)\s*%$", text)
    if match and 0 < float(match.group(1)) <= 100:
        return max(1, int(math.ceil(float(match.group(1)) * count / 100.0)))
    if not isinstance(value, bool) and text.isdigit() and int(text) > 0:
        return int(text)
    raise InvalidValue("batch_size=%r is not valid: give a positive whole number of VMs (e.g. 5) or a percentage of"
                       " the VMs to restart such as 25%%" % (value,))


def _when(name, text):
    """A window bound: ``HH:MM`` as a time, ``YYYY-MM-DD HH:MM`` as a datetime; InvalidValue naming the option."""
    text = str(text or "").strip()
    try:
        match = _TIME.match(text)
        if match:
            return datetime.time(int(match.group(1)), int(match.group(2)))
        match = _DATE_TIME.match(text)
        if match:
            return datetime.datetime(*(int(part) for part in match.groups()))
    except ValueError:
        pass
    raise InvalidValue("maintenance_window.%s=%r is not valid: give a time of day as HH:MM (e.g. 22:00, daily) or a"
                       " date and time as YYYY-MM-DD HH:MM (e.g. 2026-07-04 22:00)" % (name, text))


class Window:
    """A maintenance window: daily between two times (possibly across midnight), or once between two datetimes."""

    def __init__(self, start, end, utc=False):
        self.start, self.end, self.utc = start, end, utc

    @classmethod
    def parse(cls, option):
        """The Window of the ``maintenance_window`` option, or None; InvalidValue for a window that cannot work."""
        if not option:
            return None
        start, end = _when("start", option.get("start")), _when("end", option.get("end"))
        if type(start) is not type(end):
            raise InvalidValue("maintenance_window: start=%s and end=%s must both be times of day or both dates with"
                               " times: give both as HH:MM (daily) or both as YYYY-MM-DD HH:MM (once)"
                               % (option.get("start"), option.get("end")))
        if start == end or (isinstance(start, datetime.datetime) and end < start):
            raise InvalidValue("maintenance_window: end=%s must come after start=%s: give an end after the start (a daily"
                               " window may cross midnight, e.g. start 22:00, end 04:00)"
                               % (option.get("end"), option.get("start")))
        return cls(start, end, option.get("timezone") == "utc")

    def is_open(self, now):
        """Whether ``now`` (a naive datetime in the window's time zone) is inside the window."""
        if isinstance(self.start, datetime.datetime):
            return self.start <= now < self.end
        moment = now.time()
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def describe(self):
        """``22:00-04:00 (local time)``."""
        shown = [bound.strftime("%Y-%m-%d %H:%M" if isinstance(bound, datetime.datetime) else "%H:%M")
                 for bound in (self.start, self.end)]
        return "%s-%s (%s)" % (shown[0], shown[1], "UTC" if self.utc else "local time of the managed node")


def clock_now(utc):
    """The current time as a naive datetime, in UTC or in the local time zone."""
    return datetime.datetime.utcnow() if utc else datetime.datetime.now()


def plan_batches(vms, size, groups_of):
    """The VMs in batches of at most ``size``, in order, never two that share an anti-affinity group in one batch."""
    remaining, batches = list(vms), []
    while remaining:
        batch, taken = [], set()
        for vm in list(remaining):
            if len(batch) == size:
                break
            groups = groups_of(vm)
            if groups & taken:
                continue
            batch.append(vm)
            taken |= groups
            remaining.remove(vm)
        batches.append(batch)
    return batches


class Restart:
    """One VM's stop and start as jobs for ``run_all`` (the interface of ``_rollout.Rollout``)."""

    def __init__(self, vm, force_stop=False):
        self.vm = vm
        self.force_stop = force_stop
        self.steps = ["stop", "start"]
        self.jobids = []
        self.done = []
        self.latest = None
        self.error = None

    @property
    def finished(self):
        return not self.steps

    def job(self):
        """(command, parameters, action) of the next job."""
        step = self.steps[0]
        command, params = action_call(self.vm, step, {"force": self.force_stop}, None)
        return command, dict((key, value) for key, value in params.items() if value is not None), \
            "%s VM %s" % (step, self.vm.get("name"))

    def ended(self, result=None, error=None):
        """Record how the current job ended; a failed stop or start ends the restart."""
        step = self.steps.pop(0)
        if error is not None:
            self.error = error
            self.steps = []
            return
        self.done.append(DONE[step])
        self.latest = (result or {}).get("virtualmachine") or self.latest

    def failure(self):
        """What failed and what the VM is left as."""
        if "stopped" in self.done:
            return "%s; VM %s was stopped and is not running again: start it with %s (state: started)" % (
                self.error, label(self.vm), STATE_MODULE)
        return "%s; VM %s was not stopped" % (self.error, label(self.vm))


class Preparation:
    """The plan and the outcome of one vm_prepare_fleet run."""

    def __init__(self, module, now=clock_now):
        self.module = module
        self.params = module.params
        self.api = module.api
        self.reader = Reader(self.api)
        self.now = now
        self.entries = {}
        self.order = []
        self.changes = []
        self.stopwatch = summary.Stopwatch()

    def entry(self, vm, **fields):
        """The result entry of a VM, created on first use."""
        item = self.entries.get(vm["id"])
        if item is None:
            item = dict(id=vm["id"], name=vm.get("name"), state=vm.get("state"), zone=vm.get("zonename"),
                        outcome="unchanged", flags_changed=[], restart=False, batch=None, reason=None, prepared=None,
                        jobs=[], msg=None)
            self.entries[vm["id"]] = item
        item.update(fields)
        return item

    # reads --------------------------------------------------------------------------------------------------------
    def zone_setting(self, vm):
        """The zone's enable.dynamic.scale.vm row, or None when the caller may not read it."""
        try:
            return read_setting(self.api, ZONE_SETTING, {"zoneid": vm.get("zoneid")}, "read %s" % ZONE_SETTING)
        except ApiError:
            return None

    def template(self, vm):
        """The VM's template row ({} when it cannot be read: CloudStack then judges the VM flag)."""
        try:
            # With an id CloudStack applies no filter, only its access check; "all" is refused to a User (431).
            rows = self.api.list("listTemplates", "template", action="read template of VM %s" % vm.get("name"),
                                 templatefilter="executable", id=vm.get("templateid"))
        except ApiError:
            rows = []
        return rows[0] if rows else {}

    def anti_affinity(self, vms):
        """{VM id: set of its anti-affinity group ids}. A group whose type cannot be read counts as anti-affinity."""
        if not any(vm.get("affinitygroup") for vm in vms):
            return {}
        try:
            types = dict((row.get("id"), row.get("type") or "") for row in self.api.list(
                "listAffinityGroups", "affinitygroup", action="read affinity groups", listall=True))
        except ApiError:
            types = {}
        return dict((vm["id"], set(group.get("id") for group in vm.get("affinitygroup") or []
                                   if "anti-affinity" in types.get(group.get("id"), "anti-affinity")))
                    for vm in vms)

    def start_blocker(self, vm):
        """``KVMGuru.getVmMaxCpuCores``: a scalable KVM VM starts with at most kvm.cpu.dynamic.scaling.capacity vCPUs,
        and libvirt refuses a domain with fewer than its vCPUs: such a VM must not be stopped."""
        host = self.reader.host(vm) or {}
        scope = {"clusterid": host["clusterid"]} if host.get("clusterid") else {}
        capacity = self.reader.setting(KVM_CPU_CAPACITY, api_int, **scope) or 0
        cpu = api_int(vm.get("cpunumber")) or 0
        if vm.get("hypervisor", "KVM") != "KVM" or capacity <= 0 or cpu <= capacity:
            return None
        return ("VM %s would not start again with %d vCPUs: %s=%d in cluster %s caps a scalable domain's maximum below"
                " them: raise it to %d or more, or set it to 0, with livescale.cloudstack.setting" % (
                    vm.get("name"), cpu, KVM_CPU_CAPACITY, capacity, host.get("clustername"), cpu))

    # plan ---------------------------------------------------------------------------------------------------------
    def plan(self, vms):
        """Settings, templates and VM flags to set, and the VMs to restart with the reason for each."""
        settings, templates, flags, restarts = {}, {}, [], []
        for vm in vms:
            problem = self.refusal(vm)
            if problem:
                self.entry(vm, outcome="refused", msg=problem, reason="nothing is changed for it")
                continue
            zone_row = settings.setdefault(vm.get("zoneid"), self.zone_setting(vm))
            zone_on = None if zone_row is None else str(zone_row.get("value")).lower() == "true"
            if zone_on is False:
                self.entry(vm)["flags_changed"].append("%s=true in zone %s" % (ZONE_SETTING, vm.get("zonename")))
            if not vm.get(FLAG, False):
                template = templates.setdefault(vm.get("templateid"), self.template(vm))
                if template and not template.get(FLAG, False):
                    self.entry(vm)["flags_changed"].append("%s=true on template %s" % (FLAG, template.get("name")))
                flags.append(vm)
                self.entry(vm)["flags_changed"].append("%s=true on the VM" % FLAG)
            self.restart_decision(vm, zone_on, restarts)
        return settings, templates, flags, restarts

    def refusal(self, vm):
        """Why CloudStack cannot make this VM live-scalable, with the fix; None when it can."""
        if vm.get("state") in REFUSED_STATES:
            return "VM %s is %s: CloudStack does not update it (Vm %s is not in the right state)" % (
                label(vm), vm.get("state"), vm.get("name"))
        if not self.reader.offering(vm.get("serviceofferingid")).dynamic_scaling:
            return explain(vm, OFFERING_BLOCKED)
        if vm.get("state") == "Running" and self.params["restart"] != "never":
            return self.start_blocker(vm)
        return None

    def restart_decision(self, vm, zone_on, restarts):
        """Whether the VM is stopped and started, and why (or why not)."""
        name, state, mode = vm.get("name"), vm.get("state"), self.params["restart"]
        if state != "Running":
            reason = ("VM %s is Stopped: there is no running domain; its next start builds the domain with head-room"
                      % name) if state == "Stopped" else (
                "VM %s is %s: not restarted; run the task again once it is Running or Stopped" % (name, state))
            self.entry(vm, reason=reason, outcome="skipped" if state != "Stopped" else "unchanged")
            return
        zone_flag = "%s in zone %s" % (ZONE_SETTING, vm.get("zonename"))
        off = [what for what, on in ((FLAG, vm.get(FLAG, False)), (zone_flag, zone_on is not False)) if not on]
        if off:
            reason = "its domain was started while %s was false, so it has no head-room" % " and ".join(off)
            prepared = False
        elif mode == "unless_prepared":
            reason = ("the flag and the zone setting were already true, but the API does not tell whether they were"
                      " when the domain started; restart: unless_prepared")
            prepared = None
        else:
            self.entry(vm, reason="the flag and the zone setting were already true; the API does not tell whether"
                                  " they were when VM %s last started: restart: unless_prepared restarts it to make"
                                  " sure" % name)
            return
        if mode == "never":
            self.entry(vm, prepared=False, reason=reason + "; restart is never: it gets head-room at its next stop and"
                                                           " start (%s)" % STATE_MODULE)
            return
        self.entry(vm, restart=True, prepared=prepared, reason=reason + ": it is stopped and started")
        restarts.append(vm)

    # carry out ----------------------------------------------------------------------------------------------------
    def write_settings(self, settings, vms):
        """enable.dynamic.scale.vm=true in each zone where it is false (first: CloudStack checks it for the VM flag)."""
        zones = dict((vm.get("zoneid"), vm.get("zonename")) for vm in vms)
        for zone_id, row in settings.items():
            if row is None or zone_id not in zones:
                continue
            plan = plan_write(ZONE_SETTING, row, "present", "true")
            if plan.command is None:
                continue
            self.changes.append("%s=true in zone %s" % (ZONE_SETTING, zones[zone_id]))
            if not self.module.check_mode:
                self.api.call(UPDATE, action="set %s in zone %s" % (ZONE_SETTING, zones[zone_id]), name=ZONE_SETTING,
                              zoneid=zone_id, value=plan.value)

    def write_templates(self, templates, flags):
        """isdynamicallyscalable=true on the templates of the VMs whose flag is set."""
        needed = set(vm.get("templateid") for vm in flags)
        for template_id, row in templates.items():
            if row and template_id in needed and not row.get(FLAG, False):
                self.changes.append("%s=true on template %s" % (FLAG, row.get("name")))
                set_flag(self.api, "template", row, True, self.module.check_mode, "updateTemplate", "template")

    def write_flags(self, flags):
        """isdynamicallyscalable=true on each VM; a refusal is that VM's failure, with CloudStack's text and fix."""
        for vm in flags:
            try:
                set_flag(self.api, "VM", vm, True, self.module.check_mode, "updateVirtualMachine", "virtualmachine")
            except ApiError as error:
                self.entry(vm, outcome="failed", restart=False,
                           msg="%s: %s" % (error.action or error.command, explain(vm, error.errortext)))

    def restart(self, restarts):
        """The batches, one after the other; a failure or the end of the window skips the batches after it."""
        window = Window.parse(self.params.get("maintenance_window"))
        batches = plan_batches(restarts, batch_count(self.params["batch_size"], len(restarts)),
                               lambda vm, groups=self.anti_affinity(restarts): groups.get(vm["id"], set()))
        for number, batch in enumerate(batches, 1):
            for vm in batch:
                self.entry(vm, batch=number)
        if self.module.check_mode:
            for vm in restarts:
                self.entry(vm, outcome="planned")
            return batches
        stop = None
        for number, batch in enumerate(batches, 1):
            if stop is None and window is not None and not window.is_open(self.now(window.utc)):
                stop = "the maintenance window %s had ended before batch %d" % (window.describe(), number)
            if stop is not None:
                for vm in batch:
                    self.entry(vm, outcome="skipped", restart=False, msg="not restarted: %s" % stop)
                continue
            jobs = [Restart(vm, self.params["force_stop"]) for vm in batch]
            run_all(self.api, jobs, self.params["wait_timeout"], max_jobs=len(jobs))
            for job in jobs:
                self.entry(job.vm, jobs=list(job.jobids), state=(job.latest or {}).get("state", job.vm.get("state")))
                if job.error is None:
                    self.entry(job.vm, outcome="restarted", prepared=True)
                else:
                    self.entry(job.vm, outcome="failed", msg=job.failure())
            failed = [job.vm.get("name") for job in jobs if job.error is not None]
            if failed:
                stop = "batch %d failed (%s)" % (number, ", ".join(failed))
        return batches

    def refuse_outside_window(self, restarts):
        """Before any write: the restarts need the maintenance window to be open now."""
        window = Window.parse(self.params.get("maintenance_window"))
        if not restarts or window is None or window.is_open(self.now(window.utc)):
            return
        error = CloudStackError(
            "outside the maintenance window %s (it is %s there): %d VM(s) need a stop and start, so nothing was"
            " changed; run the task inside the window, or change or drop maintenance_window" % (
                window.describe(), self.now(window.utc).strftime("%Y-%m-%d %H:%M"), len(restarts)))
        error.result = self.result_fields([])
        raise error

    def result_fields(self, batches):
        items = [self.entries[vm["id"]] for vm in self.order if vm["id"] in self.entries] + [
            self.entry(vm) for vm in self.order if vm["id"] not in self.entries]
        counts = dict((outcome, sum(1 for item in items if item["outcome"] == outcome)) for outcome in OUTCOMES)
        line = summary.counts("VM", counts, OUTCOMES, self.stopwatch, self.module.check_mode,
                              detail="in %s" % summary.number_of(len(batches), "restart batch", "es") if batches else None)
        counts.update(total=len(items), batches=len(batches))
        return dict(changed=bool(self.changes or counts["restarted"] or counts["planned"] or counts["flagged"]),
                    vms=items, batches=[[vm.get("name") for vm in batch] for batch in batches], changes=self.changes,
                    counts=counts, summary=line)

    def run(self):
        batch_count(self.params["batch_size"], 1)
        Window.parse(self.params.get("maintenance_window"))
        vms = select_vms(self.api, self.reader, self.params, owner_scope(self.api, self.params))
        self.order = vms
        settings, templates, flags, restarts = self.plan(vms)
        self.refuse_outside_window(restarts)
        preparable = [vm for vm in vms if self.entry(vm)["outcome"] != "refused"]
        self.write_settings(settings, preparable)
        self.write_templates(templates, flags)
        self.write_flags(flags)
        self.changes.extend("%s=true on VM %s" % (FLAG, vm.get("name")) for vm in flags
                            if self.entry(vm)["outcome"] != "failed")
        for vm in preparable:
            item = self.entry(vm)
            if item["outcome"] == "unchanged" and item["flags_changed"]:
                item["outcome"] = "planned" if self.module.check_mode else "flagged"
        failed = [vm.get("name") for vm in flags if self.entry(vm)["outcome"] == "failed"]
        if failed:
            for vm in restarts:
                if self.entry(vm)["outcome"] != "failed":
                    self.entry(vm, outcome="skipped", restart=False,
                               msg="not restarted: setting the flag failed for %s" % ", ".join(failed))
            restarts = []
        return self.finish(self.restart(restarts))

    def finish(self, batches):
        """The result dict; a CloudStackError carrying it when a VM was refused, failed or skipped."""
        result = self.result_fields(batches)
        counts = result["counts"]
        bad = counts["refused"] + counts["failed"] + counts["skipped"]
        if bad:
            error = CloudStackError("%d of %d VMs were not made live-scalable (%s): see vms[].msg and vms[].reason"
                                    % (bad, counts["total"], ", ".join("%d %s" % (counts[key], key) for key in
                                                                       ("refused", "failed", "skipped") if counts[key])))
            error.result = result
            raise error
        return result


def prepare_fleet(module):
    """vm_prepare_fleet: select, plan, set the flags, restart in batches; returns the result dict."""
    return Preparation(module).run()

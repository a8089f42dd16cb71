# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: system VMs (console proxy, secondary storage VM) for system_vm_scale.

Not a public API: it may change without notice. It reads a system VM (``listSystemVms``), its system offering and
its surroundings into the planner's ``Situation``, adds the system-offering rules, and carries out the plan with
``scaleSystemVm`` (``stopSystemVm`` / ``startSystemVm`` around it for a restart). CloudStack scales a system VM with
the user-VM rules (``ManagementServerImpl.upgradeSystemVM`` calls ``UserVmManagerImpl.upgradeVirtualMachine``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils._compat import replace
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    JOB_PENDING, CloudStackError, InvalidValue, JobTimeout, NotFound)
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find, find_zone, label
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import (
    MARKER, ScaleFailed, pending_job, pending_note)
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import settle as rollout_settle
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import (
    Reader, cluster_from, host_from, offering_from, plan_view, requested_values)
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions

SYSTEM_ACCOUNT = "the system account"  # owner of every system VM; root-admin type, so no resource limits
# The cmd of a scaleSystemVm job; ScaleSystemVMCmd has no getApiResourceType, so its job records no instance
SCALE_CMD = "ScaleSystemVMCmd"
ANNOTATION_TYPE = "SYSTEM_VM"  # AnnotationService.EntityType of console proxies and secondary storage VMs


def find_system_vm(api, key, zone=None):
    """The system VM whose id or name (``v-2-VM``, ``s-1-VM``) is ``key``, in ``zone`` when given."""
    scope, params = ("zone %s" % zone["name"], {"zoneid": zone["id"]}) if zone else (None, {})
    return find(api, "system VM", "listSystemVms", "systemvm", key, scope=scope, **params)


class SystemVmReader(Reader):
    """Reader of one system VM: system offerings (``issystem=true``), no owner limits."""

    def offering(self, offering_id):
        """A system offering by id, active or not."""
        rows = self._list("listServiceOfferings", "serviceoffering", id=offering_id, issystem=True) or \
            self._list("listServiceOfferings", "serviceoffering", id=offering_id, issystem=True, state="Inactive")
        if not rows:
            raise CloudStackError("system offering %s of the system VM cannot be read" % offering_id)
        return offering_from(rows[0])

    def system_offerings(self, vm_type):
        """The active system offerings of a system VM type (what the UI of apache/cloudstack PR #13321 offers)."""
        return self._list("listServiceOfferings", "serviceoffering", issystem=True, systemvmtype=vm_type)

    def target_row(self, key):
        """The offering a user names (id or exact name): a system one, else a user one (to refuse it); NotFound."""
        for rows in (self._list("listServiceOfferings", "serviceoffering", issystem=True),
                     self._list("listServiceOfferings", "serviceoffering")):
            found = [row for row in rows if key in (row.get("id"), row.get("name"))]
            if found:
                return found[0]
        raise NotFound("service offering", key,
                       hint="list the system offerings with listServiceOfferings issystem=true")

    def situation(self, row):
        """The planner Situation of a system VM; its size is its (fixed) system offering's."""
        current = self.offering(row.get("serviceofferingid"))
        host_row = self.host(row)
        cluster = {"id": host_row.get("clusterid"), "name": host_row.get("clustername"),
                   "zoneid": row.get("zoneid")} if host_row else None
        template, template_scalable, template_tag = self.template(row.get("templateid"))
        factor = self.memory_factor(cluster)
        vm = planner.Vm(
            id=row["id"], name=row.get("name") or row["id"], state=row.get("state", "Unknown"), cpu=current.cpu or 0,
            speed=current.speed or 0, memory=current.memory or 0, offering_id=current.id,
            hypervisor=row.get("hypervisor") or "", zone=row.get("zonename") or "",
            cluster=(cluster or {}).get("name") or "", host_id=row.get("hostid"),
            dynamically_scalable=str(row.get("isdynamicallyscalable")).lower() == "true")
        return planner.Situation(
            vm=vm, current=current, settings=self.version_settings(self.settings(row, cluster)), template=template,
            template_scalable=template_scalable,
            host=host_from(host_row, factor, self.host_usage(host_row["id"])) if host_row else None,
            other_hosts=self.other_hosts(cluster, row.get("hostid"), factor), limits=planner.Limits(SYSTEM_ACCOUNT),
            cluster=cluster_from(self.cluster_hosts(cluster)) if cluster else None, template_tag=template_tag,
            system_vm_type=row.get("systemvmtype") or "", version=self.version())


def offering_reasons(reader, row, target_row, target):
    """Why a target offering does not suit a system VM, each with the fix ([] when it does)."""
    vm_type, name = row.get("systemvmtype"), target_row.get("name")
    own = ", ".join(sorted(offering.get("name") for offering in reader.system_offerings(vm_type))) or "none"
    if str(target_row.get("issystem")).lower() != "true":
        return ["service offering %s is not a system offering: CloudStack refuses it for system VM %s (isSystem"
                " property is different for current service offering and new service offering); pick a system offering"
                " of type %s (%s) or create one with createServiceOffering issystem=true systemvmtype=%s"
                % (name, row.get("name"), vm_type, own, vm_type)]
    if target_row.get("systemvmtype") != vm_type:
        return ["system offering %s is for %s VMs, not %s: CloudStack would take it (checkIfCanUpgrade compares only"
                " issystem), but system VM %s would then run on another type's offering; pick one of type %s (%s)"
                % (name, target_row.get("systemvmtype"), vm_type, row.get("name"), vm_type, own)]
    offering = target.offering
    version = reader.version()
    if offering.custom and version.system_vm_details_by_index:
        fixed = ", ".join(sorted(row.get("name") for row in reader.system_offerings(vm_type) if None not in (
            row.get("cpunumber"), row.get("cpuspeed"), row.get("memory")))) or "none"
        return ["system offering %s is custom, and CloudStack %s hands the values of scaleSystemVm and"
                " changeServiceForSystemVm on keyed by their index (ScaleSystemVMCmd.getDetails before %s of 4.20.2),"
                " so validateCustomParameters finds none of them and refuses every custom system offering (Invalid"
                " ... value): pick a system offering of type %s with a fixed size (%s), create one with"
                " createServiceOffering issystem=true systemvmtype=%s cpunumber=... cpuspeed=... memory=..., or upgrade"
                " CloudStack to 4.20.2 or later"
                % (name, version.server, versions.PR_SYSTEM_VM_DETAILS, vm_type, fixed, vm_type)]
    missing = [option for option, fixed, given in (("cpu_number", offering.cpu, target.cpu),
                                                   ("cpu_speed", offering.speed, target.speed),
                                                   ("memory", offering.memory, target.memory))
               if fixed is None and given is None]
    if missing:
        return ["system offering %s is custom and scaleSystemVm does not fill in the values left out"
                " (ManagementServerImpl.upgradeSystemVM): give %s" % (name, ", ".join(missing))]
    return []


def plan_system_vm(reader, row, target_row, values, options):
    """The planner's decision for a system VM, with the system-offering rules first. Returns (plan, situation)."""
    situation = reader.situation(row)
    target = planner.Target(offering_from(target_row), cpu=values["cpu_number"], speed=values["cpu_speed"],
                            memory=values["memory"])
    reasons = offering_reasons(reader, row, target_row, target)
    plan = planner.plan(situation, target, options)
    if reasons:
        return refusal(plan, tuple(reasons)), situation
    if plan.action == planner.MIGRATE_THEN_LIVE and not situation.settings.auto_migrate:
        reasons = plan.reasons + ("the module does not migrate system VMs itself: set"
                                  " auto.migrate.vm.on.live.scale.insufficient.capacity to true in cluster %s with %s"
                                  " so that CloudStack migrates it as part of the scale"
                                  % (situation.vm.cluster, planner.SETTING_MODULE),)
        return refusal(plan, reasons), situation
    return plan, situation


def refusal(plan, reasons):
    """The plan refused for ``reasons``, still naming the version it was planned for."""
    return replace(plan, action=planner.REFUSE, reasons=reasons, migrate_host=None)


def view(row, size):
    """The part of a system VM that scaling changes; ``size`` is its offering's (vCPUs, MHz, MiB)."""
    return dict(service_offering=row.get("serviceofferingname"), cpu_number=size[0], cpu_speed=size[1],
                memory=size[2], state=row.get("state"), host=row.get("hostname") or row.get("hostid"))


def reread(api, row):
    """The system VM as CloudStack shows it now."""
    found = [item for item in api.list("listSystemVms", "systemvm", action="read system VM %s" % row.get("name"),
                                       id=row["id"]) if item.get("id") == row["id"]]
    if not found:
        raise CloudStackError("system VM %s cannot be read any more: check it in CloudStack" % label(row))
    return found[0]


def pending_jobs(api, row):
    """The ids of the jobs in progress that may act on a system VM.

    listSystemVms shows a job in progress of instance type SystemVm (start, stop, reboot, destroy) as the row's
    ``jobid``/``jobstatus`` (ApiServer.buildAsyncListResponse). A scaleSystemVm job records no instance
    (ScaleSystemVMCmd has no getApiResourceType), so every pending one that does not name another instance is taken:
    listAsyncJobs ``keyword`` matches the cmd (QueryManagerImpl.searchForAsyncJobsInternal).
    """
    found = [pending_job(row)] if pending_job(row) else []
    listed = api.list("listAsyncJobs", "asyncjobs", action="look for jobs pending on system VM %s" % row.get("name"),
                      listall=True, keyword=SCALE_CMD)
    found += [job["jobid"] for job in listed if job.get("jobstatus") == JOB_PENDING
              and SCALE_CMD in (job.get("cmd") or "") and job.get("jobinstanceid") in (None, row["id"])]
    return sorted(set(found))


def settle(api, row, timeout):
    """Wait within ``timeout`` for the jobs pending on a system VM (``pending_jobs``), then read it again:
    ``(row, job ids waited for)``; ``_rollout.settle`` for system VMs."""
    [row], waited = rollout_settle(api, [row], timeout, jobs_of=lambda vm: pending_jobs(api, vm), read_again=reread,
                                   noun="system VM")
    return row, waited.get(row["id"], [])


def stop_records(api, row):
    """The annotations that record a stop-change-start of the system VM not finished yet (MARKER texts), oldest first.

    A system VM takes no tags (ResourceTag.ResourceObjectType has no system VM type) and no details
    (updateVirtualMachine finds user VMs only); an annotation of entity type SYSTEM_VM is what CloudStack keeps on it
    (AnnotationManagerImpl; root admins, as the *SystemVm commands).
    """
    listed = api.list("listAnnotations", "annotation", action="look for the stop record of system VM %s" % row.get("name"),
                      entitytype=ANNOTATION_TYPE, entityid=row["id"], keyword=MARKER)
    return sorted((item for item in listed if (item.get("annotation") or "").startswith(MARKER)
                   and item.get("entityid") == row["id"]), key=lambda item: item.get("created") or "")


def mark(api, row, plan):
    """Record the stop about to be made in an annotation on the system VM; returns the annotation."""
    text = "%s: stopped to change it to %s (%s)" % (MARKER, plan.offering.name,
                                                    planner.size(plan.cpu, plan.speed, plan.memory))
    return api.call("addAnnotation", action="record the stop of system VM %s" % row.get("name"),
                    entitytype=ANNOTATION_TYPE, entityid=row["id"], annotation=text, adminsonly=True)["annotation"]


def unmark(api, row, records):
    """Remove the stop records; the warnings of those that could not be removed ([] when all were)."""
    warnings = []
    for record in records:
        try:
            api.call("removeAnnotation", action="remove the stop record of system VM %s" % row.get("name"),
                     id=record["id"])
        except CloudStackError as error:
            warnings.append("system VM %s runs at its target, but its stop record (annotation %s) could not be removed:"
                            " %s; a re-run removes it" % (label(row), record["id"], error))
    return warnings


def recovery_note(row, records):
    """What scaling does about the stop records found on a system VM; None without one."""
    if not records:
        return None
    if row.get("state") == "Stopped":
        return ("system VM %s had been left Stopped by an interrupted stop-change-start (annotation %s: %s): it is"
                " brought to its target and started again" % (label(row), records[0]["id"], records[0]["annotation"]))
    return ("system VM %s is %s but still carried the record of a stop-change-start (annotation %s: %s): the record is"
            " removed" % (label(row), row.get("state"), records[0]["id"], records[0]["annotation"]))


def execute(api, row, plan, timeout, records):
    """Carry out the plan; returns (the system VM after it, warnings).

    scaleSystemVm; for a restart the stop is recorded (``mark``), then stopSystemVm, scaleSystemVm, startSystemVm and
    the record removed. ``records`` are those an interrupted run left: a Stopped system VM is changed (when the plan
    says so) and started, and they are removed. A failed step raises ScaleFailed with CloudStack's answer, what was
    done and the system VM's state now; a system VM stopped by this module is started again when the scale fails.
    """
    name, steps, latest, records = row.get("name"), [], [], list(records)
    stopped = bool(records) and row.get("state") == "Stopped"

    def job(command, done, **params):
        result = api.run_async(command, timeout, action="%s system VM %s" % (command[:-len("SystemVm")], name),
                               id=row["id"], **params)
        latest[:] = [result["systemvm"]] if result.get("systemvm") else latest
        steps.append(done)
    try:
        if plan.action == planner.RESTART:
            records.append(mark(api, row, plan))
            job("stopSystemVm", "stopped")
            stopped = True
        if plan.action != planner.NONE:
            job("scaleSystemVm", "scaled", serviceofferingid=plan.offering.id, details=plan.details() or None)
    except CloudStackError as error:
        raise failure(api, row, error, steps, records, stopped and "scaled" not in steps and (
            lambda: job("startSystemVm", "started again with its old size")))
    if stopped:
        try:
            job("startSystemVm", "started")
        except CloudStackError as error:
            raise failure(api, row, error, steps, records)
    after = latest[0] if latest else (reread(api, row) if steps else row)
    return after, unmark(api, row, records)


def failure(api, row, error, steps, records, start_again=None):
    """The ScaleFailed of a failed step: CloudStack's answer, what is known of a pending job, the system VM now.

    ``start_again`` (a stopped system VM whose scale failed) is tried first. The stop records are removed once the
    system VM runs again, and kept (with what a re-run does) while it may be down.
    """
    parts = []
    if start_again:
        try:
            start_again()
        except CloudStackError as start_error:
            parts.append("starting it again failed too: %s" % start_error)
    if isinstance(error, JobTimeout):
        parts.append(pending_note(error))
    try:
        now = reread(api, row)
        state = "is now %s: %s" % (now.get("state"), ", ".join(steps) if steps else "nothing was changed")
    except CloudStackError as read_error:
        now, state = None, "could not be read again (%s), so its state is not known%s" % (
            read_error, ": done so far: %s" % ", ".join(steps) if steps else "")
    if records and now is not None and now.get("state") == "Running" and not isinstance(error, JobTimeout):
        unmark(api, row, records)
    elif records:
        parts.append("it was stopped for a stop-change-start and may not be running again: re-run the task, which finds"
                     " the record (annotation %s) and starts it at the target, or start it with startSystemVm id=%s"
                     % (records[-1]["id"], row["id"]))
    return ScaleFailed(error, "; ".join(["%s; system VM %s %s" % (error, label(row), state)] + parts))


def refused(row, plan, readiness, message, reasons):
    """The InvalidValue of a refusal: ``message``, and the plan, readiness and summary (first reason) as its result."""
    error = InvalidValue(message)
    error.result = dict(plan=plan_view(plan), readiness=readiness,
                        summary=summary.refused("system VM %s" % row.get("name"), reasons))
    return error


def submit_scale(api, row, plan):
    """Submit scaleSystemVm and leave it to CloudStack (``wait: false``); returns the ``jobs`` list."""
    jobid = api.submit("scaleSystemVm", action="scale system VM %s" % row.get("name"), id=row["id"],
                       serviceofferingid=plan.offering.id, details=plan.details() or None)
    return [summary.job_entry(jobid, "scaleSystemVm", row)]


def without_wait_problem(row, plan, recovering):
    """Why ``wait: false`` cannot carry out the plan (jobs one after the other), with the fix; None when it can."""
    if recovering:
        why = ("system VM %s was left Stopped by an interrupted stop-change-start: it must be changed, then started"
               % row.get("name"))
    elif plan.action == planner.RESTART:
        why = "a stop-change-start of system VM %s needs the stop to end before the change" % row.get("name")
    else:
        return None
    return "%s, so wait: false cannot carry it out: set wait: true (raise wait_timeout for a long one)" % why


def scale_system_vm(module):
    """system_vm_scale: wait for pending jobs, plan with the readiness report, refuse with reasons, scale and verify.

    With ``wait: false`` the scaleSystemVm job is submitted and returned in ``jobs``; a stop-change-start is refused.
    A system VM left Stopped by an interrupted stop-change-start (its stop record) is brought to the target and started.
    """
    params, api = module.params, module.api
    stopwatch = summary.Stopwatch()
    values = requested_values(params)
    zone = find_zone(api, params["zone"]) if params.get("zone") else None
    row = find_system_vm(api, params["system_vm"], zone)
    row, waited = settle(api, row, params["wait_timeout"])
    records = stop_records(api, row)
    recovering = bool(records) and row.get("state") == "Stopped"
    reader = SystemVmReader(api)
    target_row = reader.target_row(params["service_offering"])
    options = planner.Options(allow_migration=params["allow_migration"], allow_restart=params["allow_restart"])
    plan, situation = plan_system_vm(reader, row, target_row, values, options)
    ready = planner.readiness(situation)
    readiness = dict(live_scalable=ready.live_scalable, max_cpu_number=ready.max_cpu, max_memory=ready.max_memory,
                     blockers=list(ready.blockers))
    if plan.action == planner.REFUSE:
        raise refused(row, plan, readiness, "system VM %s cannot be scaled to %s (%s), nothing was changed: %s" % (
            label(row), plan.offering.name, planner.size(plan.cpu, plan.speed, plan.memory), "; ".join(plan.reasons)),
            plan.reasons)
    problem = without_wait_problem(row, plan, recovering) if not params["wait"] else None
    if problem:
        raise refused(row, plan, readiness, "%s; nothing was changed" % problem, [problem])
    before = view(row, (situation.vm.cpu, situation.vm.speed, situation.vm.memory))
    after_row, after, jobs = row, before, []
    changed = plan.action != planner.NONE or bool(records)
    if changed:
        state = "Running" if recovering else row.get("state")
        after = dict(before, service_offering=plan.offering.name, cpu_number=plan.cpu, cpu_speed=plan.speed,
                     memory=plan.memory, state=state)
        after_row = dict(row, serviceofferingid=plan.offering.id, serviceofferingname=plan.offering.name, state=state)
        warnings = []
        if not module.check_mode and not params["wait"]:
            jobs = submit_scale(api, row, plan) if plan.action != planner.NONE else []
            warnings = unmark(api, row, records)
        elif not module.check_mode:
            after_row, warnings = execute(api, row, plan, params["wait_timeout"], records)
            verify(after_row, plan, running=recovering)
            after = dict(view(after_row, (plan.cpu, plan.speed, plan.memory)))
        for warning in warnings:
            module.warn(warning)
    tracker = DifferenceTracker()
    for key in before:
        tracker.add(key, before[key], after[key])
    line = summary.scaled("system VM %s" % row.get("name"), before, after, plan.action, None if jobs else stopwatch,
                          module.check_mode)
    return dict(changed=changed, system_vm=after_row, before=before, after=after, plan=plan_view(plan),
                readiness=readiness, diff=tracker.diff(), jobs=jobs, waited_for=waited,
                recovered=recovery_note(row, records), summary=summary.in_progress(line, jobs) if jobs else line)


def verify(row, plan, running=False):
    """Raise when CloudStack says done but the system VM does not show the planned offering (or is not Running)."""
    if row.get("serviceofferingid") != plan.offering.id:
        raise CloudStackError("CloudStack reported the scale of system VM %s as done, but it shows offering %s, not"
                              " %s: check it in CloudStack"
                              % (label(row), row.get("serviceofferingname"), plan.offering.name))
    if (running or plan.action in (planner.LIVE, planner.MIGRATE_THEN_LIVE, planner.RESTART)) \
            and row.get("state") != "Running":
        raise CloudStackError("system VM %s is %s after the scale, not Running: start it with startSystemVm"
                              % (label(row), row.get("state")))

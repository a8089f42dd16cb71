# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: carry out scaling plans job by job, for one VM or for many at once.

Not a public API: it may change without notice. A ``Rollout`` is one VM's plan as a list of async jobs (scale;
migrate, scale; stop, scale, start); ``run_all`` submits the next job of many rollouts, at most ``max_jobs`` at a
time, and refills a slot as soon as its job ends, every pending job polled in one round per tick
(``CloudStackApi.poll_jobs``). The VM each job returns (``scaleVirtualMachine``, ``startVirtualMachine`` ... answer
with the ``UserVmResponse``) is the state after it: nothing is read again unless a step failed.

Faults: a failure after a submit says what is known of each job (its id, command and last status) and reads the VM
again before it says "nothing was changed". Before acting, ``settle`` waits for a job another task left pending on
the VM (CloudStack's VM work queue would run ours after it, on a state the plan did not see). A stop-change-start
records the stop in the VM detail ``MARKER`` before it stops the VM and removes it after the start, so that a re-run
after an interruption finds a VM it left stopped and brings it back to Running at the target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    JOB_PENDING, CloudStackError, JobFailed, JobTimeout, describe_status)
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import label
from ansible_collections.livescale.cloudstack.plugins.module_utils._vm_state import _action_call as action_call

RECONFIGURE_FAILED = "Unable to reconfigure VM."  # [4.23]; each plan's version names its own (_versions.Rules)
DONE = {"stop": "stopped", "start": "started", "migrate": "migrated", "scale": "scaled"}
# The VM detail that records a stop-change-start in progress. Any key but the denied and read-only ones
# (user.vm.denied.details, user.vm.readonly.details) may be set by a User (UserVmManagerImpl.updateVirtualMachine).
MARKER = "livescale.stop-change-start"
RECORD_STEPS = {"mark": "record the stop of", "unmark": "remove the stop record of"}


class ScaleFailed(CloudStackError):
    """A step of the scale failed; keeps CloudStack's answer and tells the VM's real state afterwards."""

    def __init__(self, error, message):
        super(ScaleFailed, self).__init__(message)
        for name in ("command", "errorcode", "cserrorcode", "errortext", "jobid"):
            setattr(self, name, getattr(error, name, None))


def api_int(value):
    """An API number (string or number) as int; None when absent."""
    if value is None or value == "":
        return None
    return int(float(value))


def view(vm):
    """The part of a VM that scaling changes, for before/after and diff."""
    return dict(service_offering=vm.get("serviceofferingname"), cpu_number=api_int(vm.get("cpunumber")),
                cpu_speed=api_int(vm.get("cpuspeed")), memory=api_int(vm.get("memory")), state=vm.get("state"),
                host=vm.get("hostname") or vm.get("hostid"))


def describe(vm):
    """``Running on kvm-a1-01 with Small (1 vCPU, 1000 MHz, 512 MiB)``."""
    shown = view(vm)
    where = " on %s" % shown["host"] if shown["host"] else ""
    return "%s%s with %s (%s)" % (shown["state"], where, shown["service_offering"],
                                  planner.size(shown["cpu_number"] or 0, shown["cpu_speed"] or 0, shown["memory"] or 0))


def reread(api, vm):
    """The VM as CloudStack shows it now (listall, so that root and domain admins see other accounts' VMs)."""
    found = [row for row in api.list("listVirtualMachines", "virtualmachine", action="read VM %s" % vm.get("name"),
                                     id=vm["id"], listall=True) if row.get("id") == vm["id"]]
    if not found:
        raise CloudStackError("VM %s cannot be read any more: check it in CloudStack" % label(vm))
    return found[0]


def mismatches(vm, plan, running=False):
    """How the VM differs from the plan's offering and size (and from Running when ``running``): [] when it does not."""
    expected = dict(service_offering=plan.offering.name, cpu_number=plan.cpu, cpu_speed=plan.speed, memory=plan.memory)
    if running:
        expected["state"] = "Running"
    seen = view(vm)
    return ["%s is %s, not %s" % (key, seen[key], value) for key, value in expected.items() if seen[key] != value]


def verify(vm_after, plan, running=False):
    """Raise when CloudStack says done but the VM does not show the planned size and offering."""
    wrong = mismatches(vm_after, plan, running)
    if wrong:
        raise CloudStackError("CloudStack reported the scale of VM %s as done, but the VM shows %s: check it in CloudStack"
                              % (label(vm_after), "; ".join(wrong)))


def interrupted(vm):
    """The record of a stop-change-start that did not finish (the VM detail MARKER), None without one."""
    return (vm.get("details") or {}).get(MARKER)


def record_params(vm, value=None):
    """updateVirtualMachine parameters that set MARKER to ``value`` (None: remove it) and keep the other details.

    ``details`` replaces every detail the caller may edit (UserVmManagerImpl.updateVirtualMachine; the denied,
    read-only and hidden ones are kept by CloudStack), so the VM's listed details are sent with it; an empty map is
    ignored there, so removing the last detail takes ``cleanupdetails``.
    """
    details = dict((key, item) for key, item in (vm.get("details") or {}).items() if key != MARKER)
    if value is not None:
        details[MARKER] = value
    return dict(id=vm["id"], details=details) if details else dict(id=vm["id"], cleanupdetails=True)


def pending_note(error):
    """What is known of a job whose end was not seen, and what to do."""
    return ("job %s of %s had not ended when this task gave up (last known jobstatus %s): the %s may still complete;"
            " wait for it with queryAsyncJobResult jobid=%s, or re-run the task (it waits for a pending job first)"
            % (error.jobid, error.command or "the step", describe_status(error.last_status),
               (error.action or "step").split(" ")[0], error.jobid))


def restart_plan(plan, vm):
    """The live plan turned into stop, change, start after CloudStack could not apply it to the running domain."""
    return planner.Plan(planner.RESTART, plan.offering, plan.cpu, plan.speed, plan.memory, plan.reasons + (
        "CloudStack could not apply the live scale to the running domain (%s): it was started without head-room;"
        " allow_restart is true: VM %s is stopped, changed and started again"
        % (plan.version.rules.reconfigure_failed, vm.get("name")),), version=plan.version)


class Rollout:
    """One VM's plan as steps: ``job()`` is the next one to run, ``ended()`` takes its outcome.

    A VM that carries MARKER was left stopped (or not yet unmarked) by an interrupted stop-change-start: when it is
    Stopped, the plan's offline change is followed by a start; the record is removed once the VM runs.
    """

    def __init__(self, vm, plan, auto_migrate=True, allow_restart=False):
        self.vm = vm
        self.plan = plan
        self.allow_restart = allow_restart
        self.was_marked = self.marked = interrupted(vm) is not None
        self.recovering = self.was_marked and vm.get("state") == "Stopped"
        self.steps = self._steps(plan, auto_migrate)
        self.jobids = []
        self.done = []
        self.latest = None
        self.error = None
        self.note = None
        self.warnings = []

    def _steps(self, plan, auto_migrate):
        if self.recovering:
            return (["scale"] if plan.action == planner.OFFLINE else []) + ["start", "unmark"]
        steps = ["unmark"] if self.marked else []
        if plan.action == planner.NONE:
            return steps
        if plan.action == planner.RESTART:
            return ["mark", "stop", "scale", "start", "unmark"]
        if plan.action == planner.MIGRATE_THEN_LIVE and plan.migrate_host and not auto_migrate:
            return steps + ["migrate", "scale"]
        return steps + ["scale"]

    @property
    def finished(self):
        return not self.steps

    @property
    def changed(self):
        """Whether a step of this rollout changed the VM (a stale stop record removed counts)."""
        return bool(self.done) or (self.was_marked and not self.marked)

    @property
    def stopped_by_us(self):
        """Whether the VM is down because of a stop-change-start (of this run, or of an interrupted one)."""
        return "stopped" in self.done or self.recovering

    def job(self):
        """(command, parameters, action) of the next step: an async job, or updateVirtualMachine for the record."""
        step = self.steps[0]
        if step in RECORD_STEPS:
            value = "stopped to change it to %s (%s)" % (self.plan.offering.name, planner.size(
                self.plan.cpu, self.plan.speed, self.plan.memory)) if step == "mark" else None
            return "updateVirtualMachine", record_params(self.latest or self.vm, value), "%s VM %s" % (
                RECORD_STEPS[step], self.vm.get("name"))
        action = "%s VM %s" % (step, self.vm.get("name"))
        if step == "scale":
            return "scaleVirtualMachine", dict(id=self.vm["id"], serviceofferingid=self.plan.offering.id,
                                               details=self.plan.details() or None), action
        host_id = self.plan.migrate_host.id if step == "migrate" else None
        command, params = action_call(self.vm, step, {}, host_id)
        return command, dict((key, value) for key, value in params.items() if value is not None), action

    def ended(self, result=None, error=None):
        """Record how the current job ended and decide the next step."""
        step = self.steps.pop(0)
        if error is None:
            self.latest = (result or {}).get("virtualmachine") or self.latest
            if step in RECORD_STEPS:
                self.marked = step == "mark"
                return
            self.done.append(DONE[step])
            if self.error is not None and step == "start":
                self.note = "it was started again with its old size"
            return
        if step == "unmark":
            self.warnings.append("VM %s runs at its target, but its stop record (detail %s) could not be removed: %s;"
                                 " a re-run removes it" % (label(self.vm), MARKER, error))
            return
        if self.error is not None:
            self.note = "starting it again failed too: %s" % error
            self.steps = []
            return
        live = self.plan.action in (planner.LIVE, planner.MIGRATE_THEN_LIVE)
        if step == "scale" and live and self.allow_restart and getattr(error, "errortext", None) == self.plan.version.rules.reconfigure_failed:
            self.plan = restart_plan(self.plan, self.vm)
            self.steps = ["mark", "stop", "scale", "start", "unmark"]
            return
        self.error = error
        if step == "scale" and self.stopped_by_us:
            self.steps = ["start", "unmark"]
        elif step == "stop" and isinstance(error, JobFailed):
            self.steps = ["unmark"]  # CloudStack says it did not stop: the record goes
        else:
            self.steps = []

    def outcome(self, api):
        """The VM after the plan, checked against it; ScaleFailed saying what happened when a step failed.

        When our step failed because another task brought the VM to the same target meanwhile (CloudStack ran its job
        first), the VM is returned and a warning says so.
        """
        if self.error is None:
            try:
                after = self.latest or reread(api, self.vm)
            except CloudStackError as error:
                raise CloudStackError("every job of VM %s succeeded (%s: %s), but the VM could not be read again to"
                                      " check it: %s" % (label(self.vm), ", ".join(self.done) or "none",
                                                         ", ".join(self.jobids), error))
            verify(after, self.plan, running=self.recovering)
            return after
        try:
            now = reread(api, self.vm)
        except CloudStackError as error:
            raise self.failure(None, error)
        if isinstance(self.error, JobFailed) and not self.done and view(now) != view(self.vm) \
                and not mismatches(now, self.plan, running=self.vm.get("state") == "Running"):
            self.warnings.append("VM %s reached the target meanwhile through another job, so this task changed nothing"
                                 " (its own %s)" % (label(self.vm), self.error))
            return now
        raise self.failure(now)

    def failure(self, now, read_error=None):
        """A ScaleFailed error that says what CloudStack answered, what is known of a pending job, and the VM now.

        ``now`` is the VM read again after the failure, None when that read failed (``read_error``): then its state is
        said to be unknown, never "nothing was changed".
        """
        parts = ["done so far: %s" % ", ".join(self.done)] if self.done else []
        still_pending = isinstance(self.error, JobTimeout)
        if still_pending:
            parts.append(pending_note(self.error))
        if now is None:
            parts.append("the VM could not be read again (%s), so its state now is not known" % read_error)
        elif not self.done and view(now) == view(self.vm):
            parts.append("nothing was changed so far" if still_pending else "nothing was changed")
        elif not self.done:
            parts.append("it differs from before the failed step: check it in CloudStack")
        if self.note:
            parts.append(self.note)
        if self.stopped_by_us and (now is None or now.get("state") != "Running"):
            parts.append("it was stopped for a stop-change-start and may not be running again: re-run the task, which"
                         " finds the record (detail %s) and starts it at the target, or start it with %s"
                         % (MARKER, planner.STATE_MODULE))
        elif getattr(self.error, "errortext", None) == self.plan.version.rules.reconfigure_failed:
            parts.append("the running domain probably has no head-room (started before dynamic scaling was enabled):"
                         " stop and start it with %s, or set allow_restart: true" % planner.STATE_MODULE)
        state = "is now %s" % describe(now) if now is not None else "is in a state not known"
        failed = ScaleFailed(self.error, "%s; VM %s %s: %s" % (self.error, label(self.vm), state, "; ".join(parts)))
        failed.result = dict(summary=self.failure_line(now))
        return failed

    def failure_line(self, now):
        """``web-01: Small 1 vCPU/1024 MiB → Medium 2 vCPU/2048 MiB failed (job j-1): <answer>; now Running on ...``."""
        target = dict(service_offering=self.plan.offering.name, cpu_number=self.plan.cpu, memory=self.plan.memory)
        job = getattr(self.error, "jobid", None)
        answer = getattr(self.error, "errortext", None) or str(self.error)
        return "%s: %s %s %s failed%s: %s; %s" % (
            self.vm.get("name") or self.vm.get("id"), summary.size(view(self.vm)), summary.ARROW, summary.size(target),
            " (job %s)" % job if job else "", answer, "now %s" % describe(now) if now is not None else "state not known")


def submit_next(api, rollout):
    """Submit the rollout's next job, after running its synchronous steps (updateVirtualMachine) at once.

    Returns (jobid, command, action), or None when no job was submitted (finished, or the submit failed).
    """
    while not rollout.finished:
        command, params, action = rollout.job()
        try:
            if command == "updateVirtualMachine":
                rollout.ended(api.call(command, action=action, **params))
                continue
            return api.submit(command, action=action, **params), command, action
        except CloudStackError as error:
            rollout.ended(error=error)
    return None


def run_all(api, rollouts, timeout, max_jobs, may_start=None):
    """Carry out rollouts with at most ``max_jobs`` jobs at a time; returns the rollouts never started.

    A slot is refilled as soon as its job ends: with the rollout's next job, else with a new rollout while
    ``may_start()`` allows it. Every pending job is polled in one round per tick (``CloudStackApi.poll_jobs``), each
    for ``timeout`` seconds from its submit. A rollout is any object with ``job()``, ``ended(result, error)``,
    ``finished`` and a ``jobids`` list (the ids of its submitted jobs).
    """
    waiting = list(rollouts)
    running = {}  # jobid: (rollout, deadline, (command, action))

    def advance(rollout):
        submitted = submit_next(api, rollout)
        if submitted is not None:
            jobid, command, action = submitted
            rollout.jobids.append(jobid)
            running[jobid] = (rollout, api.clock() + timeout, (command, action))

    while True:
        while waiting and len(running) < max_jobs and (may_start is None or may_start()):
            advance(waiting.pop(0))
        if not running:
            return waiting
        outcomes = api.poll_jobs(dict((jobid, job[1]) for jobid, job in running.items()),
                                 dict((jobid, job[2]) for jobid, job in running.items()))
        for jobid, (result, error) in outcomes.items():
            rollout = running.pop(jobid)[0]
            rollout.ended(result, error)
            advance(rollout)


class PendingJob(JobTimeout):
    """A job pending on a VM before this task acted did not end within wait_timeout; nothing was sent."""

    def __init__(self, vm, error):
        super(PendingJob, self).__init__(error.jobid, error.last_status, error.waited, action=error.action)
        self.args = ("job %s was pending on VM %s before this task acted and is still %s after %.1f s; nothing was"
                     " sent: wait for it with queryAsyncJobResult jobid=%s (or raise wait_timeout), then re-run"
                     % (error.jobid, label(vm), describe_status(error.last_status), error.waited, error.jobid),)


def pending_job(vm):
    """The id of the job in progress on a VM as listVirtualMachines shows it (``jobid``, ``jobstatus`` 0), else None."""
    jobid = vm.get("jobid")
    return jobid if jobid and api_int(vm.get("jobstatus")) in (None, JOB_PENDING) else None


def settle(api, vms, timeout, jobs_of=None, read_again=None, noun="VM"):
    """Wait within ``timeout`` for the jobs pending on ``vms``, then read those VMs again: the rows to plan from.

    CloudStack shows a job in progress on a VM as its ``jobid``/``jobstatus`` (UserVmJoinDaoImpl.newUserVmResponse)
    and runs the jobs of one VM one after the other (VmWorkJobQueue), so a plan made while another task's job is
    pending would be carried out on a state it did not see. ``jobs_of(vm)`` gives the ids of the jobs pending on a VM
    (its ``jobid`` by default) and ``read_again(api, vm)`` reads it again (``reread``). Returns ``(rows, {VM id: [job ids
    waited for]})``; PendingJob when a job does not end in time. Another task's job that fails is not this task's
    failure.
    """
    jobs_of = jobs_of or (lambda vm: [pending_job(vm)] if pending_job(vm) else [])
    read_again = read_again or reread
    start, waited = None, {}
    while True:
        pending = dict((vm["id"], jobs) for vm, jobs in (
            (vm, [jobid for jobid in jobs_of(vm) if jobid not in waited.get(vm["id"], ())]) for vm in vms) if jobs)
        if not pending:
            return vms, waited
        start = api.clock() if start is None else start
        try:
            api.wait_jobs(sorted(set(jobid for jobs in pending.values() for jobid in jobs)),
                          max(0.0, timeout - (api.clock() - start)), action="wait for the job pending on %s %s" % (
                              noun, ", ".join(vm.get("name") for vm in vms if vm["id"] in pending)))
        except JobFailed:
            pass
        except JobTimeout as error:
            raise PendingJob(next((vm for vm in vms if error.jobid in pending.get(vm["id"], ())), vms[0]), error)
        for vm_id, jobs in pending.items():
            waited.setdefault(vm_id, []).extend(jobs)
        vms = [read_again(api, vm) if vm["id"] in pending else vm for vm in vms]


def recovery_note(vm):
    """What scaling does about the record of an interrupted stop-change-start found on the VM; None without one."""
    record = interrupted(vm)
    if record is None:
        return None
    if vm.get("state") == "Stopped":
        return ("VM %s had been left Stopped by an interrupted stop-change-start (detail %s: %s): it is brought to its"
                " target and started again" % (label(vm), MARKER, record))
    return ("VM %s is %s but still carried the record of a stop-change-start (detail %s: %s): the record is removed"
            % (label(vm), vm.get("state"), MARKER, record))


def without_wait_problem(rollout):
    """Why a rollout cannot be left to CloudStack with ``wait: false``, with the fix; None when it is one job.

    A job that needs another to have ended (the change after a stop, the start after an offline change, the scale
    after the module's own migration) cannot be submitted by a task that does not wait.
    """
    jobs = [step for step in rollout.steps if step not in RECORD_STEPS]
    if len(jobs) <= 1:
        return None
    name = rollout.vm.get("name")
    if rollout.recovering:
        why = ("VM %s was left Stopped by an interrupted stop-change-start: it must be changed, then started" % name)
    elif "migrate" in jobs:
        why = ("VM %s must first be migrated to %s, then scaled (auto.migrate.vm.on.live.scale.insufficient.capacity is"
               " false, so CloudStack does not migrate it within the scale)" % (name, rollout.plan.migrate_host.name))
    else:
        why = "a stop-change-start of VM %s needs the stop to end before the change, and the change before the start" % name
    return ("%s, so wait: false cannot carry it out (%s are jobs one after the other): set wait: true (raise"
            " wait_timeout for a long one), or run the task under Ansible's async/poll" % (why, ", ".join(jobs)))


def submit_without_waiting(api, rollout):
    """Submit the rollout's one job (its synchronous steps first) and leave it to CloudStack.

    Returns ``[(jobid, command)]``, or [] when no job was submitted: the rollout needed none (a stale stop record
    removed) or its submit failed; ``rollout.outcome`` then tells the VM after it, or raises the failure.
    """
    submitted = submit_next(api, rollout)
    if submitted is None:
        return []
    jobid, command, _action = submitted
    rollout.jobids.append(jobid)
    return [(jobid, command)]

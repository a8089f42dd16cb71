# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: power state changes of a VM (start, stop, reboot, migrate).

Not a public API: it may change without notice. Helpers raise the typed errors of ``_api``;
only the module edge turns them into failures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError, InvalidValue, JobTimeout
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_host, find_owned_vm, label
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary

STUCK_STATES = ("Starting", "Stopping", "Migrating", "Restoring")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

# target state -> {current state: action}; None means "already there".
_ACTIONS = {
    "started": {"Running": None, "Stopped": "start"},
    "stopped": {"Running": "stop", "Stopped": None},
    "restarted": {"Running": "reboot", "Stopped": "start"},
    "migrated": {"Running": "migrate"},
}
_PREDICTED_STATE = {"start": "Running", "stop": "Stopped", "reboot": "Running", "migrate": "Running"}


def utc_now():
    """Current time as an aware UTC datetime (the default clock; tests inject their own)."""
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(text):
    """Parse CloudStack's ``yyyy-MM-dd'T'HH:mm:ssZ`` timestamps; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        return None


def format_duration(seconds):
    """Render a number of seconds as ``2h 05m 09s`` / ``5m 09s`` / ``9s``."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh %02dm %02ds" % (hours, minutes, secs)
    if minutes:
        return "%dm %02ds" % (minutes, secs)
    return "%ds" % secs


def host_label(vm):
    """The host a VM runs on, by name when the API shows it (root admin view), else by id."""
    return vm.get("hostname") or vm.get("hostid")


def state_since(api, vm):
    """When the VM entered its current state, best known: ``(datetime or None, source)``.

    ``lastupdated`` is CloudStack's own timestamp of the last state change; when the API does not
    return it, the newest event about the VM is the next best witness.
    """
    since = parse_time(vm.get("lastupdated"))
    if since is not None:
        return since, "lastupdated"
    try:
        events = api.list("listEvents", "event", action="read events of VM %s" % vm.get("name"),
                          resourceid=vm["id"], resourcetype="VirtualMachine", listall=True)
    except ApiError:
        return None, "unknown"
    stamps = [stamp for stamp in (parse_time(event.get("created")) for event in events) if stamp is not None]
    if not stamps:
        return None, "unknown"
    return max(stamps), "latest event"


def describe_state_age(api, vm, now):
    """``Starting for 12m 05s (since ..., from lastupdated)`` or ``Starting (since when is unknown)``."""
    since, source = state_since(api, vm)
    if since is None:
        return "%s (the API does not say since when)" % vm.get("state")
    return "%s for %s (since %s, from %s)" % (
        vm.get("state"), format_duration((now - since).total_seconds()), since.strftime(TIME_FORMAT), source)


def plan_action(vm, target, host_id=None):
    """Pure decision: the action that brings ``vm`` to ``target`` (None when it is already there).

    Raises CloudStackError for states this module does not act on; transitional states are left to
    the caller, which reports how long the VM has been stuck.
    """
    current = vm.get("state")
    actions = _ACTIONS[target]
    if current not in ("Running", "Stopped"):
        raise CloudStackError(
            "VM %s is %s: state=%s acts only on Running or Stopped VMs; recover or repair the VM first"
            % (label(vm), current, target))
    if current not in actions:
        raise CloudStackError(
            "VM %s is %s: it must be Running to be migrated; start it first (state: started)" % (label(vm), current))
    action = actions[current]
    if action == "migrate" and host_id is not None and vm.get("hostid") == host_id:
        return None
    return action


def _action_call(vm, action, params, host_id):
    """The CloudStack command and parameters of an action."""
    if action == "start":
        return "startVirtualMachine", dict(id=vm["id"], hostid=host_id)
    if action == "stop":
        return "stopVirtualMachine", dict(id=vm["id"], forced=params.get("force") or None)
    if action == "reboot":
        return "rebootVirtualMachine", dict(id=vm["id"], forced=params.get("force") or None)
    if host_id is not None:
        return "migrateVirtualMachine", dict(virtualmachineid=vm["id"], hostid=host_id)
    return "migrateVirtualMachine", dict(virtualmachineid=vm["id"], autoselect=True)


def run_action(api, vm, action, timeout, params=None, host_id=None, now=utc_now):
    """Run one action as an async job and wait for it; returns the VM as the job reports it.

    A job that outlives ``timeout`` is not retried: the error says which state the VM is in and
    for how long.
    """
    command, call_params = _action_call(vm, action, params or {}, host_id)
    call_params = dict((key, value) for key, value in call_params.items() if value is not None)
    label = "%s VM %s" % (action, vm.get("name"))
    try:
        result = api.run_async(command, timeout, action=label, **call_params)
    except JobTimeout as exc:
        current = refresh_vm(api, vm)
        raise CloudStackError(
            "%s: job %s did not finish within %s s; the VM is %s. Not retried: check the job and the host,"
            " then run again (a larger wait_timeout waits longer)"
            % (label, exc.jobid, timeout, describe_state_age(api, current, now())))
    return result.get("virtualmachine") or refresh_vm(api, vm)


def refresh_vm(api, vm):
    """Read the VM again by id."""
    found = api.list("listVirtualMachines", "virtualmachine", action="read VM %s" % vm.get("name"), id=vm["id"], listall=True)
    if not found:
        raise CloudStackError("VM %s disappeared while it was being changed" % label(vm))
    return found[0]


def fail_if_stuck(api, vm, now=utc_now):
    """Refuse to act on a VM in a transitional state, saying how long it has been in it."""
    if vm.get("state") in STUCK_STATES:
        raise CloudStackError(
            "VM %s is %s. Not retried: another operation is still running or is stuck; wait for it,"
            " or check the job and the host (a stuck VM usually needs a forced stop: state=stopped, force=true)"
            % (label(vm), describe_state_age(api, vm, now())))


def predicted_vm(vm, action, host=None):
    """What the VM will look like after ``action`` (check mode)."""
    after = dict(vm)
    after["state"] = _PREDICTED_STATE[action]
    if action == "stop":
        after.pop("hostid", None)
        after.pop("hostname", None)
    elif action in ("start", "migrate"):
        after["hostid"] = host["id"] if host else None
        after["hostname"] = host.get("name") if host else "(chosen by CloudStack)"
    return after


def power_view(vm):
    """The part of a VM that state changes touch, for diffs."""
    return {"state": vm.get("state"), "host": host_label(vm)}


def validate_state_options(params):
    """Check option combinations before any lookup or write; raises InvalidValue naming the fix."""
    target = params["state"]
    if target == "migrated" and not params.get("host") and not params.get("autoselect"):
        raise InvalidValue("state=migrated needs a destination: set host (name or id) or autoselect: true")
    if params.get("host") and params.get("autoselect"):
        raise InvalidValue("host=%s and autoselect: true exclude each other: keep one" % params["host"])
    if params.get("autoselect") and target != "migrated":
        raise InvalidValue("autoselect: true applies to state=migrated only, not state=%s: drop autoselect, or use"
                           " state: migrated" % target)
    if params.get("host") and target not in ("started", "migrated"):
        raise InvalidValue("host=%s applies to state=started or migrated only, not state=%s: drop host, or use state:"
                           " started or migrated" % (params["host"], target))
    if params.get("force") and target not in ("stopped", "restarted"):
        raise InvalidValue("force: true applies to state=stopped or restarted only, not state=%s: drop force, or use"
                           " state: stopped or restarted" % target)


def submit_action(api, vm, action, params=None, host_id=None):
    """Submit one action's job and leave it to CloudStack (``wait: false``); returns its ``jobs`` item."""
    command, call_params = _action_call(vm, action, params or {}, host_id)
    jobid = api.submit(command, action="%s VM %s" % (action, vm.get("name")),
                       **dict((key, value) for key, value in call_params.items() if value is not None))
    return summary.job_entry(jobid, command, vm)


def state_line(vm, before, after, action, stopwatch=None, check_mode=False):
    """``web-01: Stopped → Running on kvm-a1-01 (start), 2.3 s``; ``web-01: already Running on kvm-a1-01, ...``."""
    def where(view):
        return "%s on %s" % (view["state"], view["host"]) if view.get("host") else view["state"]
    if action is None:
        return summary.unchanged(vm.get("name"), where(before))
    return summary.changed_line(vm.get("name"), "%s %s %s (%s)" % (where(before), summary.ARROW, where(after), action),
                                None, stopwatch, check_mode)


def ensure_vm_state(module, now=utc_now):
    """Bring one VM to the module's ``state``; returns the result dict (with ``wait: false``, the job submitted)."""
    params, api = module.params, module.api
    stopwatch = summary.Stopwatch()
    validate_state_options(params)
    vm = find_owned_vm(api, params)[0]
    zone = {"id": vm.get("zoneid"), "name": vm.get("zonename")}
    host = find_host(api, params["host"], zone=zone) if params.get("host") else None
    fail_if_stuck(api, vm, now)
    action = plan_action(vm, params["state"], host["id"] if host else None)
    tracker = DifferenceTracker()
    if action is None:
        return dict({"changed": False, "action": "none", "vm": vm, "jobs": []}, diff=tracker.diff(),
                    summary=state_line(vm, power_view(vm), None, None))
    jobs = []
    if module.check_mode or not params["wait"]:
        after = predicted_vm(vm, action, host)
        if not module.check_mode:
            jobs = [submit_action(api, vm, action, params, host["id"] if host else None)]
    else:
        after = run_action(api, vm, action, params["wait_timeout"], params, host["id"] if host else None, now)
    before_view, after_view = power_view(vm), power_view(after)
    for field in ("state", "host"):
        tracker.add(field, before_view[field], after_view[field])
    if action == "reboot":
        tracker.add("boot", "running", "rebooted")
    line = state_line(vm, before_view, after_view, action, None if jobs else stopwatch, module.check_mode)
    return dict({"changed": True, "action": action, "vm": after, "jobs": jobs}, diff=tracker.diff(),
                summary=summary.in_progress(line, jobs) if jobs else line)

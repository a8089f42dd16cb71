# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the ``isdynamicallyscalable`` flag of templates and VMs.

Not a public API: it may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_owned_vm, find_template, find_zone
from ansible_collections.livescale.cloudstack.plugins.module_utils._vm_state import fail_if_stuck, run_action
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary

FLAG = "isdynamicallyscalable"
ZONE_SETTING = "enable.dynamic.scale.vm"

# CloudStack's [main] answers to updateVirtualMachine isdynamicallyscalable=true, in its order of checks.
TEMPLATE_BLOCKED = "Dynamic Scaling cannot be enabled for the Instance since its Template does not have dynamic scaling enabled"
OFFERING_BLOCKED = "Dynamic Scaling cannot be enabled for the Instance since its service offering does not have dynamic scaling enabled"
SETTING_BLOCKED = "Dynamic Scaling cannot be enabled for the VM since corresponding global setting is set to false"


def _fixes(vm):
    """What to do about each blocker, naming the object to fix."""
    return {
        TEMPLATE_BLOCKED: "template %s (%s) has isdynamicallyscalable=false: set it with livescale.cloudstack.template_scalable "
                          "(template: %s, dynamically_scalable: true)" % (vm.get("templatename"), vm.get("templateid"),
                                                                          vm.get("templatename") or vm.get("templateid")),
        OFFERING_BLOCKED: "offering %s (%s) has dynamicscalingenabled=false, which CloudStack cannot change in place: move the VM to "
                          "an offering with dynamic scaling (livescale.cloudstack.vm_scale) or replace the offering "
                          "(livescale.cloudstack.compute_offering, dynamic_scaling_enabled: true, force: true)"
                          % (vm.get("serviceofferingname"), vm.get("serviceofferingid")),
        SETTING_BLOCKED: "%s is false in zone %s: set it with livescale.cloudstack.setting (name: %s, value: true, zone: %s)"
                         % (ZONE_SETTING, vm.get("zonename"), ZONE_SETTING, vm.get("zonename") or vm.get("zoneid")),
    }


def explain(vm, errortext):
    """CloudStack's text followed by the fix, when the text is one of the three blockers."""
    fix = _fixes(vm).get(errortext)
    return "%s (%s)" % (errortext, fix) if fix else errortext


def read_zone_setting(api, zone_id):
    """``enable.dynamic.scale.vm`` in a zone: True/False, or None when the caller may not read settings."""
    try:
        rows = api.list("listConfigurations", "configuration", action="read %s" % ZONE_SETTING, name=ZONE_SETTING, zoneid=zone_id)
    except ApiError:
        return None
    for row in rows:
        if row.get("name") == ZONE_SETTING:
            return str(row.get("value")).lower() == "true"
    return None


def _first(api, command, key, action, **params):
    try:
        rows = api.list(command, key, action=action, **params)
    except ApiError:
        return None
    return rows[0] if rows else None


def blockers(api, vm, zone_setting):
    """The reasons CloudStack would refuse isdynamicallyscalable=true for ``vm``, in its order, as CloudStack words them.

    What cannot be read (e.g. settings as a non-admin) is left for CloudStack to judge.
    """
    found = []
    # With an id CloudStack applies no filter, only its access check; "all" is refused to a User (431).
    template = _first(api, "listTemplates", "template", "read template of VM %s" % vm.get("name"),
                      templatefilter="executable", id=vm.get("templateid"))
    if template is not None and not template.get(FLAG, False):
        found.append(TEMPLATE_BLOCKED)
    offering = _first(api, "listServiceOfferings", "serviceoffering", "read offering of VM %s" % vm.get("name"),
                      id=vm.get("serviceofferingid"))
    if offering is not None and not offering.get("dynamicscalingenabled", False):
        found.append(OFFERING_BLOCKED)
    if zone_setting is False:
        found.append(SETTING_BLOCKED)
    return found


def blocked_error(vm, found):
    """One error listing every blocker with its fix."""
    return CloudStackError("cannot set isdynamicallyscalable=true on VM %s (%s), nothing was changed: %s"
                           % (vm.get("name"), vm.get("id"), "; ".join(explain(vm, text) for text in found)))


def domain_prepared(vm, zone_setting, flag_changed, restarted):
    """Best knowledge of whether the VM's running domain can be live-scaled: ``(True/False/None, reason)``.

    CloudStack builds the KVM domain (with its <maxMemory> and vCPU headroom) at start, from the VM flag and the
    zone setting at that moment; the API shows today's values, never those of the last start.
    """
    name = vm.get("name")
    if vm.get("state") != "Running":
        return None, ("VM %s is %s: there is no running domain; the next start prepares it only if isdynamicallyscalable and "
                      "%s are both true then" % (name, vm.get("state"), ZONE_SETTING))
    if not vm.get(FLAG, False):
        return False, "isdynamicallyscalable is false: CloudStack refuses to live-scale VM %s" % name
    if zone_setting is False:
        return False, "%s is false in the VM's zone: CloudStack refuses to live-scale VM %s" % (ZONE_SETTING, name)
    if restarted:
        if zone_setting is None:
            return None, "VM %s was restarted with the flag set, but %s could not be read" % (name, ZONE_SETTING)
        return True, "VM %s was stopped and started with isdynamicallyscalable and %s true" % (name, ZONE_SETTING)
    if flag_changed:
        return False, ("the flag was just set on running VM %s, whose domain was built without scaling headroom: "
                       "stop and start it (apply: restart) before live scaling" % name)
    return None, ("the flag was already set; the API does not say whether it was set when VM %s last started: "
                  "a stop and start makes sure" % name)


def _reworded(exc, errortext):
    """The same CloudStack error (command, codes, action) with a more helpful text."""
    return ApiError(exc.command, errortext, errorcode=exc.errorcode, cserrorcode=exc.cserrorcode, action=exc.action)


def set_flag(api, kind, resource, desired, check_mode, command, result_key):
    """Set ``isdynamicallyscalable`` on a template or VM: returns ``(changed, resource after)``."""
    if bool(resource.get(FLAG, False)) == desired:
        return False, resource
    if check_mode:
        after = dict(resource)
        after[FLAG] = desired
        return True, after
    answer = api.call(command, action="set isdynamicallyscalable of %s %s" % (kind, resource.get("name")),
                      id=resource["id"], isdynamicallyscalable=desired)
    return True, answer.get(result_key) or dict(resource, **{FLAG: desired})


def ensure_template_scalable(module):
    """Set a template's flag as the module's options say; returns the result dict."""
    params, api = module.params, module.api
    zone = find_zone(api, params["zone"]) if params.get("zone") else None
    template = find_template(api, params["template"], zone=zone, templatefilter=params["template_filter"])
    tracker = DifferenceTracker()
    changed, after = set_flag(api, "template", template, params["dynamically_scalable"], module.check_mode,
                              "updateTemplate", "template")
    if changed:
        tracker.add(FLAG, template.get(FLAG, False), after.get(FLAG))
    line = summary.values("template %s" % template.get("name"), {FLAG: bool(template.get(FLAG, False))},
                          {FLAG: bool(after.get(FLAG, False))}, check_mode=module.check_mode)
    return dict({"changed": changed, "template": after, "summary": line}, diff=tracker.diff())


def ensure_vm_scalable(module):
    """Set a VM's flag, restart it if asked, and say whether its domain is prepared; returns the result dict."""
    params, api = module.params, module.api
    stopwatch = summary.Stopwatch()
    desired = params["dynamically_scalable"]
    vm = find_owned_vm(api, params)[0]
    zone_setting = read_zone_setting(api, vm.get("zoneid"))
    flag_changes = bool(vm.get(FLAG, False)) != desired
    if flag_changes and params["apply"] == "restart":
        fail_if_stuck(api, vm)
    restart = flag_changes and params["apply"] == "restart" and vm.get("state") == "Running"
    found = blockers(api, vm, zone_setting) if flag_changes and desired else []
    if found:
        error = blocked_error(vm, found)
        error.result = dict(summary=summary.refused("VM %s" % vm.get("name"), [explain(vm, text) for text in found]))
        raise error
    tracker = DifferenceTracker()
    try:
        changed, vm_after = set_flag(api, "VM", vm, desired, module.check_mode, "updateVirtualMachine", "virtualmachine")
    except ApiError as exc:
        raise _reworded(exc, explain(vm, exc.errortext))
    if changed:
        tracker.add(FLAG, not desired, desired)
    if restart:
        tracker.add("restarted", False, True)
        if not module.check_mode:
            stopped = run_action(api, vm_after, "stop", params["wait_timeout"], {"force": params["force_stop"]})
            try:
                vm_after = run_action(api, stopped, "start", params["wait_timeout"])
            except ApiError as exc:
                raise _reworded(exc, "%s. VM %s was stopped for the restart and is not running: start it with "
                                     "livescale.cloudstack.vm_state (state: started)" % (exc.errortext, vm.get("name")))
    prepared, reason = domain_prepared(vm_after, zone_setting, changed, restart)
    line = summary.values("VM %s" % vm.get("name"), {FLAG: bool(vm.get(FLAG, False))}, {FLAG: desired},
                          "stopped and started" if restart else None, stopwatch, module.check_mode)
    return {"changed": changed, "vm": vm_after, "restarted": restart, "prepared": prepared,
            "prepared_reason": reason, "zone_setting": zone_setting, "diff": tracker.diff(), "summary": line}

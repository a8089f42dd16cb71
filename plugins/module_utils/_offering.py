# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: compute (service) offerings as desired state.

Not a public API: it may change without notice. The comparison works on a normalised view
whose keys are the module's option names, so one vocabulary serves the checks, the diff and
the messages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import Ambiguous, CloudStackError, InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_domain, find_zone, label
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary

FIXED_FIELDS = ("cpu_number", "memory")
BOUND_FIELDS = ("min_cpu_number", "max_cpu_number", "min_memory", "max_memory")
SHAPE_FIELDS = FIXED_FIELDS + BOUND_FIELDS + ("cpu_speed", "customized")
FLAG_FIELDS = ("dynamic_scaling_enabled", "limit_cpu_use", "offer_ha")
# What updateServiceOffering can change; everything else needs a new offering.
MUTABLE_FIELDS = ("display_text", "host_tags", "domains", "zones")
IMMUTABLE_FIELDS = SHAPE_FIELDS + FLAG_FIELDS + ("storage_type",)
ALL_FIELDS = IMMUTABLE_FIELDS + MUTABLE_FIELDS

# option name -> createServiceOffering parameter
_CREATE_PARAMS = {
    "display_text": "displaytext", "cpu_number": "cpunumber", "cpu_speed": "cpuspeed", "memory": "memory",
    "min_cpu_number": "mincpunumber", "max_cpu_number": "maxcpunumber", "min_memory": "minmemory",
    "max_memory": "maxmemory", "customized": "customized", "dynamic_scaling_enabled": "dynamicscalingenabled",
    "limit_cpu_use": "limitcpuuse", "offer_ha": "offerha", "storage_type": "storagetype",
}
MIN_MEMORY_MB = 32


def _csv(value):
    """Sorted list from CloudStack's comma-separated fields ("" or absent gives [])."""
    return sorted(item.strip() for item in (value or "").split(",") if item.strip())


def _int_or_none(value):
    return None if value in (None, "") else int(value)


def offering_view(offering):
    """Normalise a ServiceOfferingResponse into the module's vocabulary."""
    details = offering.get("serviceofferingdetails") or {}
    view = {
        "display_text": offering.get("displaytext"),
        "cpu_number": _int_or_none(offering.get("cpunumber")),
        "cpu_speed": _int_or_none(offering.get("cpuspeed")),
        "memory": _int_or_none(offering.get("memory")),
        "customized": bool(offering.get("iscustomized", False)),
        "dynamic_scaling_enabled": bool(offering.get("dynamicscalingenabled", False)),
        "limit_cpu_use": bool(offering.get("limitcpuuse", False)),
        "offer_ha": bool(offering.get("offerha", False)),
        "storage_type": offering.get("storagetype"),
        "host_tags": _csv(offering.get("hosttags")),
        "domains": _csv(offering.get("domainid")),
        "zones": _csv(offering.get("zoneid")),
    }
    for field in BOUND_FIELDS:
        view[field] = _int_or_none(details.get(field.replace("_", "")))
    return view


def shape_of(view):
    """fixed, constrained, unconstrained, or None when the fields do not say."""
    if any(view.get(field) is not None for field in FIXED_FIELDS):
        return "fixed"
    if any(view.get(field) is not None for field in BOUND_FIELDS):
        return "constrained"
    if view.get("customized"):
        return "unconstrained"
    return None


def _missing(view, fields):
    return [field for field in fields if view.get(field) is None]


def check_consistency(name, view):
    """Reject contradictory shape options (any state of the offering); raises InvalidValue."""
    given_fixed = [field for field in FIXED_FIELDS if view.get(field) is not None]
    given_bounds = [field for field in BOUND_FIELDS if view.get(field) is not None]
    prefix = "compute offering %s: " % name
    if given_fixed and view.get("customized"):
        raise InvalidValue(prefix + "customized: true excludes %s; a custom offering takes its values at deploy/scale time: "
                           "drop %s or set customized: false" % (", ".join(given_fixed), ", ".join(given_fixed)))
    if given_fixed and given_bounds:
        raise InvalidValue(prefix + "%s (fixed offering) and %s (custom constrained offering) exclude each other: keep one set"
                           % (", ".join(given_fixed), ", ".join(given_bounds)))
    if given_bounds and view.get("customized") is False:
        raise InvalidValue(prefix + "%s describe a custom offering but customized is false: drop customized or the bounds"
                           % ", ".join(given_bounds))
    for low, high in (("min_cpu_number", "max_cpu_number"), ("min_memory", "max_memory")):
        if view.get(low) is not None and view.get(high) is not None and view[low] > view[high]:
            raise InvalidValue(prefix + "%s=%s is above %s=%s: swap them or fix one" % (low, view[low], high, view[high]))
    for field, minimum in (("cpu_number", 1), ("min_cpu_number", 1), ("max_cpu_number", 1), ("cpu_speed", 0),
                           ("memory", MIN_MEMORY_MB), ("min_memory", MIN_MEMORY_MB), ("max_memory", MIN_MEMORY_MB)):
        if view.get(field) is not None and view[field] < minimum:
            raise InvalidValue(prefix + "%s=%s is too small: use %s or more" % (field, view[field], minimum))


def check_creatable(name, view):
    """Reject a spec CloudStack's createServiceOffering would refuse; raises InvalidValue naming the fix."""
    check_consistency(name, view)
    prefix = "compute offering %s: " % name
    shape = shape_of(view)
    if shape is None:
        raise InvalidValue(
            prefix + "say which kind of offering to create: cpu_number, cpu_speed and memory for a fixed offering; "
            "min_cpu_number, max_cpu_number, min_memory, max_memory and cpu_speed for a custom constrained one; "
            "or customized: true alone for a custom unconstrained one")
    if shape == "fixed" and _missing(view, FIXED_FIELDS + ("cpu_speed",)):
        missing = _missing(view, FIXED_FIELDS + ("cpu_speed",))
        raise InvalidValue(prefix + "a fixed offering needs cpu_number, cpu_speed and memory together; missing: %s: add %s"
                           " (memory in MiB, cpu_speed in MHz), or set customized: true for a custom offering"
                           % (", ".join(missing), " and ".join(missing)))
    if shape == "constrained" and _missing(view, BOUND_FIELDS + ("cpu_speed",)):
        missing = _missing(view, BOUND_FIELDS + ("cpu_speed",))
        raise InvalidValue(prefix + "a custom constrained offering needs min_cpu_number, max_cpu_number, min_memory, max_memory "
                           "and cpu_speed together; missing: %s: add %s" % (", ".join(missing), " and ".join(missing)))
    if shape == "unconstrained" and view.get("cpu_speed") is not None:
        raise InvalidValue(prefix + "cpu_speed=%s with customized: true alone is refused by CloudStack: drop cpu_speed for a "
                           "custom unconstrained offering, or add the min/max bounds for a custom constrained one"
                           % view["cpu_speed"])


def desired_view(params, domain_ids, zone_ids):
    """The options the user set, in the normalised vocabulary (unset options are absent)."""
    view = dict((field, params.get(field)) for field in ALL_FIELDS if field not in ("host_tags", "domains", "zones")
                and params.get(field) is not None)
    if params.get("host_tags") is not None:
        view["host_tags"] = sorted(set(params["host_tags"]))
    if domain_ids is not None:
        view["domains"] = sorted(set(domain_ids))
    if zone_ids is not None:
        view["zones"] = sorted(set(zone_ids))
    if shape_of(view) in ("fixed", "constrained") and "customized" not in view:
        view["customized"] = shape_of(view) == "constrained"
    return view


def differences(current, desired):
    """Fields whose desired value differs from the current one, in a stable order."""
    return [field for field in ALL_FIELDS if field in desired and desired[field] != current.get(field)]


def merged_view(current, desired):
    """The full spec of a replacement offering: the current one overlaid with what the user set.

    When the user switches the kind of offering (fixed, custom constrained, custom unconstrained),
    the shape comes wholly from the user's options, never half from the old offering.
    """
    merged = dict(current)
    if shape_of(desired) not in (None, shape_of(current)):
        for field in SHAPE_FIELDS:
            merged[field] = None
    merged.update(desired)
    if shape_of(merged) == "fixed":
        merged["customized"] = False
    return merged


def create_params(name, view):
    """createServiceOffering parameters for a full spec."""
    params = {"name": name}
    for field, param in _CREATE_PARAMS.items():
        value = view.get(field)
        if value is None or (field == "customized" and shape_of(view) == "fixed"):
            continue
        params[param] = value
    if view.get("host_tags"):
        params["hosttags"] = ",".join(view["host_tags"])
    if view.get("domains"):
        params["domainid"] = ",".join(view["domains"])
    if view.get("zones"):
        params["zoneid"] = ",".join(view["zones"])
    return params


def update_params(offering_id, desired, changed_fields):
    """updateServiceOffering parameters for the mutable fields that differ."""
    params = {"id": offering_id}
    if "display_text" in changed_fields:
        params["displaytext"] = desired["display_text"]
    if "host_tags" in changed_fields:
        params["hosttags"] = ",".join(desired["host_tags"])
    if "domains" in changed_fields:
        params["domainid"] = ",".join(desired["domains"]) or "public"
    if "zones" in changed_fields:
        params["zoneid"] = ",".join(desired["zones"]) or "all"
    return params


def planned_update(offering, params):
    """The offering as it will look once ``update_params`` are applied (check mode)."""
    after = dict(offering)
    after.update((key, value) for key, value in params.items() if key != "id")
    return after


def replaced_name(name, offering_id, now):
    """Name given to an offering that force: true replaces (unique, and says when)."""
    return "%s (replaced %s %s)" % (name, now.strftime("%Y-%m-%d %H:%M"), offering_id[:8])


def immutable_error(name, offering_id, current, desired, fields):
    """The failure for changes updateServiceOffering cannot make."""
    changes = ", ".join("%s: %s -> %s" % (field, _shown(current.get(field)), _shown(desired.get(field))) for field in fields)
    error = InvalidValue(
        "compute offering %s (%s) cannot be changed in place: %s. CloudStack's updateServiceOffering changes only "
        "display_text, host_tags, domains and zones. Either set force: true to replace it (the old offering is renamed and "
        "set Inactive, a new one is created under this name; VMs on the old one keep running on it until you scale them), "
        "or create an offering under another name" % (name, offering_id, changes))
    error.result = dict(summary=summary.refused("compute offering %s" % name, [
        "%s cannot be changed in place (force: true replaces the offering)" % ", ".join(fields)]))
    return error


def _shown(value):
    return "unset" if value is None else value


def now_utc():
    """Current UTC time (the default clock for replacement names)."""
    return datetime.datetime.now(datetime.timezone.utc)


def find_offering(api, name):
    """The active compute offering called ``name``, or None; Ambiguous when several share it."""
    rows = [row for row in api.list("listServiceOfferings", "serviceoffering", action="find compute offering %s" % name,
                                    name=name, issystem="false") if row.get("name") == name]
    if len(rows) > 1:
        raise Ambiguous("compute offering", name, sorted(label(row) for row in rows))
    return rows[0] if rows else None


def _resolve(api, finder, keys):
    return None if keys is None else [finder(api, key)["id"] for key in keys]


def _record(tracker, before, after, fields):
    for field in fields:
        tracker.add(field, before.get(field), after.get(field))


def _replace(api, name, offering, merged, now):
    """Rename and disable the old offering, create the new one; put the old one back if creation fails."""
    old_name = replaced_name(name, offering["id"], now)
    retired = api.call("updateServiceOffering", action="retire compute offering %s" % name,
                       id=offering["id"], name=old_name, state="Inactive").get("serviceoffering")
    try:
        created = api.call("createServiceOffering", action="create compute offering %s" % name, **create_params(name, merged))
    except CloudStackError:
        api.call("updateServiceOffering", action="restore compute offering %s" % name,
                 id=offering["id"], name=name, state="Active")
        raise
    return created["serviceoffering"], retired or dict(offering, name=old_name, state="Inactive")


def ensure_compute_offering(module, now=now_utc):
    """Bring one compute offering to the state the module's options describe; returns the result dict with its summary."""
    stopwatch = summary.Stopwatch()
    result = bring_offering(module, now)
    return dict(result, summary=offering_line(module.params["name"], module.params["state"], result, stopwatch,
                                              module.check_mode))


def offering_line(name, state, result, stopwatch, check_mode):
    """``compute offering Medium: updated (host_tags, display_text), 0.2 s``."""
    subject = "compute offering %s" % name
    if not result["changed"]:
        return summary.unchanged(subject, "absent" if state == "absent" else "as described")
    if state == "absent":
        change = "deleted"
    elif result.get("replaced_offering"):
        change = "replaced (the old one is now %s, Inactive)" % result["replaced_offering"].get("name")
    elif all(value is None for value in result["diff"]["before"].values()):
        change = "created"
    else:
        change = "updated (%s)" % ", ".join(result["changed_fields"])
    return summary.changed_line(subject, change, None, stopwatch, check_mode)


def bring_offering(module, now):
    """Bring one compute offering to the state the module's options describe; returns the result dict."""
    params, api, name = module.params, module.api, module.params["name"]
    check_consistency(name, dict((field, params.get(field)) for field in SHAPE_FIELDS))
    tracker = DifferenceTracker()
    offering = find_offering(api, name)
    result = {"changed": False, "changed_fields": [], "compute_offering": offering or {}}
    if params["state"] == "absent":
        if offering is not None:
            _record(tracker, offering_view(offering), {}, ALL_FIELDS)
            if not module.check_mode:
                api.call("deleteServiceOffering", action="delete compute offering %s" % name, id=offering["id"])
            result.update(changed=True, compute_offering={})
        return dict(result, diff=tracker.diff())
    desired = desired_view(params, _resolve(api, find_domain, params.get("domains")), _resolve(api, find_zone, params.get("zones")))
    if offering is None:
        check_creatable(name, desired)
        _record(tracker, {}, desired, [field for field in ALL_FIELDS if field in desired])
        created = dict(create_params(name, desired))
        if not module.check_mode:
            created = api.call("createServiceOffering", action="create compute offering %s" % name, **created)["serviceoffering"]
        result.update(changed=True, changed_fields=sorted(desired), compute_offering=created)
        return dict(result, diff=tracker.diff())
    current = offering_view(offering)
    changed = differences(current, desired)
    _record(tracker, current, desired, changed)
    result.update(changed=bool(changed), changed_fields=changed)
    immutable = [field for field in changed if field in IMMUTABLE_FIELDS]
    if immutable and not params["force"]:
        raise immutable_error(name, offering["id"], current, desired, immutable)
    if immutable:
        merged = merged_view(current, desired)
        check_creatable(name, merged)
        module.warn("compute offering %s (%s) is replaced because %s cannot be changed in place; the old one is renamed and "
                    "set Inactive, and VMs on it keep running on it until you scale them" % (name, offering["id"], ", ".join(immutable)))
        if module.check_mode:
            result.update(compute_offering=create_params(name, merged),
                          replaced_offering=dict(offering, name=replaced_name(name, offering["id"], now()), state="Inactive"))
        else:
            created, retired = _replace(api, name, offering, merged, now())
            result.update(compute_offering=created, replaced_offering=retired)
    elif changed and module.check_mode:
        result["compute_offering"] = planned_update(offering, update_params(offering["id"], desired, changed))
    elif changed:
        result["compute_offering"] = api.call("updateServiceOffering", action="update compute offering %s" % name,
                                              **update_params(offering["id"], desired, changed))["serviceoffering"]
    return dict(result, diff=tracker.diff())

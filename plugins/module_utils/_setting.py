# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: CloudStack settings (configuration keys) as desired state.

Not a public API: it may change without notice. The pure part (value normalisation and type checks
against the ``type`` and ``options`` that ``listConfigurations`` reports, the scope named by the
options, close matches for unknown names and the plan of what to write) does no I/O; the rest reads
and writes through ``_api`` and raises its typed errors.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
from collections import namedtuple
from decimal import Decimal, InvalidOperation

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_account, find_cluster, find_domain, find_zone
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions

NUMBER_TYPES = ("Number", "Decimal", "Range", "Integer", "Long", "Float")
LIST_TYPES = ("Select", "CSV")
RESET_VALUES = ("", "null")
# ConfigurationManagerImpl.overProvisioningFactorsForValidation: CloudStack refuses a value <= 0 for these.
OVERPROVISIONING_FACTORS = ("cpu.overprovisioning.factor", "mem.overprovisioning.factor", "storage.overprovisioning.factor")
# scope -> (id parameter of the scope, field of the scope's object holding its parent scope's id parameter)
SCOPE_PARAMS = {"zone": ("zoneid", None), "cluster": ("clusterid", "zoneid"),
                "domain": ("domainid", None), "account": ("accountid", "domainid")}
# Most specific first: with a cluster, a zone only narrows the cluster lookup; likewise domain for account.
SCOPE_ORDER = ("cluster", "account", "zone", "domain")
UPDATE = "updateConfiguration"
RESET = "resetConfiguration"

Plan = namedtuple("Plan", "command value")
Plan.__doc__ = "What to write: ``command`` (None when the scope already holds the value) and the value after it."


class Scope:
    """Where a setting is read and written: kind, the CloudStack object, and the parents to fall back to.

    ``implicit`` marks the domain CloudStack picks itself for a domain admin who names no scope.
    """

    def __init__(self, kind="global", obj=None, implicit=False):
        self.kind = kind
        self.obj = obj
        self.implicit = implicit
        self.params = {}
        self.parents = [{}]
        if obj is not None:
            id_param, parent_param = SCOPE_PARAMS[kind]
            self.params = {id_param: obj["id"]}
            if parent_param:
                self.parents.insert(0, {parent_param: obj[parent_param]})

    def describe(self):
        if self.obj is None:
            return "globally"
        implicit = " (the domain of the domain admin's api_key, where CloudStack puts a call without scope)"
        return "in %s %s%s" % (self.kind, self.obj["name"], implicit if self.implicit else "")


def scope_kind(params):
    """The most specific scope the options name: cluster, account, zone, domain, or global when none."""
    return next((kind for kind in SCOPE_ORDER if params.get(kind)), "global")


def caller_domain(api):
    """The domain of a caller who is not root admin (the topmost one listDomains shows), or None for a root admin.

    A root admin sees the ROOT domain (level 0); any other caller sees its own domain and those below it only.
    (A domain admin of ROOT itself is taken for a root admin.)
    """
    domains = api.list("listDomains", "domain", action="read the domain of the API key", listall=True)
    top = min(domains, key=lambda domain: domain.get("level", 0), default=None)
    return top if top is not None and top.get("level", 0) > 0 else None


def resolve_scope(api, params):
    """The Scope named by the options, with its object looked up; zone/domain only narrow a cluster/account lookup.

    Without scope options the scope is the one CloudStack uses: global for a root admin, the caller's own domain
    for a domain admin (ConfigurationManagerImpl.updateConfiguration and ManagementServerImpl.searchForConfigurations
    set domainId = caller.getDomainId() when a domain admin gives neither account nor domain).
    """
    kind = scope_kind(params)
    if kind == "global":
        domain = caller_domain(api)
        return Scope("domain", domain, implicit=True) if domain else Scope()
    zone = find_zone(api, params["zone"]) if params["zone"] else None
    domain = find_domain(api, params["domain"]) if params["domain"] else None
    if kind == "cluster":
        return Scope(kind, find_cluster(api, params["cluster"], zone=zone))
    if kind == "account":
        return Scope(kind, find_account(api, params["account"], domain=domain))
    return Scope(kind, zone or domain)


def read_setting(api, name, params, action):
    """The setting called exactly ``name`` as listed with the scope ``params``, or None."""
    listed = api.list("listConfigurations", "configuration", action=action, name=name, **params)
    return next((item for item in listed if item.get("name") == name), None)


def server_version(api, name):
    """The server's Version when ``name`` is a setting some CloudStack versions lack (one listCapabilities), else
    versions.UNREAD without a call."""
    return versions.server_version(api) if name in versions.SETTINGS_ADDED else versions.UNREAD


def missing_setting_error(name, known_names, scope, version=versions.UNREAD):
    """InvalidValue for a name CloudStack does not know (with close matches), or does not know in that scope; for a
    setting the server's version lacks, the version that added it and what this one does instead."""
    names = sorted(set(known_names))
    lacking = version.lacks_setting(name)
    if lacking and name not in names:
        return InvalidValue(lacking)
    if scope.implicit:
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
        return InvalidValue("setting %s is not listed %s: CloudStack lists only the settings with a domain scope there, so it"
                            " either has none (a root admin's api_key must set it) or is unknown%s"
                            % (name, scope.describe(), "; close matches: %s" % ", ".join(close) if close else ""))
    if name in names:
        return InvalidValue("setting %s cannot be set %s: CloudStack has no %s-scoped value for it; choose another scope"
                            % (name, scope.describe(), scope.kind))
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    hint = "close matches: %s" % ", ".join(close) if close else "no close match; listConfigurations lists the known names"
    return InvalidValue("unknown setting %s; %s" % (name, hint))


def _boolean(value):
    text = str(value).lower() if isinstance(value, (bool, str)) else None
    return text if text in ("true", "false") else None


def _number(value, setting_type):
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or (setting_type == "Number" and number != number.to_integral_value()):
        return None
    return number


def _options(options):
    return [option.strip() for option in (options or "").split(",") if option.strip()]


def _fits_options(text, setting_type, options):
    """Whether ``text`` is one of the options (Select) or a list of them (CSV); True when none are listed."""
    allowed = _options(options)
    if not allowed:
        return True
    items = [text] if setting_type == "Select" else [item.strip() for item in text.split(",")]
    return all(item in allowed for item in items)


def normalise(value, setting_type, options=None):
    """Comparable form of ``value`` for a setting of ``setting_type``; None when the value does not fit the type."""
    if setting_type == "Boolean":
        return _boolean(value)
    if setting_type in NUMBER_TYPES:
        return _number(value, setting_type)
    text = _boolean(value) if isinstance(value, bool) else str(value)
    if setting_type in LIST_TYPES and not _fits_options(text, setting_type, options):
        return None
    return text


def wire_value(value, setting_type):
    """The text to send for a valid ``value``: booleans lower-case, whole numbers without a fraction, all trimmed as
    CloudStack trims what it stores (getNormalizedEmptyValueForConfig), so that a re-run compares equal."""
    if setting_type == "Boolean" or isinstance(value, bool):
        return _boolean(value)
    if setting_type == "Number":
        return str(int(_number(value, setting_type)))
    return str(value).strip()


def _allowed(setting_type, options):
    """How to write a valid value of the type, for error messages."""
    if setting_type == "Boolean":
        return "true or false"
    if setting_type == "Number":
        return "a whole number"
    if setting_type == "Select":
        return "one of %s" % options
    if setting_type == "CSV":
        return "a comma-separated list of %s" % options
    return "a number"


def desired_value(name, value, setting):
    """Check ``value`` against the setting's type; returns the text to send."""
    setting_type = setting.get("type") or ("Boolean" if _boolean(setting.get("value")) else "String")
    if value is None:
        raise InvalidValue("setting %s: value is required with state=present; give value, or use state=absent to reset"
                           " the setting" % name)
    if str(value).strip() in RESET_VALUES:
        raise InvalidValue("setting %s: value %r is empty or 'null', which CloudStack does not take as a reset (it refuses"
                           " it for a Boolean or number setting and stores an empty text otherwise); use state=absent to"
                           " reset the setting" % (name, value))
    normalised = normalise(value, setting_type, setting.get("options"))
    if normalised is None:
        raise InvalidValue("setting %s is of type %s: %r is not valid; use %s"
                           % (name, setting_type, value, _allowed(setting_type, setting.get("options"))))
    problem = range_problem(name, setting_type, normalised)
    if problem:
        raise InvalidValue("setting %s: value %r is out of range: %s" % (name, value, problem))
    return wire_value(value, setting_type)


def range_problem(name, setting_type, number):
    """What CloudStack's range check (validateValueRange) refuses in a value of the right type, with the fix; or None."""
    if name in OVERPROVISIONING_FACTORS and number <= 0:
        return "CloudStack takes only a value greater than 0; use a positive factor such as 1.0"
    if setting_type == "Range" and not 0 <= number <= 1:
        return "CloudStack takes only a fraction between 0 and 1; use a value such as 0.85"
    return None


def same_value(current, wanted, setting):
    """Whether two values of the setting mean the same (booleans and numbers compared as such)."""
    setting_type = setting.get("type") or ("Boolean" if _boolean(current) and _boolean(wanted) else "String")
    current_form = normalise(current, setting_type, setting.get("options")) if current is not None else None
    return current_form is not None and current_form == normalise(wanted, setting_type, setting.get("options"))


def plan_write(name, setting, state, value=None, value_after_reset=None):
    """The Plan for ``state``: update to ``value``, reset (to ``value_after_reset``, None if unknown), or nothing."""
    old = setting.get("value")
    if state == "present":
        wanted = desired_value(name, value, setting)
        return Plan(None, old) if same_value(old, wanted, setting) else Plan(UPDATE, wanted)
    if value_after_reset is not None and same_value(old, value_after_reset, setting):
        return Plan(None, old)
    return Plan(RESET, value_after_reset)


def predicted_reset_value(api, name, setting, scope, action):
    """What the scope's value becomes after resetConfiguration: default at global, else the parent's value."""
    if scope.obj is None:
        return setting.get("defaultvalue")
    for params in scope.parents:
        parent = read_setting(api, name, params, action)
        if parent is not None:
            return parent.get("value")
    return None


def ensure_setting(module):
    """Bring the setting to the wanted value in its scope; the result dict of the module."""
    api, params = module.api, module.params
    stopwatch = summary.Stopwatch()
    name, state = params["name"], params["state"]
    scope = resolve_scope(api, params)
    setting = read_setting(api, name, scope.params, "read setting %s" % name)
    if setting is None:
        known = [item.get("name") for item in api.list("listConfigurations", "configuration", action="read setting %s" % name)]
        raise missing_setting_error(name, known, scope, server_version(api, name))
    action = "%s setting %s %s" % ("set" if state == "present" else "reset", name, scope.describe())
    after_reset = predicted_reset_value(api, name, setting, scope, action) if state == "absent" else None
    plan = plan_write(name, setting, state, params["value"], after_reset)
    new = plan.value
    if plan.command and not module.check_mode:
        call_params = dict(scope.params, value=plan.value) if plan.command == UPDATE else scope.params
        api.call(plan.command, action=action, name=name, **call_params)
        new = stored_value(api, name, scope, action, plan.value)
    is_dynamic = str(setting.get("isdynamic", "true")).lower() == "true"
    if plan.command and not is_dynamic:
        module.warn("setting %s is not dynamic: CloudStack uses the new value only after the management server restarts" % name)
    result = build_result(name, scope, setting, new, plan.command is not None, is_dynamic)
    return dict(result, summary=setting_line(name, scope, setting.get("value"), new, plan.command is not None, is_dynamic,
                                             stopwatch, module.check_mode))


def setting_line(name, scope, old, new, changed, is_dynamic, stopwatch, check_mode):
    """``enable.dynamic.scale.vm in zone zone-a: false → true, live, 0.1 s``."""
    subject = "%s %s" % (name, scope.describe())
    if not changed:
        return summary.unchanged(subject, summary.shown(old))
    return summary.changed_line(subject, "%s %s %s" % (summary.shown(old), summary.ARROW, summary.shown(new)),
                                "live" if is_dynamic else "used after the management server restarts", stopwatch,
                                check_mode)


def stored_value(api, name, scope, action, fallback):
    """The value CloudStack now holds in the scope, read again with listConfigurations.

    updateConfiguration answers with the global row whatever the scope, so its answer does not tell what a zone,
    cluster, domain or account holds.
    """
    stored = read_setting(api, name, scope.params, action)
    return stored.get("value", fallback) if stored is not None else fallback


def build_result(name, scope, setting, new, changed, is_dynamic):
    """The module result with its diff."""
    old = setting.get("value")
    tracker = DifferenceTracker()
    tracker.add("name", name, name)
    tracker.add("scope", scope.kind, scope.kind)
    tracker.add("value", old, new)
    result = dict(changed=changed, name=name, scope=scope.kind, old_value=old, value=new, is_dynamic=is_dynamic, diff=tracker.diff())
    if scope.obj is not None:
        result.update(scope_id=scope.obj["id"], scope_name=scope.obj["name"])
    for field, key in (("defaultvalue", "default_value"), ("type", "type")):
        if setting.get(field) is not None:
            result[key] = setting[field]
    return result

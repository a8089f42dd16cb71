#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: setting
short_description: Read, set or reset a CloudStack setting at global, zone, cluster, domain or account scope
version_added: 0.1.0
description:
  - Sets a CloudStack setting (configuration key), such as C(enable.dynamic.scale.vm),
    C(kvm.cpu.dynamic.scaling.capacity), C(kvm.memory.dynamic.scaling.capacity) or
    C(auto.migrate.vm.on.live.scale.insufficient.capacity), with C(updateConfiguration), or resets it with
    C(resetConfiguration).
  - The scope is global unless O(zone), O(cluster), O(domain) or O(account) names one.
  - Idempotent on the value CloudStack reports for that scope (C(listConfigurations), the effective value,
    inherited from the parent scope when not set there). Booleans and numbers are compared as such, so
    V(true), V(True) and C("true") are equal, and so are V(1) and C("1.0") for a number.
  - The value is checked against the setting's C(type) before anything is written. An unknown setting name fails
    with the closest known names, and writes nothing.
  - The result tells whether CloudStack applies the new value live (C(isdynamic)) or only after a restart of the
    management server; a warning is given in the second case.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
  - livescale.cloudstack.attributes.actiongroup
options:
  name:
    description: Name of the setting, exactly as CloudStack lists it.
    type: str
    required: true
  value:
    description:
      - The value to set, with O(state=present). Booleans and numbers may be given as such.
      - An empty value is refused; use O(state=absent) to go back to the default or the parent scope's value.
    type: raw
  state:
    description:
      - V(present) sets O(value) in the scope.
      - V(absent) resets the setting with C(resetConfiguration) - to its default value at global scope, or removes
        the scope's own value so that the parent scope's value applies again.
    type: str
    choices: [present, absent]
    default: present
  zone:
    description:
      - Name or id of a zone, for zone scope.
      - With O(cluster), only narrows the lookup of the cluster.
    type: str
  cluster:
    description: Name or id of a cluster, for cluster scope.
    type: str
  domain:
    description:
      - Name, path (for example V(ROOT/customers)) or id of a domain, for domain scope.
      - With O(account), only narrows the lookup of the account.
    type: str
  account:
    description: Name or id of an account, for account scope.
    type: str
notes:
  - Needs root admin credentials, as C(updateConfiguration) and C(resetConfiguration) do.
  - With CloudStack older than 4.18, which lists neither C(type) nor C(defaultvalue), values are compared as text
    and O(state=absent) at global scope always resets.
seealso:
  - name: CloudStack global settings
    description: Where the settings are described.
    link: https://docs.cloudstack.apache.org/en/latest/installguide/configuration.html#setting-global-configuration-parameters
"""

EXAMPLES = r"""
- name: Allow live scaling of VMs in zone-a
  livescale.cloudstack.setting:
    name: enable.dynamic.scale.vm
    value: true
    zone: zone-a

- name: Let scalable KVM VMs of cluster-a1 grow to 16 vCPUs and 32 GiB
  livescale.cloudstack.setting:
    name: "{{ item.name }}"
    value: "{{ item.value }}"
    cluster: cluster-a1
  loop:
    - {name: kvm.cpu.dynamic.scaling.capacity, value: 16}
    - {name: kvm.memory.dynamic.scaling.capacity, value: 32768}

- name: Fail rather than migrate when the host lacks capacity for a live scale
  livescale.cloudstack.setting:
    name: auto.migrate.vm.on.live.scale.insufficient.capacity
    value: false
    cluster: cluster-a1

- name: Let cluster-a1 inherit the zone's value again
  livescale.cloudstack.setting:
    name: auto.migrate.vm.on.live.scale.insufficient.capacity
    cluster: cluster-a1
    state: absent

- name: Read a setting without changing it
  livescale.cloudstack.setting:
    name: enable.dynamic.scale.vm
    value: true
    zone: zone-a
  check_mode: true
  register: dynamic_scaling
"""

RETURN = r"""
name:
  description: Name of the setting.
  returned: always
  type: str
  sample: enable.dynamic.scale.vm
scope:
  description: Scope of the value.
  returned: always
  type: str
  choices: [global, zone, cluster, domain, account]
  sample: zone
scope_id:
  description: Id of the zone, cluster, domain or account; absent at global scope.
  returned: when the scope is not global
  type: str
  sample: 0b5d8f8e-1111-4a4a-8c8c-000000000001
scope_name:
  description: Name of the zone, cluster, domain or account; absent at global scope.
  returned: when the scope is not global
  type: str
  sample: zone-a
old_value:
  description: Value in the scope before the task, as CloudStack reports it.
  returned: always
  type: str
  sample: "false"
value:
  description: Value in the scope after the task (in check mode, the predicted value).
  returned: always
  type: str
  sample: "true"
default_value:
  description: Default value of the setting (CloudStack 4.18 and later).
  returned: when CloudStack reports it
  type: str
  sample: "false"
type:
  description: Type of the setting as CloudStack reports it (C(Boolean), C(Number), C(Decimal), C(String)...).
  returned: when CloudStack reports it
  type: str
  sample: Boolean
is_dynamic:
  description: Whether CloudStack applies a new value live; if V(false), the management server must be restarted.
  returned: always
  type: bool
  sample: true
diff:
  description: The value before and after.
  returned: always
  type: dict
  sample:
    before: {name: enable.dynamic.scale.vm, scope: zone, value: "false"}
    after: {name: enable.dynamic.scale.vm, scope: zone, value: "true"}
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample:
    api_calls: 3
"""

import difflib
from decimal import Decimal, InvalidOperation

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_account, find_cluster, find_domain, find_zone
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    value=dict(type="raw"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    zone=dict(type="str"),
    cluster=dict(type="str"),
    domain=dict(type="str"),
    account=dict(type="str"),
)
MUTUALLY_EXCLUSIVE = [("zone", "domain"), ("zone", "account"), ("cluster", "domain"), ("cluster", "account")]
NUMBER_TYPES = ("Number", "Decimal", "Range", "Integer", "Long", "Float")
RESET_VALUES = ("", "null")


class Scope:
    """Where a setting is read and written: kind, the CloudStack object, and the parents to fall back to."""

    def __init__(self, kind, obj=None, id_param=None, parents=()):
        self.kind = kind
        self.obj = obj
        self.params = {id_param: obj["id"]} if obj else {}
        self.parents = list(parents) + [{}]

    def describe(self):
        return "globally" if self.obj is None else "in %s %s" % (self.kind, self.obj["name"])


def resolve_scope(module):
    """The most specific scope named by the options; zone/domain only narrow a cluster/account lookup."""
    api, params = module.api, module.params
    zone = find_zone(api, params["zone"]) if params["zone"] else None
    domain = find_domain(api, params["domain"]) if params["domain"] else None
    if params["cluster"]:
        cluster = find_cluster(api, params["cluster"], zone=zone)
        return Scope("cluster", cluster, "clusterid", parents=[{"zoneid": cluster["zoneid"]}])
    if params["account"]:
        account = find_account(api, params["account"], domain=domain)
        return Scope("account", account, "accountid", parents=[{"domainid": account["domainid"]}])
    if zone:
        return Scope("zone", zone, "zoneid")
    if domain:
        return Scope("domain", domain, "domainid")
    return Scope("global")


def read_setting(api, name, params, action):
    """The setting called exactly ``name`` as listed with the scope ``params``, or None."""
    listed = api.list("listConfigurations", "configuration", action=action, name=name, **params)
    return next((item for item in listed if item.get("name") == name), None)


def missing_setting_error(api, name, scope, action):
    """InvalidValue for a name CloudStack does not know (with close matches) or not know in that scope."""
    names = sorted(set(item.get("name") for item in api.list("listConfigurations", "configuration", action=action)))
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


def normalise(value, setting_type, options=None):
    """Comparable form of ``value`` for a setting of ``setting_type``; None when the value does not fit the type."""
    if setting_type == "Boolean":
        return _boolean(value)
    if setting_type in NUMBER_TYPES:
        return _number(value, setting_type)
    text = _boolean(value) if isinstance(value, bool) else str(value)
    if options and setting_type == "Select" and text not in [option.strip() for option in options.split(",")]:
        return None
    return text


def wire_value(value, setting_type):
    """The text to send for a valid ``value``: booleans lower-case, whole numbers without a fraction."""
    if setting_type == "Boolean" or isinstance(value, bool):
        return _boolean(value)
    if setting_type == "Number":
        return str(int(_number(value, setting_type)))
    return str(value).strip() if setting_type in NUMBER_TYPES else str(value)


def desired_value(name, value, setting):
    """Check ``value`` against the setting's type; returns the text to send."""
    setting_type = setting.get("type") or ("Boolean" if _boolean(setting.get("value")) else "String")
    if value is None:
        raise InvalidValue("setting %s: value is required with state=present" % name)
    if str(value).strip().lower() in RESET_VALUES:
        raise InvalidValue("setting %s: an empty or 'null' value resets the setting; use state=absent instead" % name)
    if normalise(value, setting_type, setting.get("options")) is None:
        allowed = {"Boolean": "true or false", "Number": "a whole number"}.get(setting_type, "a number" if setting_type in NUMBER_TYPES else None)
        if setting_type == "Select":
            allowed = "one of %s" % setting.get("options")
        raise InvalidValue("setting %s is of type %s: %r is not valid; use %s" % (name, setting_type, value, allowed))
    return wire_value(value, setting_type)


def same_value(current, wanted, setting):
    """Whether two values of the setting mean the same (booleans and numbers compared as such)."""
    setting_type = setting.get("type") or ("Boolean" if _boolean(current) and _boolean(wanted) else "String")
    current_form = normalise(current, setting_type, setting.get("options")) if current is not None else None
    return current_form is not None and current_form == normalise(wanted, setting_type, setting.get("options"))


def value_after_reset(api, name, setting, scope, action):
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
    name, state = params["name"], params["state"]
    scope = resolve_scope(module)
    setting = read_setting(api, name, scope.params, "read setting %s" % name)
    if setting is None:
        raise missing_setting_error(api, name, scope, "read setting %s" % name)
    old = setting.get("value")
    if state == "present":
        action = "set setting %s %s" % (name, scope.describe())
        wanted = desired_value(name, params["value"], setting)
        changed = not same_value(old, wanted, setting)
        new = wanted if changed else old
        if changed and not module.check_mode:
            answer = api.call("updateConfiguration", action=action, name=name, value=wanted, **scope.params)
            new = answer.get("configuration", {}).get("value", wanted)
    else:
        action = "reset setting %s %s" % (name, scope.describe())
        expected = value_after_reset(api, name, setting, scope, action)
        changed = expected is None or not same_value(old, expected, setting)
        new = expected if changed else old
        if changed and not module.check_mode:
            new = api.call("resetConfiguration", action=action, name=name, **scope.params).get("configuration", {}).get("value")
    is_dynamic = str(setting.get("isdynamic", "true")).lower() == "true"
    if changed and not is_dynamic:
        module.warn("setting %s is not dynamic: CloudStack uses the new value only after the management server restarts" % name)
    return build_result(name, scope, setting, old, new, changed, is_dynamic)


def build_result(name, scope, setting, old, new, changed, is_dynamic):
    """The module result with its diff."""
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


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=MUTUALLY_EXCLUSIVE)
    module.run(ensure_setting)


if __name__ == "__main__":
    main()

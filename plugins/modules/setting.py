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
  - The value is checked against the setting's C(type) (and its C(options) for a C(Select) or C(CSV) setting) before
    anything is written. An unknown setting name fails with the closest known names, and writes nothing.
  - CloudStack's range checks are applied before anything is written too - an overprovisioning factor must be greater
    than 0, a setting of type C(Range) (such as C(cluster.cpu.allocated.capacity.disablethreshold)) within 0 and 1.
  - After a change the value is read again in its scope, because C(updateConfiguration) answers with the global
    value whatever the scope; RV(value) is what the scope holds.
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
      - An empty or V(null) value is refused (CloudStack refuses it for a boolean or number setting and stores an
        empty text otherwise); use O(state=absent) to go back to the default or the parent scope's value.
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
summary:
  description: One line for people.
  returned: always
  type: str
  sample: "enable.dynamic.scale.vm in zone zone-a: false \u2192 true, live, 0.1 s"
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
  description: Value in the scope after the task, as read back from CloudStack (in check mode, the predicted value).
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

from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._setting import ensure_setting

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    value=dict(type="raw"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    zone=dict(type="str"),
    cluster=dict(type="str"),
    domain=dict(type="str"),
    account=dict(type="str"),
)
# zone narrows a cluster lookup and domain an account lookup; any other pair names two scopes.
MUTUALLY_EXCLUSIVE = [("zone", "domain"), ("zone", "account"), ("cluster", "domain"), ("cluster", "account")]


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=MUTUALLY_EXCLUSIVE)
    module.run(ensure_setting)


if __name__ == "__main__":
    main()

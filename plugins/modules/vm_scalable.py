#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_scalable
short_description: Set or clear the dynamic scaling flag of a CloudStack VM
version_added: 0.1.0
description:
  - Sets the VM's C(isdynamicallyscalable) flag with C(updateVirtualMachine).
  - CloudStack accepts V(true) only when the VM's template has C(isdynamicallyscalable), its offering has
    C(dynamicscalingenabled) and the setting C(enable.dynamic.scale.vm) is true in its zone. The module reads all three
    first and, if any is missing, fails before writing, with CloudStack's own texts and what to change
    (M(livescale.cloudstack.template_scalable), M(livescale.cloudstack.compute_offering), M(livescale.cloudstack.setting)).
    What it may not read (settings, as a non-admin) is left to CloudStack, whose refusal is reported the same way.
  - On KVM the flag takes effect at the next start, when CloudStack builds the domain with its scaling headroom;
    a running VM keeps the domain it was started with. O(apply) chooses whether to wait for that or to stop and start now.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.vm_owner.vm
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
  - livescale.cloudstack.attributes.actiongroup
options:
  dynamically_scalable:
    description: The wanted value of the flag.
    type: bool
    required: true
  apply:
    description:
      - V(next_start) only sets the flag; a running VM picks it up at its next stop and start.
      - V(restart) also stops and starts a Running VM, waiting for both jobs (O(wait_timeout) each), when this run
        changed the flag. A Stopped VM is never started.
    type: str
    choices: [next_start, restart]
    default: next_start
  force_stop:
    description: With O(apply=restart), stop the VM forcibly (C(forced=true)).
    type: bool
    default: false
seealso:
  - module: livescale.cloudstack.vm_state
  - module: livescale.cloudstack.vm_scale
"""

EXAMPLES = r"""
- name: Make web-01 live-scalable and restart it so that its domain gets the headroom now
  livescale.cloudstack.vm_scalable:
    vm: web-01
    zone: zone-a
    dynamically_scalable: true
    apply: restart

- name: Flag db-01 of account acme; it is prepared at its next start
  livescale.cloudstack.vm_scalable:
    vm: db-01
    account: acme
    domain: ROOT/customers
    dynamically_scalable: true
  register: db_flag

- name: Tell whether db-01 can be live-scaled now
  ansible.builtin.debug:
    msg: "{{ db_flag.prepared_reason }}"
"""

RETURN = r"""
summary:
  description: One line for people; also in a refusal's failure, naming its first blocker.
  returned: always
  type: str
  sample: "VM web-01: isdynamicallyscalable false \u2192 true, stopped and started, 4.2 s"
vm:
  description: The VM after the change (C(UserVmResponse) fields); in check mode, the current VM with the planned flag.
  returned: always
  type: dict
  sample:
    id: 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    name: web-01
    state: Running
    isdynamicallyscalable: true
restarted:
  description: Whether the VM was (in check mode, would be) stopped and started.
  returned: always
  type: bool
  sample: false
prepared:
  description:
    - Best knowledge of whether the running domain can be live-scaled now.
    - V(true) after this module restarted the VM with the flag and C(enable.dynamic.scale.vm) both true.
    - V(false) when the flag or the zone setting is false, or when the flag was just set on a running VM without restart.
    - V(null) when it cannot be known from the API, which shows today's flag and setting, not those at the VM's last
      start (flag already set before this run; setting not readable), and for a VM that is not Running.
  returned: always
  type: bool
  sample: false
prepared_reason:
  description: Why RV(prepared) has its value, and what to do.
  returned: always
  type: str
  sample: >-
    the flag was just set on running VM web-01, whose domain was built without scaling headroom:
    stop and start it (apply: restart) before live scaling
zone_setting:
  description: C(enable.dynamic.scale.vm) in the VM's zone, or V(null) if the caller may not read settings.
  returned: always
  type: bool
  sample: true
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample:
    api_calls: 6
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._scalable import ensure_vm_scalable

ARGUMENT_SPEC = dict(
    OWNER_SCOPE_SPEC,
    vm=dict(type="str", required=True),
    dynamically_scalable=dict(type="bool", required=True),
    apply=dict(type="str", choices=["next_start", "restart"], default="next_start"),
    force_stop=dict(type="bool", default=False),
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_vm_scalable)


if __name__ == "__main__":
    main()

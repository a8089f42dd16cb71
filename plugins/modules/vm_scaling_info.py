#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_scaling_info
short_description: Tell whether CloudStack VMs can be live-scaled now, up to what, and what blocks them
version_added: 0.1.0
description:
  - For one VM, or every VM matching the filters, reads the VM, its offering, the settings of its zone and cluster,
    its template flag and its host, and reports whether a live scale-up is possible now, the largest vCPUs and memory a
    live scale can reach, and every blocker with its fix.
  - Uses the same planner as M(livescale.cloudstack.vm_scale), so both agree.
  - Without O(vm), every VM that O(zone), O(account), O(domain), O(project), O(name) and O(state) select is reported.
  - What the caller may not read (settings, hosts as a non-admin) is left out of the judgement.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.vm_owner.vm
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.info_module
  - livescale.cloudstack.attributes.actiongroup
options:
  vm:
    required: false
  name:
    description: Only VMs whose name contains this text (case-insensitive). Ignored with O(vm).
    type: str
  state:
    description: Only VMs in this state, for example V(Running). Ignored with O(vm).
    type: str
seealso:
  - module: livescale.cloudstack.vm_scale
"""

EXAMPLES = r"""
- name: Check web-01 before scaling it
  livescale.cloudstack.vm_scaling_info:
    vm: web-01
    zone: zone-a
  register: web

- name: Say what to fix
  ansible.builtin.debug:
    msg: "{{ web.vms[0].blockers }}"
  when: not web.vms[0].live_scalable

- name: Report every running VM of account acme
  livescale.cloudstack.vm_scaling_info:
    account: acme
    domain: ROOT/customers
    state: Running
"""

RETURN = r"""
vms:
  description: One entry per VM.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: VM id.
      type: str
      sample: 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    name:
      description: VM name.
      type: str
      sample: web-01
    state:
      description: VM state.
      type: str
      sample: Running
    zone:
      description: Zone name.
      type: str
      sample: zone-a
    host:
      description: Host the VM runs on (name for root admins, else id; V(null) when stopped).
      type: str
      sample: kvm-a1-01
    service_offering:
      description: Current offering.
      type: str
      sample: Small
    offering_kind:
      description: V(fixed), V(custom constrained) or V(custom unconstrained).
      type: str
      sample: fixed
    cpu_number:
      description: vCPUs now.
      type: int
      sample: 1
    cpu_speed:
      description: CPU speed now (MHz).
      type: int
      sample: 1000
    memory:
      description: Memory now (MiB).
      type: int
      sample: 512
    live_scalable:
      description: Whether a live scale-up can be done now.
      type: bool
      sample: false
    max_cpu_number:
      description:
        - The most vCPUs a live scale can reach (domain head-room, C(kvm.cpu.dynamic.scaling.capacity) or host cores,
          offering bounds, and the vCPUs the owner's account and domains have left under their limits); V(null) when
          unknown.
      type: int
      sample: 8
    max_memory:
      description:
        - The most memory (MiB) a live scale can reach (domain head-room, C(kvm.memory.dynamic.scaling.capacity) or the
          host's raw memory without C(mem.overprovisioning.factor), offering bounds, and the owner's remaining
          limits); V(null) when unknown.
      type: int
      sample: 16384
    blockers:
      description: What prevents a live scale, in CloudStack's order of checks, each with its fix.
      type: list
      elements: str
      sample: ["enable.dynamic.scale.vm is false in zone zone-a: set it to true with livescale.cloudstack.setting"]
    warnings:
      description:
        - Known scaling defects of the server's CloudStack version that concern this VM, each naming its
          apache/cloudstack issue, and a note when the version is not one the collection knows.
      type: list
      elements: str
      sample: ["CloudStack 4.19.1.2 has a known scaling defect (apache/cloudstack #9879 (and #9519)): ..."]
    cloudstack_version:
      description: The version the server reports (listCapabilities C(cloudstackversion)); V(null) when unread.
      type: str
      sample: 4.22.0.0
    planned_for:
      description:
        - Whose scaling rules were applied (C(CloudStack 4.18) to C(CloudStack 4.23)); an unknown version is planned
          by the nearest known one and RV(vms[].warnings) says so.
      type: str
      sample: CloudStack 4.22
    interrupted_restart:
      description:
        - The record of a stop-change-start of M(livescale.cloudstack.vm_scale) that did not finish (VM detail
          C(livescale.stop-change-start)), else V(null). A re-run of the scale brings such a VM back to Running at
          its target and removes the record.
      type: str
      sample: null
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 9}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import scaling_info

ARGUMENT_SPEC = dict(
    OWNER_SCOPE_SPEC,
    vm=dict(type="str"),
    name=dict(type="str"),
    state=dict(type="str"),
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(scaling_info)


if __name__ == "__main__":
    main()

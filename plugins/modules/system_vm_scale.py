#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: system_vm_scale
short_description: Change the CPU and memory of a CloudStack console proxy or secondary storage VM
version_added: 0.2.0
description:
  - Scales a system VM (console proxy C(v-N-VM) or secondary storage VM C(s-N-VM)) to another system offering with
    C(scaleSystemVm), live when it runs. Root admins only, as the C(*SystemVm) commands are.
  - CloudStack scales a system VM with the same rules as a user VM (C(ManagementServerImpl.upgradeSystemVM) calls
    C(UserVmManagerImpl.upgradeVirtualMachine)), so the module plans with the same planner as
    M(livescale.cloudstack.vm_scale) and returns the same plan (V(none), V(live), V(migrate_then_live), V(restart),
    V(offline) or V(refuse)) and a readiness report like M(livescale.cloudstack.vm_scaling_info)'s.
  - A live scale needs C(enable.dynamic.scale.vm) in the zone and a system VM with C(isdynamicallyscalable), which it
    takes from the system VM template when CloudStack creates it; the report says how to get there.
  - Only system offerings of the system VM's own type are accepted; a user offering or one of another system VM type
    is refused with the offerings that fit. A refused plan fails before any change.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.wait
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
  - livescale.cloudstack.attributes.actiongroup
options:
  system_vm:
    description: Name (for example V(v-2-VM)) or id of the system VM.
    type: str
    required: true
  zone:
    description: Zone (name or id) in which to look the system VM up.
    type: str
  service_offering:
    description:
      - Name or id of the target system offering (C(listServiceOfferings issystem=true)), of the system VM's type
        (C(systemvmtype) V(consoleproxy) or V(secondarystoragevm)).
    type: str
    required: true
  cpu_number:
    description: Number of vCPUs, for a custom system offering. C(scaleSystemVm) does not fill in values left out.
    type: raw
  cpu_speed:
    description: CPU speed in MHz, for a custom system offering without a fixed speed.
    type: raw
  memory:
    description: Memory in MiB, for a custom system offering.
    type: raw
  allow_migration:
    description:
      - Allow CloudStack to move the running system VM to another host of its cluster when its host lacks the
        capacity (it does so itself when C(auto.migrate.vm.on.live.scale.insufficient.capacity) is true).
    type: bool
    default: false
  allow_restart:
    description:
      - Allow stopping the system VM, changing it and starting it again when a live scale is not possible. Consoles
        (console proxy) or template and volume copies (secondary storage VM) are interrupted meanwhile.
      - Before the stop the module records it in an annotation on the system VM (C(addAnnotation) with entity type
        C(SYSTEM_VM), text C(livescale.stop-change-start) and the target; a system VM takes no tags or details) and
        removes it after the start. A re-run that finds a Stopped system VM with that annotation (an interrupted run)
        changes it, starts it and says so in RV(recovered).
    type: bool
    default: false
notes:
  - Before it plans, the module waits (within O(wait_timeout)) for a job in progress on the system VM and for any
    pending C(scaleSystemVm) job, then reads the system VM again.
  - To make system VMs live-scalable set C(enable.dynamic.scale.vm) with M(livescale.cloudstack.setting) and the
    system VM template's flag with M(livescale.cloudstack.template_scalable) (its C(template_filter=all) finds the
    system template), then have CloudStack create the system VMs again (C(destroySystemVm)); see apache/cloudstack
    PR 13321.
seealso:
  - module: livescale.cloudstack.vm_scale
  - module: livescale.cloudstack.template_scalable
  - module: livescale.cloudstack.setting
"""

EXAMPLES = r"""
- name: Give the console proxy of zone-a 2 vCPUs and 2 GiB while it runs
  livescale.cloudstack.system_vm_scale:
    system_vm: v-2-VM
    zone: zone-a
    service_offering: Console Proxy Large

- name: Scale the secondary storage VM, stopping it if a live scale is not possible
  livescale.cloudstack.system_vm_scale:
    system_vm: s-1-VM
    service_offering: SSVM Large
    allow_restart: true
  register: ssvm

- name: Show how it was done and what blocks a live scale
  ansible.builtin.debug:
    msg: "{{ ssvm.plan.action }}: {{ ssvm.plan.reasons | join(' ') }} / {{ ssvm.readiness.blockers | join(' ') }}"
"""

RETURN = r"""
summary:
  description: One line for people, as RV(livescale.cloudstack.vm_scale#module:summary).
  returned: always
  type: str
  sample: "system VM v-2-VM: System Offering For Console Proxy 1 vCPU/1024 MiB \u2192 Console Proxy Large 2 vCPU/2048
    MiB, live on kvm-a1-02, 3.1 s"
jobs:
  description: With O(wait=false), the job submitted (C(jobid), C(command), C(vm)); else V([]).
  returned: always
  type: list
  elements: dict
  sample: [{jobid: 5b1d8a0e-3c2f-4e6a-9f7b-1a2b3c4d5e6f, command: scaleSystemVm, vm: v-2-VM}]
recovered:
  description:
    - What this run did about the record of an interrupted stop-change-start that the system VM carried (an
      annotation C(livescale.stop-change-start), added before the stop and removed after the start), else V(null).
  returned: always
  type: str
  sample: "system VM v-2-VM (5b1d...) had been left Stopped by an interrupted stop-change-start (annotation ...): it is
    brought to its target and started again"
waited_for:
  description:
    - Ids of the jobs in progress when the task started that may act on the system VM (its C(jobid) in
      C(listSystemVms), and any pending C(scaleSystemVm), whose job does not name its system VM); the task waited for
      them within O(wait_timeout) and planned from the state after them.
  returned: always
  type: list
  elements: str
  sample: [5b1d8a0e-3c2f-4e6a-9f7b-1a2b3c4d5e6f]
plan:
  description: The decision and the values the system VM ends with (as RV(livescale.cloudstack.vm_scale#module:plan)).
  returned: always
  type: dict
  sample: {action: live, reasons: ["VM v-2-VM can be live-scaled on its host: ..."],
           service_offering: Console Proxy Large, cpu_number: 2, cpu_speed: 500, memory: 2048, migrate_to: null}
readiness:
  description: Whether the system VM can be live-scaled now, up to which size, and what blocks it (each with its fix).
  returned: always
  type: dict
  sample: {live_scalable: false, max_cpu_number: 1, max_memory: 1024,
           blockers: ["enable.dynamic.scale.vm is false in zone zone-a: set it to true with
                      livescale.cloudstack.setting"]}
before:
  description: Offering, vCPUs, speed, memory, state and host of the system VM before.
  returned: always
  type: dict
  sample: {service_offering: System Offering For Console Proxy, cpu_number: 1, cpu_speed: 500, memory: 1024,
           state: Running, host: kvm-a1-02}
after:
  description: The same fields after the change (in check mode, as planned).
  returned: always
  type: dict
  sample: {service_offering: Console Proxy Large, cpu_number: 2, cpu_speed: 500, memory: 2048, state: Running,
           host: kvm-a1-02}
system_vm:
  description: The system VM after the change (C(SystemVmResponse) fields); in check mode, with the planned offering.
  returned: always
  type: dict
  sample: {id: 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d, name: v-2-VM, systemvmtype: consoleproxy, state: Running}
diff:
  description: RV(before) and RV(after) as a diff.
  returned: always
  type: dict
  sample: {before: {memory: 1024}, after: {memory: 2048}}
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 14}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._summary import WAIT_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._systemvm import scale_system_vm

ARGUMENT_SPEC = dict(
    system_vm=dict(type="str", required=True),
    zone=dict(type="str"),
    service_offering=dict(type="str", required=True),
    cpu_number=dict(type="raw"),
    cpu_speed=dict(type="raw"),
    memory=dict(type="raw"),
    allow_migration=dict(type="bool", default=False),
    allow_restart=dict(type="bool", default=False),
    **WAIT_SPEC
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(scale_system_vm)


if __name__ == "__main__":
    main()

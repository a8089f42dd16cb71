#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_scale
short_description: Change the CPU and memory of a CloudStack VM, live when CloudStack can
version_added: 0.1.0
description:
  - Scales a VM to another compute offering, or to other values of its custom offering, with C(scaleVirtualMachine).
  - Before any change it reads the VM, both offerings, the settings of the VM's zone and cluster, the template flag,
    the host's free capacity and the owner's limits, and plans like the CloudStack 4.23 management server would
    decide. The plan is one of V(none) (already at the target), V(live), V(migrate_then_live), V(restart)
    (stop, change, start), V(offline) (the VM is stopped) or V(refuse).
  - A refused plan fails with every reason and its fix (setting, flag or value to change, and which module changes it);
    nothing is changed. Bad options (unknown VM or offering, custom values on a fixed offering, values out of the
    offering's bounds, a scale-down of a running VM without O(allow_restart)) fail the same way, before any write.
  - After the change the VM is read again and the module fails if CloudStack does not show the planned offering, vCPUs,
    speed and memory. When a CloudStack job fails, the error gives CloudStack's C(errortext) and the VM's real state
    afterwards (for example stopped but not started again).
  - A job already in progress on the VM (another task's) is waited for within O(wait_timeout) before the VM is planned.
  - A stop-change-start first records the stop in the VM detail C(livescale.stop-change-start) (the VM's other
    details are kept) and removes it after the start; a run that finds a Stopped VM with that record (an interrupted
    run) changes it and starts it again, and says so in RV(recovered).
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.vm_owner.vm
  - livescale.cloudstack.wait
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
  - livescale.cloudstack.attributes.actiongroup
options:
  service_offering:
    description:
      - Name or id of the target compute offering, looked up in O(zone) when it is given.
      - With a custom offering, O(cpu_number), O(cpu_speed) and O(memory) give its values; the values not given
        stay as they are now. With a fixed offering they must not be given.
      - If not set, O(cpu_number), O(cpu_speed) and O(memory) apply to the VM's current offering, which must be custom.
    type: str
  cpu_number:
    description: Number of vCPUs, for a custom offering (sent as C(details[0].cpuNumber)). A positive whole number.
    type: raw
  cpu_speed:
    description: CPU speed in MHz, for a custom offering without a fixed speed (sent as C(details[0].cpuSpeed)).
    type: raw
  memory:
    description: Memory in MiB, for a custom offering (sent as C(details[0].memory)). A positive whole number, for example V(2048).
    type: raw
  allow_migration:
    description:
      - Allow moving the running VM to another host of its cluster when its host lacks the capacity.
      - When C(auto.migrate.vm.on.live.scale.insufficient.capacity) is true in the cluster, CloudStack migrates it as part
        of the scale; otherwise the module migrates it first with C(migrateVirtualMachine) to a host with room.
    type: bool
    default: false
  allow_restart:
    description:
      - Allow stopping the VM, changing it and starting it again when a live scale is not possible (scale-down, dynamic
        scaling disabled, a domain started without head-room, ...).
      - Also used when CloudStack fails a planned live scale with C(Unable to reconfigure VM.).
    type: bool
    default: false
notes:
  - Live scaling on KVM needs C(enable.dynamic.scale.vm) in the zone, a template and VM with C(isdynamicallyscalable), and
    a domain started after those were set; see M(livescale.cloudstack.vm_scaling_info) to check a VM first.
seealso:
  - module: livescale.cloudstack.vm_scaling_info
  - module: livescale.cloudstack.vm_scalable
  - module: livescale.cloudstack.setting
"""

EXAMPLES = r"""
- name: Scale web-01 to the Large offering while it runs
  livescale.cloudstack.vm_scale:
    vm: web-01
    zone: zone-a
    service_offering: Large

- name: Give db-01 4 vCPUs and 8 GiB on its custom offering, moving it to another host if needed
  livescale.cloudstack.vm_scale:
    vm: db-01
    cpu_number: 4
    memory: 8192
    allow_migration: true

- name: Move web-01 to a custom offering with 2 vCPUs and 3 GiB
  livescale.cloudstack.vm_scale:
    vm: web-01
    service_offering: Custom
    cpu_number: 2
    memory: 3072

- name: Scale app-01 down; this needs a stop and start
  livescale.cloudstack.vm_scale:
    vm: app-01
    account: acme
    domain: ROOT/customers
    service_offering: Small
    allow_restart: true
  register: scaled

- name: Show how it was done
  ansible.builtin.debug:
    msg: "{{ scaled.summary }}; {{ scaled.plan.reasons | join(' ') }}"

- name: Scale web-02 without waiting, then wait for its job in another task
  livescale.cloudstack.vm_scale:
    vm: web-02
    service_offering: Large
    wait: false
  register: scaling

- name: Wait for the scale of web-02
  livescale.cloudstack.job_info:
    jobs: "{{ scaling.jobs | map(attribute='jobid') }}"
"""

RETURN = r"""
summary:
  description:
    - One line for people, also in a refusal's failure (naming its first reason) and in a failed scale's (naming the
      job, CloudStack's answer and the VM's state now).
    - With O(wait=false), says that the change is in progress and how to wait for it.
  returned: always
  type: str
  sample: "web-01: Small 1 vCPU/1024 MiB \u2192 Medium 2 vCPU/2048 MiB, live on kvm-a1-01, 1.2 s"
jobs:
  description: With O(wait=false), the job submitted (C(jobid), C(command), C(vm)); else V([]).
  returned: always
  type: list
  elements: dict
  sample: [{jobid: 5b1d8a0e-3c2f-4e6a-9f7b-1a2b3c4d5e6f, command: scaleVirtualMachine, vm: web-01}]
plan:
  description: The decision and the values the VM ends with.
  returned: always
  type: dict
  contains:
    action:
      description: V(none), V(live), V(migrate_then_live), V(restart) or V(offline).
      type: str
      sample: live
    reasons:
      description: Why, in plain English, in the order CloudStack checks; each blocker names its fix.
      type: list
      elements: str
      sample: ["VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 2 vCPUs, 1000 MHz, 1024 MiB"]
    service_offering:
      description: Name of the target offering.
      type: str
      sample: Medium
    cpu_number:
      description: vCPUs after the scale.
      type: int
      sample: 2
    cpu_speed:
      description: CPU speed (MHz) after the scale.
      type: int
      sample: 1000
    memory:
      description: Memory (MiB) after the scale.
      type: int
      sample: 1024
    migrate_to:
      description: The host the VM moves to with V(migrate_then_live), else V(null).
      type: str
      sample: kvm-a1-02
    cloudstack_version:
      description:
        - The version the server reports (listCapabilities C(cloudstackversion)); V(null) when the plan did not need
          it (a VM that already has its fixed target offering).
      type: str
      sample: 4.22.0.0
    planned_for:
      description:
        - Whose scaling rules the plan applied (C(CloudStack 4.18) to C(CloudStack 4.23)); an unknown version is planned
          by the nearest known one and the last reason says so; V(null) as for RV(plan.cloudstack_version).
      type: str
      sample: CloudStack 4.22
before:
  description: Offering, vCPUs, speed, memory, state and host of the VM before.
  returned: always
  type: dict
  sample: {service_offering: Small, cpu_number: 1, cpu_speed: 1000, memory: 512, state: Running, host: kvm-a1-01}
after:
  description: The same fields after the change, as CloudStack shows them (in check mode, as planned).
  returned: always
  type: dict
  sample: {service_offering: Medium, cpu_number: 2, cpu_speed: 1000, memory: 1024, state: Running, host: kvm-a1-01}
vm:
  description: The VM after the change (C(UserVmResponse) fields); in check mode, the current VM with the planned values.
  returned: always
  type: dict
  sample: {id: 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d, name: web-01, state: Running, serviceofferingname: Medium}
waited_for:
  description:
    - Ids of the jobs that were in progress on the VM when the task started (another task's, or CloudStack's); the
      task waited for them within O(wait_timeout) and planned from the state after them.
  returned: always
  type: list
  elements: str
  sample: []
recovered:
  description:
    - What this run did about the record of an interrupted stop-change-start that the VM carried (VM detail
      C(livescale.stop-change-start), written before the stop and removed after the start), else V(null).
  returned: always
  type: str
  sample: "VM web-01 (0d1c...) had been left Stopped by an interrupted stop-change-start (...): it is brought to its
    target and started again"
diff:
  description: RV(before) and RV(after) as a diff.
  returned: always
  type: dict
  sample: {before: {memory: 512}, after: {memory: 1024}}
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 14}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import scale_vm
from ansible_collections.livescale.cloudstack.plugins.module_utils._summary import WAIT_SPEC

ARGUMENT_SPEC = dict(
    OWNER_SCOPE_SPEC,
    vm=dict(type="str", required=True),
    service_offering=dict(type="str"),
    cpu_number=dict(type="raw"),
    cpu_speed=dict(type="raw"),
    memory=dict(type="raw"),
    allow_migration=dict(type="bool", default=False),
    allow_restart=dict(type="bool", default=False),
    **WAIT_SPEC
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(scale_vm)


if __name__ == "__main__":
    main()

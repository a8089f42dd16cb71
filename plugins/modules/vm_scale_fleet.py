#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_scale_fleet
short_description: Change the CPU and memory of many CloudStack VMs in one task, live when CloudStack can
version_added: 0.2.0
description:
  - Selects VMs by a list or by filters (zone, owner, cluster, current offering, resource tags, name pattern) and brings
    each to a target compute offering or custom values, given for all VMs or per VM in O(targets).
  - Every VM is planned as M(livescale.cloudstack.vm_scale) plans it (the same reader and planner), in order; each plan
    counts the host capacity and owner limits the plans before it take. The VMs, the offerings, the hosts of each zone,
    the settings of each zone and cluster and the limits of each owner are read once for the whole task.
  - The scale jobs run at most O(max_jobs) at a time, the next one started as soon as one ends; every pending job is
    polled in one round per tick. A VM that needs more than one job (migrate then scale; stop, scale, start) keeps its
    slot until its last job ends.
  - The task fails when any VM was refused, failed or was not started because of O(max_failures); the result still
    lists every VM with its plan, outcome and reasons.
  - With O(wait=false) every VM's one job is submitted at once (so at most O(max_jobs) VMs may need one) and
    O(max_failures) cannot be given; the task is refused before any write otherwise.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.vm_selection
  - livescale.cloudstack.wait
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Returns the plan of every VM and changes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  service_offering:
    description:
      - Name or id of the target compute offering for every VM without an entry in O(targets), as in
        M(livescale.cloudstack.vm_scale).
    type: str
  cpu_number:
    description: vCPUs for a custom offering, for every VM without an entry in O(targets).
    type: raw
  cpu_speed:
    description: CPU speed (MHz) for a custom offering, for every VM without an entry in O(targets).
    type: raw
  memory:
    description: Memory (MiB) for a custom offering, for every VM without an entry in O(targets).
    type: raw
  targets:
    description: Targets of single VMs; they win over O(service_offering), O(cpu_number), O(cpu_speed) and O(memory).
    type: list
    elements: dict
    suboptions:
      vm:
        description: Name or id of the VM.
        type: str
        required: true
      service_offering:
        description: Target offering of this VM.
        type: str
      cpu_number:
        description: vCPUs of this VM (custom offering).
        type: raw
      cpu_speed:
        description: CPU speed (MHz) of this VM (custom offering).
        type: raw
      memory:
        description: Memory (MiB) of this VM (custom offering).
        type: raw
  max_jobs:
    description:
      - Most jobs running at the same time; a slot is given to the next job as soon as one ends.
      - CloudStack runs at most C(db.cloud.maxActive) / 2 API jobs at once per management server (125 by default) and
        queues the others; the default leaves most of them to other users and scales 200 VMs in four rounds of jobs.
    type: int
    default: 50
  max_failures:
    description:
      - Once this many VMs have failed, no further VM is started; those in progress end their jobs (a stopped VM is
        started again). A whole number of VMs, or a percentage of the VMs to change such as V(10%).
      - If not set, every VM is tried.
    type: raw
  allow_migration:
    description: As in M(livescale.cloudstack.vm_scale), for every VM.
    type: bool
    default: false
  allow_restart:
    description: As in M(livescale.cloudstack.vm_scale), for every VM.
    type: bool
    default: false
seealso:
  - module: livescale.cloudstack.vm_scale
  - module: livescale.cloudstack.vm_scaling_info
"""

EXAMPLES = r"""
- name: Scale every web VM of zone-a to Medium, 20 jobs at a time, stopping after 5 failures
  livescale.cloudstack.vm_scale_fleet:
    zone: zone-a
    name_pattern: "^web-"
    service_offering: Medium
    max_failures: 5

- name: Show what would change for the VMs of account acme tagged tier=db
  livescale.cloudstack.vm_scale_fleet:
    account: acme
    domain: ROOT/customers
    tags:
      tier: db
    service_offering: Large
  check_mode: true
  register: fleet_plan

- name: Give two VMs their own sizes on a custom offering
  livescale.cloudstack.vm_scale_fleet:
    vms: [db-01, db-02]
    service_offering: Custom
    targets:
      - {vm: db-01, cpu_number: 4, memory: 8192}
      - {vm: db-02, cpu_number: 2, memory: 4096}
"""

RETURN = r"""
vms:
  description: Every selected VM, in the order listed.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: VM id.
      type: str
    name:
      description: VM name.
      type: str
    outcome:
      description: >-
        V(unchanged) (already at its target), V(scaled), V(planned) (check mode), V(submitted) (O(wait=false): its job
        runs), V(refused) (the plan or the target cannot work; nothing was changed), V(failed) (a job failed;
        RV(vms[].msg) says what the VM is now) or V(skipped) (not started because of O(max_failures)).
      type: str
      sample: scaled
    plan:
      description: The plan, as RV(livescale.cloudstack.vm_scale#module:plan) of vm_scale; V(null) when the target is bad.
      type: dict
    before:
      description: Offering, vCPUs, speed, memory, state and host before.
      type: dict
    after:
      description: The same fields after (as the last job returned the VM; in check mode, as planned).
      type: dict
    msg:
      description: Why the VM was refused, failed or skipped; V(null) otherwise.
      type: str
    summary:
      description: One line for people about this VM, as RV(livescale.cloudstack.vm_scale#module:summary).
      type: str
      sample: "web-01: Small 1 vCPU/1024 MiB \u2192 Medium 2 vCPU/2048 MiB, live on kvm-a1-01"
    jobs:
      description: With O(wait=false), this VM's job (C(jobid), C(command), C(vm)); else V([]).
      type: list
      elements: dict
summary:
  description: One line for people about the task, also in its failure; with O(wait=false), how to wait for the jobs.
  returned: always
  type: str
  sample: "200 VMs: 198 scaled, 2 unchanged, 41.3 s"
counts:
  description: How many VMs had each outcome, and V(total).
  returned: always
  type: dict
  sample: {total: 200, unchanged: 0, scaled: 200, planned: 0, submitted: 0, refused: 0, failed: 0, skipped: 0}
jobs:
  description: With O(wait=false), every job submitted (C(jobid), C(command), C(vm)); else V([]).
  returned: always
  type: list
  elements: dict
  sample: [{jobid: 5b1d8a0e-3c2f-4e6a-9f7b-1a2b3c4d5e6f, command: scaleVirtualMachine, vm: web-01}]
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 214}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._fleet import SELECTION_SPEC, scale_fleet
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._summary import WAIT_SPEC

ARGUMENT_SPEC = dict(
    OWNER_SCOPE_SPEC,
    **SELECTION_SPEC,
    service_offering=dict(type="str"),
    cpu_number=dict(type="raw"),
    cpu_speed=dict(type="raw"),
    memory=dict(type="raw"),
    targets=dict(type="list", elements="dict", options=dict(
        vm=dict(type="str", required=True), service_offering=dict(type="str"), cpu_number=dict(type="raw"),
        cpu_speed=dict(type="raw"), memory=dict(type="raw"))),
    max_jobs=dict(type="int", default=50),
    max_failures=dict(type="raw"),
    allow_migration=dict(type="bool", default=False),
    allow_restart=dict(type="bool", default=False),
    **WAIT_SPEC
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(scale_fleet)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_prepare_fleet
short_description: Make existing CloudStack VMs live-scalable, restarting them in batches
version_added: 0.2.0
description:
  - Selects VMs as M(livescale.cloudstack.vm_scale_fleet) does (a list, or zone, owner, cluster, current offering,
    resource tags, name pattern) and sets what live scaling needs, in the order CloudStack checks it in
    C(updateVirtualMachine) - C(enable.dynamic.scale.vm) V(true) in each VM's zone, C(isdynamicallyscalable) on the
    VMs' templates, then C(isdynamicallyscalable) on each VM.
  - A VM whose offering has C(dynamicscalingenabled=false) cannot be made live-scalable (CloudStack cannot change that
    flag of an offering); it is refused with the fix, and nothing is changed for it. So is a Running VM that would not
    start again because C(kvm.cpu.dynamic.scaling.capacity) of its cluster is below its vCPUs.
  - A running KVM domain gets its scaling head-room only when it starts with the flag and the zone setting on, and
    the API does not show what held at the last start. A Running VM whose flag or zone setting was false when this
    task read it is stopped and started (see O(restart)); a Stopped VM gets the head-room at its next start.
  - The restarts run in batches of O(batch_size) VMs, one batch after the other, the VMs of a batch at the same time;
    two VMs that share an anti-affinity group (C(listAffinityGroups) type C(host anti-affinity) or
    C(non-strict host anti-affinity)) are never in the same batch. A failed VM stops the batches after its own.
  - With O(maintenance_window), the task refuses to restart anything outside the window (before any change), and a
    batch is not started once the window has ended.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.vm_selection
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Returns every VM's plan (flags to set, restart or not and why, batch number) and the batches; changes nothing.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - With O(restart=unprepared) (the default) a second run changes nothing. O(restart=unless_prepared) restarts the
        VMs of which the API cannot tell again on every run.
options:
  restart:
    description:
      - V(unprepared) stops and starts the Running VMs whose C(isdynamicallyscalable) or zone setting was false when
        this task read it (their domains were started without head-room).
      - V(unless_prepared) also those whose flag and zone setting were already true, since the API cannot tell whether
        they were when the VM last started.
      - V(never) only sets the flags; each Running VM gets its head-room at its next stop and start.
    type: str
    choices: [unprepared, unless_prepared, never]
    default: unprepared
  batch_size:
    description:
      - VMs stopped and started at the same time. A whole number, or a percentage of the VMs to restart such as
        V(25%) (rounded up, at least 1).
    type: raw
    default: 1
  maintenance_window:
    description:
      - Restart VMs only inside this window. Both bounds are times of day (V(22:00) and V(04:00), daily, possibly
        across midnight) or both dates with times (V(2026-07-04 22:00)).
      - If not set, the restarts run whenever the task runs.
    type: dict
    suboptions:
      start:
        description: Start of the window.
        type: str
        required: true
      end:
        description: End of the window (not included).
        type: str
        required: true
      timezone:
        description: Whether the times are in the local time of the node that runs the module, or in UTC.
        type: str
        choices: [local, utc]
        default: local
  force_stop:
    description: Stop the VMs forcibly (C(forced=true)).
    type: bool
    default: false
seealso:
  - module: livescale.cloudstack.vm_scalable
  - module: livescale.cloudstack.vm_scale_fleet
  - module: livescale.cloudstack.vm_scaling_info
"""

EXAMPLES = r"""
- name: Show which web VMs of zone-a would be flagged and restarted, and in which batch
  livescale.cloudstack.vm_prepare_fleet:
    zone: zone-a
    name_pattern: "^web-"
    batch_size: 25%
  check_mode: true
  register: preparation_plan

- name: Prepare every VM of account acme, two at a time, only between 22:00 and 04:00
  livescale.cloudstack.vm_prepare_fleet:
    account: acme
    domain: ROOT/customers
    batch_size: 2
    maintenance_window:
      start: "22:00"
      end: "04:00"

- name: Only set the flags; the VMs get head-room at their next restart
  livescale.cloudstack.vm_prepare_fleet:
    vms: [db-01, db-02]
    restart: never
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
    state:
      description: The VM's state after the task (as its last job returned it).
      type: str
    zone:
      description: Zone name.
      type: str
    outcome:
      description: >-
        V(unchanged), V(flagged) (flags set, no restart), V(restarted), V(planned) (check mode), V(refused) (it cannot
        be made live-scalable; nothing was changed for it), V(failed) or V(skipped) (not restarted because of an
        earlier failure or the end of the window, or in a state that is neither Running nor Stopped).
      type: str
      sample: restarted
    flags_changed:
      description: What this task set for the VM (zone setting, template flag, VM flag).
      type: list
      elements: str
      sample: ["enable.dynamic.scale.vm=true in zone zone-a", "isdynamicallyscalable=true on the VM"]
    restart:
      description: Whether the VM is (in check mode, would be) stopped and started.
      type: bool
    batch:
      description: The number of its restart batch (from 1); V(null) when not restarted.
      type: int
    reason:
      description: Why the VM is restarted or not.
      type: str
    prepared:
      description: >-
        Whether its running domain has head-room after the task - V(true) after the restart, V(false) when it still
        needs one, V(null) when the API cannot tell or the VM is not Running.
      type: bool
    jobs:
      description: Ids of the stop and start jobs.
      type: list
      elements: str
    msg:
      description: Why the VM was refused, failed or skipped; V(null) otherwise.
      type: str
batches:
  description: The names of the VMs of each restart batch, in order.
  returned: always
  type: list
  elements: list
  sample: [[web-01, db-01], [web-02]]
changes:
  description: Every flag the task set (or would set), in the order it set them.
  returned: always
  type: list
  elements: str
summary:
  description: One line for people about the task, also in its failure.
  returned: always
  type: str
  sample: "3 VMs: 1 flagged, 2 restarted, in 2 restart batches, 48.2 s"
counts:
  description: How many VMs had each outcome, V(total) and the number of V(batches).
  returned: always
  type: dict
  sample: {total: 3, unchanged: 0, flagged: 1, restarted: 2, planned: 0, refused: 0, failed: 0, skipped: 0, batches: 2}
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 21}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._fleet import SELECTION_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._prepare import RESTART_CHOICES, prepare_fleet

ARGUMENT_SPEC = dict(
    OWNER_SCOPE_SPEC,
    **SELECTION_SPEC,
    restart=dict(type="str", choices=list(RESTART_CHOICES), default="unprepared"),
    batch_size=dict(type="raw", default=1),
    maintenance_window=dict(type="dict", options=dict(
        start=dict(type="str", required=True), end=dict(type="str", required=True),
        timezone=dict(type="str", choices=["local", "utc"], default="local"))),
    force_stop=dict(type="bool", default=False),
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(prepare_fleet)


if __name__ == "__main__":
    main()

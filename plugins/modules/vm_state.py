#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_state
short_description: Start, stop, reboot or migrate a CloudStack VM and wait for it
version_added: 0.1.0
description:
  - Brings a VM to O(state) with C(startVirtualMachine), C(stopVirtualMachine), C(rebootVirtualMachine) or
    C(migrateVirtualMachine), and waits for the job (O(wait_timeout)).
  - A VM already in the wanted state is left alone (V(started) on a Running VM reports C(changed=false)).
  - A VM in C(Starting), C(Stopping), C(Migrating) or C(Restoring) is not touched and not retried; the failure says
    how long it has been in that state (from the VM's C(lastupdated), else from its newest event).
    A job that outlives O(wait_timeout) fails the same way.
  - VMs in C(Error), C(Destroyed), C(Expunging) or other states are refused.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.vm_owner.vm
  - livescale.cloudstack.wait
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.actiongroup
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: partial
    details: V(restarted) always reboots; V(migrated) with O(autoselect=true) always migrates.
options:
  state:
    description:
      - V(started) starts a Stopped VM.
      - V(stopped) stops a Running VM.
      - V(restarted) reboots a Running VM (the domain is not rebuilt) and starts a Stopped one.
      - V(migrated) live-migrates a Running VM to O(host) (nothing to do if it runs there already)
        or, with O(autoselect=true), to a host CloudStack chooses. Root admins only.
    type: str
    required: true
    choices: [started, stopped, restarted, migrated]
  host:
    description:
      - Name or id of a host in the VM's zone.
      - The destination of V(migrated); with V(started), the host to start a Stopped VM on
        (a Running VM is not moved).
    type: str
  autoselect:
    description: With O(state=migrated), let CloudStack choose a host that needs no storage migration.
    type: bool
    default: false
  force:
    description: Stop or reboot forcibly (C(forced=true)), for V(stopped) and V(restarted).
    type: bool
    default: false
seealso:
  - module: livescale.cloudstack.vm_scalable
"""

EXAMPLES = r"""
- name: Make sure web-01 runs
  livescale.cloudstack.vm_state:
    vm: web-01
    state: started

- name: Stop db-01, forcibly, waiting up to 10 minutes
  livescale.cloudstack.vm_state:
    vm: db-01
    account: acme
    domain: ROOT/customers
    state: stopped
    force: true
    wait_timeout: 600

- name: Move web-01 to kvm-a1-02
  livescale.cloudstack.vm_state:
    vm: web-01
    state: migrated
    host: kvm-a1-02

- name: Move web-01 wherever CloudStack sees fit
  livescale.cloudstack.vm_state:
    vm: web-01
    state: migrated
    autoselect: true
"""

RETURN = r"""
summary:
  description: One line for people; with O(wait=false), that the change is in progress and how to wait for it.
  returned: always
  type: str
  sample: "web-01: Stopped \u2192 Running on kvm-a1-01 (start), 2.3 s"
jobs:
  description: With O(wait=false), the job submitted (C(jobid), C(command), C(vm)); else V([]).
  returned: always
  type: list
  elements: dict
  sample: [{jobid: 5b1d8a0e-3c2f-4e6a-9f7b-1a2b3c4d5e6f, command: startVirtualMachine, vm: web-01}]
vm:
  description:
    - The VM after the change (C(UserVmResponse) fields).
    - In check mode and with O(wait=false), the current VM with the predicted C(state) and host.
  returned: always
  type: dict
  sample:
    id: 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    name: web-01
    state: Running
    hostname: kvm-a1-02
action:
  description: What was (in check mode, would be) done.
  returned: always
  type: str
  sample: migrate
  choices: [start, stop, reboot, migrate, none]
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample:
    api_calls: 5
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._summary import WAIT_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._vm_state import ensure_vm_state

ARGUMENT_SPEC = dict(
    OWNER_SCOPE_SPEC,
    vm=dict(type="str", required=True),
    state=dict(type="str", required=True, choices=["started", "stopped", "restarted", "migrated"]),
    host=dict(type="str"),
    autoselect=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    **WAIT_SPEC
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_vm_state)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: libvirt_domain_scale
short_description: Scale the vCPUs and memory of a running libvirt domain up, live
version_added: 0.1.0
description:
  - Adds vCPUs (C(setVcpusFlags)) and memory to a running domain without restarting it, the way CloudStack's
    KVM agent does. Memory comes first, as one hot-plugged DIMM on NUMA node 0 (O(memory_method=dimm)), or by
    inflating the balloon within the domain's current maximum (O(memory_method=balloon)); then vCPUs.
  - Only scales up. Asking for fewer vCPUs or less memory than the domain has fails with a message saying to
    scale down by stop, change and start; nothing is changed.
  - A domain already at the target reports C(changed=false). Every refusal (unknown domain, unreachable URI,
    above the maximum, no free DIMM slot, no C(<maxMemory>)) happens before any change.
  - With O(verify_guest=true), waits (at most O(verify_timeout) seconds) until the QEMU guest agent reports the
    new CPUs and memory online, and fails showing what the guest shows otherwise.
  - CloudStack does not learn about the new size. For VMs managed by CloudStack use M(livescale.cloudstack.vm_scale).
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.libvirt
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
options:
  vcpus:
    description: Number of vCPUs wanted; at most the domain's C(<vcpu>) maximum.
    type: int
  memory:
    description:
      - Memory wanted, in MiB.
      - With O(memory_method=dimm), the domain's total memory; the difference is hot-plugged as one DIMM,
        so the domain needs C(<maxMemory slots=...>), a free slot and a NUMA cell.
      - With O(memory_method=balloon), the balloon target (C(<currentMemory>)), at most the domain's total memory.
    type: int
  memory_method:
    description: How memory is added.
    type: str
    choices: [dimm, balloon]
    default: dimm
  persist:
    description:
      - Also apply the changes to the domain's inactive configuration, so they survive a restart.
      - Only persistent domains have one; for transient domains (CloudStack's) this does nothing and
        RV(persisted) is V(false).
    type: bool
    default: false
  verify_guest:
    description: Wait until the guest agent reports the new vCPUs (and DIMM memory) online.
    type: bool
    default: false
  verify_timeout:
    description: Seconds O(verify_guest) waits at most.
    type: int
    default: 60
notes:
  - In check mode the module reports the changes it would make (RV(changes), C(diff)) and makes none.
  - Hot-added CPUs and memory come up offline in many guests unless a udev rule (or C(memhp_default_state=online))
    onlines them; O(verify_guest) detects that.
seealso:
  - module: livescale.cloudstack.libvirt_domain_scaling_info
"""

EXAMPLES = r"""
- name: Give web-01 (instance i-2-10-VM) 4 vCPUs and 4 GiB, and wait until the guest uses them
  livescale.cloudstack.libvirt_domain_scale:
    uri: qemu+tcp://kvm-01.example.com/system
    domain: i-2-10-VM
    vcpus: 4
    memory: 4096
    verify_guest: true
    verify_timeout: 30

- name: Inflate the balloon of db-02 to 3 GiB (within its current memory)
  livescale.cloudstack.libvirt_domain_scale:
    domain: 9f4c2b7e-1d3a-4e5f-8a6b-0c1d2e3f4a5b
    memory: 3072
    memory_method: balloon
"""

RETURN = r"""
changes:
  description: The changes applied (in check mode, the changes that would be applied), in order.
  returned: always
  type: list
  elements: str
  sample: ["memory 1024 -> 4096 MiB (dimm 3072 MiB)", "vCPUs 2 -> 4"]
persisted:
  description: Whether the changes were also written to the inactive configuration.
  returned: success
  type: bool
  sample: false
domain:
  description: The domain after the change, in the shape M(livescale.cloudstack.libvirt_domain_scaling_info) returns.
  returned: success
  type: dict
  sample: {name: i-2-10-VM, vcpus: 4, max_vcpus: 8, memory_mib: 4096, current_memory_mib: 4096, max_memory_mib: 8192}
guest:
  description: What the guest reported once the new size was online.
  returned: when O(verify_guest=true) and not in check mode
  type: dict
  sample: {agent_version: 7.2.0, online_cpus: 4, total_cpus: 4, online_memory_blocks: 32, total_memory_blocks: 32}
summary:
  description: The change in one line, for people to read; also returned when the scale is refused or fails.
  returned: always
  type: str
  sample: "i-2-10-VM: 2 vCPU/1024 MiB \u2192 4 vCPU/4096 MiB, live, guest sees 4 CPUs and 4096 MiB online, 0.4 s"
applied:
  description: On failure, the changes made before the failing call.
  returned: failure of a libvirt call
  type: list
  elements: str
  sample: ["memory 1024 -> 4096 MiB (dimm 3072 MiB)"]
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils import _libvirt
from ansible_collections.livescale.cloudstack.plugins.module_utils._libvirt_module import LibvirtModule

ARGUMENT_SPEC = dict(
    vcpus=dict(type="int"),
    memory=dict(type="int"),
    memory_method=dict(type="str", choices=["dimm", "balloon"], default="dimm"),
    persist=dict(type="bool", default=False),
    verify_guest=dict(type="bool", default=False),
    verify_timeout=dict(type="int", default=60),
)


def scale(module):
    params = module.params
    return _libvirt.scale_domain(params["uri"], params["domain"], params["vcpus"], params["memory"], params["memory_method"],
                                 params["persist"], module.check_mode, params["verify_guest"], params["verify_timeout"])


def main():
    LibvirtModule(argument_spec=ARGUMENT_SPEC, required_one_of=[("vcpus", "memory")], supports_check_mode=True).run(scale)


if __name__ == "__main__":
    main()

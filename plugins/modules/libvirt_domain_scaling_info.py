#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: libvirt_domain_scaling_info
short_description: Show whether a libvirt domain can be scaled live, and what its guest sees
version_added: 0.1.0
description:
  - Reads a domain on a KVM host through libvirt and returns its size and live-scaling layout
    (vCPUs and their maximum, memory, C(<maxMemory>) and its DIMM slots, DIMMs, NUMA cells, balloon,
    guest agent channel, C(cputune)).
  - Returns the readiness for live scaling, naming every missing piece with its fix, such as a domain
    started without C(<maxMemory slots='16'>) because the CloudStack VM was not dynamically scalable.
  - With O(guest_info=true), also asks the QEMU guest agent for the CPUs and memory blocks the guest has online.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.libvirt
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.info_module
options:
  guest_info:
    description: Also query the QEMU guest agent (C(guest-info), C(guest-get-vcpus), C(guest-get-memory-blocks)).
    type: bool
    default: false
  guest_timeout:
    description: Seconds each guest agent command may take before the agent counts as not answering.
    type: int
    default: 5
notes:
  - A guest agent that is absent or silent does not fail the module; RV(guest.available) is then V(false).
seealso:
  - module: livescale.cloudstack.libvirt_domain_scale
"""

EXAMPLES = r"""
- name: Check that web-01 (instance i-2-10-VM) can be scaled live on kvm-01
  livescale.cloudstack.libvirt_domain_scaling_info:
    uri: qemu+tcp://kvm-01.example.com/system
    domain: i-2-10-VM
    guest_info: true
  register: web01_domain

- name: Show what is missing
  ansible.builtin.debug:
    msg: "{{ web01_domain.readiness.missing | map(attribute='fix') | list }}"
  when: not web01_domain.readiness.ready
"""

RETURN = r"""
domain:
  description: The domain as libvirt describes it.
  returned: success
  type: dict
  contains:
    name:
      description: Domain name.
      type: str
      sample: i-2-10-VM
    uuid:
      description: Domain UUID.
      type: str
      sample: 5b1c8a52-3f63-4a53-9c1e-2f0a3f7e8d10
    type:
      description: Domain type (C(kvm), C(qemu), C(test)).
      type: str
      sample: kvm
    running:
      description: Whether the domain is active.
      type: bool
      sample: true
    vcpus:
      description: Current vCPUs.
      type: int
      sample: 2
    max_vcpus:
      description: Maximum vCPUs (the C(<vcpu>) value).
      type: int
      sample: 4
    memory_mib:
      description: Total memory including hot-plugged DIMMs.
      type: int
      sample: 1024
    current_memory_mib:
      description: Balloon target (C(<currentMemory>)).
      type: int
      sample: 1024
    max_memory_mib:
      description: "C(<maxMemory>), or null without one."
      type: int
      sample: 4096
    memory_slots:
      description: DIMM slots declared by C(<maxMemory>).
      type: int
      sample: 16
    free_slots:
      description: DIMM slots still free.
      type: int
      sample: 15
    dimms:
      description: Hot-plugged DIMMs with C(size_mib) and C(slot).
      type: list
      elements: dict
      sample: [{size_mib: 512, slot: 0}]
    numa_cells:
      description: NUMA cells with C(id), C(cpus) and C(memory_mib).
      type: list
      elements: dict
      sample: [{id: 0, cpus: 0-3, memory_mib: 512}]
    balloon_model:
      description: Memory balloon model, or null without one.
      type: str
      sample: virtio
    balloon_stats_period:
      description: Balloon statistics period in seconds.
      type: int
      sample: 10
    guest_agent_channel:
      description: Whether the domain has the C(org.qemu.guest_agent.0) channel.
      type: bool
      sample: true
    acpi:
      description: Whether the domain has ACPI, which QEMU needs to hot-plug memory.
      type: bool
      sample: true
    cpu_shares:
      description: "C(cputune/shares)."
      type: int
      sample: 1000
    cpu_quota:
      description: "C(cputune/quota)."
      type: int
      sample: 5000
    cpu_period:
      description: "C(cputune/period)."
      type: int
      sample: 10000
readiness:
  description: Whether the domain can be scaled live (one more vCPU and one more DIMM), and what is missing.
  returned: success
  type: dict
  contains:
    ready:
      description: True when nothing is missing.
      type: bool
      sample: false
    missing:
      description: Each missing piece with C(piece), C(message) and C(fix).
      type: list
      elements: dict
      sample:
        - piece: max_memory
          message: the domain has no <maxMemory> element, so memory cannot be hot-plugged
          fix: define <maxMemory slots='16'> (...), then stop and start the VM so the domain is rebuilt
guest:
  description: What the guest reports through its agent.
  returned: when O(guest_info=true)
  type: dict
  contains:
    available:
      description: Whether the guest agent answered.
      type: bool
      sample: true
    error:
      description: Why the agent did not answer.
      type: str
      returned: when not available
    agent_version:
      description: qemu-guest-agent version.
      type: str
      sample: 7.2.0
    online_cpus:
      description: CPUs online in the guest.
      type: int
      sample: 2
    total_cpus:
      description: CPUs the guest knows.
      type: int
      sample: 2
    online_memory_blocks:
      description: Memory blocks online.
      type: int
      sample: 8
    total_memory_blocks:
      description: Memory blocks the guest knows.
      type: int
      sample: 8
    block_size_mib:
      description: Memory block size, when the agent tells it.
      type: int
      sample: 128
    online_memory_mib:
      description: Memory in online blocks, when the block size is known.
      type: int
      sample: 1024
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils import _libvirt
from ansible_collections.livescale.cloudstack.plugins.module_utils._libvirt_module import LibvirtModule

ARGUMENT_SPEC = dict(
    guest_info=dict(type="bool", default=False),
    guest_timeout=dict(type="int", default=5),
)


def scaling_info(module):
    params = module.params
    return _libvirt.scaling_info(params["uri"], params["domain"], params["guest_info"], params["guest_timeout"])


def main():
    LibvirtModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(scaling_info)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: guest_hotplug_facts
short_description: Tell whether a Linux guest can use vCPUs and memory hot-added by a live scale
version_added: 0.1.0
description:
  - Runs inside a Linux guest (a CloudStack VM on KVM) and reads, without changing anything, what decides whether
    vCPUs and memory hot-added by a live scale (M(livescale.cloudstack.vm_scale)) become usable.
  - "Kernel options C(CONFIG_HOTPLUG_CPU), C(CONFIG_MEMORY_HOTPLUG), C(CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE) and
    C(CONFIG_VIRTIO_BALLOON), from C(/boot/config-<release>) or C(/proc/config.gz)."
  - The C(memhp_default_state) from the kernel command line, from
    C(/sys/devices/system/memory/auto_online_blocks) and the kernel default.
  - Whether C(virtio_balloon) is loaded or built in, whether qemu-guest-agent is installed and running, and which
    udev rules online hot-added CPUs and memory.
  - Present and online CPUs and memory blocks.
  - Sets RV(ready) and one reason, naming its fix, for each problem found. The role C(livescale.cloudstack.guest)
    fixes most of them.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.info_module
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
options:
  root:
    description:
      - The guest's root directory. Every file is read below it, C(/proc) and C(/sys) included.
      - Change it only to inspect a copy of a guest's files.
    type: path
    default: /
notes:
  - Needs no third-party Python library; works with the Python 3.8 or later of the guest.
seealso:
  - module: livescale.cloudstack.vm_scale
  - module: livescale.cloudstack.vm_scaling_info
"""

EXAMPLES = r"""
- name: Check that web-01 will see new vCPUs and memory
  livescale.cloudstack.guest_hotplug_facts:
  register: hotplug

- name: Stop when the guest is not ready, saying what to fix
  ansible.builtin.assert:
    that: ansible_facts.livescale_guest_hotplug.ready
    fail_msg: "{{ hotplug.reasons | join('; ') }}"

- name: Show how many vCPUs the guest uses now
  ansible.builtin.debug:
    msg: "{{ ansible_facts.livescale_guest_hotplug.cpus.online }} of {{ ansible_facts.livescale_guest_hotplug.cpus.present }} vCPUs online"
"""

RETURN = r"""
ansible_facts:
  description: The facts, under C(livescale_guest_hotplug); the same keys are also returned at the top level.
  returned: always
  type: dict
  contains:
    livescale_guest_hotplug:
      description: Everything listed below, in one dictionary.
      returned: always
      type: dict
ready:
  description: True when nothing below stops hot-added vCPUs and memory from being used.
  returned: always
  type: bool
  sample: false
reasons:
  description: One entry per problem found, each naming its fix. Empty when RV(ready) is true.
  returned: always
  type: list
  elements: str
  sample:
    - >-
      hot-added vCPUs stay offline (no udev rule onlines them): add a udev rule SUBSYSTEM=="cpu", ACTION=="add" that
      sets ATTR{online}="1"; the role livescale.cloudstack.guest does this
root:
  description: The root directory that was read.
  returned: always
  type: str
  sample: /
kernel_release:
  description: The running kernel release, from C(/proc/sys/kernel/osrelease).
  returned: always
  type: str
  sample: 6.1.0-56-amd64
kernel_config:
  description: Where the kernel configuration was read, and the hot-plug options (C(null) when not set or not found).
  returned: always
  type: dict
  sample:
    source: /boot/config-6.1.0-56-amd64
    options:
      CONFIG_HOTPLUG_CPU: "y"
      CONFIG_MEMORY_HOTPLUG: "y"
      CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE: null
      CONFIG_VIRTIO_BALLOON: m
memhp_default_state:
  description: The memory auto-online policy from the command line, sysfs and the kernel default, and the one in effect.
  returned: always
  type: dict
  sample:
    cmdline: online
    sysfs: online
    kernel_default: offline
    effective: online
    online: true
virtio_balloon:
  description: Whether the balloon driver is loaded as a module, built in, or visible in C(/sys/module).
  returned: always
  type: dict
  sample:
    loaded: true
    builtin: false
    in_sysfs: true
    available: true
qemu_guest_agent:
  description: Whether qemu-guest-agent is installed (its binary) and running (a C(qemu-ga) process).
  returned: always
  type: dict
  sample:
    installed: true
    path: /usr/sbin/qemu-ga
    running: true
udev_rules:
  description: The udev rule files that online hot-added CPUs and memory.
  returned: always
  type: dict
  sample:
    cpu:
      - /etc/udev/rules.d/80-livescale-hotplug.rules
    memory:
      - /etc/udev/rules.d/80-livescale-hotplug.rules
cpus:
  description: Present and online CPUs, as counts and CPU lists.
  returned: always
  type: dict
  sample:
    present: 2
    online: 2
    present_list: 0-1
    online_list: 0-1
    offline_list: ""
memory:
  description: Memory blocks present and online, the block size, the online memory in MiB and the offline blocks.
  returned: always
  type: dict
  sample:
    present: 6
    online: 6
    block_size_bytes: 134217728
    online_mib: 768
    offline_blocks: []
not_checked:
  description: What could not be checked (for example no kernel config found); each is also emitted as an Ansible warning.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._guest_hotplug import GuestFactsError, gather


def main():
    module = AnsibleModule(argument_spec=dict(root=dict(type="path", default="/")), supports_check_mode=True)
    try:
        facts = gather(module.params["root"])
    except GuestFactsError as error:
        module.fail_json(msg=str(error))
    for warning in facts["not_checked"]:
        module.warn(warning)
    result = dict(facts, changed=False, ansible_facts={"livescale_guest_hotplug": facts})
    module.exit_json(**result)


if __name__ == "__main__":
    main()

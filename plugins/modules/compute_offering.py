#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compute_offering
short_description: Create, update and delete CloudStack compute (service) offerings
version_added: 0.1.0
description:
  - Manages a compute offering, identified by its O(name), of one of three kinds. Fixed (O(cpu_number), O(cpu_speed), O(memory)),
    or custom constrained (O(min_cpu_number), O(max_cpu_number), O(min_memory), O(max_memory) and O(cpu_speed)),
    or custom unconstrained (O(customized=true) alone).
  - Options left out are not compared, so an existing offering can be managed by naming only what matters,
    for example O(dynamic_scaling_enabled=true).
  - CloudStack's C(updateServiceOffering) changes only O(display_text), O(host_tags), O(domains) and O(zones).
    A difference in any other field (CPU, memory, speed, bounds, O(customized), O(dynamic_scaling_enabled),
    O(limit_cpu_use), O(offer_ha), O(storage_type)) fails and lists those fields, unless O(force=true).
  - With O(force=true) the offering is replaced, with a warning. The old offering is renamed
    C(<name> (replaced <UTC date time> <first 8 characters of its id>)) and set C(Inactive); then a new offering is
    created under O(name) from the old one's values overlaid with the options given. VMs that use the old offering
    keep running on it, unchanged, and keep their offering id; no new VM can be deployed with it. Scale them to the new
    offering with M(livescale.cloudstack.vm_scale), then delete the old one. If the creation fails, the old offering
    gets its name and state back.
  - All options are checked, and domains and zones looked up, before anything is written.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
  - livescale.cloudstack.attributes.actiongroup
options:
  name:
    description: Name of the offering, unique among the compute offerings the caller sees.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the offering; V(absent) deletes it (C(deleteServiceOffering)).
      - Deleting an offering that VMs use is allowed by CloudStack; those VMs keep running with it.
    type: str
    choices: [present, absent]
    default: present
  display_text:
    description: Description shown in the UI. CloudStack defaults it to O(name) at creation.
    type: str
  cpu_number:
    description: vCPUs of a fixed offering. Needs O(cpu_speed) and O(memory).
    type: int
  cpu_speed:
    description: CPU speed in MHz, for fixed and custom constrained offerings.
    type: int
  memory:
    description: Memory in MiB of a fixed offering (32 or more).
    type: int
  customized:
    description:
      - V(true) for a custom offering, whose values are given at deploy or scale time.
      - Alone (no bounds, no O(cpu_speed)) it makes a custom unconstrained offering.
      - Implied by the min/max bounds; V(false) is implied by O(cpu_number) and O(memory).
    type: bool
  min_cpu_number:
    description: Lowest vCPU count of a custom constrained offering (with the other three bounds and O(cpu_speed)).
    type: int
  max_cpu_number:
    description: Highest vCPU count of a custom constrained offering.
    type: int
  min_memory:
    description: Lowest memory in MiB of a custom constrained offering (32 or more).
    type: int
  max_memory:
    description: Highest memory in MiB of a custom constrained offering.
    type: int
  dynamic_scaling_enabled:
    description:
      - Whether VMs on this offering may be live-scaled. CloudStack's default at creation is V(true).
      - CloudStack cannot change it later; see O(force).
    type: bool
  limit_cpu_use:
    description: Cap the VMs' CPU use at the offering's speed (CloudStack default V(false)).
    type: bool
  offer_ha:
    description: Whether VMs on this offering are highly available (CloudStack default V(false)).
    type: bool
  storage_type:
    description: Storage of the root disks.
    type: str
    choices: [local, shared]
  host_tags:
    description: Host tags the VMs need. An empty list clears them. Order does not matter.
    type: list
    elements: str
  domains:
    description: Domains (names, paths or ids) that may use the offering. An empty list makes it public.
    type: list
    elements: str
  zones:
    description: Zones (names or ids) where the offering is offered. An empty list means all zones.
    type: list
    elements: str
  force:
    description:
      - Replace the offering when a field CloudStack cannot update in place differs (see the description for what
        happens to the old offering and its VMs). Without it such a difference fails and nothing is written.
    type: bool
    default: false
seealso:
  - module: livescale.cloudstack.vm_scale
  - module: livescale.cloudstack.vm_scalable
"""

EXAMPLES = r"""
- name: Fixed offering that can be live-scaled
  livescale.cloudstack.compute_offering:
    name: Medium Scalable
    display_text: 2 vCPU, 2 GiB, live-scalable
    cpu_number: 2
    cpu_speed: 2000
    memory: 2048
    dynamic_scaling_enabled: true
    host_tags: [kvm]

- name: Custom constrained offering, 1-8 vCPU and 1-16 GiB
  livescale.cloudstack.compute_offering:
    name: Custom Web
    min_cpu_number: 1
    max_cpu_number: 8
    min_memory: 1024
    max_memory: 16384
    cpu_speed: 2000
    zones: [zone-a]

- name: Custom unconstrained offering for one domain
  livescale.cloudstack.compute_offering:
    name: Custom Lab
    customized: true
    domains: [ROOT/lab]

- name: Turn dynamic scaling on for an existing offering, replacing it if needed
  livescale.cloudstack.compute_offering:
    name: Small NoScale
    dynamic_scaling_enabled: true
    force: true

- name: Remove an offering
  livescale.cloudstack.compute_offering:
    name: Custom Lab
    state: absent
"""

RETURN = r"""
summary:
  description: One line for people (created, updated with the fields, replaced, deleted); also in a refusal's failure.
  returned: always
  type: str
  sample: "compute offering Medium: updated (host_tags), 0.2 s"
compute_offering:
  description:
    - The offering as CloudStack returns it after the change (C(ServiceOfferingResponse) fields).
    - In check mode, the current offering with the planned changes applied; an offering to be created has no C(id).
    - Empty when O(state=absent).
  returned: always
  type: dict
  sample:
    id: 6b0e4c4e-2f6b-4b3e-9d55-2b1c2c1f3a10
    name: Medium Scalable
    cpunumber: 2
    cpuspeed: 2000
    memory: 2048
    dynamicscalingenabled: true
    iscustomized: false
changed_fields:
  description: The options that differed and were (or, in check mode, would be) applied.
  returned: always
  type: list
  elements: str
  sample: [display_text, host_tags]
replaced_offering:
  description: With O(force=true), the old offering after it was renamed and set Inactive.
  returned: when the offering was replaced
  type: dict
  sample:
    id: 1f2e3d4c-0000-4000-8000-000000000001
    name: Small NoScale (replaced 2026-06-11 08:29 1f2e3d4c)
    state: Inactive
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample:
    api_calls: 3
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._offering import ensure_compute_offering

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    display_text=dict(type="str"),
    cpu_number=dict(type="int"),
    cpu_speed=dict(type="int"),
    memory=dict(type="int"),
    customized=dict(type="bool"),
    min_cpu_number=dict(type="int"),
    max_cpu_number=dict(type="int"),
    min_memory=dict(type="int"),
    max_memory=dict(type="int"),
    dynamic_scaling_enabled=dict(type="bool"),
    limit_cpu_use=dict(type="bool"),
    offer_ha=dict(type="bool"),
    storage_type=dict(type="str", choices=["local", "shared"]),
    host_tags=dict(type="list", elements="str"),
    domains=dict(type="list", elements="str"),
    zones=dict(type="list", elements="str"),
    force=dict(type="bool", default=False),
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_compute_offering)


if __name__ == "__main__":
    main()

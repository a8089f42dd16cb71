# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The options that find a VM by zone and owner (OWNER_SCOPE_SPEC in module_utils/_lookup.py).
    DOCUMENTATION = r"""
options:
  zone:
    description: Zone (name or id) of the VM, to tell apart VMs of the same name in different zones.
    type: str
  account:
    description:
      - Account (name or id) that owns the VM, to tell apart VMs of the same name in different accounts.
      - An account name that exists in several domains needs O(domain) too.
      - Excludes O(project).
    type: str
  domain:
    description:
      - Domain (name, path such as V(ROOT/customers), or id) of the VM's owner.
      - With O(account), the domain in which that account is looked up; alone, only VMs of accounts in this domain.
    type: str
  project:
    description:
      - Project (name or id) that owns the VM. As in CloudStack, the VMs of a project are found by name only with this option.
      - Excludes O(account).
    type: str
notes:
  - Without O(zone), O(account), O(domain) and O(project), a VM name is looked up across every account the caller may
    see. A name used by several VMs fails and lists them with their ids; narrow the lookup with these options, or give
    the id.
"""

    # The VM option of the modules that act on one VM; use with DOCUMENTATION.
    VM = r"""
options:
  vm:
    description:
      - Name or id of the VM. A name must match exactly, case included.
      - Looked up among the VMs of O(zone), O(account), O(domain) and O(project) when they are given.
    type: str
    required: true
"""

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # How the fleet modules select their VMs (SELECTION_SPEC in module_utils/_fleet.py).
    DOCUMENTATION = r"""
options:
  vms:
    description:
      - Names or ids of the VMs. Each must match exactly one VM of the selection.
      - If not set, every VM that the filters select.
    type: list
    elements: str
  cluster:
    description: Only VMs running on a host of this cluster (name or id).
    type: str
  current_offering:
    description: Only VMs that have this compute offering now (name or id).
    type: str
  tags:
    description: Only VMs that carry all these resource tags (key and value).
    type: dict
  name_pattern:
    description: Only VMs whose name matches this regular expression (searched, so V(^web-) selects names that start so).
    type: str
"""

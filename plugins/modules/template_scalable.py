#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: template_scalable
short_description: Set or clear the dynamic scaling flag of a CloudStack template
version_added: 0.1.0
description:
  - Sets the template's C(isdynamicallyscalable) flag with C(updateTemplate).
  - CloudStack lets a VM be flagged dynamically scalable only if its template carries this flag
    (see M(livescale.cloudstack.vm_scalable)); VMs deployed from the template afterwards get it by default.
  - The flag belongs to the template, not to one of its zone copies. Changing it does not change existing VMs.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.full
  - livescale.cloudstack.attributes.actiongroup
options:
  template:
    description:
      - Name or id of the template.
      - A name shared by several templates fails and lists them; give O(zone) or the id.
    type: str
    required: true
  zone:
    description: Zone (name or id) in which to look the template up.
    type: str
  template_filter:
    description:
      - C(templatefilter) of the lookup. V(executable) finds the templates the caller may deploy;
        V(all) (admins only) also finds other accounts' private templates.
    type: str
    choices: [all, executable, featured, self, selfexecutable, sharedexecutable, community]
    default: executable
  dynamically_scalable:
    description: The wanted value of the flag.
    type: bool
    required: true
seealso:
  - module: livescale.cloudstack.vm_scalable
"""

EXAMPLES = r"""
- name: Let VMs of the Debian template be live-scaled
  livescale.cloudstack.template_scalable:
    template: debian-12-generic
    zone: zone-a
    dynamically_scalable: true

- name: Clear the flag on a template given by id, looking at all accounts' templates
  livescale.cloudstack.template_scalable:
    template: 7d0b1f3c-5a8e-4f43-9d1e-0c6b2f7e9a11
    template_filter: all
    dynamically_scalable: false
"""

RETURN = r"""
summary:
  description: One line for people.
  returned: always
  type: str
  sample: "template debian-12-generic: isdynamicallyscalable false \u2192 true"
template:
  description:
    - The template after the change (C(TemplateResponse) fields of one zone copy).
    - In check mode, the current template with the planned flag.
  returned: always
  type: dict
  sample:
    id: 7d0b1f3c-5a8e-4f43-9d1e-0c6b2f7e9a11
    name: debian-12-generic
    isdynamicallyscalable: true
    zonename: zone-a
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample:
    api_calls: 2
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._scalable import ensure_template_scalable

ARGUMENT_SPEC = dict(
    template=dict(type="str", required=True),
    zone=dict(type="str"),
    template_filter=dict(type="str", default="executable",
                         choices=["all", "executable", "featured", "self", "selfexecutable", "sharedexecutable", "community"]),
    dynamically_scalable=dict(type="bool", required=True),
)


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(ensure_template_scalable)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The options of every module that talks to libvirt (LIBVIRT_ARGUMENT_SPEC in module_utils/_libvirt_module.py).
    DOCUMENTATION = r"""
options:
  uri:
    description:
      - libvirt connection URI of the hypervisor, for example V(qemu:///system), V(qemu+tcp://kvm-01.example.com/system),
        V(qemu+tls://kvm-01.example.com/system) or V(test:///default).
    type: str
    default: qemu:///system
  domain:
    description:
      - Name or UUID of the domain. For a CloudStack VM, its instance name C(i-<account id>-<vm id>-VM) or its id
        (CloudStack uses the VM's id as the domain UUID).
      - The aliases C(name) and C(uuid) are kept from earlier versions of M(livescale.cloudstack.libvirt_domain_scaling_info);
        either accepts a name or a UUID.
    type: str
    required: true
    aliases: [name, uuid]
requirements:
  - libvirt-python (or the Debian package C(python3-libvirt)) on the host that runs the module
notes:
  - Talks to libvirt directly, not to the CloudStack API; run it on a host that can reach the hypervisor's libvirtd,
    with C(delegate_to) if needed.
"""

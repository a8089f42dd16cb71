# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kvm_hosts
short_description: CloudStack's KVM hosts, grouped by zone, pod, cluster, state and resource state
version_added: 0.2.0
author:
  - livescale.cloudstack maintainers (@livescale)
description:
  - Reads the KVM hypervisor hosts of Apache CloudStack with C(listHosts) (C(type=Routing), C(hypervisor=KVM)) and adds
    one inventory host per host, with C(ansible_host) set to the address CloudStack manages it by (its private IP,
    C(ipaddress)), so that the role C(livescale.cloudstack.kvm_host) runs on the hosts CloudStack knows.
  - C(listHosts) is a root admin command.
  - The source is a YAML file whose C(plugin) key is V(livescale.cloudstack.kvm_hosts); its name must end in C(.yml)
    or C(.yaml).
  - Caching (O(cache)) keeps what was read from CloudStack; groups and the constructed options are applied on every
    run.
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - livescale.cloudstack.cloudstack.plugin
options:
  plugin:
    description: The name of this plugin; marks the file as a source for it.
    type: str
    required: true
    choices: [livescale.cloudstack.kvm_hosts]
  zone:
    description: Only the hosts of this zone (name or id).
    type: str
  pod:
    description: Only the hosts of this pod (name or id).
    type: str
  cluster:
    description: Only the hosts of this cluster (name or id).
    type: str
  state:
    description: Only the hosts in this state (the agent's status, for example V(Up), V(Down), V(Disconnected)).
    type: str
  resource_state:
    description: Only the hosts in this resource state (for example V(Enabled), V(Disabled), V(Maintenance)).
    type: str
  group_by:
    description:
      - The groups every host is added to, besides C(cloudstack_kvm_hosts). Group names are C(zone_), C(pod_),
        C(cluster_), C(state_) and C(resource_state_) followed by the name; every character other than letters,
        digits and C(_) becomes C(_) (V(cluster-a1) gives C(cluster_cluster_a1)).
    type: list
    elements: str
    choices: [zone, pod, cluster, state, resource_state]
    default: [zone, pod, cluster, state, resource_state]
notes:
  - Every host gets C(cloudstack_id), C(cloudstack_name), C(cloudstack_ip_address), C(cloudstack_zone),
    C(cloudstack_zone_id), C(cloudstack_pod), C(cloudstack_pod_id), C(cloudstack_cluster), C(cloudstack_cluster_id),
    C(cloudstack_state), C(cloudstack_resource_state), C(cloudstack_hypervisor), C(cloudstack_hypervisor_version),
    C(cloudstack_version) (of the agent), C(cloudstack_arch), C(cloudstack_cpu_number), C(cloudstack_cpu_speed) (MHz),
    C(cloudstack_cpu_allocated) (MHz), C(cloudstack_memory_total) and C(cloudstack_memory_allocated) (bytes, with
    overprovisioning) and C(cloudstack_host_tags) (a list).
seealso:
  - plugin: livescale.cloudstack.vms
    plugin_type: inventory
"""

EXAMPLES = r"""
# cloudstack.kvm_hosts.yml -- ansible-playbook -i cloudstack.kvm_hosts.yml prepare-hosts.yml
plugin: livescale.cloudstack.kvm_hosts
zone: zone-a
state: Up
compose:
  ansible_user: "'root'"

# Another inventory file:
# Only the enabled hosts of one cluster, cached; a group of hosts tagged ssd.
# plugin: livescale.cloudstack.kvm_hosts
# cluster: cluster-a1
# resource_state: Enabled
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/livescale-cloudstack
# groups:
#   ssd: "'ssd' in cloudstack_host_tags"
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find, find_cluster, find_zone
from ansible_collections.livescale.cloudstack.plugins.plugin_utils._inventory import CloudStackInventory, named_group


def host_variables(row):
    """The host variables of one listHosts row."""
    return dict(
        ansible_host=row.get("ipaddress"), cloudstack_id=row["id"], cloudstack_name=row.get("name") or row["id"],
        cloudstack_ip_address=row.get("ipaddress"), cloudstack_zone=row.get("zonename"),
        cloudstack_zone_id=row.get("zoneid"), cloudstack_pod=row.get("podname"), cloudstack_pod_id=row.get("podid"),
        cloudstack_cluster=row.get("clustername"), cloudstack_cluster_id=row.get("clusterid"),
        cloudstack_state=row.get("state"), cloudstack_resource_state=row.get("resourcestate"),
        cloudstack_hypervisor=row.get("hypervisor"), cloudstack_hypervisor_version=row.get("hypervisorversion"),
        cloudstack_version=row.get("version"), cloudstack_arch=row.get("arch"),
        cloudstack_cpu_number=row.get("cpunumber"), cloudstack_cpu_speed=row.get("cpuspeed"),
        cloudstack_cpu_allocated=row.get("cpuallocatedvalue"), cloudstack_memory_total=row.get("memorytotal"),
        cloudstack_memory_allocated=row.get("memoryallocated"),
        cloudstack_host_tags=[tag.strip() for tag in (row.get("hosttags") or "").split(",") if tag.strip()])


class InventoryModule(CloudStackInventory):
    """CloudStack's KVM hosts as inventory hosts."""

    NAME = "livescale.cloudstack.kvm_hosts"
    BASE_GROUP = "cloudstack_kvm_hosts"
    GROUPS = {
        "zone": named_group("zone", "cloudstack_zone"),
        "pod": named_group("pod", "cloudstack_pod"),
        "cluster": named_group("cluster", "cloudstack_cluster"),
        "state": named_group("state", "cloudstack_state"),
        "resource_state": named_group("resource_state", "cloudstack_resource_state"),
    }

    def list_filters(self, api):
        """listHosts parameters of the filter options (zone, pod and cluster resolved to ids)."""
        zone = find_zone(api, self.get_option("zone")) if self.get_option("zone") else None
        filters = dict(type="Routing", hypervisor="KVM", zoneid=zone["id"] if zone else None,
                       state=self.get_option("state"), resourcestate=self.get_option("resource_state"))
        if self.get_option("pod"):
            filters["podid"] = find(api, "pod", "listPods", "pod", self.get_option("pod"),
                                    **({"zoneid": zone["id"]} if zone else {}))["id"]
        if self.get_option("cluster"):
            filters["clusterid"] = find_cluster(api, self.get_option("cluster"), zone=zone)["id"]
        return filters

    def read(self, api):
        rows = api.list("listHosts", "host", action="list KVM hosts", **self.list_filters(api))
        return [host_variables(row) for row in rows]

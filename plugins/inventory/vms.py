# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vms
short_description: CloudStack VMs, grouped by zone, cluster, host, offering, tags and live-scalability
version_added: 0.2.0
author:
  - livescale.cloudstack maintainers (@livescale)
description:
  - Reads the user VMs of Apache CloudStack with C(listVirtualMachines) and adds one inventory host per VM, with
    C(ansible_host) set to the address of its default NIC and the fields operators need as C(cloudstack_*) variables.
  - Tells whether each VM can be live-scaled now, with the planner of M(livescale.cloudstack.vm_scaling_info), from the
    VM, its offering, its template and the settings of its zone and cluster (C(cloudstack_live_scalable) and
    C(cloudstack_live_scaling_blockers)).
  - The source is a YAML file whose C(plugin) key is V(livescale.cloudstack.vms); its name must end in C(.yml) or
    C(.yaml).
  - Caching (O(cache)) keeps what was read from CloudStack; groups and the constructed options are applied on every
    run, so a change of O(compose), O(groups) or O(keyed_groups) needs no cache flush, a change of the filters does
    (C(ansible-inventory --flush-cache)).
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - livescale.cloudstack.cloudstack.plugin
options:
  plugin:
    description: The name of this plugin; marks the file as a source for it.
    type: str
    required: true
    choices: [livescale.cloudstack.vms]
  zone:
    description: Only the VMs of this zone (name or id).
    type: str
  state:
    description: Only the VMs in this state, as CloudStack names it (for example V(Running) or V(Stopped)).
    type: str
  account:
    description:
      - Only the VMs of this account (name or id); an account name that exists in several domains needs O(domain) too.
      - Excludes O(project).
    type: str
  domain:
    description:
      - Domain (name, path such as V(ROOT/customers), or id) of the VMs' owners.
      - With O(account), the domain in which that account is looked up; alone, the VMs of the accounts of this domain.
    type: str
  project:
    description: Only the VMs of this project (name or id). Without it, CloudStack lists no project VMs.
    type: str
  tags:
    description:
      - Only the VMs that carry at least one of these resource tags (key and value), filtered by CloudStack, which
        matches any of the pairs (C(QueryManagerImpl.searchForUserVMsInternal)).
    type: dict
    default: {}
  listall:
    description:
      - Whether an admin lists the VMs of every account it may see (CloudStack's C(listall)); V(false) lists only the
        caller's own VMs. Ignored with O(account) or O(project), which name the owner.
    type: bool
    default: true
  group_by:
    description:
      - The groups every VM is added to, besides C(cloudstack_vms). Group names are C(zone_), C(cluster_), C(host_),
        C(offering_), C(state_) followed by the name, C(tag_<key>_<value>) for each tag, and C(live_scalable) or
        C(not_live_scalable). Every character other than letters, digits and C(_) becomes C(_)
        (V(zone-a) gives C(zone_zone_a)).
      - C(cluster) and C(host) need a root admin (only root admins see a VM's host); a stopped VM has neither.
      - C(live_scalability) needs O(live_scalability).
    type: list
    elements: str
    choices: [zone, cluster, host, offering, state, tags, live_scalability]
    default: [zone, cluster, host, offering, state, tags, live_scalability]
  live_scalability:
    description:
      - Whether to tell for each VM if it can be live-scaled now (C(cloudstack_live_scalable)) and what blocks it
        (C(cloudstack_live_scaling_blockers)), as M(livescale.cloudstack.vm_scaling_info) does. The VM is Running on a
        hypervisor that live-scales, has C(isdynamicallyscalable=true) (which needs its template and offering to allow
        it) and C(enable.dynamic.scale.vm) is true in its zone.
      - Host capacity and the owner's limits are not read here; M(livescale.cloudstack.vm_scaling_info) reports them.
      - Costs one request per offering, template, zone and cluster the VMs use (plus one for the global settings).
      - With V(false) only C(listVirtualMachines) and C(listHosts) are requested.
    type: bool
    default: true
notes:
  - Every host gets C(cloudstack_id), C(cloudstack_name), C(cloudstack_display_name), C(cloudstack_state),
    C(cloudstack_zone), C(cloudstack_zone_id), C(cloudstack_pod), C(cloudstack_cluster), C(cloudstack_cluster_id),
    C(cloudstack_host), C(cloudstack_host_id), C(cloudstack_instance_name), C(cloudstack_service_offering),
    C(cloudstack_service_offering_id), C(cloudstack_cpu_number), C(cloudstack_cpu_speed), C(cloudstack_memory) (MiB),
    C(cloudstack_template), C(cloudstack_template_id), C(cloudstack_hypervisor), C(cloudstack_account),
    C(cloudstack_domain), C(cloudstack_domain_path), C(cloudstack_project), C(cloudstack_project_id),
    C(cloudstack_tags) (a dict), C(cloudstack_isdynamicallyscalable), C(cloudstack_ip_address) (the default NIC's
    address), C(cloudstack_nics) (network, ipaddress, ip6address, macaddress, isdefault of each NIC), and with
    O(live_scalability) C(cloudstack_live_scalable) and C(cloudstack_live_scaling_blockers). Values CloudStack does not
    show to the caller are null.
  - VMs are named by their CloudStack name; VMs whose name another listed VM shares are named by their id.
seealso:
  - plugin: livescale.cloudstack.kvm_hosts
    plugin_type: inventory
  - module: livescale.cloudstack.vm_scaling_info
"""

EXAMPLES = r"""
# cloudstack.vms.yml -- ansible-inventory -i cloudstack.vms.yml --graph
# Connection from CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY and CLOUDSTACK_SECRET (or cloudstack.ini).
plugin: livescale.cloudstack.vms
zone: zone-a
state: Running

# Another inventory file:
# Only the production VMs of one account, cached for 10 minutes; extra groups and variables.
# plugin: livescale.cloudstack.vms
# api_url: https://cloud.example.com/client/api
# account: acme
# domain: ROOT/customers
# tags:
#   env: production
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/livescale-cloudstack
# cache_timeout: 600
# compose:
#   ansible_user: "'debian'"
#   scale_target: "'Medium' if cloudstack_service_offering == 'Small' else cloudstack_service_offering"
# groups:
#   needs_preparation: not cloudstack_isdynamicallyscalable
#   big: cloudstack_memory >= 8192
# keyed_groups:
#   - key: cloudstack_tags.role | default(omit)
#     prefix: role
#   - key: cloudstack_account
#     prefix: account

# Another inventory file:
# Fewest requests: only listVirtualMachines (and listHosts for a root admin), groups by zone and offering only.
# plugin: livescale.cloudstack.vms
# group_by: [zone, offering]
# live_scalability: false
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import owner_filters, owner_scope
from ansible_collections.livescale.cloudstack.plugins.module_utils._scalable import ZONE_SETTING
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import Reader, vm_from
from ansible_collections.livescale.cloudstack.plugins.plugin_utils._inventory import (
    CloudStackInventory, named_group, tag_filter, tag_map)

OWNER_OPTIONS = ("zone", "account", "domain", "project")


def default_nic(nics):
    """The NIC CloudStack marks as default, else the first one; None without NICs."""
    return next((nic for nic in nics if nic.get("isdefault")), nics[0] if nics else None)


def nic_view(nic):
    return dict(network=nic.get("networkname"), ipaddress=nic.get("ipaddress"), ip6address=nic.get("ip6address"),
                macaddress=nic.get("macaddress"), isdefault=bool(nic.get("isdefault")))


def vm_variables(row, host_row=None, readiness=None):
    """The host variables of one listVirtualMachines row; ``host_row`` is its listHosts row (root admins only)."""
    host_row = host_row or {}
    vm = vm_from(row, None)
    nics = row.get("nic") or []
    nic = default_nic(nics)
    address = (nic.get("ipaddress") or nic.get("ip6address")) if nic else None
    variables = dict(
        ansible_host=address, cloudstack_id=row["id"], cloudstack_name=vm.name,
        cloudstack_display_name=row.get("displayname"), cloudstack_state=vm.state, cloudstack_zone=row.get("zonename"),
        cloudstack_zone_id=row.get("zoneid"), cloudstack_pod=host_row.get("podname"),
        cloudstack_cluster=host_row.get("clustername"), cloudstack_cluster_id=host_row.get("clusterid"),
        cloudstack_host=row.get("hostname"), cloudstack_host_id=row.get("hostid"),
        cloudstack_instance_name=row.get("instancename"), cloudstack_service_offering=row.get("serviceofferingname"),
        cloudstack_service_offering_id=row.get("serviceofferingid"), cloudstack_cpu_number=vm.cpu,
        cloudstack_cpu_speed=vm.speed, cloudstack_memory=vm.memory, cloudstack_template=row.get("templatename"),
        cloudstack_template_id=row.get("templateid"), cloudstack_hypervisor=row.get("hypervisor"),
        cloudstack_account=row.get("account"), cloudstack_domain=row.get("domain"),
        cloudstack_domain_path=row.get("domainpath"), cloudstack_project=row.get("project"),
        cloudstack_project_id=row.get("projectid"), cloudstack_tags=tag_map(row.get("tags")),
        cloudstack_isdynamicallyscalable=vm.dynamically_scalable, cloudstack_ip_address=address,
        cloudstack_nics=[nic_view(item) for item in nics])
    if readiness is not None:
        variables.update(cloudstack_live_scalable=readiness[0], cloudstack_live_scaling_blockers=list(readiness[1]))
    return variables


def _live_group(variables):
    scalable = variables.get("cloudstack_live_scalable")
    if scalable is None:
        return []
    return [("live_scalable",)] if scalable else [("not_live_scalable",)]


def _tag_groups(variables):
    return [("tag", key, value) for key, value in sorted(variables["cloudstack_tags"].items())]


class ScalabilityReader:
    """Whether VMs can be live-scaled now: the planner's readiness over the reads of ``_scaling.Reader``.

    Host capacity and owner limits are left out (vm_scaling_info reads them), and so are settings when the caller
    may not read them (CloudStack then judges, as in vm_scaling_info).
    """

    def __init__(self, api):
        self.reader = Reader(api)
        self.settings_readable = self._may_read_settings(api)

    @staticmethod
    def _may_read_settings(api):
        try:
            api.list("listConfigurations", "configuration", action="read %s" % ZONE_SETTING, name=ZONE_SETTING)
        except ApiError:
            return False
        return True

    def readiness(self, row, host_row):
        """``(live_scalable, blockers)`` of one VM; ``(None, [why])`` when its offering cannot be read."""
        cluster = {"id": host_row["clusterid"], "name": host_row.get("clustername")} if host_row else None
        try:
            template, template_scalable, template_tag = self.reader.template(row.get("templateid"))
            settings = self.reader.settings(row, cluster) if self.settings_readable else planner.Settings(dynamic_scale=True)
            situation = planner.Situation(
                vm=vm_from(row, cluster), current=self.reader.offering(row.get("serviceofferingid")), settings=settings,
                template=template, template_scalable=template_scalable, template_tag=template_tag)
        except CloudStackError as exc:
            return None, ["cannot tell whether VM %s can be live-scaled: %s" % (row.get("name"), exc)]
        ready = planner.readiness(situation)
        return ready.live_scalable, ready.blockers


class InventoryModule(CloudStackInventory):
    """CloudStack VMs as inventory hosts."""

    NAME = "livescale.cloudstack.vms"
    BASE_GROUP = "cloudstack_vms"
    GROUPS = {
        "zone": named_group("zone", "cloudstack_zone"),
        "cluster": named_group("cluster", "cloudstack_cluster"),
        "host": named_group("host", "cloudstack_host"),
        "offering": named_group("offering", "cloudstack_service_offering"),
        "state": named_group("state", "cloudstack_state"),
        "tags": _tag_groups,
        "live_scalability": _live_group,
    }

    def list_filters(self, api):
        """listVirtualMachines parameters of the filter options (owners resolved to ids)."""
        scope = owner_scope(api, dict((name, self.get_option(name)) for name in OWNER_OPTIONS))
        filters = owner_filters(**scope)[1]
        if not self.get_option("listall"):
            filters.pop("listall", None)
        filters.update(state=self.get_option("state"), tags=tag_filter(self.get_option("tags")))
        return filters

    def read(self, api):
        rows = api.list("listVirtualMachines", "virtualmachine", action="list VMs", **self.list_filters(api))
        hosts = {}
        if any(row.get("hostid") for row in rows):
            try:
                hosts = dict((host["id"], host) for host in api.list("listHosts", "host", action="list hosts", type="Routing"))
            except ApiError:
                hosts = {}
        scalability = ScalabilityReader(api) if self.get_option("live_scalability") else None
        return [vm_variables(row, hosts.get(row.get("hostid")),
                             scalability.readiness(row, hosts.get(row.get("hostid"))) if scalability else None)
                for row in rows]

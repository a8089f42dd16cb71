"""Zones, pods, clusters, hosts, capacity, templates, accounts, domains, events and the empty lists tools ask for."""

from simulator.errors import denied, server
from simulator.model import (account_to_string, domain_usage, host_allocated, host_has_capacity, in_subtree,
                             java_string, overcommit, percent, vm_size)
from simulator.registry import DOMAIN_ADMINS, LIST_PARAMS, PAGE_PARAMS, ROOT_ONLY, by_id_and_name, command, listing, param
from simulator.views import MIB, account_response, compact, host_response, limit_fields, owner_fields

TEMPLATE_FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable", "community", "all")
CAPACITY_TYPES = {0: "MEMORY", 1: "CPU", 90: "CPU_CORE"}


def named_filters(values, keys):
    """Filter functions for <kind>id parameters."""
    return [lambda obj, key=key: obj[key[:-2] + "_id"] == values[key]["id"] for key in keys if key in values]


def filtered(found, values, keys):
    """Apply zoneid/podid/clusterid style filters."""
    for keep in named_filters(values, keys):
        found = [obj for obj in found if keep(obj)]
    return found


@command("listZones", params=(param("id", "uuid", entity="zone"), param("name"), param("available", "boolean"),
                              param("networktype"), param("showcapacities", "boolean")) + PAGE_PARAMS,
         fields=("id", "name", "networktype", "allocationstate", "localstorageenabled", "securitygroupsenabled"))
def list_zones(ctx, values):
    """Lists zones."""
    zones = by_id_and_name(ctx.store.all("zone"), values)
    return listing("zone", [{"id": z["uuid"], "name": z["name"], "networktype": z["networktype"],
                             "allocationstate": "Enabled", "dhcpprovider": "VirtualRouter",
                             "localstorageenabled": False, "securitygroupsenabled": False,
                             "zonetoken": z["uuid"][:8], "tags": []} for z in zones], values)


@command("listPods", admin=True, roles=ROOT_ONLY, params=(
    param("id", "uuid", entity="pod"), param("name"), param("zoneid", "uuid", entity="zone")) + PAGE_PARAMS,
    fields=("id", "name", "zoneid", "zonename", "allocationstate"))
def list_pods(ctx, values):
    """Lists pods."""
    pods = filtered(by_id_and_name(ctx.store.all("pod"), values), values, ("zoneid",))
    return listing("pod", [{"id": p["uuid"], "name": p["name"], "zoneid": ctx.store.get("zone", p["zone_id"])["uuid"],
                            "zonename": ctx.store.get("zone", p["zone_id"])["name"], "allocationstate": "Enabled"}
                           for p in pods], values)


@command("listClusters", admin=True, roles=ROOT_ONLY, params=(
    param("id", "uuid", entity="cluster"), param("name"), param("zoneid", "uuid", entity="zone"),
    param("podid", "uuid", entity="pod"), param("hypervisor")) + PAGE_PARAMS,
    fields=("id", "name", "podid", "podname", "zoneid", "zonename", "hypervisortype", "clustertype",
            "allocationstate", "managedstate", "cpuovercommitratio", "memoryovercommitratio"))
def list_clusters(ctx, values):
    """Lists clusters with their overcommit ratios."""
    clusters = filtered(by_id_and_name(ctx.store.all("cluster"), values), values, ("zoneid", "podid"))
    items = []
    for cluster in clusters:
        zone, pod = ctx.store.get("zone", cluster["zone_id"]), ctx.store.get("pod", cluster["pod_id"])
        cpu, mem = overcommit(ctx.settings, cluster["id"])
        items.append({"id": cluster["uuid"], "name": cluster["name"], "podid": pod["uuid"], "podname": pod["name"],
                      "zoneid": zone["uuid"], "zonename": zone["name"], "hypervisortype": "KVM",
                      "clustertype": "CloudManaged", "allocationstate": "Enabled", "managedstate": "Managed",
                      "cpuovercommitratio": str(cpu), "memoryovercommitratio": str(mem), "arch": "x86_64"})
    return listing("cluster", items, values)


@command("listHosts", admin=True, roles=ROOT_ONLY, params=(
    param("id", "uuid", entity="host"), param("name"), param("zoneid", "uuid", entity="zone"),
    param("podid", "uuid", entity="pod"), param("clusterid", "uuid", entity="cluster"), param("state"),
    param("type"), param("resourcestate"), param("hypervisor"), param("details", "list"),
    param("virtualmachineid", "uuid", entity="vm")) + PAGE_PARAMS,
    fields=("id", "name", "state", "type", "zoneid", "zonename", "podid", "podname", "hypervisor", "cpunumber",
            "cpuspeed", "cpuallocated", "cpuallocatedvalue", "cpuallocatedpercentage",
            "cpuallocatedwithoverprovisioning", "cpuused", "cpuwithoverprovisioning", "memorytotal",
            "memorywithoverprovisioning", "memoryallocated", "memoryallocatedpercentage", "memoryallocatedbytes",
            "memoryused", "clusterid", "clustername", "hosttags", "resourcestate", "hasenoughcapacity",
            "suitableformigration"))
def list_hosts(ctx, values):
    """Lists hosts with allocation figures; with virtualmachineid, the hosts it could migrate to."""
    hosts = filtered(by_id_and_name(ctx.store.all("host"), values), values, ("zoneid", "podid", "clusterid"))
    for key in ("state", "resourcestate"):
        if key in values:
            hosts = [h for h in hosts if h[key].lower() == values[key].lower()]
    if values.get("type", "Routing").lower() != "routing":
        hosts = []
    vm = values.get("virtualmachineid")
    items = []
    for host in hosts:
        body = host_response(ctx.app, host)
        if vm is not None:
            if host["id"] == vm.get("host_id"):
                continue
            cores, speed, memory = vm_size(ctx.store, vm)
            enough = host_has_capacity(ctx.app, host, cores * speed, memory)
            same_cluster = vm.get("host_id") and ctx.store.get("host", vm["host_id"])["cluster_id"] == host["cluster_id"]
            body.update(hasenoughcapacity=enough, suitableformigration=bool(enough and same_cluster))
        items.append(body)
    return listing("host", items, values)


def capacity_rows(ctx, zone, cluster=None):
    """Memory, CPU and CPU-core capacity of a zone or one of its clusters."""
    hosts = ctx.store.find("host", zone_id=zone["id"])
    if cluster is not None:
        hosts = [h for h in hosts if h["cluster_id"] == cluster["id"]]
    totals = {0: [0, 0], 1: [0, 0], 90: [0, 0]}
    for host in hosts:
        cpu_factor, mem_factor = overcommit(ctx.settings, host["cluster_id"])
        used_cpu, used_mem = host_allocated(ctx.store, host)
        totals[0][0] += used_mem * MIB
        totals[0][1] += int(host["memory_mib"] * MIB * mem_factor)
        totals[1][0] += used_cpu
        totals[1][1] += int(host["cores"] * host["cpu_mhz"] * cpu_factor)
        cores = sum(vm_size(ctx.store, vm)[0] for vm in ctx.store.find("vm", host_id=host["id"])
                    if vm["state"] in ("Starting", "Running", "Stopping", "Migrating"))
        totals[90][0] += cores
        totals[90][1] += host["cores"]
    rows = []
    for kind, (used, total) in totals.items():
        row = {"type": kind, "name": CAPACITY_TYPES[kind], "zoneid": zone["uuid"], "zonename": zone["name"]}
        if cluster is not None:
            row.update(clusterid=cluster["uuid"], clustername=cluster["name"])
        row.update(capacityallocated=used, capacityused=used, capacitytotal=total,
                   percentused=percent(used, total).rstrip("%"))
        rows.append(row)
    return rows


@command("listCapacity", admin=True, roles=ROOT_ONLY, params=(
    param("zoneid", "uuid", entity="zone"), param("clusterid", "uuid", entity="cluster"),
    param("podid", "uuid", entity="pod"), param("type", "integer"), param("fetchlatest", "boolean"), param("sortby")) + PAGE_PARAMS,
    fields=("type", "name", "zoneid", "zonename", "clusterid", "clustername", "capacityallocated", "capacityused",
            "capacitytotal", "percentused"))
def list_capacity(ctx, values):
    """Lists allocated capacity per zone (or per cluster with clusterid)."""
    rows = []
    cluster = values.get("clusterid")
    for zone in ctx.store.all("zone"):
        if "zoneid" in values and values["zoneid"]["id"] != zone["id"]:
            continue
        if cluster is not None and cluster["zone_id"] != zone["id"]:
            continue
        rows += capacity_rows(ctx, zone, cluster)
    if "type" in values:
        rows = [row for row in rows if row["type"] == values["type"]]
    return listing("capacity", rows, values)


def template_to_string(template):
    """VMTemplateVO.toString() (the simulator's unique name is the template name)."""
    return java_string("Template", {"id": template["id"], "format": template["format"], "uniqueName": template["name"],
                                    "name": template["name"], "uuid": template["uuid"]})


def template_response(ctx, template):
    """TemplateResponse."""
    zone = ctx.store.all("zone")[0] if ctx.store.all("zone") else None
    return compact({"id": template["uuid"], "name": template["name"], "displaytext": template["displaytext"],
                    "ispublic": template["ispublic"], "isfeatured": template["isfeatured"], "isready": True,
                    "passwordenabled": bool(template.get("passwordenabled")), "format": template["format"],
                    "hypervisor": "KVM", "ostypeid": template["uuid"], "ostypename": template["ostypename"],
                    "templatetype": "USER", "zoneid": zone["uuid"] if zone else None,
                    "zonename": zone["name"] if zone else None, "account": "admin",
                    "isdynamicallyscalable": bool(template["isdynamicallyscalable"]), "created": template["created"],
                    "arch": "x86_64"})


@command("listTemplates", params=(param("templatefilter", required=True), param("id", "uuid", entity="template"),
                                  param("name"), param("zoneid", "uuid", entity="zone"), param("hypervisor")) + LIST_PARAMS,
         fields=("id", "name", "displaytext", "ispublic", "isfeatured", "isready", "format", "hypervisor",
                 "ostypename", "isdynamicallyscalable"))
def list_templates(ctx, values):
    """Lists templates; templatefilter is required as in CloudStack."""
    if values["templatefilter"] not in TEMPLATE_FILTERS:
        # TemplateFilter.valueOf's IllegalArgumentException, answered by ApiServer as a 431 ServerApiException
        raise server(431, "No enum constant com.cloud.template.VirtualMachineTemplate.TemplateFilter."
                          f"{values['templatefilter']}")
    templates = by_id_and_name(ctx.store.all("template"), values)
    if values["templatefilter"] == "self" and not ctx.caller.is_root_admin:
        templates = []
    return listing("template", [template_response(ctx, t) for t in templates], values)


@command("updateTemplate", params=(
    param("id", "uuid", required=True, entity="template"), param("name"), param("displaytext"),
    param("isdynamicallyscalable", "boolean"), param("passwordenabled", "boolean")),
    fields=("id", "name", "displaytext", "isdynamicallyscalable"))
def update_template(ctx, values):
    """Updates a template (isdynamicallyscalable only when given; existing VMs keep their flag)."""
    template = values["id"]
    caller = ctx.caller
    if not caller.is_root_admin and template.get("account_id") != caller.account["id"]:
        if template["ispublic"]:
            raise denied("Domain Admin and regular users can modify only their own Public Templates")
        raise denied(f"Account {account_to_string(caller.account)} does not have permission to launch instances"
                     f" from template {template_to_string(template)}")
    for key in ("name", "displaytext", "isdynamicallyscalable", "passwordenabled"):
        if key in values:
            template[key] = values[key]
    ctx.store.save("template", template)
    return {"template": template_response(ctx, template)}


@command("listAccounts", params=(param("id", "uuid", entity="account"), param("name"),
                                 param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"),
                                 param("accounttype", "integer"), param("state")) + LIST_PARAMS,
         fields=("id", "name", "accounttype", "roletype", "domainid", "domain", "state", "cpulimit", "cputotal",
                 "cpuavailable", "memorylimit", "memorytotal", "memoryavailable", "vmlimit", "vmtotal",
                 "vmavailable", "user"))
def list_accounts(ctx, values):
    """Lists accounts with their resource limits and counts."""
    accounts = [a for a in ctx.store.all("account") if a["id"] in ctx.visible_accounts]
    accounts = filtered(by_id_and_name(accounts, values), values, ("domainid",))
    return listing("account", [account_response(ctx.app, a) for a in accounts], values)


@command("listDomains", admin=True, roles=DOMAIN_ADMINS, params=(
    param("id", "uuid", entity="domain"), param("name"), param("level", "integer"), param("details", "list")) + LIST_PARAMS,
    fields=("id", "name", "level", "parentdomainid", "path", "haschild"))
def list_domains(ctx, values):
    """Lists the domains the caller may see."""
    caller = ctx.caller
    domains = [d for d in ctx.store.all("domain") if caller.is_root_admin or d["id"] == caller.domain["id"]
               or (caller.role == "DomainAdmin" and in_subtree(d, caller.domain))]
    domains = by_id_and_name(domains, values)
    items = []
    for domain in domains:
        parent = ctx.store.get("domain", domain["parent_id"]) if domain["parent_id"] else None
        items.append(compact({"id": domain["uuid"], "name": domain["name"], "level": domain["path"].count("/"),
                              "parentdomainid": parent["uuid"] if parent else None,
                              "parentdomainname": parent["name"] if parent else None, "path": domain["path"],
                              "haschild": any(d["parent_id"] == domain["id"] for d in ctx.store.all("domain")),
                              "state": "Active", **limit_fields(domain.get("limits", {}),
                                                                domain_usage(ctx.app, domain))}))
    return listing("domain", items, values)


@command("listEvents", params=(param("type"), param("startdate", "date"), param("enddate", "date"),
                               param("level"), param("account"), param("domainid", "uuid", entity="domain"),
                               param("resourceid")) + LIST_PARAMS,
         fields=("id", "type", "level", "description", "account", "domainid", "domain", "created", "state",
                 "resourceid"))
def list_events(ctx, values):
    """Lists events, newest first."""
    accounts = ctx.visible_accounts if values.get("listall") or ctx.caller.is_root_admin else {ctx.caller.account["id"]}
    events = [e for e in reversed(ctx.store.all("event")) if e["account_id"] in accounts]
    checks = {"type": lambda e: e["type"] == values["type"], "level": lambda e: e["level"] == values["level"],
              "resourceid": lambda e: e["resource_uuid"] == values["resourceid"],
              "startdate": lambda e: e["created"] >= values["startdate"],
              "keyword": lambda e: values["keyword"].lower() in e["description"].lower()}
    for key, keep in checks.items():
        if key in values:
            events = [e for e in events if keep(e)]
    items = []
    for event in events:
        body = {"id": event["uuid"], "type": event["type"], "level": event["level"],
                "description": event["description"]}
        body.update(owner_fields(ctx.store, event["account_id"]))
        body.update(created=event["created"], state=event["state"], resourceid=event["resource_uuid"],
                    resourcetype="VirtualMachine" if event["resource_uuid"] else None)
        items.append(compact(body))
    return listing("event", items, values)


@command("listVolumes", params=(param("id"), param("virtualmachineid", "uuid", entity="vm"), param("type"),
                                param("zoneid", "uuid", entity="zone"), param("account"),
                                param("domainid", "uuid", entity="domain"), param("projectid")) + LIST_PARAMS,
         fields=("id", "name", "type", "virtualmachineid", "vmname", "size", "state"))
def list_volumes(ctx, values):
    """Lists each visible VM's ROOT volume (the simulator has no other storage)."""
    vms = [vm for vm in ctx.store.all("vm") if vm["account_id"] in ctx.visible_accounts]
    if "virtualmachineid" in values:
        vms = [vm for vm in vms if vm["id"] == values["virtualmachineid"]["id"]]
    if values.get("type", "ROOT").upper() != "ROOT" or values.get("projectid"):
        vms = []
    items = [{"id": vm["uuid"], "name": f"ROOT-{vm['id']}", "type": "ROOT", "deviceid": 0,
              "virtualmachineid": vm["uuid"], "vmname": vm["name"], "size": 8 * 1024 ** 3, "state": "Ready",
              **owner_fields(ctx.store, vm["account_id"])} for vm in vms]
    if "id" in values:
        items = [item for item in items if item["id"] == values["id"]]
    return listing("volume", items, values)


@command("listHypervisors", params=(param("zoneid", "uuid", entity="zone"),), fields=("name",))
def list_hypervisors(ctx, values):
    """Lists hypervisors: KVM."""
    return listing("hypervisor", [{"name": "KVM"}], values)


@command("listOsTypes", params=(param("id"), param("description")) + PAGE_PARAMS, fields=("id", "description"))
def list_os_types(ctx, values):
    """Lists the OS types of the templates."""
    items = [{"id": t["uuid"], "description": t["ostypename"], "oscategoryid": t["uuid"]}
             for t in ctx.store.all("template")]
    if "description" in values:
        items = [item for item in items if item["description"] == values["description"]]
    return listing("ostype", items, values)


@command("listCapabilities", fields=("cloudstackversion", "dynamicscalingenabled"))
def list_capabilities(ctx, values):
    """Capabilities; dynamicscalingenabled reports the global enable.dynamic.scale.vm."""
    del values
    return {"capability": {"cloudstackversion": "4.23.0.0-simulator", "userpublictemplateenabled": True,
                           "dynamicscalingenabled": ctx.settings.boolean("enable.dynamic.scale.vm"),
                           "allowusercreateprojects": True, "apilimitinterval": 1, "apilimitmax": 0,
                           "kvmsnapshotenabled": True, "allowuserviewdestroyedvm": False}}


# typed parameters of the empty lists; the others are plain strings
EMPTY_LIST_TYPES = {"zoneid": ("uuid", "zone"), "domainid": ("uuid", "domain"), "virtualmachineid": ("uuid", "vm")}


def empty_list_param(key, required):
    """One parameter of an empty list command, typed by EMPTY_LIST_TYPES."""
    kind, entity = EMPTY_LIST_TYPES.get(key, ("string", None))
    return param(key, kind, required=required, entity=entity)


def empty_list(name, object_name, names, base=LIST_PARAMS, required=()):
    """Register a list command that always answers the empty list ({}), with CloudStack's parameter names."""
    params = tuple(empty_list_param(key, key in required) for key in names.split())

    @command(name, params=base + params, fields=("id", "name"),
             description=f"Lists {object_name} objects; the simulator has none.")
    def handler(ctx, values):
        del ctx
        return listing(object_name, [], values)
    return handler


for _name, _object, _names in (
        ("listProjects", "project", "account domainid id name"),
        ("listNetworks", "network", "projectid zoneid account domainid id name"),
        ("listTags", "tag", "projectid account domainid"),
        ("listDiskOfferings", "diskoffering", "projectid zoneid account domainid id name virtualmachineid"),
        ("listSSHKeyPairs", "sshkeypair", "projectid account domainid id name"),
        ("listAffinityGroups", "affinitygroup", "projectid account domainid id name virtualmachineid"),
        ("listSecurityGroups", "securitygroup", "projectid account domainid id virtualmachineid"),
        ("listPublicIpAddresses", "publicipaddress", "projectid zoneid account domainid id"),
        ("listVPCs", "vpc", "projectid zoneid account domainid id name"),
        ("listIsos", "iso", "projectid zoneid account domainid id name"),
        ("listInstanceGroups", "instancegroup", "projectid account domainid id name"),
        ("listUserData", "userdata", "projectid account domainid id name")):
    empty_list(_name, _object, _names)
empty_list("listNics", "nic", "virtualmachineid", base=PAGE_PARAMS, required=("virtualmachineid",))

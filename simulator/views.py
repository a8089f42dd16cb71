"""Response objects in CloudStack's field order (appendix A); None values are dropped."""

from simulator import hypervisors
from simulator.metrics import java_fixed, vm_stats_fields
from simulator.model import (ACTIVE_STATES, ROLE_TYPES, UNLIMITED, account_resource_limits, account_usage,
                             decimal_text, host_allocated, host_capacity, is_dynamic, java_float, long_times_float,
                             overcommit, percent, vm_size)

MIB = 1024 * 1024
LOST_CONNECTION = ("Down", "Disconnected", "Alert", "Removed", "Error", "Rebalancing")  # Status.lostConnection()
MAINTENANCE_STATES = ("Maintenance", "ErrorInMaintenance", "PrepareForMaintenance", "ErrorInPrepareForMaintenance")


def compact(fields):
    """Drop None values, as Gson does."""
    return {key: value for key, value in fields.items() if value is not None}


def owner_fields(store, account_id):
    """account/domain fields of an account-owned object."""
    account = store.get("account", account_id)
    domain = store.get("domain", account["domain_id"])
    return {"account": account["name"], "domainid": domain["uuid"], "domain": domain["name"],
            "domainpath": domain["path"]}


def network_state(store, network):
    """Shared networks are Setup; an Isolated one is Implemented while a VM on it is active, else Allocated (the
    simulator shuts it down at once, where CloudStack's network garbage collector waits network.gc.wait)."""
    if network["guesttype"] == "Shared":
        return "Setup"
    vms = (store.get("vm", nic["vm_id"]) for nic in store.find("nic", network_id=network["id"]))
    return "Implemented" if any(vm and vm["state"] in ACTIVE_STATES for vm in vms) else "Allocated"


def vm_nics(store, vm):
    """The NICs of a VM, by device id."""
    return sorted(store.find("nic", vm_id=vm["id"]), key=lambda nic: nic["deviceid"])


def nic_response(store, nic, vm_uuid=None):
    """NicResponse in its field order: as UserVmJoinDaoImpl.setUserVmResponse fills it inside a VM, and as
    ApiResponseHelper.createNicResponse fills it for listNics (vm_uuid given: virtualmachineid, no secondaryip)."""
    network = store.get("network", nic["network_id"])
    implemented = network["vlan"] is not None and network_state(store, network) != "Allocated"
    uri = f"vlan://{network['vlan']}" if implemented else None
    return compact({"id": nic["uuid"], "networkid": network["uuid"], "networkname": network["name"],
                    "netmask": nic["netmask"], "gateway": nic["gateway"], "ipaddress": nic["ipaddress"],
                    "isolationuri": uri, "broadcasturi": uri, "traffictype": "Guest", "type": network["guesttype"],
                    "isdefault": nic["isdefault"], "macaddress": nic["macaddress"],
                    "secondaryip": None if vm_uuid else [], "extradhcpoption": [], "deviceid": str(nic["deviceid"]),
                    "virtualmachineid": vm_uuid, "enabled": True})


def control_state(host):
    """ControlState.getControlState of a host's status and resource state."""
    if host["state"] in (None, "Unknown") or not host.get("resourcestate"):
        return "Unknown"
    if host["state"] in LOST_CONNECTION:
        return "Offline"
    if host["resourcestate"] in MAINTENANCE_STATES:
        return "Maintenance"
    return "Enabled" if host["resourcestate"] == "Enabled" else "Disabled"


ALL_DETAILS = frozenset({"all"})  # ViewResponseHelper.createUserVmResponse without details: EnumSet.of(VMDetails.all)


def vm_response(ctx, vm, metrics=False, details=ALL_DETAILS):
    """UserVmResponse: Full view for root admin, Restricted (no host or instance name) for others.

    details: the VMDetails values (ListVMsCmd.getDetails) that UserVmJoinDaoImpl.newUserVmResponse fills their fields
    for; stats are the newest vm_stats row's figures; metrics: VmMetricsResponse (MetricsServiceImpl.listVmMetrics).

    A VM with a job in progress carries its jobid and jobstatus, as UserVmJoinVO does.
    """
    def wanted(*values):
        return "all" in details or not details.isdisjoint(values)

    store = ctx.store
    full = ctx.caller.is_root_admin
    zone = store.get("zone", vm["zone_id"])
    current_host = store.get("host", vm.get("host_id"))
    host = current_host if full else None
    template = store.get("template", vm["template_id"])
    offering = store.get("offering", vm["offering_id"])
    cores, speed, memory = vm_size(store, vm, offering)
    user = store.one("user", account_id=vm["account_id"])
    body = {"id": vm["uuid"], "name": vm["name"], "displayname": vm.get("displayname") or vm["name"]}
    owner = owner_fields(store, vm["account_id"])
    body.update(account=owner["account"], userid=user["uuid"] if user else None,
                username=user["username"] if user else None, domainid=owner["domainid"], domain=owner["domain"],
                domainpath=owner["domainpath"], created=vm["created"], lastupdated=vm.get("lastupdated"),
                state=vm["state"], haenable=bool(vm.get("haenable")),
                group=vm.get("group") if wanted("group") else None, zoneid=zone["uuid"], zonename=zone["name"])
    if host:
        body.update(hostid=host["uuid"], hostname=host["name"])
    if current_host:  # UserVmJoinDaoImpl.newUserVmResponse: in every view
        body["hostcontrolstate"] = control_state(current_host)
    if wanted("tmpl"):
        body.update(templateid=template["uuid"], templatename=template["name"], templatetype="USER",
                    templateformat=template["format"], templatedisplaytext=template["displaytext"],
                    passwordenabled=bool(template.get("passwordenabled")))
    if wanted("servoff"):
        body.update(serviceofferingid=offering["uuid"], serviceofferingname=offering["name"])
    if wanted("servoff", "stats"):
        body.update(cpunumber=cores, cpuspeed=speed, memory=memory)
    latest = ctx.app.metrics.latest(vm["id"]) if wanted("stats") else None
    if latest:
        body.update(vm_stats_fields(latest))
    if metrics:
        body.update(cputotal=java_fixed(cores * speed / 1000, 1) + " Ghz",
                    memorytotal=java_fixed(memory / 1024, 2) + " GiB")
        if latest:
            body.update(networkread="0.00 MiB", networkwrite="0.00 MiB", diskread="0.00 MiB", diskwrite="0.00 MiB",
                        diskiopstotal=0)
    body["guestosid"] = template["uuid"]
    if wanted("volume"):
        body.update(rootdeviceid=0, rootdevicetype="ROOT")
    tags = [tag_response(store, tag) for tag in resource_tags(store, "UserVm", vm)]
    all_nics = [nic_response(store, nic) for nic in vm_nics(store, vm)]
    groups = vm_affinity_groups(store, vm)
    nics = joined_entries(all_nics, wanted("nics"), max(len(groups), 1) * max(len(tags), 1))
    body.update(securitygroup=[], nic=nics, hypervisor=hypervisors.vm_hypervisor(store, vm),
                ipaddress=nics[0]["ipaddress"] if nics else None)
    if full:
        body["instancename"] = vm["instancename"]
    vm_details = dict(vm.get("details") or {})
    body.update(details=vm_details,
                affinitygroup=joined_entries(groups, wanted("affgrp"), max(len(all_nics), 1) * max(len(tags), 1)),
                displayvm=vm.get("displayvm", True), isdynamicallyscalable=bool(vm["isdynamicallyscalable"]),
                deleteprotection=False, ostypeid=template["uuid"], osdisplayname=template["ostypename"])
    if not vm_details:  # no UEFI detail and no details at all: BIOS
        body.update(bootmode="legacy", boottype="Bios")
    body["vmtype"] = "User"
    if full:
        body["arch"] = "x86_64"
    body["tags"] = tags
    jobid = ctx.app.jobs.pending.get(vm["uuid"])
    if jobid:
        body.update(jobid=jobid, jobstatus=0)
    return compact(body)


def joined_entries(entries, wanted, other_rows):
    """A one-to-many field of UserVmResponse (nic, affinitygroup) as ViewResponseHelper.createUserVmResponse builds
    it from the VM's user_vm_view rows (one per NIC x affinity group x tag...): newUserVmResponse fills the first row's
    entry only when its VMDetails value is asked for, ApiDBUtils.fillVmDetails adds the other rows' entries always.
    So without the value only the first entry is missing, and only when it has no row of its own besides the first."""
    if wanted or other_rows > 1:
        return entries
    return entries[1:]


def resource_tags(store, resource_type, obj):
    """The resource tags of one object, in creation order."""
    return [tag for tag in store.all("tag")
            if tag["resource_type"] == resource_type and tag["resource_id"] == obj["id"]]


def tag_response(store, tag):
    """ResourceTagResponse (ResourceTagJoinDaoImpl.newResourceTagResponse, not keyValueOnly): the owner fields are
    those of the tagged object's owner; a VM's tags[] carry the same (GenericDaoBaseWithTagInformation)."""
    body = {"key": tag["key"], "value": tag["value"], "resourcetype": tag["resource_type"],
            "resourceid": tag["resource_uuid"]}
    body.update(owner_fields(store, tag["account_id"]))
    body["customer"] = tag.get("customer")
    return compact(body)


def vm_affinity_groups(store, vm):
    """A VM's affinitygroup[] as UserVmJoinDaoImpl.newUserVmResponse fills it: id, name, description, account."""
    groups = (store.get("affinitygroup", gid) for gid in vm.get("affinity_group_ids", ()))
    return [compact({"id": group["uuid"], "name": group["name"], "description": group.get("description"),
                     "account": store.get("account", group["account_id"])["name"]}) for group in groups if group]


def linked(store, kind, ids):
    """(comma-separated uuids, comma-separated names) of an offering's domains or zones, or (None, None)."""
    objs = [store.get(kind, oid) for oid in ids or ()]
    if not objs:
        return None, None
    return ",".join(o["uuid"] for o in objs), ",".join(o["name"] for o in objs)


def offering_response(store, offering):
    """ServiceOfferingResponse; domainid/domain and zoneid/zone only for offerings limited to some."""
    domain_ids, domains = linked(store, "domain", offering.get("domain_ids"))
    zone_ids, zones = linked(store, "zone", offering.get("zone_ids"))
    return compact({
        "id": offering["uuid"], "name": offering["name"], "state": offering["state"],
        "displaytext": offering["displaytext"], "cpunumber": offering["cpunumber"], "cpuspeed": offering["cpuspeed"],
        "memory": offering["memory"], "created": offering["created"], "storagetype": offering["storagetype"],
        "provisioningtype": "thin", "offerha": bool(offering["offerha"]), "limitcpuuse": bool(offering["limitcpuuse"]),
        "isvolatile": bool(offering["isvolatile"]), "domainid": domain_ids, "domain": domains, "zoneid": zone_ids,
        "zone": zones, "hosttags": offering.get("hosttags") or None,
        "issystem": bool(offering.get("issystem")), "defaultuse": bool(offering.get("defaultuse")),
        "systemvmtype": offering.get("systemvmtype"), "networkrate": offering.get("networkrate"),
        "iscustomizediops": False, "serviceofferingdetails": dict(offering["details"]) or None,
        "iscustomized": is_dynamic(offering) or bool(offering.get("customized")),
        "dynamicscalingenabled": bool(offering["dynamicscalingenabled"]), "diskofferingstrictness": False,
        "encryptroot": False, "hasannotations": False})


def host_response(app, host):
    """HostResponse with the capacity fields as CloudStack formats them (spec 2.12)."""
    store = app.store
    zone, pod = store.get("zone", host["zone_id"]), store.get("pod", host["pod_id"])
    cluster = store.get("cluster", host["cluster_id"])
    cpu_factor, mem_factor = overcommit(app.settings, host["cluster_id"])
    used_cpu, used_mem = host_allocated(store, host)
    capacity = host_capacity(app, host)  # HostJoinDaoImpl: allocated = used + reserved
    allocated_cpu = capacity.used_cpu + capacity.reserved_cpu
    allocated_mem = capacity.used_memory + capacity.reserved_memory
    cpu_total = java_float(host["cores"] * host["cpu_mhz"] * java_float(cpu_factor))
    mem_total = long_times_float(host["memory_mib"] * MIB, mem_factor)
    cpu_pct = percent(allocated_cpu, cpu_total)
    mem_pct = percent(allocated_mem, mem_total)
    return compact({
        "id": host["uuid"], "name": host["name"], "state": host["state"], "type": "Routing",
        "ipaddress": host["ipaddress"], "zoneid": zone["uuid"], "zonename": zone["name"], "podid": pod["uuid"],
        "podname": pod["name"], "version": app.version.cloudstackversion, "hypervisor": hypervisors.hypervisor_of(host),
        "cpusockets": 1,
        "cpunumber": host["cores"], "cpuspeed": host["cpu_mhz"], "cpuallocated": cpu_pct,
        "cpuallocatedvalue": allocated_cpu, "cpuallocatedpercentage": cpu_pct, "cpuallocatedwithoverprovisioning": cpu_pct,
        "cpuused": "0%", "cpuwithoverprovisioning": decimal_text(cpu_total), "memorytotal": mem_total,
        "memorywithoverprovisioning": decimal_text(mem_total), "memoryallocated": allocated_mem,
        "memoryallocatedpercentage": mem_pct, "memoryallocatedbytes": allocated_mem, "memoryused": used_mem * MIB,
        "clusterid": cluster["uuid"], "clustername": cluster["name"], "clustertype": "CloudManaged",
        "islocalstorageactive": False, "created": host["created"], "hosttags": ",".join(host["tags"]) or None,
        "resourcestate": host["resourcestate"], "hypervisorversion": "9.0.0", "arch": "x86_64",
        "details": {"uri": host["uri"]}})


def limit_text(limit):
    """Resource limits are strings: "Unlimited" for -1."""
    return "Unlimited" if limit == UNLIMITED else str(limit)


def limit_fields(limits, usage):
    """<resource>limit / total / available for vm, cpu and memory ("Unlimited" for -1)."""
    body = {}
    for resource in ("vm", "cpu", "memory"):
        limit = limits.get(resource, UNLIMITED)
        body[f"{resource}limit"] = limit_text(limit)
        body[f"{resource}total"] = usage[resource]
        body[f"{resource}available"] = limit_text(limit if limit == UNLIMITED else max(limit - usage[resource], 0))
    return body


def account_response(app, account):
    """AccountResponse with the resource fields the planner reads."""
    store = app.store
    domain = store.get("domain", account["domain_id"])
    usage = account_usage(app, account)
    body = {"id": account["uuid"], "name": account["name"], "accounttype": ROLE_TYPES[account["role"]],
            "roletype": account["role"], "rolename": {"Admin": "Root Admin", "DomainAdmin": "Domain Admin",
                                                      "User": "User"}[account["role"]],
            "domainid": domain["uuid"], "domain": domain["name"], "domainpath": domain["path"],
            "state": account["state"]}
    body.update(limit_fields(account_resource_limits(app, account), usage))
    vms = store.find("vm", account_id=account["id"])
    body["vmrunning"] = sum(1 for vm in vms if vm["state"] == "Running")
    body["vmstopped"] = sum(1 for vm in vms if vm["state"] == "Stopped")
    body["user"] = [compact({"id": user["uuid"], "username": user["username"], "firstname": user["firstname"],
                             "lastname": user["lastname"], "state": user["state"], "account": account["name"],
                             "accountid": account["uuid"], "domainid": domain["uuid"], "domain": domain["name"],
                             "created": user["created"]})
                    for user in store.find("user", account_id=account["id"])]
    body["isdefault"] = account["name"] == "admin"
    return body

"""Derived facts about stored objects: sizes, capacity, resource counts, visibility."""

import json

from simulator.errors import ApiError

ACTIVE_STATES = ("Starting", "Running", "Stopping", "Migrating")
COUNTED_EXCLUDED = ("Destroyed", "Expunging", "Error")
ROLE_TYPES = {"Admin": 1, "DomainAdmin": 2, "User": 0}
UNLIMITED = -1


def is_dynamic(offering):
    """ServiceOfferingVO.isDynamic(): any of cpu, speed or memory left open."""
    return offering["cpunumber"] is None or offering["cpuspeed"] is None or offering["memory"] is None


def vm_size(store, vm, offering=None):
    """(vCPUs, MHz, MiB) of a VM: the offering's value, or the VM's custom detail when the offering has none."""
    offering = offering or store.get("offering", vm["offering_id"])
    details = vm.get("details", {})

    def pick(field, key):
        value = offering[field]
        return int(value if value is not None else details.get(key, 0))
    return pick("cpunumber", "cpuNumber"), pick("cpuspeed", "cpuSpeed"), pick("memory", "memory")


def java_json(fields):
    """Selected fields as ReflectionToStringBuilderUtils prints them (commons-lang3 JSON style)."""
    return json.dumps(fields, separators=(",", ":"))


def java_string(label, fields, end=""):
    """A CloudStack VO's toString(): label, the selected fields, optional end text."""
    return f"{label} {java_json(fields)}{end}"


def vm_to_string(vm):
    """VMInstanceVO.toString()."""
    return java_string("VM instance", {"id": vm["id"], "state": vm["state"], "instanceName": vm["instancename"],
                                       "type": "User", "uuid": vm["uuid"]})


def account_to_string(account):
    """AccountVO.toString()."""
    return f"Account [{java_json({'id': account['id'], 'accountName': account['name'], 'uuid': account['uuid']})}]"


def user_to_string(user):
    """UserVO.toString()."""
    return java_string("User", {"id": user["id"], "username": user["username"], "uuid": user["uuid"]}, ".")


def host_to_string(host):
    """HostVO.toString()."""
    return java_string("Host", {"id": host["id"], "name": host["name"], "type": "Routing", "uuid": host["uuid"]})


def domain_to_string(domain):
    """DomainVO.toString(); CloudStack's path is "/" for ROOT and "/a/b/" below it."""
    path = "/" + "".join(part + "/" for part in domain["path"].split("/")[1:])
    return java_string("Domain", {"id": domain["id"], "name": domain["name"], "path": path, "uuid": domain["uuid"]})


def offering_to_string(offering):
    """ServiceOfferingVO.toString()."""
    return java_string("Service offering", {"id": offering["id"], "uuid": offering["uuid"], "name": offering["name"]},
                       ".")


def host_allocated(store, host):
    """(MHz, MiB) allocated on a host by the VMs placed on it."""
    cpu = mem = 0
    for vm in store.find("vm", host_id=host["id"]):
        if vm["state"] in ACTIVE_STATES:
            cores, speed, memory = vm_size(store, vm)
            cpu += cores * speed
            mem += memory
    return cpu, mem


def overcommit(settings, cluster_id):
    """(cpu factor, memory factor) of a cluster."""
    return (settings.decimal("cpu.overprovisioning.factor", "cluster", cluster_id),
            settings.decimal("mem.overprovisioning.factor", "cluster", cluster_id))


def host_has_capacity(app, host, cpu_mhz, memory_mib):
    """checkIfHostHasCapacity without reserved capacity: the extra MHz and MiB fit under the overcommitted totals."""
    cpu_factor, mem_factor = overcommit(app.settings, host["cluster_id"])
    used_cpu, used_mem = host_allocated(app.store, host)
    return (used_cpu + cpu_mhz <= host["cores"] * host["cpu_mhz"] * cpu_factor
            and used_mem + memory_mib <= host["memory_mib"] * mem_factor)


def account_usage(app, account):
    """{'cpu', 'memory', 'vm'} counted the way CloudStack's resource counts are."""
    running_only = app.settings.boolean("resource.count.running.vms.only")
    usage = {"cpu": 0, "memory": 0, "vm": 0}
    for vm in app.store.find("vm", account_id=account["id"]):
        if vm["state"] in COUNTED_EXCLUDED or (running_only and vm["state"] not in ACTIVE_STATES):
            continue
        cores, memory = vm_size(app.store, vm)[::2]
        usage["cpu"] += cores
        usage["memory"] += memory
        usage["vm"] += 1
    return usage


def in_subtree(domain, root):
    """True when domain is root or below it."""
    return domain["path"] == root["path"] or domain["path"].startswith(root["path"] + "/")


def domain_usage(app, root):
    """Resource counts of every account in a domain and its subdomains."""
    usage = {"cpu": 0, "memory": 0, "vm": 0}
    for account in app.store.all("account"):
        if in_subtree(app.store.get("domain", account["domain_id"]), root):
            for resource, amount in account_usage(app, account).items():
                usage[resource] += amount
    return usage


def check_resource_limits(app, account, deltas):
    """Raise the ResourceLimitManager error (kind ResourceAllocation) when an increase passes a limit.

    The account limit first, then each domain above the account except ROOT (spec 3.6).
    """
    if account["role"] == "Admin":
        return
    usage = account_usage(app, account)
    domain = app.store.get("domain", account["domain_id"])
    for resource in ("cpu", "memory", "vm"):
        delta = deltas.get(resource, 0)
        if delta <= 0:
            continue
        kind = "user_vm" if resource == "vm" else resource
        limit = account["limits"].get(resource, UNLIMITED)
        if limit != UNLIMITED and usage[resource] + delta > limit:
            raise ApiError("ResourceAllocation",
                           f"Maximum amount of resources of Type = '{kind}', tag = 'null' for Account Name ="
                           f" {account['name']} in Domain Id = {domain['id']} is exceeded: Account Resource Limit ="
                           f" {limit}, Current Account Resource Amount = {usage[resource]}, Current Account Resource"
                           f" Reservation = 0, Requested Resource Amount = {delta}.")
        check_domain_limits(app, domain, resource, kind, delta)


def check_domain_limits(app, domain, resource, kind, delta):
    """Domain limits from the account's domain up to, not including, ROOT."""
    while domain is not None and domain.get("parent_id"):
        limit = domain.get("limits", {}).get(resource, UNLIMITED)
        current = domain_usage(app, domain)[resource] if limit != UNLIMITED else 0
        if limit != UNLIMITED and current + delta > limit:
            raise ApiError("ResourceAllocation",
                           f"Maximum domain resource limits of Type '{kind}' for Domain Id = {domain['uuid']} is"
                           f" exceeded: Domain Resource Limit = {limit}, Current Domain Resource Amount = {current},"
                           f" Current Resource Reservation = 0, Requested Resource Amount = {delta}.")
        domain = app.store.get("domain", domain["parent_id"])


def visible_account_ids(store, caller):
    """Ids of the accounts whose objects the caller may see."""
    if caller.is_root_admin:
        return {account["id"] for account in store.all("account")}
    if caller.role == "DomainAdmin":
        domains = {d["id"] for d in store.all("domain") if in_subtree(d, caller.domain)}
        return {account["id"] for account in store.all("account") if account["domain_id"] in domains}
    return {caller.account["id"]}


def percent(value, total):
    """CloudStack's "#.##%" allocation string ("0.00%" when zero)."""
    if not total or not value:
        return "0.00%"
    return decimal_text(value * 100.0 / total) + "%"


def decimal_text(value):
    """A number formatted like Java's DecimalFormat("#.##")."""
    return ("%.2f" % value).rstrip("0").rstrip(".")

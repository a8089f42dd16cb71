"""Derived facts about stored objects: sizes, capacity, resource counts, visibility."""

import json
import struct
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

from simulator.errors import ApiError, denied

ACTIVE_STATES = ("Starting", "Running", "Stopping", "Migrating")
COUNTED_EXCLUDED = ("Destroyed", "Expunging", "Error")
ROLE_TYPES = {"Admin": 1, "DomainAdmin": 2, "User": 0}
UNLIMITED = -1
MIB = 1024 * 1024
# ResourceLimitManagerImpl.configure: the defaults for accounts and domains without an explicit limit
ACCOUNT_DEFAULT_LIMITS = {"vm": "max.account.user.vms", "cpu": "max.account.cpus", "memory": "max.account.memory"}
DOMAIN_DEFAULT_LIMITS = {"vm": "max.domain.user.vms", "cpu": "max.domain.cpus", "memory": "max.domain.memory"}
# settings CloudStack reads once in a manager's configure(): a change needs a restart
STARTUP_SETTINGS = ("capacity.skipcounting.hours",) + tuple(ACCOUNT_DEFAULT_LIMITS.values()) + tuple(
    DOMAIN_DEFAULT_LIMITS.values())
HostCapacity = namedtuple("HostCapacity", "used_cpu used_memory reserved_cpu reserved_memory total_cpu total_memory")
# VirtualMachine.Type of the system VMs the simulator models (vm_instance rows; stored as kind "systemvm")
SYSTEM_VM_TYPES = {"consoleproxy": "ConsoleProxy", "secondarystoragevm": "SecondaryStorageVm"}
VM_KINDS = ("vm", "systemvm")


def vm_kind(vm):
    """The store kind of a vm_instance row: "systemvm" for console proxy and secondary storage VMs, else "vm"."""
    return "systemvm" if vm.get("type") in SYSTEM_VM_TYPES.values() else "vm"


def instances(store, **equal):
    """User and system VMs (every vm_instance row) whose fields equal the given values."""
    return [vm for kind in VM_KINDS for vm in store.find(kind, **equal)]


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
                                       "type": vm.get("type", "User"), "uuid": vm["uuid"]})


def account_to_string(account):
    """AccountVO.toString()."""
    return f"Account [{java_json({'id': account['id'], 'accountName': account['name'], 'uuid': account['uuid']})}]"


def domain_denied(account, domain):
    """DomainChecker.checkAccess's PermissionDeniedException (531) for a domain outside the caller's reach."""
    return denied(f"Account {account_to_string(account)} does not have permission to operate within domain"
                  f" id={domain['uuid']}")


def check_domain_access(caller, domain):
    """DomainChecker.checkAccess(caller, domain): a user only its own domain, an admin its domain's tree."""
    allowed = domain["id"] == caller.domain["id"] if caller.role == "User" else in_subtree(domain, caller.domain)
    if not allowed:
        raise domain_denied(caller.account, domain)


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
    """(MHz, MiB) used on a host by the user and system VMs placed on it (op_host_capacity used_capacity)."""
    cpu = mem = 0
    for vm in instances(store, host_id=host["id"]):
        if vm["state"] in ACTIVE_STATES:
            cores, speed, memory = vm_size(store, vm)
            cpu += cores * speed
            mem += memory
    return cpu, mem


def tag_list(text):
    """A comma-separated tag list as a set (empty items dropped)."""
    return {tag for tag in (text or "").split(",") if tag}


def strict_host_tags(app):
    """UserVmManager.getStrictHostTags: vm.strict.host.tags, plus resource.limit.host.tags while
    vm.strict.resource.limit.host.tag.check is true."""
    tags = tag_list(app.settings.value("vm.strict.host.tags"))
    if app.settings.boolean("vm.strict.resource.limit.host.tag.check"):
        tags |= tag_list(app.settings.value("resource.limit.host.tags"))
    return tags


def wanted_host_tags(offering, template):
    """The host tags of an offering plus the template's tag."""
    return tag_list(offering.get("hosttags")) | tag_list(template.get("templatetag"))


def host_has_strict_tags(app, host, offering, template):
    """HostVO.checkHostServiceOfferingAndTemplateTags(offering, template, strict tags): only the wanted tags that
    are strict must be on the host."""
    return wanted_host_tags(offering, template) & strict_host_tags(app) <= set(host.get("tags") or [])


def host_has_all_tags(host, offering, template):
    """FirstFitAllocator.retainHostsMatchingServiceOfferingAndTemplateTags: every wanted tag is on the host."""
    return wanted_host_tags(offering, template) <= set(host.get("tags") or [])


def startup_value(app, name):
    """A setting as read when the management server started (later updates need a restart)."""
    return app.startup_settings[name]


def reserved_vms(app, host):
    """VMs whose CPU/RAM stay reserved on their last host (CapacityManagerImpl).

    A stop (Stopping -> Stopped, releaseVmCapacity moveToReserved) reserves the VM's size on its host until
    capacity.skipcounting.hours seconds have passed (the capacity checker, updateCapacityForHost). The reservation
    holds while the VM is Stopped, and while its start is being planned (Starting, no host yet); starting on a host
    ends it (allocateVmCapacity), and so does destroying the VM.
    """
    window = startup_value(app, "capacity.skipcounting.hours")
    now = app.clock()
    return [vm for vm in instances(app.store, last_host_id=host["id"])
            if (vm["state"] == "Stopped" or (vm["state"] == "Starting" and vm.get("host_id") is None))
            and vm.get("reserved_since") is not None and int(now - vm["reserved_since"]) < window]


def host_capacity(app, host):
    """HostCapacity of a host: used and reserved MHz and bytes, and its raw totals."""
    used_cpu, used_mem = host_allocated(app.store, host)
    reserved_cpu = reserved_mem = 0
    for vm in reserved_vms(app, host):
        cores, speed, memory = vm_size(app.store, vm)
        reserved_cpu += cores * speed
        reserved_mem += memory
    return HostCapacity(used_cpu, used_mem * MIB, reserved_cpu, reserved_mem * MIB, host["cores"] * host["cpu_mhz"],
                        host["memory_mib"] * MIB)


def java_float(value):
    """A number as Java's 32-bit float holds it."""
    return struct.unpack("f", struct.pack("f", value))[0]


def long_times_float(value, factor):
    """Java's (long)(aLong * aFloat): both rounded to float, the product too, then truncated."""
    return int(java_float(java_float(value) * java_float(factor)))


def overcommit(settings, cluster_id):
    """(cpu factor, memory factor) of a cluster."""
    return (settings.decimal("cpu.overprovisioning.factor", "cluster", cluster_id),
            settings.decimal("mem.overprovisioning.factor", "cluster", cluster_id))


def host_has_capacity(app, host, cpu_mhz, memory_mib, consider_reserved=True):
    """CapacityManagerImpl.checkIfHostHasCapacity from free capacity: the extra MHz and MiB fit under the
    overcommitted totals, counting the host's reserved capacity unless consider_reserved is False."""
    cap = host_capacity(app, host)
    cpu_factor, mem_factor = overcommit(app.settings, host["cluster_id"])
    reserved_cpu, reserved_mem = (cap.reserved_cpu, cap.reserved_memory) if consider_reserved else (0, 0)
    return (reserved_cpu + cap.used_cpu + cpu_mhz <= long_times_float(cap.total_cpu, cpu_factor)
            and reserved_mem + cap.used_memory + memory_mib * MIB <= long_times_float(cap.total_memory, mem_factor))


def host_has_reserved(app, host, cpu_mhz, memory_mib):
    """checkIfHostHasCapacity(checkFromReservedCapacity=true): the host's reserved capacity covers the request."""
    cap = host_capacity(app, host)
    return cap.reserved_cpu >= cpu_mhz and cap.reserved_memory >= memory_mib * MIB


def host_can_take(app, host, cores, speed, cpu_mhz, memory_mib, consider_reserved=True):
    """checkIfHostHasCpuCapability (cores and speed) and checkIfHostHasCapacity."""
    return (host["cores"] >= cores and host["cpu_mhz"] >= speed
            and host_has_capacity(app, host, cpu_mhz, memory_mib, consider_reserved))


def last_host_can_take(app, host, cores, speed, memory):
    """DeploymentPlanningManagerImpl.deployInVmLastHost's capacity test: reserved capacity first, then free."""
    if host["cores"] < cores or host["cpu_mhz"] < speed:
        return False
    return host_has_reserved(app, host, cores * speed, memory) or host_has_capacity(app, host, cores * speed, memory)


def host_is_usable(host):
    """A host the planner may pick: Up and Enabled (DeploymentPlanningManagerImpl.avoidDisabledResources)."""
    return host["state"] == "Up" and host["resourcestate"] == "Enabled"


def host_takes_offering_tags(app, host, offering, template):
    """A VM's own or last host for an offering: HostVO.checkHostServiceOfferingAndTemplateTags with the strict tags
    (4.20 on: UserVmManagerImpl.upgradeVirtualMachine, DeploymentPlanningManagerImpl.deployInVmLastHost), else
    HostVO.checkHostServiceOfferingTags, every host tag of the offering and none of the template (4.18, 4.19: the same
    upgradeVirtualMachine and DeploymentPlanningManagerImpl.checkVmProfileAndHost at 0c7d47138d)."""
    if app.version.strict_host_tags:
        return host_has_strict_tags(app, host, offering, template)
    return tag_list(offering.get("hosttags")) <= set(host.get("tags") or [])


def next_destination(app, vm, offering, size, hosts, excluded):
    """DeploymentPlanningManagerImpl.planDeployment's pick among hosts for a VM of size (vCPUs, MHz, MiB), or None.

    The VM's last host first (deployInVmLastHost): usable, not excluded, its tags (host_takes_offering_tags), CPU
    capability and reserved capacity, else free capacity counting reserved. Then FirstFitAllocator in id order:
    usable, not excluded, every tag, CPU capability and free capacity counting reserved.
    """
    cores, speed, memory = size
    template = app.store.get("template", vm["template_id"])
    last = next((host for host in hosts if host["id"] == vm.get("last_host_id")), None)
    if (last is not None and last["id"] not in excluded and host_is_usable(last)
            and host_takes_offering_tags(app, last, offering, template)
            and last_host_can_take(app, last, cores, speed, memory)):
        return last
    return next((host for host in hosts if host["id"] not in excluded and host_is_usable(host)
                 and host_has_all_tags(host, offering, template)
                 and host_can_take(app, host, cores, speed, cores * speed, memory)), None)


def mysql_ratio(numerator, denominator):
    """MySQL's integer division: a DECIMAL rounded half up to 4 places (div_precision_increment), read as float."""
    if not denominator:
        return 0.0
    quotient = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return java_float(float(quotient))


def cluster_crosses_threshold(app, cluster_id, cpu_requested, ram_requested):
    """CapacityManagerImpl.checkIfClusterCrossesThreshold over every host row of the cluster (CPU first)."""
    used_cpu = used_mem = total_cpu = total_mem = 0
    for host in app.store.find("host", cluster_id=cluster_id):
        cap = host_capacity(app, host)
        used_cpu += cap.used_cpu + cap.reserved_cpu
        used_mem += cap.used_memory + cap.reserved_memory
        total_cpu += cap.total_cpu
        total_mem += cap.total_memory
    cpu_factor, mem_factor = overcommit(app.settings, cluster_id)
    for used, requested, total, factor, name in (
            (used_cpu, cpu_requested, total_cpu, cpu_factor, "cluster.cpu.allocated.capacity.disablethreshold"),
            (used_mem, ram_requested, total_mem, mem_factor, "cluster.memory.allocated.capacity.disablethreshold")):
        threshold = java_float(app.settings.decimal(name, "cluster", cluster_id))
        if java_float(mysql_ratio(used + requested, total) / java_float(factor)) > threshold:
            return True
    return False


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


def is_root_domain(domain):
    """The ROOT domain has no parent."""
    return not domain.get("parent_id")


def account_limit(app, account, resource):
    """ResourceLimitManagerImpl.findCorrectResourceLimitForAccount: root admins unlimited, else the explicit
    limit, else max.account.* (a negative default is unlimited)."""
    if account["role"] == "Admin":
        return UNLIMITED
    if resource in account["limits"]:
        return account["limits"][resource]
    default = startup_value(app, ACCOUNT_DEFAULT_LIMITS[resource])
    return UNLIMITED if default < 0 else default


def domain_limit(app, domain, resource):
    """findCorrectResourceLimitForDomain: ROOT unlimited, else the nearest explicit limit on the domain or an
    ancestor below ROOT, else max.domain.* (a negative default is unlimited)."""
    if is_root_domain(domain):
        return UNLIMITED
    node = domain
    while node is not None and not is_root_domain(node):
        if resource in node.get("limits", {}):
            return node["limits"][resource]
        node = app.store.get("domain", node["parent_id"])
    default = startup_value(app, DOMAIN_DEFAULT_LIMITS[resource])
    return UNLIMITED if default < 0 else default


def account_resource_limits(app, account):
    """{'vm', 'cpu', 'memory'} limits in force for an account."""
    return {resource: account_limit(app, account, resource) for resource in ACCOUNT_DEFAULT_LIMITS}


def domain_resource_limits(app, domain):
    """{'vm', 'cpu', 'memory'} limits in force for a domain."""
    return {resource: domain_limit(app, domain, resource) for resource in DOMAIN_DEFAULT_LIMITS}


def domain_listed_limits(app, domain):
    """The limits listDomains shows (DomainJoinDaoImpl via ApiDBUtils.findCorrectResourceLimitForDomain): the
    domain's own explicit limit, else max.domain.* (not an ancestor's); ROOT unlimited."""
    if is_root_domain(domain):
        return {resource: UNLIMITED for resource in DOMAIN_DEFAULT_LIMITS}
    return {resource: domain.get("limits", {}).get(resource, startup_value(app, name))
            for resource, name in DOMAIN_DEFAULT_LIMITS.items()}


def check_resource_limits(app, account, deltas):
    """Raise the ResourceLimitManager error (kind ResourceAllocation) when an increase passes a limit.

    checkResourceLimitWithTag per resource in the order user_vm, cpu, memory: the account limit, then each domain
    from the account's up to, not including, ROOT. Root admins are not limited. The texts per version
    (``tagged_limit_texts``).
    """
    if account["role"] == "Admin":
        return
    usage = account_usage(app, account)
    domain = app.store.get("domain", account["domain_id"])
    for resource in ACCOUNT_DEFAULT_LIMITS:
        delta = deltas.get(resource, 0)
        if delta <= 0:
            continue
        kind = "user_vm" if resource == "vm" else resource
        limit = account_limit(app, account, resource)
        if limit != UNLIMITED and usage[resource] + delta > limit:
            tag = ", tag = 'null'" if app.version.tagged_limit_texts else ""
            raise ApiError("ResourceAllocation",
                           f"Maximum amount of resources of Type = '{kind}'{tag} for Account Name ="
                           f" {account['name']} in Domain Id = {domain['id']} is exceeded: Account Resource Limit ="
                           f" {limit}, Current Account Resource Amount = {usage[resource]}, Current Account Resource"
                           f" Reservation = 0, Requested Resource Amount = {delta}.")
        check_domain_limits(app, domain, resource, kind, delta)


def check_domain_limits(app, domain, resource, kind, delta):
    """checkDomainResourceLimit: every domain from the account's up to, not including, ROOT."""
    while domain is not None and not is_root_domain(domain):
        limit = domain_limit(app, domain, resource)
        if limit != UNLIMITED:
            current = domain_usage(app, domain)[resource]
            if current + delta > limit:
                domain_id = domain["uuid"] if app.version.tagged_limit_texts else domain["id"]
                raise ApiError("ResourceAllocation",
                               f"Maximum domain resource limits of Type '{kind}' for Domain Id = {domain_id} is"
                               f" exceeded: Domain Resource Limit = {limit}, Current Domain Resource Amount ="
                               f" {current}, Current Resource Reservation = 0, Requested Resource Amount = {delta}.")
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

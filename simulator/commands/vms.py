"""Virtual machines: list, deploy, start, stop, reboot, migrate, destroy, update, scale (spec 2.1-2.4, 2.10-2.13)."""

import re

from simulator import agent as host_agent
from simulator import scaling, vmops
from simulator.commands import affinity, network, tags as resource_tags
from simulator.commands.infra import acl_accounts, check_launch_permission
from simulator.errors import ApiError, denied, invalid, runtime, server
from simulator.events import CommandEvent, action_event
from simulator.hypervisors import vm_hypervisor
from simulator.jobs import AsyncWork
from simulator.model import (check_resource_limits, host_can_take, host_is_usable, host_to_string, is_dynamic,
                             next_destination, tag_list, vm_size, vm_to_string)
from simulator.registry import LIST_PARAMS, PROJECT_ID, ROOT_ONLY, command, listing, param
from simulator.views import vm_nics, vm_response

VM_FIELDS = ("id", "name", "displayname", "account", "userid", "username", "domainid", "domain", "domainpath",
             "created", "lastupdated", "state", "haenable", "group", "zoneid", "zonename", "hostid", "hostname",
             "hostcontrolstate", "templateid", "templatename", "templatetype", "templateformat",
             "templatedisplaytext", "passwordenabled", "serviceofferingid", "serviceofferingname", "cpunumber",
             "cpuspeed", "memory", "guestosid", "rootdeviceid", "rootdevicetype", "securitygroup", "nic",
             "hypervisor", "ipaddress", "instancename", "details", "affinitygroup", "displayvm",
             "isdynamicallyscalable", "deleteprotection", "ostypeid", "osdisplayname", "bootmode", "boottype", "vmtype",
             "arch", "tags", "jobid", "jobstatus")
STATS_FIELDS = ("cpuused", "networkkbsread", "networkkbswrite", "diskkbsread", "diskkbswrite", "memorykbs",
                "memoryintfreekbs", "memorytargetkbs", "diskioread", "diskiowrite")  # UserVmResponse, details stats
# ApiConstants.VMDetails, in declaration order
VM_DETAILS = ("all", "group", "nics", "stats", "secgrp", "tmpl", "servoff", "diskoff", "backoff", "iso", "volume",
              "min", "affgrp", "vnfnics")
# Hypervisor.HypervisorType's names (lower case, "parallels" for Parralels) but None: what listVirtualMachines accepts
HYPERVISOR_TYPES = ("xenserver", "kvm", "vmware", "hyperv", "virtualbox", "parallels", "baremetal", "simulator", "ovm",
                    "ovm3", "lxc", "custom", "external", "any")
SCALE_EXTRAS = ("miniops", "maxiops", "automigrate", "shrinkok")
SCALE_PARAMS = (param("id", "uuid", required=True, entity="vm"),
                param("serviceofferingid", "uuid", required=True, entity="offering"), param("details", "map"),
                param("miniops", "long"), param("maxiops", "long"), param("automigrate", "boolean"),
                param("shrinkok", "boolean"))


def new_vm(app, account, zone, template, offering, name, details, networks):
    """A Stopped VM record with its instance name i-<accountid>-<vmid>-VM and a NIC on each network."""
    vm = app.store.add("vm", {
        "name": name, "displayname": name, "account_id": account["id"], "domain_id": account["domain_id"],
        "zone_id": zone["id"], "template_id": template["id"], "offering_id": offering["id"], "state": "Stopped",
        "host_id": None, "last_host_id": None, "haenable": bool(offering["offerha"]),
        "limitcpuuse": bool(offering["limitcpuuse"]), "isdynamicallyscalable": False, "details": details,
        "instancename": "", "domain": None, "created": app.now(), "lastupdated": app.now()})
    vm["instancename"] = f"i-{account['id']}-{vm['id']}-VM"
    app.store.save("vm", vm)
    network.allocate_nics(app, vm, networks)
    return vm


def host_fits(app, host, vm, offering_tags):
    """Whether a host can take the whole VM (capability, capacity with overcommit and reserved capacity, host tags)."""
    cores, speed, memory = vm_size(app.store, vm)
    if not host_is_usable(host) or not offering_tags <= set(host["tags"]):
        return False
    return host_can_take(app, host, cores, speed, cores * speed, memory)


def start_destination(app, vm, wanted_host, excluded):
    """The host of the next start attempt: the asked one if it fits, else the planner's pick in the zone."""
    offering = app.store.get("offering", vm["offering_id"])
    if wanted_host:
        fits = wanted_host["id"] not in excluded and host_fits(app, wanted_host, vm, tag_list(offering["hosttags"]))
        return wanted_host if fits else None
    return next_destination(app, vm, offering, vm_size(app.store, vm), app.store.find("host", zone_id=vm["zone_id"]),
                            excluded)


def start_vm(app, vm, wanted_host=None, expose=False):
    """Start a VM: VirtualMachineManagerImpl.orchestrateStart's start.retry attempts, each on the planner's next host.

    A host whose agent refuses the domain is avoided in the next attempt. expose (canExposeError: a root-admin
    caller) adds the last agent error to the texts.
    """
    if vm["state"] == "Running":
        raise invalid(f"The virtual machine {vm['uuid']} ({vm.get('displayname') or vm['name']}) is already running")
    vmops.transit(app, vm, "StartRequested")
    excluded, last_error = set(), None
    retries = app.settings.integer("start.retry")
    for attempt in range(1, retries + 1):
        host = start_destination(app, vm, wanted_host, excluded)
        if host is None:
            message = f"Unable to create a deployment for {vm_to_string(vm)} after {attempt} attempts"
            vmops.transit(app, vm, "OperationFailed")
            if expose and last_error:
                raise runtime(f"{message} Last known error: {last_error}")
            raise ApiError("InsufficientCapacity", message)
        excluded.add(host["id"])
        vm["host_id"] = host["id"]
        vmops.transit(app, vm, "OperationRetry")  # orchestrateStart: Starting on the chosen host, then StartCommand
        app.jobs.elapse("start")
        try:
            vmops.start_domain(app, vm, host)
        except host_agent.AgentError as err:  # the StartAnswer's failure
            vm["host_id"] = None
            last_error = f"Unable to start VM on {host_to_string(host)} due to {err}"
            continue
        vm["last_host_id"] = host["id"]
        vmops.transit(app, vm, "OperationSucceeded")
        return vm
    vmops.transit(app, vm, "OperationFailed")
    detail = f": {last_error}" if expose and last_error else ", see management server log for details"
    raise runtime(f"Unable to start Instance '{vm['name']}' ({vm['uuid']}){detail}")


def stop_vm(app, vm):
    """Stop a VM: Running -> Stopping -> Stopped (VirtualMachineManagerImpl.advanceStop, not forced).

    A Stopped, Destroyed, Expunging or Error VM is left as it is; a state without a StopRequested transition fails.
    """
    if vm["state"] in ("Stopped", "Destroyed", "Expunging", "Error"):
        return vm
    if vm.get("host_id") is None:
        raise runtime(f"Unable to stop {vm_to_string(vm)}")
    if not vmops.can_transit(vm, "StopRequested"):
        raise runtime(f"We cannot stop {vm_to_string(vm)} when it is in state {vm['state']}")
    vmops.transit(app, vm, "StopRequested")
    app.jobs.elapse("stop")
    vmops.stop_domain(app, vm)
    vm["last_host_id"], vm["host_id"] = vm["host_id"], None
    vm["reserved_since"] = app.clock()  # CapacityManagerImpl: Stopping -> Stopped moves its capacity to reserved
    vmops.transit(app, vm, "OperationSucceeded")
    return vm


def owner_of(ctx, vm):
    """The account owning a VM."""
    return ctx.store.get("account", vm["account_id"])


def vm_job(ctx, vm, body, event_type, description):
    """AsyncWork that runs body(vm) and answers with the VM as the caller sees it; the command's event (getEventType,
    getEventDescription) is about the VM (getApiResourceType VirtualMachine), owned by its account
    (getEntityOwnerId)."""
    def run():
        body(vm)
        return {"virtualmachine": vm_response(ctx, vm)}
    return AsyncWork(run, instance_uuid=vm["uuid"], event=CommandEvent(event_type, description, owner_of(ctx, vm), vm))


def visible_vms(ctx, values):
    """QueryManagerImpl.searchForUserVMIdsAndCount: the VMs of the accounts buildACLSearchParameters permits
    (infra.acl_accounts; an id alone lets an admin see beyond its own account, ids does not), then the filters."""
    store, caller = ctx.store, ctx.caller
    accounts = acl_accounts(ctx, values, by_id="id" in values)
    if "id" in values and values.get("ids"):
        raise invalid("Specify either id or ids but not both parameters")
    hypervisor = values.get("hypervisor")
    if hypervisor is not None and hypervisor.lower() not in HYPERVISOR_TYPES:
        raise invalid(f"Invalid HypervisorType {hypervisor}")
    show_destroyed = caller.role != "User" or ctx.settings.boolean("allow.user.view.destroyed.vm", "account",
                                                                   caller.account["id"])
    # ListVMsCmd.getDisplay: displayvm (authorized Admin: ignored for other callers) or BaseListAccountResourcesCmd's
    # true, so even the root admin lists hidden VMs only with displayvm=false
    display = values.get("displayvm", True) if caller.is_root_admin else True
    found = [vm for vm in store.all("vm") if vm["account_id"] in accounts
             and (show_destroyed or vm["state"] not in ("Destroyed", "Expunging"))
             and vm.get("displayvm", True) == display]
    if values.get("projectid"):
        return []
    filters = {"id": lambda vm: vm["id"] == values["id"]["id"],
               "ids": lambda vm: vm["id"] in {listed["id"] for listed in values["ids"]},
               "name": lambda vm: vm["name"].lower() == values["name"].lower(),
               "keyword": lambda vm: keyword_matches(ctx, vm, values["keyword"].lower()),
               "state": lambda vm: state_matches(vm, values["state"].lower()),
               "zoneid": lambda vm: vm["zone_id"] == values["zoneid"]["id"],
               "templateid": lambda vm: vm["template_id"] == values["templateid"]["id"],
               "serviceofferingid": lambda vm: vm["offering_id"] == values["serviceofferingid"]["id"],
               "hypervisor": lambda vm: vm_hypervisor(store, vm).lower() == hypervisor.lower(),
               "haenable": lambda vm: bool(vm["haenable"]) == values["haenable"]}
    if caller.is_root_admin:
        filters.update({"hostid": lambda vm: vm["host_id"] == values["hostid"]["id"],
                        "clusterid": lambda vm: in_cluster(store, vm, values["clusterid"])})
    for key, keep in filters.items():
        if key in values:
            found = [vm for vm in found if keep(vm)]
    if values.get("tags"):
        wanted = resource_tags.filter_pairs(values["tags"])
        found = [vm for vm in found if resource_tags.matches_any(store, vm, wanted)]
    return found


def keyword_matches(ctx, vm, keyword):
    """searchForUserVMIdsAndCount's keyword: display name, host name or (root admin) instance name LIKE %keyword%,
    the state equal to it, or a NIC's address LIKE it (case-insensitive as MySQL's default collation)."""
    texts = [vm.get("displayname") or "", vm["name"]] + [nic["ipaddress"] or "" for nic in vm_nics(ctx.store, vm)]
    if ctx.caller.is_root_admin:
        texts.append(vm["instancename"])
    return any(keyword in text.lower() for text in texts) or vm["state"].lower() == keyword


def state_matches(vm, state):
    """searchForUserVMIdsAndCount's state: "present" is every state but Destroyed and Expunging."""
    if state == "present":
        return vm["state"] not in ("Destroyed", "Expunging")
    return vm["state"].lower() == state


def in_cluster(store, vm, cluster):
    """searchForUserVMIdsAndCount's clusterid: on a host of the cluster, or Stopped with its last host there."""
    hosts = {host["id"] for host in store.find("host", cluster_id=cluster["id"])}
    return vm["host_id"] in hosts or (vm["state"] == "Stopped" and vm.get("last_host_id") in hosts)


def requested_details(settings, values):
    """ListVMsCmd.getDetails: the VMDetails values asked for; without any, all of them when
    list.vm.default.details.stats is true, else all but stats; 431 for a value VMDetails does not have (case matters,
    VMDetails.valueOf)."""
    given = values.get("details")
    if not given:
        return {"all"} if settings.boolean("list.vm.default.details.stats") else set(VM_DETAILS) - {"all", "stats"}
    if not set(given) <= set(VM_DETAILS):
        raise invalid("The details parameter contains a non permitted value. The allowed values are"
                      f" [{', '.join(VM_DETAILS)}]")
    return set(given)


LIST_VM_PARAMS = (param("id", "uuid", entity="vm"), param("ids", "list", entity="vm"), param("name"), param("state"),
                  param("zoneid", "uuid", entity="zone"), param("templateid", "uuid", entity="template"),
                  param("serviceofferingid", "uuid", entity="offering"), param("hostid", "uuid", entity="host"),
                  param("clusterid", "uuid", entity="cluster"), param("account"),
                  param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"), PROJECT_ID,
                  param("details", "list"), param("hypervisor"), param("haenable", "boolean"),
                  param("displayvm", "boolean"), param("tags", "map")) + LIST_PARAMS


@command("listVirtualMachines", params=LIST_VM_PARAMS, fields=VM_FIELDS + STATS_FIELDS)
def list_virtual_machines(ctx, values):
    """List the virtual machines owned by the account (all visible ones with listall=true)."""
    found = visible_vms(ctx, values)
    details = requested_details(ctx.settings, values)
    return listing("virtualmachine", [vm_response(ctx, vm, details=details) for vm in found], values)


@command("listVirtualMachinesMetrics", params=LIST_VM_PARAMS,
         fields=VM_FIELDS + STATS_FIELDS + ("cputotal", "memorytotal", "networkread", "networkwrite", "diskread",
                                            "diskwrite", "diskiopstotal"))
def list_virtual_machines_metrics(ctx, values):
    """Lists VM metrics."""
    found = visible_vms(ctx, values)
    details = requested_details(ctx.settings, values)
    return listing("virtualmachine", [vm_response(ctx, vm, metrics=True, details=details) for vm in found], values)


@command("deployVirtualMachine", isasync=True, cmdclass="vm.DeployVMCmd", params=(
    param("serviceofferingid", "uuid", required=True, entity="offering"),
    param("templateid", "uuid", entity="template"),
    param("zoneid", "uuid", required=True, entity="zone"), param("name"), param("displayname"),
    param("hostid", "uuid", entity="host"), param("startvm", "boolean"), param("dynamicscalingenabled", "boolean"),
    param("details", "map"), param("account"), param("domainid", "uuid", entity="domain"), param("group"),
    param("networkids", "list", entity="network"), param("keypair"), param("userdata"),
    param("affinitygroupids", "list", entity="affinitygroup"), param("affinitygroupnames", "list")), fields=VM_FIELDS)
def deploy_virtual_machine(ctx, values):
    """Creates and automatically starts a virtual machine."""
    if "templateid" not in values:  # the simulator has no volumeid/snapshotid alternatives
        raise runtime("Please provide only one of the following parameters - template ID, volume ID or snapshot ID")
    app, store = ctx.app, ctx.store
    account = ctx.caller.account
    if "account" in values:  # AccountManagerImpl.finalizeAccountId, then the access check on the owner
        if "domainid" not in values:
            raise invalid("Account must be specified with domainId parameter")
        account = store.one("account", name=values["account"], domain_id=values["domainid"]["id"])
        if account is None:
            raise invalid(f"Unable to find account by name {values['account']} in domain with specified id")
        ctx.check_account(account["id"])
    offering, template, zone = values["serviceofferingid"], values["templateid"], values["zoneid"]
    details = scaling.merge_details(values.get("details"))
    if is_dynamic(offering):
        scaling.validate_custom_parameters(app, offering, details)
    size = scaling.target_size(offering, details)
    groups = affinity.deploy_groups(ctx, account, values)
    networks = network.vm_networks(app, account, zone, values.get("networkids"))
    check_resource_limits(app, account, {"vm": 1, "cpu": size[0], "memory": size[2]})
    check_launch_permission(ctx, account, template)
    custom = {key: str(details[key]) for field, key in scaling.CUSTOM_KEYS if offering[field] is None}
    name = values.get("name") or f"VM-{len(store.all('vm')) + 1}"
    vm = new_vm(app, account, zone, template, offering, name, custom, networks)
    vm["displayname"] = values.get("displayname") or name
    vm["group"] = values.get("group")
    vm["affinity_group_ids"] = groups
    vm["isdynamicallyscalable"] = bool(values.get("dynamicscalingenabled", True) and offering["dynamicscalingenabled"]
                                       and template["isdynamicallyscalable"]
                                       and ctx.settings.boolean("enable.dynamic.scale.vm", "zone", zone["id"]))
    store.save("vm", vm)
    host = values.get("hostid") if ctx.caller.is_root_admin else None
    start = values.get("startvm", True)

    def body(target):
        # DeployVMCmd.execute: setEventDetails, then startVirtualMachine(DeployVMCmd) (@ActionEvent VM.CREATE
        # "deploying Vm", async) or, with startvm=false, finalizeCreateVirtualMachine (the same, not async)
        with action_event(ctx, target, "VM.CREATE", "deploying Vm", f"Instance ID: {target['uuid']}", is_async=start):
            if not start:
                return
            try:
                start_vm(app, target, host, expose=ctx.caller.is_root_admin)
            except ApiError as err:  # DeployVMCmd answers InsufficientCapacityException with its message
                if err.kind != "InsufficientCapacity":
                    raise
                raise server(533, err.text) from err
    # BaseDeployVMCmd.getEventDescription
    described = f"{'Starting' if start else 'Deploying'} Instance with ID: {vm['uuid']}"
    work = vm_job(ctx, vm, body, "VM.CREATE", described)
    work.created_id = vm["uuid"]
    return work


@command("startVirtualMachine", isasync=True, cmdclass="vm.StartVMCmd", params=(
    param("id", "uuid", required=True, entity="vm"), param("hostid", "uuid", entity="host"),
    param("clusterid", "uuid", entity="cluster"), param("podid", "uuid", entity="pod"),
    param("considerlasthost", "boolean")), fields=VM_FIELDS)
def start_virtual_machine(ctx, values):
    """Starts a virtual machine."""
    vm = ctx.check_access(values["id"])
    host = values.get("hostid") if ctx.caller.is_root_admin else None

    def body(target):
        # StartVMCmd.execute: setEventDetails, UserVmManagerImpl.startVirtualMachine (@ActionEvent VM.START
        # "starting Vm", async)
        try:
            with action_event(ctx, target, "VM.START", "starting Vm", f"Instance ID: {target['uuid']}"):
                start_vm(ctx.app, target, host, expose=ctx.caller.is_root_admin)
        except ApiError as err:  # VirtualMachineManagerImpl.start: the detail only for root admins
            if err.kind != "InsufficientCapacity":
                raise
            detail = f"[{err.text}]" if ctx.caller.is_root_admin else "insufficient capacity"
            raise runtime(f"Unable to start a VM [{target['uuid']}] due to {detail}.") from err
    return vm_job(ctx, vm, body, "VM.START", f"Starting User Instance with ID: {vm['uuid']}")


@command("stopVirtualMachine", isasync=True, cmdclass="vm.StopVMCmd", params=(
    param("id", "uuid", required=True, entity="vm"), param("forced", "boolean")), fields=VM_FIELDS)
def stop_virtual_machine(ctx, values):
    """Stops a virtual machine."""
    vm = ctx.check_access(values["id"])

    def body(target):
        # StopVMCmd.execute: setEventDetails, UserVmManagerImpl.stopVirtualMachine (@ActionEvent VM.STOP "stopping Vm")
        with action_event(ctx, target, "VM.STOP", "stopping Vm", f"Instance ID: {target['uuid']}"):
            stop_vm(ctx.app, target)
    return vm_job(ctx, vm, body, "VM.STOP", f"Stopping User Instance with ID: {vm['uuid']}")


@command("rebootVirtualMachine", isasync=True, cmdclass="vm.RebootVMCmd", params=(
    param("id", "uuid", required=True, entity="vm"), param("forced", "boolean")), fields=VM_FIELDS)
def reboot_virtual_machine(ctx, values):
    """Reboots a virtual machine (the domain keeps its definition)."""
    vm = ctx.check_access(values["id"])

    def body(target):
        # RebootVMCmd.execute: setEventDetails, UserVmManagerImpl.rebootVirtualMachine (@ActionEvent VM.REBOOT
        # "rebooting Vm", async)
        with action_event(ctx, target, "VM.REBOOT", "rebooting Vm", f"Instance ID: {target['uuid']}"):
            if target["state"] != "Running":
                raise invalid(f"The Instance {target['uuid']} ({target.get('displayname') or target['name']}) is"
                              " not running, unable to reboot it")
            ctx.app.jobs.elapse("reboot")
    return vm_job(ctx, vm, body, "VM.REBOOT", f"Rebooting User Instance with ID: {vm['uuid']}")


@command("migrateVirtualMachine", isasync=True, admin=True, roles=ROOT_ONLY, cmdclass="vm.MigrateVMCmd", params=(
    param("hostid", "uuid", entity="host"), param("virtualmachineid", "uuid", required=True, entity="vm"),
    param("storageid", "uuid", entity="storagepool"), param("autoselect", "boolean")), fields=VM_FIELDS)
def migrate_virtual_machine(ctx, values):
    """Live-migrates a Running VM; as in MigrateVMCmd the checks run inside the job (no storage pools here)."""
    vm, host = values["virtualmachineid"], values.get("hostid")
    details = f"Instance Id: {vm['id']} to host with ID: {host['uuid']}" if host else None

    def body(target):
        if host is None and not values.get("autoselect", True):
            raise invalid("Please specify a host or storage as destination, or pass 'autoselect=true' to automatically"
                          " select a destination host which do not require storage migration")
        # MigrateVMCmd.execute: setEventDetails (the VM's database id) with a host, then
        # UserVmManagerImpl.migrateVirtualMachine (@ActionEvent VM.MIGRATE "migrating VM", async)
        with action_event(ctx, target, "VM.MIGRATE", "migrating VM", details):
            migrate_vm(ctx.app, target, host)
    described = f"Attempting to migrate Instance with ID: {vm['uuid']}" + (
        f" to host with ID: {host['uuid']}" if host else "")  # MigrateVMCmd.getEventDescription
    return vm_job(ctx, vm, body, "VM.MIGRATE", described)


def migration_destination(app, vm, source, dest):
    """UserVmManagerImpl.checkVmMigrationDestination, or the planner's pick in the cluster when dest is None."""
    if dest is None:
        offering = app.store.get("offering", vm["offering_id"])
        tags = {tag for tag in offering["hosttags"].split(",") if tag}
        dest = next((h for h in app.store.find("host", cluster_id=source["cluster_id"])
                     if h["id"] != source["id"] and host_fits(app, h, vm, tags)), None)
        if dest is None:
            raise runtime(f"Unable to find suitable destination to migrate VM {vm['instancename']}")
        return dest
    if dest["id"] == source["id"]:
        raise invalid("Cannot migrate VM, VM is already present on this host, please specify valid destination host to"
                      " migrate the VM")
    if dest["state"] != "Up" or dest["resourcestate"] != "Enabled":
        raise invalid(f"Cannot migrate VM, destination host is not in correct state, has status: {dest['state']},"
                      f" state: {dest['resourcestate']}")
    if dest["cluster_id"] != source["cluster_id"]:
        raise runtime("Source and destination host are not in same cluster and all volumes are not on zone wide"
                      f" primary store, unable to migrate to host: {host_to_string(dest)}")
    return dest


def migrate_vm(app, vm, dest):
    """Running -> Migrating -> Running on another host of the same cluster (UserVmManagerImpl.migrateVirtualMachine)."""
    if vm["state"] != "Running":
        raise invalid("VM is not Running, unable to migrate the vm with specified id")
    source = app.store.get("host", vm["host_id"])
    dest = migration_destination(app, vm, source, dest)
    vmops.transit(app, vm, "MigrationRequested")
    app.jobs.elapse("migrate")
    try:
        vmops.migrate_domain(app, vm, source, dest)
    except host_agent.AgentError as err:
        vmops.transit(app, vm, "OperationFailed")
        raise runtime(str(err)) from err
    vm["host_id"], vm["last_host_id"] = dest["id"], source["id"]
    vmops.transit(app, vm, "OperationSucceeded")


def may_expunge(ctx):
    """UserVmManagerImpl.checkExpungeVmPermission: admins, or accounts with allow.user.expunge.recover.vm."""
    return ctx.caller.role != "User" or ctx.settings.boolean("allow.user.expunge.recover.vm", "account",
                                                             ctx.caller.account["id"])


@command("destroyVirtualMachine", isasync=True, cmdclass="vm.DestroyVMCmd", params=(
    param("id", "uuid", required=True, entity="vm"), param("expunge", "boolean"), param("volumeids", "list")),
    fields=VM_FIELDS)
def destroy_virtual_machine(ctx, values):
    """Destroys a virtual machine (expunge=true removes it)."""
    vm = ctx.check_access(values["id"])
    app = ctx.app

    def destroy():
        if values.get("expunge") and not may_expunge(ctx):
            raise denied("Account does not have permission for expunging.")
        if vm["state"] in ("Destroyed", "Expunging") and not values.get("expunge"):
            return {"virtualmachine": vm_response(ctx, vm)}
        if vm["state"] in ("Running", "Stopping", "Starting"):
            stop_vm(app, vm)
        if vm["state"] != "Destroyed":
            vmops.transit(app, vm, "DestroyRequested")
        if values.get("expunge"):
            vmops.transit(app, vm, "ExpungeOperation")
            app.jobs.elapse("expunge")
            answer = {"virtualmachine": vm_response(ctx, vm)}
            network.release_nics(app, vm)
            resource_tags.remove_resource_tags(app.store, "UserVm", vm)
            app.store.delete("vm", vm)
            return answer
        return {"virtualmachine": vm_response(ctx, vm)}

    def run():
        # DestroyVMCmd.execute: setEventDetails, UserVmManagerImpl.destroyVm (@ActionEvent VM.DESTROY "destroying Vm",
        # async); its stop and expunge are calls inside the same bean: no events of their own
        with action_event(ctx, vm, "VM.DESTROY", "destroying Vm", f"Instance ID: {vm['uuid']}"):
            return destroy()
    return AsyncWork(run, instance_uuid=vm["uuid"], event=CommandEvent(
        "VM.DESTROY", f"Destroying Instance with ID: {vm['uuid']}", owner_of(ctx, vm), vm))


# QueryService: user.vm.denied.details (default) plus RootAdminOnlyVmSettings, and user.vm.readonly.details (default)
DENIED_DETAILS = ("rootdisksize", "cpuOvercommitRatio", "memoryOvercommitRatio", "Message.ReservedCapacityFreed.Flag",
                  "guest.cpu.mode", "guest.cpu.model")
READ_ONLY_DETAILS = ("dataDiskController", "rootDiskController")


def java_long(text):
    """NumberUtils.toLong: the number, or 0 when absent or not a plain integer."""
    return int(text) if text is not None and re.fullmatch(r"[+-]?\d+", str(text)) else 0


def verify_vm_limits(ctx, vm, details):
    """UserVmManagerImpl.verifyVmLimits: details may size a VM only on a dynamic offering, within its bounds and the
    owner's limits (ResourceAllocationException answered as InvalidParameterValueException)."""
    offering = ctx.store.get("offering", vm["offering_id"])
    new_cpu, new_memory = java_long(details.get("cpuNumber")), java_long(details.get("memory"))
    if is_dynamic(offering):
        custom = {"cpuNumber": str(new_cpu), "memory": str(new_memory)}
        if "cpuSpeed" in details:
            custom["cpuSpeed"] = details["cpuSpeed"]
        scaling.validate_custom_parameters(ctx.app, offering, custom)
    elif {"cpuNumber", "memory", "cpuSpeed"} & set(details):
        raise invalid("CPU number, Memory and CPU speed cannot be updated for a non-dynamic offering")
    if ctx.settings.boolean("resource.count.running.vms.only"):
        return
    cores, _speed, memory = vm_size(ctx.store, vm)
    try:
        check_resource_limits(ctx.app, owner_of(ctx, vm), {"cpu": new_cpu - cores, "memory": new_memory - memory})
    except ApiError as err:
        if err.kind != "ResourceAllocation":
            raise
        raise invalid(err.text) from err


def updated_details(ctx, vm, values):
    """updateVirtualMachine(UpdateVMCmd): the VM's details after cleanupdetails or details (they replace all), or
    None when neither is given. Callers other than the root admin may not set, and keep, the denied and read-only
    ones."""
    guarded = {key: value for key, value in (vm.get("details") or {}).items()
               if key in DENIED_DETAILS + READ_ONLY_DETAILS}
    if values.get("cleanupdetails"):
        return {} if ctx.caller.is_root_admin else guarded
    details = scaling.merge_details(values.get("details"))
    if not details:
        return None
    if "extraconfig" in details:
        raise invalid("'extraconfig' should not be included in details as key")
    if not ctx.caller.is_root_admin:
        for key in details:
            if key in DENIED_DETAILS:
                raise invalid(f"You're not allowed to add or edit the restricted setting: {key}")
            if key in READ_ONLY_DETAILS:
                raise invalid(f"You're not allowed to add or edit the read-only setting: {key}")
        details.update(guarded)
    verify_vm_limits(ctx, vm, details)
    return details


def check_dynamic_scaling_flag(ctx, vm, offering):
    """updateVirtualMachine: isdynamicallyscalable=true needs the template, the offering and the zone setting."""
    template = ctx.store.get("template", vm["template_id"])
    if not template["isdynamicallyscalable"]:
        raise invalid("Dynamic Scaling cannot be enabled for the Instance since its Template does not have"
                      " dynamic scaling enabled")
    if not offering["dynamicscalingenabled"]:
        raise invalid("Dynamic Scaling cannot be enabled for the Instance since its service offering does not"
                      " have dynamic scaling enabled")
    if not ctx.settings.boolean("enable.dynamic.scale.vm", "zone", vm["zone_id"]):
        raise invalid("Dynamic Scaling cannot be enabled for the VM since corresponding global setting is set"
                      " to false")


@command("updateVirtualMachine", params=(
    param("id", "uuid", required=True, entity="vm"), param("displayname"), param("group"),
    param("haenable", "boolean"), param("isdynamicallyscalable", "boolean"), param("name"),
    param("details", "map"), param("displayvm", "boolean"), param("ostypeid", "uuid", entity="template"),
    param("userdata"), param("cleanupdetails", "boolean"), param("deleteprotection", "boolean")), fields=VM_FIELDS)
def update_virtual_machine(ctx, values):
    """Updates properties of a virtual machine (UserVmManagerImpl.updateVirtualMachine, both methods, in order).

    The details are stored before the state, HA and isdynamicallyscalable checks run, as in CloudStack.
    (The simulator's OS types are its templates, so ostypeid names a template.)
    """
    vm = ctx.check_access(values["id"])
    details = updated_details(ctx, vm, values)
    if details is not None:
        vm["details"] = details
        ctx.store.save("vm", vm)
    if vm["state"] in ("Error", "Expunging"):
        raise invalid(f"Vm {vm_to_string(vm)} is not in the right state")
    offering = ctx.store.get("offering", vm["offering_id"])
    if values.get("haenable", vm["haenable"]) and not offering["offerha"]:
        raise invalid("Can't enable ha for the vm as it's created from the Service offering having HA disabled")
    if values.get("isdynamicallyscalable"):
        check_dynamic_scaling_flag(ctx, vm, offering)
    for key in ("displayname", "group", "name", "haenable", "isdynamicallyscalable", "displayvm"):
        if key in values:
            vm[key] = values[key]
    vm["lastupdated"] = ctx.app.now()
    ctx.store.save("vm", vm)
    return {"virtualmachine": vm_response(ctx, vm)}


def scale_extras(values):
    """shrinkok/automigrate/miniops/maxiops go into the details map only when passed."""
    return {key: str(values[key]).lower() for key in SCALE_EXTRAS if key in values}


@command("scaleVirtualMachine", isasync=True, cmdclass="vm.ScaleVMCmd", params=SCALE_PARAMS, fields=VM_FIELDS)
def scale_virtual_machine(ctx, values):
    """Scales the virtual machine to a new service offering (live when Running)."""
    vm = ctx.check_access(values["id"])
    offering = values["serviceofferingid"]
    extras = scale_extras(values)

    def body(target):
        # @ActionEvent(VM.UPGRADE, "Upgrading VM", async) on UserVmManagerImpl.upgradeVirtualMachine(ScaleVMCmd): its
        # setEventDetails("Vm Id: ...") comes after the Started event
        with action_event(ctx, target, "VM.UPGRADE", "Upgrading VM") as action:
            action.details = f"Vm Id: {target['uuid']}"
            scaling.scale(ctx.app, target, offering, values.get("details"), extras, caller=ctx.caller.account)
    return vm_job(ctx, vm, body, "VM.UPGRADE", f"Upgrading Instance with ID: {vm['uuid']} to service offering with ID:"
                                               f" {offering['uuid']}")  # ScaleVMCmd.getEventDescription


@command("changeServiceForVirtualMachine", params=SCALE_PARAMS, fields=VM_FIELDS)
def change_service_for_virtual_machine(ctx, values):
    """Changes the service offering of a Stopped virtual machine."""
    vm = ctx.check_access(values["id"])
    # @ActionEvent(VM.UPGRADE, "upgrading Vm", not async) on UserVmManagerImpl.upgradeVirtualMachine(UpgradeVMCmd),
    # details "Instance ID: <uuid>" (UpgradeVMCmd.execute)
    with action_event(ctx, vm, "VM.UPGRADE", "upgrading Vm", f"Instance ID: {vm['uuid']}", is_async=False):
        scaling.change_service(ctx.app, vm, values["serviceofferingid"], values.get("details"), scale_extras(values))
    return {"virtualmachine": vm_response(ctx, vm)}

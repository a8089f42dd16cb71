"""System VMs (console proxy, secondary storage VM): list, scale, change service, start, stop, reboot.

ManagementServerImpl (searchForSystemVm, upgradeSystemVM, startSystemVM, stopSystemVM, rebootSystemVM) over the
vm_instance rows of type ConsoleProxy and SecondaryStorageVm. They live on the hosts like user VMs (libvirt domains,
host capacity) and scale through the same UserVmManagerImpl.upgradeVirtualMachine rules (simulator.scaling).
"""

from simulator import scaling
from simulator.commands.annotations import has_annotations
from simulator.commands.vms import start_vm, stop_vm
from simulator.errors import ApiError, invalid, server
from simulator.events import CommandEvent, action_event, nested, started
from simulator.jobs import AsyncWork
from simulator.model import SYSTEM_VM_TYPES, VM_KINDS, vm_kind
from simulator.registry import PAGE_PARAMS, ROOT_ONLY, command, listing, param
from simulator.views import compact, control_state

# SystemVmResponse serialized names in declaration order (spec A.5), with BaseResponseWithAnnotations' field
SYSTEMVM_FIELDS = ("id", "systemvmtype", "zoneid", "zonename", "dns1", "dns2", "networkdomain", "gateway", "name",
                   "podid", "podname", "hostid", "hostname", "hostcontrolstate", "hypervisor", "privateip",
                   "privatemacaddress", "privatenetmask", "linklocalip", "linklocalmacaddress", "linklocalnetmask",
                   "publicip", "publicmacaddress", "publicnetmask", "templateid", "templatename", "created", "state",
                   "agentstate", "activeviewersessions", "guestvlan", "publicvlan", "disconnected", "version",
                   "isdynamicallyscalable", "serviceofferingid", "serviceofferingname", "arch", "hasannotations",
                   "jobid", "jobstatus")
# createSystemServiceOfferings at management-server start: ConsoleProxyManagerImpl.createServiceOfferingForConsoleProxy
# (DEFAULT_PROXY_VM_RAMSIZE 1024, DEFAULT_PROXY_VM_CPUMHZ 500) and SecondaryStorageVmManager (DEFAULT_SS_VM_RAMSIZE 512,
# DEFAULT_SS_VM_CPUMHZ 500), each also as a "- Local Storage" twin
DEFAULT_SYSTEM_OFFERINGS = {"consoleproxy": ("System Offering For Console Proxy", 1024),
                            "secondarystoragevm": ("System Offering For Secondary Storage VM", 512)}
# the system VM template registered at set-up (SystemVmTemplateRegistration); dynamically_scalable defaults to 0
SYSTEM_TEMPLATE = {"name": "SystemVM Template (KVM)", "isdynamicallyscalable": False}
INSTANCE_PREFIX = {"ConsoleProxy": "v", "SecondaryStorageVm": "s"}  # VirtualMachineName.getConsoleProxyName / SSVM
NOT_FOUND = "unable to find a system vm with specified vmId"
ID_PARAM = param("id", "uuid", required=True, description="The ID of the system VM")
SCALE_PARAMS = (ID_PARAM, param("serviceofferingid", "uuid", required=True, entity="offering"),
                param("details", "map"))


def default_system_offerings(app, build_offering):
    """The default system offerings CloudStack creates at start-up, unless an offering of that name exists."""
    for kind, (base_name, memory) in DEFAULT_SYSTEM_OFFERINGS.items():
        for name, storage in ((base_name, "shared"), (base_name + " - Local Storage", "local")):
            if app.store.one("offering", name=name) is None:
                app.store.add("offering", build_offering(app, {
                    "name": name, "cpunumber": 1, "cpuspeed": 500, "memory": memory, "issystem": True,
                    "systemvmtype": kind, "defaultuse": True, "storagetype": storage}))


def new_system_vm(app, zone, kind, template, offering, owner):
    """A Stopped system VM of a zone (createOrUpdateConsoleProxy: the flag comes from the template)."""
    vm_type = SYSTEM_VM_TYPES[kind]
    vm = app.store.add("systemvm", {
        "type": vm_type, "name": "", "account_id": owner["id"], "domain_id": owner["domain_id"],
        "zone_id": zone["id"], "template_id": template["id"], "offering_id": offering["id"], "state": "Stopped",
        "host_id": None, "last_host_id": None, "haenable": bool(offering["offerha"]),
        "limitcpuuse": bool(offering["limitcpuuse"]), "details": {},
        "isdynamicallyscalable": bool(template["isdynamicallyscalable"]), "instancename": "", "domain": None,
        "created": app.now(), "lastupdated": app.now()})
    vm["name"] = vm["instancename"] = vm["displayname"] = f"{INSTANCE_PREFIX[vm_type]}-{vm['id']}-VM"
    app.store.save("systemvm", vm)
    return vm


def vm_instance(ctx, raw):
    """The vm_instance row a SystemVmResponse id names: ParamProcessWorker looks the uuid up as a VirtualMachine
    (SystemVmResponse's EntityReference), so a user VM's id passes too; an unknown one is its 431."""
    for kind in VM_KINDS:
        found = ctx.store.by_uuid(kind, raw)
        if found is not None:
            return found
    short = ctx.cmd.response_name[:-len("response")]
    raise server(431, f"Unable to execute API command {short} due to invalid value. Invalid parameter id value={raw}"
                      " due to incorrect long value format, or entity does not exist or due to incorrect parameter"
                      " annotation for the field in api cmd class.")


def system_vm(ctx, raw, text):
    """_vmInstanceDao.findByIdTypes(id, ConsoleProxy, SecondaryStorageVm), or 431 with the caller's text."""
    vm = vm_instance(ctx, raw)
    if vm_kind(vm) != "systemvm":
        raise invalid(text)
    return vm


def systemvm_response(ctx, vm):
    """ApiResponseHelper.createSystemVmResponse; a user VM gives an empty response (only its object name)."""
    if vm_kind(vm) != "systemvm":
        return {}
    store = ctx.store
    zone = store.get("zone", vm["zone_id"])
    host = store.get("host", vm.get("host_id"))
    placed = host or store.get("host", vm.get("last_host_id"))
    pod = store.get("pod", placed["pod_id"]) if placed else None
    template = store.get("template", vm["template_id"])
    offering = store.get("offering", vm["offering_id"])
    running = vm["state"] == "Running"
    return compact({
        "id": vm["uuid"], "systemvmtype": vm["type"].lower(), "zoneid": zone["uuid"], "zonename": zone["name"],
        "name": vm["instancename"], "podid": pod["uuid"] if pod else None, "podname": pod["name"] if pod else None,
        "hostid": host["uuid"] if host else None, "hostname": host["name"] if host else None,
        "hostcontrolstate": control_state(host) if host else None, "hypervisor": "KVM",
        "templateid": template["uuid"], "templatename": template["name"], "created": vm["created"],
        "state": vm["state"], "agentstate": "Up" if running else ("Disconnected" if vm.get("last_host_id") else None),
        "activeviewersessions": 0 if vm["type"] == "ConsoleProxy" else None,
        "version": ctx.app.version.cloudstackversion if vm.get("last_host_id") else None,
        "isdynamicallyscalable": bool(vm["isdynamicallyscalable"]), "serviceofferingid": offering["uuid"],
        "serviceofferingname": offering["name"], "arch": "x86_64",
        "hasannotations": has_annotations(store, "SYSTEM_VM", vm["uuid"])})


def system_vm_job(ctx, vm, body, event, recorded=True):
    """AsyncWork that runs body(vm) in the VM's work queue and answers with its SystemVmResponse; the job records the
    system VM (type SystemVm) unless ``recorded`` is false (a command without getApiResourceType: type None).
    ``event`` is the command's (getEventType, getEventDescription), owned by the caller (getEntityOwnerId)."""
    def run():
        body(vm)
        return {"systemvm": systemvm_response(ctx, vm)}
    if not recorded:
        # ActionEventUtils.getResourceDetails: no resource id, so the event type's entity (VirtualMachine) and the
        # command's id parameter from the CallContext
        return AsyncWork(run, instance_type="None", queue_uuid=vm["uuid"], event=CommandEvent(
            event[0], event[1], ctx.caller.account, vm))
    return AsyncWork(run, instance_type="SystemVm", instance_uuid=vm["uuid"], event=CommandEvent(
        event[0], event[1], ctx.caller.account, vm, "SystemVm"))


def system_event_type(vm, action):
    """StartSystemVMCmd/StopSystemVmCmd/RebootSystemVmCmd.getEventType: PROXY.<action> for a console proxy, else
    SSVM.<action>."""
    return f"{'PROXY' if vm['type'] == 'ConsoleProxy' else 'SSVM'}.{action}"


# ManagementServerImpl start/stop/rebootSystemVM: the startNestedActionEvent description of each VM type
NESTED_DESCRIPTIONS = {
    ("ConsoleProxy", "START"): "starting console proxy Vm",
    ("SecondaryStorageVm", "START"): "starting secondary storage Vm",
    ("ConsoleProxy", "STOP"): "stopping console proxy VM",
    ("SecondaryStorageVm", "STOP"): "stopping secondary storage VM",
    ("ConsoleProxy", "REBOOT"): "rebooting console proxy VM",
    ("SecondaryStorageVm", "REBOOT"): "rebooting secondary storage VM"}


def nested_system_event(ctx, action, vm, verb):
    """ManagementServerImpl start/stop/rebootSystemVM: ActionEventUtils.startNestedActionEvent about the VM as a
    ConsoleProxy or SystemVm resource; it gives the running @ActionEvent("") ``action`` its type and description
    (rebootSystemVM has none: only the Started event is written)."""
    event_type, description = system_event_type(vm, verb), NESTED_DESCRIPTIONS[vm["type"], verb]
    resource_type = "ConsoleProxy" if vm["type"] == "ConsoleProxy" else "SystemVm"
    if action is None:
        started(ctx, event_type, description, vm, resource_type)
    else:
        nested(ctx, action, event_type, description, vm, resource_type)


@command("listSystemVms", admin=True, roles=ROOT_ONLY, params=(
    param("hostid", "uuid", entity="host"), param("id", "uuid"), param("name"), param("podid", "uuid", entity="pod"),
    param("state"), param("systemvmtype"), param("zoneid", "uuid", entity="zone"),
    param("storageid", "uuid", entity="storagepool"), param("arch")) + PAGE_PARAMS,
    cmdclass="systemvm.ListSystemVMsCmd", fields=SYSTEMVM_FIELDS)
def list_system_vms(ctx, values):
    """List System VMs (ManagementServerImpl.searchForSystemVm: vm_instance rows by id, the name as hostName LIKE
    (no wildcards added), state, zone, pod, host and type; keyword on name or state; by id)."""
    wanted_type = values.get("systemvmtype")
    by_id = vm_instance(ctx, values["id"]) if "id" in values else None
    found = [vm for vm in ctx.store.all("systemvm")
             if (wanted_type is None or vm["type"].lower() == wanted_type.lower())
             and (by_id is None or vm["uuid"] == by_id["uuid"])]
    pod_of = {host["id"]: host["pod_id"] for host in ctx.store.all("host")}
    filters = {"name": lambda vm: vm["instancename"].lower() == values["name"].lower(),
               "state": lambda vm: vm["state"].lower() == values["state"].lower(),
               "zoneid": lambda vm: vm["zone_id"] == values["zoneid"]["id"],
               "podid": lambda vm: pod_of.get(vm.get("host_id") or vm.get("last_host_id")) == values["podid"]["id"],
               "hostid": lambda vm: vm.get("host_id") == values["hostid"]["id"],
               "keyword": lambda vm: values["keyword"].lower() in vm["instancename"].lower()
               or values["keyword"].lower() in vm["state"].lower(),
               "arch": lambda vm: values["arch"] == "x86_64"}
    for key, keep in filters.items():
        if key in values:
            found = [vm for vm in found if keep(vm)]
    return listing("systemvm", [with_pending_job(ctx, systemvm_response(ctx, vm)) for vm in found], values)


def with_pending_job(ctx, response):
    """ApiServer.buildAsyncListResponse: a listed system VM with a job in progress of instance type SystemVm (a
    root admin sees every account's: findInstancePendingAsyncJobs; the last one per VM) carries its jobid and
    jobstatus. A scaleSystemVm job is not one: ScaleSystemVMCmd has no getApiResourceType (BaseCmd's None)."""
    queued = [ctx.store.get("job", job_id) for job_id in ctx.app.jobs.queues.get(response["id"], [])]
    pending = [job for job in queued if job and job["status"] == 0 and job["instancetype"] == "SystemVm"
               and job["command"] != "scaleSystemVm"]
    if pending:
        response.update(jobid=pending[-1]["uuid"], jobstatus=0)
    return response


@command("scaleSystemVm", isasync=True, admin=True, roles=ROOT_ONLY, params=SCALE_PARAMS,
         response_name="changeserviceforsystemvmresponse", cmdclass="systemvm.ScaleSystemVMCmd",
         fields=SYSTEMVM_FIELDS)
def scale_system_vm(ctx, values):
    """Scale the service offering for a system vm (ManagementServerImpl.upgradeSystemVM(ScaleSystemVMCmd)): the
    user-VM rules of UserVmManagerImpl.upgradeVirtualMachine, live when Running, for any vm_instance id."""
    vm = vm_instance(ctx, values["id"])
    offering = values["serviceofferingid"]

    def body(target):
        # ScaleSystemVMCmd.execute: setEventDetails, then upgradeSystemVM (@ActionEvent VM.UPGRADE "Upgrading system
        # VM", async); with no resource of the command, its events are about the VirtualMachine of the id parameter
        with action_event(ctx, target, "VM.UPGRADE", "Upgrading system VM", f"System VM ID: {target['uuid']}"):
            scaling.scale(ctx.app, target, offering, values.get("details"), {}, system_vm_command=True,
                          caller=ctx.caller.account)
    # ScaleSystemVMCmd declares no getApiResourceType/getApiResourceId: its job names no instance (type None)
    return system_vm_job(ctx, vm, body, ("VM.UPGRADE", f"Upgrading System VM with ID: {vm['uuid']} to service"
                                                       f" offering: {offering['uuid']}"), recorded=False)


@command("changeServiceForSystemVm", admin=True, roles=ROOT_ONLY, params=SCALE_PARAMS,
         cmdclass="systemvm.UpgradeSystemVMCmd", fields=SYSTEMVM_FIELDS)
def change_service_for_system_vm(ctx, values):
    """Changes the service offering for a system vm (ManagementServerImpl.upgradeStoppedSystemVm): custom values,
    checkIfCanUpgrade (Stopped or Running) and upgradeVmDb; a Running one keeps its domain until its next start."""
    vm = system_vm(ctx, values["id"], f"Unable to find SystemVm with id {vm_instance(ctx, values['id'])['id']}")
    offering = values["serviceofferingid"]
    details = scaling.system_vm_details(ctx.app, values.get("details"))
    scaler = scaling.Scaler(ctx.app, vm, offering, details)
    if scaling.is_dynamic(offering):
        scaling.validate_custom_parameters(ctx.app, offering, details)
    scaling.check_if_can_upgrade(vm, scaler.current, offering)
    scaler.upgrade_vm_db()
    return {"systemvm": systemvm_response(ctx, vm)}


def typed_system_vm(ctx, values):
    """The system VM of a start/stop/reboot: getEventType's findSystemVMTypeById runs when the job is queued."""
    return system_vm(ctx, values["id"], "Unable to find a system vm of specified instanceId")


@command("startSystemVm", isasync=True, admin=True, roles=ROOT_ONLY, params=(ID_PARAM,),
         cmdclass="systemvm.StartSystemVMCmd", fields=SYSTEMVM_FIELDS)
def start_system_vm(ctx, values):
    """Starts a System VM (ConsoleProxyManagerImpl.startProxy: a Running one as it is; a failed start answers
    StartSystemVMCmd's "Fail to start system vm")."""
    vm = typed_system_vm(ctx, values)

    def body(target):
        # StartSystemVMCmd.execute: setEventDetails, then startSystemVM (@ActionEvent "", async: its nested event)
        with action_event(ctx, target, "", "", f"Instance ID: {target['uuid']}", resource_type="SystemVm") as action:
            nested_system_event(ctx, action, target, "START")
            if target["state"] == "Running":
                return
            if target["state"] != "Stopped":
                raise server(530, "Fail to start system vm")
            try:
                start_vm(ctx.app, target)
            except ApiError as err:
                raise server(530, "Fail to start system vm") from err
    return system_vm_job(ctx, vm, body, (system_event_type(vm, "START"), f"Starting System VM with ID: {vm['uuid']}"))


@command("stopSystemVm", isasync=True, admin=True, roles=ROOT_ONLY, params=(ID_PARAM, param("forced", "boolean")),
         cmdclass="systemvm.StopSystemVmCmd", fields=SYSTEMVM_FIELDS)
def stop_system_vm(ctx, values):
    """Stops a system VM (VirtualMachineManagerImpl.advanceStop, as for user VMs)."""
    vm = typed_system_vm(ctx, values)

    def body(target):
        # StopSystemVmCmd.execute: setEventDetails, then stopSystemVM (@ActionEvent "", async: its nested event)
        with action_event(ctx, target, "", "", f"Instance ID: {target['uuid']}", resource_type="SystemVm") as action:
            nested_system_event(ctx, action, target, "STOP")
            stop_vm(ctx.app, target)
    return system_vm_job(ctx, vm, body, (system_event_type(vm, "STOP"), f"Stopping System VM with ID: {vm['uuid']}"))


@command("rebootSystemVm", isasync=True, admin=True, roles=ROOT_ONLY, params=(ID_PARAM, param("forced", "boolean")),
         cmdclass="systemvm.RebootSystemVmCmd", fields=SYSTEMVM_FIELDS)
def reboot_system_vm(ctx, values):
    """Reboots a system VM (ConsoleProxyManagerImpl.rebootProxy: only a Running one is rebooted, any other is
    answered as it is); forced: stop, then start."""
    vm = typed_system_vm(ctx, values)

    def body(target):
        # rebootSystemVM has no @ActionEvent: its nested event is only a Started one
        nested_system_event(ctx, None, target, "REBOOT")
        if values.get("forced"):
            stop_vm(ctx.app, target)
            start_vm(ctx.app, target)
        elif target["state"] == "Running" and target.get("host_id") is not None:
            ctx.app.jobs.elapse("reboot")
    return system_vm_job(ctx, vm, body, (system_event_type(vm, "REBOOT"),
                                         f"Rebooting System VM with ID: {vm['uuid']}"))


def load_system_vms(app, zone, items, template, named):
    """A zone's seed `system_vms`: each {type, host, state (Running/Stopped), offering} on the given template."""
    owner = next(account for account in app.store.all("account") if account["role"] == "Admin")
    for item in items:
        kind = str(item.get("type", "")).lower()
        where = f"zone {zone['name']}: system vm {kind or '?'}"
        if kind not in SYSTEM_VM_TYPES:
            raise ValueError(f"{where}: type must be one of {', '.join(SYSTEM_VM_TYPES)}")
        offering = named(app, "offering", item.get("offering") or DEFAULT_SYSTEM_OFFERINGS[kind][0], where)
        if not offering.get("issystem") or offering.get("systemvmtype") != kind:
            raise ValueError(f"{where}: offering {offering['name']} is not a system offering of type {kind}")
        state = item.get("state", "Running")
        host = named(app, "host", item["host"], where) if item.get("host") else None
        if state not in ("Running", "Stopped") or (state == "Running" and host is None):
            raise ValueError(f"{where}: state must be Running (with a host) or Stopped, not {state}")
        vm = new_system_vm(app, zone, kind, template, offering, owner)
        vm.update(state=state, host_id=host["id"] if state == "Running" else None,
                  last_host_id=host["id"] if host else None)
        app.store.save("systemvm", vm)

"""scaleVirtualMachine / changeServiceForVirtualMachine business rules, in CloudStack's order (spec 3).

The rules and texts of the version the simulator runs as ([4.22] or [main]) come from ``app.version``
(simulator/versions.py).
"""

from simulator import agent as host_agent
from simulator import hypervisors, vmops
from simulator.errors import ApiError, invalid, runtime, server
from simulator.model import (check_resource_limits, cluster_crosses_threshold, host_can_take, host_has_strict_tags,
                             host_takes_offering_tags, is_dynamic, next_destination, vm_kind, vm_size, vm_to_string)

INT_MAX = 2147483647
CUSTOM_KEYS = (("cpunumber", "cpuNumber"), ("cpuspeed", "cpuSpeed"), ("memory", "memory"))
FAILED = "Failed to scale the VM"
SYSTEM_VM_FAILED = "Failed to upgrade System VM"


def merge_details(entries):
    """BaseCmd.convertDetailsToMap: every details[i] flattened into one dict."""
    merged = {}
    for entry in entries or []:
        merged.update(entry)
    return merged


def system_vm_details(app, entries):
    """ScaleSystemVMCmd / UpgradeSystemVMCmd.getDetails: convertDetailsToMap(details) from apache/cloudstack PR #11062
    (4.20.2), else the map as ParamProcessWorker builds it, index -> details[i], in which validateCustomParameters
    finds no cpuNumber, cpuSpeed or memory."""
    if app.version.system_vm_details_merged:
        return merge_details(entries)
    return {str(index): entry for index, entry in enumerate(entries or [])}


def fill_absent_details(app, vm, new_offering, details):
    """UVM.updateInstanceDetailsMapWithCurrentValuesForAbsentDetails (spec 3.1 step 4)."""
    current = dict(zip(("cpuNumber", "cpuSpeed", "memory"), vm_size(app.store, vm)))
    for field, key in CUSTOM_KEYS:
        if new_offering[field] is None and key not in details:
            details[key] = str(current[key])
    return details


def as_int(value):
    """Integer value of a custom detail; missing or unparsable counts as -1."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# (offering field, detail key, detail min/max names, default min, setting capping the max, range and fixed text keys)
CUSTOM_RANGES = (
    ("cpunumber", "cpuNumber", "mincpunumber", "maxcpunumber", 1, "vm.serviceoffering.cpu.cores.max", "cpu_range",
     "cpu_fixed"),
    ("memory", "memory", "minmemory", "maxmemory", 32, "vm.serviceoffering.ram.size.max", "memory_range",
     "memory_fixed"),
)


def check_custom_range(app, offering, details, rule):
    """One ranged custom value (cpu cores or memory): in bounds when customizable, absent when fixed."""
    field, key, min_name, max_name, default_min, cap_setting, range_text, fixed_text = rule
    if offering[field] is not None:
        if key in details:
            raise invalid(app.version.text(fixed_text, uuid=offering["uuid"]))
        return
    extra = offering.get("details", {})
    cap = app.settings.integer(cap_setting) or INT_MAX
    low, high = int(extra.get(min_name, default_min)), min(int(extra.get(max_name, INT_MAX)), cap)
    value = as_int(details.get(key))
    if value < low or value > high:
        raise invalid(app.version.text(range_text, low=low, high=high))


def validate_custom_parameters(app, offering, details):
    """UVM.validateCustomParameters (spec 3.5), with the version's texts; all failures are 431."""
    if not details and is_dynamic(offering):
        raise invalid(app.version.text("need_custom"))
    check_custom_range(app, offering, details, CUSTOM_RANGES[0])
    if offering["cpuspeed"] is None:
        if as_int(details.get("cpuSpeed")) <= 0:
            raise invalid(app.version.text("speed_range"))
    elif "cpuSpeed" in details:
        raise invalid(app.version.text("speed_fixed", uuid=offering["uuid"], speed=offering["cpuspeed"]))
    check_custom_range(app, offering, details, CUSTOM_RANGES[1])


def target_size(offering, details):
    """(vCPUs, MHz, MiB) the new offering gives with these details."""
    values = [offering[field] if offering[field] is not None else int(details[key]) for field, key in CUSTOM_KEYS]
    return tuple(int(v) for v in values)


def validate_offering_max(app, offering):
    """UVM.validateOfferingMaxResource for a fixed offering: only the maxima are checked."""
    cores_max = app.settings.integer("vm.serviceoffering.cpu.cores.max") or INT_MAX
    ram_max = app.settings.integer("vm.serviceoffering.ram.size.max") or INT_MAX
    if offering["cpunumber"] > cores_max:
        raise invalid("Invalid cpu cores value, please choose another service offering with cpu cores between 1"
                      f" and {cores_max}")
    if offering["memory"] > ram_max:
        raise invalid("Invalid memory value, please choose another service offering with memory between 32 and"
                      f" {ram_max} MB")


def check_if_can_upgrade(vm, current, new):
    """VMM.checkIfCanUpgrade (spec 3.3 step 3)."""
    if new["state"] != "Active":
        raise invalid(f"New service offering is inactive: [{new['uuid']}].")
    if vm["state"] not in ("Stopped", "Running"):
        raise invalid(f"Unable to upgrade virtual machine {vm_to_string(vm)}  in state {vm['state']}; make sure"
                      " the virtual machine is stopped/running")
    if not is_dynamic(new) and new["id"] == current["id"]:
        raise invalid(f"Not upgrading vm {vm_to_string(vm)} since it already has the requested service offering"
                      f" ({new['name']})")
    if bool(new.get("issystem")) != bool(current.get("issystem")):
        raise invalid("isSystem property is different for current service offering and new service offering")


def resource_deltas(current_size, new_size):
    """Resource-count increases asked by a size change."""
    return {"cpu": new_size[0] - current_size[0], "memory": new_size[2] - current_size[2]}


class Scaler:
    """One scale or change-service request for one VM."""

    def __init__(self, app, vm, new_offering, details, caller=None):
        self.app = app
        self.caller = caller  # the calling account (CallContext.getCallingAccount); None: the owner
        self.vm = vm
        self.new = new_offering
        self.current = app.store.get("offering", vm["offering_id"])
        self.details = details
        self.account = app.store.get("account", vm["account_id"])
        self.template = app.store.get("template", vm["template_id"])

    def stopped(self):
        """upgradeStoppedVirtualMachine (spec 3.2)."""
        if self.new["state"] != "Active":
            raise invalid(self.app.version.text("stopped_inactive", vm=self.vm["uuid"], offering=self.new["uuid"]))
        new_size = self._validate_new()
        if not self.app.settings.boolean("resource.count.running.vms.only"):
            check_resource_limits(self.app, self.account, resource_deltas(vm_size(self.app.store, self.vm), new_size))
        check_if_can_upgrade(self.vm, self.current, self.new)
        self.upgrade_vm_db()

    def _validate_new(self):
        if is_dynamic(self.new):
            validate_custom_parameters(self.app, self.new, self.details)
        else:
            validate_offering_max(self.app, self.new)
        return target_size(self.new, self.details)

    def running(self):
        """upgradeRunningVirtualMachine (spec 3.3, 3.4); returns False for "Failed to scale the VM"."""
        app, vm = self.app, self.vm
        if vm["state"] == "Running" and not host_takes_offering_tags(app, self._host(), self.new, self.template):
            return False
        if is_dynamic(self.new):
            validate_custom_parameters(app, self.new, self.details)
        check_if_can_upgrade(vm, self.current, self.new)
        if bool(self.new["dynamicscalingenabled"]) != bool(self.current["dynamicscalingenabled"]):
            raise invalid("Unable to Scale VM: since dynamic scaling enabled flag is not same for new service"
                          " offering and old service offering")
        cur = vm_size(app.store, vm)
        new = target_size(self.new, self.details)
        self._check_up_only(cur, new)
        if not app.version.fixed_offering_live_kvm and not is_dynamic(self.current) and self._hypervisor() == "KVM":
            raise invalid(app.version.text("fixed_offering_kvm"))
        check_resource_limits(app, self.live_scale_limited(), resource_deltas(cur, new))
        if vm["state"] != "Running":
            return True
        if not app.settings.boolean("enable.dynamic.scale.vm", "zone", vm["zone_id"]):
            raise ApiError("PermissionDenied", app.version.text("zone_disabled"))
        if not vm["isdynamicallyscalable"]:
            raise runtime(f"Unable to scale {vm_to_string(vm)} as it does not have tools to support dynamic scaling.")
        # memoryDiff in MB against byte totals: CloudStack's own unit slip, kept
        if cluster_crosses_threshold(app, self._host()["cluster_id"], new[0] * new[1] - cur[0] * cur[1],
                                     new[2] - cur[2]):
            raise runtime(f"Unable to scale {vm_to_string(vm)} due to insufficient resources.")
        return self._retry_loop(cur, new)

    def live_scale_limited(self):
        """The account whose limits upgradeRunningVirtualMachine checks: the VM's owner (PR #8935, 4.20 on), else the
        caller's account, checkResourceLimit(caller, ...) at 84538da27c and 0c7d47138d."""
        if self.app.version.owner_limits_on_live_scale or self.caller is None:
            return self.account
        return self.caller

    def _host(self):
        return self.app.store.get("host", self.vm["host_id"])

    def _hypervisor(self):
        return hypervisors.vm_hypervisor(self.app.store, self.vm)

    def _check_up_only(self, cur, new):
        (cur_cpu, cur_speed, cur_mem), (new_cpu, new_speed, new_mem) = cur, new
        version = self.app.version
        if new_cpu < cur_cpu or new_speed < cur_speed or new_mem < cur_mem or (
                cur == new and not version.same_size_cap_change):
            raise invalid(version.text("scale_down", new_mem=new_mem, new_speed=new_speed, new_cpu=new_cpu,
                                       cur_mem=cur_mem, cur_speed=cur_speed, cur_cpu=cur_cpu))
        same_cap = bool(self.new.get("limitcpuuse")) == bool(self.current.get("limitcpuuse"))
        if cur == new and (same_cap or self._hypervisor() != "KVM"):
            raise invalid(version.text("same_size"))

    def current_host_fits(self, host, cpu_diff, mem_diff_mib, new):
        """The retry loop's test of the current host: checkIfHostHasCpuCapability, checkIfHostHasCapacity for the
        increase without reserved capacity, and checkEnforceStrictHostTagCheck with the VM's current offering
        (4.18 and 4.19 have no such test, nor strict tags: vm.strict.host.tags came with 4.20)."""
        return (host_can_take(self.app, host, new[0], new[1], cpu_diff, mem_diff_mib, consider_reserved=False)
                and (not self.app.version.strict_host_tags
                     or host_has_strict_tags(self.app, host, self.current, self.template)))

    def _retry_loop(self, cur, new):
        app, vm = self.app, self.vm
        cpu_diff, mem_diff = new[0] * new[1] - cur[0] * cur[1], new[2] - cur[2]
        excluded = set()
        retry = app.scale_retry
        while retry > 0:
            retry -= 1
            host = app.store.get("host", vm["host_id"])
            has_capacity = False
            if host["id"] not in excluded:
                has_capacity = self.current_host_fits(host, cpu_diff, mem_diff, new)
                excluded.add(host["id"])
            if not has_capacity:
                if app.version.cluster_capacity_settings and not app.settings.boolean(
                        "auto.migrate.vm.on.live.scale.insufficient.capacity", "cluster", host["cluster_id"]):
                    return False
                dest = self._find_destination(host, new, excluded)
                if dest is None:
                    continue
                self._migrate_for_scale(host, dest)
                host = dest
            self._reconfigure(host, new)
            return True
        return False

    def _find_destination(self, host, new, excluded):
        """findHostAndMigrate: planDeployment in the current host's cluster for the whole new size."""
        cluster_hosts = self.app.store.find("host", cluster_id=host["cluster_id"])
        dest = next_destination(self.app, self.vm, self.new, new, cluster_hosts, excluded)
        if dest is not None:
            excluded.add(dest["id"])
        return dest

    def _migrate_for_scale(self, source, dest):
        """Running -> Migrating -> Running on the destination (OperationFailed back to Running on failure); no
        VM.MIGRATE event: VirtualMachineManagerImpl.migrateForScale carries no @ActionEvent."""
        app, vm = self.app, self.vm
        vmops.transit(app, vm, "MigrationRequested")
        app.jobs.elapse("migrate")
        try:
            vmops.migrate_domain(app, vm, source, dest)
        except host_agent.AgentError as err:
            vmops.transit(app, vm, "OperationFailed")
            raise runtime(app.version.text("reconfigure_failed")) from err
        vm["host_id"], vm["last_host_id"] = dest["id"], source["id"]
        vmops.transit(app, vm, "OperationSucceeded")

    def _reconfigure(self, host, new):
        """VMM.reConfigureVm: the agent scales the domain, then the database follows."""
        app, vm = self.app, self.vm
        app.jobs.elapse("scale")
        try:
            answer = vmops.scale_domain(app, vm, host, self.new, new[0], new[1], new[2], self.current)
        except host_agent.AgentError as err:
            # VM.DYNAMIC.SCALE is only a usage event in CloudStack (VirtualMachineManagerImpl.reConfigureVm,
            # generateUsageEvent): the agent's answer is in management-server.log, not in listEvents
            app.agent_log(vm, f"Unable to scale vm due to {err}", level="ERROR")
            raise server(530, app.version.text("reconfigure_failed")) from err
        self.upgrade_vm_db()
        app.agent_log(vm, answer)

    def upgrade_vm_db(self):
        """VMM.upgradeVmDb (spec 3.7)."""
        app, vm, new = self.app, self.vm, self.new
        vm["offering_id"] = new["id"]
        vm["haenable"] = bool(new.get("offerha"))
        vm["limitcpuuse"] = bool(new.get("limitcpuuse"))
        details = vm.setdefault("details", {})
        if is_dynamic(new):  # saveCustomOfferingDetails: the customizable keys; the others stay as they are
            for field, key in CUSTOM_KEYS:
                if new[field] is None:
                    details[key] = str(int(self.details[key]))
        elif is_dynamic(self.current):  # removeCustomOfferingDetails; saveDetails of nothing deletes nothing
            kept = {key: value for key, value in details.items() if key not in ("cpuNumber", "cpuSpeed", "memory")}
            if kept:
                vm["details"] = kept
        vm["isdynamicallyscalable"] = bool(
            vm["isdynamicallyscalable"] and new["dynamicscalingenabled"] and self.template["isdynamicallyscalable"]
            and app.settings.boolean("enable.dynamic.scale.vm", "zone", vm["zone_id"]))
        app.store.save(vm_kind(vm), vm)  # no state change: update_time and lastupdated stay


def scale(app, vm, new_offering, detail_entries, extras, system_vm_command=False, caller=None):
    """The scaleVirtualMachine job body (spec 3.1), ``caller`` the calling account; returns the VM.

    scaleSystemVm (``system_vm_command``) runs the same UserVmManagerImpl.upgradeVirtualMachine(id, offering, details)
    with ScaleSystemVMCmd's details, not filled in, and fails with its own text (ManagementServerImpl.upgradeSystemVM).
    """
    if system_vm_command:
        details = system_vm_details(app, detail_entries)
    else:
        details = merge_details(detail_entries)
        details.update(extras)
        if app.version.fills_absent_details:
            fill_absent_details(app, vm, new_offering, details)
    scaler = Scaler(app, vm, new_offering, details, caller)
    if vm["state"] == "Stopped":
        scaler.stopped()
        return vm
    if not scaler.running():
        raise server(530, SYSTEM_VM_FAILED if system_vm_command else FAILED)
    return vm


def change_service(app, vm, new_offering, detail_entries, extras):
    """changeServiceForVirtualMachine: synchronous, Stopped VMs only (spec 2.2, 5)."""
    if vm["state"] != "Stopped":
        raise invalid(app.version.text("change_service_state", vm=vm_to_string(vm), state=vm["state"]))
    details = merge_details(detail_entries)
    details.update(extras)
    Scaler(app, vm, new_offering, details).stopped()
    return vm

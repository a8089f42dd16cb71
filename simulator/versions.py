"""The CloudStack versions the simulator can be started as: 4.18 to 4.22 and [main] (4.23), and what differs.

[4.22] is github alexandremattioli/cloudstack @ 3d6cafe193 (4.22.0.0-SNAPSHOT), before apache/cloudstack PR #12975;
[main] is github prashanthr2/cloudstack @ b0601e5478 (4.23.0.0-SNAPSHOT), with it (merged as 6b831f5196). The older
lines are the release commits of apache/cloudstack in the history of that [4.22] mirror: [4.18] 84538da27c (4.18.2.5),
[4.19] 0c7d47138d (4.19.3.0), [4.20] 4dc3931233 (4.20.2.0), [4.21] f9513b47bf (4.21.0.0). The rules live here;
simulator/scaling.py and vmops.py ask the running version (``app.version``).
"""

from dataclasses import dataclass, field, replace

INT_MAX = 2147483647


@dataclass(frozen=True)
class Version:
    """One CloudStack line: its listCapabilities ``cloudstackversion``, its scaling rules and its texts.

    ``fixed_offering_live_kvm``: UserVmManagerImpl.upgradeRunningVirtualMachine lets a KVM VM on a fixed offering
    live-scale; ``same_size_cap_change``: a same-size target is allowed on KVM with a CPU cap change (else every
    same-size target is refused, with the scale-down text); ``cluster_capacity_settings``: KVMGuru takes the domain
    maximum from kvm.*.dynamic.scaling.capacity and the VM flag alone, and auto.migrate...insufficient.capacity may
    stop a migration (else the maximum is the custom offering's, fixed offerings get none, and the VM always migrates).
    ``absent_settings``: ConfigKeys the line's tree does not define, so listConfigurations does not list them and
    updateConfiguration / resetConfiguration answer that they do not exist (simulator/settings.py ``definition``).
    ``any_host_tag``: listServiceOfferings ``virtualmachineid`` keeps an offering sharing any one host tag of the
    current offering (QueryManagerImpl.searchForServiceOfferingIdsAndCount, PR #12919), else only offerings without
    host tags or with every one of them (``FIND_IN_SET`` joined by ``and`` in [4.22]).
    ``fills_absent_details``: scaleVirtualMachine takes the VM's current values for the custom values it is not given
    (UserVmManagerImpl.updateInstanceDetailsMapWithCurrentValuesForAbsentDetails, PR #8234, 4.20). ``strict_host_tags``:
    a running VM's host, and a starting VM's last host, need only the strict tags of the offering and template
    (vm.strict.host.tags, PR #9017, 4.20), and the current offering's strict tags decide whether the VM's own host
    can take a scale, else every host tag of the offering (HostVO.checkHostServiceOfferingTags) and no strict test.
    ``system_vm_details_merged``:
    scaleSystemVm and changeServiceForSystemVm merge their ``details[i]`` into one map (ScaleSystemVMCmd /
    UpgradeSystemVMCmd.getDetails, PR #11062, 78e146278b: in 4.20.2.0, not in 4.20.1.0 nor in any 4.19 release), else
    they hand on the map keyed by index. ``owner_limits_on_live_scale``:
    upgradeRunningVirtualMachine checks the limits of the VM's owner (PR #8935, 4.20), else those of the caller's
    account and its domains (checkResourceLimit(caller, ...) at 0c7d47138d). ``tagged_limit_texts``: the
    ResourceLimitManagerImpl texts name the host tag (``tag = 'null'``) and the domain's uuid (4dc3931233 on), else
    no tag and the domain's numeric id (checkAccountResourceLimit / checkDomainResourceLimit at 84538da27c and
    0c7d47138d). ``absent_capabilities``: listCapabilities fields the
    line's ListCapabilitiesCmd.execute does not set. ``offering_states``: ServiceOfferingResponse shows
    ``state`` (PR #8821, 4.19; the ``state`` parameters of listServiceOfferings and updateServiceOffering are
    declared ``since`` 4.19, so 4.18 lists only Active offerings, as its service_offering_view holds).
    """

    name: str
    cloudstackversion: str
    fixed_offering_live_kvm: bool
    same_size_cap_change: bool
    cluster_capacity_settings: bool
    texts: dict = field(default_factory=dict)
    absent_settings: tuple = ()
    any_host_tag: bool = True
    fills_absent_details: bool = True
    strict_host_tags: bool = True
    system_vm_details_merged: bool = True
    owner_limits_on_live_scale: bool = True
    tagged_limit_texts: bool = True
    absent_capabilities: tuple = ()
    offering_states: bool = True

    @property
    def number(self):
        """``cloudstackversion`` as a tuple of numbers, e.g. (4, 22, 0, 0), to compare with a parameter's ``since``."""
        return tuple(int(part) for part in self.cloudstackversion.split("."))

    def text(self, key, **values):
        """This version's text for ``key``, formatted with ``values``."""
        return self.texts[key].format(**values)

    def domain_maximum(self, settings, offering, host, cluster_id):
        """(max vCPUs, max MiB) of a prepared KVM domain, None when the version gives it no head-room.

        [main] KVMGuru.getVmMaxCpuCores/getVmMaxMemory: kvm.cpu/memory.dynamic.scaling.capacity of the cluster, else
        the host. [4.22] KVMGuru.isVmDynamicScalable needs a dynamic offering; then the offering's maxcpunumber /
        maxmemory, else vm.serviceoffering.cpu.cores.max / ram.size.max when > 0, else the host.
        """
        if self.cluster_capacity_settings:
            max_cpu = settings.integer("kvm.cpu.dynamic.scaling.capacity", "cluster", cluster_id)
            max_mem = settings.integer("kvm.memory.dynamic.scaling.capacity", "cluster", cluster_id)
            return (max_cpu if max_cpu > 0 else host["cores"]), (max_mem if max_mem > 0 else host["memory_mib"])
        if None not in (offering["cpunumber"], offering["cpuspeed"], offering["memory"]):
            return None
        details = offering.get("details", {})

        def bound(detail, setting, host_value):
            if detail in details:
                return int(details[detail])
            return settings.integer(setting) if settings.integer(setting) > 0 else host_value
        return (bound("maxcpunumber", "vm.serviceoffering.cpu.cores.max", host["cores"]),
                bound("maxmemory", "vm.serviceoffering.ram.size.max", host["memory_mib"]))


COMMON = {
    "memory_range": "Invalid memory value, specify a value between {low} and {high}",
    "need_custom": "Need to specify custom parameter values cpu, cpu speed and memory when using custom offering",
}

# ConfigKeys of [main] that the 4.22 tree lacks: PR #12975 added CapacityManager.KvmMemoryDynamicScalingCapacity,
# KvmCpuDynamicScalingCapacity and UserVmManager.AutoMigrateVmOnLiveScaleInsufficientCapacity, PR #12919 (b5858029bb)
# UserVmManager.AllowDifferentHostTagsOfferingsForVmScale.
SETTINGS_AFTER_4_22 = ("allow.different.host.tags.offerings.for.vm.scale",
                       "auto.migrate.vm.on.live.scale.insufficient.capacity", "kvm.cpu.dynamic.scaling.capacity",
                       "kvm.memory.dynamic.scaling.capacity")

V4_22 = Version("4.22", "4.22.0.0", fixed_offering_live_kvm=False, same_size_cap_change=False,
                cluster_capacity_settings=False, absent_settings=SETTINGS_AFTER_4_22, any_host_tag=False, texts=dict(
                    COMMON,
                    cpu_range="Invalid cpu cores value, specify a value between {low} and {high}",
                    cpu_fixed="The cpu cores of this offering id:{uuid} is not customizable. This is predefined in the"
                              " template.",
                    memory_fixed="The memory of this offering id:{uuid} is not customizable. This is predefined in the"
                                 " template.",
                    speed_range="Invalid cpu speed value, specify a value between 1 and " + str(INT_MAX),
                    speed_fixed="The cpu speed of this offering id:{uuid} is not customizable. This is predefined in"
                                " the template.",
                    stopped_inactive="Unable to upgrade virtual machine {vm} with an inactive service offering"
                                     " {offering}",
                    scale_down='While the VM is running, only scalling up it is supported. New service offering'
                               ' {{"memory": {new_mem}, "speed": {new_speed}, "cpu": {new_cpu}}} should have at least'
                               ' one value (ram, speed or cpu) greater than the current values {{"memory": {cur_mem},'
                               ' "speed": {cur_speed}, "cpu": {cur_cpu}}}.',
                    fixed_offering_kvm='Unable to live scale VM on KVM when current service offering is a "Fixed'
                                       ' Offering". KVM needs the tag "maxMemory" to live scale and it is only'
                                       ' configured when VM is deployed with a custom service offering and "Dynamic'
                                       ' Scalable" is enabled.',
                    zone_disabled="Dynamically scaling virtual machines is disabled for this zone, please contact your"
                                  " admin.",
                    reconfigure_failed="Unhandled exception",
                    change_service_state="Unable to upgrade virtual machine {vm}  in state {state}; make sure the"
                                         " virtual machine is stopped"))

V4_23 = Version("4.23", "4.23.0.0", fixed_offering_live_kvm=True, same_size_cap_change=True,
                cluster_capacity_settings=True, texts=dict(
                    COMMON,
                    cpu_range="Invalid CPU cores value, specify a value between {low} and {high}",
                    cpu_fixed="The CPU cores of this offering id:{uuid} is not customizable. This is predefined in the"
                              " Template.",
                    memory_fixed="The memory of this offering id:{uuid} is not customizable. This is predefined in the"
                                 " Template.",
                    speed_range="Invalid CPU speed value, specify a value between 1 and " + str(INT_MAX),
                    speed_fixed="The CPU speed of this offering id:{uuid} is not customizable. This is predefined as"
                                " {speed} MHz.",
                    stopped_inactive="Unable to upgrade Instance {vm} with an inactive service offering {offering}",
                    scale_down='Scaling down is not supported while the VM is running. The new service offering'
                               ' attributes {{"memory": {new_mem}, "CPU speed": {new_speed}, "vCPUs": {new_cpu}}} must'
                               ' not be lower than the current values {{"memory": {cur_mem}, "CPU speed": {cur_speed},'
                               ' "vCPUs": {cur_cpu}}}.',
                    same_size="While the VM is running, scaling to a service offering with the same attributes"
                              " (memory, CPU speed and vCPUs) is only allowed when the CPU cap is changed.",
                    zone_disabled="Dynamically scaling Instances is disabled for this zone, please contact your admin.",
                    reconfigure_failed="Unable to reconfigure VM.",
                    change_service_state="Unable to upgrade Instance {vm}  in state {state}; make sure the Instance is"
                                         " stopped"))

# ConfigKeys of 4.20 that 4.18 and 4.19 lack: UserVmManager.StrictHostTags and EnforceStrictResourceLimitHostTagCheck
# (PR #9017), ResourceLimitService.ResourceLimitHostTags (PR #8362), UserVmManager.AllowUserForceStopVm (PR #9569);
# QueryService.ReturnVmStatsOnVmList (PR #9177) came with 4.19.1.
SETTINGS_AFTER_4_19 = ("allow.user.force.stop.vm", "resource.limit.host.tags", "vm.strict.host.tags",
                       "vm.strict.resource.limit.host.tag.check")

# [4.20] and [4.21]: every rule and text above as in [4.22] (their UserVmManagerImpl upgrade methods differ only by the
# External hypervisor refusal, KVMGuru and VirtualMachineManagerImpl by log lines)
V4_20 = replace(V4_22, name="4.20", cloudstackversion="4.20.2.0")
V4_21 = replace(V4_22, name="4.21", cloudstackversion="4.21.0.0")
V4_19 = replace(V4_22, name="4.19", cloudstackversion="4.19.3.0", fills_absent_details=False, strict_host_tags=False,
                system_vm_details_merged=False, owner_limits_on_live_scale=False, tagged_limit_texts=False,
                absent_settings=SETTINGS_AFTER_4_22 + SETTINGS_AFTER_4_19,
                absent_capabilities=("allowuserforcestopvm", "dynamicscalingenabled"))
V4_18 = replace(V4_19, name="4.18", cloudstackversion="4.18.2.5",
                absent_settings=V4_19.absent_settings + ("list.vm.default.details.stats",),
                absent_capabilities=V4_19.absent_capabilities + ("customhypervisordisplayname",),
                offering_states=False)

VERSIONS = {version.name: version for version in (V4_18, V4_19, V4_20, V4_21, V4_22, V4_23)}
DEFAULT = V4_23.name


def version_named(name):
    """The Version of ``4.22`` / ``4.22.0.0`` (any text starting with a known major.minor); ValueError otherwise."""
    text = str(name or DEFAULT).strip()
    line = ".".join(text.split(".")[:2])
    if line not in VERSIONS:
        raise ValueError(f"unknown CloudStack version {text!r} (known: {', '.join(sorted(VERSIONS))})")
    return VERSIONS[line]

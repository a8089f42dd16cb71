# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the pure scaling planner.

Not a public API: it may change without notice. Stdlib only, no I/O: frozen dataclasses in, a
``Plan`` (for vm_scale) or a ``Readiness`` (for vm_scaling_info) out. The checks mirror the
CloudStack 4.23 management server's rules for scaleVirtualMachine in the same order, so a plan
predicts what CloudStack would do and every reason names the setting, flag or value to change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from typing import Optional, Tuple

# dataclasses through _compat (stdlib only): on a Python without them the module still loads, and its edge names the
# Python needed
from ansible_collections.livescale.cloudstack.plugins.module_utils._compat import dataclass, field
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions
from ansible_collections.livescale.cloudstack.plugins.module_utils import _hypervisors as hypervisors

NONE = "none"
LIVE = "live"
MIGRATE_THEN_LIVE = "migrate_then_live"
RESTART = "restart"
OFFLINE = "offline"
REFUSE = "refuse"
ACTIONS = (NONE, LIVE, MIGRATE_THEN_LIVE, RESTART, OFFLINE, REFUSE)

LIVE_HYPERVISORS = ("XenServer", "VMware", "Simulator", "KVM")
MIN_MEMORY = 32
MIB = 1024 * 1024
SETTING_MODULE = "livescale.cloudstack.setting"
STATE_MODULE = "livescale.cloudstack.vm_state"


@dataclass(frozen=True)
class Offering:
    """A compute offering; ``None`` for cpu, speed or memory means the user picks the value."""

    id: str
    name: str
    cpu: Optional[int] = None
    speed: Optional[int] = None
    memory: Optional[int] = None
    dynamic_scaling: bool = True
    limit_cpu_use: bool = False
    active: bool = True
    min_cpu: Optional[int] = None
    max_cpu: Optional[int] = None
    min_memory: Optional[int] = None
    max_memory: Optional[int] = None
    host_tags: Tuple[str, ...] = ()

    @property
    def custom(self):
        """CloudStack's ``isDynamic()``: at least one of cpu, speed, memory is left to the user."""
        return self.cpu is None or self.speed is None or self.memory is None

    @property
    def kind(self):
        """``fixed``, ``custom constrained`` or ``custom unconstrained``."""
        if not self.custom:
            return "fixed"
        if self.max_cpu is not None or self.max_memory is not None:
            return "custom constrained"
        return "custom unconstrained"


@dataclass(frozen=True)
class Vm:
    """The VM as listVirtualMachines shows it, plus what is known of its domain's head-room.

    ``prepared`` tells whether the running domain was started with head-room (dynamic scaling on
    at its last start); ``max_vcpus``, ``max_memory`` (MiB) and ``free_dimm_slots`` describe that
    head-room. ``None`` everywhere means unknown.
    """

    id: str
    name: str
    state: str
    cpu: int
    speed: int
    memory: int
    offering_id: str
    hypervisor: str = "KVM"
    zone: str = ""
    cluster: str = ""
    host_id: Optional[str] = None
    dynamically_scalable: bool = False
    prepared: Optional[bool] = None
    max_vcpus: Optional[int] = None
    max_memory: Optional[int] = None
    free_dimm_slots: Optional[int] = None
    os_name: str = ""  # osdisplayname: XenServer and VMware rules depend on the guest OS (see _hypervisors)
    cores_per_socket: Optional[int] = None  # the cpu.corespersocket detail (VMware)


@dataclass(frozen=True)
class Settings:
    """The settings that matter, each at the scope CloudStack reads it (zone or cluster of the VM).

    ``strict_host_tags`` is CloudStack's ``UserVmManager.getStrictHostTags()``: ``vm.strict.host.tags`` plus
    ``resource.limit.host.tags`` (when ``vm.strict.resource.limit.host.tag.check`` is true), all global.
    """

    dynamic_scale: bool = False
    auto_migrate: bool = True
    kvm_cpu_capacity: int = 0
    kvm_memory_capacity: int = 0
    cpu_cores_max: int = 0
    ram_size_max: int = 0
    cpu_threshold: float = 0.85
    memory_threshold: float = 0.85
    strict_host_tags: Tuple[str, ...] = ()
    xen_vcpu_max: int = 16  # xen.vm.vcpu.max of the cluster (XenServerGuru)


@dataclass(frozen=True)
class Host:
    """A host's compute room as listHosts shows it.

    ``free_cpu`` / ``free_memory`` (MHz, bytes) are the overcommitted totals minus the allocated values, which
    count used and reserved capacity; ``reserved_cpu`` / ``reserved_memory`` are the part held for VMs
    stopped within ``capacity.skipcounting.hours`` whose last host this is. ``total_memory`` is the raw
    memory in bytes (without ``mem.overprovisioning.factor``), the bound of a KVM domain's maximum.
    """

    id: str
    name: str
    cores: int
    speed: int
    free_cpu: int
    free_memory: int
    total_memory: int
    tags: Tuple[str, ...] = ()
    reserved_cpu: int = 0
    reserved_memory: int = 0


@dataclass(frozen=True)
class Cluster:
    """Allocated and total (with overcommit) MHz and bytes over the hosts of the VM's cluster."""

    used_cpu: int
    total_cpu: int
    used_memory: int
    total_memory: int


@dataclass(frozen=True)
class Limits:
    """What an owner may still allocate (vCPUs, MiB); ``None`` means unlimited or exempt.

    ``owner`` names it (``account acme``, ``project p1``, ``domain ROOT/customers``) and ``fix`` says how to raise
    the limit. ``domains`` are the limits of the owner's domain and its parents below ROOT, which CloudStack
    checks after the account's (``ResourceLimitManagerImpl.checkDomainResourceLimit``).
    """

    owner: str = ""
    cpu: Optional[int] = None
    memory: Optional[int] = None
    fix: str = "updateResourceLimit"
    domains: Tuple["Limits", ...] = ()


@dataclass(frozen=True)
class Situation:
    """Everything the planner reads about one VM and its surroundings."""

    vm: Vm
    current: Offering
    settings: Settings = field(default_factory=Settings)
    template: str = ""
    template_scalable: bool = False
    host: Optional[Host] = None
    other_hosts: Tuple[Host, ...] = ()
    limits: Limits = field(default_factory=Limits)
    cluster: Optional[Cluster] = None
    template_tag: str = ""
    system_vm_type: str = ""  # consoleproxy / secondarystoragevm for a system VM (scaleSystemVm), "" for a user VM
    version: versions.Version = field(default_factory=lambda: versions.UNREAD)  # the server's version and its rules
    # the limits a live scale counts against when they are not the owner's: before PR #8935 (4.20)
    # upgradeRunningVirtualMachine checks the caller's account (Rules.owner_limits_on_live_scale); None: ``limits``
    live_limits: Optional[Limits] = None


@dataclass(frozen=True)
class Target:
    """The requested offering and custom values (``None``: keep the current value)."""

    offering: Offering
    cpu: Optional[int] = None
    speed: Optional[int] = None
    memory: Optional[int] = None


@dataclass(frozen=True)
class Options:
    """What the user allows beyond a plain live scale."""

    allow_migration: bool = False
    allow_restart: bool = False


@dataclass(frozen=True)
class Plan:
    """The decision: an action, the values the VM ends with, and why (ordered, plain English)."""

    action: str
    offering: Offering
    cpu: int
    speed: int
    memory: int
    reasons: Tuple[str, ...] = ()
    migrate_host: Optional[Host] = None
    version: versions.Version = field(default_factory=lambda: versions.UNREAD)  # the version planned for

    def details(self):
        """The ``details`` map for scaleVirtualMachine: only the values the offering leaves open."""
        values = (("cpuNumber", self.offering.cpu, self.cpu), ("cpuSpeed", self.offering.speed, self.speed),
                  ("memory", self.offering.memory, self.memory))
        return dict((key, chosen) for key, fixed, chosen in values if fixed is None)


@dataclass(frozen=True)
class Readiness:
    """Can the VM live-scale now, up to which size, and what blocks it (each with its fix)."""

    live_scalable: bool
    max_cpu: Optional[int]
    max_memory: Optional[int]
    blockers: Tuple[str, ...]
    warnings: Tuple[str, ...] = ()  # the server version's known scaling defects and the note of an unknown version


def vcpus(count):
    """``1 vCPU`` / ``4 vCPUs``."""
    return "%d vCPU%s" % (count, "" if count == 1 else "s")


def size(cpu, speed, memory):
    """``2 vCPUs, 1000 MHz, 2048 MiB``."""
    return "%s, %d MHz, %d MiB" % (vcpus(cpu), speed, memory)


def _bound(offering_bound, setting):
    """The tighter of an offering bound and a ``0 = unlimited`` setting; None when unlimited."""
    bounds = [value for value in (offering_bound, setting or None) if value is not None]
    return min(bounds) if bounds else None


def custom_value_errors(situation, target):
    """CloudStack's validateCustomParameters, plus custom values given for a fixed offering.

    Values left out are the VM's current ones, filled in before the validation
    (``UserVmManagerImpl.updateInstanceDetailsMapWithCurrentValuesForAbsentDetails``), so they are checked too.
    """
    offering = target.offering
    settings = situation.settings
    errors = []
    given = [(name, value) for name, value in (("cpu_number", target.cpu), ("cpu_speed", target.speed),
                                               ("memory", target.memory)) if value is not None]
    for name, value in given:
        if value <= 0:
            errors.append("%s=%s is not a positive number: give a whole number above 0" % (name, value))
    if errors:
        return errors
    fixed = [(name, value) for (name, value), open_value in zip(
        (("cpu_number", target.cpu), ("cpu_speed", target.speed), ("memory", target.memory)),
        (offering.cpu, offering.speed, offering.memory)) if value is not None and open_value is not None]
    for name, value in fixed:
        errors.append("%s=%s cannot be set: service offering %s fixes it (%s); drop %s or pick a custom offering"
                      % (name, value, offering.name, size(*_offering_or(offering, situation.vm)), name))
    cpu, _speed, memory = target_values(situation, target)
    ranges = (("cpu_number", offering.cpu, target.cpu, vcpus(cpu), cpu, offering.min_cpu or 1, offering.max_cpu, "vCPUs",
               "vm.serviceoffering.cpu.cores.max", settings.cpu_cores_max),
              ("memory", offering.memory, target.memory, "%d MiB" % memory, memory, offering.min_memory or MIN_MEMORY,
               offering.max_memory, "MiB", "vm.serviceoffering.ram.size.max", settings.ram_size_max))
    for name, fixed_value, given, shown, value, low, offering_high, unit, setting, setting_value in ranges:
        high = _bound(offering_high, setting_value)
        if fixed_value is None and (value < low or (high is not None and value > high)):
            errors.append("%s is outside what service offering %s allows (%d to %s %s%s): %s"
                          % (_custom_value(name, given, shown), offering.name, low, high if high is not None else "unlimited",
                             unit, _setting_note(setting_value, setting), _custom_fix(name, given)))
    return errors


def _custom_value(name, given, current):
    """The value CloudStack validates: the one given, or the VM's current one, which the plan sends when left out
    (``Plan.details``; since 4.20 CloudStack would fill it in the same way, 4.18 and 4.19 would not)."""
    if given is not None:
        return "%s=%d%s" % (name, given, " MiB" if name == "memory" else "")
    return "%s is not given, so the VM keeps its current %s, which" % (name, current)


def _custom_fix(name, given):
    """How to bring a custom value into the offering's range."""
    return "pick a value in that range" if given is not None else "give %s in that range" % name


def _setting_note(value, name):
    """`` with <name>=<value>`` when a limiting setting is set."""
    return ", with %s=%d" % (name, value) if value else ""


def _offering_or(offering, vm):
    """An offering's cpu, speed and memory, the VM's current values where the offering leaves them open."""
    return (offering.cpu if offering.cpu is not None else vm.cpu,
            offering.speed if offering.speed is not None else vm.speed,
            offering.memory if offering.memory is not None else vm.memory)


def target_values(situation, target):
    """The cpu, speed and memory the VM ends with: fixed values, else requested, else current (CloudStack fills absent details)."""
    offering, vm = target.offering, situation.vm
    return (offering.cpu if offering.cpu is not None else (target.cpu if target.cpu is not None else vm.cpu),
            offering.speed if offering.speed is not None else (target.speed if target.speed is not None else vm.speed),
            offering.memory if offering.memory is not None else (target.memory if target.memory is not None else vm.memory))


def unchanged(vm, target):
    """The VM already has the fixed target offering and its size: ``plan`` answers none from the VM alone."""
    offering = target.offering
    return (not offering.custom and (target.cpu, target.speed, target.memory) == (None, None, None)
            and offering.id == vm.offering_id and (offering.cpu, offering.speed, offering.memory) == (vm.cpu, vm.speed, vm.memory))


def _required_tags(situation, offering):
    """The host tags a host needs for this offering and the VM's template (its template tag)."""
    return offering.host_tags + ((situation.template_tag,) if situation.template_tag else ())


def _missing_tags(situation, offering, host):
    """The tags of the offering and template that the host lacks (what the host allocators filter on)."""
    return [tag for tag in _required_tags(situation, offering) if tag not in host.tags]


def _missing_strict_tags(situation, offering, host):
    """``HostVO.checkHostServiceOfferingAndTemplateTags``: only the missing tags that are strict count."""
    return [tag for tag in _missing_tags(situation, offering, host) if tag in situation.settings.strict_host_tags]


def _host_tag_blockers(situation, offering):
    """A running VM stays on its host, which must carry the new offering's strict tags (upgradeVirtualMachine), or
    every host tag of the new offering before PR #9017 (``HostVO.checkHostServiceOfferingTags`` [4.19])."""
    host = situation.host
    if host is None:
        return []
    if not situation.version.rules.strict_host_tags:
        missing = [tag for tag in offering.host_tags if tag not in host.tags]
        return ["service offering %s needs host tags %s, of which %s are missing on host %s: %s scales a running VM"
                " only on a host with every host tag of the new offering (Failed to scale the VM): add the tags to the"
                " host (updateHost hosttags) or pick an offering whose host tags it has (from CloudStack 4.20 only the"
                " tags in vm.strict.host.tags count)" % (offering.name, ",".join(offering.host_tags), ",".join(missing),
                                                         host.name, situation.version.planned_for)] if missing else []
    missing = _missing_strict_tags(situation, offering, host)
    if not missing:
        return []
    return ["service offering %s needs host tags %s, of which %s are strict (vm.strict.host.tags or"
            " resource.limit.host.tags) and missing on host %s, so CloudStack does not scale the running VM"
            " (Failed to scale the VM): add the tags to the host (updateHost hosttags), pick an offering without them,"
            " or take them out of vm.strict.host.tags with %s"
            % (offering.name, ",".join(_required_tags(situation, offering)), ",".join(missing), host.name, SETTING_MODULE)]


def _threshold_blockers(situation, values):
    """CloudStack's cluster disable thresholds, with its quirk of adding the memory difference in MB to bytes."""
    vm, cluster, settings = situation.vm, situation.cluster, situation.settings
    if cluster is None:
        return []
    cpu, speed, memory = values
    checks = (("CPU", "cluster.cpu.allocated.capacity.disablethreshold", settings.cpu_threshold,
               cluster.used_cpu + cpu * speed - vm.cpu * vm.speed, cluster.total_cpu),
              ("memory", "cluster.memory.allocated.capacity.disablethreshold", settings.memory_threshold,
               cluster.used_memory + memory - vm.memory, cluster.total_memory))
    return ["cluster %s would be %.0f%% %s-allocated after the scale, above %s=%s: free capacity in the cluster or raise"
            " the threshold with %s" % (vm.cluster, 100.0 * used / total, kind, name, threshold, SETTING_MODULE)
            for kind, name, threshold, used, total in checks if total and used / total > threshold]


def _hypervisor_blockers(vm):
    """Live scaling exists only on some hypervisors."""
    if vm.hypervisor in LIVE_HYPERVISORS:
        return []
    return ["VM %s runs on %s: CloudStack live-scales only on %s"
            % (vm.name, vm.hypervisor, ", ".join(LIVE_HYPERVISORS))]


def _offering_blockers(situation, offering, values):
    """The running-VM rules that compare the target offering with the current one."""
    vm, current = situation.vm, situation.current
    cpu, speed, memory = values
    blockers = []
    if offering.dynamic_scaling != current.dynamic_scaling:
        blockers.append(
            "service offering %s has dynamicscalingenabled=%s but the current offering %s has %s: CloudStack live-scales only"
            " between offerings with the same flag; pick an offering with dynamicscalingenabled=%s"
            % (offering.name, _flag(offering.dynamic_scaling), current.name, _flag(current.dynamic_scaling),
               _flag(current.dynamic_scaling)))
    lower = [(name, new, old, unit) for name, new, old, unit in (
        ("vCPUs", cpu, vm.cpu, ""), ("CPU speed", speed, vm.speed, " MHz"), ("memory", memory, vm.memory, " MiB"))
        if new < old]
    if lower:
        names = ", ".join(name for name, _new, _old, _unit in lower)
        changes = "; ".join("%d%s to %d%s" % (old, unit, new, unit) for _name, new, old, unit in lower)
        blockers.append("%s would go down (%s) while VM %s runs: CloudStack cannot scale a running VM down" % (names, changes, vm.name))
    elif (cpu, speed, memory) == (vm.cpu, vm.speed, vm.memory) and not situation.version.rules.same_size_cap_change:
        blockers.append(
            "service offering %s has the same size as the current one (%s): %s never changes a running VM to a"
            " same-size offering (While the VM is running, only scalling up it is supported): pick a larger offering"
            % (offering.name, size(cpu, speed, memory), situation.version.planned_for))
    elif (cpu, speed, memory) == (vm.cpu, vm.speed, vm.memory) and (
            vm.hypervisor != "KVM" or offering.limit_cpu_use == current.limit_cpu_use):
        blockers.append(
            "service offering %s has the same size as the current one (%s) and the same limitcpuuse=%s: CloudStack"
            " changes a running VM to a same-size offering only when the CPU cap changes: pick a larger offering"
            % (offering.name, size(cpu, speed, memory), _flag(offering.limit_cpu_use)))
    return blockers + _fixed_offering_blockers(situation)


def _fixed_offering_blockers(situation):
    """Before PR #12975 (``UserVmManagerImpl.upgradeRunningVirtualMachine`` [4.22]) a running KVM VM on a fixed
    offering is refused: KVMGuru gave its domain no head-room."""
    vm, current, version = situation.vm, situation.current, situation.version
    if vm.hypervisor != "KVM" or current.custom or version.rules.fixed_offering_live_kvm:
        return []
    return ["%s does not live-scale a KVM VM whose current offering is fixed (VM %s has %s: Unable to live scale VM on"
            " KVM when current service offering is a \"Fixed Offering\"): move the VM to a custom offering with a stop"
            " and start (allow_restart: true with a custom service_offering; its domain then gets head-room at the start),"
            " or upgrade CloudStack to 4.23, which live-scales fixed offerings (%s)"
            % (version.planned_for, vm.name, current.name, versions.PR_FIXED_OFFERINGS)]


def _flag(value):
    """CloudStack's spelling of a boolean."""
    return "true" if value else "false"


def _environment_blockers(situation):
    """Zone setting, VM flag (with what enabling it needs) and whether the running domain has head-room."""
    vm, current, settings = situation.vm, situation.current, situation.settings
    blockers = []
    if not settings.dynamic_scale:
        blockers.append("enable.dynamic.scale.vm is false in zone %s: set it to true with %s" % (vm.zone, SETTING_MODULE))
    if not vm.dynamically_scalable and situation.system_vm_type:
        blockers.append(_system_vm_flag_blocker(situation))
    elif not vm.dynamically_scalable:
        blockers.append("VM %s has isdynamicallyscalable=false: set it to true with livescale.cloudstack.vm_scalable,"
                        " then stop and start the VM so its domain gets head-room" % vm.name)
        if not situation.template_scalable:
            blockers.append("template %s has isdynamicallyscalable=false, which keeps the VM flag off: set it to true"
                            " with livescale.cloudstack.template_scalable" % situation.template)
        if not current.dynamic_scaling:
            blockers.append("service offering %s has dynamicscalingenabled=false, which keeps the VM flag off and cannot be"
                            " changed: move the VM to an offering with dynamic scaling while it is stopped" % current.name)
    elif vm.prepared is False:
        blockers.append("VM %s was started before dynamic scaling was enabled, so its domain has no head-room: stop and"
                        " start it with %s" % (vm.name, STATE_MODULE))
    return blockers


def _system_vm_flag_blocker(situation):
    """A system VM takes isdynamicallyscalable from the system VM template when CloudStack creates it
    (``ConsoleProxyManagerImpl.createOrUpdateConsoleProxy``); no API sets it afterwards."""
    vm = situation.vm
    fix = ("set the template's isdynamicallyscalable to true with livescale.cloudstack.template_scalable, then destroy"
           " the system VM (destroySystemVm) so that CloudStack creates it again with the flag"
           if not situation.template_scalable else
           "the template %s is scalable now: destroy the system VM (destroySystemVm) so that CloudStack creates it again"
           " with the flag" % situation.template)
    return ("system VM %s has isdynamicallyscalable=false, which it took from the system VM template %s when it was"
            " created: %s" % (vm.name, situation.template, fix))


def live_maximum(situation):
    """The largest vCPUs and MiB a live scale can reach: domain head-room, KVM settings, host, offering bounds, limits.

    A KVM domain's maximum is ``kvm.*.dynamic.scaling.capacity`` of the cluster, else the host's cores and raw
    memory (``KVMGuru.configureVmMemoryAndCpuCores`` uses ``host.getTotalMemory()``, not the overcommitted total).
    """
    vm, settings, host, current = situation.vm, situation.settings, situation.host, situation.current
    if vm.prepared is False or not vm.dynamically_scalable or _fixed_offering_blockers(situation):
        return vm.cpu, vm.memory
    max_cpu, max_memory = vm.max_vcpus, vm.max_memory
    if vm.hypervisor == "KVM":
        if max_cpu is None:
            max_cpu = settings.kvm_cpu_capacity if settings.kvm_cpu_capacity > 0 else (host.cores if host else None)
        if max_memory is None:
            max_memory = settings.kvm_memory_capacity if settings.kvm_memory_capacity > 0 else (
                host.total_memory // MIB if host else None)
    if current.custom:
        max_cpu = _min_known(max_cpu, _bound(current.max_cpu, settings.cpu_cores_max) if current.cpu is None else None)
        max_memory = _min_known(max_memory, _bound(current.max_memory, settings.ram_size_max) if current.memory is None else None)
    if host is not None:
        max_cpu = _min_known(max_cpu, host.cores)
    limit_cpu, limit_memory = _limit_maximum(situation)
    max_cpu, max_memory = _min_known(max_cpu, limit_cpu), _min_known(max_memory, limit_memory)
    max_cpu, max_memory = hypervisors.ceiling(situation, max_cpu, max_memory)
    return (max(max_cpu, vm.cpu) if max_cpu is not None else None,
            max(max_memory, vm.memory) if max_memory is not None else None)


def _min_known(first, second):
    """The smaller of two optional bounds."""
    known = [value for value in (first, second) if value is not None]
    return min(known) if known else None


def _started_offering_blockers(situation, values):
    """Before PR #12975 a KVM domain's maximum is the custom offering's maxcpunumber/maxmemory, else
    vm.serviceoffering.cpu.cores.max / ram.size.max (``KVMGuru.getVmMaxCpuCores`` / ``getVmMaxMemory`` [4.22]); the
    planner takes the current offering for the one the VM was started with."""
    vm, settings, current, version = situation.vm, situation.settings, situation.current, situation.version
    if vm.hypervisor != "KVM" or not current.custom or version.rules.cluster_capacity_settings:
        return []
    bounds = (("vCPUs", values[0], current.max_cpu, "maxcpunumber", settings.cpu_cores_max, "vm.serviceoffering.cpu.cores.max"),
              ("MiB", values[2], current.max_memory, "maxmemory", settings.ram_size_max, "vm.serviceoffering.ram.size.max"))
    blockers = []
    for unit, value, offering_max, detail, setting_value, setting in bounds:
        domain_max, source = (offering_max, "%s of service offering %s" % (detail, current.name)) \
            if offering_max is not None else (setting_value or None, "%s=%s" % (setting, setting_value))
        if domain_max is not None and value > domain_max:
            blockers.append("%d %s is above the domain maximum of VM %s on %s (%d %s, the %s it was started with):"
                            " the agent cannot scale the domain (Unhandled exception, apache/cloudstack #9973): stop and"
                            " start the VM with the new size (allow_restart: true)"
                            % (value, unit, vm.name, version.planned_for, domain_max, unit, source))
    return blockers


def _headroom_blockers(situation, values):
    """A target beyond what the running domain (or a KVM domain in this cluster) can reach."""
    vm, settings = situation.vm, situation.settings
    if not vm.dynamically_scalable or vm.prepared is False:
        return []
    if not situation.version.rules.cluster_capacity_settings and vm.hypervisor == "KVM":
        return _started_offering_blockers(situation, values)
    cpu, _speed, memory = values
    blockers = []
    max_cpu = vm.max_vcpus
    cpu_source = "its domain's maximum"
    if max_cpu is None and vm.hypervisor == "KVM" and settings.kvm_cpu_capacity > 0:
        max_cpu, cpu_source = settings.kvm_cpu_capacity, "kvm.cpu.dynamic.scaling.capacity=%d in cluster %s" % (
            settings.kvm_cpu_capacity, vm.cluster)
    if max_cpu is not None and cpu > max_cpu:
        blockers.append("%s is above %s (%s) for VM %s: raise kvm.cpu.dynamic.scaling.capacity with %s and stop and start"
                        " the VM" % (vcpus(cpu), cpu_source, vcpus(max_cpu), vm.name, SETTING_MODULE))
    max_memory = vm.max_memory
    memory_source = "its domain's maximum"
    if max_memory is None and vm.hypervisor == "KVM" and settings.kvm_memory_capacity > 0:
        max_memory, memory_source = settings.kvm_memory_capacity, "kvm.memory.dynamic.scaling.capacity=%d in cluster %s" % (
            settings.kvm_memory_capacity, vm.cluster)
    if max_memory is not None and memory > max_memory:
        blockers.append("%d MiB is above %s (%d MiB) for VM %s: raise kvm.memory.dynamic.scaling.capacity with %s and stop"
                        " and start the VM" % (memory, memory_source, max_memory, vm.name, SETTING_MODULE))
    elif memory > vm.memory and vm.free_dimm_slots == 0:
        blockers.append("VM %s has no free memory slot left for another DIMM: stop and start it to fold the added memory"
                        " into its base size" % vm.name)
    return blockers


RESOURCE_TYPES = {"cpu": 8, "memory": 9}  # updateResourceLimit resourcetype (com.cloud.configuration.Resource.ResourceType)


def _owner_limits(limits):
    """The account's (or project's) limits, then those of its domains up to ROOT, in CloudStack's order of checks."""
    return (limits,) + limits.domains


def _live_limits(situation):
    """The limits a live scale counts against: the caller's before 4.20 when read, else the owner's."""
    return situation.live_limits if situation.live_limits is not None else situation.limits


def _limit_errors(situation, values, limits=None):
    """Account and domain limits (``checkVmResourceLimitsForServiceOfferingChange``, the owner's unless ``limits``):
    only increases count."""
    vm = situation.vm
    cpu, _speed, memory = values
    errors = []
    for owner in _owner_limits(limits or situation.limits):
        for kind, delta, available, unit in (("cpu", cpu - vm.cpu, owner.cpu, "vCPUs"),
                                             ("memory", memory - vm.memory, owner.memory, "MiB")):
            if available is not None and delta > available:
                errors.append("%s of VM %s has %d %s left under its %s limit but the scale needs %d more: raise the limit"
                              " (%s resourcetype=%d) or pick a smaller target"
                              % (owner.owner or "the owner", vm.name, available, unit, kind, delta, owner.fix,
                                 RESOURCE_TYPES[kind]))
    return errors


def _limit_maximum(situation):
    """The most vCPUs and MiB the limits of a live scale leave the VM (None: unlimited)."""
    vm = situation.vm
    max_cpu = max_memory = None
    for owner in _owner_limits(_live_limits(situation)):
        max_cpu = _min_known(max_cpu, vm.cpu + max(owner.cpu, 0) if owner.cpu is not None else None)
        max_memory = _min_known(max_memory, vm.memory + max(owner.memory, 0) if owner.memory is not None else None)
    return max_cpu, max_memory


def _start_errors(situation, offering, values):
    """``KVMGuru.getVmMaxCpuCores``: a dynamically scalable KVM VM starts with at most kvm.cpu.dynamic.scaling.capacity
    vCPUs (no raise to its own count); libvirt refuses a domain with more vCPUs than its maximum."""
    vm, settings = situation.vm, situation.settings
    cpu = values[0]
    scalable = (vm.dynamically_scalable and offering.dynamic_scaling and situation.template_scalable
                and settings.dynamic_scale)
    capacity = settings.kvm_cpu_capacity
    if vm.hypervisor != "KVM" or not scalable or capacity <= 0 or cpu <= capacity:
        return hypervisors.start_errors(situation, cpu, scalable)
    where = "in cluster %s" % vm.cluster if vm.cluster else "(global value)"
    return ["VM %s cannot start with %s: kvm.cpu.dynamic.scaling.capacity=%d %s makes its domain's maximum %s, below its"
            " vCPU count: raise the setting for the cluster to %d or more, or set it to 0 to use the host's cores, with %s"
            % (vm.name, vcpus(cpu), capacity, where, vcpus(capacity), cpu, SETTING_MODULE)]


def _offline_errors(situation, offering, values):
    """Checks of the stopped-VM path: inactive offering and the global maximums for fixed offerings."""
    settings = situation.settings
    cpu, _speed, memory = values
    errors = []
    if not offering.custom:
        if settings.cpu_cores_max and cpu > settings.cpu_cores_max:
            errors.append("service offering %s has %s, above vm.serviceoffering.cpu.cores.max=%d: pick a smaller offering"
                          " or raise the setting with %s" % (offering.name, vcpus(cpu), settings.cpu_cores_max, SETTING_MODULE))
        if settings.ram_size_max and memory > settings.ram_size_max:
            errors.append("service offering %s has %d MiB, above vm.serviceoffering.ram.size.max=%d: pick a smaller offering"
                          " or raise the setting with %s" % (offering.name, memory, settings.ram_size_max, SETTING_MODULE))
    return errors


def _has_room(host, cpu, speed, cpu_more, memory_more, reserved_usable):
    """``checkIfHostHasCpuCapability`` and ``checkIfHostHasCapacity``: cores and speed, and room for the added MHz and
    bytes; reserved capacity counts as free only on the VM's own host (``considerReservedCapacity=false``)."""
    free_cpu = host.free_cpu + (host.reserved_cpu if reserved_usable else 0)
    free_memory = host.free_memory + (host.reserved_memory if reserved_usable else 0)
    return host.cores >= cpu and host.speed >= speed and free_cpu >= cpu_more and free_memory >= memory_more


def _shortage(host, cpu_more, memory_more):
    """Why the VM's own host cannot take the scale."""
    reserved = ""
    if host.reserved_cpu or host.reserved_memory:
        reserved = (" (counting %d MHz and %d MiB reserved for stopped VMs, which a scale on the VM's own host may use)"
                    % (host.reserved_cpu, host.reserved_memory // MIB))
    return ("host %s has %d MHz and %d MiB free%s (%s at %d MHz) but the scale needs %d MHz and %d MiB more"
            % (host.name, host.free_cpu + host.reserved_cpu, (host.free_memory + host.reserved_memory) // MIB, reserved,
               vcpus(host.cores), host.speed, cpu_more, memory_more // MIB))


def _capacity(situation, offering, values, options):
    """Stay on the host, migrate first, or a blocker: ``(action, reasons, host)``.

    ``upgradeRunningVirtualMachine`` keeps the VM on its host when it has room and carries the strict tags of the
    VM's current offering (``checkEnforceStrictHostTagCheck``, from PR #9017 of 4.20; before, room alone); else a
    destination in the cluster must carry all the new offering's tags (``FirstFitAllocator.retrieveHosts``) and have
    room for the whole new size, reserved capacity included.
    """
    vm, settings, host = situation.vm, situation.settings, situation.host
    cpu, speed, memory = values
    cpu_more = max(0, cpu * speed - vm.cpu * vm.speed)
    memory_more = max(0, memory - vm.memory) * MIB
    if host is None:
        return LIVE, [], None
    strict = situation.version.rules.strict_host_tags
    untagged = _missing_strict_tags(situation, situation.current, host) if strict else []
    if not untagged and _has_room(host, cpu, speed, cpu_more, memory_more, True):
        return LIVE, [], None
    short = _shortage(host, cpu_more, memory_more) if not untagged else (
        "host %s lacks the strict host tags %s of the current offering %s, which CloudStack counts as no capacity"
        % (host.name, ",".join(untagged), situation.current.name))
    destination = next((other for other in situation.other_hosts
                        if _has_room(other, cpu, speed, cpu * speed, memory * MIB, False)
                        and not _missing_tags(situation, offering, other)), None)
    if destination is None:
        return REFUSE, ["%s, and no other host in cluster %s has room for %s%s: free capacity in the cluster"
                        % (short, vm.cluster, size(cpu, speed, memory),
                           " and the host tags %s" % ",".join(_required_tags(situation, offering))
                           if _required_tags(situation, offering) else "")], None
    if not options.allow_migration:
        return REFUSE, ["%s: set allow_migration: true to move VM %s to %s first" % (short, vm.name, destination.name)], None
    how = ("%s always migrates it itself" % situation.version.planned_for
           if not situation.version.rules.cluster_capacity_settings else
           "CloudStack migrates it itself (auto.migrate.vm.on.live.scale.insufficient.capacity is true in cluster %s)"
           % vm.cluster if settings.auto_migrate else
           "auto.migrate.vm.on.live.scale.insufficient.capacity is false in cluster %s, so it is migrated first" % vm.cluster)
    return MIGRATE_THEN_LIVE, ["%s: VM %s moves to %s (allow_migration is true); %s" % (short, vm.name, destination.name, how)], destination


def plan(situation, target, options=Options()):
    """Predict what CloudStack does with this scale request, and decide how to carry it out."""
    vm, offering = situation.vm, target.offering
    values = target_values(situation, target)

    def decide(action, reasons, host=None):
        note = [situation.version.note] if situation.version.note else []
        return Plan(action, offering, values[0], values[1], values[2], tuple(list(reasons) + note), host, situation.version)

    errors = custom_value_errors(situation, target)
    if errors:
        return decide(REFUSE, errors)
    if offering.id == vm.offering_id and values == (vm.cpu, vm.speed, vm.memory):
        return decide(NONE, ["VM %s already has service offering %s with %s" % (vm.name, offering.name, size(*values))])
    if not offering.active:
        return decide(REFUSE, ["service offering %s is inactive: activate it (updateServiceOffering state=Active)"
                               " or pick an active offering" % offering.name])
    if vm.state == "Stopped":
        errors = _offline_errors(situation, offering, values) + _limit_errors(situation, values)
        if errors:
            return decide(REFUSE, errors)
        return decide(OFFLINE, ["VM %s is Stopped: its offering is changed now and the new size applies at its next start"
                                % vm.name] + _start_errors(situation, offering, values))
    if vm.state != "Running":
        return decide(REFUSE, ["VM %s is %s: CloudStack scales only Running or Stopped VMs; wait until the current operation"
                               " ends, or start or stop it with %s" % (vm.name, vm.state, STATE_MODULE)])
    blockers = _host_tag_blockers(situation, offering) + _hypervisor_blockers(vm) + _offering_blockers(situation, offering, values)
    errors = _limit_errors(situation, values, _live_limits(situation))
    if errors and situation.live_limits is None:
        return decide(REFUSE, errors)
    blockers += errors + _environment_blockers(situation) + _headroom_blockers(situation, values)
    blockers += _threshold_blockers(situation, values)
    blockers += hypervisors.blockers(situation, values)
    if not blockers:
        action, reasons, host = _capacity(situation, offering, values, options)
        if action != REFUSE:
            reasons = reasons or ["VM %s can be live-scaled on its host: %s to %s"
                                  % (vm.name, size(vm.cpu, vm.speed, vm.memory), size(*values))]
            return decide(action, reasons + hypervisors.notes(situation, values), host)
        blockers = reasons
    if options.allow_restart:
        # a stopped VM's change counts against its owner's limits (upgradeStoppedVirtualMachine), on every line
        errors = _limit_errors(situation, values) if situation.live_limits is not None else []
        errors += _offline_errors(situation, offering, values) + _start_errors(situation, offering, values)
        if errors:
            return decide(REFUSE, blockers + errors)
        return decide(RESTART, blockers + ["allow_restart is true: VM %s will be stopped, changed and started again" % vm.name])
    return decide(REFUSE, blockers + ["or set allow_restart: true to stop VM %s, change it and start it again" % vm.name])


def readiness(situation):
    """Whether the VM can be live-scaled up now, up to which size, and what blocks it (for vm_scaling_info)."""
    vm = situation.vm
    blockers = []
    if vm.state != "Running":
        blockers.append("VM %s is %s: only a Running VM is live-scaled; start it with %s" % (vm.name, vm.state, STATE_MODULE))
    blockers += _hypervisor_blockers(vm) + _fixed_offering_blockers(situation) + _environment_blockers(situation)
    blockers += _start_errors(situation, situation.current, (vm.cpu, vm.speed, vm.memory))
    max_cpu, max_memory = live_maximum(situation)
    if not blockers and _limit_maximum(situation) == (vm.cpu, vm.memory):
        blockers.append("the limits of %s leave no vCPU and no MiB for VM %s to grow: raise them (updateResourceLimit"
                        " resourcetype=8 and 9)" % (", ".join(owner.owner or "the owner" for owner in _owner_limits(
                            _live_limits(situation)) if owner.cpu is not None or owner.memory is not None), vm.name))
    elif not blockers and max_cpu is not None and max_memory is not None and (max_cpu, max_memory) == (vm.cpu, vm.memory):
        blockers.append(hypervisors.no_headroom(situation) or
                        "VM %s already uses all the head-room its domain has (%s, %d MiB): raise kvm.cpu.dynamic.scaling.capacity"
                        " or kvm.memory.dynamic.scaling.capacity with %s, then stop and start it"
                        % (vm.name, vcpus(max_cpu), max_memory, SETTING_MODULE))
    version = situation.version
    warnings = version.defects(vm.hypervisor) + ([version.note] if version.note else [])
    warnings += hypervisors.notes(situation, (max_cpu or vm.cpu, vm.speed, max_memory or vm.memory)) if not blockers else []
    return Readiness(not blockers, max_cpu, max_memory, tuple(blockers), tuple(warnings))

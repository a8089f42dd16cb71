"""XenServer/XCP-ng and VMware hosts at the API level: no libvirt, a small in-simulator agent per host.

A host whose cluster has ``hypervisor: XenServer`` or ``VMware`` gets an ``ApiLevelAgent``. At start it records the
maxima the hypervisor gives the VM, as CloudStack's resource sets them, and at a scale it refuses beyond them with
the texts the CloudStack resource returns:

- XenServer (``CitrixResourceBase.createVmFromTemplate``, ``XenServerGuru.implement``): with Dynamic Memory Control
  (``isDmcEnabled``; seed host field ``dmc``, default true as on XCP-ng and licensed XenServer) and a dynamically
  scalable VM, memory-static-max is ``getStaticMax(minRam, maxRam, xenserver.dynamicMax of the guest OS)`` and
  VCPUs-max is ``min(xen.vm.vcpu.max of the cluster, host cores)``, or the VM's vCPUs for a Windows guest; otherwise
  both are the VM's own size. ``CitrixScaleVmCommandWrapper`` / ``CitrixResourceBase.scaleVM`` then refuse memory
  beyond static-max and XAPI refuses vCPUs beyond VCPUs-max (the memory range is set first and stays set).
- VMware (``VmwareResource.execute(StartCommand)`` / ``execute(ScaleVmCommand)``): CPU and memory hot-add are
  enabled at power-on for a dynamically scalable VM; vCenter then fixes the VM's ``hotPlugMemoryLimit``: 16 times the
  memory it powered on with, or 3072 MB for a Linux (or 32-bit Windows 7) guest that powered on with less than
  3 GB (VMware KB 2008405, the CLOUDSTACK-658 design note); a vCPU count must stay a multiple of the VM's
  ``cpu.corespersocket`` detail.

The records live in the agent (what the hypervisor holds), keyed by instance name; a live migration inside the
cluster carries them over unchanged, a stop drops them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from simulator.agent import AgentError, DomainView
from simulator.agent import agent_for_host as libvirt_agent_for_host

API_LEVEL = ("XenServer", "VMware")
HYPERVISORS = ("KVM",) + API_LEVEL
THREE_GB_MIB = 3072
VMWARE_HOTADD_FACTOR = 16
XEN_STATIC_MAX_FACTOR = 4
MIB = 1024 * 1024
XAPI_INVALID_VALUE = "com.xensource.xenapi.Types$InvalidValue"
CLOUD_RUNTIME = "com.cloud.utils.exception.CloudRuntimeException"
VMWARE_FAILED = "Unable to execute ScaleVmCommand due to: [%s]."


def hypervisor_of(host):
    """The hypervisor of a host record (its cluster's)."""
    return (host or {}).get("hypervisor") or "KVM"


def is_api_level(host):
    """A XenServer or VMware host: driven by an ApiLevelAgent, not libvirt."""
    return hypervisor_of(host) in API_LEVEL


def vm_hypervisor(store, vm):
    """vm_instance.hypervisor_type: the hypervisor of the VM's host, else of its last host, else KVM."""
    host = store.get("host", vm.get("host_id")) or store.get("host", vm.get("last_host_id"))
    return hypervisor_of(host)


def is_windows(os_name):
    """CitrixResourceBase: ``guestOsTypeName.toLowerCase().contains("windows")``."""
    return "windows" in (os_name or "").lower()


def has_three_gb_boundary(os_name):
    """The guests vSphere keeps at 3 GB when they power on below it: Linux, and 32-bit Windows 7 (design 001)."""
    name = (os_name or "").lower()
    return not is_windows(name) or ("windows 7" in name and "32-bit" in name)


@dataclass(frozen=True)
class StartedVm:
    """What the hypervisor holds of a running VM: its size now and the maxima fixed when it started."""

    name: str
    uuid: str
    vcpus: int
    max_vcpus: int
    memory_mib: int
    min_memory_mib: int
    static_min_mib: int
    memory_ceiling_mib: int | None  # XenServer memory-static-max, VMware hotPlugMemoryLimit (None: hot-add off)
    cores_per_socket: int = 1
    cpu_shares: int = 0


def xen_static_max(min_ram, max_ram, recommended):
    """``CitrixResourceBase.getStaticMax``: the guest OS's recommended maximum, at most 4 x dynamic-min, never below
    dynamic-max; without a recommendation, dynamic-max itself (MiB)."""
    if not recommended:
        return max_ram
    static_max = min(recommended, XEN_STATIC_MAX_FACTOR * min_ram)
    return max_ram if max_ram > static_max else static_max


def start_record(app, vm, host, cores, speed, memory, min_ram):
    """The StartedVm a XenServer or VMware host keeps for a VM started with this size (MiB, vCPUs)."""
    template = app.store.get("template", vm["template_id"]) or {}
    os_name = template.get("ostypename", "")
    scalable = bool(vm["isdynamicallyscalable"])  # HypervisorGuruBase: to.setEnableDynamicallyScaleVm(vm flag)
    common = {"name": vm["instancename"], "uuid": vm["uuid"], "vcpus": cores, "memory_mib": memory,
              "min_memory_mib": min_ram, "static_min_mib": min_ram, "cpu_shares": cores * speed}
    if hypervisor_of(host) == "XenServer":
        if not (host.get("dmc", True) and scalable):
            return StartedVm(max_vcpus=cores, memory_ceiling_mib=memory, **common)
        vcpu_limit = app.settings.integer("xen.vm.vcpu.max", "cluster", host["cluster_id"])
        max_vcpus = cores if is_windows(os_name) else min(vcpu_limit, host["cores"])
        ceiling = xen_static_max(min_ram, memory, int(template.get("xenserver_dynamic_max_mib") or 0))
        return StartedVm(max_vcpus=max_vcpus, memory_ceiling_mib=ceiling, **common)
    cores_per_socket = int((vm.get("details") or {}).get("cpu.corespersocket") or 1)
    if not scalable:  # VmwareResource: setCpuHotAddEnabled/setMemoryHotAddEnabled(... && isEnableDynamicallyScaleVm())
        return StartedVm(max_vcpus=cores, memory_ceiling_mib=None, cores_per_socket=cores_per_socket, **common)
    limit = THREE_GB_MIB if memory < THREE_GB_MIB and has_three_gb_boundary(os_name) else VMWARE_HOTADD_FACTOR * memory
    return StartedVm(max_vcpus=host["cores"], memory_ceiling_mib=limit, cores_per_socket=cores_per_socket, **common)


def recorded_limits(record):
    """The maxima of a start as kept in vm['domain'] (the simulator's database stands for the hypervisor's)."""
    return {"max_vcpus": record.max_vcpus, "max_memory_mib": record.memory_ceiling_mib,
            "static_min_mib": record.static_min_mib, "cores_per_socket": record.cores_per_socket}


def restored_record(vm, limits, cores, speed, memory, min_ram):
    """The StartedVm of a VM still running after a simulator restart: its size now, the maxima of its start."""
    return StartedVm(name=vm["instancename"], uuid=vm["uuid"], vcpus=cores, max_vcpus=limits["max_vcpus"],
                     memory_mib=memory, min_memory_mib=min_ram, static_min_mib=limits["static_min_mib"],
                     memory_ceiling_mib=limits["max_memory_mib"], cores_per_socket=limits["cores_per_socket"],
                     cpu_shares=cores * speed)


class ApiLevelAgent:
    """The agent of one XenServer or VMware host: the VMs it runs and their started maxima; thread-safe."""

    emulated = True  # no real CPU time to read: the metrics sample the seed's load profiles

    def __init__(self, host):
        self.hypervisor = hypervisor_of(host)
        self.host_name = host["name"]
        self.host_uuid = host.get("uuid") or host["name"]
        self.dmc = bool(host.get("dmc", True))
        self._vms: dict[str, StartedVm] = {}
        self._lock = threading.RLock()

    def start(self, record: StartedVm) -> DomainView:
        """Power the VM on; XAPI refuses VCPUs-at-startup above VCPUs-max (handleVmStartFailure's text)."""
        with self._lock:
            if self.hypervisor == "XenServer" and record.vcpus > record.max_vcpus:
                raise AgentError("Unable to start %s due to " % record.name,
                                 "VCPU values must satisfy: 0 < VCPUs_at_startup <= VCPUs_max")
            self._vms[record.name] = record
            return self.view(record.name)

    def stop(self, name: str) -> None:
        """Power the VM off: the hypervisor forgets its started maxima."""
        with self._lock:
            self._vms.pop(name, None)

    def record(self, name: str) -> StartedVm | None:
        """What the host keeps of a running VM (None when it does not run here)."""
        with self._lock:
            return self._vms.get(name)

    def view(self, name: str) -> DomainView | None:
        """The VM in the shape of the libvirt agent's DomainView (no DIMMs, no cgroup quota)."""
        with self._lock:
            vm = self._vms.get(name)
            if vm is None:
                return None
            return DomainView(vm.name, vm.uuid, True, vm.vcpus, vm.max_vcpus, vm.memory_mib, vm.memory_mib,
                              vm.memory_ceiling_mib, 0, (), vm.cpu_shares, None, None)

    def migrate(self, name: str, dest: ApiLevelAgent) -> DomainView:
        """A live migration (XenMotion, vMotion) moves the VM with its started maxima."""
        if dest is self:
            return self.view(name)
        first, second = sorted((self, dest), key=id)
        with first._lock, second._lock:
            vm = self._vms.pop(name, None)
            if vm is None:
                raise AgentError("VM %s does not run on host %s" % (name, self.host_name))
            dest._vms[name] = vm
            return dest.view(name)

    def scale(self, name: str, vcpus: int, memory_mib: int, min_memory_mib: int, cpu_shares: int) -> str:
        """The ScaleVmCommand of this hypervisor: the success answer, or AgentError with the resource's text."""
        with self._lock:
            vm = self._vms.get(name)
            if vm is None:
                raise AgentError("VM does not exist")
            if self.hypervisor == "XenServer":
                return self._scale_xen(vm, vcpus, memory_mib, min_memory_mib, cpu_shares)
            return self._scale_vmware(vm, vcpus, memory_mib, cpu_shares)

    def _scale_xen(self, vm, vcpus, memory_mib, min_memory_mib, cpu_shares):
        """CitrixScaleVmCommandWrapper.execute and CitrixResourceBase.scaleVM."""
        if not self.dmc:
            raise AgentError("Unable to upgrade %s due to Unable to scale the vm: %s as DMC - Dynamic memory control is"
                             " not enabled for the XenServer:%s ,check your license and hypervisor version."
                             % (vm.name, vm.name, self.host_uuid))
        if vm.static_min_mib > min_memory_mib or memory_mib > vm.memory_ceiling_mib:
            violation = ("Cannot scale up the vm because of memory constraint violation: 0 <= memory-static-min(%d) <="
                         " memory-dynamic-min(%d) <= memory-dynamic-max(%d) <= memory-static-max(%d)"
                         % (vm.static_min_mib * MIB, min_memory_mib * MIB, memory_mib * MIB,
                            vm.memory_ceiling_mib * MIB))
            raise AgentError(self._xen_caught(vm.name, CLOUD_RUNTIME, "%s: %s" % (CLOUD_RUNTIME, violation)))
        self._vms[vm.name] = vm = replace(vm, memory_mib=memory_mib, min_memory_mib=min_memory_mib)
        if vcpus > vm.max_vcpus:  # XAPI INVALID_VALUE; the memory range set just before stays set
            raise AgentError(self._xen_caught(vm.name, XAPI_INVALID_VALUE, "The value given is invalid"))
        self._vms[vm.name] = replace(vm, vcpus=vcpus, cpu_shares=max(vm.cpu_shares, cpu_shares))
        return "scaling VM %s is successful on host %s" % (vm.name, self.host_name)

    @staticmethod
    def _xen_caught(name, exception, text):
        """The wrapper's answer for an exception of scaleVM."""
        return "Catch exception %s when scaling VM:%s due to %s" % (exception, name, text)

    def _scale_vmware(self, vm, vcpus, memory_mib, cpu_shares):
        """VmwareResource.execute(ScaleVmCommand); vCenter refuses a reconfiguration it cannot hot-apply."""
        if vm.memory_ceiling_mib is not None and memory_mib > vm.memory_ceiling_mib:
            raise AgentError(VMWARE_FAILED % (
                "%s: Memory of VM %s cannot be scaled to %dMB. Requested memory limit is beyond the hotadd memory limit"
                " for this VM at the moment is %dMB." % (CLOUD_RUNTIME, vm.name, memory_mib, vm.memory_ceiling_mib)))
        cpu_refused = vcpus != vm.vcpus and (vcpus > vm.max_vcpus or vcpus % vm.cores_per_socket)
        memory_refused = memory_mib != vm.memory_mib and vm.memory_ceiling_mib is None
        if cpu_refused or memory_refused:  # reconfigVM_Task fails: configureVm returns false
            raise AgentError(VMWARE_FAILED % "java.lang.Exception: Unable to execute ScaleVmCommand")
        self._vms[vm.name] = replace(vm, vcpus=vcpus, memory_mib=memory_mib, cpu_shares=max(vm.cpu_shares, cpu_shares))
        return "Successfully scaled %s to %d vCPUs and %d MB" % (vm.name, vcpus, memory_mib)


def agent_for(host):
    """The agent of a host record: libvirt's for KVM (``simulator.agent``), an ApiLevelAgent for XenServer/VMware."""
    return agent_for_host(host) if is_api_level(host) else libvirt_agent_for_host(host)


_AGENTS: dict[str, ApiLevelAgent] = {}
_AGENTS_LOCK = threading.Lock()


def agent_for_host(host):
    """The shared ApiLevelAgent of a XenServer or VMware host record (one per host in this process)."""
    with _AGENTS_LOCK:
        key = "%s://%s" % (hypervisor_of(host), host.get("uuid") or host["name"])
        agent = _AGENTS.get(key)
        if agent is None:
            agent = _AGENTS[key] = ApiLevelAgent(host)
        agent.dmc = bool(host.get("dmc", True))
        return agent

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: what XenServer/XCP-ng and VMware add to a live scale (pure, stdlib only).

Not a public API: it may change without notice. The pure planner (``_planner``) asks it, with its ``Situation``,
for the ceilings, the certain refusals and the notes of a scale on these hypervisors. CloudStack [main] fixes the
maxima of a VM when it starts and the hypervisor refuses beyond them:

- XenServer (``CitrixResourceBase.createVmFromTemplate``, ``XenServerGuru.implement``): VCPUs-max is
  ``min(xen.vm.vcpu.max, host cores)``, or the VM's own vCPUs for a Windows guest; memory-static-max is the guest
  OS's recommended maximum (guest OS detail ``xenserver.dynamicMax``) capped at 4 times the start memory
  (``getStaticMax``), or the start memory itself without a recommendation; both only with Dynamic Memory Control on
  the host. ``CitrixResourceBase.scaleVM`` refuses memory beyond static-max, XAPI vCPUs beyond VCPUs-max.
- VMware (``VmwareResource.execute(ScaleVmCommand)``): memory beyond the VM's ``hotPlugMemoryLimit`` is refused;
  vCenter sets that limit at power-on to 16 times the memory then, or 3 GB for a Linux (or 32-bit Windows 7) guest
  that powered on below 3 GB (VMware KB 2008405, the CLOUDSTACK-658 design); vSphere keeps a vCPU count a multiple
  of the VM's ``cpu.corespersocket``.

What the API shows decides (the VM's ``hypervisor``, ``osdisplayname``, ``details``, the cluster's
``xen.vm.vcpu.max``, the host's cores). It does not show the memory a VM started with (a VM only grows while it
runs, so its memory now bounds it from above), the guest OS's recommended maximum, Dynamic Memory Control, nor the
guest's hot-add support: what depends on them is said as a note, not guessed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

XENSERVER = "XenServer"
VMWARE = "VMware"
XEN_STATIC_MAX_FACTOR = 4
VMWARE_HOTADD_FACTOR = 16
THREE_GB = 3072
RESTART_FIX = "stop and start it with the new size (allow_restart: true)"
SETTING_MODULE = "livescale.cloudstack.setting"


def is_windows(os_name):
    """CitrixResourceBase's test of a Windows guest: the OS name contains "windows"."""
    return "windows" in (os_name or "").lower()


def has_three_gb_boundary(os_name):
    """Guests that vSphere keeps at 3 GB when they power on below it: Linux, and 32-bit Windows 7 (False when the
    guest OS is unknown: the boundary is then not claimed)."""
    name = (os_name or "").lower()
    return bool(name) and (not is_windows(name) or ("windows 7" in name and "32-bit" in name))


def _applies(situation):
    """The rules apply to a running, dynamically scalable VM on XenServer or VMware."""
    vm = situation.vm
    return vm.hypervisor in (XENSERVER, VMWARE) and vm.dynamically_scalable and vm.prepared is not False


def _xen_vcpu_max(situation):
    """(VCPUs-max of the VM as CloudStack starts it, where it comes from)."""
    vm, host, limit = situation.vm, situation.host, situation.settings.xen_vcpu_max
    if is_windows(vm.os_name):
        return vm.cpu, "its vCPUs at start, as for every Windows guest"
    if host is not None and host.cores < limit:
        return host.cores, "the %d cores of host %s" % (host.cores, host.name)
    return limit, "xen.vm.vcpu.max=%d in cluster %s" % (limit, vm.cluster or "(global value)")


def _vmware_memory_limit(situation):
    """(the most memory vCenter's hot-add limit can allow now, why) for a VMware VM."""
    vm = situation.vm
    if has_three_gb_boundary(vm.os_name) and vm.memory < THREE_GB:
        return THREE_GB, ("it powered on with less than 3 GB (%d MiB or less) and its guest (%s) cannot then grow"
                          " beyond 3 GB" % (vm.memory, vm.os_name or "unknown OS"))
    return VMWARE_HOTADD_FACTOR * vm.memory, ("vCenter limits memory hot-add to 16 times the memory a VM powered on"
                                              " with, at most %d MiB now" % vm.memory)


def ceiling(situation, max_cpu, max_memory):
    """The planner's live maximum (vCPUs, MiB; None = unknown) narrowed by the hypervisor's start maxima."""
    if not _applies(situation):
        return max_cpu, max_memory
    vm = situation.vm
    if vm.hypervisor == XENSERVER:
        return _lower(max_cpu, _xen_vcpu_max(situation)[0]), _lower(max_memory, XEN_STATIC_MAX_FACTOR * vm.memory)
    max_memory = _lower(max_memory, _vmware_memory_limit(situation)[0])
    per_socket = vm.cores_per_socket or 1
    if max_cpu is not None and per_socket > 1:
        max_cpu = max(vm.cpu, max_cpu - max_cpu % per_socket)
    return max_cpu, max_memory


def _lower(bound, other):
    """The smaller of a known-or-None bound and a known one."""
    return other if bound is None else min(bound, other)


def blockers(situation, values):
    """The refusals the hypervisor certainly answers to this target, each with its fix."""
    if not _applies(situation):
        return []
    vm = situation.vm
    cpu, _speed, memory = values
    found = []
    if vm.hypervisor == XENSERVER:
        vcpu_max, source = _xen_vcpu_max(situation)
        if cpu > vcpu_max:
            found.append("%d vCPUs is above the VCPUs-max XenServer gave VM %s at its start (%d: %s), so XAPI refuses"
                         " the scale (Unable to reconfigure VM.): %s%s"
                         % (cpu, vm.name, vcpu_max, source, RESTART_FIX,
                            "" if is_windows(vm.os_name) else ", after raising xen.vm.vcpu.max with %s if needed"
                            % SETTING_MODULE))
        if memory > XEN_STATIC_MAX_FACTOR * vm.memory:
            found.append("%d MiB is above 4 times the memory VM %s has now (%d MiB), the most memory-static-max"
                         " CloudStack gives a XenServer VM at its start (CitrixResourceBase.getStaticMax), so the scale"
                         " is refused (memory constraint violation): %s"
                         % (memory, vm.name, XEN_STATIC_MAX_FACTOR * vm.memory, RESTART_FIX))
        return found
    limit, why = _vmware_memory_limit(situation)
    if memory > limit:
        found.append("%d MiB is above the hot-add memory limit of VM %s (%d MiB: %s), so VMware refuses the scale"
                     " (Requested memory limit is beyond the hotadd memory limit): %s"
                     % (memory, vm.name, limit, why, RESTART_FIX))
    per_socket = vm.cores_per_socket or 1
    if cpu != vm.cpu and cpu % per_socket:
        found.append("%d vCPUs is not a multiple of cpu.corespersocket=%d of VM %s, which vSphere requires, so the"
                     " scale is refused (Unable to execute ScaleVmCommand): pick %d or %d vCPUs"
                     % (cpu, per_socket, vm.name, cpu - cpu % per_socket, cpu - cpu % per_socket + per_socket))
    return found


def notes(situation, values):
    """What the API cannot show and the hypervisor decides for this target, said plainly (empty when nothing grows)."""
    if not _applies(situation):
        return []
    vm = situation.vm
    cpu, _speed, memory = values
    if vm.hypervisor == XENSERVER:
        found = []
        if memory > vm.memory:
            found.append("XenServer: VM %s can reach %d MiB live only if its memory-static-max allows it; CloudStack"
                         " set it at the VM's start from the guest OS's recommended maximum (guest OS detail"
                         " xenserver.dynamicMax, at most 4 times the start memory), or to the start memory itself when"
                         " the guest OS has none, and the API shows neither: if CloudStack answers memory constraint"
                         " violation, %s" % (vm.name, memory, RESTART_FIX))
        if cpu > vm.cpu or memory > vm.memory:
            found.append("XenServer: the VM started with head-room only if Dynamic Memory Control was enabled on its"
                         " host (licence, restrict_dmc), which the API does not show")
        return found
    found = []
    if memory > vm.memory:
        found.append("VMware: vCenter fixed the hot-add memory limit of VM %s when it powered on (16 times its memory"
                     " then; 3 GB for a Linux guest that powered on below 3 GB); if it was scaled live since, the limit"
                     " comes from that smaller size, which the API does not show: if CloudStack answers that the"
                     " requested memory is beyond the hotadd memory limit, %s" % (vm.name, RESTART_FIX))
    if cpu > vm.cpu or memory > vm.memory:
        found.append("VMware: CPU and memory hot-add are on only when the guest OS supports them (vSphere's guest OS"
                     " descriptor), which the API does not show")
    return found


def start_errors(situation, cpu, scalable):
    """``XenServerGuru.implement``: a scalable non-Windows VM starts with VCPUs-max = min(xen.vm.vcpu.max, host cores);
    XAPI refuses a VM with more vCPUs at startup than that."""
    vm, limit = situation.vm, situation.settings.xen_vcpu_max
    if vm.hypervisor != XENSERVER or not scalable or is_windows(vm.os_name) or cpu <= limit:
        return []
    return ["VM %s cannot start with %d vCPUs: xen.vm.vcpu.max=%d in cluster %s makes its VCPUs-max smaller, which XAPI"
            " refuses: raise xen.vm.vcpu.max for the cluster to %d or more with %s"
            % (vm.name, cpu, limit, vm.cluster or "(global value)", cpu, SETTING_MODULE)]


def no_headroom(situation):
    """The readiness blocker of a XenServer or VMware VM already at its ceiling; None on other hypervisors."""
    vm = situation.vm
    if vm.hypervisor not in (XENSERVER, VMWARE):
        return None
    return ("VM %s already has all the vCPUs and memory %s gave it at its start: %s"
            % (vm.name, vm.hypervisor, RESTART_FIX.replace("with the new size", "with a larger size")))

"""Unit tables of the XenServer and VMware rules (plugins/module_utils/_hypervisors.py) as the planner applies them.

Sources, CloudStack [main]: plugins/hypervisors/xenserver/.../CitrixResourceBase.java createVmFromTemplate (VCPUs-max,
memory-static-max), getStaticMax, scaleVM; .../XenServerGuru.java implement (xen.vm.vcpu.max);
plugins/hypervisors/vmware/.../VmwareResource.java execute(ScaleVmCommand) (hotadd memory limit); the vSphere limits
of the CLOUDSTACK-658 design (3 GB boundary, cores per socket) and VMware's 16 x power-on memory (apache/cloudstack
#9555).
"""

from dataclasses import replace

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _hypervisors as hypervisors
from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils._planner import (
    Host, Limits, Offering, Options, Settings, Situation, Target, Vm)

GIB = 1024 * 1024 * 1024
CUSTOM = Offering("off-custom", "Custom", speed=1000, min_cpu=1, max_cpu=32, min_memory=512, max_memory=262144)
HOST = Host("host-1", "hv-01", cores=16, speed=2400, free_cpu=38400, free_memory=256 * GIB, total_memory=256 * GIB)
LINUX, WINDOWS, WINDOWS_7_32 = "Debian GNU/Linux 12 (64-bit)", "Windows Server 2019 (64-bit)", "Windows 7 (32-bit)"


def situation(hypervisor, os_name=LINUX, cpu=2, memory=2048, cores_per_socket=None, xen_vcpu_max=16):
    """A running, scalable VM on a custom offering, on a host with plenty of room."""
    vm = Vm("vm-1", "app-01", "Running", cpu=cpu, speed=1000, memory=memory, offering_id=CUSTOM.id,
            hypervisor=hypervisor, zone="zone-a", cluster="cluster-1", host_id=HOST.id, dynamically_scalable=True,
            os_name=os_name, cores_per_socket=cores_per_socket)
    return Situation(vm, CUSTOM, Settings(dynamic_scale=True, xen_vcpu_max=xen_vcpu_max), "tpl", True, HOST, (),
                     Limits("account acme"))


def plan(given, cpu, memory, **options):
    """The plan of a scale to cpu/memory on the custom offering."""
    return planner.plan(given, Target(CUSTOM, cpu=cpu, memory=memory), Options(**options))


# (situation, target vCPUs, target MiB, action, a text the first refusal reason holds, noted: a hypervisor note)
PLANS = [
    # getStaticMax: static-max <= 4 x dynamic-min at start <= 4 x the memory now
    pytest.param(situation("XenServer"), 2, 8192, planner.LIVE, None, True, id="xen-memory-up-to-4x"),
    pytest.param(situation("XenServer"), 2, 8193, planner.REFUSE, "above 4 times the memory", False,
                 id="xen-memory-above-4x"),
    # createVmFromTemplate: VCPUs-max = min(xen.vm.vcpu.max, host cores) for a non-Windows guest
    pytest.param(situation("XenServer"), 16, 2048, planner.LIVE, None, True, id="xen-vcpus-up-to-host-cores"),
    pytest.param(situation("XenServer", xen_vcpu_max=4), 6, 2048, planner.REFUSE, "xen.vm.vcpu.max=4", False,
                 id="xen-vcpus-above-setting"),
    # ... and its own vCPUs for a Windows guest
    pytest.param(situation("XenServer", WINDOWS), 3, 2048, planner.REFUSE, "every Windows guest", False,
                 id="xen-windows-vcpus"),
    pytest.param(situation("XenServer", WINDOWS), 2, 4096, planner.LIVE, None, True, id="xen-windows-memory"),
    # VmwareResource: hotadd limit; vCenter: 3 GB for a Linux guest below 3 GB, else 16 x the power-on memory
    pytest.param(situation("VMware"), 2, 3072, planner.LIVE, None, True, id="vmware-linux-to-3gb"),
    pytest.param(situation("VMware"), 2, 3073, planner.REFUSE, "less than 3 GB", False, id="vmware-linux-past-3gb"),
    pytest.param(situation("VMware", WINDOWS_7_32), 2, 4096, planner.REFUSE, "less than 3 GB", False,
                 id="vmware-windows-7-32-past-3gb"),
    pytest.param(situation("VMware", WINDOWS), 2, 32768, planner.LIVE, None, True, id="vmware-windows-16x"),
    pytest.param(situation("VMware", WINDOWS), 2, 32769, planner.REFUSE, "16 times", False, id="vmware-above-16x"),
    pytest.param(situation("VMware", memory=4096), 2, 65536, planner.LIVE, None, True, id="vmware-linux-above-3gb-16x"),
    pytest.param(situation("VMware", os_name=""), 2, 4096, planner.LIVE, None, True, id="vmware-unknown-guest-no-3gb"),
    # vSphere: vCPUs a multiple of cpu.corespersocket
    pytest.param(situation("VMware", cores_per_socket=2), 3, 2048, planner.REFUSE, "pick 2 or 4 vCPUs", False,
                 id="vmware-cores-per-socket"),
    pytest.param(situation("VMware", cores_per_socket=2), 4, 2048, planner.LIVE, None, True, id="vmware-cpu-multiple"),
    # KVM: none of these rules
    pytest.param(situation("KVM"), 2, 65536, planner.LIVE, None, False, id="kvm-untouched"),
]


@pytest.mark.parametrize("given, cpu, memory, action, refusal, noted", PLANS)
def test_plan_table(given, cpu, memory, action, refusal, noted):
    result = plan(given, cpu, memory)
    assert result.action == action, result.reasons
    if refusal:
        assert refusal in result.reasons[0], result.reasons
    assert any(reason.startswith(given.vm.hypervisor + ":") for reason in result.reasons) == noted, result.reasons


def test_a_certain_refusal_plans_a_restart_when_allowed():
    """The start maxima change only with a new start: allow_restart turns the refusal into a restart."""
    result = plan(situation("VMware"), 2, 4096, allow_restart=True)
    assert result.action == planner.RESTART
    assert "stop and start it with the new size" in result.reasons[0]


def test_a_restart_beyond_xen_vcpu_max_cannot_start():
    """XenServerGuru.implement: XAPI refuses VCPUs-at-startup above VCPUs-max = xen.vm.vcpu.max."""
    result = plan(situation("XenServer", xen_vcpu_max=4), 6, 2048, allow_restart=True)
    assert result.action == planner.REFUSE
    assert "cannot start with 6 vCPUs: xen.vm.vcpu.max=4" in result.reasons[-1]


def test_a_vm_not_scalable_gets_only_the_flag_blocker():
    """Without the VM flag no maxima were set: the planner's flag rule speaks, not the hypervisor's."""
    given = situation("XenServer")
    given = replace(given, vm=replace(given.vm, dynamically_scalable=False))
    assert hypervisors.blockers(given, (4, 1000, 65536)) == []
    assert hypervisors.notes(given, (4, 1000, 65536)) == []


# readiness: (situation, max vCPUs, max MiB)
READINESS = [
    pytest.param(situation("XenServer"), 16, 8192, id="xen-host-cores-4x-memory"),
    pytest.param(situation("XenServer", xen_vcpu_max=8), 8, 8192, id="xen-setting"),
    pytest.param(situation("XenServer", WINDOWS), 2, 8192, id="xen-windows"),
    pytest.param(situation("VMware"), 16, 3072, id="vmware-3gb"),
    pytest.param(situation("VMware", WINDOWS), 16, 32768, id="vmware-16x"),
    pytest.param(situation("VMware", cpu=3, cores_per_socket=3), 15, 3072, id="vmware-sockets-multiple"),
]


@pytest.mark.parametrize("given, max_cpu, max_memory", READINESS)
def test_readiness_table(given, max_cpu, max_memory):
    ready = planner.readiness(given)
    assert (ready.live_scalable, ready.max_cpu, ready.max_memory) == (True, max_cpu, max_memory), ready.blockers
    assert any(warning.startswith(given.vm.hypervisor + ":") for warning in ready.warnings)


def test_readiness_at_the_ceiling_says_restart():
    """A Windows XenServer VM at 4 x its memory and its own vCPUs has nothing left to grow live."""
    given = situation("XenServer", WINDOWS)
    given = replace(given, current=replace(CUSTOM, max_memory=2048))
    ready = planner.readiness(given)
    assert not ready.live_scalable
    assert ready.blockers == ("VM app-01 already has all the vCPUs and memory XenServer gave it at its start: stop and"
                              " start it with a larger size (allow_restart: true)",)

"""Tables for the pure scaling planner: each row asserts the action and every reason, in order."""

import itertools
from dataclasses import replace

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions
from ansible_collections.livescale.cloudstack.plugins.module_utils._planner import (
    Cluster, Host, Limits, Offering, Options, Settings, Situation, Target, Vm)

GIB = 1024 ** 3
SMALL = Offering("off-small", "Small", cpu=1, speed=1000, memory=512)
MEDIUM = Offering("off-medium", "Medium", cpu=2, speed=1000, memory=1024)
LARGE = Offering("off-large", "Large", cpu=4, speed=1000, memory=4096)
SMALL_CAPPED = replace(SMALL, id="off-small-cap", name="Small Capped", limit_cpu_use=True)
NOSCALE = Offering("off-noscale", "Small NoScale", cpu=1, speed=1000, memory=512, dynamic_scaling=False)
CUSTOM = Offering("off-custom", "Custom", speed=1000, min_cpu=1, max_cpu=4, min_memory=256, max_memory=4096)
UNCONSTRAINED = Offering("off-free", "Custom Unconstrained")
HOST_1 = Host("host-1", "kvm-a1-01", cores=8, speed=2000, free_cpu=12000, free_memory=16 * GIB, total_memory=32 * GIB)
HOST_2 = Host("host-2", "kvm-a1-02", cores=8, speed=2000, free_cpu=12000, free_memory=16 * GIB, total_memory=32 * GIB)
FULL_HOST_1 = replace(HOST_1, free_cpu=500, free_memory=256 * 1024 * 1024)
READY_VM = Vm("vm-1", "web-01", "Running", cpu=1, speed=1000, memory=512, offering_id="off-small", zone="zone-a",
              cluster="cluster-a1", host_id="host-1", dynamically_scalable=True, prepared=True)
READY = Situation(READY_VM, SMALL, Settings(dynamic_scale=True), "debian-12-generic", True, HOST_1, (HOST_2,),
                  Limits("account acme"))

SETTING_OFF = "enable.dynamic.scale.vm is false in zone zone-a: set it to true with livescale.cloudstack.setting"
VM_FLAG_OFF = ("VM web-01 has isdynamicallyscalable=false: set it to true with livescale.cloudstack.vm_scalable,"
               " then stop and start the VM so its domain gets head-room")
TEMPLATE_OFF = ("template debian-12-generic has isdynamicallyscalable=false, which keeps the VM flag off: set it to true"
                " with livescale.cloudstack.template_scalable")
NOT_PREPARED = ("VM web-01 was started before dynamic scaling was enabled, so its domain has no head-room: stop and"
                " start it with livescale.cloudstack.vm_state")
RESTART_HINT = "or set allow_restart: true to stop VM web-01, change it and start it again"
RESTARTING = "allow_restart is true: VM web-01 will be stopped, changed and started again"
LIVE_1_TO_2 = "VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 2 vCPUs, 1000 MHz, 1024 MiB"
OFFLINE = "VM web-01 is Stopped: its offering is changed now and the new size applies at its next start"
FULL = "host kvm-a1-01 has 500 MHz and 256 MiB free (8 vCPUs at 2000 MHz) but the scale needs 1000 MHz and 512 MiB more"
AUTO = "CloudStack migrates it itself (auto.migrate.vm.on.live.scale.insufficient.capacity is true in cluster cluster-a1)"
EXPLICIT = "auto.migrate.vm.on.live.scale.insufficient.capacity is false in cluster cluster-a1, so it is migrated first"


def offering_noscale(offering):
    """The offering's twin with dynamicscalingenabled=false."""
    return replace(offering, dynamic_scaling=False)


def situation(vm=None, **changes):
    """The ready situation with some fields of the VM and the situation replaced."""
    return replace(READY, vm=replace(READY_VM, **(vm or {})), **changes)


CASES = [
    pytest.param(situation(), Target(MEDIUM), Options(), planner.LIVE, (LIVE_1_TO_2,), id="ready-fixed-up"),
    pytest.param(situation(), Target(SMALL), Options(), planner.NONE,
                 ("VM web-01 already has service offering Small with 1 vCPU, 1000 MHz, 512 MiB",), id="already-there"),
    pytest.param(situation(vm={"offering_id": "off-custom"}, current=CUSTOM), Target(CUSTOM, cpu=1, memory=512), Options(),
                 planner.NONE, ("VM web-01 already has service offering Custom with 1 vCPU, 1000 MHz, 512 MiB",),
                 id="custom-same-values"),
    pytest.param(situation(vm={"offering_id": "off-custom"}, current=CUSTOM), Target(CUSTOM, cpu=3), Options(),
                 planner.LIVE,
                 ("VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 3 vCPUs, 1000 MHz, 512 MiB",),
                 id="custom-cpu-only-keeps-memory"),
    pytest.param(situation(), Target(MEDIUM, cpu=2), Options(), planner.REFUSE,
                 ("cpu_number=2 cannot be set: service offering Medium fixes it (2 vCPUs, 1000 MHz, 1024 MiB); drop cpu_number"
                  " or pick a custom offering",), id="custom-value-on-fixed-offering"),
    pytest.param(situation(), Target(CUSTOM, cpu=8), Options(), planner.REFUSE,
                 ("cpu_number=8 is outside what service offering Custom allows (1 to 4 vCPUs): pick a value in that range",),
                 id="custom-cpu-above-offering-max"),
    pytest.param(situation(settings=Settings(dynamic_scale=True, cpu_cores_max=2)), Target(CUSTOM, cpu=3), Options(),
                 planner.REFUSE,
                 ("cpu_number=3 is outside what service offering Custom allows (1 to 2 vCPUs, with"
                  " vm.serviceoffering.cpu.cores.max=2): pick a value in that range",), id="custom-cpu-above-global-max"),
    pytest.param(situation(), Target(CUSTOM, memory=128), Options(), planner.REFUSE,
                 ("memory=128 MiB is outside what service offering Custom allows (256 to 4096 MiB): pick a value in that range",),
                 id="custom-memory-below-offering-min"),
    pytest.param(situation(), Target(UNCONSTRAINED, cpu=64, speed=500, memory=0), Options(), planner.REFUSE,
                 ("memory=0 is not a positive number: give a whole number above 0",), id="memory-not-positive"),
    pytest.param(situation(), Target(replace(MEDIUM, active=False)), Options(), planner.REFUSE,
                 ("service offering Medium is inactive: activate it (updateServiceOffering state=Active) or pick an active"
                  " offering",), id="inactive-offering"),
    pytest.param(situation(), Target(NOSCALE), Options(), planner.REFUSE,
                 ("service offering Small NoScale has dynamicscalingenabled=false but the current offering Small has true:"
                  " CloudStack live-scales only between offerings with the same flag; pick an offering with"
                  " dynamicscalingenabled=true",
                  "service offering Small NoScale has the same size as the current one (1 vCPU, 1000 MHz, 512 MiB) and the"
                  " same limitcpuuse=false: CloudStack changes a running VM to a same-size offering only when the CPU cap"
                  " changes: pick a larger offering", RESTART_HINT), id="flag-mismatch-and-same-size"),
    pytest.param(situation(), Target(SMALL_CAPPED), Options(), planner.LIVE,
                 ("VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 1 vCPU, 1000 MHz, 512 MiB",),
                 id="same-size-cap-change-on-kvm"),
    pytest.param(situation(vm={"hypervisor": "XenServer"}), Target(SMALL_CAPPED), Options(), planner.REFUSE,
                 ("service offering Small Capped has the same size as the current one (1 vCPU, 1000 MHz, 512 MiB) and the"
                  " same limitcpuuse=true: CloudStack changes a running VM to a same-size offering only when the CPU cap"
                  " changes: pick a larger offering", RESTART_HINT), id="same-size-cap-change-not-kvm"),
    pytest.param(situation(vm={"hypervisor": "Hyperv"}), Target(MEDIUM), Options(), planner.REFUSE,
                 ("VM web-01 runs on Hyperv: CloudStack live-scales only on XenServer, VMware, Simulator, KVM",
                  RESTART_HINT), id="hypervisor"),
    pytest.param(situation(vm={"cpu": 4, "memory": 4096, "offering_id": "off-large"}, current=LARGE), Target(MEDIUM),
                 Options(), planner.REFUSE,
                 ("vCPUs, memory would go down (4 to 2; 4096 MiB to 1024 MiB) while VM web-01 runs: CloudStack cannot"
                  " scale a running VM down", RESTART_HINT), id="scale-down-refused"),
    pytest.param(situation(vm={"cpu": 4, "memory": 4096, "offering_id": "off-large"}, current=LARGE), Target(MEDIUM),
                 Options(allow_restart=True), planner.RESTART,
                 ("vCPUs, memory would go down (4 to 2; 4096 MiB to 1024 MiB) while VM web-01 runs: CloudStack cannot"
                  " scale a running VM down", RESTARTING), id="scale-down-restart"),
    pytest.param(situation(limits=Limits("account acme", cpu=0, memory=4096)), Target(MEDIUM), Options(allow_restart=True),
                 planner.REFUSE,
                 ("account acme of VM web-01 has 0 vCPUs left under its cpu limit but the scale needs 1 more: raise the limit"
                  " (updateResourceLimit resourcetype=8) or pick a smaller target",), id="account-cpu-limit"),
    pytest.param(situation(vm={"prepared": False}), Target(MEDIUM), Options(), planner.REFUSE,
                 (NOT_PREPARED, RESTART_HINT), id="not-prepared"),
    pytest.param(situation(vm={"prepared": False}), Target(MEDIUM), Options(allow_restart=True), planner.RESTART,
                 (NOT_PREPARED, RESTARTING), id="not-prepared-restart"),
    pytest.param(situation(vm={"max_vcpus": 2, "max_memory": 2048}), Target(LARGE), Options(), planner.REFUSE,
                 ("4 vCPUs is above its domain's maximum (2 vCPUs) for VM web-01: raise kvm.cpu.dynamic.scaling.capacity"
                  " with livescale.cloudstack.setting and stop and start the VM",
                  "4096 MiB is above its domain's maximum (2048 MiB) for VM web-01: raise"
                  " kvm.memory.dynamic.scaling.capacity with livescale.cloudstack.setting and stop and start the VM",
                  RESTART_HINT), id="above-domain-headroom"),
    pytest.param(situation(settings=Settings(dynamic_scale=True, kvm_cpu_capacity=2)), Target(LARGE), Options(),
                 planner.REFUSE,
                 ("4 vCPUs is above kvm.cpu.dynamic.scaling.capacity=2 in cluster cluster-a1 (2 vCPUs) for VM web-01:"
                  " raise kvm.cpu.dynamic.scaling.capacity with livescale.cloudstack.setting and stop and start the VM",
                  RESTART_HINT), id="above-kvm-cpu-setting"),
    pytest.param(situation(vm={"free_dimm_slots": 0}), Target(MEDIUM), Options(), planner.REFUSE,
                 ("VM web-01 has no free memory slot left for another DIMM: stop and start it to fold the added memory into"
                  " its base size", RESTART_HINT), id="no-dimm-slot"),
    pytest.param(situation(host=FULL_HOST_1), Target(MEDIUM), Options(), planner.REFUSE,
                 (FULL + ": set allow_migration: true to move VM web-01 to kvm-a1-02 first", RESTART_HINT),
                 id="capacity-migration-not-allowed"),
    pytest.param(situation(host=FULL_HOST_1, other_hosts=()), Target(MEDIUM), Options(allow_migration=True),
                 planner.REFUSE,
                 (FULL + ", and no other host in cluster cluster-a1 has room for 2 vCPUs, 1000 MHz, 1024 MiB: free capacity"
                  " in the cluster", RESTART_HINT), id="capacity-no-other-host"),
    pytest.param(situation(cluster=Cluster(used_cpu=27000, total_cpu=32000, used_memory=GIB, total_memory=64 * GIB)),
                 Target(MEDIUM), Options(), planner.REFUSE,
                 ("cluster cluster-a1 would be 88% CPU-allocated after the scale, above"
                  " cluster.cpu.allocated.capacity.disablethreshold=0.85: free capacity in the cluster or raise the"
                  " threshold with livescale.cloudstack.setting", RESTART_HINT), id="cluster-cpu-threshold"),
    pytest.param(situation(cluster=Cluster(used_cpu=1000, total_cpu=32000, used_memory=GIB, total_memory=64 * GIB)),
                 Target(MEDIUM), Options(), planner.LIVE, (LIVE_1_TO_2,), id="cluster-below-threshold"),
    pytest.param(situation(host=FULL_HOST_1, other_hosts=(replace(HOST_2, free_memory=GIB // 4),)), Target(MEDIUM),
                 Options(allow_migration=True), planner.REFUSE,
                 (FULL + ", and no other host in cluster cluster-a1 has room for 2 vCPUs, 1000 MHz, 1024 MiB: free capacity"
                  " in the cluster", RESTART_HINT), id="capacity-other-host-too-small"),
    pytest.param(situation(vm={"state": "Migrating"}), Target(MEDIUM), Options(allow_restart=True), planner.REFUSE,
                 ("VM web-01 is Migrating: CloudStack scales only Running or Stopped VMs; wait until the current operation"
                  " ends, or start or stop it with livescale.cloudstack.vm_state",), id="transitional-state"),
    pytest.param(situation(vm={"state": "Stopped"}, settings=Settings(cpu_cores_max=2)), Target(LARGE), Options(),
                 planner.REFUSE,
                 ("service offering Large has 4 vCPUs, above vm.serviceoffering.cpu.cores.max=2: pick a smaller offering or"
                  " raise the setting with livescale.cloudstack.setting",), id="stopped-fixed-above-global-max"),
    pytest.param(situation(vm={"prepared": False}, settings=Settings(dynamic_scale=True, ram_size_max=2048)),
                 Target(LARGE), Options(allow_restart=True), planner.REFUSE,
                 (NOT_PREPARED, "service offering Large has 4096 MiB, above vm.serviceoffering.ram.size.max=2048: pick a"
                  " smaller offering or raise the setting with livescale.cloudstack.setting"), id="restart-above-global-max"),
]


@pytest.mark.parametrize("given, target, options, action, reasons", CASES)
def test_plan_table(given, target, options, action, reasons):
    result = planner.plan(given, target, options)
    assert (result.action, result.reasons) == (action, reasons)


# The full matrix of the issue: every combination, with the expected outcome built rule by rule.
FACTORS = ("setting", "custom", "dynamic", "template", "vm_flag", "running", "up", "capacity", "auto_migrate")


def matrix_case(setting, custom, dynamic, template, vm_flag, running, up, capacity, auto_migrate):
    """Build the situation and target of one matrix row."""
    small, big = (CUSTOM, CUSTOM) if custom else (SMALL, MEDIUM)
    small, big = (small, big) if dynamic else (offering_noscale(small), offering_noscale(big))
    before, after = ((small, 1, 512), (big, 2, 1024)) if up else ((big, 2, 1024), (small, 1, 512))
    vm = replace(READY_VM, state="Running" if running else "Stopped", cpu=before[1], memory=before[2],
                 offering_id=before[0].id, dynamically_scalable=vm_flag)
    given = replace(READY, vm=vm, current=before[0], settings=Settings(dynamic_scale=setting, auto_migrate=auto_migrate),
                    template_scalable=template, host=HOST_1 if capacity else FULL_HOST_1)
    target = Target(after[0], cpu=after[1], memory=after[2]) if custom else Target(after[0])
    return given, target


def expected_outcome(setting, custom, dynamic, template, vm_flag, running, up, capacity, auto_migrate):
    """The rules of the management server, restated row by row, with the sentences they produce."""
    if not running:
        return planner.OFFLINE, (OFFLINE,)
    blockers = []
    if not up:
        blockers.append("vCPUs, memory would go down (2 to 1; 1024 MiB to 512 MiB) while VM web-01 runs: CloudStack"
                        " cannot scale a running VM down")
    if not setting:
        blockers.append(SETTING_OFF)
    if not vm_flag:
        blockers.append(VM_FLAG_OFF)
        if not template:
            blockers.append(TEMPLATE_OFF)
        if not dynamic:
            blockers.append("service offering %s has dynamicscalingenabled=false, which keeps the VM flag off and cannot"
                            " be changed: move the VM to an offering with dynamic scaling while it is stopped"
                            % ("Custom" if custom else "Small" if up else "Medium"))
    if blockers:
        return planner.REFUSE, tuple(blockers + [RESTART_HINT])
    if capacity:
        return planner.LIVE, (LIVE_1_TO_2,)
    return planner.MIGRATE_THEN_LIVE, (
        "%s: VM web-01 moves to kvm-a1-02 (allow_migration is true); %s" % (FULL, AUTO if auto_migrate else EXPLICIT),)


@pytest.mark.parametrize("row", list(itertools.product((True, False), repeat=len(FACTORS))),
                         ids=lambda row: "-".join(name if on else "no_" + name for name, on in zip(FACTORS, row)))
def test_plan_matrix(row):
    given, target = matrix_case(*row)
    result = planner.plan(given, target, Options(allow_migration=True))
    assert (result.action, result.reasons) == expected_outcome(*row)


def test_migration_plan_names_the_destination():
    result = planner.plan(situation(host=FULL_HOST_1), Target(MEDIUM), Options(allow_migration=True))
    assert result.migrate_host == HOST_2


def test_details_hold_only_the_values_the_offering_leaves_open():
    result = planner.plan(situation(), Target(CUSTOM, cpu=2, memory=1024))
    assert result.details() == {"cpuNumber": 2, "memory": 1024}
    assert planner.plan(situation(), Target(MEDIUM)).details() == {}


def test_unconstrained_custom_offering_sends_speed_too():
    result = planner.plan(situation(), Target(UNCONSTRAINED, cpu=2, speed=1500, memory=1024))
    assert (result.action, result.details()) == (planner.LIVE, {"cpuNumber": 2, "cpuSpeed": 1500, "memory": 1024})


@pytest.mark.parametrize("offering, kind", [(SMALL, "fixed"), (CUSTOM, "custom constrained"),
                                            (UNCONSTRAINED, "custom unconstrained")])
def test_offering_kind(offering, kind):
    assert offering.kind == kind


READINESS_CASES = [
    pytest.param(situation(), True, 8, 32768, (), id="ready-host-bounds"),
    pytest.param(situation(settings=Settings(dynamic_scale=True, kvm_cpu_capacity=4, kvm_memory_capacity=8192)),
                 True, 4, 8192, (), id="ready-kvm-settings"),
    pytest.param(situation(vm={"offering_id": "off-custom"}, current=CUSTOM), True, 4, 4096, (), id="ready-custom-bounds"),
    pytest.param(situation(vm={"max_vcpus": 2, "max_memory": 1024}), True, 2, 1024, (), id="ready-domain-headroom"),
    pytest.param(situation(vm={"max_vcpus": 1, "max_memory": 512}), False, 1, 512,
                 ("VM web-01 already uses all the head-room its domain has (1 vCPU, 512 MiB): raise"
                  " kvm.cpu.dynamic.scaling.capacity or kvm.memory.dynamic.scaling.capacity with"
                  " livescale.cloudstack.setting, then stop and start it",), id="headroom-used-up"),
    pytest.param(situation(vm={"state": "Stopped", "dynamically_scalable": False}, settings=Settings(),
                           template_scalable=False, current=NOSCALE), False, 1, 512,
                 ("VM web-01 is Stopped: only a Running VM is live-scaled; start it with livescale.cloudstack.vm_state",
                  SETTING_OFF, VM_FLAG_OFF, TEMPLATE_OFF,
                  "service offering Small NoScale has dynamicscalingenabled=false, which keeps the VM flag off and cannot be"
                  " changed: move the VM to an offering with dynamic scaling while it is stopped"), id="nothing-ready"),
    pytest.param(situation(vm={"prepared": False}), False, 1, 512, (NOT_PREPARED,), id="not-prepared"),
    pytest.param(situation(vm={"hypervisor": "Simulator"}, host=None), True, None, None, (), id="not-kvm-unknown-max"),
]


@pytest.mark.parametrize("given, scalable, max_cpu, max_memory, blockers", READINESS_CASES)
def test_readiness_table(given, scalable, max_cpu, max_memory, blockers):
    assert planner.readiness(given) == planner.Readiness(scalable, max_cpu, max_memory, blockers)


# Rule 1. engine/schema/.../HostVO.java checkHostServiceOfferingAndTemplateTags keeps only the tags in
# UserVmManager.getStrictHostTags(); server/.../UserVmManagerImpl.java upgradeVirtualMachine returns false (530) for a
# running VM whose host lacks them; upgradeRunningVirtualMachine's capacity step adds checkEnforceStrictHostTagCheck
# with the VM's current offering; a migration destination comes from FirstFitAllocator.retrieveHosts, which keeps
# only hosts carrying every tag of the new offering and the template tag (BaseAllocator
# retainHostsMatchingServiceOfferingAndTemplateTags).
TAGGED = replace(MEDIUM, id="off-medium-ssd", name="Medium SSD", host_tags=("ssd",))
STRICT_SSD = Settings(dynamic_scale=True, strict_host_tags=("ssd",))
SSD_HOST_2 = replace(HOST_2, tags=("ssd",))
STRICT_REFUSED = ("service offering Medium SSD needs host tags ssd, of which ssd are strict (vm.strict.host.tags or"
                  " resource.limit.host.tags) and missing on host kvm-a1-01, so CloudStack does not scale the running VM"
                  " (Failed to scale the VM): add the tags to the host (updateHost hosttags), pick an offering without them,"
                  " or take them out of vm.strict.host.tags with livescale.cloudstack.setting")
HOST_TAG_CASES = [
    pytest.param(situation(), Target(TAGGED), Options(), planner.LIVE,
                 ("VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 2 vCPUs, 1000 MHz, 1024 MiB",),
                 id="non-strict-offering-tag-scales-on-host"),
    pytest.param(situation(template_tag="ssd"), Target(MEDIUM), Options(), planner.LIVE, (LIVE_1_TO_2,),
                 id="non-strict-template-tag-scales-on-host"),
    pytest.param(situation(settings=STRICT_SSD), Target(TAGGED), Options(), planner.REFUSE, (STRICT_REFUSED, RESTART_HINT),
                 id="strict-tag-missing-refused"),
    pytest.param(situation(settings=STRICT_SSD), Target(TAGGED), Options(allow_restart=True), planner.RESTART,
                 (STRICT_REFUSED, RESTARTING), id="strict-tag-missing-restart"),
    pytest.param(situation(settings=STRICT_SSD, host=replace(HOST_1, tags=("ssd",))), Target(TAGGED), Options(),
                 planner.LIVE,
                 ("VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 2 vCPUs, 1000 MHz, 1024 MiB",),
                 id="strict-tag-present"),
    pytest.param(situation(settings=Settings(dynamic_scale=True, strict_host_tags=("other",))), Target(TAGGED), Options(),
                 planner.LIVE,
                 ("VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 2 vCPUs, 1000 MHz, 1024 MiB",),
                 id="strict-list-without-the-tag"),
    pytest.param(situation(host=FULL_HOST_1), Target(TAGGED), Options(allow_migration=True), planner.REFUSE,
                 (FULL + ", and no other host in cluster cluster-a1 has room for 2 vCPUs, 1000 MHz, 1024 MiB and the host"
                  " tags ssd: free capacity in the cluster", RESTART_HINT), id="destination-needs-every-tag"),
    pytest.param(situation(host=FULL_HOST_1, other_hosts=(SSD_HOST_2,)), Target(TAGGED), Options(allow_migration=True),
                 planner.MIGRATE_THEN_LIVE,
                 ("%s: VM web-01 moves to kvm-a1-02 (allow_migration is true); %s" % (FULL, AUTO),),
                 id="destination-with-the-tag"),
    pytest.param(situation(vm={"offering_id": "off-small-ssd"}, current=replace(SMALL, id="off-small-ssd", host_tags=("ssd",)),
                           settings=STRICT_SSD), Target(MEDIUM), Options(allow_migration=True), planner.MIGRATE_THEN_LIVE,
                 ("host kvm-a1-01 lacks the strict host tags ssd of the current offering Small, which CloudStack counts as"
                  " no capacity: VM web-01 moves to kvm-a1-02 (allow_migration is true); %s" % AUTO,),
                 id="current-offering-strict-tag-counts-as-no-capacity"),
]

# Before PR #9017 (4.20): UserVmManagerImpl.upgradeVirtualMachine at 0c7d47138d (4.19.3.0) and 84538da27c (4.18.2.5)
# tests HostVO.checkHostServiceOfferingTags, every host tag of the new offering on the running VM's host, none of the
# template, and upgradeRunningVirtualMachine keeps the VM on a host with room without checkEnforceStrictHostTagCheck.
V4_19 = versions.version_of("4.19.3.0")
EVERY_TAG_REFUSED = ("service offering Medium SSD needs host tags ssd, of which ssd are missing on host kvm-a1-01:"
                     " CloudStack 4.19 scales a running VM only on a host with every host tag of the new offering"
                     " (Failed to scale the VM): add the tags to the host (updateHost hosttags) or pick an offering"
                     " whose host tags it has (from CloudStack 4.20 only the tags in vm.strict.host.tags count)")
TWO_TAGS = replace(TAGGED, host_tags=("ssd", "fast"))


def custom_vm(version=V4_19, current=CUSTOM, **changes):
    """The ready situation on ``version`` with the VM on a custom offering (4.19 refuses a fixed one on KVM)."""
    return situation(vm={"offering_id": current.id}, current=current, version=version, **changes)


HOST_TAG_BEFORE_4_20_CASES = [
    pytest.param(custom_vm(), Target(TAGGED), Options(), planner.REFUSE,
                 (EVERY_TAG_REFUSED, RESTART_HINT), id="4.19-non-strict-offering-tag-refused"),
    pytest.param(custom_vm(versions.version_of("4.18.2.5")), Target(TAGGED), Options(allow_restart=True),
                 planner.RESTART, (EVERY_TAG_REFUSED.replace("4.19", "4.18", 1), RESTARTING),
                 id="4.18-non-strict-offering-tag-restart"),
    pytest.param(custom_vm(host=replace(HOST_1, tags=("ssd",))), Target(TAGGED), Options(),
                 planner.LIVE, (LIVE_1_TO_2,), id="4.19-offering-tag-on-host"),
    pytest.param(custom_vm(host=replace(HOST_1, tags=("fast",))), Target(TWO_TAGS), Options(),
                 planner.REFUSE, (EVERY_TAG_REFUSED.replace("tags ssd,", "tags ssd,fast,"), RESTART_HINT),
                 id="4.19-every-tag-needed"),
    pytest.param(custom_vm(template_tag="ssd"), Target(MEDIUM), Options(), planner.LIVE, (LIVE_1_TO_2,),
                 id="4.19-template-tag-not-asked"),
    pytest.param(custom_vm(settings=STRICT_SSD), Target(TAGGED), Options(), planner.REFUSE,
                 (EVERY_TAG_REFUSED, RESTART_HINT), id="4.19-strict-list-changes-nothing"),
    pytest.param(custom_vm(current=replace(CUSTOM, id="off-custom-ssd", host_tags=("ssd",)), settings=STRICT_SSD),
                 Target(MEDIUM), Options(allow_migration=True), planner.LIVE, (LIVE_1_TO_2,),
                 id="4.19-no-current-offering-strict-tag-check"),
    pytest.param(custom_vm(versions.version_of("4.20.2.0"), current=replace(CUSTOM, id="off-custom-ssd",
                                                                            host_tags=("ssd",)), settings=STRICT_SSD),
                 Target(MEDIUM), Options(), planner.REFUSE,
                 ("host kvm-a1-01 lacks the strict host tags ssd of the current offering Custom, which CloudStack"
                  " counts as no capacity: set allow_migration: true to move VM web-01 to kvm-a1-02 first",
                  RESTART_HINT),
                 id="4.20-current-offering-strict-tag-check"),
]

# Rule 3. server/.../CapacityManagerImpl.java postStateTransitionEvent reserves a stopped VM's capacity on its last
# host; HostJoinDaoImpl shows used + reserved as allocated; checkIfHostHasCapacity(..., considerReservedCapacity=false)
# on the VM's own host (UserVmManagerImpl upgradeRunningVirtualMachine), while the allocators of a destination
# count it (FirstFitAllocator allocateTo, considerReservedCapacity=true).
RESERVED_HOST_1 = replace(FULL_HOST_1, reserved_cpu=1000, reserved_memory=GIB)
RESERVED_HOST_2 = replace(HOST_2, free_cpu=1500, free_memory=GIB // 2, reserved_cpu=8000, reserved_memory=8 * GIB)
RESERVED_CASES = [
    pytest.param(situation(host=RESERVED_HOST_1), Target(MEDIUM), Options(), planner.LIVE, (LIVE_1_TO_2,),
                 id="reserved-is-free-on-own-host"),
    pytest.param(situation(host=replace(FULL_HOST_1, reserved_cpu=400), other_hosts=(RESERVED_HOST_2,)), Target(MEDIUM),
                 Options(allow_migration=True), planner.REFUSE,
                 ("host kvm-a1-01 has 900 MHz and 256 MiB free (counting 400 MHz and 0 MiB reserved for stopped VMs, which a"
                  " scale on the VM's own host may use) (8 vCPUs at 2000 MHz) but the scale needs 1000 MHz and 512 MiB more,"
                  " and no other host in cluster cluster-a1 has room for 2 vCPUs, 1000 MHz, 1024 MiB: free capacity in the"
                  " cluster", RESTART_HINT), id="reserved-is-taken-on-other-hosts"),
]

# Rule 2. server/.../KVMGuru.java getVmMaxCpuCores: kvm.cpu.dynamic.scaling.capacity of the cluster when > 0, with no
# raise to the VM's own count (configureVmMemoryAndCpuCores); libvirt then refuses <vcpu current="N">MAX</vcpu> with
# MAX < N, so the VM cannot start. upgradeVmDb recomputes the VM flag (VM, offering, template, zone setting).
CAP_2 = Settings(dynamic_scale=True, kvm_cpu_capacity=2)
CANNOT_START_4 = ("VM web-01 cannot start with 4 vCPUs: kvm.cpu.dynamic.scaling.capacity=2 in cluster cluster-a1 makes its"
                  " domain's maximum 2 vCPUs, below its vCPU count: raise the setting for the cluster to 4 or more, or set"
                  " it to 0 to use the host's cores, with livescale.cloudstack.setting")
ABOVE_CAP = ("4 vCPUs is above kvm.cpu.dynamic.scaling.capacity=2 in cluster cluster-a1 (2 vCPUs) for VM web-01: raise"
             " kvm.cpu.dynamic.scaling.capacity with livescale.cloudstack.setting and stop and start the VM")
KVM_CAP_CASES = [
    pytest.param(situation(settings=CAP_2), Target(LARGE), Options(allow_restart=True), planner.REFUSE,
                 (ABOVE_CAP, CANNOT_START_4), id="no-restart-into-a-vm-that-cannot-start"),
    pytest.param(situation(settings=replace(CAP_2, kvm_cpu_capacity=4)), Target(LARGE), Options(allow_restart=True),
                 planner.LIVE,
                 ("VM web-01 can be live-scaled on its host: 1 vCPU, 1000 MHz, 512 MiB to 4 vCPUs, 1000 MHz, 4096 MiB",),
                 id="cap-at-target"),
    pytest.param(situation(vm={"cpu": 4, "memory": 4096, "offering_id": "off-large"}, current=LARGE, settings=CAP_2),
                 Target(MEDIUM), Options(allow_restart=True), planner.RESTART,
                 ("vCPUs, memory would go down (4 to 2; 4096 MiB to 1024 MiB) while VM web-01 runs: CloudStack cannot scale"
                  " a running VM down", RESTARTING), id="restart-down-to-the-cap"),
    pytest.param(situation(settings=CAP_2, template_scalable=False, vm={"prepared": False}), Target(LARGE),
                 Options(allow_restart=True), planner.RESTART,
                 (NOT_PREPARED, RESTARTING), id="not-scalable-after-restart-starts-without-cap"),
    pytest.param(situation(vm={"state": "Stopped"}, settings=CAP_2), Target(LARGE), Options(), planner.OFFLINE,
                 (OFFLINE, CANNOT_START_4), id="offline-says-it-cannot-start"),
]

# Rule 5. server/.../ResourceLimitManagerImpl.java checkAccountResourceLimit then checkDomainResourceLimit (each
# domain up the tree, ROOT excluded); limits in force are the explicit ones or max.account.* / max.domain.*.
DOMAIN_CUSTOMERS = Limits("domain ROOT/customers", cpu=1, memory=1024, fix="updateResourceLimit domainid=dom-1")
LIMIT_CASES = [
    pytest.param(situation(limits=Limits("account acme", cpu=8, memory=8192, domains=(DOMAIN_CUSTOMERS,))), Target(LARGE),
                 Options(), planner.REFUSE,
                 ("domain ROOT/customers of VM web-01 has 1 vCPUs left under its cpu limit but the scale needs 3 more: raise"
                  " the limit (updateResourceLimit domainid=dom-1 resourcetype=8) or pick a smaller target",
                  "domain ROOT/customers of VM web-01 has 1024 MiB left under its memory limit but the scale needs 3584"
                  " more: raise the limit (updateResourceLimit domainid=dom-1 resourcetype=9) or pick a smaller target"),
                 id="domain-limit"),
    pytest.param(situation(limits=Limits("account acme", cpu=8, memory=8192, domains=(DOMAIN_CUSTOMERS,))), Target(MEDIUM),
                 Options(), planner.LIVE, (LIVE_1_TO_2,), id="within-domain-limit"),
]

# Before PR #8935 (4.20): UserVmManagerImpl.upgradeRunningVirtualMachine at 0c7d47138d checks
# checkResourceLimit(caller, ...) (a root admin has none, ResourceLimitManagerImpl.checkResourceLimit), while
# upgradeStoppedVirtualMachine checks the owner's: a restart counts against the owner's limits.
OWNER_FULL = Limits("account acme", cpu=0, memory=0)
CALLER_ADMIN = Limits("account admin (the caller)")
CALLER_FULL = Limits("account dora (the caller)", cpu=0, memory=8192, fix="updateResourceLimit account=dora")
CALLER_CPU = ("account dora (the caller) of VM web-01 has 0 vCPUs left under its cpu limit but the scale needs 1 more:"
              " raise the limit (updateResourceLimit account=dora resourcetype=8) or pick a smaller target")
OWNER_ERRORS = ("account acme of VM web-01 has 0 vCPUs left under its cpu limit but the scale needs 1 more: raise the"
                " limit (updateResourceLimit resourcetype=8) or pick a smaller target",
                "account acme of VM web-01 has 0 MiB left under its memory limit but the scale needs 512 more: raise"
                " the limit (updateResourceLimit resourcetype=9) or pick a smaller target")
CALLER_LIMIT_CASES = [
    pytest.param(situation(limits=OWNER_FULL, live_limits=CALLER_ADMIN), Target(MEDIUM), Options(), planner.LIVE,
                 (LIVE_1_TO_2,), id="root-admin-caller-ignores-the-owners-limits"),
    pytest.param(situation(live_limits=CALLER_FULL), Target(MEDIUM), Options(), planner.REFUSE,
                 (CALLER_CPU, RESTART_HINT), id="callers-limit-blocks-the-live-scale"),
    pytest.param(situation(live_limits=CALLER_FULL), Target(MEDIUM), Options(allow_restart=True), planner.RESTART,
                 (CALLER_CPU, RESTARTING), id="restart-counts-against-the-owner"),
    pytest.param(situation(limits=OWNER_FULL, live_limits=CALLER_FULL), Target(MEDIUM), Options(allow_restart=True),
                 planner.REFUSE, (CALLER_CPU,) + OWNER_ERRORS, id="restart-refused-by-the-owners-limits"),
    pytest.param(situation(vm={"state": "Stopped"}, limits=OWNER_FULL, live_limits=CALLER_ADMIN), Target(MEDIUM),
                 Options(), planner.REFUSE, OWNER_ERRORS, id="stopped-vm-counts-against-the-owner"),
]

# Rule 7. server/.../UserVmManagerImpl.java updateInstanceDetailsMapWithCurrentValuesForAbsentDetails fills the values
# left out from the VM, then validateCustomParameters checks them all (431).
BIG_CUSTOM_VM = {"offering_id": "off-custom", "cpu": 2, "memory": 8192}
CUSTOM_FILL_CASES = [
    pytest.param(situation(vm=BIG_CUSTOM_VM, current=UNCONSTRAINED), Target(CUSTOM, cpu=3), Options(allow_restart=True),
                 planner.REFUSE,
                 ("memory is not given, so the VM keeps its current 8192 MiB, which is outside what"
                  " service offering Custom allows (256 to 4096 MiB): give memory in that range",), id="filled-memory-above-max"),
    pytest.param(situation(vm={"offering_id": "off-custom", "cpu": 6}, current=UNCONSTRAINED), Target(CUSTOM, memory=1024),
                 Options(), planner.REFUSE,
                 ("cpu_number is not given, so the VM keeps its current 6 vCPUs, which is outside what"
                  " service offering Custom allows (1 to 4 vCPUs): give cpu_number in that range",), id="filled-cpu-above-max"),
    pytest.param(situation(vm=BIG_CUSTOM_VM, current=UNCONSTRAINED), Target(CUSTOM, cpu=3, memory=4096),
                 Options(allow_restart=True), planner.RESTART,
                 ("memory would go down (8192 MiB to 4096 MiB) while VM web-01 runs: CloudStack cannot scale a running VM"
                  " down", RESTARTING), id="given-values-in-range"),
]


@pytest.mark.parametrize("given, target, options, action, reasons",
                         HOST_TAG_CASES + HOST_TAG_BEFORE_4_20_CASES + RESERVED_CASES + KVM_CAP_CASES + LIMIT_CASES
                         + CALLER_LIMIT_CASES + CUSTOM_FILL_CASES)
def test_source_rules_table(given, target, options, action, reasons):
    result = planner.plan(given, target, options)
    assert (result.action, result.reasons) == (action, reasons)


# Readiness (vm_scaling_info): KVMGuru.getVmMaxCpuCores (a VM above the cap cannot start again), the owner's limits
# (ResourceLimitManagerImpl) and KVMGuru's raw host memory bound the maximum.
READINESS_SOURCE_CASES = [
    pytest.param(situation(vm={"cpu": 4}, settings=CAP_2), False, 4, 32768,
                 ("VM web-01 cannot start with 4 vCPUs: kvm.cpu.dynamic.scaling.capacity=2 in cluster cluster-a1 makes"
                  " its domain's maximum 2 vCPUs, below its vCPU count: raise the setting for the cluster to 4 or more, or"
                  " set it to 0 to use the host's cores, with livescale.cloudstack.setting",), id="cap-below-vm-cpus"),
    pytest.param(situation(limits=Limits("account acme", cpu=7, memory=2048)), True, 8, 2560, (), id="limits-bound"),
    pytest.param(situation(limits=Limits("account acme", cpu=0, memory=0)), False, 1, 512,
                 ("the limits of account acme leave no vCPU and no MiB for VM web-01 to grow: raise them"
                  " (updateResourceLimit resourcetype=8 and 9)",), id="limits-used-up"),
    pytest.param(situation(limits=Limits("account acme", cpu=2, domains=(DOMAIN_CUSTOMERS,))), True, 2, 1536, (),
                 id="domain-limits-bound"),
    # before 4.20 a live scale counts against the caller's limits (upgradeRunningVirtualMachine at 0c7d47138d)
    pytest.param(situation(limits=OWNER_FULL, live_limits=CALLER_ADMIN), True, 8, 32768, (),
                 id="root-admin-caller-unbound"),
    pytest.param(situation(live_limits=CALLER_FULL), True, 1, 8704, (), id="caller-limits-bound"),
    pytest.param(situation(live_limits=replace(CALLER_FULL, memory=0)), False, 1, 512,
                 ("the limits of account dora (the caller) leave no vCPU and no MiB for VM web-01 to grow: raise them"
                  " (updateResourceLimit resourcetype=8 and 9)",), id="caller-limits-used-up"),
]


@pytest.mark.parametrize("given, scalable, max_cpu, max_memory, blockers", READINESS_SOURCE_CASES)
def test_readiness_source_rules(given, scalable, max_cpu, max_memory, blockers):
    assert planner.readiness(given) == planner.Readiness(scalable, max_cpu, max_memory, blockers)

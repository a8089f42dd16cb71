"""The version table (plugins/module_utils/_versions.py) and the planner's version-specific rules.

[4.22] rules are read from github alexandremattioli/cloudstack @ 3d6cafe193 (4.22.0.0-SNAPSHOT); [4.23] from
prashanthr2/cloudstack @ b0601e5478, which includes apache/cloudstack PR #12975. 4.18 to 4.21 from the release commits
of apache/cloudstack in the history of that [4.22] tree: [4.18] 84538da27c (4.18.2.5), [4.19] 0c7d47138d (4.19.3.0),
[4.20] 4dc3931233 (4.20.2.0), [4.21] f9513b47bf (4.21.0.0).
"""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions
from ansible_collections.livescale.cloudstack.plugins.module_utils._setting import Scope, missing_setting_error

V422 = versions.version_of("4.22.0.0")
SMALL = planner.Offering("off-small", "Small", cpu=1, speed=1000, memory=1024)
MEDIUM = planner.Offering("off-medium", "Medium", cpu=2, speed=1000, memory=2048)
CUSTOM = planner.Offering("off-custom", "Custom", speed=1000, min_cpu=1, max_cpu=2, min_memory=512, max_memory=2048)
HOST = planner.Host("host-1", "kvm-a1-01", cores=16, speed=2400, free_cpu=30000, free_memory=60 * 1024 ** 3,
                    total_memory=64 * 1024 ** 3)


def situation(current=SMALL, version=V422, hypervisor="KVM"):
    vm = planner.Vm("vm-1", "web-01", "Running", current.cpu or 1, 1000, current.memory or 1024, current.id,
                    hypervisor=hypervisor, dynamically_scalable=True)
    return planner.Situation(vm=vm, current=current, settings=planner.Settings(dynamic_scale=True),
                             template_scalable=True, host=HOST, version=version)


@pytest.mark.parametrize("text, rules, known", [
    ("4.22.0.0", "4.22", True), ("4.22.1.0-SNAPSHOT", "4.22", True), ("4.23.0.0-SNAPSHOT", "4.23", True),
    ("4.19.1.3", "4.19", True), ("4.18.2.4", "4.18", True), ("4.20.1.0", "4.20", True), ("4.21.0.0", "4.21", True),
    ("4.17.1.0", "4.18", False), ("4.24.0.0", "4.23", False), ("", "4.23", False),
    ("not a version", "4.23", False)])
def test_a_version_is_planned_by_its_line_or_the_nearest_known_one(text, rules, known):
    version = versions.version_of(text)
    assert (version.rules.name, version.known) == (rules, known)
    assert bool(version.note) is not known


def test_an_unknown_version_says_which_rules_planned_it():
    assert versions.version_of("4.17.1.0").note == (
        "CloudStack 4.17.1.0 is not a version this collection knows (4.18, 4.19, 4.20, 4.21, 4.22, 4.23): planned by"
        " the rules of CloudStack 4.18, the nearest known")


def test_known_defects_name_their_issue_and_fit_version_and_hypervisor():
    assert [warning.split(" (")[1].split(")")[0] for warning in versions.version_of("4.19.1.2").defects("KVM")] == [
        "apache/cloudstack #9879", "apache/cloudstack #9973"]
    assert len(versions.version_of("4.19.1.2").defects("VMware")) == 1
    assert versions.version_of("4.22.0.0").defects("KVM")[0].startswith(
        "CloudStack 4.22.0.0 has a known scaling defect (apache/cloudstack #9973)")
    assert versions.version_of("4.23.0.0").defects("KVM") == []


def test_on_422_a_fixed_offering_kvm_vm_is_not_live_scaled_and_the_fix_is_a_custom_offering_or_423():
    """UserVmManagerImpl.upgradeRunningVirtualMachine [4.22]: KVM and a fixed current offering is refused (431)."""
    plan = planner.plan(situation(), planner.Target(MEDIUM))
    assert plan.action == planner.REFUSE and plan.version == V422
    assert "CloudStack 4.22 does not live-scale a KVM VM whose current offering is fixed" in plan.reasons[0]
    assert "move the VM to a custom offering with a stop and start" in plan.reasons[0]
    assert "upgrade CloudStack to 4.23" in plan.reasons[0] and "PR #12975" in plan.reasons[0]
    assert planner.plan(situation(version=versions.version_of("4.23.0.0")), planner.Target(MEDIUM)).action == planner.LIVE
    assert planner.plan(situation(hypervisor="VMware"), planner.Target(MEDIUM)).action == planner.LIVE


def test_readiness_on_422_gives_the_fix_and_the_known_defects():
    ready = planner.readiness(situation())
    assert not ready.live_scalable and (ready.max_cpu, ready.max_memory) == (1, 1024)
    assert "Fixed Offering" in ready.blockers[0] and "apache/cloudstack #9973" in ready.warnings[0]
    assert planner.readiness(situation(current=CUSTOM)).live_scalable


def test_on_422_a_custom_vm_cannot_grow_beyond_the_offering_it_started_with():
    """KVMGuru.getVmMaxCpuCores [4.22]: the domain maximum is the offering's maxcpunumber (apache/cloudstack #9973)."""
    bigger = planner.Offering("off-big", "Custom Big", speed=1000, max_cpu=8, max_memory=8192)
    plan = planner.plan(situation(current=CUSTOM), planner.Target(bigger, cpu=4), planner.Options(allow_restart=True))
    assert plan.action == planner.RESTART and "Unhandled exception" in plan.reasons[0]
    assert planner.plan(situation(current=CUSTOM, version=versions.version_of("4.23.0.0")),
                        planner.Target(bigger, cpu=4)).action == planner.LIVE


def test_on_422_a_same_size_offering_with_another_cpu_cap_is_refused():
    capped = planner.Offering("off-capped", "Small Capped", cpu=1, speed=1000, memory=1024, limit_cpu_use=True)
    assert planner.plan(situation(version=versions.version_of("4.23.0.0")), planner.Target(capped)).action == planner.LIVE
    reasons = planner.plan(situation(current=CUSTOM), planner.Target(capped)).reasons
    assert "CloudStack 4.22 never changes a running VM to a same-size offering" in reasons[0]


def test_a_plan_for_an_unknown_version_says_so():
    plan = planner.plan(situation(version=versions.version_of("4.17.1.0")), planner.Target(MEDIUM))
    assert plan.reasons[-1].startswith("CloudStack 4.17.1.0 is not a version this collection knows")


@pytest.mark.parametrize("server, name, lacks", [
    ("4.22.0.0", "kvm.cpu.dynamic.scaling.capacity", True),
    ("4.19.1.3", "auto.migrate.vm.on.live.scale.insufficient.capacity", True),
    ("4.22.1.0", "allow.different.host.tags.offerings.for.vm.scale", True),
    ("4.23.0.0", "kvm.memory.dynamic.scaling.capacity", False), ("", "kvm.cpu.dynamic.scaling.capacity", False),
    ("4.22.0.0", "enable.dynamic.scale.vm", False)])
def test_a_setting_is_lacking_only_before_the_version_that_added_it(server, name, lacks):
    """[4.22] tree: no ConfigKey kvm.*.dynamic.scaling.capacity (CapacityManager), auto.migrate...capacity or
    allow.different.host.tags... (UserVmManager); [4.23] defines them (PR #12975, #12919)."""
    assert bool(versions.version_of(server).lacks_setting(name)) is lacks


def test_the_setting_module_explains_a_setting_the_server_version_lacks():
    """setting against 4.22: not "unknown setting" with close matches, but the version that added it and what
    4.22 does instead (KVMGuru [4.22]: the custom offering's maxcpunumber, else vm.serviceoffering.cpu.cores.max)."""
    known = ["kvm.memory.dynamic.scaling.capacity", "vm.serviceoffering.cpu.cores.max"]
    assert str(missing_setting_error("kvm.cpu.dynamic.scaling.capacity", known, Scope(), V422)) == (
        "CloudStack 4.22.0.0 has no setting kvm.cpu.dynamic.scaling.capacity: it came with CloudStack 4.23"
        " (apache/cloudstack PR #12975); before it,"
        " a KVM domain's vCPU maximum is the maxcpunumber of the custom offering the VM was started with, else"
        " vm.serviceoffering.cpu.cores.max, else the host's cores; a fixed offering gets none")
    assert str(missing_setting_error("kvm.cpu.dynamic.scaling.capacity", known, Scope(),
                                     versions.version_of("4.23.0.0"))).startswith(
        "unknown setting kvm.cpu.dynamic.scaling.capacity; close matches: kvm.memory.dynamic.scaling.capacity")


@pytest.mark.parametrize("server", ["4.18.2.5", "4.19.3.0", "4.20.2.0", "4.21.0.0"])
def test_4_18_to_4_21_are_planned_by_their_own_line_with_the_rules_of_4_22(server):
    """UserVmManagerImpl.upgradeRunningVirtualMachine (fixed offering on KVM, scale-down/same-size), KVMGuru
    getVmMaxCpuCores/getVmMaxMemory and VirtualMachineManagerImpl.reConfigureVm at 84538da27c, 0c7d47138d, 4dc3931233
    and f9513b47bf are those of [4.22] but for log lines: the same rules, named for the server's line (but for the
    host-tag and limit rules of 4.18 and 4.19, test_the_host_tag_and_limit_rules_change_with_4_20)."""
    version = versions.version_of(server)
    line = ".".join(server.split(".")[:2])
    assert version.known and version.note == "" and version.planned_for == "CloudStack " + line
    assert version.rules._replace(name="4.22", strict_host_tags=True,
                                  owner_limits_on_live_scale=True) == versions.BEFORE_FIXED_OFFERINGS
    plan = planner.plan(situation(version=version), planner.Target(MEDIUM))
    assert plan.action == planner.REFUSE and ("CloudStack %s does not live-scale a KVM VM" % line) in plan.reasons[0]
    assert not [reason for reason in plan.reasons if "not a version this collection knows" in reason]


@pytest.mark.parametrize("server, name, lacks", [
    ("4.19.3.0", "vm.strict.host.tags", True), ("4.18.2.5", "resource.limit.host.tags", True),
    ("4.19.0.0", "vm.strict.resource.limit.host.tag.check", True), ("4.20.0.0", "vm.strict.host.tags", False),
    ("4.21.0.0", "kvm.cpu.dynamic.scaling.capacity", True)])
def test_the_host_tag_settings_came_with_4_20(server, name, lacks):
    """UserVmManager.StrictHostTags and EnforceStrictResourceLimitHostTagCheck (PR #9017), ResourceLimitService
    .ResourceLimitHostTags (PR #8362) are ConfigKeys at 4dc3931233, not at 0c7d47138d or 84538da27c."""
    assert bool(versions.version_of(server).lacks_setting(name)) is lacks


def test_the_setting_module_says_what_4_19_does_without_strict_host_tags():
    assert str(missing_setting_error("vm.strict.host.tags", ["vm.strict.host.tags.x"], Scope(),
                                     versions.version_of("4.19.3.0"))) == (
        "CloudStack 4.19.3.0 has no setting vm.strict.host.tags: it came with CloudStack 4.20 (apache/cloudstack PR"
        " #9017); before it, the host of a running VM must carry every host tag of the new offering"
        " (HostVO.checkHostServiceOfferingTags); the template's tag is not asked")


@pytest.mark.parametrize("server", ["4.18.2.5", "4.19.3.0", "4.20.0.0"])
def test_the_host_tag_and_limit_rules_of_4_18_and_4_19_are_planned_not_warned_of(server):
    """UserVmManagerImpl at 0c7d47138d: upgradeVirtualMachine tests HostVO.checkHostServiceOfferingTags,
    upgradeRunningVirtualMachine checkResourceLimit(caller, ...); the plan applies both (Rules.strict_host_tags,
    Rules.owner_limits_on_live_scale with the Reader's caller limits), so the readiness warns of neither."""
    warnings = planner.readiness(situation(current=CUSTOM, version=versions.version_of(server))).warnings
    assert not [warning for warning in warnings if "host tag" in warning or "limits" in warning]


@pytest.mark.parametrize("server, from_4_20", [("4.18.2.5", False), ("4.19.3.0", False), ("4.19.99.0", False),
                                               ("4.20.0.0", True), ("4.21.0.0", True), ("4.22.0.0", True),
                                               ("4.23.0.0", True), ("4.17.0.0", False)])
def test_the_host_tag_and_limit_rules_change_with_4_20(server, from_4_20):
    """UserVmManagerImpl.upgradeVirtualMachine: HostVO.checkHostServiceOfferingTags at 84538da27c and 0c7d47138d,
    checkHostServiceOfferingAndTemplateTags with UserVmManager.getStrictHostTags() at 4dc3931233 (PR #9017) on;
    upgradeRunningVirtualMachine: checkResourceLimit(caller, ...) there, the owner's at 4dc3931233 (PR #8935)."""
    rules = versions.version_of(server).rules
    assert (rules.strict_host_tags, rules.owner_limits_on_live_scale) == (from_4_20, from_4_20)

"""The collection's gathering and planner predict what the simulator does with scaleVirtualMachine, per version.

Each row builds a seed, starts the simulator as each CloudStack version it names ([4.22]: github
alexandremattioli/cloudstack @ 3d6cafe193, before apache/cloudstack PR #12975; [main]/4.23: prashanthr2/cloudstack @
b0601e5478), reads the Situation through the collection's own Reader (plugins/module_utils/_scaling.py, which reads the
version from listCapabilities), plans the scale, then submits scaleVirtualMachine and compares: ``live`` succeeds on
the same host, ``migrate_then_live`` succeeds on another host, ``offline`` succeeds on a Stopped VM, a planned
``refuse`` or ``restart`` (no live scale) fails with the given error code and text.
"""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _scaling as scaling
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi

SMALL_HOSTS = [{"name": "kvm-a1-01", "cores": 4, "cpu_mhz": 1000, "memory_mib": 8192},
               {"name": "kvm-a1-02", "cores": 4, "cpu_mhz": 1000, "memory_mib": 8192}]
SSD_OFFERING = {"name": "Medium SSD", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "ssd"}
NARROW_CUSTOM = {"name": "Custom Narrow", "customized": True, "mincpunumber": 1, "maxcpunumber": 4, "minmemory": 2048,
                 "maxmemory": 4096, "cpuspeed": 1000}
SMALL_CUSTOM = {"name": "Custom Small", "customized": True, "mincpunumber": 1, "maxcpunumber": 2, "minmemory": 512,
                "maxmemory": 2048, "cpuspeed": 1000}
SMALL_CAPPED = {"name": "Small Capped", "cpunumber": 1, "cpuspeed": 1000, "memory": 1024, "limitcpuuse": True}
FAILED = (530, "Failed to scale the VM")
# UserVmManagerImpl.upgradeRunningVirtualMachine [4.22] (removed by PR #12975)
FIXED_KVM = (431, 'Unable to live scale VM on KVM when current service offering is a "Fixed Offering"')
# [4.22] the same method's scale-down / no-change text (sic "scalling")
SAME_SIZE_422 = (431, "While the VM is running, only scalling up it is supported.")
ON_CUSTOM = {"web-01": ("Custom", {"cpuNumber": 1, "memory": 1024})}


def setting(name, value, scope="global", target=None):
    """A seed setting row."""
    return dict({"name": name, "value": value, "scope": scope}, **({"target": target} if target else {}))


def both(action, error=None):
    """The same expected outcome on 4.22 and 4.23."""
    return {"4.22": (action, error), "4.23": (action, error)}


def per_version(main, before):
    """Expected outcomes on 4.23 ([main]) and on 4.22."""
    return {"4.23": main, "4.22": before}


RESTART_FIXED = (planner.RESTART, FIXED_KVM)
CASES = [
    # HostVO.checkHostServiceOfferingAndTemplateTags: only strict tags count (UserVmManager.getStrictHostTags)
    pytest.param({"offerings": [SSD_OFFERING]}, "web-01", "Medium SSD", {},
                 per_version((planner.LIVE, None), RESTART_FIXED), id="non-strict-tag"),
    # upgradeVirtualMachine checks the strict tags before upgradeRunningVirtualMachine, on both versions
    pytest.param({"offerings": [SSD_OFFERING], "settings": [setting("vm.strict.host.tags", "ssd")]}, "web-01",
                 "Medium SSD", {}, both(planner.RESTART, FAILED), id="strict-tag"),
    # CapacityManagerImpl.checkIfHostHasCapacity(..., considerReservedCapacity=false) on the VM's own host: db-01,
    # stopped on kvm-a1-01, holds 2000 MHz there; web-01 may still take 1000 MHz more
    pytest.param({"hosts": SMALL_HOSTS, "vms_on": {"db-01": "kvm-a1-01"}, "stopped": ["db-01"]}, "web-01", "Medium", {},
                 per_version((planner.LIVE, None), RESTART_FIXED), id="reserved-on-own-host"),
    # KVMGuru.getVmMaxCpuCores [main]: the domain started with at most 2 vCPUs; a restart to 4 could not start.
    # [main] only: [4.22] has no ConfigKey kvm.cpu.dynamic.scaling.capacity (CapacityManager, PR #12975 added it)
    pytest.param({"settings": [setting("kvm.cpu.dynamic.scaling.capacity", "2", "cluster", "cluster-a1")]}, "web-01",
                 "Large", {}, {"4.23": (planner.REFUSE, (530, "Unable to reconfigure VM."))},
                 id="kvm-cpu-cap-below-target"),
    pytest.param({"settings": [setting("kvm.cpu.dynamic.scaling.capacity", "8", "cluster", "cluster-a1")]}, "web-01",
                 "Large", {}, {"4.23": (planner.LIVE, None)}, id="kvm-cpu-cap-above-target"),
    # ResourceLimitManagerImpl: explicit account limit, then the default max.account.cpus of an account without one
    pytest.param({"account_limits": {"cpu": 8, "memory": 16384}}, "web-01", "Large", {},
                 per_version((planner.LIVE, None), RESTART_FIXED), id="explicit-limit-room"),
    # [4.22] refuses the fixed offering (431) before it checks the limits; the planner refuses on the limit
    pytest.param({"account_limits": {}, "settings": [setting("max.account.cpus", "4")]}, "web-01", "Large", {},
                 per_version((planner.REFUSE, (530, "Maximum amount of resources of Type = 'cpu'")),
                             (planner.REFUSE, FIXED_KVM)), id="default-limit-exceeded"),
    # updateInstanceDetailsMapWithCurrentValuesForAbsentDetails fills memory=1024 from the VM: validateCustomParameters 431
    pytest.param({"offerings": [NARROW_CUSTOM]}, "web-01", "Custom Narrow", {"cpuNumber": 2},
                 both(planner.REFUSE, (431, "Invalid memory value, specify a value between 2048 and 4096")),
                 id="custom-filled-memory"),
    pytest.param({"offerings": [NARROW_CUSTOM]}, "web-01", "Custom Narrow", {"cpuNumber": 2, "memory": 2048},
                 per_version((planner.LIVE, None), RESTART_FIXED), id="custom-given-values"),
    # [4.22] KVMGuru.isVmDynamicScalable: a VM on a custom offering has head-room up to the offering's maxima
    pytest.param({"on_offering": ON_CUSTOM}, "web-01", "Custom", {"cpuNumber": 2, "memory": 2048},
                 both(planner.LIVE), id="custom-current-offering"),
    # [4.22] KVMGuru.getVmMaxCpuCores: the domain's maximum is the maxcpunumber (2) of the offering it started with;
    # the agent refuses 4 vCPUs and reConfigureVm's job fails with "Unhandled exception" (apache/cloudstack #9973)
    pytest.param({"offerings": [SMALL_CUSTOM], "on_offering": {"web-01": ("Custom Small", {"cpuNumber": 1,
                                                                                           "memory": 1024})}},
                 "web-01", "Custom", {"cpuNumber": 4, "memory": 1024},
                 per_version((planner.LIVE, None), (planner.RESTART, (530, "Unhandled exception"))),
                 id="custom-above-started-maximum"),
    # [main] same size with a CPU cap change is allowed on KVM; [4.22] every same-size target is refused
    pytest.param({"offerings": [SMALL_CAPPED]}, "web-01", "Small Capped", {},
                 per_version((planner.LIVE, None), (planner.RESTART, SAME_SIZE_422)), id="same-size-cap-change"),
    # upgradeStoppedVirtualMachine
    pytest.param({}, "db-01", "Large", {}, both(planner.OFFLINE), id="stopped"),
    # no room on the own host (db-01 holds 2000 of its 4000 MHz): VirtualMachineManagerImpl.orchestrateReConfigureVm
    # migrates first; [4.22] always, [main] while auto.migrate.vm.on.live.scale.insufficient.capacity is true (default)
    pytest.param({"hosts": SMALL_HOSTS, "vms_on": {"db-01": "kvm-a1-01"}, "stopped": [], "on_offering": ON_CUSTOM},
                 "web-01", "Custom", {"cpuNumber": 3, "memory": 1024}, both(planner.MIGRATE_THEN_LIVE),
                 id="migrate-for-capacity"),
]


def seed_changes(tmp_path, case):
    """build_seed arguments of a row."""
    from tests.simulator.conftest import DEFAULT  # pylint: disable=import-outside-toplevel
    vms = [dict(vm, state="Running", isdynamicallyscalable=True) for vm in DEFAULT["vms"]]
    for vm in vms:
        vm["host"] = case.get("vms_on", {}).get(vm["name"], vm["host"])
        if vm["name"] in case.get("on_offering", {}):
            vm["offering"], vm["details"] = case["on_offering"][vm["name"]]
        if vm["name"] in case.get("stopped", ["db-01"]):
            vm["state"] = "Stopped"
    return dict(hosts=case.get("hosts"), settings=case.get("settings", ()), offerings=case.get("offerings", ()),
                vms=vms), case.get("account_limits")


@pytest.mark.parametrize("case, vm_name, offering_name, details, expected, version", [
    pytest.param(*row.values, version, id=f"{row.id}-{version}")
    for version in ("4.22", "4.23") for row in CASES if version in row.values[-1]])
def test_plan_matches_the_simulator(tmp_path, case, vm_name, offering_name, details, expected, version):
    from tests.simulator.conftest import build_seed  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel
    from simulator.testing import InProcessSimulator  # pylint: disable=import-outside-toplevel
    changes, account_limits = seed_changes(tmp_path, case)
    path = build_seed(tmp_path, **changes)
    if account_limits is not None:
        seed = yaml.safe_load(path.read_text())
        acme = next(account for account in seed["accounts"] if account["name"] == "acme")
        acme.pop("limits", None)
        if account_limits:
            acme["limits"] = account_limits
        path.write_text(yaml.safe_dump(seed))
    expected_action, expected_error = expected[version]
    with InProcessSimulator(path, tmp_path / "state.sqlite", version=version) as sim:
        client = sim.client()
        api = CloudStackApi(sim.url, sim.admin_key, sim.admin_secret)
        [vm] = [row for row in api.list("listVirtualMachines", "virtualmachine", listall=True) if row["name"] == vm_name]
        [offering] = [row for row in api.list("listServiceOfferings", "serviceoffering") if row["name"] == offering_name]
        situation = scaling.Reader(api).situation(vm)
        target = scaling.offering_from(offering)
        plan = planner.plan(situation, planner.Target(target, cpu=details.get("cpuNumber"), memory=details.get("memory")),
                            planner.Options(allow_migration=True, allow_restart=True))
        status, body = client.call("scaleVirtualMachine", id=vm["id"], serviceofferingid=offering["id"],
                                   **{"details[0].%s" % key: value for key, value in details.items()})
        inner = next(iter(body.values()))
        job = client.wait(inner["jobid"]) if status == 200 else {"jobstatus": 2, "jobresult": inner}
        after = client.ok("listVirtualMachines", id=vm["id"])["virtualmachine"][0]
    outcome = _outcome(job, vm, after)
    assert plan.version.rules.name == version and plan.version.known, plan.version
    assert plan.action == expected_action, plan.reasons
    expected = _expected_outcome(expected_action, expected_error)
    assert outcome[:2] == expected[:2] and str(outcome[2]).startswith(str(expected[2])), (outcome, plan.reasons)


def _outcome(job, before, after):
    """What the simulator did: ("ok", moved, state) or ("error", code, text)."""
    if job["jobstatus"] == 1:
        return "ok", after.get("hostid") != before.get("hostid"), after["state"]
    return "error", job["jobresult"].get("errorcode"), job["jobresult"].get("errortext")


def _expected_outcome(action, error):
    """The outcome a planned action stands for (an error's text is a prefix of the simulator's)."""
    if action == planner.LIVE:
        return "ok", False, "Running"
    if action == planner.MIGRATE_THEN_LIVE:
        return "ok", True, "Running"
    if action == planner.OFFLINE:
        return "ok", False, "Stopped"
    return ("error",) + tuple(error)

"""The collection's gathering and planner predict what the simulator does with scaleVirtualMachine.

Each row builds a seed, reads the Situation through the collection's own Reader (plugins/module_utils/_scaling.py)
from the running simulator, plans the scale, then submits scaleVirtualMachine and compares: ``live`` succeeds on
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
FAILED = (530, "Failed to scale the VM")


def setting(name, value, scope="global", target=None):
    """A seed setting row."""
    return dict({"name": name, "value": value, "scope": scope}, **({"target": target} if target else {}))


CASES = [
    # HostVO.checkHostServiceOfferingAndTemplateTags: only strict tags count (UserVmManager.getStrictHostTags)
    pytest.param({"offerings": [SSD_OFFERING]}, "web-01", "Medium SSD", {}, planner.LIVE, None, id="non-strict-tag"),
    pytest.param({"offerings": [SSD_OFFERING], "settings": [setting("vm.strict.host.tags", "ssd")]}, "web-01",
                 "Medium SSD", {}, planner.RESTART, FAILED, id="strict-tag"),
    # CapacityManagerImpl.checkIfHostHasCapacity(..., considerReservedCapacity=false) on the VM's own host: db-01,
    # stopped on kvm-a1-01, holds 2000 MHz there; web-01 may still take 1000 MHz more
    pytest.param({"hosts": SMALL_HOSTS, "vms_on": {"db-01": "kvm-a1-01"}, "stopped": ["db-01"]}, "web-01", "Medium", {},
                 planner.LIVE, None, id="reserved-on-own-host"),
    # KVMGuru.getVmMaxCpuCores: the domain started with at most 2 vCPUs; a restart to 4 could not start
    pytest.param({"settings": [setting("kvm.cpu.dynamic.scaling.capacity", "2", "cluster", "cluster-a1")]}, "web-01",
                 "Large", {}, planner.REFUSE, (530, "Unable to reconfigure VM."), id="kvm-cpu-cap-below-target"),
    pytest.param({"settings": [setting("kvm.cpu.dynamic.scaling.capacity", "8", "cluster", "cluster-a1")]}, "web-01",
                 "Large", {}, planner.LIVE, None, id="kvm-cpu-cap-above-target"),
    # ResourceLimitManagerImpl: explicit account limit, then the default max.account.cpus of an account without one
    pytest.param({"account_limits": {"cpu": 8, "memory": 16384}}, "web-01", "Large", {}, planner.LIVE, None,
                 id="explicit-limit-room"),
    pytest.param({"account_limits": {}, "settings": [setting("max.account.cpus", "4")]}, "web-01", "Large", {},
                 planner.REFUSE, (530, "Maximum amount of resources of Type = 'cpu'"), id="default-limit-exceeded"),
    # updateInstanceDetailsMapWithCurrentValuesForAbsentDetails fills memory=1024 from the VM: validateCustomParameters 431
    pytest.param({"offerings": [NARROW_CUSTOM]}, "web-01", "Custom Narrow", {"cpuNumber": 2}, planner.REFUSE,
                 (431, "Invalid memory value, specify a value between 2048 and 4096"), id="custom-filled-memory"),
    pytest.param({"offerings": [NARROW_CUSTOM]}, "web-01", "Custom Narrow", {"cpuNumber": 2, "memory": 2048},
                 planner.LIVE, None, id="custom-given-values"),
    # upgradeStoppedVirtualMachine
    pytest.param({}, "db-01", "Large", {}, planner.OFFLINE, None, id="stopped"),
]


def seed_changes(tmp_path, case):
    """build_seed arguments of a row."""
    from tests.simulator.conftest import DEFAULT  # pylint: disable=import-outside-toplevel
    vms = [dict(vm, state="Running", isdynamicallyscalable=True) for vm in DEFAULT["vms"]]
    for vm in vms:
        vm["host"] = case.get("vms_on", {}).get(vm["name"], vm["host"])
        if vm["name"] in case.get("stopped", ["db-01"]):
            vm["state"] = "Stopped"
    return dict(hosts=case.get("hosts"), settings=case.get("settings", ()), offerings=case.get("offerings", ()),
                vms=vms), case.get("account_limits")


@pytest.mark.parametrize("case, vm_name, offering_name, details, expected_action, expected_error", CASES)
def test_plan_matches_the_simulator(tmp_path, case, vm_name, offering_name, details, expected_action, expected_error):
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
    with InProcessSimulator(path, tmp_path / "state.sqlite") as sim:
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

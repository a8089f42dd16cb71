"""The planner predicts what the simulator does with a live scale on KVM, XenServer and VMware.

Seed: simulator/seeds/hypervisors.yml (a KVM, a XenServer and a VMware cluster). Each row reads the Situation through
the collection's Reader, plans the scale (allow_migration, no restart), submits scaleVirtualMachine and compares the
plan's action with the simulator's outcome; where the planner cannot know the outcome it must say so in a note.
Sources (CloudStack [main]): UserVmManagerImpl.upgradeRunningVirtualMachine,
VirtualMachineManagerImpl.orchestrateReConfigureVm / reConfigureVm ("Unable to reconfigure VM."),
CitrixResourceBase.createVmFromTemplate / getStaticMax / scaleVM, CitrixScaleVmCommandWrapper.execute,
XenServerGuru.implement (xen.vm.vcpu.max), VmwareResource.execute(StartCommand) / execute(ScaleVmCommand).
"""

from pathlib import Path

import pytest
import yaml

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _scaling as scaling
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi
from simulator.testing import InProcessSimulator

SEED = Path(__file__).resolve().parents[2] / "simulator" / "seeds" / "hypervisors.yml"
RECONFIGURE = (530, "Unable to reconfigure VM.")
MEMORY_VIOLATION = "Cannot scale up the vm because of memory constraint violation"
XAPI_VCPUS = "Catch exception com.xensource.xenapi.Types$InvalidValue when scaling VM"
HOTADD = "Requested memory limit is beyond the hotadd memory limit for this VM at the moment is"
VMWARE_REFUSED = "Unable to execute ScaleVmCommand due to: [java.lang.Exception: Unable to execute ScaleVmCommand]."
NO_DMC = "as DMC - Dynamic memory control is not enabled for the XenServer"
XEN_VCPU_MAX_2 = [{"name": "xen.vm.vcpu.max", "value": "2", "scope": "cluster", "target": "cluster-xen"}]

# (vm, offering, details, extra settings, planned action, error (None: scaled), agent text in the event, noted)
CASES = [
    # KVM, for the matrix of three hypervisors: KVMGuru head-room, LibvirtScaleVmCommandWrapper
    pytest.param("kvm-web", "Medium", {}, [], planner.LIVE, None, None, False, id="kvm-live"),
    # getStaticMax: min(recommended 128 GiB, 4 x 1024) = 4096; the outcome below it is left to the guest OS detail
    pytest.param("xen-centos", "Large", {}, [], planner.LIVE, None, None, True, id="xen-up-to-static-max"),
    pytest.param("xen-centos", "Custom", {"cpuNumber": 2, "memory": 5120}, [], planner.REFUSE, RECONFIGURE,
                 MEMORY_VIOLATION, False, id="xen-above-4x-start-memory"),
    # no xenserver.dynamicMax for the guest OS: static-max = the start memory; the API cannot show it, so a note
    pytest.param("xen-debian", "Medium", {}, [], planner.LIVE, RECONFIGURE, MEMORY_VIOLATION, True,
                 id="xen-no-recommendation-memory"),
    pytest.param("xen-debian", "Custom", {"cpuNumber": 2, "memory": 1024}, [], planner.LIVE, None, None, True,
                 id="xen-vcpus-only"),
    # createVmFromTemplate: a Windows guest gets VCPUs-max = its vCPUs; XAPI refuses more (INVALID_VALUE)
    pytest.param("xen-windows", "Custom", {"cpuNumber": 4, "memory": 2048}, [], planner.REFUSE, RECONFIGURE, XAPI_VCPUS,
                 False, id="xen-windows-vcpus"),
    pytest.param("xen-windows", "Custom", {"cpuNumber": 2, "memory": 4096}, [], planner.LIVE, None, None, True,
                 id="xen-windows-memory"),
    # XenServerGuru.implement: VCPUs-max = min(xen.vm.vcpu.max of the cluster, host cores)
    pytest.param("xen-centos", "Large", {}, XEN_VCPU_MAX_2, planner.REFUSE, RECONFIGURE, XAPI_VCPUS, False,
                 id="xen-vcpu-max-setting"),
    # CitrixScaleVmCommandWrapper: no Dynamic Memory Control on the host (not in the API: said in a note)
    pytest.param("xen-nodmc", "Medium", {}, [], planner.LIVE, RECONFIGURE, NO_DMC, True, id="xen-no-dmc"),
    # VmwareResource.execute(ScaleVmCommand): hotPlugMemoryLimit 3072 for a Linux guest powered on below 3 GB
    pytest.param("esx-linux", "Medium", {}, [], planner.LIVE, None, None, True, id="vmware-below-3gb"),
    pytest.param("esx-linux", "Large", {}, [], planner.REFUSE, RECONFIGURE, HOTADD, False, id="vmware-3gb-boundary"),
    # 16 x the power-on memory; vCPUs a multiple of cpu.corespersocket
    pytest.param("esx-sockets", "Custom", {"cpuNumber": 4, "memory": 65536}, [], planner.LIVE, None, None, True,
                 id="vmware-16x"),
    pytest.param("esx-sockets", "Custom", {"cpuNumber": 2, "memory": 69632}, [], planner.REFUSE, RECONFIGURE, HOTADD,
                 False, id="vmware-above-16x"),
    pytest.param("esx-sockets", "Custom", {"cpuNumber": 3, "memory": 4096}, [], planner.REFUSE, RECONFIGURE,
                 VMWARE_REFUSED, False, id="vmware-cores-per-socket"),
    pytest.param("esx-windows", "Large", {}, [], planner.LIVE, None, None, True, id="vmware-windows-no-3gb"),
    # upgradeRunningVirtualMachine: a same-size offering with a CPU-cap change is live only on KVM
    pytest.param("esx-windows", "Medium Capped", {}, [], planner.REFUSE,
                 (431, "While the VM is running, scaling to a service offering with the same attributes"), None, False,
                 id="vmware-same-size-cap-change"),
]


def _simulator(tmp_path, settings):
    """An in-process simulator on the hypervisors seed with extra settings."""
    seed = yaml.safe_load(SEED.read_text())
    seed["settings"] += settings
    path = tmp_path / "seed.yml"
    path.write_text(yaml.safe_dump(seed))
    return InProcessSimulator(path, tmp_path / "state.sqlite")


def _read(api, vm_name, offering_name):
    """The VM row, the offering row and the Situation as the collection reads them."""
    [vm] = [row for row in api.list("listVirtualMachines", "virtualmachine", listall=True) if row["name"] == vm_name]
    [offering] = [row for row in api.list("listServiceOfferings", "serviceoffering") if row["name"] == offering_name]
    return vm, offering, scaling.Reader(api).situation(vm)


@pytest.mark.parametrize("vm_name, offering_name, details, settings, action, error, agent_text, noted", CASES)
def test_plan_matches_the_hypervisor(tmp_path, vm_name, offering_name, details, settings, action, error, agent_text,
                                     noted):
    with _simulator(tmp_path, settings) as sim:
        client = sim.client()
        api = CloudStackApi(sim.url, sim.admin_key, sim.admin_secret)
        vm, offering, situation = _read(api, vm_name, offering_name)
        target = planner.Target(scaling.offering_from(offering), cpu=details.get("cpuNumber"),
                                memory=details.get("memory"))
        plan = planner.plan(situation, target, planner.Options(allow_migration=True))
        status, body = client.call("scaleVirtualMachine", id=vm["id"], serviceofferingid=offering["id"],
                                   **{"details[0].%s" % key: value for key, value in details.items()})
        inner = next(iter(body.values()))
        job = client.wait(inner["jobid"]) if status == 200 else {"jobstatus": 2, "jobresult": inner}
        after = client.ok("listVirtualMachines", id=vm["id"])["virtualmachine"][0]
        answers = client.ok("simulatorListAgentAnswers", id=vm["id"]).get("agentanswer", [])
    assert plan.action == action, plan.reasons
    assert any(reason.startswith(situation.vm.hypervisor + ":") for reason in plan.reasons) == noted, plan.reasons
    if error is None:
        assert job["jobstatus"] == 1, job
        assert (after["cpunumber"], after["memory"]) == (plan.cpu, plan.memory)
        return
    assert job["jobstatus"] == 2 and job["jobresult"]["errorcode"] == error[0], job
    assert job["jobresult"]["errortext"].startswith(error[1]), job
    assert (after["cpunumber"], after["memory"]) == (vm["cpunumber"], vm["memory"])
    if agent_text:
        assert any(agent_text in answer["answer"] for answer in answers), answers


# readiness: the live maximum the planner reports is the maximum the hypervisor recorded at start, where the API
# lets the planner know it (XenServer 4 x memory with a recommendation, Windows VCPUs-max, the VMware limits)
READINESS = [
    pytest.param("xen-centos", 16, 4096, id="xen-static-max"),
    pytest.param("xen-windows", 2, 8192, id="xen-windows"),
    pytest.param("esx-linux", 16, 3072, id="vmware-3gb"),
    pytest.param("esx-sockets", 16, 65536, id="vmware-16x"),
    pytest.param("esx-windows", 16, 32768, id="vmware-windows"),
]


def test_readiness_reports_the_started_maxima(tmp_path):
    """CitrixResourceBase.createVmFromTemplate / VmwareResource: the maxima fixed at start are the live ceilings."""
    with _simulator(tmp_path, []) as sim:
        api = CloudStackApi(sim.url, sim.admin_key, sim.admin_secret)
        reader = scaling.Reader(api)
        rows = {row["name"]: row for row in api.list("listVirtualMachines", "virtualmachine", listall=True)}
        recorded = {vm["name"]: vm["domain"] for vm in sim.app.store.all("vm")}
        for case in READINESS:
            name, cpu, memory = case.values
            ready = planner.readiness(reader.situation(rows[name]))
            assert ready.live_scalable, ready.blockers
            assert (ready.max_cpu, ready.max_memory) == (cpu, memory) == (
                recorded[name]["max_vcpus"], recorded[name]["max_memory_mib"]), name

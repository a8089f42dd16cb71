"""The simulator started as CloudStack 4.22 (simulator/versions.py): its version, rules and texts.

[4.22] is github alexandremattioli/cloudstack @ 3d6cafe193 (4.22.0.0-SNAPSHOT, before apache/cloudstack PR #12975);
the texts below are that tree's, read from the files each test names. [main] keeps its own (tests/simulator/
test_scaling.py).
"""

import pytest
import yaml

from simulator.app import Simulator
from simulator.seed import SeedError
from simulator.testing import InProcessSimulator
from tests.simulator.conftest import build_seed, by_name


@pytest.fixture(name="old")
def old_simulator(tmp_path):
    """A 4.22 simulator on the scalable default seed, web-01 on the Custom offering (1 vCPU, 1024 MiB)."""
    path = build_seed(tmp_path)
    seed = yaml.safe_load(path.read_text())
    seed["version"] = "4.22"
    seed["vms"].append(dict(seed["vms"][0], name="app-01", offering="Custom",
                            details={"cpuNumber": 1, "memory": 1024}))
    path.write_text(yaml.safe_dump(seed))
    with InProcessSimulator(path, tmp_path / "state.sqlite") as sim:
        sim.client_ = sim.client()
        sim.vms = by_name(sim.client_, "listVirtualMachines", "virtualmachine", listall="true")
        sim.offerings = by_name(sim.client_, "listServiceOfferings", "serviceoffering")
        yield sim


def scale_error(sim, vm, offering, **details):
    """(errorcode, errortext) of a failed scaleVirtualMachine job."""
    body = sim.client_.ok("scaleVirtualMachine", id=sim.vms[vm]["id"], serviceofferingid=sim.offerings[offering]["id"],
                          **{"details[0].%s" % key: value for key, value in details.items()})
    job = sim.client_.wait(body["jobid"])
    assert job["jobstatus"] == 2, job
    return job["jobresult"]["errorcode"], job["jobresult"]["errortext"]


def test_list_capabilities_names_the_version(old):
    """ManagementServerImpl.listCapabilities: cloudstackversion is the running version."""
    assert old.client_.ok("listCapabilities")["capability"]["cloudstackversion"] == "4.22.0.0"


def test_a_fixed_offering_kvm_vm_is_refused_and_a_custom_one_scales(old):
    """UserVmManagerImpl.upgradeRunningVirtualMachine [4.22]: KVM with a fixed current offering is 431 after the
    scale-down check; a VM on a dynamic offering scales (KVMGuru.isVmDynamicScalable gave it head-room)."""
    assert scale_error(old, "web-01", "Medium") == (
        431, 'Unable to live scale VM on KVM when current service offering is a "Fixed Offering". KVM needs the tag'
             ' "maxMemory" to live scale and it is only configured when VM is deployed with a custom service offering'
             ' and "Dynamic Scalable" is enabled.')
    body = old.client_.ok("scaleVirtualMachine", id=old.vms["app-01"]["id"], serviceofferingid=old.offerings["Custom"]["id"],
                          **{"details[0].cpuNumber": "2"})
    assert old.client_.wait(body["jobid"])["jobresult"]["virtualmachine"]["cpunumber"] == 2


def test_same_size_and_scale_down_share_the_old_text(old):
    """UserVmManagerImpl.upgradeRunningVirtualMachine [4.22]: any value lower or all equal, one 431 text (sic)."""
    assert scale_error(old, "app-01", "Custom", cpuNumber=1, memory=1024) == (
        431, 'While the VM is running, only scalling up it is supported. New service offering {"memory": 1024, "speed":'
             ' 1000, "cpu": 1} should have at least one value (ram, speed or cpu) greater than the current values'
             ' {"memory": 1024, "speed": 1000, "cpu": 1}.')


def test_custom_parameter_and_stopped_texts(old):
    """UserVmManagerImpl.validateCustomParameters and upgradeStoppedVirtualMachine [4.22] ("virtual machine", "cpu")."""
    assert scale_error(old, "app-01", "Custom", cpuNumber=9) == (
        431, "Invalid cpu cores value, specify a value between 1 and 8")
    old.client_.run("stopVirtualMachine", id=old.vms["db-01"]["id"])
    old.client_.ok("updateServiceOffering", id=old.offerings["Large"]["id"], state="Inactive")
    code, text = scale_error(old, "db-01", "Large")
    assert code == 431 and text.startswith("Unable to upgrade virtual machine %s with an inactive service offering"
                                           % old.vms["db-01"]["id"])


def test_zone_switch_text(old):
    """UserVmManagerImpl.upgradeRunningVirtualMachine [4.22]: PermissionDenied with "virtual machines" (530)."""
    old.client_.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="false",
                   zoneid=old.vms["app-01"]["zoneid"])
    assert scale_error(old, "app-01", "Custom", cpuNumber=2) == (
        530, "Dynamically scaling virtual machines is disabled for this zone, please contact your admin.")


def test_the_version_comes_from_the_flag_else_the_seed_and_stays_with_the_database(tmp_path):
    path = build_seed(tmp_path)
    app = Simulator(path, tmp_path / "a.sqlite", version="4.22")
    assert app.version.cloudstackversion == "4.22.0.0"
    app.store.close()
    assert Simulator(path, tmp_path / "a.sqlite").version.name == "4.22"
    seed = yaml.safe_load(path.read_text())
    seed["version"] = "4.17"
    path.write_text(yaml.safe_dump(seed))
    with pytest.raises(SeedError, match=r"version: unknown CloudStack version '4.17' \(known: 4.18, 4.19, 4.20, 4.21,"
                                        r" 4.22, 4.23\)"):
        Simulator(path, tmp_path / "b.sqlite")


def test_hosts_report_the_version(old):
    """HostResponse.version is the agent's version (HostJoinDaoImpl.newHostResponse, host.getVersion), the same as the
    management server's on a CloudStack of one line."""
    hosts = old.client_.ok("listHosts", type="Routing")["host"]
    assert hosts and {host["version"] for host in hosts} == {"4.22.0.0"}
    capability = old.client_.ok("listCapabilities")["capability"]
    assert capability["cloudstackversion"] == "4.22.0.0"

"""Real clients against the simulator: the `cs` library and ngine_io.cloudstack modules via ansible-playbook."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cs import CloudStack, CloudStackApiException

from tests.conftest import ansible_environment

from .conftest import build_seed

PLAYBOOK = Path(__file__).parent / "playbooks" / "ngine_io.yml"


@pytest.fixture
def sim(tmp_path):
    """A subprocess simulator on the default seed (own libvirt node files)."""
    from simulator.testing import SimulatorProcess  # pylint: disable=import-outside-toplevel
    with SimulatorProcess(build_seed(tmp_path, scalable=False), tmp_path / "state.sqlite") as process:
        yield process


@pytest.mark.parametrize("method", ["get", "post"])
def test_cs_client_sync_and_async(sim, method):
    api = CloudStack(endpoint=sim.url, key=sim.admin_key, secret=sim.admin_secret, method=method, poll_interval=0.05)
    vms = api.listVirtualMachines(listall=True, name="db-01")["virtualmachine"]
    large = api.listServiceOfferings(name="Large")["serviceoffering"][0]
    result = api.scaleVirtualMachine(id=vms[0]["id"], serviceofferingid=large["id"], fetch_result=True)
    assert result["virtualmachine"]["serviceofferingname"] == "Large"
    custom = api.listServiceOfferings(name="Custom")["serviceoffering"][0]
    changed = api.changeServiceForVirtualMachine(id=vms[0]["id"], serviceofferingid=custom["id"],
                                                 details=[{"cpuNumber": "3", "memory": "3072"}])
    assert changed["virtualmachine"]["cpunumber"] == 3
    web = api.listVirtualMachines(listall=True, name="web-01")["virtualmachine"][0]
    with pytest.raises(CloudStackApiException) as failed:
        api.scaleVirtualMachine(id=web["id"], serviceofferingid=large["id"], fetch_result=True)
    assert failed.value.error == {
        "errorcode": 530, "errortext": "Dynamically scaling Instances is disabled for this zone, please contact your admin."}
    with pytest.raises(CloudStackApiException) as refused:
        api.scaleVirtualMachine(serviceofferingid=large["id"])
    assert refused.value.error["errorcode"] == 431


def test_ngine_io_modules_work_unchanged(sim, tmp_path):
    results = tmp_path / "results.json"
    env = ansible_environment({"CLOUDSTACK_ENDPOINT": sim.url, "CLOUDSTACK_KEY": sim.admin_key,
                               "CLOUDSTACK_SECRET": sim.admin_secret})
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               str(PLAYBOOK), "-e", json.dumps({"results_file": str(results)})]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    got = json.loads(results.read_text())
    assert got["setting_first"]["changed"] is True and got["setting_first"]["value"] == "true"
    assert got["setting_again"]["changed"] is False
    assert got["web"]["instances"][0]["host"] == "kvm-a1-01" and got["web"]["instances"][0]["state"] == "Running"
    assert got["offering_first"]["changed"] is True and got["offering_again"]["changed"] is False
    assert got["scaled"]["changed"] is True and got["scaled"]["service_offering"] == "Large"
    admin = sim.client()
    zone = admin.ok("listZones")["zone"][0]["id"]
    in_zone = admin.ok("listConfigurations", name="enable.dynamic.scale.vm", zoneid=zone)["configuration"][0]
    assert (in_zone["value"], in_zone["scope"]) == ("true", "zone")
    assert admin.ok("listConfigurations", name="enable.dynamic.scale.vm")["configuration"][0]["value"] == "false"
    offering = admin.ok("listServiceOfferings", name="Medium Plus")["serviceoffering"][0]
    assert (offering["cpunumber"], offering["cpuspeed"], offering["memory"]) == (2, 1500, 3072)
    db = admin.ok("listVirtualMachines", listall="true", name="db-01")["virtualmachine"][0]
    assert (db["serviceofferingname"], db["state"]) == ("Large", "Stopped")

"""Real clients against the simulator: the `cs` library, ngine_io.cloudstack modules via ansible-playbook, its
`instance` inventory plugin via ansible-inventory, and apache-libcloud's CloudStack driver."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cs import CloudStack, CloudStackApiException
from libcloud.compute.providers import get_driver
from libcloud.compute.types import NodeState, Provider

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
    assert failed.value.error == {  # ApiAsyncJobDispatcher.runJob: ExceptionResponse, with its empty uuidList
        "uuidList": [], "errorcode": 530, "errortext": "Dynamically scaling Instances is disabled for this zone, please contact your admin."}
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
    # ngine_io reports updateConfiguration's answer, which is the global row (UpdateCfgCmd.execute)
    assert got["setting_first"]["changed"] is True and got["setting_first"]["value"] == "false"
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


def unwrapped(value):
    """ansible-inventory's JSON with the {"__ansible_unsafe": text} markers replaced by the text."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrapped(item) for item in value]
    return value


def inventory(sim, tmp_path, key, secret, **options):
    """`ansible-inventory --list` of ngine_io.cloudstack.instance with these options (connection from CLOUDSTACK_*)."""
    source = tmp_path / "sim.cloudstack-instances.yml"
    source.write_text(yaml.safe_dump({"plugin": "ngine_io.cloudstack.instance", **options}))
    env = ansible_environment({"CLOUDSTACK_ENDPOINT": sim.url, "CLOUDSTACK_KEY": key, "CLOUDSTACK_SECRET": secret})
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"],
                         env=env, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return unwrapped(json.loads(run.stdout))


def test_ngine_io_inventory_lists_vms_with_their_addresses(sim, tmp_path):
    """The plugin reads nic[0].ipaddress (v4_default_ip, the default ansible_host) and nic[].networkname."""
    got = inventory(sim, tmp_path, sim.user_key, sim.user_secret,
                    keyed_groups=[{"prefix": "net", "key": "networks"}, {"prefix": "state", "key": "state"}])
    hosts = got["_meta"]["hostvars"]
    assert set(hosts) == {"web-01", "db-01"} and set(got["cloudstack"]["hosts"]) == {"web-01", "db-01"}
    admin = sim.client()
    for name, variables in hosts.items():
        vm = admin.ok("listVirtualMachines", listall="true", name=name)["virtualmachine"][0]
        assert variables["ansible_host"] == variables["v4_default_ip"] == vm["nic"][0]["ipaddress"]
        assert (variables["zone"], variables["account"], variables["domain"], variables["state"]) == (
            "zone-a", "acme", "customers", vm["state"])
        assert variables["networks"] == ["acme-network"]
    assert {hosts["web-01"]["ansible_host"], hosts["db-01"]["ansible_host"]} == {"10.1.1.2", "10.1.1.3"}
    assert set(got["net_acme_network"]["hosts"]) == {"web-01", "db-01"}
    assert got["state_Running"]["hosts"] == ["web-01"] and got["state_Stopped"]["hosts"] == ["db-01"]
    # a root admin lists its own account's VMs (none) unless filtered by domain, as CloudStack answers
    assert not inventory(sim, tmp_path, sim.admin_key, sim.admin_secret).get("_meta", {}).get("hostvars")
    by_domain = inventory(sim, tmp_path, sim.admin_key, sim.admin_secret, filter_by_domain="customers",
                          filter_by_zone="zone-a")
    assert set(by_domain["_meta"]["hostvars"]) == {"web-01", "db-01"}


def libcloud_driver(sim, key, secret):
    """libcloud's CloudStack driver on the simulator's URL (plain HTTP)."""
    return get_driver(Provider.CLOUDSTACK)(key, secret, url=sim.url, secure=False)


def test_libcloud_lists_nodes_and_locations(sim):
    """list_nodes calls listVirtualMachines, listPublicIpAddresses, listPortForwardingRules and
    listIpForwardingRules; private_ips come from nic[].ipaddress."""
    driver = libcloud_driver(sim, sim.user_key, sim.user_secret)
    nodes = {node.name: node for node in driver.list_nodes()}
    assert set(nodes) == {"web-01", "db-01"}
    assert (nodes["web-01"].state, nodes["db-01"].state) == (NodeState.RUNNING, NodeState.STOPPED)
    assert (nodes["web-01"].private_ips, nodes["db-01"].private_ips) == (["10.1.1.2"], ["10.1.1.3"])
    assert nodes["web-01"].public_ips == [] and nodes["web-01"].extra["port_forwarding_rules"] == []
    assert (nodes["web-01"].extra["zone_name"], nodes["web-01"].extra["size_name"]) == ("zone-a", "Small")
    locations = driver.list_locations()
    zone = sim.client().ok("listZones")["zone"][0]
    assert [(loc.id, loc.name) for loc in locations] == [(zone["id"], "zone-a")]
    admin = libcloud_driver(sim, sim.admin_key, sim.admin_secret)
    assert admin.list_nodes(location=locations[0]) == []  # the admin's own account has no VMs
    with pytest.raises(KeyError, match="cpunumber"):
        # custom offerings have no cpunumber (ServiceOfferingJoinDaoImpl sets offering.getCpu(), null for them):
        # libcloud's list_sizes fails on them against CloudStack as against the simulator
        driver.list_sizes()


def test_libcloud_lists_sizes(tmp_path):
    """list_sizes on a seed with fixed offerings only: name, memory and cpu of each listServiceOfferings entry."""
    from simulator.testing import SimulatorProcess  # pylint: disable=import-outside-toplevel
    seed_path = build_seed(tmp_path, scalable=False)
    seed = yaml.safe_load(seed_path.read_text())
    seed["service_offerings"] = [o for o in seed["service_offerings"] if not o.get("customized")]
    user_offerings = [o for o in seed["service_offerings"] if not o.get("issystem")]  # listed without issystem
    seed_path.write_text(yaml.safe_dump(seed))
    with SimulatorProcess(seed_path, tmp_path / "state.sqlite") as sim:
        sizes = libcloud_driver(sim, sim.user_key, sim.user_secret).list_sizes()
    assert [(size.name, size.ram, size.extra["cpu"]) for size in sizes] == [
        (o["name"], o["memory"], o["cpunumber"]) for o in user_offerings]

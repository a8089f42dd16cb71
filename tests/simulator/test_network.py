"""Guest networks and NICs on the wire: nic[] of UserVmResponse, listNics, listNetworks and NIC allocation at deploy."""

import ipaddress

import pytest
import yaml

from simulator.app import Simulator
from simulator.seed import SeedError
from simulator.testing import InProcessSimulator

from .conftest import World, build_seed
# fixtures sim (default seed: web-01 Running and db-01 Stopped on acme-network, user bob in domain `other`) and world
from .test_fidelity import sim, world  # noqa: F401  pylint: disable=unused-import

USER = ("ALICE-KEY", "ALICE-SECRET")
# NicResponse field order (Gson writes the declared fields in order)
VM_NIC_KEYS = ["id", "networkid", "networkname", "netmask", "gateway", "ipaddress", "isolationuri", "broadcasturi",
               "traffictype", "type", "isdefault", "macaddress", "secondaryip", "extradhcpoption", "deviceid",
               "enabled"]


def network_seed(tmp_path, extra=None, only=None, **changes):
    """A build_seed seed whose zone-a has the default networks plus `extra`, or only the networks `only`."""
    path = build_seed(tmp_path, scalable=False, **changes)
    seed = yaml.safe_load(path.read_text())
    zone = seed["zones"][0]
    zone["networks"] = only if only is not None else zone["networks"] + list(extra or ())
    path.write_text(yaml.safe_dump(seed))
    return path


def networks(client, **params):
    """{name: network} of listNetworks."""
    return {n["name"]: n for n in client.ok("listNetworks", **params).get("network", [])}


def deploy(client, **params):
    """deployVirtualMachine of a Small debian VM in zone-a (started) by this client; returns the job's VM."""
    template = client.ok("listTemplates", templatefilter="executable")["template"][0]["id"]
    zone = client.ok("listZones")["zone"][0]["id"]
    small = client.ok("listServiceOfferings", name="Small")["serviceoffering"][0]["id"]
    job = client.run("deployVirtualMachine", serviceofferingid=small, templateid=template, zoneid=zone, **params)
    assert job["jobstatus"] == 1, job
    return job["jobresult"]["virtualmachine"]


def test_vm_nic_in_the_user_vm_response(world):
    """UserVmJoinDaoImpl.setUserVmResponse fills one NicResponse per NIC row: id, IPv4 address/gateway/netmask,
    network id and name, MAC, enabled, the network's broadcast URI as broadcast and isolation URI, traffic and guest
    type, default flag, deviceid as a String, secondary IPs (a list, here empty) and extra DHCP options (empty)."""
    web = world.vm("web-01")
    assert len(web["nic"]) == 1
    nic = web["nic"][0]
    assert list(nic) == VM_NIC_KEYS
    net = networks(world.client, listall="true")["acme-network"]
    assert (nic["networkid"], nic["networkname"], nic["type"], nic["traffictype"]) == (
        net["id"], "acme-network", "Isolated", "Guest")
    assert (nic["ipaddress"], nic["gateway"], nic["netmask"]) == ("10.1.1.2", "10.1.1.1", "255.255.255.0")
    assert (nic["isolationuri"], nic["broadcasturi"]) == ("vlan://1001", "vlan://1001")
    assert (nic["isdefault"], nic["deviceid"], nic["secondaryip"], nic["extradhcpoption"]) == (True, "0", [], [])
    db = world.vm("db-01")["nic"][0]
    assert db["ipaddress"] == "10.1.1.3" and db["id"] != nic["id"] and db["macaddress"] != nic["macaddress"]


def test_mac_addresses_follow_the_network_sequence(world):
    """NetworkDaoImpl.getNextAvailableMacAddress: the network's mac_address_seq | 0x02 << 40 | the zone's MAC
    identifier << 32 (mac.identifier 0: the zone id, NetworkModelImpl.getMacIdentifier) | network id << 16."""
    macs = [world.vm(name)["nic"][0]["macaddress"] for name in ("web-01", "db-01")]
    assert macs == ["02:01:00:01:00:01", "02:01:00:01:00:02"]


def test_list_nics_answers_create_nic_response(sim, world):
    """ListNicsCmd: virtualmachineid required; ApiResponseHelper.createNicResponse adds virtualmachineid and lists
    secondary IPs only for NICs that have some; NetworkServiceImpl.listNics checks access to the VM."""
    admin = world.client
    web = world.vm("web-01")
    answer = admin.ok("listNics", virtualmachineid=web["id"])
    assert answer["count"] == 1
    nic = answer["nic"][0]
    assert nic["virtualmachineid"] == web["id"] and "secondaryip" not in nic
    assert {key: value for key, value in nic.items() if key != "virtualmachineid"} == {
        key: value for key, value in web["nic"][0].items() if key != "secondaryip"}
    assert admin.ok("listNics", virtualmachineid=web["id"], nicid=nic["id"])["count"] == 1
    shared = networks(admin)["shared-a"]["id"]
    assert admin.ok("listNics", virtualmachineid=web["id"], networkid=shared) == {}
    assert sim.client(*USER).ok("listNics", virtualmachineid=web["id"])["nic"][0]["id"] == nic["id"]
    status, body = sim.client("BOB-KEY", "BOB-SECRET").call("listNics", virtualmachineid=web["id"])
    assert (status, body["listnicsresponse"]["errortext"]) == (
        531, "Caller does not have permission to operate with provided resource.")


def test_deploy_takes_the_lowest_free_address_and_expunge_frees_it(sim, world):
    """GuestNetworkGuru.allocate -> IpAddressManagerImpl.acquireGuestIpAddress: a free address of the CIDR that is
    not the gateway and not used by a NIC (NetworkModelImpl.getAvailableIps); the simulator takes the lowest.
    Expunging the VM deallocates its NIC (VirtualMachineManagerImpl.expunge -> NetworkOrchestrator.cleanupNics)."""
    alice = sim.client(*USER)
    first = deploy(alice, name="app-01")
    assert first["nic"][0]["ipaddress"] == "10.1.1.4"
    web = world.vm("web-01")
    # expunge=true is for admins (allow.user.expunge.recover.vm is false: UserVmManagerImpl.checkExpungeVmPermission)
    assert world.client.run("destroyVirtualMachine", id=web["id"], expunge="true")["jobstatus"] == 1
    assert deploy(alice, name="app-02")["nic"][0]["ipaddress"] == "10.1.1.2"
    addresses = [nic["ipaddress"] for vm in alice.ok("listVirtualMachines")["virtualmachine"] for nic in vm["nic"]]
    assert sorted(addresses) == ["10.1.1.2", "10.1.1.3", "10.1.1.4"]


def test_addresses_survive_a_restart(tmp_path):
    """NICs are stored with the VM: a restart on the same database shows the same addresses and MACs, and the next
    deploy continues the network's address and MAC sequence."""
    seed, db = build_seed(tmp_path, scalable=False), tmp_path / "state.sqlite"

    def nics(sim):
        vms = sim.client().ok("listVirtualMachines", listall="true")["virtualmachine"]
        return {vm["name"]: [(n["id"], n["ipaddress"], n["macaddress"]) for n in vm["nic"]] for vm in vms}
    with InProcessSimulator(seed, db) as sim:
        before = nics(sim)
        deploy(sim.client(*USER), name="app-01")
    with InProcessSimulator(seed, db) as sim:
        after = nics(sim)
    assert set(before) == {"web-01", "db-01"} and {name: after[name] for name in before} == before
    assert after["app-01"][0][1:] == ("10.1.1.4", "02:01:00:01:00:03")


def test_deploy_without_networks_creates_the_account_network(world):
    """UserVmManagerImpl.getDefaultNetwork: no networkids and no Isolated network of the owner in the zone ->
    createDefaultNetworkForAccount makes <account>-network from the Required offering (GuestNetworkGuru.design: the
    zone's guest CIDR, first address the gateway); network domain "cs" + hex(account id) + GuestDomainSuffix."""
    vm = deploy(world.client, name="admin-vm")
    admin_net = networks(world.client)["admin-network"]
    assert vm["nic"][0]["networkid"] == admin_net["id"] and vm["nic"][0]["ipaddress"] == "10.1.1.2"
    assert (admin_net["type"], admin_net["acltype"], admin_net["account"], admin_net["cidr"], admin_net["gateway"]) == (
        "Isolated", "Account", "admin", "10.1.1.0/24", "10.1.1.1")
    assert admin_net["networkofferingname"] == "DefaultIsolatedNetworkOfferingWithSourceNatService"
    assert admin_net["networkdomain"] == "cs1cloud.internal"
    deploy(world.client, name="admin-vm2")
    assert [n["name"] for n in networks(world.client).values() if n["type"] == "Isolated"] == ["admin-network"]


def test_networkids_give_one_nic_each_the_first_default(world):
    """DeployVMCmd networkids: a NIC per network in the given order, device ids from 0, the first the default
    (UserVmManagerImpl.createVirtualMachine's networkNicMap; NetworkOrchestrator.allocate)."""
    nets = networks(world.client, listall="true")
    admin_net_vm = deploy(world.client, name="first")
    own = admin_net_vm["nic"][0]["networkid"]
    vm = deploy(world.client, name="two-nics", networkids=f"{nets['shared-a']['id']},{own}")
    assert [(n["networkname"], n["deviceid"], n["isdefault"]) for n in vm["nic"]] == [
        ("shared-a", "0", True), ("admin-network", "1", False)]
    shared = vm["nic"][0]
    assert (shared["ipaddress"], shared["gateway"], shared["type"]) == ("10.2.0.2", "10.2.0.1", "Shared")


def test_network_permissions_of_deploy(tmp_path):
    """NetworkModelImpl.checkNetworkPermissions (admin.is.allowed.to.deploy.anywhere false): an account network only
    for its owner, a domain's shared network only in that domain's tree (checkDomainNetworkPermissions)."""
    extra = [{"name": "customers-only", "type": "Shared", "domain": "customers", "cidr": "10.3.0.0/24"}]
    with InProcessSimulator(network_seed(tmp_path, extra=extra), tmp_path / "state.sqlite") as sim:
        check_network_permissions(sim)


def check_network_permissions(sim):
    """The checks of test_network_permissions_of_deploy on a running simulator."""
    world = World(sim.client())
    nets = networks(world.client, listall="true")
    template = world.client.ok("listTemplates", templatefilter="executable")["template"][0]["id"]
    params = {"serviceofferingid": world.offerings["Small"], "templateid": template,
              "zoneid": world.client.ok("listZones")["zone"][0]["id"]}
    status, body = world.client.call("deployVirtualMachine", networkids=nets["acme-network"]["id"], **params)
    assert (status, body["deployvirtualmachineresponse"]["errortext"]) == (
        531, f"Unable to use network with id= {nets['acme-network']['id']}, permission denied")
    root = world.client.ok("listDomains", name="ROOT")["domain"][0]["id"]
    status, body = world.client.call("deployVirtualMachine", networkids=nets["customers-only"]["id"], **params)
    assert (status, body["deployvirtualmachineresponse"]["errortext"]) == (
        531, f"Shared network id={nets['customers-only']['id']} is not available in domain id={root}")
    alice = sim.client(*USER)
    vm = deploy(alice, name="cust", networkids=nets["customers-only"]["id"])
    assert vm["nic"][0]["ipaddress"] == "10.3.0.2"


def test_a_full_network_refuses_the_deploy(tmp_path):
    """GuestNetworkGuru.allocate: no free address -> InsufficientVirtualNetworkCapacityException "Unable to acquire
    Guest IP address for network <NetworkVO.toString()>", answered by DeployVMCmd.create as 533."""
    tiny_seed = network_seed(tmp_path, only=[{"name": "tiny", "type": "Shared", "cidr": "10.9.0.0/30"}], vms=[])
    with InProcessSimulator(tiny_seed, tmp_path / "state.sqlite") as sim:
        check_full_network(sim)


def check_full_network(sim):
    """The checks of test_a_full_network_refuses_the_deploy on a running simulator."""
    world = World(sim.client())
    tiny = networks(world.client)["tiny"]
    assert deploy(world.client, name="only", networkids=tiny["id"])["nic"][0]["ipaddress"] == "10.9.0.2"
    template = world.client.ok("listTemplates", templatefilter="executable")["template"][0]["id"]
    status, body = world.client.call("deployVirtualMachine", serviceofferingid=world.offerings["Small"],
                                     templateid=template, zoneid=tiny["zoneid"], networkids=tiny["id"])
    network_id = sim.app.store.by_uuid("network", tiny["id"])["id"]
    assert (status, body["deployvirtualmachineresponse"]["errortext"]) == (
        533, f'Unable to acquire Guest IP address for network Network {{"id": {network_id}, "name": "tiny", "uuid":'
             f' "{tiny["id"]}", "networkofferingid": 8}}')
    assert len(world.client.ok("listVirtualMachines")["virtualmachine"]) == 1


def test_list_networks_response_and_views(sim, world):
    """ApiResponseHelper.createNetworkResponse: vlan and broadcasturi only in the root admin's Full view,
    displaynetwork only for root admins (@Param authorized); an account network carries its owner, a zone-wide
    shared one the ROOT domain with subdomain access (NetworkServiceImpl.commitNetwork). An Isolated network is
    Implemented while a VM on it runs, a Shared one Setup."""
    admin_view = networks(sim.client(), listall="true")
    user_view = networks(sim.client(*USER))
    assert set(user_view) == {"acme-network", "shared-a"}
    acme = admin_view["acme-network"]
    assert (acme["state"], acme["vlan"], acme["broadcasturi"], acme["displaynetwork"]) == (
        "Implemented", "1001", "vlan://1001", True)
    assert (acme["account"], acme["domain"], acme["acltype"], acme["networkofferingavailability"]) == (
        "acme", "customers", "Account", "Required")
    assert ipaddress.ip_network(acme["cidr"]).netmask == ipaddress.ip_address(acme["netmask"])
    for hidden in ("vlan", "broadcasturi", "details", "displaynetwork"):
        assert hidden not in user_view["acme-network"]
    shared = admin_view["shared-a"]
    assert (shared["state"], shared["type"], shared["acltype"], shared["specifyipranges"]) == (
        "Setup", "Shared", "Domain", True)
    assert "account" not in shared and (shared["domain"], shared["subdomainaccess"]) == ("ROOT", True)
    assert set(networks(sim.client())) == {"shared-a"}  # the admin's own account has no network yet
    assert set(networks(sim.client(), type="isolated", listall="true")) == {"acme-network"}
    assert networks(sim.client("BOB-KEY", "BOB-SECRET")).keys() == {"shared-a"}
    web = world.vm("web-01")
    assert world.client.run("stopVirtualMachine", id=web["id"])["jobstatus"] == 1
    assert networks(sim.client(*USER))["acme-network"]["state"] == "Allocated"
    assert "broadcasturi" not in world.vm("web-01")["nic"][0]


def test_nat_rule_lists_are_empty(world):
    """The simulator has no public IPs: ListPortForwardingRulesCmd and ListIpForwardingRulesCmd answer empty lists."""
    assert world.client.ok("listPortForwardingRules") == {}
    assert world.client.ok("listIpForwardingRules", virtualmachineid=world.vm("web-01")["id"]) == {}


@pytest.mark.parametrize("network, text", [
    ({"name": "n", "type": "Shared"}, "a Shared network needs a cidr"),
    ({"name": "n", "type": "Isolated"}, "an Isolated network belongs to an account"),
    ({"name": "n", "type": "Isolated", "account": "acme", "cidr": "10.1.1.1/24"}, "has host bits set"),
    ({"name": "n", "type": "Bridged", "cidr": "10.1.0.0/24"}, "type must be Isolated or Shared"),
])
def test_seed_network_errors_name_the_entry(tmp_path, network, text):
    seed = network_seed(tmp_path, only=[network], vms=[])
    with pytest.raises(SeedError, match=f"zone zone-a: network n: .*{text}"):
        Simulator(seed, tmp_path / "state.sqlite")

"""Who sees what in listNetworks and listVirtualMachines, and the details values of listVirtualMachines.

The seed: ROOT > customers > sub and ROOT > other; the root admin and ops-user (ops) in ROOT, dora (domain admin of
customers), alice (acme) and beta-user (beta) in customers, deep-user (deep) in sub and bob (bob-acct) in other, each
account but dora's with a VM on its own Isolated network; shared networks zone-wide (shared-a), of customers, of sub
and of other.
"""

import re

import pytest
import yaml

from simulator.model import account_to_string, domain_to_string
from simulator.testing import InProcessSimulator

from .conftest import build_seed

KEYS = {"admin": ("ADMIN-KEY", "ADMIN-SECRET"), "dora": ("DOMADMIN-KEY", "DOMADMIN-SECRET"),
        "alice": ("ALICE-KEY", "ALICE-SECRET"), "beta": ("BETA-KEY", "BETA-SECRET"),
        "deep": ("DEEP-KEY", "DEEP-SECRET"), "bob": ("BOB-KEY", "BOB-SECRET")}
DOMAINS = [{"name": "sub", "parent": "customers"}, {"name": "other", "parent": "ROOT"}]


def user_account(name, domain, username):
    """A seed account of role User with one user whose keys are <USERNAME>-KEY/-SECRET."""
    key = username.split("-")[0].upper()
    return {"name": name, "domain": domain, "role": "User",
            "users": [{"username": username, "apikey": f"{key}-KEY", "secretkey": f"{key}-SECRET"}]}


ACCOUNTS = [user_account("beta", "customers", "beta-user"), user_account("deep", "sub", "deep-user"),
            user_account("bob-acct", "other", "bob"), user_account("ops", "ROOT", "ops-user")]
VMS = [{"name": name, "account": account, "zone": "zone-a", "template": "debian-12-generic", "offering": "Small",
        "state": "Stopped"} for name, account in (("beta-01", "beta"), ("deep-01", "deep"), ("bob-01", "bob-acct"),
                                                  ("root-01", "admin"), ("ops-01", "ops"))]
SHARED = [{"name": f"{domain}-shared", "type": "Shared", "domain": domain, "cidr": f"10.{index}.0.0/24"}
          for index, domain in ((3, "customers"), (4, "sub"), (5, "other"))]
ISOLATED = {"acme-network", "beta-network", "deep-network", "bob-acct-network", "admin-network", "ops-network"}
ALL_NETWORKS = ISOLATED | {"shared-a", "customers-shared", "sub-shared", "other-shared"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One simulator on the seed above, read by every test here (tests that change state use their own VM)."""
    tmp = tmp_path_factory.mktemp("scoping")
    seed = build_seed(tmp, scalable=False, domains=DOMAINS, accounts=ACCOUNTS)
    data = yaml.safe_load(seed.read_text())
    data["vms"] += VMS + [{"name": "two-nics", "account": "acme", "zone": "zone-a", "template": "debian-12-generic",
                           "offering": "Small", "state": "Stopped", "networks": ["acme-network", "shared-a"]}]
    data["zones"][0]["networks"] += SHARED
    seed.write_text(yaml.safe_dump(data))
    with InProcessSimulator(seed, tmp / "state.sqlite") as running:
        yield running


def client(sim, who):
    """A client signed with the keys of one of the seed's users."""
    return sim.client(*KEYS[who])


def names(sim, who, command, key, **params):
    """The names a list command answers to this caller."""
    return {item["name"] for item in client(sim, who).ok(command, **params).get(key, [])}


def network_names(sim, who, **params):
    """The names listNetworks answers to this caller."""
    return names(sim, who, "listNetworks", "network", **params)


def vm_names(sim, who, **params):
    """The names listVirtualMachines answers to this caller."""
    return names(sim, who, "listVirtualMachines", "virtualmachine", **params)


def failure(sim, who, command, **params):
    """(HTTP status, errortext) of a refused call."""
    status, body = client(sim, who).call(command, **params)
    assert status != 200, body
    return status, next(iter(body.values()))["errortext"]


def domain_id(sim, name):
    """The uuid of a seed domain."""
    return sim.app.store.one("domain", name=name)["uuid"]


def domain_denied(sim, who, domain):
    """DomainChecker.checkAccess(caller, domain)'s text for this caller and domain."""
    store = sim.app.store
    account = store.get("account", store.one("user", apikey=KEYS[who][0])["account_id"])
    return (531, f"Account {account_to_string(account)} does not have permission to operate within domain"
                 f" id={domain_id(sim, domain)}")


def vm_id(sim, name):
    """The uuid of a seed VM."""
    return sim.app.store.one("vm", name=name)["uuid"]


def test_root_admin_networks(sim):
    """NetworkServiceImpl.searchForNetworks for the root admin: without listall the ROOT domain's path only (the
    networks of every account there, not only its own, and its domain networks: the zone-wide one), listall makes it recursive (everything); domainid that
    domain's account and domain networks, its subdomains' with isrecursive (listall does not), the parents' not."""
    assert network_names(sim, "admin") == {"admin-network", "ops-network", "shared-a"}
    assert network_names(sim, "admin", listall="true") == ALL_NETWORKS
    customers = domain_id(sim, "customers")
    assert network_names(sim, "admin", domainid=customers) == {"acme-network", "beta-network", "customers-shared"}
    assert network_names(sim, "admin", domainid=customers, listall="true") == {
        "acme-network", "beta-network", "customers-shared"}
    assert network_names(sim, "admin", domainid=customers, isrecursive="true") == {
        "acme-network", "beta-network", "deep-network", "customers-shared", "sub-shared"}


def test_admin_account_networks(sim):
    """searchForNetworks: account is looked at only with domainid (then its networks and the domain-level networks
    of its domain and its parents, addDomainLevelNetworksToSearch); 431 "Unable to find account ... in specified
    domain" for an unknown one; without domainid it is ignored."""
    customers = domain_id(sim, "customers")
    assert network_names(sim, "admin", domainid=customers, account="acme") == {
        "acme-network", "customers-shared", "shared-a"}
    assert network_names(sim, "admin", account="acme") == network_names(sim, "admin")
    assert failure(sim, "admin", "listNetworks", domainid=customers, account="nobody") == (
        431, "Unable to find account nobody in specified domain")


def test_domain_admin_networks(sim):
    """searchForNetworks for a domain admin: its domain's account and domain networks plus its parents' domain
    networks with subdomain access; listall adds the subdomains; a domainid outside its tree is refused by
    DomainChecker.checkAccess(caller, domain)."""
    assert network_names(sim, "dora") == {"acme-network", "beta-network", "customers-shared", "shared-a"}
    assert network_names(sim, "dora", listall="true") == {
        "acme-network", "beta-network", "deep-network", "customers-shared", "sub-shared", "shared-a"}
    assert network_names(sim, "dora", domainid=domain_id(sim, "sub")) == {"deep-network", "sub-shared"}
    assert failure(sim, "dora", "listNetworks", domainid=domain_id(sim, "other")) == domain_denied(sim, "dora", "other")


def test_user_networks(sim):
    """searchForNetworks for a user: its own account networks and the domain networks of its domain and its
    parents (listall changes nothing); a domainid other than its own domain is refused, another account of its
    domain too (checkAccess on the owner: "Caller does not have permission to operate with provided resource.")."""
    assert network_names(sim, "alice") == {"acme-network", "customers-shared", "shared-a"}
    assert network_names(sim, "alice", listall="true") == network_names(sim, "alice")
    assert network_names(sim, "deep") == {"deep-network", "sub-shared", "customers-shared", "shared-a"}
    assert network_names(sim, "bob") == {"bob-acct-network", "other-shared", "shared-a"}
    assert failure(sim, "alice", "listNetworks", domainid=domain_id(sim, "sub")) == domain_denied(sim, "alice", "sub")
    assert failure(sim, "alice", "listNetworks", domainid=domain_id(sim, "customers"), account="beta") == (
        531, "Caller does not have permission to operate with provided resource.")


def test_network_filters(sim):
    """searchForNetworks: networkfilter (Network.NetworkFilter, any case; 431 otherwise; no network permissions, so
    shared is empty), type (GuestType.fromValue, "all" for none, 431 "Unexpected Guest type"), issystem (reset
    for non-root callers, no system networks kept), name (EQ), keyword (LIKE), displaynetwork (root admins only),
    supportedservices (431 for an unknown service), canusefordeploy, restartrequired, forvpc; newest first."""
    assert network_names(sim, "alice", networkfilter="ACCOUNT") == {"acme-network"}
    assert network_names(sim, "alice", networkfilter="domain") == {"customers-shared", "shared-a"}
    assert network_names(sim, "alice", networkfilter="accountdomain") == network_names(sim, "alice")
    assert network_names(sim, "alice", networkfilter="shared") == set()
    assert failure(sim, "alice", "listNetworks", networkfilter="mine") == (431, "Invalid value of networkfilter: mine")
    assert network_names(sim, "alice", type="SHARED") == {"customers-shared", "shared-a"}
    assert network_names(sim, "alice", type="all") == network_names(sim, "alice")
    assert failure(sim, "alice", "listNetworks", type="vpc") == (431, "Unexpected Guest type : vpc")
    assert network_names(sim, "alice", issystem="true") == network_names(sim, "alice")
    assert network_names(sim, "admin", issystem="true") == set()
    assert failure(sim, "admin", "listNetworks", issystem="true", domainid=domain_id(sim, "customers")) == (
        431, "System network belongs to system, account and domainId parameters can't be specified")
    assert network_names(sim, "alice", name="ACME-network") == {"acme-network"}
    assert network_names(sim, "alice", name="acme") == set()
    assert network_names(sim, "alice", keyword="SHARED") == {"customers-shared", "shared-a"}
    assert network_names(sim, "alice", displaynetwork="false") == network_names(sim, "alice")
    assert network_names(sim, "admin", displaynetwork="false") == set()
    assert network_names(sim, "alice", supportedservices="sourcenat") == {"acme-network"}
    assert failure(sim, "alice", "listNetworks", supportedservices="Teleport") == (
        431, "Invalid service specified Teleport")
    assert network_names(sim, "alice", canusefordeploy="true") == network_names(sim, "alice")
    assert network_names(sim, "alice", canusefordeploy="false") == set()
    assert network_names(sim, "alice", restartrequired="true") == set()
    assert network_names(sim, "alice", forvpc="true") == set()
    listed = client(sim, "admin").ok("listNetworks", listall="true")
    assert [n["id"] for n in listed["network"]] == sorted(
        (n["id"] for n in listed["network"]), key=lambda uuid: sim.app.store.by_uuid("network", uuid)["id"],
        reverse=True)
    assert client(sim, "alice").ok("listNetworks", retrieveonlyresourcecount="true") == {"count": 3}


def test_zone_wide_shared_network_is_the_root_domains(sim):
    """NetworkServiceImpl.commitNetwork: a shared network without a domain is mapped to ROOT with subdomain
    access; createNetworkResponse shows that domain (populateDomain) and subdomainaccess."""
    shared = next(n for n in client(sim, "bob").ok("listNetworks", name="shared-a")["network"])
    assert (shared["domain"], shared["domainid"], shared["subdomainaccess"]) == ("ROOT", domain_id(sim, "ROOT"), True)
    assert "account" not in shared


def test_root_admin_vms(sim):
    """QueryManagerImpl.searchForUserVMIdsAndCount with AccountManagerImpl.buildACLSearchParameters: the root
    admin's own VMs without listall, every VM with it; an id alone widens the search (ids does not); domainid that
    domain's VMs, its subdomains' too only with isrecursive (buildACLSearchCriteria: domain path LIKE)."""
    everyone = {"web-01", "db-01", "two-nics", "beta-01", "deep-01", "bob-01", "root-01", "ops-01"}
    assert vm_names(sim, "admin") == {"root-01"}
    assert vm_names(sim, "admin", listall="true") == everyone
    assert vm_names(sim, "admin", id=vm_id(sim, "deep-01")) == {"deep-01"}
    assert vm_names(sim, "admin", ids=vm_id(sim, "deep-01")) == set()
    customers = domain_id(sim, "customers")
    assert vm_names(sim, "admin", domainid=customers) == {"web-01", "db-01", "two-nics", "beta-01"}
    assert vm_names(sim, "admin", domainid=customers, listall="true") == {"web-01", "db-01", "two-nics", "beta-01"}
    assert vm_names(sim, "admin", domainid=customers, isrecursive="true") == {
        "web-01", "db-01", "two-nics", "beta-01", "deep-01"}
    assert vm_names(sim, "admin", isrecursive="true") == {"root-01"}


def test_domain_admin_and_user_vms(sim):
    """buildACLSearchParameters: a domain admin lists its own VMs, with listall (or an id) its domain's tree, with
    domainid a domain of that tree (its subtree with isrecursive); a user only its own, whatever listall,
    domainid (its own domain; another one is refused) or isrecursive say; account is looked up in the caller's
    domain without domainid ("could not find account X in domain <DomainVO>") and checked (checkAccess)."""
    assert vm_names(sim, "dora") == set()
    assert vm_names(sim, "dora", listall="true") == {"web-01", "db-01", "two-nics", "beta-01", "deep-01"}
    assert vm_names(sim, "dora", id=vm_id(sim, "deep-01")) == {"deep-01"}
    assert vm_names(sim, "dora", id=vm_id(sim, "bob-01")) == set()
    assert vm_names(sim, "dora", domainid=domain_id(sim, "customers")) == {"web-01", "db-01", "two-nics", "beta-01"}
    assert vm_names(sim, "dora", account="beta") == {"beta-01"}
    assert failure(sim, "dora", "listVirtualMachines", domainid=domain_id(sim, "other")) == domain_denied(
        sim, "dora", "other")
    own = {"web-01", "db-01", "two-nics"}
    assert vm_names(sim, "alice") == own
    assert vm_names(sim, "alice", listall="true", isrecursive="true") == own
    assert vm_names(sim, "alice", domainid=domain_id(sim, "customers"), isrecursive="true") == own
    assert failure(sim, "alice", "listVirtualMachines", domainid=domain_id(sim, "sub")) == domain_denied(
        sim, "alice", "sub")
    assert failure(sim, "alice", "listVirtualMachines", account="beta") == (
        531, "Caller does not have permission to operate with provided resource.")
    customers = sim.app.store.one("domain", name="customers")
    assert failure(sim, "alice", "listVirtualMachines", account="nobody") == (
        431, f"could not find account nobody in domain {domain_to_string(customers)}")


def test_vm_filters(sim):
    """searchForUserVMIdsAndCount: id and ids together refused, ids known VMs; hypervisor checked
    (HypervisorType.getType) and matched; name is the host name EQ; keyword LIKE on display/host name or a NIC
    address, or the state; state "present"; a Stopped VM is in the cluster of its last host."""
    web = vm_id(sim, "web-01")
    assert failure(sim, "alice", "listVirtualMachines", id=web, ids=web) == (
        431, "Specify either id or ids but not both parameters")
    unknown = "7e1c0c3a-2222-4b4b-9d9d-000000000999"  # ids: UUIDs of UserVmResponse (ParamProcessWorker)
    assert failure(sim, "alice", "listVirtualMachines", ids=f"{web},{unknown}") == (
        431, "Unable to execute API command listvirtualmachines due to invalid value. Invalid parameter ids"
             f" value={unknown} due to incorrect long value format, or entity does not exist or due to incorrect"
             " parameter annotation for the field in api cmd class.")
    assert vm_names(sim, "alice", ids=f"{web},{vm_id(sim, 'db-01')}") == {"web-01", "db-01"}
    assert failure(sim, "alice", "listVirtualMachines", hypervisor="qemu") == (431, "Invalid HypervisorType qemu")
    assert vm_names(sim, "alice", hypervisor="kvm") == {"web-01", "db-01", "two-nics"}
    assert vm_names(sim, "alice", hypervisor="VMware") == set()
    assert vm_names(sim, "alice", name="WEB-01") == {"web-01"}
    assert vm_names(sim, "alice", name="web") == set()
    address = client(sim, "alice").ok("listVirtualMachines", id=web)["virtualmachine"][0]["nic"][0]["ipaddress"]
    assert vm_names(sim, "alice", keyword=address) == {"web-01"}
    assert vm_names(sim, "alice", keyword="stopped") == {"db-01", "two-nics"}
    assert vm_names(sim, "alice", state="Present") == {"web-01", "db-01", "two-nics"}
    cluster = client(sim, "admin").ok("listClusters", name="cluster-a1")["cluster"][0]["id"]
    stopped_with_last_host = {vm["name"] for vm in sim.app.store.all("vm")
                              if vm["state"] == "Stopped" and vm.get("last_host_id")}
    running = {vm["name"] for vm in sim.app.store.all("vm") if vm.get("host_id")}
    assert vm_names(sim, "admin", listall="true", clusterid=cluster) == stopped_with_last_host | running
    assert "db-01" in stopped_with_last_host


def test_hidden_vms_need_displayvm_false(make_sim):
    """ListVMsCmd.getDisplay: displayvm (authorized Admin, so other callers' value is dropped) or
    BaseListAccountResourcesCmd.getDisplay's true: the root admin too lists a hidden VM only with displayvm=false."""
    default = make_sim(scalable=False)
    admin, alice = default.client(), default.client(*KEYS["alice"])
    db = alice.ok("listVirtualMachines", name="db-01")["virtualmachine"][0]["id"]
    admin.ok("updateVirtualMachine", id=db, displayvm="false")
    listed = {vm["name"] for vm in admin.ok("listVirtualMachines", listall="true")["virtualmachine"]}
    hidden = {vm["name"] for vm in admin.ok("listVirtualMachines", listall="true", displayvm="false")["virtualmachine"]}
    assert (listed, hidden) == ({"web-01"}, {"db-01"})
    assert {vm["name"] for vm in alice.ok("listVirtualMachines", displayvm="false")["virtualmachine"]} == {"web-01"}


def test_details_choose_the_fields(sim):
    """ListVMsCmd.getDetails and UserVmJoinDaoImpl.newUserVmResponse: tmpl (template fields), servoff (offering and
    size), stats (size and statistics), volume (root device), group, nics (nic[] and ipaddress), affgrp; min none
    of them; the rest always."""
    web = vm_id(sim, "web-01")

    def listed(details):
        return client(sim, "alice").ok("listVirtualMachines", id=web, details=details)["virtualmachine"][0]

    template_fields = {"templateid", "templatename", "templatetype", "templateformat", "templatedisplaytext",
                       "passwordenabled"}
    minimal = listed("min")
    assert not template_fields & set(minimal)
    assert not {"serviceofferingid", "cpunumber", "memory", "rootdeviceid", "ipaddress"} & set(minimal)
    assert (minimal["nic"], minimal["affinitygroup"], minimal["securitygroup"]) == ([], [], [])
    assert {"id", "state", "zoneid", "guestosid", "ostypeid", "details", "hypervisor", "tags"} <= set(minimal)
    assert template_fields <= set(listed("tmpl")) and "serviceofferingid" not in listed("tmpl")
    servoff = listed("servoff")
    assert {"serviceofferingid", "serviceofferingname", "cpunumber", "cpuspeed", "memory"} <= set(servoff)
    stats = listed("stats")
    assert "cpunumber" in stats and "serviceofferingid" not in stats
    assert (listed("volume")["rootdeviceid"], listed("volume")["rootdevicetype"]) == (0, "ROOT")
    nics = listed("nics,tmpl")
    assert nics["ipaddress"] == nics["nic"][0]["ipaddress"] and template_fields <= set(nics)
    assert listed("all") == client(sim, "alice").ok("listVirtualMachines", id=web)["virtualmachine"][0]


def test_details_values_are_checked(sim):
    """ListVMsCmd.getDetails: VMDetails.valueOf (case matters) for each value; an unknown one is a 431 naming
    EnumSet.allOf(VMDetails)."""
    allowed = "[all, group, nics, stats, secgrp, tmpl, servoff, diskoff, backoff, iso, volume, min, affgrp, vnfnics]"
    for details in ("Stats", "nics,disk", "all, nics"):
        assert failure(sim, "alice", "listVirtualMachines", details=details) == (
            431, f"The details parameter contains a non permitted value. The allowed values are {allowed}")
    assert vm_names(sim, "alice", details="all,") == {"web-01", "db-01", "two-nics"}  # StringTokenizer skips empties


def test_excluded_entries_of_other_view_rows_stay(sim):
    """ViewResponseHelper.createUserVmResponse: newUserVmResponse honours details for the VM's first user_vm_view
    row only; ApiDBUtils.fillVmDetails adds the NICs and affinity groups of the other rows (one row per NIC x
    affinity group x tag) whatever details says, so details=min leaves out only the first NIC of a two-NIC VM."""
    two = client(sim, "alice").ok("listVirtualMachines", id=vm_id(sim, "two-nics"), details="min")["virtualmachine"]
    assert [nic["networkname"] for nic in two[0]["nic"]] == ["shared-a"]
    assert two[0]["ipaddress"] == two[0]["nic"][0]["ipaddress"]
    db = vm_id(sim, "db-01")
    alice = client(sim, "alice")
    assert alice.ok("listVirtualMachines", id=db, details="min")["virtualmachine"][0]["nic"] == []
    two_tags = {"tags[0].key": "tier", "tags[0].value": "db", "tags[1].key": "team", "tags[1].value": "ops"}
    alice.ok("createTags", resourcetype="UserVm", resourceids=db, **two_tags)
    tagged = alice.ok("listVirtualMachines", id=db, details="min")["virtualmachine"][0]
    assert [nic["deviceid"] for nic in tagged["nic"]] == ["0"] and len(tagged["tags"]) == 2


def test_default_details_without_stats(tmp_path):
    """ListVMsCmd.getDetails without details: all values when list.vm.default.details.stats is true, else every
    value but stats (so the template, offering and NIC fields stay)."""
    seed = build_seed(tmp_path, scalable=False,
                      settings=[{"name": "list.vm.default.details.stats", "value": "false"}])
    with InProcessSimulator(seed, tmp_path / "state.sqlite") as running:
        alice = running.client(*KEYS["alice"])
        web = alice.ok("listVirtualMachines", name="web-01")["virtualmachine"][0]
        assert {"templateid", "serviceofferingid", "cpunumber", "rootdeviceid", "ipaddress"} <= set(web)
        assert web["nic"] and not re.search("cpuused|memorykbs", " ".join(web))

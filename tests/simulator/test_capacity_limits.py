"""Strict host tags, reserved capacity, the vCPU ceiling at start, default resource limits and custom values."""

import re

import pytest

from simulator import vmops

from .conftest import World
from .test_scaling import VM_STRING, job_error

MIB = 1024 * 1024
SMALL_HOSTS = [{"name": "kvm-a1-01", "cores": 4, "cpu_mhz": 2000, "memory_mib": 8192},
               {"name": "kvm-a1-02", "cores": 4, "cpu_mhz": 2000, "memory_mib": 8192}]
OFFERINGS = [
    {"name": "Medium GPU", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "gpu"},
    {"name": "Big", "cpunumber": 3, "cpuspeed": 2000, "memory": 6144},
    {"name": "Custom Tiny", "customized": True, "mincpunumber": 1, "maxcpunumber": 4, "minmemory": 256,
     "maxmemory": 512, "cpuspeed": 1000},
]
NO_THRESHOLD = [{"name": name, "value": "1.0"} for name in ("cluster.cpu.allocated.capacity.disablethreshold",
                                                            "cluster.memory.allocated.capacity.disablethreshold")]


def admin_vm(name, offering, host, state="Running"):
    """A seed VM of the admin account, dynamically scalable."""
    return {"name": name, "account": "admin", "template": "debian-12-generic", "offering": offering,
            "state": state, "host": host, "isdynamicallyscalable": True}


class Clock:
    """A settable clock for the app (seconds since the epoch)."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def world_of(sim):
    """World with the simulator attached."""
    world = World(sim.client())
    world.sim = sim
    return world


def host(world, name):
    """listHosts entry of a host."""
    return world.client.ok("listHosts", name=name)["host"][0]


def deploy(world, name, offering, client=None, **params):
    """deployVirtualMachine in zone-a with the seed's template; returns the job."""
    client = client or world.client
    template = world.client.ok("listTemplates", templatefilter="all")["template"][0]["id"]
    zone = world.client.ok("listZones")["zone"][0]["id"]
    return client.run("deployVirtualMachine", serviceofferingid=world.offerings[offering], templateid=template,
                      zoneid=zone, name=name, **params)


def deploy_refusal(world, name, offering, client):
    """(HTTP status, errortext) of a deployVirtualMachine refused before its job (the resource limit check)."""
    template = world.client.ok("listTemplates", templatefilter="all")["template"][0]["id"]
    zone = world.client.ok("listZones")["zone"][0]["id"]
    status, body = client.call("deployVirtualMachine", serviceofferingid=world.offerings[offering],
                               templateid=template, zoneid=zone, name=name)
    return status, body["deployvirtualmachineresponse"]["errortext"]


# --- 1. strict host tags -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, scaled", [
    ([], True),
    ([{"name": "vm.strict.host.tags", "value": "gpu"}], False),
    ([{"name": "resource.limit.host.tags", "value": "gpu"}], False),
    ([{"name": "resource.limit.host.tags", "value": "gpu"},
      {"name": "vm.strict.resource.limit.host.tag.check", "value": "false"}], True),
], ids=["tags not strict", "vm.strict.host.tags", "resource.limit.host.tags", "limit tags not enforced"])
def test_only_strict_host_tags_stop_a_live_scale(make_sim, settings, scaled):
    """UserVmManagerImpl.upgradeVirtualMachine -> HostVO.checkHostServiceOfferingAndTemplateTags with
    UserVmManager.getStrictHostTags: only tags that are strict must be on the VM's host."""
    world = world_of(make_sim(offerings=OFFERINGS, settings=settings))
    job = world.scale("web-01", "Medium GPU")
    vm = world.vm("web-01")
    if scaled:
        assert job["jobstatus"] == 1, job
        assert (vm["serviceofferingname"], vm["hostname"]) == ("Medium GPU", "kvm-a1-01")
    else:
        assert job_error(job) == (530, "Failed to scale the VM")
        assert vm["serviceofferingname"] == "Small"


def test_migration_destination_needs_every_tag(make_sim):
    """VirtualMachineManagerImpl.findHostAndMigrate -> planDeployment -> FirstFitAllocator: a destination must
    carry every host tag of the new offering, strict or not; no such host: "Failed to scale the VM"."""
    vms = [admin_vm("web-01", "Small", "kvm-a1-01"), admin_vm("filler", "Big", "kvm-a1-01")]
    world = world_of(make_sim(hosts=SMALL_HOSTS, vms=vms, offerings=OFFERINGS + [
        {"name": "Large GPU", "cpunumber": 4, "cpuspeed": 1000, "memory": 4096, "hosttags": "gpu"}],
        settings=NO_THRESHOLD))
    assert job_error(world.scale("web-01", "Large GPU")) == (530, "Failed to scale the VM")
    store = world.sim.app.store
    dest = store.one("host", name="kvm-a1-02")
    dest["tags"] = ["gpu"]
    store.save("host", dest)
    assert world.scale("web-01", "Large GPU")["jobstatus"] == 1
    assert world.vm("web-01")["hostname"] == "kvm-a1-02"


# --- 2. kvm.cpu.dynamic.scaling.capacity below the VM's vCPUs -------------------------------------------------------

def test_vcpu_ceiling_below_the_vms_vcpus_cannot_start(make_sim):
    """KVMGuru.getVmMaxCpuCores: the cluster's kvm.cpu.dynamic.scaling.capacity, not raised to the VM's vCPUs; the
    host refuses the domain, VirtualMachineManagerImpl.orchestrateStart tries every host, then fails."""
    vms = [admin_vm("db-01", "Medium", "kvm-a1-02", state="Stopped")]
    vms[0]["account"] = "acme"
    world = world_of(make_sim(vms=vms, settings=[{"name": "kvm.cpu.dynamic.scaling.capacity", "value": "1"}]))
    db = world.vms["db-01"]
    code, text = job_error(world.client.run("startVirtualMachine", id=db["id"]))
    host_string = r'Host \{"id":\d+,"name":"kvm-a1-0\d","type":"Routing","uuid":"[0-9a-f-]{36}"\}'
    assert code == 530 and re.fullmatch(
        rf"Unable to create a deployment for {VM_STRING % 'Starting'} after 3 attempts Last known error: Unable to"
        rf" start VM on {host_string} due to .+", text), text
    user = world.sim.client(world.sim.user_key, world.sim.user_secret)
    assert job_error(user.run("startVirtualMachine", id=db["id"])) == (
        530, f"Unable to start a VM [{db['id']}] due to insufficient capacity.")
    assert world.vm("db-01")["state"] == "Stopped"
    store = world.sim.app.store
    assert vmops.view(world.sim.app, store.by_uuid("vm", db["id"])) is None


# --- 3. reserved capacity -------------------------------------------------------------------------------------------

@pytest.fixture
def reserved_world(make_sim):
    """kvm-a1-01 holds web-01 (Small) and filler (Big, 6000 MHz / 6144 MiB), then filler stops at t=1000."""
    vms = [admin_vm("web-01", "Small", "kvm-a1-01"), admin_vm("filler", "Big", "kvm-a1-01")]
    world = world_of(make_sim(hosts=SMALL_HOSTS, vms=vms, offerings=OFFERINGS, settings=NO_THRESHOLD))
    world.clock = world.sim.app.clock = Clock(1000.0)
    assert world.client.run("stopVirtualMachine", id=world.vms["filler"]["id"])["jobstatus"] == 1
    return world


def test_stopped_vm_keeps_its_capacity_reserved_for_the_window(reserved_world):
    """CapacityManagerImpl.postStateTransitionEvent (Stopping -> Stopped: releaseVmCapacity moveToReserved) and
    updateCapacityForHost (reserved while capacity.skipcounting.hours has not passed); HostJoinDaoImpl shows
    allocated = used + reserved."""
    world = reserved_world
    listed = host(world, "kvm-a1-01")
    assert (listed["cpuallocatedvalue"], listed["memoryallocated"]) == (7000, 7168 * MIB)
    assert listed["cpuallocated"] == "87.5%"
    world.clock.now += 3599
    assert host(world, "kvm-a1-01")["cpuallocatedvalue"] == 7000
    world.clock.now += 1
    listed = host(world, "kvm-a1-01")
    assert (listed["cpuallocatedvalue"], listed["memoryallocated"]) == (1000, 1024 * MIB)


def test_live_scale_on_the_current_host_ignores_reserved_capacity(reserved_world):
    """UserVmManagerImpl.upgradeRunningVirtualMachine: checkIfHostHasCapacity(..., considerReservedCapacity=false)
    for the current host, so filler's reservation does not move web-01."""
    world = reserved_world
    assert world.scale("web-01", "Large")["jobstatus"] == 1
    assert world.vm("web-01")["hostname"] == "kvm-a1-01"


def test_placement_on_other_hosts_counts_reserved_capacity(reserved_world):
    """FirstFitAllocator -> CapacityManagerImpl.checkIfHostHasCapacity(..., considerReservedCapacity=true): a new
    VM does not take filler's reservation; once the window passed it does."""
    world = reserved_world
    assert deploy(world, "new-01", "Medium")["jobresult"]["virtualmachine"]["hostname"] == "kvm-a1-02"
    world.clock.now += 3600
    assert deploy(world, "new-02", "Medium")["jobresult"]["virtualmachine"]["hostname"] == "kvm-a1-01"


def test_start_on_the_last_host_uses_the_reservation(reserved_world):
    """DeploymentPlanningManagerImpl.deployInVmLastHost: the last host's reserved capacity is checked first
    (checkFromReservedCapacity=true), so filler comes back to kvm-a1-01 although web-01 grew into its room."""
    world = reserved_world
    assert world.scale("web-01", "Large")["jobstatus"] == 1
    job = world.client.run("startVirtualMachine", id=world.vms["filler"]["id"])
    assert job["jobresult"]["virtualmachine"]["hostname"] == "kvm-a1-01"
    assert host(world, "kvm-a1-01")["cpuallocatedvalue"] == 10000


def test_reservation_ends_when_the_vm_is_destroyed(reserved_world):
    """CapacityManagerImpl.postStateTransitionEvent: Stopped -> Destroyed releases from reserved."""
    world = reserved_world
    world.client.run("destroyVirtualMachine", id=world.vms["filler"]["id"])
    assert host(world, "kvm-a1-01")["cpuallocatedvalue"] == 1000


# --- 5. default resource limits -------------------------------------------------------------------------------------

BETA = {"name": "beta", "domain": "customers", "role": "User",
        "users": [{"username": "bob", "apikey": "BOB-KEY", "secretkey": "BOB-SECRET"}]}


def test_account_without_limit_gets_max_account_defaults(make_sim):
    """ResourceLimitManagerImpl.findCorrectResourceLimitForAccount: no explicit limit -> max.account.cpus; the
    account response shows it (AccountJoinDaoImpl); root admins stay unlimited."""
    world = world_of(make_sim(accounts=[BETA], settings=[{"name": "max.account.cpus", "value": "2"}]))
    bob = world.sim.client("BOB-KEY", "BOB-SECRET")
    beta = world.client.ok("listAccounts", name="beta", listall="true")["account"][0]
    assert (beta["cpulimit"], beta["memorylimit"]) == ("2", "40960")
    assert deploy(world, "b-01", "Medium", client=bob)["jobstatus"] == 1
    code, text = deploy_refusal(world, "b-02", "Small", bob)
    assert code == 535 and re.fullmatch(
        r"Maximum amount of resources of Type = 'cpu', tag = 'null' for Account Name = beta in Domain Id = \d+ is"
        r" exceeded: Account Resource Limit = 2, Current Account Resource Amount = 2, Current Account Resource"
        r" Reservation = 0, Requested Resource Amount = 1\.", text), text
    assert world.client.ok("listAccounts", name="admin", listall="true")["account"][0]["cpulimit"] == "Unlimited"
    for index in range(2):
        assert deploy(world, f"a-0{index}", "Medium")["jobstatus"] == 1


def test_domain_limit_comes_from_the_nearest_ancestor_then_max_domain(make_sim):
    """findCorrectResourceLimitForDomain: the domain's limit, else the nearest ancestor's below ROOT, else
    max.domain.*; checkDomainResourceLimit checks each domain up to ROOT, the account's first."""
    team = {"name": "team", "parent": "customers"}
    carol = {"name": "carol", "domain": "team", "role": "User", "limits": {"cpu": 10},
             "users": [{"username": "carol", "apikey": "CAROL-KEY", "secretkey": "CAROL-SECRET"}]}
    world = world_of(make_sim(domains=[team], accounts=[carol], domain_limits={"cpu": 3}, vms=[]))
    client = world.sim.client("CAROL-KEY", "CAROL-SECRET")
    assert deploy(world, "c-01", "Medium", client=client)["jobstatus"] == 1
    code, text = deploy_refusal(world, "c-02", "Medium", client)
    team_id = world.client.ok("listDomains", name="team")["domain"][0]["id"]
    assert code == 535 and text == (
        f"Maximum domain resource limits of Type 'cpu' for Domain Id = {team_id} is exceeded: Domain Resource"
        " Limit = 3, Current Domain Resource Amount = 2, Current Resource Reservation = 0, Requested Resource"
        " Amount = 2."), text
    listed = world.client.ok("listDomains", name="team")["domain"][0]
    assert listed["cpulimit"] == "80"  # DomainJoinDaoImpl: its own limit, else max.domain.cpus


def test_max_domain_default_applies_below_root(make_sim):
    """findCorrectResourceLimitForDomain: max.domain.cpus for a domain without any explicit limit above it."""
    world = world_of(make_sim(accounts=[dict(BETA, limits={"cpu": 10})], vms=[],
                              settings=[{"name": "max.domain.cpus", "value": "2"}]))
    bob = world.sim.client("BOB-KEY", "BOB-SECRET")
    assert deploy(world, "b-01", "Medium", client=bob)["jobstatus"] == 1
    code, text = deploy_refusal(world, "b-02", "Small", bob)
    assert code == 535 and "Domain Resource Limit = 2, Current Domain Resource Amount = 2," in text, text


# --- 6. memorytotal and the domain's memory ceiling ------------------------------------------------------------------

def test_memorytotal_has_the_overcommit_but_the_domain_ceiling_is_raw(make_sim):
    """HostJoinDaoImpl: memorytotal = total memory x mem.overprovisioning.factor; KVMGuru.getVmMaxMemory uses
    host.getTotalMemory() (raw) when kvm.memory.dynamic.scaling.capacity is 0."""
    settings = [{"name": "mem.overprovisioning.factor", "value": "1.5", "scope": "cluster", "target": "cluster-a1"}]
    world = world_of(make_sim(hosts=SMALL_HOSTS, settings=settings))
    assert host(world, "kvm-a1-01")["memorytotal"] == 8192 * MIB * 3 // 2
    store = world.sim.app.store
    view = vmops.view(world.sim.app, store.by_uuid("vm", world.vms["web-01"]["id"]))
    assert view.max_memory_mib == 8192


# --- 7. custom values filled from the VM before validation ----------------------------------------------------------

@pytest.mark.parametrize("state", ["Running", "Stopped"])
def test_filled_in_custom_value_outside_the_bounds_is_431(make_sim, state):
    """UserVmManagerImpl.upgradeVirtualMachine(ScaleVMCmd): updateInstanceDetailsMapWithCurrentValuesForAbsentDetails
    fills the VM's 1024 MiB before validateCustomParameters, which refuses it for a 256-512 MiB offering."""
    world = world_of(make_sim(offerings=OFFERINGS))
    if state == "Stopped":
        world.client.run("stopVirtualMachine", id=world.vms["web-01"]["id"])
    job = world.scale("web-01", "Custom Tiny", **{"details[0].cpuNumber": "2"})
    assert job_error(job) == (431, "Invalid memory value, specify a value between 256 and 512")

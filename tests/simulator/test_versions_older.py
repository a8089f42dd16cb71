"""The simulator started as CloudStack 4.18, 4.19, 4.20 or 4.21 (simulator/versions.py): what differs from 4.22.

Each line's tree is the release commit of apache/cloudstack in the history of github alexandremattioli/cloudstack
(the [4.22] mirror): [4.18] @ 84538da27c (4.18.2.5), [4.19] @ 0c7d47138d (4.19.3.0), [4.20] @ 4dc3931233 (4.20.2.0),
[4.21] @ f9513b47bf (4.21.0.0). The texts of validateCustomParameters, upgradeRunningVirtualMachine,
upgradeStoppedVirtualMachine, upgradeVirtualMachine(UpgradeVMCmd) and VirtualMachineManagerImpl.reConfigureVm are
those of [4.22] in every line (tests/simulator/test_versions.py has them).
"""

import pytest
import yaml

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from simulator.testing import InProcessSimulator
from tests.simulator import test_planner_matches_simulator as matrix
from tests.simulator.conftest import build_seed, by_name

OLDER = ("4.18", "4.19", "4.20", "4.21")
SSD_OFFERING = {"name": "Medium SSD", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "ssd"}
CPVM_CUSTOM = {"name": "CPVM Custom", "customized": True, "cpuspeed": 500, "mincpunumber": 1, "maxcpunumber": 4,
               "minmemory": 512, "maxmemory": 4096, "issystem": True, "systemvmtype": "consoleproxy"}
FAILED = (530, "Failed to scale the VM")


def start(tmp_path, version, ssd_host=False, system_vms=False, domain_limits=None, offerings=None):
    """An in-process simulator as ``version`` on the scalable default seed, app-01 Running on Custom (1 vCPU,
    1024 MiB) on kvm-a1-01, which carries the host tag ssd when ``ssd_host``; ``offerings``: VM name -> offering."""
    path = build_seed(tmp_path, offerings=[SSD_OFFERING, CPVM_CUSTOM], system_vms=system_vms, name=f"{version}.yml",
                      domain_limits=domain_limits)
    seed = yaml.safe_load(path.read_text())
    seed["version"] = version
    seed["vms"].append(dict(seed["vms"][0], name="app-01", offering="Custom", details={"cpuNumber": 1, "memory": 1024}))
    for vm in seed["vms"]:
        vm["offering"] = (offerings or {}).get(vm["name"], vm["offering"])
    if ssd_host:
        seed["zones"][0]["pods"][0]["clusters"][0]["hosts"][0]["tags"] = ["ssd"]
    path.write_text(yaml.safe_dump(seed))
    sim = InProcessSimulator(path, tmp_path / f"{version}-{ssd_host}.sqlite").start()
    sim.client_ = sim.client()
    sim.vms = by_name(sim.client_, "listVirtualMachines", "virtualmachine", listall="true")
    sim.offerings = by_name(sim.client_, "listServiceOfferings", "serviceoffering")
    return sim


@pytest.fixture(name="started")
def started_simulators():
    """start() for a test; every simulator it started is stopped at the end."""
    sims = []

    def make(*args, **kwargs):
        sims.append(start(*args, **kwargs))
        return sims[-1]
    yield make
    for sim in sims:
        sim.stop()


def scale(sim, vm, offering, client=None, **details):
    """The finished scaleVirtualMachine job (by the root admin, else ``client``): ("ok", offering name, vCPUs, MiB)
    or ("error", code, text)."""
    client = client or sim.client_
    body = client.ok("scaleVirtualMachine", id=sim.vms[vm]["id"], serviceofferingid=sim.offerings[offering]["id"],
                     **{"details[0].%s" % key: value for key, value in details.items()})
    job = client.wait(body["jobid"])
    if job["jobstatus"] == 1:
        scaled = job["jobresult"]["virtualmachine"]
        return "ok", scaled["serviceofferingname"], scaled["cpunumber"], scaled["memory"]
    return "error", job["jobresult"]["errorcode"], job["jobresult"]["errortext"]


@pytest.mark.parametrize("version, cloudstackversion", [
    ("4.18", "4.18.2.5"), ("4.19", "4.19.3.0"), ("4.20", "4.20.2.0"), ("4.21", "4.21.0.0")])
def test_list_capabilities_names_the_line_release(started, tmp_path, version, cloudstackversion):
    """ManagementServerImpl.getVersion (the same in every line): the tree's pom.xml version, e.g. <version>4.19.3.0
    at 0c7d47138d."""
    sim = started(tmp_path, version)
    assert sim.client_.ok("listCapabilities")["capability"]["cloudstackversion"] == cloudstackversion


@pytest.mark.parametrize("version", OLDER)
def test_the_fixed_offering_kvm_refusal_is_the_same_in_every_older_line(started, tmp_path, version):
    """UserVmManagerImpl.upgradeRunningVirtualMachine at 84538da27c, 0c7d47138d, 4dc3931233 and f9513b47bf: the same
    431 as [4.22] for a running KVM VM on a fixed offering (PR #12975 removed it only in 4.23)."""
    sim = started(tmp_path, version)
    assert scale(sim, "web-01", "Medium")[:2] == ("error", 431)
    assert scale(sim, "web-01", "Medium")[2].startswith(
        'Unable to live scale VM on KVM when current service offering is a "Fixed Offering".')


@pytest.mark.parametrize("version, outcome", [
    ("4.18", ("error", 431, "Invalid memory value, specify a value between 512 and 16384")),
    ("4.19", ("error", 431, "Invalid memory value, specify a value between 512 and 16384")),
    ("4.20", ("ok", "Custom", 2, 1024)),
    ("4.21", ("ok", "Custom", 2, 1024))])
def test_absent_custom_values_are_filled_in_only_from_420(started, tmp_path, version, outcome):
    """UserVmManagerImpl.upgradeVirtualMachine(ScaleVMCmd): 4dc3931233 and f9513b47bf call
    updateInstanceDetailsMapWithCurrentValuesForAbsentDetails (apache/cloudstack PR #8234), so the memory left out is
    the VM's 1024 MiB; 84538da27c and 0c7d47138d hand cmd.getDetails() on as given and validateCustomParameters reads
    the missing memory as -1."""
    sim = started(tmp_path, version)
    assert scale(sim, "app-01", "Custom", cpuNumber=2) == outcome


@pytest.mark.parametrize("version, ssd_host, outcome", [
    ("4.18", False, ("error",) + FAILED), ("4.19", False, ("error",) + FAILED),
    ("4.19", True, ("ok", "Medium SSD", 2, 2048)),
    ("4.20", False, ("ok", "Medium SSD", 2, 2048)), ("4.21", False, ("ok", "Medium SSD", 2, 2048))])
def test_before_420_the_host_needs_every_host_tag_of_the_new_offering(started, tmp_path, version, ssd_host, outcome):
    """UserVmManagerImpl.upgradeVirtualMachine(vmId, offeringId, details) of a running VM: 84538da27c and 0c7d47138d
    test HostVO.checkHostServiceOfferingTags (every host tag of the new offering on the VM's host, else false:
    "Failed to scale the VM"); 4dc3931233 and f9513b47bf test checkHostServiceOfferingAndTemplateTags with
    UserVmManager.getStrictHostTags(), and ssd is not strict (vm.strict.host.tags, PR #9017, empty by default)."""
    sim = started(tmp_path, version, ssd_host=ssd_host)
    assert scale(sim, "app-01", "Medium SSD") == outcome


@pytest.mark.parametrize("version, host", [("4.18", "kvm-a1-01"), ("4.19", "kvm-a1-01"), ("4.20", "kvm-a1-02")])
def test_before_420_a_start_leaves_a_last_host_without_the_offerings_tags(started, tmp_path, version, host):
    """DeploymentPlanningManagerImpl.planDeployment: at 0c7d47138d the last host must pass checkVmProfileAndHost,
    HostVO.checkHostServiceOfferingTags (every host tag of the offering), else FirstFitAllocator picks a host with
    them; at 4dc3931233 deployInVmLastHost asks only the strict tags (PR #9017). db-01 (Medium SSD, stopped on
    kvm-a1-02) starts again; only kvm-a1-01 carries ssd."""
    sim = started(tmp_path, version, ssd_host=True, offerings={"db-01": "Medium SSD"})
    assert sim.client_.run("stopVirtualMachine", id=sim.vms["db-01"]["id"])["jobstatus"] == 1
    job = sim.client_.run("startVirtualMachine", id=sim.vms["db-01"]["id"])
    assert job["jobstatus"] == 1, job
    assert job["jobresult"]["virtualmachine"]["hostname"] == host


ACME_CPU_LIMIT = ("error", 530, "Maximum amount of resources of Type = 'cpu'{tag} for Account Name = acme in Domain"
                  " Id = 2 is exceeded: Account Resource Limit = 8, Current Account Resource Amount = 4, Current"
                  " Account Resource Reservation = 0, Requested Resource Amount = 7.")
CALLERS = {"admin": None, "alice": ("ALICE-KEY", "ALICE-SECRET"), "dora": ("DOMADMIN-KEY", "DOMADMIN-SECRET")}


@pytest.mark.parametrize("version, caller, outcome", [
    ("4.18", "admin", ("ok", "Custom", 8, 1024)), ("4.19", "admin", ("ok", "Custom", 8, 1024)),
    ("4.19", "dora", ("ok", "Custom", 8, 1024)),
    ("4.19", "alice", ACME_CPU_LIMIT[:2] + (ACME_CPU_LIMIT[2].format(tag=""),)),
    ("4.20", "admin", ACME_CPU_LIMIT[:2] + (ACME_CPU_LIMIT[2].format(tag=", tag = 'null'"),)),
    ("4.20", "dora", ACME_CPU_LIMIT[:2] + (ACME_CPU_LIMIT[2].format(tag=", tag = 'null'"),))])
def test_before_420_a_live_scale_counts_against_the_callers_limits(started, tmp_path, version, caller, outcome):
    """UserVmManagerImpl.upgradeRunningVirtualMachine at 84538da27c and 0c7d47138d:
    _resourceLimitMgr.checkResourceLimit(caller, ...), the calling account (a root admin has no limits,
    ResourceLimitManagerImpl.checkResourceLimit; the domain admin dora's own account has room); at 4dc3931233
    checkVmResourceLimitsForServiceOfferingChange(owner, ...) (apache/cloudstack PR #8935). acme (limit 8 vCPUs, 4
    used with app-01) asks 7 more. checkAccountResourceLimit's text at 0c7d47138d has no ``tag = ...``."""
    sim = started(tmp_path, version)
    client = sim.client(*CALLERS[caller]) if CALLERS[caller] else None
    assert scale(sim, "app-01", "Custom", client=client, cpuNumber=8, memory=1024) == outcome


@pytest.mark.parametrize("version, domain_id", [("4.19", "2"), ("4.20", None)])
def test_before_420_the_domain_limit_text_gives_the_numeric_domain_id(started, tmp_path, version, domain_id):
    """ResourceLimitManagerImpl.checkDomainResourceLimit: ``Domain Id = domainId`` (the database id, as the account
    text's account.getDomainId()) at 0c7d47138d, ``domain.getUuid()`` at 4dc3931233."""
    sim = started(tmp_path, version, domain_limits={"cpu": 4})
    domain_id = domain_id or sim.client_.ok("listDomains", name="customers")["domain"][0]["id"]
    assert scale(sim, "app-01", "Custom", client=sim.client(*CALLERS["alice"]), cpuNumber=2, memory=1024) == (
        "error", 530, f"Maximum domain resource limits of Type 'cpu' for Domain Id = {domain_id} is exceeded: Domain"
                      " Resource Limit = 4, Current Domain Resource Amount = 4, Current Resource Reservation = 0,"
                      " Requested Resource Amount = 1.")


def stopped_proxy(sim):
    """(client, the console proxy v-2-VM stopped, the custom system offering CPVM Custom)."""
    client = sim.client_
    proxy = client.ok("listSystemVms", name="v-2-VM")["systemvm"][0]
    assert client.run("stopSystemVm", id=proxy["id"])["jobstatus"] == 1
    return client, proxy, client.ok("listServiceOfferings", name="CPVM Custom", issystem="true")["serviceoffering"][0]


@pytest.mark.parametrize("version, outcome", [
    ("4.18", (2, 431, "Invalid cpu cores value, specify a value between 1 and 4")),
    ("4.19", (2, 431, "Invalid cpu cores value, specify a value between 1 and 4")),
    ("4.20", (1, None, "CPVM Custom")), ("4.21", (1, None, "CPVM Custom"))])
def test_scale_system_vm_reads_its_details_only_from_4202(started, tmp_path, version, outcome):
    """ScaleSystemVMCmd.getDetails: 84538da27c and 0c7d47138d return the details map as ParamProcessWorker built it
    (index -> details[i]), so validateCustomParameters finds no cpuNumber in it; apache/cloudstack PR #11062
    (78e146278b, in 4dc3931233 and f9513b47bf, not in 4.20.1.0 c61a5eb430) returns convertDetailsToMap(details)."""
    client, proxy, offering = stopped_proxy(started(tmp_path, version, system_vms=True))
    job = client.run("scaleSystemVm", id=proxy["id"], serviceofferingid=offering["id"],
                     **{"details[0].cpuNumber": "2", "details[0].memory": "1024"})
    result = job["jobresult"]
    assert (job["jobstatus"], result.get("errorcode"),
            result.get("errortext") or result["systemvm"]["serviceofferingname"]) == outcome


@pytest.mark.parametrize("version, outcome", [
    ("4.18", "Invalid cpu cores value, specify a value between 1 and 4"),
    ("4.19", "Invalid cpu cores value, specify a value between 1 and 4"), ("4.20", "CPVM Custom")])
def test_change_service_for_system_vm_reads_its_details_only_from_4202(started, tmp_path, version, outcome):
    """UpgradeSystemVMCmd.getDetails, as ScaleSystemVMCmd's (PR #11062 changed both): ManagementServerImpl
    .upgradeStoppedSystemVm hands them to validateCustomParameters (431), at 0c7d47138d keyed by index."""
    client, proxy, offering = stopped_proxy(started(tmp_path, version, system_vms=True))
    status, body = client.call("changeServiceForSystemVm", id=proxy["id"], serviceofferingid=offering["id"],
                               **{"details[0].cpuNumber": "2", "details[0].memory": "1024"})
    answer = body["changeserviceforsystemvmresponse"]
    assert (answer.get("errortext") or answer["systemvm"]["serviceofferingname"]) == outcome
    assert status == (200 if version == "4.20" else 431)


@pytest.mark.parametrize("version, absent", [
    ("4.18", {"allowuserforcestopvm", "dynamicscalingenabled", "customhypervisordisplayname"}),
    ("4.19", {"allowuserforcestopvm", "dynamicscalingenabled"}), ("4.20", set()), ("4.21", set())])
def test_list_capabilities_has_the_fields_of_the_line(started, tmp_path, version, absent):
    """ListCapabilitiesCmd.execute: setAllowUserForceStopVM and setDynamicScalingEnabled are in 4dc3931233 and
    f9513b47bf, not in 0c7d47138d or 84538da27c; setCustomHypervisorDisplayName is in 0c7d47138d, not 84538da27c."""
    sim = started(tmp_path, version)
    capability = sim.client_.ok("listCapabilities")["capability"]
    later = {"allowuserforcestopvm", "dynamicscalingenabled", "customhypervisordisplayname"}
    assert later - set(capability) == absent
    assert capability["cloudstackversion"] and "allowuserviewdestroyedvm" in capability


@pytest.mark.parametrize("version", ["4.18", "4.19"])
def test_before_419_service_offerings_have_no_state(started, tmp_path, version):
    """ListServiceOfferingsCmd / UpdateServiceOfferingCmd ``state`` and ServiceOfferingResponse ``state`` came with
    apache/cloudstack PR #8821 (b8f8321f0f, in 0c7d47138d, not in 84538da27c); at 84538da27c service_offering_view
    (schema-41720to41800.sql) holds only Active offerings and an undeclared parameter is ignored."""
    sim = started(tmp_path, version)
    client = sim.client_
    medium = sim.offerings["Medium"]
    client.ok("updateServiceOffering", id=medium["id"], state="Inactive")
    inactive = client.ok("listServiceOfferings", state="Inactive").get("serviceoffering", [])
    listed = client.ok("listServiceOfferings", state="all")["serviceoffering"]
    if version == "4.18":
        assert "state" not in medium and all("state" not in row for row in listed)
        assert "Medium" in {row["name"] for row in inactive} and "Medium" in {row["name"] for row in listed}
    else:
        assert [row["name"] for row in inactive if row["name"] == "Medium"] == ["Medium"]
        assert {row["state"] for row in listed} == {"Active", "Inactive"}
        assert "Medium" not in {row["name"] for row in client.ok("listServiceOfferings")["serviceoffering"]}


@pytest.mark.parametrize("version, absent", [
    ("4.18", {"vm.strict.host.tags", "vm.strict.resource.limit.host.tag.check", "resource.limit.host.tags",
              "allow.user.force.stop.vm", "list.vm.default.details.stats"}),
    ("4.19", {"vm.strict.host.tags", "vm.strict.resource.limit.host.tag.check", "resource.limit.host.tags",
              "allow.user.force.stop.vm"}),
    ("4.20", set()), ("4.21", set())])
def test_settings_a_line_does_not_define_are_not_listed(started, tmp_path, version, absent):
    """ConfigKeys in the trees: UserVmManager.StrictHostTags / EnforceStrictResourceLimitHostTagCheck (PR #9017),
    ResourceLimitService.ResourceLimitHostTags (PR #8362), UserVmManager.AllowUserForceStopVm (PR #9569) are in
    4dc3931233 and f9513b47bf, not in 0c7d47138d or 84538da27c; QueryService.ReturnVmStatsOnVmList (PR #9177) is in
    0c7d47138d, not in 84538da27c. None of the four settings of 4.23 is in any of them. A setting the tree lacks is
    not listed and updateConfiguration answers ConfigurationManagerImpl.updateConfiguration(UpdateCfgCmd)'s 431."""
    sim = started(tmp_path, version)
    names = {row["name"] for row in sim.client_.ok("listConfigurations", pagesize=500)["configuration"]}
    later = {"vm.strict.host.tags", "vm.strict.resource.limit.host.tag.check", "resource.limit.host.tags",
             "allow.user.force.stop.vm", "list.vm.default.details.stats"}
    assert later - names == absent
    assert not names & {"kvm.cpu.dynamic.scaling.capacity", "auto.migrate.vm.on.live.scale.insufficient.capacity",
                        "allow.different.host.tags.offerings.for.vm.scale"}
    if absent:
        status, body = sim.client_.call("updateConfiguration", name="vm.strict.host.tags", value="ssd")
        assert (status, body["updateconfigurationresponse"]["errortext"]) == (
            431, "Config parameter with name vm.strict.host.tags doesn't exist")


# rows of the planner-against-simulator matrix that differ from 4.22 on 4.19: "non-strict-tag" fails with 530 there,
# before the fixed-offering check (upgradeVirtualMachine tests HostVO.checkHostServiceOfferingTags at 0c7d47138d, and
# the host lacks the offering's tag ssd; the plan applies it, _versions.Rules.strict_host_tags); "strict-tag" (None:
# left out) sets vm.strict.host.tags, which 0c7d47138d does not define
NOT_AS_4_22 = {"4.19": {"non-strict-tag": (planner.RESTART, FAILED), "strict-tag": None}, "4.20": {}}


@pytest.mark.parametrize("row, version", [
    pytest.param(row, version, id=f"{row.id}-{version}") for version in NOT_AS_4_22
    for row in matrix.CASES if "4.22" in row.values[-1] and NOT_AS_4_22[version].get(row.id, ()) is not None])
def test_the_planner_predicts_the_older_simulator(tmp_path, row, version):
    """tests/simulator/test_planner_matches_simulator.py's rows, run as 4.19 (0c7d47138d) and 4.20 (4dc3931233): the
    collection plans them by their own line's rules, and the simulator answers as 4.22 does but for NOT_AS_4_22."""
    case, vm_name, offering_name, details, expected = row.values
    matrix.test_plan_matches_the_simulator(tmp_path, case, vm_name, offering_name, details,
                                           {version: NOT_AS_4_22[version].get(row.id) or expected["4.22"]}, version)


@pytest.mark.parametrize("version, expected", [
    ("4.18", (planner.LIVE, None)), ("4.19", (planner.LIVE, None)),
    ("4.20", (planner.REFUSE, (530, "Maximum amount of resources of Type = 'cpu', tag = 'null' for Account Name ="
                                    " acme")))])
def test_the_planner_predicts_whose_limits_a_live_scale_counts_against(tmp_path, version, expected):
    """The root admin scales acme's web-01 (Custom, 1 vCPU) to 3 vCPUs with acme at its limit of 3 (web-01 and the
    stopped db-01): UserVmManagerImpl.upgradeRunningVirtualMachine checks the caller's limits at 84538da27c and
    0c7d47138d (none for a root admin), the owner's at 4dc3931233 (PR #8935); the collection's Reader reads the caller
    (listAccounts without parameters) on 4.18 and 4.19 and plans so."""
    matrix.test_plan_matches_the_simulator(
        tmp_path, {"account_limits": {"cpu": 3, "memory": 16384}, "on_offering": matrix.ON_CUSTOM}, "web-01", "Custom",
        {"cpuNumber": 3, "memory": 1024}, {version: expected}, version)

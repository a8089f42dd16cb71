"""The I/O side of scaling against an in-memory CloudStack: what is read, what is written, what is reported."""

import copy

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _rollout as rollout
from ansible_collections.livescale.cloudstack.plugins.module_utils import _scaling as scaling
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import InvalidValue, JobFailed, NotFound

GIB = 1024 ** 3
WRITES = ("scaleVirtualMachine", "migrateVirtualMachine", "stopVirtualMachine", "startVirtualMachine",
          "updateVirtualMachine")
RESTART_WRITES = ["updateVirtualMachine", "stopVirtualMachine", "scaleVirtualMachine", "startVirtualMachine",
                  "updateVirtualMachine"]  # the stop is recorded in a VM detail first, and the record removed last
ZONE = {"id": "zone-1", "name": "zone-a"}
OFFERINGS = [
    {"id": "off-small", "name": "Small", "cpunumber": 1, "cpuspeed": 1000, "memory": 512, "dynamicscalingenabled": True},
    {"id": "off-medium", "name": "Medium", "cpunumber": 2, "cpuspeed": 1000, "memory": 1024, "dynamicscalingenabled": True},
    {"id": "off-custom", "name": "Custom", "cpuspeed": 1000, "dynamicscalingenabled": True, "iscustomized": True,
     "serviceofferingdetails": {"mincpunumber": "1", "maxcpunumber": "4", "minmemory": "256", "maxmemory": "4096"}},
]


def host(host_id, name, allocated_mhz=2000, allocated_bytes=2 * GIB):
    """A listHosts row of an 8-core 2 GHz host with 32 GiB."""
    return {"id": host_id, "name": name, "clusterid": "cluster-1", "clustername": "cluster-a1", "type": "Routing",
            "state": "Up", "resourcestate": "Enabled", "cpunumber": 8, "cpuspeed": 2000, "cpuallocatedvalue": allocated_mhz,
            "cpuwithoverprovisioning": "16000", "memorytotal": 32 * GIB, "memorywithoverprovisioning": str(32 * GIB),
            "memoryallocated": allocated_bytes}


class FakeCloud:
    """Just enough of the CloudStack API for _scaling; every call is logged, async jobs apply at once."""

    def __init__(self):
        self.vms = {"vm-1": {"id": "vm-1", "name": "web-01", "state": "Running", "zoneid": "zone-1", "zonename": "zone-a",
                             "hostid": "host-1", "hostname": "kvm-a1-01", "hypervisor": "KVM", "templateid": "tpl-1",
                             "serviceofferingid": "off-small", "serviceofferingname": "Small", "cpunumber": 1,
                             "cpuspeed": 1000, "memory": 512, "isdynamicallyscalable": True, "account": "acme",
                             "domainid": "dom-1"}}
        self.hosts = [host("host-1", "kvm-a1-01"), host("host-2", "kvm-a1-02")]
        self.settings = {"enable.dynamic.scale.vm": "true"}
        self.accounts = [{"name": "acme", "accounttype": 0, "cpuavailable": "Unlimited", "memoryavailable": "Unlimited"}]
        self.templates = [{"id": "tpl-1", "name": "debian-12-generic", "isdynamicallyscalable": True}]
        self.domains = [{"id": "dom-0", "name": "ROOT", "path": "ROOT", "level": 0, "cpuavailable": "Unlimited",
                         "memoryavailable": "Unlimited"},
                        {"id": "dom-1", "name": "customers", "path": "ROOT/customers", "level": 1, "parentdomainid": "dom-0",
                         "cpuavailable": "Unlimited", "memoryavailable": "Unlimited"}]
        self.system_vms = []
        self.version = "4.23.0.0"
        self.fail = {}
        self.calls = []
        self.jobs = {}

    @property
    def writes(self):
        return [(command, params) for command, params in self.calls if command in WRITES]

    def list(self, command, key, action=None, **params):
        self.calls.append((command, params))
        if params.get("projectid"):
            return []  # no projects here
        rows = {"listVirtualMachines": list(self.vms.values()), "listServiceOfferings": OFFERINGS, "listHosts": self.hosts,
                "listZones": [ZONE], "listTemplates": self.templates, "listAccounts": self.accounts,
                "listDomains": self.domains, "listSystemVms": self.system_vms, "listRouters": [],
                "listConfigurations": [{"name": name, "value": value} for name, value in self.settings.items()]}[command]
        for field in ("id", "name", "clusterid", "state", "hostid"):
            if params.get(field) is not None and any(field in row for row in rows):
                rows = [row for row in rows if params[field] in row[field]] if field == "name" else \
                    [row for row in rows if row.get(field) == params[field]]
        return copy.deepcopy(rows)

    def submit(self, command, action=None, **params):
        """Apply the job at once; its id names the outcome kept for wait_jobs."""
        self.calls.append((command, params))
        jobid = "job-%d" % len(self.calls)
        self.jobs[jobid] = self.apply(command, params)
        return jobid

    def call(self, command, action=None, **params):
        """updateVirtualMachine with details (they replace the VM's) or cleanupdetails; a failure planned in ``fail``;
        listCapabilities answers ``version``."""
        self.calls.append((command, params))
        if command == "listCapabilities":
            return {"capability": {"cloudstackversion": self.version}}
        if command in self.fail:
            raise JobFailed(command, {"jobstatus": 2, "jobresult": {"errortext": self.fail.pop(command)}}, action=action)
        vm = self.vms[params["id"]]
        vm["details"] = {} if params.get("cleanupdetails") else dict(params["details"])
        return {"virtualmachine": copy.deepcopy(vm)}

    @staticmethod
    def clock():
        return 0.0

    def poll_jobs(self, deadlines, labels=None):
        """Every job has ended (they apply at once): {jobid: (jobresult, None), or (None, JobFailed)}."""
        self.calls.append(("queryAsyncJobResult", {"jobids": list(deadlines)}))
        outcomes = {}
        for jobid in deadlines:
            command, action = (labels or {}).get(jobid, (None, None))
            failed = {"jobid": jobid, "jobstatus": 2, "jobresult": {"errorcode": 530, "errortext": self.jobs[jobid]}}
            outcomes[jobid] = (None, JobFailed(command or "queryAsyncJobResult", failed, action=action)) \
                if isinstance(self.jobs[jobid], str) else (self.jobs[jobid], None)
        return outcomes

    def wait_jobs(self, jobids, timeout, action=None, command=None):
        outcomes = self.poll_jobs(dict.fromkeys(jobids, timeout), dict.fromkeys(jobids, (command, action)))
        for jobid in jobids:
            if outcomes[jobid][1] is not None:
                raise outcomes[jobid][1]
        return dict((jobid, outcomes[jobid][0]) for jobid in jobids)

    def apply(self, command, params):
        """A job's result (the VM as it is after it), or the errortext of a failure planned in ``fail``."""
        if command in self.fail:
            return self.fail.pop(command)
        vm = self.vms[params.get("id") or params.get("virtualmachineid")]
        if command == "scaleVirtualMachine":
            offering = next(row for row in OFFERINGS if row["id"] == params["serviceofferingid"])
            details = params.get("details") or {}
            vm.update(serviceofferingid=offering["id"], serviceofferingname=offering["name"],
                      cpunumber=offering.get("cpunumber") or details.get("cpuNumber", vm["cpunumber"]),
                      cpuspeed=offering.get("cpuspeed") or details.get("cpuSpeed", vm["cpuspeed"]),
                      memory=offering.get("memory") or details.get("memory", vm["memory"]))
        elif command == "stopVirtualMachine":
            vm.update(state="Stopped", hostid=None, hostname=None)
        elif command == "startVirtualMachine":
            vm.update(state="Running", hostid="host-1", hostname="kvm-a1-01")
        else:
            target = next(row for row in self.hosts if row["id"] == params.get("hostid"))
            vm.update(hostid=target["id"], hostname=target["name"])
        return {"virtualmachine": copy.deepcopy(vm)}


class FakeModule:
    """The parts of CloudStackModule that _scaling uses."""

    def __init__(self, api, check_mode=False, **params):
        self.api = api
        self.check_mode = check_mode
        unset = ("zone", "account", "domain", "project", "service_offering", "cpu_number", "cpu_speed", "memory", "name", "state")
        self.params = dict(dict.fromkeys(unset), vm="web-01", allow_migration=False, allow_restart=False, wait_timeout=60,
                           wait=True)
        self.params.update(params)


@pytest.fixture
def cloud():
    return FakeCloud()


def test_situation_is_read_from_the_api(cloud):
    cloud.settings.update({"kvm.cpu.dynamic.scaling.capacity": "6", "auto.migrate.vm.on.live.scale.insufficient.capacity": "false"})
    situation = scaling.Reader(cloud).situation(cloud.vms["vm-1"])
    assert situation.vm == planner.Vm("vm-1", "web-01", "Running", 1, 1000, 512, "off-small", "KVM", "zone-a", "cluster-a1",
                                      "host-1", True)
    assert situation.settings == planner.Settings(dynamic_scale=True, auto_migrate=False, kvm_cpu_capacity=6)
    # allocated 2000 MHz / 2 GiB, of which web-01 uses 1000 MHz / 512 MiB: the rest is reserved for stopped VMs
    assert situation.host == planner.Host("host-1", "kvm-a1-01", 8, 2000, 14000, 30 * GIB, 32 * GIB,
                                          reserved_cpu=1000, reserved_memory=GIB + GIB // 2)
    assert [other.name for other in situation.other_hosts] == ["kvm-a1-02"]
    assert situation.cluster == planner.Cluster(4000, 32000, 4 * GIB, 64 * GIB)
    assert (situation.template, situation.template_scalable, situation.limits) == (
        "debian-12-generic", True, planner.Limits("account acme", fix="updateResourceLimit account=acme domainid=dom-1",
                                                  domains=(planner.Limits("domain ROOT/customers",
                                                                          fix="updateResourceLimit domainid=dom-1"),)))


def test_host_tags_are_read_from_offering_and_host(cloud):
    cloud.hosts[0]["hosttags"] = "ssd, avx512"
    tagged = scaling.offering_from(dict(OFFERINGS[1], hosttags="ssd"))
    assert (tagged.host_tags, scaling.host_from(cloud.hosts[0]).tags) == (("ssd",), ("ssd", "avx512"))


def test_unreadable_settings_keep_cloudstack_defaults_but_let_cloudstack_judge_the_zone(cloud, monkeypatch):
    def refuse(command, key, action=None, **params):
        if command == "listConfigurations":
            raise scaling.ApiError(command, "The given command does not exist", errorcode=432)
        return FakeCloud.list(cloud, command, key, action, **params)
    monkeypatch.setattr(cloud, "list", refuse)
    assert scaling.Reader(cloud).situation(cloud.vms["vm-1"]).settings == planner.Settings(dynamic_scale=True)


def test_custom_offering_bounds_come_from_the_details():
    offering = scaling.offering_from(OFFERINGS[2])
    assert (offering.kind, offering.min_cpu, offering.max_cpu, offering.min_memory, offering.max_memory) == (
        "custom constrained", 1, 4, 256, 4096)


def test_live_scale_writes_once_and_reports_the_change(cloud):
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))
    assert cloud.writes == [("scaleVirtualMachine", {"id": "vm-1", "serviceofferingid": "off-medium", "details": None})]
    assert result["changed"] and result["plan"]["action"] == "live"
    assert result["diff"]["after"]["memory"] == 1024 and result["diff"]["before"]["memory"] == 512
    assert result["after"]["service_offering"] == "Medium"


def test_second_run_is_a_no_op(cloud):
    scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))
    assert (result["changed"], result["plan"]["action"], len(cloud.writes)) == (False, "none", 1)


def test_check_mode_plans_without_writes(cloud):
    result = scaling.scale_vm(FakeModule(cloud, check_mode=True, service_offering="Medium"))
    assert (result["changed"], result["after"]["cpu_number"], cloud.writes) == (True, 2, [])
    assert cloud.vms["vm-1"]["serviceofferingname"] == "Small"


def test_custom_values_are_sent_as_details(cloud):
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Custom", cpu_number="3", memory=2048))
    assert cloud.writes[0][1]["details"] == {"cpuNumber": 3, "memory": 2048}
    assert (result["after"]["cpu_number"], result["after"]["memory"]) == (3, 2048)


@pytest.mark.parametrize("params, message", [
    (dict(service_offering="Huge"), "service offering 'Huge' not found"),
    (dict(vm="web-99", service_offering="Medium"), "VM 'web-99' not found"),
    (dict(service_offering="Medium", memory=2048), "memory cannot be combined with service_offering=Medium: that offering"
                                                   " is fixed (2 vCPUs, 1000 MHz, 1024 MiB)"),
    (dict(cpu_number=2), "cpu_number needs a custom offering, but VM web-01 has the fixed offering Small"),
    (dict(service_offering="Custom", memory="2G"), "memory='2G' is not valid: give a positive whole number of MiB"),
    (dict(service_offering="Custom", memory=-5), "memory=-5 is not valid"),
    (dict(service_offering="Custom", cpu_number=8), "cpu_number=8 is outside what service offering Custom allows (1 to 4"),
    (dict(), "nothing to scale to"),
])
def test_bad_input_fails_before_any_write(cloud, params, message):
    with pytest.raises((InvalidValue, NotFound)) as error:
        scaling.scale_vm(FakeModule(cloud, **params))
    assert message in str(error.value)
    assert cloud.writes == []


def test_scale_down_of_a_running_vm_needs_allow_restart(cloud):
    cloud.vms["vm-1"].update(serviceofferingid="off-medium", serviceofferingname="Medium", cpunumber=2, memory=1024)
    with pytest.raises(InvalidValue, match="nothing was changed: vCPUs, memory would go down"):
        scaling.scale_vm(FakeModule(cloud, service_offering="Small"))
    assert cloud.writes == []
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Small", allow_restart=True))
    assert [command for command, _params in cloud.writes] == RESTART_WRITES
    assert (result["plan"]["action"], result["after"]["state"], result["after"]["memory"]) == ("restart", "Running", 512)


def run_on_host_1(cloud, mhz):
    """Another Running VM on host-1 using ``mhz``; the host's allocated capacity is what its two VMs use."""
    cloud.vms["vm-2"] = dict(cloud.vms["vm-1"], id="vm-2", name="batch-01", cpunumber=1, cpuspeed=mhz, memory=512)
    cloud.hosts[0].update(cpuallocatedvalue=1000 + mhz, memoryallocated=1024 * 1024 * 1024)


def test_full_host_is_left_by_explicit_migration_when_cloudstack_would_not(cloud):
    run_on_host_1(cloud, 14800)
    cloud.settings["auto.migrate.vm.on.live.scale.insufficient.capacity"] = "false"
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium", allow_migration=True))
    assert [command for command, _params in cloud.writes] == ["migrateVirtualMachine", "scaleVirtualMachine"]
    assert cloud.writes[0][1] == {"virtualmachineid": "vm-1", "hostid": "host-2"}
    assert (result["plan"]["migrate_to"], result["after"]["host"]) == ("kvm-a1-02", "kvm-a1-02")


def test_full_host_is_left_to_cloudstack_when_auto_migrate_is_on(cloud):
    run_on_host_1(cloud, 14800)
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium", allow_migration=True))
    assert ([command for command, _params in cloud.writes], result["plan"]["action"]) == (
        ["scaleVirtualMachine"], "migrate_then_live")


def test_failed_job_reports_errortext_and_that_nothing_changed(cloud):
    cloud.fail["scaleVirtualMachine"] = "Failed to scale the VM"
    with pytest.raises(rollout.ScaleFailed) as error:
        scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))
    assert (error.value.errortext, error.value.errorcode, error.value.jobid) == ("Failed to scale the VM", 530, list(cloud.jobs)[0])
    assert str(error.value).endswith("VM web-01 (vm-1) is now Running on kvm-a1-01 with Small (1 vCPU, 1000 MHz, 512 MiB):"
                                     " nothing was changed")


def test_failed_offline_scale_starts_the_vm_again_and_says_so(cloud):
    cloud.vms["vm-1"].update(serviceofferingid="off-medium", serviceofferingname="Medium", cpunumber=2, memory=1024)
    cloud.fail["scaleVirtualMachine"] = "Maximum amount of resources of Type = 'memory' ..."
    with pytest.raises(rollout.ScaleFailed) as error:
        scaling.scale_vm(FakeModule(cloud, service_offering="Small", allow_restart=True))
    assert "done so far: stopped, started; it was started again with its old size" in str(error.value)
    assert cloud.vms["vm-1"]["state"] == "Running"


def test_stopped_and_not_started_again_is_said(cloud):
    cloud.vms["vm-1"].update(serviceofferingid="off-medium", serviceofferingname="Medium", cpunumber=2, memory=1024)
    cloud.fail.update(scaleVirtualMachine="Failed to scale the VM", startVirtualMachine="Unable to start")
    with pytest.raises(rollout.ScaleFailed) as error:
        scaling.scale_vm(FakeModule(cloud, service_offering="Small", allow_restart=True))
    assert "is now Stopped with Medium" in str(error.value)
    assert "starting it again failed too" in str(error.value)
    assert "it was stopped for a stop-change-start and may not be running again: re-run the task" in str(error.value)
    assert cloud.vms["vm-1"]["details"][rollout.MARKER], "the record stays for the re-run"


def test_domain_without_headroom_falls_back_to_restart_when_allowed(cloud):
    cloud.fail["scaleVirtualMachine"] = rollout.RECONFIGURE_FAILED
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium", allow_restart=True))
    assert [command for command, _params in cloud.writes] == ["scaleVirtualMachine"] + RESTART_WRITES
    assert result["plan"]["action"] == "restart" and "started without head-room" in result["plan"]["reasons"][-1]


def test_domain_without_headroom_explains_without_allow_restart(cloud):
    cloud.fail["scaleVirtualMachine"] = rollout.RECONFIGURE_FAILED
    with pytest.raises(rollout.ScaleFailed, match="no head-room .*: stop and start it with livescale.cloudstack.vm_state"):
        scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))


def test_success_that_did_not_change_the_vm_is_an_error(cloud, monkeypatch):
    monkeypatch.setattr(cloud, "apply", lambda command, params: {})
    with pytest.raises(scaling.CloudStackError, match="the VM shows service_offering is Small, not Medium"):
        scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))


def test_scaling_info_reports_readiness_of_matching_vms(cloud):
    cloud.settings["enable.dynamic.scale.vm"] = "false"
    result = scaling.scaling_info(FakeModule(cloud, vm=None, state="Running"))
    [entry] = result["vms"]
    assert (entry["name"], entry["live_scalable"], entry["max_cpu_number"], entry["max_memory"], entry["offering_kind"]) == (
        "web-01", False, 8, 32768, "fixed")
    assert entry["blockers"] == ["enable.dynamic.scale.vm is false in zone zone-a: set it to true with livescale.cloudstack.setting"]
    assert cloud.writes == []


def test_reserved_capacity_lets_the_vm_scale_on_its_own_host(cloud):
    """HostJoinDaoImpl.newHostResponse shows used + reserved as cpuallocatedvalue; UserVmManagerImpl
    upgradeRunningVirtualMachine checks the VM's own host with CapacityManagerImpl.checkIfHostHasCapacity(...,
    considerReservedCapacity=false)."""
    cloud.hosts[0].update(cpuallocatedvalue=15800)  # web-01 uses 1000 MHz: 14800 MHz are reserved for stopped VMs
    result = scaling.scale_vm(FakeModule(cloud, check_mode=True, service_offering="Medium", allow_migration=True))
    assert (result["plan"]["action"], result["plan"]["migrate_to"]) == ("live", None)


@pytest.mark.parametrize("settings, strict", [
    ({}, ()),
    ({"vm.strict.host.tags": "ssd,gpu"}, ("gpu", "ssd")),
    ({"resource.limit.host.tags": "fast"}, ("fast",)),
    ({"resource.limit.host.tags": "fast", "vm.strict.resource.limit.host.tag.check": "false"}, ()),
])
def test_strict_host_tags_are_read_from_the_global_settings(cloud, settings, strict):
    """UserVmManager.getStrictHostTags: vm.strict.host.tags plus resource.limit.host.tags when
    vm.strict.resource.limit.host.tag.check (default true); ResourceLimitService.ResourceLimitHostTags."""
    cloud.settings.update(settings)
    assert scaling.Reader(cloud).situation(cloud.vms["vm-1"]).settings.strict_host_tags == strict


def test_max_memory_uses_the_raw_host_memory(cloud):
    """HostJoinDaoImpl: memorytotal = host memory x mem.overprovisioning.factor; KVMGuru.getHostMaxMemoryAndCpuCores
    uses host.getTotalMemory() for the domain's maximum."""
    cloud.settings["mem.overprovisioning.factor"] = "2"
    for row in cloud.hosts:
        row.update(memorytotal=64 * GIB, memorywithoverprovisioning=str(64 * GIB))
    [entry] = scaling.scaling_info(FakeModule(cloud, vm=None, state="Running"))["vms"]
    assert entry["max_memory"] == 32768


def test_max_values_stop_at_what_the_owner_has_left(cloud):
    """AccountJoinDaoImpl.setResourceLimits: cpuavailable = limit in force (explicit or max.account.cpus) - total."""
    cloud.accounts[0].update(cpuavailable="3", memoryavailable="1024")
    [entry] = scaling.scaling_info(FakeModule(cloud, vm=None, state="Running"))["vms"]
    assert (entry["max_cpu_number"], entry["max_memory"], entry["live_scalable"]) == (4, 1536, True)


def test_domain_limits_are_checked_after_the_account(cloud):
    """ResourceLimitManagerImpl.checkDomainResourceLimit walks the owner's domain and its parents, ROOT excluded."""
    cloud.domains[1]["cpuavailable"] = "0"
    with pytest.raises(InvalidValue, match=r"domain ROOT/customers of VM web-01 has 0 vCPUs left under its cpu limit but"
                                           r" the scale needs 1 more: raise the limit \(updateResourceLimit domainid=dom-1"
                                           r" resourcetype=8\)"):
        scaling.scale_vm(FakeModule(cloud, check_mode=True, service_offering="Medium"))


def test_domain_limits_read_every_domain_up_to_a_child_of_root_but_not_root(cloud):
    """checkDomainResourceLimit skips ROOT (level 0, DomainVO): the walk stops at the level-1 domain, one listDomains
    per level below ROOT."""
    cloud.domains.append({"id": "dom-2", "name": "acme", "path": "ROOT/customers/acme", "level": 2,
                          "parentdomainid": "dom-1", "cpuavailable": "Unlimited", "memoryavailable": "2048"})
    reader = scaling.Reader(cloud)
    limits = reader.domain_limits("dom-2")
    expected = [("domain ROOT/customers/acme", 2048), ("domain ROOT/customers", None)]
    assert [(limit.owner, limit.memory) for limit in limits] == expected
    assert [params["id"] for command, params in cloud.calls if command == "listDomains"] == ["dom-2", "dom-1"]


def test_template_tag_is_read(cloud):
    """TemplateResponse templatetag: HostVO.checkHostServiceOfferingAndTemplateTags adds it to the offering's tags."""
    cloud.templates[0]["templatetag"] = "avx512"
    assert scaling.Reader(cloud).situation(cloud.vms["vm-1"]).template_tag == "avx512"


def test_check_mode_refuses_a_filled_in_value_outside_the_custom_bounds(cloud):
    """UserVmManagerImpl.updateInstanceDetailsMapWithCurrentValuesForAbsentDetails fills memory from the VM, then
    validateCustomParameters refuses it (431): check mode says so instead of planning a live scale."""
    cloud.vms["vm-1"].update(serviceofferingid="off-custom", serviceofferingname="Custom", memory=8192)
    with pytest.raises(InvalidValue, match="memory is not given, so the VM keeps its current 8192 MiB"):
        scaling.scale_vm(FakeModule(cloud, check_mode=True, cpu_number=3))
    assert cloud.writes == []


class CallerCloud(FakeCloud):
    """FakeCloud whose listAccounts without parameters answers only the caller's own account, as
    QueryManagerImpl.searchForAccountIdsAndCount does (accountId = caller.getAccountId())."""

    def __init__(self, caller, version):
        super(CallerCloud, self).__init__()
        self.caller, self.version = caller, version

    def list(self, command, key, action=None, **params):
        if command == "listAccounts" and not params:
            self.calls.append((command, params))
            return [dict(self.caller)]
        return super(CallerCloud, self).list(command, key, action=action, **params)


ROOT_CALLER = {"name": "admin", "accounttype": 1, "domainid": "dom-0", "cpuavailable": "Unlimited",
               "memoryavailable": "Unlimited"}
DORA = {"name": "dora", "accounttype": 2, "domainid": "dom-1", "cpuavailable": "1", "memoryavailable": "4096"}


@pytest.mark.parametrize("version, caller, live", [
    ("4.19.3.0", ROOT_CALLER, planner.Limits("account admin (the caller, whose limits CloudStack 4.19 checks when a"
                                             " running VM is scaled)")),
    ("4.18.2.5", DORA, planner.Limits("account dora (the caller, whose limits CloudStack 4.18 checks when a running VM"
                                      " is scaled)", cpu=1, memory=4096, fix="updateResourceLimit account=dora"
                                      " domainid=dom-1", domains=(planner.Limits(
                                          "domain ROOT/customers", fix="updateResourceLimit domainid=dom-1"),))),
    ("4.19.3.0", dict(ROOT_CALLER, name="acme", accounttype=0, domainid="dom-1"), None),
    ("4.20.2.0", ROOT_CALLER, None)])
def test_before_4_20_a_running_vm_is_planned_against_the_callers_limits(version, caller, live):
    """UserVmManagerImpl.upgradeRunningVirtualMachine at 0c7d47138d / 84538da27c: checkResourceLimit(caller, ...), no
    limits for a root admin (ResourceLimitManagerImpl.checkResourceLimit); the owner's at 4dc3931233 (PR #8935), and
    the owner's when the caller is the owner: no caller limits, and on 4.20 no listAccounts to find the caller."""
    cloud = CallerCloud(caller, version)
    cloud.accounts[0].update(cpuavailable="0", domainid="dom-1")
    situation = scaling.Reader(cloud).situation(cloud.vms["vm-1"])
    assert situation.live_limits == live and situation.limits.cpu == 0
    assert (("listAccounts", {}) in cloud.calls) is version.startswith(("4.18", "4.19"))
    stopped = scaling.Reader(cloud).situation(dict(cloud.vms["vm-1"], state="Stopped", hostid=None))
    assert stopped.live_limits is None, "upgradeStoppedVirtualMachine checks the owner's limits on every line"


def test_a_fleet_counts_a_live_scale_against_the_callers_limits_too():
    """Before 4.20 upgradeRunningVirtualMachine increments the caller's resource count (incrementResourceCount
    (caller.getAccountId(), ...) at 0c7d47138d): the next VM planned in the same run has that much less left."""
    cloud = CallerCloud(DORA, "4.19.3.0")
    reader = scaling.Reader(cloud)
    vm_row = cloud.vms["vm-1"]
    situation = reader.situation(vm_row)
    plan = planner.Plan(planner.LIVE, situation.current, 2, 1000, 1024)
    reader.commit(vm_row, plan)
    assert (reader.live_limits(vm_row).cpu, reader.live_limits(vm_row).memory) == (0, 3584)

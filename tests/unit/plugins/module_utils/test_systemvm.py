"""System VMs: the Situation read from SystemVmResponse rows, the system-offering rules and the planner's verdicts."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _systemvm as systemvm
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    JOB_PENDING, CloudStackError, JobFailed, JobTimeout)
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import PendingJob

GIB = 1024 ** 3
PROXY = {"id": "sv-2", "name": "v-2-VM", "systemvmtype": "consoleproxy", "state": "Running", "zoneid": "zone-1",
         "zonename": "zone-a", "hostid": "host-1", "hostname": "kvm-a1-02", "hypervisor": "KVM",
         "templateid": "tpl-sys",
         "serviceofferingid": "so-cp", "serviceofferingname": "System Offering For Console Proxy",
         "isdynamicallyscalable": True}
OFFERINGS = [
    {"id": "so-cp", "name": "System Offering For Console Proxy", "cpunumber": 1, "cpuspeed": 500, "memory": 1024,
     "issystem": True, "systemvmtype": "consoleproxy"},
    {"id": "so-cp-large", "name": "Console Proxy Large", "cpunumber": 2, "cpuspeed": 500, "memory": 2048,
     "issystem": True, "systemvmtype": "consoleproxy"},
    {"id": "so-cp-custom", "name": "Console Proxy Custom", "cpuspeed": 500, "issystem": True,
     "systemvmtype": "consoleproxy", "iscustomized": True},
    {"id": "so-ssvm", "name": "System Offering For Secondary Storage VM", "cpunumber": 1, "cpuspeed": 500,
     "memory": 512, "issystem": True, "systemvmtype": "secondarystoragevm"},
    {"id": "off-medium", "name": "Medium", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048},
]
HOST = {"id": "host-1", "name": "kvm-a1-02", "clusterid": "cluster-1", "clustername": "cluster-a1", "state": "Up",
        "resourcestate": "Enabled", "cpunumber": 16, "cpuspeed": 2400, "cpuallocatedvalue": 1000,
        "cpuwithoverprovisioning": "38400", "memorytotal": 64 * GIB, "memorywithoverprovisioning": str(64 * GIB),
        "memoryallocated": 1536 * 1024 * 1024}


class TableReader(systemvm.SystemVmReader):
    """The reader over in-memory listings: the only I/O of Reader is _list."""

    def __init__(self, settings=None, template_scalable=True, version="4.23.0.0"):
        super(TableReader, self).__init__(api=None)
        self._version = versions.version_of(version)  # what listCapabilities would answer
        self.values = dict({"enable.dynamic.scale.vm": "true"}, **(settings or {}))
        self.template_scalable = template_scalable
        self.user_vms = []

    def _list(self, command, key, **params):
        if command == "listServiceOfferings":
            rows = [row for row in OFFERINGS if bool(row.get("issystem")) == bool(params.get("issystem"))
                    and params.get("systemvmtype") in (None, row.get("systemvmtype"))]
            return [row for row in rows if params.get("id") in (None, row["id"]) and "state" not in params]
        if command == "listHosts":
            return [HOST]
        if command == "listConfigurations":
            return [{"name": name, "value": value} for name, value in self.values.items()]
        if command == "listTemplates":
            return [{"id": "tpl-sys", "name": "SystemVM Template (KVM)",
                     "isdynamicallyscalable": self.template_scalable}]
        if command == "listSystemVms":
            return [dict(PROXY, serviceofferingid="so-cp")]
        if command == "listVirtualMachines" and "projectid" not in params:
            return self.user_vms
        return []


def decide(reader, offering, row=None, **options):
    """plan_system_vm for one target offering name."""
    values = {"cpu_number": None, "cpu_speed": None, "memory": None}
    return systemvm.plan_system_vm(reader, row or PROXY, reader.target_row(offering), values,
                                   planner.Options(**options))


def test_situation_takes_the_size_from_the_system_offering_and_counts_system_vms_on_the_host():
    """SystemVmResponse has no cpunumber/memory (spec A.5): the size is the offering's; the host's own system VMs
    are used capacity, not reserved (HostJoinDaoImpl allocated = used + reserved)."""
    situation = TableReader().situation(PROXY)
    assert (situation.vm.cpu, situation.vm.speed, situation.vm.memory) == (1, 500, 1024)
    assert situation.system_vm_type == "consoleproxy" and situation.limits.cpu is None
    assert (situation.host.reserved_cpu, situation.host.reserved_memory) == (500, 512 * 1024 * 1024)


def test_live_scale_to_a_larger_offering_of_the_same_type():
    """UserVmManagerImpl.upgradeRunningVirtualMachine, reached through ManagementServerImpl.upgradeSystemVM."""
    plan, _situation = decide(TableReader(), "Console Proxy Large")
    assert (plan.action, plan.cpu, plan.memory) == (planner.LIVE, 2, 2048)


@pytest.mark.parametrize("offering, text", [
    ("Medium", "service offering Medium is not a system offering: CloudStack refuses it for system VM v-2-VM"),
    ("System Offering For Secondary Storage VM", "is for secondarystoragevm VMs, not consoleproxy"),
])
def test_offerings_that_do_not_suit_are_refused_with_the_ones_that_do(offering, text):
    """VirtualMachineManagerImpl.checkIfCanUpgrade (isSystemUse); the systemvmtype rule is the collection's own."""
    plan, _situation = decide(TableReader(version="4.22.0.0"), offering)
    assert plan.action == planner.REFUSE and plan.migrate_host is None
    assert text in plan.reasons[0] and "Console Proxy Large" in plan.reasons[0]
    assert plan.version.server == "4.22.0.0", "a refusal still names the version it was planned for"


def plan_target(reader, values):
    """The planner Target of Console Proxy Custom with ``values``."""
    return planner.Target(systemvm.offering_from(reader.target_row("Console Proxy Custom")), cpu=values["cpu_number"],
                          memory=values["memory"])


@pytest.mark.parametrize("server, planned", [
    ("4.18.2.5", None), ("4.19.3.0", None), ("4.20.0.0", None), ("4.20.1.0", None), ("4.20.2.0", planner.RESTART),
    ("4.21.0.0", planner.RESTART), ("4.23.0.0", planner.LIVE)])
def test_a_custom_system_offering_is_refused_before_4_20_2(server, planned):
    """ScaleSystemVMCmd / UpgradeSystemVMCmd.getDetails return the details map keyed by index at 84538da27c,
    0c7d47138d and c61a5eb430 (4.20.1.0), so UserVmManagerImpl.validateCustomParameters finds no cpuNumber (431
    Invalid cpu cores value); apache/cloudstack PR #11062 (78e146278b, in 4.20.2.0 4dc3931233) merges them. From
    4.20.2 the plan is the planner's: a restart before 4.23 (the current offering is fixed, on KVM), else live."""
    reader = TableReader(version=server)
    values = {"cpu_number": 2, "cpu_speed": None, "memory": 2048}
    plan, _situation = systemvm.plan_system_vm(reader, PROXY, reader.target_row("Console Proxy Custom"), values,
                                               planner.Options(allow_restart=True))
    if planned:
        assert plan.action == planner.plan(reader.situation(PROXY), plan_target(reader, values),
                                           planner.Options(allow_restart=True)).action == planned
        assert plan.details() == {"cpuNumber": 2, "memory": 2048}
        return
    assert plan.action == planner.REFUSE and len(plan.reasons) == 1
    assert plan.reasons[0] == (
        "system offering Console Proxy Custom is custom, and CloudStack %s hands the values of scaleSystemVm and"
        " changeServiceForSystemVm on keyed by their index (ScaleSystemVMCmd.getDetails before apache/cloudstack PR"
        " #11062 of 4.20.2), so validateCustomParameters finds none of them and refuses every custom system offering"
        " (Invalid ... value): pick a system offering of type consoleproxy with a fixed size (Console Proxy Large,"
        " System Offering For Console Proxy), create one with createServiceOffering issystem=true"
        " systemvmtype=consoleproxy cpunumber=... cpuspeed=... memory=..., or upgrade CloudStack to 4.20.2 or later"
        % server)


def test_a_system_vm_without_the_flag_is_told_to_take_it_from_the_template():
    """ConsoleProxyManagerImpl.createOrUpdateConsoleProxy sets the flag from the template at creation only."""
    reader = TableReader(template_scalable=False)
    plan, situation = decide(reader, "Console Proxy Large", row=dict(PROXY, isdynamicallyscalable=False))
    assert plan.action == planner.REFUSE
    blocker = [reason for reason in plan.reasons if reason.startswith("system VM v-2-VM has isdynamicallyscalable")]
    assert blocker and "template_scalable" in blocker[0] and "destroySystemVm" in blocker[0]
    assert not any("vm_scalable" in reason for reason in plan.reasons)
    assert planner.readiness(situation).live_scalable is False


def test_migration_needs_cloudstack_to_migrate_itself():
    """scaleSystemVm migrates only through auto.migrate.vm.on.live.scale.insufficient.capacity (findHostAndMigrate);
    the module has no migrateSystemVm step."""
    full = dict(HOST, cpuallocatedvalue=38400)
    reader = TableReader(settings={"auto.migrate.vm.on.live.scale.insufficient.capacity": "false"})
    reader.zone_hosts = lambda _zone: [dict(full), dict(HOST, id="host-2", name="kvm-a1-01", cpuallocatedvalue=0)]
    reader.user_vms = [{"hostid": "host-1", "state": "Running", "cpunumber": 1, "cpuspeed": 38400 - 500,
                        "memory": 512}]
    plan, _situation = decide(reader, "Console Proxy Large", allow_migration=True)
    assert plan.action == planner.REFUSE and "does not migrate system VMs itself" in plan.reasons[-1]


def test_situation_carries_the_server_version_and_its_settings():
    """Before PR #12975 (4.22) the cluster capacity settings do not exist, so their defaults hold (as for user VMs)."""
    situation = TableReader(settings={"kvm.cpu.dynamic.scaling.capacity": "4"}, version="4.22.0.0").situation(PROXY)
    assert situation.version.server == "4.22.0.0"
    assert situation.settings.kvm_cpu_capacity == planner.Settings().kvm_cpu_capacity
    current = TableReader(settings={"kvm.cpu.dynamic.scaling.capacity": "4"}).situation(PROXY)
    assert current.version.server == "4.23.0.0" and current.settings.kvm_cpu_capacity == 4


class JobsApi:
    """listSystemVms / listAsyncJobs answers over a table of jobs; wait_jobs ends the jobs it waits for."""

    def __init__(self, jobs, row_job=None, ends=True):
        self.jobs, self.row_job, self.ends, self.waits, self.now = jobs, row_job, ends, [], 0.0

    def clock(self):
        return self.now

    def list(self, command, key, action=None, **params):
        del key, action
        if command == "listSystemVms":
            pending = self.row_job and any(job["jobid"] == self.row_job and job["jobstatus"] == JOB_PENDING
                                           for job in self.jobs)
            return [dict(PROXY, jobid=self.row_job, jobstatus=JOB_PENDING) if pending else dict(PROXY)]
        assert command == "listAsyncJobs" and params == {"listall": True, "keyword": "ScaleSystemVMCmd"}
        return [job for job in self.jobs if "ScaleSystemVMCmd" in job["cmd"]]

    def wait_jobs(self, jobids, timeout, action=None):
        self.waits.append((sorted(jobids), timeout))
        if not self.ends:
            raise JobTimeout(jobids[0], {"jobstatus": JOB_PENDING}, timeout, action=action)
        for job in self.jobs:
            if job["jobid"] in jobids:
                job["jobstatus"] = 1


def job(jobid, cmd, instance=None, status=JOB_PENDING):
    return {"jobid": jobid, "cmd": "org.apache.cloudstack.api.command.admin.systemvm.%s" % cmd,
            "jobstatus": status, "jobinstanceid": instance}


def test_settle_waits_for_the_vms_own_job_and_pending_system_vm_scales_then_reads_it_again():
    """ApiServer.buildAsyncListResponse shows a SystemVm job as the row's jobid; ScaleSystemVMCmd has no
    getApiResourceType, so a pending scaleSystemVm names no instance and is waited for too. A scale that names
    another instance and ended jobs are not."""
    api = JobsApi([job("stop-1", "StopSystemVmCmd", "sv-2"), job("scale-1", "ScaleSystemVMCmd"),
                   job("scale-other", "ScaleSystemVMCmd", "sv-9"), job("scale-old", "ScaleSystemVMCmd", status=1)],
                  row_job="stop-1")
    row, waited = systemvm.settle(api, dict(PROXY, jobid="stop-1", jobstatus=JOB_PENDING), 30)
    assert waited == ["scale-1", "stop-1"] and api.waits == [(["scale-1", "stop-1"], 30)]
    assert "jobid" not in row, "read again after the jobs"
    assert systemvm.settle(JobsApi([]), dict(PROXY), 30) == (dict(PROXY), [])


def test_settle_names_a_job_still_pending_at_wait_timeout():
    api = JobsApi([job("scale-1", "ScaleSystemVMCmd")], ends=False)
    with pytest.raises(PendingJob) as raised:
        systemvm.settle(api, dict(PROXY), 0)
    assert "job scale-1 was pending on VM v-2-VM" in str(raised.value) and "nothing was sent" in str(raised.value)


class RecordApi:
    """listAnnotations / addAnnotation / removeAnnotation and the *SystemVm jobs over in-memory state; ``fail`` maps
    a command to the error it raises. Every call is logged as (command, parameters)."""

    def __init__(self, annotations=(), state="Running", fail=None):
        self.annotations, self.state, self.fail, self.calls = list(annotations), state, fail or {}, []

    def _log(self, command, params):
        self.calls.append((command, params))
        if command in self.fail:
            raise self.fail[command]

    def list(self, command, key, action=None, **params):
        del key, action
        self._log(command, params)
        if command == "listSystemVms":
            return [dict(PROXY, state=self.state)]
        return list(self.annotations)

    def call(self, command, action=None, **params):
        del action
        self._log(command, params)
        if command == "addAnnotation":
            added = {"id": "an-%d" % len(self.calls), "annotation": params["annotation"], "entityid": params["entityid"]}
            self.annotations.append(added)
            return {"annotation": added}
        self.annotations = [item for item in self.annotations if item["id"] != params["id"]]
        return {"annotation": {}}

    def run_async(self, command, timeout, action=None, **params):
        del timeout, action
        self._log(command, params)
        self.state = {"stopSystemVm": "Stopped", "startSystemVm": "Running"}.get(command, self.state)
        return {"systemvm": dict(PROXY, state=self.state, serviceofferingid="so-cp-large")}


def record(text, record_id="an-1", entity="sv-2"):
    return {"id": record_id, "annotation": text, "entityid": entity, "created": "2026-12-01T22:00:00+0000"}


RESTART = planner.Plan(planner.RESTART, planner.Offering(id="so-cp-large", name="Console Proxy Large"), 2, 500, 2048,
                       ())


def test_stop_records_are_the_marker_annotations_of_the_system_vm():
    """listAnnotations entitytype=SYSTEM_VM entityid=... keyword=MARKER; another text or entity is not a record."""
    api = RecordApi([record("livescale.stop-change-start: stopped to change it to X"), record("a note", "an-2"),
                     record("livescale.stop-change-start: other", "an-3", entity="sv-9")])
    assert [item["id"] for item in systemvm.stop_records(api, PROXY)] == ["an-1"]
    assert api.calls == [("listAnnotations", {"entitytype": "SYSTEM_VM", "entityid": "sv-2",
                                              "keyword": "livescale.stop-change-start"})]


def test_a_restart_records_the_stop_before_it_and_removes_the_record_after_the_start():
    api = RecordApi()
    after, warnings = systemvm.execute(api, PROXY, RESTART, 60, [])
    assert [command for command, _params in api.calls] == [
        "addAnnotation", "stopSystemVm", "scaleSystemVm", "startSystemVm", "removeAnnotation"]
    added = api.calls[0][1]
    assert (added["entitytype"], added["adminsonly"]) == ("SYSTEM_VM", True)
    assert added["annotation"] == ("livescale.stop-change-start: stopped to change it to Console Proxy Large"
                                   " (2 vCPUs, 500 MHz, 2048 MiB)")
    assert after["state"] == "Running" and warnings == [] and api.annotations == []


def test_a_record_found_on_a_stopped_system_vm_is_finished_and_removed():
    """The re-run after an interrupted stop-change-start: the offline change, then the start; no stop."""
    api = RecordApi([record("livescale.stop-change-start: stopped")], state="Stopped")
    offline = planner.Plan(planner.OFFLINE, RESTART.offering, 2, 500, 2048, ())
    after, warnings = systemvm.execute(api, dict(PROXY, state="Stopped"), offline, 60, api.annotations)
    assert [command for command, _params in api.calls] == ["scaleSystemVm", "startSystemVm", "removeAnnotation"]
    assert after["state"] == "Running" and warnings == []
    note = systemvm.recovery_note(dict(PROXY, state="Stopped"), [record("livescale.stop-change-start: stopped")])
    assert "left Stopped by an interrupted stop-change-start (annotation an-1" in note


def test_a_scale_failing_after_the_stop_starts_it_again_and_removes_the_record():
    error = JobFailed("scaleSystemVm", {"jobid": "job-9", "jobstatus": 2,
                                        "jobresult": {"errorcode": 530, "errortext": "Failed to upgrade System VM"}})
    api = RecordApi(fail={"scaleSystemVm": error})
    with pytest.raises(systemvm.ScaleFailed) as raised:
        systemvm.execute(api, PROXY, RESTART, 60, [])
    assert "is now Running: stopped, started again with its old size" in str(raised.value)
    assert api.annotations == [] and "re-run" not in str(raised.value)


def test_a_start_whose_end_is_not_seen_keeps_the_record_and_says_what_a_rerun_does():
    api = RecordApi(fail={"startSystemVm": JobTimeout("job-7", {"jobstatus": JOB_PENDING}, 60, action="start",
                                                      command="startSystemVm")})
    with pytest.raises(systemvm.ScaleFailed) as raised:
        systemvm.execute(api, PROXY, RESTART, 60, [])
    message = str(raised.value)
    assert "job job-7 of startSystemVm had not ended" in message and "is now Stopped: stopped, scaled" in message
    assert "re-run the task, which finds the record (annotation an-1)" in message
    assert len(api.annotations) == 1, "kept for the re-run"


def test_a_record_that_cannot_be_removed_is_a_warning():
    api = RecordApi(fail={"removeAnnotation": CloudStackError("503")})
    _after, warnings = systemvm.execute(api, PROXY, RESTART, 60, [])
    assert warnings and "its stop record (annotation an-1) could not be removed: 503; a re-run removes it" in warnings[0]

"""The one-line summaries, and wait: false of vm_scale and vm_scale_fleet, against the in-memory CloudStack."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _fleet as fleet
from ansible_collections.livescale.cloudstack.plugins.module_utils import _scaling as scaling
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import InvalidValue

from tests.unit.plugins.module_utils.test_fleet import module as fleet_module
from tests.unit.plugins.module_utils.test_scaling import FakeModule, FakeCloud, run_on_host_1

SMALL = dict(service_offering="Small", cpu_number=1, cpu_speed=1000, memory=1024, state="Running", host="kvm-a1-01")
MEDIUM = dict(SMALL, service_offering="Medium", cpu_number=2, memory=2048)


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def cloud():
    return FakeCloud()


def test_stopwatch_measures_on_the_clock_it_is_given():
    clock = Clock()
    stopwatch = summary.Stopwatch(clock)
    clock.now += 1.24
    assert stopwatch.text() == "1.2 s"


@pytest.mark.parametrize("action, before, after, line", [
    ("live", SMALL, MEDIUM, u"web-01: Small 1 vCPU/1024 MiB \u2192 Medium 2 vCPU/2048 MiB, live on kvm-a1-01, 1.2 s"),
    ("migrate_then_live", SMALL, dict(MEDIUM, host="kvm-a1-02"), u"web-01: Small 1 vCPU/1024 MiB \u2192 Medium 2 vCPU/2048"
     u" MiB, migrated kvm-a1-01 \u2192 kvm-a1-02, then live, 1.2 s"),
    ("restart", MEDIUM, SMALL, u"web-01: Medium 2 vCPU/2048 MiB \u2192 Small 1 vCPU/1024 MiB, stopped, changed and started"
     u" on kvm-a1-01, 1.2 s"),
    ("offline", dict(SMALL, state="Stopped", host=None), dict(MEDIUM, state="Stopped", host=None),
     u"web-01: Small 1 vCPU/1024 MiB \u2192 Medium 2 vCPU/2048 MiB, while stopped, 1.2 s"),
    ("none", MEDIUM, MEDIUM, "web-01: already Medium 2 vCPU/2048 MiB, nothing changed"),
    ("none", dict(MEDIUM, state="Stopped"), MEDIUM, u"web-01: Medium 2 vCPU/2048 MiB, Stopped \u2192 Running, 1.2 s"),
])
def test_a_scale_reads_as_one_line(action, before, after, line):
    clock = Clock()
    stopwatch = summary.Stopwatch(clock)
    clock.now += 1.2
    assert summary.scaled("web-01", before, after, action, stopwatch) == line


def test_check_mode_says_nothing_changed_instead_of_the_time():
    assert summary.scaled("web-01", SMALL, MEDIUM, "live", summary.Stopwatch(), check_mode=True).endswith(
        "live on kvm-a1-01, check mode: nothing changed")


def test_a_refusal_names_its_first_reason_and_how_many_follow():
    assert summary.refused("web-01", ["enable.dynamic.scale.vm is false", "the template is not scalable"]) == (
        "web-01: refused, nothing changed: enable.dynamic.scale.vm is false (and 1 more reason)")
    assert summary.refused("web-01", ["a"]) == "web-01: refused, nothing changed: a"


def test_values_and_counts_lines():
    assert summary.values("VM web-01", {"isdynamicallyscalable": False}, {"isdynamicallyscalable": True}) == (
        u"VM web-01: isdynamicallyscalable false \u2192 true")
    assert summary.counts("VM", {"scaled": 2, "unchanged": 1, "failed": 0}, ("unchanged", "scaled", "failed")) == (
        "3 VMs: 1 unchanged, 2 scaled")


def test_vm_scale_summary_and_a_refusal_summary(cloud):
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium"))
    assert result["summary"].startswith(u"web-01: Small 1 vCPU/512 MiB \u2192 Medium 2 vCPU/1024 MiB, live on kvm-a1-01, ")
    assert result["summary"].endswith(" s") and result["jobs"] == []
    cloud.settings["enable.dynamic.scale.vm"] = "false"
    with pytest.raises(InvalidValue) as error:
        scaling.scale_vm(FakeModule(cloud, service_offering="Small"))
    assert error.value.result["summary"].startswith("web-01: refused, nothing changed: ")


def test_vm_scale_without_wait_submits_the_job_and_returns_its_id(cloud):
    cloud.wait_jobs = None  # waiting would fail: nothing may wait
    result = scaling.scale_vm(FakeModule(cloud, service_offering="Medium", wait=False))
    assert [command for command, _params in cloud.writes] == ["scaleVirtualMachine"]
    [job] = result["jobs"]
    assert result["changed"] and job == {"jobid": list(cloud.jobs)[0], "command": "scaleVirtualMachine", "vm": "web-01"}
    assert result["summary"].endswith("live on kvm-a1-01; in progress as job %s: wait for it with"
                                      " livescale.cloudstack.job_info" % job["jobid"])
    assert result["after"]["service_offering"] == "Medium"


@pytest.mark.parametrize("prepare, params, message", [
    (lambda cloud: cloud.vms["vm-1"].update(serviceofferingid="off-medium", serviceofferingname="Medium", cpunumber=2,
                                            memory=1024),
     dict(service_offering="Small", allow_restart=True), "a stop-change-start of VM web-01 needs the stop to end"),
    (lambda cloud: (run_on_host_1(cloud, 14800), cloud.settings.update(
        {"auto.migrate.vm.on.live.scale.insufficient.capacity": "false"})),
     dict(service_offering="Medium", allow_migration=True), "VM web-01 must first be migrated to kvm-a1-02, then scaled"),
])
@pytest.mark.parametrize("check_mode", [False, True])
def test_vm_scale_without_wait_refuses_a_plan_of_jobs_one_after_the_other(cloud, prepare, params, message, check_mode):
    prepare(cloud)
    with pytest.raises(InvalidValue) as error:
        scaling.scale_vm(FakeModule(cloud, check_mode, wait=False, **params))
    assert message in str(error.value) and "set wait: true" in str(error.value)
    assert error.value.result["summary"].startswith("web-01: refused, nothing changed: ")
    assert cloud.writes == []


def test_fleet_summaries_per_vm_and_for_the_task(cloud):
    result = fleet.scale_fleet(fleet_module(cloud, service_offering="Medium"))
    assert result["counts"]["scaled"] == 1 and result["summary"].startswith("1 VM: 1 scaled, ")
    assert result["vms"][0]["summary"] == u"web-01: Small 1 vCPU/512 MiB \u2192 Medium 2 vCPU/1024 MiB, live on kvm-a1-01"


def test_fleet_without_wait_submits_every_job_and_returns_them(cloud):
    cloud.vms["vm-2"] = dict(cloud.vms["vm-1"], id="vm-2", name="web-02")
    result = fleet.scale_fleet(fleet_module(cloud, service_offering="Medium", wait=False))
    assert [command for command, _params in cloud.writes] == ["scaleVirtualMachine"] * 2
    assert [job["vm"] for job in result["jobs"]] == ["web-01", "web-02"]
    assert result["counts"]["submitted"] == 2 and result["changed"]
    assert result["summary"].startswith("2 VMs: 2 submitted; in progress as jobs ")


@pytest.mark.parametrize("params, message", [
    (dict(max_failures=1), "max_failures=1 needs wait: true"),
    (dict(max_jobs=1), "2 VMs need a job, more than max_jobs=1"),
])
def test_fleet_without_wait_refuses_what_only_waiting_can_do(cloud, params, message):
    cloud.vms["vm-2"] = dict(cloud.vms["vm-1"], id="vm-2", name="web-02")
    with pytest.raises(InvalidValue, match=message):
        fleet.scale_fleet(fleet_module(cloud, service_offering="Medium", wait=False, **params))
    assert cloud.writes == []

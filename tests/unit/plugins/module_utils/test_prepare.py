"""vm_prepare_fleet's logic: bad input, windows, anti-affinity batches and the order of the writes."""

import datetime

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _prepare as prepare
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackError, InvalidValue

from tests.unit.plugins.module_utils.test_fleet import FLEET_OPTIONS
from tests.unit.plugins.module_utils.test_rollout import Fleet
from tests.unit.plugins.module_utils.test_scaling import FakeModule

NOON = datetime.datetime(2026, 6, 12, 12, 0)


class Legacy(Fleet):
    """Running VMs not yet scalable, in a zone whose setting is false, with a template without the flag."""

    def __init__(self, count=3):
        super().__init__(count)
        for vm in self.vms.values():
            vm.update(isdynamicallyscalable=False, zoneid="zone-1", affinitygroup=[])
        self.settings["enable.dynamic.scale.vm"] = "false"
        self.templates[0]["isdynamicallyscalable"] = False
        self.groups = []
        self.extra_offerings = []

    def list(self, command, key, action=None, **params):
        if command == "listAffinityGroups":
            self.calls.append((command, params))
            return list(self.groups)
        rows = super().list(command, key, action, **params)
        if command == "listConfigurations":
            rows = [dict(row, type="Boolean") for row in rows]
        if command == "listServiceOfferings":
            rows += [row for row in self.extra_offerings if params.get("id") in (None, row["id"])]
        return rows

    def call(self, command, action=None, **params):
        self.calls.append((command, params))
        if command == "updateConfiguration":
            self.settings[params["name"]] = params["value"]
            return {"configuration": {"name": params["name"], "value": params["value"]}}
        if command == "updateTemplate":
            self.templates[0]["isdynamicallyscalable"] = True
            return {"template": dict(self.templates[0])}
        self.vms[params["id"]]["isdynamicallyscalable"] = params["isdynamicallyscalable"]
        return {"virtualmachine": dict(self.vms[params["id"]])}

    @property
    def writes(self):
        return [command for command, _params in self.calls if command.startswith(("update", "stop", "start"))]


def run(cloud, check_mode=False, now=NOON, **params):
    options = dict(FLEET_OPTIONS, restart="unprepared", batch_size=1, maintenance_window=None, force_stop=False)
    options.update(params)
    return prepare.Preparation(FakeModule(cloud, check_mode, **options), now=lambda utc: now).run()


@pytest.mark.parametrize("value, count, size", [(1, 9, 1), ("4", 9, 4), ("25%", 9, 3), ("100%", 9, 9), ("1%", 9, 1)])
def test_batch_size_is_a_number_or_a_percentage(value, count, size):
    assert prepare.batch_count(value, count) == size


@pytest.mark.parametrize("value", [0, "0", "0%", "101%", "-2", "half", True])
def test_bad_batch_size_names_the_value_and_the_fix(value):
    with pytest.raises(InvalidValue, match="batch_size=.* is not valid: give a positive whole number of VMs"):
        prepare.batch_count(value, 10)


@pytest.mark.parametrize("window, message", [
    ({"start": "25:00", "end": "04:00"}, "maintenance_window.start='25:00' is not valid"),
    ({"start": "22:00", "end": "4 am"}, "maintenance_window.end='4 am' is not valid"),
    ({"start": "22:00", "end": "2026-06-13 04:00"}, "must both be times of day"),
    ({"start": "22:00", "end": "22:00"}, "must come after start"),
    ({"start": "2026-06-13 04:00", "end": "2026-06-12 22:00"}, "must come after start"),
])
def test_bad_window_fails_before_any_read(window, message):
    cloud = Legacy()
    with pytest.raises(InvalidValue, match=message):
        run(cloud, maintenance_window=window)
    assert cloud.calls == []


@pytest.mark.parametrize("start, end, moment, inside", [
    ("22:00", "04:00", "23:30", True), ("22:00", "04:00", "03:59", True), ("22:00", "04:00", "04:00", False),
    ("22:00", "04:00", "12:00", False), ("09:00", "17:00", "12:00", True), ("09:00", "17:00", "08:59", False)])
def test_daily_window_may_cross_midnight(start, end, moment, inside):
    window = prepare.Window.parse({"start": start, "end": end})
    hour, minute = (int(part) for part in moment.split(":"))
    assert window.is_open(NOON.replace(hour=hour, minute=minute)) is inside


def test_batches_never_hold_two_members_of_one_anti_affinity_group():
    groups = {"a": {"g1"}, "b": {"g1", "g2"}, "c": set(), "d": {"g2"}, "e": {"g1"}}
    assert prepare.plan_batches("abcde", 2, lambda vm: groups[vm]) == [["a", "c"], ["b"], ["d", "e"]]
    assert prepare.plan_batches("abcde", 10, lambda vm: groups[vm]) == [["a", "c", "d"], ["b"], ["e"]]


def test_writes_follow_cloudstacks_order_then_the_restarts():
    cloud = Legacy(2)
    result = run(cloud, batch_size=2)
    assert cloud.writes == ["updateConfiguration", "updateTemplate", "updateVirtualMachine", "updateVirtualMachine",
                            "stopVirtualMachine", "stopVirtualMachine", "startVirtualMachine", "startVirtualMachine"]
    assert result["batches"] == [["web-01", "web-02"]]
    assert [(vm["outcome"], vm["prepared"], len(vm["jobs"])) for vm in result["vms"]] == [("restarted", True, 2)] * 2
    assert result["vms"][0]["flags_changed"] == ["enable.dynamic.scale.vm=true in zone zone-a",
                                                 "isdynamicallyscalable=true on template debian-12-generic",
                                                 "isdynamicallyscalable=true on the VM"]
    again = run(cloud, batch_size=2)
    assert not again["changed"] and again["counts"]["unchanged"] == 2 and cloud.writes.count("stopVirtualMachine") == 2


def test_anti_affinity_members_go_in_separate_batches_read_from_list_affinity_groups():
    cloud = Legacy(3)
    cloud.groups = [{"id": "g-spread", "type": "host anti-affinity"}, {"id": "g-together", "type": "host affinity"}]
    cloud.vms["vm-1"]["affinitygroup"] = [{"id": "g-spread"}, {"id": "g-together"}]
    cloud.vms["vm-2"]["affinitygroup"] = [{"id": "g-spread"}]
    cloud.vms["vm-3"]["affinitygroup"] = [{"id": "g-together"}]
    result = run(cloud, check_mode=True, batch_size="100%")
    assert result["batches"] == [["web-01", "web-03"], ["web-02"]]
    assert [vm["batch"] for vm in result["vms"]] == [1, 2, 1]
    assert cloud.writes == []


def test_a_failed_restart_stops_the_later_batches():
    cloud = Legacy(3)
    cloud.fail["startVirtualMachine"] = "Unable to start"
    with pytest.raises(CloudStackError, match="3 of 3 VMs were not made live-scalable \\(1 failed, 2 skipped\\)") \
            as error:
        run(cloud)
    vms = error.value.result["vms"]
    assert vms[0]["outcome"] == "failed" and "was stopped and is not running again" in vms[0]["msg"]
    assert [vm["msg"] for vm in vms[1:]] == ["not restarted: batch 1 failed (web-01)"] * 2
    assert cloud.writes.count("stopVirtualMachine") == 1


def test_outside_the_window_nothing_is_written():
    cloud = Legacy(1)
    with pytest.raises(CloudStackError, match="outside the maintenance window 22:00-04:00 \\(local time of the managed"
                                              " node\\) \\(it is 2026-06-12 12:00 there\\): 1 VM\\(s\\) need a stop"):
        run(cloud, maintenance_window={"start": "22:00", "end": "04:00"})
    assert cloud.writes == []


def test_offering_without_dynamic_scaling_is_refused_with_the_fix():
    cloud = Legacy(2)
    cloud.vms["vm-2"]["serviceofferingid"] = "off-fixed"
    cloud.extra_offerings = [{"id": "off-fixed", "name": "Small NoScale", "cpunumber": 1, "cpuspeed": 1000,
                              "memory": 512, "dynamicscalingenabled": False}]
    with pytest.raises(CloudStackError, match="1 refused") as error:
        run(cloud, restart="never")
    refused = error.value.result["vms"][1]
    assert refused["outcome"] == "refused" and "cannot change in place" in refused["msg"]
    assert [command for command, params in cloud.calls if command == "updateVirtualMachine"] == [
        "updateVirtualMachine"]


def test_restart_never_flags_only_and_says_the_domain_still_lacks_head_room():
    cloud = Legacy(1)
    result = run(cloud, restart="never")
    vm = result["vms"][0]
    assert (vm["outcome"], vm["restart"], vm["prepared"]) == ("flagged", False, False)
    assert "restart is never" in vm["reason"] and "stopVirtualMachine" not in cloud.writes


def test_kvm_cpu_capacity_below_the_vcpus_refuses_the_restart():
    cloud = Legacy(1)
    cloud.settings["kvm.cpu.dynamic.scaling.capacity"] = "1"
    cloud.vms["vm-1"]["cpunumber"] = 2
    with pytest.raises(CloudStackError, match="1 refused") as error:
        run(cloud)
    assert "would not start again with 2 vCPUs" in error.value.result["vms"][0]["msg"]
    assert cloud.writes == []

"""vm_scale_fleet's logic against an in-memory CloudStack: selection, targets, failure limit and the result."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _fleet as fleet
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    Ambiguous, CloudStackError, InvalidValue, NotFound)
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import Reader

from tests.unit.plugins.module_utils.test_rollout import Fleet
from tests.unit.plugins.module_utils.test_scaling import FakeModule

FLEET_OPTIONS = dict(vms=None, cluster=None, current_offering=None, tags=None, name_pattern=None, targets=None,
                     max_jobs=20, max_failures=None)
SCOPE = dict(zone=None, account=None, domain=None, project=None)


def module(cloud, check_mode=False, **params):
    return FakeModule(cloud, check_mode, **dict(FLEET_OPTIONS, **params))


@pytest.mark.parametrize("value, count, limit", [(None, 10, None), (3, 10, 3), ("3", 10, 3), ("10%", 10, 1),
                                                 ("25%", 10, 3), ("100%", 4, 4), ("1%", 1000, 10)])
def test_failure_limit_is_a_number_or_a_percentage_rounded_up(value, count, limit):
    assert fleet.failure_limit(value, count) == limit


@pytest.mark.parametrize("value", [0, "0", "-1", "0%", "150%", "many"])
def test_bad_failure_limit_names_the_value_and_the_fix(value):
    with pytest.raises(InvalidValue, match="max_failures=.* is not valid: give a positive whole number of VMs or a"
                                           " percentage such as 10%"):
        fleet.failure_limit(value, 10)


def test_selection_applies_filters_to_one_listing():
    cloud = Fleet(4)
    cloud.vms["vm-2"]["tags"] = [{"key": "tier", "value": "db"}]
    cloud.vms["vm-3"]["serviceofferingname"] = "Medium"
    params = module(cloud).params
    select = fleet.select_vms
    assert [vm["name"] for vm in select(cloud, Reader(cloud), dict(params, name_pattern="0[12]$"), SCOPE)] == [
        "web-01", "web-02"]
    assert [vm["name"] for vm in select(cloud, Reader(cloud), dict(params, tags={"tier": "db"}), SCOPE)] == ["web-02"]
    assert [vm["name"] for vm in select(cloud, Reader(cloud), dict(params, current_offering="Medium"), SCOPE)] == [
        "web-03"]
    assert [vm["name"] for vm in select(cloud, Reader(cloud), dict(params, cluster="cluster-a1"), SCOPE)] == [
        "web-01", "web-02", "web-03", "web-04"]
    assert [command for command, _params in cloud.calls].count("listVirtualMachines") == 4


def test_named_vms_keep_their_order_and_must_match_once():
    cloud = Fleet(3)
    params = dict(module(cloud).params, vms=["web-03", "vm-1"])
    assert [vm["id"] for vm in fleet.select_vms(cloud, Reader(cloud), params, SCOPE)] == ["vm-3", "vm-1"]
    with pytest.raises(NotFound):
        fleet.select_vms(cloud, Reader(cloud), dict(params, vms=["web-09"]), SCOPE)
    cloud.vms["vm-2"]["name"] = "web-03"
    with pytest.raises(Ambiguous):
        fleet.select_vms(cloud, Reader(cloud), dict(params, vms=["web-03"]), SCOPE)


def test_bad_name_pattern_fails_before_any_write():
    cloud = Fleet(1)
    with pytest.raises(InvalidValue, match="name_pattern='\\(' is not a regular expression"):
        fleet.scale_fleet(module(cloud, name_pattern="(", service_offering="Medium"))
    assert cloud.writes == []


def test_check_mode_plans_every_vm_and_writes_nothing():
    cloud = Fleet(3)
    result = fleet.scale_fleet(module(cloud, check_mode=True, service_offering="Medium"))
    assert [(vm["name"], vm["outcome"], vm["plan"]["action"]) for vm in result["vms"]] == [
        ("web-01", "planned", "live"), ("web-02", "planned", "live"), ("web-03", "planned", "live")]
    assert result["changed"] and result["counts"]["planned"] == 3 and cloud.writes == []


def test_scale_then_repeat_changes_nothing():
    cloud = Fleet(2)
    first = fleet.scale_fleet(module(cloud, service_offering="Medium"))
    assert first["counts"]["scaled"] == 2
    assert [vm["after"]["service_offering"] for vm in first["vms"]] == ["Medium"] * 2
    again = fleet.scale_fleet(module(cloud, service_offering="Medium"))
    assert not again["changed"] and again["counts"]["unchanged"] == 2


class RacedFleet(Fleet):
    """Another task's scale of each VM runs just before ours, which CloudStack then refuses (same offering)."""

    def submit(self, command, action=None, **params):
        if command == "scaleVirtualMachine":
            self.vms[params["id"]].update(serviceofferingid="off-medium", serviceofferingname="Medium", cpunumber=2,
                                          memory=1024)
            self.fail[command] = "Not upgrading vm since it already has the requested service offering (Medium)"
        return super().submit(command, action, **params)


def test_a_vm_another_task_scaled_meanwhile_is_reported_unchanged_as_found():
    """UserVmManagerImpl.upgradeRunningVirtualMachine refuses the same offering: this task changed nothing, and its
    before, after and summary say so instead of describing the other task's change as its own."""
    result = fleet.scale_fleet(module(RacedFleet(1), service_offering="Medium"))
    entry = result["vms"][0]
    assert not result["changed"] and entry["outcome"] == "unchanged"
    assert entry["before"] == entry["after"] and entry["after"]["service_offering"] == "Medium"
    assert entry["summary"] == "web-01: already Medium 2 vCPU/1024 MiB, nothing changed"
    assert "reached the target meanwhile through another job" in entry["msg"]


def test_per_vm_targets_win_and_a_vm_without_target_is_refused_before_any_write():
    cloud = Fleet(2)
    result = fleet.scale_fleet(module(cloud, service_offering="Medium", targets=[
        {"vm": "web-02", "service_offering": "Custom", "cpu_number": 3, "memory": 2048, "cpu_speed": None}]))
    assert [vm["after"]["service_offering"] for vm in result["vms"]] == ["Medium", "Custom"]
    assert result["vms"][1]["after"]["cpu_number"] == 3
    with pytest.raises(InvalidValue, match="no target for VM web-01"):
        fleet.scale_fleet(module(Fleet(2), targets=[{"vm": "web-02", "service_offering": "Medium"}]))


def test_max_failures_stops_new_vms_and_the_task_fails_with_every_vm():
    cloud = Fleet(3)
    cloud.fail["scaleVirtualMachine"] = "Unable to scale"
    with pytest.raises(CloudStackError, match="3 of 3 VMs were not brought to their target \\(1 failed, 2 skipped\\)") \
            as error:
        fleet.scale_fleet(module(cloud, service_offering="Medium", max_jobs=1, max_failures=1))
    outcomes = [(vm["name"], vm["outcome"]) for vm in error.value.result["vms"]]
    assert outcomes == [("web-01", "failed"), ("web-02", "skipped"), ("web-03", "skipped")]
    assert "not started: 1 VM(s) failed, max_failures is 1" in error.value.result["vms"][1]["msg"]


def test_max_jobs_below_one_is_refused():
    with pytest.raises(InvalidValue, match="max_jobs=0 is not valid"):
        fleet.scale_fleet(module(Fleet(1), service_offering="Medium", max_jobs=0))

"""Unit tests of the compute_offering logic (plugins/module_utils/_offering.py)."""

import datetime

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _offering
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackError, InvalidValue
from tests.unit.plugins.modules.fakes import FakeApi, FakeModule

FIXED = {"id": "off-1", "name": "Small", "displaytext": "Small", "cpunumber": 1, "cpuspeed": 1000, "memory": 1024,
         "iscustomized": False, "dynamicscalingenabled": True, "limitcpuuse": False, "offerha": False,
         "storagetype": "shared", "hosttags": "kvm,ssd"}
CONSTRAINED = {"id": "off-2", "name": "Custom", "cpuspeed": 2000, "iscustomized": True, "dynamicscalingenabled": True,
               "storagetype": "shared", "serviceofferingdetails": {"mincpunumber": "1", "maxcpunumber": "8",
                                                                   "minmemory": "512", "maxmemory": "8192"}}
NOW = datetime.datetime(2026, 6, 11, 8, 29, tzinfo=datetime.timezone.utc)


def params(**options):
    """Module params with every option unset except those given."""
    base = dict((field, None) for field in _offering.ALL_FIELDS)
    base.update(name="Small", state="present", force=False)
    base.update(options)
    return base


def test_view_reads_fixed_and_custom_offerings():
    fixed = _offering.offering_view(FIXED)
    assert (fixed["cpu_number"], fixed["memory"], fixed["host_tags"], fixed["zones"]) == (1, 1024, ["kvm", "ssd"], [])
    assert _offering.shape_of(fixed) == "fixed"
    custom = _offering.offering_view(CONSTRAINED)
    assert (custom["min_cpu_number"], custom["max_memory"], custom["cpu_number"]) == (1, 8192, None)
    assert _offering.shape_of(custom) == "constrained"


@pytest.mark.parametrize("view, fragment", [
    ({"customized": True, "cpu_number": 2}, "customized: true excludes cpu_number"),
    ({"cpu_number": 2, "min_memory": 64}, "exclude each other"),
    ({"min_cpu_number": 1, "customized": False}, "customized is false"),
    ({"min_cpu_number": 4, "max_cpu_number": 2}, "min_cpu_number=4 is above max_cpu_number=2"),
    ({"memory": 16}, "memory=16 is too small: use 32"),
    ({"cpu_number": 0}, "cpu_number=0 is too small: use 1"),
])
def test_contradictory_options_are_refused(view, fragment):
    with pytest.raises(InvalidValue, match=fragment):
        _offering.check_consistency("Small", view)


@pytest.mark.parametrize("view, fragment", [
    ({}, "say which kind of offering"),
    ({"cpu_number": 2, "memory": 2048}, "missing: cpu_speed"),
    ({"min_cpu_number": 1, "max_cpu_number": 2, "cpu_speed": 1000}, "missing: min_memory, max_memory"),
    ({"customized": True, "cpu_speed": 1000}, "cpu_speed=1000 with customized: true alone"),
])
def test_incomplete_specs_cannot_be_created(view, fragment):
    with pytest.raises(InvalidValue, match=fragment):
        _offering.check_creatable("Small", view)


@pytest.mark.parametrize("view", [
    {"cpu_number": 2, "memory": 2048, "cpu_speed": 1000},
    {"min_cpu_number": 1, "max_cpu_number": 2, "min_memory": 64, "max_memory": 128, "cpu_speed": 1000},
    {"customized": True},
])
def test_complete_specs_can_be_created(view):
    _offering.check_creatable("Small", view)


def test_create_params_for_each_kind():
    fixed = _offering.desired_view(params(cpu_number=2, memory=2048, cpu_speed=1000, dynamic_scaling_enabled=False,
                                          host_tags=["b", "a"]), None, ["z1"])
    assert _offering.create_params("Small", fixed) == {
        "name": "Small", "cpunumber": 2, "memory": 2048, "cpuspeed": 1000, "dynamicscalingenabled": False,
        "hosttags": "a,b", "zoneid": "z1"}
    unconstrained = _offering.desired_view(params(customized=True), None, None)
    assert _offering.create_params("Lab", unconstrained) == {"name": "Lab", "customized": True}


def test_only_given_options_are_compared():
    current = _offering.offering_view(FIXED)
    assert _offering.differences(current, _offering.desired_view(params(dynamic_scaling_enabled=True), None, None)) == []
    desired = _offering.desired_view(params(memory=2048, host_tags=["ssd", "kvm"], display_text="S"), None, None)
    assert _offering.differences(current, desired) == ["memory", "display_text"]


def test_update_params_clear_tags_and_scopes():
    desired = {"host_tags": [], "domains": [], "zones": []}
    assert _offering.update_params("off-1", desired, ["host_tags", "domains", "zones"]) == {
        "id": "off-1", "hosttags": "", "domainid": "public", "zoneid": "all"}


def test_merged_view_keeps_the_rest_and_switches_shape_wholly():
    current = _offering.offering_view(FIXED)
    merged = _offering.merged_view(current, {"memory": 2048})
    assert (merged["cpu_number"], merged["cpu_speed"], merged["memory"], merged["host_tags"]) == (1, 1000, 2048, ["kvm", "ssd"])
    switched = _offering.merged_view(current, {"customized": True})
    assert _offering.shape_of(switched) == "unconstrained" and switched["cpu_speed"] is None
    _offering.check_creatable("Small", switched)


def run(options, offerings, check_mode=False, api=None):
    """Run ensure_compute_offering on a fake API; returns (result, api)."""
    api = api or FakeApi(listServiceOfferings=offerings)
    module = FakeModule(params(**options), api, check_mode=check_mode)
    return _offering.ensure_compute_offering(module, now=lambda: NOW), api


@pytest.mark.parametrize("check_mode", [False, True])
def test_immutable_change_fails_naming_fields_and_writes_nothing(check_mode):
    api = FakeApi(listServiceOfferings=[FIXED])
    with pytest.raises(InvalidValue, match=r"cannot be changed in place: memory: 1024 -> 2048, offer_ha: False -> True"):
        run({"memory": 2048, "offer_ha": True}, [FIXED], check_mode=check_mode, api=api)
    assert api.writes == []


def test_forced_replacement_renames_disables_then_creates():
    result, api = run({"memory": 2048, "force": True}, [FIXED])
    assert [call[0] for call in api.writes] == ["updateServiceOffering", "createServiceOffering"]
    assert api.writes[0][1] == {"id": "off-1", "name": "Small (replaced 2026-06-11 08:29 off-1)", "state": "Inactive"}
    assert api.writes[1][1]["memory"] == 2048 and api.writes[1][1]["cpunumber"] == 1
    assert result["changed"] and result["replaced_offering"]["state"] == "Inactive"
    assert result["diff"]["before"]["memory"] == 1024 and result["diff"]["after"]["memory"] == 2048


def test_failed_replacement_restores_the_old_offering():
    api = FakeApi(listServiceOfferings=[FIXED], fail={"createServiceOffering": "Failed to create service offering Small"})
    with pytest.raises(CloudStackError, match="Failed to create service offering Small"):
        run({"memory": 2048, "force": True}, [FIXED], api=api)
    assert api.writes[-1] == ("updateServiceOffering", {"id": "off-1", "name": "Small", "state": "Active"})


def test_check_mode_reports_but_does_not_write():
    result, api = run({"display_text": "Small VMs"}, [FIXED], check_mode=True)
    assert result["changed"] and result["changed_fields"] == ["display_text"]
    assert result["compute_offering"]["displaytext"] == "Small VMs"
    assert api.writes == []


def test_absent_deletes_once():
    result, api = run({"state": "absent"}, [FIXED])
    assert result["changed"] and api.writes == [("deleteServiceOffering", {"id": "off-1"})]
    result, api = run({"state": "absent"}, [])
    assert not result["changed"] and api.writes == []

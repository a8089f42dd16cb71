"""Unit tests of the vm_scalable and template_scalable logic (plugins/module_utils/_scalable.py)."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _scalable
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError
from tests.unit.plugins.modules.fakes import FakeApi, FakeModule

TEMPLATE = {"id": "t1", "name": "debian-12-generic", "isdynamicallyscalable": True, "zoneid": "z1"}
OFFERING = {"id": "o1", "name": "Small", "dynamicscalingenabled": True}
SETTING_ON = ({"name": "enable.dynamic.scale.vm", "value": "true"},)


def vm(state="Running", flag=False):
    """A VM of template t1 and offering o1 in zone z1."""
    return {"id": "vm-1", "name": "web-01", "state": state, "isdynamicallyscalable": flag, "zoneid": "z1",
            "zonename": "zone-a", "templateid": "t1", "templatename": "debian-12-generic",
            "serviceofferingid": "o1", "serviceofferingname": "Small"}


def fake(row, templates=(TEMPLATE,), offerings=(OFFERING,), settings=SETTING_ON, **options):
    """A fake API with one VM, its template, offering and zone setting."""
    return FakeApi(listVirtualMachines=[row], listTemplates=list(templates), listServiceOfferings=list(offerings),
                   listConfigurations=list(settings), listZones=[{"id": "z1", "name": "zone-a"}], **options)


def run(api, check_mode=False, **options):
    """Run ensure_vm_scalable; returns the result."""
    params = {"vm": "web-01", "zone": None, "dynamically_scalable": True, "apply": "next_start", "force_stop": False,
              "wait_timeout": 60}
    params.update(options)
    return _scalable.ensure_vm_scalable(FakeModule(params, api, check_mode))


@pytest.mark.parametrize("row, setting, changed, restarted, prepared", [
    (vm("Stopped", True), True, True, False, None),
    (vm("Running", False), True, False, False, False),
    (vm("Running", True), False, False, False, False),
    (vm("Running", True), True, False, True, True),
    (vm("Running", True), None, False, True, None),
    (vm("Running", True), True, True, False, False),
    (vm("Running", True), True, False, False, None),
])
def test_prepared_is_best_knowledge(row, setting, changed, restarted, prepared):
    assert _scalable.domain_prepared(row, setting, changed, restarted)[0] is prepared


def test_every_blocker_is_named_with_its_fix_and_nothing_is_written():
    api = fake(vm(), templates=[dict(TEMPLATE, isdynamicallyscalable=False)],
               offerings=[dict(OFFERING, dynamicscalingenabled=False)], settings=(dict(SETTING_ON[0], value="false"),))
    with pytest.raises(CloudStackError) as failure:
        run(api)
    message = str(failure.value)
    for text, fix in ((_scalable.TEMPLATE_BLOCKED, "livescale.cloudstack.template_scalable (template: debian-12-generic"),
                      (_scalable.OFFERING_BLOCKED, "offering Small (o1) has dynamicscalingenabled=false"),
                      (_scalable.SETTING_BLOCKED, "livescale.cloudstack.setting (name: enable.dynamic.scale.vm, value: true, zone: zone-a)")):
        assert text in message and fix in message
    assert api.writes == []


def test_cloudstack_refusal_keeps_its_code_and_gains_the_fix():
    api = fake(vm(), settings=[], fail={"updateVirtualMachine": _scalable.SETTING_BLOCKED})
    with pytest.raises(ApiError) as failure:
        run(api)
    assert failure.value.errorcode == 431
    assert failure.value.errortext.startswith(_scalable.SETTING_BLOCKED + " (enable.dynamic.scale.vm is false in zone zone-a")


def test_flag_on_running_vm_without_restart_is_not_prepared():
    api = fake(vm())
    result = run(api)
    assert api.writes == [("updateVirtualMachine", {"id": "vm-1", "isdynamicallyscalable": True})]
    assert (result["changed"], result["restarted"], result["prepared"]) == (True, False, False)
    assert result["diff"] == {"before": {"isdynamicallyscalable": False}, "after": {"isdynamicallyscalable": True}}


def test_restart_stops_and_starts_once():
    api = fake(vm())
    result = run(api, apply="restart", force_stop=True)
    assert [write[0] for write in api.writes] == ["updateVirtualMachine", "stopVirtualMachine", "startVirtualMachine"]
    assert api.writes[1][1] == {"id": "vm-1", "forced": True}
    assert (result["restarted"], result["prepared"], result["vm"]["state"]) == (True, True, "Running")


def test_unchanged_flag_neither_writes_nor_restarts():
    api = fake(vm(flag=True))
    result = run(api, apply="restart")
    assert (result["changed"], result["restarted"], result["prepared"], api.writes) == (False, False, None, [])


def test_check_mode_restart_is_planned_only():
    api = fake(vm())
    result = run(api, check_mode=True, apply="restart")
    assert (result["changed"], result["restarted"], api.writes) == (True, True, [])


@pytest.mark.parametrize("check_mode", [False, True])
def test_template_flag_is_set_once(check_mode):
    api = FakeApi(listTemplates=[dict(TEMPLATE, isdynamicallyscalable=False)])
    params = {"template": "debian-12-generic", "zone": None, "template_filter": "all", "dynamically_scalable": True}
    result = _scalable.ensure_template_scalable(FakeModule(params, api, check_mode))
    assert result["changed"] and result["template"]["isdynamicallyscalable"] is True
    assert api.writes == ([] if check_mode else [("updateTemplate", {"id": "t1", "isdynamicallyscalable": True})])


def test_restart_of_a_stuck_vm_is_refused_before_any_write():
    api = fake(dict(vm("Stopping"), lastupdated="2026-06-11T12:00:00+0000"))
    with pytest.raises(CloudStackError, match="is Stopping for .* Not retried"):
        run(api, apply="restart")
    assert api.writes == []


def test_failed_start_after_the_restart_says_the_vm_is_left_stopped():
    api = fake(vm(), fail={"startVirtualMachine": "Unable to orchestrate the start of VM instance"})
    with pytest.raises(ApiError, match="VM web-01 was stopped for the restart and is not running: start it with livescale.cloudstack.vm_state"):
        run(api, apply="restart")
    assert [write[0] for write in api.writes] == ["updateVirtualMachine", "stopVirtualMachine", "startVirtualMachine"]


def test_account_narrows_the_vm_lookup():
    api = fake(vm(), listAccounts=[{"id": "a1", "name": "acme", "domainid": "d1"}])
    result = run(api, account="acme", zone="zone-a")
    assert api.reads[:3] == [("listZones", {"name": "zone-a"}), ("listAccounts", {"name": "acme", "listall": True}),
                             ("listVirtualMachines", {"name": "web-01", "zoneid": "z1", "account": "acme", "domainid": "d1"})]
    assert result["changed"] and api.writes == [("updateVirtualMachine", {"id": "vm-1", "isdynamicallyscalable": True})]


def test_unknown_account_fails_before_any_write():
    api = fake(vm(), listAccounts=[])
    with pytest.raises(CloudStackError, match="account 'initech' not found"):
        run(api, account="initech")
    assert api.writes == []

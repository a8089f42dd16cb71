"""The I/O side of vm_autoscale with recorded CloudStack-shaped answers: options, VM selection, scale events."""

import importlib.util
from pathlib import Path

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale as autoscale
from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._scaling import plan_view

NOW = 1767607200.0  # 2026-01-05T10:00:00+0000
SOURCE = Path(__file__).resolve().parents[4] / "extensions" / "eda" / "plugins" / "event_source" / "autoscale.py"


def params(**given):
    spec = dict(OWNER_SCOPE_SPEC, **dict(autoscale.SELECT_SPEC, **autoscale.POLICY_SPEC))
    values = dict((name, entry.get("default")) for name, entry in spec.items())
    values.update(given)
    return values


class Api:
    """Answers list commands from recorded rows and logs the calls."""

    def __init__(self, **rows):
        self.rows, self.calls = rows, []

    def list(self, command, key, action=None, **filters):
        self.calls.append((command, filters))
        return [dict(row) for row in self.rows.get(command, []) if filters.get("type") in (None, row.get("type"))]


def test_minutes_become_seconds():
    rules = autoscale.policy_of(params(cpu_up_for=5, cooldown=15, window=720, maintenance_windows=["02:00-04:00"]))
    assert (rules.cpu_up_for, rules.cooldown, rules.window) == (300, 900, 43200)
    assert rules.maintenance_windows == ("02:00-04:00",)


@pytest.mark.parametrize("given, message", [
    ({"cpu_down": 75}, "cpu_down=75 must be below cpu_up - hysteresis (80.0 - 10.0)"),
    ({"target_utilization": 75}, "target_utilization=75 must not be above cpu_up - hysteresis (70.0)"),
    ({"maintenance_windows": ["2am-4am"]}, "'2am-4am' is not a daily window: give it as HH:MM-HH:MM (UTC)"),
    ({"maintenance_windows": ["25:00-04:00"]}, "'25:00-04:00' is not a daily window"),
    ({"cpu_up": 150.0}, "cpu_up=150.0 is out of range: give a CPU per cent, more than 0 and at most 100"),
    ({"cpu_up": 0.0}, "cpu_up=0.0 is out of range: give a CPU per cent, more than 0 and at most 100"),
    ({"cpu_down": 0.0, "cooldown": -1}, "cooldown=-1 is out of range: give minutes, at least 0"),
    ({"min_confidence": 1.5}, "min_confidence=1.5 is out of range: give a fraction (0.75 for 75 %), at least 0 and at"
                              " most 1"),
    ({"saturated_growth": 0.5}, "saturated_growth=0.5 is out of range: give a factor, at least 1"),
    ({"cpu_up_for": 0.0}, "cpu_up_for=0.0 is out of range: give minutes, more than 0"),
    ({"breaker_failures": -1}, "breaker_failures=-1 is out of range: give failures (0 turns the breaker off), at least 0"),
    ({"min_memory": 4096, "max_memory": 2048}, "max_memory=2048 is below min_memory=4096: raise max_memory or lower"
                                               " min_memory"),
])
def test_options_that_cannot_work_fail_before_any_read(given, message):
    with pytest.raises(InvalidValue, match=message.replace("(", r"\(").replace(")", r"\)")):
        autoscale.policy_of(params(**given))


@pytest.mark.parametrize("text, epoch", [(None, None), ("2026-01-05T10:00:00+0000", NOW)])
def test_reference_time(text, epoch):
    value = autoscale.reference_time({"reference_time": text})
    assert value == epoch if epoch else abs(value - __import__("time").time()) < 5


def test_bad_reference_time():
    with pytest.raises(InvalidValue, match="is not a time: give it as CloudStack writes dates"):
        autoscale.reference_time({"reference_time": "yesterday"})


def test_tags_are_sent_and_checked_on_the_answer():
    """CloudStack filters by tags[i].key/value; the answer's tags are checked too (a server that ignores the filter)."""
    rows = [{"id": "vm-1", "name": "web-01", "tags": [{"key": "autoscale", "value": "true"}]},
            {"id": "vm-2", "name": "web-02", "tags": [{"key": "autoscale", "value": "false"}]},
            {"id": "vm-3", "name": "web-03"}]
    api = Api(listVirtualMachines=rows)
    found = autoscale.select_vms(api, params(tags={"autoscale": True}, name="web"))
    assert [vm["id"] for vm in found] == ["vm-1"]
    assert api.calls == [("listVirtualMachines", {"listall": True, "keyword": "web",
                                                  "tags": [{"key": "autoscale", "value": "true"}]})]


def event(vm_id, created, level="INFO", state="Completed", event_type="VM.UPGRADE"):
    return {"id": "ev-%s-%s" % (vm_id, created), "type": event_type, "level": level, "state": state,
            "resourceid": vm_id, "resourcetype": "VirtualMachine", "created": created,
            "description": "Successfully completed Upgrading Instance" if level == "INFO" else "Error while Upgrading"}


def test_scale_attempts_from_completed_events():
    """ActionEventInterceptor: Scheduled/Started events precede the Completed one; ERROR level is a failure."""
    api = Api(listEvents=[
        event("vm-1", "2026-01-05T09:50:00+0000"), event("vm-1", "2026-01-05T09:49:00+0000", state="Started"),
        event("vm-2", "2026-01-05T09:40:00+0000", level="ERROR"),
        event("vm-2", "2026-01-05T09:30:00+0000", state="Scheduled"),
        event("vm-9", "2026-01-05T09:55:00+0000", level="ERROR")])
    attempts, outcomes = autoscale.scale_attempts(api, ["vm-1", "vm-2"], NOW)
    assert attempts["vm-1"] == [autoscale.policy.Attempt(NOW - 600, True)]
    assert attempts["vm-2"] == [autoscale.policy.Attempt(NOW - 1200, False)]
    assert outcomes == (True, False)  # newest first; vm-9 is not part of this fleet
    # one listing: VM.UPGRADE is the event of scaleVirtualMachine and changeServiceForVirtualMachine (VM.DYNAMIC.SCALE
    # is only a usage event, VirtualMachineManagerImpl.reConfigureVm)
    assert [(command, filters["type"], filters["startdate"]) for command, filters in api.calls] == [
        ("listEvents", "VM.UPGRADE", "2026-01-04T10:00:00+0000")]


def load_source():
    spec = importlib.util.spec_from_file_location("autoscale_source", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_event_source_emits_only_vms_to_scale():
    source = load_source()
    result = {"reference_time": "2026-01-05T10:00:00+0000", "vms": [
        dict(name=name, id=name, action=action, target=None, current={}, evidence={}, reasons=[], plan=None)
        for name, action in (("web-01", "scale_up"), ("web-02", "none"), ("db-01", "recommend"))]}
    assert [event["autoscale"]["vm"] for event in source.events(result)] == ["web-01"]
    assert len(list(source.events(result, emit_all=True))) == 3
    assert list(source.events(result))[0]["autoscale"]["reference_time"] == "2026-01-05T10:00:00+0000"


def test_event_source_refuses_unknown_options():
    source = load_source()
    _api, module, lookup = source._import_collection()  # pylint: disable=protected-access
    with pytest.raises(ValueError, match="unknown vm_autoscale options: cpu_threshold"):
        source._params(module, lookup, {"cpu_threshold": 80})  # pylint: disable=protected-access


VM = dict(id="vm-1", name="web-01", serviceofferingname="Custom", cpunumber=2, cpuspeed=1000, memory=2048,
          state="Running", hostname="kvm-a1-01")
LIVE_PLAN = planner.Plan(planner.LIVE, planner.Offering("off-custom", "Custom"), 3, 1000, 2048)
REFUSED_PLAN = planner.Plan(planner.REFUSE, planner.Offering("off-custom", "Custom"), 3, 1000, 2048, ("a reason",))


def entry(action, applied=False, error=None, plan=None, reasons=("a reason", "another")):
    """An entry of vm_autoscale's result and the Plan behind it."""
    return dict(action=action, applied=applied, error=error, plan=plan and plan_view(plan), reasons=list(reasons),
                vm=dict(VM, cpunumber=3) if applied else None), plan


@pytest.mark.parametrize("given, check_mode, line", [
    (entry("scale_up", applied=True, plan=LIVE_PLAN), False,
     u"web-01: Custom 2 vCPU/2048 MiB \u2192 Custom 3 vCPU/2048 MiB, live on kvm-a1-01"),
    (entry("scale_up", plan=LIVE_PLAN), True,
     u"web-01: Custom 2 vCPU/2048 MiB \u2192 Custom 3 vCPU/2048 MiB, live on kvm-a1-01, check mode: nothing changed"),
    (entry("scale_up", error="job j-1 failed: no capacity", plan=LIVE_PLAN), False,
     "web-01: scale up failed: job j-1 failed: no capacity"),
    (entry("hold", plan=REFUSED_PLAN), True, "web-01: hold: a reason (and 1 more reason)"),
    (entry("insufficient_data", reasons=()), False, "web-01: insufficient data: no reason given"),
    (entry("none", reasons=("CPU 12 % is between the thresholds",)), False,
     "web-01: none: CPU 12 % is between the thresholds"),
])
def test_each_vm_has_a_one_line_summary(given, check_mode, line):
    given_entry, plan = given
    assert autoscale.entry_line(VM, given_entry, plan, check_mode) == line


def test_the_run_counts_actions_and_outcomes_in_one_line():
    entries = [entry("scale_up", applied=True)[0], entry("none")[0], entry("none")[0], entry("recommend")[0],
               entry("scale_up", error="boom")[0]]
    counts = autoscale.action_counts(entries)
    assert counts == dict(none=2, scale_up=2, scale_down=0, recommend=1, hold=0, insufficient_data=0, applied=1,
                          failed=1)

    class Stopwatch:
        def text(self):
            return "2.3 s"

    assert autoscale.run_line(counts, Stopwatch(), False) == (
        "5 VMs: 2 none, 2 scale up, 1 recommend, 1 applied, 1 failed, 2.3 s")
    assert autoscale.run_line(counts, Stopwatch(), True) == (
        "5 VMs: 2 none, 2 scale up, 1 recommend, 1 applied, 1 failed, check mode: nothing changed")

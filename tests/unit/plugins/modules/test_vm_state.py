"""Unit tests of the vm_state logic (plugins/module_utils/_vm_state.py)."""

import datetime
import re

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _vm_state
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi, CloudStackError, InvalidValue
from simulator.testing import InProcessSimulator
from tests.unit.plugins.module_utils.test_wait import FakeClock
from tests.unit.plugins.modules.fakes import FakeApi, FakeModule

NOW = datetime.datetime(2026, 6, 11, 12, 12, 5, tzinfo=datetime.timezone.utc)
HOSTS = [{"id": "h1", "name": "kvm-a1-01", "type": "Routing", "zoneid": "z1"},
         {"id": "h2", "name": "kvm-a1-02", "type": "Routing", "zoneid": "z1"}]


def vm(state="Running", **fields):
    """A VM as listVirtualMachines shows it to a root admin."""
    row = {"id": "vm-1", "name": "web-01", "state": state, "zoneid": "z1", "zonename": "zone-a",
           "lastupdated": "2026-06-11T12:00:00+0000"}
    if state == "Running":
        row.update(hostid="h1", hostname="kvm-a1-01")
    row.update(fields)
    return row


def run(state, row, check_mode=False, api=None, **options):
    """Run ensure_vm_state against a fake API holding one VM; returns (result, api)."""
    api = api or FakeApi(listVirtualMachines=[row], listHosts=HOSTS, listZones=[{"id": "z1", "name": "zone-a"}])
    params = {"vm": "web-01", "zone": None, "state": state, "host": None, "autoselect": False, "force": False,
              "wait_timeout": 60, "wait": True}
    params.update(options)
    return _vm_state.ensure_vm_state(FakeModule(params, api, check_mode), now=lambda: NOW), api


@pytest.mark.parametrize("current, target, host, action", [
    ("Running", "started", None, None),
    ("Stopped", "started", None, "start"),
    ("Running", "stopped", None, "stop"),
    ("Stopped", "stopped", None, None),
    ("Running", "restarted", None, "reboot"),
    ("Stopped", "restarted", None, "start"),
    ("Running", "migrated", "h1", None),
    ("Running", "migrated", "h2", "migrate"),
    ("Running", "migrated", None, "migrate"),
])
def test_plan(current, target, host, action):
    assert _vm_state.plan_action(vm(current), target, host) == action


@pytest.mark.parametrize("current, target, fragment", [
    ("Stopped", "migrated", "must be Running to be migrated"),
    ("Error", "started", "is Error: state=started acts only on Running or Stopped"),
    ("Destroyed", "stopped", "is Destroyed"),
])
def test_plan_refuses(current, target, fragment):
    with pytest.raises(CloudStackError, match=fragment):
        _vm_state.plan_action(vm(current), target)


@pytest.mark.parametrize("options, fragment", [
    ({"state": "migrated"}, "needs a destination"),
    ({"state": "migrated", "host": "kvm-a1-02", "autoselect": True}, "exclude each other"),
    ({"state": "started", "autoselect": True}, "applies to state=migrated only, not state=started: drop autoselect"),
    ({"state": "stopped", "host": "kvm-a1-02"}, "host=kvm-a1-02 applies to state=started or migrated only, not state=stopped: drop host, or use state"),
    ({"state": "started", "force": True}, "force: true applies to state=stopped or restarted only, not state=started: drop force"),
])
def test_bad_option_combinations_fail_before_any_call(options, fragment):
    api = FakeApi(listVirtualMachines=[vm()])
    with pytest.raises(InvalidValue, match=fragment):
        run(options.pop("state"), vm(), api=api, **options)
    assert api.reads == [] and api.writes == []


def test_account_narrows_the_vm_lookup():
    api = FakeApi(listVirtualMachines=[vm()], listAccounts=[{"id": "a1", "name": "acme", "domainid": "d1"}])
    result, api = run("stopped", vm(), api=api, account="acme")
    assert api.reads[:2] == [("listAccounts", {"name": "acme", "listall": True}),
                             ("listVirtualMachines", {"name": "web-01", "account": "acme", "domainid": "d1"})]
    assert result["action"] == "stop"


def test_account_with_project_fails_before_any_call():
    api = FakeApi(listVirtualMachines=[vm()])
    with pytest.raises(InvalidValue, match="account=acme and project=shop exclude each other"):
        run("stopped", vm(), api=api, account="acme", project="shop")
    assert api.reads == [] and api.writes == []


@pytest.mark.parametrize("seconds, text", [(9, "9s"), (125, "2m 05s"), (7325, "2h 02m 05s"), (-3, "0s")])
def test_format_duration(seconds, text):
    assert _vm_state.format_duration(seconds) == text


def test_stuck_vm_is_reported_with_its_age_and_left_alone():
    with pytest.raises(CloudStackError, match=r"is Starting for 12m 05s \(since 2026-06-11T12:00:00\+0000, from lastupdated\)"):
        run("started", vm("Starting"))


def test_stuck_age_falls_back_to_the_latest_event():
    row = vm("Stopping", lastupdated=None)
    api = FakeApi(listVirtualMachines=[row], listEvents=[{"created": "2026-06-11T11:00:00+0000"},
                                                         {"created": "2026-06-11T12:10:00+0000"}])
    with pytest.raises(CloudStackError, match=r"is Stopping for 2m 05s .*from latest event"):
        run("stopped", row, api=api)
    assert api.writes == []


def test_running_vm_asked_to_start_is_unchanged():
    result, api = run("started", vm())
    assert (result["changed"], result["action"], api.writes) == (False, "none", [])


def test_stop_waits_for_the_job_and_reports_the_diff():
    result, api = run("stopped", vm(), force=True)
    assert api.writes == [("stopVirtualMachine", {"id": "vm-1", "forced": True})]
    assert result["vm"]["state"] == "Stopped"
    assert result["diff"] == {"before": {"state": "Running", "host": "kvm-a1-01"}, "after": {"state": "Stopped", "host": None}}


def test_check_mode_predicts_without_writing():
    result, api = run("migrated", vm(), check_mode=True, host="kvm-a1-02")
    assert api.writes == [] and result["changed"]
    assert result["diff"]["after"] == {"state": "Running", "host": "kvm-a1-02"}


def test_migrate_to_named_host():
    result, api = run("migrated", vm(), host="kvm-a1-02")
    assert api.writes == [("migrateVirtualMachine", {"virtualmachineid": "vm-1", "hostid": "h2"})]
    assert result["vm"]["hostid"] == "h2"


def test_job_timeout_is_not_retried_and_says_how_long():
    api = FakeApi(listVirtualMachines=[vm("Stopped")], hang=("startVirtualMachine",))
    with pytest.raises(CloudStackError, match=r"did not finish within 60 s; the VM is Stopped for 12m 05s"):
        run("started", vm("Stopped"), api=api)
    assert len(api.writes) == 1


def test_job_timeout_against_the_simulator(tmp_path):
    """A real job that outlives wait_timeout (on an injected clock): one stop request, no retry, the VM's state named."""
    simulator = InProcessSimulator(db=tmp_path / "state.sqlite", job_delay=30).start()
    try:
        clock = FakeClock()
        api = CloudStackApi(simulator.url, simulator.admin_key, simulator.admin_secret, clock=clock, sleep=clock.sleep)
        since = api.list("listVirtualMachines", "virtualmachine", name="web-01", listall=True)[0]["lastupdated"]
        params = {"vm": "web-01", "zone": "zone-a", "state": "stopped", "host": None, "autoselect": False, "force": False,
                  "wait_timeout": 60, "wait": True}
        later = _vm_state.parse_time(since) + datetime.timedelta(minutes=3, seconds=7)
        with pytest.raises(CloudStackError, match=r"stop VM web-01: job \S+ did not finish within 60 s; the VM is Running for 3m 07s"
                                                  r" \(since %s, from lastupdated\)" % re.escape(since)):
            _vm_state.ensure_vm_state(FakeModule(params, api), now=lambda: later)
        assert clock.now >= 60
        jobs = simulator.client().call("listAsyncJobs", listall="true")[1]["listasyncjobsresponse"]["asyncjobs"]
        assert [job["cmd"].rsplit(".", 1)[-1] for job in jobs] == ["StopVMCmdByAdmin"]
    finally:
        simulator.stop()


def test_state_age_reads_other_accounts_events_as_admin(tmp_path):
    """listEvents without listall lists only the caller's own events, the root admin's too
    (QueryManagerImpl.searchForEventIdsAndCount -> AccountManagerImpl.buildACLSearchParameters): state_since asks
    with listall=True, so a root admin finds the events of a user's VM."""
    simulator = InProcessSimulator(db=tmp_path / "state.sqlite").start()
    try:
        api = CloudStackApi(simulator.url, simulator.admin_key, simulator.admin_secret)
        row = api.list("listVirtualMachines", "virtualmachine", name="web-01", listall=True)[0]
        api.run_async("stopVirtualMachine", 30, id=row["id"])  # VM.STOP, an event of the VM's account
        since, source = _vm_state.state_since(api, dict(row, lastupdated=None))
        assert source == "latest event" and since is not None
    finally:
        simulator.stop()

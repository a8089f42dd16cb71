"""Plans carried out as jobs: the steps of a Rollout, the concurrency bound of run_all and how failures end."""

import re

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _rollout as rollout
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    ApiError, CloudStackError, JobStatusUnknown, JobTimeout, TransportError)

from tests.unit.plugins.module_utils.test_scaling import OFFERINGS, FakeCloud

MEDIUM = planner.Offering(id="off-medium", name="Medium", cpu=2, speed=1000, memory=1024)


def plan(action, migrate_host=None):
    return planner.Plan(action, MEDIUM, 2, 1000, 1024, ("because",), migrate_host)


class Fleet(FakeCloud):
    """FakeCloud with vm-1..vm-N, counting the most jobs submitted in one wait round."""

    def __init__(self, count=1):
        super().__init__()
        first = self.vms.pop("vm-1")
        self.vms = dict(("vm-%d" % index, dict(first, id="vm-%d" % index, name="web-%02d" % index))
                        for index in range(1, count + 1))
        self.rounds = []

    def poll_jobs(self, deadlines, labels=None):
        self.rounds.append(len(deadlines))
        return super().poll_jobs(deadlines, labels)


@pytest.mark.parametrize("action, auto_migrate, steps", [
    (planner.LIVE, True, ["scale"]),
    (planner.MIGRATE_THEN_LIVE, True, ["scale"]),  # CloudStack migrates itself (auto.migrate...)
    (planner.MIGRATE_THEN_LIVE, False, ["migrate", "scale"]),
    (planner.RESTART, True, ["mark", "stop", "scale", "start", "unmark"]),  # the stop is recorded on the VM
])
def test_steps_follow_the_plan(action, auto_migrate, steps):
    host = planner.Host(id="host-2", name="kvm-a1-02", cores=8, speed=2000, free_cpu=8000, free_memory=8 << 30,
                        total_memory=32 << 30)
    assert rollout.Rollout({"id": "vm-1", "name": "web-01"}, plan(action, host), auto_migrate).steps == steps


def test_jobs_carry_the_offering_and_only_the_set_parameters():
    live = rollout.Rollout({"id": "vm-1", "name": "web-01"}, plan(planner.LIVE))
    assert live.job() == ("scaleVirtualMachine", {"id": "vm-1", "serviceofferingid": "off-medium", "details": None},
                          "scale VM web-01")
    restart = rollout.Rollout({"id": "vm-1", "name": "web-01"}, plan(planner.RESTART))
    restart.steps.pop(0)  # past the stop record
    assert restart.job() == ("stopVirtualMachine", {"id": "vm-1"}, "stop VM web-01")


def test_run_all_keeps_at_most_max_jobs_in_flight_and_records_job_ids():
    cloud = Fleet(5)
    rollouts = [rollout.Rollout(vm, plan(planner.LIVE)) for vm in cloud.vms.values()]
    assert rollout.run_all(cloud, rollouts, 60, max_jobs=2) == []
    assert cloud.rounds == [2, 2, 1]
    assert all(len(item.jobids) == 1 and item.finished and item.error is None for item in rollouts)
    assert [item.outcome(cloud)["serviceofferingname"] for item in rollouts] == ["Medium"] * 5
    assert not [command for command, _params in cloud.calls if command == "listVirtualMachines"]  # taken from the jobs


def test_may_start_stops_new_rollouts_and_returns_them():
    cloud = Fleet(3)
    cloud.fail["scaleVirtualMachine"] = "Unable to scale"
    rollouts = [rollout.Rollout(vm, plan(planner.LIVE)) for vm in cloud.vms.values()]
    never = rollout.run_all(cloud, rollouts, 60, max_jobs=1,
                            may_start=lambda: not any(item.error is not None for item in rollouts))
    assert never == rollouts[1:]
    assert rollouts[0].error.errortext == "Unable to scale"
    with pytest.raises(rollout.ScaleFailed, match="Unable to scale; VM web-01 \\(vm-1\\) is now Running on kvm-a1-01"
                                                  " with Small .*: nothing was changed") as error:
        rollouts[0].outcome(cloud)
    assert re.match(u"web-01: Small 1 vCPU/512 MiB \u2192 Medium 2 vCPU/1024 MiB failed [(]job [^)]+[)]: Unable to"
                    u" scale; now Running on kvm-a1-01 with Small", error.value.result["summary"])


def test_failed_scale_of_a_stopped_vm_starts_it_again():
    cloud = Fleet(1)
    cloud.fail["scaleVirtualMachine"] = "Insufficient capacity"
    item = rollout.Rollout(cloud.vms["vm-1"], plan(planner.RESTART))
    rollout.run_all(cloud, [item], 60, max_jobs=1)
    assert [command for command, _params in cloud.writes if command != "updateVirtualMachine"] == [
        "stopVirtualMachine", "scaleVirtualMachine", "startVirtualMachine"]
    assert item.done == ["stopped", "started"] and item.note == "it was started again with its old size"
    assert len(item.jobids) == 3  # the stop record is written synchronously: no job


def test_live_scale_without_head_room_turns_into_a_restart_when_allowed():
    cloud = Fleet(1)
    cloud.fail["scaleVirtualMachine"] = rollout.RECONFIGURE_FAILED
    item = rollout.Rollout(cloud.vms["vm-1"], plan(planner.LIVE), allow_restart=True)
    rollout.run_all(cloud, [item], 60, max_jobs=1)
    assert item.plan.action == planner.RESTART and item.error is None
    assert "started without head-room" in item.plan.reasons[-1]
    assert item.outcome(cloud)["serviceofferingname"] == "Medium"


def test_a_refused_submit_ends_the_rollout_without_waiting():
    cloud = Fleet(1)

    def refuse(command, action=None, **params):
        raise ApiError(command, "not allowed", errorcode=431, action=action)
    cloud.submit = refuse
    item = rollout.Rollout(cloud.vms["vm-1"], plan(planner.LIVE))
    rollout.run_all(cloud, [item], 60, max_jobs=1)
    assert item.finished and item.error.errortext == "not allowed" and item.jobids == []


class SlowFirstJob(Fleet):
    """The first job submitted stays pending for ``rounds`` polls (then ends), every other job ends at once."""

    def __init__(self, count, rounds):
        super().__init__(count)
        self.slow, self.left, self.polled = None, rounds, []

    def submit(self, command, action=None, **params):
        jobid = super().submit(command, action, **params)
        self.slow = self.slow or jobid
        return jobid

    def poll_jobs(self, deadlines, labels=None):
        self.polled.append(sorted(deadlines))
        outcomes = super().poll_jobs(deadlines, labels)
        if self.slow in outcomes and self.left:
            self.left -= 1
            del outcomes[self.slow]
        return outcomes


def test_run_all_refills_a_slot_as_soon_as_its_job_ends():
    """A slow job holds one slot; the other slot serves the remaining VMs meanwhile, one job per poll."""
    cloud = SlowFirstJob(4, rounds=3)
    rollouts = [rollout.Rollout(vm, plan(planner.LIVE)) for vm in cloud.vms.values()]
    assert rollout.run_all(cloud, rollouts, 60, max_jobs=2) == []
    slow = rollouts[0].jobids[0]
    assert cloud.rounds == [2, 2, 2, 1] and all(slow in round_ for round_ in cloud.polled)
    assert all(item.finished and item.error is None and item.done == ["scaled"] for item in rollouts)


def test_run_all_gives_each_job_its_outcome_and_its_own_deadline():
    cloud = Fleet(2)
    cloud.clock = iter([10.0, 20.0]).__next__  # each submit's time
    outcomes = {}

    def poll_jobs(deadlines, labels=None):
        outcomes.update(deadlines=dict(deadlines), labels=dict(labels))
        first, second = sorted(deadlines)
        return {first: (None, JobStatusUnknown(first, {}, 2.0, "HTTP 503", action=labels[first][1],
                                               command=labels[first][0])),
                second: (None, JobTimeout(second, {"jobstatus": 0}, 60, command=labels[second][0]))}
    cloud.poll_jobs = poll_jobs
    rollouts = [rollout.Rollout(vm, plan(planner.LIVE)) for vm in cloud.vms.values()]
    rollout.run_all(cloud, rollouts, 60, max_jobs=2)
    assert sorted(outcomes["deadlines"].values()) == [70.0, 80.0]
    assert sorted(outcomes["labels"].values()) == [("scaleVirtualMachine", "scale VM web-01"),
                                                   ("scaleVirtualMachine", "scale VM web-02")]
    assert isinstance(rollouts[0].error, JobStatusUnknown) and rollouts[0].error.reason == "HTTP 503"
    assert isinstance(rollouts[1].error, JobTimeout) and not isinstance(rollouts[1].error, JobStatusUnknown)
    assert all(item.finished for item in rollouts)


def test_verify_refuses_a_done_job_that_did_not_change_the_vm():
    vm = {"id": "vm-1", "name": "web-01", "serviceofferingname": "Small", "cpunumber": 1, "cpuspeed": 1000,
          "memory": 512}
    with pytest.raises(CloudStackError, match="the VM shows service_offering is Small, not Medium"):
        rollout.verify(vm, plan(planner.LIVE))
    assert OFFERINGS[1]["name"] == MEDIUM.name


# Faults (issue 9): a pending job is waited for, a stop-change-start is recorded, a failure tells what is known.

def pending_on(cloud, jobid="job-other"):
    """vm-1 shows a job of another task in progress, as listVirtualMachines does (jobid, jobstatus 0)."""
    cloud.vms["vm-1"].update(jobid=jobid, jobstatus=0)
    cloud.jobs[jobid] = {"virtualmachine": {}}
    cloud.clock = lambda: 0.0
    return dict(cloud.vms["vm-1"])


def test_settle_waits_for_the_pending_job_and_reads_the_vm_again():
    cloud = Fleet(1)
    row = pending_on(cloud)
    waits = []
    plain_wait = cloud.wait_jobs

    def wait_jobs(jobids, timeout, action=None, command=None):
        waits.append((list(jobids), timeout))
        cloud.vms["vm-1"].update(jobid=None, jobstatus=None, serviceofferingname="Medium")  # the other job ended
        return plain_wait(jobids, timeout, action, command)
    cloud.wait_jobs = wait_jobs
    [fresh], waited = rollout.settle(cloud, [row], 60)
    assert waits == [(["job-other"], 60)] and waited == {"vm-1": ["job-other"]}
    assert fresh["serviceofferingname"] == "Medium" and cloud.writes == []


def test_settle_takes_another_tasks_failed_job_as_ended():
    cloud = Fleet(1)
    row = pending_on(cloud)
    cloud.jobs["job-other"] = "its own failure"
    [fresh], waited = rollout.settle(cloud, [row], 60)
    assert waited == {"vm-1": ["job-other"]} and fresh["id"] == "vm-1"


def test_settle_names_a_job_still_pending_at_wait_timeout_and_sends_nothing():
    cloud = Fleet(1)
    row = pending_on(cloud)

    def slow(jobids, timeout, action=None, command=None):
        raise JobTimeout(jobids[0], {"jobstatus": 0}, timeout, action=action, pending=list(jobids))
    cloud.wait_jobs = slow
    with pytest.raises(rollout.PendingJob, match="job job-other was pending on VM web-01 .* is still 0 \\(pending\\)"
                                                 " after 5.0 s; nothing was sent: wait for it with"):
        rollout.settle(cloud, [row], 5)
    assert cloud.writes == []


def test_the_stop_record_keeps_the_other_details_and_its_removal_may_clean_up():
    vm = {"id": "vm-1", "details": {"cpuNumber": "2", "memory": "1024"}}
    assert rollout.record_params(vm, "stopped") == {"id": "vm-1", "details": {
        "cpuNumber": "2", "memory": "1024", rollout.MARKER: "stopped"}}
    assert rollout.record_params(dict(vm, details={rollout.MARKER: "stopped", "memory": "1024"})) == {
        "id": "vm-1", "details": {"memory": "1024"}}
    # CloudStack ignores an empty details map: the last detail goes with cleanupdetails
    assert rollout.record_params({"id": "vm-1", "details": {rollout.MARKER: "stopped"}}) == {
        "id": "vm-1", "cleanupdetails": True}


@pytest.mark.parametrize("state, action, steps", [
    ("Stopped", planner.OFFLINE, ["scale", "start", "unmark"]),  # left stopped before the change
    ("Stopped", planner.NONE, ["start", "unmark"]),  # changed, left stopped before the start
    ("Running", planner.NONE, ["unmark"]),  # started, the record not removed yet
    ("Running", planner.LIVE, ["unmark", "scale"]),
])
def test_an_interrupted_stop_change_start_is_finished(state, action, steps):
    vm = {"id": "vm-1", "name": "web-01", "state": state, "details": {rollout.MARKER: "stopped to change it"}}
    assert rollout.Rollout(vm, plan(action)).steps == steps


def test_a_vm_left_stopped_is_changed_started_and_unmarked():
    cloud = Fleet(1)
    cloud.vms["vm-1"].update(state="Stopped", hostid=None, hostname=None, details={rollout.MARKER: "stopped"})
    item = rollout.Rollout(dict(cloud.vms["vm-1"]), plan(planner.OFFLINE))
    rollout.run_all(cloud, [item], 60, max_jobs=1)
    after = item.outcome(cloud)
    assert (after["state"], after["serviceofferingname"], after["details"]) == ("Running", "Medium", {})
    assert item.changed and item.done == ["scaled", "started"]


def test_a_failure_with_an_unreadable_vm_says_its_state_is_not_known():
    cloud = Fleet(1)
    cloud.fail["scaleVirtualMachine"] = "Unable to scale"
    item = rollout.Rollout(dict(cloud.vms["vm-1"]), plan(planner.LIVE))
    rollout.run_all(cloud, [item], 60, max_jobs=1)

    def unreadable(command, key, action=None, **params):
        raise TransportError(command, "HTTP 500", action=action, status=500)
    cloud.list = unreadable
    with pytest.raises(rollout.ScaleFailed) as error:
        item.outcome(cloud)
    assert "could not be read again (" in str(error.value) and "its state now is not known" in str(error.value)
    assert "nothing was changed" not in str(error.value) and error.value.jobid is not None
    assert error.value.result["summary"].endswith("failed (job %s): Unable to scale; state not known" % error.value.jobid)


def test_a_job_whose_end_was_not_seen_is_said_to_be_pending():
    cloud = Fleet(1)
    item = rollout.Rollout(dict(cloud.vms["vm-1"]), plan(planner.LIVE))
    item.ended(error=JobStatusUnknown("job-1", {"jobstatus": 0}, 3.0, "HTTP 503", action="scale VM web-01",
                                      command="scaleVirtualMachine"))
    with pytest.raises(rollout.ScaleFailed) as error:
        item.outcome(cloud)
    message = str(error.value)
    assert "job job-1 of scaleVirtualMachine had not ended when this task gave up (last known jobstatus 0 (pending)):" \
           " the scale may still complete; wait for it with queryAsyncJobResult jobid=job-1" in message
    assert "nothing was changed so far" in message and error.value.jobid == "job-1"


def test_a_target_reached_through_another_job_is_not_a_failure_of_ours():
    """Two tasks planned the same scale before either job ran: CloudStack refuses the second (same offering)."""
    cloud = Fleet(1)
    before = dict(cloud.vms["vm-1"])
    cloud.vms["vm-1"].update(serviceofferingid="off-medium", serviceofferingname="Medium", cpunumber=2, memory=1024)
    cloud.fail["scaleVirtualMachine"] = "Not upgrading vm since it already has the requested service offering (Medium)"
    item = rollout.Rollout(before, plan(planner.LIVE))
    rollout.run_all(cloud, [item], 60, max_jobs=1)
    assert item.outcome(cloud)["serviceofferingname"] == "Medium"
    assert not item.changed and "reached the target meanwhile through another job" in item.warnings[0]

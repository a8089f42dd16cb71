"""Faults between the collection and CloudStack: each case asserts that no command was applied twice (counted at
the simulator), that the message tells the truth (job id, real state), and that a re-run converges.

The proxy (tests/faults/proxy.py) resets connections, answers 503 or holds answers past api_timeout on chosen
commands; the simulator is also SIGKILLed during a job and restarted on the same database, where
AsyncJobManagerImpl.cleanupLeftOverJobs fails the jobs left in progress (simulator/jobs.py fail_interrupted).
"""

import threading
import time

import pytest

from tests.faults.conftest import result_of, run_module, run_module_process
from tests.faults.proxy import BAD_GATEWAY, DELAY, RESET_AFTER, RESET_BEFORE

MARKER = "livescale.stop-change-start"  # the VM detail that records a stop-change-start in progress

SCALE = dict(vm="db-01", service_offering="Large")


def assert_scaled_once(world, result):
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] and world.vm("db-01")["serviceofferingname"] == "Large"
    assert len(world.jobs(world.vm("db-01"))) == 1, "scaleVirtualMachine applied once"
    again = world.run("vm_scale", **SCALE)
    assert not again.get("failed") and not again["changed"], "a re-run converges"


@pytest.mark.parametrize("command, kind", [
    ("listVirtualMachines", RESET_BEFORE),
    ("listServiceOfferings", BAD_GATEWAY),
    ("queryAsyncJobResult", RESET_AFTER),
    ("queryAsyncJobResult", BAD_GATEWAY),
])
def test_a_read_fault_is_retried_and_counted(world, command, kind):
    world.proxy.add(command, kind, times=2)
    result = world.run("vm_scale", **SCALE)
    assert world.proxy.injected == [(command, kind)] * 2
    assert result["debug"]["api_calls"] == sum(world.proxy.seen.values()), "debug.api_calls counts every HTTP attempt"
    assert_scaled_once(world, result)


def test_a_read_held_past_api_timeout_is_retried(world):
    world.proxy.add("listServiceOfferings", DELAY, seconds=1.5)
    started = time.monotonic()
    result = world.run("vm_scale", api_timeout=1, **SCALE)
    assert time.monotonic() - started < 10
    assert world.proxy.seen["listServiceOfferings"] == 2
    assert_scaled_once(world, result)


@pytest.mark.parametrize("kind", [RESET_AFTER, DELAY])
def test_a_lost_submit_finds_its_job_and_is_not_sent_again(world, kind):
    world.proxy.add("scaleVirtualMachine", kind, seconds=1.5)
    result = world.run("vm_scale", api_timeout=1, **SCALE)
    assert world.proxy.seen["scaleVirtualMachine"] == 1, "never re-sent"
    assert world.proxy.seen["listAsyncJobs"] >= 1, "the job was looked for"
    assert_scaled_once(world, result)


def test_a_lost_sync_write_says_so_and_a_rerun_converges(world):
    world.proxy.add("updateConfiguration", RESET_AFTER)
    setting = dict(name="kvm.cpu.dynamic.scaling.capacity", value=16, cluster="cluster-a1")
    result = world.run("setting", **setting)
    assert result["failed"] and world.proxy.seen["updateConfiguration"] == 1
    assert "updateConfiguration was sent but its answer was lost" in result["msg"]
    assert "It was not sent again: re-run the task" in result["msg"]
    events = world.client.ok("listEvents", listall="true", type="CONFIGURATION.VALUE.EDIT").get("event", [])
    assert len(events) == 1, "applied once, at the simulator"
    again = world.run("setting", **setting)
    assert not again.get("failed") and not again["changed"] and again["value"] == "16"


def test_a_4xx_is_never_retried(world):
    result = world.run("setting", name="enable.dynamic.scale.vm", value="maybe", zone="zone-a")
    assert result["failed"] and "true or false" in result["msg"]
    result = world.run("vm_scale", vm="db-01", service_offering="Large", cpu_number=2)
    assert result["failed"]
    assert all(count == 1 or command.startswith("list") for command, count in world.proxy.seen.items())
    world.proxy.seen.clear()
    run_module("vm_scaling_info", dict(world.connection(), vm="db-01", zone="no-such-zone"))
    assert world.proxy.seen["listZones"] == 2, "the lookup and its hint, each once: a 431 or an empty answer is final"


def test_wait_timeout_shorter_than_the_job_names_the_job_and_a_rerun_converges(slow_world):
    result = slow_world.run("vm_scale", wait_timeout=1, **SCALE)
    [job] = slow_world.jobs(slow_world.vm("db-01"))
    assert result["failed"] and job["jobid"] in result["msg"], result["msg"]
    assert "jobstatus 0" in result["msg"] or "pending" in result["msg"]
    assert "the scale may still complete; wait for it with queryAsyncJobResult jobid=%s" % job["jobid"] in result["msg"]
    assert "nothing was changed so far" in result["msg"], "read again before saying so"
    slow_world.client.wait(job["jobid"])
    again = slow_world.run("vm_scale", **SCALE)
    assert not again.get("failed") and not again["changed"]
    assert len(slow_world.jobs(slow_world.vm("db-01"))) == 1, "applied once"


def test_a_sigkill_during_a_job_tells_the_truth_and_a_rerun_converges(slow_world):
    outcome = {}
    task = threading.Thread(target=lambda: outcome.update(slow_world.run("vm_scale", **SCALE)))
    task.start()
    deadline = time.monotonic() + 10
    while not slow_world.proxy.seen.get("queryAsyncJobResult") and time.monotonic() < deadline:
        time.sleep(0.02)
    slow_world.kill()
    time.sleep(0.3)
    slow_world.start()
    task.join(60)
    [job] = slow_world.jobs(slow_world.vm("db-01"))
    assert job["jobstatus"] == 2, "CloudStack fails the jobs a dead management server left in progress"
    assert outcome["failed"] and job["jobid"] in outcome["msg"], outcome.get("msg")
    assert "530" in outcome["msg"]
    assert slow_world.vm("db-01")["serviceofferingname"] == "Medium"
    again = slow_world.run("vm_scale", **SCALE)
    assert not again.get("failed") and again["changed"] and slow_world.vm("db-01")["serviceofferingname"] == "Large"
    assert [item["jobstatus"] for item in slow_world.jobs(slow_world.vm("db-01"))].count(1) == 1, "applied once"


def wait_for(condition, timeout=15):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_reads_failing_after_a_successful_scale_do_not_turn_it_into_a_failure(world):
    world.proxy.add("listVirtualMachines", BAD_GATEWAY, times=50, after="scaleVirtualMachine")
    result = world.run("vm_scale", **SCALE)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] and result["after"]["service_offering"] == "Large", "told from the job result"
    world.proxy.faults.clear()
    assert world.requests("scaleVirtualMachine") == 1
    assert_scaled_once(world, result)


def test_a_job_failing_with_an_unreadable_vm_never_says_nothing_was_changed(slow_world):
    outcome = {}
    slow_world.proxy.add("listVirtualMachines", BAD_GATEWAY, times=50, after="scaleVirtualMachine")
    task = threading.Thread(target=lambda: outcome.update(slow_world.run("vm_scale", **SCALE)))
    task.start()
    wait_for(lambda: slow_world.proxy.seen.get("queryAsyncJobResult"))
    slow_world.kill()
    slow_world.start()  # the job left in progress ends failed (530); the VM cannot be read through the proxy
    task.join(60)
    [job] = slow_world.jobs(slow_world.vm("db-01"))
    assert outcome["failed"] and job["jobid"] in outcome["msg"] and "530" in outcome["msg"], outcome["msg"]
    assert "could not be read again" in outcome["msg"] and "its state now is not known" in outcome["msg"]
    assert "nothing was changed" not in outcome["msg"]
    slow_world.proxy.faults.clear()
    again = slow_world.run("vm_scale", **SCALE)
    assert not again.get("failed") and again["changed"] and slow_world.vm("db-01")["serviceofferingname"] == "Large"


def test_a_job_pending_on_the_vm_is_waited_for_and_the_vm_planned_again(slow_world):
    vm = slow_world.vm("db-01")
    other = slow_world.client.ok("scaleVirtualMachine", id=vm["id"], serviceofferingid=offering_id(slow_world, "Large"))
    result = slow_world.run("vm_scale", **SCALE)
    assert not result.get("failed"), result.get("msg")
    assert result["waited_for"] == [other["jobid"]]
    assert not result["changed"] and result["plan"]["action"] == "none", "planned again from the state after the job"
    assert slow_world.requests("scaleVirtualMachine") == 1, "not sent a second time"
    assert [job["jobstatus"] for job in slow_world.jobs(vm)] == [1]


def test_a_job_pending_past_wait_timeout_names_it_and_sends_nothing(slow_world):
    vm = slow_world.vm("db-01")
    other = slow_world.client.ok("scaleVirtualMachine", id=vm["id"], serviceofferingid=offering_id(slow_world, "Large"))
    result = slow_world.run("vm_scale", wait_timeout=0, vm="db-01", service_offering="Small", allow_restart=True)
    assert result["failed"] and result["jobid"] == other["jobid"]
    assert "was pending on VM db-01" in result["msg"] and "nothing was sent" in result["msg"], result["msg"]
    assert slow_world.requests("scaleVirtualMachine") == 1 and slow_world.requests("stopVirtualMachine") == 0
    slow_world.client.wait(other["jobid"])
    again = slow_world.run("vm_scale", **SCALE)
    assert not again.get("failed") and not again["changed"]


def test_two_runs_scaling_one_vm_at_once_end_at_one_target_and_both_tell_the_truth(slow_world, tmp_path):
    runs = [run_module_process("vm_scale", dict(slow_world.connection(through_proxy=False), **SCALE), tmp_path)
            for _run in range(2)]
    results = [result_of(run) for run in runs]
    assert not any(result.get("failed") for result in results), [result.get("msg") for result in results]
    assert sorted(result["changed"] for result in results) == [False, True], "one scaled it, the other found it done"
    unchanged = next(result for result in results if not result["changed"])
    told = "reached the target meanwhile through another job"
    assert unchanged["waited_for"] or told in str(unchanged.get("warnings")), unchanged
    assert slow_world.vm("db-01")["serviceofferingname"] == "Large"
    assert [job["jobstatus"] for job in slow_world.jobs(slow_world.vm("db-01"))].count(1) == 1, "applied once"


def test_a_sigkill_between_stop_and_start_is_finished_by_a_rerun(slow_world):
    """The stop-change-start records the stop in a VM detail first; the run dies with the server after the stop,
    the re-run finds the record, changes and starts the VM, and removes the record."""
    restart = dict(vm="web-01", service_offering="Medium", allow_restart=True)  # web-01 cannot be live-scaled
    outcome = {}
    task = threading.Thread(target=lambda: outcome.update(slow_world.run("vm_scale", wait_timeout=3, **restart)))
    task.start()
    wait_for(lambda: slow_world.jobs(slow_world.vm("web-01")))  # stopped, and the scale job is pending
    slow_world.kill()
    task.join(60)
    slow_world.start()
    vm = slow_world.vm("web-01")
    assert vm["state"] == "Stopped" and MARKER in vm["details"], "left stopped, with the record"
    [job] = slow_world.jobs(vm)
    assert outcome["failed"] and job["jobid"] in outcome["msg"], outcome["msg"]
    assert "may still complete" in outcome["msg"] and "re-run the task, which finds the record" in outcome["msg"]
    assert "nothing was changed" not in outcome["msg"]
    info = slow_world.run("vm_scaling_info", vm="web-01")
    assert info["vms"][0]["interrupted_restart"] == vm["details"][MARKER]
    again = slow_world.run("vm_scale", **restart)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] and "left Stopped by an interrupted stop-change-start" in again["recovered"]
    vm = slow_world.vm("web-01")
    assert (vm["state"], vm["serviceofferingname"], MARKER in vm["details"]) == ("Running", "Medium", False)
    assert slow_world.requests("stopVirtualMachine") == 0, "the re-run did not stop it again"
    assert [item["jobstatus"] for item in slow_world.jobs(vm)].count(1) == 1, "scaled once"
    last = slow_world.run("vm_scale", **restart)
    assert not last.get("failed") and not last["changed"], "converged"


def offering_id(world, name):
    return next(row["id"] for row in world.client.ok("listServiceOfferings")["serviceoffering"] if row["name"] == name)

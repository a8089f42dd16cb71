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
from tests.faults.proxy import BAD_GATEWAY, DELAY, HOLD, RESET_AFTER, RESET_BEFORE, FaultProxy

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


def pending_scale(world, vm):
    """A condition: a scaleVirtualMachine job on ``vm`` is pending at the simulator (read with its own client)."""
    client = world.simulator.client()

    def pending():
        listed = client.ok("listAsyncJobs", listall="true").get("asyncjobs", [])
        return any(job.get("jobinstanceid") == vm["id"] and job["jobstatus"] == 0 and "ScaleVMCmd" in job["cmd"]
                   for job in listed)
    return pending


BIGGER = dict(vm="db-01", service_offering="Custom", cpu_number=6, memory=6144)


@pytest.mark.parametrize("second, changed, offering", [(SCALE, False, "Large"), (BIGGER, True, "Custom")])
def test_a_run_arriving_while_another_runs_job_is_pending_waits_for_it_and_plans_again(
        slow_world, tmp_path, second, changed, offering):
    """Two module processes on db-01: the second's first read is held at the proxy until the first's
    scaleVirtualMachine job is pending (jobs wait 1.5 s), so it sees the job on the VM (jobid/jobstatus)."""
    vm = slow_world.vm("db-01")
    slow_world.proxy.add("listVirtualMachines", HOLD, until=pending_scale(slow_world, vm))
    first = run_module_process("vm_scale", dict(slow_world.connection(through_proxy=False), **SCALE), tmp_path)
    later = run_module_process("vm_scale", dict(slow_world.connection(), **second), tmp_path)
    first_result, later_result = result_of(first), result_of(later)
    assert not first_result.get("failed") and first_result["changed"], first_result.get("msg")
    assert not later_result.get("failed"), later_result.get("msg")
    jobs = slow_world.jobs(vm)
    assert later_result["waited_for"] == [jobs[0]["jobid"]], "the second waited for the first's job"
    assert later_result["changed"] is changed and later_result["before"]["service_offering"] == "Large", \
        "planned again from the state after that job"
    assert [job["jobstatus"] for job in jobs] == [1] * (2 if changed else 1), "one scale per needed change"
    assert slow_world.requests("scaleVirtualMachine") == len(jobs)
    now = slow_world.vm("db-01")
    assert (now["state"], now["serviceofferingname"]) == (vm["state"], offering), "one target, in its own state"


def test_two_runs_that_planned_before_either_job_apply_one_scale_and_tell_the_truth(slow_world, tmp_path):
    """The double submit forced: each run has its own proxy; the first's scaleVirtualMachine is held until the
    second has planned and sent its own, which is held until the first's job is pending, so both jobs queue on
    db-01 (VmWorkJobQueue) and the second runs on a VM already at the target: CloudStack refuses it
    (UserVmManagerImpl.upgradeRunningVirtualMachine: "already has the requested service offering")."""
    vm = slow_world.vm("db-01")
    second_proxy = FaultProxy(slow_world.simulator.url)
    try:
        slow_world.proxy.add("scaleVirtualMachine", HOLD, until=lambda: second_proxy.seen.get("scaleVirtualMachine"))
        second_proxy.add("scaleVirtualMachine", HOLD, until=pending_scale(slow_world, vm))
        second_connection = dict(slow_world.connection(), api_url=second_proxy.url)
        runs = [run_module_process("vm_scale", dict(connection, **SCALE), tmp_path)
                for connection in (slow_world.connection(), second_connection)]
        first, second = [result_of(run) for run in runs]
    finally:
        second_proxy.close()
    assert not first.get("failed") and first["changed"], first.get("msg")
    assert not second.get("failed") and not second["changed"], second.get("msg")
    assert second["waited_for"] == [], "it planned before the first job existed"
    warnings = str(second["warnings"])
    assert "reached the target meanwhile through another job" in warnings, second
    assert "already has the requested service offering" in warnings, "CloudStack's answer is told"
    assert second["before"] == second["after"] and second["diff"]["before"] == second["diff"]["after"], \
        "no change is claimed for the second run"
    assert "already" in second["summary"], second["summary"]
    assert [job["jobstatus"] for job in slow_world.jobs(vm)] == [1, 2], "two submits, one scale applied"
    now = slow_world.vm("db-01")
    assert (now["state"], now["serviceofferingname"]) == (vm["state"], "Large")


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


def system_vm(world, name="v-2-VM"):
    return world.client.ok("listSystemVms", name=name)["systemvm"][0]


def system_offering_id(world, name):
    return next(row["id"] for row in world.client.ok("listServiceOfferings", issystem="true")["serviceoffering"]
                if row["name"] == name)


PROXY_SCALE = dict(system_vm="v-2-VM", service_offering="Console Proxy Large", allow_restart=True)


def test_a_job_pending_on_a_system_vm_is_waited_for_and_the_system_vm_planned_again(slow_world):
    """Another task's stopSystemVm is pending on v-2-VM: listSystemVms shows it (ApiServer.buildAsyncListResponse),
    the module waits, finds the VM Stopped (by another task: no stop record) and changes its offering offline, with
    no stop of its own, and does not start it."""
    proxy = system_vm(slow_world)
    other = slow_world.client.ok("stopSystemVm", id=proxy["id"])["jobid"]
    result = slow_world.run("system_vm_scale", **PROXY_SCALE)
    assert not result.get("failed"), result.get("msg")
    assert result["waited_for"] == [other] and result["plan"]["action"] == "offline"
    assert result["recovered"] is None and not result.get("warnings")
    assert slow_world.requests("stopSystemVm") == 1 and slow_world.requests("scaleSystemVm") == 1
    now = system_vm(slow_world)
    assert (now["state"], now["serviceofferingname"]) == ("Stopped", "Console Proxy Large")


def test_a_pending_system_vm_scale_is_waited_for_though_its_job_names_no_system_vm(slow_world):
    """ScaleSystemVMCmd has no getApiResourceType: its job is found by listAsyncJobs keyword and waited for; the
    module plans again from the result and sends nothing. (The proxy is stopped first: the default seed's proxy
    cannot be live-scaled, so the other task's scale is an offline change that succeeds.)"""
    proxy = system_vm(slow_world)
    slow_world.client.wait(slow_world.client.ok("stopSystemVm", id=proxy["id"])["jobid"])
    other = slow_world.client.ok("scaleSystemVm", id=proxy["id"],
                                 serviceofferingid=system_offering_id(slow_world, "Console Proxy Large"))["jobid"]
    result = slow_world.run("system_vm_scale", **PROXY_SCALE)
    assert not result.get("failed"), result.get("msg")
    assert result["waited_for"] == [other] and not result["changed"] and result["plan"]["action"] == "none"
    assert slow_world.requests("scaleSystemVm") == 1 and slow_world.requests("stopSystemVm") == 1
    assert system_vm(slow_world)["serviceofferingname"] == "Console Proxy Large"


def stop_record_of(world, vm):
    """The annotations recording a stop-change-start on a system VM (listAnnotations, as the module looks)."""
    return world.client.ok("listAnnotations", entitytype="SYSTEM_VM", entityid=vm["id"]).get("annotation", [])


def test_a_sigkill_between_stop_and_start_of_a_system_vm_is_finished_by_a_rerun(slow_world):
    """A system VM takes no tags or details: the stop is recorded in an annotation (entity type SYSTEM_VM) first;
    the run dies with the server while the scale job is pending, the re-run finds the annotation, changes and starts
    the system VM and removes it."""
    proxy = system_vm(slow_world)
    outcome = {}
    task = threading.Thread(target=lambda: outcome.update(
        slow_world.run("system_vm_scale", wait_timeout=3, **PROXY_SCALE)))
    task.start()
    wait_for(lambda: slow_world.client.ok("listAsyncJobs", listall="true", keyword="ScaleSystemVMCmd"))
    slow_world.kill()
    task.join(60)
    slow_world.start()
    proxy = system_vm(slow_world)
    [record] = stop_record_of(slow_world, proxy)
    assert proxy["state"] == "Stopped" and proxy["hasannotations"], "left stopped, with the record"
    assert record["annotation"].startswith(MARKER + ": stopped to change it to Console Proxy Large")
    assert outcome["failed"] and "may still complete" in outcome["msg"], outcome["msg"]
    assert "re-run the task, which finds the record (annotation %s)" % record["id"] in outcome["msg"]
    assert "nothing was changed" not in outcome["msg"]
    again = slow_world.run("system_vm_scale", **PROXY_SCALE)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] and "left Stopped by an interrupted stop-change-start" in again["recovered"]
    proxy = system_vm(slow_world)
    assert (proxy["state"], proxy["serviceofferingname"]) == ("Running", "Console Proxy Large")
    assert stop_record_of(slow_world, proxy) == [] and not proxy["hasannotations"]
    assert slow_world.requests("stopSystemVm") == 0, "the re-run did not stop it again"
    last = slow_world.run("system_vm_scale", **PROXY_SCALE)
    assert not last.get("failed") and not last["changed"], "converged"

"""Concurrent async jobs: a worker pool, one job per VM at a time, operations that take time (seed `timings`).

CloudStack's model: AsyncJobManagerImpl runs API jobs on a fixed thread pool (configure: db.cloud.maxActive / 2);
VirtualMachineManagerImpl sends a VM's work through the VmWorkJobQueue of that VM (submitAsyncJob with
VmWorkConstants.VM_WORK_QUEUE and the VM id, queue size limit 1), which VmWorkJobDispatcher runs one at a time.
"""

import json
import sqlite3

import pytest
import yaml

from simulator.app import Simulator
from simulator.jobs import DEFAULT_TIMINGS, INTERRUPTED
from simulator.seed import SeedError
from simulator.testing import InProcessSimulator, SimulatorProcess

from .conftest import World, build_seed

SAMPLES = 2000  # upper bound of reads while watching; the loops end as soon as the jobs have ended


def timed_seed(tmp_path, timings, **changes):
    """build_seed's seed (web-01 and db-01 Running and scalable) with a `timings` section."""
    path = build_seed(tmp_path, **changes)
    seed = yaml.safe_load(path.read_text())
    seed["timings"] = timings
    path.write_text(yaml.safe_dump(seed))
    return path


@pytest.fixture
def timed_sim(tmp_path):
    """Factory of in-process simulators on a timed seed; stopped at the end (waiting jobs are dropped)."""
    started = []

    def make(**timings):
        sim = InProcessSimulator(timed_seed(tmp_path, timings), tmp_path / f"state{len(started)}.sqlite")
        started.append(sim.start())
        world = World(sim.client())
        world.sim = sim
        return world
    yield make
    for sim in started:
        sim.stop()


def snapshot(world, *names):
    """{name: (state, jobid)} of VMs, from one listVirtualMachines read."""
    ids = ",".join(world.vms[name]["id"] for name in names)
    # ids, unlike id, does not widen the root admin's own scope (buildACLSearchParameters): listall
    listed = world.client.ok("listVirtualMachines", ids=ids, listall="true")["virtualmachine"]
    by_id = {vm["id"]: (vm["state"], vm.get("jobid")) for vm in listed}
    return {name: by_id[world.vms[name]["id"]] for name in names}


def job_status(world, jobid):
    """jobstatus of a job now."""
    return world.client.ok("queryAsyncJobResult", jobid=jobid)["jobstatus"]


def watch(world, names, jobids):
    """Every distinct snapshot of the VMs seen until all the jobs have ended, in order."""
    seen = []
    for _sample in range(SAMPLES):
        ended = all(job_status(world, jobid) != 0 for jobid in jobids)
        now = snapshot(world, *names)
        if not seen or seen[-1] != now:
            seen.append(now)
        if ended:
            return seen
    raise AssertionError(f"jobs {jobids} still running after {SAMPLES} reads; seen {seen}")


def test_reader_sees_the_transitional_state_and_the_jobid_while_a_job_runs(timed_sim):
    """VirtualMachine.State Stopping/Starting/Migrating while advanceStop/orchestrateStart/orchestrateMigrate run;
    user_vm_view joins async_job with job_status = 0, so the VM carries jobid/jobstatus (UserVmResponse)."""
    world = timed_sim(start=1, stop=1, migrate=1, scale=1)
    client, web = world.client, world.vms["web-01"]["id"]
    cases = [("stopVirtualMachine", {"id": web}, "Stopping", "Stopped"),
             ("startVirtualMachine", {"id": web, "hostid": world.hosts["kvm-a1-01"]["id"]}, "Starting", "Running"),
             ("migrateVirtualMachine", {"virtualmachineid": web, "hostid": world.hosts["kvm-a1-02"]["id"]},
              "Migrating", "Running"),
             ("scaleVirtualMachine", {"id": web, "serviceofferingid": world.offerings["Medium"]}, "Running",
              "Running")]
    for command, params, during, after in cases:
        jobid = client.ok(command, **params)["jobid"]
        seen = [vms["web-01"] for vms in watch(world, ["web-01"], [jobid])]
        assert client.ok("queryAsyncJobResult", jobid=jobid)["jobstatus"] == 1, command
        assert (during, jobid) in seen and seen[-1] == (after, None), (command, seen)
    final = client.ok("listVirtualMachines", id=web)["virtualmachine"][0]
    assert final["hostname"] == "kvm-a1-02" and final["serviceofferingname"] == "Medium"


def test_starting_vm_shows_the_host_it_is_started_on(timed_sim):
    """VirtualMachine.State.Starting: "you should find host id filled" (orchestrateStart, OperationRetry)."""
    world = timed_sim(stop=0, start=1)
    client, web = world.client, world.vms["web-01"]["id"]
    client.run("stopVirtualMachine", id=web)
    jobid = client.ok("startVirtualMachine", id=web, hostid=world.hosts["kvm-a1-02"]["id"])["jobid"]
    starting = client.ok("listVirtualMachines", id=web)["virtualmachine"][0]
    assert (starting["state"], starting["hostname"], starting["jobid"]) == ("Starting", "kvm-a1-02", jobid)
    assert client.wait(jobid)["jobresult"]["virtualmachine"]["state"] == "Running"


def test_jobs_on_one_vm_run_one_after_the_other_in_submit_order(timed_sim):
    """VmWorkJobQueue per VM, queue size limit 1 (AsyncJobManagerImpl.submitAsyncJob -> syncAsyncJobExecution):
    the second job starts only after the first has ended, in submit order; a waiting job is pending too."""
    world = timed_sim(stop=0.5, start=0.5)
    client, web = world.client, world.vms["web-01"]["id"]
    first = client.ok("stopVirtualMachine", id=web)["jobid"]
    second = client.ok("startVirtualMachine", id=web)["jobid"]
    third = client.ok("stopVirtualMachine", id=web)["jobid"]
    assert (job_status(world, second), job_status(world, third)) == (0, 0)
    seen = [vms["web-01"] for vms in watch(world, ["web-01"], [first, second, third])]
    assert [vm for vm in seen if vm[0] in ("Stopping", "Starting")] == [
        ("Stopping", first), ("Starting", second), ("Stopping", third)]
    shown = [jobid for index, (_state, jobid) in enumerate(seen) if index == 0 or seen[index - 1][1] != jobid]
    assert shown == [first, second, third, None]  # between two jobs the VM shows the waiting one
    results = [client.wait(jobid) for jobid in (first, second, third)]
    assert [job["jobstatus"] for job in results] == [1, 1, 1]  # a start run before the stop would fail
    assert [job["jobresult"]["virtualmachine"]["state"] for job in results] == ["Stopped", "Running", "Stopped"]
    assert results[0]["completed"] <= results[1]["completed"] <= results[2]["completed"]


def test_jobs_on_different_vms_overlap(timed_sim):
    """Different sync objects (VM ids) have different queues; the API job pool runs their jobs at once."""
    world = timed_sim(stop=1)
    client = world.client
    jobs = [client.ok("stopVirtualMachine", id=world.vms[name]["id"])["jobid"] for name in ("web-01", "db-01")]
    seen = watch(world, ["web-01", "db-01"], jobs)
    assert {"web-01": ("Stopping", jobs[0]), "db-01": ("Stopping", jobs[1])} in seen
    assert seen[-1] == {"web-01": ("Stopped", None), "db-01": ("Stopped", None)}


def test_reads_and_other_vms_jobs_go_on_during_a_long_job(timed_sim):
    """No lock is held while an operation takes its time: reads, synchronous writes and another VM's job
    answer while a 30 s stop is still in progress (the job is dropped when the simulator stops)."""
    world = timed_sim(stop=30, reboot=0)
    client, web, db = world.client, world.vms["web-01"]["id"], world.vms["db-01"]["id"]
    slow = client.ok("stopVirtualMachine", id=web)["jobid"]
    for _read in range(20):
        assert client.ok("listVirtualMachines", id=web)["virtualmachine"][0]["state"] == "Stopping"
        assert client.ok("listHosts")["count"] == 2
    renamed = client.ok("updateVirtualMachine", id=db, displayname="db-renamed")["virtualmachine"]
    assert renamed["displayname"] == "db-renamed"
    rebooted = client.run("rebootVirtualMachine", id=db)
    assert rebooted["jobstatus"] == 1
    still = client.ok("queryAsyncJobResult", jobid=slow)
    assert still["jobstatus"] == 0 and "jobresult" not in still
    assert snapshot(world, "web-01")["web-01"] == ("Stopping", slow)


def stored_job(db, jobid):
    """A job's stored document."""
    with sqlite3.connect(str(db)) as conn:
        row = conn.execute("SELECT data FROM objects WHERE kind = 'job' AND uuid = ?", (jobid,)).fetchone()
    return json.loads(row[0])


def test_restart_mid_job_fails_the_jobs_and_settles_the_vms(tmp_path):
    """AsyncJobManagerImpl.cleanupLeftOverJobs: running and waiting jobs end failed (530, plain-text result);
    cleanupResources -> cleanupVirtualMachine moves a transitional VM on by OperationFailed:
    Stopping -> Running, Migrating -> Running (on the source host)."""
    seed = timed_seed(tmp_path, {"stop": 30, "migrate": 30, "reboot": 0})
    with SimulatorProcess(seed, tmp_path / "state.sqlite") as sim:
        admin = sim.client()
        vms = {vm["name"]: vm for vm in admin.ok("listVirtualMachines", listall="true")["virtualmachine"]}
        hosts = {host["name"]: host["id"] for host in admin.ok("listHosts")["host"]}
        web, db = vms["web-01"]["id"], vms["db-01"]["id"]
        stopping = admin.ok("stopVirtualMachine", id=web)["jobid"]
        waiting = admin.ok("rebootVirtualMachine", id=web)["jobid"]
        migrating = admin.ok("migrateVirtualMachine", virtualmachineid=db, hostid=hosts["kvm-a1-01"])["jobid"]
        states = {vm["name"]: vm["state"] for vm in admin.ok("listVirtualMachines", listall="true")["virtualmachine"]}
        assert states == {"web-01": "Stopping", "db-01": "Migrating"}
        sim.restart()
        admin = sim.client()
        for jobid in (stopping, waiting, migrating):
            job = admin.ok("queryAsyncJobResult", jobid=jobid)
            assert (job["jobstatus"], job["jobresultcode"]) == (2, 530) and "jobresult" not in job
            assert stored_job(tmp_path / "state.sqlite", jobid)["result"] == INTERRUPTED
        after = {vm["name"]: vm for vm in admin.ok("listVirtualMachines", listall="true")["virtualmachine"]}
        assert (after["web-01"]["state"], after["web-01"]["hostname"]) == ("Running", "kvm-a1-01")
        assert (after["db-01"]["state"], after["db-01"]["hostname"]) == ("Running", "kvm-a1-02")
        assert "jobid" not in after["web-01"] and "jobid" not in after["db-01"]
        assert admin.run("rebootVirtualMachine", id=web)["jobstatus"] == 1  # the recovered domain runs


def test_timings_of_the_seed_are_checked_and_kept(tmp_path):
    """The seed's `timings` (seconds per operation) default to small values and survive a restart on the db."""
    bad = timed_seed(tmp_path, {"strat": 1}, name="bad.yml", vms=[])
    with pytest.raises(SeedError, match=r"timings: unknown operation 'strat' \(known: start, stop"):
        Simulator(bad, tmp_path / "bad.sqlite")
    negative = timed_seed(tmp_path, {"stop": -1}, name="negative.yml", vms=[])
    with pytest.raises(SeedError, match=r"timings: stop: seconds must be a number >= 0, not -1"):
        Simulator(negative, tmp_path / "negative.sqlite")
    good = timed_seed(tmp_path, {"stop": 3, "scale": 0.5}, name="good.yml", vms=[])
    app = Simulator(good, tmp_path / "good.sqlite")
    assert app.jobs.timings == dict(DEFAULT_TIMINGS, stop=3.0, scale=0.5)
    app.store.close()
    assert Simulator(tmp_path / "missing.yml", tmp_path / "good.sqlite").jobs.timings["stop"] == 3.0

"""SQLite state across restarts, jobs interrupted by a restart, async job queries (spec 1.5)."""

from simulator.store import Store
from simulator.testing import SimulatorProcess

from .conftest import build_seed


def sim_db_job(db_path, jobid):
    """A job record as stored in a simulator's database."""
    store = Store(db_path)
    try:
        return store.by_uuid("job", jobid)
    finally:
        store.close()


def test_state_survives_restart_and_seed_is_not_reloaded(tmp_path):
    sim = SimulatorProcess(build_seed(tmp_path), tmp_path / "state.sqlite")
    with sim:
        admin = sim.client()
        offering = admin.ok("createServiceOffering", name="Huge", cpunumber=8, cpuspeed=2000, memory=16384)
        admin.ok("updateConfiguration", name="scale.retry", value="5")
        web = admin.ok("listVirtualMachines", listall="true", name="web-01")["virtualmachine"][0]
        stopped = admin.run("stopVirtualMachine", id=web["id"])
        assert stopped["jobstatus"] == 1
        sim.restart()
        admin = sim.client()
        names = [o["name"] for o in admin.ok("listServiceOfferings")["serviceoffering"]]
        assert names.count("Huge") == 1 and names.count("Small") == 1
        assert admin.ok("listServiceOfferings", id=offering["serviceoffering"]["id"])["count"] == 1
        assert admin.ok("listConfigurations", name="scale.retry")["configuration"][0]["value"] == "5"
        assert admin.ok("listVirtualMachines", id=web["id"])["virtualmachine"][0]["state"] == "Stopped"
        job = admin.ok("queryAsyncJobResult", jobid=stopped["jobid"])
        assert job["jobstatus"] == 1 and job["jobresult"]["virtualmachine"]["state"] == "Stopped"


def test_job_in_flight_at_shutdown_fails_after_restart(tmp_path):
    sim = SimulatorProcess(build_seed(tmp_path), tmp_path / "state.sqlite", job_delay=30)
    with sim:
        admin = sim.client()
        web = admin.ok("listVirtualMachines", listall="true", name="web-01")["virtualmachine"][0]
        jobid = admin.ok("stopVirtualMachine", id=web["id"])["jobid"]
        pending = admin.ok("queryAsyncJobResult", jobid=jobid)
        assert pending["jobstatus"] == 0 and "jobresult" not in pending
        assert pending["jobinstanceid"] == web["id"]
        sim.stop()
        sim.job_delay = 0
        sim.start()
        admin = sim.client()
        job = admin.ok("queryAsyncJobResult", jobid=jobid)
        # cleanupLeftOverJobs stores a plain-text result, which the API cannot deserialize and so leaves out
        assert (job["jobstatus"], job["jobresultcode"], job["jobresulttype"]) == (2, 530, "object")
        assert "jobresult" not in job
        stored = sim_db_job(tmp_path / "state.sqlite", jobid)
        assert stored["result"] == "job cancelled because of management server restart or shutdown"
        assert admin.ok("listVirtualMachines", id=web["id"])["virtualmachine"][0]["state"] == "Running"
        listed = admin.ok("listAsyncJobs")["asyncjobs"]
        assert [j["jobid"] for j in listed] == [jobid]


def test_users_see_only_their_jobs(tmp_path):
    sim = SimulatorProcess(build_seed(tmp_path), tmp_path / "state.sqlite")
    with sim:
        admin = sim.client()
        alice = sim.client(sim.user_key, sim.user_secret)
        web = alice.ok("listVirtualMachines", name="web-01")["virtualmachine"][0]
        own = alice.run("stopVirtualMachine", id=web["id"])
        assert own["cmd"] == "org.apache.cloudstack.api.command.user.vm.StopVMCmd"
        assert own["account"] == "acme"
        zone = admin.ok("listZones")["zone"][0]["id"]
        other = admin.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="true", zoneid=zone)
        assert other["configuration"]["scope"] == "zone"
        admin_job = admin.ok("startVirtualMachine", id=web["id"])["jobid"]
        status, body = alice.call("queryAsyncJobResult", jobid=admin_job)
        assert status == 531
        assert [j["jobid"] for j in alice.ok("listAsyncJobs")["asyncjobs"]] == [own["jobid"]]


def test_bad_seed_stops_the_start_with_a_clear_message(tmp_path):
    seed = tmp_path / "bad.yml"
    seed.write_text("accounts:\n  - name: acme\n    role: Owner\n")
    sim = SimulatorProcess(seed, tmp_path / "state.sqlite")
    try:
        sim.start()
    except RuntimeError as err:
        message = str(err)
    else:
        sim.stop()
        message = "started"
    assert "account acme: role 'Owner' must be one of Admin, DomainAdmin, User" in message

"""livescale.cloudstack.vm_scale_fleet against the simulator: check mode, the concurrency bound seen at the simulator,
partial failure and stop after failures."""

import json
import threading

import pytest
import yaml

from tests.conftest import run_playbook
from tests.simulator.conftest import build_seed

OBSERVER_KEY, OBSERVER_SECRET = "OBSERVER-KEY", "OBSERVER-SECRET"
FLEET = ["vm-%d" % index for index in range(1, 7)]
PLAYBOOK = """- hosts: localhost
  gather_facts: false
  tasks:
    - livescale.cloudstack.vm_scale_fleet:
        api_url: "{{ api_url }}"
        api_key: "{{ api_key }}"
        api_secret: "{{ api_secret }}"
%s
      register: fleet
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{ fleet | to_json }}"
        dest: "{{ result_file }}"
      check_mode: false
"""


@pytest.fixture
def sim(tmp_path):
    """Six Running, scalable Small VMs of admin on two hosts, tagged tier web (vm-1..3) or db and env staging (odd
    vm-N) or prod, 0.4 s scale jobs, and an observer user."""
    from simulator.testing import SimulatorProcess  # pylint: disable=import-outside-toplevel
    vms = [{"name": name, "account": "admin", "zone": "zone-a", "template": "debian-12-generic", "offering": "Small",
            "state": "Running", "host": "kvm-a1-0%d" % (index % 2 + 1), "isdynamicallyscalable": True,
            "tags": {"tier": "web" if index < 3 else "db", "env": "prod" if index % 2 else "staging"}}
           for index, name in enumerate(FLEET)]
    path = build_seed(tmp_path)
    seed = yaml.safe_load(path.read_text())
    seed["vms"] += vms + [dict(vms[0], name="legacy-01", isdynamicallyscalable=False)]
    seed["timings"] = {"scale": 0.4}
    admin = [account for account in seed["accounts"] if account["name"] == "admin"][0]
    admin["users"].append({"username": "observer", "apikey": OBSERVER_KEY, "secretkey": OBSERVER_SECRET})
    path.write_text(yaml.safe_dump(seed))
    with SimulatorProcess(path, tmp_path / "state.sqlite") as process:
        yield process


def fleet(sim, tmp_path, check=False, **options):
    """Run one vm_scale_fleet task; returns its registered result."""
    playbook = tmp_path / "fleet.yml"
    lines = "\n".join("        %s: %s" % (key, json.dumps(value)) for key, value in options.items())
    playbook.write_text(PLAYBOOK % lines)
    result_file = tmp_path / "result.json"
    run = run_playbook(playbook, extra_vars={"api_url": sim.url, "api_key": sim.admin_key, "api_secret": sim.admin_secret,
                                             "result_file": str(result_file)}, check=check)
    assert run.returncode == 0, run.stdout[-4000:]
    return json.loads(result_file.read_text())


def offerings(sim):
    """{VM name: offering name} as the simulator shows them."""
    return {vm["name"]: vm["serviceofferingname"] for vm in sim.client().ok("listVirtualMachines", listall="true")["virtualmachine"]}


def test_check_mode_plans_every_vm_and_changes_nothing(sim, tmp_path):
    result = fleet(sim, tmp_path, check=True, name_pattern="^vm-", service_offering="Medium")
    assert [(vm["name"], vm["outcome"], vm["plan"]["action"]) for vm in result["vms"]] == [
        (name, "planned", "live") for name in FLEET]
    assert result["counts"]["planned"] == 6 and result["changed"] is True
    assert set(offerings(sim)[name] for name in FLEET) == {"Small"}


def test_vms_are_selected_by_every_tag_given(sim, tmp_path):
    """The tags option keeps the VMs that carry all of its tags, as CloudStack lists them in tags[]."""
    planned = fleet(sim, tmp_path, check=True, tags={"tier": "web"}, service_offering="Medium")
    assert [(vm["name"], vm["outcome"]) for vm in planned["vms"]] == [
        ("vm-1", "planned"), ("vm-2", "planned"), ("vm-3", "planned"), ("legacy-01", "refused")]  # vm-1's tags
    result = fleet(sim, tmp_path, tags={"tier": "db", "env": "prod"}, service_offering="Medium")
    assert [(vm["name"], vm["outcome"]) for vm in result["vms"]] == [("vm-4", "scaled"), ("vm-6", "scaled")]
    assert [name for name in FLEET if offerings(sim)[name] == "Medium"] == ["vm-4", "vm-6"]


class JobWatcher(threading.Thread):
    """The most VMs seen at once with a job in progress (UserVmJoinVO jobid / jobstatus in listVirtualMachines)."""

    def __init__(self, sim):
        super().__init__(daemon=True)
        self.client = sim.client(OBSERVER_KEY, OBSERVER_SECRET)
        self.most = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            listed = self.client.ok("listVirtualMachines", listall="true").get("virtualmachine", [])
            self.most = max(self.most, sum(1 for vm in listed if vm.get("jobstatus") == 0))
            self.stopping.wait(0.03)


def test_at_most_max_jobs_run_at_once_and_a_rerun_changes_nothing(sim, tmp_path):
    watcher = JobWatcher(sim)
    watcher.start()
    try:
        result = fleet(sim, tmp_path, name_pattern="^vm-", service_offering="Medium", max_jobs=2)
    finally:
        watcher.stopping.set()
        watcher.join()
    assert result["counts"]["scaled"] == 6 and not result.get("failed"), result
    assert watcher.most == 2
    assert all(vm["after"]["service_offering"] == "Medium" and vm["after"]["state"] == "Running" for vm in result["vms"])
    again = fleet(sim, tmp_path, name_pattern="^vm-", service_offering="Medium")
    assert (again["changed"], again["counts"]["unchanged"], again["debug"]["api_calls"]) == (False, 6, 2)


def unprepare_legacy_01(sim):
    """Flag the running legacy-01 scalable: its domain was started without head-room (UserVmManagerImpl
    upgradeRunningVirtualMachine then fails the scale with "Unable to reconfigure VM.")."""
    admin = sim.client()
    web = admin.ok("listVirtualMachines", listall="true", name="legacy-01")["virtualmachine"][0]
    admin.ok("updateVirtualMachine", id=web["id"], isdynamicallyscalable="true")


def test_a_failed_vm_is_reported_and_the_others_are_scaled(sim, tmp_path):
    unprepare_legacy_01(sim)
    result = fleet(sim, tmp_path, vms=["legacy-01", "vm-1", "vm-2"], service_offering="Medium")
    assert result["failed"] is True
    outcomes = {vm["name"]: vm["outcome"] for vm in result["vms"]}
    assert outcomes == {"legacy-01": "failed", "vm-1": "scaled", "vm-2": "scaled"}
    web = next(vm for vm in result["vms"] if vm["name"] == "legacy-01")
    assert "Unable to reconfigure VM." in web["msg"] and "nothing was changed" in web["msg"]
    assert offerings(sim)["legacy-01"] == "Small" and offerings(sim)["vm-2"] == "Medium"


def test_max_failures_stops_new_vms_from_starting(sim, tmp_path):
    unprepare_legacy_01(sim)
    result = fleet(sim, tmp_path, vms=["legacy-01", "vm-1", "vm-2"], service_offering="Medium", max_jobs=1, max_failures=1)
    assert [vm["outcome"] for vm in result["vms"]] == ["failed", "skipped", "skipped"]
    assert result["counts"] == {"total": 3, "unchanged": 0, "scaled": 0, "planned": 0, "submitted": 0, "refused": 0,
                                "failed": 1, "skipped": 2}
    assert offerings(sim)["vm-1"] == "Small"

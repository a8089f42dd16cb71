"""Scaling a fleet of Running VMs Small -> Medium on the simulator, three ways side by side, on demand.

For N VMs (default 50 and 200) with 1 s scale jobs (seed `timings`), each on a fresh simulator:
  - fleet: one livescale.cloudstack.vm_scale_fleet task (max_jobs N, and the default 20);
  - per_vm: livescale.cloudstack.vm_scale, one inventory host per VM, forks 10;
  - ngine_io: ngine_io.cloudstack.cs_instance with service_offering and force (it stops and starts the VM), one
    inventory host per VM, forks 10.
Measured: wall time of ansible-playbook, API requests as the simulator counts them (GET /simulator/requests,
the observer's own reads left out), and how many VMs an observer polling every 0.2 s ever saw not Running.
Targets for the fleet task with 200 VMs: wall <= 1.5 x one job + 10 s, API calls <= N + 30, 0 VMs not Running.
Also the calls of one VM (change / no change) with instant jobs, for vm_scale and cs_instance.

Writes fleet_benchmark.json and fleet_benchmark.md to benchmarks/results/ (or --output).
Run from the repository root: .venv/bin/python benchmarks/fleet_benchmark.py [--vms 50 200] [--scale-seconds 1]
"""

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.job_concurrency_benchmark import fleet_seed  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402
from tests.conftest import ansible_environment  # noqa: E402

OBSERVER_KEY, OBSERVER_SECRET = "OBSERVER-KEY", "OBSERVER-SECRET"
FORKS = 10
WATCH_INTERVAL = 0.2
CONNECTION = """        api_url: "{{ api_url }}"
        api_key: "{{ api_key }}"
        api_secret: "{{ api_secret }}"
"""
TASKS = {
    "fleet": ("localhost", "livescale.cloudstack.vm_scale_fleet", """        name_pattern: "^vm-"
        service_offering: Medium
        max_jobs: MAX_JOBS
"""),
    "per_vm": ("fleet", "livescale.cloudstack.vm_scale", """        vm: "{{ inventory_hostname }}"
        service_offering: Medium
"""),
    "ngine_io": ("fleet", "ngine_io.cloudstack.cs_instance", """        name: "{{ inventory_hostname }}"
        zone: zone-a
        service_offering: Medium
        force: true
"""),
}


def playbook_text(way, max_jobs=None):
    """The playbook of one way to scale (connection options from extra vars)."""
    hosts, module, options = TASKS[way]
    return ("- hosts: %s\n  gather_facts: false\n  tasks:\n    - %s:\n" % (hosts, module) + CONNECTION
            + options.replace("MAX_JOBS", str(max_jobs)))


def seed_file(directory, vms, scale_seconds):
    """The job-concurrency benchmark's fleet seed, plus an observer user of the admin account; the zone's system VMs
    (if the seed has any) run on its first host."""
    path = fleet_seed(directory, vms, scale_seconds)
    seed = yaml.safe_load(path.read_text())
    for zone in seed["zones"]:
        for system_vm in zone.get("system_vms") or []:
            system_vm["host"] = zone["pods"][0]["clusters"][0]["hosts"][0]["name"]
    admin = next(account for account in seed["accounts"] if account["name"] == "admin")
    admin["users"].append({"username": "observer", "apikey": OBSERVER_KEY, "secretkey": OBSERVER_SECRET})
    path.write_text(yaml.safe_dump(seed))
    return path


def requests_made(sim):
    """API requests the simulator served, by command, without the observer's."""
    url = sim.url.rsplit("/client/api", 1)[0] + "/simulator/requests"
    with urllib.request.urlopen(url, timeout=10) as answer:
        rows = json.loads(answer.read())["requests"]
    counted = {}
    for row in rows:
        if row["apikey"] != OBSERVER_KEY:
            counted[row["command"]] = counted.get(row["command"], 0) + row["count"]
    return counted


class Observer(threading.Thread):
    """Polls listVirtualMachines and remembers every VM ever seen in a state other than Running."""

    def __init__(self, sim):
        super().__init__(daemon=True)
        self.client = sim.client(OBSERVER_KEY, OBSERVER_SECRET)
        self.not_running = set()
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            for vm in self.client.ok("listVirtualMachines", listall="true").get("virtualmachine", []):
                if vm["state"] != "Running":
                    self.not_running.add(vm["name"])
            self.stopping.wait(WATCH_INTERVAL)

    def finish(self):
        self.stopping.set()
        self.join()
        return sorted(self.not_running)


def inventory(directory, names):
    """An INI inventory with one local host per VM in group fleet."""
    path = Path(directory) / "inventory.ini"
    path.write_text("[fleet]\n" + "\n".join("%s ansible_connection=local" % name for name in names) + "\n")
    return path


def ansible(playbook, inventory_path, extra):
    """ansible-playbook with FORKS forks; returns (seconds, CompletedProcess)."""
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_path), "-f", str(FORKS),
               str(playbook), "-e", json.dumps(extra)]
    started = time.monotonic()
    result = subprocess.run(command, env=ansible_environment(), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, check=False)
    return time.monotonic() - started, result


def measure(way, vms, scale_seconds, max_jobs=None):
    """One way to scale vms VMs on a fresh simulator."""
    with tempfile.TemporaryDirectory() as directory:
        with SimulatorProcess(seed_file(directory, vms, scale_seconds), Path(directory) / "state.sqlite") as sim:
            names = ["vm-%03d" % index for index in range(1, vms + 1)]
            playbook = Path(directory) / "playbook.yml"
            playbook.write_text(playbook_text(way, max_jobs))
            extra = {"api_url": sim.url, "api_key": sim.admin_key, "api_secret": sim.admin_secret}
            observer = Observer(sim)
            observer.start()
            seconds, result = ansible(playbook, inventory(directory, names), extra)
            not_running = observer.finish()
            if result.returncode != 0:
                raise RuntimeError("%s with %d VMs failed:\n%s" % (way, vms, result.stdout[-3000:]))
            counted = requests_made(sim)
            sizes = {vm["name"]: vm["serviceofferingname"] for vm in sim.client().ok(
                "listVirtualMachines", listall="true")["virtualmachine"]}
    wrong = [name for name in names if sizes.get(name) != "Medium"]
    return {"way": way, "vms": vms, "max_jobs": max_jobs, "wall_s": round(seconds, 2),
            "api_calls": sum(counted.values()), "calls_by_command": counted,
            "vms_ever_not_running": len(not_running), "vms_not_medium_after": len(wrong)}


def single_vm_calls():
    """Calls to scale one VM (instant jobs) and to run it again, for vm_scale and for cs_instance."""
    counts = {}
    for way in ("per_vm", "ngine_io"):
        with tempfile.TemporaryDirectory() as directory:
            with SimulatorProcess(seed_file(directory, 1, 0), Path(directory) / "state.sqlite") as sim:
                playbook = Path(directory) / "playbook.yml"
                playbook.write_text(playbook_text(way))
                extra = {"api_url": sim.url, "api_key": sim.admin_key, "api_secret": sim.admin_secret}
                hosts = inventory(directory, ["vm-001"])
                runs = []
                for _ in ("change", "no change"):
                    before = sum(requests_made(sim).values())
                    _seconds, result = ansible(playbook, hosts, extra)
                    if result.returncode != 0:
                        raise RuntimeError("%s on one VM failed:\n%s" % (way, result.stdout[-3000:]))
                    runs.append(sum(requests_made(sim).values()) - before)
                counts[way] = {"change": runs[0], "no_change": runs[1]}
    return {"vm_scale": counts["per_vm"], "ngine_io_cs_instance": counts["ngine_io"]}


def write(document, output):
    """fleet_benchmark.json and a Markdown table."""
    output.mkdir(parents=True, exist_ok=True)
    (output / "fleet_benchmark.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = ["# Fleet scaling: N Running VMs Small -> Medium, %s s scale jobs" % document["scale_seconds"], "",
             "Measured %s on %s. Wall time of ansible-playbook; API calls counted at the simulator; an observer"
             " polling every %.1f s counts VMs ever seen not Running. Targets (fleet task, 200 VMs): wall <= %s s,"
             " API calls <= N + 30, 0 VMs not Running." % (document["measured"], document["machine"]["platform"],
                                                          WATCH_INTERVAL, document["target_wall_s"]), "",
             "| way | VMs | max_jobs | wall (s) | API calls | VMs ever not Running | VMs not Medium after |",
             "|---|---|---|---|---|---|---|"]
    for run in document["runs"]:
        lines.append("| %s | %d | %s | %s | %d | %d | %d |" % (run["way"], run["vms"], run["max_jobs"] or "-", run["wall_s"],
                                                              run["api_calls"], run["vms_ever_not_running"],
                                                              run["vms_not_medium_after"]))
    single = document["single_vm_calls"]
    lines += ["", "One VM, instant jobs: API calls", "", "| module | change | no change |", "|---|---|---|",
              "| livescale.cloudstack.vm_scale | %d | %d |" % (single["vm_scale"]["change"], single["vm_scale"]["no_change"]),
              "| ngine_io.cloudstack.cs_instance | %d | %d |" % (single["ngine_io_cs_instance"]["change"],
                                                              single["ngine_io_cs_instance"]["no_change"])]
    (output / "fleet_benchmark.md").write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--scale-seconds", type=float, default=1.0)
    parser.add_argument("--ways", nargs="+", default=["fleet", "per_vm", "ngine_io"])
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    runs = []
    for vms in args.vms:
        for way in args.ways:
            for max_jobs in ((vms, 20) if way == "fleet" else (None,)):
                runs.append(measure(way, vms, args.scale_seconds, max_jobs))
                print(json.dumps(runs[-1]), flush=True)
    document = {"benchmark": "fleet", "scale_seconds": args.scale_seconds,
                "target_wall_s": round(1.5 * args.scale_seconds + 10, 2),
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs,
                "single_vm_calls": single_vm_calls()}
    write(document, args.output)
    print(json.dumps(document["single_vm_calls"]))


if __name__ == "__main__":
    main()

"""Scaling a fleet of Running VMs Small -> Medium on the simulator, three ways side by side, on demand.

For N VMs (default 50 and 200) with 1 s scale jobs (seed `timings`), each on a fresh simulator:
  - fleet: one livescale.cloudstack.vm_scale_fleet task (max_jobs N, and the module's default);
  - per_vm: livescale.cloudstack.vm_scale, one inventory host per VM, forks 10;
  - ngine_io: ngine_io.cloudstack.cs_instance with service_offering and force (it stops and starts the VM), one
    inventory host per VM, forks 10.
Measured: wall time of ansible-playbook, API requests as the simulator counts them (GET /simulator/requests,
the observer's own reads left out), and how many VMs an observer polling every 0.2 s ever saw not Running.
Targets for the fleet task with 200 VMs: wall <= 1.5 x one job + 10 s, API calls <= N + 30, 0 VMs not Running.
Also the calls of one VM (change / no change) with instant jobs, for vm_scale and cs_instance, beside the job-notice
latency of job_notice_benchmark.py (its results file is quoted), and the cost of one poll round over N pending jobs:
one listAsyncJobs with startdate (what CloudStackApi.poll_jobs sends) against one queryAsyncJobResult per job.

Writes fleet_benchmark.json and fleet_benchmark.md to benchmarks/results/ (or --output). With --keep-previous, the
rows of the existing JSON that this run does not measure are kept, with the time they were measured.
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
sys.path.insert(0, str(REPO_ROOT / ".build" / "collections"))

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi  # noqa: E402
from ansible_collections.livescale.cloudstack.plugins.modules.vm_scale_fleet import ARGUMENT_SPEC  # noqa: E402
from benchmarks.job_concurrency_benchmark import fleet_seed  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402
from tests.conftest import ansible_environment  # noqa: E402

OBSERVER_KEY, OBSERVER_SECRET = "OBSERVER-KEY", "OBSERVER-SECRET"
FORKS = 10
WATCH_INTERVAL = 0.2
DEFAULT_MAX_JOBS = ARGUMENT_SPEC["max_jobs"]["default"]
POLL_ROUNDS = 5
JOB_NOTICE = REPO_ROOT / "benchmarks" / "results" / "job_notice.json"
CONNECTION = """        api_url: "{{ api_url }}"
        api_key: "{{ api_key }}"
        api_secret: "{{ api_secret }}"
"""
TASKS = {
    "fleet": ("localhost", "livescale.cloudstack.vm_scale_fleet", """        name_pattern: "^vm-"
        service_offering: Medium
MAX_JOBS"""),
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
    """The playbook of one way to scale (connection options from extra vars); max_jobs None: the module's default."""
    hosts, module, options = TASKS[way]
    return ("- hosts: %s\n  gather_facts: false\n  tasks:\n    - %s:\n" % (hosts, module) + CONNECTION
            + options.replace("MAX_JOBS", "        max_jobs: %d\n" % max_jobs if max_jobs else ""))


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
    """One way to scale vms VMs on a fresh simulator; for the fleet, max_jobs None is the module's default."""
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
    if way == "fleet":
        max_jobs = max_jobs or "%d (default)" % DEFAULT_MAX_JOBS
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
                for _round in ("change", "no change"):
                    before = sum(requests_made(sim).values())
                    _seconds, result = ansible(playbook, hosts, extra)
                    if result.returncode != 0:
                        raise RuntimeError("%s on one VM failed:\n%s" % (way, result.stdout[-3000:]))
                    runs.append(sum(requests_made(sim).values()) - before)
                counts[way] = {"change": runs[0], "no_change": runs[1]}
    return {"vm_scale": counts["per_vm"], "ngine_io_cs_instance": counts["ngine_io"]}


def poll_round_cost(vms, job_seconds=30.0):
    """Seconds and requests of one poll round over ``vms`` pending scale jobs: one listAsyncJobs with startdate (as
    CloudStackApi.poll_jobs sends it) against one queryAsyncJobResult per job; the median of POLL_ROUNDS rounds."""
    with tempfile.TemporaryDirectory() as directory:
        with SimulatorProcess(seed_file(directory, vms, job_seconds), Path(directory) / "state.sqlite") as sim:
            api = CloudStackApi(sim.url, sim.admin_key, sim.admin_secret)
            medium = api.list("listServiceOfferings", "serviceoffering", name="Medium")[0]["id"]
            since = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 2))
            jobids = [api.submit("scaleVirtualMachine", id=vm["id"], serviceofferingid=medium) for vm in api.list(
                "listVirtualMachines", "virtualmachine") if vm["name"].startswith("vm-")]

            def timed(one_round):
                before, seconds = api.api_calls, []
                for _round in range(POLL_ROUNDS):
                    started = time.monotonic()
                    seen = one_round()
                    seconds.append(time.monotonic() - started)
                    if not set(jobids) <= seen:
                        raise RuntimeError("a poll round did not show every job")
                return {"seconds": round(sorted(seconds)[POLL_ROUNDS // 2], 3),
                        "requests": (api.api_calls - before) // POLL_ROUNDS}
            listed = timed(lambda: set(job["jobid"] for job in api.list("listAsyncJobs", "asyncjobs", startdate=since)))
            queried = timed(lambda: set(api.call("queryAsyncJobResult", jobid=jobid)["jobid"] for jobid in jobids))
    return {"jobs": len(jobids), "listAsyncJobs_with_startdate": listed, "queryAsyncJobResult_per_job": queried}


def single_vm_notice():
    """The job-notice figures of job_notice_benchmark.py, as its results file has them (None when not run)."""
    if not JOB_NOTICE.exists():
        return None
    document = json.loads(JOB_NOTICE.read_text())
    return dict(document["waiters"], job_delay_s=document["job_delay_s"], jobs=document["jobs"],
                source=str(JOB_NOTICE.relative_to(REPO_ROOT)))


def write(document, output):
    """fleet_benchmark.json and a Markdown table."""
    output.mkdir(parents=True, exist_ok=True)
    (output / "fleet_benchmark.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = ["# Fleet scaling: N Running VMs Small -> Medium, %s s scale jobs" % document["scale_seconds"], "",
             "Measured %s on %s. Wall time of ansible-playbook; API calls counted at the simulator; an observer"
             " polling every %.1f s counts VMs ever seen not Running. Targets (fleet task, 200 VMs): wall <= %s s,"
             " API calls <= N + 30, 0 VMs not Running. A row measured earlier than the others (kept with"
             " --keep-previous) says when." % (document["measured"], document["machine"]["platform"], WATCH_INTERVAL,
                                               document["target_wall_s"]), "",
             "| way | VMs | max_jobs | wall (s) | API calls | VMs ever not Running | VMs not Medium after | measured |",
             "|---|---|---|---|---|---|---|---|"]
    for run in document["runs"]:
        lines.append("| %s | %d | %s | %s | %d | %d | %d | %s |" % (
            run["way"], run["vms"], run["max_jobs"] or "-", run["wall_s"], run["api_calls"],
            run["vms_ever_not_running"], run["vms_not_medium_after"], run.get("measured", "this run")))
    single = document["single_vm_calls"]
    lines += ["", "## One VM", "", "API calls with instant jobs (a change, then a re-run that changes nothing):", "",
              "| module | change | no change |", "|---|---|---|",
              "| livescale.cloudstack.vm_scale | %d | %d |" % (
                  single["vm_scale"]["change"], single["vm_scale"]["no_change"]),
              "| ngine_io.cloudstack.cs_instance | %d | %d |" % (
                  single["ngine_io_cs_instance"]["change"], single["ngine_io_cs_instance"]["no_change"])]
    notice = document.get("job_notice")
    if notice:
        lines += ["", "Job-notice latency (%d jobs of about %s s, from %s):" % (
                      notice["jobs"], notice["job_delay_s"], notice["source"]), "",
                  "| waiter | median latency (s) | max latency (s) | polls per job |", "|---|---|---|---|"]
        lines += ["| %s | %s | %s | %s |" % (name, notice[name]["median_latency_s"], notice[name]["max_latency_s"],
                                             notice[name]["mean_polls_per_job"]) for name in ("livescale", "ngine_io")]
    rounds = document.get("poll_round")
    if rounds:
        lines += ["", "## One poll round over %d pending jobs (median of %d)" % (rounds["jobs"], POLL_ROUNDS), "",
                  "| way | requests | seconds |", "|---|---|---|"]
        lines += ["| %s | %d | %s |" % (way, rounds[way]["requests"], rounds[way]["seconds"])
                  for way in ("listAsyncJobs_with_startdate", "queryAsyncJobResult_per_job")]
    (output / "fleet_benchmark.md").write_text("\n".join(lines) + "\n")


def kept_runs(output, runs):
    """The rows of the existing results for a way and N that ``runs`` does not measure again, each with when it was
    measured."""
    path = output / "fleet_benchmark.json"
    if not path.exists():
        return []
    previous = json.loads(path.read_text())
    done = set((run["way"], run["vms"]) for run in runs)
    return [dict(run, measured=run.get("measured", previous["measured"])) for run in previous["runs"]
            if (run["way"], run["vms"]) not in done]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--scale-seconds", type=float, default=1.0)
    parser.add_argument("--ways", nargs="+", default=["fleet", "per_vm", "ngine_io"])
    parser.add_argument("--keep-previous", action="store_true", help="keep the rows of the existing JSON not re-run")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    runs = []
    for vms in args.vms:
        for way in args.ways:
            for max_jobs in ((vms, None) if way == "fleet" else (None,)):
                runs.append(measure(way, vms, args.scale_seconds, max_jobs))
                print(json.dumps(runs[-1]), flush=True)
    if args.keep_previous:
        runs += kept_runs(args.output, runs)
        runs.sort(key=lambda run: (run["vms"], ["fleet", "per_vm", "ngine_io"].index(run["way"])))
    document = {"benchmark": "fleet", "scale_seconds": args.scale_seconds,
                "target_wall_s": round(1.5 * args.scale_seconds + 10, 2),
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs,
                "single_vm_calls": single_vm_calls(), "job_notice": single_vm_notice(),
                "poll_round": poll_round_cost(max(args.vms))}
    write(document, args.output)
    print(json.dumps({key: document[key] for key in ("single_vm_calls", "poll_round")}))


if __name__ == "__main__":
    main()

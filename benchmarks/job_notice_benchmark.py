"""How late a finished async job is noticed, and at how many polls: this collection's waiter beside ngine_io's.

Against the simulator with `--job-delay 1` (each job ends about 1 s after its submit), JOBS scaleVirtualMachine
jobs on the Stopped VM db-01 (Medium <-> Large) are waited for, one at a time, by:
- livescale: CloudStackApi.wait_job (plugins/module_utils/_api.py, the JOB_SCHEDULE of _wait.py);
- ngine_io: the loop of ngine_io.cloudstack's AnsibleCloudStack.poll_job (module_utils/cloudstack.py, 2.5.0):
  queryAsyncJobResult, then time.sleep(2) while the job is pending.
An observer thread polls the job every OBSERVER_INTERVAL seconds on its own connection: its first sight of the
end is the job's end. Latency = when the waiter returned - the observed end. Target (issue 11 item 4): median
<= 0.2 s, at about one poll per 0.2 s or fewer.

Writes job_notice.json and job_notice.md to benchmarks/results/ (or --output).
Run from the repository root: .venv/bin/python benchmarks/job_notice_benchmark.py [--jobs 20] [--job-delay 1]
"""

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / ".build" / "collections"))

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

OBSERVER_INTERVAL = 0.005
NGINE_IO_SLEEP = 2


def observe_end(client, jobid, seen):
    """Poll until the job ends; store the monotonic time of the first answer showing the end."""
    while client.ok("queryAsyncJobResult", jobid=jobid)["jobstatus"] == 0:
        time.sleep(OBSERVER_INTERVAL)
    seen["end"] = time.monotonic()


def livescale_wait(api, jobid):
    """This collection's wait; returns the number of polls."""
    before = api.api_calls
    api.wait_job(jobid, 60)
    return api.api_calls - before


def ngine_io_wait(api, jobid):
    """ngine_io.cloudstack poll_job's loop: poll, sleep 2 s while pending; returns the number of polls."""
    polls = 0
    while True:
        polls += 1
        if api.call("queryAsyncJobResult", jobid=jobid)["jobstatus"] != 0:
            return polls
        time.sleep(NGINE_IO_SLEEP)


def measure(simulator, wait, jobs):
    """(latencies, polls) of `jobs` jobs waited for with `wait`."""
    api = CloudStackApi(simulator.url, simulator.admin_key, simulator.admin_secret)
    observer = simulator.client()
    vm = observer.ok("listVirtualMachines", listall="true", name="db-01")["virtualmachine"][0]
    offerings = dict((o["name"], o["id"]) for o in observer.ok("listServiceOfferings")["serviceoffering"])
    latencies, polls = [], []
    for index in range(jobs):
        target = "Large" if index % 2 == 0 else "Medium"
        jobid = api.submit("scaleVirtualMachine", id=vm["id"], serviceofferingid=offerings[target])
        seen = {}
        watcher = threading.Thread(target=observe_end, args=(observer, jobid, seen))
        watcher.start()
        polls.append(wait(api, jobid))
        noticed = time.monotonic()
        watcher.join()
        latencies.append(max(0.0, noticed - seen["end"]))
    return latencies, polls


def summary(latencies, polls, job_seconds):
    return {"median_latency_s": round(statistics.median(latencies), 3), "max_latency_s": round(max(latencies), 3),
            "mean_polls_per_job": round(statistics.mean(polls), 2),
            "polls_per_second_of_job": round(statistics.mean(polls) / job_seconds, 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--job-delay", type=float, default=1.0)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    results = {"jobs": args.jobs, "job_delay_s": args.job_delay, "python": platform.python_version(), "waiters": {}}
    with tempfile.TemporaryDirectory() as directory:
        with SimulatorProcess(db=Path(directory) / "state.sqlite", job_delay=args.job_delay) as simulator:
            for name, wait in (("livescale", livescale_wait), ("ngine_io", ngine_io_wait)):
                latencies, polls = measure(simulator, wait, args.jobs)
                results["waiters"][name] = summary(latencies, polls, args.job_delay)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "job_notice.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["# Job completion notice latency (%d jobs of about %.1f s each, simulator)" % (args.jobs, args.job_delay), "",
             "| waiter | median latency (s) | max latency (s) | polls per job | polls per second of job |",
             "|---|---|---|---|---|"]
    for name, row in results["waiters"].items():
        lines.append("| %s | %s | %s | %s | %s |" % (name, row["median_latency_s"], row["max_latency_s"],
                                                     row["mean_polls_per_job"], row["polls_per_second_of_job"]))
    (args.output / "job_notice.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

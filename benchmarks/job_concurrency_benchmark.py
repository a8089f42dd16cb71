"""Many scaleVirtualMachine jobs at once against the simulator's job pool, on demand.

A seed with N Running, dynamically scalable VMs (plus one for the baseline) and `timings: {scale: T}` is built
from the default seed. First one scale job runs alone (its time is the baseline), then N scale jobs are submitted
at once and polled with queryAsyncJobResult until all have ended. Target: wall time <= 1.5 x one job + 2 s.

CloudStack runs API jobs on db.cloud.maxActive / 2 = 125 threads (AsyncJobManagerImpl.configure), so more than
125 jobs need a second round: the figures show it.

Writes job_concurrency.json and job_concurrency.md to benchmarks/results/ (or --output).
Run from the repository root: .venv/bin/python benchmarks/job_concurrency_benchmark.py [--vms 200] [--scale-seconds 1 2]
"""

import argparse
import copy
import http.client
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from simulator.jobs import API_POOL_SIZE  # noqa: E402
from simulator.signing import java_url_encode  # noqa: E402
from simulator.testing import DEFAULT_SEED, Client, SimulatorProcess  # noqa: E402

CLIENT_THREADS = 8
POLL_INTERVAL = 0.05
JOB_TIMEOUT = 300
HOSTS = 8  # 64 cores x 2400 MHz and 256 GiB each: room for every VM at the bigger size


def fleet_seed(directory, vms, scale_seconds):
    """The default seed with HOSTS big hosts, scaling enabled and vms + 1 Running scalable Small VMs of admin; the
    zone's system VMs (if the default seed has any) run on the first host."""
    seed = yaml.safe_load(DEFAULT_SEED.read_text())
    cluster = seed["zones"][0]["pods"][0]["clusters"][0]
    template = copy.deepcopy(cluster["hosts"][0])
    template.update(cores=64, cpu_mhz=2400, memory_mib=262144, uri="test:///default")
    cluster["hosts"] = [dict(template, name=f"kvm-{index:02d}") for index in range(1, HOSTS + 1)]
    for system_vm in seed["zones"][0].get("system_vms") or []:  # the default seed's hosts are replaced: re-home them
        system_vm["host"] = cluster["hosts"][0]["name"]
    seed["templates"][0]["isdynamicallyscalable"] = True
    seed["settings"] = [{"name": "enable.dynamic.scale.vm", "value": "true", "scope": "zone", "target": "zone-a"}]
    seed["timings"] = {"scale": scale_seconds}
    names = ["baseline"] + [f"vm-{index:03d}" for index in range(1, vms + 1)]
    seed["vms"] = [{"name": name, "account": "admin", "zone": "zone-a", "template": seed["templates"][0]["name"],
                    "offering": "Small", "state": "Running", "host": cluster["hosts"][index % HOSTS]["name"],
                    "isdynamicallyscalable": True} for index, name in enumerate(names)]
    path = Path(directory) / "fleet.yml"
    path.write_text(yaml.safe_dump(seed))
    return path


class KeepAliveClient(Client):
    """The signed client over one keep-alive HTTP connection per thread."""

    def __init__(self, url, key, secret):
        super().__init__(url, key, secret)
        self.local = threading.local()
        self.path = urlsplit(url).path

    def send(self, query, method="GET"):
        """(status, body) of a GET on this thread's connection."""
        if not hasattr(self.local, "conn"):
            parts = urlsplit(self.url)
            self.local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        encoded = "&".join(f"{java_url_encode(k)}={java_url_encode(v)}" for k, v in query.items())
        self.local.conn.request(method, f"{self.path}?{encoded}")
        answer = self.local.conn.getresponse()
        return answer.status, json.loads(answer.read())


def wait_all(client, pool, jobids, started):
    """{jobid: (seconds from `started` when seen ended, job)}, polling every unfinished job each round."""
    ended = {}
    deadline = time.monotonic() + JOB_TIMEOUT
    while len(ended) < len(jobids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(jobids) - len(ended)} jobs still running after {JOB_TIMEOUT} s")
        waiting = [jobid for jobid in jobids if jobid not in ended]
        for jobid, job in zip(waiting, pool.map(lambda j: client.ok("queryAsyncJobResult", jobid=j), waiting)):
            if job["jobstatus"] != 0:
                ended[jobid] = (time.monotonic() - started, job)
        time.sleep(POLL_INTERVAL)
    return ended


def run(vms, scale_seconds):
    """One measurement on a fresh simulator."""
    with tempfile.TemporaryDirectory() as directory:
        with SimulatorProcess(fleet_seed(directory, vms, scale_seconds), Path(directory) / "state.sqlite") as sim:
            client = KeepAliveClient(sim.url, sim.admin_key, sim.admin_secret)
            listed = client.ok("listVirtualMachines", listall="true")["virtualmachine"]
            ids = {vm["name"]: vm["id"] for vm in listed}
            medium = {o["name"]: o["id"] for o in client.ok("listServiceOfferings")["serviceoffering"]}["Medium"]
            with ThreadPoolExecutor(CLIENT_THREADS) as pool:
                started = time.monotonic()
                alone = client.ok("scaleVirtualMachine", id=ids["baseline"], serviceofferingid=medium)["jobid"]
                baseline, job = wait_all(client, pool, [alone], started)[alone]
                if job["jobstatus"] != 1:
                    raise RuntimeError(f"baseline scale failed: {job.get('jobresult')}")
                fleet = [ids[name] for name in sorted(ids) if name != "baseline"]
                started = time.monotonic()
                jobids = list(pool.map(lambda vm: client.ok("scaleVirtualMachine", id=vm,
                                                            serviceofferingid=medium)["jobid"], fleet))
                submitted = time.monotonic() - started
                ended = wait_all(client, pool, jobids, started)
    times = sorted(seconds for seconds, _job in ended.values())
    failed = [job.get("jobresult") for _seconds, job in ended.values() if job["jobstatus"] != 1]
    wall = times[-1]
    target = 1.5 * baseline + 2
    return {"vms": vms, "scale_seconds": scale_seconds, "api_pool_size": API_POOL_SIZE,
            "one_job_s": round(baseline, 3), "submit_all_s": round(submitted, 3), "wall_s": round(wall, 3),
            "target_s": round(target, 3), "met": wall <= target, "failed_jobs": len(failed),
            "first_failure": failed[0] if failed else None,
            "job_end_s": {"min": round(times[0], 3), "median": round(statistics.median(times), 3),
                          "max": round(wall, 3)},
            "ended_by_1.5x_one_job": sum(1 for seconds in times if seconds <= 1.5 * baseline)}


def write(results, output):
    """job_concurrency.json and a Markdown table."""
    output.mkdir(parents=True, exist_ok=True)
    document = {"benchmark": "job_concurrency", "machine": {"python": platform.python_version(),
                                                            "platform": platform.platform()},
                "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": results}
    (output / "job_concurrency.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = ["# Job concurrency: N scaleVirtualMachine jobs at once", "",
             f"API job pool: {API_POOL_SIZE} threads (db.cloud.maxActive 250 / 2, AsyncJobManagerImpl.configure);"
             " target: wall <= 1.5 x one job + 2 s. Measured "
             f"{document['measured']} on {document['machine']['platform']}.",
             "Wall time runs from the first submit to the last job seen ended (polling included); jobs past the"
             f" pool's {API_POOL_SIZE} wait for a free thread, so the last ones end near 2 x the scale timing.", "",
             "| VMs | scale timing (s) | one job (s) | submit all (s) | wall (s) | target (s) | met | failed |"
             " ended by 1.5 x one job |",
             "|---|---|---|---|---|---|---|---|---|"]
    for run_ in results:
        lines.append(f"| {run_['vms']} | {run_['scale_seconds']} | {run_['one_job_s']} | {run_['submit_all_s']} |"
                     f" {run_['wall_s']} | {run_['target_s']} | {'yes' if run_['met'] else 'no'} |"
                     f" {run_['failed_jobs']} | {run_['ended_by_1.5x_one_job']} |")
    (output / "job_concurrency.md").write_text("\n".join(lines) + "\n")


def main(argv=None):
    """Run the measurements and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=200, help="scale jobs submitted at once (default 200)")
    parser.add_argument("--scale-seconds", type=float, nargs="+", default=[1.0],
                        help="seed timing of a scale, one run each (default 1)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    results = [run(args.vms, seconds) for seconds in args.scale_seconds]
    write(results, args.output)
    print(json.dumps(results, indent=2))
    return 0 if all(result["met"] and not result["failed_jobs"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())

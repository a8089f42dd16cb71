"""Live scale vs stop-change-start on the real stack (simulator, libvirtd, QEMU TCG guest), on demand.

For each round: deploy a VM on e2e-small, scale it up live to e2e-large with livescale.cloudstack.vm_scale,
then down to e2e-small with allow_restart (stop-change-start). Measured from the start of the vm_scale
call (ansible-playbook): when the call returns, when the guest agent reports the new vCPUs and memory
online, and the longest time the guest did not answer a 10 Hz guest-ping.

Writes live_scale_benchmark.json and live_scale_benchmark.md to benchmarks/results/ (or --output).
Run as root from the repository root: .venv/bin/python benchmarks/live_scale_benchmark.py [--rounds 3]
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
sys.path.insert(1, str(REPO_ROOT / ".build" / "collections"))

from tests.e2e.harness import BOOT_TIMEOUT, LARGE, SMALL, Guest, Pinger, Stack, WORKDIR_MARK, missing_prerequisites, wait_for  # noqa: E402

SIZES = {SMALL: (1, 512), LARGE: (2, 1024)}
SEEN_TIMEOUT = 120


class Watcher(threading.Thread):
    """Polls the guest agent every 50 ms and records when vCPUs and memory first reach the target."""

    def __init__(self, name, vcpus, memory_mib, started):
        super().__init__(daemon=True)
        self.guest = Guest(name)
        self.target, self.started = (vcpus, memory_mib), started
        self.seen = {"vcpus": None, "memory": None}
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set() and None in self.seen.values():
            try:
                values = {"vcpus": self.guest.online_vcpus(), "memory": self.guest.online_memory_mib()}
            except self.guest.libvirt.libvirtError:
                values = {}
            for key, wanted in zip(("vcpus", "memory"), self.target):
                if self.seen[key] is None and values.get(key) == wanted:
                    self.seen[key] = round(time.monotonic() - self.started, 3)
            self.stopping.wait(0.05)

    def finish(self):
        """Stop and return the seconds (from the call's start) at which each target was seen."""
        self.stopping.set()
        self.join()
        self.guest.close()
        return self.seen


def measure(stack, guest, vm_name, offering, allow_restart):
    """One vm_scale call: seconds to return, to the guest seeing each resource, longest ping gap, plan."""
    pinger = Pinger(guest.name)
    pinger.start()
    started = time.monotonic()
    watcher = Watcher(guest.name, *SIZES[offering], started)
    watcher.start()
    result = stack.vm_scale(vm_name, offering, allow_restart=allow_restart)
    returned = time.monotonic() - started
    try:
        if result.get("failed"):
            raise RuntimeError("vm_scale to %s failed: %s" % (offering, result.get("msg")))
        wait_for(lambda: None not in watcher.seen.values(), SEEN_TIMEOUT, "guest sees %d vCPUs and %d MiB" % SIZES[offering])
    finally:
        seen = watcher.finish()
        longest_gap, answers = pinger.finish()
    return {"offering": offering, "plan": result["plan"]["action"], "call_returned_s": round(returned, 3),
            "guest_sees_vcpus_s": seen["vcpus"], "guest_sees_memory_s": seen["memory"],
            "longest_ping_gap_s": round(longest_gap, 3), "ping_answers": answers}


def run_round(stack, number):
    """Deploy, live scale-up, restart scale-down; the two measurements."""
    name = "bench-%02d" % number
    vm = stack.deploy(name, SMALL)
    guest = Guest(vm["instancename"])
    try:
        boot_started = time.monotonic()
        wait_for(guest.answers, BOOT_TIMEOUT, "guest of %s boots; console:\n%s" % (name, stack.console_tail()))
        boot = time.monotonic() - boot_started
        live = measure(stack, guest, name, LARGE, allow_restart=False)
        restart = measure(stack, guest, name, SMALL, allow_restart=True)
    finally:
        guest.close()
    stack.client.run("destroyVirtualMachine", id=vm["id"], expunge="true")
    return {"round": number, "boot_to_agent_s": round(boot, 3), "live": live, "restart": restart}


def summary(rounds, key, field):
    """Median and max of one field over the rounds."""
    values = [entry[key][field] for entry in rounds]
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def markdown(report):
    """A short human summary of the report."""
    lines = ["# Live scale benchmark", "",
             "%s, %d rounds, guest %s (TCG), %s." % (report["started"], len(report["rounds"]),
                                                     report["guest"]["kernel_release"], report["machine"]), "",
             "| path | plan | call returns (s) | guest sees vCPUs (s) | guest sees memory (s) | longest ping gap (s) |",
             "|---|---|---|---|---|---|"]
    for key, label in (("live", "live scale-up 1->2 vCPU, 512->1024 MiB"), ("restart", "stop-change-start 2->1 vCPU, 1024->512 MiB")):
        stats = report["summary"][key]
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            label, report["rounds"][0][key]["plan"],
            *("%.2f (max %.2f)" % (stats[field]["median"], stats[field]["max"])
              for field in ("call_returned_s", "guest_sees_vcpus_s", "guest_sees_memory_s", "longest_ping_gap_s"))))
    lines += ["", "Medians over the rounds; times from the start of the vm_scale call (ansible-playbook start-up included).",
              "The ping gap is the longest time the guest agent did not answer a 10 Hz guest-ping.", ""]
    return "\n".join(lines)


def main(argv=None):
    """Run the rounds and write the JSON and markdown reports."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3, help="how many deploy/scale-up/scale-down rounds (default 3)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results", help="directory for the reports")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds %d: give at least 1" % args.rounds)
    missing = missing_prerequisites()
    if missing:
        parser.error("this machine lacks: " + "; ".join(missing))
    report = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "machine": "%s, %s" % (platform.node(), platform.platform()), "rounds": []}
    with tempfile.TemporaryDirectory(prefix=WORKDIR_MARK + "-bench-") as workdir:
        stack = Stack(workdir).start()
        try:
            report["guest"] = {key: stack.manifest[key] for key in ("kernel_release", "versions", "build_seconds")}
            for number in range(1, args.rounds + 1):
                report["rounds"].append(run_round(stack, number))
                print("round %d: %s" % (number, json.dumps(report["rounds"][-1])), flush=True)
        finally:
            stack.stop()
    report["summary"] = {key: {field: summary(report["rounds"], key, field)
                               for field in ("call_returned_s", "guest_sees_vcpus_s", "guest_sees_memory_s", "longest_ping_gap_s")}
                         for key in ("live", "restart")}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "live_scale_benchmark.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output / "live_scale_benchmark.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

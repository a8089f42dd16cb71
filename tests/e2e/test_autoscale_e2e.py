"""End to end on the real stack: a CPU burner in the QEMU guest drives the autoscaling loop.

The simulator's usage history of the qemu:///system host comes from the domain's own CPU time (simulator/metrics.py,
as LibvirtComputingResource.getVmStat / calculateVmMetrics: CPU time used over the elapsed time and the vCPUs), every
``vm.stats.interval``. The loop is the collection's playbook livescale.cloudstack.autoscale (vm_autoscale), with a
ladder e2e-small (1 vCPU) -> e2e-quad (4 vCPUs, same memory). One busy loop in the 1-vCPU guest is one core of
demand: up to 100 % CPU (less when other work holds the host's cores), above the threshold; the loop scales the VM up
live, the guest onlines the new vCPUs, the same demand is then about 25 % of four vCPUs, below the threshold, and the
next runs do nothing.

Same skip/fail rule as test_live_scale_e2e.py (LIVESCALE_E2E set: a missing prerequisite fails). Every wait has a
deadline; the TCG guest shares two host cores with other work, so the figures vary from run to run.
"""

import time
from pathlib import Path

import pytest

from simulator.metrics import parse_time
from tests.e2e.harness import (BOOT_TIMEOUT, GUEST_TIMEOUT, SMALL, Guest, Stack, WORKDIR_MARK, require_real_stack,
                               wait_for)

pytestmark = pytest.mark.e2e

VM = "e2e-busy-01"
PLAYBOOK = Path(__file__).resolve().parent / "autoscale.yml"
INTERVAL = 2  # seconds between CloudStack's samples (vm.stats.interval)
SAMPLES = 3  # the rule's duration in samples
QUAD = "e2e-quad"
THRESHOLD = 45.0  # per cent: one busy core is up to 100 % of 1 vCPU and ~25 % of 4 (plus ~5 % of the guest's own work)
BURNER = "while :; do :; done"
SCALE_TIMEOUT = 60  # seconds for the burner to fill the window and the loop to act
SETTLE_TIMEOUT = 30  # seconds for the history to cover the rule's duration again after the scale
LOOP_OPTIONS = {"ladder": [SMALL, QUAD], "statistic": "mean", "target_utilization": 35}
EXTRA_SEED = {"settings": [{"name": "vm.stats.interval", "value": str(INTERVAL * 1000), "scope": "global"}],
              "service_offerings": [{"name": QUAD, "cpunumber": 4, "cpuspeed": 1000, "memory": 512}]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The whole stack with CloudStack collecting VM stats every INTERVAL seconds, and the 4-vCPU offering."""
    require_real_stack()
    running = Stack(tmp_path_factory.mktemp(WORKDIR_MARK), extra=EXTRA_SEED).start()
    try:
        yield running
    finally:
        running.stop()


def cpu_history(stack, vm_id, since):
    """(epoch, cpuused per cent) of the VM's usage history from ``since`` on, oldest first."""
    row = stack.client.ok("listVirtualMachinesUsageHistory", id=vm_id)["virtualmachine"][0]
    samples = [(parse_time(stat["timestamp"]), float(stat["cpuused"].rstrip("%"))) for stat in row["stats"]]
    return [sample for sample in sorted(samples) if sample[0] >= since]


def window_of(stack, vm_id, since):
    """The newest SAMPLES + 1 samples taken from ``since`` on (the rule's duration and its edge), or None yet."""
    samples = cpu_history(stack, vm_id, since)
    return samples[-SAMPLES - 1:] if len(samples) > SAMPLES else None


def burning(stack, vm_id, since):
    """The window from ``since`` on when its mean CPU is above the threshold, else None."""
    window = window_of(stack, vm_id, since)
    return window if window and mean(window) > THRESHOLD else None


def mean(samples):
    return sum(cpu for _time, cpu in samples) / len(samples)


def figures(samples):
    return "%.1f %% (%s)" % (mean(samples), ", ".join("%g" % cpu for _time, cpu in samples))


def autoscale(stack):
    """One pass of the loop over the VM; returns (result, the VM's entry)."""
    result = stack.run_playbook(PLAYBOOK, {
        "cloudstack_api_url": stack.simulator.url, "cloudstack_api_key": stack.simulator.admin_key,
        "cloudstack_api_secret": stack.simulator.admin_secret, "autoscale_vms": [VM],
        "autoscale_cpu_threshold": THRESHOLD, "autoscale_window": SAMPLES * INTERVAL / 60.0,
        "autoscale_options": LOOP_OPTIONS})
    (entry,) = result["vms"]
    return result, entry


def test_burner_scales_the_guest_up_live_then_the_loop_rests(stack):
    began = time.monotonic()
    vm = stack.deploy(VM, SMALL)
    guest = Guest(vm["instancename"])
    try:
        wait_for(guest.answers, BOOT_TIMEOUT, "guest agent of %s answers; console:\n%s" % (VM, stack.console_tail()))
        assert guest.online_vcpus() == 1
        idle = wait_for(lambda: window_of(stack, vm["id"], 0), BOOT_TIMEOUT, "usage history of the idle guest")
        assert mean(idle) < THRESHOLD, idle

        burning_since = time.time() + INTERVAL  # the first sample after the start is partly idle
        guest.spawn(BURNER)
        busy = wait_for(lambda: burning(stack, vm["id"], burning_since), SCALE_TIMEOUT,
                        "the burner's CPU above %s %%" % THRESHOLD)
        deadline = time.monotonic() + SCALE_TIMEOUT
        result, entry = autoscale(stack)
        while not entry["applied"]:  # a sample that dipped (other work on the host) keeps the mean down: next pass
            assert (result["changed"], entry["action"], stack.vm(VM)["cpunumber"]) == (False, "none", 1), entry
            assert time.monotonic() < deadline, "the loop did not scale up within %s s: %s" % (SCALE_TIMEOUT, entry)
            result, entry = autoscale(stack)
        scaled_at, scale_took = time.time(), time.monotonic() - began

        assert result["changed"] is True and entry["action"] == "scale_up" and entry["error"] is None, entry
        assert entry["plan"]["action"] == "live" and entry["target"]["service_offering"] == QUAD, entry
        assert entry["evidence"]["up"]["value"] > THRESHOLD, entry["evidence"]
        scaled = stack.vm(VM)
        assert (scaled["state"], scaled["serviceofferingname"], scaled["cpunumber"]) == ("Running", QUAD, 4)
        wait_for(lambda: guest.sees(4, 512), GUEST_TIMEOUT, "guest sees 4 vCPUs online (and 512 MiB)")
        assert guest.live_xml()["vcpus"] == 4

        settled = wait_for(lambda: window_of(stack, vm["id"], scaled_at + INTERVAL), SETTLE_TIMEOUT,
                           "usage history after the scale")
        assert mean(settled) < THRESHOLD, settled
        for _run in range(2):
            result, entry = autoscale(stack)
            assert (result["changed"], entry["action"], entry["applied"]) == (False, "none", False), entry
            assert "CPU is not above %s %% for %d s" % (THRESHOLD, SAMPLES * INTERVAL) in entry["reasons"], entry
        assert (stack.vm(VM)["cpunumber"], guest.online_vcpus()) == (4, 4)
        print("\nautoscale e2e: cpuused idle %s, burning on 1 vCPU %s, on 4 vCPUs %s; vCPUs in the guest 1 -> %d;"
              " scaled up %.1f s after the deploy; test %.1f s" % (figures(idle), figures(busy), figures(settled),
                                                                   guest.online_vcpus(), scale_took,
                                                                   time.monotonic() - began))
    finally:
        guest.close()

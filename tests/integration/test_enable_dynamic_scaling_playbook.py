"""playbooks/enable_dynamic_scaling.yml against a fresh simulator: it enables, restarts in batches that never hold two
members of one anti-affinity group, then a second run changes nothing."""

import re

import pytest
import yaml

from simulator.testing import SimulatorProcess
from tests.conftest import REPO_ROOT, run_playbook
from tests.simulator.conftest import build_seed

PLAYBOOK = REPO_ROOT / "playbooks" / "enable_dynamic_scaling.yml"


def recap_changed(stdout):
    """The changed= count of the localhost recap line."""
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", stdout).group(1))


def test_enable_then_rerun_changes_nothing(simulator):
    extra = {"cloudstack_api_url": simulator.url, "cloudstack_api_key": simulator.admin_key,
             "cloudstack_api_secret": simulator.admin_secret,
             "dynamic_scaling_offerings": ["Small", "Medium", "Small NoScale"], "dynamic_scaling_replace_offerings": True,
             "dynamic_scaling_templates": ["debian-12-generic"], "dynamic_scaling_vms": ["web-01", "db-01"],
             "dynamic_scaling_apply": "restart"}
    first = run_playbook(PLAYBOOK, extra_vars=extra)
    assert first.returncode == 0, first.stdout[-4000:]
    assert recap_changed(first.stdout) == 4, first.stdout[-4000:]
    assert "web-01: prepared=True" in first.stdout
    assert "db-01: prepared=unknown (VM db-01 is Stopped" in first.stdout
    second = run_playbook(PLAYBOOK, extra_vars=extra)
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap_changed(second.stdout) == 0, second.stdout[-4000:]


def test_offering_without_dynamic_scaling_fails_unless_replaced(simulator):
    extra = {"cloudstack_api_url": simulator.url, "cloudstack_api_key": simulator.admin_key,
             "cloudstack_api_secret": simulator.admin_secret, "dynamic_scaling_offerings": ["Small NoScale"]}
    result = run_playbook(PLAYBOOK, extra_vars=extra)
    assert result.returncode != 0
    assert "dynamic_scaling_enabled: False -> True" in result.stdout


@pytest.fixture
def spread_sim(tmp_path):
    """The default seed (nothing scalable) plus app-1..app-3 Running on Small on two hosts, app-1 and app-2 in
    acme's host anti-affinity group acme-spread."""
    path = build_seed(tmp_path, scalable=False)
    seed = yaml.safe_load(path.read_text())
    seed["vms"] += [{"name": name, "account": "acme", "zone": "zone-a", "template": "debian-12-generic",
                     "offering": "Small", "state": "Running", "host": "kvm-a1-0%d" % (index % 2 + 1),
                     "affinity_groups": groups} for index, (name, groups) in enumerate(
                         (("app-1", ["acme-spread"]), ("app-2", ["acme-spread", "acme-together"]), ("app-3", [])))]
    path.write_text(yaml.safe_dump(seed))
    with SimulatorProcess(path, tmp_path / "state.sqlite") as process:
        yield process


def test_restarts_in_batches_never_two_of_one_anti_affinity_group(spread_sim):
    """With batch size 2, app-1 and app-2 (both in the host anti-affinity group acme-spread) are never in one batch:
    app-1 goes with app-3, app-2 after them; a second run restarts nothing."""
    extra = {"cloudstack_api_url": spread_sim.url, "cloudstack_api_key": spread_sim.admin_key,
             "cloudstack_api_secret": spread_sim.admin_secret, "dynamic_scaling_templates": ["debian-12-generic"],
             "dynamic_scaling_vms": ["app-1", "app-2", "app-3"], "dynamic_scaling_apply": "restart",
             "dynamic_scaling_batch_size": 2}
    first = run_playbook(PLAYBOOK, extra_vars=extra)
    assert first.returncode == 0, first.stdout[-4000:]
    assert 'restart batches: [[\\"app-1\\", \\"app-3\\"], [\\"app-2\\"]]' in first.stdout, first.stdout[-4000:]
    for name in ("app-1", "app-2", "app-3"):
        assert "%s: prepared=True" % name in first.stdout
    vms = spread_sim.client().ok("listVirtualMachines", listall="true")["virtualmachine"]
    assert {vm["name"]: (vm["state"], vm["isdynamicallyscalable"]) for vm in vms if vm["name"].startswith("app-")} == {
        name: ("Running", True) for name in ("app-1", "app-2", "app-3")}
    second = run_playbook(PLAYBOOK, extra_vars=extra)
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap_changed(second.stdout) == 0, second.stdout[-4000:]
    assert "restart batches: []" in second.stdout

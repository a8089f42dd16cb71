"""The autoscale loop the Ansible ways against the simulator: playbooks/autoscale.yml (as an AWX schedule or the
systemd timer run it) and the EDA rulebook with the collection's event source, run by the real ansible-rulebook.

web-01 is seeded live-scalable on the Custom offering with 1 vCPU and a demand of 0.95 cores (95 % CPU); the
simulated clock is moved 10 minutes on, so CloudStack has 10 samples above the 80 % threshold."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from simulator.testing import DEFAULT_SEED, Client, SimulatorProcess
from tests.conftest import REPO_ROOT, ansible_environment, run_playbook

PLAYBOOK = REPO_ROOT / "playbooks" / "autoscale.yml"
RULEBOOK = REPO_ROOT / "extensions" / "eda" / "rulebooks" / "autoscale.yml"
UNITS = sorted((REPO_ROOT / "extensions" / "systemd").glob("livescale-autoscale.*"))
OPTIONS = {"cpu_up": 80, "cpu_up_for": 5, "max_cpu": 4, "cooldown": 15}


def loaded_seed(path):
    """The default seed with zone-a, the template and web-01 live-scalable, web-01 on Custom and loaded."""
    seed = yaml.safe_load(Path(DEFAULT_SEED).read_text())
    seed["settings"] = [{"name": "enable.dynamic.scale.vm", "value": "true", "scope": "zone", "target": "zone-a"}]
    seed["templates"][0]["isdynamicallyscalable"] = True
    web = next(vm for vm in seed["vms"] if vm["name"] == "web-01")
    web.update(offering="Custom", details={"cpuNumber": 1, "memory": 1024}, isdynamicallyscalable=True,
               load={"profile": "constant", "cores": 0.95})
    path.write_text(yaml.safe_dump(seed))
    return path


@pytest.fixture
def loaded(tmp_path):
    """(simulator, client, simulated now) with 10 busy minutes of web-01 behind."""
    process = SimulatorProcess(seed=loaded_seed(tmp_path / "seed.yml"), db=tmp_path / "state.sqlite")
    process.start()
    try:
        client = Client(process.url, process.admin_key, process.admin_secret)
        now = client.ok("simulatorAdvanceClock", minutes=10)["clock"]["now"]
        yield process, client, now
    finally:
        process.stop()


def web_01(client):
    return next(vm for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]
                if vm["name"] == "web-01")


def connection(process):
    return {"cloudstack_api_url": process.url, "cloudstack_api_key": process.admin_key,
            "cloudstack_api_secret": process.admin_secret}


# the VM's one-line summary in the playbook's report (vm_autoscale's vms[].summary)
SCALED_LINE = u"web-01: \\S+ 1 vCPU/[0-9]+ MiB \u2192 \\S+ 2 vCPU/[0-9]+ MiB, live on [^,\"]+"


def recap_changed(stdout):
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", stdout).group(1))


def test_playbook_scales_up_once_and_a_repeat_changes_nothing(loaded):
    process, client, now = loaded
    extra = dict(connection(process), autoscale_vms=["web-01", "db-01"], autoscale_options=OPTIONS,
                 autoscale_reference_time=now)
    dry = run_playbook(PLAYBOOK, extra_vars=dict(extra, autoscale_apply=False, autoscale_vms="web-01\n db-01\n"))
    assert dry.returncode == 0, dry.stdout[-4000:]
    assert "CPU min 95.0 % > 80.0 % for 300 s" in dry.stdout, dry.stdout[-4000:]
    assert re.search(SCALED_LINE + ", check mode: nothing changed", dry.stdout), dry.stdout[-4000:]
    assert web_01(client)["cpunumber"] == 1
    first = run_playbook(PLAYBOOK, extra_vars=extra)
    assert first.returncode == 0, first.stdout[-4000:]
    assert re.search(SCALED_LINE, first.stdout) and recap_changed(first.stdout) == 1, first.stdout[-4000:]
    assert web_01(client)["cpunumber"] == 2
    again = run_playbook(PLAYBOOK, extra_vars=extra)
    assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-4000:]
    assert "cooldown: the last scale was" in again.stdout or "insufficient data" in again.stdout, again.stdout[-4000:]


@pytest.mark.skipif(shutil.which("ansible-rulebook") is None and not (
    Path(os.sys.executable).parent / "ansible-rulebook").exists(), reason="ansible-rulebook is not installed")
def test_rulebook_scales_the_vm_the_source_reports(loaded, tmp_path):
    """ansible-rulebook (Drools on the JVM) runs the source once; its event makes the rule run the playbook."""
    process, client, now = loaded
    # the source judges at the simulated clock (reference_time), and its event hands that time to the playbook
    variables = dict(connection(process), autoscale_once=True, autoscale_options=dict(OPTIONS, reference_time=now))
    variables_file = tmp_path / "vars.yml"
    variables_file.write_text(json.dumps(variables))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    command = [str(Path(os.sys.executable).parent / "ansible-rulebook"), "-i", str(inventory), "--rulebook",
               str(RULEBOOK), "--vars", str(variables_file), "--shutdown-delay", "30", "-v"]
    env = ansible_environment()
    result = subprocess.run(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout[-6000:]
    assert re.search(SCALED_LINE, result.stdout), result.stdout[-6000:]
    assert web_01(client)["cpunumber"] == 2


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify():
    assert [unit.name for unit in UNITS] == ["livescale-autoscale.service", "livescale-autoscale.timer"]
    result = subprocess.run(["systemd-analyze", "verify"] + [str(unit) for unit in UNITS], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout

"""Shared fixtures: the collection on sys.path, a running simulator, and ansible-playbook."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_PATH = REPO_ROOT / ".build" / "collections"


def ansible_environment(extra=None):
    """Environment for ansible-playbook runs that use this checkout of the collection."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    })
    env.update(extra or {})
    return env


def run_playbook(playbook, extra_vars=None, env=None, check=False, diff=False, cwd=None):
    """Run ansible-playbook on localhost; returns the CompletedProcess (stdout+stderr merged)."""
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    return subprocess.run(command, env=ansible_environment(env), cwd=cwd or REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)


@pytest.fixture
def simulator(tmp_path):
    """A fresh simulator on a free loopback port, seeded with the default seed."""
    from simulator.testing import SimulatorProcess

    process = SimulatorProcess(db=tmp_path / "state.sqlite")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def connection_vars(simulator):
    """The module connection options that point at the simulator as root admin."""
    return {"api_url": simulator.url, "api_key": simulator.admin_key, "api_secret": simulator.admin_secret}

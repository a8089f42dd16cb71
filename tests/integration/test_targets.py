"""Run every integration target (tests/integration/targets/<name>/tasks/main.yml) against a fresh simulator."""

import os
from pathlib import Path

import pytest

from tests.conftest import run_playbook

TARGETS_DIR = Path(__file__).resolve().parent / "targets"
TARGETS = sorted(path.name for path in TARGETS_DIR.iterdir() if (path / "tasks" / "main.yml").is_file())

PLAYBOOK = """\
- name: Integration target {name}
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/livescale.cloudstack.cloudstack:
      api_url: "{{{{ api_url }}}}"
      api_key: "{{{{ api_key }}}}"
      api_secret: "{{{{ api_secret }}}}"
  roles:
    - role: "{target_dir}"
"""


# targets that also run against a simulator started as CloudStack 4.22 (simulator/versions.py); they get the extra
# variable cloudstack_version for what differs there (ansible-test passes none: they default it to 4.23).
OLD_VERSION_TARGETS = ("vm_scalable", "vm_scale", "vm_scaling_info")


def run_target(target, extra_vars, tmp_path):
    """Run one target with these connection (and version) variables and check that nothing failed."""
    playbook = tmp_path / "target.yml"
    playbook.write_text(PLAYBOOK.format(name=target, target_dir=TARGETS_DIR / target))
    result = run_playbook(playbook, extra_vars=extra_vars)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "failed=0" in result.stdout, result.stdout[-6000:]


@pytest.mark.skipif(os.environ.get("LIVESCALE_TARGETS_RAN_IN_ANSIBLE_TEST") == "1",
                    reason="scripts/test.sh ran these targets against 4.23 with ansible-test integration already")
@pytest.mark.parametrize("target", TARGETS)
def test_target(target, connection_vars, tmp_path):
    run_target(target, dict(connection_vars, cloudstack_version="4.23"), tmp_path)


@pytest.mark.parametrize("target", OLD_VERSION_TARGETS)
def test_target_on_cloudstack_4_22(target, tmp_path):
    from simulator.testing import SimulatorProcess  # pylint: disable=import-outside-toplevel
    with SimulatorProcess(db=tmp_path / "state.sqlite", version="4.22") as simulator:
        run_target(target, {"api_url": simulator.url, "api_key": simulator.admin_key,
                            "api_secret": simulator.admin_secret, "cloudstack_version": "4.22"}, tmp_path)

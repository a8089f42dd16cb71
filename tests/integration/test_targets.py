"""Run every integration target (tests/integration/targets/<name>/tasks/main.yml) against a fresh simulator."""

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


@pytest.mark.parametrize("target", TARGETS)
def test_target(target, connection_vars, tmp_path):
    playbook = tmp_path / "target.yml"
    playbook.write_text(PLAYBOOK.format(name=target, target_dir=TARGETS_DIR / target))
    result = run_playbook(playbook, extra_vars=connection_vars)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "failed=0" in result.stdout, result.stdout[-6000:]

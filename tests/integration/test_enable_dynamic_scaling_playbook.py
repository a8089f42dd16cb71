"""playbooks/enable_dynamic_scaling.yml against a fresh simulator: it enables, then a second run changes nothing."""

import re

from tests.conftest import REPO_ROOT, run_playbook

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

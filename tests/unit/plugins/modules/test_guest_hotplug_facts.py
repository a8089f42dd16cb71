"""The guest_hotplug_facts module, run in-process against a guest tree of real files."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.livescale.cloudstack.plugins.modules import guest_hotplug_facts
from tests.unit.plugins.module_utils.guest_tree import RELEASE, GuestTree


def run(capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit) as info:
        guest_hotplug_facts.main()
    return info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("check_mode", [False, True])
def test_facts_and_top_level_agree(tmp_path, capsys, check_mode):
    GuestTree(tmp_path, cpus_online="0-1")
    code, result = run(capsys, {"root": str(tmp_path), "_ansible_check_mode": check_mode})
    facts = result["ansible_facts"]["livescale_guest_hotplug"]
    assert code == 0 and result["changed"] is False
    assert facts["ready"] is False and facts["reasons"] == [
        "present but offline CPUs: 2-3; online each with echo 1 > /sys/devices/system/cpu/cpuN/online"]
    for key, value in facts.items():
        assert result[key] == value, key


def test_unchecked_kernel_config_becomes_a_warning(tmp_path, capsys):
    GuestTree(tmp_path).remove("boot/config-" + RELEASE)
    code, result = run(capsys, {"root": str(tmp_path)})
    assert code == 0 and result["ready"] is True
    assert result["not_checked"][0].startswith("no kernel config found at /boot/config-" + RELEASE)
    assert result["not_checked"][0] in json.dumps(result["warnings"])


def test_bad_root_fails_naming_it(tmp_path, capsys):
    code, result = run(capsys, {"root": str(tmp_path / "missing")})
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "root %s is not a directory: give the guest's root directory, normally /" % (tmp_path / "missing")

"""Guest hot-plug facts read from real files under a temporary root."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils._guest_hotplug import (
    GuestFactsError, format_cpu_list, gather, parse_cpu_list, rule_subsystems)
from tests.unit.plugins.module_utils.guest_tree import RELEASE, GuestTree


@pytest.mark.parametrize("text, cpus, back", [
    ("0", [0], "0"),
    ("0-3", [0, 1, 2, 3], "0-3"),
    ("0-2,4,6-7", [0, 1, 2, 4, 6, 7], "0-2,4,6-7"),
    ("", [], ""),
    (None, [], ""),
])
def test_cpu_lists_round_trip(text, cpus, back):
    assert parse_cpu_list(text) == cpus
    assert format_cpu_list(cpus) == back


@pytest.mark.parametrize("rule, subsystems", [
    ('SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"', {"cpu"}),
    ('SUBSYSTEM=="memory", ACTION=="add", ATTR{state}="online_movable"', {"memory"}),
    ('SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", ATTR{state}="online"', {"memory"}),
    ('# SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"', set()),
    ('SUBSYSTEM=="cpu", ACTION=="remove", ATTR{online}="1"', set()),
    ('SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}=="0"', set()),
])
def test_udev_rule_recognition(rule, subsystems):
    assert rule_subsystems(rule + "\n") == subsystems


def test_ready_guest(tmp_path):
    GuestTree(tmp_path)
    facts = gather(str(tmp_path))
    assert facts["ready"] is True and facts["reasons"] == [] and facts["not_checked"] == []
    assert facts["kernel_release"] == RELEASE
    assert facts["kernel_config"] == {"source": "/boot/config-" + RELEASE, "options": {
        "CONFIG_HOTPLUG_CPU": "y", "CONFIG_MEMORY_HOTPLUG": "y", "CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE": None,
        "CONFIG_VIRTIO_BALLOON": "m"}}
    assert facts["memhp_default_state"] == {"cmdline": "online", "sysfs": "online", "kernel_default": "offline",
                                            "effective": "online", "online": True}
    assert facts["virtio_balloon"] == {"loaded": True, "builtin": False, "in_sysfs": True, "available": True}
    assert facts["qemu_guest_agent"] == {"installed": True, "path": "/usr/sbin/qemu-ga", "running": True}
    assert facts["udev_rules"] == {"cpu": ["/etc/udev/rules.d/80-livescale-hotplug.rules"],
                                   "memory": ["/etc/udev/rules.d/80-livescale-hotplug.rules"]}
    assert facts["cpus"] == {"present": 4, "online": 4, "present_list": "0-3", "online_list": "0-3", "offline_list": ""}
    assert facts["memory"] == {"present": 6, "online": 6, "offline_blocks": [], "block_size_bytes": 128 * 1024 * 1024,
                               "online_mib": 768}


def no_cpu_rule(tree):
    tree.write("etc/udev/rules.d/80-livescale-hotplug.rules", 'SUBSYSTEM=="memory", ACTION=="add", ATTR{state}="online"\n')


def memory_offline_policy(tree):
    tree.write("sys/devices/system/memory/auto_online_blocks", "offline\n")
    tree.write("etc/udev/rules.d/80-livescale-hotplug.rules", 'SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"\n')


def kernel_without_cpu_hotplug(tree):
    tree.write("boot/config-" + RELEASE, "# CONFIG_HOTPLUG_CPU is not set\nCONFIG_MEMORY_HOTPLUG=y\nCONFIG_VIRTIO_BALLOON=m\n")


def balloon_unloaded(tree):
    tree.write("proc/modules", "virtio_ring 49152 5 - Live 0x0000000000000000\n")
    tree.remove("sys/module/virtio_balloon/refcnt")
    (tree.root / "sys/module/virtio_balloon").rmdir()


def kernel_without_balloon(tree):
    balloon_unloaded(tree)
    tree.write("boot/config-" + RELEASE, "CONFIG_HOTPLUG_CPU=y\nCONFIG_MEMORY_HOTPLUG=y\n")


def agent_missing(tree):
    tree.remove("usr/sbin/qemu-ga")
    tree.remove("proc/412/comm")


def agent_stopped(tree):
    tree.remove("proc/412/comm")


def cpus_offline(tree):
    tree.write("sys/devices/system/cpu/online", "0-1\n")


def block_offline(tree):
    tree.write("sys/devices/system/memory/memory5/state", "offline\n")


@pytest.mark.parametrize("breakage, reason", [
    (no_cpu_rule, 'hot-added vCPUs stay offline (no udev rule onlines them): add a udev rule SUBSYSTEM=="cpu"'),
    (memory_offline_policy, "hot-added memory stays offline (memhp_default_state is offline and no udev rule onlines memory): "
                            "add memhp_default_state=online to the kernel command line"),
    (kernel_without_cpu_hotplug, "kernel %s is built without CONFIG_HOTPLUG_CPU=y (CPU hot-plug)" % RELEASE),
    (balloon_unloaded, "virtio_balloon is not loaded: run 'modprobe virtio_balloon'"),
    (kernel_without_balloon, "kernel %s is built without CONFIG_VIRTIO_BALLOON" % RELEASE),
    (agent_missing, "qemu-guest-agent is not installed: install the package qemu-guest-agent"),
    (agent_stopped, "qemu-guest-agent is installed but not running: start and enable it"),
    (cpus_offline, "present but offline CPUs: 2-3; online each with echo 1 > /sys/devices/system/cpu/cpuN/online"),
    (block_offline, "present but offline memory blocks: memory5; online each with echo online > /sys/devices/system/memory/BLOCK/state"),
])
def test_each_problem_gives_one_reason_with_its_fix(tmp_path, breakage, reason):
    breakage(GuestTree(tmp_path))
    facts = gather(str(tmp_path))
    assert facts["ready"] is False
    assert len(facts["reasons"]) == 1 and facts["reasons"][0].startswith(reason), facts["reasons"]


def test_memory_rule_makes_up_for_an_offline_policy(tmp_path):
    tree = GuestTree(tmp_path)
    tree.write("sys/devices/system/memory/auto_online_blocks", "offline\n")
    tree.write("proc/cmdline", "console=ttyS0\n")
    facts = gather(str(tmp_path))
    assert facts["memhp_default_state"]["effective"] == "offline" and facts["ready"] is True


def test_policy_from_cmdline_when_sysfs_lacks_it(tmp_path):
    tree = GuestTree(tmp_path)
    tree.remove("sys/devices/system/memory/auto_online_blocks")
    tree.write("proc/cmdline", "memhp_default_state=offline quiet memhp_default_state=online_movable\n")
    assert gather(str(tmp_path))["memhp_default_state"] == {
        "cmdline": "online_movable", "sysfs": None, "kernel_default": "offline", "effective": "online_movable", "online": True}


def test_kernel_default_online_when_nothing_else_says(tmp_path):
    tree = GuestTree(tmp_path)
    tree.remove("sys/devices/system/memory/auto_online_blocks")
    tree.write("proc/cmdline", "quiet\n")
    tree.write("boot/config-" + RELEASE, "CONFIG_HOTPLUG_CPU=y\nCONFIG_MEMORY_HOTPLUG=y\nCONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE=y\n")
    assert gather(str(tmp_path))["memhp_default_state"]["effective"] == "online"


def test_config_from_proc_config_gz(tmp_path):
    GuestTree(tmp_path).move_config_to_proc()
    facts = gather(str(tmp_path))
    assert facts["kernel_config"]["source"] == "/proc/config.gz"
    assert facts["kernel_config"]["options"]["CONFIG_HOTPLUG_CPU"] == "y" and facts["ready"] is True


def test_missing_config_is_reported_not_judged(tmp_path):
    GuestTree(tmp_path).remove("boot/config-" + RELEASE)
    facts = gather(str(tmp_path))
    assert facts["kernel_config"] == {"source": None, "options": {
        "CONFIG_HOTPLUG_CPU": None, "CONFIG_MEMORY_HOTPLUG": None, "CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE": None,
        "CONFIG_VIRTIO_BALLOON": None}}
    assert facts["ready"] is True
    assert facts["not_checked"] == ["no kernel config found at /boot/config-%s or /proc/config.gz, so the kernel options "
                                    "were not checked: install the kernel's config file or enable CONFIG_IKCONFIG_PROC" % RELEASE]


def test_builtin_balloon_from_modules_builtin(tmp_path):
    tree = GuestTree(tmp_path)
    balloon_unloaded(tree)
    tree.write("lib/modules/%s/modules.builtin" % RELEASE, "kernel/drivers/virtio/virtio_balloon.ko\n")
    facts = gather(str(tmp_path))
    assert facts["virtio_balloon"] == {"loaded": False, "builtin": True, "in_sysfs": False, "available": True}
    assert facts["ready"] is True


def test_rules_reached_twice_through_a_symlink_count_once(tmp_path):
    tree = GuestTree(tmp_path)
    tree.remove("etc/udev/rules.d/80-livescale-hotplug.rules")
    tree.write("usr/lib/udev/rules.d/40-hotplug.rules", 'SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"\n')
    tree.write("usr/lib/udev/rules.d/README", 'SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"\n')
    (tmp_path / "lib" / "udev").symlink_to("../usr/lib/udev")
    rules = gather(str(tmp_path))["udev_rules"]
    assert rules == {"cpu": ["/lib/udev/rules.d/40-hotplug.rules"], "memory": []}


def test_legacy_online_files_for_memory_blocks(tmp_path):
    tree = GuestTree(tmp_path, blocks=0)
    tree.write("sys/devices/system/memory/memory10/online", "1\n")
    tree.write("sys/devices/system/memory/memory2/online", "0\n")
    memory = gather(str(tmp_path))["memory"]
    assert memory["present"] == 2 and memory["online"] == 1 and memory["offline_blocks"] == ["memory2"]


def test_root_that_is_not_a_directory(tmp_path):
    with pytest.raises(GuestFactsError, match="root %s/nowhere is not a directory: give the guest's root directory" % tmp_path):
        gather(str(tmp_path / "nowhere"))

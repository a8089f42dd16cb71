# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: can this Linux guest use vCPUs and memory hot-added to it?

Reads only files, all below a root directory (``/`` on a real guest, a tree of
real files in tests). Not a public API: it may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
import re

KERNEL_OPTIONS = ("CONFIG_HOTPLUG_CPU", "CONFIG_MEMORY_HOTPLUG", "CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE", "CONFIG_VIRTIO_BALLOON")
AGENT_BINARIES = ("usr/sbin/qemu-ga", "usr/bin/qemu-ga", "sbin/qemu-ga", "bin/qemu-ga")
AGENT_PROCESS = "qemu-ga"
UDEV_RULE_DIRS = ("etc/udev/rules.d", "lib/udev/rules.d", "usr/lib/udev/rules.d", "run/udev/rules.d")
BALLOON = "virtio_balloon"
ONLINE_STATES = ("online", "online_kernel", "online_movable")
ROLE_HINT = "the role livescale.cloudstack.guest does this"


class GuestFactsError(Exception):
    """The guest facts cannot be gathered as asked; the message names the fix."""


_ADD = re.compile(r'ACTION\s*==\s*"add"')
_SUBSYSTEM = re.compile(r'SUBSYSTEM\s*==\s*"(cpu|memory)"')
_SETS_ONLINE = re.compile(r'ATTR\{online\}\s*=\s*"1"|ATTR\{state\}\s*=\s*"online[a-z_]*"')


def _path(root, relative):
    return os.path.join(root, relative.lstrip("/"))


def _read(root, relative):
    """Stripped text of root/relative, or None when it cannot be read."""
    try:
        with open(_path(root, relative), "r") as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _listdir(root, relative):
    try:
        return sorted(os.listdir(_path(root, relative)))
    except (IOError, OSError):
        return []


def parse_cpu_list(text):
    """'0-2,4' -> [0, 1, 2, 4]; empty or None -> []."""
    cpus = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        first, _sep, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def format_cpu_list(cpus):
    """[0, 1, 2, 4] -> '0-2,4'."""
    ranges = []
    for cpu in sorted(cpus):
        if ranges and ranges[-1][1] == cpu - 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in ranges)


def parse_kernel_config(text, options=KERNEL_OPTIONS):
    """Values ('y', 'm', ...) of the options; None for options not set."""
    values = dict((option, None) for option in options)
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name in values:
            values[name] = value.strip('"')
    return values


def kernel_config(root, release):
    """(source path, option values); (None, all None) when no config is found."""
    candidate = "boot/config-%s" % release
    text = _read(root, candidate)
    if text is not None:
        return "/" + candidate, parse_kernel_config(text)
    try:
        with gzip.open(_path(root, "proc/config.gz"), "rt") as handle:
            return "/proc/config.gz", parse_kernel_config(handle.read())
    except (IOError, OSError):
        return None, parse_kernel_config("")


def cmdline_value(cmdline, name):
    """Value of name=value on a kernel command line (last one wins), or None."""
    value = None
    for word in (cmdline or "").split():
        key, sep, rest = word.partition("=")
        if sep and key == name:
            value = rest
    return value


def memory_auto_online(root, config):
    """memhp_default_state from the command line, sysfs and the kernel default, and the effective one."""
    from_cmdline = cmdline_value(_read(root, "proc/cmdline"), "memhp_default_state")
    from_sysfs = _read(root, "sys/devices/system/memory/auto_online_blocks")
    default = "online" if config.get("CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE") == "y" else "offline"
    effective = from_sysfs or from_cmdline or default
    return {"cmdline": from_cmdline, "sysfs": from_sysfs, "kernel_default": default, "effective": effective,
            "online": effective in ONLINE_STATES}


def balloon_driver(root, release, config):
    """How virtio_balloon is present: loaded module, built-in, or not at all."""
    loaded = any(line.split(" ", 1)[0] == BALLOON for line in (_read(root, "proc/modules") or "").splitlines())
    builtin_list = _read(root, "lib/modules/%s/modules.builtin" % release) or ""
    builtin = config.get("CONFIG_VIRTIO_BALLOON") == "y" or any(
        os.path.basename(line) == BALLOON + ".ko" for line in builtin_list.splitlines())
    in_sysfs = os.path.isdir(_path(root, "sys/module/" + BALLOON))
    return {"loaded": loaded, "builtin": builtin, "in_sysfs": in_sysfs, "available": loaded or builtin or in_sysfs}


def guest_agent(root):
    """Is qemu-guest-agent installed (binary) and running (a process named qemu-ga)?"""
    installed = [("/" + binary) for binary in AGENT_BINARIES if os.path.isfile(_path(root, binary))]
    running = False
    for entry in _listdir(root, "proc"):
        if entry.isdigit() and _read(root, "proc/%s/comm" % entry) == AGENT_PROCESS:
            running = True
            break
    return {"installed": bool(installed), "path": installed[0] if installed else None, "running": running}


def rule_subsystems(text):
    """Subsystems (cpu, memory) that a udev rules file onlines on add."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") or not _ADD.search(line) or not _SETS_ONLINE.search(line):
            continue
        found.update(_SUBSYSTEM.findall(line))
    return found


def udev_rules(root):
    """Rule files that online hot-added CPUs and memory, per subsystem."""
    rules = {"cpu": [], "memory": []}
    seen = set()
    for directory in UDEV_RULE_DIRS:
        for name in _listdir(root, directory):
            relative = "%s/%s" % (directory, name)
            real = os.path.realpath(_path(root, relative))
            if not name.endswith(".rules") or real in seen:
                continue
            seen.add(real)
            for subsystem in rule_subsystems(_read(root, relative) or ""):
                rules[subsystem].append("/" + relative)
    return rules


def cpus(root):
    """Present, online and offline CPUs from /sys/devices/system/cpu."""
    present = parse_cpu_list(_read(root, "sys/devices/system/cpu/present"))
    online = parse_cpu_list(_read(root, "sys/devices/system/cpu/online"))
    offline = sorted(set(present) - set(online))
    return {"present": len(present), "online": len(online), "present_list": format_cpu_list(present),
            "online_list": format_cpu_list(online), "offline_list": format_cpu_list(offline)}


def _block_online(root, block):
    state = _read(root, "sys/devices/system/memory/%s/state" % block)
    if state is not None:
        return state in ONLINE_STATES
    return _read(root, "sys/devices/system/memory/%s/online" % block) == "1"


def memory_blocks(root):
    """Memory blocks present and online, their size, and the offline ones."""
    blocks = [name for name in _listdir(root, "sys/devices/system/memory") if re.match(r"memory\d+$", name)]
    blocks.sort(key=lambda name: int(name[len("memory"):]))
    offline = [name for name in blocks if not _block_online(root, name)]
    size = _read(root, "sys/devices/system/memory/block_size_bytes")
    block_bytes = int(size, 16) if size else None
    return {"present": len(blocks), "online": len(blocks) - len(offline), "offline_blocks": offline,
            "block_size_bytes": block_bytes,
            "online_mib": (len(blocks) - len(offline)) * block_bytes // (1024 * 1024) if block_bytes else None}


def _reasons(facts):
    """What stops hot-added vCPUs and memory from being used, each with its fix."""
    release = facts["kernel_release"]
    config = facts["kernel_config"]
    reasons = []
    for option, what in (("CONFIG_HOTPLUG_CPU", "CPU"), ("CONFIG_MEMORY_HOTPLUG", "memory")):
        if config["source"] and config["options"][option] != "y":
            reasons.append("kernel %s is built without %s=y (%s hot-plug): boot a kernel that has it, such as Debian's "
                           "linux-image-amd64" % (release, option, what))
    if not facts["memhp_default_state"]["online"] and not facts["udev_rules"]["memory"]:
        reasons.append("hot-added memory stays offline (memhp_default_state is %s and no udev rule onlines memory): add "
                       "memhp_default_state=online to the kernel command line or a udev rule SUBSYSTEM==\"memory\", "
                       "ACTION==\"add\" that sets ATTR{state}=\"online\"; %s" % (facts["memhp_default_state"]["effective"], ROLE_HINT))
    if not facts["udev_rules"]["cpu"]:
        reasons.append("hot-added vCPUs stay offline (no udev rule onlines them): add a udev rule SUBSYSTEM==\"cpu\", "
                       "ACTION==\"add\" that sets ATTR{online}=\"1\"; %s" % ROLE_HINT)
    if not facts["virtio_balloon"]["available"]:
        if config["source"] and not config["options"]["CONFIG_VIRTIO_BALLOON"]:
            reasons.append("kernel %s is built without CONFIG_VIRTIO_BALLOON: boot a kernel that has it" % release)
        else:
            reasons.append("virtio_balloon is not loaded: run 'modprobe virtio_balloon' and list it in "
                           "/etc/modules-load.d/virtio_balloon.conf; %s" % ROLE_HINT)
    agent = facts["qemu_guest_agent"]
    if not agent["installed"]:
        reasons.append("qemu-guest-agent is not installed: install the package qemu-guest-agent; %s" % ROLE_HINT)
    elif not agent["running"]:
        reasons.append("qemu-guest-agent is installed but not running: start and enable it "
                       "(systemctl enable --now qemu-guest-agent) and give the VM a guest agent channel")
    if facts["cpus"]["offline_list"]:
        reasons.append("present but offline CPUs: %s; online each with echo 1 > /sys/devices/system/cpu/cpuN/online"
                       % facts["cpus"]["offline_list"])
    if facts["memory"]["offline_blocks"]:
        reasons.append("present but offline memory blocks: %s; online each with echo online > /sys/devices/system/memory/BLOCK/state"
                       % ", ".join(facts["memory"]["offline_blocks"]))
    return reasons


def _not_checked(facts):
    if facts["kernel_config"]["source"]:
        return []
    return ["no kernel config found at /boot/config-%s or /proc/config.gz, so the kernel options were not checked: "
            "install the kernel's config file or enable CONFIG_IKCONFIG_PROC" % facts["kernel_release"]]


def gather(root="/"):
    """All hot-plug facts of the guest whose files are below root, with ready, reasons and not_checked."""
    if not os.path.isdir(root):
        raise GuestFactsError("root %s is not a directory: give the guest's root directory, normally /" % root)
    release = _read(root, "proc/sys/kernel/osrelease") or ""
    source, options = kernel_config(root, release)
    facts = {
        "root": root,
        "kernel_release": release or None,
        "kernel_config": {"source": source, "options": options},
        "memhp_default_state": memory_auto_online(root, options),
        "virtio_balloon": balloon_driver(root, release, options),
        "qemu_guest_agent": guest_agent(root),
        "udev_rules": udev_rules(root),
        "cpus": cpus(root),
        "memory": memory_blocks(root),
    }
    facts["reasons"] = _reasons(facts)
    facts["ready"] = not facts["reasons"]
    facts["not_checked"] = _not_checked(facts)
    return facts

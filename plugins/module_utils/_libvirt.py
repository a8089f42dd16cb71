# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the libvirt layer (live vCPU/memory scaling of KVM domains).

Not a public API: it may change without notice. Nothing here imports AnsibleModule; every failure
is one of the typed exceptions below, whose message names what failed, the bad value and the fix, and
``failure_fields()`` gives the module edge (``_libvirt_module.py``) the fields to fail with.

Pieces:
  * connections and lookups: open_connection(), find_domain();
  * a frozen typed view of a domain's XML: parse_domain_xml() / domain_view();
  * readiness(): every piece missing for live scaling, each with its fix (pure);
  * plan_scale() (pure) and apply_plan(): vCPUs up, one DIMM hot-plug, balloon; never down;
  * the guest view through the QEMU guest agent (guest_view(), wait_for_guest()).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time
import xml.etree.ElementTree as ET
from collections import namedtuple

from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary
from ansible_collections.livescale.cloudstack.plugins.module_utils._wait import Waiter, WaitTimeout

try:
    import libvirt
    import libvirt_qemu
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the host
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc

GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0"
DIMM_SLOTS = 16
DEFAULT_GUEST_TIMEOUT = 5
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_UNIT_KIB = {
    "b": 1.0 / 1024, "bytes": 1.0 / 1024, "k": 1, "kib": 1, "kb": 1000.0 / 1024,
    "m": 1024, "mib": 1024, "mb": 1000.0 * 1000 / 1024,
    "g": 1024 * 1024, "gib": 1024 * 1024, "gb": 1000.0 ** 3 / 1024,
    "t": 1024 ** 3, "tib": 1024 ** 3, "tb": 1000.0 ** 4 / 1024,
}


class VirtError(Exception):
    """Base of the libvirt layer's errors; str() is the whole message."""


class ConnectionFailed(VirtError):
    """The libvirt URI could not be opened."""

    def __init__(self, uri, reason):
        self.uri = uri
        self.reason = reason
        super(ConnectionFailed, self).__init__(
            "cannot connect to libvirt at %s: %s. Check that libvirtd runs on that host and listens for this "
            "transport (qemu+tcp needs listen_tcp, qemu+tls needs certificates), and that the URI is right "
            "(e.g. qemu:///system, qemu+tcp://kvm-01/system, test:///default)." % (uri, reason))


class DomainNotFound(VirtError):
    """No domain with that name or UUID."""

    def __init__(self, uri, key):
        self.uri = uri
        self.key = key
        super(DomainNotFound, self).__init__(
            "no domain named or with UUID '%s' at %s; give the CloudStack instance name (i-<account>-<id>-VM) "
            "or the domain UUID as 'virsh -c %s list --all --uuid --name' shows it." % (key, uri, uri))


class InvalidDomainXml(VirtError):
    """The domain XML cannot be read."""


class ScaleRefused(VirtError):
    """The requested size cannot be reached live; nothing was changed. .reasons lists why."""

    def __init__(self, message, reasons=()):
        self.reasons = tuple(reasons) or (message,)
        super(ScaleRefused, self).__init__(message)


class OperationFailed(VirtError):
    """A libvirt call failed; .applied lists the changes made before it."""

    def __init__(self, action, reason, applied=()):
        self.action = action
        self.reason = reason
        self.applied = tuple(applied)
        done = "; ".join(self.applied) if self.applied else "nothing"
        super(OperationFailed, self).__init__("%s failed: %s. Applied before the failure: %s." % (action, reason, done))


class GuestAgentUnavailable(VirtError):
    """The QEMU guest agent is absent or does not answer."""

    def __init__(self, domain, reason):
        self.domain = domain
        self.reason = reason
        super(GuestAgentUnavailable, self).__init__(
            "the QEMU guest agent of domain %s is absent or not answering: %s. The domain needs a virtio channel "
            "named %s and qemu-guest-agent running in the guest." % (domain, reason, GUEST_AGENT_CHANNEL))


class GuestNotConverged(VirtError):
    """The guest did not show the new size within the timeout; .guest is its last view."""

    def __init__(self, domain, waited, wanted, guest):
        self.guest = guest
        super(GuestNotConverged, self).__init__(
            "domain %s was scaled but after %.1f s the guest shows %s (wanted %s). Hot-added CPUs and memory stay "
            "offline unless the guest onlines them (a udev rule, or memhp_default_state=online on the kernel "
            "command line)." % (domain, waited, guest.describe(), wanted))


def failure_fields(exc, subject):
    """fail_json fields of a VirtError about domain ``subject``: ``msg``; for a refused or failed scale a one-line
    ``summary``, and the changes made before a failed call or the guest's last view."""
    fields = {"msg": str(exc)}
    if isinstance(exc, ScaleRefused):
        fields["summary"] = summary.refused(subject, exc.reasons)
    elif isinstance(exc, OperationFailed):
        fields.update(applied=list(exc.applied), summary="%s: %s failed, applied before the failure: %s" % (
            subject, exc.action, "; ".join(exc.applied) or "nothing"))
    elif isinstance(exc, GuestNotConverged):
        fields.update(guest=exc.guest.as_dict(), summary="%s: scaled, but the guest shows %s" % (
            subject, exc.guest.describe()))
    return fields


# ---------------------------------------------------------------------------------------------
# Typed views
# ---------------------------------------------------------------------------------------------

Dimm = namedtuple("Dimm", ["size_kib", "slot"])
NumaCell = namedtuple("NumaCell", ["cell_id", "cpus", "memory_kib"])
Finding = namedtuple("Finding", ["piece", "message", "fix"])
Change = namedtuple("Change", ["what", "before", "after", "detail"])


class DomainXmlView(namedtuple("DomainXmlView", [
        "name", "uuid", "domain_type", "running", "vcpus", "max_vcpus", "memory_kib", "current_memory_kib",
        "max_memory_kib", "memory_slots", "dimms", "numa_cells", "balloon_model", "balloon_stats_period",
        "guest_agent_channel", "acpi", "cpu_shares", "cpu_quota", "cpu_period"])):
    """Frozen view of a domain's XML; memory in KiB, max_memory_kib None without <maxMemory>."""

    __slots__ = ()

    @property
    def memory_mib(self):
        """Total memory (<memory>, including hot-plugged DIMMs) in MiB."""
        return self.memory_kib // 1024

    @property
    def current_memory_mib(self):
        """Balloon target (<currentMemory>) in MiB."""
        return self.current_memory_kib // 1024

    @property
    def max_memory_mib(self):
        """<maxMemory> in MiB, or None."""
        return None if self.max_memory_kib is None else self.max_memory_kib // 1024

    @property
    def free_slots(self):
        """DIMM slots left."""
        return max(0, self.memory_slots - len(self.dimms))

    def as_dict(self):
        """Plain data for module results."""
        return {
            "name": self.name, "uuid": self.uuid, "type": self.domain_type, "running": self.running,
            "vcpus": self.vcpus, "max_vcpus": self.max_vcpus, "memory_mib": self.memory_mib,
            "current_memory_mib": self.current_memory_mib, "max_memory_mib": self.max_memory_mib,
            "memory_slots": self.memory_slots, "free_slots": self.free_slots,
            "dimms": [{"size_mib": d.size_kib // 1024, "slot": d.slot} for d in self.dimms],
            "numa_cells": [{"id": c.cell_id, "cpus": c.cpus, "memory_mib": c.memory_kib // 1024} for c in self.numa_cells],
            "balloon_model": self.balloon_model, "balloon_stats_period": self.balloon_stats_period,
            "guest_agent_channel": self.guest_agent_channel, "acpi": self.acpi, "cpu_shares": self.cpu_shares,
            "cpu_quota": self.cpu_quota, "cpu_period": self.cpu_period,
        }


class GuestView(namedtuple("GuestView", [
        "agent_version", "online_cpus", "total_cpus", "online_memory_blocks", "total_memory_blocks", "block_size_mib"])):
    """What the guest itself reports through its agent."""

    __slots__ = ()

    @property
    def online_memory_mib(self):
        """Memory in online blocks, or None when the guest does not tell the block size."""
        if self.block_size_mib is None:
            return None
        return self.online_memory_blocks * self.block_size_mib

    def describe(self):
        """One line for messages."""
        memory = "%d/%d memory blocks online" % (self.online_memory_blocks, self.total_memory_blocks)
        if self.block_size_mib is not None:
            memory += " (%d MiB online)" % self.online_memory_mib
        return "%d/%d CPUs online, %s" % (self.online_cpus, self.total_cpus, memory)

    def as_dict(self):
        """Plain data for module results."""
        return {"agent_version": self.agent_version, "online_cpus": self.online_cpus, "total_cpus": self.total_cpus,
                "online_memory_blocks": self.online_memory_blocks, "total_memory_blocks": self.total_memory_blocks,
                "block_size_mib": self.block_size_mib, "online_memory_mib": self.online_memory_mib}


# ---------------------------------------------------------------------------------------------
# Connections and lookups
# ---------------------------------------------------------------------------------------------

def _require_libvirt():
    if not HAS_LIBVIRT:
        raise VirtError("the Python module 'libvirt' (libvirt-python) is required: %s" % LIBVIRT_IMPORT_ERROR)


def _quiet(_context, _error):
    """libvirt error handler that keeps errors off stderr: they arrive as exceptions anyway."""


def open_connection(uri):
    """Open a read-write connection; ConnectionFailed names the URI and the fix."""
    _require_libvirt()
    if not uri or "://" not in uri:
        raise ConnectionFailed(uri, "not a libvirt URI")
    libvirt.registerErrorHandler(_quiet, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise ConnectionFailed(uri, exc.get_error_message() or str(exc))
    if conn is None:  # pragma: no cover - old bindings returned None
        raise ConnectionFailed(uri, "libvirt returned no connection")
    return conn


def find_domain(conn, key):
    """The domain named ``key`` or with UUID ``key``; DomainNotFound otherwise."""
    lookups = [conn.lookupByName]
    if _UUID_RE.match(key or ""):
        lookups.insert(0, conn.lookupByUUIDString)
    for lookup in lookups:
        try:
            return lookup(key)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise OperationFailed("look up domain %s" % key, exc.get_error_message())
    raise DomainNotFound(conn.getURI(), key)


# ---------------------------------------------------------------------------------------------
# Domain XML
# ---------------------------------------------------------------------------------------------

def _kib(element, default=None):
    if element is None or element.text is None:
        return default
    unit = (element.get("unit") or "KiB").lower()
    if unit not in _UNIT_KIB:
        raise InvalidDomainXml("unknown memory unit '%s' in <%s>" % (element.get("unit"), element.tag))
    return int(round(int(element.text.strip()) * _UNIT_KIB[unit]))


def _int(element, default=None):
    if element is None or element.text is None:
        return default
    return int(element.text.strip())


def parse_domain_xml(xml):
    """DomainXmlView of a domain XML document (pure)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InvalidDomainXml("domain XML is not well-formed: %s" % exc)
    if root.tag != "domain":
        raise InvalidDomainXml("expected a <domain> document, got <%s>" % root.tag)
    vcpu = root.find("vcpu")
    max_vcpus = _int(vcpu, 1)
    max_memory = root.find("maxMemory")
    balloon = root.find("devices/memballoon")
    stats = balloon.find("stats") if balloon is not None else None
    dimms = []
    for device in root.findall("devices/memory"):
        if device.get("model") == "dimm":
            address = device.find("address")
            slot = address.get("slot") if address is not None else None
            dimms.append(Dimm(_kib(device.find("target/size"), 0), None if slot is None else int(slot, 0)))
    cells = tuple(NumaCell(int(cell.get("id", "0")), cell.get("cpus", ""),
                           _kib(_cell_memory(cell)))
                  for cell in root.findall("cpu/numa/cell"))
    agent = any(target.get("name") == GUEST_AGENT_CHANNEL for target in root.findall("devices/channel/target"))
    memory_kib = _kib(root.find("memory"), 0)
    return DomainXmlView(
        name=root.findtext("name"), uuid=root.findtext("uuid"), domain_type=root.get("type"),
        running=root.get("id") not in (None, "-1"),
        vcpus=int(vcpu.get("current", max_vcpus)) if vcpu is not None else 1, max_vcpus=max_vcpus,
        memory_kib=memory_kib, current_memory_kib=_kib(root.find("currentMemory"), memory_kib),
        max_memory_kib=_kib(max_memory), memory_slots=int(max_memory.get("slots", "0")) if max_memory is not None else 0,
        dimms=tuple(dimms), numa_cells=cells,
        balloon_model=balloon.get("model") if balloon is not None else None,
        balloon_stats_period=int(stats.get("period")) if stats is not None and stats.get("period") else None,
        guest_agent_channel=agent, acpi=root.find("features/acpi") is not None, cpu_shares=_int(root.find("cputune/shares")),
        cpu_quota=_int(root.find("cputune/quota")), cpu_period=_int(root.find("cputune/period")))


def _cell_memory(cell):
    element = ET.Element("memory", unit=cell.get("unit", "KiB"))
    element.text = cell.get("memory", "0")
    return element


def domain_view(domain):
    """DomainXmlView of a live (or defined) libvirt domain."""
    try:
        return parse_domain_xml(domain.XMLDesc(0))
    except libvirt.libvirtError as exc:
        raise OperationFailed("read the XML of domain %s" % domain.name(), exc.get_error_message())


# ---------------------------------------------------------------------------------------------
# Readiness and planning (pure)
# ---------------------------------------------------------------------------------------------

_RESTART = "then stop and start the VM so the domain is rebuilt"


def readiness(view, vcpus=None, memory_mib=None):
    """Every piece missing for live scaling of ``view`` (to the optional target), each with its fix."""
    findings = []
    wanted_vcpus = vcpus if vcpus is not None else view.vcpus + 1
    if wanted_vcpus > view.max_vcpus:
        findings.append(Finding(
            "vcpu_headroom", "the domain has %d vCPUs of a maximum of %d: no room to reach %d" % (view.vcpus, view.max_vcpus, wanted_vcpus),
            "raise the <vcpu> maximum (CloudStack: kvm.cpu.dynamic.scaling.capacity), %s" % _RESTART))
    if view.max_memory_kib is None:
        findings.append(Finding(
            "max_memory", "the domain has no <maxMemory> element, so memory cannot be hot-plugged",
            "define <maxMemory slots='%d'> (CloudStack: a dynamically scalable VM with enable.dynamic.scale.vm=true), %s"
            % (DIMM_SLOTS, _RESTART)))
    else:
        if view.memory_slots == 0:
            findings.append(Finding("memory_slots", "<maxMemory> declares no DIMM slots",
                                    "set <maxMemory slots='%d'>, %s" % (DIMM_SLOTS, _RESTART)))
        elif view.free_slots == 0:
            findings.append(Finding("free_slot", "all %d DIMM slots are in use" % view.memory_slots,
                                    "stop and start the VM: its memory is rebuilt without DIMMs"))
        wanted_kib = memory_mib * 1024 if memory_mib is not None else view.memory_kib + 1
        if wanted_kib > view.max_memory_kib:
            findings.append(Finding(
                "memory_headroom", "the domain has %d MiB of a maximum of %d MiB: no room to reach %d MiB"
                % (view.memory_mib, view.max_memory_mib, wanted_kib // 1024),
                "raise <maxMemory> (CloudStack: kvm.memory.dynamic.scaling.capacity), %s" % _RESTART))
    if not view.numa_cells:
        findings.append(Finding("numa_cell", "the domain has no NUMA cell to plug DIMMs into",
                                "add <cpu><numa><cell id='0' cpus='0-%d' memory='...'/></numa></cpu>, %s"
                                % (view.max_vcpus - 1, _RESTART)))
    if not view.acpi:
        findings.append(Finding("acpi", "the domain has no ACPI, so QEMU cannot hot-plug memory",
                                "add <features><acpi/></features>, %s" % _RESTART))
    if view.balloon_model in (None, "none"):
        findings.append(Finding("balloon", "the domain has no memory balloon",
                                "add <memballoon model='virtio'> with a <stats period>, %s" % _RESTART))
    if not view.guest_agent_channel:
        findings.append(Finding("guest_agent_channel", "the domain has no guest agent channel, so the guest cannot be checked",
                                "add <channel type='unix'><target type='virtio' name='%s'/></channel>, %s"
                                % (GUEST_AGENT_CHANNEL, _RESTART)))
    return tuple(findings)


def _memory_problems(view, memory_mib, method):
    if method == "balloon":
        if view.balloon_model in (None, "none"):
            return ["the domain has no memory balloon; use memory_method=dimm"]
        if memory_mib > view.memory_mib:
            return ["%d MiB is above the balloon's ceiling of %d MiB (the domain's <memory>); use memory_method=dimm "
                    "to hot-plug memory" % (memory_mib, view.memory_mib)]
        return []
    problems = [finding.message + " (fix: " + finding.fix + ")" for finding in readiness(view, memory_mib=memory_mib)
                if finding.piece in ("max_memory", "memory_slots", "free_slot", "memory_headroom", "numa_cell", "acpi")]
    return problems


def plan_scale(view, vcpus=None, memory_mib=None, method="dimm"):
    """Ordered changes (memory first, then vCPUs) that bring ``view`` to the target; ScaleRefused otherwise."""
    if method not in ("dimm", "balloon"):
        raise ScaleRefused("unknown memory method '%s': use 'dimm' or 'balloon'" % method)
    for label, value in (("vcpus", vcpus), ("memory", memory_mib)):
        if value is not None and value < 1:
            raise ScaleRefused("%s=%d is not a valid size: give a positive number" % (label, value))
    problems = []
    changes = []
    if memory_mib is not None:
        before = view.current_memory_mib if method == "balloon" else view.memory_mib
        if memory_mib < before:
            problems.append("memory cannot be scaled down live (%d MiB now, %d MiB asked): stop the VM, change its size "
                            "and start it" % (before, memory_mib))
        elif memory_mib > before:
            found = _memory_problems(view, memory_mib, method)
            problems.extend(found)
            detail = "balloon" if method == "balloon" else "dimm %d MiB" % (memory_mib - before)
            changes.append(Change("memory", before, memory_mib, detail))
    if vcpus is not None:
        if vcpus < view.vcpus:
            problems.append("vCPUs cannot be removed live (%d now, %d asked): stop the VM, change its size and start it"
                            % (view.vcpus, vcpus))
        elif vcpus > view.max_vcpus:
            problems.append("%d vCPUs is above the domain's maximum of %d (fix: raise the <vcpu> maximum, %s)"
                            % (vcpus, view.max_vcpus, _RESTART))
        elif vcpus > view.vcpus:
            changes.append(Change("vcpus", view.vcpus, vcpus, "setvcpus"))
    if changes and not view.running:
        problems.append("domain %s is not running; live scaling needs a running domain" % view.name)
    if problems:
        raise ScaleRefused("cannot scale domain %s, nothing was changed: %s." % (view.name, "; ".join(problems)),
                           problems)
    return tuple(changes)


def dimm_xml(size_kib, node=0):
    """The <memory model='dimm'> device CloudStack's KVM agent hot-plugs."""
    return ("<memory model='dimm'><target><size unit='KiB'>%d</size><node>%d</node></target></memory>"
            % (size_kib, node))


def _describe(change):
    if change.what == "memory":
        return "memory %d -> %d MiB (%s)" % (change.before, change.after, change.detail)
    return "vCPUs %d -> %d" % (change.before, change.after)


def apply_plan(domain, changes, persist=False):
    """Apply planned changes live (and to the inactive config when ``persist`` and the domain is persistent).

    Returns (descriptions of the applied changes, persisted flag); OperationFailed names what was applied.
    """
    persisted = bool(persist and changes and domain.isPersistent())
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE | (libvirt.VIR_DOMAIN_AFFECT_CONFIG if persisted else 0)
    applied = []
    for change in changes:
        try:
            if change.what == "vcpus":
                domain.setVcpusFlags(change.after, flags)
            elif change.detail == "balloon":
                domain.setMemoryFlags(change.after * 1024, flags)
            else:
                domain.attachDeviceFlags(dimm_xml((change.after - change.before) * 1024), flags)
        except libvirt.libvirtError as exc:
            raise OperationFailed("%s on domain %s" % (_describe(change), domain.name()), exc.get_error_message(), applied)
        applied.append(_describe(change))
    return tuple(applied), persisted


# ---------------------------------------------------------------------------------------------
# Guest agent
# ---------------------------------------------------------------------------------------------

def guest_command(domain, command, timeout=DEFAULT_GUEST_TIMEOUT):
    """Run one guest agent command; its "return" value. GuestAgentUnavailable when nobody answers."""
    try:
        answer = libvirt_qemu.qemuAgentCommand(domain, json.dumps({"execute": command}), max(1, int(timeout)), 0)
    except libvirt.libvirtError as exc:
        raise GuestAgentUnavailable(domain.name(), "%s: %s" % (command, exc.get_error_message()))
    try:
        return json.loads(answer)["return"]
    except (TypeError, ValueError, KeyError):
        raise GuestAgentUnavailable(domain.name(), "%s: unexpected answer %r" % (command, answer))


def guest_view(domain, timeout=DEFAULT_GUEST_TIMEOUT):
    """GuestView from guest-ping, guest-info, guest-get-vcpus and guest-get-memory-blocks."""
    guest_command(domain, "guest-ping", timeout)
    info = guest_command(domain, "guest-info", timeout)
    cpus = guest_command(domain, "guest-get-vcpus", timeout)
    blocks = guest_command(domain, "guest-get-memory-blocks", timeout)
    supported = set(item.get("name") for item in info.get("supported_commands", []) if item.get("enabled", True))
    block_size = None
    if "guest-get-memory-block-info" in supported:
        block_size = guest_command(domain, "guest-get-memory-block-info", timeout)["size"] // (1024 * 1024)
    return GuestView(agent_version=info.get("version"),
                     online_cpus=sum(1 for cpu in cpus if cpu.get("online")), total_cpus=len(cpus),
                     online_memory_blocks=sum(1 for block in blocks if block.get("online")),
                     total_memory_blocks=len(blocks), block_size_mib=block_size)


def _guest_converged(guest, vcpus, memory_mib):
    if vcpus is not None and guest.online_cpus < vcpus:
        return False
    if memory_mib is None:
        return True
    if guest.online_memory_blocks < guest.total_memory_blocks:
        return False
    return guest.block_size_mib is None or guest.online_memory_mib + guest.block_size_mib > memory_mib


def wait_for_guest(domain, vcpus, memory_mib, timeout, clock=time.monotonic, sleep=time.sleep):
    """Poll the guest until ``vcpus`` CPUs and ``memory_mib`` (DIMM) memory are online; bounded by ``timeout``."""
    start = clock()

    def poll():
        remaining = timeout - (clock() - start)
        last[0] = guest_view(domain, min(DEFAULT_GUEST_TIMEOUT, max(1, remaining)))
        return last[0] if _guest_converged(last[0], vcpus, memory_mib) else None

    last = [None]
    try:
        return poll() or Waiter(timeout, clock, sleep, first=0.2, cap=1.0).until(poll, "guest of %s" % domain.name())
    except WaitTimeout:
        wanted = ", ".join(part for part in (
            "%d CPUs online" % vcpus if vcpus is not None else "",
            "%d MiB online" % memory_mib if memory_mib is not None else "") if part)
        raise GuestNotConverged(domain.name(), clock() - start, wanted, last[0])


# ---------------------------------------------------------------------------------------------
# Entry points for the modules
# ---------------------------------------------------------------------------------------------

def _closing(uri, func):
    conn = open_connection(uri)
    try:
        return func(conn)
    finally:
        conn.close()


def scaling_info(uri, key, guest_info=False, guest_timeout=DEFAULT_GUEST_TIMEOUT):
    """Typed view, readiness and (optionally) the guest's view of one domain."""
    def read(conn):
        domain = find_domain(conn, key)
        view = domain_view(domain)
        findings = readiness(view)
        result = {"domain": view.as_dict(),
                  "readiness": {"ready": not findings, "missing": [finding._asdict() for finding in findings]}}
        if guest_info:
            try:
                result["guest"] = dict(guest_view(domain, guest_timeout).as_dict(), available=True)
            except GuestAgentUnavailable as exc:
                result["guest"] = {"available": False, "error": str(exc)}
        return result
    return _closing(uri, read)


def _size(view):
    return {"vcpus": view.vcpus, "memory": view.memory_mib, "current_memory": view.current_memory_mib}


def _shape(size):
    """``4 vCPU/4096 MiB``, with ``(3072 MiB in use)`` when the balloon holds memory back."""
    shape = "%d vCPU/%d MiB" % (size["vcpus"], size["memory"])
    return shape if size["current_memory"] == size["memory"] else "%s (%d MiB in use)" % (shape, size["current_memory"])


def _scale_line(name, diff, persisted, guest, stopwatch, check_mode):
    """``i-2-10-VM: 2 vCPU/1024 MiB → 4 vCPU/4096 MiB, live, guest sees 4 CPUs online, 0.4 s``."""
    before, after = _shape(diff["before"]), _shape(diff["after"])
    if before == after:
        return summary.unchanged(name, after)
    details = ["live"] + (["persisted"] if persisted else [])
    if guest:
        memory = "" if guest["online_memory_mib"] is None else " and %d MiB" % guest["online_memory_mib"]
        details.append("guest sees %d CPUs%s online" % (guest["online_cpus"], memory))
    return summary.changed_line(name, "%s %s %s" % (before, summary.ARROW, after), ", ".join(details), stopwatch,
                                check_mode)


def scale_domain(uri, key, vcpus=None, memory_mib=None, memory_method="dimm", persist=False, check_mode=False,
                 verify_guest=False, verify_timeout=60, clock=time.monotonic, sleep=time.sleep):
    """Scale one domain up live; result dict with changed, changes, diff, domain and (verified) guest."""
    stopwatch = summary.Stopwatch(clock)

    def scale(conn):
        domain = find_domain(conn, key)
        before = domain_view(domain)
        changes = plan_scale(before, vcpus, memory_mib, memory_method)
        result = {"changed": bool(changes), "changes": [_describe(change) for change in changes], "persisted": False}
        if changes and not check_mode:
            result["changes"], result["persisted"] = apply_plan(domain, changes, persist)
        view = domain_view(domain) if changes and not check_mode else before
        after = _size(view)
        if check_mode:
            for change in changes:
                after["vcpus" if change.what == "vcpus" else "current_memory" if change.detail == "balloon" else "memory"] = change.after
        result.update(domain=view.as_dict(), diff={"before": _size(before), "after": after})
        if verify_guest and not check_mode:
            dimm_target = memory_mib if memory_method == "dimm" else None
            result["guest"] = wait_for_guest(domain, vcpus, dimm_target, verify_timeout, clock, sleep).as_dict()
        result["summary"] = _scale_line(view.name, result["diff"], result["persisted"], result.get("guest"), stopwatch,
                                        check_mode)
        return result
    return _closing(uri, scale)

"""The simulator's host agent: what CloudStack's KVM agent does to a domain, over real libvirt.

One agent (one libvirt connection) per URI in this process: ``agent_for(uri)``. Domains are
transient (created from XML, destroyed on stop), written by ``simulator.domain_xml`` the way
``LibvirtComputingResource.createVMFromSpec`` writes them. ``scale`` follows
``LibvirtScaleVmCommandWrapper.execute``: memory (one DIMM of new - current total, only on a domain whose XML
has ``<maxMemory slots='16' unit='KiB'>``), vCPUs (only up), cpu_shares (only up), then the CPU cap
(``updateCpuQuotaAndPeriod``: period, then quota). The agent has its own libvirt glue and shares no code with
the collection it is used to check.

On ``test:///`` hosts libvirt cannot hot-plug devices nor set cpu_shares/quota, so the agent
emulates them: the domain's <memory> is the ceiling (max memory) and a "DIMM" raises the live
memory with setMemoryFlags; DIMM sizes and cputune values live in the agent's bookkeeping, so
``DomainView`` has the same shape as on QEMU hosts, where the DIMM hot-plug and the scheduler
parameters are real.

Guest image (real QEMU hosts): the seed field ``guest_image`` of a host (simulator/seed.py) or, in
process, ``agent_for(uri, guest_image=GuestImage(kernel=..., initrd=..., cmdline=..., disk=...), workdir=DIR)``;
every domain the agent starts afterwards boots that kernel (direct kernel boot, TCG). A
``disk`` is never written: each domain boots a qcow2 overlay ``DIR/<name>.qcow2`` on it, created at start
and removed at stop. Without ``console_log`` each domain's serial console goes to ``DIR/<name>.console.log``.
Without an image a QEMU domain starts with nothing to boot, which is enough for the libvirt-level checks.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import libvirt

from simulator.domain_xml import (MAX_CPU_QUOTA, PREPARED_MARK, DomainSpec, GuestImage, HostFacts, cpu_quota_period,
                                  dimm_device, domain_type_for_uri, free_page_reporting, read_domain, write_domain)

DEFAULT_WORKDIR = "/var/lib/libvirt/images/livescale-simulator"
QCOW2_MAGIC = b"QFI\xfb"
_VM_TYPES = {"i": "User", "r": "DomainRouter", "s": "SecondaryStorageVm", "v": "ConsoleProxy"}
NOT_PREPARED = (
    "The %s is not prepared for dynamic scaling. To be prepared, the VM must be deployed with a dynamic service "
    "offering, VM dynamic scale enabled and global setting \"enable.dynamic.scale.vm\" as \"true\". If you changed "
    "one of these settings after deploying the VM, consider stopping and starting it again to prepared it to "
    "dynamic scaling.")


class AgentError(Exception):
    """A host operation failed; str() says what failed and what was and was not applied."""

    def __init__(self, message: str, reason: str = "", applied: tuple = (), not_applied: tuple = ()):
        self.message = message
        self.reason = reason or message
        self.applied = tuple(applied)
        self.not_applied = tuple(not_applied)
        text = message
        if self.applied or self.not_applied:
            done = "; ".join(self.applied) or "nothing"
            text += " Applied: %s. Not applied: %s." % (done, "; ".join(self.not_applied) or "nothing")
        super().__init__(text)


@dataclass(frozen=True)
class DomainView:
    """A domain as the host sees it; memory_mib is the total including hot-plugged DIMMs."""

    name: str
    uuid: str
    running: bool
    vcpus: int
    max_vcpus: int
    memory_mib: int
    current_memory_mib: int
    max_memory_mib: int | None
    dimm_slots: int
    dimms: tuple[int, ...]
    cpu_shares: int
    cpu_quota: int | None
    cpu_period: int | None


@dataclass
class _Emulated:
    """Bookkeeping of what the test driver cannot hold: base memory, DIMMs and cputune."""

    base_memory_mib: int
    cpu_shares: int
    cpu_quota: int | None
    cpu_period: int | None
    dimms: list[int] = field(default_factory=list)


def vm_label(name: str, uuid: str) -> str:
    """CloudStack's VirtualMachineTO text, with the id and type read from the instance name."""
    match = re.match(r"^i-\d+-(\d+)-", name) or re.match(r"^[rsv]-(\d+)-", name)
    vm_id = match.group(1) if match else ""
    vm_type = _VM_TYPES.get(name[:1], "User") if match else "User"
    return 'VM {id: "%s", name: "%s", uuid: "%s", type: "%s"}' % (vm_id, name, uuid, vm_type)


class HostAgent:
    """The agent of one libvirt host (URI); thread-safe, connects on first use."""

    def __init__(self, uri: str, guest_image: GuestImage | None = None, workdir: str | None = None):
        self.uri = uri
        self.guest_image = guest_image
        self.workdir = workdir or DEFAULT_WORKDIR
        self.domain_type = domain_type_for_uri(uri)
        self.emulated = self.domain_type == "test"
        self._conn = None
        self._lock = threading.RLock()
        self._books: dict[str, _Emulated] = {}
        self._overlays: dict[str, str] = {}
        self.balloon_stats_period = 0  # agent.properties vm.memballoon.stats.period

    @property
    def conn(self):
        """The agent's libvirt connection (opened once)."""
        with self._lock:
            if self._conn is None:
                libvirt.registerErrorHandler(_quiet, None)
                try:
                    self._conn = libvirt.open(self.uri)
                except libvirt.libvirtError as exc:
                    raise AgentError("cannot connect to libvirt at %s: %s"
                                     % (self.uri, exc.get_error_message())) from exc
            return self._conn

    def _lookup(self, name: str):
        """The domain named ``name`` (conn.domainLookupByName, as the KVM agent looks domains up), or None."""
        try:
            return self.conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise AgentError("cannot look up domain %s on %s: %s" % (name, self.uri, exc.get_error_message())) from exc

    def _require(self, name: str):
        domain = self._lookup(name)
        if domain is None:
            raise AgentError("domain %s does not exist on host %s" % (name, self.uri))
        return domain

    def start(self, spec: DomainSpec) -> DomainView:
        """Create the transient domain for ``spec`` (a running domain with its UUID is adopted as it is).

        AgentError if another domain has the name or libvirt refuses.
        """
        image = self._domain_image(spec.name)
        xml = write_domain(spec, HostFacts(self.domain_type, image, disk_format="qcow2",
                                           balloon_stats_period=self.balloon_stats_period,
                                           free_page_reporting=self._free_page_reporting()))
        prepared = spec.max_memory_mib is not None and spec.max_memory_mib > spec.memory_mib
        if self.emulated and prepared:
            xml = _with_memory_ceiling(xml, spec.max_memory_mib)
        with self._lock:
            existing = self._lookup(spec.name)
            if existing is not None:
                if existing.UUIDString() == spec.uuid and existing.isActive():
                    self._adopt_overlay(spec.name)
                    return self.view(spec.name)
                raise AgentError("cannot start %s: another domain (UUID %s) has that name on %s"
                                 % (spec.name, existing.UUIDString(), self.uri))
            if image is not None and image.disk:
                self._create_overlay(spec.name, image.disk)
            try:
                self.conn.createXML(xml, 0)
            except libvirt.libvirtError as exc:
                self._remove_overlay(spec.name)
                raise AgentError("cannot start %s on %s: %s" % (spec.name, self.uri, exc.get_error_message())) from exc
            if self.emulated:
                state = read_domain(self._xml(self.conn.lookupByName(spec.name)))
                self._books[spec.name] = _Emulated(spec.memory_mib, spec.cpu_shares, state.cpu_quota, state.cpu_period)
            return self.view(spec.name)

    def _free_page_reporting(self) -> bool:
        """MemBalloonDef's autodeflate/freePageReporting condition on this host's libvirt and hypervisor versions."""
        try:
            return free_page_reporting(self.conn.getLibVersion(), self.conn.getVersion())
        except libvirt.libvirtError as exc:
            raise AgentError("cannot read the versions of %s: %s" % (self.uri, exc.get_error_message())) from exc

    def _domain_image(self, name: str) -> GuestImage | None:
        """The guest image of one domain: its own qcow2 overlay instead of the base disk, its own console log."""
        image = self.guest_image
        if image is None:
            return None
        return image._replace(disk=self._overlay_path(name) if image.disk else None,
                              console_log=image.console_log or os.path.join(self.workdir, name + ".console.log"))

    def _overlay_path(self, name: str) -> str:
        return os.path.join(self.workdir, name + ".qcow2")

    def _create_overlay(self, name: str, overlay: str) -> None:
        """qemu-img create a fresh qcow2 overlay on the base disk (a left-over overlay of that name is replaced)."""
        base = os.path.abspath(self.guest_image.disk)
        try:
            os.makedirs(self.workdir, mode=0o755, exist_ok=True)
            if os.path.exists(overlay):
                os.unlink(overlay)
            result = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", disk_format(base), "-b", base,
                                     overlay], capture_output=True, text=True, check=False)
        except FileNotFoundError as exc:
            raise AgentError("cannot start %s: qemu-img not found; install qemu-utils (scripts/setup.sh)" % name) from exc
        except OSError as exc:
            raise AgentError("cannot start %s: cannot prepare the disk overlay %s: %s" % (name, overlay, exc)) from exc
        if result.returncode != 0:
            raise AgentError("cannot start %s: qemu-img could not create the overlay %s on %s: %s"
                             % (name, overlay, base, result.stderr.strip()))
        self._overlays[name] = overlay

    def _adopt_overlay(self, name: str) -> None:
        """A running domain adopted after a simulator restart keeps its overlay, removed at its stop."""
        if self.guest_image is not None and self.guest_image.disk and os.path.exists(self._overlay_path(name)):
            self._overlays[name] = self._overlay_path(name)

    def _remove_overlay(self, name: str) -> None:
        overlay = self._overlays.pop(name, None)
        if overlay is not None and os.path.exists(overlay):
            os.unlink(overlay)

    def stop(self, name: str) -> None:
        """Destroy the domain (if it exists) and remove its disk overlay."""
        with self._lock:
            domain = self._lookup(name)
            self._books.pop(name, None)
            if domain is not None:
                try:
                    domain.destroy()
                except libvirt.libvirtError as exc:
                    if self._lookup(name) is not None:
                        raise AgentError("cannot stop %s on %s: %s"
                                         % (name, self.uri, exc.get_error_message())) from exc
            self._remove_overlay(name)

    def view(self, name: str) -> DomainView | None:
        """The domain as the host sees it, or None if absent."""
        with self._lock:
            domain = self._lookup(name)
            if domain is None:
                return None
            xml = read_domain(self._xml(domain))
            max_memory_mib = None if xml.max_memory_kib is None else xml.max_memory_kib // 1024
            books = self._books.get(name)
            if books is None:
                return DomainView(
                    xml.name, xml.uuid, xml.running, xml.vcpus, xml.max_vcpus, xml.memory_kib // 1024,
                    xml.current_memory_kib // 1024, max_memory_mib, xml.memory_slots,
                    tuple(size // 1024 for size in xml.dimms_kib), xml.cpu_shares or 0, xml.cpu_quota, xml.cpu_period)
            return DomainView(
                xml.name, xml.uuid, xml.running, xml.vcpus, xml.max_vcpus, books.base_memory_mib + sum(books.dimms),
                xml.current_memory_kib // 1024, max_memory_mib, xml.memory_slots, tuple(books.dimms), books.cpu_shares,
                books.cpu_quota, books.cpu_period)

    def cpu_time(self, name: str) -> int | None:
        """The domain's CPU time in ns (virDomainGetInfo, as getVmCurrentCpuStats reads it), None if it is absent."""
        with self._lock:
            domain = self._lookup(name)
            try:
                return None if domain is None else domain.info()[4]
            except libvirt.libvirtError:
                return None  # gone meanwhile: the KVM agent then returns no stats for it

    def unused_memory_kib(self, name: str) -> int | None:
        """The guest's unused memory (virDomainMemoryStats 'unused', as getMemoryFreeInKBs reads it): None without
        balloon statistics or domain."""
        with self._lock:
            domain = self._lookup(name)
            try:
                return None if domain is None else domain.memoryStats().get("unused")
            except libvirt.libvirtError:
                return None

    def _xml(self, domain, flags: int = 0) -> str:
        """virDomainGetXMLDesc of a domain; AgentError naming the domain when libvirt refuses."""
        try:
            return domain.XMLDesc(flags)
        except libvirt.libvirtError as exc:
            raise AgentError("cannot read the XML of domain %s on %s: %s"
                             % (domain.name(), self.uri, exc.get_error_message())) from exc

    def scale(self, name: str, vcpus: int, memory_mib: int, cpu_shares: int, cpu_quota_pct: float | None,
              limit_cpu_use_change: bool) -> str:
        """Scale a running domain like the KVM agent; the success answer, or AgentError naming what was applied."""
        with self._lock:
            domain = self._require(name)
            before = self.view(name)
            label = vm_label(name, before.uuid)
            steps = self._plan(domain, before, (vcpus, memory_mib, cpu_shares, cpu_quota_pct, limit_cpu_use_change), label)
            for index, (description, action) in enumerate(steps):
                try:
                    action()
                except (libvirt.libvirtError, _StepFailed) as exc:
                    reason = exc.get_error_message() if hasattr(exc, "get_error_message") else str(exc)
                    raise AgentError("Unable to scale %s due to [%s]." % (label, reason), reason,
                                     [step[0] for step in steps[:index]], [step[0] for step in steps[index:]]) from exc
            return ("Successfully scaled %s memory to [%d KiB], CPU cores to [%d] and cpu_shares to [%d]."
                    % (label, memory_mib * 1024, vcpus, cpu_shares))

    def _plan(self, domain, before, target, label):
        """The ordered (description, action) steps of one scale, in the KVM agent's order."""
        vcpus, memory_mib, cpu_shares, cpu_quota_pct, limit_cpu_use_change = target
        steps = []
        attach = memory_mib - before.memory_mib
        if attach > 0:
            steps.append(("memory %d -> %d MiB (one DIMM of %d MiB)" % (before.memory_mib, memory_mib, attach),
                          lambda: self._attach_dimm(domain, before, attach, label)))
        if before.vcpus < vcpus:
            steps.append(("vCPUs %d -> %d" % (before.vcpus, vcpus),
                          lambda: domain.setVcpus(vcpus)))
        if before.cpu_shares < cpu_shares:
            steps.append(("cpu_shares %d -> %d" % (before.cpu_shares, cpu_shares),
                          lambda: self._set_tune(domain, cpu_shares=cpu_shares)))
        if cpu_quota_pct is not None:
            quota, period = cpu_quota_period(cpu_quota_pct)
            steps.append(("vcpu_period -> %d" % period, lambda: self._set_tune(domain, vcpu_period=period)))
            steps.append(("vcpu_quota -> %d" % quota, lambda: self._set_tune(domain, vcpu_quota=quota)))
        elif limit_cpu_use_change:
            steps.append(("vcpu_quota -> %d (cap removed)" % MAX_CPU_QUOTA,
                          lambda: self._set_tune(domain, vcpu_quota=MAX_CPU_QUOTA)))
        return steps

    def _attach_dimm(self, domain, before: DomainView, size_mib: int, label: str) -> None:
        if PREPARED_MARK not in domain.XMLDesc(0):
            raise _StepFailed(NOT_PREPARED % label)
        books = self._books.get(before.name)
        if books is None:
            domain.attachDevice(dimm_device(size_mib * 1024))
            return
        if len(books.dimms) >= before.dimm_slots:
            raise _StepFailed("no free memory device slot available (all %d used)" % before.dimm_slots)
        if before.memory_mib + size_mib > before.max_memory_mib:
            raise _StepFailed("Attaching memory device with size '%d' KiB would exceed domain's maxMemory config size "
                              "'%d' KiB" % (size_mib * 1024, before.max_memory_mib * 1024))
        domain.setMemoryFlags((before.memory_mib + size_mib) * 1024, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        books.dimms.append(size_mib)

    def _set_tune(self, domain, **params) -> None:
        books = self._books.get(domain.name())
        if books is None:
            domain.setSchedulerParametersFlags(params, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            return
        for key, value in params.items():
            setattr(books, {"vcpu_period": "cpu_period", "vcpu_quota": "cpu_quota"}.get(key, key), value)

    def migrate(self, name: str, dest: HostAgent) -> DomainView:
        """Move the domain to ``dest``: kept live on the same host, recreated with the same live size elsewhere."""
        if dest is self or dest.uri == self.uri:
            view = self.view(name)
            if view is None:
                raise AgentError("domain %s does not exist on host %s" % (name, self.uri))
            return view
        if dest.domain_type != self.domain_type:
            raise AgentError("cannot migrate %s from a %s host (%s) to a %s host (%s)"
                             % (name, self.domain_type, self.uri, dest.domain_type, dest.uri))
        first, second = sorted((self, dest), key=lambda agent: agent.uri)  # one lock order: no deadlock
        with first._lock, second._lock:
            domain = self._require(name)
            xml = _without_id(self._xml(domain, libvirt.VIR_DOMAIN_XML_MIGRATABLE))
            if dest._lookup(name) is not None:
                raise AgentError("cannot migrate %s: a domain with that name already runs on %s" % (name, dest.uri))
            try:
                dest.conn.createXML(xml, 0)
            except libvirt.libvirtError as exc:
                raise AgentError("cannot migrate %s to %s: %s; it still runs on %s"
                                 % (name, dest.uri, exc.get_error_message(), self.uri)) from exc
            books = self._books.pop(name, None)
            if books is not None:
                dest._books[name] = books
            overlay = self._overlays.pop(name, None)
            if overlay is not None:
                dest._overlays[name] = overlay
            view = dest.view(name)
            domain.destroy()
            return view


def _quiet(_context, _error) -> None:
    """libvirt error handler that keeps errors off stderr: they arrive as exceptions anyway."""


class _StepFailed(Exception):
    """An emulated libvirt call refused (same meaning as the libvirt error on a QEMU host)."""


def _with_memory_ceiling(xml: str, max_memory_mib: int) -> str:
    root = ET.fromstring(xml)
    root.find("memory").text = str(max_memory_mib * 1024)
    return ET.tostring(root, encoding="unicode")


def disk_format(path: str) -> str:
    """'qcow2' when the image starts with the qcow2 magic, else 'raw'."""
    with open(path, "rb") as image:
        return "qcow2" if image.read(len(QCOW2_MAGIC)) == QCOW2_MAGIC else "raw"


def _without_id(xml: str) -> str:
    root = ET.fromstring(xml)
    root.attrib.pop("id", None)
    return ET.tostring(root, encoding="unicode")


_AGENTS: dict[str, HostAgent] = {}
_AGENTS_LOCK = threading.Lock()


def agent_for(uri: str, guest_image: GuestImage | None = None, workdir: str | None = None) -> HostAgent:
    """The one shared agent of ``uri`` in this process; ``guest_image`` and ``workdir`` (if given) apply to later starts."""
    with _AGENTS_LOCK:
        agent = _AGENTS.get(uri)
        if agent is None:
            agent = _AGENTS[uri] = HostAgent(uri)
        if guest_image is not None:
            agent.guest_image = guest_image
        if workdir is not None:
            agent.workdir = workdir
        return agent


def agent_for_host(host: dict) -> HostAgent:
    """The shared agent of a simulator host record; its ``guest_image`` (seed field, resolved) and
    ``memballoon_stats_period`` apply to later starts."""
    boot = dict(host.get("guest_image") or {})
    workdir = boot.pop("workdir", None)
    agent = agent_for(host["uri"], guest_image=GuestImage(**boot) if boot else None, workdir=workdir)
    if host.get("memballoon_stats_period"):
        agent.balloon_stats_period = host["memballoon_stats_period"]
    return agent

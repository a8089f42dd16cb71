"""Domain XML of the simulator's KVM agent: written the way CloudStack's agent writes it, read back for the agent.

The writer follows ``LibvirtComputingResource.createVMFromSpec`` / ``configureVM`` and the ``toString()`` of
``LibvirtVMDef`` and its parts (plugins/hypervisors/kvm/src/main/java/com/cloud/hypervisor/kvm/resource/).
``LibvirtVMDef`` keeps its parts in a HashMap keyed by class name, so the document lists them in that map's
order: CpuModeDef, GuestDef, TermPolicy, GuestResourceDef, FeaturesDef, CpuTuneDef, ClockDef, DevicesDef.
Like CloudStack's, the document has two ``<cpu>`` elements (the CPU mode, then the NUMA cell of
``GuestResourceDef``) and two ``<devices>`` (the memory balloon, then the devices); libvirt keeps the first
``<cpu>``'s mode, the NUMA cells of both and the devices of both.

Simulator additions, none of which CloudStack writes: the domain type of the libvirt driver (``test`` on
test:///, ``qemu`` (TCG) elsewhere, where CloudStack writes ``kvm``), and the guest image's direct kernel boot,
raw/qcow2 disk and serial console log file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import NamedTuple

GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0"
DIMM_SLOTS = 16
PREPARED_MARK = "<maxMemory slots='%d' unit='KiB'>" % DIMM_SLOTS
TCG_CPU_MODEL = "qemu64"
SMBIOS_MANUFACTURER = "Apache Software Foundation"
SMBIOS_PRODUCT = "CloudStack KVM Hypervisor"
# LibvirtVMDef.MemBalloonDef: autodeflate and freePageReporting need libvirt 6.9.0 and QEMU 5.1.0
FREE_PAGE_REPORTING_LIBVIRT = 6009000
FREE_PAGE_REPORTING_QEMU = 5001000
# LibvirtVMDef.CpuTuneDef
CPU_PERIOD = 10000
MIN_CPU_QUOTA = 1000
MAX_CPU_PERIOD = 1000000
MAX_CPU_QUOTA = 17592186044415


class GuestImage(NamedTuple):
    """A bootable guest for real QEMU hosts: kernel and initrd paths, kernel command line, disk, console log."""

    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    disk: str | None = None
    console_log: str | None = None


@dataclass(frozen=True)
class DomainSpec:
    """What the management server sends to start a VM (the parts of its VirtualMachineTO the domain is made of).

    ``memory_mib`` is the current memory (minRam with ballooning, for a User VM), ``max_memory_mib`` the maxRam
    (None: none); ``max_vcpus`` is the vcpuMaxLimit, written as it is (libvirt refuses a maximum below ``vcpus``);
    ``cpu_quota_pct`` is the CPU cap of a limitcpuuse offering (None: no cap).
    """

    name: str
    uuid: str
    vcpus: int
    max_vcpus: int
    memory_mib: int
    max_memory_mib: int | None
    cpu_shares: int
    cpu_quota_pct: float | None = None


@dataclass(frozen=True)
class HostFacts:
    """What the agent of one host adds to every domain it writes.

    ``balloon_stats_period`` is agent.properties ``vm.memballoon.stats.period`` (default 0, which libvirt drops);
    ``disk_format`` is the format of the guest image's disk (the agent boots qcow2 overlays).
    """

    domain_type: str = "qemu"
    guest_image: GuestImage | None = None
    disk_format: str = "raw"
    balloon_stats_period: int = 0
    free_page_reporting: bool = False


def cpu_quota_period(pct: float) -> tuple[int, int]:
    """LibvirtComputingResource.getPeriodAndQuota: (quota, period) of a CPU cap of ``pct`` (a fraction of a core).

    quota = period x pct with the default period; below the minimum quota, the minimum quota and the period
    that gives ``pct`` (Java's quota / 0.0 is infinite), at most the maximum period.
    """
    quota = int(CPU_PERIOD * pct)
    if quota >= MIN_CPU_QUOTA:
        return quota, CPU_PERIOD
    return MIN_CPU_QUOTA, MAX_CPU_PERIOD if pct <= 0 else min(int(MIN_CPU_QUOTA / pct), MAX_CPU_PERIOD)


def domain_type_for_uri(uri: str) -> str:
    """Domain type the simulator creates on a URI: 'test' for test:///, 'qemu' (TCG) otherwise."""
    return "test" if uri.split(":", 1)[0] == "test" else "qemu"


def free_page_reporting(libvirt_version: int, qemu_version: int) -> bool:
    """MemBalloonDef's version test (libvirt and QEMU versions as major*1e6 + minor*1e3 + release)."""
    return qemu_version >= FREE_PAGE_REPORTING_QEMU and libvirt_version >= FREE_PAGE_REPORTING_LIBVIRT


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, {key.rstrip("_"): str(value) for key, value in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def _cpu_mode(root, host):
    """CpuModeDef: mode 'custom' with the TCG model on QEMU hosts, a bare <cpu> (no guest.cpu.mode) on test hosts."""
    if host.domain_type == "test":
        _sub(root, "cpu")
    else:
        _sub(_sub(root, "cpu", mode="custom", match="exact"), "model", TCG_CPU_MODEL, fallback="allow")


def _guest(root, spec, host):
    """GuestDef (KVM guest type): SMBIOS system entries, then <os> with machine 'pc' and cdrom, hd boot order."""
    system = _sub(_sub(root, "sysinfo", type="smbios"), "system")
    for name, value in (("manufacturer", SMBIOS_MANUFACTURER), ("product", SMBIOS_PRODUCT),
                        ("uuid", spec.uuid), ("serial", spec.uuid)):
        _sub(system, "entry", value, name=name)
    os_element = _sub(root, "os")
    if host.domain_type == "test":
        _sub(os_element, "type", "hvm", arch="x86_64")
    else:
        _sub(os_element, "type", "hvm", arch="x86_64", machine="pc")
    image = host.guest_image or GuestImage()
    for tag in ("kernel", "initrd", "cmdline"):
        if getattr(image, tag):
            _sub(os_element, tag, getattr(image, tag))
    for device in ("cdrom", "hd"):
        _sub(os_element, "boot", dev=device)
    _sub(os_element, "smbios", mode="sysinfo")


def _term_policy(root):
    """createTermPolicy: restart on reboot, destroy on power-off and crash."""
    for tag, action in (("on_reboot", "restart"), ("on_poweroff", "destroy"), ("on_crash", "destroy")):
        _sub(root, tag, action)


def _guest_resources(root, spec, host):
    """GuestResourceDef.toString: memory, current memory, <maxMemory> and NUMA cell (above current), balloon, vCPUs."""
    memory_kib = spec.memory_mib * 1024
    _sub(root, "memory", memory_kib)
    _sub(root, "currentMemory", memory_kib)
    max_memory_kib = (spec.max_memory_mib or 0) * 1024
    if max_memory_kib > memory_kib:
        _sub(root, "maxMemory", max_memory_kib, slots=DIMM_SLOTS, unit="KiB")
        numa = _sub(_sub(root, "cpu"), "numa")
        _sub(numa, "cell", id=0, cpus="0-%d" % (spec.max_vcpus - 1), memory=memory_kib, unit="KiB")
    balloon = _sub(_sub(root, "devices"), "memballoon", model="virtio")
    if host.free_page_reporting:
        balloon.set("autodeflate", "on")
        balloon.set("freePageReporting", "on")
    _sub(balloon, "stats", period=host.balloon_stats_period)
    _sub(root, "vcpu", spec.max_vcpus, current=spec.vcpus)


def _features(root):
    """createFeaturesDef on x86_64 without UEFI: pae, apic, acpi."""
    features = _sub(root, "features")
    for feature in ("pae", "apic", "acpi"):
        _sub(features, feature)


def _cpu_tune(root, spec):
    """createCpuTuneDef: shares; quota and period (setQuotaAndPeriod) only for a CPU cap; each only when positive."""
    quota, period = cpu_quota_period(spec.cpu_quota_pct) if spec.cpu_quota_pct is not None else (0, 0)
    tune = _sub(root, "cputune")
    for tag, value in (("shares", spec.cpu_shares), ("quota", quota), ("period", period)):
        if value > 0:
            _sub(tune, tag, value)


def _devices(root, host):
    """createDevicesDef, the parts the simulator's guests need: the guest image's disk and console, agent channel."""
    devices = _sub(root, "devices")
    image = host.guest_image or GuestImage()
    if image.disk:
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type=host.disk_format)
        _sub(disk, "source", file=image.disk)
        _sub(disk, "target", dev="vda", bus="virtio")
    if image.console_log and host.domain_type != "test":
        _sub(_sub(devices, "serial", type="file"), "source", path=image.console_log)
    _sub(_sub(devices, "channel", type="unix"), "target", type="virtio", name=GUEST_AGENT_CHANNEL)


def write_domain(spec: DomainSpec, host: HostFacts = HostFacts()) -> str:
    """The domain XML of ``spec`` on ``host``, shaped like LibvirtVMDef.toString (see the module docstring)."""
    root = ET.Element("domain", type=host.domain_type)
    _sub(root, "name", spec.name)
    _sub(root, "uuid", spec.uuid)
    _cpu_mode(root, host)
    _guest(root, spec, host)
    _term_policy(root)
    _guest_resources(root, spec, host)
    _features(root)
    _cpu_tune(root, spec)
    _sub(root, "clock", offset="utc")
    _devices(root, host)
    return ET.tostring(root, encoding="unicode")


def dimm_device(size_kib: int) -> str:
    """LibvirtVmMemoryDeviceDef.toString: the DIMM of ``size_kib`` on NUMA node 0 that a live scale attaches."""
    return "<memory model='dimm'><target><size unit='KiB'>%d</size><node>0</node></target></memory>" % size_kib


@dataclass(frozen=True)
class DomainState:  # pylint: disable=too-many-instance-attributes
    """What the agent reads back from libvirt's XML of a domain; memory in KiB."""

    name: str
    uuid: str
    running: bool
    vcpus: int
    max_vcpus: int
    memory_kib: int
    current_memory_kib: int
    max_memory_kib: int | None
    memory_slots: int
    dimms_kib: tuple[int, ...]
    cpu_shares: int | None
    cpu_quota: int | None
    cpu_period: int | None
    prepared: bool


def _number(root, path):
    text = root.findtext(path)
    return None if text is None else int(text.strip())


def _kib(element):
    """Value of a libvirt memory element in KiB; libvirt's own XML always gives unit='KiB' (the default)."""
    unit = element.get("unit", "KiB")
    if unit not in ("KiB", "k"):
        raise ValueError("unexpected memory unit %r in <%s>" % (unit, element.tag))
    return int(element.text.strip())


def read_domain(xml: str) -> DomainState:
    """DomainState of libvirt's XML of a domain (virDomainGetXMLDesc).

    ``prepared`` is LibvirtScaleVmCommandWrapper.scaleMemory's test: the XML contains
    ``<maxMemory slots='16' unit='KiB'>``.
    """
    root = ET.fromstring(xml)
    vcpu = root.find("vcpu")
    max_vcpus = int(vcpu.text.strip())
    max_memory = root.find("maxMemory")
    memory_kib = _kib(root.find("memory"))
    current = root.find("currentMemory")
    return DomainState(
        name=root.findtext("name"), uuid=root.findtext("uuid"), running=root.get("id") not in (None, "-1"),
        vcpus=int(vcpu.get("current", max_vcpus)), max_vcpus=max_vcpus, memory_kib=memory_kib,
        current_memory_kib=memory_kib if current is None else _kib(current),
        max_memory_kib=None if max_memory is None else _kib(max_memory),
        memory_slots=0 if max_memory is None else int(max_memory.get("slots", "0")),
        dimms_kib=tuple(_kib(device.find("target/size")) for device in root.findall("devices/memory[@model='dimm']")),
        cpu_shares=_number(root, "cputune/shares"), cpu_quota=_number(root, "cputune/quota"),
        cpu_period=_number(root, "cputune/period"), prepared=PREPARED_MARK in xml)

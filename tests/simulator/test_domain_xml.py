"""The simulator's domain XML writer and reader against what CloudStack's KVM agent writes.

Expected texts are the output of plugins/hypervisors/kvm/src/main/java/com/cloud/hypervisor/kvm/resource/
LibvirtVMDef.java (GuestResourceDef, CpuTuneDef, FeaturesDef, TermPolicy, MemBalloonDef .toString) and
LibvirtVmMemoryDeviceDef.toString for the values LibvirtComputingResource.createVMFromSpec gives them.
"""

import xml.etree.ElementTree as ET

import libvirt
import pytest

from simulator import domain_xml
from simulator.domain_xml import DomainSpec, GuestImage, HostFacts, read_domain, write_domain

UUID = "7d6c1e0a-3b2f-4f4e-9a1d-5c6b7a8e9f10"
TEST_HOST = HostFacts(domain_type="test")
# A User VM of 1 vCPU and 512 MiB, scalable to 4 vCPUs and 2048 MiB, cpu_shares 500, CPU cap 0.5 (quota 5000/10000)
TYPICAL = DomainSpec("i-2-10-VM", UUID, 1, 4, 512, 2048, 500, 0.5)
# GuestResourceDef.toString, then CpuTuneDef.toString, FeaturesDef.toString and TermPolicy.toString, for TYPICAL
# (agent.properties vm.memballoon.stats.period=0, its default)
GUEST_RESOURCES = """<memory>524288</memory>
<currentMemory>524288</currentMemory>
<maxMemory slots='16' unit='KiB'>2097152</maxMemory>
<cpu> <numa> <cell id='0' cpus='0-3' memory='524288' unit='KiB'/> </numa> </cpu>
<devices>
<memballoon model='virtio'>
<stats period='0'/>
</memballoon>
</devices>
<vcpu current="1">4</vcpu>
"""
CPU_TUNE = "<cputune>\n<shares>500</shares>\n<quota>5000</quota>\n<period>10000</period>\n</cputune>\n"
FEATURES = "<features>\n<pae/>\n<apic/>\n<acpi/>\n</features>\n"
TERM_POLICY = "<on_reboot>restart</on_reboot>\n<on_poweroff>destroy</on_poweroff>\n<on_crash>destroy</on_crash>\n"
# LibvirtVMDef.toString walks its HashMap of parts: CpuModeDef, GuestDef, TermPolicy, GuestResourceDef, FeaturesDef,
# CpuTuneDef, ClockDef, DevicesDef (MetadataDef is not written by the simulator)
PART_ORDER = ["name", "uuid", "cpu", "sysinfo", "os", "on_reboot", "on_poweroff", "on_crash", "memory", "currentMemory",
              "maxMemory", "cpu", "devices", "vcpu", "features", "cputune", "clock", "devices"]


def _canonical(element):
    return (element.tag, sorted(element.attrib.items()), (element.text or "").strip(),
            [_canonical(child) for child in element])


def _parts(xml):
    return [_canonical(child) for child in ET.fromstring("<domain>%s</domain>" % xml)]


def _contains_in_order(parts, expected):
    return any(parts[start:start + len(expected)] == expected for start in range(len(parts)))


@pytest.mark.parametrize("fragment", [GUEST_RESOURCES, CPU_TUNE, FEATURES, TERM_POLICY])
def test_typical_vm_has_what_libvirt_vm_def_writes(fragment):
    written = [_canonical(child) for child in ET.fromstring(write_domain(TYPICAL, TEST_HOST))]
    assert _contains_in_order(written, _parts(fragment))


def test_parts_come_in_libvirt_vm_def_order():
    assert [child.tag for child in ET.fromstring(write_domain(TYPICAL, TEST_HOST))] == PART_ORDER


def test_no_max_memory_nor_numa_cell_when_max_ram_is_not_above_the_current():
    """GuestResourceDef.toString writes <maxMemory> and the NUMA cell only when maxMemory > currentMemory."""
    root = ET.fromstring(write_domain(DomainSpec("i-2-11-VM", UUID, 2, 2, 512, 512, 1000), TEST_HOST))
    assert root.find("maxMemory") is None and root.find("cpu/numa") is None
    assert (root.find("vcpu").get("current"), root.find("vcpu").text) == ("2", "2")
    assert [child.tag for child in root.find("cputune")] == ["shares"]


def test_the_vcpu_maximum_is_written_as_given_even_below_the_vcpus():
    """createGuestResourceDef: setMaxVcpuNum(vcpuMaxLimit), no raise to the VM's vCPUs (spec 0.1 errata, KVMGuru)."""
    vcpu = ET.fromstring(write_domain(DomainSpec("i-2-12-VM", UUID, 6, 4, 512, 2048, 500))).find("vcpu")
    assert (vcpu.get("current"), vcpu.text) == ("6", "4")


@pytest.mark.parametrize("libvirt_version, qemu_version, extras", [
    (6009000, 5001000, {"autodeflate": "on", "freePageReporting": "on"}),
    (6008000, 7002000, {}),
    (9000000, 5000000, {}),
])
def test_balloon_free_page_reporting_needs_libvirt_6_9_and_qemu_5_1(libvirt_version, qemu_version, extras):
    """MemBalloonDef.toString: autodeflate and freePageReporting with QEMU >= 5.1.0 and libvirt >= 6.9.0."""
    host = HostFacts(balloon_stats_period=60,
                     free_page_reporting=domain_xml.free_page_reporting(libvirt_version, qemu_version))
    balloon = ET.fromstring(write_domain(TYPICAL, host)).find("devices/memballoon")
    assert balloon.attrib == dict({"model": "virtio"}, **extras)
    assert balloon.find("stats").get("period") == "60"


def test_qemu_guest_boots_the_image_on_a_tcg_cpu():
    """CpuModeDef mode 'custom' (qemu64 for TCG), GuestDef machine 'pc'; kernel, disk and console are the simulator's."""
    image = GuestImage(kernel="/srv/guest/vmlinuz", initrd="/srv/guest/initrd.img", cmdline="console=ttyS0",
                       disk="/srv/guest/root.qcow2", console_log="/srv/guest/console.log")
    root = ET.fromstring(write_domain(TYPICAL, HostFacts(guest_image=image, disk_format="qcow2")))
    assert root.get("type") == "qemu"
    assert (root.find("cpu").attrib, root.findtext("cpu/model")) == ({"mode": "custom", "match": "exact"}, "qemu64")
    assert root.find("os/type").get("machine") == "pc"
    assert [root.findtext("os/" + tag) for tag in ("kernel", "initrd", "cmdline")] == [
        "/srv/guest/vmlinuz", "/srv/guest/initrd.img", "console=ttyS0"]
    assert (root.find("devices/disk/driver").get("type"), root.find("devices/disk/source").get("file")) == (
        "qcow2", "/srv/guest/root.qcow2")
    assert root.find("devices/serial/source").get("path") == "/srv/guest/console.log"
    assert root.find("devices/channel/target").get("name") == "org.qemu.guest_agent.0"


def test_dimm_is_the_memory_device_def_of_the_scale_wrapper():
    """LibvirtVmMemoryDeviceDef.toString, attached by LibvirtScaleVmCommandWrapper.scaleMemory."""
    assert domain_xml.dimm_device(524288) == (
        "<memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node></target></memory>")


@pytest.fixture(name="conn")
def conn_fixture():
    """The in-process default test driver."""
    connection = libvirt.open("test:///default")
    yield connection
    connection.close()


def test_libvirt_merges_the_two_cpu_and_devices_parts_and_the_reader_reads_it_back(conn):
    domain = conn.createXML(write_domain(TYPICAL, TEST_HOST), 0)
    try:
        xml = domain.XMLDesc(0)
        root = ET.fromstring(xml)
        assert (len(root.findall("cpu")), len(root.findall("devices"))) == (1, 1)
        assert read_domain(xml) == domain_xml.DomainState(
            name="i-2-10-VM", uuid=UUID, running=True, vcpus=1, max_vcpus=4, memory_kib=524288,
            current_memory_kib=524288, max_memory_kib=2097152, memory_slots=16, dimms_kib=(), cpu_shares=500,
            cpu_quota=5000, cpu_period=10000, prepared=True)
    finally:
        domain.destroy()


def test_reader_sees_dimms_and_an_unprepared_domain():
    xml = """<domain type='kvm'><name>i-2-14-VM</name><uuid>%s</uuid><memory unit='KiB'>1048576</memory>
      <currentMemory unit='KiB'>1048576</currentMemory><vcpu placement='static'>2</vcpu>
      <devices><memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node></target></memory></devices>
      </domain>""" % UUID
    state = read_domain(xml)
    assert (state.running, state.vcpus, state.max_vcpus, state.dimms_kib) == (False, 2, 2, (524288,))
    assert (state.max_memory_kib, state.memory_slots, state.prepared, state.cpu_shares) == (None, 0, False, None)

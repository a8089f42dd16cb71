"""Unit tests of the libvirt layer against libvirt's test driver (test:///).

Domains are written by the simulator's KVM agent writer (simulator/domain_xml.py), which follows CloudStack's
LibvirtComputingResource.createVMFromSpec, so the layer is checked against CloudStack-shaped domains.
"""

import json
import re
import uuid

import libvirt
import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _libvirt as lv
from simulator.domain_xml import DomainSpec, HostFacts, write_domain

QEMU_XML = """<domain type='qemu' id='7'>
  <name>i-2-10-VM</name><uuid>5b1c8a52-3f63-4a53-9c1e-2f0a3f7e8d10</uuid>
  <maxMemory slots='16' unit='GiB'>2</maxMemory>
  <memory unit='KiB'>1048576</memory><currentMemory unit='MiB'>1024</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <features><acpi/><apic/></features>
  <cputune><shares>2000</shares><period>20000</period><quota>1000</quota></cputune>
  <cpu mode='custom'><model>qemu64</model><numa><cell id='0' cpus='0-3' memory='512' unit='MiB'/></numa></cpu>
  <devices>
    <memory model='dimm'><target><size unit='KiB'>262144</size><node>0</node></target>
      <address type='dimm' slot='0' base='0x100000000'/></memory>
    <memory model='dimm'><target><size unit='MiB'>256</size><node>0</node></target>
      <address type='dimm' slot='1'/></memory>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='virtio'><stats period='2'/></memballoon>
  </devices>
</domain>"""


@pytest.fixture
def conn():
    """One connection to the in-process default test driver, kept open for the test."""
    connection = lv.open_connection("test:///default")
    yield connection
    connection.close()


@pytest.fixture
def make_domain(conn):
    """Start transient test domains with unique names; destroy them afterwards."""
    created = []

    def make(vcpus=1, max_vcpus=4, memory=512, max_memory=2048, xml=None, persistent=False):
        name = "i-2-%d-VM" % (uuid.uuid4().int % 10 ** 8)
        xml = xml or _cloudstack_xml(name, str(uuid.uuid4()), vcpus, max_vcpus, memory, max_memory)
        if persistent:
            domain = conn.defineXML(xml)
            domain.create()
        else:
            domain = conn.createXML(xml, 0)
        created.append(domain)
        return domain

    yield make
    for domain in created:
        persistent = domain.isPersistent()
        domain.destroy()
        if persistent:
            domain.undefine()


def _cloudstack_xml(name, domain_uuid, vcpus, max_vcpus, memory, max_memory, cpu_shares=500, cpu_quota_pct=None):
    """A User VM's domain as CloudStack's KVM agent writes it on a test:/// host."""
    spec = DomainSpec(name, domain_uuid, vcpus, max_vcpus, memory, max_memory, cpu_shares, cpu_quota_pct)
    return write_domain(spec, HostFacts(domain_type="test"))


def _live(conn, name):
    return lv.domain_view(conn.lookupByName(name))


def test_parse_qemu_domain_with_dimms():
    view = lv.parse_domain_xml(QEMU_XML)
    assert (view.name, view.domain_type, view.running) == ("i-2-10-VM", "qemu", True)
    assert (view.vcpus, view.max_vcpus) == (2, 4)
    assert (view.memory_mib, view.current_memory_mib, view.max_memory_mib) == (1024, 1024, 2048)
    assert view.dimms == (lv.Dimm(262144, 0), lv.Dimm(262144, 1))
    assert (view.memory_slots, view.free_slots) == (16, 14)
    assert view.numa_cells == (lv.NumaCell(0, "0-3", 524288),)
    assert (view.balloon_model, view.balloon_stats_period, view.guest_agent_channel) == ("virtio", 2, True)
    assert (view.cpu_shares, view.cpu_quota, view.cpu_period) == (2000, 1000, 20000)
    assert view.as_dict()["dimms"] == [{"size_mib": 256, "slot": 0}, {"size_mib": 256, "slot": 1}]


@pytest.mark.parametrize("xml, message", [
    ("<domain", "not well-formed"),
    ("<node/>", "expected a <domain>"),
    ("<domain><memory unit='parsec'>1</memory></domain>", "unknown memory unit 'parsec'"),
])
def test_parse_rejects_bad_xml(xml, message):
    with pytest.raises(lv.InvalidDomainXml, match=message):
        lv.parse_domain_xml(xml)


def test_cloudstack_domain_of_a_scalable_vm_is_ready(make_domain):
    """LibvirtVMDef.GuestResourceDef/CpuTuneDef as libvirt gives them back: nothing missing for live scaling."""
    domain = make_domain(xml=_cloudstack_xml("i-2-3-VM", str(uuid.uuid4()), 2, 6, 512, 4096, cpu_shares=1500,
                                             cpu_quota_pct=0.05))
    view = lv.domain_view(domain)
    assert (view.domain_type, view.running, view.vcpus, view.max_vcpus) == ("test", True, 2, 6)
    assert (view.memory_mib, view.current_memory_mib, view.max_memory_mib, view.memory_slots) == (512, 512, 4096, 16)
    assert view.numa_cells == (lv.NumaCell(0, "0-5", 512 * 1024),)
    assert (view.balloon_model, view.guest_agent_channel, view.acpi) == ("virtio", True, True)
    assert (view.cpu_shares, view.cpu_quota, view.cpu_period) == (1500, 1000, 20000)
    assert lv.readiness(view) == ()


def test_cloudstack_domain_of_a_fixed_vm_lacks_the_hotplug_pieces(make_domain):
    """A VM started while not dynamically scalable: maxRam = ram and vcpuMaxLimit = cpus (KVMGuru), no <maxMemory>."""
    view = lv.domain_view(make_domain(xml=_cloudstack_xml("i-2-4-VM", str(uuid.uuid4()), 1, 1, 512, 512)))
    assert (view.max_memory_kib, view.memory_slots, view.numa_cells) == (None, 0, ())
    assert [finding.piece for finding in lv.readiness(view)] == ["vcpu_headroom", "max_memory", "numa_cell"]


def _view(**changes):
    return lv.parse_domain_xml(QEMU_XML)._replace(**changes)


@pytest.mark.parametrize("changes, pieces", [
    ({}, []),
    ({"vcpus": 4}, ["vcpu_headroom"]),
    ({"max_memory_kib": None, "memory_slots": 0}, ["max_memory"]),
    ({"memory_slots": 0}, ["memory_slots"]),
    ({"memory_slots": 2}, ["free_slot"]),
    ({"memory_kib": 2 * 1024 * 1024}, ["memory_headroom"]),
    ({"numa_cells": ()}, ["numa_cell"]),
    ({"acpi": False}, ["acpi"]),
    ({"balloon_model": "none"}, ["balloon"]),
    ({"balloon_model": None, "guest_agent_channel": False}, ["balloon", "guest_agent_channel"]),
])
def test_readiness_names_every_missing_piece(changes, pieces):
    findings = lv.readiness(_view(**changes))
    assert [finding.piece for finding in findings] == pieces
    assert all(finding.fix for finding in findings)


def test_readiness_against_a_target():
    view = _view()
    assert [f.piece for f in lv.readiness(view, vcpus=4, memory_mib=2048)] == []
    assert [f.piece for f in lv.readiness(view, vcpus=5, memory_mib=4096)] == ["vcpu_headroom", "memory_headroom"]


@pytest.mark.parametrize("vcpus, memory, method, expected", [
    (None, None, "dimm", ()),
    (2, 1024, "dimm", ()),
    (3, 1536, "dimm", (lv.Change("memory", 1024, 1536, "dimm 512 MiB"), lv.Change("vcpus", 2, 3, "setvcpus"))),
    (None, 1024, "balloon", ()),
])
def test_plan_scale_orders_memory_before_vcpus(vcpus, memory, method, expected):
    assert lv.plan_scale(_view(), vcpus, memory, method) == expected


@pytest.mark.parametrize("changes, vcpus, memory, method, message", [
    ({}, 1, None, "dimm", r"vCPUs cannot be removed live \(2 now, 1 asked\)"),
    ({}, None, 512, "dimm", r"memory cannot be scaled down live \(1024 MiB now, 512 MiB asked\)"),
    ({}, 5, None, "dimm", "5 vCPUs is above the domain's maximum of 4"),
    ({}, None, 4096, "dimm", "no room to reach 4096 MiB"),
    ({"memory_slots": 2}, None, 1536, "dimm", "all 2 DIMM slots are in use"),
    ({"max_memory_kib": None}, None, 1536, "dimm", "no <maxMemory> element"),
    ({"acpi": False}, None, 1536, "dimm", "no ACPI, so QEMU cannot hot-plug memory"),
    ({"current_memory_kib": 512 * 1024}, None, 2048, "balloon", "2048 MiB is above the balloon's ceiling of 1024 MiB"),
    ({"balloon_model": "none", "current_memory_kib": 512 * 1024}, None, 768, "balloon", "no memory balloon"),
    ({"running": False}, 3, None, "dimm", "is not running"),
    ({}, 0, None, "dimm", "vcpus=0 is not a valid size"),
    ({}, 3, None, "hotplug", "unknown memory method 'hotplug'"),
])
def test_plan_scale_refuses_with_the_reason(changes, vcpus, memory, method, message):
    with pytest.raises(lv.ScaleRefused, match=message):
        lv.plan_scale(_view(**changes), vcpus, memory, method)


@pytest.mark.parametrize("uri", ["not-a-uri", "qemu+tcp://127.0.0.1:1/system", "test:///nonexistent/node.xml"])
def test_open_connection_errors_name_the_uri(uri):
    with pytest.raises(lv.ConnectionFailed) as info:
        lv.open_connection(uri)
    assert uri in str(info.value) and "qemu:///system" in str(info.value)


def test_find_domain_by_name_or_uuid(conn, make_domain):
    domain = make_domain()
    assert lv.find_domain(conn, domain.name()).UUIDString() == domain.UUIDString()
    assert lv.find_domain(conn, domain.UUIDString()).name() == domain.name()
    with pytest.raises(lv.DomainNotFound, match="no domain named or with UUID 'i-9-9-VM' at test:///default"):
        lv.find_domain(conn, "i-9-9-VM")


def test_node_file_domain_is_found_and_read(tmp_path):
    node = tmp_path / "node.xml"
    xml = _cloudstack_xml("i-7-70-VM", "5b1c8a52-3f63-4a53-9c1e-2f0a3f7e8d70", 1, 2, 256, 1024)
    node.write_text("<node>%s</node>" % xml)
    info = lv.scaling_info("test://%s" % node, "5b1c8a52-3f63-4a53-9c1e-2f0a3f7e8d70")
    assert info["domain"]["name"] == "i-7-70-VM" and info["domain"]["max_memory_mib"] == 1024
    assert info["readiness"] == {"ready": True, "missing": []}
    assert "guest" not in info


def test_scale_vcpus_live_and_idempotent(conn, make_domain):
    name = make_domain().name()
    result = lv.scale_domain("test:///default", name, vcpus=3)
    assert result["changed"] and result["changes"] == ("vCPUs 1 -> 3",)
    assert result["diff"] == {"before": {"vcpus": 1, "memory": 512, "current_memory": 512},
                              "after": {"vcpus": 3, "memory": 512, "current_memory": 512}}
    assert _live(conn, name).vcpus == 3
    assert re.match(u"%s: 1 vCPU/512 MiB \u2192 3 vCPU/512 MiB, live, [0-9]+[.][0-9] s$" % name, result["summary"])
    again = lv.scale_domain("test:///default", name, vcpus=3)
    assert not again["changed"] and again["changes"] == []
    assert again["summary"] == "%s: already 3 vCPU/512 MiB, nothing changed" % name


def test_check_mode_reports_without_changing(conn, make_domain):
    name = make_domain().name()
    result = lv.scale_domain("test:///default", name, vcpus=2, memory_mib=1024, check_mode=True)
    assert result["changed"]
    assert result["changes"] == ["memory 512 -> 1024 MiB (dimm 512 MiB)", "vCPUs 1 -> 2"]
    assert result["diff"]["after"] == {"vcpus": 2, "memory": 1024, "current_memory": 512}
    assert result["summary"] == (u"%s: 1 vCPU/512 MiB \u2192 2 vCPU/1024 MiB (512 MiB in use), live, check mode: nothing"
                                 u" changed" % name)
    assert (_live(conn, name).vcpus, _live(conn, name).memory_mib) == (1, 512)


def test_scale_down_is_refused_and_changes_nothing(conn, make_domain):
    name = make_domain(vcpus=2).name()
    with pytest.raises(lv.ScaleRefused, match="vCPUs cannot be removed live") as info:
        lv.scale_domain("test:///default", name, vcpus=1, memory_mib=1024)
    assert (_live(conn, name).vcpus, _live(conn, name).memory_mib) == (2, 512)
    assert lv.failure_fields(info.value, name)["summary"] == (
        "%s: refused, nothing changed: vCPUs cannot be removed live (2 now, 1 asked): stop the VM, change its size and"
        " start it" % name)


def test_balloon_within_the_ceiling(conn, make_domain):
    name = "i-3-30-VM-%s" % uuid.uuid4().hex[:6]
    xml = _cloudstack_xml(name, str(uuid.uuid4()), 1, 2, 1024, None).replace(
        "<currentMemory>1048576</currentMemory>", "<currentMemory>524288</currentMemory>")
    make_domain(xml=xml)
    result = lv.scale_domain("test:///default", name, memory_mib=768, memory_method="balloon")
    assert result["changes"] == ("memory 512 -> 768 MiB (balloon)",)
    assert result["summary"].startswith(u"%s: 1 vCPU/1024 MiB (512 MiB in use) \u2192 1 vCPU/1024 MiB (768 MiB in use), "
                                        u"live, " % name)
    assert (_live(conn, name).current_memory_mib, _live(conn, name).memory_mib) == (768, 1024)
    with pytest.raises(lv.ScaleRefused, match="above the balloon's ceiling of 1024 MiB"):
        lv.scale_domain("test:///default", name, memory_mib=1536, memory_method="balloon")
    assert _live(conn, name).current_memory_mib == 768


def test_failed_dimm_stops_before_vcpus(conn, make_domain):
    name = make_domain().name()
    with pytest.raises(lv.OperationFailed) as info:
        lv.scale_domain("test:///default", name, vcpus=2, memory_mib=768)
    assert "memory 512 -> 768 MiB (dimm 256 MiB) on domain %s failed" % name in str(info.value)
    assert "Applied before the failure: nothing." in str(info.value)
    assert _live(conn, name).vcpus == 1
    assert lv.failure_fields(info.value, name)["summary"] == (
        "%s: memory 512 -> 768 MiB (dimm 256 MiB) on domain %s failed, applied before the failure: nothing" % (name, name))


def test_persist_changes_live_and_inactive_config(conn, make_domain):
    domain = make_domain(persistent=True)
    result = lv.scale_domain("test:///default", domain.name(), vcpus=2, persist=True)
    assert result["persisted"] is True
    assert domain.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2
    assert domain.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2


def test_transient_domain_is_not_persisted(conn, make_domain):
    result = lv.scale_domain("test:///default", make_domain().name(), vcpus=2, persist=True)
    assert result["persisted"] is False


class RecordingDomain:
    """Stands in for a QEMU domain where the test driver lacks the call (attachDeviceFlags)."""

    def __init__(self, persistent):
        self.persistent = persistent
        self.calls = []

    def isPersistent(self):
        return self.persistent

    def name(self):
        return "i-2-10-VM"

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(("attach", xml, flags))

    def setVcpusFlags(self, count, flags):
        self.calls.append(("vcpus", count, flags))


@pytest.mark.parametrize("persistent, flags", [
    (False, libvirt.VIR_DOMAIN_AFFECT_LIVE),
    (True, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG),
])
def test_apply_plan_hotplugs_one_dimm_on_node_0(persistent, flags):
    domain = RecordingDomain(persistent)
    applied, persisted = lv.apply_plan(domain, lv.plan_scale(_view(), 3, 1536), persist=True)
    dimm = "<memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node></target></memory>"
    assert domain.calls == [("attach", dimm, flags), ("vcpus", 3, flags)]
    assert applied == ("memory 1024 -> 1536 MiB (dimm 512 MiB)", "vCPUs 2 -> 3") and persisted is persistent


def test_guest_agent_absent_on_test_driver(conn, make_domain):
    domain = make_domain()
    with pytest.raises(lv.GuestAgentUnavailable, match="absent or not answering: guest-ping"):
        lv.guest_view(domain, timeout=1)
    info = lv.scaling_info("test:///default", domain.name(), guest_info=True, guest_timeout=1)
    assert info["guest"]["available"] is False and "guest-ping" in info["guest"]["error"]


class ScriptedGuest:
    """A guest agent answering from a script: online CPU counts per guest-get-vcpus call."""

    def __init__(self, online_cpus, online_blocks):
        self.online_cpus = list(online_cpus)
        self.online_blocks = list(online_blocks)
        self.commands = []

    def __call__(self, domain, command, timeout, flags):
        name = json.loads(command)["execute"]
        self.commands.append((name, timeout))
        if name == "guest-get-vcpus":
            online = self.online_cpus.pop(0) if len(self.online_cpus) > 1 else self.online_cpus[0]
            answer = [{"logical-id": i, "online": i < online} for i in range(4)]
        elif name == "guest-get-memory-blocks":
            online = self.online_blocks.pop(0) if len(self.online_blocks) > 1 else self.online_blocks[0]
            answer = [{"phys-index": i, "online": i < online} for i in range(6)]
        elif name == "guest-info":
            answer = {"version": "7.2.0", "supported_commands": [{"name": "guest-get-memory-block-info", "enabled": True}]}
        elif name == "guest-get-memory-block-info":
            answer = {"size": 128 * 1024 * 1024}
        else:
            answer = {}
        return json.dumps({"return": answer})


@pytest.fixture
def fake_time():
    """(clock, sleep, slept): a monotonic clock that moves only when the injected sleep is called."""
    slept = []
    return (lambda: sum(slept)), slept.append, slept


def test_wait_for_guest_until_cpus_and_memory_online(monkeypatch, fake_time):
    guest = ScriptedGuest(online_cpus=[2, 2, 3], online_blocks=[4, 6, 6])
    monkeypatch.setattr(lv.libvirt_qemu, "qemuAgentCommand", guest)
    clock, sleep, slept = fake_time
    view = lv.wait_for_guest(RecordingDomain(False), 3, 768, timeout=10, clock=clock, sleep=sleep)
    assert (view.online_cpus, view.online_memory_mib, view.agent_version) == (3, 768, "7.2.0")
    assert slept == [0.2, 0.2 * 1.5]


def test_wait_for_guest_is_bounded_and_shows_the_guest(monkeypatch, fake_time):
    monkeypatch.setattr(lv.libvirt_qemu, "qemuAgentCommand", ScriptedGuest(online_cpus=[2], online_blocks=[4]))
    clock, sleep = fake_time[:2]
    with pytest.raises(lv.GuestNotConverged) as info:
        lv.wait_for_guest(RecordingDomain(False), 3, 768, timeout=3, clock=clock, sleep=sleep)
    assert "the guest shows 2/4 CPUs online, 4/6 memory blocks online (512 MiB online)" in str(info.value)
    assert "wanted 3 CPUs online, 768 MiB online" in str(info.value)
    assert clock() == pytest.approx(3) and info.value.guest.online_cpus == 2


def test_failure_fields_carry_the_guest_view_of_a_failed_wait(monkeypatch, fake_time):
    monkeypatch.setattr(lv.libvirt_qemu, "qemuAgentCommand", ScriptedGuest(online_cpus=[1], online_blocks=[6]))
    clock, sleep = fake_time[:2]
    with pytest.raises(lv.GuestNotConverged) as info:
        lv.wait_for_guest(RecordingDomain(False), 2, None, 1, clock, sleep)
    failure = lv.failure_fields(info.value, "i-2-10-VM")
    assert failure["guest"]["online_cpus"] == 1 and "1/4 CPUs online" in failure["msg"]
    assert failure["summary"] == ("i-2-10-VM: scaled, but the guest shows 1/4 CPUs online, 6/6 memory blocks online"
                                  " (768 MiB online)")

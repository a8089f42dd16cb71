"""Tests of the simulator's host agent against libvirt's test driver (one node file per host)."""

from dataclasses import replace

import pytest

from simulator import agent as host_agent
from simulator.agent import AgentError, DomainSpec, HostAgent
from simulator.domain_xml import GuestImage, HostFacts, write_domain

SPEC = DomainSpec(name="i-2-10-VM", uuid="7d6c1e0a-3b2f-4f4e-9a1d-5c6b7a8e9f10", vcpus=1, max_vcpus=4,
                  memory_mib=512, max_memory_mib=2048, cpu_shares=500, cpu_quota_pct=None)
FIXED = DomainSpec(name="i-2-11-VM", uuid="7d6c1e0a-3b2f-4f4e-9a1d-5c6b7a8e9f11", vcpus=1, max_vcpus=1,
                   memory_mib=512, max_memory_mib=None, cpu_shares=500, cpu_quota_pct=None)
LABEL = 'VM {id: "10", name: "i-2-10-VM", uuid: "7d6c1e0a-3b2f-4f4e-9a1d-5c6b7a8e9f10", type: "User"}'


def _host(tmp_path, name):
    node = tmp_path / ("%s.xml" % name)
    node.write_text("<node/>")
    return HostAgent("test://%s" % node)


@pytest.fixture
def host(tmp_path):
    """An agent on its own empty test:/// host."""
    return _host(tmp_path, "kvm-01")


@pytest.fixture
def other_host(tmp_path):
    """A second agent on another empty test:/// host."""
    return _host(tmp_path, "kvm-02")


def test_start_builds_the_domain_of_the_spec(host):
    view = host.start(SPEC)
    assert view == host_agent.DomainView(
        name="i-2-10-VM", uuid=SPEC.uuid, running=True, vcpus=1, max_vcpus=4, memory_mib=512, current_memory_mib=512,
        max_memory_mib=2048, dimm_slots=16, dimms=(), cpu_shares=500, cpu_quota=None, cpu_period=None)
    assert host.view("i-2-10-VM") == view


def test_start_with_cpu_cap_and_unprepared_domain(host):
    view = host.start(replace(FIXED, cpu_quota_pct=0.25))
    assert (view.max_memory_mib, view.dimm_slots, view.max_vcpus) == (None, 0, 1)
    assert (view.cpu_quota, view.cpu_period) == (2500, 10000)


def test_start_adopts_its_own_domain_and_refuses_a_name_clash(host):
    first = host.start(SPEC)
    assert host.start(SPEC) == first
    with pytest.raises(AgentError, match="another domain .* has that name"):
        host.start(replace(SPEC, uuid="7d6c1e0a-3b2f-4f4e-9a1d-5c6b7a8e9f99"))


def test_start_of_a_vcpu_maximum_below_the_vcpus_is_refused_by_libvirt(host):
    """The agent writes <vcpu current="5">4</vcpu> as it is (GuestResourceDef.toString) and libvirt refuses it.

    spec 0.1 errata: KVMGuru.getVmMaxCpuCores gives the cluster's kvm.cpu.dynamic.scaling.capacity without
    raising it to the VM's count, so such a VM cannot start.
    """
    with pytest.raises(AgentError, match="cannot start i-2-10-VM on test://.*maximum vCPU count must not be less than "
                                         "current vCPU count"):
        host.start(replace(SPEC, vcpus=5))
    assert host.view(SPEC.name) is None


def test_memory_goes_only_into_a_domain_whose_xml_has_sixteen_slots(host):
    """LibvirtScaleVmCommandWrapper.scaleMemory: getXMLDesc(0) must contain <maxMemory slots='16' unit='KiB'>."""
    xml = write_domain(SPEC, HostFacts(domain_type="test")).replace('slots="16"', 'slots="8"')
    host.conn.createXML(xml, 0)
    with pytest.raises(AgentError) as info:
        host.scale("i-2-10-VM", 2, 1024, 500, None, False)
    assert info.value.reason == host_agent.NOT_PREPARED % LABEL
    assert info.value.not_applied == ("memory 512 -> 1024 MiB (one DIMM of 512 MiB)", "vCPUs 1 -> 2")
    assert host.view("i-2-10-VM").vcpus == 1


def test_scale_in_kvm_agent_order(host):
    host.start(SPEC)
    answer = host.scale("i-2-10-VM", 2, 768, 1000, 0.05, True)
    assert answer == ("Successfully scaled %s memory to [786432 KiB], CPU cores to [2] and cpu_shares to [1000]." % LABEL)
    view = host.view("i-2-10-VM")
    assert (view.vcpus, view.memory_mib, view.current_memory_mib, view.dimms) == (2, 768, 768, (256,))
    assert (view.cpu_shares, view.cpu_quota, view.cpu_period) == (1000, 1000, 20000)
    assert (view.max_vcpus, view.max_memory_mib) == (4, 2048)


def test_scale_only_adds(host):
    host.start(SPEC)
    host.scale("i-2-10-VM", 3, 1024, 1500, None, False)
    host.scale("i-2-10-VM", 1, 512, 200, None, False)
    view = host.view("i-2-10-VM")
    assert (view.vcpus, view.memory_mib, view.dimms, view.cpu_shares) == (3, 1024, (512,), 1500)


def test_one_dimm_per_operation(host):
    host.start(SPEC)
    for memory in (640, 768, 1024):
        host.scale("i-2-10-VM", 1, memory, 500, None, False)
    assert host.view("i-2-10-VM").dimms == (128, 128, 256)


def test_cap_removed_sets_the_unlimited_quota(host):
    host.start(replace(SPEC, cpu_quota_pct=0.5))
    host.scale("i-2-10-VM", 1, 512, 500, None, False)
    assert host.view("i-2-10-VM").cpu_quota == 5000
    host.scale("i-2-10-VM", 1, 512, 500, None, True)
    assert host.view("i-2-10-VM").cpu_quota == host_agent.MAX_CPU_QUOTA


def test_unprepared_domain_cannot_get_memory(host):
    host.start(FIXED)
    with pytest.raises(AgentError) as info:
        host.scale("i-2-11-VM", 1, 1024, 1000, None, False)
    error = info.value
    assert "is not prepared for dynamic scaling" in error.reason and error.reason.startswith('The VM {id: "11"')
    assert error.applied == ()
    assert error.not_applied == ("memory 512 -> 1024 MiB (one DIMM of 512 MiB)", "cpu_shares 500 -> 1000")
    view = host.view("i-2-11-VM")
    assert (view.memory_mib, view.cpu_shares) == (512, 500)


def test_failure_in_the_middle_says_what_was_applied(host):
    host.start(SPEC)
    with pytest.raises(AgentError) as info:
        host.scale("i-2-10-VM", 8, 1024, 1000, None, False)
    error = info.value
    assert str(error).startswith("Unable to scale %s due to [" % LABEL)
    assert error.applied == ("memory 512 -> 1024 MiB (one DIMM of 512 MiB)",)
    assert error.not_applied == ("vCPUs 1 -> 8", "cpu_shares 500 -> 1000")
    assert "Applied: memory 512 -> 1024 MiB (one DIMM of 512 MiB). Not applied: vCPUs 1 -> 8; cpu_shares 500 -> 1000." in str(error)
    view = host.view("i-2-10-VM")
    assert (view.memory_mib, view.vcpus, view.cpu_shares) == (1024, 1, 500)


def test_dimm_above_max_memory_is_refused(host):
    host.start(SPEC)
    with pytest.raises(AgentError, match="would exceed domain's maxMemory config size '2097152' KiB"):
        host.scale("i-2-10-VM", 2, 4096, 500, None, False)
    assert host.view("i-2-10-VM").memory_mib == 512


def test_sixteen_dimm_slots(host):
    host.start(replace(SPEC, max_memory_mib=4096))
    for index in range(1, 17):
        host.scale("i-2-10-VM", 1, 512 + 64 * index, 500, None, False)
    with pytest.raises(AgentError, match="no free memory device slot available"):
        host.scale("i-2-10-VM", 1, 2048, 500, None, False)
    assert len(host.view("i-2-10-VM").dimms) == 16


def test_scale_of_missing_domain(host):
    with pytest.raises(AgentError, match="domain i-2-10-VM does not exist on host test://"):
        host.scale("i-2-10-VM", 2, 512, 500, None, False)


def test_stop_destroys_and_tolerates_absence(host):
    host.start(SPEC)
    host.stop("i-2-10-VM")
    assert host.view("i-2-10-VM") is None
    host.stop("i-2-10-VM")


def test_migrate_within_a_host_keeps_the_live_domain(host):
    host.start(SPEC)
    host.scale("i-2-10-VM", 2, 768, 500, None, False)
    assert host.migrate("i-2-10-VM", host) == host.view("i-2-10-VM")


def test_migrate_across_hosts_keeps_the_live_size(host, other_host):
    host.start(SPEC)
    host.scale("i-2-10-VM", 2, 768, 800, 0.5, True)
    before = host.view("i-2-10-VM")
    after = host.migrate("i-2-10-VM", other_host)
    assert after == before == other_host.view("i-2-10-VM")
    assert host.view("i-2-10-VM") is None
    other_host.scale("i-2-10-VM", 3, 1024, 800, 0.5, False)
    assert other_host.view("i-2-10-VM").dimms == (256, 256)


def test_migrate_refuses_a_name_clash_and_keeps_the_source(host, other_host):
    host.start(SPEC)
    other_host.start(replace(SPEC, uuid="7d6c1e0a-3b2f-4f4e-9a1d-5c6b7a8e9f98"))
    with pytest.raises(AgentError, match="already runs on"):
        host.migrate("i-2-10-VM", other_host)
    assert host.view("i-2-10-VM").running


def test_migrate_between_driver_kinds_is_refused(host):
    host.start(SPEC)
    with pytest.raises(AgentError, match="from a test host .* to a qemu host"):
        host.migrate("i-2-10-VM", HostAgent("qemu+tcp://127.0.0.1:1/system"))
    assert host.view("i-2-10-VM").running


def test_unreachable_host():
    with pytest.raises(AgentError, match="cannot connect to libvirt at qemu\\+tcp://127.0.0.1:1/system"):
        HostAgent("qemu+tcp://127.0.0.1:1/system").view("i-2-10-VM")


@pytest.mark.parametrize("pct, expected", [(0.5, (5000, 10000)), (1.0, (10000, 10000)), (0.05, (1000, 20000)),
                                           (0.0005, (1000, 1000000)), (0.0, (1000, 1000000))])
def test_cpu_quota_period(pct, expected):
    """LibvirtComputingResource.getPeriodAndQuota; a cap of 0 divides by 0.0 (infinite period), capped at the maximum."""
    assert host_agent.cpu_quota_period(pct) == expected


@pytest.mark.parametrize("name, label", [
    ("i-2-10-VM", 'VM {id: "10", name: "i-2-10-VM", uuid: "u", type: "User"}'),
    ("r-4-VM", 'VM {id: "4", name: "r-4-VM", uuid: "u", type: "DomainRouter"}'),
    ("web-01", 'VM {id: "", name: "web-01", uuid: "u", type: "User"}'),
])
def test_vm_label(name, label):
    assert host_agent.vm_label(name, "u") == label


def test_agent_for_shares_one_agent_per_uri(tmp_path):
    uri = "test://%s" % (tmp_path / "shared.xml")
    image = GuestImage(kernel="/srv/guest/vmlinuz", initrd="/srv/guest/initrd.img")
    agent = host_agent.agent_for(uri)
    assert host_agent.agent_for(uri, guest_image=image) is agent and agent.guest_image == image
    assert host_agent.agent_for(uri).guest_image == image
    assert host_agent.agent_for("test://%s" % (tmp_path / "other.xml")) is not agent

"""Tests of livescale.cloudstack.libvirt_domain_scale, run in-process against libvirt's test driver."""

import json
import re

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.livescale.cloudstack.plugins.module_utils import _libvirt
from ansible_collections.livescale.cloudstack.plugins.modules import libvirt_domain_scale as module
from simulator.domain_xml import DomainSpec, HostFacts, write_domain

UUID = "0c4e3a3e-7a55-4c39-9d0b-6b9a1f6f2a01"


@pytest.fixture
def uri(tmp_path):
    """A test:/// host whose only domain, i-2-20-VM, runs with 1 of 4 vCPUs and 512 MiB of 1024 (balloon at 256).

    Written as CloudStack's agent writes it, then ballooned down to 256 MiB (CloudStack writes currentMemory = memory).
    """
    xml = write_domain(DomainSpec("i-2-20-VM", UUID, 1, 4, 512, 1024, 1000), HostFacts(domain_type="test"))
    xml = xml.replace("<currentMemory>524288<", "<currentMemory>262144<")
    (tmp_path / "node.xml").write_text("<node>%s</node>" % xml)
    return "test://%s" % (tmp_path / "node.xml")


def run(capsys, **args):
    """Run the module; its JSON result."""
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_adds_vcpus_live(capsys, uri):
    result = run(capsys, uri=uri, domain="i-2-20-VM", vcpus=3)
    assert result["changed"] is True and result["changes"] == ["vCPUs 1 -> 3"]
    assert result["domain"]["vcpus"] == 3 and result["persisted"] is False
    assert result["diff"]["before"]["vcpus"] == 1 and result["diff"]["after"]["vcpus"] == 3


def test_the_domain_may_be_named_as_in_libvirt_domain_scaling_info(capsys, uri):
    result = run(capsys, uri=uri, uuid=UUID, vcpus=2, _ansible_check_mode=True)
    assert result["changed"] is True and result["changes"] == ["vCPUs 1 -> 2"]


def test_at_target_is_unchanged(capsys, uri):
    result = run(capsys, uri=uri, domain=UUID, vcpus=1, memory=512)
    assert result["changed"] is False and result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_reports_what_would_change(capsys, uri):
    result = run(capsys, uri=uri, domain="i-2-20-VM", vcpus=2, memory=1024, _ansible_check_mode=True)
    assert result["changed"] is True
    assert result["changes"] == ["memory 512 -> 1024 MiB (dimm 512 MiB)", "vCPUs 1 -> 2"]
    assert result["diff"]["after"] == {"vcpus": 2, "memory": 1024, "current_memory": 256}
    assert result["domain"]["vcpus"] == 1 and result["domain"]["memory_mib"] == 512


def test_balloon_raises_current_memory(capsys, uri):
    result = run(capsys, uri=uri, domain="i-2-20-VM", memory=384, memory_method="balloon")
    assert result["changes"] == ["memory 256 -> 384 MiB (balloon)"]
    assert result["domain"]["current_memory_mib"] == 384 and result["domain"]["memory_mib"] == 512


@pytest.mark.parametrize("args, message", [
    ({"vcpus": 0}, "vcpus=0 is not a valid size"),
    ({"vcpus": 5}, "5 vCPUs is above the domain's maximum of 4"),
    ({"memory": 256}, r"memory cannot be scaled down live \(512 MiB now, 256 MiB asked\)"),
    ({"memory": 2048}, "no room to reach 2048 MiB"),
    ({"memory": 1024, "memory_method": "balloon"}, "above the balloon's ceiling of 512 MiB"),
    ({"domain": "i-2-99-VM", "vcpus": 2}, "no domain named or with UUID 'i-2-99-VM'"),
    ({"uri": "qemu+tcp://127.0.0.1:1/system", "vcpus": 2}, "cannot connect to libvirt at qemu\\+tcp://127.0.0.1:1/system"),
    ({}, "one of the following is required: vcpus, memory"),
])
def test_refusals_are_clear(capsys, uri, args, message):
    result = run(capsys, **dict({"uri": uri, "domain": "i-2-20-VM"}, **args))
    assert result["failed"] is True
    assert re.search(message, result["msg"])


def test_failed_hotplug_says_what_was_applied(capsys, uri):
    result = run(capsys, uri=uri, domain="i-2-20-VM", vcpus=2, memory=768)
    assert result["failed"] is True and result["applied"] == []
    assert "not supported by the connection driver: virDomainAttachDeviceFlags" in result["msg"]


def test_missing_libvirt_python(capsys, uri, monkeypatch):
    monkeypatch.setattr(_libvirt, "HAS_LIBVIRT", False)
    result = run(capsys, uri=uri, domain="i-2-20-VM", vcpus=2)
    assert result["failed"] is True and "libvirt-python" in result["msg"]

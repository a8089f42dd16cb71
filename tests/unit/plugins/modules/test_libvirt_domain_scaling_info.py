"""Tests of livescale.cloudstack.libvirt_domain_scaling_info, run in-process against libvirt's test driver."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.livescale.cloudstack.plugins.module_utils import _libvirt
from ansible_collections.livescale.cloudstack.plugins.modules import libvirt_domain_scaling_info as module
from simulator.domain_xml import DomainSpec, HostFacts, write_domain

READY_UUID = "0c4e3a3e-7a55-4c39-9d0b-6b9a1f6f2a11"


@pytest.fixture
def uri(tmp_path):
    """A test:/// host with a live-scalable domain (i-2-21-VM) and a fixed one (i-2-22-VM), written as CloudStack does."""
    host = HostFacts(domain_type="test")
    ready = write_domain(DomainSpec("i-2-21-VM", READY_UUID, 2, 8, 1024, 4096, 2000), host)
    fixed = write_domain(DomainSpec("i-2-22-VM", "0c4e3a3e-7a55-4c39-9d0b-6b9a1f6f2a12", 2, 2, 1024, 1024, 2000), host)
    (tmp_path / "node.xml").write_text("<node>%s%s</node>" % (ready, fixed))
    return "test://%s" % (tmp_path / "node.xml")


def info(capsys, **args):
    """Run the module; its JSON result."""
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_ready_domain_by_uuid(capsys, uri):
    result = info(capsys, uri=uri, uuid=READY_UUID)
    assert result["changed"] is False and result["readiness"] == {"ready": True, "missing": []}
    domain = result["domain"]
    assert (domain["name"], domain["vcpus"], domain["max_vcpus"], domain["cpu_shares"]) == ("i-2-21-VM", 2, 8, 2000)
    assert (domain["memory_mib"], domain["max_memory_mib"], domain["free_slots"]) == (1024, 4096, 16)
    assert domain["numa_cells"] == [{"id": 0, "cpus": "0-7", "memory_mib": 1024}]


def test_fixed_domain_lists_every_missing_piece_with_its_fix(capsys, uri):
    result = info(capsys, uri=uri, name="i-2-22-VM")
    missing = result["readiness"]["missing"]
    assert result["readiness"]["ready"] is False
    assert [item["piece"] for item in missing] == ["vcpu_headroom", "max_memory", "numa_cell"]
    assert "stop and start the VM" in missing[1]["fix"]


def test_guest_agent_not_answering_is_reported_not_failed(capsys, uri):
    result = info(capsys, uri=uri, name="i-2-21-VM", guest_info=True, guest_timeout=1)
    assert result["guest"]["available"] is False and "not answering" in result["guest"]["error"]


def test_domain_is_named_as_in_libvirt_domain_scale(capsys, uri):
    result = info(capsys, uri=uri, domain="i-2-21-VM")
    assert result["domain"]["uuid"] == READY_UUID


@pytest.mark.parametrize("alias, key", [("name", "i-2-22-VM"), ("uuid", READY_UUID), ("name", READY_UUID)])
def test_the_former_options_are_aliases_of_domain(capsys, uri, alias, key):
    result = info(capsys, uri=uri, **{alias: key})
    assert not result.get("failed")
    assert key in (result["domain"]["name"], result["domain"]["uuid"])


@pytest.mark.parametrize("args, message", [
    ({"name": "i-2-99-VM"}, "no domain named or with UUID 'i-2-99-VM'"),
    ({}, "missing required arguments: domain"),
    ({"uri": "bogus", "name": "i-2-21-VM"}, "cannot connect to libvirt at bogus: not a libvirt URI"),
])
def test_errors_are_clear(capsys, uri, args, message):
    result = info(capsys, **dict({"uri": uri}, **args))
    assert result["failed"] is True and message in result["msg"]


@pytest.fixture
def tracebacks(monkeypatch):
    """Tracebacks in results on, as ANSIBLE_DISPLAY_TRACEBACK=error asks (ansible-core 2.19; older ones always keep them)."""
    try:
        from ansible.module_utils._internal import _traceback
    except ImportError:
        return
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda event: True)


@pytest.mark.usefixtures("tracebacks")
def test_an_unexpected_error_fails_with_its_traceback(capsys, uri, monkeypatch):
    def broken(*_args):
        raise KeyError("vcpu")
    monkeypatch.setattr(_libvirt, "scaling_info", broken)
    result = info(capsys, uri=uri, domain="i-2-21-VM")
    assert result["failed"] is True and "unexpected error (a bug in livescale.cloudstack" in result["msg"]
    assert "KeyError: 'vcpu'" in result["msg"] and "in broken" in result["exception"]

"""The vms inventory plugin's host variables, groups and live-scalability verdict, against canned API rows."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.inventory import vms
from tests.unit.plugins.modules.fakes import FakeApi

ZONE_SETTING = {"name": "enable.dynamic.scale.vm", "value": "true"}
TEMPLATE = {"id": "tpl-1", "name": "debian-12", "isdynamicallyscalable": True}
OFFERING = {"id": "off-small", "name": "Small", "cpunumber": 1, "cpuspeed": 1000, "memory": 1024,
            "dynamicscalingenabled": True}
HOST = {"id": "host-1", "name": "kvm-a1-01", "clusterid": "cluster-1", "clustername": "cluster-a1", "podname": "pod-a1"}


def vm_row(**fields):
    row = {"id": "vm-1", "name": "web-01", "displayname": "Web 01", "state": "Running", "zoneid": "zone-1",
           "zonename": "zone-a", "hostid": "host-1", "hostname": "kvm-a1-01", "templateid": "tpl-1",
           "templatename": "debian-12", "serviceofferingid": "off-small", "serviceofferingname": "Small",
           "cpunumber": 1, "cpuspeed": 1000, "memory": 1024, "hypervisor": "KVM", "account": "acme",
           "domain": "customers", "domainpath": "ROOT/customers", "isdynamicallyscalable": True,
           "tags": [{"key": "env", "value": "prod"}, {"key": "role", "value": "web server"}],
           "nic": [{"networkname": "backend", "ipaddress": "10.0.0.5", "isdefault": False, "macaddress": "02:00:00:00:00:01"},
                   {"networkname": "front", "ipaddress": "10.1.1.2", "isdefault": True, "macaddress": "02:00:00:00:00:02"}]}
    row.update(fields)
    return row


def api(settings=(ZONE_SETTING,), **rows):
    listed = dict(listConfigurations=list(settings), listTemplates=[TEMPLATE], listServiceOfferings=[OFFERING])
    listed.update(rows)
    return FakeApi(**listed)


def test_variables_take_the_default_nic_and_the_host_row():
    variables = vms.vm_variables(vm_row(), HOST)
    assert variables["ansible_host"] == variables["cloudstack_ip_address"] == "10.1.1.2"
    assert [nic["network"] for nic in variables["cloudstack_nics"]] == ["backend", "front"]
    assert (variables["cloudstack_cluster"], variables["cloudstack_cluster_id"], variables["cloudstack_pod"]) == (
        "cluster-a1", "cluster-1", "pod-a1")
    assert variables["cloudstack_tags"] == {"env": "prod", "role": "web server"}
    assert (variables["cloudstack_cpu_number"], variables["cloudstack_memory"]) == (1, 1024)
    assert "cloudstack_live_scalable" not in variables


def test_without_nics_or_host_the_fields_are_null():
    variables = vms.vm_variables(vm_row(nic=[], hostid=None, hostname=None, state="Stopped"))
    assert variables["ansible_host"] is None and variables["cloudstack_nics"] == []
    assert variables["cloudstack_host"] is None and variables["cloudstack_cluster"] is None


def test_first_nic_when_none_is_default():
    row = vm_row(nic=[{"networkname": "only", "ipaddress": "10.9.9.9"}, {"networkname": "second", "ipaddress": "10.9.9.10"}])
    assert vms.vm_variables(row)["ansible_host"] == "10.9.9.9"


@pytest.mark.parametrize("choice, expected", [
    ("zone", [("zone", "zone-a")]),
    ("cluster", [("cluster", "cluster-a1")]),
    ("host", [("host", "kvm-a1-01")]),
    ("offering", [("offering", "Small")]),
    ("tags", [("tag", "env", "prod"), ("tag", "role", "web server")]),
    ("live_scalability", [("live_scalable",)]),
])
def test_group_by_choices(choice, expected):
    variables = vms.vm_variables(vm_row(), HOST, (True, []))
    assert vms.InventoryModule.GROUPS[choice](variables) == expected


def test_no_cluster_group_and_no_live_group_when_unknown():
    variables = vms.vm_variables(vm_row(hostid=None, hostname=None))
    assert vms.InventoryModule.GROUPS["cluster"](variables) == []
    assert vms.InventoryModule.GROUPS["live_scalability"](variables) == []


def test_running_vm_with_flag_offering_template_and_zone_setting_is_live_scalable():
    fake = api()
    assert vms.ScalabilityReader(fake).readiness(vm_row(), HOST) == (True, ())


@pytest.mark.parametrize("change, blocker", [
    (dict(row=dict(state="Stopped")), "VM web-01 is Stopped"),
    (dict(row=dict(isdynamicallyscalable=False)), "VM web-01 has isdynamicallyscalable=false"),
    (dict(settings=({"name": "enable.dynamic.scale.vm", "value": "false"},)), "enable.dynamic.scale.vm is false in zone zone-a"),
    (dict(row=dict(isdynamicallyscalable=False), template=dict(isdynamicallyscalable=False)),
     "template debian-12 has isdynamicallyscalable=false"),
    (dict(row=dict(isdynamicallyscalable=False), offering=dict(dynamicscalingenabled=False)),
     "service offering Small has dynamicscalingenabled=false"),
])
def test_each_blocker_makes_the_vm_not_live_scalable(change, blocker):
    fake = api(settings=change.get("settings", (ZONE_SETTING,)), listTemplates=[dict(TEMPLATE, **change.get("template", {}))],
               listServiceOfferings=[dict(OFFERING, **change.get("offering", {}))])
    scalable, blockers = vms.ScalabilityReader(fake).readiness(vm_row(**change.get("row", {})), HOST)
    assert scalable is False
    assert any(text.startswith(blocker) for text in blockers), blockers


def test_settings_a_caller_may_not_read_are_asked_once_and_left_to_cloudstack():
    fake = api()
    fake.fail = {"listConfigurations": "The API [listConfigurations] does not exist or is not available"}
    reader = vms.ScalabilityReader(fake)
    assert [reader.readiness(vm_row(id="vm-%d" % index), None) for index in range(3)] == [(True, ())] * 3
    assert [command for command, _params in fake.reads].count("listConfigurations") == 1


def test_reads_are_shared_by_vms_of_the_same_offering_template_and_zone():
    fake = api()
    reader = vms.ScalabilityReader(fake)
    for index in range(5):
        reader.readiness(vm_row(id="vm-%d" % index), HOST)
    commands = [command for command, _params in fake.reads]
    assert commands.count("listTemplates") == 1 and commands.count("listServiceOfferings") == 1


def test_an_unreadable_offering_leaves_the_verdict_open():
    fake = api(listServiceOfferings=[])
    scalable, blockers = vms.ScalabilityReader(fake).readiness(vm_row(), HOST)
    assert scalable is None
    assert "cannot tell whether VM web-01 can be live-scaled" in blockers[0]

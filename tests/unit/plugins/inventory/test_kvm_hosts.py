"""The kvm_hosts inventory plugin's host variables and groups, from listHosts rows."""

from ansible_collections.livescale.cloudstack.plugins.inventory import kvm_hosts

ROW = {"id": "host-1", "name": "kvm-a1-01", "state": "Up", "type": "Routing", "ipaddress": "192.168.10.11",
       "zoneid": "zone-1", "zonename": "zone-a", "podid": "pod-1", "podname": "pod-a1", "clusterid": "cluster-1",
       "clustername": "cluster-a1", "hypervisor": "KVM", "hypervisorversion": "9.0.0", "version": "4.23.0.0",
       "cpunumber": 16, "cpuspeed": 2400, "cpuallocatedvalue": 3000, "memorytotal": 68719476736,
       "memoryallocated": 2147483648, "hosttags": "ssd, gpu", "resourcestate": "Maintenance", "arch": "x86_64"}


def test_ansible_host_is_the_private_ip_cloudstack_manages_the_host_by():
    variables = kvm_hosts.host_variables(ROW)
    assert variables["ansible_host"] == variables["cloudstack_ip_address"] == "192.168.10.11"
    assert variables["cloudstack_host_tags"] == ["ssd", "gpu"]
    assert (variables["cloudstack_cpu_number"], variables["cloudstack_memory_total"]) == (16, 68719476736)


def test_groups_of_every_choice():
    variables = kvm_hosts.host_variables(ROW)
    groups = dict((choice, parts(variables)) for choice, parts in kvm_hosts.InventoryModule.GROUPS.items())
    assert groups == {"zone": [("zone", "zone-a")], "pod": [("pod", "pod-a1")], "cluster": [("cluster", "cluster-a1")],
                      "state": [("state", "Up")], "resource_state": [("resource_state", "Maintenance")]}


def test_a_host_without_tags_has_an_empty_list():
    assert kvm_hosts.host_variables(dict(ROW, hosttags=None))["cloudstack_host_tags"] == []

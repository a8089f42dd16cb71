"""What the infrastructure listings say about hypervisors, on the seed with a KVM, a XenServer and a VMware cluster."""

from pathlib import Path

import pytest

from simulator.testing import InProcessSimulator

SEED = Path(__file__).resolve().parents[2] / "simulator" / "seeds" / "hypervisors.yml"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with InProcessSimulator(SEED, tmp_path_factory.mktemp("hypervisors") / "state.sqlite") as sim:
        yield sim.client()


def names(rows):
    return [row["name"] for row in rows]


def test_clusters_and_hosts_name_their_hypervisor_and_filter_by_it(client):
    """ManagementServerImpl.searchForClusters / searchForServers: hypervisortype is the cluster's
    (ClusterJoinDaoImpl), the hypervisor filter is HypervisorType.getType (any case; an unknown name is type None,
    which matches nothing)."""
    clusters = client.ok("listClusters")["cluster"]
    assert {row["name"]: row["hypervisortype"] for row in clusters} == {
        "cluster-kvm": "KVM", "cluster-xen": "XenServer", "cluster-vmware": "VMware"}
    assert names(client.ok("listClusters", hypervisor="xenserver")["cluster"]) == ["cluster-xen"]
    assert client.ok("listClusters", hypervisor="Hyper-Nothing") == {}
    assert sorted(names(client.ok("listHosts", hypervisor="VMware")["host"])) == ["esx-01", "esx-02"]
    assert {row["hypervisor"] for row in client.ok("listHosts", hypervisor="kvm")["host"]} == {"KVM"}


def test_list_hypervisors_by_zone_and_without(client):
    """ManagementServerImpl.getHypervisors: with zoneid one entry per cluster of the zone
    (getHypervisorDisplayName); without, the hypervisor.list setting, default Config.HypervisorList."""
    zone = client.ok("listZones")["zone"][0]["id"]
    assert names(client.ok("listHypervisors", zoneid=zone)["hypervisor"]) == ["KVM", "XenServer", "VMware"]
    assert names(client.ok("listHypervisors")["hypervisor"]) == [
        "KVM", "VMware", "XenServer", "Hyperv", "BareMetal", "Ovm", "LXC", "Ovm3", "External"]


def test_templates_name_their_hypervisor(client):
    """TemplateJoinDaoImpl.newTemplateResponse: hypervisor is the template's hypervisor type."""
    templates = client.ok("listTemplates", templatefilter="all")["template"]
    by_name = {row["name"]: row["hypervisor"] for row in templates}
    assert by_name["debian-12-kvm"] == "KVM" and by_name["centos-7-xen"] == "XenServer"

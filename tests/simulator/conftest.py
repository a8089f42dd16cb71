"""Fixtures of the simulator tests: seeds built from the default one, in-process and subprocess simulators."""

import copy

import pytest
import yaml

from simulator.testing import DEFAULT_SEED, InProcessSimulator, SimulatorProcess

DEFAULT = yaml.safe_load(DEFAULT_SEED.read_text())


def build_seed(tmp_path, hosts=None, settings=(), vms=None, offerings=(), scalable=True, name="seed.yml",
               domain_limits=None, domains=(), accounts=(), clusters=(), system_vms=False):
    """A seed file: the default one with own libvirt node files per host and the given changes.

    system_vms=False leaves out the default seed's console proxy and secondary storage VM (their capacity on
    kvm-a1-02 would change what the other tests measure); test_systemvms.py asks for them.

    scalable=True: template scalable, enable.dynamic.scale.vm true in zone-a, web-01 and db-01 Running and
    scalable (their domains are prepared when the simulator starts them).
    domains, accounts and clusters (of pod-a1, hosts with their own uri) are added to the default ones.
    """
    seed = copy.deepcopy(DEFAULT)
    if not system_vms:
        seed["zones"][0].pop("system_vms", None)
    cluster = seed["zones"][0]["pods"][0]["clusters"][0]
    if hosts is not None:
        cluster["hosts"] = hosts
    for host in cluster["hosts"]:
        node = tmp_path / f"{host['name']}.xml"
        node.write_text("<node/>")
        host["uri"] = f"test://{node}"
    seed["service_offerings"] += list(offerings)
    seed["domains"] += list(domains)
    seed["accounts"] += list(accounts)
    seed["zones"][0]["pods"][0]["clusters"] += list(clusters)
    if domain_limits:
        seed["domains"][1]["limits"] = domain_limits
    seed["settings"] = list(settings)
    if scalable:
        seed["templates"][0]["isdynamicallyscalable"] = True
        seed["settings"].append({"name": "enable.dynamic.scale.vm", "value": "true", "scope": "zone",
                                 "target": "zone-a"})
        for vm in seed["vms"]:
            vm.update(state="Running", isdynamicallyscalable=True)
    if vms is not None:
        seed["vms"] = vms
    path = tmp_path / name
    path.write_text(yaml.safe_dump(seed))
    return path


@pytest.fixture
def make_sim(tmp_path):
    """Factory of in-process simulators on a seed built by build_seed; all stopped at the end."""
    started = []

    def make(**changes):
        sim = InProcessSimulator(build_seed(tmp_path, **changes), tmp_path / f"state{len(started)}.sqlite")
        started.append(sim.start())
        return sim
    yield make
    for sim in started:
        sim.stop()


@pytest.fixture(scope="module")
def shared_sim(tmp_path_factory):
    """One subprocess simulator on the default seed for read-mostly wire tests."""
    tmp = tmp_path_factory.mktemp("wire")
    with SimulatorProcess(build_seed(tmp, scalable=False), tmp / "state.sqlite") as sim:
        yield sim


def by_name(client, command, key, **params):
    """{name: object} of a list command."""
    return {item["name"]: item for item in client.ok(command, **params).get(key, [])}


class World:
    """Ids of the seed's objects, looked up once through the API."""

    def __init__(self, client):
        self.client = client
        self.vms = by_name(client, "listVirtualMachines", "virtualmachine", listall="true")
        self.offerings = {name: o["id"] for name, o in by_name(client, "listServiceOfferings",
                                                               "serviceoffering").items()}
        self.hosts = by_name(client, "listHosts", "host")

    def vm(self, name):
        """The VM as listed now."""
        return self.client.ok("listVirtualMachines", id=self.vms[name]["id"])["virtualmachine"][0]

    def scale(self, name, offering, **params):
        """Run scaleVirtualMachine and return the job."""
        return self.client.run("scaleVirtualMachine", id=self.vms[name]["id"],
                               serviceofferingid=self.offerings[offering], **params)

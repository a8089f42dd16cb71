"""The settings each simulated CloudStack version defines (simulator/versions.py absent_settings).

[4.22] is github alexandremattioli/cloudstack @ 3d6cafe193: its tree has no ConfigKey for the three settings
apache/cloudstack PR #12975 added (CapacityManager.KvmMemoryDynamicScalingCapacity / KvmCpuDynamicScalingCapacity,
UserVmManager.AutoMigrateVmOnLiveScaleInsufficientCapacity) nor for PR #12919's
UserVmManager.AllowDifferentHostTagsOfferingsForVmScale; [main] (/work/cs-src) has all four.
"""

import pytest
import yaml

from simulator.app import Simulator
from simulator.seed import SeedError
from simulator.testing import InProcessSimulator
from simulator.versions import SETTINGS_AFTER_4_22
from tests.simulator.conftest import build_seed

ABSENT_TEXT = "Config parameter with name {} doesn't exist"


@pytest.fixture(name="client_of", params=["4.22", "4.23"])
def client_of_version(request, tmp_path):
    """(version, admin client, cluster id) of a simulator started as that version."""
    with InProcessSimulator(build_seed(tmp_path), tmp_path / "state.sqlite", version=request.param) as sim:
        client = sim.client()
        cluster = client.ok("listClusters")["cluster"][0]["id"]
        yield request.param, client, cluster


def listed_names(client, **params):
    """The names listConfigurations answers for these parameters."""
    return {row["name"] for row in client.ok("listConfigurations", **params).get("configuration", [])}


@pytest.mark.parametrize("name", SETTINGS_AFTER_4_22)
def test_listconfigurations_lists_the_setting_only_where_the_version_defines_it(client_of, name):
    """ManagementServerImpl.searchForConfigurations (name LIKE, and with a cluster id the keys of that scope): a key
    the tree does not define has no configuration row, so neither the global nor the cluster listing has it."""
    version, client, cluster = client_of
    present = version != "4.22"
    assert (name in listed_names(client, name=name)) is present
    assert (name in listed_names(client)) is present
    if name.startswith("kvm.") or name.startswith("auto."):  # the cluster-scoped ones
        assert (name in listed_names(client, clusterid=cluster)) is present


@pytest.mark.parametrize("command", ["updateConfiguration", "resetConfiguration"])
def test_a_setting_the_version_lacks_does_not_exist_there(client_of, command):
    """ConfigurationManagerImpl.updateConfiguration(UpdateCfgCmd) and resetConfiguration(ResetCfgCmd) [4.22]: no
    configuration row and no ConfigKey of that name -> InvalidParameterValueException "Config parameter with name ..
    doesn't exist" (431); [main] stores the cluster value (and resets it)."""
    version, client, cluster = client_of
    name = "kvm.cpu.dynamic.scaling.capacity"
    params = {"value": "4"} if command == "updateConfiguration" else {}
    status, body = client.call(command, name=name, clusterid=cluster, **params)
    inner = next(iter(body.values()))
    if version == "4.22":
        assert (status, inner["errorcode"], inner["errortext"]) == (431, 431, ABSENT_TEXT.format(name))
        return
    assert status == 200
    listed = client.ok("listConfigurations", name=name, clusterid=cluster)["configuration"]
    assert [row["value"] for row in listed if row["name"] == name] == ["4" if params else "0"]


def test_the_settings_both_versions_have_still_work_on_4_22(tmp_path):
    """[4.22] ConfigurationManagerImpl.updateConfiguration: vm.serviceoffering.cpu.cores.max exists in both trees
    (ConfigurationManagerImpl.VM_SERVICE_OFFERING_MAX_CPU_CORES) and is what bounds a custom KVM domain there."""
    with InProcessSimulator(build_seed(tmp_path), tmp_path / "state.sqlite", version="4.22") as sim:
        client = sim.client()
        client.ok("updateConfiguration", name="vm.serviceoffering.cpu.cores.max", value="6")
        listed = client.ok("listConfigurations", name="vm.serviceoffering.cpu.cores.max")["configuration"]
        assert listed[0]["value"] == "6"


def test_a_4_22_seed_cannot_set_a_setting_4_22_lacks(tmp_path):
    """A seed is CloudStack's state: a 4.22 database has no row for kvm.memory.dynamic.scaling.capacity."""
    path = build_seed(tmp_path, settings=[{"name": "kvm.memory.dynamic.scaling.capacity", "value": 8192}])
    seed = yaml.safe_load(path.read_text())
    seed["version"] = "4.22"
    path.write_text(yaml.safe_dump(seed))
    with pytest.raises(SeedError, match="setting kvm.memory.dynamic.scaling.capacity: unknown name in CloudStack 4.22"):
        Simulator(path, tmp_path / "state.sqlite")

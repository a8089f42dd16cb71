"""The inventory plugins vms and kvm_hosts through ansible-inventory against the simulator.

Requests are counted at the simulator (its dispatch), so caching is checked from the server's side.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ansible_environment

ANSIBLE_INVENTORY = str(Path(sys.executable).parent / "ansible-inventory")


@pytest.fixture
def counted_simulator(tmp_path):
    """An in-process simulator whose served requests are counted in ``.requests``."""
    from simulator.testing import InProcessSimulator

    process = InProcessSimulator(db=tmp_path / "state.sqlite").start()
    dispatch = process.httpd.app_dispatch
    process.requests = []

    def counting(raw):
        process.requests.append(dict(raw).get("command"))
        return dispatch(raw)

    process.httpd.app_dispatch = counting
    try:
        yield process
    finally:
        process.stop()


def unwrap(value):
    """ansible-inventory --list JSON without its ``__ansible_unsafe`` markers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def inventory(simulator, tmp_path, config, *args, key=None, secret=None, name="cloudstack.yml", extra_env=None):
    """Run ansible-inventory --list on a source file with this config; (CompletedProcess, parsed output or None)."""
    source = tmp_path / name
    source.write_text(yaml.safe_dump(config))
    (tmp_path / "empty.ini").write_text("")
    env = {"CLOUDSTACK_ENDPOINT": simulator.url, "CLOUDSTACK_KEY": key or simulator.admin_key,
           "CLOUDSTACK_SECRET": secret or simulator.admin_secret, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
           "CLOUDSTACK_CONFIG": str(tmp_path / "empty.ini")}
    env.update(extra_env or {})
    result = subprocess.run([ANSIBLE_INVENTORY, "-i", str(source), "--list"] + list(args), env=ansible_environment(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False, cwd=tmp_path)
    return result, unwrap(json.loads(result.stdout)) if result.returncode == 0 else None


def members(listing, group):
    return sorted(listing.get(group, {}).get("hosts", []))


def test_vms_hostvars_groups_and_constructed_options(counted_simulator, tmp_path):
    client = counted_simulator.client()
    vms = {vm["name"]: vm for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]}
    config = {"plugin": "livescale.cloudstack.vms",
              "compose": {"scale_target": "'Medium' if cloudstack_service_offering == 'Small' else 'Large'"},
              "groups": {"running_small": "cloudstack_state == 'Running' and cloudstack_cpu_number == 1"},
              "keyed_groups": [{"key": "cloudstack_account", "prefix": "account"}]}
    result, listing = inventory(counted_simulator, tmp_path, config)
    assert result.returncode == 0, result.stderr
    web, db = listing["_meta"]["hostvars"]["web-01"], listing["_meta"]["hostvars"]["db-01"]
    default_nic = next(nic for nic in vms["web-01"]["nic"] if nic["isdefault"])
    assert web["ansible_host"] == web["cloudstack_ip_address"] == default_nic["ipaddress"]
    assert (web["cloudstack_id"], web["cloudstack_state"], web["cloudstack_host"]) == (
        vms["web-01"]["id"], "Running", vms["web-01"]["hostname"])
    assert (web["cloudstack_cluster"], web["cloudstack_pod"], web["cloudstack_service_offering"]) == (
        "cluster-a1", "pod-a1", "Small")
    assert (web["cloudstack_cpu_number"], web["cloudstack_memory"], web["cloudstack_account"]) == (1, 1024, "acme")
    assert (db["cloudstack_state"], db["cloudstack_host"], db["cloudstack_cluster"]) == ("Stopped", None, None)
    assert web["scale_target"] == "Medium" and db["scale_target"] == "Large"
    assert members(listing, "cloudstack_vms") == members(listing, "zone_zone_a") == ["db-01", "web-01"]
    assert members(listing, "host_kvm_a1_01") == members(listing, "cluster_cluster_a1") == ["web-01"]
    assert members(listing, "offering_Small") == members(listing, "running_small") == ["web-01"]
    assert members(listing, "account_acme") == ["db-01", "web-01"]
    # the default seed: enable.dynamic.scale.vm false, flags off
    assert members(listing, "not_live_scalable") == ["db-01", "web-01"] and "live_scalable" not in listing
    assert any("enable.dynamic.scale.vm is false in zone zone-a" in text for text in web["cloudstack_live_scaling_blockers"])


def test_live_scalable_group_follows_the_zone_setting_and_flags(counted_simulator, tmp_path):
    client = counted_simulator.client()
    zone = client.ok("listZones")["zone"][0]
    template = client.ok("listTemplates", templatefilter="all")["template"][0]
    web = client.ok("listVirtualMachines", listall="true", name="web-01")["virtualmachine"][0]
    client.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="true", zoneid=zone["id"])
    client.ok("updateTemplate", id=template["id"], isdynamicallyscalable="true")
    client.ok("updateVirtualMachine", id=web["id"], isdynamicallyscalable="true")
    result, listing = inventory(counted_simulator, tmp_path, {"plugin": "livescale.cloudstack.vms"})
    assert result.returncode == 0, result.stderr
    assert members(listing, "live_scalable") == ["web-01"]
    assert members(listing, "not_live_scalable") == ["db-01"]  # Stopped
    assert listing["_meta"]["hostvars"]["web-01"]["cloudstack_live_scaling_blockers"] == []
    assert listing["_meta"]["hostvars"]["web-01"]["cloudstack_isdynamicallyscalable"] is True


def test_filters_and_group_by(counted_simulator, tmp_path):
    config = {"plugin": "livescale.cloudstack.vms", "state": "Running", "zone": "zone-a", "account": "acme",
              "domain": "ROOT/customers", "group_by": ["offering"], "live_scalability": False}
    result, listing = inventory(counted_simulator, tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert sorted(listing["_meta"]["hostvars"]) == ["web-01"]
    assert sorted(group for group in listing if group not in ("_meta", "all", "ungrouped")) == [
        "cloudstack_vms", "offering_Small"]
    assert "cloudstack_live_scalable" not in listing["_meta"]["hostvars"]["web-01"]
    assert "listConfigurations" not in counted_simulator.requests


def test_a_user_sees_own_vms_without_hosts(counted_simulator, tmp_path):
    result, listing = inventory(counted_simulator, tmp_path, {"plugin": "livescale.cloudstack.vms"},
                                key=counted_simulator.user_key, secret=counted_simulator.user_secret)
    assert result.returncode == 0, result.stderr
    assert sorted(listing["_meta"]["hostvars"]) == ["db-01", "web-01"]
    assert listing["_meta"]["hostvars"]["web-01"]["cloudstack_host"] is None
    assert "cluster_cluster_a1" not in listing


def test_second_run_is_served_from_the_cache(counted_simulator, tmp_path):
    config = {"plugin": "livescale.cloudstack.vms", "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(tmp_path / "cache"), "cache_timeout": 600}
    first, first_listing = inventory(counted_simulator, tmp_path, config)
    assert first.returncode == 0, first.stderr
    requests = len(counted_simulator.requests)
    assert 0 < requests <= 10, counted_simulator.requests
    second, second_listing = inventory(counted_simulator, tmp_path, config)
    assert second.returncode == 0, second.stderr
    assert len(counted_simulator.requests) == requests
    assert second_listing == first_listing
    flushed, _listing = inventory(counted_simulator, tmp_path, config, "--flush-cache")
    assert flushed.returncode == 0, flushed.stderr
    assert len(counted_simulator.requests) == 2 * requests


@pytest.mark.parametrize("config, env, message", [
    ({"plugin": "livescale.cloudstack.vms"}, {"CLOUDSTACK_KEY": ""}, "missing CloudStack connection settings: api_key"),
    ({"plugin": "livescale.cloudstack.vms", "zone": "nowhere"}, {}, "zone 'nowhere' not found"),
    ({"plugin": "livescale.cloudstack.vms", "account": "acme", "project": "p1"}, {}, "exclude each other"),
    ({"plugin": "livescale.cloudstack.vms", "group_by": ["colour"]}, {}, "colour"),
    ({"plugin": "livescale.cloudstack.vms", "api_url": "cloud.example.com"}, {}, "is not an http(s) URL"),
    ({"plugin": "livescale.cloudstack.kvm_hosts"}, {"CLOUDSTACK_KEY": "ALICE-KEY", "CLOUDSTACK_SECRET": "ALICE-SECRET"},
     "The API [listHosts] does not exist or is not available for the account acme"),
])
def test_bad_config_fails_with_a_clear_message(counted_simulator, tmp_path, config, env, message):
    result, _listing = inventory(counted_simulator, tmp_path, config, extra_env=env)
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split()), result.stderr


def test_kvm_hosts_addresses_and_groups(counted_simulator, tmp_path):
    hosts = {host["name"]: host for host in counted_simulator.client().ok("listHosts", type="Routing")["host"]}
    config = {"plugin": "livescale.cloudstack.kvm_hosts", "cluster": "cluster-a1",
              "groups": {"big_memory": "cloudstack_memory_total >= 64 * 1024 ** 3"}}
    counted_simulator.requests.clear()
    result, listing = inventory(counted_simulator, tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert sorted(listing["_meta"]["hostvars"]) == sorted(hosts) == ["kvm-a1-01", "kvm-a1-02"]
    addresses = [listing["_meta"]["hostvars"][name]["ansible_host"] for name in sorted(hosts)]
    assert addresses == [hosts[name]["ipaddress"] for name in sorted(hosts)] and len(set(addresses)) == 2
    for name, host in hosts.items():
        variables = listing["_meta"]["hostvars"][name]
        assert (variables["cloudstack_state"], variables["cloudstack_resource_state"], variables["cloudstack_pod"]) == (
            "Up", "Enabled", "pod-a1")
    for group in ("cloudstack_kvm_hosts", "zone_zone_a", "pod_pod_a1", "cluster_cluster_a1", "state_Up",
                  "resource_state_Enabled", "big_memory"):
        assert members(listing, group) == ["kvm-a1-01", "kvm-a1-02"], group
    assert counted_simulator.requests == ["listClusters", "listHosts"]  # the cluster's id, then its hosts


def test_kvm_hosts_state_filter(counted_simulator, tmp_path):
    config = {"plugin": "livescale.cloudstack.kvm_hosts", "resource_state": "Maintenance"}
    result, listing = inventory(counted_simulator, tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert listing["_meta"]["hostvars"] == {}


def test_vms_tag_groups_and_the_tags_option(counted_simulator, tmp_path):
    """Tags set with createTags: a VM is in tag_<key>_<value> for each, with cloudstack_tags; the tags option asks
    listVirtualMachines for the VMs that carry any of them (QueryManagerImpl.searchForUserVMIdsAndCount)."""
    client = counted_simulator.client()
    ids = {vm["name"]: vm["id"] for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]}
    for name, tags in (("web-01", {"role": "web", "env": "prod"}), ("db-01", {"env": "prod"})):
        pairs = dict(item for index, (key, value) in enumerate(sorted(tags.items()))
                     for item in (("tags[%d].key" % index, key), ("tags[%d].value" % index, value)))
        assert client.run("createTags", resourcetype="UserVm", resourceids=ids[name], **pairs)["jobstatus"] == 1
    result, listing = inventory(counted_simulator, tmp_path, {"plugin": "livescale.cloudstack.vms"})
    assert result.returncode == 0, result.stderr
    assert members(listing, "tag_env_prod") == ["db-01", "web-01"] and members(listing, "tag_role_web") == ["web-01"]
    assert listing["_meta"]["hostvars"]["web-01"]["cloudstack_tags"] == {"env": "prod", "role": "web"}
    assert listing["_meta"]["hostvars"]["db-01"]["cloudstack_tags"] == {"env": "prod"}
    config = {"plugin": "livescale.cloudstack.vms", "tags": {"role": "web", "env": "staging"}}
    result, listing = inventory(counted_simulator, tmp_path, config, name="web.yml")
    assert result.returncode == 0, result.stderr
    assert sorted(listing["_meta"]["hostvars"]) == ["web-01"]

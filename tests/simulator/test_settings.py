"""listConfigurations / updateConfiguration / resetConfiguration with scopes, types and fallback (spec 2.9)."""

import pytest

from .conftest import World


@pytest.fixture
def admin(make_sim):
    """Root admin client of a fresh in-process simulator."""
    return make_sim(scalable=False).client()


@pytest.fixture
def ids(admin):
    """Scope object ids."""
    world = World(admin)
    host = world.hosts["kvm-a1-01"]
    acme = admin.ok("listAccounts", name="acme")["account"][0]
    return {"zoneid": host["zoneid"], "clusterid": host["clusterid"], "accountid": acme["id"],
            "domainid": acme["domainid"]}


def value(admin, name, **scope):
    """The listed value of one setting."""
    listed = [c for c in admin.ok("listConfigurations", name=name, **scope)["configuration"] if c["name"] == name]
    return listed[0]


def test_name_is_a_substring_match_and_scope_only_with_an_id(admin, ids):
    names = {c["name"] for c in admin.ok("listConfigurations", name="dynamic.scal")["configuration"]}
    assert {"enable.dynamic.scale.vm", "kvm.cpu.dynamic.scaling.capacity",
            "kvm.memory.dynamic.scaling.capacity"} <= names
    plain = value(admin, "enable.dynamic.scale.vm")
    assert "scope" not in plain
    assert plain == {"category": "Advanced", "name": "enable.dynamic.scale.vm", "value": "false",
                     "defaultvalue": "false", "description": "Enables/Disables dynamically scaling a vm",
                     "isdynamic": True, "component": "UserVmManager", "displaytext": "Enable dynamic scale vm",
                     "type": "Boolean"}
    assert value(admin, "enable.dynamic.scale.vm", zoneid=ids["zoneid"])["scope"] == "zone"
    cluster_keys = {c["name"] for c in admin.ok("listConfigurations", clusterid=ids["clusterid"])["configuration"]}
    assert "auto.migrate.vm.on.live.scale.insufficient.capacity" in cluster_keys
    assert "enable.dynamic.scale.vm" not in cluster_keys and "scale.retry" not in cluster_keys


def test_cluster_value_falls_back_to_global(admin, ids):
    name = "cpu.overprovisioning.factor"
    admin.ok("updateConfiguration", name=name, value="3.0")
    assert value(admin, name, clusterid=ids["clusterid"])["value"] == "1.0"
    admin.ok("resetConfiguration", name=name, clusterid=ids["clusterid"])
    assert value(admin, name, clusterid=ids["clusterid"])["value"] == "3.0"
    assert admin.ok("listClusters")["cluster"][0]["cpuovercommitratio"] == "3.0"
    host = admin.ok("listHosts", name="kvm-a1-01")["host"][0]
    assert host["cpuwithoverprovisioning"] == "115200"
    status, body = admin.call("updateConfiguration", name=name, value="2.0", zoneid=ids["zoneid"])
    assert (status, body["updateconfigurationresponse"]["errortext"]) == (
        431, "Invalid scope id provided for the parameter cpu.overprovisioning.factor")


def test_zone_value_falls_back_to_global(admin, ids):
    admin.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="true")
    assert value(admin, "enable.dynamic.scale.vm", zoneid=ids["zoneid"])["value"] == "true"


def test_account_value_falls_back_to_domain(admin, ids):
    admin.ok("updateConfiguration", name="max.account.cpus", value="12", domainid=ids["domainid"])
    assert value(admin, "max.account.cpus", accountid=ids["accountid"])["value"] == "12"
    assert value(admin, "max.account.cpus")["value"] == "40"


def test_update_and_reset_responses(admin, ids):
    updated = admin.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="TRUE", zoneid=ids["zoneid"])
    assert (updated["configuration"]["value"], updated["configuration"]["scope"]) == ("true", "zone")
    assert value(admin, "enable.dynamic.scale.vm", zoneid=ids["zoneid"])["value"] == "true"
    assert value(admin, "enable.dynamic.scale.vm")["value"] == "false"
    reset = admin.ok("resetConfiguration", name="enable.dynamic.scale.vm", zoneid=ids["zoneid"])
    assert (reset["configuration"]["value"], reset["configuration"]["scope"]) == ("false", "Zone")
    admin.ok("updateConfiguration", name="scale.retry", value="4")
    assert admin.ok("resetConfiguration", name="scale.retry")["configuration"]["value"] == "2"


@pytest.mark.parametrize("params, text", [
    ({"name": "no.such.setting", "value": "1"}, "Config parameter with name no.such.setting doesn't exist"),
    ({"name": "enable.dynamic.scale.vm", "value": "yes"}, "Value [yes] is not a valid [class java.lang.Boolean]."),
    ({"name": "scale.retry", "value": "two"}, "Value [two] is not a valid [class java.lang.Integer]."),
    ({"name": "cpu.overprovisioning.factor", "value": "x"}, "Value [x] is not a valid [class java.lang.Float]."),
    ({"name": "scale.retry", "value": "3", "scope": "zoneid"}, "Invalid scope id provided for the parameter scale.retry"),
    ({"name": "enable.dynamic.scale.vm", "value": "true", "scope": "both"},
     "cannot handle multiple IDs, provide only one ID corresponding to the scope"),
])
def test_update_errors_are_431_and_change_nothing(admin, ids, params, text):
    params = dict(params)
    scope = params.pop("scope", None)
    if scope == "zoneid":
        params["zoneid"] = ids["zoneid"]
    if scope == "both":
        params.update(zoneid=ids["zoneid"], clusterid=ids["clusterid"])
    status, body = admin.call("updateConfiguration", **params)
    assert status == 431
    assert body["updateconfigurationresponse"]["errortext"] == text
    assert body["updateconfigurationresponse"]["cserrorcode"] == 4350
    assert value(admin, "enable.dynamic.scale.vm")["value"] == "false"
    assert value(admin, "scale.retry")["value"] == "2"

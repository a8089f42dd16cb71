"""listConfigurations / updateConfiguration / resetConfiguration with scopes, types and fallback (spec 2.9).

Sources ([main]): server/.../configuration/ConfigurationManagerImpl.java (updateConfiguration, resetConfiguration,
getNormalizedEmptyValueForConfig, validateConfigurationValue, validateValueType, validateValueRange,
getConfigurationType), server/.../server/ManagementServerImpl.java searchForConfigurations,
api/.../admin/config/{ListCfgsByCmd,UpdateCfgCmd,ResetCfgCmd}.java, framework/config/.../ConfigKey.java
(valueInScope, valueOf) and ConfigDepotImpl.getConfigurationGroupAndSubGroupByName.
"""

import pytest

from simulator.testing import SimulatorProcess

from .conftest import World

DOMAIN_ADMIN = (SimulatorProcess.domain_admin_key, SimulatorProcess.domain_admin_secret)


@pytest.fixture
def admin(make_sim):
    """Root admin client of a fresh in-process simulator."""
    return make_sim(scalable=False).client()


@pytest.fixture
def ids(admin):
    """Scope object ids."""
    world = World(admin)
    host = world.hosts["kvm-a1-01"]
    acme = admin.ok("listAccounts", name="acme", listall="true")["account"][0]
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
    # ApiResponseHelper.createConfigurationResponse; group/subgroup from the name word "vm"
    # (configuration_subgroup 'Virtual Machine' of schema-41720to41800.sql); id and parent are never set.
    assert plain == {"category": "Advanced", "group": "Compute", "subgroup": "Virtual Machine",
                     "name": "enable.dynamic.scale.vm", "value": "false",
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


def test_single_scope_keys_fall_back_to_global_not_to_the_parent(admin, ids):
    """ConfigKey.valueInGlobalOrAvailableParentScope: a key of one scope (QueryService AllowUserViewDestroyedVM,
    Scope.Account) answers value() for an account without its own value, whatever its domain holds."""
    name = "allow.user.view.destroyed.vm"
    admin.ok("updateConfiguration", name=name, value="true")
    assert value(admin, name, accountid=ids["accountid"])["value"] == "true"
    status, body = admin.call("updateConfiguration", name=name, value="false", domainid=ids["domainid"])
    assert (status, body["updateconfigurationresponse"]["errortext"]) == (
        431, "Invalid scope id provided for the parameter allow.user.view.destroyed.vm")


def test_max_account_limits_are_global_only(admin, ids):
    """Config.java DefaultMaxAccountCpus: a Config entry, Global scope, not dynamic, component management-server."""
    listed = value(admin, "max.account.cpus")
    assert (listed["isdynamic"], listed["component"]) == (False, "management-server")
    status, body = admin.call("updateConfiguration", name="max.account.cpus", value="12", domainid=ids["domainid"])
    assert (status, body["updateconfigurationresponse"]["errortext"]) == (
        431, "Invalid scope id provided for the parameter max.account.cpus")


def test_update_answers_the_global_row_and_the_scope_of_the_ids_passed(admin, ids):
    """updateConfiguration returns _configDao.findByName(name) and UpdateCfgCmd copies cfg.getValue(): a scoped
    update answers the GLOBAL value; setResponseScopes names only the ids passed."""
    updated = admin.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="TRUE", zoneid=ids["zoneid"])
    assert (updated["configuration"]["value"], updated["configuration"]["scope"]) == ("false", "zone")
    assert value(admin, "enable.dynamic.scale.vm", zoneid=ids["zoneid"])["value"] == "true"
    assert value(admin, "enable.dynamic.scale.vm")["value"] == "false"
    cluster = admin.ok("updateConfiguration", name="kvm.cpu.dynamic.scaling.capacity", value="16",
                       clusterid=ids["clusterid"])["configuration"]
    assert (cluster["value"], cluster["scope"]) == ("0", "cluster")
    assert admin.ok("updateConfiguration", name="scale.retry", value="4")["configuration"]["value"] == "4"


def test_domain_admin_update_defaults_to_its_domain_without_a_scope_in_the_answer(make_sim):
    """ConfigurationManagerImpl.updateConfiguration: a domain admin naming no account/domain works on its domain;
    UpdateCfgCmd.setResponseScopes looks at the command's own ids, so no scope is answered."""
    sim = make_sim(scalable=False)
    dora, admin = sim.client(*DOMAIN_ADMIN), sim.client()
    name = "share.public.templates.with.other.domains"
    updated = dora.ok("updateConfiguration", name=name, value="false")["configuration"]
    assert (updated["value"], "scope" in updated) == ("true", False)
    customers = admin.ok("listDomains", name="customers")["domain"][0]["id"]
    assert value(admin, name, domainid=customers)["value"] == "false"
    assert value(admin, name)["value"] == "true"


def test_reset_answers_the_new_value_in_the_scope_with_the_enum_name(admin, ids):
    """ResetCfgCmd.execute: response value = the key's new value there, scope = ConfigKey.Scope name."""
    admin.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="true", zoneid=ids["zoneid"])
    reset = admin.ok("resetConfiguration", name="enable.dynamic.scale.vm", zoneid=ids["zoneid"])
    assert (reset["configuration"]["value"], reset["configuration"]["scope"]) == ("false", "Zone")
    admin.ok("updateConfiguration", name="scale.retry", value="4")
    reset = admin.ok("resetConfiguration", name="scale.retry")["configuration"]
    assert (reset["value"], "scope" in reset) == ("2", False)


def test_cluster_reset_of_an_overprovisioning_factor_pins_the_global_value(admin, ids):
    """resetConfiguration, case Cluster: cpu/mem.overprovisioning.factor are persisted with configKey.value()
    (Float.toString) instead of removed, so a later global change does not reach the cluster."""
    name = "mem.overprovisioning.factor"
    admin.ok("updateConfiguration", name=name, value="2", clusterid=ids["clusterid"])
    admin.ok("updateConfiguration", name=name, value="3")
    assert admin.ok("resetConfiguration", name=name, clusterid=ids["clusterid"])["configuration"]["value"] == "3.0"
    admin.ok("updateConfiguration", name=name, value="4")
    assert value(admin, name, clusterid=ids["clusterid"])["value"] == "3.0"


def test_scoped_values_are_answered_as_the_typed_key_prints_them(admin, ids):
    """searchForConfigurations sets key.valueInScope(scope, id).toString(): Float/Integer/Boolean.toString of
    ConfigKey.valueOf; the global row keeps the text stored (trimmed by getNormalizedEmptyValueForConfig)."""
    admin.ok("updateConfiguration", name="cpu.overprovisioning.factor", value=" 2.5f ", clusterid=ids["clusterid"])
    assert value(admin, "cpu.overprovisioning.factor", clusterid=ids["clusterid"])["value"] == "2.5"
    admin.ok("updateConfiguration", name="kvm.cpu.dynamic.scaling.capacity", value="+016", clusterid=ids["clusterid"])
    assert value(admin, "kvm.cpu.dynamic.scaling.capacity", clusterid=ids["clusterid"])["value"] == "16"
    admin.ok("updateConfiguration", name="vm.op.wait.interval", value=" 60 ")
    assert value(admin, "vm.op.wait.interval")["value"] == "60"


def test_empty_string_values_are_kept_at_a_scope(admin, ids):
    """getNormalizedEmptyValueForConfig gives "" for a String key (and at any scope); ConfigKey.valueInScope
    answers a stored "" as it is instead of the parent's value."""
    admin.ok("updateConfiguration", name="vm.allocation.algorithm", value="null")
    assert value(admin, "vm.allocation.algorithm")["value"] == ""
    listed = value(admin, "vm.allocation.algorithm")
    assert (listed["type"], listed["options"]) == ("Select", "random,firstfit,userdispersing,firstfitleastconsumed")


@pytest.mark.parametrize("params, code, text", [
    # getNormalizedEmptyValueForConfig: scoped "" / "null" stay "" and fail validateValueType for non-Strings
    ({"name": "enable.dynamic.scale.vm", "value": "", "scope": "zoneid"}, 431,
     "Value [] is not a valid [class java.lang.Boolean]."),
    ({"name": "kvm.cpu.dynamic.scaling.capacity", "value": "null", "scope": "clusterid"}, 431,
     "Value [] is not a valid [class java.lang.Integer]."),
    ({"name": "cpu.overprovisioning.factor", "value": " ", "scope": "clusterid"}, 431,
     "Value [] is not a valid [class java.lang.Float]."),
    # at global scope they become null: Integer.parseInt(null) fails, Boolean's value.toLowerCase() is an NPE
    ({"name": "scale.retry", "value": ""}, 431, "Value [null] is not a valid [class java.lang.Integer]."),
    ({"name": "enable.dynamic.scale.vm", "value": "null"}, 530,
     'Cannot invoke "String.toLowerCase()" because "value" is null'),
    # validateValueRange
    ({"name": "cpu.overprovisioning.factor", "value": "0"}, 431,
     "Value for configuration [cpu.overprovisioning.factor] should be greater than 0."),
    ({"name": "mem.overprovisioning.factor", "value": "-1.5", "scope": "clusterid"}, 431,
     "Value for configuration [mem.overprovisioning.factor] should be greater than 0."),
    ({"name": "cluster.cpu.allocated.capacity.disablethreshold", "value": "1.01", "scope": "clusterid"}, 431,
     "Please enter a value between 0 and 1 for the configuration parameter:"
     " [cluster.cpu.allocated.capacity.disablethreshold]."),
    ({"name": "cluster.memory.allocated.capacity.disablethreshold", "value": "-0.1"}, 431,
     "Please enter a value between 0 and 1 for the configuration parameter:"
     " [cluster.memory.allocated.capacity.disablethreshold]."),
    # validateValueType: Integer.parseInt / Float.parseFloat grammar, Float infinity refused
    ({"name": "scale.retry", "value": "1_0"}, 431, "Value [1_0] is not a valid [class java.lang.Integer]."),
    ({"name": "scale.retry", "value": "2147483648"}, 431,
     "Value [2147483648] is not a valid [class java.lang.Integer]."),
    ({"name": "cpu.overprovisioning.factor", "value": "1e39"}, 431,
     "Value [1e39] is not a valid [class java.lang.Float]."),
    # the scope is checked before the type (validateConfigurationValue)
    ({"name": "scale.retry", "value": "x", "scope": "zoneid"}, 431,
     "Invalid scope id provided for the parameter scale.retry"),
])
def test_empty_and_out_of_range_values_are_refused_and_change_nothing(admin, ids, params, code, text):
    params = dict(params)
    scope = params.pop("scope", None)
    if scope:
        params[scope] = ids[scope]
    before = listed_values(admin, params["name"], ids, scope)
    status, body = admin.call("updateConfiguration", **params)
    assert (status, body["updateconfigurationresponse"]["errortext"]) == (code, text)
    assert listed_values(admin, params["name"], ids, scope) == before


def listed_values(admin, name, ids, scope):
    """The global value and, when the key has one there, the value at ``scope``."""
    values = [value(admin, name)["value"]]
    if scope:
        values += [c["value"] for c in admin.ok("listConfigurations", name=name, **{scope: ids[scope]}).get(
            "configuration", []) if c["name"] == name]
    return values


def test_weight_based_thresholds_report_type_range(admin):
    """getConfigurationType: weightBasedParametersForValidation keys are "Range"; Float keys "Decimal"."""
    types = {c["name"]: c["type"] for c in admin.ok("listConfigurations", name="capacity.disablethreshold")[
        "configuration"]}
    assert types == {"cluster.cpu.allocated.capacity.disablethreshold": "Range",
                     "cluster.memory.allocated.capacity.disablethreshold": "Range"}
    assert value(admin, "cpu.overprovisioning.factor")["type"] == "Decimal"


def test_list_filters_and_their_errors(admin, ids):
    """ListCfgsByCmd.validateParameters and searchForConfigurations (name order, keyword on name, component,
    description, category and value; group/subgroup by name); its InvalidParameterValueExceptions become a 431
    ServerApiException (cserrorcode 9999)."""
    names = [c["name"] for c in admin.ok("listConfigurations")["configuration"]]
    assert names == sorted(names)
    by_keyword = {c["name"] for c in admin.ok("listConfigurations", keyword="DeploymentClusterPlanner")[
        "configuration"]}
    assert "vm.allocation.algorithm" in by_keyword and "scale.retry" not in by_keyword
    kvm = admin.ok("listConfigurations", group="hypervisor", subgroup="KVM")["configuration"]
    assert {c["name"] for c in kvm} == {"kvm.cpu.dynamic.scaling.capacity", "kvm.memory.dynamic.scaling.capacity"}
    for params, text in (({"subgroup": "KVM"}, "Configuration group name must be specified with the subgroup name"),
                         ({"group": "Nope"}, "Invalid configuration group: Nope"),
                         ({"zoneid": ids["zoneid"], "clusterid": ids["clusterid"]},
                          "cannot handle multiple IDs, provide only one ID corresponding to the scope")):
        status, body = admin.call("listConfigurations", **params)
        answer = body["listconfigurationsresponse"]
        assert (status, answer["errortext"], answer["cserrorcode"]) == (431, text, 9999)


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

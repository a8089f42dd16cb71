"""Tables for the pure part of the setting logic: values, types, scopes, unknown names and the write plan."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._setting import (
    RESET, UPDATE, Plan, Scope, build_result, desired_value, ensure_setting, missing_setting_error, normalise, plan_write,
    same_value, scope_kind)

from ..modules.fakes import FakeModule

BOOLEAN = {"name": "enable.dynamic.scale.vm", "type": "Boolean", "value": "false", "defaultvalue": "false", "isdynamic": True}
NUMBER = {"name": "kvm.cpu.dynamic.scaling.capacity", "type": "Number", "value": "0", "defaultvalue": "0"}
DECIMAL = {"name": "cpu.overprovisioning.factor", "type": "Decimal", "value": "1.0", "defaultvalue": "1.0"}
RANGE = {"name": "cluster.cpu.allocated.capacity.disablethreshold", "type": "Range", "value": "0.85"}
STRING = {"name": "vm.strict.host.tags", "type": "String", "value": ""}
SELECT = {"name": "vm.allocation.algorithm", "type": "Select", "value": "random",
          "options": "random,firstfit,userdispersing,firstfitleastconsumed"}
CSV = {"name": "vm.allowed.boot.modes", "type": "CSV", "value": "Legacy,Secure", "options": "Legacy,Secure,UEFI"}
CSV_FREE = {"name": "vm.strict.host.tags.list", "type": "CSV", "value": "ssd"}
LEGACY_BOOLEAN = {"name": "enable.dynamic.scale.vm", "value": "false"}
LEGACY_TEXT = {"name": "vm.allocation.algorithm", "value": "random"}
ZONE = {"id": "zone-uuid", "name": "zone-a"}
CLUSTER = {"id": "cluster-uuid", "name": "cluster-a1", "zoneid": "zone-uuid"}
DOMAIN = {"id": "domain-uuid", "name": "customers"}
ACCOUNT = {"id": "account-uuid", "name": "acme", "domainid": "domain-uuid"}
KNOWN = ["enable.dynamic.scale.vm", "scale.retry", "kvm.cpu.dynamic.scaling.capacity", "kvm.memory.dynamic.scaling.capacity",
         "vm.op.wait.interval"]


@pytest.mark.parametrize("current, wanted, setting", [
    ("true", True, BOOLEAN),
    ("true", "True", BOOLEAN),
    ("false", "FALSE", BOOLEAN),
    ("1", "1.0", NUMBER),
    ("16", 16, NUMBER),
    ("1.0", 1, DECIMAL),
    ("0.5", " 0.50 ", DECIMAL),
    ("0.85", 0.85, RANGE),
    ("ssd,nvme", "ssd,nvme", STRING),
    ("true", True, STRING),
    ("firstfit", "firstfit", SELECT),
    ("Legacy,UEFI", "Legacy,UEFI", CSV),
    ("TRUE", True, LEGACY_BOOLEAN),
    ("random", "random", LEGACY_TEXT),
], ids=lambda value: repr(value) if not isinstance(value, dict) else value.get("type", "untyped"))
def test_same_value(current, wanted, setting):
    assert same_value(current, wanted, setting)


@pytest.mark.parametrize("current, wanted, setting", [
    ("false", True, BOOLEAN),
    ("0", "16", NUMBER),
    ("1.0", "1.5", DECIMAL),
    ("0.85", "0.9", RANGE),
    ("ssd", "SSD", STRING),
    ("ssd,nvme", "ssd, nvme", STRING),
    ("True", "true", STRING),
    ("random", "firstfit", SELECT),
    ("Legacy,UEFI", "UEFI,Legacy", CSV),
    (None, "true", BOOLEAN),
    ("yes", "true", BOOLEAN),
    ("random", "Random", LEGACY_TEXT),
], ids=lambda value: repr(value) if not isinstance(value, dict) else value.get("type", "untyped"))
def test_different_value(current, wanted, setting):
    assert not same_value(current, wanted, setting)


@pytest.mark.parametrize("value, setting_type, options", [
    ("maybe", "Boolean", None),
    (1, "Boolean", None),
    ("yes", "Boolean", None),
    ("1.5", "Number", None),
    (True, "Number", None),
    ("sixteen", "Number", None),
    ("nan", "Number", None),
    ("inf", "Decimal", None),
    ("", "Decimal", None),
    ("0,5", "Range", None),
    ("fastest", "Select", "random,firstfit"),
    ("random,firstfit", "Select", "random,firstfit"),
    ("Legacy,BIOS", "CSV", "Legacy,Secure,UEFI"),
    ("legacy", "CSV", "Legacy,Secure,UEFI"),
])
def test_value_that_does_not_fit_the_type(value, setting_type, options):
    assert normalise(value, setting_type, options) is None


@pytest.mark.parametrize("value, setting_type, options, expected", [
    (True, "Boolean", None, "true"),
    ("FALSE", "Boolean", None, "false"),
    ("16.0", "Number", None, 16),
    ("-1", "Number", None, -1),
    (" 0.25", "Decimal", None, 0.25),
    ("1e3", "Decimal", None, 1000),
    (False, "String", None, "false"),
    (" spaced ", "String", None, " spaced "),
    ("random", "Select", " random , firstfit ", "random"),
    ("anything", "Select", None, "anything"),
    ("Legacy, UEFI", "CSV", "Legacy,Secure,UEFI", "Legacy, UEFI"),
    ("any,thing", "CSV", "", "any,thing"),
])
def test_normalised_form(value, setting_type, options, expected):
    assert normalise(value, setting_type, options) == expected


@pytest.mark.parametrize("value, setting, sent", [
    (True, BOOLEAN, "true"),
    ("True", BOOLEAN, "true"),
    (16, NUMBER, "16"),
    ("16.0", NUMBER, "16"),
    (" 32768 ", NUMBER, "32768"),
    (" 1.5 ", DECIMAL, "1.5"),
    (2, DECIMAL, "2"),
    ("0.9", RANGE, "0.9"),
    (0, RANGE, "0"),
    ("1", RANGE, "1"),
    ("0.01", DECIMAL, "0.01"),
    (" ssd ", STRING, "ssd"),
    ("ssd,nvme", STRING, "ssd,nvme"),
    (False, STRING, "false"),
    ("firstfit", SELECT, "firstfit"),
    ("Secure,UEFI", CSV, "Secure,UEFI"),
    ("gpu,ssd", CSV_FREE, "gpu,ssd"),
    (True, LEGACY_BOOLEAN, "true"),
    ("firstfit", LEGACY_TEXT, "firstfit"),
], ids=repr)
def test_desired_value_is_the_text_to_send(value, setting, sent):
    assert desired_value(setting["name"], value, setting) == sent


@pytest.mark.parametrize("value, setting, message", [
    ("maybe", BOOLEAN, "setting enable.dynamic.scale.vm is of type Boolean: 'maybe' is not valid; use true or false"),
    (1, BOOLEAN, "setting enable.dynamic.scale.vm is of type Boolean: 1 is not valid; use true or false"),
    ("1.5", NUMBER, "setting kvm.cpu.dynamic.scaling.capacity is of type Number: '1.5' is not valid; use a whole number"),
    (True, NUMBER, "setting kvm.cpu.dynamic.scaling.capacity is of type Number: True is not valid; use a whole number"),
    ("high", DECIMAL, "setting cpu.overprovisioning.factor is of type Decimal: 'high' is not valid; use a number"),
    ("85%", RANGE, "setting cluster.cpu.allocated.capacity.disablethreshold is of type Range: '85%' is not valid; use a number"),
    ("fastest", SELECT, "setting vm.allocation.algorithm is of type Select: 'fastest' is not valid;"
                        " use one of random,firstfit,userdispersing,firstfitleastconsumed"),
    ("Legacy,BIOS", CSV, "setting vm.allowed.boot.modes is of type CSV: 'Legacy,BIOS' is not valid;"
                         " use a comma-separated list of Legacy,Secure,UEFI"),
    ("maybe", LEGACY_BOOLEAN, "setting enable.dynamic.scale.vm is of type Boolean: 'maybe' is not valid; use true or false"),
    (None, BOOLEAN, "setting enable.dynamic.scale.vm: value is required with state=present; give value, or use"
                    " state=absent to reset the setting"),
    # ConfigurationManagerImpl.getNormalizedEmptyValueForConfig: "" and "null" are no reset (431 for a Boolean/number)
    ("", STRING, "setting vm.strict.host.tags: value '' is empty or 'null', which CloudStack does not take as a reset"
                 " (it refuses it for a Boolean or number setting and stores an empty text otherwise); use state=absent"
                 " to reset the setting"),
    (" null ", NUMBER, "setting kvm.cpu.dynamic.scaling.capacity: value ' null ' is empty or 'null', which CloudStack"
                       " does not take as a reset (it refuses it for a Boolean or number setting and stores an empty"
                       " text otherwise); use state=absent to reset the setting"),
    # ConfigurationManagerImpl.validateValueRange
    ("0", DECIMAL, "setting cpu.overprovisioning.factor: value '0' is out of range: CloudStack takes only a value"
                   " greater than 0; use a positive factor such as 1.0"),
    (-1.5, dict(DECIMAL, name="mem.overprovisioning.factor"),
     "setting mem.overprovisioning.factor: value -1.5 is out of range: CloudStack takes only a value greater than 0;"
     " use a positive factor such as 1.0"),
    ("1.2", RANGE, "setting cluster.cpu.allocated.capacity.disablethreshold: value '1.2' is out of range: CloudStack"
                   " takes only a fraction between 0 and 1; use a value such as 0.85"),
    (-0.1, RANGE, "setting cluster.cpu.allocated.capacity.disablethreshold: value -0.1 is out of range: CloudStack"
                  " takes only a fraction between 0 and 1; use a value such as 0.85"),
], ids=repr)
def test_bad_value_names_the_value_and_the_fix(value, setting, message):
    with pytest.raises(InvalidValue) as error:
        desired_value(setting["name"], value, setting)
    assert str(error.value) == message


@pytest.mark.parametrize("options, kind", [
    ({}, "global"),
    ({"zone": None, "cluster": None, "domain": None, "account": None}, "global"),
    ({"zone": "zone-a"}, "zone"),
    ({"cluster": "cluster-a1"}, "cluster"),
    ({"zone": "zone-a", "cluster": "cluster-a1"}, "cluster"),
    ({"domain": "ROOT/customers"}, "domain"),
    ({"account": "acme"}, "account"),
    ({"domain": "customers", "account": "acme"}, "account"),
    ({"zone": "", "domain": "customers"}, "domain"),
])
def test_scope_kind(options, kind):
    assert scope_kind(options) == kind


@pytest.mark.parametrize("kind, obj, params, parents, described", [
    ("global", None, {}, [{}], "globally"),
    ("zone", ZONE, {"zoneid": "zone-uuid"}, [{}], "in zone zone-a"),
    ("cluster", CLUSTER, {"clusterid": "cluster-uuid"}, [{"zoneid": "zone-uuid"}, {}], "in cluster cluster-a1"),
    ("domain", DOMAIN, {"domainid": "domain-uuid"}, [{}], "in domain customers"),
    ("account", ACCOUNT, {"accountid": "account-uuid"}, [{"domainid": "domain-uuid"}, {}], "in account acme"),
])
def test_scope_parameters_and_parents(kind, obj, params, parents, described):
    scope = Scope(kind, obj)
    assert (scope.kind, scope.params, scope.parents, scope.describe()) == (kind, params, parents, described)


@pytest.mark.parametrize("name, scope, message", [
    ("enable.dynamic.scale.vms", Scope(), "unknown setting enable.dynamic.scale.vms; close matches: enable.dynamic.scale.vm"),
    ("kvm.cpu.dynamic.scaling.capasity", Scope(),
     "unknown setting kvm.cpu.dynamic.scaling.capasity; close matches: kvm.cpu.dynamic.scaling.capacity,"
     " kvm.memory.dynamic.scaling.capacity"),
    ("no.such.thing", Scope(), "unknown setting no.such.thing; no close match; listConfigurations lists the known names"),
    ("scale.retry", Scope("zone", ZONE),
     "setting scale.retry cannot be set in zone zone-a: CloudStack has no zone-scoped value for it; choose another scope"),
    ("enable.dynamic.scale.vm", Scope("account", ACCOUNT),
     "setting enable.dynamic.scale.vm cannot be set in account acme: CloudStack has no account-scoped value for it;"
     " choose another scope"),
])
def test_missing_setting_names_close_matches_or_the_scope(name, scope, message):
    assert str(missing_setting_error(name, KNOWN + KNOWN[:2], scope)) == message


@pytest.mark.parametrize("setting, state, value, after_reset, plan", [
    (dict(BOOLEAN, value="true"), "present", "True", None, Plan(None, "true")),
    (BOOLEAN, "present", True, None, Plan(UPDATE, "true")),
    (dict(NUMBER, value="16"), "present", "16.0", None, Plan(None, "16")),
    (NUMBER, "present", "16.0", None, Plan(UPDATE, "16")),
    (DECIMAL, "present", 1, None, Plan(None, "1.0")),
    (SELECT, "present", "firstfit", None, Plan(UPDATE, "firstfit")),
    (LEGACY_TEXT, "present", "random", None, Plan(None, "random")),
    (dict(BOOLEAN, value="true"), "absent", None, "false", Plan(RESET, "false")),
    (BOOLEAN, "absent", None, "false", Plan(None, "false")),
    (dict(NUMBER, value="0.0"), "absent", None, "0", Plan(None, "0.0")),
    (dict(NUMBER, value="16"), "absent", None, None, Plan(RESET, None)),
    (LEGACY_TEXT, "absent", None, None, Plan(RESET, None)),
], ids=lambda value: repr(value) if not isinstance(value, dict) else value.get("name"))
def test_plan_write(setting, state, value, after_reset, plan):
    assert plan_write(setting["name"], setting, state, value, after_reset) == plan


def test_plan_refuses_a_bad_value():
    with pytest.raises(InvalidValue, match="'maybe' is not valid; use true or false"):
        plan_write("enable.dynamic.scale.vm", dict(BOOLEAN, value="maybe"), "present", "maybe")


@pytest.mark.parametrize("scope, setting, new, changed, expected", [
    (Scope("zone", ZONE), BOOLEAN, "true", True,
     {"changed": True, "name": "enable.dynamic.scale.vm", "scope": "zone", "old_value": "false", "value": "true",
      "is_dynamic": True, "scope_id": "zone-uuid", "scope_name": "zone-a", "default_value": "false", "type": "Boolean",
      "diff": {"before": {"name": "enable.dynamic.scale.vm", "scope": "zone", "value": "false"},
               "after": {"name": "enable.dynamic.scale.vm", "scope": "zone", "value": "true"}}}),
    (Scope(), LEGACY_TEXT, "random", False,
     {"changed": False, "name": "vm.allocation.algorithm", "scope": "global", "old_value": "random", "value": "random",
      "is_dynamic": False,
      "diff": {"before": {"name": "vm.allocation.algorithm", "scope": "global", "value": "random"},
               "after": {"name": "vm.allocation.algorithm", "scope": "global", "value": "random"}}}),
], ids=["zone-change", "global-legacy-no-change"])
def test_build_result(scope, setting, new, changed, expected):
    assert build_result(setting["name"], scope, setting, new, changed, expected["is_dynamic"]) == expected


class ScopedConfigurationApi:
    """listConfigurations / updateConfiguration as CloudStack answers them: values per scope, and an update answers
    with the GLOBAL row (ConfigurationManagerImpl.updateConfiguration returns _configDao.findByName)."""

    def __init__(self, setting, values):
        self.setting, self.values, self.writes, self.api_calls = setting, dict(values), [], 0

    def list(self, command, key, action=None, **params):
        self.api_calls += 1
        if command == "listZones":
            return [dict(ZONE)]
        scope = tuple(sorted((k, v) for k, v in params.items() if k.endswith("id")))
        return [dict(self.setting, value=self.values.get(scope, self.values[()]))]

    def call(self, command, action=None, **params):
        self.api_calls += 1
        self.writes.append((command, dict(params)))
        scope = tuple(sorted((k, v) for k, v in params.items() if k.endswith("id")))
        self.values[scope] = params["value"]
        return {"configuration": dict(self.setting, value=self.values[()])}


def test_a_scoped_set_reports_the_value_read_back_in_the_scope():
    """A zone-scoped update is answered with the global value: the result must show what the zone holds."""
    api = ScopedConfigurationApi(BOOLEAN, {(): "false"})
    module = FakeModule({"name": BOOLEAN["name"], "state": "present", "value": True, "zone": "zone-a", "cluster": None,
                         "domain": None, "account": None}, api)
    result = ensure_setting(module)
    assert api.writes == [("updateConfiguration", {"name": BOOLEAN["name"], "value": "true", "zoneid": "zone-uuid"})]
    assert (result["changed"], result["old_value"], result["value"]) == (True, "false", "true")
    assert result["diff"]["after"]["value"] == "true"


def test_an_out_of_range_value_writes_nothing():
    api = ScopedConfigurationApi(DECIMAL, {(): "1.0"})
    module = FakeModule({"name": DECIMAL["name"], "state": "present", "value": 0, "zone": None, "cluster": None,
                         "domain": None, "account": None}, api)
    with pytest.raises(InvalidValue, match="out of range"):
        ensure_setting(module)
    assert api.writes == []


class DomainAdminApi(ScopedConfigurationApi):
    """A domain admin's view: listDomains shows its own domain (level 1) and below, not ROOT."""

    def list(self, command, key, action=None, **params):
        if command == "listDomains":
            self.api_calls += 1
            return [{"id": "sub-uuid", "name": "staff", "level": 2}, {"id": "dom-uuid", "name": "customers", "level": 1}]
        if not params.get("domainid"):
            self.api_calls += 1
            return []  # searchForConfigurations with the implicit domain lists only domain-scoped settings
        return super(DomainAdminApi, self).list(command, key, action, **params)


def test_a_domain_admin_without_scope_sets_and_reports_its_own_domain():
    """ConfigurationManagerImpl.updateConfiguration: a domain admin naming no account/domain writes at its domain."""
    api = DomainAdminApi(BOOLEAN, {(): "false"})
    module = FakeModule({"name": BOOLEAN["name"], "state": "present", "value": True, "zone": None, "cluster": None,
                         "domain": None, "account": None}, api)
    result = ensure_setting(module)
    assert api.writes == [("updateConfiguration", {"name": BOOLEAN["name"], "value": "true", "domainid": "dom-uuid"})]
    assert (result["scope"], result["scope_name"], result["value"]) == ("domain", "customers", "true")


def test_a_domain_admin_is_told_why_a_setting_without_domain_scope_is_not_listed():
    api = DomainAdminApi(BOOLEAN, {(): "false"})
    api.list = lambda command, key, action=None, **params: (
        [{"id": "dom-uuid", "name": "customers", "level": 1}] if command == "listDomains" else [])
    module = FakeModule({"name": "vm.allocation.algorithm", "state": "present", "value": "random", "zone": None,
                         "cluster": None, "domain": None, "account": None}, api)
    with pytest.raises(InvalidValue, match="not listed in domain customers \\(the domain of the domain admin's api_key.*"
                                           "a root admin's api_key must set it"):
        ensure_setting(module)
    assert api.writes == []

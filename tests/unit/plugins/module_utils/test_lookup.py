"""Lookups by exact name or id over a fake API whose name filter is a substring match, as CloudStack's."""

import importlib

import pytest
import yaml

from ansible_collections.livescale.cloudstack.plugins.doc_fragments.vm_owner import ModuleDocFragment
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import Ambiguous, ApiError, InvalidValue, NotFound
from ansible_collections.livescale.cloudstack.plugins.module_utils import _lookup

ZONE_A = {"id": "0b5d8f8e-1111-4a4a-8c8c-000000000001", "name": "zone-a"}
ZONE_B = {"id": "0b5d8f8e-1111-4a4a-8c8c-000000000002", "name": "zone-b"}
WEB_01 = {"id": "7e1c0c3a-2222-4b4b-9d9d-000000000001", "name": "web-01", "zoneid": ZONE_A["id"]}
WEB_010 = {"id": "7e1c0c3a-2222-4b4b-9d9d-000000000002", "name": "web-010", "zoneid": ZONE_A["id"]}
DUP_1 = {"id": "7e1c0c3a-2222-4b4b-9d9d-000000000003", "name": "db", "zoneid": ZONE_A["id"]}
DUP_2 = {"id": "7e1c0c3a-2222-4b4b-9d9d-000000000004", "name": "db", "zoneid": ZONE_B["id"]}


class SubstringApi:
    """list() filters like CloudStack: ``name`` is a substring match, an unknown ``id`` is a 431."""

    def __init__(self, **rows):
        self.rows = rows
        self.requests = []

    def list(self, command, key, action=None, **params):
        self.requests.append((command, params))
        rows = self.rows.get(command, [])
        if "id" in params:
            rows = [row for row in rows if row["id"] == params["id"]]
            if not rows:
                raise ApiError(command, "Unable to execute API command due to invalid value. Invalid parameter id value=%s" % params["id"],
                               errorcode=431, cserrorcode=9999, action=action)
        if "name" in params:
            rows = [row for row in rows if params["name"] in row["name"]]
        for field in ("zoneid", "account", "domainid"):
            if field in params:
                rows = [row for row in rows if row.get(field, params[field]) == params[field]]
        return [dict(row) for row in rows]


def test_exact_name_wins_over_substring_matches():
    api = SubstringApi(listVirtualMachines=[WEB_01, WEB_010])
    assert _lookup.find_vm(api, "web-01") == WEB_01
    assert api.requests == [("listVirtualMachines", {"name": "web-01", "listall": True})]


def test_id_lookup():
    api = SubstringApi(listVirtualMachines=[WEB_01, WEB_010])
    assert _lookup.find_vm(api, WEB_010["id"]) == WEB_010


def test_not_found_names_kind_key_and_scope():
    api = SubstringApi(listVirtualMachines=[WEB_010])
    with pytest.raises(NotFound) as info:
        _lookup.find_vm(api, "web-01", zone=ZONE_A)
    assert (info.value.kind, info.value.key) == ("VM", "web-01")
    assert str(info.value) == "VM 'web-01' not found in zone zone-a; close matches: web-010 (%s)" % WEB_010["id"]
    assert api.requests[-1] == ("listVirtualMachines", {"zoneid": ZONE_A["id"], "listall": True}), "the hint lists the scope"


def test_not_found_puts_a_case_mismatch_first():
    api = SubstringApi(listVirtualMachines=[WEB_010, dict(WEB_01, name="Web-01")])
    with pytest.raises(NotFound, match=r"close matches: Web-01 \(.*\), web-010 \("):
        _lookup.find_vm(api, "web-01")


def test_not_found_without_close_matches_lists_a_few_names_or_where_to_look():
    api = SubstringApi(listZones=[ZONE_A, ZONE_B])
    with pytest.raises(NotFound, match="zone 'paris' not found; none is close; the zones there are: zone-a, zone-b$"):
        _lookup.find_zone(api, "paris")
    api = SubstringApi(listZones=[{"id": "z%d" % index, "name": "zone-%02d" % index} for index in range(20)])
    with pytest.raises(NotFound, match="none of the 20 zones there is close; list them with listZones$"):
        _lookup.find_zone(api, "paris")
    with pytest.raises(NotFound, match="listZones lists no zone for this API key there: check the scope options"):
        _lookup.find_zone(SubstringApi(), "paris")


def test_unknown_uuid_is_not_found_not_an_api_error():
    api = SubstringApi(listZones=[ZONE_A])
    with pytest.raises(NotFound, match="zone '0b5d8f8e-1111-4a4a-8c8c-00000000000f' not found"):
        _lookup.find_zone(api, "0b5d8f8e-1111-4a4a-8c8c-00000000000f")


def test_optional_returns_none_only_for_not_found():
    api = SubstringApi(listVirtualMachines=[DUP_1, DUP_2])
    assert _lookup.find_vm(api, "web-01", optional=True) is None
    with pytest.raises(Ambiguous):
        _lookup.find_vm(api, "db", optional=True)


def test_ambiguous_lists_candidates_and_scope_narrows():
    api = SubstringApi(listVirtualMachines=[DUP_1, DUP_2])
    with pytest.raises(Ambiguous) as info:
        _lookup.find_vm(api, "db")
    assert info.value.candidates == ["db (%s)" % DUP_1["id"], "db (%s)" % DUP_2["id"]]
    assert "VM 'db' is ambiguous: db (" in str(info.value) and "give the id instead" in str(info.value)
    assert _lookup.find_vm(api, "db", zone=ZONE_B) == DUP_2


def test_template_listed_once_per_zone_is_one_match():
    template = {"id": "5a5a5a5a-3333-4c4c-8e8e-000000000001", "name": "debian-12"}
    api = SubstringApi(listTemplates=[dict(template, zoneid=ZONE_A["id"]), dict(template, zoneid=ZONE_B["id"])])
    assert _lookup.find_template(api, "debian-12")["id"] == template["id"]
    assert api.requests[-1] == ("listTemplates", {"name": "debian-12", "templatefilter": "executable"})


def test_domain_by_path():
    domains = [{"id": "d1", "name": "ROOT", "path": "ROOT"}, {"id": "d2", "name": "web", "path": "ROOT/customers/web"},
               {"id": "d3", "name": "web", "path": "ROOT/staff/web"}]
    api = SubstringApi(listDomains=domains)
    assert _lookup.find_domain(api, "ROOT/staff/web")["id"] == "d3"
    with pytest.raises(Ambiguous):
        _lookup.find_domain(api, "web")


def test_owner_scopes():
    account = {"id": "a1", "name": "acme", "domainid": "d2"}
    api = SubstringApi(listVirtualMachines=[WEB_01], listHosts=[{"id": "h1", "name": "kvm-01"}])
    _lookup.find_vm(api, "web-01", account=account)
    assert api.requests[-1] == ("listVirtualMachines", {"name": "web-01", "account": "acme", "domainid": "d2"})
    _lookup.find_host(api, "kvm-01", zone=ZONE_A, cluster={"id": "c1", "name": "cluster-1"})
    assert api.requests[-1] == ("listHosts", {"name": "kvm-01", "type": "Routing", "zoneid": ZONE_A["id"], "clusterid": "c1"})


def test_other_api_errors_propagate():
    class Broken(SubstringApi):
        def list(self, command, key, action=None, **params):
            raise ApiError(command, "denied", errorcode=531, action=action)

    with pytest.raises(ApiError, match="find zone zone-a failed"):
        _lookup.find_zone(Broken(), "zone-a")


ROOT = {"id": "dom-root", "name": "ROOT", "path": "ROOT"}
CUSTOMERS = {"id": "dom-cust", "name": "customers", "path": "ROOT/customers"}
STAFF = {"id": "dom-staff", "name": "staff", "path": "ROOT/staff"}
ACME = {"id": "acc-acme", "name": "acme", "domainid": CUSTOMERS["id"]}
ACME_STAFF = {"id": "acc-acme-staff", "name": "acme", "domainid": STAFF["id"]}
GLOBEX = {"id": "acc-globex", "name": "globex", "domainid": CUSTOMERS["id"]}
WEB_ACME = dict(WEB_01, account="acme", domainid=CUSTOMERS["id"])
WEB_GLOBEX = dict(WEB_01, id="7e1c0c3a-2222-4b4b-9d9d-000000000009", account="globex", domainid=CUSTOMERS["id"])
SCOPE_NONE = {"vm": "web-01", "zone": None, "account": None, "domain": None, "project": None}


def owners(*accounts, vms=(WEB_ACME, WEB_GLOBEX)):
    """A fake API with zone-a, three domains, the given accounts and two web-01 VMs of different accounts."""
    return SubstringApi(listZones=[ZONE_A], listDomains=[ROOT, CUSTOMERS, STAFF], listAccounts=list(accounts or (ACME, GLOBEX)),
                        listProjects=[], listVirtualMachines=list(vms))


def test_owner_scope_without_options_reads_nothing():
    api = owners()
    assert _lookup.owner_scope(api, SCOPE_NONE) == dict(zone=None, account=None, domain=None, project=None)
    assert api.requests == []


def test_account_tells_apart_same_named_vms():
    api = owners()
    with pytest.raises(Ambiguous, match="VM 'web-01' is ambiguous"):
        _lookup.find_owned_vm(api, SCOPE_NONE)
    vm, scope = _lookup.find_owned_vm(api, dict(SCOPE_NONE, account="globex", zone="zone-a"))
    assert vm == WEB_GLOBEX
    assert (scope["account"], scope["zone"], scope["domain"], scope["project"]) == (GLOBEX, ZONE_A, None, None)
    assert api.requests[-1] == ("listVirtualMachines", {"name": "web-01", "zoneid": ZONE_A["id"], "account": "globex",
                                                        "domainid": CUSTOMERS["id"]})


def test_wrong_account_is_not_found_naming_the_account():
    api = owners(vms=(WEB_ACME,))
    with pytest.raises(NotFound) as info:
        _lookup.find_owned_vm(api, dict(SCOPE_NONE, account="globex"))
    assert str(info.value) == "VM 'web-01' not found in account globex; listVirtualMachines lists no VM for this API key there:" \
        " check the scope options and the account of api_key"


def test_unknown_account_is_not_found_before_any_vm_lookup():
    api = owners()
    with pytest.raises(NotFound) as info:
        _lookup.find_owned_vm(api, dict(SCOPE_NONE, account="initech", domain="ROOT/customers"))
    assert str(info.value) == "account 'initech' not found in domain customers; none is close; the accounts there are: acme, globex"
    assert [command for command, _params in api.requests] == ["listDomains", "listAccounts", "listAccounts"]


def test_domain_tells_apart_same_named_accounts():
    api = owners(ACME, ACME_STAFF)
    with pytest.raises(Ambiguous, match="account 'acme' is ambiguous"):
        _lookup.owner_scope(api, dict(SCOPE_NONE, account="acme"))
    scope = _lookup.owner_scope(api, dict(SCOPE_NONE, account="acme", domain="ROOT/customers"))
    assert (scope["account"], scope["domain"]) == (ACME, CUSTOMERS)
    # no listall: an admin's domainid then lists that domain alone (QueryManagerImpl.searchForAccountIdsAndCount)
    assert api.requests[-1] == ("listAccounts", {"name": "acme", "domainid": CUSTOMERS["id"]})


def test_domain_alone_lists_the_vms_of_that_domain():
    api = owners(vms=(dict(WEB_ACME, domainid=STAFF["id"]), WEB_GLOBEX))
    vm, _scope = _lookup.find_owned_vm(api, dict(SCOPE_NONE, domain="customers"))
    assert vm == WEB_GLOBEX
    assert api.requests[-1] == ("listVirtualMachines", {"name": "web-01", "domainid": CUSTOMERS["id"], "listall": True})


def test_project_scope():
    project = {"id": "prj-1", "name": "shop"}
    api = owners()
    api.rows["listProjects"] = [project]
    api.rows["listVirtualMachines"] = [dict(WEB_01, projectid="prj-1")]
    vm, scope = _lookup.find_owned_vm(api, dict(SCOPE_NONE, project="shop"))
    assert (vm["projectid"], scope["project"]) == ("prj-1", project)
    assert api.requests[-1] == ("listVirtualMachines", {"name": "web-01", "projectid": "prj-1"})
    with pytest.raises(NotFound, match="project 'web' not found"):
        _lookup.find_owned_vm(api, dict(SCOPE_NONE, project="web"))


def test_account_and_project_exclude_each_other_before_any_read():
    api = owners()
    with pytest.raises(InvalidValue, match="account=acme and project=shop exclude each other: .* keep one"):
        _lookup.find_owned_vm(api, dict(SCOPE_NONE, account="acme", project="shop"))
    assert api.requests == []


@pytest.mark.parametrize("name", ["vm_state", "vm_scalable", "vm_scale", "vm_scaling_info"])
def test_vm_modules_share_the_owner_options_and_their_documentation(name):
    module = importlib.import_module("ansible_collections.livescale.cloudstack.plugins.modules.%s" % name)
    assert all(module.ARGUMENT_SPEC[option] is spec for option, spec in _lookup.OWNER_SCOPE_SPEC.items())
    assert "livescale.cloudstack.vm_owner" in yaml.safe_load(module.DOCUMENTATION)["extends_documentation_fragment"]
    assert not set(yaml.safe_load(module.DOCUMENTATION)["options"]) & set(_lookup.OWNER_SCOPE_SPEC)


def test_fragment_documents_exactly_the_owner_options():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert dict((name, {"type": doc["type"]}) for name, doc in options.items()) == _lookup.OWNER_SCOPE_SPEC


def test_list_vms_named_asks_with_keyword_and_keeps_the_names():
    """QueryManagerImpl.searchForUserVMIdsAndCount: listVirtualMachines ``name`` is the exact host name, ``keyword``
    a LIKE on display name, host name and state; a name substring goes as keyword and the names are checked."""
    rows = [dict(WEB_01, displayname="frontend"), dict(WEB_010, name="WEB-010"),
            dict(DUP_1, displayname="copy of web-01", state="Running")]

    class KeywordApi:
        requests = []

        def list(self, command, key, action=None, **params):
            self.requests.append((command, params))
            word = params.get("keyword", "").lower()
            return [row for row in rows if any(word in (row.get(field) or "").lower()
                                               for field in ("name", "displayname", "state"))]

    api = KeywordApi()
    assert [vm["id"] for vm in _lookup.list_vms_named(api, "Web-01", zoneid=ZONE_A["id"])] == [WEB_01["id"], WEB_010["id"]]
    assert api.requests == [("listVirtualMachines", {"keyword": "Web-01", "zoneid": ZONE_A["id"]})]
    assert len(_lookup.list_vms_named(api, None, listall=True)) == 3
    assert api.requests[-1] == ("listVirtualMachines", {"listall": True})

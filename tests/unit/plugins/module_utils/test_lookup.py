"""Lookups by exact name or id over a fake API whose name filter is a substring match, as CloudStack's."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import Ambiguous, ApiError, NotFound
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
        if "zoneid" in params:
            rows = [row for row in rows if row.get("zoneid", params["zoneid"]) == params["zoneid"]]
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
    assert str(info.value) == "VM 'web-01' not found in zone zone-a"


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

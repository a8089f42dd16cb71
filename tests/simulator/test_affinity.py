"""Affinity groups on the wire: listAffinityGroups, UserVmResponse.affinitygroup and affinity groups at deploy."""

import pytest
import yaml

from simulator.app import Simulator
from simulator.seed import SeedError

from .conftest import build_seed
from .test_fidelity import error
from .test_network import deploy
# fixtures sim (default seed with user bob of domain `other`) and world
from .test_fidelity import sim, world  # noqa: F401  pylint: disable=unused-import

USER = ("ALICE-KEY", "ALICE-SECRET")
BOB = ("BOB-KEY", "BOB-SECRET")
# AffinityGroupResponse field order (Gson writes the declared fields in order; null ones are left out)
GROUP_KEYS = ["id", "name", "description", "account", "domainid", "domain", "domainpath", "type", "virtualmachineIds"]


def groups(client, **params):
    """{name: group} of listAffinityGroups."""
    return {group["name"]: group for group in client.ok("listAffinityGroups", **params).get("affinitygroup", [])}


def test_list_shows_the_seeded_groups_of_the_caller(sim):
    """QueryManagerImpl.searchForAffinityGroupsInternal: a user sees its account's groups;
    AffinityGroupJoinDaoImpl.newAffinityGroupResponse fills id, name, description, type and the owner
    (ApiResponseHelper.populateOwner); virtualmachineIds is absent while the group has no VM."""
    listed = groups(sim.client(*USER))
    assert sorted(listed) == ["acme-spread", "acme-together"]
    spread = listed["acme-spread"]
    assert list(spread) == [key for key in GROUP_KEYS if key != "virtualmachineIds"]
    assert (spread["type"], spread["account"], spread["domain"], spread["domainpath"]) == (
        "host anti-affinity", "acme", "customers", "ROOT/customers")
    assert "description" not in listed["acme-together"]


def test_other_accounts_groups_need_listall_and_stay_hidden_from_users(sim):
    """QueryManagerImpl.searchForAffinityGroupsInternal via AccountManagerImpl.buildACLSearchParameters: without
    listall an admin sees its own account's groups only; a user of another domain sees none of acme's."""
    admin = sim.client()
    assert groups(admin) == {}
    assert sorted(groups(admin, listall="true")) == ["acme-spread", "acme-together"]
    assert groups(sim.client(*BOB), listall="true") == {}


def test_filters_by_name_type_and_keyword(sim):
    """QueryManagerImpl.buildAffinityGroupSearchCriteria: name and type match exactly, keyword is LIKE on name or
    type."""
    client = sim.client(*USER)
    assert list(groups(client, type="host affinity")) == ["acme-together"]
    assert list(groups(client, name="acme-spread")) == ["acme-spread"]
    assert groups(client, name="acme") == {}
    assert list(groups(client, keyword="anti")) == ["acme-spread"]


def test_deploy_with_group_names_and_ids_lists_the_members(sim):
    """BaseDeployVMCmd.getAffinityGroupIdList turns names into the owner's group ids; UserVmManagerImpl maps the VM
    to the groups (affinity_group_vm_map); UserVmJoinDaoImpl.newUserVmResponse shows each group with id, name,
    description and account; listAffinityGroups virtualmachineid gives the VM's groups, and the group lists its VMs
    (ViewResponseHelper.createAffinityGroupResponses merges one row per VM)."""
    client = sim.client(*USER)
    listed = groups(client)
    first = deploy(client, name="app-01", affinitygroupnames="acme-spread,acme-together")
    second = deploy(client, name="app-02", affinitygroupids=listed["acme-spread"]["id"])
    assert first["affinitygroup"] == [
        {"id": listed["acme-spread"]["id"], "name": "acme-spread", "description": "never two on one host",
         "account": "acme"},
        {"id": listed["acme-together"]["id"], "name": "acme-together", "account": "acme"}]
    assert [group["name"] for group in second["affinitygroup"]] == ["acme-spread"]
    assert list(groups(client, virtualmachineid=first["id"])) == ["acme-spread", "acme-together"]
    assert groups(client)["acme-spread"]["virtualmachineIds"] == [first["id"], second["id"]]
    web = client.ok("listVirtualMachines", name="web-01")["virtualmachine"][0]
    assert web["affinitygroup"] == []  # UserVmResponse starts with an empty set


def test_deploy_refuses_bad_groups(sim):
    """BaseDeployVMCmd.getAffinityGroupIdList: ids and names exclude each other, an unknown name fails;
    UserVmManagerImpl.createVirtualMachine: a root admin deploying for acme may not use another account's group
    ("does not belong to the VM's account")."""
    client = sim.client(*USER)
    spread = groups(client)["acme-spread"]
    template = client.ok("listTemplates", templatefilter="executable")["template"][0]["id"]
    zone = client.ok("listZones")["zone"][0]["id"]
    small = client.ok("listServiceOfferings", name="Small")["serviceoffering"][0]["id"]
    base = dict(serviceofferingid=small, templateid=template, zoneid=zone)
    status, text = error(client, "deployVirtualMachine", affinitygroupids=spread["id"],
                         affinitygroupnames="acme-spread", **base)
    assert (status, text) == (431, "affinitygroupids parameter is mutually exclusive with affinitygroupnames"
                                   " parameter")
    assert error(client, "deployVirtualMachine", affinitygroupnames="nope", **base) == (
        431, "Unable to find affinity group by name nope")
    admin = sim.client()
    domain = admin.ok("listDomains", name="other")["domain"][0]["id"]
    status, text = error(admin, "deployVirtualMachine", affinitygroupids=spread["id"], account="bob-acct",
                         domainid=domain, **base)
    # AffinityGroupVO.toString: ReflectionToStringBuilderUtils.reflectOnlySelectedFields(id, uuid, name)
    assert (status, text) == (531, 'Affinity Group AffinityGroup {"id":1,"uuid":"%s","name":"acme-spread"} does not'
                                   " belong to the VM's account" % spread["id"])
    assert groups(admin, listall="true", account="bob-acct", domainid=domain) == {}
    # buildACLSearchParameters looks for the account in the caller's domain when no domainid is given
    assert error(admin, "listAffinityGroups", listall="true", account="bob-acct")[1].startswith(
        'could not find account bob-acct in domain Domain {"id":1,"name":"ROOT"')


def test_seed_vm_groups_and_unknown_names(tmp_path):
    """Seed format: a VM names its account's groups in affinity_groups; an unknown one is a SeedError naming it."""
    path = build_seed(tmp_path, scalable=False)
    seed = yaml.safe_load(path.read_text())
    seed["vms"][0]["affinity_groups"] = ["acme-spread"]
    path.write_text(yaml.safe_dump(seed))
    app = Simulator(path, tmp_path / "state.sqlite")
    web = app.store.one("vm", name="web-01")
    assert [app.store.get("affinitygroup", gid)["name"] for gid in web["affinity_group_ids"]] == ["acme-spread"]
    seed["vms"][0]["affinity_groups"] = ["nope"]
    path.write_text(yaml.safe_dump(seed))
    with pytest.raises(SeedError, match=r"account acme has no affinity group 'nope' \(known: acme-spread, acme-tog"):
        Simulator(path, tmp_path / "other.sqlite")


def test_permitted_accounts_follow_build_acl_search_parameters(sim):
    """QueryManagerImpl.searchForAffinityGroupsInternal calls AccountManagerImpl.buildACLSearchParameters with the
    group id: a root admin naming a group by id sees it without listall; account needs to be found in the domain
    (431 "could not find account ... in domain ..."); a domain outside the caller's tree is refused (checkAccess,
    DomainChecker's 531); an admin naming a domain sees the groups of its accounts."""
    admin, alice = sim.client(), sim.client(*USER)
    spread = groups(admin, listall="true")["acme-spread"]
    assert list(groups(admin, id=spread["id"])) == ["acme-spread"]
    assert groups(alice, id=spread["id"]) == groups(alice, name="acme-spread")
    assert sorted(groups(admin, domainid=spread["domainid"])) == ["acme-spread", "acme-together"]
    assert sorted(groups(admin, account="acme", domainid=spread["domainid"])) == ["acme-spread", "acme-together"]
    status, text = error(admin, "listAffinityGroups", account="nobody", domainid=spread["domainid"])
    assert status == 431 and text.startswith("could not find account nobody in domain Domain {") and \
        '"name":"customers"' in text
    status, text = error(sim.client(*BOB), "listAffinityGroups", domainid=spread["domainid"])
    assert status == 531 and text.endswith("does not have permission to operate within domain id=%s"
                                           % spread["domainid"])
    assert groups(sim.client(*BOB), id=spread["id"]) == {}

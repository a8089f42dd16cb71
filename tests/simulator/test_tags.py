"""Resource tags on the wire: createTags, deleteTags, listTags, a VM's tags[] and listVirtualMachines' tags filter."""

import pytest

from simulator.app import Simulator
from simulator.seed import SeedError

from .conftest import build_seed
from .test_fidelity import OTHER_DOMAIN, OTHER_USER, USER, job_error

BOB = ("BOB-KEY", "BOB-SECRET")
# ResourceTagResponse field order (Gson writes the declared fields in order; null ones are left out)
TAG_KEYS = ["key", "value", "resourcetype", "resourceid", "account", "domainid", "domain", "domainpath"]
VMS = [
    {"name": "web-01", "account": "acme", "template": "debian-12-generic", "offering": "Small", "state": "Running",
     "host": "kvm-a1-01", "tags": {"env": "prod", "tier": "web"}},
    {"name": "web-02", "account": "acme", "template": "debian-12-generic", "offering": "Small", "state": "Running",
     "host": "kvm-a1-02", "tags": {"env": "staging", "tier": "web"}},
    {"name": "db-01", "account": "acme", "template": "debian-12-generic", "offering": "Medium", "state": "Stopped",
     "host": "kvm-a1-02", "tags": {"env": "prod", "tier": "db"}},
    {"name": "batch-01", "account": "acme", "template": "debian-12-generic", "offering": "Small", "state": "Stopped"},
]


@pytest.fixture
def sim(make_sim):
    """The default seed with tagged VMs, plus user bob of domain `other`."""
    return make_sim(scalable=False, vms=VMS, domains=OTHER_DOMAIN, accounts=OTHER_USER)


def names(client, **params):
    """Sorted names of the VMs listVirtualMachines returns."""
    return sorted(vm["name"] for vm in client.ok("listVirtualMachines", listall="true", **params).get(
        "virtualmachine", []))


def tag_filter(*pairs):
    """tags[i].key / tags[i].value request parameters."""
    params = {}
    for index, (key, value) in enumerate(pairs):
        params["tags[%d].key" % index] = key
        params["tags[%d].value" % index] = value
    return params


def vm_id(client, name):
    return next(vm["id"] for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]
                if vm["name"] == name)


def test_a_vm_response_carries_its_seeded_tags_with_the_owner(sim):
    """UserVmJoinDaoImpl.newUserVmResponse adds each tag (GenericDaoBaseWithTagInformation.addTagInformation) as
    ResourceTagJoinDaoImpl.newResourceTagResponse(tag, false) builds it: key, value, resourcetype, resourceid and the
    owner of the tagged VM (TaggedResourceManagerImpl.getAccountDomain, ApiResponseHelper.populateOwner)."""
    web = next(vm for vm in sim.client(*USER).ok("listVirtualMachines")["virtualmachine"] if vm["name"] == "web-01")
    assert [tag["key"] for tag in web["tags"]] == ["env", "tier"]
    env = web["tags"][0]
    assert list(env) == TAG_KEYS
    assert (env["value"], env["resourcetype"], env["resourceid"], env["account"], env["domain"], env["domainpath"]) == (
        "prod", "UserVm", web["id"], "acme", "customers", "ROOT/customers")
    batch = next(vm for vm in sim.client(*USER).ok("listVirtualMachines")["virtualmachine"] if vm["name"] == "batch-01")
    assert batch["tags"] == []


def test_the_tags_filter_of_list_vms_matches_any_of_the_pairs(sim):
    """QueryManagerImpl.searchForUserVMIdsAndCount joins resource_tags with resourceType UserVm AND ((key0 AND
    value0) OR (key1 AND value1)): several pairs select the VMs with at least one of them; the EQ compares as
    MySQL's case-insensitive collation does."""
    admin = sim.client()
    assert names(admin, **tag_filter(("env", "prod"))) == ["db-01", "web-01"]
    assert names(admin, **tag_filter(("env", "prod"), ("tier", "web"))) == ["db-01", "web-01", "web-02"]
    assert names(admin, **tag_filter(("env", "staging"), ("tier", "db"))) == ["db-01", "web-02"]
    assert names(admin, **tag_filter(("ENV", "Prod"))) == ["db-01", "web-01"]
    assert names(admin, **tag_filter(("env", "qa"))) == []


def test_a_tags_filter_without_value_is_refused(sim):
    """BaseListTaggedResourcesCmd.getTags: TaggedResources.parseKeyValueMap(tags, false) refuses a null value."""
    status, body = sim.client().call("listVirtualMachines", **{"tags[0].key": "env"})
    assert (status, body["listvirtualmachinesresponse"]["errortext"]) == (431, "No value is passed in for key env")


def test_create_tags_adds_every_key_to_every_resource_and_list_tags_shows_them(sim):
    """TaggedResourceManagerImpl.createTags: each key on each resource, owned by the resource's owner; the job answers
    SuccessResponse. QueryManagerImpl.listTagsInternal filters by key, value, resourcetype and resourceid (uuid)."""
    alice = sim.client(*USER)
    batch = vm_id(alice, "batch-01")
    job = alice.run("createTags", resourcetype="userVM", resourceids=batch,
                    **{"tags[0].key": "owner", "tags[0].value": "ops", "tags[1].key": "env", "tags[1].value": "qa"})
    assert job["jobstatus"] == 1 and job["jobresult"] == {"success": True}
    assert "jobinstanceid" not in job, "CreateTagsCmd keeps BaseCmd.getApiResourceType: None"
    listed = alice.ok("listTags", resourceid=batch)["tag"]
    assert sorted((tag["key"], tag["value"]) for tag in listed) == [("env", "qa"), ("owner", "ops")]
    assert {tag["account"] for tag in listed} == {"acme"}
    assert names(sim.client(), **tag_filter(("env", "qa"))) == ["batch-01"]
    assert alice.ok("listTags", key="tier", value="web", resourcetype="UserVm")["count"] == 2


def test_list_tags_shows_other_accounts_tags_to_an_admin_with_listall_only(sim):
    """listTagsInternal through AccountManagerImpl.buildACLSearchParameters: without listall (or account/domainid)
    a root admin sees its own account's tags; a user never sees another account's."""
    admin = sim.client()
    assert admin.ok("listTags") == {}
    assert admin.ok("listTags", listall="true")["count"] == 6
    assert sim.client(*BOB).ok("listTags", listall="true") == {}


@pytest.mark.parametrize("params, code, text", [
    ({"resourcetype": "Gadget"}, 431, "Invalid resource type Gadget"),
    ({"resourcetype": "DomainRouter"}, 431, "The resource type DomainRouter doesn't support resource tags"),
    ({"resourceids": "7f0d5a5e-0000-4000-8000-000000000000"}, 431,
     "Unable to find resource by uuid 7f0d5a5e-0000-4000-8000-000000000000 and type UserVm"),
    ({"resourceids": "999"}, 431, "Unable to find resource by id 999 and type UserVm"),
    ({"tags[0].value": ""}, 431, "Value for the key owner is either null or empty"),
])
def test_create_tags_refusals_follow_tagged_resource_manager(sim, params, code, text):
    """TaggedResourceManagerImpl.createTags and ResourceManagerUtilImpl.getResourceType / getResourceId: the job
    fails with InvalidParameterValueException's 431."""
    alice = sim.client(*USER)
    request = {"resourcetype": "UserVm", "resourceids": vm_id(alice, "batch-01"), "tags[0].key": "owner",
               "tags[0].value": "ops"}
    request.update(params)
    assert job_error(alice, "createTags", **request) == (code, text)


def test_a_key_already_on_the_resource_fails_the_whole_request(sim):
    """resource_tags' unique key (resource_id, resource_type, key), case-insensitive as MySQL compares it: persist
    throws EntityExistsException, createTags "tag ... already on ... with id ..." (CloudRuntimeException, 530); the
    transaction leaves the request's other tags uncreated."""
    alice = sim.client(*USER)
    web, batch = vm_id(alice, "web-01"), vm_id(alice, "batch-01")
    code, text = job_error(alice, "createTags", resourcetype="UserVm", resourceids=f"{batch},{web}",
                           **{"tags[0].key": "ENV", "tags[0].value": "qa"})
    assert (code, text) == (530, f"tag ENV already on UserVm with id {web}")
    assert alice.ok("listTags", resourceid=batch) == {}


def test_another_accounts_vm_cannot_be_tagged_or_untagged(sim):
    """createTags: ResourceManagerUtilImpl.checkResourceAccessible (AccountManager.checkAccess on the owner);
    deleteTags: checkTagsDeletePermission for a tag of another account; PermissionDenied fails the job with 530."""
    bob = sim.client(*BOB)
    web = vm_id(sim.client(), "web-01")
    code, _text = job_error(bob, "createTags", resourcetype="UserVm", resourceids=web,
                            **{"tags[0].key": "owner", "tags[0].value": "bob"})
    assert code == 530
    code, _text = job_error(bob, "deleteTags", resourcetype="UserVm", resourceids=web)
    assert code == 530
    assert len(sim.client(*USER).ok("listTags", resourceid=web)["tag"]) == 2


def test_delete_tags_by_key_by_key_and_value_or_all(sim):
    """TaggedResourceManagerImpl.deleteTags: a key matches case-insensitively, with its value when one is given;
    without tags every tag of the resources goes; nothing matching fails with "Failed to delete tags" (530)."""
    alice = sim.client(*USER)
    web, db = vm_id(alice, "web-01"), vm_id(alice, "db-01")
    assert job_error(alice, "deleteTags", resourcetype="UserVm", resourceids=web,
                     **{"tags[0].key": "env", "tags[0].value": "staging"}) == (530, "Failed to delete tags")
    assert alice.run("deleteTags", resourcetype="UserVm", resourceids=web,
                     **{"tags[0].key": "ENV", "tags[0].value": "PROD"})["jobstatus"] == 1
    assert [tag["key"] for tag in alice.ok("listTags", resourceid=web)["tag"]] == ["tier"]
    assert alice.run("deleteTags", resourcetype="UserVm", resourceids=db, **{"tags[0].key": "tier"})["jobstatus"] == 1
    assert [tag["key"] for tag in alice.ok("listTags", resourceid=db)["tag"]] == ["env"]
    assert alice.run("deleteTags", resourcetype="UserVm", resourceids=f"{web},{db}")["jobstatus"] == 1
    assert alice.ok("listTags", resourceid=web) == {} and alice.ok("listTags", resourceid=db) == {}


def test_an_expunged_vms_tags_go_with_it(sim):
    """UserVmDaoImpl.remove: resource_tags removeByIdAndType(id, UserVm) in the VM's removal."""
    admin = sim.client()
    db = vm_id(admin, "db-01")
    assert admin.run("destroyVirtualMachine", id=db, expunge="true")["jobstatus"] == 1
    assert admin.ok("listTags", listall="true", resourceid=db) == {}


def test_seed_tags_must_be_a_mapping(tmp_path):
    seed = build_seed(tmp_path, scalable=False, vms=[dict(VMS[3], tags=["env=prod"])])
    with pytest.raises(SeedError, match="vm batch-01: tags must be a mapping"):
        Simulator(seed, tmp_path / "state.sqlite")

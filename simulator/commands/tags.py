"""Resource tags: createTags, deleteTags, listTags; a VM's tags[] (views.vm_response) and the ``tags`` filter of
listVirtualMachines (vms.visible_vms).

TaggedResourceManagerImpl and QueryManagerImpl.listTagsInternal. Of the taggable resource types only UserVm
objects are kept by the simulator: a tag on another type fails as for an object that does not exist. Keys and
values compare case-insensitively where CloudStack's database does (MySQL's default collation): the unique key
(resource_id, resource_type, key) of resource_tags and the EQ filters of the listings.
"""

from simulator.commands.infra import acl_accounts
from simulator.errors import invalid, runtime, server
from simulator.jobs import AsyncWork
from simulator.registry import LIST_PARAMS, PROJECT_ID, command, listing, param
from simulator.views import resource_tags, tag_response

TAG_FIELDS = ("key", "value", "resourcetype", "resourceid", "account", "projectid", "project", "domainid", "domain",
              "domainpath", "customer")
# ResourceTag.ResourceObjectType: each name and whether it supports resource tags (resourceTagsSupport)
RESOURCE_TYPES = dict((name, supported) for names, supported in (
    (("UserVm", "Template", "ISO", "Volume", "Snapshot", "Backup", "Network", "LoadBalancer", "PortForwardingRule",
      "FirewallRule", "SecurityGroup", "SecurityGroupRule", "PublicIpAddress", "Project", "Account", "Vpc",
      "NetworkACL", "StaticRoute", "VMSnapshot", "RemoteAccessVpn", "User", "SnapshotPolicy", "VpcOffering", "Domain"),
     True),
    (("VnfTemplate", "DomainRouter", "Nic", "Zone", "ServiceOffering", "Storage", "PrivateGateway", "NetworkACLList",
      "VpnGateway", "CustomerGateway", "VpnConnection", "DiskOffering", "AutoScaleVmProfile", "AutoScaleVmGroup",
      "LBStickinessPolicy", "LBHealthCheckPolicy", "GuestOsCategory", "GuestOs", "NetworkOffering", "ObjectStore"),
     False)) for name in names)
KEPT = {"UserVm": "vm"}  # ResourceManagerUtilImpl.s_typeMap, for the types the simulator stores: store kind


def same(left, right):
    """Equal as MySQL's case-insensitive collation compares them."""
    return (left or "").lower() == (right or "").lower()


def resource_type(text):
    """ResourceManagerUtilImpl.getResourceType: the ResourceObjectType named (case-insensitive), else 431."""
    found = next((name for name in RESOURCE_TYPES if name.lower() == (text or "").lower()), None)
    if found is None:
        raise invalid(f"Invalid resource type {text}")
    return found


def tagged_resource(store, type_name, resource_id):
    """ResourceManagerUtilImpl.getResourceId: the object by uuid, else by internal id when numeric; 431 otherwise."""
    kind = KEPT.get(type_name)
    obj = store.by_uuid(kind, resource_id) if kind else None
    if obj is None and resource_id.isdigit() and kind:
        obj = store.get(kind, int(resource_id))
    if obj is None:
        how = "id" if resource_id.isdigit() else "uuid"
        raise invalid(f"Unable to find resource by {how} {resource_id} and type {type_name}")
    return obj


def add_tag(store, type_name, obj, key, value, customer=None):
    """Store a tag of an account-owned object; it belongs to the object's owner, in the owner's domain
    (TaggedResourceManagerImpl.getAccountDomain: OwnedBy, PartOf)."""
    return store.add("tag", {"key": key, "value": value, "resource_type": type_name, "resource_id": obj["id"],
                             "resource_uuid": obj["uuid"], "account_id": obj["account_id"], "customer": customer})


def remove_resource_tags(store, type_name, obj):
    """The tags of a removed object go with it (UserVmDaoImpl.remove: removeByIdAndType)."""
    for tag in resource_tags(store, type_name, obj):
        store.delete("tag", tag)


def matches_any(store, vm, wanted):
    """Whether a VM has at least one of the ``wanted`` (key, value) pairs: searchForUserVMIdsAndCount joins
    resource_tags on resourceType UserVm AND ((key0 AND value0) OR (key1 AND value1) ...)."""
    tags = resource_tags(store, "UserVm", vm)
    return any(same(tag["key"], key) and same(tag["value"], value) for key, value in wanted for tag in tags)


def filter_pairs(entries):
    """BaseListTaggedResourcesCmd.getTags (TaggedResources.parseKeyValueMap, null values refused): (key, value)
    pairs; a later entry with the same key replaces an earlier one."""
    pairs = {}
    for entry in entries:
        if entry.get("value") is None:
            raise invalid(f"No value is passed in for key {entry.get('key')}")
        pairs[entry.get("key")] = entry["value"]
    return list(pairs.items())


@command("createTags", isasync=True, cmdclass="tag.CreateTagsCmd", params=(
    param("tags", "map", required=True), param("resourcetype", required=True),
    param("resourceids", "list", required=True), param("customer")), fields=("success", "displaytext"))
def create_tags(ctx, values):
    """Creates resource tag(s)."""
    pairs = dict((entry.get("key"), entry.get("value")) for entry in values["tags"])

    def run():
        """TaggedResourceManagerImpl.createTags: every key on every resource in one transaction (all or none)."""
        type_name = resource_type(values["resourcetype"])
        planned = []
        for key, value in pairs.items():
            for resource_id in values["resourceids"]:
                if not RESOURCE_TYPES[type_name]:
                    raise invalid(f"The resource type {type_name} doesn't support resource tags")
                obj = tagged_resource(ctx.store, type_name, resource_id)
                ctx.check_account(obj["account_id"])
                if not value:
                    raise invalid(f"Value for the key {key} is either null or empty")
                taken = [tag["key"] for tag in resource_tags(ctx.store, type_name, obj)] + [
                    other_key for other, other_key, _value in planned if other["id"] == obj["id"]]
                if any(same(key, other_key) for other_key in taken):
                    raise runtime(f"tag {key} already on {type_name} with id {obj['uuid']}")
                planned.append((obj, key, value))
        for obj, key, value in planned:
            add_tag(ctx.store, type_name, obj, key, value, values.get("customer"))
        return {"success": True}
    return AsyncWork(run, instance_type="None")


@command("deleteTags", isasync=True, cmdclass="tag.DeleteTagsCmd", params=(
    param("tags", "map"), param("resourcetype", required=True), param("resourceids", "list", required=True)),
    fields=("success", "displaytext"))
def delete_tags(ctx, values):
    """Deleting resource tag(s)."""
    pairs = dict((entry.get("key"), entry.get("value")) for entry in values.get("tags") or [])

    def run():
        """TaggedResourceManagerImpl.deleteTags: the resources' tags matching a key (and its value when given), or all
        of them without tags; none: "Failed to delete tags"; another account's tag needs access to its owner."""
        type_name = resource_type(values["resourcetype"])
        uuids = set(resource_uuid(ctx.store, type_name, resource_id) for resource_id in values["resourceids"])
        found = [tag for tag in ctx.store.all("tag") if tag["resource_type"] == type_name
                 and tag["resource_uuid"] in uuids]
        doomed = [tag for tag in found if not pairs or any(
            same(tag["key"], key) and (value is None or same(tag["value"], value)) for key, value in pairs.items())]
        if not doomed:
            raise server(530, "Failed to delete tags")
        for tag in doomed:
            if tag["account_id"] != ctx.caller.account["id"]:
                ctx.check_account(tag["account_id"])
        for tag in doomed:
            ctx.store.delete("tag", tag)
        return {"success": True}
    return AsyncWork(run, instance_type="None")


def resource_uuid(store, type_name, resource_id):
    """ResourceManagerUtilImpl.getUuid: a numeric id as the uuid of its object when there is one, else as given."""
    kind = KEPT.get(type_name)
    obj = store.get(kind, int(resource_id)) if kind and resource_id.isdigit() else None
    return obj["uuid"] if obj else resource_id


@command("listTags", cmdclass="tag.ListTagsCmd", params=(
    param("resourcetype"), param("resourceid"), param("key"), param("value"), param("customer"), param("account"),
    param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"), PROJECT_ID) + LIST_PARAMS,
    fields=TAG_FIELDS)
def list_tags(ctx, values):
    """List resource tag(s)."""
    if values.get("projectid"):
        return {}
    accounts = acl_accounts(ctx, values)
    resource_id = values.get("resourceid")
    checks = {"key": lambda tag: same(tag["key"], values["key"]),
              "value": lambda tag: same(tag["value"], values["value"]),
              "resourcetype": lambda tag: same(tag["resource_type"], values["resourcetype"]),
              "customer": lambda tag: same(tag.get("customer"), values["customer"]),
              "resourceid": lambda tag: (tag["resource_id"] == int(resource_id)) if resource_id.isdigit()
              else tag["resource_uuid"] == resource_id}
    found = [tag for tag in ctx.store.all("tag") if tag["account_id"] in accounts]
    for name, keep in checks.items():
        if name in values:
            found = [tag for tag in found if keep(tag)]
    found.sort(key=lambda tag: tag["resource_type"], reverse=True)  # Filter(resourceType, ascending false), stable
    return listing("tag", [tag_response(ctx.store, tag) for tag in found], values)

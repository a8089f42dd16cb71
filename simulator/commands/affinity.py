"""Affinity groups: listAffinityGroups and affinitygroupids/affinitygroupnames at deploy (a VM's affinitygroup[] is
views.vm_affinity_groups).

Groups are account-owned (acltype Account); domain-level groups, createAffinityGroup and placement by the affinity
processors are not modelled: a VM of a "host anti-affinity" group may be started on the host of another member.
"""

from simulator.commands.infra import acl_accounts
from simulator.errors import denied, invalid
from simulator.model import java_string
from simulator.registry import LIST_PARAMS, PROJECT_ID, command, listing, param
from simulator.views import compact, owner_fields

TYPES = ("host anti-affinity", "host affinity", "non-strict host anti-affinity", "non-strict host affinity")
GROUP_FIELDS = ("id", "name", "description", "account", "domainid", "domain", "domainpath", "projectid", "project",
                "type", "virtualmachineIds", "dedicatedresources")


def group_to_string(group):
    """AffinityGroupVO.toString(): id, uuid and name."""
    return java_string("AffinityGroup", {"id": group["id"], "uuid": group["uuid"], "name": group["name"]})


def new_group(app, account, name, group_type, description=None):
    """Store an account's affinity group; ValueError for an unknown type (AffinityGroupServiceImpl's processors)."""
    if group_type not in TYPES:
        raise ValueError(f"affinity group {name}: type must be one of {', '.join(TYPES)}, not {group_type}")
    return app.store.add("affinitygroup", {"name": name, "type": group_type, "description": description,
                                           "account_id": account["id"], "domain_id": account["domain_id"]})


def members(store, group):
    """The VMs of a group, in id order (affinity_group_vm_map)."""
    return [vm for vm in store.all("vm") if group["id"] in vm.get("affinity_group_ids", ())]


def group_response(store, group):
    """AffinityGroupJoinDaoImpl.newAffinityGroupResponse, the rows of every member merged as
    ViewResponseHelper.createAffinityGroupResponses does (virtualmachineIds, absent when the group has no VM)."""
    body = {"id": group["uuid"], "name": group["name"], "description": group.get("description")}
    body.update(owner_fields(store, group["account_id"]))
    body["type"] = group["type"]
    body["virtualmachineIds"] = [vm["uuid"] for vm in members(store, group)] or None
    return compact(body)


def deploy_groups(ctx, owner, values):
    """The groups of deployVirtualMachine's affinitygroupids / affinitygroupnames, checked as CloudStack checks them.

    BaseDeployVMCmd.getAffinityGroupIdList: the two are mutually exclusive; a name is looked up among the owner's
    groups ("Unable to find affinity group by name ..."). UserVmManagerImpl.createVirtualMachine: an account group
    must belong to the VM's owner (checkAccess for others, "does not belong to the VM's account" for a root admin).
    """
    if "affinitygroupids" in values and "affinitygroupnames" in values:
        raise invalid("affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter")
    groups = list(values.get("affinitygroupids") or [])
    for name in values.get("affinitygroupnames") or []:
        group = ctx.store.one("affinitygroup", name=name, account_id=owner["id"])
        if group is None:
            raise invalid(f"Unable to find affinity group by name {name}")
        groups.append(group)
    for group in groups:
        ctx.check_account(group["account_id"])
        if group["account_id"] != owner["id"]:
            raise denied(f"Affinity Group {group_to_string(group)} does not belong to the VM's account")
    return [group["id"] for group in groups]


def visible_groups(ctx, values):
    """QueryManagerImpl.searchForAffinityGroupsInternal for account groups: with virtualmachineid the VM's groups
    (after the access check on the VM), else the permitted accounts' groups (AccountManagerImpl.buildACLSearchParameters:
    ``acl_accounts``) filtered by id, name, type (exact) and keyword (name or type)."""
    store = ctx.store
    if "virtualmachineid" in values:
        vm = ctx.check_access(values["virtualmachineid"])
        return [store.get("affinitygroup", gid) for gid in sorted(vm.get("affinity_group_ids", ()))]
    if values.get("projectid"):
        return []
    accounts = acl_accounts(ctx, values, by_id="id" in values)
    checks = {"id": lambda g: g["id"] == values["id"]["id"], "name": lambda g: g["name"] == values["name"],
              "type": lambda g: g["type"] == values["type"],
              "keyword": lambda g: values["keyword"].lower() in (g["name"] + " " + g["type"]).lower()}
    found = [group for group in store.all("affinitygroup") if group["account_id"] in accounts]
    for key, keep in checks.items():
        if key in values:
            found = [group for group in found if keep(group)]
    return found


# ListAffinityGroupsCmd (BaseListProjectAndAccountResourcesCmd)
@command("listAffinityGroups", cmdclass="affinitygroup.ListAffinityGroupsCmd", params=(
    param("name"), param("virtualmachineid", "uuid", entity="vm"), param("id", "uuid", entity="affinitygroup"),
    param("type"), param("account"), param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"),
    PROJECT_ID) + LIST_PARAMS, fields=GROUP_FIELDS)
def list_affinity_groups(ctx, values):
    """Lists affinity groups."""
    return listing("affinitygroup", [group_response(ctx.store, group) for group in visible_groups(ctx, values)], values)

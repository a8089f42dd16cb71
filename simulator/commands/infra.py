"""Zones, pods, clusters, hosts, capacity, templates, accounts, domains, events and the empty lists tools ask for."""

import re
from types import SimpleNamespace

from simulator import hypervisors
from simulator.commands.jobs import RESOURCE_TYPE_NAMES, find_resource
from simulator.errors import denied, invalid, server
from simulator.model import (account_to_string, check_domain_access, domain_denied, domain_listed_limits, domain_to_string,
                             domain_usage, host_capacity, host_has_capacity, in_subtree, java_string, overcommit, percent,
                             vm_size)
from simulator.registry import (DOMAIN_ADMINS, LIST_PARAMS, PAGE_PARAMS, PROJECT_ID, ROOT_ONLY, by_id_and_name, command,
                                listing, param)
from simulator.views import MIB, account_response, compact, host_response, limit_fields, owner_fields

TEMPLATE_FILTERS = ("featured", "self", "selfexecutable", "shared", "sharedexecutable", "executable", "community", "all")
CAPACITY_TYPES = {0: "MEMORY", 1: "CPU", 90: "CPU_CORE"}


def named_filters(values, keys):
    """Filter functions for <kind>id parameters."""
    return [lambda obj, key=key: obj[key[:-2] + "_id"] == values[key]["id"] for key in keys if key in values]


# Config.HypervisorList's default ("hypervisor.list"), what listHypervisors answers without a zone
HYPERVISOR_LIST = ("KVM", "VMware", "XenServer", "Hyperv", "BareMetal", "Ovm", "LXC", "Ovm3", "External")


def hypervisor_filter(found, values):
    """The ``hypervisor`` filter of listClusters / listHosts: HypervisorType.getType ignores case, and an unknown name
    becomes HypervisorType.None, which no cluster or host has."""
    if "hypervisor" not in values:
        return found
    wanted = values["hypervisor"].lower()
    return [obj for obj in found if hypervisors.hypervisor_of(obj).lower() == wanted]


def filtered(found, values, keys):
    """Apply zoneid/podid/clusterid style filters."""
    for keep in named_filters(values, keys):
        found = [obj for obj in found if keep(obj)]
    return found


@command("listZones", params=(param("id", "uuid", entity="zone"), param("name"), param("available", "boolean"),
                              param("networktype"), param("showcapacities", "boolean")) + PAGE_PARAMS,
         fields=("id", "name", "networktype", "allocationstate", "localstorageenabled", "securitygroupsenabled"))
def list_zones(ctx, values):
    """Lists zones."""
    zones = by_id_and_name(ctx.store.all("zone"), values)
    return listing("zone", [{"id": z["uuid"], "name": z["name"], "networktype": z["networktype"],
                             "allocationstate": "Enabled", "dhcpprovider": "VirtualRouter",
                             "localstorageenabled": False, "securitygroupsenabled": False,
                             "zonetoken": z["uuid"][:8], "tags": []} for z in zones], values)


@command("listPods", admin=True, roles=ROOT_ONLY, params=(
    param("id", "uuid", entity="pod"), param("name"), param("zoneid", "uuid", entity="zone")) + PAGE_PARAMS,
    fields=("id", "name", "zoneid", "zonename", "allocationstate"))
def list_pods(ctx, values):
    """Lists pods."""
    pods = filtered(by_id_and_name(ctx.store.all("pod"), values), values, ("zoneid",))
    return listing("pod", [{"id": p["uuid"], "name": p["name"], "zoneid": ctx.store.get("zone", p["zone_id"])["uuid"],
                            "zonename": ctx.store.get("zone", p["zone_id"])["name"], "allocationstate": "Enabled"}
                           for p in pods], values)


@command("listClusters", admin=True, roles=ROOT_ONLY, params=(
    param("id", "uuid", entity="cluster"), param("name"), param("zoneid", "uuid", entity="zone"),
    param("podid", "uuid", entity="pod"), param("hypervisor")) + PAGE_PARAMS,
    fields=("id", "name", "podid", "podname", "zoneid", "zonename", "hypervisortype", "clustertype",
            "allocationstate", "managedstate", "cpuovercommitratio", "memoryovercommitratio"))
def list_clusters(ctx, values):
    """Lists clusters with their overcommit ratios."""
    clusters = filtered(by_id_and_name(ctx.store.all("cluster"), values), values, ("zoneid", "podid"))
    clusters = hypervisor_filter(clusters, values)
    items = []
    for cluster in clusters:
        zone, pod = ctx.store.get("zone", cluster["zone_id"]), ctx.store.get("pod", cluster["pod_id"])
        cpu, mem = overcommit(ctx.settings, cluster["id"])
        items.append({"id": cluster["uuid"], "name": cluster["name"], "podid": pod["uuid"], "podname": pod["name"],
                      "zoneid": zone["uuid"], "zonename": zone["name"],
                      "hypervisortype": hypervisors.hypervisor_of(cluster),
                      "clustertype": "CloudManaged", "allocationstate": "Enabled", "managedstate": "Managed",
                      "cpuovercommitratio": str(cpu), "memoryovercommitratio": str(mem), "arch": "x86_64"})
    return listing("cluster", items, values)


@command("listHosts", admin=True, roles=ROOT_ONLY, params=(
    param("id", "uuid", entity="host"), param("name"), param("zoneid", "uuid", entity="zone"),
    param("podid", "uuid", entity="pod"), param("clusterid", "uuid", entity="cluster"), param("state"),
    param("type"), param("resourcestate"), param("hypervisor"), param("details", "list"),
    param("virtualmachineid", "uuid", entity="vm")) + PAGE_PARAMS,
    fields=("id", "name", "state", "type", "zoneid", "zonename", "podid", "podname", "hypervisor", "cpunumber",
            "cpuspeed", "cpuallocated", "cpuallocatedvalue", "cpuallocatedpercentage",
            "cpuallocatedwithoverprovisioning", "cpuused", "cpuwithoverprovisioning", "memorytotal",
            "memorywithoverprovisioning", "memoryallocated", "memoryallocatedpercentage", "memoryallocatedbytes",
            "memoryused", "clusterid", "clustername", "hosttags", "resourcestate", "hasenoughcapacity",
            "suitableformigration"))
def list_hosts(ctx, values):
    """Lists hosts with allocation figures; with virtualmachineid, the hosts it could migrate to."""
    hosts = hypervisor_filter(filtered(by_id_and_name(ctx.store.all("host"), values), values,
                                       ("zoneid", "podid", "clusterid")), values)
    for key in ("state", "resourcestate"):
        if key in values:
            hosts = [h for h in hosts if h[key].lower() == values[key].lower()]
    if values.get("type", "Routing").lower() != "routing":
        hosts = []
    vm = values.get("virtualmachineid")
    items = []
    for host in hosts:
        body = host_response(ctx.app, host)
        if vm is not None:
            if host["id"] == vm.get("host_id"):
                continue
            cores, speed, memory = vm_size(ctx.store, vm)
            enough = host_has_capacity(ctx.app, host, cores * speed, memory)
            same_cluster = vm.get("host_id") and ctx.store.get("host", vm["host_id"])["cluster_id"] == host["cluster_id"]
            body.update(hasenoughcapacity=enough, suitableformigration=bool(enough and same_cluster))
        items.append(body)
    return listing("host", items, values)


def capacity_rows(ctx, zone, cluster=None):
    """Memory, CPU and CPU-core capacity of a zone or one of its clusters."""
    hosts = ctx.store.find("host", zone_id=zone["id"])
    if cluster is not None:
        hosts = [h for h in hosts if h["cluster_id"] == cluster["id"]]
    totals = {0: [0, 0], 1: [0, 0], 90: [0, 0]}
    for host in hosts:
        cpu_factor, mem_factor = overcommit(ctx.settings, host["cluster_id"])
        capacity = host_capacity(ctx.app, host)  # ApiResponseHelper: capacityused = used + reserved
        totals[0][0] += capacity.used_memory + capacity.reserved_memory
        totals[0][1] += int(host["memory_mib"] * MIB * mem_factor)
        totals[1][0] += capacity.used_cpu + capacity.reserved_cpu
        totals[1][1] += int(host["cores"] * host["cpu_mhz"] * cpu_factor)
        cores = sum(vm_size(ctx.store, vm)[0] for vm in ctx.store.find("vm", host_id=host["id"])
                    if vm["state"] in ("Starting", "Running", "Stopping", "Migrating"))
        totals[90][0] += cores
        totals[90][1] += host["cores"]
    rows = []
    for kind, (used, total) in totals.items():
        row = {"type": kind, "name": CAPACITY_TYPES[kind], "zoneid": zone["uuid"], "zonename": zone["name"]}
        if cluster is not None:
            row.update(clusterid=cluster["uuid"], clustername=cluster["name"])
        row.update(capacityallocated=used, capacityused=used, capacitytotal=total,
                   percentused=percent(used, total).rstrip("%"))
        rows.append(row)
    return rows


@command("listCapacity", admin=True, roles=ROOT_ONLY, params=(
    param("zoneid", "uuid", entity="zone"), param("clusterid", "uuid", entity="cluster"),
    param("podid", "uuid", entity="pod"), param("type", "integer"), param("fetchlatest", "boolean"), param("sortby")) + PAGE_PARAMS,
    fields=("type", "name", "zoneid", "zonename", "clusterid", "clustername", "capacityallocated", "capacityused",
            "capacitytotal", "percentused"))
def list_capacity(ctx, values):
    """Lists allocated capacity per zone (or per cluster with clusterid)."""
    rows = []
    cluster = values.get("clusterid")
    for zone in ctx.store.all("zone"):
        if "zoneid" in values and values["zoneid"]["id"] != zone["id"]:
            continue
        if cluster is not None and cluster["zone_id"] != zone["id"]:
            continue
        rows += capacity_rows(ctx, zone, cluster)
    if "type" in values:
        rows = [row for row in rows if row["type"] == values["type"]]
    return listing("capacity", rows, values)


def template_to_string(template):
    """VMTemplateVO.toString() (the simulator's unique name is the template name)."""
    return java_string("Template", {"id": template["id"], "format": template["format"], "uniqueName": template["name"],
                                    "name": template["name"], "uuid": template["uuid"]})


def template_response(ctx, template):
    """TemplateResponse."""
    zone = ctx.store.all("zone")[0] if ctx.store.all("zone") else None
    return compact({"id": template["uuid"], "name": template["name"], "displaytext": template["displaytext"],
                    "ispublic": template["ispublic"], "isfeatured": template["isfeatured"], "isready": True,
                    "passwordenabled": bool(template.get("passwordenabled")), "format": template["format"],
                    "hypervisor": template.get("hypervisor") or "KVM", "ostypeid": template["uuid"],
                    "ostypename": template["ostypename"],
                    "templatetype": template.get("templatetype", "USER"), "zoneid": zone["uuid"] if zone else None,
                    "zonename": zone["name"] if zone else None,
                    "account": "system" if template.get("templatetype") == "SYSTEM" else "admin",
                    "isdynamicallyscalable": bool(template["isdynamicallyscalable"]), "created": template["created"],
                    "arch": "x86_64"})


@command("listTemplates", params=(param("templatefilter", required=True), param("id", "uuid", entity="template"),
                                  param("name"), param("zoneid", "uuid", entity="zone"), param("hypervisor")) + LIST_PARAMS,
         fields=("id", "name", "displaytext", "ispublic", "isfeatured", "isready", "format", "hypervisor",
                 "ostypename", "isdynamicallyscalable"))
def list_templates(ctx, values):
    """Lists templates; templatefilter is required as in CloudStack (QueryManagerImpl.searchForTemplatesInternal).

    `all` is refused to a User; with an id the filter is not applied, only the template's access check.
    """
    template_filter = values["templatefilter"]
    if template_filter not in TEMPLATE_FILTERS:
        # TemplateFilter.valueOf's IllegalArgumentException, answered by ApiServer as a 431 ServerApiException
        raise server(431, "No enum constant com.cloud.template.VirtualMachineTemplate.TemplateFilter."
                          f"{template_filter}")
    if template_filter == "all" and ctx.caller.role == "User":
        raise invalid("Filter all can be specified by admin only")
    if "id" in values:
        check_template_access(ctx, values["id"])
        templates = [values["id"]]
    else:
        templates = [t for t in ctx.store.all("template") if template_listed(ctx, t, template_filter)]
    templates = by_id_and_name(templates, values)
    return listing("template", [template_response(ctx, t) for t in templates], values)


def template_owner(ctx, template):
    """The owning account (the seed's templates belong to the root admin) and its domain."""
    account = ctx.store.get("account", template["account_id"]) if template.get("account_id") else next(
        a for a in ctx.store.all("account") if a["role"] == "Admin")
    return account, ctx.store.get("domain", account["domain_id"])


def template_listed(ctx, template, template_filter):
    """The filter criteria for the caller's own account (launch permissions and projects are not modelled), then
    applyPublicTemplateSharingRestrictions for anyone but the root admin. The SYSTEM template (private, owned by the
    system account) only shows to the root admin with `all` (searchForTemplatesInternal's showDomr)."""
    caller = ctx.caller
    if template.get("templatetype") == "SYSTEM":
        return caller.is_root_admin and template_filter == "all"
    owner, domain = template_owner(ctx, template)
    own = owner["id"] == caller.account["id"]
    public = template["ispublic"]
    shown = {"featured": public and template["isfeatured"], "community": public and not template["isfeatured"],
             "self": own, "selfexecutable": own, "shared": False, "sharedexecutable": False,
             "executable": public or own,
             "all": caller.is_root_admin or public or in_subtree(domain, caller.domain)}[template_filter]
    if not shown or caller.is_root_admin or domain["id"] == caller.domain["id"]:
        return shown
    return ctx.settings.boolean("share.public.templates.with.other.domains", "domain", domain["id"])


def check_template_access(ctx, template):
    """searchForTemplatesInternal with a template id: DomainChecker's checks of the caller against the template."""
    caller = ctx.caller
    owner, domain = template_owner(ctx, template)
    if not template["ispublic"] and caller.role == "DomainAdmin":
        if not in_subtree(domain, caller.domain):
            raise domain_denied(caller.account, domain)
    elif not template["ispublic"]:
        if not caller.is_root_admin and owner["id"] != caller.account["id"]:
            raise denied(f"Account {account_to_string(caller.account)} does not have permission to launch instances"
                         f" from template {template_to_string(template)}")
    elif not caller.is_root_admin and not public_template_shared(ctx, caller, domain):
        raise denied(f"{account_to_string(caller.account)}is not allowed to access the template"
                     f" {template_to_string(template)}")


def public_template_shared(ctx, caller, domain):
    """DomainChecker.checkPublicTemplateAccess for a template of ``domain``."""
    if ctx.settings.boolean("share.public.templates.with.other.domains", "domain", domain["id"]) \
            or in_subtree(caller.domain, domain):
        return True
    return caller.role == "DomainAdmin" and in_subtree(domain, caller.domain)


def check_launch_permission(ctx, account, template):
    """DomainChecker.checkAccess(owner, template, UseEntry), as UserVmManagerImpl.createVirtualMachine runs it for
    the VM's owner: a private template only for its owner (launch permissions and projects are not modelled),
    a public one across domains as checkPublicTemplateAccess allows."""
    if account["role"] == "Admin":
        return
    owner, domain = template_owner(ctx, template)
    if not template["ispublic"]:
        if owner["id"] != account["id"]:
            raise denied(f"Account {account_to_string(account)} does not have permission to launch instances from"
                         f" template {template_to_string(template)}")
        return
    as_caller = SimpleNamespace(role=account["role"], domain=ctx.store.get("domain", account["domain_id"]))
    if not public_template_shared(ctx, as_caller, domain):
        raise denied(f"{account_to_string(account)}is not allowed to access the template {template_to_string(template)}")


@command("updateTemplate", params=(
    param("id", "uuid", required=True, entity="template"), param("name"), param("displaytext"),
    param("isdynamicallyscalable", "boolean"), param("passwordenabled", "boolean")),
    fields=("id", "name", "displaytext", "isdynamicallyscalable"))
def update_template(ctx, values):
    """Updates a template (isdynamicallyscalable only when given; existing VMs keep their flag)."""
    template = values["id"]
    caller = ctx.caller
    if not caller.is_root_admin and template.get("account_id") != caller.account["id"]:
        if template["ispublic"]:
            raise denied("Domain Admin and regular users can modify only their own Public Templates")
        raise denied(f"Account {account_to_string(caller.account)} does not have permission to launch instances"
                     f" from template {template_to_string(template)}")
    for key in ("name", "displaytext", "isdynamicallyscalable", "passwordenabled"):
        if key in values:
            template[key] = values[key]
    ctx.store.save("template", template)
    return {"template": template_response(ctx, template)}


def account_search_scope(ctx, values):
    """QueryManagerImpl.searchForAccountIdsAndCount: without an id, only an admin's listall (or the domain setting
    allow.user.view.all.domain.accounts) lists the caller's domain tree, an admin's domainid that domain (its tree
    with isrecursive); every other call lists the caller's own account. Within what the caller may see."""
    caller, domain = ctx.caller, values.get("domainid")
    if domain is not None and not (caller.is_root_admin or in_subtree(domain, caller.domain)):
        raise domain_denied(caller.account, domain)
    if "id" in values:
        return ctx.visible_accounts
    admin = caller.role != "User"
    recursive = values.get("isrecursive", False)
    if (values.get("listall") and admin) or ctx.settings.boolean("allow.user.view.all.domain.accounts", "domain",
                                                                 caller.domain["id"]):
        domain, recursive = domain or caller.domain, True
    elif not admin or domain is None:
        return {caller.account["id"]}
    store = ctx.store
    return {account["id"] for account in store.all("account")
            if (admin or account["role"] != "DomainAdmin")  # type2NEQ: users see no domain-admin accounts
            and (in_subtree(store.get("domain", account["domain_id"]), domain) if recursive
                 else account["domain_id"] == domain["id"])}


@command("listAccounts", params=(param("id", "uuid", entity="account"), param("name"),
                                 param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"),
                                 param("accounttype", "integer"), param("state")) + LIST_PARAMS,
         fields=("id", "name", "accounttype", "roletype", "domainid", "domain", "state", "cpulimit", "cputotal",
                 "cpuavailable", "memorylimit", "memorytotal", "memoryavailable", "vmlimit", "vmtotal",
                 "vmavailable", "user"))
def list_accounts(ctx, values):
    """Lists accounts with their resource limits and counts."""
    accounts = [a for a in ctx.store.all("account") if a["id"] in account_search_scope(ctx, values)]
    accounts = by_id_and_name(accounts, values)
    return listing("account", [account_response(ctx.app, a) for a in accounts], values)


@command("listDomains", admin=True, roles=DOMAIN_ADMINS, params=(
    param("id", "uuid", entity="domain"), param("name"), param("level", "integer"), param("details", "list")) + LIST_PARAMS,
    fields=("id", "name", "level", "parentdomainid", "path", "haschild"))
def list_domains(ctx, values):
    """Lists the domains the caller may see."""
    caller = ctx.caller
    domains = [d for d in ctx.store.all("domain") if caller.is_root_admin or d["id"] == caller.domain["id"]
               or (caller.role == "DomainAdmin" and in_subtree(d, caller.domain))]
    domains = by_id_and_name(domains, values)
    items = []
    for domain in domains:
        parent = ctx.store.get("domain", domain["parent_id"]) if domain["parent_id"] else None
        items.append(compact({"id": domain["uuid"], "name": domain["name"], "level": domain["path"].count("/"),
                              "parentdomainid": parent["uuid"] if parent else None,
                              "parentdomainname": parent["name"] if parent else None, "path": domain["path"],
                              "haschild": any(d["parent_id"] == domain["id"] for d in ctx.store.all("domain")),
                              "state": "Active", **limit_fields(domain_listed_limits(ctx.app, domain),
                                                                domain_usage(ctx.app, domain))}))
    return listing("domain", items, values)


def acl_accounts(ctx, values, by_id=False):
    """AccountManagerImpl.buildACLSearchParameters and buildACLSearchCriteria (no projects): the accounts whose
    objects a list shows. Without account, domainid or listall every caller, the root admin too, sees its own;
    ``by_id`` (the list names one object by id) lets an admin see beyond its own account: the root admin every
    account, a domain admin those of its domain and below."""
    caller, store = ctx.caller, ctx.store
    domain = values.get("domainid")
    if domain is not None:
        check_domain_access(caller, domain)
    if "account" in values:
        where = domain or caller.domain
        account = store.one("account", name=values["account"], domain_id=where["id"])
        if account is None or account["state"] != "enabled":
            raise invalid(f"could not find account {values['account']} in domain {domain_to_string(where)}")
        ctx.check_account(account["id"])
        return {account["id"]}
    if by_id and caller.role != "User" and domain is None and not values.get("listall"):
        return ctx.visible_accounts
    if caller.role == "User" or (domain is None and not values.get("listall")):
        return {caller.account["id"]}
    if domain is None:
        return ctx.visible_accounts
    domains = {d["id"] for d in store.all("domain")
               if d["id"] == domain["id"] or (values.get("isrecursive") and in_subtree(d, domain))}
    return {a["id"] for a in store.all("account") if a["domain_id"] in domains}


JAVA_UUID_PART = re.compile(r"\+?[0-9a-fA-F]+")


def is_java_uuid(text):
    """Whether java.util.UUID.fromString takes the text: at most 36 characters, five '-'-separated hex numbers
    (Long.parseLong, radix 16: an optional '+', each part below 2^63)."""
    parts = text.split("-")
    return len(text) <= 36 and len(parts) == 5 and all(
        JAVA_UUID_PART.fullmatch(part) and int(part, 16) < 2 ** 63 for part in parts)


def event_resource(ctx, values):
    """searchForEventIdsAndCount: the (resource type, uuid) to filter on, each None when not given
    (ResourceIdSupport.getResourceUuid/getResourceType; blank values count as absent); 431 texts."""
    uuid = values.get("resourceid") if (values.get("resourceid") or "").strip() else None
    kind = values.get("resourcetype") if (values.get("resourcetype") or "").strip() else None
    if uuid is not None and not is_java_uuid(uuid):
        raise invalid("Invalid resourceid")
    if kind is not None:
        if kind.lower() not in RESOURCE_TYPE_NAMES:
            raise invalid("Invalid resourcetype")
        kind = RESOURCE_TYPE_NAMES[kind.lower()]
    if uuid is None:
        return kind, None
    if kind is None:
        raise invalid("resourceid parameter must be used with resourcetype parameter")
    resource = find_resource(ctx.store, kind, uuid)
    if resource is None:
        raise invalid("Invalid resourceid")
    if not ctx.caller.is_root_admin and resource.get("account_id") is not None:  # a ControlledEntity
        ctx.check_access(resource)
    return kind, resource["uuid"]


EVENT_STATES = ("Created", "Scheduled", "Started", "Completed")  # com.cloud.event.Event.State


@command("listEvents", params=(param("id", "uuid", entity="event"), param("type"), param("startdate", "date"),
                               param("enddate", "date"), param("level"), param("account"),
                               param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"), PROJECT_ID,
                               param("resourceid"), param("resourcetype"), param("state"),
                               param("startid", "uuid", entity="event")) + LIST_PARAMS,
         fields=("id", "username", "type", "level", "description", "account", "domainid", "domain", "domainpath",
                 "resourceid", "resourcetype", "created", "state", "parentid"))
def list_events(ctx, values):
    """Lists events, newest first (QueryManagerImpl.searchForEventIdsAndCount; dates compare as CloudStack's text);
    ``startid``: that event and the events it started."""
    resource_type, resource = event_resource(ctx, values)
    state = values.get("state") or None
    if state is not None and state not in EVENT_STATES:  # EnumUtils.getEnum: case-sensitive
        raise invalid(f"Invalid state specified: {state}")
    accounts = set() if values.get("projectid") else acl_accounts(ctx, values)
    events = [e for e in reversed(ctx.store.all("event")) if e["account_id"] in accounts]
    keyword = values.get("keyword", "").lower()
    checks = {"id": lambda e: e["id"] == values["id"]["id"], "type": lambda e: e["type"] == values["type"],
              "level": lambda e: e["level"] == values["level"], "state": lambda e: e["state"] == state,
              "startid": lambda e: values["startid"]["id"] in (e["id"], e["start_id"]),
              "startdate": lambda e: e["created"] >= values["startdate"],
              "enddate": lambda e: e["created"] <= values["enddate"],
              "keyword": lambda e: any(keyword in e[key].lower() for key in ("type", "description", "level"))}
    keep = [test for key, test in checks.items() if values.get(key)]
    if resource_type:  # the type filters on its own too
        keep.append(lambda e: e["resource_type"] == resource_type)
    if resource:
        keep.append(lambda e: e["resource_uuid"] == resource)
    events = [e for e in events if all(test(e) for test in keep)]
    return listing("event", [event_response(ctx.store, event) for event in events], values)


def event_response(store, event):
    """EventJoinDaoImpl.newEventResponse: parentid is the uuid of the event's start event (event_view start_uuid)."""
    user = store.get("user", event["user_id"]) if event["user_id"] else None
    start = store.get("event", event["start_id"]) if event["start_id"] else None
    body = {"id": event["uuid"], "username": user["username"] if user else None, "type": event["type"],
            "level": event["level"], "description": event["description"]}
    body.update(owner_fields(store, event["account_id"]))
    body.update(resourceid=event["resource_uuid"], resourcetype=event["resource_type"], created=event["created"],
                state=event["state"], parentid=start["uuid"] if start else None)
    return compact(body)


@command("listVolumes", params=(param("id"), param("virtualmachineid", "uuid", entity="vm"), param("type"),
                                param("zoneid", "uuid", entity="zone"), param("account"),
                                param("domainid", "uuid", entity="domain"), PROJECT_ID) + LIST_PARAMS,
         fields=("id", "name", "type", "virtualmachineid", "vmname", "size", "state"))
def list_volumes(ctx, values):
    """Lists each visible VM's ROOT volume (the simulator has no other storage)."""
    vms = [vm for vm in ctx.store.all("vm") if vm["account_id"] in ctx.visible_accounts]
    if "virtualmachineid" in values:
        vms = [vm for vm in vms if vm["id"] == values["virtualmachineid"]["id"]]
    if values.get("type", "ROOT").upper() != "ROOT" or values.get("projectid"):
        vms = []
    items = [{"id": vm["uuid"], "name": f"ROOT-{vm['id']}", "type": "ROOT", "deviceid": 0,
              "virtualmachineid": vm["uuid"], "vmname": vm["name"], "size": 8 * 1024 ** 3, "state": "Ready",
              **owner_fields(ctx.store, vm["account_id"])} for vm in vms]
    if "id" in values:
        items = [item for item in items if item["id"] == values["id"]]
    return listing("volume", items, values)


@command("listHypervisors", params=(param("zoneid", "uuid", entity="zone"),), fields=("name",))
def list_hypervisors(ctx, values):
    """ManagementServerImpl.getHypervisors: with a zone, the hypervisor of each of its clusters (one entry per
    cluster, in their order); without one, the hypervisor.list setting (its default; the setting is not modelled)."""
    if "zoneid" in values:
        names = [hypervisors.hypervisor_of(cluster) for cluster in ctx.store.all("cluster")
                 if cluster["zone_id"] == values["zoneid"]["id"]]
    else:
        names = list(HYPERVISOR_LIST)
    return listing("hypervisor", [{"name": name} for name in names], values)


@command("listOsTypes", params=(param("id"), param("description")) + PAGE_PARAMS, fields=("id", "description"))
def list_os_types(ctx, values):
    """Lists the OS types of the templates."""
    items = [{"id": t["uuid"], "description": t["ostypename"], "oscategoryid": t["uuid"]}
             for t in ctx.store.all("template")]
    if "description" in values:
        items = [item for item in items if item["description"] == values["description"]]
    return listing("ostype", items, values)


@command("listCapabilities",
         fields=("securitygroupsenabled", "dynamicrolesenabled", "cloudstackversion", "userpublictemplateenabled",
                 "allowuserviewdestroyedvm", "allowuserexpungerecovervm", "allowuserforcestopvm",
                 "dynamicscalingenabled"))
def list_capabilities(ctx, values):
    """ManagementServerImpl.listCapabilities with ListCapabilitiesCmd's response (CapabilitiesResponse field order).

    The allowuser* flags are the caller's account settings, always true for admins; apilimit* appear only with
    api.throttling.enabled (default false, not modelled); dynamicscalingenabled is the global enable.dynamic.scale.vm.
    A line leaves out the fields its ListCapabilitiesCmd.execute does not set (``Version.absent_capabilities``).
    """
    del values
    caller = ctx.caller
    is_admin = caller.role != "User"
    absent = ctx.app.version.absent_capabilities

    def account_flag(name):
        return is_admin or ctx.settings.boolean(name, "account", caller.account["id"])
    flags = {"allowuserforcestopvm": lambda: account_flag("allow.user.force.stop.vm"),
             "dynamicscalingenabled": lambda: ctx.settings.boolean("enable.dynamic.scale.vm")}
    flags = {name: read() for name, read in flags.items() if name not in absent}
    capability = {
        "securitygroupsenabled": False, "dynamicrolesenabled": False, "cloudstackversion": ctx.app.version.cloudstackversion,
        "userpublictemplateenabled": True, "supportELB": "false", "projectinviterequired": False,
        "allowusercreateprojects": True, "customdiskofferingminsize": 1, "customdiskofferingmaxsize": 1024,
        "regionsecondaryenabled": False, "kvmsnapshotenabled": True, "snapshotshowchainsize": False,
        "allowuserviewdestroyedvm": account_flag("allow.user.view.destroyed.vm"),
        "allowuserexpungerecovervm": account_flag("allow.user.expunge.recover.vm"),
        "allowuserexpungerecovervolume": True, "allowuserviewalldomainaccounts": False,
        "allowuserforcestopvm": flags.get("allowuserforcestopvm"), "kubernetesserviceenabled": False,
        "kubernetesclusterexperimentalfeaturesenabled": False, "customhypervisordisplayname": "Custom",
        "defaultuipagesize": 20, "dynamicscalingenabled": flags.get("dynamicscalingenabled")}
    return {"capability": {key: value for key, value in capability.items() if key not in absent}}


# typed parameters of the empty lists; the others are plain strings. Projects and the objects of the empty lists are
# never stored, so a uuid of one fails ParamProcessWorker's entity lookup as an unknown uuid does in CloudStack.
EMPTY_LIST_TYPES = {"zoneid": ("uuid", "zone"), "domainid": ("uuid", "domain"), "virtualmachineid": ("uuid", "vm"),
                    "projectid": ("uuid", "project")}


def empty_list_param(key, required, id_entity):
    """One parameter of an empty list command, typed by EMPTY_LIST_TYPES; `id` names an `id_entity` when given."""
    kind, entity = ("uuid", id_entity) if key == "id" and id_entity else EMPTY_LIST_TYPES.get(key, ("string", None))
    return param(key, kind, required=required, entity=entity)


def empty_list(name, object_name, names, id_entity=None, base=LIST_PARAMS, required=()):
    """Register a list command that always answers the empty list ({}), with CloudStack's parameter names."""
    params = tuple(empty_list_param(key, key in required, id_entity) for key in names.split())

    @command(name, params=base + params, fields=("id", "name"),
             description=f"Lists {object_name} objects; the simulator has none.")
    def handler(ctx, values):
        del ctx
        return listing(object_name, [], values)
    return handler


# (command, object name, parameters, the store kind its uuid `id` names: the entityType of the Cmd's id; None when
# the Cmd declares none)
for _name, _object, _names, _id_entity in (
        ("listProjects", "project", "account domainid id name", "project"),
        ("listTags", "tag", "projectid account domainid", None),
        ("listDiskOfferings", "diskoffering", "projectid zoneid account domainid id name virtualmachineid",
         "diskoffering"),
        ("listSSHKeyPairs", "sshkeypair", "projectid account domainid id name", "sshkeypair"),
        ("listSecurityGroups", "securitygroup", "projectid account domainid id virtualmachineid", None),
        ("listPublicIpAddresses", "publicipaddress", "projectid zoneid account domainid id", "publicipaddress"),
        ("listVPCs", "vpc", "projectid zoneid account domainid id name", "vpc"),
        ("listIsos", "iso", "projectid zoneid account domainid id name", "template"),
        ("listInstanceGroups", "instancegroup", "projectid account domainid id name", "instancegroup"),
        ("listUserData", "userdata", "projectid account domainid id name", "userdata")):
    empty_list(_name, _object, _names, _id_entity)

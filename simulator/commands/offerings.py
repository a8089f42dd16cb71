"""Service offerings: list/create/update/deleteServiceOffering (spec 2.6-2.8)."""

from simulator.errors import invalid, runtime, server
from simulator.model import domain_to_string, in_subtree, is_dynamic, offering_to_string, user_to_string, vm_size
from simulator.registry import DOMAIN_ADMINS, LIST_PARAMS, PROJECT_ID, command, listing, param
from simulator.views import offering_response

INT_MAX = 2147483647
# ConfigurationManagerImpl.createServiceOffering: the systemvmtype values of a system offering (default domainrouter)
SYSTEM_OFFERING_TYPES = ("domainrouter", "consoleproxy", "secondarystoragevm", "internalloadbalancervm")
BOUNDS = ("mincpunumber", "maxcpunumber", "minmemory", "maxmemory")
STATE_SINCE = (4, 19)  # ListServiceOfferingsCmd / UpdateServiceOfferingCmd state (PR #8821, b8f8321f0f)
OFFERING_FIELDS = ("id", "name", "state", "displaytext", "cpunumber", "cpuspeed", "memory", "created", "storagetype",
                   "provisioningtype", "offerha", "limitcpuuse", "isvolatile", "domainid", "domain", "zoneid", "zone", "hosttags", "issystem", "defaultuse",
                   "systemvmtype", "networkrate", "iscustomizediops", "serviceofferingdetails", "iscustomized",
                   "dynamicscalingenabled", "diskofferingstrictness", "encryptroot", "hasannotations")


def optional_int(values, key):
    """An integer value or None (seed values arrive untyped)."""
    value = values.get(key)
    return None if value is None or value == "" else int(value)


def flag(values, key, default):
    """A boolean value from API (bool) or seed (bool or text)."""
    value = values.get(key, default)
    return value if isinstance(value, bool) else str(value).lower() == "true"


def build_offering(app, values):
    """A validated offering record from createServiceOffering parameters (431 texts of spec 2.6)."""
    name = values["name"]
    cpu, speed, memory = (optional_int(values, key) for key in ("cpunumber", "cpuspeed", "memory"))
    customized = flag(values, "customized", cpu is None or memory is None)
    details = {}
    extra = values.get("serviceofferingdetails") or {}
    for entry in extra if isinstance(extra, list) else [extra]:
        details.update({key: str(value) for key, value in entry.items()})
    if customized:
        if cpu is not None or memory is not None:
            raise invalid("For creating a custom compute offering cpu and memory all should be null")
        bounds = {key: optional_int(values, key) for key in BOUNDS}
        given = [value is not None for value in list(bounds.values()) + [speed]]
        if any(given) and not all(given):
            raise invalid("For creating a custom compute offering min/max cpu and min/max memory/cpu speed should"
                          " all be null or all specified")
        if all(given):
            check_custom_bounds(name, bounds, speed)
            details.update({key: str(value) for key, value in bounds.items()})
    else:
        check_fixed(app, name, cpu, speed, memory)
    storage = storage_type(values.get("storagetype"), flag(values, "offerha", False))
    is_system = flag(values, "issystem", False)
    return {"name": name, "displaytext": values.get("displaytext") or name, "cpunumber": cpu, "cpuspeed": speed,
            "memory": memory, "customized": customized, "offerha": flag(values, "offerha", False),
            "limitcpuuse": flag(values, "limitcpuuse", False), "isvolatile": flag(values, "isvolatile", False),
            "storagetype": storage, "hosttags": values.get("hosttags") or "",
            "networkrate": optional_int(values, "networkrate"),
            "dynamicscalingenabled": flag(values, "dynamicscalingenabled", True), "details": details,
            "domain_ids": [], "zone_ids": [],
            "state": "Active", "issystem": is_system, "systemvmtype": system_vm_type(values) if is_system else None,
            "defaultuse": flag(values, "defaultuse", False), "removed": False, "created": app.now()}


def system_vm_type(values):
    """createServiceOffering issystem=true: the systemvmtype (domainrouter when absent), else 431."""
    text = values.get("systemvmtype")
    if text is None or text == "domainrouter":
        return "domainrouter"
    if text not in SYSTEM_OFFERING_TYPES:
        raise invalid("Invalid systemVmType. Supported types are: DomainRouter, ConsoleProxy, SecondaryStorageVm")
    return text


def check_custom_bounds(name, bounds, speed):
    """Speed and min/max of a custom constrained offering, as createServiceOffering checks them (no min <= max check)."""
    prefix = f"Failed to create service offering {name}: specify the"
    if not 0 <= speed <= INT_MAX:
        raise invalid(f"{prefix} cpu speed value between 1 and {INT_MAX}")
    if not (0 < bounds["maxcpunumber"] <= INT_MAX and 0 < bounds["mincpunumber"] <= INT_MAX):
        raise invalid(f"{prefix} minimum or minimum cpu number value between 1 and {INT_MAX}")
    if bounds["minmemory"] < 32 or bounds["minmemory"] > INT_MAX or bounds["maxmemory"] > INT_MAX:
        raise invalid(f"{prefix} memory value between 32 and {INT_MAX} MB")


def storage_type(text, offer_ha):
    """createServiceOffering's storagetype: local or shared (any case), HA only on shared storage."""
    if text is None or text.lower() == "shared":
        return "shared"
    if text.lower() != "local":
        raise invalid(f"Invalid storage type {text} specified, valid types are: 'local' and 'shared'")
    if offer_ha:
        raise invalid("HA offering with local storage is not supported. ")
    return "local"


def check_fixed(app, name, cpu, speed, memory):
    """customized=false: cpu speed is required; cpu number and memory are range-checked only when given."""
    cores_max = app.settings.integer("vm.serviceoffering.cpu.cores.max") or INT_MAX
    ram_max = app.settings.integer("vm.serviceoffering.ram.size.max") or INT_MAX
    if cpu is not None and not 1 <= cpu <= cores_max:
        raise invalid(f"Failed to create service offering {name}: specify the cpu number value between 1 and"
                      f" {cores_max}")
    if speed is None or not 0 <= speed <= INT_MAX:
        raise invalid(f"Failed to create service offering {name}: specify the cpu speed value between 0 and {INT_MAX}")
    if memory is not None and not 32 <= memory <= ram_max:
        raise invalid(f"Failed to create service offering {name}: specify the memory value between 32 and {ram_max} MB")


def tags_of(text):
    """The tags of a comma-separated host tag text."""
    return {tag for tag in (text or "").split(",") if tag}


def wanted_host_tags(ctx, vm, current):
    """The host tags an offering must share (QueryManagerImpl.searchForServiceOfferingIdsAndCount): the current
    offering's, plus with allow.different.host.tags.offerings.for.vm.scale every host tag of the cluster of the
    VM's host or last host (addVmCurrentClusterHostTags)."""
    wanted = tags_of(current["hosttags"])
    if ctx.settings.boolean("allow.different.host.tags.offerings.for.vm.scale"):
        host = ctx.store.get("host", vm.get("host_id") or vm.get("last_host_id"))
        if host:
            wanted |= {tag for other in ctx.store.find("host", cluster_id=host["cluster_id"]) for tag in other["tags"]}
    return wanted


def at_least(fixed, detail_max, needed):
    """`fixed >= needed`, or for an open value: no maximum or a maximum >= needed (the Running VM filter)."""
    if fixed is not None:
        return fixed >= needed
    return detail_max is None or int(detail_max) >= needed


def offers_for_vm(ctx, vm, offerings):
    """The virtualmachineid filter of listServiceOfferings (QueryManagerImpl.searchForServiceOfferingIdsAndCount).

    The current offering only when dynamic; the same storage type as the VM's root volume (the simulator places it
    as the current offering says); the host tag rule of wanted_host_tags (any one of them shared, or on [4.22] all of
    them: Version.any_host_tag); for a Running VM no smaller cpu, speed or
    memory (an open value counts by its maximum detail) and the same dynamicscalingenabled.
    """
    current = ctx.store.get("offering", vm["offering_id"])
    cores, speed, memory = vm_size(ctx.store, vm)
    wanted = wanted_host_tags(ctx, vm, current)
    kept = []
    for offering in offerings:
        if offering["id"] == current["id"] and not is_dynamic(offering):
            continue
        if offering["storagetype"] != current["storagetype"]:
            continue
        tags = tags_of(offering["hosttags"])
        if wanted and tags and not (tags & wanted if ctx.app.version.any_host_tag else wanted <= tags):
            continue
        if vm["state"] == "Running":
            details = offering["details"]
            if (cores > 0 and not at_least(offering["cpunumber"], details.get("maxcpunumber"), cores)) \
                    or (speed > 0 and not at_least(offering["cpuspeed"], None, speed)) \
                    or (memory > 0 and not at_least(offering["memory"], details.get("maxmemory"), memory)) \
                    or offering["dynamicscalingenabled"] != current["dynamicscalingenabled"]:
                continue
        kept.append(offering)
    return kept


def within(offering, key, bounds, wanted):
    """The cpunumber/memory filter: a fixed value >= wanted; an open one with no minimum, or min <= wanted <= max."""
    if offering[key] is not None:
        return offering[key] >= wanted
    low, high = (offering["details"].get(bound) for bound in bounds)
    if low is None:
        return True
    return int(low) <= wanted and high is not None and int(high) >= wanted


def offering_state(values):
    """ListServiceOfferingsCmd.getState: Active when blank, None for all, else the state (any case) or 431.

    4.18 has no ``state`` parameter (PR #8821 added it in 4.19: STATE_SINCE), so it is ignored, and its
    service_offering_view holds only Active offerings (schema-41720to41800.sql): always Active."""
    text = values.get("state") or ""
    if not text:
        return "Active"
    if text.lower() == "all":
        return None
    state = {"active": "Active", "inactive": "Inactive"}.get(text.lower())
    if state is None:  # IllegalArgumentException, answered by ApiServer as a 431 ServerApiException
        raise server(431, f"Invalid state value: {text}")
    return state


def child_filtered(store, domain_ids):
    """DomainHelper.filterChildSubDomains: drop a domain whose parent domain is in the list too (order kept)."""
    domains = [store.get("domain", oid) for oid in dict.fromkeys(domain_ids)]
    return [d["id"] for d in domains if not any(o["id"] != d["id"] and in_subtree(d, o) for o in domains)]


def resolve_ids(store, text, kind, keyword, existing):
    """DomainAndZoneIdResolver: a comma-separated uuid list ('public'/'all' skipped); absent keeps `existing`."""
    if not text:
        return list(existing)
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item or item.lower() == keyword:
            continue
        obj = store.by_uuid(kind, item)
        if obj is None:
            raise invalid(f"Failed to create service offering because invalid {kind} has been specified.")
        found.append(obj["id"])
    return found


def offering_visible(ctx, offering):
    """Public offerings, or those linked to the caller's domain, a parent of it or (domain admins) a child of it."""
    caller = ctx.caller
    if caller.is_root_admin or not offering.get("domain_ids"):
        return True
    for domain in (ctx.store.get("domain", oid) for oid in offering["domain_ids"]):
        if in_subtree(caller.domain, domain) or (caller.role == "DomainAdmin" and in_subtree(domain, caller.domain)):
            return True
    return False


def check_domain_admin_create(ctx, domain_ids, values):
    """ConfigurationManagerImpl.createServiceOffering: what a domain admin may create."""
    caller = ctx.caller
    user = user_to_string(caller.user)
    if not domain_ids:
        raise invalid(f"Unable to create public service offering by admin: {user} because it is domain-admin")
    if (values.get("tags") or values.get("hosttags")) and not tagged_offerings_allowed(ctx):
        raise invalid(f"User [{user}] is unable to create service offerings with storage tags or host tags.")
    for domain in (ctx.store.get("domain", oid) for oid in domain_ids):
        if not in_subtree(domain, caller.domain):
            raise invalid(f"Unable to create service offering by another domain-admin: {user} for domain:"
                          f" {domain['uuid']}")


def tagged_offerings_allowed(ctx):
    """allow.domain.admins.to.create.tagged.offerings for the caller's account."""
    return ctx.settings.boolean("allow.domain.admins.to.create.tagged.offerings", "account",
                                ctx.caller.account["id"])


def check_domain_admin_update(ctx, offering, domain_ids, zone_ids, values):
    """ConfigurationManagerImpl.updateServiceOffering for a domain admin; returns the final domain list."""
    caller = ctx.caller
    user, name = user_to_string(caller.user), offering_to_string(offering)
    if sorted(zone_ids) != sorted(offering["zone_ids"]):
        raise invalid(f"Unable to update zone(s) for service offering: {name} by admin: {user} as it is domain-admin")
    if not offering["domain_ids"]:
        raise invalid(f"Unable to update public service offering: {name} by user: {user} because it is domain-admin")
    if not domain_ids:
        raise invalid(f"Unable to update service offering: {name} to a public offering by user: {user} because it is"
                      " domain-admin")
    if ("hosttags" in values or "storagetags" in values) and not tagged_offerings_allowed(ctx):
        raise invalid(f"User [{user}] is unable to update storage tags or host tags.")
    kept = []
    for domain in (ctx.store.get("domain", oid) for oid in offering["domain_ids"]):
        if not in_subtree(domain, caller.domain):
            if {"name", "displaytext", "sortkey"} & set(values):
                raise invalid(f"Unable to update service offering: {name} as it has linked domain(s) which are not"
                              f" child domain for domain-admin: {user}")
            kept.append(domain["id"])
    for domain in (ctx.store.get("domain", oid) for oid in domain_ids):
        if not in_subtree(domain, caller.domain):
            raise invalid(f"Unable to update service offering: {name} by domain-admin: {user} with domain:"
                          f" {domain_to_string(domain)} which is not a child domain")
    return domain_ids + kept


@command("listServiceOfferings", params=(
    param("id", "uuid", entity="offering"), param("name"), param("virtualmachineid", "uuid", entity="vm"),
    param("issystem", "boolean"), param("systemvmtype"), param("state", since=STATE_SINCE),
    param("cpunumber", "integer"),
    param("memory", "integer"), param("cpuspeed", "integer"), param("zoneid", "uuid", entity="zone"),
    param("domainid", "uuid", entity="domain"),
    param("account"), param("isrecursive", "boolean"), PROJECT_ID) + LIST_PARAMS,
    fields=OFFERING_FIELDS)
def list_service_offerings(ctx, values):
    """Lists all available service offerings, by sortkey then id (QueryManagerImpl.searchForServiceOfferingIdsAndCount).

    Keyword matches name or display text; only the root admin may ask for system offerings. issystem is false when
    absent (ListServiceOfferingsCmd.getIsSystem), so system offerings are listed only with issystem=true; systemvmtype
    filters on the offering's type.
    """
    state = offering_state(values)
    if values.get("issystem") and not ctx.caller.is_root_admin:
        raise invalid("Only ROOT admins can access system offerings.")
    found = [o for o in ctx.store.all("offering") if not o["removed"] and state in (None, o["state"])
             and bool(o.get("issystem")) == bool(values.get("issystem"))
             and values.get("systemvmtype") in (None, o.get("systemvmtype"))]
    if "id" in values:
        found = [o for o in found if o["id"] == values["id"]["id"]]
    if "name" in values:
        found = [o for o in found if o["name"] == values["name"]]
    if values.get("keyword"):
        keyword = values["keyword"].lower()
        found = [o for o in found if keyword in o["name"].lower() or keyword in o["displaytext"].lower()]
    found = [o for o in found if offering_visible(ctx, o)]
    if "zoneid" in values:
        found = [o for o in found if not o.get("zone_ids") or values["zoneid"]["id"] in o["zone_ids"]]
    for key, bounds in (("cpunumber", BOUNDS[:2]), ("memory", BOUNDS[2:])):
        if key in values:
            found = [o for o in found if within(o, key, bounds, values[key])]
    if "cpuspeed" in values:
        found = [o for o in found if o["cpuspeed"] is None or o["cpuspeed"] >= values["cpuspeed"]]
    if "virtualmachineid" in values:
        found = offers_for_vm(ctx, ctx.check_access(values["virtualmachineid"]), found)
    found.sort(key=lambda o: (o.get("sortkey", 0), o["id"]))
    return listing("serviceoffering", [offering_body(ctx, o) for o in found], values)


def offering_body(ctx, offering):
    """The ServiceOfferingResponse of the running version: 4.18's has no ``state`` (PR #8821 added it in 4.19)."""
    body = offering_response(ctx.store, offering)
    if not ctx.app.version.offering_states:
        body.pop("state", None)
    return body


@command("createServiceOffering", admin=True, roles=DOMAIN_ADMINS, params=(
    param("name", required=True), param("displaytext"), param("cpunumber", "integer"),
    param("cpuspeed", "integer"), param("memory", "integer"), param("offerha", "boolean"),
    param("limitcpuuse", "boolean"), param("isvolatile", "boolean"), param("storagetype"), param("tags"),
    param("hosttags"), param("domainid", "list", entity="domain"), param("zoneid", "list", entity="zone"),
    param("issystem", "boolean"), param("systemvmtype"),
    param("networkrate", "integer"), param("serviceofferingdetails", "map"), param("customized", "boolean"),
    param("mincpunumber", "integer"), param("maxcpunumber", "integer"), param("minmemory", "integer"),
    param("maxmemory", "integer"), param("dynamicscalingenabled", "boolean")),
    fields=OFFERING_FIELDS)
def create_service_offering(ctx, values):
    """Creates a service offering, public or for the given domains and zones."""
    record = build_offering(ctx.app, values)
    record["domain_ids"] = child_filtered(ctx.store, [d["id"] for d in values.get("domainid", [])])
    record["zone_ids"] = list(dict.fromkeys(z["id"] for z in values.get("zoneid", [])))
    if ctx.caller.role == "DomainAdmin":
        check_domain_admin_create(ctx, record["domain_ids"], values)
    offering = ctx.store.add("offering", record)
    ctx.app.event(ctx.caller.account, "SERVICE.OFFERING.CREATE", f"Service offering {offering['name']} created")
    return {"serviceoffering": offering_body(ctx, offering)}


@command("updateServiceOffering", admin=True, roles=DOMAIN_ADMINS, params=(
    param("id", "uuid", required=True, entity="offering"), param("name"), param("displaytext"),
    param("sortkey", "integer"), param("hosttags"), param("storagetags"), param("state", since=STATE_SINCE),
    param("domainid"),
    param("zoneid")), fields=OFFERING_FIELDS)
def update_service_offering(ctx, values):
    """Updates a service offering (name, display text, host tags, state, domains, zones; never its size)."""
    offering, store = values["id"], ctx.store
    domain_ids = resolve_ids(store, values.get("domainid"), "domain", "public", offering["domain_ids"])
    zone_ids = resolve_ids(store, values.get("zoneid"), "zone", "all", offering["zone_ids"])
    given = values.get("state", "")
    state = {"active": "Active", "inactive": "Inactive"}.get(given.lower())
    if given and state is None:
        raise invalid(f"Invalid state value: {values['state']}")
    domain_ids = child_filtered(store, domain_ids)
    if domain_ids and any(vm["offering_id"] == offering["id"] and vm["state"] not in ("Destroyed", "Expunging")
                          and vm["domain_id"] not in domain_ids for vm in store.all("vm")):
        raise runtime("There are Instances associated to this service offering outside of the specified domains.")
    if ctx.caller.role == "DomainAdmin":
        domain_ids = check_domain_admin_update(ctx, offering, domain_ids, zone_ids, values)
    for key in ("name", "displaytext", "hosttags", "sortkey"):
        if key in values:
            offering[key] = values[key]
    offering.update(domain_ids=domain_ids, zone_ids=zone_ids, state=state or offering["state"])
    store.save("offering", offering)
    return {"serviceoffering": offering_body(ctx, offering)}


@command("deleteServiceOffering", admin=True, roles=DOMAIN_ADMINS, params=(param("id", "uuid", required=True, entity="offering"),),
         fields=("success",))
def delete_service_offering(ctx, values):
    """Deletes a service offering (VMs using it keep it)."""
    offering = values["id"]
    if ctx.caller.role == "DomainAdmin":
        user, name = user_to_string(ctx.caller.user), offering_to_string(offering)
        if not offering["domain_ids"]:
            raise invalid(f"Unable to delete public service offering: {name} by admin: {user} because it is domain-admin")
        if not all(in_subtree(ctx.store.get("domain", oid), ctx.caller.domain) for oid in offering["domain_ids"]):
            raise invalid(f"Unable to delete service offering: {name} as it has linked domain(s) which are not child"
                          f" domain for domain-admin: {user}")
    offering["removed"] = True
    ctx.store.save("offering", offering)
    return {"success": True}

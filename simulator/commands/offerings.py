"""Service offerings: list/create/update/deleteServiceOffering (spec 2.6-2.8)."""

from simulator.errors import invalid
from simulator.model import is_dynamic, vm_size
from simulator.registry import DOMAIN_ADMINS, LIST_PARAMS, by_id_and_name, command, listing, param
from simulator.views import offering_response

INT_MAX = 2147483647
BOUNDS = ("mincpunumber", "maxcpunumber", "minmemory", "maxmemory")
OFFERING_FIELDS = ("id", "name", "state", "displaytext", "cpunumber", "cpuspeed", "memory", "created", "storagetype",
                   "provisioningtype", "offerha", "limitcpuuse", "isvolatile", "hosttags", "issystem", "defaultuse",
                   "networkrate", "iscustomizediops", "serviceofferingdetails", "iscustomized",
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
            check_custom_bounds(name, bounds)
            details.update({key: str(value) for key, value in bounds.items()})
    else:
        check_fixed(app, name, cpu, speed, memory)
    return {"name": name, "displaytext": values.get("displaytext") or name, "cpunumber": cpu, "cpuspeed": speed,
            "memory": memory, "customized": customized, "offerha": flag(values, "offerha", False),
            "limitcpuuse": flag(values, "limitcpuuse", False), "isvolatile": flag(values, "isvolatile", False),
            "storagetype": values.get("storagetype") or "shared", "hosttags": values.get("hosttags") or "",
            "networkrate": optional_int(values, "networkrate"),
            "dynamicscalingenabled": flag(values, "dynamicscalingenabled", True), "details": details,
            "state": "Active", "issystem": False, "removed": False, "created": app.now()}


def check_custom_bounds(name, bounds):
    """Min/max of a custom constrained offering."""
    if bounds["mincpunumber"] < 1 or bounds["maxcpunumber"] < bounds["mincpunumber"]:
        raise invalid(f"Failed to create service offering {name}: specify the minimum cpu number of at least 1 and"
                      " a maximum cpu number not below it")
    if bounds["minmemory"] < 32 or bounds["maxmemory"] < bounds["minmemory"]:
        raise invalid(f"Failed to create service offering {name}: specify the minimum memory of at least 32 MB and"
                      " a maximum memory not below it")


def check_fixed(app, name, cpu, speed, memory):
    """A fixed offering needs cpu number, speed and memory in range."""
    cores_max = app.settings.integer("vm.serviceoffering.cpu.cores.max") or INT_MAX
    ram_max = app.settings.integer("vm.serviceoffering.ram.size.max") or INT_MAX
    if cpu is None or not 1 <= cpu <= cores_max:
        raise invalid(f"Failed to create service offering {name}: specify the cpu number value between 1 and"
                      f" {cores_max}")
    if speed is None or not 0 <= speed <= INT_MAX:
        raise invalid(f"Failed to create service offering {name}: specify the cpu speed value between 0 and {INT_MAX}")
    if memory is None or not 32 <= memory <= ram_max:
        raise invalid(f"Failed to create service offering {name}: specify the memory value between 32 and {ram_max} MB")


def offers_for_vm(ctx, vm, offerings):
    """The virtualmachineid filter of listServiceOfferings (spec 2.8)."""
    current = ctx.store.get("offering", vm["offering_id"])
    cores, speed, memory = vm_size(ctx.store, vm)
    host = ctx.store.get("host", vm.get("host_id"))
    kept = []
    for offering in offerings:
        if offering["id"] == current["id"] and not is_dynamic(offering):
            continue
        tags = {tag for tag in offering["hosttags"].split(",") if tag}
        if host and not ctx.settings.boolean("allow.different.host.tags.offerings.for.vm.scale") \
                and not tags <= set(host["tags"]):
            continue
        if vm["state"] == "Running":
            max_cpu = offering["cpunumber"] or int(offering["details"].get("maxcpunumber", INT_MAX))
            if max_cpu < cores or (offering["cpuspeed"] or INT_MAX) < speed \
                    or (offering["memory"] or INT_MAX) < memory \
                    or offering["dynamicscalingenabled"] != current["dynamicscalingenabled"]:
                continue
        kept.append(offering)
    return kept


@command("listServiceOfferings", params=(
    param("id", "uuid", entity="offering"), param("name"), param("virtualmachineid", "uuid", entity="vm"),
    param("issystem", "boolean"), param("state"), param("cpunumber", "integer"), param("memory", "integer"),
    param("cpuspeed", "integer"), param("zoneid", "uuid", entity="zone"), param("domainid", "uuid", entity="domain"),
    param("account"), param("isrecursive", "boolean"), param("projectid")) + LIST_PARAMS,
    fields=OFFERING_FIELDS)
def list_service_offerings(ctx, values):
    """Lists all available service offerings."""
    state = values.get("state", "Active")
    found = [o for o in ctx.store.all("offering") if not o["removed"] and (state.lower() == "all" or o["state"] == state)]
    if values.get("issystem"):
        found = []
    found = by_id_and_name(found, values)
    for key in ("cpunumber", "memory", "cpuspeed"):
        if key in values:
            found = [o for o in found if o[key] is None or o[key] >= values[key]]
    if "virtualmachineid" in values:
        found = offers_for_vm(ctx, ctx.check_access(values["virtualmachineid"]), found)
    return listing("serviceoffering", [offering_response(o) for o in found], values)


@command("createServiceOffering", admin=True, roles=DOMAIN_ADMINS, params=(
    param("name", required=True), param("displaytext"), param("cpunumber", "integer"),
    param("cpuspeed", "integer"), param("memory", "integer"), param("offerha", "boolean"),
    param("limitcpuuse", "boolean"), param("isvolatile", "boolean"), param("storagetype"), param("tags"),
    param("hosttags"), param("domainid", "list"), param("zoneid", "list"), param("issystem", "boolean"),
    param("networkrate", "integer"), param("serviceofferingdetails", "map"), param("customized", "boolean"),
    param("mincpunumber", "integer"), param("maxcpunumber", "integer"), param("minmemory", "integer"),
    param("maxmemory", "integer"), param("dynamicscalingenabled", "boolean")),
    fields=OFFERING_FIELDS)
def create_service_offering(ctx, values):
    """Creates a service offering."""
    offering = ctx.store.add("offering", build_offering(ctx.app, values))
    ctx.app.event(ctx.caller.account, "SERVICE.OFFERING.CREATE", f"Service offering {offering['name']} created")
    return {"serviceoffering": offering_response(offering)}


@command("updateServiceOffering", admin=True, roles=DOMAIN_ADMINS, params=(
    param("id", "uuid", required=True, entity="offering"), param("name"), param("displaytext"),
    param("sortkey", "integer"), param("hosttags"), param("storagetags"), param("state"), param("domainid"),
    param("zoneid")), fields=OFFERING_FIELDS)
def update_service_offering(ctx, values):
    """Updates a service offering (name, display text, host tags, state; never its size)."""
    offering = values["id"]
    if "state" in values and values["state"] not in ("Active", "Inactive"):
        raise invalid(f"Invalid state value {values['state']}: use Active or Inactive")
    for key in ("name", "displaytext", "hosttags", "state"):
        if key in values:
            offering[key] = values[key]
    ctx.store.save("offering", offering)
    return {"serviceoffering": offering_response(offering)}


@command("deleteServiceOffering", admin=True, roles=DOMAIN_ADMINS, params=(param("id", "uuid", required=True, entity="offering"),),
         fields=("success",))
def delete_service_offering(ctx, values):
    """Deletes a service offering (VMs using it keep it)."""
    offering = values["id"]
    offering["removed"] = True
    ctx.store.save("offering", offering)
    return {"success": True}

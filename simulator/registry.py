"""Command registry: parameter declarations, synchronous validation (spec 1.4) and list envelopes."""

import re
from collections import namedtuple

from simulator.errors import invalid, server

Param = namedtuple("Param", "name type required entity description since required_before")
Command = namedtuple("Command", "name handler params isasync admin roles response_name cmdclass fields description")
# Roles besides the root admin that may call a command: CloudStack's default role permissions
# (create-default-role-api-mappings.sql and the schema upgrades; role 3 Domain Admin, role 4 User).
EVERYONE = ("DomainAdmin", "User")
DOMAIN_ADMINS = ("DomainAdmin",)
ROOT_ONLY = ()

COMMANDS = {}
INT_RANGE = {"integer": 2147483647, "long": 9223372036854775807, "short": 32767}
MAP_KEY = re.compile(r"^([^\[\]]+)\[(\d+)\]\.([^\[\]]+)$")


def param(name, kind="string", required=False, entity=None, description="", since=None, required_before=None):
    """Declare a parameter: kind is uuid/string/integer/long/boolean/map/list/date; entity is a store kind.

    ``since``: the first CloudStack version (a tuple, e.g. (4, 22, 1)) whose Cmd declares it (@Parameter since);
    ``required_before``: the version from which it is optional, required before it."""
    return Param(name, kind, required, entity, description or name, since, required_before)


def declared(cmd, version):
    """The command's parameters as the simulated CloudStack ``version`` (a tuple of numbers) declares them: without
    those it does not have yet, each with its ``required`` flag of that version."""
    return [spec._replace(required=spec.required or bool(spec.required_before and version < spec.required_before))
            for spec in cmd.params if not (spec.since and version < spec.since)]


def command(name, params=(), isasync=False, admin=False, roles=EVERYONE, response_name=None, cmdclass=None,
            fields=(), description=""):
    """Register a handler `func(ctx, values)`; admin: the class exists only in api.command.admin."""
    def register(func):
        COMMANDS[name.lower()] = Command(name, func, tuple(params), isasync, admin, tuple(roles),
                                         response_name or name.lower() + "response", cmdclass, tuple(fields),
                                         description or func.__doc__ or name)
        return func
    return register


def lookup(name):
    """The registered command for a (case-insensitive) name, or None."""
    return COMMANDS.get((name or "").lower())


def allowed(cmd, role):
    """Whether an account of this role may call the command (the root admin may call all)."""
    return role == "Admin" or role in cmd.roles


def split_params(raw):
    """Lower-case plain names; collect name[i].field into maps. Returns (plain, maps); 430 on bad keys."""
    plain, maps = {}, {}
    for key, value in raw:
        if "[" not in key and "]" not in key:
            plain.setdefault(key.lower(), value)
            continue
        match = MAP_KEY.match(key)
        if not match:
            raise server(430, f"Unable to decode parameter {key}; if specifying an object array, please use"
                              " parameter[index].field=XXX, e.g. userGroupList[0].group=httpGroup")
        name, index, field = match.group(1).lower(), int(match.group(2)), match.group(3)
        maps.setdefault(name, {}).setdefault(index, {}).setdefault(field, value)
    return plain, maps


def validate(cmd, plain, maps, store, version):
    """Typed values for the parameters ``version`` declares (``declared``), or 431 with ParamProcessWorker's texts;
    the others are ignored, as CloudStack ignores unknown parameters.

    ParamProcessWorker.processParameters: a missing or malformed value is a ServerApiException (cserrorcode 9999);
    an empty required one fails validateNonEmptyString with an InvalidParameterValueException (cserrorcode 4350).
    """
    short = cmd.response_name[:-len("response")]
    values = {}
    for spec in declared(cmd, version):
        if spec.type == "map":
            entries = maps.get(spec.name)
            if entries:
                values[spec.name] = [entries[i] for i in sorted(entries)]
            elif spec.required:
                raise server(431, f"Unable to execute API command {short} due to missing parameter {spec.name}")
            continue
        raw = plain.get(spec.name)
        if raw is None:
            if spec.required:
                raise server(431, f"Unable to execute API command {short} due to missing parameter {spec.name}")
            continue
        if raw == "":
            if spec.required:
                raise invalid(f"Invalid value provided for API arg: {spec.name}")
            if spec.type != "string":
                continue  # CloudStack hands an empty optional STRING to the command as ""; the simulator skips others
        values[spec.name] = convert(short, spec, raw, store)
    return values


def convert(short, spec, raw, store):
    """One parameter value converted to its declared type."""
    if spec.type == "boolean":
        return raw.lower() == "true"
    if spec.type in INT_RANGE:
        try:
            number = int(raw)
        except ValueError:
            number = None
        if number is None or abs(number) > INT_RANGE[spec.type]:
            raise server(431, f"Unable to execute API command {short} due to invalid value {raw} for parameter {spec.name}")
        return number
    if spec.type == "list":
        items = [item for item in raw.split(",") if item]
        return [entity(short, spec, item, store) for item in items] if spec.entity else items
    if spec.type == "uuid" and spec.entity:
        return entity(short, spec, raw, store)
    return raw


def entity(short, spec, raw, store):
    """The stored object a uuid parameter names, or ParamProcessWorker's 431.

    ParamProcessWorker.translateUuidToInternalId passes "-1" through as the id -1 (for a project: "every project").
    The simulator stores no projects, so any other project id fails as an unknown one does in CloudStack.
    """
    if raw == "-1" and spec.entity == "project":
        return -1
    obj = store.by_uuid(spec.entity, raw)
    if obj is None or obj.get("removed"):
        raise server(431, f"Unable to execute API command {short} due to invalid value. Invalid parameter"
                          f" {spec.name} value={raw} due to incorrect long value format, or entity does not"
                          " exist or due to incorrect parameter annotation for the field in api cmd class.")
    return obj


def listing(object_name, items, values):
    """A list response: {} when empty, else count plus the (paged) items."""
    if not items:
        return {}
    page, pagesize = values.get("page"), values.get("pagesize")
    shown = items
    if pagesize:
        start = (max(page or 1, 1) - 1) * pagesize
        shown = items[start:start + pagesize]
    if not shown:
        return {"count": len(items)}
    return {"count": len(items), object_name: shown}


def by_id_and_name(found, values):
    """Apply the common list filters: id (exact), name (exact), keyword (substring of the name)."""
    if "id" in values:
        found = [obj for obj in found if obj["id"] == values["id"]["id"]]
    if "name" in values:
        found = [obj for obj in found if obj["name"] == values["name"]]
    if "keyword" in values:
        found = [obj for obj in found if values["keyword"].lower() in obj["name"].lower()]
    return found


PROJECT_ID = param("projectid", "uuid", entity="project")  # BaseListProjectAndAccountResourcesCmd: ProjectResponse
PAGE_PARAMS = (param("keyword"), param("page", "integer"), param("pagesize", "integer"))  # BaseListCmd
LIST_PARAMS = PAGE_PARAMS + (param("listall", "boolean"),)  # BaseListDomainResourcesCmd and below

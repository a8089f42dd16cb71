"""Command registry: parameter declarations, synchronous validation (spec 1.4) and list envelopes."""

import re
from collections import namedtuple

from simulator.errors import server

Param = namedtuple("Param", "name type required entity description")
Command = namedtuple("Command", "name handler params isasync admin response_name cmdclass fields description")

COMMANDS = {}
INT_RANGE = {"integer": 2147483647, "long": 9223372036854775807, "short": 32767}
MAP_KEY = re.compile(r"^([^\[\]]+)\[(\d+)\]\.([^\[\]]+)$")


def param(name, kind="string", required=False, entity=None, description=""):
    """Declare a parameter: kind is uuid/string/integer/long/boolean/map/list/date; entity is a store kind."""
    return Param(name, kind, required, entity, description or name)


def command(name, params=(), isasync=False, admin=False, response_name=None, cmdclass=None, fields=(),
            description=""):
    """Register a handler `func(ctx, values)` for an API command."""
    def register(func):
        COMMANDS[name.lower()] = Command(name, func, tuple(params), isasync, admin,
                                         response_name or name.lower() + "response", cmdclass, tuple(fields),
                                         description or func.__doc__ or name)
        return func
    return register


def lookup(name):
    """The registered command for a (case-insensitive) name, or None."""
    return COMMANDS.get((name or "").lower())


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


def validate(cmd, plain, maps, store):
    """Typed values for the declared parameters, or 431 with ParamProcessWorker's texts (cserrorcode 9999)."""
    short = cmd.response_name[:-len("response")]
    values = {}
    for spec in cmd.params:
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
                raise server(431, f"Invalid value provided for API arg: {spec.name}")
            continue
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
        return [item for item in raw.split(",") if item]
    if spec.type == "uuid" and spec.entity:
        obj = store.by_uuid(spec.entity, raw)
        if obj is None or obj.get("removed"):
            raise server(431, f"Unable to execute API command {short} due to invalid value. Invalid parameter"
                              f" {spec.name} value={raw} due to incorrect long value format, or entity does not"
                              " exist or due to incorrect parameter annotation for the field in api cmd class.")
        return obj
    return raw


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


LIST_PARAMS = (param("keyword"), param("page", "integer"), param("pagesize", "integer"), param("listall", "boolean"))

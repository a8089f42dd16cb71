"""VM usage history (the metrics plugin's listVirtualMachinesUsageHistory); the simulator-only load and clock calls."""

import re
from datetime import datetime, timedelta, timezone

from simulator.errors import invalid, server
from simulator.metrics import CLOCK_META, LOAD_FIELDS, check_load, demand, format_time, stats_response
from simulator.model import vm_size
from simulator.registry import PAGE_PARAMS, ROOT_ONLY, command, param

ZONED_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?"
                        r"(Z|[+-]\d{2}:?\d{2})$")
# SimpleDateFormat: lenient, trailing text ignored
LOCAL_DATE = re.compile(r"^(\d+)-(\d+)-(\d+)(?: (\d+):(\d+):(\d+))?")
NEW_INPUT_DATE = re.compile(r"^\d+-\d+-\d+ \d+:\d+:\d+$")  # BaseCmd.newInputDateFormat
USAGE_HISTORY_PARAMS = (param("id", "uuid", entity="vm"), param("ids", "list", entity="vm"), param("name"),
                        param("startdate", "date"), param("enddate", "date")) + PAGE_PARAMS


def parse_date(short, name, raw):
    """ParamProcessWorker.parseAndSetDate, in UTC (the simulator's time zone).

    DateUtil.parseTZDateString (ISO 8601 with an offset or Z, or yyyy-MM-dd'T'HH:mm:ssZ) first; then
    "yyyy-MM-dd HH:mm:ss"; else "yyyy-MM-dd", a start date at 00:00:00 and an end date at 23:59:59. SimpleDateFormat
    is lenient: out-of-range fields roll over. Anything else answers 431.
    """
    zoned = ZONED_DATE.match(raw)
    if zoned:
        *fields, offset = zoned.groups()
        sign = -1 if offset.startswith("-") else 1
        digits = offset.replace(":", "")[1:] if offset != "Z" else "0000"
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:])) * sign
        try:
            return (datetime(*map(int, fields), tzinfo=timezone.utc) - shift).timestamp()
        except ValueError:
            pass  # java.time is strict: an impossible date is no ISO date; the lenient formats may still take it
    local = LOCAL_DATE.match(raw)
    if local is None:
        raise server(431, f"Unable to parse date {raw} for command {short}, please pass dates in the format"
                          " mentioned in the api documentation")
    year, month, day, hour, minute, second = (int(part or 0) for part in local.groups())
    if not NEW_INPUT_DATE.match(raw):
        hour, minute, second = (0, 0, 0) if name == "startdate" else (23, 59, 59)
    base = datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=timezone.utc)
    return (base + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second)).timestamp()


@command("listVirtualMachinesUsageHistory", params=USAGE_HISTORY_PARAMS, fields=("id", "name", "displayname", "stats"))
def list_virtual_machines_usage_history(ctx, values):
    """Lists VM stats"""
    short = "listvirtualmachinesusagehistory"
    start, end = (parse_date(short, name, values[name]) if name in values else None
                  for name in ("startdate", "enddate"))
    if "id" in values and values.get("ids"):  # MutualExclusiveIdsManagerBase.getIdsListFromCmd
        raise invalid("Specify either id or ids but not both parameters")
    vms = usage_history_vms(ctx, values)
    if start is not None and end is not None and start > end:  # MetricsServiceImpl.validateDateParams
        raise invalid("startDate cannot be after endDate.")
    page, pagesize = values.get("page"), values.get("pagesize")
    if pagesize:
        first = (max(page or 1, 1) - 1) * pagesize
        vms = vms[first:first + pagesize]
    answers = [{"id": vm["uuid"], "name": vm["name"], "displayname": vm.get("displayname"),
                "stats": [stats_response(when, data) for when, data in ctx.app.metrics.history(vm["id"], start, end)]}
               for vm in vms]
    return {"count": len(answers), "virtualmachine": answers} if answers else {}  # count: this page's VMs


def usage_history_vms(ctx, values):
    """MetricsServiceImpl.searchForUserVmsInternal: the VMs of the accounts the caller may see (admins: their domain
    tree, recursively), by id or ids, displayName LIKE %name%, and keyword (displayName LIKE or state equal), id order.
    Destroyed VMs are listed until they are expunged."""
    found = [vm for vm in ctx.store.all("vm") if vm["account_id"] in ctx.visible_accounts]
    wanted = {values["id"]["id"]} if "id" in values else {vm["id"] for vm in values.get("ids") or []}
    if wanted:
        found = [vm for vm in found if vm["id"] in wanted]
    if values.get("name"):
        found = [vm for vm in found if values["name"].lower() in (vm.get("displayname") or "").lower()]
    if values.get("keyword", "").strip():
        keyword = values["keyword"].lower()
        found = [vm for vm in found
                 if keyword in (vm.get("displayname") or "").lower() or vm["state"].lower() == keyword]
    return found


def load_response(ctx, vm):
    """A VM's load spec and its demand in cores now."""
    load = vm.get("load") or check_load(None)
    now = ctx.app.clock()
    return {"id": vm["uuid"], "name": vm["name"], **{k: v for k, v in load.items() if v is not None},
            "demand": round(demand(load, now, ctx.app.clock.start, vm["uuid"]), 6), "timestamp": format_time(now)}


@command("simulatorSetVmLoad", roles=ROOT_ONLY, admin=True, response_name="simulatorsetvmloadresponse",
         params=(param("id", "uuid", required=True, entity="vm"), param("profile", required=True))
         + tuple(param(name) for name in LOAD_FIELDS), fields=("vmload",),
         description="Simulator only: sets the CPU demand profile (and guest memory use) of a VM from now on")
def simulator_set_vm_load(ctx, values):
    """Simulator only: sets a VM's load profile (see simulator/README.md)."""
    vm = values["id"]
    spec = {"profile": values["profile"], **{name: values[name] for name in LOAD_FIELDS if name in values}}
    try:
        vm["load"] = check_load(spec, vm_size(ctx.store, vm)[2])
    except ValueError as err:
        raise invalid(str(err)) from None
    ctx.store.save("vm", vm)
    return {"vmload": load_response(ctx, vm)}


@command("simulatorListVmLoads", roles=ROOT_ONLY, admin=True, params=(param("id", "uuid", entity="vm"),),
         fields=("vmload",), description="Simulator only: lists VM load profiles and the demand in cores now")
def simulator_list_vm_loads(ctx, values):
    """Simulator only: every VM's load profile and its demand now."""
    vms = [values["id"]] if "id" in values else ctx.store.all("vm")
    answers = [load_response(ctx, vm) for vm in vms]
    return {"count": len(answers), "vmload": answers} if answers else {}


AGENT_ANSWERS = "Simulator only: what the host agents answered about VMs, newest first (what management-server.log shows)"


@command("simulatorListAgentAnswers", roles=ROOT_ONLY, admin=True, params=(param("id", "uuid", entity="vm"),),
         fields=("agentanswer",), description=AGENT_ANSWERS)
def simulator_list_agent_answers(ctx, values):
    """Simulator only: the agents' answers (a failed scale's reason among them), newest first."""
    rows = [row for row in ctx.store.all("agentanswer") if "id" not in values or row["vm_uuid"] == values["id"]["uuid"]]
    answers = [{"id": row["vm_uuid"], "level": row["level"], "answer": row["answer"], "created": row["created"]}
               for row in reversed(rows)]
    return {"count": len(answers), "agentanswer": answers} if answers else {}


@command("simulatorAdvanceClock", roles=ROOT_ONLY, admin=True,
         params=(param("minutes", "long"), param("seconds", "long")), fields=("clock",),
         description="Simulator only: moves the simulated clock forward, taking the VM stats of the skipped time")
def simulator_advance_clock(ctx, values):
    """Simulator only: moves the simulated clock forward (minutes and/or seconds, at least 0)."""
    minutes, seconds = values.get("minutes", 0), values.get("seconds", 0)
    if minutes < 0 or seconds < 0:
        raise invalid("The clock only moves forward: minutes and seconds must not be negative")
    app = ctx.app
    app.clock.advance(minutes * 60 + seconds)
    app.store.set_meta(CLOCK_META, app.clock.state())
    app.metrics.collect()
    return {"clock": {"now": app.now(), "speed": app.clock.speed, "start": format_time(app.clock.start)}}

"""queryAsyncJobResult, listAsyncJobs and listApis."""

import re

from simulator.errors import denied, invalid
from simulator.model import account_to_string
from simulator.registry import COMMANDS, LIST_PARAMS, allowed, command, listing, param

JOB_FIELDS = ("accountid", "account", "domainid", "domainpath", "userid", "cmd", "jobstatus", "jobprocstatus",
              "jobresultcode", "jobresulttype", "jobresult", "jobinstancetype", "jobinstanceid", "created",
              "completed", "jobid", "managementserverid", "managementservername")


# ApiCommandResourceType values whose objects the simulator keeps (store kind), for resourcetype/resourceid
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RESOURCE_KINDS = {"virtualmachine": "vm", "host": "host", "serviceoffering": "offering", "template": "template",
                  "zone": "zone", "account": "account", "domain": "domain"}


def job_resource(ctx, values):
    """(store kind, object) named by resourcetype + resourceid, or (None, None); ResourceIdSupport's 431 texts."""
    kind_name, uuid = values.get("resourcetype", "").strip(), values.get("resourceid", "").strip()
    if uuid and not UUID_TEXT.match(uuid):
        raise invalid("Invalid value provided for API arg: resourceid")
    if not kind_name and not uuid:
        return None, None
    if kind_name and kind_name.lower() not in RESOURCE_KINDS:
        raise invalid("Invalid resourcetype")
    if not kind_name or not uuid:
        raise invalid("Both resourceid and resourcetype required")
    obj = ctx.store.by_uuid(RESOURCE_KINDS[kind_name.lower()], uuid)
    if obj is None:
        raise invalid("Invalid resourceid")
    if obj.get("account_id") is not None:
        ctx.check_access(obj)
    return kind_name, obj


@command("queryAsyncJobResult", params=(param("jobid", "uuid", entity="job"), param("resourceid"),
                                        param("resourcetype")), fields=JOB_FIELDS)
def query_async_job_result(ctx, values):
    """Retrieves the current status of an asynchronous job, by job id or by the resource it is about."""
    kind_name, obj = job_resource(ctx, values)
    job = values.get("jobid")
    if job is None and obj is None:
        raise invalid("Expected parameter job id or parameters resource type and resource id")
    found = [j for j in ctx.store.all("job") if (job is None or j["id"] == job["id"])
             and (obj is None or (j["instanceid"] == obj["uuid"] and (j["instancetype"] or "").lower()
                                  == kind_name.lower()))]
    if not found:
        raise invalid(f"Unable to find a job by id {job['id'] if job else None} resource type"
                      f" {values.get('resourcetype')} resource id {values.get('resourceid')}")
    job = found[-1]
    caller = ctx.caller
    if caller.role == "User" and job["account_id"] != caller.account["id"]:
        raise denied(f"Account {account_to_string(caller.account)} is not authorized to see job id={job['id']}")
    ctx.check_account(job["account_id"])
    return ctx.app.jobs.response(job)


@command("listAsyncJobs", params=(param("startdate", "date"), param("account"),
                                  param("domainid", "uuid", entity="domain")) + LIST_PARAMS, fields=JOB_FIELDS)
def list_async_jobs(ctx, values):
    """Lists the caller's jobs (all visible ones with listall=true)."""
    accounts = ctx.visible_accounts if values.get("listall") else {ctx.caller.account["id"]}
    jobs = [job for job in ctx.store.all("job") if job["account_id"] in accounts
            and job["created"] >= values.get("startdate", "")]
    return listing("asyncjobs", [ctx.app.jobs.response(job) for job in jobs], values)


def api_description(cmd):
    """One listApis entry: name, async flag, parameters and response fields."""
    return {"name": cmd.name, "description": cmd.description.strip().splitlines()[0], "isasync": cmd.isasync,
            "params": [{"name": p.name, "description": p.description, "type": p.type, "length": 255,
                        "required": p.required} for p in cmd.params],
            "response": [{"name": field, "description": field} for field in cmd.fields]}


@command("listApis", params=(param("name"),), fields=("name", "description", "isasync", "params", "response"))
def list_apis(ctx, values):
    """Lists the APIs this simulator implements and the caller may use."""
    found = [cmd for cmd in COMMANDS.values() if allowed(cmd, ctx.caller.role)]
    if "name" in values:
        found = [cmd for cmd in found if cmd.name.lower() == values["name"].lower()]
    return listing("api", [api_description(cmd) for cmd in sorted(found, key=lambda c: c.name)], values)

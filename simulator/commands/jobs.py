"""queryAsyncJobResult, listAsyncJobs and listApis."""

from simulator.errors import denied
from simulator.registry import COMMANDS, LIST_PARAMS, command, listing, param

JOB_FIELDS = ("accountid", "account", "domainid", "domainpath", "userid", "cmd", "jobstatus", "jobprocstatus",
              "jobresultcode", "jobresulttype", "jobresult", "jobinstancetype", "jobinstanceid", "created",
              "completed", "jobid", "managementserverid", "managementservername")


@command("queryAsyncJobResult", params=(param("jobid", "uuid", required=True, entity="job"),), fields=JOB_FIELDS)
def query_async_job_result(ctx, values):
    """Retrieves the current status of an asynchronous job."""
    job = values["jobid"]
    if job["account_id"] not in ctx.visible_accounts:
        raise denied(f"Account {ctx.caller.account['name']} does not have permission to view job {job['uuid']}")
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
    found = [cmd for cmd in COMMANDS.values() if ctx.caller.is_root_admin or not cmd.admin]
    if "name" in values:
        found = [cmd for cmd in found if cmd.name.lower() == values["name"].lower()]
    return listing("api", [api_description(cmd) for cmd in sorted(found, key=lambda c: c.name)], values)

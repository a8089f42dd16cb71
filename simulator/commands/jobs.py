"""queryAsyncJobResult, listAsyncJobs and listApis."""

import re

from simulator.errors import denied, invalid
from simulator.model import account_to_string
from simulator.registry import COMMANDS, LIST_PARAMS, allowed, command, declared, listing, param

JOB_FIELDS = ("accountid", "account", "domainid", "domainpath", "userid", "cmd", "jobstatus", "jobprocstatus",
              "jobresultcode", "jobresulttype", "jobresult", "jobinstancetype", "jobinstanceid", "created",
              "completed", "jobid", "managementserverid", "managementservername")


UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# ApiCommandResourceType values whose objects the simulator keeps: the store kinds of the type's associated class
# (EntityManager.findByUuidIncludingRemoved; VirtualMachine, SystemVm and ConsoleProxy all name the VirtualMachine
# class, Template and Iso the VirtualMachineTemplate class)
VM_INSTANCES = ("vm", "systemvm")
RESOURCE_KINDS = {"virtualmachine": VM_INSTANCES, "systemvm": VM_INSTANCES, "consoleproxy": VM_INSTANCES,
                  "template": ("template",), "iso": ("template",), "host": ("host",), "serviceoffering": ("offering",),
                  "zone": ("zone",), "pod": ("pod",), "cluster": ("cluster",), "account": ("account",),
                  "user": ("user",), "domain": ("domain",), "network": ("network",),
                  "affinitygroup": ("affinitygroup",)}


def find_resource(store, type_name, uuid):
    """The object of an ApiCommandResourceType name (any case) and uuid, or None."""
    found = (store.by_uuid(kind, uuid) for kind in RESOURCE_KINDS.get(type_name.lower(), ()))
    return next((obj for obj in found if obj is not None), None)


def job_resource(ctx, values):
    """(store kind, object) named by resourcetype + resourceid, or (None, None); ResourceIdSupport's 431 texts."""
    kind_name, uuid = values.get("resourcetype", "").strip(), values.get("resourceid", "").strip()
    if uuid and not UUID_TEXT.match(uuid):
        raise invalid("Invalid value provided for API arg: resourceid")
    if not kind_name and not uuid:
        return None, None
    if kind_name and kind_name.lower() not in RESOURCE_TYPE_NAMES:
        raise invalid("Invalid resourcetype")
    if not kind_name or not uuid:
        raise invalid("Both resourceid and resourcetype required")
    obj = find_resource(ctx.store, kind_name, uuid)
    if obj is None:
        raise invalid("Invalid resourceid")
    if obj.get("account_id") is not None:
        ctx.check_access(obj)
    return kind_name, obj


# QueryAsyncJobResultCmd / ListAsyncJobsCmd: resourceid and resourcetype since="4.22.1" (jobid required before)
RESOURCE_PARAMS_SINCE = (4, 22, 1)


@command("queryAsyncJobResult", params=(
    param("jobid", "uuid", entity="job", required_before=RESOURCE_PARAMS_SINCE),
    param("resourceid", since=RESOURCE_PARAMS_SINCE), param("resourcetype", since=RESOURCE_PARAMS_SINCE)),
    fields=JOB_FIELDS)
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


# ApiCommandResourceType constant names (its fromString ignores case); the names a job's instance type may have
RESOURCE_TYPES = tuple("""
None VirtualMachine DomainRouter Volume ConsoleProxy Snapshot Backup Template Iso SystemVm Host StoragePool
ImageStore IpAddress PortableIpAddress SecurityGroup PhysicalNetwork TrafficType
PhysicalNetworkServiceProvider FirewallRule Account User PrivateGateway StaticRoute Counter Condition
AutoScalePolicy AutoScaleVmProfile AutoScaleVmGroup GlobalLoadBalancerRule LoadBalancerRule AffinityGroup
InternalLbVm DedicatedGuestVlanRange GuestOsCategory GuestOs GuestOsMapping Network NetworkAcl NetworkAclItem
Project Domain DiskOffering ServiceOffering NetworkOffering VpcOffering BackupOffering Zone Vpc Cluster Pod
VmSnapshot Role VpnCustomerGateway ManagementServer ObjectStore Bucket QuotaTariff KubernetesCluster
KubernetesSupportedVersion SharedFS Extension ExtensionCustomAction
""".split())
RESOURCE_TYPE_NAMES = {name.lower(): name for name in RESOURCE_TYPES}  # ApiCommandResourceType.fromString


def job_filters(values):
    """listAsyncJobs' keyword (cmd LIKE) and resourcetype/resourceid filters with their 431 texts
    (QueryManagerImpl.searchForAsyncJobsInternal, ResourceIdSupport.getResourceType/getResourceUuid)."""
    keep = []
    if values.get("keyword"):
        keep.append(lambda job: values["keyword"].lower() in job["cmd"].lower())
    kind_name, uuid = values.get("resourcetype", "").strip(), values.get("resourceid", "").strip()
    if "resourceid" in values and not UUID_TEXT.match(uuid):  # ParamProcessWorker: validations = UuidString
        raise invalid("Invalid value provided for API arg: resourceid")
    if kind_name:
        if kind_name.lower() not in RESOURCE_TYPE_NAMES:
            raise invalid("Invalid resourcetype")
        keep.append(lambda job: (job["instancetype"] or "") == RESOURCE_TYPE_NAMES[kind_name.lower()])
        if uuid:
            keep.append(lambda job: job["instanceid"] == uuid)
    elif uuid:
        raise invalid("resourceid parameter must be used with resourcetype parameter")
    return keep


@command("listAsyncJobs", params=(param("startdate", "date"), param("account"),
                                  param("domainid", "uuid", entity="domain"),
                                  param("resourceid", since=RESOURCE_PARAMS_SINCE),
                                  param("resourcetype", since=RESOURCE_PARAMS_SINCE)) + LIST_PARAMS, fields=JOB_FIELDS)
def list_async_jobs(ctx, values):
    """Lists the caller's jobs (all visible ones with listall=true), by keyword, start date and resource."""
    accounts = ctx.visible_accounts if values.get("listall") else {ctx.caller.account["id"]}
    keep = job_filters(values)
    jobs = [job for job in ctx.store.all("job") if job["account_id"] in accounts
            and job["created"] >= values.get("startdate", "") and all(test(job) for test in keep)]
    return listing("asyncjobs", [ctx.app.jobs.response(job) for job in jobs], values)


def api_description(cmd, version):
    """One listApis entry: name, async flag, the parameters of the simulated version and response fields."""
    return {"name": cmd.name, "description": cmd.description.strip().splitlines()[0], "isasync": cmd.isasync,
            "params": [{"name": p.name, "description": p.description, "type": p.type, "length": 255,
                        "required": p.required} for p in declared(cmd, version)],
            "response": [{"name": field, "description": field} for field in cmd.fields]}


@command("listApis", params=(param("name"),), fields=("name", "description", "isasync", "params", "response"))
def list_apis(ctx, values):
    """Lists the APIs this simulator implements and the caller may use."""
    found = [cmd for cmd in COMMANDS.values() if allowed(cmd, ctx.caller.role)]
    if "name" in values:
        found = [cmd for cmd in found if cmd.name.lower() == values["name"].lower()]
    return listing("api", [api_description(cmd, ctx.app.version.number) for cmd in sorted(found, key=lambda c: c.name)],
                   values)

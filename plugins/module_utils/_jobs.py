# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the status of CloudStack's async jobs, and waiting on them (job_info).

Not a public API: it may change without notice. Jobs are read with C(queryAsyncJobResult) (one per job),
and waited on with ``CloudStackApi.wait_jobs`` (one round of requests per poll, bounded by wait_timeout).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    JOB_CANCELLED,
    JOB_FAILED,
    JOB_PENDING,
    JOB_SUCCEEDED,
    ApiError,
    CloudStackError,
    InvalidValue,
    JobFailed,
    JobStatusUnknown,
    JobTimeout,
    NotFound,
)

STATUSES = {JOB_PENDING: "pending", JOB_SUCCEEDED: "succeeded", JOB_FAILED: "failed", JOB_CANCELLED: "cancelled"}
ENDED_BADLY = ("failed", "cancelled")
# CloudStack's answer to a jobid it does not know (ApiDispatcher: "Invalid parameter jobid value=...")
PARAM_ERROR = 431
NOT_FOUND_HINT = ("give the job ids that the modules returned (jobid) or that listAsyncJobs lists for this account;"
                  " CloudStack removes ended jobs after job.expire.minutes")
JOBS_OPTION_SPEC = dict(
    jobs=dict(type="list", elements="str", required=True, aliases=["jobid", "job_ids"]),
    wait=dict(type="bool", default=True),
)


def read_job(api, jobid):
    """One job as CloudStack reports it (queryAsyncJobResult); NotFound naming the id when CloudStack does not know it."""
    try:
        return api.call("queryAsyncJobResult", action="read job %s" % jobid, jobid=jobid)
    except ApiError as exc:
        if exc.errorcode != PARAM_ERROR:
            raise
        raise NotFound("job", jobid, hint=NOT_FOUND_HINT)


def describe_job(job):
    """Plain data of one job: status, what it was about, and its result or error."""
    status = STATUSES.get(job.get("jobstatus"), "unknown")
    described = dict(jobid=job.get("jobid"), status=status, jobstatus=job.get("jobstatus"), command=job.get("cmd"),
                     instance_type=job.get("jobinstancetype"), instance_id=job.get("jobinstanceid"),
                     created=job.get("created"), completed=job.get("completed"))
    outcome = job.get("jobresult") or {}
    if status == "succeeded":
        described["result"] = outcome
    elif status in ENDED_BADLY:
        described["error"] = dict(errorcode=outcome.get("errorcode", job.get("jobresultcode")),
                                  errortext=outcome.get("errortext") or "job %s without an error text" % status)
    return described


def _counts(described):
    counts = dict((name, 0) for name in STATUSES.values())
    for job in described:
        counts[job["status"]] = counts.get(job["status"], 0) + 1
    return counts


def _report(jobs):
    described = [describe_job(job) for job in jobs]
    return {"changed": False, "jobs": described, "counts": _counts(described)}


def _failure(report):
    bad = [job for job in report["jobs"] if job["status"] in ENDED_BADLY]
    described = ["job %s (%s on %s %s) %s: %s" % (job["jobid"], job["command"], job["instance_type"], job["instance_id"],
                                                  job["status"], job["error"]["errortext"]) for job in bad]
    error = CloudStackError("%d of %d jobs did not succeed: %s" % (len(bad), len(report["jobs"]), "; ".join(described)))
    error.result = report
    return error


def job_info(module):
    """Read the jobs of the ``jobs`` option, wait on the pending ones with ``wait``; fail when one did not succeed."""
    api = module.api
    jobids = list(dict.fromkeys(module.params["jobs"]))
    if not jobids:
        raise InvalidValue("jobs=[] is empty: give the ids of the jobs to report (the jobid of a task that did not wait for its job)")
    jobs = [read_job(api, jobid) for jobid in jobids]
    pending = [job["jobid"] for job in jobs if job.get("jobstatus") == JOB_PENDING]
    if pending and module.params["wait"]:
        try:
            api.wait_jobs(pending, module.params["wait_timeout"], action="wait for jobs")
        except JobFailed:
            pass  # every job has ended: the failed ones are reported below
        except JobStatusUnknown as exc:
            exc.result = _report(jobs)
            raise
        except JobTimeout as exc:
            exc.result = _report([read_job(api, jobid) for jobid in jobids])
            raise
        jobs = [read_job(api, jobid) if jobid in pending else job for jobid, job in zip(jobids, jobs)]
    report = _report(jobs)
    if any(job["status"] in ENDED_BADLY for job in report["jobs"]):
        raise _failure(report)
    return report

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the CloudStack API layer over the ``cs`` client.

Not a public API: it may change without notice. Every failure is raised as one of the typed errors
below; only ``_module.py`` turns them into module failures. Async jobs are polled here with the
adaptive waiter of ``_wait`` (never with cs's own fixed-interval polling).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback

from ansible_collections.livescale.cloudstack.plugins.module_utils._wait import Waiter, WaitTimeout

CS_IMPORT_ERROR = None
try:
    from cs import CloudStack, CloudStackApiException, CloudStackException
    from requests.exceptions import RequestException
    HAS_CS = True
    # In cs 4.x CloudStackApiException does not derive from CloudStackException: catch both.
    _CLIENT_ERRORS = (CloudStackApiException, CloudStackException, RequestException)
except ImportError:
    CS_IMPORT_ERROR = traceback.format_exc()
    HAS_CS = False
    _CLIENT_ERRORS = ()

PAGE_SIZE = 500
JOB_PENDING = 0
JOB_SUCCEEDED = 1
JOB_FAILED = 2
JOB_CANCELLED = 3
_QUERY_STRING = re.compile(r"\?[^\s)'\"]*")


class CloudStackError(Exception):
    """Base of every error raised by the livescale.cloudstack helpers.

    ``result`` holds extra fields for the failed module result (e.g. the refused plan).
    """

    result = None


class ConfigurationError(CloudStackError):
    """Missing or invalid connection settings."""


class ApiError(CloudStackError):
    """CloudStack answered a command with an error."""

    def __init__(self, command, errortext, errorcode=None, cserrorcode=None, action=None):
        self.command = command
        self.errortext = errortext
        self.errorcode = errorcode
        self.cserrorcode = cserrorcode
        self.action = action
        super(ApiError, self).__init__(self._describe())

    def _codes(self):
        codes = "error %s" % self.errorcode if self.errorcode is not None else "an error"
        if self.cserrorcode is not None:
            codes += " (cserrorcode %s)" % self.cserrorcode
        return codes

    def _describe(self):
        return "%s: %s returned %s: %s" % (_failed(self.action), self.command, self._codes(), self.errortext)


class JobFailed(ApiError):
    """An async job ended with jobstatus 2 (failed) or 3 (cancelled); ``job`` is the last job dict."""

    def __init__(self, command, job, action=None):
        self.jobid = job.get("jobid")
        self.job = job
        result = job.get("jobresult") or {}
        errortext = result.get("errortext") if isinstance(result, dict) else None
        if not errortext:
            errortext = "job was cancelled" if job.get("jobstatus") == JOB_CANCELLED else "job failed without an error text"
        errorcode = result.get("errorcode", job.get("jobresultcode")) if isinstance(result, dict) else job.get("jobresultcode")
        super(JobFailed, self).__init__(command, errortext, errorcode=errorcode, action=action)

    def _describe(self):
        return "%s: async job %s of %s ended with %s: %s" % (_failed(self.action), self.jobid, self.command, self._codes(), self.errortext)


class JobTimeout(CloudStackError):
    """An async job was still running when the wait timed out."""

    def __init__(self, jobid, last_status, waited, action=None, command=None, pending=None):
        self.jobid = jobid
        self.last_status = last_status
        self.waited = waited
        self.action = action
        self.command = command
        self.pending = pending or [jobid]
        others = len(self.pending) - 1
        super(JobTimeout, self).__init__(
            "%s: async job %s%s still running after %.1f s (last jobstatus %s%s); raise wait_timeout or check the job with queryAsyncJobResult"
            % (_failed(action), jobid, " of %s" % command if command else "", waited, last_status.get("jobstatus", "unknown"),
               ", %d more job(s) pending" % others if others else ""))


class TransportError(CloudStackError):
    """The request did not get a CloudStack answer (connection refused, timeout, not an API endpoint)."""

    def __init__(self, command, reason, action=None):
        self.command = command
        self.reason = reason
        self.action = action
        super(TransportError, self).__init__("%s: %s got no CloudStack answer: %s" % (_failed(action), command, reason))


class InvalidValue(CloudStackError):
    """A module option has a value that cannot work; raised before anything is changed."""


class NotFound(CloudStackError):
    """No object of ``kind`` matches ``key``."""

    def __init__(self, kind, key, scope=None):
        self.kind = kind
        self.key = key
        self.scope = scope
        super(NotFound, self).__init__("%s %r not found%s" % (kind, key, " in %s" % scope if scope else ""))


class Ambiguous(CloudStackError):
    """Several objects of ``kind`` match ``key``; ``candidates`` lists them as "name (id)"."""

    def __init__(self, kind, key, candidates, scope=None):
        self.kind = kind
        self.key = key
        self.candidates = candidates
        self.scope = scope
        super(Ambiguous, self).__init__("%s %r is ambiguous%s: %s; give the id instead" % (
            kind, key, " in %s" % scope if scope else "", ", ".join(candidates)))


def _failed(action):
    return "%s failed" % action if action else "CloudStack request failed"


def _flat_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten_params(params):
    """CloudStack request parameters from Python values.

    None and empty collections are dropped, booleans become ``true``/``false``, lists of scalars are
    joined with commas, and maps (a dict, or a list of dicts) become ``name[i].field=value``.
    """
    flat = {}
    for name, value in params.items():
        if value is None or (isinstance(value, (list, tuple, dict)) and not value):
            continue
        if isinstance(value, dict):
            value = [value]
        if isinstance(value, (list, tuple)) and all(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                for field, field_value in item.items():
                    if field_value is not None:
                        flat["%s[%d].%s" % (name, index, field)] = _flat_value(field_value)
        elif isinstance(value, (list, tuple)):
            flat[name] = ",".join(_flat_value(item) for item in value)
        elif isinstance(value, (str, bool, int, float)):
            flat[name] = _flat_value(value)
        else:
            raise TypeError("parameter %s: cannot send a %s to CloudStack; use a string, number, bool, list or dict" % (name, type(value).__name__))
    return flat


class CloudStackApi:
    """Signed CloudStack API calls that raise typed errors and count every HTTP request."""

    def __init__(self, endpoint, key, secret, method="get", timeout=10, verify=True,
                 clock=time.monotonic, sleep=time.sleep, client=None, page_size=PAGE_SIZE):
        self.endpoint = endpoint
        self._secret = secret
        self.clock = clock
        self.sleep = sleep
        self.page_size = page_size
        self.api_calls = 0
        self._list_jobs_usable = True
        if client is None:
            # retry=0 and fetch_result=False: one client call is exactly one HTTP request.
            client = CloudStack(endpoint=endpoint, key=key, secret=secret, method=method, timeout=timeout,
                                verify=verify or None, dangerous_no_tls_verify=not verify, retry=0, fetch_result=False)
        self._client = client

    def _scrub(self, text):
        """Remove query strings (signed URLs) and the secret from a message."""
        text = _QUERY_STRING.sub("?...", str(text))
        if self._secret:
            text = text.replace(self._secret, "********")
        return text

    def _request(self, command, action, params):
        handler = getattr(self._client, command)
        self.api_calls += 1
        try:
            return handler(**flatten_params(params))
        except _CLIENT_ERRORS as exc:
            error = getattr(exc, "error", None)
            if isinstance(error, dict) and "errortext" in error:
                raise ApiError(command, self._scrub(error["errortext"]), errorcode=error.get("errorcode"),
                               cserrorcode=error.get("cserrorcode"), action=action)
            reason = " ".join(str(arg) for arg in exc.args) or type(exc).__name__
            raise TransportError(command, self._scrub(reason), action=action)

    def call(self, command, action=None, **params):
        """Run a sync command; returns the inner dict of ``<command>response``."""
        return self._request(command, action, params)

    def list(self, command, key, action=None, **params):
        """Run a list command through all its pages; returns the items under ``key`` ([] when none)."""
        items = []
        page = 1
        while True:
            data = self._request(command, action, dict(params, page=page, pagesize=self.page_size))
            chunk = data.get(key) or []
            items.extend(chunk)
            count = data.get("count")
            if len(chunk) < self.page_size or (count is not None and len(items) >= count):
                return items
            page += 1

    def submit(self, command, action=None, **params):
        """Start an async command; returns its job id."""
        data = self._request(command, action, params)
        jobid = data.get("jobid")
        if not jobid:
            raise ApiError(command, "expected an async job id, got the keys %s" % sorted(data), action=action)
        return jobid

    def wait_job(self, jobid, timeout, action=None, command=None):
        """Wait for one async job; returns its jobresult dict."""
        return self.wait_jobs([jobid], timeout, action=action, command=command)[jobid]

    def wait_jobs(self, jobids, timeout, action=None, command=None):
        """Wait for several async jobs with one round of requests per poll; returns {jobid: jobresult}.

        Waits until every job has ended (or the timeout), then raises JobFailed for the first failed
        job in the given order.
        """
        jobids = list(dict.fromkeys(jobids))
        ended = {}
        last = {}

        def all_ended():
            pending = [jobid for jobid in jobids if jobid not in ended]
            for jobid, job in self._job_states(pending, action).items():
                last[jobid] = job
                if job.get("jobstatus", JOB_PENDING) != JOB_PENDING:
                    ended[jobid] = job
            return len(ended) == len(jobids)

        if jobids:
            try:
                Waiter(timeout, clock=self.clock, sleep=self.sleep).until(all_ended, what="async jobs %s" % ", ".join(jobids))
            except WaitTimeout as exc:
                pending = [jobid for jobid in jobids if jobid not in ended]
                raise JobTimeout(pending[0], last.get(pending[0], {}), exc.waited, action=action, command=command, pending=pending)
        for jobid in jobids:
            if ended[jobid].get("jobstatus") != JOB_SUCCEEDED:
                raise JobFailed(command or ended[jobid].get("cmd") or "queryAsyncJobResult", ended[jobid], action=action)
        return dict((jobid, ended[jobid].get("jobresult") or {}) for jobid in jobids)

    def _job_states(self, pending, action):
        """One round of requests: listAsyncJobs when it covers every pending job, else one query each."""
        if len(pending) > 1 and self._list_jobs_usable:
            try:
                listed = dict((job.get("jobid"), job) for job in self.list("listAsyncJobs", "asyncjobs", action=action))
            except ApiError:
                listed = {}
            if all(jobid in listed for jobid in pending):
                return dict((jobid, listed[jobid]) for jobid in pending)
            self._list_jobs_usable = False
        return dict((jobid, self.call("queryAsyncJobResult", action=action, jobid=jobid)) for jobid in pending)

    def run_async(self, command, timeout, action=None, **params):
        """Submit an async command and wait for it; returns its jobresult dict."""
        return self.wait_job(self.submit(command, action=action, **params), timeout, action=action, command=command)

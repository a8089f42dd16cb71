# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the CloudStack API layer over the ``cs`` client.

Not a public API: it may change without notice. Every failure is raised as one of the typed errors
below; only ``_module.py`` turns them into module failures. Async jobs are polled here with the
adaptive waiter of ``_wait`` (never with cs's own fixed-interval polling).

Faults: a read (``list*``, ``queryAsyncJobResult``) that gets no CloudStack answer (connection error,
timeout, a 5xx from something in between) is retried with jittered exponential backoff, at most
RETRIES times and never past the wait deadline (amazon.aws ``AWSRetry.jittered_backoff``). An answer
of CloudStack itself (its JSON error, whatever the code) is never retried. A write is re-sent only
when the connection was refused before anything was sent; when the answer was lost after sending,
``submit`` looks for the job it may have started (``listAsyncJobs``) and raises UnconfirmedWrite when
it cannot tell, never sending it again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import random
import re
import time
import traceback
from datetime import datetime, timedelta, timezone

from ansible_collections.livescale.cloudstack.plugins.module_utils._wait import JOB_SCHEDULE, poll_interval

CS_IMPORT_ERROR = None
try:
    from cs import CloudStack, CloudStackApiException, CloudStackException
    from requests.exceptions import ConnectTimeout, RequestException
    from requests.exceptions import ConnectionError as RequestsConnectionError
    HAS_CS = True
    # In cs 4.x CloudStackApiException does not derive from CloudStackException: catch both.
    _CLIENT_ERRORS = (CloudStackApiException, CloudStackException, RequestException)
except ImportError:
    CS_IMPORT_ERROR = traceback.format_exc()
    HAS_CS = False
    _CLIENT_ERRORS = ()
    ConnectTimeout = RequestsConnectionError = ()

PAGE_SIZE = 500
JOB_PENDING = 0
JOB_SUCCEEDED = 1
JOB_FAILED = 2
JOB_CANCELLED = 3
_QUERY_STRING = re.compile(r"\?[^\s)'\"]*")
READ_COMMANDS = ("queryAsyncJobResult",)
RETRIES = 5
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0
# urllib3's texts for a connection that was never made: nothing reached the server.
_NOT_CONNECTED = ("NewConnectionError", "Connection refused", "Name or service not known", "No route to host")
# how far CloudStack's clock may be behind ours when a lost submit's job is looked for by its creation time
CLOCK_TOLERANCE = timedelta(seconds=2)
_CREATED_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


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


class JobStatusUnknown(JobTimeout):
    """The status of a submitted job could not be read (retries exhausted): it may still complete.

    A JobTimeout, as for the caller nothing else differs: the job exists, its end is not known.
    """

    def __init__(self, jobid, last_status, waited, reason, action=None, command=None, pending=None):
        super(JobStatusUnknown, self).__init__(jobid, last_status, waited, action=action, command=command, pending=pending)
        self.reason = reason
        self.args = ("%s: the status of async job %s%s could not be read after %.1f s (%s); its last known jobstatus is %s,"
                     " so it may still complete: check it with queryAsyncJobResult jobid=%s, then re-run"
                     % (_failed(action), jobid, " of %s" % command if command else "", waited, reason,
                        describe_status(last_status), jobid),)


class TransportError(CloudStackError):
    """The request did not get a CloudStack answer (connection refused, timeout, not an API endpoint).

    ``sent`` is False when nothing reached the server (the connection was never made), else None (not
    known); ``status`` is the HTTP status of a non-CloudStack answer (e.g. a proxy's 503), None without one.
    """

    def __init__(self, command, reason, action=None, sent=None, status=None, attempts=1):
        self.command = command
        self.reason = reason
        self.action = action
        self.sent = sent
        self.status = status
        self.attempts = attempts
        tries = " (%d attempts)" % attempts if attempts > 1 else ""
        super(TransportError, self).__init__("%s: %s got no CloudStack answer%s: %s" % (_failed(action), command, tries, reason))

    @property
    def transient(self):
        """Whether asking again may help: no HTTP answer, or a 5xx; a 4xx (or a 200 that is no API answer) will not."""
        return self.status is None or self.status >= 500

    @property
    def maybe_applied(self):
        """Whether a write that failed so may still have reached CloudStack."""
        return self.sent is not False and self.transient


class UnconfirmedWrite(TransportError):
    """A write was sent but its answer was lost, and whether CloudStack applied it is not known.

    Never re-sent: ``jobs`` lists the candidate jobs found for ``resource_id`` (several: not ours to pick).
    """

    def __init__(self, command, reason, action=None, resource_id=None, jobs=()):
        super(UnconfirmedWrite, self).__init__(command, reason, action=action)
        self.jobid = None
        self.resource_id = resource_id
        self.jobs = list(jobs)
        if self.jobs:
            found = "jobs %s were started on %s since: CloudStack got it, but which job is this one is not known" % (
                ", ".join(job.get("jobid") for job in self.jobs), resource_id)
        elif resource_id:
            found = "no job of it was found on %s (listAsyncJobs), so it was probably not received" % resource_id
        else:
            found = "it is a synchronous command, so it may or may not have been applied"
        self.args = ("%s: %s was sent but its answer was lost (%s); %s. It was not sent again: re-run the task, which"
                     " reads the state first and changes only what is still needed" % (_failed(action), command, reason, found),)


class InvalidValue(CloudStackError):
    """A module option has a value that cannot work; raised before anything is changed."""


class NotFound(CloudStackError):
    """No object of ``kind`` matches ``key``; ``hint`` says where to look (close matches, or the list)."""

    def __init__(self, kind, key, scope=None, hint=None):
        self.kind = kind
        self.key = key
        self.scope = scope
        self.hint = hint
        super(NotFound, self).__init__("%s %r not found%s%s" % (kind, key, " in %s" % scope if scope else "",
                                                                "; %s" % hint if hint else ""))


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


def describe_status(job):
    """A job's jobstatus with its meaning, e.g. ``0 (pending)``; ``unknown`` when never read."""
    status = job.get("jobstatus")
    meaning = {JOB_PENDING: "pending", JOB_SUCCEEDED: "succeeded", JOB_FAILED: "failed", JOB_CANCELLED: "cancelled"}
    return "%s (%s)" % (status, meaning.get(status, "unknown")) if status is not None else "unknown (never read)"


def is_read(command):
    """Whether ``command`` only reads: such calls may be retried."""
    return command.startswith("list") or command in READ_COMMANDS


def backoff_delays(retries=RETRIES, base=BACKOFF_BASE, cap=BACKOFF_CAP, jitter=random.random):
    """The waits before each retry: exponential, each jittered into its upper half (AWSRetry's equal jitter)."""
    for attempt in range(retries):
        delay = min(cap, base * 2 ** attempt)
        yield delay / 2 + jitter() * delay / 2


def created_at(job):
    """A job's ``created`` time as an aware datetime, None when missing or unreadable."""
    try:
        return datetime.strptime(job.get("created") or "", _CREATED_FORMAT)
    except ValueError:
        return None


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


_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def tls_verification(value):
    """``api_verify_ssl`` as requests takes it: True, False, or the path of an existing CA bundle file or directory.

    Boolean words (``false``, ``yes``...) are booleans, as the cs client reads CLOUDSTACK_VERIFY. Raises
    ConfigurationError naming the value and the three forms otherwise.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE_WORDS:
        return True
    if text.lower() in _FALSE_WORDS:
        return False
    path = os.path.expanduser(text)
    if text and os.path.exists(path):
        return path
    raise ConfigurationError("api_verify_ssl=%r is neither a boolean nor an existing CA bundle: give true, false, or the path"
                             " of a PEM CA bundle file (or a c_rehash'ed directory), in the option or in CLOUDSTACK_VERIFY"
                             % (value,))


def _never_connected(exc):
    """Whether a requests error happened before anything was sent (no connection was made)."""
    if isinstance(exc, ConnectTimeout):
        return True
    return isinstance(exc, RequestsConnectionError) and any(text in str(exc) for text in _NOT_CONNECTED)


def _utc_now():
    return datetime.now(timezone.utc)


class CloudStackApi:
    """Signed CloudStack API calls that raise typed errors and count every HTTP request (retries included).

    ``verify`` is True, False or the path of a CA bundle (as for requests and the cs client); see tls_verification.
    """

    def __init__(self, endpoint, key, secret, method="get", timeout=10, verify=True,
                 clock=time.monotonic, sleep=time.sleep, client=None, page_size=PAGE_SIZE,
                 retries=RETRIES, jitter=random.random, utc_now=_utc_now):
        self.endpoint = endpoint
        self._secret = secret
        self.clock = clock
        self.sleep = sleep
        self.page_size = page_size
        self.retries = retries
        self.jitter = jitter
        self.utc_now = utc_now
        self.api_calls = 0
        self._list_jobs_usable = True
        self._jobs = {}  # jobid: {"watched": clock time, "since": datetime to list from, "created", "last": job}
        self._last_round = self._interval = None
        if client is None:
            verify = tls_verification(verify)
            # retry=0 and fetch_result=False: one client call is exactly one HTTP request.
            client = CloudStack(endpoint=endpoint, key=key, secret=secret, method=method, timeout=timeout,
                                verify=verify or None, dangerous_no_tls_verify=verify is False, retry=0, fetch_result=False)
        self._client = client

    def _scrub(self, text):
        """Remove query strings (signed URLs) and the secret from a message."""
        text = _QUERY_STRING.sub("?...", str(text))
        if self._secret:
            text = text.replace(self._secret, "********")
        return text

    def _attempt(self, command, action, flat):
        """One HTTP request: the inner answer, ApiError for CloudStack's error answer, TransportError otherwise."""
        handler = getattr(self._client, command)
        self.api_calls += 1
        try:
            return handler(**dict(flat))
        except _CLIENT_ERRORS as exc:
            error = getattr(exc, "error", None)
            if isinstance(error, dict) and "errortext" in error:
                raise ApiError(command, self._scrub(error["errortext"]), errorcode=error.get("errorcode"),
                               cserrorcode=error.get("cserrorcode"), action=action)
            reason = " ".join(str(arg) for arg in exc.args) or type(exc).__name__
            status = getattr(getattr(exc, "response", None), "status_code", None)
            raise TransportError(command, self._scrub(reason), action=action, sent=False if _never_connected(exc) else None,
                                 status=status)

    def _request(self, command, action, params, deadline=None):
        """One command, retried after a transient fault when it reads, or when it never reached the server.

        The retries follow ``backoff_delays`` and stop before a wait would pass ``deadline`` (monotonic).
        """
        flat = flatten_params(params)
        delays = backoff_delays(self.retries, jitter=self.jitter)
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(command, action, flat)
            except TransportError as exc:
                retryable = exc.transient and (is_read(command) or exc.sent is False)
                delay = next(delays, None) if retryable else None
                if delay is None or (deadline is not None and self.clock() + delay > deadline):
                    if attempts == 1:
                        raise
                    raise TransportError(command, exc.reason, action=action, sent=exc.sent, status=exc.status, attempts=attempts)
                self.sleep(delay)

    def call(self, command, action=None, **params):
        """Run a sync command; returns the inner dict of ``<command>response``.

        A write whose answer was lost raises UnconfirmedWrite (it is not sent again).
        """
        try:
            return self._request(command, action, params)
        except TransportError as exc:
            if is_read(command) or not exc.maybe_applied:
                raise
            raise UnconfirmedWrite(command, exc.reason, action=action)

    def list(self, command, key, action=None, **params):
        """Run a list command through all its pages; returns the items under ``key`` ([] when none)."""
        return self._list(command, key, action, params)

    def _list(self, command, key, action, params, deadline=None):
        items = []
        page = 1
        while True:
            data = self._request(command, action, dict(params, page=page, pagesize=self.page_size), deadline=deadline)
            chunk = data.get(key) or []
            items.extend(chunk)
            count = data.get("count")
            if len(chunk) < self.page_size or (count is not None and len(items) >= count):
                return items
            page += 1

    def list_jobs(self, resource_id=None, pending=False, action=None):
        """The caller's async jobs (listAsyncJobs); only those about ``resource_id``, only pending ones when asked."""
        jobs = self.list("listAsyncJobs", "asyncjobs", action=action)
        return [job for job in jobs if (resource_id is None or job.get("jobinstanceid") == resource_id)
                and (not pending or job.get("jobstatus") == JOB_PENDING)]

    def submit(self, command, action=None, **params):
        """Start an async command; returns its job id.

        When the answer is lost after sending, the job is looked for on the resource (``id`` or
        ``virtualmachineid``) among the caller's jobs created since: exactly one is taken as this
        submit's; otherwise UnconfirmedWrite, and nothing is sent again.
        """
        since = self.utc_now()
        try:
            data = self._request(command, action, params)
        except TransportError as exc:
            if not exc.maybe_applied:
                raise
            return self._job_of_lost_submit(command, action, exc.reason, params.get("id") or params.get("virtualmachineid"), since)
        jobid = data.get("jobid")
        if not jobid:
            raise ApiError(command, "expected an async job id, got the keys %s" % sorted(data), action=action)
        self._jobs[jobid] = {"watched": self.clock(), "since": since - CLOCK_TOLERANCE}
        return jobid

    def _job_of_lost_submit(self, command, action, reason, resource_id, since):
        """The id of the one job ``command`` started on ``resource_id`` since ``since``; UnconfirmedWrite otherwise."""
        if not resource_id:
            raise UnconfirmedWrite(command, reason, action=action)
        # looked for again after a pause: a server slower than api_timeout creates the job late
        for delay in [0.0] + list(backoff_delays(2, jitter=self.jitter)):
            self.sleep(delay)
            try:
                jobs = self.list_jobs(resource_id, action=action)
            except CloudStackError as exc:
                raise UnconfirmedWrite(command, "%s; looking for its job failed too: %s" % (reason, exc), action=action,
                                       resource_id=resource_id)
            recent = [job for job in jobs if (created_at(job) or since) >= since - CLOCK_TOLERANCE]
            if len(recent) == 1:
                return recent[0]["jobid"]
            if recent:
                raise UnconfirmedWrite(command, reason, action=action, resource_id=resource_id, jobs=recent)
        raise UnconfirmedWrite(command, reason, action=action, resource_id=resource_id)

    def wait_job(self, jobid, timeout, action=None, command=None):
        """Wait for one async job; returns its jobresult dict."""
        return self.wait_jobs([jobid], timeout, action=action, command=command)[jobid]

    def wait_jobs(self, jobids, timeout, action=None, command=None):
        """Wait for several async jobs with one round of requests per poll; returns {jobid: jobresult}.

        Waits until every job has ended (or the timeout), then raises the JobTimeout (JobStatusUnknown) of the first
        job not seen ending, else the error of the first job that failed, in the given order.
        """
        jobids = list(dict.fromkeys(jobids))
        deadline = self.clock() + timeout
        pending = dict((jobid, deadline) for jobid in jobids)
        outcomes = {}
        while pending:
            for jobid, outcome in self.poll_jobs(pending, dict.fromkeys(jobids, (command, action))).items():
                outcomes[jobid] = outcome
                del pending[jobid]
        errors = [outcomes[jobid][1] for jobid in jobids if outcomes[jobid][1] is not None]
        unended = [error for error in errors if isinstance(error, JobTimeout)]
        if errors:
            raise (unended or errors)[0]
        return dict((jobid, outcomes[jobid][0]) for jobid in jobids)

    def poll_jobs(self, deadlines, labels=None):
        """Poll the jobs of ``deadlines`` ({jobid: deadline on ``clock``}), one round per tick, until some have ended.

        Returns, as soon as there is one, {jobid: (jobresult, None)} for a job that succeeded and {jobid: (None, error)}
        for one that failed or was cancelled (JobFailed), could not be queried (ApiError), reached its deadline
        (JobTimeout) or whose round could not be read after the retries (JobStatusUnknown, for every job of the round).
        Never raises for a job; ``labels`` ({jobid: (command, action)}) name them in the errors. Rounds follow
        JOB_SCHEDULE across calls: polling on jobs of an earlier call keeps its pace from the last round (at most one
        round per ``notice`` interval while jobs are submitted in between); a wait on new jobs only starts at ``first``.
        """
        labels = labels or {}
        now = self.clock()
        tracked = dict((jobid, self._jobs.setdefault(jobid, {"watched": now})) for jobid in deadlines)
        paced = self._last_round is not None and any(job.get("last") for job in tracked.values())
        interval = self._interval if paced else None
        youngest = max([job["watched"] for job in tracked.values()] or [now])
        while tracked:
            now = self.clock()
            expired = [jobid for jobid in tracked if deadlines[jobid] <= now]
            if expired:
                return self._report(dict((jobid, (None, self._timeout(jobid, expired, now, labels)))
                                         for jobid in expired))
            interval = poll_interval(interval, now - youngest, **JOB_SCHEDULE)
            due = (self._last_round if paced else now) + interval
            self.sleep(max(0.0, min([due] + [deadlines[jobid] for jobid in tracked]) - now))
            try:
                states = self._job_states(list(tracked), labels, min(deadlines[jobid] for jobid in tracked))
            except TransportError as exc:
                return self._report(dict((jobid, (None, self._unreadable(jobid, list(tracked), exc.reason, labels)))
                                         for jobid in tracked))
            finally:
                self._last_round, self._interval, paced = self.clock(), interval, True
            ended = {}
            for jobid, job in states.items():
                if isinstance(job, ApiError):
                    ended[jobid] = (None, job)
                    continue
                tracked[jobid]["last"] = job
                if job.get("jobstatus", JOB_PENDING) != JOB_PENDING:
                    ended[jobid] = self._ended(job, *labels.get(jobid, (None, None)))
            if ended:
                return self._report(ended)
        return {}

    def _report(self, outcomes):
        """The outcomes, their jobs forgotten."""
        for jobid in outcomes:
            self._jobs.pop(jobid, None)
        return outcomes

    @staticmethod
    def _ended(job, command, action):
        """(jobresult, None) for a job that succeeded, (None, JobFailed) for one that did not."""
        if job.get("jobstatus") == JOB_SUCCEEDED:
            return job.get("jobresult") or {}, None
        return None, JobFailed(command or job.get("cmd") or "queryAsyncJobResult", job, action=action)

    def _timeout(self, jobid, expired, now, labels):
        command, action = labels.get(jobid, (None, None))
        job = self._jobs[jobid]
        return JobTimeout(jobid, job.get("last", {}), now - job["watched"], action=action, command=command,
                          pending=expired)

    def _unreadable(self, jobid, pending, reason, labels):
        command, action = labels.get(jobid, (None, None))
        job = self._jobs[jobid]
        return JobStatusUnknown(jobid, job.get("last", {}), self.clock() - job["watched"], reason, action=action,
                                command=command, pending=pending)

    def _job_states(self, pending, labels, deadline=None):
        """One round of requests: {jobid: job, or the ApiError of its query}.

        One listAsyncJobs covers the jobs this client submitted: from (``startdate``) the oldest one's creation as
        CloudStack stamped it once seen, else its submit by our clock less CLOCK_TOLERANCE. Every other job, and one
        the listing missed, gets a queryAsyncJobResult; a job missed although its creation was known is queried from
        then on. Jobs not listed, or a listing CloudStack refuses, cost one query per job and round.
        """
        listable = [jobid for jobid in pending if "since" in self._jobs.get(jobid, {})]
        states = {}
        if len(listable) > 1 and self._list_jobs_usable:
            since = min(self._jobs[jobid]["since"] for jobid in listable)
            try:
                listed = self._list("listAsyncJobs", "asyncjobs", None,
                                    {"startdate": since.astimezone(timezone.utc).strftime(_CREATED_FORMAT)}, deadline)
            except ApiError:
                self._list_jobs_usable = False
                listed = []
            wanted = set(listable)
            states = dict((job.get("jobid"), job) for job in listed if job.get("jobid") in wanted)
            for jobid in wanted.difference(states):
                if self._jobs[jobid].get("created"):
                    del self._jobs[jobid]["since"]
        for jobid in pending:
            if jobid not in states:
                try:
                    states[jobid] = self._request("queryAsyncJobResult", labels.get(jobid, (None, None))[1],
                                                  {"jobid": jobid}, deadline)
                except ApiError as exc:
                    states[jobid] = exc
        for jobid, job in states.items():
            self._note_created(jobid, job)
        return states

    def _note_created(self, jobid, job):
        """Take CloudStack's creation time of a job this client submitted as the start of its listing."""
        record = self._jobs.get(jobid, {})
        created = created_at(job) if isinstance(job, dict) and "since" in record and not record.get("created") else None
        if created is not None:
            record.update(since=created, created=True)

    def run_async(self, command, timeout, action=None, **params):
        """Submit an async command and wait for it; returns its jobresult dict."""
        return self.wait_job(self.submit(command, action=action, **params), timeout, action=action, command=command)

"""CloudStackApi over an injected fake cs client: error mapping, paging, flattening, job polling."""

from datetime import datetime, timezone

import pytest
import requests
from cs import CloudStackApiException, CloudStackException
from requests.exceptions import ConnectionError as RequestsConnectionError

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    ApiError,
    CloudStackApi,
    ConfigurationError,
    JobFailed,
    JobStatusUnknown,
    JobTimeout,
    TransportError,
    UnconfirmedWrite,
    flatten_params,
    tls_verification,
)
from tests.unit.plugins.module_utils.test_wait import FakeClock

SECRET = "s3cr3t-Value-42"


class FakeClient:
    """Stands in for cs.CloudStack: ``client.<command>(**params)`` answered by ``respond``."""

    def __init__(self, respond):
        self.respond = respond
        self.requests = []

    def __getattr__(self, command):
        def handler(**params):
            self.requests.append((command, params))
            return self.respond(command, params)
        return handler

    def commands(self):
        return [command for command, _params in self.requests]


def make_api(respond, **kwargs):
    clock = FakeClock()
    client = FakeClient(respond)
    api = CloudStackApi("http://127.0.0.1:8080/client/api", "KEY", SECRET, clock=clock, sleep=clock.sleep, client=client, **kwargs)
    return api, client, clock


def api_error(errorcode, errortext, cserrorcode=9999):
    return CloudStackApiException("HTTP %d response from CloudStack" % errorcode,
                                  error={"uuidList": [], "errorcode": errorcode, "cserrorcode": cserrorcode, "errortext": errortext})


def test_call_returns_the_inner_answer_and_flattens_map_params():
    api, client, _clock = make_api(lambda command, params: {"virtualmachine": {"id": "vm-1"}})
    answer = api.call("updateVirtualMachine", action="update VM web-01", id="vm-1", details={"cpuNumber": 2, "memory": 1024}, displayvm=True)
    assert answer == {"virtualmachine": {"id": "vm-1"}}
    assert client.requests == [("updateVirtualMachine", {"id": "vm-1", "details[0].cpuNumber": "2", "details[0].memory": "1024", "displayvm": "true"})]
    assert api.api_calls == 1


def test_api_error_names_action_command_and_codes():
    def respond(command, params):
        raise api_error(431, "Unable to execute API command scalevirtualmachine due to missing parameter serviceofferingid", 4350)

    api, _client, _clock = make_api(respond)
    with pytest.raises(ApiError) as info:
        api.call("scaleVirtualMachine", action="scale VM web-01", id="vm-1")
    error = info.value
    assert (error.command, error.errorcode, error.cserrorcode, error.action) == ("scaleVirtualMachine", 431, 4350, "scale VM web-01")
    assert error.errortext.endswith("missing parameter serviceofferingid")
    assert str(error).startswith("scale VM web-01 failed: scaleVirtualMachine returned error 431 (cserrorcode 4350): Unable")
    assert api.api_calls == 1


def test_signature_failure_has_no_cserrorcode():
    def respond(command, params):
        raise CloudStackApiException("HTTP 401", error={"errorcode": 401, "errortext": "unable to verify user credentials and/or request signature"})

    api, _client, _clock = make_api(respond)
    with pytest.raises(ApiError) as info:
        api.call("listZones")
    assert info.value.errorcode == 401 and info.value.cserrorcode is None
    assert "CloudStack request failed: listZones returned error 401: unable to verify" in str(info.value)


@pytest.mark.parametrize("exc", [
    RequestsConnectionError(f"Max retries exceeded with url: /client/api?apiKey=KEY&signature=abc%3D&s={SECRET} (refused)"),
    CloudStackException("HTTP 404 Not Found", "Make sure endpoint URL is correct, secret %s" % SECRET),
])
def test_transport_errors_never_show_the_secret_or_the_signed_url(exc):
    def respond(command, params):
        raise exc

    api, _client, _clock = make_api(respond)
    with pytest.raises(TransportError) as info:
        api.call("listZones", action="list zones")
    message = str(info.value)
    assert message.startswith("list zones failed: listZones got no CloudStack answer")
    assert SECRET not in message and "signature=" not in message
    assert SECRET not in repr(info.value.args) and SECRET not in info.value.reason


def test_list_pages_through_every_page():
    vms = [{"id": "vm-%d" % index, "name": "web-%d" % index} for index in range(5)]

    def respond(command, params):
        page, size = int(params["page"]), int(params["pagesize"])
        return {"count": len(vms), "virtualmachine": vms[(page - 1) * size:page * size]}

    api, client, _clock = make_api(respond, page_size=2)
    assert api.list("listVirtualMachines", "virtualmachine", listall=True) == vms
    assert [params["page"] for _command, params in client.requests] == ["1", "2", "3"]
    assert all(params["listall"] == "true" and params["pagesize"] == "2" for _command, params in client.requests)
    assert api.api_calls == 3


def test_list_stops_at_count_on_a_full_last_page_and_maps_empty_answers():
    pages = {"1": {"count": 2, "zone": [{"id": "z1"}, {"id": "z2"}]}}
    api, client, _clock = make_api(lambda command, params: pages.get(params["page"], {}), page_size=2)
    assert api.list("listZones", "zone") == [{"id": "z1"}, {"id": "z2"}]
    assert len(client.requests) == 1
    assert api.list("listHosts", "host", name="nope") == []


def test_submit_needs_a_job_id():
    api, _client, _clock = make_api(lambda command, params: {"virtualmachine": {}})
    with pytest.raises(ApiError, match="expected an async job id"):
        api.submit("updateVirtualMachine", id="vm-1")


def job(jobid, status, result=None, resultcode=0):
    answer = {"jobid": jobid, "jobstatus": status, "jobresultcode": resultcode, "cmd": "org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin"}
    if result is not None:
        answer["jobresult"] = result
    return answer


def test_run_async_polls_adaptively_until_success():
    states = iter([0, 0, 0, 1])

    def respond(command, params):
        if command == "scaleVirtualMachine":
            return {"jobid": "job-1"}
        status = next(states)
        return job("job-1", status, {"virtualmachine": {"id": "vm-1", "cpunumber": 2}} if status else None)

    api, client, clock = make_api(respond)
    result = api.run_async("scaleVirtualMachine", 60, action="scale VM web-01", id="vm-1", details={"cpuNumber": 2})
    assert result == {"virtualmachine": {"id": "vm-1", "cpunumber": 2}}
    assert client.commands() == ["scaleVirtualMachine"] + ["queryAsyncJobResult"] * 4
    assert clock.sleeps == pytest.approx([0.1, 0.15, 0.225, 0.3])
    assert api.api_calls == 5


def test_failed_job_carries_cloudstack_errorcode_and_errortext():
    text = "Unable to scale VM due to insufficient capacity"
    api, _client, _clock = make_api(lambda command, params: job("job-9", 2, {"errorcode": 530, "errortext": text}, 530))
    with pytest.raises(JobFailed) as info:
        api.wait_job("job-9", 30, action="scale VM web-01", command="scaleVirtualMachine")
    error = info.value
    assert (error.jobid, error.errorcode, error.errortext, error.command) == ("job-9", 530, text, "scaleVirtualMachine")
    assert error.job["jobstatus"] == 2
    assert str(error) == "scale VM web-01 failed: async job job-9 of scaleVirtualMachine ended with error 530: " + text


def test_cancelled_job_fails_with_the_job_command_when_none_is_given():
    api, _client, _clock = make_api(lambda command, params: job("job-3", 3, {}))
    with pytest.raises(JobFailed, match="job was cancelled") as info:
        api.wait_job("job-3", 30)
    assert info.value.command.endswith("ScaleVMCmdByAdmin")


def test_timeout_carries_the_job_id_and_last_status():
    api, client, clock = make_api(lambda command, params: dict(job("job-7", 0), jobprocstatus=1))
    with pytest.raises(JobTimeout) as info:
        api.wait_job("job-7", 5, action="scale VM web-01", command="scaleVirtualMachine")
    error = info.value
    assert error.jobid == "job-7" and error.last_status["jobstatus"] == 0 and error.last_status["jobprocstatus"] == 1
    assert error.waited == pytest.approx(5.0) and clock.now == pytest.approx(5.0)
    assert "scale VM web-01 failed: async job job-7 of scaleVirtualMachine still running after 5.0 s" in str(error)
    assert api.api_calls == len(client.requests) == len(clock.sleeps)


class Jobs:
    """A respond function for submits (job-1, job-2 ...) and polls: each job's statuses in turn, the last one kept."""

    def __init__(self, statuses, created=None, listing=True):
        self.statuses = dict((jobid, list(items)) for jobid, items in statuses.items())
        self.created = created or {}
        self.listing = listing
        self.submitted = 0

    def state(self, jobid):
        queue = self.statuses[jobid]
        status = queue.pop(0) if len(queue) > 1 else queue[0]
        result = {"errorcode": 530, "errortext": "boom"} if status == 2 else {"virtualmachine": {"id": jobid}}
        return dict(job(jobid, status, result if status else None), **(
            {"created": self.created[jobid]} if jobid in self.created else {}))

    def __call__(self, command, params):
        if command == "scaleVirtualMachine":
            self.submitted += 1
            return {"jobid": "job-%d" % self.submitted}
        if command == "listAsyncJobs":
            if not self.listing:
                raise api_error(401, "unable to verify user credentials and/or request signature")
            rows = [self.state(jobid) for jobid in sorted(self.statuses)
                    if self.listing is True or jobid in self.listing]
            return {"count": len(rows), "asyncjobs": rows}
        return self.state(params["jobid"])


def submitted(respond, count):
    api, client, clock = make_api(respond, utc_now=lambda: NOW)
    return api, client, clock, [api.submit("scaleVirtualMachine", id="vm-%d" % index) for index in range(count)]


def test_wait_jobs_uses_one_list_request_per_tick_from_the_first_submit():
    jobs = Jobs({"job-1": [1], "job-2": [0, 0, 1], "job-3": [0, 0, 1]},
                created={"job-1": "2026-06-11T07:59:59+0000", "job-2": "2026-06-11T08:00:00+0000",
                         "job-3": "2026-06-11T08:00:01+0000"})
    api, client, clock, jobids = submitted(jobs, 3)
    results = api.wait_jobs(jobids, 60)
    assert results == dict((jobid, {"virtualmachine": {"id": jobid}}) for jobid in jobids)
    assert client.commands() == ["scaleVirtualMachine"] * 3 + ["listAsyncJobs"] * 3
    # from our submit less the clock tolerance, then from the oldest pending job as CloudStack stamped it
    assert [params["startdate"] for command, params in client.requests[3:]] == [
        "2026-06-11T07:59:58+0000", "2026-06-11T08:00:00+0000", "2026-06-11T08:00:00+0000"]
    assert len(clock.sleeps) == 3


def test_wait_jobs_falls_back_to_one_query_per_pending_job_per_tick():
    jobs = Jobs({"job-1": [0, 1], "job-2": [0, 0, 1]}, listing=False)
    api, client, _clock, jobids = submitted(jobs, 2)
    assert api.wait_jobs(jobids, 60) == dict((jobid, {"virtualmachine": {"id": jobid}}) for jobid in jobids)
    assert client.commands()[2:] == ["listAsyncJobs"] + ["queryAsyncJobResult"] * 5
    assert [params["jobid"] for command, params in client.requests[3:]] == ["job-1", "job-2", "job-1", "job-2", "job-2"]


def test_jobs_a_listing_misses_are_queried_and_once_their_creation_is_known_no_longer_listed():
    jobs = Jobs({"job-1": [0, 1], "job-2": [0, 0, 1], "job-3": [0, 0, 0, 1]}, listing={"job-1"},
                created={"job-2": "2026-06-11T08:00:00+0000", "job-3": "2026-06-11T08:00:00+0000"})
    api, client, _clock, jobids = submitted(jobs, 3)
    api.wait_jobs(jobids, 60)
    rounds = [(command, params.get("jobid")) for command, params in client.requests[3:]]
    listing = ("listAsyncJobs", None)
    query2, query3 = ("queryAsyncJobResult", "job-2"), ("queryAsyncJobResult", "job-3")
    # missed before their creation was known: listed again; missed after: queried from then on
    assert rounds == [listing, query2, query3, listing, query2, query3, query2, query3, query3]


def test_jobs_not_submitted_here_are_queried_one_by_one():
    jobs = Jobs({"a": [0, 1], "b": [1]})
    api, client, _clock = make_api(jobs)
    assert sorted(api.wait_jobs(["a", "b"], 60)) == ["a", "b"]
    assert [(command, params["jobid"]) for command, params in client.requests] == [
        ("queryAsyncJobResult", "a"), ("queryAsyncJobResult", "b"), ("queryAsyncJobResult", "a")]


def test_wait_jobs_waits_for_all_then_raises_the_first_failure():
    jobs = Jobs({"job-1": [2], "job-2": [0, 1]}, listing=False)
    api, client, _clock, jobids = submitted(jobs, 2)
    with pytest.raises(JobFailed) as info:
        api.wait_jobs(jobids, 60, action="scale 2 VMs")
    assert info.value.jobid == "job-1" and info.value.errorcode == 530 and info.value.action == "scale 2 VMs"
    assert [params["jobid"] for command, params in client.requests if command == "queryAsyncJobResult"] == [
        "job-1", "job-2", "job-2"]


def test_wait_jobs_of_nothing_makes_no_request():
    api, client, _clock = make_api(pytest.fail)
    assert api.wait_jobs([], 10) == {}
    assert not client.requests


def test_poll_jobs_returns_once_some_ended_with_each_outcome_and_never_raises():
    jobs = Jobs({"job-1": [0, 2], "job-2": [0, 1], "job-3": [0]})
    api, _client, clock, jobids = submitted(jobs, 3)
    labels = dict((jobid, ("scaleVirtualMachine", "scale VM %s" % jobid)) for jobid in jobids)
    outcomes = api.poll_jobs(dict.fromkeys(jobids, 60.0), labels)
    assert sorted(outcomes) == ["job-1", "job-2"] and clock.now == pytest.approx(0.25)
    assert outcomes["job-2"] == ({"virtualmachine": {"id": "job-2"}}, None)
    error = outcomes["job-1"][1]
    assert isinstance(error, JobFailed) and (error.command, error.action, error.errortext) == (
        "scaleVirtualMachine", "scale VM job-1", "boom")
    outcomes = api.poll_jobs({"job-3": 1.0}, labels)
    result, late = outcomes["job-3"]
    assert (list(outcomes), result, type(late), late.pending) == (["job-3"], None, JobTimeout, ["job-3"])
    assert late.action == "scale VM job-3" and clock.now == pytest.approx(1.0)


def test_poll_jobs_keeps_each_jobs_own_deadline():
    jobs = Jobs({"job-1": [0], "job-2": [0]}, listing=False)
    api, _client, clock, jobids = submitted(jobs, 2)
    first = api.poll_jobs({"job-1": 0.5, "job-2": 5.0})
    assert list(first) == ["job-1"] and isinstance(first["job-1"][1], JobTimeout) and clock.now == pytest.approx(0.5)
    second = api.poll_jobs({"job-2": 5.0})
    assert list(second) == ["job-2"] and clock.now == pytest.approx(5.0)


def test_polls_keep_their_pace_across_calls_while_jobs_are_submitted_in_between():
    """A refill between two calls does not poll sooner: one round per 0.3 s once the pace is reached."""
    jobs = Jobs({"job-1": [0, 0, 0, 1], "job-2": [0, 0, 0, 0, 1], "job-3": [0, 1]})
    api, client, clock, jobids = submitted(jobs, 2)
    assert list(api.poll_jobs(dict.fromkeys(jobids, 60.0))) == ["job-1"]
    assert clock.sleeps == pytest.approx([0.1, 0.15, 0.225, 0.3])
    clock.now += 0.05  # the next job is submitted
    api.submit("scaleVirtualMachine", id="vm-3")
    assert sorted(api.poll_jobs({"job-2": 60.0, "job-3": 60.0})) == ["job-2", "job-3"]
    assert clock.sleeps[-1] == pytest.approx(0.25), "0.3 s after the last round, not 0.1 s after the submit"
    assert client.commands().count("listAsyncJobs") == 5


def test_a_fresh_wait_starts_at_the_first_interval():
    jobs = Jobs({"job-1": [0, 1], "job-2": [1]})
    api, _client, clock, jobids = submitted(jobs, 1)
    api.wait_job(jobids[0], 60)
    clock.now += 0.02
    api.wait_job(api.submit("scaleVirtualMachine", id="vm-2"), 60)
    assert clock.sleeps == pytest.approx([0.1, 0.15, 0.1])


@pytest.mark.parametrize("params, flat", [
    ({"details": {"cpuNumber": 2, "memory": 2048}}, {"details[0].cpuNumber": "2", "details[0].memory": "2048"}),
    ({"tags": [{"key": "env", "value": "prod"}, {"key": "tier", "value": "web"}]},
     {"tags[0].key": "env", "tags[0].value": "prod", "tags[1].key": "tier", "tags[1].value": "web"}),
    ({"ids": ["a", "b"], "listall": True, "forced": False, "cpuspeed": 1000, "factor": 1.5},
     {"ids": "a,b", "listall": "true", "forced": "false", "cpuspeed": "1000", "factor": "1.5"}),
    ({"zoneid": None, "details": {}, "ids": []}, {}),
])
def test_flatten_params(params, flat):
    assert flatten_params(params) == flat


def test_flatten_params_rejects_unknown_types_by_name():
    with pytest.raises(TypeError, match="parameter when: cannot send a object"):
        flatten_params({"when": object()})


def test_real_cs_client_honours_verify_and_method_without_io():
    api = CloudStackApi("https://cloud.example.com/client/api", "KEY", SECRET, method="post", timeout=7, verify=False)
    assert api._client.verify is False
    assert (api._client.method, api._client.timeout, api._client.retry) == ("post", 7, 0)
    assert api.api_calls == 0


# --- faults: reads retried, writes never re-sent blindly (amazon.aws AWSRetry is the anchor) ---

RESET = RequestsConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
REFUSED = RequestsConnectionError("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded (Caused by "
                                  "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))")
NOW = datetime(2026, 6, 11, 8, 0, 0, tzinfo=timezone.utc)


class Response:
    def __init__(self, status_code):
        self.status_code = status_code


def proxy_error(status):
    return CloudStackException("HTTP %d Service Unavailable" % status, "Make sure endpoint URL is correct.", response=Response(status))


def scripted(answers):
    """A respond function giving (or raising) the next answer of ``answers`` per command."""
    queues = dict((command, list(items)) for command, items in answers.items())

    def respond(command, params):
        answer = queues[command].pop(0) if len(queues[command]) > 1 else queues[command][0]
        if isinstance(answer, Exception):
            raise answer
        return answer(params) if callable(answer) else answer
    return respond


def make_fault_api(answers, **kwargs):
    return make_api(scripted(answers), jitter=lambda: 0.5, utc_now=lambda: NOW, **kwargs)


@pytest.mark.parametrize("fault", [RESET, proxy_error(503), proxy_error(502),
                                   requests.exceptions.ReadTimeout("Read timed out. (read timeout=10)")])
def test_a_read_is_retried_after_a_transient_fault(fault):
    api, client, clock = make_fault_api({"listZones": [fault, fault, {"count": 1, "zone": [{"id": "z1"}]}]})
    assert api.list("listZones", "zone") == [{"id": "z1"}]
    assert client.commands() == ["listZones"] * 3 and api.api_calls == 3, "every HTTP attempt is counted"
    assert clock.sleeps == pytest.approx([0.1875, 0.375]), "exponential, jittered into the upper half"


@pytest.mark.parametrize("fault", [api_error(431, "Unable to execute API command listzones due to invalid value"),
                                   api_error(530, "Internal error executing command"), proxy_error(404)])
def test_a_cloudstack_answer_or_a_4xx_is_never_retried(fault):
    api, client, clock = make_fault_api({"listZones": [fault]})
    with pytest.raises((ApiError, TransportError)):
        api.list("listZones", "zone")
    assert len(client.requests) == 1 and not clock.sleeps


def test_the_retry_budget_is_bounded_and_the_error_counts_the_attempts():
    api, client, clock = make_fault_api({"listZones": [RESET]})
    with pytest.raises(TransportError, match=r"got no CloudStack answer \(6 attempts\)") as info:
        api.list("listZones", "zone", action="list zones")
    assert len(client.requests) == 6 == api.api_calls and info.value.attempts == 6
    assert max(clock.sleeps) <= 4.0


def test_a_poll_that_keeps_failing_stops_at_the_wait_deadline_with_the_job_and_its_last_status():
    api, client, clock = make_fault_api({"queryAsyncJobResult": [job("job-4", 0), RESET]})
    with pytest.raises(JobStatusUnknown) as info:
        api.wait_job("job-4", 1.0, action="scale VM web-01", command="scaleVirtualMachine")
    error = info.value
    assert isinstance(error, JobTimeout) and error.jobid == "job-4" and error.last_status["jobstatus"] == 0
    assert clock.now <= 1.0 + 1e-9, "no retry sleeps past the wait deadline"
    assert "last known jobstatus is 0 (pending), so it may still complete" in str(error)
    assert "queryAsyncJobResult jobid=job-4" in str(error)


def test_a_poll_survives_a_restart_of_the_management_server():
    api, client, _clock = make_fault_api({"queryAsyncJobResult": [job("job-5", 0), RESET, RESET, job("job-5", 1, {"ok": 1})]})
    assert api.wait_job("job-5", 60) == {"ok": 1}
    assert api.api_calls == 4


def test_a_sync_write_whose_answer_was_lost_is_not_sent_again():
    api, client, _clock = make_fault_api({"updateVirtualMachine": [RESET]})
    with pytest.raises(UnconfirmedWrite) as info:
        api.call("updateVirtualMachine", action="update VM web-01", id="vm-1", isdynamicallyscalable=True)
    assert client.commands() == ["updateVirtualMachine"]
    assert "it may or may not have been applied" in str(info.value) and "not sent again" in str(info.value)


def test_a_write_is_sent_again_only_when_the_connection_was_refused():
    api, client, _clock = make_fault_api({"updateVirtualMachine": [REFUSED, {"virtualmachine": {"id": "vm-1"}}]})
    assert api.call("updateVirtualMachine", id="vm-1") == {"virtualmachine": {"id": "vm-1"}}
    assert client.commands() == ["updateVirtualMachine"] * 2


def async_job(jobid, instance, created, status=0):
    return dict(job(jobid, status), jobinstancetype="VirtualMachine", jobinstanceid=instance, created=created)


def test_a_lost_submit_takes_the_one_job_started_on_the_resource_since():
    jobs = [async_job("old", "vm-1", "2026-06-11T07:50:00+0000", 1), async_job("other-vm", "vm-2", "2026-06-11T08:00:01+0000"),
            async_job("ours", "vm-1", "2026-06-11T08:00:01+0000")]
    api, client, _clock = make_fault_api({"scaleVirtualMachine": [RESET], "listAsyncJobs": [{"count": 3, "asyncjobs": jobs}]})
    assert api.submit("scaleVirtualMachine", id="vm-1", serviceofferingid="so-2") == "ours"
    assert client.commands() == ["scaleVirtualMachine", "listAsyncJobs"], "found, so never sent again"


def test_a_lost_submit_without_a_job_raises_and_is_not_sent_again():
    api, client, _clock = make_fault_api({"scaleVirtualMachine": [proxy_error(504)], "listAsyncJobs": [{}]})
    with pytest.raises(UnconfirmedWrite) as info:
        api.submit("scaleVirtualMachine", action="scale VM web-01", id="vm-1")
    assert client.commands() == ["scaleVirtualMachine"] + ["listAsyncJobs"] * 3, "looked for three times, sent once"
    assert info.value.resource_id == "vm-1" and "no job of it was found on vm-1" in str(info.value)


def test_a_lost_submit_with_several_candidate_jobs_names_them():
    jobs = [async_job("j1", "vm-1", "2026-06-11T08:00:00+0000"), async_job("j2", "vm-1", "2026-06-11T08:00:01+0000")]
    api, client, _clock = make_fault_api({"scaleVirtualMachine": [RESET], "listAsyncJobs": [{"asyncjobs": jobs}]})
    with pytest.raises(UnconfirmedWrite, match="jobs j1, j2 were started on vm-1") as info:
        api.submit("scaleVirtualMachine", id="vm-1")
    assert [item["jobid"] for item in info.value.jobs] == ["j1", "j2"]


def test_list_jobs_filters_by_resource_and_pending():
    jobs = [async_job("a", "vm-1", "x", 0), async_job("b", "vm-1", "x", 1), async_job("c", "vm-2", "x", 0)]
    api, _client, _clock = make_fault_api({"listAsyncJobs": [{"asyncjobs": jobs}]})
    assert [item["jobid"] for item in api.list_jobs("vm-1")] == ["a", "b"]
    assert [item["jobid"] for item in api.list_jobs("vm-1", pending=True)] == ["a"]
    assert len(api.list_jobs()) == 3


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), ("false", False), ("No", False), ("yes", True), ("1", True)])
def test_tls_verification_takes_booleans_and_boolean_words(value, expected):
    assert tls_verification(value) is expected


def test_tls_verification_takes_a_ca_bundle_path(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert tls_verification(str(bundle)) == str(bundle)
    api = CloudStackApi("https://cloud.example.com/client/api", "KEY", SECRET, verify=str(bundle))
    assert api._client.verify == str(bundle)
    with pytest.raises(ConfigurationError, match=r"api_verify_ssl='/no/such/ca.pem' is neither a boolean nor an existing CA bundle"):
        tls_verification("/no/such/ca.pem")

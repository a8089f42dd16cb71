"""CloudStackApi over an injected fake cs client: error mapping, paging, flattening, job polling."""

import pytest
from cs import CloudStackApiException, CloudStackException
from requests.exceptions import ConnectionError as RequestsConnectionError

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    ApiError,
    CloudStackApi,
    JobFailed,
    JobTimeout,
    TransportError,
    flatten_params,
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
    assert clock.sleeps == pytest.approx([0.1, 0.15, 0.225, 0.3375])
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


def test_wait_jobs_uses_one_list_request_per_tick_when_it_covers_every_job():
    ticks = {"n": 0}

    def respond(command, params):
        assert command == "listAsyncJobs"
        ticks["n"] += 1
        done = ticks["n"] >= 3
        jobs = [job("a", 1, {"virtualmachine": {"id": "1"}}), job("b", 1 if done else 0, {"virtualmachine": {"id": "2"}}),
                job("c", 1 if done else 0, {"virtualmachine": {"id": "3"}}), job("other", 0)]
        return {"count": len(jobs), "asyncjobs": jobs}

    api, client, clock = make_api(respond)
    results = api.wait_jobs(["a", "b", "c"], 60)
    assert results == {"a": {"virtualmachine": {"id": "1"}}, "b": {"virtualmachine": {"id": "2"}}, "c": {"virtualmachine": {"id": "3"}}}
    assert client.commands() == ["listAsyncJobs"] * 3
    assert len(clock.sleeps) == 3


def test_wait_jobs_falls_back_to_one_query_per_pending_job_per_tick():
    polls = {"a": iter([0, 1]), "b": iter([0, 0, 1])}

    def respond(command, params):
        if command == "listAsyncJobs":
            raise api_error(401, "unable to verify user credentials and/or request signature")
        jobid = params["jobid"]
        return job(jobid, next(polls[jobid]), {"jobid": jobid})

    api, client, _clock = make_api(respond)
    assert api.wait_jobs(["a", "b"], 60) == {"a": {"jobid": "a"}, "b": {"jobid": "b"}}
    assert client.commands() == ["listAsyncJobs", "queryAsyncJobResult", "queryAsyncJobResult",
                                 "queryAsyncJobResult", "queryAsyncJobResult", "queryAsyncJobResult"]
    assert [params["jobid"] for command, params in client.requests[1:]] == ["a", "b", "a", "b", "b"]


def test_wait_jobs_waits_for_all_then_raises_the_first_failure():
    polls = {"a": iter([2]), "b": iter([0, 1])}

    def respond(command, params):
        if command == "listAsyncJobs":
            return {}
        jobid = params["jobid"]
        status = next(polls[jobid])
        return job(jobid, status, {"errorcode": 431, "errortext": "bad"} if status == 2 else {"ok": True})

    api, client, _clock = make_api(respond)
    with pytest.raises(JobFailed) as info:
        api.wait_jobs(["a", "b"], 60, action="scale 2 VMs")
    assert info.value.jobid == "a" and info.value.errorcode == 431
    assert [params["jobid"] for command, params in client.requests if command == "queryAsyncJobResult"] == ["a", "b", "b"]


def test_wait_jobs_of_nothing_makes_no_request():
    api, client, _clock = make_api(pytest.fail)
    assert api.wait_jobs([], 10) == {}
    assert not client.requests


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

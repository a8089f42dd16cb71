"""The API layer against the real simulator: signing, errors, paging, async jobs, lookups, request counting."""

import time

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    Ambiguous,
    ApiError,
    CloudStackApi,
    JobFailed,
    JobTimeout,
    NotFound,
)
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import find_service_offering, find_vm
from simulator.testing import DEFAULT_SEED, SimulatorProcess

SLOW_JOB_DELAY = 30


class RecordingSleep:
    """Really sleeps, and records how often: one tick of the waiter per call."""

    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def slow_simulator(tmp_path):
    """A simulator whose jobs wait SLOW_JOB_DELAY seconds before they start."""
    with SimulatorProcess(seed=DEFAULT_SEED, db=tmp_path / "slow.sqlite", job_delay=SLOW_JOB_DELAY) as process:
        yield process


def admin_api(simulator, **kwargs):
    return CloudStackApi(simulator.url, simulator.admin_key, simulator.admin_secret, **kwargs)


def running_vms(api):
    return [vm for vm in api.list("listVirtualMachines", "virtualmachine", listall=True) if vm["state"] == "Running"]


def test_sync_call_is_signed_and_answers_the_inner_object(simulator):
    api = admin_api(simulator)
    answer = api.call("updateConfiguration", action="set scale.retry", name="scale.retry", value=3)
    assert answer["configuration"]["name"] == "scale.retry" and answer["configuration"]["value"] == "3"
    [listed] = [item for item in api.list("listConfigurations", "configuration", name="scale.retry") if item["name"] == "scale.retry"]
    assert listed["value"] == "3"
    assert api.api_calls == 2


def test_cloudstack_errortext_is_surfaced(simulator):
    api = admin_api(simulator)
    with pytest.raises(ApiError) as info:
        api.call("updateConfiguration", action="set enable.dynamic.scale.vm", name="enable.dynamic.scale.vm", value="maybe")
    error = info.value
    assert (error.command, error.errorcode) == ("updateConfiguration", 431)
    assert error.errortext == "Value [maybe] is not a valid [class java.lang.Boolean]."
    assert str(error).startswith("set enable.dynamic.scale.vm failed: updateConfiguration returned error 431")


def test_wrong_secret_is_401_and_never_shown(simulator):
    wrong = "not-the-" + simulator.admin_secret
    api = CloudStackApi(simulator.url, simulator.admin_key, wrong)
    with pytest.raises(ApiError) as info:
        api.call("listConfigurations", name="scale.retry")
    assert info.value.errorcode == 401
    assert info.value.errortext == "unable to verify user credentials and/or request signature"
    assert wrong not in str(info.value) and simulator.admin_secret not in str(info.value)


def test_list_pages_through_everything(simulator):
    everything = admin_api(simulator).list("listConfigurations", "configuration")
    paged = admin_api(simulator, page_size=4)
    assert paged.list("listConfigurations", "configuration") == everything
    assert paged.api_calls == -(-len(everything) // 4)  # one call per page, the last one possibly full
    assert admin_api(simulator).list("listConfigurations", "configuration", name="no.such.setting") == []


def test_async_success_returns_the_job_result(simulator):
    api = admin_api(simulator)
    vm = running_vms(api)[0]
    result = api.run_async("stopVirtualMachine", 60, action="stop VM %s" % vm["name"], id=vm["id"])
    assert result["virtualmachine"]["id"] == vm["id"] and result["virtualmachine"]["state"] == "Stopped"
    assert find_vm(api, vm["name"])["state"] == "Stopped"


def test_async_failure_carries_cloudstack_errortext(simulator):
    api = admin_api(simulator)
    vm = running_vms(api)[0]
    with pytest.raises(JobFailed) as info:
        api.run_async("startVirtualMachine", 60, action="start VM %s" % vm["name"], id=vm["id"])
    error = info.value
    assert error.errorcode == 431 and error.jobid
    assert error.errortext == "The virtual machine %s (%s) is already running" % (vm["id"], vm["displayname"])
    assert str(error).startswith("start VM %s failed: async job %s of startVirtualMachine ended with error 431" % (vm["name"], error.jobid))


def test_timeout_names_the_job_and_its_last_status(slow_simulator):
    api = admin_api(slow_simulator)
    vm = running_vms(api)[0]
    jobid = api.submit("stopVirtualMachine", id=vm["id"])
    with pytest.raises(JobTimeout) as info:
        api.wait_job(jobid, 0.3, action="stop VM %s" % vm["name"], command="stopVirtualMachine")
    assert info.value.jobid == jobid and info.value.last_status["jobstatus"] == 0
    assert jobid in str(info.value)


def test_wait_jobs_one_round_of_requests_per_tick(simulator):
    sleep = RecordingSleep()
    api = admin_api(simulator, sleep=sleep)
    web = find_vm(api, "web-01")
    db = find_vm(api, "db-01")
    assert (web["state"], db["state"]) == ("Running", "Stopped")
    calls_before = api.api_calls
    jobids = [api.submit("stopVirtualMachine", id=web["id"]), api.submit("startVirtualMachine", id=db["id"])]
    results = api.wait_jobs(jobids, 60, action="swap web-01 and db-01")
    states = dict((result["virtualmachine"]["name"], result["virtualmachine"]["state"]) for result in results.values())
    assert states == {"web-01": "Stopped", "db-01": "Running"}
    assert api.api_calls - calls_before == len(jobids) + len(sleep.calls), "one listAsyncJobs request per tick"


def test_lookups_match_exact_names_and_report_ambiguity(simulator):
    api = admin_api(simulator)
    for name in ("api-layer-web", "api-layer-web-large", "api-layer-dup", "api-layer-dup"):
        api.call("createServiceOffering", name=name, displaytext=name, cpunumber=1, cpuspeed=500, memory=512)
    assert find_service_offering(api, "api-layer-web")["name"] == "api-layer-web"
    with pytest.raises(Ambiguous) as info:
        find_service_offering(api, "api-layer-dup")
    assert len(info.value.candidates) == 2 and all(c.startswith("api-layer-dup (") for c in info.value.candidates)
    with pytest.raises(NotFound, match="VM 'no-such-vm' not found"):
        find_vm(api, "no-such-vm")
    assert find_vm(api, "no-such-vm", optional=True) is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_map_params_arrive_flattened_over_get_and_post(simulator, method):
    api = admin_api(simulator, method=method)
    answer = api.call("createServiceOffering", name="api-layer-%s" % method, displaytext="map params", cpunumber=1, cpuspeed=500,
                      memory=512, serviceofferingdetails={"pciDevice": "none", "extraConfig": "a=b c"})
    assert answer["serviceoffering"]["serviceofferingdetails"] == {"pciDevice": "none", "extraConfig": "a=b c"}

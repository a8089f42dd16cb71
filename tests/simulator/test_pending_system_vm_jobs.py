"""Jobs pending on system VMs as a client sees them: listSystemVms jobid/jobstatus and listAsyncJobs filters."""

import pytest

from simulator.testing import InProcessSimulator

from .conftest import build_seed


@pytest.fixture
def slow_sim(tmp_path):
    """The default seed's system VMs; every job waits 1 s before it runs, so it is seen pending."""
    simulator = InProcessSimulator(build_seed(tmp_path, system_vms=True), tmp_path / "state.sqlite",
                                   job_delay=1.0).start()
    yield simulator
    simulator.stop()


def proxy_vm(client):
    return client.ok("listSystemVms", systemvmtype="consoleproxy")["systemvm"][0]


def test_a_listed_system_vm_carries_the_job_in_progress_on_it(slow_sim):
    """server/.../api/ApiServer.java buildAsyncListResponse: ListSystemVMsCmd is not one of the list commands with
    a joined view, so the jobs in progress of its ApiResourceType (SystemVm; StopSystemVmCmd.getApiResourceType)
    set jobid/jobstatus on the listed object (SystemVmResponse.getObjectId); none once the job ended."""
    client = slow_sim.client()
    vm = proxy_vm(client)
    assert "jobid" not in vm
    jobid = client.ok("stopSystemVm", id=vm["id"])["jobid"]
    listed = proxy_vm(client)
    assert (listed["jobid"], listed["jobstatus"]) == (jobid, 0)
    other = client.ok("listSystemVms", systemvmtype="secondarystoragevm")["systemvm"][0]
    assert "jobid" not in other, "only the VM the job is about"
    client.wait(jobid)
    assert "jobid" not in proxy_vm(client)


def test_a_pending_scale_is_not_shown_on_the_listed_system_vm(slow_sim):
    """api/.../admin/systemvm/ScaleSystemVMCmd.java has no getApiResourceType (BaseCmd.getApiResourceType: None), so
    ApiServer.buildAsyncListResponse does not find its job among the SystemVm ones; a stop queued behind it is."""
    client = slow_sim.client()
    vm = proxy_vm(client)
    offering = client.ok("listServiceOfferings", issystem="true", name="Console Proxy Large")["serviceoffering"][0]
    scale = client.ok("scaleSystemVm", id=vm["id"], serviceofferingid=offering["id"])["jobid"]
    assert "jobid" not in proxy_vm(client)
    stop = client.ok("stopSystemVm", id=vm["id"])["jobid"]
    assert proxy_vm(client)["jobid"] == stop
    # ApiServer.queueCommand records getApiResourceId (null) and type None; AsyncJobJoinDaoImpl.newAsyncJobResponse
    # then sets no jobinstancetype/jobinstanceid
    listed = {job["jobid"]: job for job in client.ok("listAsyncJobs", listall="true")["asyncjobs"]}
    assert "jobinstancetype" not in listed[scale] and "jobinstanceid" not in listed[scale]
    assert (listed[stop]["jobinstancetype"], listed[stop]["jobinstanceid"]) == ("SystemVm", vm["id"])
    client.wait(scale)
    client.wait(stop)


def test_list_async_jobs_filters_by_keyword_and_resource(slow_sim):
    """server/.../api/query/QueryManagerImpl.java searchForAsyncJobsInternal: keyword is cmd LIKE %keyword%;
    resourcetype (ApiCommandResourceType.fromString, any case) filters the instance type, with resourceid its uuid
    (ListAsyncJobsCmd, since 4.22.1)."""
    client = slow_sim.client()
    vm = proxy_vm(client)
    stop = client.ok("stopSystemVm", id=vm["id"])["jobid"]
    listed = client.ok("listAsyncJobs", listall="true", keyword="stopsystemvmcmd")["asyncjobs"]
    assert [job["jobid"] for job in listed] == [stop]
    assert client.ok("listAsyncJobs", listall="true", keyword="ScaleSystemVMCmd") == {}
    by_resource = client.ok("listAsyncJobs", listall="true", resourcetype="systemvm", resourceid=vm["id"])
    assert [job["jobid"] for job in by_resource["asyncjobs"]] == [stop]
    assert client.ok("listAsyncJobs", listall="true", resourcetype="VirtualMachine", resourceid=vm["id"]) == {}
    assert len(client.ok("listAsyncJobs", listall="true", resourcetype="SystemVm")["asyncjobs"]) == 1
    client.wait(stop)


@pytest.mark.parametrize("params, text", [
    (dict(resourcetype="NoSuchType"), "Invalid resourcetype"),
    (dict(resourceid="not-a-uuid", resourcetype="SystemVm"), "Invalid value provided for API arg: resourceid"),
    (dict(resourceid="4d1d0b5e-6a0e-4c8e-9d4f-1a2b3c4d5e6f"),
     "resourceid parameter must be used with resourcetype parameter"),
])
def test_list_async_jobs_refuses_bad_resource_filters(slow_sim, params, text):
    """ResourceIdSupport.getResourceType ("Invalid resourcetype"), ParamProcessWorker.validateUuidString (resourceid
    has validations = UuidString), searchForAsyncJobsInternal (resourceid without resourcetype): each a 431."""
    status, body = slow_sim.client().call("listAsyncJobs", **params)
    error = next(iter(body.values()))
    assert (status, error["errorcode"], error["errortext"]) == (431, 431, text)


@pytest.mark.parametrize("version", ["4.18", "4.21", "4.22"])
def test_list_async_jobs_before_4_22_1_ignores_the_resource_filters(tmp_path, version):
    """api/.../user/job/ListAsyncJobsCmd.java declares startdate (and from 4.19 managementserverid) only, at [4.18]
    84538da27c, [4.21] f9513b47bf and [4.22] 3d6cafe193 (resourceid and resourcetype came in 4.22.1), so both are
    ignored there as undeclared parameters; keyword is BaseListCmd's."""
    simulator = InProcessSimulator(build_seed(tmp_path, system_vms=True), tmp_path / "old.sqlite",
                                   version=version).start()
    try:
        client = simulator.client()
        vm = proxy_vm(client)
        client.wait(client.ok("stopSystemVm", id=vm["id"])["jobid"])
        every = client.ok("listAsyncJobs", listall="true")["asyncjobs"]
        assert client.ok("listAsyncJobs", listall="true", resourcetype="NoSuchType", resourceid="x")["asyncjobs"] \
            == every
        assert len(client.ok("listAsyncJobs", listall="true", keyword="StopSystemVmCmd")["asyncjobs"]) == 1
    finally:
        simulator.stop()


def test_query_async_job_result_of_4_22_needs_its_jobid(tmp_path):
    """[4.22] api/.../user/job/QueryAsyncJobResultCmd.java (3d6cafe193) declares jobid required = true and no
    resourceid/resourcetype ([main] makes jobid optional and adds both, since="4.22.1"): without a jobid,
    ParamProcessWorker.processParameters answers 431 for the missing parameter; the resource pair is ignored."""
    simulator = InProcessSimulator(build_seed(tmp_path, system_vms=True), tmp_path / "old.sqlite",
                                   version="4.22").start()
    try:
        client = simulator.client()
        vm = proxy_vm(client)
        jobid = client.ok("stopSystemVm", id=vm["id"])["jobid"]
        client.wait(jobid)
        status, body = client.call("queryAsyncJobResult", resourcetype="SystemVm", resourceid=vm["id"])
        error = next(iter(body.values()))
        assert (status, error["errortext"]) == (
            431, "Unable to execute API command queryasyncjobresult due to missing parameter jobid")
        assert client.ok("queryAsyncJobResult", jobid=jobid, resourcetype="NoSuchType")["jobstatus"] == 1
    finally:
        simulator.stop()


def test_annotations_on_a_system_vm(slow_sim):
    """server/.../annotation/AnnotationManagerImpl.java addAnnotation/removeAnnotation/getAnnotationsForApiCmd and
    createAnnotationResponse (a system VM's entityname is its instance name); ApiResponseHelper.createSystemVmResponse
    sets hasannotations (AnnotationDaoImpl.hasAnnotations); AddAnnotationCmd.execute refuses an unknown EntityType."""
    client = slow_sim.client()
    vm = proxy_vm(client)
    added = client.ok("addAnnotation", entitytype="SYSTEM_VM", entityid=vm["id"], annotation="stopped by us",
                      adminsonly="true")["annotation"]
    assert (added["entityname"], added["annotation"], added["adminsonly"], added["username"]) == (
        "v-2-VM", "stopped by us", True, "admin")
    assert proxy_vm(client)["hasannotations"] is True
    listed = client.ok("listAnnotations", entitytype="SYSTEM_VM", entityid=vm["id"])["annotation"]
    assert [item["id"] for item in listed] == [added["id"]]
    assert client.ok("listAnnotations", entitytype="SYSTEM_VM", entityid=vm["id"], keyword="other") == {}
    assert client.ok("removeAnnotation", id=added["id"])["annotation"]["removed"]
    assert client.ok("listAnnotations", entitytype="SYSTEM_VM", entityid=vm["id"]) == {}
    assert proxy_vm(client)["hasannotations"] is False
    for command, params, text in (
            ("addAnnotation", dict(entitytype="SYSTEMVM", entityid=vm["id"]),
             "'SYSTEMVM' is not a valid EntityType to put annotations on"),
            ("addAnnotation", dict(entitytype="SYSTEM_VM"), "I need to have an entity to set an annotation on!"),
            ("removeAnnotation", dict(id=added["id"]), 'because "annotation" is null')):
        status, body = client.call(command, **params)
        assert status == 530 and text in next(iter(body.values()))["errortext"]

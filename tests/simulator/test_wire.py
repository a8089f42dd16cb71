"""Wire format: signatures, 401/430/431/432 texts, envelopes, content type (spec 1)."""

import json
import urllib.request

import pytest

from simulator.testing import Client

AUTH = "unable to verify user credentials and/or request signature"


@pytest.fixture(scope="module")
def admin(shared_sim):
    """Root admin client."""
    return shared_sim.client()


@pytest.fixture(scope="module")
def alice(shared_sim):
    """Client of user alice (account acme)."""
    return shared_sim.client(shared_sim.user_key, shared_sim.user_secret)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("version", [2, 3])
def test_signatures_v2_and_v3_are_accepted(admin, method, version):
    status, body = admin.call("listZones", method=method, version=version)
    assert status == 200
    assert body["listzonesresponse"]["zone"][0]["name"] == "zone-a"


def test_values_with_spaces_and_specials_are_signed_like_java(admin):
    status, body = admin.call("listVirtualMachines", keyword="no such vm +/&=*", listall="true")
    assert (status, body) == (200, {"listvirtualmachinesresponse": {}})


def test_parameter_names_are_case_insensitive(admin):
    status, body = admin.call("LISTZONES", NAME="zone-a")
    assert status == 200 and body["listzonesresponse"]["count"] == 1


def refused(client, query):
    status, body = client.send(query)
    assert status == 401
    return body


@pytest.mark.parametrize("case", ["bad key", "bad signature", "expired", "v3 without expires", "no signature",
                                  "unknown command"])
def test_auth_failures_are_401_without_cserrorcode(shared_sim, admin, case):
    client = admin
    if case == "bad key":
        client = Client(shared_sim.url, "NO-SUCH-KEY", "ADMIN-SECRET")
    if case == "bad signature":
        client = Client(shared_sim.url, shared_sim.admin_key, "WRONG-SECRET")
    query = client.signed_query("listUnicorns" if case == "unknown command" else "listZones",
                                expires_in=-60 if case == "expired" else 600)
    if case == "v3 without expires":
        del query["expires"]
    if case == "no signature":
        del query["signature"]
    body = refused(client, query)
    inner = next(iter(body.values()))
    assert inner == {"uuidList": [], "errorcode": 401, "errortext": AUTH}


def test_tampered_parameter_breaks_the_signature(admin):
    query = admin.signed_query("listZones", name="zone-a")
    query["name"] = "zone-b"
    assert refused(admin, query)["listzonesresponse"]["errortext"] == AUTH


@pytest.mark.parametrize("params, cserrorcode, text", [
    ({"serviceofferingid": "x"}, 9999,
     "Unable to execute API command scalevirtualmachine due to missing parameter id"),
    # ParamProcessWorker.validateNonEmptyString: an InvalidParameterValueException, wrapped by ApiServer with its code
    ({"id": "", "serviceofferingid": "x"}, 4350, "Invalid value provided for API arg: id"),
    ({"id": "0b9a4b7e-0000-4000-8000-000000000000", "serviceofferingid": "x"}, 9999,
     "Unable to execute API command scalevirtualmachine due to invalid value. Invalid parameter id"
     " value=0b9a4b7e-0000-4000-8000-000000000000 due to incorrect long value format, or entity does not exist or"
     " due to incorrect parameter annotation for the field in api cmd class."),
])
def test_parameter_errors_are_synchronous_431(admin, params, cserrorcode, text):
    status, body = admin.call("scaleVirtualMachine", **params)
    assert status == 431
    assert body == {"scalevirtualmachineresponse": {"uuidList": [], "errorcode": 431, "cserrorcode": cserrorcode,
                                                    "errortext": text}}
    assert "jobid" not in json.dumps(body)


def test_bad_number_is_431(admin):
    status, body = admin.call("listZones", pagesize="many")
    assert status == 431
    assert body["listzonesresponse"]["errortext"] == ("Unable to execute API command listzones due to invalid value"
                                                      " many for parameter pagesize")


def test_malformed_map_key_is_430(admin):
    status, body = admin.call("listZones", **{"details[0][1].cpuNumber": "2"})
    assert status == 430
    assert body["listzonesresponse"]["errortext"].startswith("Unable to decode parameter details[0][1].cpuNumber;")


@pytest.mark.parametrize("command", ["listHosts", "listConfigurations", "createServiceOffering",
                                     "migrateVirtualMachine"])
def test_users_get_432_on_admin_commands(shared_sim, alice, command):
    status, body = alice.call(command, name="x")
    assert status == 432
    assert body == {"errorresponse": {
        "uuidList": [], "errorcode": 432, "cserrorcode": 9999,
        "errortext": f"The API [{command}] does not exist or is not available for the account acme."}}


def test_domain_admin_also_gets_432_on_root_admin_commands(shared_sim):
    client = shared_sim.client(shared_sim.domain_admin_key, shared_sim.domain_admin_secret)
    assert client.call("listHosts")[0] == 432
    names = {vm["name"] for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]}
    assert names == {"web-01", "db-01"}


def test_users_see_the_restricted_vm_view(alice):
    vms = alice.ok("listVirtualMachines")["virtualmachine"]
    assert {vm["name"] for vm in vms} == {"web-01", "db-01"}
    for vm in vms:
        assert not {"hostid", "hostname", "instancename"} & set(vm)


def test_admin_sees_other_accounts_only_with_listall(admin):
    assert admin.ok("listVirtualMachines") == {}
    full = admin.ok("listVirtualMachines", listall="true", name="web-01")["virtualmachine"][0]
    assert full["hostname"] == "kvm-a1-01" and full["instancename"].startswith("i-")


def test_envelopes(admin):
    listed = admin.ok("listServiceOfferings", pagesize=2, page=1)
    assert listed["count"] == 6 and len(listed["serviceoffering"]) == 2
    assert admin.ok("listServiceOfferings", name="no-such") == {}
    vm = admin.ok("listVirtualMachines", listall="true", name="db-01")["virtualmachine"][0]
    submitted = admin.ok("rebootVirtualMachine", id=vm["id"])
    assert list(submitted) == ["jobid"]
    job = admin.wait(submitted["jobid"])
    # ApiAsyncJobDispatcher.runJob: an ExceptionResponse (empty uuidList, no cserrorcode); the reboot of a VM that
    # is not Running is an InvalidParameterValueException (UserVmManagerImpl.rebootVirtualMachine): 431
    assert job["jobresult"] == {"uuidList": [], "errorcode": 431, "errortext": f"The Instance {vm['id']} (db-01) is"
                                                                               " not running, unable to reboot it"}
    assert (job["jobstatus"], job["jobresultcode"], job["jobresulttype"]) == (2, 431, "object")
    assert job["cmd"] == "org.apache.cloudstack.api.command.admin.vm.RebootVMCmdByAdmin"


def test_error_headers_and_content_type(shared_sim, admin):
    query = admin.signed_query("scaleVirtualMachine")
    url = shared_sim.url + "?" + "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in query.items())
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 431
    assert caught.value.headers["X-Description"] == ("Unable to execute API command scalevirtualmachine due to"
                                                     " missing parameter id")
    assert caught.value.headers["Content-Type"] == "application/json; charset=UTF-8"
    caught.value.close()


def test_xml_is_refused_with_a_clear_error(shared_sim, admin):
    query = admin.signed_query("listZones")
    query["response"] = "xml"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(shared_sim.url + "?" + "&".join(f"{k}={v}" for k, v in query.items()), timeout=10)
    assert caught.value.code == 400
    assert b"JSON only" in caught.value.read()
    caught.value.close()


def test_list_apis_describes_what_is_implemented(admin, alice):
    apis = {api["name"]: api for api in admin.ok("listApis")["api"]}
    scale = apis["scaleVirtualMachine"]
    assert scale["isasync"] is True
    params = {p["name"]: (p["type"], p["required"]) for p in scale["params"]}
    assert params["id"] == ("uuid", True) and params["details"] == ("map", False)
    assert "serviceofferingid" in {field["name"] for field in scale["response"]}
    assert apis["changeServiceForVirtualMachine"]["isasync"] is False
    user_apis = {api["name"] for api in alice.ok("listApis")["api"]}
    assert "listHosts" not in user_apis and "scaleVirtualMachine" in user_apis


def test_user_cannot_touch_another_accounts_vm(shared_sim, admin):
    client = shared_sim.client(shared_sim.user_key, shared_sim.user_secret)
    offering = admin.ok("listServiceOfferings", name="Small")["serviceoffering"][0]["id"]
    vm = admin.ok("deployVirtualMachine", serviceofferingid=offering, zoneid=admin.ok("listZones")["zone"][0]["id"],
                  templateid=admin.ok("listTemplates", templatefilter="all")["template"][0]["id"], name="ops-01",
                  startvm="false")
    assert set(vm) == {"id", "jobid"}
    admin.wait(vm["jobid"])
    status, body = client.call("stopVirtualMachine", id=vm["id"])
    assert status == 531
    assert body["stopvirtualmachineresponse"]["cserrorcode"] == 4365


@pytest.mark.parametrize("command", ["listVirtualMachines", "listServiceOfferings", "listVolumes", "listEvents",
                                     "listDiskOfferings"])
def test_project_ids_are_uuids_of_projects(admin, command):
    """BaseListProjectAndAccountResourcesCmd projectid: UUID of ProjectResponse (ParamProcessWorker: "-1" passes as
    -1, an unknown uuid fails). The simulator has no projects."""
    status, body = admin.call(command, projectid="not-a-project")
    assert status == 431
    assert next(iter(body.values()))["errortext"] == (
        f"Unable to execute API command {command.lower()} due to invalid value. Invalid parameter projectid"
        " value=not-a-project due to incorrect long value format, or entity does not exist or due to incorrect"
        " parameter annotation for the field in api cmd class.")
    assert admin.call(command, projectid="-1", listall="true")[0] == 200


def test_empty_list_ids_are_uuids(admin):
    """ListDiskOfferingsCmd / ListIsosCmd ... id: UUID of the Cmd's entityType; none is stored, ISOs are templates."""
    assert admin.call("listDiskOfferings", id="0b9a4b7e-0000-4000-8000-000000000000")[0] == 431
    template = admin.ok("listTemplates", templatefilter="executable")["template"][0]
    assert admin.ok("listIsos", id=template["id"]) == {}


def test_capabilities_follow_the_caller(admin, alice):
    """ManagementServerImpl.listCapabilities: allowuser* flags are the account settings OR-ed with isCallerAdmin;
    apilimitinterval/apilimitmax only with api.throttling.enabled (default false)."""
    mine = alice.ok("listCapabilities")["capability"]
    root = admin.ok("listCapabilities")["capability"]
    assert (mine["allowuserviewdestroyedvm"], mine["allowuserexpungerecovervm"], mine["allowuserforcestopvm"]) == (
        False, False, True)
    assert (root["allowuserviewdestroyedvm"], root["allowuserexpungerecovervm"]) == (True, True)
    assert not {"apilimitinterval", "apilimitmax"} & set(root)
    assert (root["cloudstackversion"], root["securitygroupsenabled"]) == ("4.23.0.0", False)


def test_users_see_the_host_control_state(alice):
    """UserVmJoinDaoImpl.newUserVmResponse sets hostcontrolstate in every view (ControlState.getControlState)."""
    vms = {vm["name"]: vm for vm in alice.ok("listVirtualMachines")["virtualmachine"]}
    assert vms["web-01"]["hostcontrolstate"] == "Enabled" and "hostid" not in vms["web-01"]
    assert "hostcontrolstate" not in vms["db-01"]
    assert (vms["db-01"]["displayvm"], vms["db-01"]["bootmode"], vms["db-01"]["boottype"]) == (True, "legacy", "Bios")

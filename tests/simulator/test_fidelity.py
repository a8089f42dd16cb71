"""Texts and rules checked against CloudStack [main]: role gate, migrate, job queries, offerings' domains, VM job fields."""

import io
import re
import threading

import pytest

from simulator.testing import SimulatorProcess

from .conftest import World

DOMAIN_ADMIN = (SimulatorProcess.domain_admin_key, SimulatorProcess.domain_admin_secret)
USER = (SimulatorProcess.user_key, SimulatorProcess.user_secret)
OTHER_DOMAIN = [{"name": "other", "parent": "ROOT"}]
OTHER_USER = [{"name": "bob-acct", "domain": "other", "role": "User",
               "users": [{"username": "bob", "apikey": "BOB-KEY", "secretkey": "BOB-SECRET"}]}]


@pytest.fixture
def sim(make_sim):
    """Default seed plus a domain `other` with user bob; no dynamic scaling."""
    return make_sim(scalable=False, domains=OTHER_DOMAIN, accounts=OTHER_USER)


@pytest.fixture
def world(sim):
    """Ids of the seed's objects (root admin)."""
    return World(sim.client())


def error(client, command, **params):
    """(HTTP status, errortext) of a failing synchronous call."""
    status, body = client.call(command, **params)
    assert status != 200, body
    return status, next(iter(body.values()))["errortext"]


def job_error(client, command, **params):
    """(jobresultcode, errortext) of an async call whose job fails."""
    job = client.run(command, **params)
    assert job["jobstatus"] == 2, job
    return job["jobresultcode"], job["jobresult"]["errortext"]


@pytest.mark.parametrize("keys, command, allowed", [
    (DOMAIN_ADMIN, "listHosts", False), (DOMAIN_ADMIN, "listCapacity", False),
    (DOMAIN_ADMIN, "resetConfiguration", False), (DOMAIN_ADMIN, "migrateVirtualMachine", False),
    (DOMAIN_ADMIN, "listConfigurations", True), (DOMAIN_ADMIN, "listDomains", True),
    (USER, "listDomains", False), (USER, "listConfigurations", False), (USER, "createServiceOffering", False),
    (USER, "listVirtualMachinesMetrics", True), (USER, "updateTemplate", True),
])
def test_role_gate_follows_default_role_permissions(sim, keys, command, allowed):
    client = sim.client(*keys)
    account = "customers-admin" if keys == DOMAIN_ADMIN else "acme"
    status, body = client.call(command)
    listed = client.ok("listApis", name=command)
    if allowed:
        assert status != 432 and listed["count"] == 1
    else:
        assert (status, body) == (432, {"errorresponse": {
            "uuidList": [], "errorcode": 432, "cserrorcode": 9999,
            "errortext": f"The API [{command}] does not exist or is not available for the account {account}."}})
        assert listed == {}


def test_users_may_update_only_their_own_templates(sim, world):
    template = sim.client().ok("listTemplates", templatefilter="all")["template"][0]
    alice = sim.client(*USER)
    assert error(alice, "updateTemplate", id=template["id"], displaytext="mine") == (
        531, "Domain Admin and regular users can modify only their own Public Templates")
    assert sim.client().ok("listTemplates", templatefilter="all", id=template["id"])["template"][0]["displaytext"] \
        == template["displaytext"]


def test_domain_admin_settings_default_to_its_domain(sim, world):
    """A domain admin's updateConfiguration without ids writes at its own domain.

    ConfigurationManagerImpl.updateConfiguration(UpdateCfgCmd) picks the caller's domain for a Domain-scope key;
    UpdateCfgCmd.execute answers with the global row and setResponseScopes sets a scope only for ids passed.
    """
    dora = sim.client(*DOMAIN_ADMIN)
    key = "share.public.templates.with.other.domains"
    updated = dora.ok("updateConfiguration", name=key, value="false")["configuration"]
    assert updated["value"] == "true" and "scope" not in updated
    admin = sim.client()
    assert admin.ok("listConfigurations", name=key)["configuration"][0]["value"] == "true"
    customers = admin.ok("listDomains", name="customers")["domain"][0]["id"]
    assert admin.ok("listConfigurations", name=key, domainid=customers)["configuration"][0]["value"] == "false"
    assert dora.ok("listConfigurations", name=key)["configuration"][0]["value"] == "false"
    other = admin.ok("listDomains", name="other")["domain"][0]["id"]
    status, text = error(dora, "updateConfiguration", name=key, value="true", domainid=other)
    assert status == 531 and re.fullmatch(
        r'Account Account \[\{"id":\d+,"accountName":"customers-admin","uuid":"[0-9a-f-]{36}"\}\] does not have'
        f" permission to operate within domain id={other}", text), text
    zone = world.client.ok("listZones")["zone"][0]["id"]
    assert error(dora, "updateConfiguration", name="scale.retry", value="1", zoneid=zone) == (
        431, "cannot handle multiple IDs, provide only one ID corresponding to the scope")
    assert error(admin, "updateConfiguration", name=key) == (
        431, f"The new value for the [{key}] configuration must be given.")


def test_migrate_rules_and_texts(make_sim, tmp_path):
    node = tmp_path / "kvm-b1-01.xml"
    node.write_text("<node/>")
    sim = make_sim(scalable=False, clusters=[{"name": "cluster-b1", "hosts": [
        {"name": "kvm-b1-01", "uri": f"test://{node}"}]}])
    world = World(sim.client())
    client, web = world.client, world.vms["web-01"]["id"]
    assert job_error(client, "migrateVirtualMachine", virtualmachineid=web, hostid=world.hosts["kvm-a1-01"]["id"]) \
        == (431, "Cannot migrate VM, VM is already present on this host, please specify valid destination host to"
                 " migrate the VM")
    code, text = job_error(client, "migrateVirtualMachine", virtualmachineid=web,
                           hostid=world.hosts["kvm-b1-01"]["id"])
    assert code == 530 and re.fullmatch(
        r"Source and destination host are not in same cluster and all volumes are not on zone wide primary store,"
        r' unable to migrate to host: Host \{"id":\d+,"name":"kvm-b1-01","type":"Routing","uuid":"[0-9a-f-]{36}"\}',
        text), text
    assert job_error(client, "migrateVirtualMachine", virtualmachineid=web, autoselect="false") == (
        431, "Please specify a host or storage as destination, or pass 'autoselect=true' to automatically select a"
             " destination host which do not require storage migration")
    moved = client.run("migrateVirtualMachine", virtualmachineid=web)["jobresult"]["virtualmachine"]
    assert moved["hostname"] == "kvm-a1-02"
    sim.app.store.by_uuid("host", world.hosts["kvm-a1-01"]["id"])["resourcestate"] = "Disabled"
    instance = world.vm("web-01")["instancename"]
    assert job_error(client, "migrateVirtualMachine", virtualmachineid=web) == (
        530, f"Unable to find suitable destination to migrate VM {instance}")
    assert job_error(client, "migrateVirtualMachine", virtualmachineid=web, hostid=world.hosts["kvm-a1-01"]["id"]) \
        == (431, "Cannot migrate VM, destination host is not in correct state, has status: Up, state: Disabled")
    assert world.vm("web-01")["hostname"] == "kvm-a1-02"


def test_query_job_by_resource_and_its_errors(sim, world):
    admin, alice = sim.client(), sim.client(*USER)
    web = world.vms["web-01"]["id"]
    first = alice.run("stopVirtualMachine", id=web)
    second = alice.run("startVirtualMachine", id=web)
    by_resource = alice.ok("queryAsyncJobResult", resourcetype="VirtualMachine", resourceid=web)
    assert by_resource["jobid"] == second["jobid"] != first["jobid"]
    assert error(alice, "queryAsyncJobResult") == (
        431, "Expected parameter job id or parameters resource type and resource id")
    assert error(alice, "queryAsyncJobResult", resourceid=web) == (431, "Both resourceid and resourcetype required")
    assert error(alice, "queryAsyncJobResult", resourcetype="Spaceship", resourceid=web) == (
        431, "Invalid resourcetype")
    assert error(alice, "queryAsyncJobResult", resourcetype="VirtualMachine", resourceid="web-01") == (
        431, "Invalid value provided for API arg: resourceid")
    db = world.vms["db-01"]["id"]
    job_id = sim.app.store.by_uuid("job", first["jobid"])["id"]
    assert error(alice, "queryAsyncJobResult", jobid=first["jobid"], resourcetype="VirtualMachine", resourceid=db) \
        == (431, f"Unable to find a job by id {job_id} resource type VirtualMachine resource id {db}")
    admin_job = admin.run("rebootVirtualMachine", id=web)
    admin_job_id = sim.app.store.by_uuid("job", admin_job["jobid"])["id"]
    status, text = error(alice, "queryAsyncJobResult", jobid=admin_job["jobid"])
    assert status == 531 and re.fullmatch(
        r'Account Account \[\{"id":\d+,"accountName":"acme","uuid":"[0-9a-f-]{36}"\}\] is not authorized to see job'
        f" id={admin_job_id}", text), text
    bob = sim.client("BOB-KEY", "BOB-SECRET")
    assert error(bob, "queryAsyncJobResult", resourcetype="VirtualMachine", resourceid=web) == (
        531, "Caller does not have permission to operate with provided resource.")


def test_offerings_linked_to_domains_and_zones(sim, world):
    admin, alice, bob = sim.client(), sim.client(*USER), sim.client("BOB-KEY", "BOB-SECRET")
    customers = admin.ok("listDomains", name="customers")["domain"][0]
    zone = admin.ok("listZones")["zone"][0]
    created = admin.ok("createServiceOffering", name="Gold", cpunumber=2, cpuspeed=1000, memory=2048,
                       domainid=customers["id"], zoneid=zone["id"])["serviceoffering"]
    assert (created["domainid"], created["domain"], created["zoneid"], created["zone"]) == (
        customers["id"], "customers", zone["id"], "zone-a")
    assert list(created).index("isvolatile") < list(created).index("domainid") < list(created).index("issystem")
    assert "Gold" in {o["name"] for o in alice.ok("listServiceOfferings")["serviceoffering"]}
    assert "Gold" not in {o["name"] for o in bob.ok("listServiceOfferings")["serviceoffering"]}
    public = admin.ok("updateServiceOffering", id=created["id"], domainid="public", zoneid="all",
                      state="inactive")["serviceoffering"]
    assert not {"domainid", "domain", "zoneid", "zone"} & set(public) and public["state"] == "Inactive"
    assert error(admin, "updateServiceOffering", id=created["id"], domainid="not-a-domain") == (
        431, "Failed to create service offering because invalid domain has been specified.")
    assert error(admin, "updateServiceOffering", id=created["id"], zoneid="not-a-zone") == (
        431, "Failed to create service offering because invalid zone has been specified.")
    assert error(admin, "updateServiceOffering", id=created["id"], state="Retired") == (
        431, "Invalid state value: Retired")
    status, text = error(admin, "createServiceOffering", name="Bad", cpunumber=1, cpuspeed=1000, memory=512,
                         domainid="not-a-domain")
    assert status == 431 and "Invalid parameter domainid value=not-a-domain" in text
    web_domain = admin.ok("listDomains", name="other")["domain"][0]["id"]
    small = world.offerings["Small"]
    assert error(admin, "updateServiceOffering", id=small, domainid=web_domain) == (
        530, "There are Instances associated to this service offering outside of the specified domains.")


def test_domain_admin_offering_rules(sim, world):
    admin, dora = sim.client(), sim.client(*DOMAIN_ADMIN)
    customers = admin.ok("listDomains", name="customers")["domain"][0]["id"]
    other = admin.ok("listDomains", name="other")["domain"][0]["id"]
    user = r'User \{"id":\d+,"username":"dora","uuid":"[0-9a-f-]{36}"\}\.'
    offering = r'Service offering \{"id":\d+,"uuid":"[0-9a-f-]{36}","name":"Small"\}\.'
    size = {"cpunumber": 1, "cpuspeed": 1000, "memory": 512}
    checks = [
        (error(dora, "createServiceOffering", name="Pub", **size),
         f"Unable to create public service offering by admin: {user} because it is domain-admin"),
        (error(dora, "createServiceOffering", name="Tagged", domainid=customers, hosttags="ssd", **size),
         f"User \\[{user}\\] is unable to create service offerings with storage tags or host tags\\."),
        (error(dora, "createServiceOffering", name="Foreign", domainid=other, **size),
         f"Unable to create service offering by another domain-admin: {user} for domain: {other}"),
        (error(dora, "updateServiceOffering", id=world.offerings["Small"], name="Tiny"),
         f"Unable to update public service offering: {offering} by user: {user} because it is domain-admin"),
        (error(dora, "deleteServiceOffering", id=world.offerings["Small"]),
         f"Unable to delete public service offering: {offering} by admin: {user} because it is domain-admin"),
    ]
    for (status, text), pattern in checks:
        assert status == 431 and re.fullmatch(pattern, text), text
    own = dora.ok("createServiceOffering", name="Team", domainid=customers, **size)["serviceoffering"]
    assert own["domainid"] == customers
    assert dora.ok("updateServiceOffering", id=own["id"], name="Team L")["serviceoffering"]["name"] == "Team L"
    status, text = error(dora, "updateServiceOffering", id=own["id"], domainid="public")
    assert status == 431 and "to a public offering by user" in text
    assert dora.ok("deleteServiceOffering", id=own["id"]) == {"success": True}


def test_vm_times_and_pending_job_fields(sim, world):
    admin = sim.client()
    web = world.vm("web-01")
    assert web["created"] and web["lastupdated"] and "jobid" not in web
    gate = threading.Event()
    sim.app.jobs.delay, sim.app.jobs.sleep = 1, lambda seconds: gate.wait(30)
    try:
        jobid = admin.ok("stopVirtualMachine", id=web["id"])["jobid"]
        pending = world.vm("web-01")
        assert (pending["jobid"], pending["jobstatus"], pending["state"]) == (jobid, 0, "Running")
    finally:
        gate.set()
    job = admin.wait(jobid)
    assert job["jobresult"]["virtualmachine"]["jobid"] == jobid
    stopped = world.vm("web-01")
    assert "jobid" not in stopped and "jobstatus" not in stopped
    assert stopped["state"] == "Stopped" and stopped["lastupdated"] >= web["lastupdated"]
    assert sim.app.store.by_uuid("vm", web["id"])["lastupdated"] is not None


def test_simulator_output_is_drained_and_bounded():
    process = SimulatorProcess()
    process.output = ["simulator ready on http://127.0.0.1:1/client/api\n"]
    stream = io.StringIO("".join(f"warning {n}\n" for n in range(500)))
    process._drain(stream)  # pylint: disable=protected-access
    assert stream.closed
    assert len(process.output) == 200 and process.output[-1] == "warning 499\n" and process.output[0] == "warning 300\n"


def test_parameter_declarations_follow_the_command_classes(sim, world):
    admin = sim.client()
    status, text = error(admin, "listNics")
    assert (status, text) == (431, "Unable to execute API command listnics due to missing parameter virtualmachineid")
    assert error(admin, "deployVirtualMachine", serviceofferingid=world.offerings["Small"],
                 zoneid=admin.ok("listZones")["zone"][0]["id"]) == (
        530, "Please provide only one of the following parameters - template ID, volume ID or snapshot ID")
    apis = {api["name"]: {p["name"]: p["required"] for p in api["params"]} for api in admin.ok("listApis")["api"]}
    assert "listall" not in apis["listHosts"] and apis["listVirtualMachines"]["listall"] is False
    assert apis["queryAsyncJobResult"] == {"jobid": False, "resourceid": False, "resourcetype": False}
    assert apis["deployVirtualMachine"]["templateid"] is False and "listIsos" in apis


def test_unknown_template_filter_is_javas_enum_error(sim):
    status, body = sim.client().call("listTemplates", templatefilter="mine")
    assert (status, body["listtemplatesresponse"]["cserrorcode"], body["listtemplatesresponse"]["errortext"]) == (
        431, 9999, "No enum constant com.cloud.template.VirtualMachineTemplate.TemplateFilter.mine")


def test_start_without_capacity_texts(make_sim):
    hosts = [{"name": "kvm-a1-01", "cores": 2, "cpu_mhz": 2400, "memory_mib": 1024},
             {"name": "kvm-a1-02", "cores": 2, "cpu_mhz": 2400, "memory_mib": 1024}]
    sim = make_sim(scalable=False, hosts=hosts)
    world = World(sim.client())
    db = world.vms["db-01"]
    refusal = (r'Unable to create a deployment for VM instance \{"id":\d+,"state":"Starting","instanceName":"i-\d+-\d+-VM",'
               r'"type":"User","uuid":"[0-9a-f-]{36}"\} after 1 attempts')
    code, text = job_error(world.client, "startVirtualMachine", id=db["id"])
    assert code == 530 and re.fullmatch(rf"Unable to start a VM \[{db['id']}\] due to \[{refusal}\]\.", text), text
    assert job_error(sim.client(*USER), "startVirtualMachine", id=db["id"]) == (
        530, f"Unable to start a VM [{db['id']}] due to insufficient capacity.")
    template = world.client.ok("listTemplates", templatefilter="all")["template"][0]["id"]
    code, text = job_error(world.client, "deployVirtualMachine", serviceofferingid=world.offerings["Medium"],
                           templateid=template, zoneid=db["zoneid"], name="big-01")
    assert code == 533 and re.fullmatch(refusal, text), text
    assert world.vm("db-01")["state"] == "Stopped"


def test_deploy_for_another_account(sim, world):
    admin, alice = sim.client(), sim.client(*USER)
    customers = admin.ok("listDomains", name="customers")["domain"][0]["id"]
    other = admin.ok("listDomains", name="other")["domain"][0]["id"]
    template = admin.ok("listTemplates", templatefilter="all")["template"][0]["id"]
    base = {"serviceofferingid": world.offerings["Small"], "templateid": template, "startvm": "false",
            "zoneid": admin.ok("listZones")["zone"][0]["id"]}
    assert error(admin, "deployVirtualMachine", account="acme", **base) == (
        431, "Account must be specified with domainId parameter")
    assert error(admin, "deployVirtualMachine", account="nobody", domainid=customers, **base) == (
        431, "Unable to find account by name nobody in domain with specified id")
    assert error(alice, "deployVirtualMachine", account="bob-acct", domainid=other, **base) == (
        531, "Caller does not have permission to operate with provided resource.")
    created = admin.ok("deployVirtualMachine", account="acme", domainid=customers, name="acme-02", **base)
    assert admin.wait(created["jobid"])["jobresult"]["virtualmachine"]["account"] == "acme"


def test_events_follow_the_acl_search_parameters(sim, world):
    """QueryManagerImpl.searchForEventIdsAndCount -> AccountManagerImpl.buildACLSearchParameters: without listall,
    domainid or account every caller, the root admin too, lists its own account's events. The Scheduled event of a
    job is the VM owner's (ApiServer.processAsyncCmd: getEntityOwnerId), its Started and Completed ones the caller's
    (ActionEventUtils.getOwnerAccountId: the calling account)."""
    admin = sim.client()
    web_id = world.vms["web-01"]["id"]
    assert admin.run("stopVirtualMachine", id=web_id)["jobstatus"] == 1
    own = [e["state"] for e in admin.ok("listEvents").get("event", []) if e["type"] == "VM.STOP"]
    assert own == ["Completed", "Started"]
    listed = admin.ok("listEvents", listall="true", resourceid=web_id, resourcetype="VirtualMachine")["event"]
    assert [(e["type"], e["state"], e["account"]) for e in listed] == [
        ("VM.STOP", "Completed", "admin"), ("VM.STOP", "Started", "admin"), ("VM.STOP", "Scheduled", "acme")]
    assert admin.ok("listEvents", account="acme", domainid=world.vms["web-01"]["domainid"])["count"] >= 1
    dora = sim.client(*DOMAIN_ADMIN)
    assert dora.ok("listEvents", listall="true", keyword="vm.st")["event"][0]["type"] == "VM.STOP"


@pytest.mark.parametrize("params, text", [
    ({"resourceid": "0b9a4b7e-0000-4000-8000-000000000000"},
     "resourceid parameter must be used with resourcetype parameter"),
    ({"resourceid": "web-01", "resourcetype": "VirtualMachine"}, "Invalid resourceid"),
    ({"resourceid": "0b9a4b7e-0000-4000-8000-000000000000", "resourcetype": "VirtualMachine"}, "Invalid resourceid"),
    ({"resourcetype": "Spaceship"}, "Invalid resourcetype"),
    ({"state": "completed"}, "Invalid state specified: completed"),
])
def test_event_parameter_errors(sim, params, text):
    """searchForEventIdsAndCount and ResourceIdSupport.getResourceUuid/getResourceType: 431 InvalidParameterValue."""
    status, body = sim.client().call("listEvents", **params)
    error = body["listeventsresponse"]
    assert (status, error["cserrorcode"], error["errortext"]) == (431, 4350, text)

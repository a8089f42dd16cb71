"""The action events of API commands as listEvents shows them (simulator/events.py).

CloudStack: ``ApiServer.processAsyncCmd`` writes a Scheduled event for every async command
(``ActionEventUtils.onScheduledActionEvent``: the command's getEventType/getEventDescription, owned by its
getEntityOwnerId, about its getApiResourceType/getApiResourceId); the job's @ActionEvent method gets a Started event
(``ActionEventInterceptor.interceptStart``, async annotations only) and a Completed one (``interceptComplete`` /
``interceptException``), both the caller's and linked to the Scheduled one (``EventJoinDaoImpl.newEventResponse``
parentid). server/src/main/java/com/cloud/event/ActionEventUtils.java, ActionEventInterceptor.java.
"""

import pytest

from .conftest import World

ROOT_ACCOUNT = "admin"


@pytest.fixture
def sim(make_sim):
    return make_sim(system_vms=True)


@pytest.fixture
def world(sim):
    return World(sim.client())


def events_of(client, resource_id, resource_type="VirtualMachine", **params):
    """(type, state, level, description, account) of a resource's events, newest first, and the raw rows."""
    rows = client.ok("listEvents", listall="true", resourceid=resource_id, resourcetype=resource_type,
                     **params).get("event", [])
    return [(e["type"], e["state"], e["level"], e["description"], e["account"]) for e in rows], rows


def test_an_async_command_writes_scheduled_started_and_completed(world):
    """ApiServer.processAsyncCmd (StopVMCmd.getEventDescription, owner: the VM's account), then
    UserVmManagerImpl.stopVirtualMachine @ActionEvent(VM.STOP, "stopping Vm", async) with StopVMCmd.execute's
    details: Started capitalized (ActionEventInterceptor.getEventDescription), both of the calling root admin."""
    vm_id = world.vms["web-01"]["id"]
    assert world.client.run("stopVirtualMachine", id=vm_id)["jobstatus"] == 1
    seen, rows = events_of(world.client, vm_id)
    assert seen == [
        ("VM.STOP", "Completed", "INFO", f"Successfully completed stopping Vm. Instance ID: {vm_id}", ROOT_ACCOUNT),
        ("VM.STOP", "Started", "INFO", f"Stopping Vm. Instance ID: {vm_id}", ROOT_ACCOUNT),
        ("VM.STOP", "Scheduled", "INFO", f"Stopping User Instance with ID: {vm_id}", "acme")]
    scheduled = rows[2]
    assert "parentid" not in scheduled and [row["parentid"] for row in rows[:2]] == [scheduled["id"]] * 2
    assert {(row["resourceid"], row["resourcetype"], row["username"]) for row in rows} == {
        (vm_id, "VirtualMachine", "admin")}


def test_a_failing_job_completes_with_an_error_event(world):
    """UserVmManagerImpl.rebootVirtualMachine throws inside its @ActionEvent: interceptException writes the ERROR
    "Error while rebooting Vm. Instance ID: <uuid>" (RebootVMCmd.execute set the details before)."""
    vm_id = world.vms["web-01"]["id"]
    assert world.client.run("stopVirtualMachine", id=vm_id)["jobstatus"] == 1
    assert world.client.run("rebootVirtualMachine", id=vm_id)["jobstatus"] == 2
    seen, _rows = events_of(world.client, vm_id)
    assert seen[:2] == [
        ("VM.REBOOT", "Completed", "ERROR", f"Error while rebooting Vm. Instance ID: {vm_id}", ROOT_ACCOUNT),
        ("VM.REBOOT", "Started", "INFO", f"Rebooting Vm. Instance ID: {vm_id}", ROOT_ACCOUNT)]
    assert seen[2][:2] == ("VM.REBOOT", "Scheduled")


def test_scale_events_and_the_started_one_before_its_details(world):
    """ScaleVMCmd.getEventDescription for the Scheduled event; UserVmManagerImpl.upgradeVirtualMachine(ScaleVMCmd)
    sets its details inside the method, so only the Completed event has them."""
    vm_id, offering = world.vms["web-01"]["id"], world.offerings["Medium"]
    assert world.scale("web-01", "Medium")["jobstatus"] == 1
    seen, _rows = events_of(world.client, vm_id, type="VM.UPGRADE")
    assert [text for _kind, _state, _level, text, _account in seen] == [
        f"Successfully completed Upgrading VM. Vm Id: {vm_id}", "Upgrading VM",
        f"Upgrading Instance with ID: {vm_id} to service offering with ID: {offering}"]


def test_a_sync_command_writes_only_the_completed_event(world):
    """changeServiceForVirtualMachine (UpgradeVMCmd, not async): @ActionEvent(VM.UPGRADE, "upgrading Vm") without
    async, no job: no Scheduled or Started event and no parent (start event id 0)."""
    vm_id = world.vms["web-01"]["id"]
    assert world.client.run("stopVirtualMachine", id=vm_id)["jobstatus"] == 1
    world.client.ok("changeServiceForVirtualMachine", id=vm_id, serviceofferingid=world.offerings["Medium"])
    seen, rows = events_of(world.client, vm_id)
    assert seen[0] == ("VM.UPGRADE", "Completed", "INFO", f"Successfully completed upgrading Vm. Instance ID: {vm_id}",
                       ROOT_ACCOUNT)
    assert "parentid" not in rows[0] and seen[1][:2] == ("VM.STOP", "Completed")


@pytest.mark.parametrize("startvm, expected", [
    (True, ["Successfully completed deploying Vm. Instance ID: {id}", "Deploying Vm. Instance ID: {id}",
            "Starting Instance with ID: {id}"]),
    (False, ["Successfully completed deploying Vm. Instance ID: {id}", "Deploying Instance with ID: {id}"])])
def test_deploy_events(world, startvm, expected):
    """BaseDeployVMCmd.getEventDescription; DeployVMCmd.execute: startVirtualMachine(DeployVMCmd)
    (@ActionEvent VM.CREATE "deploying Vm", async) or finalizeCreateVirtualMachine (not async); the create step
    (UserVmManagerImpl.createVirtualMachine(DeployVMCmd)) carries no @ActionEvent: no Created event."""
    created = world.client.ok("deployVirtualMachine", serviceofferingid=world.offerings["Small"],
                              templateid=world.vms["web-01"]["templateid"], zoneid=world.vms["web-01"]["zoneid"],
                              startvm=str(startvm).lower())
    assert world.client.wait(created["jobid"])["jobstatus"] == 1
    seen, _rows = events_of(world.client, created["id"])
    assert [text for _kind, _state, _level, text, _account in seen] == [
        text.format(id=created["id"]) for text in expected]
    assert {kind for kind, *_rest in seen} == {"VM.CREATE"}


def test_migrate_events_name_the_vm_by_its_database_id(sim, world):
    """MigrateVMCmd.getEventDescription (uuids), and its execute's setEventDetails("Instance Id: " + the VM's
    database id + " to host with ID: " + host uuid) for migrateVirtualMachine's @ActionEvent(VM.MIGRATE)."""
    vm_id, host = world.vms["web-01"]["id"], world.hosts["kvm-a1-02"]["id"]
    db_id = sim.app.store.by_uuid("vm", vm_id)["id"]
    assert world.client.run("migrateVirtualMachine", virtualmachineid=vm_id, hostid=host)["jobstatus"] == 1
    seen, _rows = events_of(world.client, vm_id)
    details = f"Instance Id: {db_id} to host with ID: {host}"
    assert [text for _kind, _state, _level, text, _account in seen] == [
        f"Successfully completed migrating VM. {details}", f"Migrating VM. {details}",
        f"Attempting to migrate Instance with ID: {vm_id} to host with ID: {host}"]


def test_system_vm_events_follow_the_nested_action_event(world):
    """ManagementServerImpl.stopSystemVM (@ActionEvent "", async) calls startNestedActionEvent(PROXY.STOP,
    "stopping console proxy VM", id, ConsoleProxy): a Started event about a ConsoleProxy, the Completed one with that
    type and description plus StopSystemVmCmd's details about the SystemVm (ApiDispatcher's resource);
    rebootSystemVM has no @ActionEvent: a Started event only."""
    client = world.client
    proxy = client.ok("listSystemVms", systemvmtype="consoleproxy")["systemvm"][0]["id"]
    assert client.run("stopSystemVm", id=proxy)["jobstatus"] == 1
    assert client.run("startSystemVm", id=proxy)["jobstatus"] == 1
    assert client.run("rebootSystemVm", id=proxy)["jobstatus"] == 1
    rows = client.ok("listEvents", listall="true", keyword="PROXY.")["event"]
    seen = [(e["type"], e["state"], e["description"], e["resourcetype"]) for e in rows]
    details = f"Instance ID: {proxy}"
    assert seen == [
        ("PROXY.REBOOT", "Started", "rebooting console proxy VM", "ConsoleProxy"),
        ("PROXY.REBOOT", "Scheduled", f"Rebooting System VM with ID: {proxy}", "SystemVm"),
        ("PROXY.START", "Completed", f"Successfully completed starting console proxy Vm. {details}", "SystemVm"),
        ("PROXY.START", "Started", "starting console proxy Vm", "ConsoleProxy"),
        ("PROXY.START", "Scheduled", f"Starting System VM with ID: {proxy}", "SystemVm"),
        ("PROXY.STOP", "Completed", f"Successfully completed stopping console proxy VM. {details}", "SystemVm"),
        ("PROXY.STOP", "Started", "stopping console proxy VM", "ConsoleProxy"),
        ("PROXY.STOP", "Scheduled", f"Stopping System VM with ID: {proxy}", "SystemVm")]
    assert {e["resourceid"] for e in rows} == {proxy}


def test_resourcetype_filters_alone_and_takes_any_resource_type(world):
    """QueryManagerImpl.searchForEventIdsAndCount: resourceType is a filter of its own; ResourceIdSupport
    .getResourceType takes any ApiCommandResourceType (ignoring case); a SystemVm type names the VirtualMachine
    class, so a user VM's uuid is found yet its events (VirtualMachine) are not of that type."""
    client, vm_id = world.client, world.vms["web-01"]["id"]
    assert client.run("stopVirtualMachine", id=vm_id)["jobstatus"] == 1
    typed = client.ok("listEvents", listall="true", resourcetype="virtualmachine")["event"]
    assert typed and {e["resourcetype"] for e in typed} == {"VirtualMachine"}
    assert client.ok("listEvents", listall="true", resourcetype="Volume").get("event", []) == []
    assert client.ok("listEvents", listall="true", resourceid=vm_id, resourcetype="SystemVm").get("event", []) == []
    host = world.hosts["kvm-a1-01"]["id"]
    assert client.ok("listEvents", listall="true", resourceid=host, resourcetype="Host").get("event", []) == []


@pytest.mark.parametrize("params, text", [
    ({"resourceid": "1-2-3-4-5"}, "resourceid parameter must be used with resourcetype parameter"),
    ({"resourceid": "0123456789abcdef0123456789abcdef"}, "Invalid resourceid"),
    ({"resourceid": "1-2-3-4-5", "resourcetype": "Volume"}, "Invalid resourceid"),
    ({"resourceid": "  ", "resourcetype": "Spaceship"}, "Invalid resourcetype"),
])
def test_resource_parameter_checks(sim, params, text):
    """ResourceIdSupport.getResourceUuid: java.util.UUID.fromString (five hex parts; no 32-digit form); blank values
    count as absent; searchForEventIdsAndCount: an unknown object is an invalid resourceid."""
    status, body = sim.client().call("listEvents", **params)
    assert (status, body["listeventsresponse"]["errortext"]) == (431, text)


def test_startid_lists_the_start_event_and_its_children(world):
    """ListEventsCmd startid: the event with that id or that start id (searchForEventIdsAndCount)."""
    client, vm_id = world.client, world.vms["web-01"]["id"]
    assert client.run("stopVirtualMachine", id=vm_id)["jobstatus"] == 1
    assert client.run("startVirtualMachine", id=vm_id)["jobstatus"] == 1
    _seen, rows = events_of(client, vm_id, type="VM.STOP")
    scheduled = rows[-1]
    listed = client.ok("listEvents", listall="true", startid=scheduled["id"])["event"]
    assert [(e["type"], e["state"]) for e in listed] == [
        ("VM.STOP", "Completed"), ("VM.STOP", "Started"), ("VM.STOP", "Scheduled")]


def test_scale_with_migration_writes_no_migrate_event(make_sim):
    """VirtualMachineManagerImpl.migrateForScale (findHostAndMigrate) carries no @ActionEvent: a scale that moves
    the VM first writes only its VM.UPGRADE events."""
    from .test_scaling import capacity_world  # pylint: disable=import-outside-toplevel

    world = capacity_world(make_sim)
    assert world.scale("web-01", "Large")["jobstatus"] == 1
    seen, _rows = events_of(world.client, world.vms["web-01"]["id"])
    assert world.vm("web-01")["hostname"] == "kvm-a1-02"
    assert [tuple(row[:2]) for row in seen[:3]] == [
        ("VM.UPGRADE", "Completed"), ("VM.UPGRADE", "Started"), ("VM.UPGRADE", "Scheduled")]
    assert "VM.MIGRATE" not in {kind for kind, *_rest in seen}


def test_query_async_job_result_takes_any_resource_type(sim):
    """ResourceIdSupport.getResourceId (queryAsyncJobResult): any ApiCommandResourceType name is a type; a uuid of
    no object of its class is an invalid resourceid, a name that is none an invalid resourcetype."""
    client, uuid = sim.client(), "0b9a4b7e-0000-4000-8000-000000000000"
    for kind, text in (("Volume", "Invalid resourceid"), ("Spaceship", "Invalid resourcetype")):
        status, body = client.call("queryAsyncJobResult", resourcetype=kind, resourceid=uuid)
        assert (status, body["queryasyncjobresultresponse"]["errortext"]) == (431, text)

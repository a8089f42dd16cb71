"""VM lifecycle: state machine (spec 5), deploy flag (2.13), update rules (2.4), libvirt parity and restart."""

import re

import pytest

from simulator import vmops
from simulator.testing import InProcessSimulator

from .conftest import World, build_seed


def view(sim, vm_id):
    """libvirt's view of a VM's domain, or None."""
    vm = sim.app.store.by_uuid("vm", vm_id)
    return vmops.view(sim.app, vm) if vm.get("host_id") else None


@pytest.fixture
def world(make_sim):
    """Default VMs (web-01 Running, db-01 Stopped), all scaling flags at CloudStack's defaults."""
    sim = make_sim(scalable=False)
    world = World(sim.client())
    world.sim = sim
    return world


def test_start_stop_migrate_keep_libvirt_in_step(world):
    client, sim = world.client, world.sim
    db_id = world.vms["db-01"]["id"]
    started = client.run("startVirtualMachine", id=db_id)["jobresult"]["virtualmachine"]
    assert started["state"] == "Running"
    domain = view(sim, db_id)
    assert (domain.running, domain.vcpus, domain.memory_mib, domain.max_memory_mib) == (True, 2, 2048, None)
    target = next(h for h in world.hosts.values() if h["id"] != started["hostid"])
    migrated = client.run("migrateVirtualMachine", virtualmachineid=db_id, hostid=target["id"])
    assert migrated["jobresult"]["virtualmachine"]["hostid"] == target["id"]
    assert view(sim, db_id).vcpus == 2
    source = sim.app.store.by_uuid("host", started["hostid"])
    assert vmops.agent_of(sim.app, source).view(started["instancename"]) is None
    stopped = client.run("stopVirtualMachine", id=db_id)["jobresult"]["virtualmachine"]
    assert stopped["state"] == "Stopped" and "hostid" not in stopped
    target_host = sim.app.store.by_uuid("host", target["id"])
    assert vmops.agent_of(sim.app, target_host).view(started["instancename"]) is None


@pytest.mark.parametrize("command, params, code, text", [
    ("startVirtualMachine", {}, 431, r"The virtual machine [0-9a-f-]{36} \(web-01\) is already running"),
    # UserVmManagerImpl.rebootVirtualMachine: InvalidParameterValueException, 431 in the job
    ("rebootVirtualMachine", {"vm": "db-01"}, 431,
     r"The Instance [0-9a-f-]{36} \(db-01\) is not running, unable to reboot it"),
    ("migrateVirtualMachine", {"vm": "db-01", "autoselect": "true"}, 431,
     r"VM is not Running, unable to migrate the vm with specified id"),
])
def test_illegal_operations(world, command, params, code, text):
    params = dict(params)
    vm_id = world.vms[params.pop("vm", "web-01")]["id"]
    key = "virtualmachineid" if command == "migrateVirtualMachine" else "id"
    job = world.client.run(command, **{key: vm_id}, **params)
    assert job["jobstatus"] == 2 and job["jobresultcode"] == code
    assert re.fullmatch(text, job["jobresult"]["errortext"]), job["jobresult"]["errortext"]


def test_destroyed_vm_cannot_start_and_expunge_removes_it(world):
    client = world.client
    db_id = world.vms["db-01"]["id"]
    destroyed = client.run("destroyVirtualMachine", id=db_id)["jobresult"]["virtualmachine"]
    assert destroyed["state"] == "Destroyed"
    again = client.run("destroyVirtualMachine", id=db_id)
    assert again["jobstatus"] == 1 and again["jobresult"]["virtualmachine"]["state"] == "Destroyed"
    job = client.run("startVirtualMachine", id=db_id)
    assert job["jobresult"] == {"uuidList": [], "errorcode": 530,
                                "errortext": "Unable to transition to a new state from Destroyed via StartRequested"}
    alice = world.sim.client(world.sim.user_key, world.sim.user_secret)
    assert {vm["name"] for vm in alice.ok("listVirtualMachines")["virtualmachine"]} == {"web-01"}
    client.run("destroyVirtualMachine", id=db_id, expunge="true")
    assert client.call("listVirtualMachines", id=db_id)[0] == 431


def test_deploy_flag_needs_all_four_conditions(world):
    client = world.client
    zone = world.hosts["kvm-a1-01"]["zoneid"]
    template = world.vms["web-01"]["templateid"]

    def deploy(name, offering="Small", **params):
        created = client.ok("deployVirtualMachine", name=name, zoneid=zone, templateid=template,
                            serviceofferingid=world.offerings[offering], **params)
        return client.wait(created["jobid"])["jobresult"]["virtualmachine"]
    assert deploy("app-01")["isdynamicallyscalable"] is False
    client.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="true", zoneid=zone)
    client.ok("updateTemplate", id=template, isdynamicallyscalable="true")
    scalable = deploy("app-02")
    assert scalable["isdynamicallyscalable"] is True and scalable["state"] == "Running"
    domain = view(world.sim, scalable["id"])
    assert (domain.max_vcpus, domain.max_memory_mib) == (16, 65536)
    assert deploy("app-03", dynamicscalingenabled="false")["isdynamicallyscalable"] is False
    assert deploy("app-04", offering="Small NoScale")["isdynamicallyscalable"] is False
    client.ok("updateConfiguration", name="kvm.cpu.dynamic.scaling.capacity", value="6",
              clusterid=world.hosts["kvm-a1-01"]["clusterid"])
    assert view(world.sim, deploy("app-05")["id"]).max_vcpus == 6


@pytest.mark.parametrize("fix, text", [
    ((), "Dynamic Scaling cannot be enabled for the Instance since its Template does not have dynamic scaling"
         " enabled"),
    (("template",), "Dynamic Scaling cannot be enabled for the VM since corresponding global setting is set to"
                    " false"),
])
def test_update_vm_flag_rules(world, fix, text):
    client = world.client
    if "template" in fix:
        client.ok("updateTemplate", id=world.vms["web-01"]["templateid"], isdynamicallyscalable="true")
    status, body = client.call("updateVirtualMachine", id=world.vms["web-01"]["id"], isdynamicallyscalable="true")
    assert (status, body["updatevirtualmachineresponse"]["errortext"]) == (431, text)
    assert world.vm("web-01")["isdynamicallyscalable"] is False


def test_update_vm_flag_refused_for_offering_without_dynamic_scaling(world):
    client = world.client
    db_id = world.vms["db-01"]["id"]
    client.ok("updateTemplate", id=world.vms["db-01"]["templateid"], isdynamicallyscalable="true")
    client.ok("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["Small NoScale"])
    status, body = client.call("updateVirtualMachine", id=db_id, isdynamicallyscalable="true")
    assert status == 431
    assert body["updatevirtualmachineresponse"]["errortext"] == (
        "Dynamic Scaling cannot be enabled for the Instance since its service offering does not have dynamic"
        " scaling enabled")


def test_restart_recreates_running_domains(tmp_path):
    seed = build_seed(tmp_path)
    db = tmp_path / "state.sqlite"
    with InProcessSimulator(seed, db) as sim:
        world = World(sim.client())
        job = world.scale("web-01", "Medium")
        assert job["jobstatus"] == 1
        web = world.vm("web-01")
        assert view(sim, web["id"]) is not None
    assert vmops.agent_of(sim.app, sim.app.store.get("host", 1)).view(web["instancename"]) is None
    with InProcessSimulator(seed, db) as again:
        domain = view(again, web["id"])
        assert (domain.running, domain.vcpus, domain.memory_mib, domain.max_vcpus) == (True, 2, 2048, 16)


def test_capacity_and_account_fields(world):
    client = world.client
    host = client.ok("listHosts", name="kvm-a1-01")["host"][0]
    assert (host["cpuallocated"], host["cpuallocatedvalue"], host["cpuwithoverprovisioning"]) == ("2.6%", 1000, "38400")
    assert (host["memorytotal"], host["memoryallocated"], host["memoryallocatedpercentage"]) == (
        65536 * 1024 * 1024, 1024 * 1024 * 1024, "1.56%")
    idle = client.ok("listHosts", name="kvm-a1-02")["host"][0]
    assert idle["cpuallocated"] == "0.00%"
    admin_account = client.ok("listAccounts", name="admin", listall="true")["account"][0]
    assert (admin_account["cpulimit"], admin_account["memoryavailable"]) == ("Unlimited", "Unlimited")
    acme = client.ok("listAccounts", name="acme", listall="true")["account"][0]
    assert {k: acme[k] for k in ("cpulimit", "cputotal", "cpuavailable", "memorylimit", "memorytotal",
                                 "memoryavailable", "vmlimit", "vmtotal")} == {
        "cpulimit": "8", "cputotal": 3, "cpuavailable": "5", "memorylimit": "16384", "memorytotal": 3072,
        "memoryavailable": "13312", "vmlimit": "10", "vmtotal": 2}
    capacity = {c["name"]: c for c in client.ok("listCapacity", clusterid=host["clusterid"])["capacity"]}
    assert (capacity["CPU"]["capacityused"], capacity["CPU"]["capacitytotal"]) == (1000, 76800)
    metrics = client.ok("listVirtualMachinesMetrics", id=world.vms["web-01"]["id"])["virtualmachine"][0]
    # plugins/metrics VmMetricsResponse.setCpuTotal ("%.1f Ghz" of cores x MHz / 1000) and setMemTotal ("%.2f GiB")
    assert metrics["cputotal"] == "1.0 Ghz" and metrics["memorytotal"] == "1.00 GiB"


def test_migrate_storageid_fails_uuid_validation_as_the_simulator_has_no_pools(world):
    status, body = world.client.call("migrateVirtualMachine", virtualmachineid=world.vms["web-01"]["id"],
                                     hostid=world.hosts["kvm-a1-02"]["id"], storageid="pool-1")
    assert (status, body["migratevirtualmachineresponse"]["errortext"]) == (
        431, "Unable to execute API command migratevirtualmachine due to invalid value. Invalid parameter storageid"
             " value=pool-1 due to incorrect long value format, or entity does not exist or due to incorrect parameter"
             " annotation for the field in api cmd class.")
    assert world.vm("web-01")["hostname"] == "kvm-a1-01"


def test_stop_leaves_destroyed_and_error_vms_and_refuses_transitional_states(world):
    """VirtualMachineManagerImpl.advanceStop: Stopped, Destroyed, Expunging and Error return at once (the job
    succeeds); a state without a StopRequested transition fails with "We cannot stop <vm> when it is in state ..."."""
    client, app = world.client, world.sim.app
    db_id = world.vms["db-01"]["id"]
    client.run("destroyVirtualMachine", id=db_id)
    job = client.run("stopVirtualMachine", id=db_id)
    assert (job["jobstatus"], job["jobresult"]["virtualmachine"]["state"]) == (1, "Destroyed")
    web = app.store.by_uuid("vm", world.vms["web-01"]["id"])
    web["state"] = "Starting"  # as during orchestrateStart, after the host was chosen
    app.store.save("vm", web)
    code, text = job_failure(client.run("stopVirtualMachine", id=web["uuid"]))
    assert code == 530 and re.fullmatch(r"We cannot stop VM instance \{.*\} when it is in state Starting", text), text
    assert world.vm("web-01")["state"] == "Starting"


def job_failure(job):
    """(jobresultcode, errortext) of a failed job."""
    assert job["jobstatus"] == 2, job
    return job["jobresultcode"], job["jobresult"]["errortext"]


def test_users_expunge_only_with_the_account_setting(world):
    """UserVmManagerImpl.destroyVm -> checkExpungeVmPermission: expunge=true from a non-admin account needs
    allow.user.expunge.recover.vm (default false, account scope): PermissionDeniedException, 530 in the job."""
    sim, client = world.sim, world.client
    alice = sim.client(sim.user_key, sim.user_secret)
    db_id = world.vms["db-01"]["id"]
    code, text = job_failure(alice.run("destroyVirtualMachine", id=db_id, expunge="true"))
    assert (code, text) == (530, "Account does not have permission for expunging.")
    assert world.vm("db-01")["state"] == "Stopped"
    acme = client.ok("listAccounts", name="acme", listall="true")["account"][0]
    client.ok("updateConfiguration", name="allow.user.expunge.recover.vm", value="true", accountid=acme["id"])
    assert alice.run("destroyVirtualMachine", id=db_id, expunge="true")["jobstatus"] == 1
    assert client.call("listVirtualMachines", id=db_id)[0] == 431


def test_expunging_vm_may_fail_to_error():
    """VirtualMachine.State: Expunging --OperationFailedToError--> Error
    (UserVmManagerImpl.transitionExpungingToError)."""
    vm = {"state": "Expunging"}
    assert vmops.can_transit(vm, "OperationFailedToError")
    assert vmops.TRANSITIONS["Expunging"]["OperationFailedToError"] == "Error"


def detail_params(details):
    """A details map as request parameters: details[0].<key>=<value>."""
    return {f"details[0].{key}": value for key, value in details.items()}


def update_error(client, vm_id, **params):
    """(status, errortext) of a refused updateVirtualMachine."""
    status, body = client.call("updateVirtualMachine", id=vm_id, **params)
    assert status != 200, body
    return status, body["updatevirtualmachineresponse"]["errortext"]


def test_update_ha_needs_an_ha_offering(world):
    """UserVmManagerImpl.updateVirtualMachine: "Can't enable ha ..." when the offering does not offer HA."""
    assert update_error(world.client, world.vms["web-01"]["id"], haenable="true") == (
        431, "Can't enable ha for the vm as it's created from the Service offering having HA disabled")
    assert world.vm("web-01")["haenable"] is False


def test_update_details_follow_the_offering(world):
    """updateVirtualMachine(UpdateVMCmd) -> verifyVmLimits: a fixed offering's VM may not get cpuNumber, memory or
    cpuSpeed details; a dynamic offering's VM gets validateCustomParameters of the details' cpuNumber and memory
    (0 when absent) and its size follows them; the details replace the old ones; cleanupdetails drops them all."""
    client = world.client
    web_id, db_id = world.vms["web-01"]["id"], world.vms["db-01"]["id"]
    assert update_error(client, web_id, **detail_params({"cpuNumber": "2"})) == (
        431, "CPU number, Memory and CPU speed cannot be updated for a non-dynamic offering")
    client.ok("updateVirtualMachine", id=web_id, **detail_params({"keyboard": "us"}))
    client.ok("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["Custom"],
              **detail_params({"cpuNumber": "2", "memory": "2048"}))
    assert update_error(client, db_id, **detail_params({"keyboard": "us"})) == (
        431, "Invalid CPU cores value, specify a value between 1 and 8")
    updated = client.ok("updateVirtualMachine", id=db_id, **detail_params({"cpuNumber": "3", "memory": "3072"}))
    vm = updated["virtualmachine"]
    assert (vm["cpunumber"], vm["memory"], vm["details"]) == (3, 3072, {"cpuNumber": "3", "memory": "3072"})
    status, text = update_error(client, db_id, **detail_params({"cpuNumber": "8", "memory": "3072"}))  # acme: 8 vCPUs
    assert status == 431 and text.startswith("Maximum amount of resources of Type = 'cpu'"), text
    assert world.vm("db-01")["cpunumber"] == 3
    cleaned = client.ok("updateVirtualMachine", id=web_id, cleanupdetails="true")["virtualmachine"]
    assert cleaned["details"] == {}


def test_users_may_not_set_denied_or_read_only_details(world):
    """updateVirtualMachine(UpdateVMCmd): user.vm.denied.details and user.vm.readonly.details for non-root callers."""
    sim = world.sim
    alice = sim.client(sim.user_key, sim.user_secret)
    web_id = world.vms["web-01"]["id"]
    assert update_error(alice, web_id, **detail_params({"rootdisksize": "20"})) == (
        431, "You're not allowed to add or edit the restricted setting: rootdisksize")
    assert update_error(alice, web_id, **detail_params({"rootDiskController": "scsi"})) == (
        431, "You're not allowed to add or edit the read-only setting: rootDiskController")


def test_hidden_vm_is_listed_for_the_root_admin_only(world):
    """QueryManagerImpl.searchForUserVMIdsAndCount: non-root callers see display VMs only; displayvm and haenable
    filter (ListVMsCmd); UserVmResponse.displayvm."""
    sim, client = world.sim, world.client
    alice = sim.client(sim.user_key, sim.user_secret)
    db_id = world.vms["db-01"]["id"]
    assert client.ok("updateVirtualMachine", id=db_id, displayvm="false")["virtualmachine"]["displayvm"] is False
    assert {vm["name"] for vm in alice.ok("listVirtualMachines")["virtualmachine"]} == {"web-01"}
    hidden = client.ok("listVirtualMachines", listall="true", displayvm="false")["virtualmachine"]
    assert [vm["name"] for vm in hidden] == ["db-01"]
    assert client.ok("listVirtualMachines", listall="true", haenable="true") == {}


def test_deploy_needs_launch_permission_on_a_private_template(world):
    """UserVmManagerImpl.createVirtualMachine -> checkAccess(owner, UseEntry, template) -> DomainChecker: a private
    template of another account is refused ("... does not have permission to launch instances from template")."""
    sim = world.sim
    template = sim.app.store.by_uuid("template", world.vms["web-01"]["templateid"])
    template["ispublic"] = False  # owned by the root admin
    sim.app.store.save("template", template)
    alice = sim.client(sim.user_key, sim.user_secret)
    status, body = alice.call("deployVirtualMachine", serviceofferingid=world.offerings["Small"],
                              templateid=template["uuid"], zoneid=world.hosts["kvm-a1-01"]["zoneid"], name="app-09")
    assert status == 531
    assert re.fullmatch(r"Account Account \[.*\] does not have permission to launch instances from template"
                        r" Template \{.*\}", body["deployvirtualmachineresponse"]["errortext"])
    assert world.client.run("deployVirtualMachine", serviceofferingid=world.offerings["Small"],
                            templateid=template["uuid"], zoneid=world.hosts["kvm-a1-01"]["zoneid"],
                            name="app-10")["jobstatus"] == 1

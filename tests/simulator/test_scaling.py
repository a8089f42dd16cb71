"""Every scaleVirtualMachine / changeServiceForVirtualMachine rule of spec 3 with its [main] code and text."""

import re

import pytest

from simulator import vmops

from .conftest import World

VM_STRING = r'VM instance \{"id":\d+,"state":"%s","instanceName":"i-\d+-\d+-VM","type":"User","uuid":"[0-9a-f-]{36}"\}'
EXTRA_OFFERINGS = [
    {"name": "Small Copy", "cpunumber": 1, "cpuspeed": 1000, "memory": 1024},
    {"name": "Small Capped", "cpunumber": 1, "cpuspeed": 1000, "memory": 1024, "limitcpuuse": True},
    {"name": "Medium GPU", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "gpu"},
    {"name": "Medium Retired", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048},
    {"name": "Big", "cpunumber": 3, "cpuspeed": 2000, "memory": 6144},
]


def vm_events(vm_id):
    """listEvents parameters of one VM's events (searchForEventIdsAndCount: resourceid needs resourcetype)."""
    return {"resourceid": vm_id, "resourcetype": "VirtualMachine"}


def job_error(job):
    """(errorcode, errortext) of a failed job."""
    assert job["jobstatus"] == 2, job
    assert job["jobresultcode"] == job["jobresult"]["errorcode"]
    return job["jobresult"]["errorcode"], job["jobresult"]["errortext"]


@pytest.fixture
def world(make_sim):
    """web-01 (Small) and db-01 (Medium) Running, scalable, with prepared domains."""
    sim = make_sim(offerings=EXTRA_OFFERINGS)
    world = World(sim.client())
    world.sim = sim
    world.client.ok("updateServiceOffering", id=world.offerings["Medium Retired"], state="Inactive")
    return world


def domain_of(world, name):
    """The libvirt view of a VM's domain."""
    sim = world.sim
    vm = sim.app.store.by_uuid("vm", world.vms[name]["id"])
    return vmops.view(sim.app, vm)


def assert_parity(world, name):
    """CloudStack's view of the VM and libvirt's view of its domain agree."""
    listed = world.vm(name)
    view = domain_of(world, name)
    if listed["state"] != "Running":
        assert view is None
        return
    assert view.running and view.uuid == listed["id"] and view.name == listed["instancename"]
    assert (view.vcpus, view.memory_mib) == (listed["cpunumber"], listed["memory"])


RUNNING_RULES = [
    ("custom cpu out of range", "web-01", "Custom", {"details[0].cpuNumber": "9"}, 431,
     r"Invalid CPU cores value, specify a value between 1 and 8"),
    ("custom memory out of range", "web-01", "Custom", {"details[0].memory": "256"}, 431,
     r"Invalid memory value, specify a value between 512 and 16384"),
    ("fixed speed of custom offering", "web-01", "Custom", {"details[0].cpuSpeed": "1500"}, 431,
     r"The CPU speed of this offering id:[0-9a-f-]{36} is not customizable\. This is predefined as 1000 MHz\."),
    ("unconstrained speed missing", "web-01", "Custom Unconstrained", {"details[0].cpuSpeed": "0"}, 431,
     r"Invalid CPU speed value, specify a value between 1 and 2147483647"),
    ("inactive offering", "web-01", "Medium Retired", {}, 431, r"New service offering is inactive: \[[0-9a-f-]{36}\]\."),
    ("same fixed offering", "web-01", "Small", {}, 431,
     r"Not upgrading vm %s since it already has the requested service offering \(Small\)" % (VM_STRING % "Running")),
    ("dynamic scaling flag differs", "web-01", "Small NoScale", {}, 431,
     r"Unable to Scale VM: since dynamic scaling enabled flag is not same for new service offering and old service"
     r" offering"),
    ("scale down", "db-01", "Small", {}, 431,
     r'Scaling down is not supported while the VM is running\. The new service offering attributes \{"memory": 1024,'
     r' "CPU speed": 1000, "vCPUs": 1\} must not be lower than the current values \{"memory": 2048, "CPU speed":'
     r' 1000, "vCPUs": 2\}\.'),
    ("same attributes", "web-01", "Small Copy", {}, 431,
     r"While the VM is running, scaling to a service offering with the same attributes \(memory, CPU speed and"
     r" vCPUs\) is only allowed when the CPU cap is changed\."),
    ("account cpu limit", "web-01", "Custom", {"details[0].cpuNumber": "8"}, 530,
     r"Maximum amount of resources of Type = 'cpu', tag = 'null' for Account Name = acme in Domain Id = 2 is"
     r" exceeded: Account Resource Limit = 8, Current Account Resource Amount = 3, Current Account Resource"
     r" Reservation = 0, Requested Resource Amount = 7\."),
]


@pytest.mark.parametrize("case, vm, offering, params, code, text", RUNNING_RULES, ids=[r[0] for r in RUNNING_RULES])
def test_running_scale_rules(world, case, vm, offering, params, code, text):
    before = world.vm(vm)
    job = world.scale(vm, offering, **params)
    got_code, got_text = job_error(job)
    assert got_code == code, case
    assert re.fullmatch(text, got_text), got_text
    after = world.vm(vm)
    assert (after["serviceofferingid"], after["state"], after["hostid"]) == (
        before["serviceofferingid"], "Running", before["hostid"])
    assert_parity(world, vm)


def test_domain_limit_is_checked_after_the_account_limit(make_sim):
    sim = make_sim(domain_limits={"cpu": 4})
    world = World(sim.client())
    code, text = job_error(world.scale("web-01", "Custom", **{"details[0].cpuNumber": "3"}))
    domain = world.client.ok("listDomains", name="customers")["domain"][0]
    assert code == 530
    assert text == (f"Maximum domain resource limits of Type 'cpu' for Domain Id = {domain['id']} is exceeded:"
                    " Domain Resource Limit = 4, Current Domain Resource Amount = 3, Current Resource Reservation = 0,"
                    " Requested Resource Amount = 2.")
    assert (domain["cpulimit"], domain["cputotal"], domain["cpuavailable"]) == ("4", 3, "1")
    assert world.scale("web-01", "Custom", **{"details[0].cpuNumber": "2"})["jobstatus"] == 1


@pytest.mark.parametrize("setting, scope, text", [
    ("enable.dynamic.scale.vm", "zoneid", r"Dynamically scaling Instances is disabled for this zone, please contact"
                                          r" your admin\."),
    ("cluster.cpu.allocated.capacity.disablethreshold", "clusterid",
     r"Unable to scale %s due to insufficient resources\." % (VM_STRING % "Running")),
])
def test_running_scale_refused_by_settings(world, setting, scope, text):
    host = world.hosts["kvm-a1-01"]
    value = "false" if setting.startswith("enable") else "0.01"
    world.client.ok("updateConfiguration", name=setting, value=value,
                    **{scope: host["zoneid"] if scope == "zoneid" else host["clusterid"]})
    code, got = job_error(world.scale("web-01", "Medium"))
    assert code == 530 and re.fullmatch(text, got), got


def test_vm_without_dynamic_scaling_flag_is_refused(world):
    client = world.client
    client.ok("updateVirtualMachine", id=world.vms["web-01"]["id"], isdynamicallyscalable="false")
    code, text = job_error(world.scale("web-01", "Medium"))
    assert code == 530
    assert re.fullmatch(r"Unable to scale %s as it does not have tools to support dynamic scaling\."
                        % (VM_STRING % "Running"), text)


def test_vm_in_another_state_is_refused(world):
    app = world.sim.app
    vm = app.store.by_uuid("vm", world.vms["db-01"]["id"])
    with app.store.lock:
        vm["state"] = "Stopping"
        app.store.save("vm", vm)
    code, text = job_error(world.scale("db-01", "Large"))
    assert code == 431
    assert re.fullmatch(r"Unable to upgrade virtual machine %s  in state Stopping; make sure the virtual machine is"
                        r" stopped/running" % (VM_STRING % "Stopping"), text)


def test_live_scale_up_updates_vm_domain_capacity_and_counts(world):
    client = world.client
    host_before = client.ok("listHosts", name="kvm-a1-01")["host"][0]
    job = world.scale("web-01", "Custom", **{"details[0].cpuNumber": "3", "details[0].memory": "3072"})
    assert job["jobstatus"] == 1, job
    vm = job["jobresult"]["virtualmachine"]
    assert (vm["serviceofferingname"], vm["cpunumber"], vm["cpuspeed"], vm["memory"]) == ("Custom", 3, 1000, 3072)
    assert vm["details"] == {"cpuNumber": "3", "memory": "3072"}
    assert vm["state"] == "Running" and vm["hostid"] == host_before["id"] and vm["isdynamicallyscalable"] is True
    view = domain_of(world, "web-01")
    assert (view.vcpus, view.memory_mib, view.dimms) == (3, 3072, (2048,))
    assert view.cpu_shares == 3000
    assert_parity(world, "web-01")
    host_after = client.ok("listHosts", name="kvm-a1-01")["host"][0]
    assert host_after["cpuallocatedvalue"] == host_before["cpuallocatedvalue"] + 2000
    assert host_after["memoryallocated"] == host_before["memoryallocated"] + 2048 * 1024 * 1024
    assert host_after["cpuallocated"] == "7.81%"
    acme = client.ok("listAccounts", name="acme", listall="true")["account"][0]
    assert (acme["cputotal"], acme["memorytotal"], acme["cpulimit"], acme["cpuavailable"]) == (5, 5120, "8", "3")
    events = [e["type"] for e in client.ok("listEvents", listall="true", **vm_events(vm["id"]))["event"]]
    # VM.UPGRADE is the @ActionEvent of UserVmManagerImpl.upgradeVirtualMachine(ScaleVMCmd); VM.DYNAMIC.SCALE is only
    # a usage event (VirtualMachineManagerImpl.reConfigureVm generateUsageEvent), never listed
    assert "VM.DYNAMIC.SCALE" not in events
    assert client.ok("simulatorListAgentAnswers", id=vm["id"])["agentanswer"][0]["level"] == "INFO"


def test_cpu_cap_change_alone_is_allowed_on_kvm(world):
    job = world.scale("web-01", "Small Capped")
    assert job["jobstatus"] == 1, job
    view = domain_of(world, "web-01")
    assert view.cpu_quota is not None and view.cpu_period is not None
    assert_parity(world, "web-01")


def test_unprepared_domain_fails_in_the_agent(make_sim):
    sim = make_sim(scalable=False)
    world = World(sim.client())
    world.sim = sim
    client = world.client
    client.ok("updateConfiguration", name="enable.dynamic.scale.vm", value="true")
    client.ok("updateTemplate", id=world.vms["web-01"]["templateid"], isdynamicallyscalable="true")
    client.ok("updateVirtualMachine", id=world.vms["web-01"]["id"], isdynamicallyscalable="true")
    code, text = job_error(world.scale("web-01", "Medium"))
    assert (code, text) == (530, "Unable to reconfigure VM.")
    assert world.vm("web-01")["serviceofferingname"] == "Small"
    assert_parity(world, "web-01")
    failure = client.ok("simulatorListAgentAnswers", id=world.vms["web-01"]["id"])["agentanswer"][0]
    assert failure["level"] == "ERROR" and "not prepared for dynamic scaling" in failure["answer"]
    client.run("stopVirtualMachine", id=world.vms["web-01"]["id"])
    client.run("startVirtualMachine", id=world.vms["web-01"]["id"])
    assert world.scale("web-01", "Medium")["jobstatus"] == 1
    assert_parity(world, "web-01")


SMALL_HOSTS = [{"name": "kvm-a1-01", "cores": 4, "cpu_mhz": 2000, "memory_mib": 8192},
               {"name": "kvm-a1-02", "cores": 4, "cpu_mhz": 2000, "memory_mib": 8192}]


def capacity_world(make_sim, second_host_free=True, settings=()):
    """Small hosts: kvm-a1-01 holds web-01 (Small) and filler (Big), leaving 1000 MHz and 1024 MiB."""
    vms = [{"name": "web-01", "account": "admin", "template": "debian-12-generic", "offering": "Small",
            "state": "Running", "host": "kvm-a1-01", "isdynamicallyscalable": True},
           {"name": "filler", "account": "admin", "template": "debian-12-generic", "offering": "Big",
            "state": "Running", "host": "kvm-a1-01", "isdynamicallyscalable": True}]
    if not second_host_free:
        vms.append(dict(vms[1], name="filler-2", host="kvm-a1-02"))
    threshold = [{"name": name, "value": "1.0"} for name in ("cluster.cpu.allocated.capacity.disablethreshold",
                                                             "cluster.memory.allocated.capacity.disablethreshold")]
    sim = make_sim(hosts=SMALL_HOSTS, vms=vms, offerings=EXTRA_OFFERINGS, settings=threshold + list(settings))
    world = World(sim.client())
    world.sim = sim
    return world


def test_no_capacity_migrates_within_the_cluster(make_sim):
    world = capacity_world(make_sim)
    job = world.scale("web-01", "Large")
    assert job["jobstatus"] == 1, job
    vm = world.vm("web-01")
    assert (vm["hostname"], vm["state"], vm["serviceofferingname"]) == ("kvm-a1-02", "Running", "Large")
    assert_parity(world, "web-01")
    old_host = world.sim.app.store.one("host", name="kvm-a1-01")
    assert vmops.agent_of(world.sim.app, old_host).view(vm["instancename"]) is None
    # VirtualMachineManagerImpl.migrateForScale has no @ActionEvent: the migration writes no VM.MIGRATE event
    events = [e["type"] for e in world.client.ok("listEvents", listall="true", **vm_events(vm["id"]))["event"]]
    assert events[:3] == ["VM.UPGRADE"] * 3 and not {"VM.MIGRATE", "VM.DYNAMIC.SCALE"} & set(events)


@pytest.mark.parametrize("second_host_free, settings", [
    (True, [{"name": "auto.migrate.vm.on.live.scale.insufficient.capacity", "value": "false", "scope": "cluster",
             "target": "cluster-a1"}]),
    (False, []),
    (False, [{"name": "scale.retry", "value": "0"}]),
], ids=["auto-migrate false", "no destination after retries", "scale.retry 0"])
def test_no_capacity_fails_to_scale(make_sim, second_host_free, settings):
    world = capacity_world(make_sim, second_host_free, settings)
    assert job_error(world.scale("web-01", "Large")) == (530, "Failed to scale the VM")
    vm = world.vm("web-01")
    assert (vm["hostname"], vm["state"], vm["serviceofferingname"]) == ("kvm-a1-01", "Running", "Small")
    assert_parity(world, "web-01")


def test_scale_within_host_capacity_stays_on_the_host(make_sim):
    world = capacity_world(make_sim)
    assert world.scale("web-01", "Medium")["jobstatus"] == 1
    assert world.vm("web-01")["hostname"] == "kvm-a1-01"
    assert world.client.ok("listHosts", name="kvm-a1-01")["host"][0]["cpuallocated"] == "100%"


def test_stopped_scale_up_and_down(world):
    client = world.client
    db_id = world.vms["db-01"]["id"]
    client.run("stopVirtualMachine", id=db_id)
    assert_parity(world, "db-01")
    for offering, size in (("Small", (1, 1024)), ("Large", (4, 4096))):
        job = world.scale("db-01", offering)
        assert job["jobstatus"] == 1, job
        vm = world.vm("db-01")
        assert (vm["cpunumber"], vm["memory"], vm["state"]) == (*size, "Stopped")
    custom = world.scale("db-01", "Custom")
    assert custom["jobresult"]["virtualmachine"]["details"] == {"cpuNumber": "4", "memory": "4096"}
    assert world.scale("db-01", "Small NoScale")["jobresult"]["virtualmachine"]["isdynamicallyscalable"] is False
    upgrades = client.ok("listEvents", listall="true", **vm_events(db_id))["event"][:4]
    assert [e["type"] for e in upgrades] == ["VM.UPGRADE"] * 4
    client.run("startVirtualMachine", id=db_id)
    assert_parity(world, "db-01")


@pytest.mark.parametrize("offering, params, code, text", [
    ("Medium Retired", {}, 431, r"Unable to upgrade Instance [0-9a-f-]{36} with an inactive service offering"
                                r" [0-9a-f-]{36}"),
    ("Medium", {}, 431, r"Not upgrading vm %s since it already has the requested service offering \(Medium\)"
                        % (VM_STRING % "Stopped")),
    ("Custom", {"details[0].cpuNumber": "0"}, 431, r"Invalid CPU cores value, specify a value between 1 and 8"),
    ("Custom", {"details[0].cpuNumber": "8"}, 530, r"Maximum amount of resources of Type = 'cpu'.*Requested Resource"
                                                   r" Amount = 6\."),
])
def test_stopped_scale_rules(world, offering, params, code, text):
    world.client.run("stopVirtualMachine", id=world.vms["db-01"]["id"])
    got_code, got_text = job_error(world.scale("db-01", offering, **params))
    assert got_code == code and re.fullmatch(text, got_text), got_text
    assert world.vm("db-01")["serviceofferingname"] == "Medium"


def test_change_service_is_sync_and_stopped_only(world):
    client = world.client
    db_id = world.vms["db-01"]["id"]
    status, body = client.call("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["Large"])
    assert status == 431
    assert re.fullmatch(r"Unable to upgrade Instance %s  in state Running; make sure the Instance is stopped"
                        % (VM_STRING % "Running"), body["changeserviceforvirtualmachineresponse"]["errortext"])
    client.run("stopVirtualMachine", id=db_id)
    changed = client.ok("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["Large"])
    assert changed["virtualmachine"]["serviceofferingname"] == "Large"
    status, body = client.call("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["Custom"],
                               **{"details[0].cpuNumber": "8", "details[0].memory": "4096"})
    assert status == 535
    assert body["changeserviceforvirtualmachineresponse"]["cserrorcode"] == 4370

"""System VMs: listSystemVms, scaleSystemVm, changeServiceForSystemVm, start/stop/rebootSystemVm, system offerings.

Each test names the CloudStack [main] source it follows (server/.../server/ManagementServerImpl.java unless said).
"""

import re

import pytest
import yaml

from simulator import agent as host_agent
from simulator.testing import InProcessSimulator

from .conftest import build_seed

SYSTEM_OFFERINGS = [
    {"name": "CPVM Large", "cpunumber": 2, "cpuspeed": 500, "memory": 2048, "issystem": True,
     "systemvmtype": "consoleproxy"},
    {"name": "Router Large", "cpunumber": 2, "cpuspeed": 500, "memory": 2048, "issystem": True,
     "systemvmtype": "domainrouter"},
    {"name": "CPVM Small", "cpunumber": 1, "cpuspeed": 500, "memory": 512, "issystem": True,
     "systemvmtype": "consoleproxy"},
]
CPVM_STRING = (r'VM instance \{"id":2,"state":"Running","instanceName":"v-2-VM","type":"ConsoleProxy",'
               r'"uuid":"[0-9a-f-]{36}"\}')


def start_sim(tmp_path, name, template_scalable=True, zone_setting=True):
    """An in-process simulator on the default seed with its system VMs and the extra system offerings."""
    path = build_seed(tmp_path, system_vms=True, offerings=SYSTEM_OFFERINGS, scalable=zone_setting,
                      name=f"{name}.yml")
    seed = yaml.safe_load(path.read_text())
    seed["system_vm_template"]["isdynamicallyscalable"] = template_scalable
    path.write_text(yaml.safe_dump(seed))
    return InProcessSimulator(path, tmp_path / f"{name}.sqlite").start()


@pytest.fixture
def sim(tmp_path):
    """System VMs created from a dynamically scalable template, enable.dynamic.scale.vm true in zone-a."""
    simulator = start_sim(tmp_path, "scalable")
    yield simulator
    simulator.stop()


def system_vm(client, name):
    """A system VM as listSystemVms shows it."""
    return client.ok("listSystemVms", name=name)["systemvm"][0]


def offering_id(client, name, **params):
    """The id of an offering by name."""
    return client.ok("listServiceOfferings", name=name, **params)["serviceoffering"][0]["id"]


def test_list_system_vms_fields_filters_and_capacity(sim):
    """searchForSystemVm: console proxy and secondary storage VM rows, filtered by systemvmtype, name and host;
    createSystemVmResponse fields; HostJoinDaoImpl counts their offerings in the host's allocated capacity."""
    client = sim.client()
    listed = client.ok("listSystemVms")
    assert [vm["name"] for vm in listed["systemvm"]] == ["s-1-VM", "v-2-VM"]
    proxy = client.ok("listSystemVms", systemvmtype="consoleproxy")["systemvm"]
    assert [vm["name"] for vm in proxy] == ["v-2-VM"]
    assert proxy[0]["serviceofferingname"] == "System Offering For Console Proxy"
    assert (proxy[0]["hostname"], proxy[0]["state"], proxy[0]["activeviewersessions"]) == ("kvm-a1-02", "Running", 0)
    assert proxy[0]["isdynamicallyscalable"] is True  # createOrUpdateConsoleProxy: template.isDynamicallyScalable()
    assert client.ok("listSystemVms", name="v-2") == {}  # hostName LIKE without wildcards
    host = client.ok("listHosts", name="kvm-a1-02")["host"][0]
    # db-01 (Medium: 2 x 1000 MHz, 2048 MiB) runs there too
    assert (host["cpuallocatedvalue"], host["memoryallocated"]) == (2000 + 2 * 500, (2048 + 1024 + 512) * 1024 * 1024)
    assert client.ok("listSystemVms", hostid=client.ok("listHosts", name="kvm-a1-01")["host"][0]["id"]) == {}
    view = host_agent.agent_for_host(sim.app.store.one("host", name="kvm-a1-02")).view("v-2-VM")
    assert view is not None and view.vcpus == 1


def test_system_offerings_listed_only_with_issystem(sim):
    """QueryManagerImpl.searchForServiceOfferingIdsAndCount: issystem is false when absent
    (ListServiceOfferingsCmd.getIsSystem), systemvmtype filters on vm_type; createSystemServiceOfferings' defaults."""
    client = sim.client()
    user_offerings = [o["name"] for o in client.ok("listServiceOfferings")["serviceoffering"]]
    assert "CPVM Large" not in user_offerings and "System Offering For Console Proxy" not in user_offerings
    proxies = client.ok("listServiceOfferings", issystem="true", systemvmtype="consoleproxy")["serviceoffering"]
    assert [o["name"] for o in proxies] == ["Console Proxy Large", "CPVM Large", "CPVM Small",
                                            "System Offering For Console Proxy",
                                            "System Offering For Console Proxy - Local Storage"]
    default = proxies[3]
    assert (default["cpunumber"], default["cpuspeed"], default["memory"], default["issystem"],
            default["systemvmtype"], default["defaultuse"]) == (1, 500, 1024, True, "consoleproxy", True)
    status, body = client.call("createServiceOffering", name="bad", cpunumber=1, cpuspeed=500, memory=512,
                               issystem="true", systemvmtype="vpcrouter")
    assert (status, body["createserviceofferingresponse"]["errortext"]) == (
        431, "Invalid systemVmType. Supported types are: DomainRouter, ConsoleProxy, SecondaryStorageVm")


def test_system_vm_commands_are_root_admin_only(sim):
    """create-default-role-api-mappings.sql: the systemvm commands are not granted to domain admins or users."""
    user = sim.client(sim.user_key, sim.user_secret)
    for command in ("listSystemVms", "scaleSystemVm", "changeServiceForSystemVm", "startSystemVm"):
        status, body = user.call(command)
        assert status == 432, (command, body)


def test_scale_running_console_proxy_live(sim):
    """upgradeSystemVM(ScaleSystemVMCmd) -> UserVmManagerImpl.upgradeVirtualMachine -> upgradeRunningVirtualMachine and
    VirtualMachineManagerImpl.reConfigureVm: the domain grows, upgradeVmDb moves the offering; ScaleSystemVMCmd.s_name
    is changeserviceforsystemvmresponse and the job answers a SystemVmResponse."""
    client = sim.client()
    proxy = system_vm(client, "v-2-VM")
    status, body = client.call("scaleSystemVm", id=proxy["id"], serviceofferingid=offering_id(
        client, "CPVM Large", issystem="true"))
    assert status == 200 and list(body) == ["changeserviceforsystemvmresponse"]
    job = client.wait(body["changeserviceforsystemvmresponse"]["jobid"])
    assert job["jobstatus"] == 1, job
    assert job["cmd"] == "org.apache.cloudstack.api.command.admin.systemvm.ScaleSystemVMCmd"
    scaled = job["jobresult"]["systemvm"]
    assert (scaled["serviceofferingname"], scaled["state"], scaled["hostname"]) == (
        "CPVM Large", "Running", "kvm-a1-02")
    view = host_agent.agent_for_host(sim.app.store.one("host", name="kvm-a1-02")).view("v-2-VM")
    assert (view.vcpus, view.memory_mib) == (2, 2048)
    host = client.ok("listHosts", name="kvm-a1-02")["host"][0]
    assert host["cpuallocatedvalue"] == 2000 + 2 * 500 + 500


@pytest.mark.parametrize("offering, search, text", [
    ("Small", {}, "isSystem property is different for current service offering and new service offering"),
    ("CPVM Small", {"issystem": "true"}, "Scaling down is not supported while the VM is running."),
])
def test_scale_refusals_follow_the_user_vm_rules(sim, offering, search, text):
    """VirtualMachineManagerImpl.checkIfCanUpgrade (isSystemUse differs: 431) and upgradeRunningVirtualMachine's
    scale-down rule, inside the job."""
    client = sim.client()
    job = client.run("scaleSystemVm", id=system_vm(client, "v-2-VM")["id"],
                     serviceofferingid=offering_id(client, offering, **search))
    assert job["jobstatus"] == 2 and job["jobresult"]["errorcode"] == 431
    assert job["jobresult"]["errortext"].startswith(text)


def test_other_system_vm_type_offering_is_accepted(sim):
    """checkIfCanUpgrade compares isSystemUse only, not the systemvmtype: a domainrouter offering scales a console
    proxy (the UI of PR #13321 offers only the VM's own type)."""
    client = sim.client()
    job = client.run("scaleSystemVm", id=system_vm(client, "v-2-VM")["id"],
                     serviceofferingid=offering_id(client, "Router Large", issystem="true"))
    assert job["jobstatus"] == 1 and job["jobresult"]["systemvm"]["serviceofferingname"] == "Router Large"


def test_scale_needs_the_template_flag_and_the_zone_setting(tmp_path):
    """upgradeRunningVirtualMachine: enable.dynamic.scale.vm of the zone (PermissionDenied, 530 in the job) and the
    VM flag, which a system VM takes from its template when created (createOrUpdateConsoleProxy)."""
    for name, template_scalable, zone_setting, text in (
            ("flag", False, True, f"Unable to scale {CPVM_STRING} as it does not have tools to support dynamic"
                                  " scaling."),
            ("zone", True, False, re.escape("Dynamically scaling Instances is disabled for this zone, please contact"
                                            " your admin."))):
        simulator = start_sim(tmp_path, name, template_scalable, zone_setting)
        try:
            client = simulator.client()
            job = client.run("scaleSystemVm", id=system_vm(client, "v-2-VM")["id"],
                             serviceofferingid=offering_id(client, "CPVM Large", issystem="true"))
            assert (job["jobstatus"], job["jobresult"]["errorcode"]) == (2, 530)
            assert re.fullmatch(text, job["jobresult"]["errortext"]), job["jobresult"]["errortext"]
        finally:
            simulator.stop()


def test_stop_change_service_start(sim):
    """stopSystemVM (advanceStop), upgradeStoppedSystemVm (changeServiceForSystemVm, sync, upgradeVmDb) and
    startSystemVM (ConsoleProxyManagerImpl.startProxy): the new size applies at the start."""
    client = sim.client()
    proxy = system_vm(client, "v-2-VM")
    stopped = client.run("stopSystemVm", id=proxy["id"])
    assert stopped["jobresult"]["systemvm"]["state"] == "Stopped"
    status, body = client.call("changeServiceForSystemVm", id=proxy["id"],
                               serviceofferingid=offering_id(client, "CPVM Large", issystem="true"))
    assert status == 200, body
    assert body["changeserviceforsystemvmresponse"]["systemvm"]["serviceofferingname"] == "CPVM Large"
    started = client.run("startSystemVm", id=proxy["id"])
    assert started["jobresult"]["systemvm"]["state"] == "Running"
    again = client.run("startSystemVm", id=proxy["id"])  # startProxy: a Running proxy is answered as it is
    assert again["jobstatus"] == 1
    host = sim.app.store.get("host", sim.app.store.by_uuid("systemvm", proxy["id"])["host_id"])
    assert host_agent.agent_for_host(host).view("v-2-VM").vcpus == 2
    rebooted = client.run("rebootSystemVm", id=proxy["id"])
    assert rebooted["jobresult"]["systemvm"]["state"] == "Running"


def test_user_vm_ids(sim):
    """SystemVmResponse's EntityReference is VirtualMachine, so a user VM's id passes validation: scaleSystemVm
    scales it (upgradeSystemVM looks it up with findById) and createSystemVmResponse answers an empty object;
    changeServiceForSystemVm (findByIdTypes) and startSystemVm (getEventType's findSystemVMTypeById) refuse it."""
    client = sim.client()
    web = client.ok("listVirtualMachines", name="web-01", listall="true")["virtualmachine"][0]
    medium = offering_id(client, "Medium")
    status, body = client.call("changeServiceForSystemVm", id=web["id"], serviceofferingid=medium)
    assert status == 431
    assert re.fullmatch(r"Unable to find SystemVm with id \d+", body["changeserviceforsystemvmresponse"]["errortext"])
    status, body = client.call("startSystemVm", id=web["id"])
    assert (status, body["startsystemvmresponse"]["errortext"]) == (
        431, "Unable to find a system vm of specified instanceId")
    job = client.run("scaleSystemVm", id=web["id"], serviceofferingid=offering_id(client, "Medium"))
    assert job["jobstatus"] == 1 and job["jobresult"] == {"systemvm": {}}
    assert client.ok("listVirtualMachines", id=web["id"])["virtualmachine"][0]["serviceofferingname"] == "Medium"
    status, body = client.call("scaleSystemVm", id="00000000-0000-4000-8000-000000000000",
                               serviceofferingid=offering_id(client, "Medium"))
    assert status == 431 and "changeserviceforsystemvm due to invalid value" in \
        body["changeserviceforsystemvmresponse"]["errortext"]

"""System VMs: the Situation read from SystemVmResponse rows, the system-offering rules and the planner's verdicts."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _systemvm as systemvm

GIB = 1024 ** 3
PROXY = {"id": "sv-2", "name": "v-2-VM", "systemvmtype": "consoleproxy", "state": "Running", "zoneid": "zone-1",
         "zonename": "zone-a", "hostid": "host-1", "hostname": "kvm-a1-02", "hypervisor": "KVM",
         "templateid": "tpl-sys",
         "serviceofferingid": "so-cp", "serviceofferingname": "System Offering For Console Proxy",
         "isdynamicallyscalable": True}
OFFERINGS = [
    {"id": "so-cp", "name": "System Offering For Console Proxy", "cpunumber": 1, "cpuspeed": 500, "memory": 1024,
     "issystem": True, "systemvmtype": "consoleproxy"},
    {"id": "so-cp-large", "name": "Console Proxy Large", "cpunumber": 2, "cpuspeed": 500, "memory": 2048,
     "issystem": True, "systemvmtype": "consoleproxy"},
    {"id": "so-ssvm", "name": "System Offering For Secondary Storage VM", "cpunumber": 1, "cpuspeed": 500,
     "memory": 512, "issystem": True, "systemvmtype": "secondarystoragevm"},
    {"id": "off-medium", "name": "Medium", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048},
]
HOST = {"id": "host-1", "name": "kvm-a1-02", "clusterid": "cluster-1", "clustername": "cluster-a1", "state": "Up",
        "resourcestate": "Enabled", "cpunumber": 16, "cpuspeed": 2400, "cpuallocatedvalue": 1000,
        "cpuwithoverprovisioning": "38400", "memorytotal": 64 * GIB, "memorywithoverprovisioning": str(64 * GIB),
        "memoryallocated": 1536 * 1024 * 1024}


class TableReader(systemvm.SystemVmReader):
    """The reader over in-memory listings: the only I/O of Reader is _list."""

    def __init__(self, settings=None, template_scalable=True):
        super(TableReader, self).__init__(api=None)
        self.values = dict({"enable.dynamic.scale.vm": "true"}, **(settings or {}))
        self.template_scalable = template_scalable
        self.user_vms = []

    def _list(self, command, key, **params):
        if command == "listServiceOfferings":
            rows = [row for row in OFFERINGS if bool(row.get("issystem")) == bool(params.get("issystem"))
                    and params.get("systemvmtype") in (None, row.get("systemvmtype"))]
            return [row for row in rows if params.get("id") in (None, row["id"]) and "state" not in params]
        if command == "listHosts":
            return [HOST]
        if command == "listConfigurations":
            return [{"name": name, "value": value} for name, value in self.values.items()]
        if command == "listTemplates":
            return [{"id": "tpl-sys", "name": "SystemVM Template (KVM)",
                     "isdynamicallyscalable": self.template_scalable}]
        if command == "listSystemVms":
            return [dict(PROXY, serviceofferingid="so-cp")]
        if command == "listVirtualMachines" and "projectid" not in params:
            return self.user_vms
        return []


def decide(reader, offering, row=None, **options):
    """plan_system_vm for one target offering name."""
    values = {"cpu_number": None, "cpu_speed": None, "memory": None}
    return systemvm.plan_system_vm(reader, row or PROXY, reader.target_row(offering), values,
                                   planner.Options(**options))


def test_situation_takes_the_size_from_the_system_offering_and_counts_system_vms_on_the_host():
    """SystemVmResponse has no cpunumber/memory (spec A.5): the size is the offering's; the host's own system VMs
    are used capacity, not reserved (HostJoinDaoImpl allocated = used + reserved)."""
    situation = TableReader().situation(PROXY)
    assert (situation.vm.cpu, situation.vm.speed, situation.vm.memory) == (1, 500, 1024)
    assert situation.system_vm_type == "consoleproxy" and situation.limits.cpu is None
    assert (situation.host.reserved_cpu, situation.host.reserved_memory) == (500, 512 * 1024 * 1024)


def test_live_scale_to_a_larger_offering_of_the_same_type():
    """UserVmManagerImpl.upgradeRunningVirtualMachine, reached through ManagementServerImpl.upgradeSystemVM."""
    plan, _situation = decide(TableReader(), "Console Proxy Large")
    assert (plan.action, plan.cpu, plan.memory) == (planner.LIVE, 2, 2048)


@pytest.mark.parametrize("offering, text", [
    ("Medium", "service offering Medium is not a system offering: CloudStack refuses it for system VM v-2-VM"),
    ("System Offering For Secondary Storage VM", "is for secondarystoragevm VMs, not consoleproxy"),
])
def test_offerings_that_do_not_suit_are_refused_with_the_ones_that_do(offering, text):
    """VirtualMachineManagerImpl.checkIfCanUpgrade (isSystemUse); the systemvmtype rule is the collection's own."""
    plan, _situation = decide(TableReader(), offering)
    assert plan.action == planner.REFUSE
    assert text in plan.reasons[0] and "Console Proxy Large" in plan.reasons[0]


def test_a_system_vm_without_the_flag_is_told_to_take_it_from_the_template():
    """ConsoleProxyManagerImpl.createOrUpdateConsoleProxy sets the flag from the template at creation only."""
    reader = TableReader(template_scalable=False)
    plan, situation = decide(reader, "Console Proxy Large", row=dict(PROXY, isdynamicallyscalable=False))
    assert plan.action == planner.REFUSE
    blocker = [reason for reason in plan.reasons if reason.startswith("system VM v-2-VM has isdynamicallyscalable")]
    assert blocker and "template_scalable" in blocker[0] and "destroySystemVm" in blocker[0]
    assert not any("vm_scalable" in reason for reason in plan.reasons)
    assert planner.readiness(situation).live_scalable is False


def test_migration_needs_cloudstack_to_migrate_itself():
    """scaleSystemVm migrates only through auto.migrate.vm.on.live.scale.insufficient.capacity (findHostAndMigrate);
    the module has no migrateSystemVm step."""
    full = dict(HOST, cpuallocatedvalue=38400)
    reader = TableReader(settings={"auto.migrate.vm.on.live.scale.insufficient.capacity": "false"})
    reader.zone_hosts = lambda _zone: [dict(full), dict(HOST, id="host-2", name="kvm-a1-01", cpuallocatedvalue=0)]
    reader.user_vms = [{"hostid": "host-1", "state": "Running", "cpunumber": 1, "cpuspeed": 38400 - 500,
                        "memory": 512}]
    plan, _situation = decide(reader, "Console Proxy Large", allow_migration=True)
    assert plan.action == planner.REFUSE and "does not migrate system VMs itself" in plan.reasons[-1]

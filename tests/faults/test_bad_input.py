"""Bad input over every CloudStack API module: each case must fail with a message that names the bad value and says
what to do, and leave CloudStack unchanged (re-read through the API: VMs, offerings, templates, settings, events).

The modules run in this process against one simulator, so the whole table takes seconds.
"""

import pytest

from simulator.testing import SimulatorProcess
from tests.faults.conftest import run_module

API_MODULES = {
    "vm_scale": dict(vm="db-01", service_offering="Large"),
    "vm_scalable": dict(vm="db-01", dynamically_scalable=True),
    "vm_state": dict(vm="db-01", state="started"),
    "vm_scaling_info": dict(vm="db-01"),
    "setting": dict(name="enable.dynamic.scale.vm", value=True),
    "template_scalable": dict(template="debian-12-generic", dynamically_scalable=True),
    "compute_offering": dict(name="bad-input-offering", cpu_number=1, cpu_speed=1000, memory=1024),
    "vm_scale_fleet": dict(vms=["db-01"], service_offering="Large"),
    "system_vm_scale": dict(system_vm="v-2-VM", service_offering="Console Proxy Large"),
    "job_info": dict(jobs=["00000000-0000-4000-8000-0000000000a1"]),
    "vm_prepare_fleet": dict(vms=["db-01"]),
    "vm_autoscale": dict(vm=["db-01"]),
}
VM_MODULES = ("vm_scale", "vm_scalable", "vm_state", "vm_scaling_info")
# words that tell the user what to do
FIX_WORDS = ("give ", "use ", "set ", "choose", "one of", "close matches", "drop ", "keep ", "add ", "raise ", "swap",
             "the zones there are", "the accounts there are", "the domains there are", "the hosts there are",
             "the VMs there are", "list them with", "check the scope", "must set it", "instead")

CASES = []


def case(module, needle, **args):
    CASES.append(pytest.param(module, dict(API_MODULES[module], **args), needle,
                              id="%s-%s" % (module, "-".join("%s=%s" % item for item in sorted(args.items())))))


for name in API_MODULES:
    case(name, "api_timeout=0", api_timeout=0)
    case(name, "api_timeout=-3", api_timeout=-3)
    case(name, "wait_timeout=-1", wait_timeout=-1)
    case(name, "'cloud.example.com/client/api'", api_url="cloud.example.com/client/api")
    case(name, "'ftp://cloud.example.com'", api_url="ftp://cloud.example.com")
    case(name, "'/no/such/ca.pem'", api_verify_ssl="/no/such/ca.pem")
    case(name, "api_region=' '", api_region=" ")
for name in VM_MODULES:
    case(name, "'web-1'", vm="web-1")
    case(name, "'DB-01'" if name != "vm_scaling_info" else "'db-1'", vm="DB-01" if name != "vm_scaling_info" else "db-1")
    case(name, "'zone-x'", zone="zone-x")
    case(name, "'acmee'", account="acmee")
    case(name, "'custmers'", domain="custmers")
    case(name, "'no-such-project'", project="no-such-project")
    case(name, "account=acme and project=shop", account="acme", project="shop")
    case(name, "'00000000-0000-4000-8000-00000000dead'", vm="00000000-0000-4000-8000-00000000dead")
for name in ("vm_scale", "vm_scalable", "vm_state"):
    case(name, "vm='  '", vm="  ")
    case(name, "vm=''", vm="")
case("setting", "name=' '", name=" ")
case("compute_offering", "name=''", name="")
case("template_scalable", "template=' '", template=" ")
case("compute_offering", "zones=['zone-a', '']", zones=["zone-a", ""])
case("compute_offering", "host_tags=['']", host_tags=[""])
# vm_scale values
case("vm_scale", "'Larg'", service_offering="Larg")
case("vm_scale", "'large'", service_offering="large")
for option, value in (("cpu_number", 0), ("cpu_number", -1), ("cpu_number", "two"), ("cpu_number", 2.5), ("memory", 0),
                      ("memory", "1G"), ("cpu_speed", -5), ("memory", -512), ("cpu_speed", "fast")):
    case("vm_scale", "%s=%r" % (option, value), service_offering="Custom", **{option: value})
case("vm_scale", "cpu_number", cpu_number=8)
case("vm_scale", "nothing to scale to", service_offering=None)
case("vm_scale", "to Small NoScale", service_offering="Small NoScale", vm="web-01")
# setting values and scopes
case("setting", "'maybe'", value="maybe")
case("setting", "'yes please'", value="yes please", zone="zone-a")
case("setting", "'abc'", name="kvm.cpu.dynamic.scaling.capacity", value="abc", cluster="cluster-a1")
case("setting", "'1.5'", name="cluster.cpu.allocated.capacity.disablethreshold", value="1.5")
case("setting", "'0'", name="cpu.overprovisioning.factor", value="0", cluster="cluster-a1")
case("setting", "'-2'", name="mem.overprovisioning.factor", value="-2", cluster="cluster-a1")
case("setting", "''", value="")
case("setting", "'null'", value="null")
case("setting", "value is required", value=None)
case("setting", "enable.dynamic.scale.vms", name="enable.dynamic.scale.vms")
case("setting", "enable.dynamic.scale", name="enable.dynamic.scale")
case("setting", "'zone-b'", zone="zone-b")
case("setting", "'cluster-a2'", name="kvm.cpu.dynamic.scaling.capacity", value=4, cluster="cluster-a2")
case("setting", "'acmee'", name="enable.dynamic.scale.vm", account="acmee")
case("setting", "'custmers'", domain="custmers")
case("setting", "got: sideways", state="sideways")
case("setting", "'1.2.3'", name="kvm.cpu.dynamic.scaling.capacity", value="1.2.3", cluster="cluster-a1")
case("setting", "'ten'", name="kvm.memory.dynamic.scaling.capacity", value="ten", cluster="cluster-a1")
# vm_state combinations and lookups
case("vm_state", "state=migrated needs a destination", state="migrated")
case("vm_state", "host=kvm-a1-01 and autoselect", state="migrated", host="kvm-a1-01", autoselect=True)
case("vm_state", "'kvm-a1-03'", host="kvm-a1-03")
case("vm_state", "got: paused", state="paused")
case("vm_state", "drop autoselect", state="started", autoselect=True)
case("vm_state", "drop force", state="started", force=True)
case("vm_state", "drop host", state="stopped", host="kvm-a1-02")
# vm_scale_fleet and system_vm_scale: their own options, checked before the first write
for option, value in (("max_jobs", 0), ("max_jobs", -2), ("max_failures", "ten"), ("max_failures", 0),
                      ("max_failures", "150%")):
    case("vm_scale_fleet", "%s=%r" % (option, value), **{option: value})
for option, value in (("cpu_number", 0), ("memory", "1G"), ("cpu_speed", -5)):
    case("vm_scale_fleet", "%s=%r" % (option, value), service_offering="Custom", **{option: value})
    case("system_vm_scale", "%s=%r" % (option, value), **{option: value})
case("vm_scale_fleet", "'web-1'", vms=["web-1"])
case("vm_scale_fleet", "name_pattern='web-('", vms=None, name_pattern="web-(")
case("system_vm_scale", "'v-9-VM'", system_vm="v-9-VM")
# wait: false cannot carry out jobs one after the other, nor keep max_failures: refused before any write
case("vm_scale", "a stop-change-start of VM web-01 needs the stop to end", vm="web-01", allow_restart=True, wait=False)
case("system_vm_scale", "a stop-change-start of system VM v-2-VM needs the stop to end", allow_restart=True, wait=False)
case("vm_scale_fleet", "max_failures=1 needs wait: true", max_failures=1, wait=False)
case("vm_scale_fleet", "a stop-change-start of VM web-01 needs the stop to end", vms=["db-01", "web-01"],
     allow_restart=True, wait=False)
# vm_scalable, template_scalable
case("vm_scalable", "got: now", apply="now")
case("vm_scalable", "'web-1'", vm="web-1", apply="restart")
case("template_scalable", "'debian-12'", template="debian-12")
case("template_scalable", "got: mine", template_filter="mine")
case("template_scalable", "'zone-x'", zone="zone-x")
case("template_scalable", "'Debian-12-Generic'", template="Debian-12-Generic")
# compute_offering shapes
case("compute_offering", "customized: true excludes", customized=True)
case("compute_offering", "min_cpu_number=4 is above max_cpu_number=2", cpu_number=None, cpu_speed=None, memory=None,
     customized=True, min_cpu_number=4, max_cpu_number=2, min_memory=512, max_memory=1024)
case("compute_offering", "min_memory=4096 is above max_memory=1024", cpu_number=None, cpu_speed=None, memory=None,
     customized=True, min_cpu_number=1, max_cpu_number=2, min_memory=4096, max_memory=1024)
case("compute_offering", "cpu_number=0", cpu_number=0)
case("compute_offering", "memory=16", memory=16)
case("compute_offering", "missing: memory: add memory", memory=None)
case("compute_offering", "'zone-x'", zones=["zone-x"])
case("compute_offering", "'custmers'", domains=["custmers"])
case("compute_offering", "got: removed", state="removed")
case("compute_offering", "got: nvme", storage_type="nvme")
# job_info ids
case("job_info", "job '00000000-0000-4000-8000-0000000000a1' not found")
case("job_info", "job 'not-a-job' not found", jobs=["not-a-job"])
case("job_info", "jobs=[] is empty", jobs=[])
case("job_info", "jobs=['']", jobs=[""])
case("job_info", "job '00000000-0000-4000-8000-0000000000a2' not found", jobs=["00000000-0000-4000-8000-0000000000a2"],
     wait=False)


# the libvirt modules, against libvirt's test driver (test:///default has one running domain, "test")
# vm_prepare_fleet: batches, windows, selection
for value in (0, -2, "0%", "150%", "ten", "2.5"):
    case("vm_prepare_fleet", "batch_size=%r" % (value,), batch_size=value)
case("vm_prepare_fleet", "maintenance_window.start='25:00'", maintenance_window=dict(start="25:00", end="04:00"))
case("vm_prepare_fleet", "maintenance_window.end='tonight'", maintenance_window=dict(start="22:00", end="tonight"))
case("vm_prepare_fleet", "end=22:00 must come after start=22:00", maintenance_window=dict(start="22:00", end="22:00"))
case("vm_prepare_fleet", "must both be times of day", maintenance_window=dict(start="22:00", end="2026-07-04 04:00"))
case("vm_prepare_fleet", "'web-1'", vms=["web-1"])
case("vm_prepare_fleet", "name_pattern='web-('", vms=None, name_pattern="web-(")
case("vm_prepare_fleet", "'zone-x'", vms=None, zone="zone-x")
case("vm_prepare_fleet", "'acmee'", vms=None, account="acmee")

# vm_autoscale: a policy that cannot work, windows, times, ladders, sources, selection
case("vm_autoscale", "cpu_down=75.0 must be below cpu_up - hysteresis", cpu_down=75.0)
case("vm_autoscale", "target_utilization=95.0 must not be above", target_utilization=95.0)
case("vm_autoscale", "'2am-4am' is not a daily window", maintenance_windows=["2am-4am"])
case("vm_autoscale", "reference_time='yesterday'", reference_time="yesterday")
case("vm_autoscale", "ladder: Custom is a custom offering", ladder=["Small", "Custom"])
case("vm_autoscale", "'Larg'", ladder=["Small", "Larg"])
case("vm_autoscale", "needs prometheus_url and prometheus_query", metrics_source="prometheus")
case("vm_autoscale", "got: sometimes", mode="sometimes")
case("vm_autoscale", "'web-1'", vm=["web-1"])
case("vm_autoscale", "'acmee'", vm=[], account="acmee")
for option, value in (("cpu_up", 150.0), ("percentile", 0.0), ("step_cpu", 0), ("max_concurrent", 0),
                      ("min_cpu", 0), ("cooldown", -5), ("max_actions_per_day", -1), ("breaker_failures", -1)):
    case("vm_autoscale", "%s=%s is out of range: give" % (option, value), **{option: value})
case("vm_autoscale", "max_cpu=2 is below min_cpu=4", min_cpu=4, max_cpu=2)

LIBVIRT_CASES = [
    ("libvirt_domain_scaling_info", dict(domain="i-2-99-VM"), "no domain named or with UUID 'i-2-99-VM'"),
    ("libvirt_domain_scaling_info", dict(uri="kvm-01", domain="test"), "cannot connect to libvirt at kvm-01: not a libvirt URI"),
    ("libvirt_domain_scaling_info", dict(uri="qemu+tcp://127.0.0.1:1/system", domain="test"),
     "cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system"),
    ("libvirt_domain_scale", dict(domain="test", vcpus=0), "vcpus=0 is not a valid size: give"),
    ("libvirt_domain_scale", dict(domain="test", memory=-1024), "memory=-1024 is not a valid size: give"),
    ("libvirt_domain_scale", dict(domain="test", vcpus=1000), "1000 vCPUs is above the domain's maximum"),
    ("libvirt_domain_scale", dict(uuid="00000000-0000-4000-8000-00000000dead", vcpus=2),
     "no domain named or with UUID '00000000-0000-4000-8000-00000000dead'"),
    ("libvirt_domain_scale", dict(domain="test", memory=64, memory_method="balloon"), "memory cannot be scaled down live"),
]


@pytest.mark.parametrize("module, args, needle", LIBVIRT_CASES)
def test_bad_libvirt_input_fails_clearly(module, args, needle):
    result = run_module(module, dict(dict(uri="test:///default"), **args))
    message = result.get("msg", "")
    assert result.get("failed"), "accepted: %s" % result
    assert needle in message, message
    assert any(word in message.lower() for word in FIX_WORDS + ("check that", "stop the vm")), "no fix in: %s" % message


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    with SimulatorProcess(db=tmp_path_factory.mktemp("bad-input") / "state.sqlite") as process:
        yield process


def state(client):
    """What a bad input must not change, read through the API."""
    def listed(command, key, fields, **params):
        return sorted(tuple(item.get(field) for field in fields) for item in client.ok(command, **params).get(key, []))
    settings = dict((scope, listed("listConfigurations", "configuration", ("name", "value"), **params))
                    for scope, params in (("global", {}), ("zone", {"zoneid": zone_id(client)})))
    return dict(
        vms=listed("listVirtualMachines", "virtualmachine", (
            "id", "state", "serviceofferingid", "cpunumber", "memory", "isdynamicallyscalable", "hostid"), listall="true"),
        offerings=listed("listServiceOfferings", "serviceoffering", ("id", "name", "cpunumber", "memory")),
        templates=listed("listTemplates", "template", ("id", "isdynamicallyscalable"), templatefilter="all"),
        settings=settings,
        events=len(client.ok("listEvents", listall="true").get("event", [])),
    )


def zone_id(client):
    return client.ok("listZones")["zone"][0]["id"]


def test_the_table_covers_every_api_module_with_at_least_120_cases():
    assert len(CASES) >= 120
    assert set(API_MODULES) == {param.values[0] for param in CASES}


@pytest.mark.parametrize("module, args, needle", CASES)
def test_bad_input_fails_clearly_and_changes_nothing(simulator, module, args, needle):
    client = simulator.client()
    before = state(client)
    connection = dict(api_url=simulator.url, api_key=simulator.admin_key, api_secret=simulator.admin_secret)
    given = dict((key, value) for key, value in dict(connection, **args).items() if value is not None)
    result = run_module(module, given)
    message = result.get("msg", "")
    assert result.get("failed"), "accepted: %s" % result
    assert needle in message, message
    assert any(word in message for word in FIX_WORDS), "no fix in: %s" % message
    assert simulator.admin_secret not in str(result)
    assert state(client) == before

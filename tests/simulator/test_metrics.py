"""VM usage metrics: listVirtualMachinesUsageHistory, the stats of listVirtualMachines(Metrics), load profiles and the
simulated clock.

Sources (CloudStack [main]): plugins/metrics ListVMsUsageHistoryCmd, BaseResourceUsageHistoryCmd,
MetricsServiceImpl (searchForVmMetricsStats, searchForUserVmsInternal, createStatsResponse, validateDateParams,
listVmMetrics), VmMetricsStatsResponse, api StatsResponse; server StatsCollector (VmStatsCollector,
persistVirtualMachineStats, cleanUpVirtualMachineStats, getVmStats), UserVmJoinDaoImpl.newUserVmResponse;
plugins/hypervisors/kvm LibvirtComputingResource (getVmStat, calculateVmMetrics, getMemoryFreeInKBs).
"""

import math
import time

import pytest
import yaml

from simulator import metrics
from simulator.agent import agent_for_host
from simulator.testing import InProcessSimulator
from tests.simulator.conftest import build_seed

START = "2026-01-05T00:00:00+0000"  # a Monday, 00:00 UTC
MIB_KB = 1024


def seed_with(tmp_path, loads=None, clock=None, balloon=0, settings=(), **changes):
    """The conftest seed plus a clock, VM loads ({vm name: load}) and kvm-a1-01's balloon statistics period."""
    path = build_seed(tmp_path, settings=settings, **changes)
    seed = yaml.safe_load(path.read_text())
    seed["clock"] = dict(clock or {"start": START})
    for vm in seed["vms"]:
        if vm["name"] in (loads or {}):
            vm["load"] = loads[vm["name"]]
    seed["zones"][0]["pods"][0]["clusters"][0]["hosts"][0]["memballoon_stats_period"] = balloon
    path.write_text(yaml.safe_dump(seed))
    return path


@pytest.fixture
def start_sim(tmp_path):
    """Factory of in-process simulators on seed_with(...); all stopped at the end."""
    started = []

    def start(**changes):
        sim = InProcessSimulator(seed_with(tmp_path, **changes), tmp_path / f"state{len(started)}.sqlite").start()
        started.append(sim)
        return sim
    yield start
    for sim in started:
        sim.stop()


def vm_id(client, name):
    """The uuid of a seed VM."""
    return next(vm["id"] for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]
                if vm["name"] == name)


def history(client, name, **params):
    """The stats[] of one VM."""
    answer = client.ok("listVirtualMachinesUsageHistory", id=vm_id(client, name), **params)
    return answer["virtualmachine"][0]["stats"]


def cpu(stats):
    """The cpuused figures as numbers."""
    return [float(stat["cpuused"].rstrip("%")) for stat in stats]


def advance(client, minutes):
    """simulatorAdvanceClock; returns the new time in epoch seconds."""
    return metrics.parse_time(client.ok("simulatorAdvanceClock", minutes=minutes)["clock"]["now"])


def test_history_shape_strings_and_interval(start_sim):
    """createStatsResponse: one StatsResponse per vm_stats row, cpuused DecimalFormat("#.##") + "%", memory figures
    from virDomainInfo (maxMem, memory), -1 free memory without balloon statistics; VmStatsCollector runs every
    vm.stats.interval (60000 ms) from 15 s after the start; the first reading of a domain has no utilization
    (calculateVmMetrics needs old stats)."""
    sim = start_sim(loads={"web-01": {"profile": "constant", "cores": 0.5}})
    client = sim.client()
    assert client.ok("listVirtualMachinesUsageHistory", id=vm_id(client, "web-01"))["virtualmachine"][0]["stats"] == []
    advance(client, 5)
    answer = client.ok("listVirtualMachinesUsageHistory", id=vm_id(client, "web-01"))
    assert answer["count"] == 1 and set(answer["virtualmachine"][0]) == {"id", "name", "displayname", "stats"}
    stats = answer["virtualmachine"][0]["stats"]
    assert [stat["cpuused"] for stat in stats] == ["0%", "50%", "50%", "50%", "50%"]
    times = [metrics.parse_time(stat["timestamp"]) for stat in stats]
    assert times[0] == pytest.approx(metrics.parse_time(START) + 15, abs=3)
    assert {round(b - a, 3) for a, b in zip(times, times[1:])} == {60.0}
    assert stats[0]["timestamp"].endswith("+0000") and "T" in stats[0]["timestamp"]
    small = 1024 * MIB_KB  # web-01 has offering Small: 1024 MiB
    assert {(s["memorykbs"], s["memorytargetkbs"], s["memoryintfreekbs"]) for s in stats} == {(small, small, -1)}
    assert {s["networkread"] for s in stats} == {"0.00 MiB"} and {s["diskiopstotal"] for s in stats} == {0}


def test_cpu_is_demand_over_vcpus_capped_and_falls_after_a_scale_up(start_sim):
    """calculateVmMetrics: utilization = CPU time / (elapsed x nrVirtCpu), so a guest cannot pass 100 % and the same
    demand reads half as much on twice the vCPUs after a live scale (UserVmManagerImpl.upgradeRunningVirtualMachine)."""
    sim = start_sim(loads={"web-01": {"profile": "constant", "cores": 0.9},
                           "db-01": {"profile": "constant", "cores": 3}})
    client = sim.client()
    advance(client, 3)
    assert cpu(history(client, "web-01"))[1:] == [90.0, 90.0]
    assert cpu(history(client, "db-01"))[1:] == [100.0, 100.0]  # Medium: 2 vCPUs, demand 3 cores
    offerings = {o["name"]: o["id"] for o in client.ok("listServiceOfferings")["serviceoffering"]}
    job = client.run("scaleVirtualMachine", id=vm_id(client, "web-01"), serviceofferingid=offerings["Medium"])
    assert job["jobstatus"] == 1
    advance(client, 3)
    assert cpu(history(client, "web-01"))[-2:] == [45.0, 45.0]


def test_load_set_at_run_time_by_the_simulator_only_admin_call(start_sim):
    """simulatorSetVmLoad (simulator only, root admin only) changes the demand of later runs; rows already taken keep
    their figures. Users get CloudStack's 432 for a command their role lacks."""
    sim = start_sim(loads={"web-01": {"profile": "constant", "cores": 0.2}})
    client = sim.client()
    advance(client, 3)
    answer = client.ok("simulatorSetVmLoad", id=vm_id(client, "web-01"), profile="constant", cores="0.75")
    assert answer["vmload"]["profile"] == "constant" and answer["vmload"]["demand"] == 0.75
    advance(client, 3)
    assert cpu(history(client, "web-01"))[1:] == [20.0, 20.0, 75.0, 75.0, 75.0]
    listed = client.ok("simulatorListVmLoads", id=vm_id(client, "web-01"))["vmload"][0]
    assert listed["cores"] == 0.75 and listed["demand"] == 0.75
    status, body = client.call("simulatorSetVmLoad", id=vm_id(client, "web-01"), profile="sawtooth")
    assert status == 431 and "profile must be one of constant, diurnal, bursts, step" in body[
        "simulatorsetvmloadresponse"]["errortext"]
    status, body = client.call("simulatorSetVmLoad", id=vm_id(client, "web-01"), profile="bursts", base="0.1")
    assert status == 431 and "needs burst, period, duration" in body["simulatorsetvmloadresponse"]["errortext"]
    user = sim.client(sim.user_key, sim.user_secret)
    status, body = user.call("simulatorSetVmLoad", id=vm_id(client, "web-01"), profile="constant", cores="1")
    assert status == 432 and user.call("simulatorAdvanceClock", minutes=1)[0] == 432


def test_no_rows_while_a_vm_is_not_running_and_zero_after_its_start(start_sim):
    """VmStatsCollector reads only the Running VMs of Up hosts (getVmMapForStatsForHost): a stopped VM leaves a gap;
    after the start the agent's reading of the new domain has no old stats, so the first row is 0 %."""
    sim = start_sim(loads={"web-01": {"profile": "constant", "cores": 0.6}})
    client = sim.client()
    advance(client, 3)
    assert client.run("stopVirtualMachine", id=vm_id(client, "web-01"))["jobstatus"] == 1
    stopped_at = advance(client, 0)
    advance(client, 10)
    assert client.run("startVirtualMachine", id=vm_id(client, "web-01"))["jobstatus"] == 1
    started_at = advance(client, 0)
    advance(client, 3)
    stats = history(client, "web-01")
    times = [metrics.parse_time(stat["timestamp"]) for stat in stats]
    assert not [when for when in times if stopped_at < when < started_at]
    after = [stat["cpuused"] for stat, when in zip(stats, times) if when > started_at]
    assert after == ["0%", "60%", "60%"]
    assert len(stats) == 6


def test_rows_are_kept_for_the_retention_time(start_sim):
    """cleanUpVirtualMachineStats (VmStatsCleaner every 60 s): rows older than vm.stats.max.retention.time minutes
    (dynamic, default 720) go; 0 or less keeps all."""
    sim = start_sim(settings=[{"name": "vm.stats.max.retention.time", "value": 10}])
    client = sim.client()
    now = advance(client, 30)
    times = [metrics.parse_time(stat["timestamp"]) for stat in history(client, "web-01")]
    assert len(times) in (10, 11) and min(times) >= now - 11 * 60
    client.ok("updateConfiguration", name="vm.stats.max.retention.time", value="0")
    advance(client, 30)
    assert len(history(client, "web-01")) >= len(times) + 30
    setting = client.ok("listConfigurations", name="vm.stats.max.retention.time")["configuration"][0]
    assert (setting["value"], setting["defaultvalue"], setting["isdynamic"]) == ("0", "720", True)


def test_interval_is_read_at_start(start_sim):
    """vm.stats.interval (Config, 60000 ms, not dynamic): StatsCollector.init schedules the collector with it once."""
    sim = start_sim(settings=[{"name": "vm.stats.interval", "value": 300000}])
    client = sim.client()
    client.ok("updateConfiguration", name="vm.stats.interval", value="60000")
    advance(client, 30)
    times = [metrics.parse_time(stat["timestamp"]) for stat in history(client, "web-01")]
    assert len(times) == 6 and {b - a for a, b in zip(times, times[1:])} == {300.0}
    setting = client.ok("listConfigurations", name="vm.stats.interval")["configuration"][0]
    assert (setting["defaultvalue"], setting["isdynamic"]) == ("60000", False)


def test_memory_figures_need_balloon_statistics(start_sim):
    """getMemoryFreeInKBs: the guest's unused memory only with balloon statistics (agent.properties
    vm.memballoon.stats.period > 0), else -1; listVirtualMachines (UserVmJoinDaoImpl) and listVirtualMachinesMetrics
    carry the newest row, with CloudStack's cputotal/memorytotal texts (VmMetricsResponse)."""
    sim = start_sim(balloon=10, loads={"web-01": {"profile": "constant", "cores": 0.25, "memoryused": 300}})
    client = sim.client()
    advance(client, 2)
    stat = history(client, "web-01")[-1]
    assert (stat["memorykbs"], stat["memoryintfreekbs"]) == (1024 * MIB_KB, (1024 - 300) * MIB_KB)
    listed = client.ok("listVirtualMachinesMetrics", id=vm_id(client, "web-01"))["virtualmachine"][0]
    assert (listed["cpuused"], listed["memoryintfreekbs"], listed["cputotal"], listed["memorytotal"]) == (
        "25%", (1024 - 300) * MIB_KB, "1.0 Ghz", "1.00 GiB")
    plain = client.ok("listVirtualMachines", id=vm_id(client, "web-01"))["virtualmachine"][0]
    assert plain["cpuused"] == "25%" and plain["memorytargetkbs"] == 1024 * MIB_KB
    no_stats = client.ok("listVirtualMachines", id=vm_id(client, "web-01"), details="nics")["virtualmachine"][0]
    assert "cpuused" not in no_stats
    other_host = history(client, "db-01")[-1]  # db-01 runs on kvm-a1-02, whose agent has no balloon statistics
    assert other_host["memoryintfreekbs"] == -1
    web = sim.app.store.one("vm", name="web-01")  # LibvirtVMDef MemBalloonDef: <stats period='N'/> of agent.properties
    xml = agent_for_host(sim.app.store.one("host", name="kvm-a1-01")).conn.lookupByName(web["instancename"]).XMLDesc()
    assert "<stats period='10'/>" in xml


def test_dates_ids_and_filters(start_sim):
    """ParamProcessWorker.parseAndSetDate (zoned ISO, "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd" to the day's start/end),
    validateDateParams, getIdsListFromCmd, searchForUserVmsInternal (displayName LIKE, keyword, caller's accounts)."""
    sim = start_sim()
    client = sim.client()
    advance(client, 10)
    all_rows = history(client, "web-01")
    third = all_rows[2]["timestamp"]
    assert history(client, "web-01", startdate=third)[0]["timestamp"] == third
    spaced = third.replace("T", " ")[:19]
    assert history(client, "web-01", enddate=spaced)[-1]["timestamp"] == third
    assert len(history(client, "web-01", startdate="2026-01-05", enddate="2026-01-05")) == len(all_rows)
    assert history(client, "web-01", startdate="2026-01-06") == []
    status, body = client.call("listVirtualMachinesUsageHistory", startdate="2026-01-06", enddate="2026-01-05")
    assert (status, body["listvirtualmachinesusagehistoryresponse"]["errortext"]) == (
        431, "startDate cannot be after endDate.")
    status, body = client.call("listVirtualMachinesUsageHistory", startdate="yesterday")
    assert (status, body["listvirtualmachinesusagehistoryresponse"]["errortext"]) == (
        431, "Unable to parse date yesterday for command listvirtualmachinesusagehistory, please pass dates in the"
             " format mentioned in the api documentation")
    web, db = vm_id(client, "web-01"), vm_id(client, "db-01")
    status, body = client.call("listVirtualMachinesUsageHistory", id=web, ids=db)
    assert (status, body["listvirtualmachinesusagehistoryresponse"]["errortext"]) == (
        431, "Specify either id or ids but not both parameters")
    both = client.ok("listVirtualMachinesUsageHistory", ids=f"{web},{db}")
    assert [vm["name"] for vm in both["virtualmachine"]] == ["web-01", "db-01"]
    assert [vm["name"] for vm in client.ok("listVirtualMachinesUsageHistory", name="EB-")["virtualmachine"]] == [
        "web-01"]
    assert client.ok("listVirtualMachinesUsageHistory", keyword="running")["count"] == 2
    paged = client.ok("listVirtualMachinesUsageHistory", page=2, pagesize=1)
    assert paged["count"] == 1 and paged["virtualmachine"][0]["name"] == "db-01"
    user = sim.client(sim.user_key, sim.user_secret)
    assert user.ok("listVirtualMachinesUsageHistory")["count"] == 2  # acme owns both, without listall
    admin_own = client.ok("listVirtualMachinesUsageHistory", name="web")  # admins see their domain tree
    assert admin_own["count"] == 1


def test_fast_clock_moves_timestamps_not_job_timings(start_sim):
    """A seed clock at speed 600: ten real minutes a second. Timestamps (stats, events, lastupdated) follow it; the
    seed timings of jobs stay in real seconds (simulator choice, see simulator/README.md)."""
    sim = start_sim(clock={"start": START, "speed": 600})
    client = sim.client()
    before = advance(client, 0)
    began = time.monotonic()
    assert client.run("stopVirtualMachine", id=vm_id(client, "web-01"))["jobstatus"] == 1
    real = time.monotonic() - began
    assert real < 5
    event = next(e for e in client.ok("listEvents", listall="true")["event"] if e["type"] == "VM.STOP")
    assert metrics.parse_time(event["created"]) - before >= 0.1 * 600 * 0.5  # the stop took 0.1 s real (timings)
    time.sleep(0.6)
    assert advance(client, 0) - before >= 0.6 * 600
    assert len(history(client, "db-01")) >= 5


def test_clock_survives_a_restart(tmp_path):
    """The simulated clock is kept in the db: a restart continues it (with the real time passed at its speed)."""
    db = tmp_path / "state.sqlite"
    seed = seed_with(tmp_path)
    sim = InProcessSimulator(seed, db).start()
    moved = advance(sim.client(), 600)
    sim.stop()
    sim = InProcessSimulator(seed, db).start()
    try:
        assert advance(sim.client(), 0) == pytest.approx(moved, abs=5)
        assert len(history(sim.client(), "web-01")) >= 590
    finally:
        sim.stop()


@pytest.mark.parametrize("percent, text", [(12.5, "12.5%"), (0.125, "0.12%"), (0.135, "0.14%"), (33.3333, "33.33%"),
                                           (100.0, "100%"), (0.0, "0%"), (2.675, "2.67%"), (7.1, "7.1%")])
def test_cpu_used_text_is_java_decimal_format(percent, text):
    """DecimalFormat("#.##") rounds the double's exact value HALF_EVEN and drops trailing zeros."""
    assert metrics.cpu_used_text(percent) == text


@pytest.mark.parametrize("load, minute, cores", [
    ({"profile": "diurnal", "base": 0.2, "peak": 1.8, "peakhour": 14}, 14 * 60, 1.8),
    ({"profile": "diurnal", "base": 0.2, "peak": 1.8, "peakhour": 14}, 2 * 60, 0.2),
    ({"profile": "diurnal", "base": 0.2, "peak": 1.8, "peakhour": 14}, 8 * 60, 1.0),
    ({"profile": "bursts", "base": 0.1, "burst": 2, "period": 60, "duration": 10, "offset": 30}, 35, 2),
    ({"profile": "bursts", "base": 0.1, "burst": 2, "period": 60, "duration": 10, "offset": 30}, 45, 0.1),
    ({"profile": "bursts", "base": 0.1, "burst": 2, "period": 60, "duration": 10, "offset": 30}, 95, 2),
    ({"profile": "step", "before": 0.3, "after": 1.5, "at": 600}, 599, 0.3),
    ({"profile": "step", "before": 0.3, "after": 1.5, "at": 600}, 600, 1.5),
])
def test_load_profiles(load, minute, cores):
    """The documented profiles (simulator/README.md), minutes after the clock's start at 00:00 UTC."""
    start = metrics.parse_time(START)
    assert metrics.demand(metrics.check_load(load), start + minute * 60, start) == pytest.approx(cores)


def test_jitter_is_deterministic_and_bounded():
    """jitter: the same offset for the same VM and minute, within +/- jitter, never below 0."""
    load = metrics.check_load({"profile": "constant", "cores": 0.5, "jitter": 0.2})
    values = [metrics.demand(load, minute * 60.0, 0, "vm-a") for minute in range(200)]
    assert values == [metrics.demand(load, minute * 60.0, 0, "vm-a") for minute in range(200)]
    assert all(0.3 <= value <= 0.7 for value in values) and len(set(values)) > 100
    assert not math.isclose(sum(values), sum(metrics.demand(load, m * 60.0, 0, "vm-b") for m in range(200)))


def test_bad_seed_load_and_clock_name_the_entry(tmp_path):
    """A bad load or clock stops the start with a message naming the entry."""
    with pytest.raises(Exception, match="vm web-01: load: profile step needs at"):
        InProcessSimulator(seed_with(tmp_path, loads={"web-01": {"profile": "step", "before": 1, "after": 2}}),
                           tmp_path / "a.sqlite").start()
    with pytest.raises(Exception, match="clock: speed must be above 0"):
        InProcessSimulator(seed_with(tmp_path, clock={"speed": 0}), tmp_path / "b.sqlite").start()


def test_agent_reads_cpu_time_and_unused_memory_from_libvirt(start_sim):
    """getVmCurrentCpuStats reads virDomainGetInfo's cpuTime and getMemoryFreeInKBs the 'unused' memory statistic:
    the agent's readers return libvirt's own figures for a domain, None for a domain that is not there."""
    sim = start_sim()
    host = sim.app.store.one("host", name="kvm-a1-01")
    vm = sim.app.store.one("vm", name="web-01")
    agent = agent_for_host(host)
    domain = agent.conn.lookupByName(vm["instancename"])
    assert agent.cpu_time(vm["instancename"]) >= domain.info()[4] - 10 ** 10
    assert agent.unused_memory_kib(vm["instancename"]) == domain.memoryStats().get("unused")
    assert agent.cpu_time("no-such-domain") is None and agent.unused_memory_kib("no-such-domain") is None

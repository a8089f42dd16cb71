"""VM statistics as CloudStack collects and keeps them, from per-VM load profiles, on a clock that may run fast.

* ``SimClock``: the simulator's time (``app.clock``): real time times ``speed`` from an anchor, moved forward at once
  by ``advance``; seed ``clock: {speed, start}``, kept in the meta table so a restart continues it.
* Load profiles: a VM's CPU demand in cores over time (constant, diurnal, bursts, step), seed ``load`` or
  ``simulatorSetVmLoad``.
* ``Metrics``: StatsCollector.VmStatsCollector every ``vm.stats.interval`` ms (first run 15 s after start,
  DEFAULT_INITIAL_DELAY) over the Running VMs of Up hosts not in maintenance, one ``vm_stats`` row per VM and run
  (persistVirtualMachineStats), removed by VmStatsCleaner (every 60 s) once older than ``vm.stats.max.retention.time``
  minutes. A row holds what LibvirtComputingResource.getVmStat measures: CPU utilization = CPU time used over the
  period / (elapsed x vCPUs) (calculateVmMetrics; 0 when the agent has no earlier reading of that domain), memory
  = virDomainInfo maxMem and memory (current), and the guest's unused memory (getMemoryFreeInKBs: -1 without
  balloon statistics, agent.properties ``vm.memballoon.stats.period`` 0 by default).
  Collection is lazy: every request (``Simulator.context``) and every clock advance first takes the runs that are due.
"""

import hashlib
import json
import math
import sqlite3
import time
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from simulator import hypervisors
from simulator.store import sqlite_transaction

INITIAL_DELAY = 15.0  # StatsCollector.DEFAULT_INITIAL_DELAY (ms 15000)
CLEANER_PERIOD = 60.0  # StatsCollector.init: VmStatsCleaner scheduled with a fixed delay of 60000 ms
SUBSAMPLES = 6  # demand is averaged over a collection period at this many points (CPU time is an integral)
MAINTENANCE = ("Maintenance", "PrepareForMaintenance", "ErrorInPrepareForMaintenance", "ErrorInMaintenance")
PROFILES = {  # profile -> (required fields, optional fields with defaults); times in minutes, hours for peakhour
    "constant": (("cores",), {}),
    "diurnal": (("base", "peak"), {"peakhour": 14.0}),
    "bursts": (("base", "burst", "period", "duration"), {"offset": 0.0}),
    "step": (("before", "after", "at"), {}),
}
COMMON_FIELDS = {"jitter": 0.0, "memoryused": None}
LOAD_FIELDS = tuple(sorted({name for required, optional in PROFILES.values() for name in required + tuple(optional)}
                           | set(COMMON_FIELDS)))
DEFAULT_LOAD = {"profile": "constant", "cores": 0.0, "jitter": 0.0, "memoryused": None}
CLOCK_META = "clock"
SCHEMA = """CREATE TABLE IF NOT EXISTS vm_stats (
    id INTEGER PRIMARY KEY AUTOINCREMENT, vm_id INTEGER NOT NULL, timestamp REAL NOT NULL, vm_stats_data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vm_stats_vm_time ON vm_stats (vm_id, timestamp);"""


def parse_time(text):
    """Epoch seconds of a CloudStack timestamp (2026-01-05T00:00:00+0000) or an ISO 8601 one."""
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z").timestamp()


def format_time(epoch):
    """CloudStack's date format (ApiResponseGsonHelper: yyyy-MM-dd'T'HH:mm:ssZ), in UTC."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class SimClock:
    """The simulated time in epoch seconds: ``anchor + (real() - real_anchor) * speed``; callable as ``app.clock``."""

    def __init__(self, real=time.time):
        self.real = real
        self.speed = 1.0
        self.real_anchor = self.sim_anchor = self.start = real()

    def __call__(self):
        return self.sim_anchor + (self.real() - self.real_anchor) * self.speed

    def configure(self, spec):
        """Apply the seed's ``clock: {speed, start}``; ValueError naming the bad field."""
        spec = dict(spec or {})
        unknown = set(spec) - {"speed", "start"}
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))} (speed, start)")
        speed = float(spec.get("speed", 1))
        if math.isnan(speed) or speed <= 0:
            raise ValueError(f"speed must be above 0, not {spec['speed']}")
        start = parse_time(str(spec["start"])) if "start" in spec else self()
        self.speed, self.real_anchor, self.sim_anchor, self.start = speed, self.real(), start, start

    def advance(self, seconds):
        """Move the simulated time forward at once."""
        now = self()
        self.real_anchor, self.sim_anchor = self.real(), now + seconds

    def state(self):
        """What the meta table keeps."""
        return json.dumps({"speed": self.speed, "start": self.start, "sim_anchor": self(), "real_anchor": self.real()})

    def restore(self, text):
        """Continue a kept clock (the real time the simulator was down passes at its speed)."""
        kept = json.loads(text)
        self.speed, self.start = kept["speed"], kept["start"]
        self.sim_anchor, self.real_anchor = kept["sim_anchor"], kept["real_anchor"]


def check_load(spec, memory_mib=None):
    """A load spec with its defaults filled in; ValueError naming what is wrong.

    ``memory_mib`` (the VM's memory) bounds ``memoryused`` when given. No spec: constant 0 cores.
    """
    spec = dict(spec or DEFAULT_LOAD)
    profile = spec.pop("profile", "constant")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile}")
    required, optional = PROFILES[profile]
    allowed = set(required) | set(optional) | set(COMMON_FIELDS)
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"profile {profile} takes {', '.join(sorted(allowed))}, not {', '.join(sorted(unknown))}")
    missing = [name for name in required if spec.get(name) is None]
    if missing:
        raise ValueError(f"profile {profile} needs {', '.join(missing)}")
    load = {"profile": profile, **COMMON_FIELDS, **optional}
    for name, value in spec.items():
        if value is None:
            continue
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{name} must be a number of at least 0, not {value}")
        load[name] = number
    if profile == "bursts" and not 0 < load["duration"] <= load["period"]:
        raise ValueError("bursts need 0 < duration <= period (minutes)")
    if profile == "diurnal" and load["peakhour"] >= 24:
        raise ValueError("peakhour must be below 24")
    if load["memoryused"] is not None and memory_mib is not None and load["memoryused"] > memory_mib:
        raise ValueError(f"memoryused {load['memoryused']:g} MiB is above the VM's memory ({memory_mib} MiB)")
    return load


def demand(load, when, start, key=""):
    """CPU demand in cores at simulated time ``when`` (epoch seconds); ``start`` is the clock's start.

    diurnal: a cosine over the UTC day with its top at ``peakhour``; bursts: ``burst`` for ``duration`` minutes every
    ``period`` minutes from ``offset`` minutes after the start, else ``base``; step: ``before`` until ``at`` minutes
    after the start, then ``after``. ``jitter`` adds a deterministic offset in [-jitter, +jitter] per VM (``key``) and
    minute. Never below 0.
    """
    profile = load["profile"]
    minutes = (when - start) / 60.0
    if profile == "constant":
        value = load["cores"]
    elif profile == "diurnal":
        hour = (when % 86400) / 3600.0
        phase = 2 * math.pi * (hour - load["peakhour"]) / 24
        value = load["base"] + (load["peak"] - load["base"]) * (1 + math.cos(phase)) / 2
    elif profile == "bursts":
        value = load["burst"] if (minutes - load["offset"]) % load["period"] < load["duration"] else load["base"]
    else:
        value = load["before"] if minutes < load["at"] else load["after"]
    if load.get("jitter"):
        digest = hashlib.sha256(f"{key}:{int(when // 60)}".encode()).digest()
        value += load["jitter"] * (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF * 2 - 1)
    return max(value, 0.0)


def cpu_used_text(percent):
    """cpuused as MetricsServiceImpl.createStatsResponse writes it: DecimalFormat("#.##") (HALF_EVEN) + "%"."""
    text = str(Decimal(percent).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


class Metrics:
    """The vm_stats table, its collector and its cleaner (see the module docstring)."""

    def __init__(self, app, db_path):
        self.app = app
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self.interval = app.settings.integer("vm.stats.interval") / 1000.0  # Config: read at start (init)
        self.anchor = app.clock() + INITIAL_DELAY
        self.next_run = self.anchor
        self.cleaned_at = None
        # what the agents remember of each domain (host uri, domain name): LibvirtComputingResource.vmStats
        self._readings = {}  # -> (simulated time, run marker) of the last reading
        self._cpu_readings = {}  # real QEMU domains -> (monotonic time, CPU time in ns)

    def collect(self):
        """Take every collection run due by now, then clean up (callers hold the store lock)."""
        now = self.app.clock()
        runs = []
        while self.interval > 0 and self.next_run <= now:
            runs.append(self.next_run)
            self.next_run += self.interval
        if runs:
            rows = [row for host in self._collected_hosts()
                    for vm in self.app.store.find("vm", host_id=host["id"], state="Running")
                    for row in self._vm_rows(vm, host, runs)]
            with sqlite_transaction(self._db):
                self._db.executemany("INSERT INTO vm_stats (vm_id, timestamp, vm_stats_data) VALUES (?, ?, ?)", rows)
        self._clean(now)

    def _collected_hosts(self):
        """createSearchCriteriaForHostTypeRoutingStateUpAndNotInMaintenance."""
        return [host for host in self.app.store.all("host")
                if host["state"] == "Up" and host.get("resourcestate") not in MAINTENANCE]

    def _vm_rows(self, vm, host, runs):
        """The rows of one VM for the runs since its domain started on this host (none if the domain is absent)."""
        agent = hypervisors.agent_for(host)  # libvirt for KVM, the in-simulator agent for XenServer/VMware
        view = agent.view(vm["instancename"])
        if view is None or not view.running:
            return []
        since = parse_time(vm["lastupdated"]) if vm.get("lastupdated") else float("-inf")
        marker = (vm.get("lastupdated"), vm["host_id"])
        key = (host["uri"], vm["instancename"])
        balloon = int(host.get("memballoon_stats_period") or 0) > 0
        load = vm.get("load") or DEFAULT_LOAD
        free_kib = self._free_kib(agent, vm, view, load) if balloon else -1
        real_util = None if agent.emulated else self._real_utilization(agent, key, view)
        rows = []
        for when in runs:
            if when < since:
                continue
            previous = self._readings.get(key)
            if real_util is not None:
                util = real_util
            elif previous is None or previous[1] != marker:
                util = 0.0  # calculateVmMetrics: no old stats (or a CPU time that went back) leaves utilization 0
            else:
                util = self._simulated_utilization(vm, view, load, previous[0], when)
            data = {"vmId": vm["id"], "cpuUtilization": util * 100, "numCPUs": view.vcpus,
                    "memoryKBs": view.memory_mib * 1024, "targetMemoryKBs": view.current_memory_mib * 1024,
                    "intFreeMemoryKBs": free_kib}
            rows.append((vm["id"], round(when), json.dumps(data)))  # vm_stats.timestamp: a DATETIME (seconds)
            self._readings[key] = (when, marker)
        return rows

    def _simulated_utilization(self, vm, view, load, since, until):
        """Average CPU used over (since, until] as a fraction of all vCPUs: demand capped at the vCPUs (and the
        per-vCPU quota of a limitcpuuse offering)."""
        per_vcpu = 1.0 if not view.cpu_quota or not view.cpu_period else min(view.cpu_quota / view.cpu_period, 1.0)
        capacity = view.vcpus * per_vcpu
        step = (until - since) / SUBSAMPLES
        used = sum(min(demand(load, since + (i + 0.5) * step, self.app.clock.start, vm["uuid"]), capacity)
                   for i in range(SUBSAMPLES)) / SUBSAMPLES
        return used / view.vcpus

    def _real_utilization(self, agent, key, view):
        """A real domain's CPU time since the agent's last reading over the real time passed and its vCPUs (0 at the
        first reading and when the CPU time went back, as after a restart). Runs taken together share the figure."""
        cpu_ns, real_now = agent.cpu_time(key[1]), time.monotonic()
        previous = self._cpu_readings.get(key)
        if cpu_ns is None:
            return 0.0
        self._cpu_readings[key] = (real_now, cpu_ns)
        if previous is None:
            return 0.0
        elapsed, used = real_now - previous[0], cpu_ns - previous[1]
        return used / (elapsed * 1e9 * view.vcpus) if used > 0 and elapsed > 0 else 0.0

    @staticmethod
    def _free_kib(agent, vm, view, load):
        """The guest's unused memory: real balloon statistics on QEMU hosts, else memory minus ``memoryused``."""
        if not agent.emulated:
            unused = agent.unused_memory_kib(vm["instancename"])
            return -1 if unused is None else unused
        used_mib = load.get("memoryused")
        if used_mib is None:
            used_mib = view.current_memory_mib / 2
        return int(max(view.current_memory_mib - used_mib, 0) * 1024)

    def _clean(self, now):
        """VmStatsCleaner: each run removes rows older than vm.stats.max.retention.time minutes (<= 0: none)."""
        if now < self.anchor:
            return
        run = self.anchor + (now - self.anchor) // CLEANER_PERIOD * CLEANER_PERIOD
        if run == self.cleaned_at:
            return
        self.cleaned_at = run
        retention = self.app.settings.integer("vm.stats.max.retention.time")
        if retention > 0:
            self._db.execute("DELETE FROM vm_stats WHERE timestamp < ?", (run - retention * 60,))

    def history(self, vm_id, start=None, end=None):
        """(timestamp, data) of a VM's rows in the order they were taken, within [start, end] where given."""
        query, args = "SELECT timestamp, vm_stats_data FROM vm_stats WHERE vm_id = ?", [vm_id]
        if start is not None:
            query, args = query + " AND timestamp >= ?", args + [start]
        if end is not None:
            query, args = query + " AND timestamp <= ?", args + [end]
        return [(when, json.loads(data)) for when, data in self._db.execute(query + " ORDER BY id", args)]

    def latest(self, vm_id):
        """The newest row's data of a VM (StatsCollector.getVmStats), or None."""
        row = self._db.execute("SELECT vm_stats_data FROM vm_stats WHERE vm_id = ? ORDER BY timestamp DESC, id DESC"
                               " LIMIT 1", (vm_id,)).fetchone()
        return json.loads(row[0]) if row else None


def stats_response(when, data):
    """StatsResponse of one row (MetricsServiceImpl.createStatsResponse): free memory not below the total, else -1.

    The simulator measures no network or disk traffic: those figures are 0.
    """
    total, free = int(data["memoryKBs"]), int(data["intFreeMemoryKBs"])
    return {"timestamp": format_time(when), "cpuused": cpu_used_text(data["cpuUtilization"]), "diskioread": 0,
            "diskiowrite": 0, "diskiopstotal": 0, "diskkbsread": 0, "diskkbswrite": 0,
            "memoryintfreekbs": -1 if free >= total else free, "memorykbs": total,
            "memorytargetkbs": int(data["targetMemoryKBs"]), "networkkbsread": 0, "networkkbswrite": 0,
            "networkread": "0.00 MiB", "networkwrite": "0.00 MiB"}


def vm_stats_fields(data):
    """The stats part of a UserVmResponse from the newest row (UserVmJoinDaoImpl.newUserVmResponse): free memory
    not below the total is 0 there."""
    total, free = int(data["memoryKBs"]), int(data["intFreeMemoryKBs"])
    return {"cpuused": cpu_used_text(data["cpuUtilization"]), "networkkbsread": 0, "networkkbswrite": 0,
            "diskkbsread": 0, "diskkbswrite": 0, "memorykbs": total, "memoryintfreekbs": 0 if free >= total else free,
            "memorytargetkbs": int(data["targetMemoryKBs"]), "diskioread": 0, "diskiowrite": 0}


def java_fixed(value, places):
    """String.format("%.<places>f", value): the double's exact value rounded HALF_UP."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

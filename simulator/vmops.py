"""VM lifecycle on the hosts: state machine (spec 5) and the libvirt agent glue (spec 4.1)."""

import math

from simulator import agent as host_agent
from simulator import hypervisors
from simulator.errors import runtime
from simulator.model import instances, overcommit, vm_kind, vm_size

TRANSITIONS = {
    "Stopped": {"StartRequested": "Starting", "DestroyRequested": "Destroyed", "StopRequested": "Stopped",
                "AgentReportStopped": "Stopped", "OperationFailedToError": "Error", "OperationFailed": "Stopped",
                "ExpungeOperation": "Expunging", "AgentReportShutdowned": "Stopped",
                "StorageMigrationRequested": "Migrating", "RestoringRequested": "Restoring",
                "FollowAgentPowerOnReport": "Running", "FollowAgentPowerOffReport": "Stopped"},
    "Starting": {"OperationRetry": "Starting", "OperationSucceeded": "Running", "OperationFailed": "Stopped",
                 "AgentReportRunning": "Running", "AgentReportStopped": "Stopped",
                 "AgentReportShutdowned": "Stopped", "FollowAgentPowerOnReport": "Running",
                 "FollowAgentPowerOffReport": "Stopped"},
    "Running": {"MigrationRequested": "Migrating", "AgentReportRunning": "Running",
                "AgentReportStopped": "Stopped", "StopRequested": "Stopping", "AgentReportShutdowned": "Stopped",
                "AgentReportMigrated": "Running", "OperationSucceeded": "Running",
                "FollowAgentPowerOnReport": "Running", "FollowAgentPowerOffReport": "Stopped"},
    "Migrating": {"MigrationRequested": "Migrating", "OperationSucceeded": "Running", "OperationFailed": "Running",
                  "AgentReportRunning": "Running", "AgentReportStopped": "Stopped",
                  "AgentReportShutdowned": "Stopped", "FollowAgentPowerOnReport": "Running",
                  "FollowAgentPowerOffReport": "Stopped"},
    "Stopping": {"OperationSucceeded": "Stopped", "OperationFailed": "Running", "AgentReportRunning": "Running",
                 "AgentReportStopped": "Stopped", "StopRequested": "Stopping", "AgentReportShutdowned": "Stopped",
                 "FollowAgentPowerOnReport": "Running", "FollowAgentPowerOffReport": "Stopped"},
    "Destroyed": {"RecoveryRequested": "Stopped", "ExpungeOperation": "Expunging",
                  "RestoringRequested": "Restoring"},
    "Expunging": {"OperationFailed": "Expunging", "OperationFailedToError": "Error", "ExpungeOperation": "Expunging"},
    "Error": {"DestroyRequested": "Expunging", "ExpungeOperation": "Expunging"},
    "Restoring": {"RestoringSuccess": "Stopped", "RestoringFailed": "Stopped"},
}
# after a restart: AsyncJobManagerImpl.cleanupVirtualMachine moves a transitional VM on by OperationFailed
SETTLE = {"Starting": "Stopped", "Stopping": "Running", "Migrating": "Running"}
MAX_CPU_QUOTA_PCT = 1.0


def can_transit(vm, event):
    """True when the state machine has a transition for event from the VM's state."""
    return event in TRANSITIONS.get(vm["state"], {})


def transit(app, vm, event):
    """Move a VM along the state machine; 530 with StateMachine2's text when there is no transition."""
    target = TRANSITIONS.get(vm["state"], {}).get(event)
    if target is None:
        raise runtime(f"Unable to transition to a new state from {vm['state']} via {event}")
    if not (target == vm["state"] == "Stopped" and vm.get("host_id") is None):  # VMInstanceDaoImpl.ifStateUnchanged
        vm["state"] = target
        vm["lastupdated"] = app.now()
    app.store.save(vm_kind(vm), vm)


def agent_of(app, host):
    """The shared agent of a host: its libvirt URI's (KVM, with the host's guest image) or its in-simulator one."""
    return hypervisors.agent_for(host)


def cpu_shares(cores, min_speed):
    """calculateCpuShares for cgroup v1: cpus x minSpeed, clamped to [2, 262144]."""
    return max(2, min(262144, int(cores * min_speed)))


def quota_pct(offering, min_speed, host):
    """KVMGuru.getCpuQuotaPercentage when the offering caps CPU use, else None."""
    if not offering.get("limitcpuuse"):
        return None
    return min(MAX_CPU_QUOTA_PCT, math.floor(min_speed / host["cpu_mhz"] * 100 + 0.5 - 1e-9) / 100.0)


def min_values(app, host, speed, memory):
    """(minSpeed, minRam) divided by the cluster overcommit factors when the settings say so."""
    cpu_factor, mem_factor = overcommit(app.settings, host["cluster_id"])
    cluster = host["cluster_id"]
    min_speed = speed
    if app.settings.boolean("vm.min.cpu.speed.equals.cpu.speed.divided.by.cpu.overprovisioning.factor",
                            "cluster", cluster):
        min_speed = int(speed / cpu_factor)
    min_ram = memory
    if app.settings.boolean("vm.min.memory.equals.memory.divided.by.mem.overprovisioning.factor",
                            "cluster", cluster):
        min_ram = int(memory / mem_factor)
    return min_speed, min_ram


def domain_limits(app, vm, host):
    """(max vCPUs, max MiB or None) recorded at start, per spec 4.1 and the version's KVMGuru (versions.py)."""
    cores, memory = vm_size(app.store, vm)[::2]
    prepared = vm["isdynamicallyscalable"] and app.settings.boolean("enable.dynamic.scale.vm", "zone",
                                                                    vm["zone_id"])
    maximum = app.version.domain_maximum(app.settings, app.store.get("offering", vm["offering_id"]), host,
                                         host["cluster_id"]) if prepared else None
    return maximum if maximum is not None else (cores, memory)


def domain_spec(app, vm, host):
    """The DomainSpec that starts a VM on a host, using the limits recorded in vm['domain'].

    The vCPU maximum is sent as KVMGuru computed it, also when it is below the VM's vCPUs (the host refuses that).
    A system VM's current memory is the requested RAM, not the minimum (LibvirtComputingResource
    getCurrentMemAccordingToMemBallooning).
    """
    cores, speed, memory = vm_size(app.store, vm)
    offering = app.store.get("offering", vm["offering_id"])
    min_speed, min_ram = min_values(app, host, speed, memory)
    if vm_kind(vm) == "systemvm":
        min_ram = memory
    max_vcpus, max_mem = vm["domain"]["max_vcpus"], vm["domain"]["max_memory_mib"]
    return host_agent.DomainSpec(
        name=vm["instancename"], uuid=vm["uuid"], vcpus=cores, max_vcpus=max_vcpus,
        memory_mib=min_ram, max_memory_mib=max_mem if max_mem and max_mem > min_ram else None,
        cpu_shares=cpu_shares(cores, min_speed), cpu_quota_pct=quota_pct(offering, min_speed, host))


def start_domain(app, vm, host):
    """Record the domain limits and start the domain on the host (AgentError propagates)."""
    if hypervisors.is_api_level(host):
        return agent_of(app, host).start(started_record(app, vm, host, fresh=True))
    max_vcpus, max_mem = domain_limits(app, vm, host)
    vm["domain"] = {"max_vcpus": max_vcpus, "max_memory_mib": max_mem}
    return agent_of(app, host).start(domain_spec(app, vm, host))


def started_record(app, vm, host, fresh):
    """What a XenServer or VMware host keeps of the VM: the maxima of a new start (``fresh``, recorded in
    vm['domain']) or those recorded at its last start."""
    cores, speed, memory = vm_size(app.store, vm)
    min_ram = min_values(app, host, speed, memory)[1]
    if fresh or not vm.get("domain"):
        record = hypervisors.start_record(app, vm, host, cores, speed, memory, min_ram)
        vm["domain"] = hypervisors.recorded_limits(record)
        return record
    return hypervisors.restored_record(vm, vm["domain"], cores, speed, memory, min_ram)


def stop_domain(app, vm):
    """Stop the VM's domain on its host, if it has one."""
    host = app.store.get("host", vm.get("host_id"))
    if host is not None:
        agent_of(app, host).stop(vm["instancename"])


def migrate_domain(app, vm, source, dest):
    """Move the domain between hosts; hosts sharing one libvirt URI share the domain already."""
    src_agent, dest_agent = agent_of(app, source), agent_of(app, dest)
    if src_agent is not dest_agent:
        src_agent.migrate(vm["instancename"], dest_agent)


def scale_domain(app, vm, host, new_offering, cores, speed, memory, old_offering):
    """Send the ScaleVmCommand equivalent to the host; returns the agent's success text."""
    min_speed, min_ram = min_values(app, host, speed, memory)
    if hypervisors.is_api_level(host):
        return agent_of(app, host).scale(vm["instancename"], cores, memory, min_ram, cpu_shares(cores, min_speed))
    return agent_of(app, host).scale(
        vm["instancename"], cores, memory, cpu_shares(cores, min_speed), quota_pct(new_offering, min_speed, host),
        bool(old_offering.get("limitcpuuse")) != bool(new_offering.get("limitcpuuse")))


def view(app, vm):
    """The libvirt view of a VM's domain on its host, or None."""
    host = app.store.get("host", vm.get("host_id"))
    return agent_of(app, host).view(vm["instancename"]) if host else None


def recover(app):
    """After a (re)start: settle transitional states, then re-create the domains of Running (user and system) VMs."""
    for vm in instances(app.store):
        if vm["state"] in SETTLE:
            vm["state"] = SETTLE[vm["state"]]
            vm["lastupdated"] = app.now()
            if vm["state"] == "Stopped":
                vm["last_host_id"], vm["host_id"] = vm.get("host_id"), None
            app.store.save(vm_kind(vm), vm)
        if vm["state"] == "Running":
            host = app.store.get("host", vm["host_id"])
            if hypervisors.is_api_level(host):
                agent_of(app, host).start(started_record(app, vm, host, fresh=False))
                app.store.save(vm_kind(vm), vm)
                continue
            if not vm.get("domain"):
                max_vcpus, max_mem = domain_limits(app, vm, host)
                vm["domain"] = {"max_vcpus": max_vcpus, "max_memory_mib": max_mem}
                app.store.save(vm_kind(vm), vm)
            agent_of(app, host).start(domain_spec(app, vm, host))

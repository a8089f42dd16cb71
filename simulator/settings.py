"""CloudStack settings (ConfigKeys): definitions, scoped overrides and effective values (spec 2.9, 6)."""

from collections import namedtuple

from simulator.errors import invalid

Setting = namedtuple("Setting", "name type default scopes dynamic category component description")

SCOPE_BITS = {"global": 1, "zone": 2, "cluster": 4, "storagepool": 8, "managementserver": 16,
              "imagestore": 32, "domain": 64, "account": 128}
# scope -> (store kind of the scope object, parent scope, field of the object naming the parent)
SCOPE_PARENTS = {"zone": ("zone", "global", None), "cluster": ("cluster", "zone", "zone_id"),
                 "domain": ("domain", "global", None), "account": ("account", "domain", "domain_id")}
JAVA_CLASSES = {"Boolean": "java.lang.Boolean", "Integer": "java.lang.Integer", "Long": "java.lang.Long",
                "Float": "java.lang.Float", "String": "java.lang.String"}
RESPONSE_TYPES = {"Boolean": "Boolean", "Integer": "Number", "Long": "Number", "Float": "Decimal", "String": "String"}

DEFINITIONS = [Setting(*row) for row in [
    ("enable.dynamic.scale.vm", "Boolean", "false", ("global", "zone"), True, "Advanced", "UserVmManager",
     "Enables/Disables dynamically scaling a vm"),
    ("allow.diskoffering.change.during.scale.vm", "Boolean", "false", ("global", "zone"), True, "Advanced",
     "UserVmManager", "Determines whether to allow or disallow disk offering change for root volume during scaling"
     " of a stopped or running vm"),
    ("auto.migrate.vm.on.live.scale.insufficient.capacity", "Boolean", "true", ("global", "cluster"), True,
     "Advanced", "UserVmManager",
     "Defines whether a VM should be automatically migrated to a suitable host when the current host lacks"
     " sufficient compute capacity to live scale the instance. Defaults to true."),
    ("allow.different.host.tags.offerings.for.vm.scale", "Boolean", "false", ("global",), True, "Advanced",
     "UserVmManager", "Enables listing offerings with host tags different from the VM's when scaling it"),
    ("scale.retry", "Integer", "2", ("global",), False, "Advanced", "management-server",
     "Number of times to retry scaling up the vm"),
    ("vm.op.wait.interval", "Integer", "120", ("global",), True, "Advanced", "VirtualMachineManager",
     "Time (in seconds) to wait before checking if a previous operation has succeeded"),
    ("start.retry", "Integer", "10", ("global",), True, "Advanced", "VirtualMachineManager",
     "Number of times to retry create and start commands"),
    ("vm.op.lock.state.retry", "Integer", "5", ("global",), True, "Advanced", "VirtualMachineManager",
     "Times to retry locking the state of a VM for operations, -1 means forever"),
    ("vm.job.timeout", "Long", "600000", ("global",), True, "Advanced", "VirtualMachineManager",
     "Time in milliseconds to wait before attempting to cancel a VM related job"),
    ("cpu.overprovisioning.factor", "Float", "1.0", ("global", "cluster"), True, "Advanced",
     "CapacityManager", "Used for CPU overprovisioning calculation; available CPU will be"
     " (actualCpuCapacity * cpu.overprovisioning.factor)"),
    ("mem.overprovisioning.factor", "Float", "1.0", ("global", "cluster"), True, "Advanced",
     "CapacityManager", "Used for memory overprovisioning calculation"),
    ("cluster.cpu.allocated.capacity.disablethreshold", "Float", "0.85", ("global", "cluster"), True,
     "Alert", "DeploymentClusterPlanner", "Percentage (as a value between 0 and 1) of cpu utilization above which"
     " allocators will disable using the cluster for low cpu available"),
    ("cluster.memory.allocated.capacity.disablethreshold", "Float", "0.85", ("global", "cluster"), True,
     "Alert", "DeploymentClusterPlanner", "Percentage (as a value between 0 and 1) of memory utilization above"
     " which allocators will disable using the cluster for low memory available"),
    ("allow.domain.admins.to.create.tagged.offerings", "Boolean", "false", ("global", "account"), True, "Advanced",
     "ConfigurationManager", "Allow domain admins to create offerings with tags."),
    ("vm.serviceoffering.cpu.cores.max", "Integer", "0", ("global",), True, "Advanced", "ConfigurationManager",
     "Maximum CPU cores for vm service offering. If 0 - no limitation"),
    ("vm.serviceoffering.ram.size.max", "Integer", "0", ("global",), True, "Advanced", "ConfigurationManager",
     "Maximum RAM size in MB for vm service offering. If 0 - no limitation"),
    ("kvm.memory.dynamic.scaling.capacity", "Integer", "0", ("global", "cluster"), True, "Advanced",
     "CapacityManager", "Defines the maximum memory capacity in MiB for which VMs can be dynamically scaled to"
     " with KVM. The 'kvm.memory.dynamic.scaling.capacity' setting's value will be used to define the value of"
     " the '<maxMemory />' element of domain XMLs. If it is set to a value less than or equal to '0', then the"
     " host's memory capacity will be considered."),
    ("kvm.cpu.dynamic.scaling.capacity", "Integer", "0", ("global", "cluster"), True, "Advanced",
     "CapacityManager", "Defines the maximum vCPU capacity for which VMs can be dynamically scaled to with KVM."
     " The 'kvm.cpu.dynamic.scaling.capacity' setting's value will be used to define the value of the"
     " '<vcpu />' element of domain XMLs. If it is set to a value less than or equal to '0', then the host's"
     " CPU cores capacity will be considered."),
    ("vm.min.memory.equals.memory.divided.by.mem.overprovisioning.factor", "Boolean", "true",
     ("global", "cluster"), True, "Advanced", "HypervisorGuru",
     "If we set this to 'true', a minimum memory (memory/ mem.overprovisioning.factor) will be set to the VM"),
    ("vm.min.cpu.speed.equals.cpu.speed.divided.by.cpu.overprovisioning.factor", "Boolean", "true",
     ("global", "cluster"), True, "Advanced", "HypervisorGuru",
     "If we set this to 'true', a minimum CPU speed (cpu speed/ cpu.overprovisioning.factor) will be set"
     " to the VM"),
    ("resource.count.running.vms.only", "Boolean", "false", ("global",), True, "Advanced",
     "VirtualMachineManager", "Count the resources of only running VMs in resource limitation."),
    ("vm.strict.host.tags", "String", "", ("global",), True, "Advanced", "UserVmManager",
     "A comma-separated list of tags which must match during operations like modifying the compute offering"
     " for an instance, and starting or live migrating an instance to a specific host."),
    ("match.storage.pool.tags.with.disk.offering", "Boolean", "true", ("global", "zone"), True, "Advanced",
     "VolumeApiService", "If true, volume's disk offering can be changed only with the matched storage tags"),
    ("allow.user.view.destroyed.vm", "Boolean", "false", ("global", "account"), True, "Advanced",
     "QueryManager", "Determines whether users can view their destroyed or expunging vm"),
    ("max.account.cpus", "Long", "40", ("global", "domain", "account"), True, "Account Defaults",
     "ResourceLimitService", "The default maximum number of cpu cores that can be used for an account"),
    ("max.account.memory", "Long", "40960", ("global", "domain", "account"), True, "Account Defaults",
     "ResourceLimitService", "The default maximum memory (in MiB) that can be used for an account"),
    ("vm.allocation.algorithm", "String", "random", ("global",), True, "Advanced", "management-server",
     "'random', 'firstfit', 'userdispersing', 'userconcentratedpod_random', 'userconcentratedpod_firstfit',"
     " 'firstfitleastconsumed' : Order in which hosts within a cluster will be considered for VM/volume"
     " allocation."),
    ("network.throttling.rate", "Integer", "200", ("global", "zone"), True, "Network", "management-server",
     "Default data transfer rate in megabits per second allowed in network."),
]]
BY_NAME = {setting.name: setting for setting in DEFINITIONS}
INT_MAX = 2147483647
LONG_MAX = 9223372036854775807


def check_value(setting, value):
    """Validate and normalise a value for a setting; 431 with CloudStack's text when the type is wrong."""
    error = invalid(f"Value [{value}] is not a valid [class {JAVA_CLASSES[setting.type]}].")
    if setting.type == "Boolean":
        if value.lower() not in ("true", "false"):
            raise error
        return value.lower()
    if setting.type in ("Integer", "Long"):
        limit = INT_MAX if setting.type == "Integer" else LONG_MAX
        try:
            number = int(value)
        except ValueError:
            raise error from None
        if not -limit - 1 <= number <= limit:
            raise error
        return value
    if setting.type == "Float":
        try:
            float(value)
        except ValueError:
            raise error from None
    return value


class Settings:
    """Effective values: an override at the asked scope, else its parent scope, else global, else default."""

    def __init__(self, store):
        self.store = store

    def override(self, name, scope, scope_id):
        """The stored override record, or None."""
        return self.store.one("config", name=name, scope=scope, scope_id=scope_id)

    def set(self, name, scope, scope_id, value):
        """Store an override (value None removes it)."""
        record = self.override(name, scope, scope_id)
        if value is None:
            if record:
                self.store.delete("config", record)
            return
        if record:
            record["value"] = value
            self.store.save("config", record)
        else:
            self.store.add("config", {"name": name, "scope": scope, "scope_id": scope_id, "value": value})

    def value(self, name, scope="global", scope_id=0):
        """The effective string value of a setting in a scope (ConfigKey.valueInScope)."""
        setting = BY_NAME[name]
        while scope != "global":
            if scope not in setting.scopes:
                scope, scope_id = "global", 0
                break
            record = self.override(name, scope, scope_id)
            if record is not None and record["value"] != "":
                return record["value"]
            kind, parent, field = SCOPE_PARENTS[scope]
            obj = self.store.get(kind, scope_id)
            scope, scope_id = parent, (obj[field] if field and obj else 0)
        record = self.override(name, "global", 0)
        return record["value"] if record is not None else setting.default

    def boolean(self, name, scope="global", scope_id=0):
        """Effective value as bool."""
        return self.value(name, scope, scope_id).lower() == "true"

    def integer(self, name, scope="global", scope_id=0):
        """Effective value as int."""
        return int(self.value(name, scope, scope_id))

    def decimal(self, name, scope="global", scope_id=0):
        """Effective value as float."""
        return float(self.value(name, scope, scope_id))

"""CloudStack settings (ConfigKeys): definitions, scoped overrides and effective values (spec 2.9, 6)."""

import math
import re
import struct
from collections import namedtuple

from simulator.errors import invalid, server

Setting = namedtuple("Setting", "name type default scopes dynamic category component description")

SCOPE_BITS = {"global": 1, "zone": 2, "cluster": 4, "storagepool": 8, "managementserver": 16,
              "imagestore": 32, "domain": 64, "account": 128}
# scope -> (store kind of the scope object, parent scope, field of the object naming the parent)
SCOPE_PARENTS = {"zone": ("zone", "global", None), "cluster": ("cluster", "zone", "zone_id"),
                 "domain": ("domain", "global", None), "account": ("account", "domain", "domain_id")}
JAVA_CLASSES = {"Boolean": "java.lang.Boolean", "Integer": "java.lang.Integer", "Long": "java.lang.Long",
                "Float": "java.lang.Float", "String": "java.lang.String"}
RESPONSE_TYPES = {"Boolean": "Boolean", "Integer": "Number", "Long": "Number", "Float": "Decimal", "String": "String"}
# ConfigurationManagerImpl.overProvisioningFactorsForValidation / weightBasedParametersForValidation (the ones
# registered here); getConfigurationType answers "Range" for the weight-based ones.
OVERPROVISIONING_FACTORS = ("cpu.overprovisioning.factor", "mem.overprovisioning.factor")
WEIGHT_BASED = ("cluster.cpu.allocated.capacity.disablethreshold", "cluster.memory.allocated.capacity.disablethreshold")
# ConfigKey kind and options (ConfigDepotImpl copies them into the configuration row).
SELECT_OPTIONS = {"vm.allocation.algorithm": "random,firstfit,userdispersing,firstfitleastconsumed"}
# configuration_subgroup rows of schema-41720to41800.sql (+ DRS, 41810to41900), in id order:
# (subgroup, keywords, group); ConfigDepotImpl.getConfigurationGroupAndSubGroupByName matches name words to them.
SUBGROUPS = (
    ("Others", "", "Miscellaneous"), ("Account", "", "Access"), ("Domain", "", "Access"), ("Project", "", "Access"),
    ("LDAP", "", "Access"), ("SAML", "saml2", "Access"),
    ("Virtual Machine", "vm,instance,cpu,ssh,affinity", "Compute"), ("Kubernetes", "kubernetes", "Compute"),
    ("High Availability", "ha", "Compute"), ("Images", "template,iso", "Storage"),
    ("Volume", "disk,diskoffering", "Storage"), ("Snapshot", "", "Storage"), ("VM Snapshot", "vmsnapshot", "Storage"),
    ("Network", "firewall,vlan,dns,globodns,ipaddress,cidr", "Network"), ("DHCP", "externaldhcp", "Network"),
    ("VPC", "", "Network"), ("LoadBalancer", "lb,gslb", "Network"), ("API", "", "Management Server"),
    ("Alerts", "alert", "Management Server"), ("Events", "event", "Management Server"),
    ("Security", "secure,password,authenticators", "Management Server"), ("Usage", "", "Usage Server"),
    ("Limits", "capacity,delay,interval,workers", "Management Server"), ("Jobs", "job", "Management Server"),
    ("Agent", "", "Management Server"), ("Hypervisor", "host", "Hypervisor"), ("KVM", "libvirt", "Hypervisor"),
    ("VMware", "vcenter", "Hypervisor"), ("XenServer", "xen,xapi,XCP", "Hypervisor"), ("OVM", "ovm3", "Hypervisor"),
    ("Baremetal", "", "Hypervisor"), ("ConsoleProxyVM", "cpvm,consoleproxy,novnc", "System VMs"),
    ("SecStorageVM", "ssvm,secondary", "System VMs"), ("VirtualRouter", "vr,router,vrouter", "System VMs"),
    ("Diagnostics", "", "System VMs"), ("Primary Storage", "storage,pool,primary", "Infrastructure"),
    ("Secondary Storage", "image,secstorage", "Infrastructure"),
    ("Backup & Recovery", "backup,recovery,veeam", "Miscellaneous"), ("Certificate Authority", "CA", "Miscellaneous"),
    ("Quota", "", "Miscellaneous"), ("Cloudian", "", "Miscellaneous"), ("DRS", "drs", "Miscellaneous"),
)
# The NullPointerException of ConfigurationManagerImpl.updateConfiguration lower-casing a null Boolean value.
NULL_BOOLEAN_TEXT = 'Cannot invoke "String.toLowerCase()" because "value" is null'
JAVA_INTEGER = re.compile(r"[+-]?\d+")
JAVA_FLOAT = re.compile(r"[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)")
JAVA_WHITESPACE = "".join(chr(code) for code in range(33))

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
    ("xen.vm.vcpu.max", "Integer", "16", ("global", "cluster"), True, "Advanced", "XenServerGuru",
     "Maximum number of VCPUs that VM can get in XenServer."),
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
     "QueryService", "Determines whether users can view their destroyed or expunging vm"),
    ("allow.user.view.all.domain.accounts", "Boolean", "false", ("global", "domain"), True, "Advanced",
     "QueryService", "Determines whether users can view all user accounts within the same domain"),
    ("allow.user.expunge.recover.vm", "Boolean", "false", ("global", "account"), True, "Advanced", "UserVmManager",
     "Determines whether users can expunge or recover their vm"),
    ("allow.user.force.stop.vm", "Boolean", "true", ("global", "account"), True, "Advanced", "UserVmManager",
     "Determines whether users are allowed to force stop a vm"),
    ("max.account.cpus", "Long", "40", ("global",), False, "Account Defaults", "management-server",
     "The default maximum number of cpu cores that can be used for an account"),
    ("max.account.memory", "Long", "40960", ("global",), False, "Account Defaults", "management-server",
     "The default maximum memory (in MB) that can be used for an account"),
    ("max.account.user.vms", "Long", "20", ("global",), False, "Account Defaults", "management-server",
     "The default maximum number of user VMs that can be deployed for an account"),
    ("max.domain.cpus", "Long", "80", ("global",), False, "Domain Defaults", "management-server",
     "The default maximum number of CPU cores that can be used for a domain"),
    ("max.domain.memory", "Long", "81920", ("global",), False, "Domain Defaults", "management-server",
     "The default maximum memory (in MB) that can be used for a domain"),
    ("max.domain.user.vms", "Long", "40", ("global",), False, "Domain Defaults", "management-server",
     "The default maximum number of user Instances that can be deployed for a domain"),
    ("capacity.skipcounting.hours", "Integer", "3600", ("global",), False, "Advanced", "management-server",
     "Time (in seconds) to wait before release VM's cpu and memory when VM in stopped state"),
    ("resource.limit.host.tags", "String", "", ("global",), True, "Advanced",
     "com.cloud.resourcelimit.ResourceLimitManagerImpl",
     "A comma-separated list of tags for host resource limits"),
    ("vm.strict.resource.limit.host.tag.check", "Boolean", "true", ("global",), True, "Advanced", "UserVmManager",
     "If set to true, tags specified in `resource.limit.host.tags` are also included in vm.strict.host.tags."),
    ("share.public.templates.with.other.domains", "Boolean", "true", ("global", "domain"), True, "Advanced",
     "QueryService", "If false, Templates of this domain will not show up in the list Templates of other domains."),
    ("vm.allocation.algorithm", "String", "random", ("global",), True, "Advanced", "DeploymentClusterPlanner",
     "Order in which hosts within a cluster will be considered for VM allocation. The value can be 'random',"
     " 'firstfit', 'userdispersing', or 'firstfitleastconsumed'."),
    ("network.throttling.rate", "Integer", "200", ("global", "zone"), True, "Network", "management-server",
     "Default data transfer rate in megabits per second allowed in network."),
    ("vm.stats.interval", "Integer", "60000", ("global",), False, "Advanced", "management-server",
     "The interval (in milliseconds) when vm stats are retrieved from agents."),
    ("vm.stats.max.retention.time", "Integer", "720", ("global",), True, "Advanced", "StatsCollector",
     "The maximum time (in minutes) for keeping VM stats records in the database. The VM stats cleanup process will"
     " be disabled if this is set to 0 or less than 0."),
    ("list.vm.default.details.stats", "Boolean", "true", ("global",), True, "Advanced", "QueryService",
     "Determines whether VM stats should be returned when details are not explicitly specified in"
     " listVirtualMachines API request. When false, details default to [group, nics, secgrp, tmpl, servoff, diskoff,"
     " backoff, iso, volume, min, affgrp]. When true, all details are returned including 'stats'."),
]]
BY_NAME = {setting.name: setting for setting in DEFINITIONS}
INT_MAX = 2147483647
LONG_MAX = 9223372036854775807


def definitions(version):
    """The settings a CloudStack version defines (ConfigDepotImpl knows only the ConfigKeys of its tree)."""
    return [setting for setting in DEFINITIONS if setting.name not in version.absent_settings]


def definition(version, name):
    """The setting called ``name`` if that version defines it, else None."""
    return None if name in version.absent_settings else BY_NAME.get(name)


def java_trim(text):
    """String.trim(): strips the characters up to and including the space."""
    return text.strip(JAVA_WHITESPACE)


def java_float(text):
    """Float.parseFloat's value of a text (None when it is no Java float or overflows to infinity)."""
    text = java_trim(text)
    if not JAVA_FLOAT.fullmatch(text):
        return None
    number = float(text.rstrip("fFdD"))
    try:
        single = struct.unpack("f", struct.pack("f", number))[0]
    except OverflowError:
        return None
    return None if single in (float("inf"), float("-inf")) else number


def valid_type(setting, value):
    """ConfigurationManagerImpl.validateValueType (value None is valid only for a String)."""
    if setting.type == "String":
        return True
    if value is None:
        return False
    if setting.type == "Boolean":
        return value in ("true", "false")
    if setting.type == "Float":
        return java_float(value) is not None
    limit = INT_MAX if setting.type == "Integer" else LONG_MAX
    return bool(JAVA_INTEGER.fullmatch(value)) and -limit - 1 <= int(value) <= limit


def range_error(setting, value):
    """ConfigurationManagerImpl.validateValueRange's message for a value of the right type, or None."""
    if setting.type != "Float":
        return None
    number = java_float(value)
    if setting.name in OVERPROVISIONING_FACTORS and number <= 0:
        return f"Value for configuration [{setting.name}] should be greater than 0."
    if setting.name in WEIGHT_BASED and (number < 0 or number > 1):
        return f"Please enter a value between 0 and 1 for the configuration parameter: [{setting.name}]."
    return None


def normalized_empty(setting, value, scoped):
    """getNormalizedEmptyValueForConfig: trimmed; "" or "null" become "" when scoped or a String, else None."""
    value = java_trim(value)
    if value not in ("", "null"):
        return value
    return "" if scoped or setting.type == "String" else None


def check_scope(setting, scope):
    """validateConfigurationValue / resetConfiguration: 431 when the key has no value at that scope."""
    if scope != "global" and scope not in setting.scopes:
        raise invalid(f"Invalid scope id provided for the parameter {setting.name}")


def check_value(setting, value, scope="global"):
    """The value updateConfiguration stores for ``value`` at ``scope``, or CloudStack's error.

    ConfigurationManagerImpl.updateConfiguration(UpdateCfgCmd) normalises the empty value
    (getNormalizedEmptyValueForConfig), then updateConfiguration(userId, ...) lower-cases a Boolean (a null one
    raises a NullPointerException: 530) and validateConfigurationValue checks the scope, the type (431
    "Value [..] is not a valid [class ..].") and the range (validateValueRange).
    """
    value = normalized_empty(setting, value, scope != "global")
    if setting.type == "Boolean":
        if value is None:
            raise server(530, NULL_BOOLEAN_TEXT)
        value = value.lower()
    check_scope(setting, scope)
    if not valid_type(setting, value):
        shown = "null" if value is None else value
        raise invalid(f"Value [{shown}] is not a valid [class {JAVA_CLASSES[setting.type]}].")
    message = range_error(setting, value)
    if message:
        raise invalid(message)
    return value


def java_float_text(number):
    """Float.toString: the shortest digits naming the float; plain within [1e-3, 1e7), else d.dddE<n>."""
    single = struct.unpack("f", struct.pack("f", number))[0]
    if math.isnan(single):
        return "NaN"
    if single == 0:
        return "-0.0" if str(single).startswith("-") else "0.0"
    digits = next(text for text in (f"{single:.{count}e}" for count in range(9))
                  if struct.unpack("f", struct.pack("f", float(text)))[0] == single)
    mantissa, exponent = digits.split("e")
    sign, mantissa = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
    if 1e-3 <= abs(single) < 1e7:
        plain = f"{float(digits):.{max(0, len(mantissa.replace('.', '')) - 1 - int(exponent))}f}".lstrip("-")
        return sign + (plain if "." in plain else plain + ".0")
    whole, _dot, fraction = mantissa.partition(".")
    return f"{sign}{whole}.{fraction.rstrip('0') or '0'}E{int(exponent)}"


def java_text(setting, value):
    """ConfigKey.valueOf(value).toString(): what a typed ConfigKey answers for a stored value."""
    if value is None or setting.type == "String":
        return value
    if setting.type == "Boolean":
        return "true" if value.lower() == "true" else "false"
    if setting.type == "Float":
        return java_float_text(java_float(value))
    return str(int(value))


def response_type(setting):
    """ConfigurationManagerImpl.getConfigurationType: Range, the ConfigKey kind, or the type's value type."""
    if setting.name in WEIGHT_BASED:
        return "Range"
    if setting.name in SELECT_OPTIONS:
        return "Select"
    return RESPONSE_TYPES[setting.type]


def _subgroup_for_word(word):
    """configuration_subgroup found by name (case-insensitive), else by a keyword equal to, then starting, the word."""
    lowered = word.lower()
    for row in SUBGROUPS:
        if row[0].lower() == lowered:
            return row
    keyword_rows = [(row, [k.strip().lower() for k in row[1].split(",") if k.strip()]) for row in SUBGROUPS]
    for matches in (lambda keyword: keyword == lowered, lowered.startswith):
        for row, keywords in keyword_rows:
            if any(matches(keyword) for keyword in keywords):
                return row
    return None


def group_and_subgroup(name):
    """ConfigDepotImpl.getConfigurationGroupAndSubGroupByName: the first name word matching a subgroup."""
    for word in name.split("."):
        row = _subgroup_for_word(word)
        if row is not None:
            return row[2], row[0]
    return "Miscellaneous", "Others"


def display_text(name):
    """ConfigurationVO.setDisplayText: dots become spaces, the first letter upper-case."""
    text = name.replace(".", " ")
    return text[:1].upper() + text[1:]


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
            if record is not None:
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
        """Effective value as float (ConfigKey.valueOf: Float.parseFloat)."""
        return java_float(self.value(name, scope, scope_id))

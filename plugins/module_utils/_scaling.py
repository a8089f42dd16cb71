# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the I/O side of scaling (vm_scale, vm_scaling_info).

Not a public API: it may change without notice. It reads what the pure planner of ``_planner``
needs from the CloudStack API, carries out the plan (live scale, migrate then scale, or stop,
scale and start), re-reads the VM and checks that it really changed. Errors are raised as the
typed errors of ``_api``; only the module edge turns them into failures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.livescale.cloudstack.plugins.module_utils import _planner as planner
from ansible_collections.livescale.cloudstack.plugins.module_utils import _versions as versions
from ansible_collections.livescale.cloudstack.plugins.module_utils._compat import replace
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError, InvalidValue
from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import (
    find_owned_vm, find_service_offering, label, list_vms_named, owner_filters, owner_scope)
from ansible_collections.livescale.cloudstack.plugins.module_utils._rollout import (
    Rollout, api_int as _int, interrupted, recovery_note, run_all, settle, submit_without_waiting, view,
    without_wait_problem)
from ansible_collections.livescale.cloudstack.plugins.module_utils import _summary as summary

VALUE_OPTIONS = ("cpu_number", "cpu_speed", "memory")
ROOT_ADMIN = 1
IDLE_STATES = ("Stopped", "Destroyed", "Expunging", "Error")  # VMs in these states use no capacity of a host


def _bool(value):
    """An API boolean (bool or ``"true"``)."""
    return str(value).lower() == "true"


def _tags(value):
    """A comma-separated tag list as a tuple."""
    return tuple(tag.strip() for tag in (value or "").split(",") if tag.strip())


SETTINGS = (  # planner field, setting name, scope of the VM it is read at, parser
    ("dynamic_scale", "enable.dynamic.scale.vm", "zoneid", _bool),
    ("auto_migrate", "auto.migrate.vm.on.live.scale.insufficient.capacity", "clusterid", _bool),
    ("kvm_cpu_capacity", "kvm.cpu.dynamic.scaling.capacity", "clusterid", _int),
    ("kvm_memory_capacity", "kvm.memory.dynamic.scaling.capacity", "clusterid", _int),
    ("cpu_cores_max", "vm.serviceoffering.cpu.cores.max", None, _int),
    ("ram_size_max", "vm.serviceoffering.ram.size.max", None, _int),
    ("cpu_threshold", "cluster.cpu.allocated.capacity.disablethreshold", "clusterid", float),
    ("memory_threshold", "cluster.memory.allocated.capacity.disablethreshold", "clusterid", float),
    ("xen_vcpu_max", "xen.vm.vcpu.max", "clusterid", _int),
)


def whole_number(name, value):
    """A module value as a positive int, or InvalidValue naming it and the expected form."""
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) <= 0:
        unit = " of MiB (e.g. 2048 for 2 GiB)" if name == "memory" else ""
        raise InvalidValue("%s=%r is not valid: give a positive whole number%s" % (name, value, unit))
    return int(text)


def offering_from(row):
    """A planner Offering from a listServiceOfferings row (bounds are in serviceofferingdetails)."""
    details = row.get("serviceofferingdetails") or {}
    return planner.Offering(
        id=row["id"], name=row.get("name") or row["id"], cpu=_int(row.get("cpunumber")), speed=_int(row.get("cpuspeed")),
        memory=_int(row.get("memory")), dynamic_scaling=_bool(row.get("dynamicscalingenabled", True)),
        limit_cpu_use=_bool(row.get("limitcpuuse", False)), active=row.get("state", "Active") != "Inactive",
        min_cpu=_int(details.get("mincpunumber")), max_cpu=_int(details.get("maxcpunumber")),
        min_memory=_int(details.get("minmemory")), max_memory=_int(details.get("maxmemory")), host_tags=_tags(row.get("hosttags")))


def host_from(row, memory_factor=1.0, used=None):
    """A planner Host from a listHosts row; None when the capacity fields are missing.

    ``cpuallocatedvalue`` / ``memoryallocated`` are used + reserved capacity (``HostJoinDaoImpl``); ``used`` (MHz,
    bytes of the VMs placed on the host) tells the reserved part. ``memorytotal`` includes
    ``mem.overprovisioning.factor`` (``memory_factor``), which is taken out again for the raw host memory.
    """
    try:
        allocated_cpu, allocated_memory = float(row.get("cpuallocatedvalue") or 0), float(row.get("memoryallocated") or 0)
        free_cpu = float(row["cpuwithoverprovisioning"]) - allocated_cpu
        free_memory = float(row["memorywithoverprovisioning"]) - allocated_memory
        reserved_cpu, reserved_memory = (max(0, int(allocated_cpu) - used[0]), max(0, int(allocated_memory) - used[1])) \
            if used is not None else (0, 0)
        return planner.Host(id=row["id"], name=row.get("name") or row["id"], cores=int(row["cpunumber"]),
                            speed=int(row["cpuspeed"]), free_cpu=int(free_cpu), free_memory=int(free_memory),
                            total_memory=int(float(row["memorytotal"]) / (memory_factor or 1.0)),
                            tags=_tags(row.get("hosttags")), reserved_cpu=reserved_cpu, reserved_memory=reserved_memory)
    except (KeyError, TypeError, ValueError):
        return None


def cluster_from(rows):
    """A planner Cluster summed over listHosts rows; None when a host lacks the capacity fields."""
    try:
        return planner.Cluster(used_cpu=int(sum(float(row.get("cpuallocatedvalue") or 0) for row in rows)),
                               total_cpu=int(sum(float(row["cpuwithoverprovisioning"]) for row in rows)),
                               used_memory=int(sum(float(row.get("memoryallocated") or 0) for row in rows)),
                               total_memory=int(sum(float(row["memorywithoverprovisioning"]) for row in rows)))
    except (KeyError, TypeError, ValueError):
        return None


def vm_from(row, cluster):
    """A planner Vm from a listVirtualMachines row (the domain's head-room is not in the API: unknown)."""
    return planner.Vm(
        id=row["id"], name=row.get("name") or row["id"], state=row.get("state", "Unknown"), cpu=_int(row.get("cpunumber")) or 0,
        speed=_int(row.get("cpuspeed")) or 0, memory=_int(row.get("memory")) or 0, offering_id=row.get("serviceofferingid"),
        hypervisor=row.get("hypervisor") or "", zone=row.get("zonename") or row.get("zoneid") or "",
        cluster=(cluster or {}).get("name") or "", host_id=row.get("hostid"),
        dynamically_scalable=_bool(row.get("isdynamicallyscalable", False)), os_name=row.get("osdisplayname") or "",
        cores_per_socket=_cores_per_socket(row))


def _cores_per_socket(row):
    """The VM's cpu.corespersocket detail (VMware); None when absent or not a number."""
    try:
        return _int((row.get("details") or {}).get("cpu.corespersocket"))
    except ValueError:
        return None


class Reader:
    """Reads what the planner needs, each listing once per run, for one VM or a fleet; what the caller may not read
    is left to CloudStack.

    Capacity and limits that plans of this run will take (``commit``) are counted as taken for the VMs planned after.
    """

    def __init__(self, api):
        self.api = api
        self._cache = {}
        self._taken = {}
        self._chains = {}
        self._version = None

    def version(self):
        """The server's Version (listCapabilities ``cloudstackversion``), read once; the newest rules, with a note,
        when it cannot be read."""
        if self._version is None:
            self._version = versions.server_version(self.api)
        return self._version

    def version_settings(self, settings):
        """Settings as the server's version has them: before PR #12975 the cluster capacity settings do not exist
        (a VM short of capacity always migrates, KVM domains take no maximum from them), so their defaults hold."""
        if self.version().rules.cluster_capacity_settings:
            return settings
        return replace(settings, **dict((name, getattr(planner.Settings(), name)) for name in versions.CLUSTER_CAPACITY_FIELDS))

    def version_read(self):
        """The Version if this run read it already, else ``versions.UNREAD`` (no call is made)."""
        return self._version or versions.UNREAD

    def _list(self, command, key, **params):
        cache_key = (command, tuple(sorted(params.items())))
        if cache_key not in self._cache:
            self._cache[cache_key] = self.api.list(command, key, action="read %s" % command[4:], **params)
        return self._cache[cache_key]

    def _optional(self, command, key, **params):
        """Like _list, but None when CloudStack refuses (e.g. admin-only commands for a user)."""
        try:
            return self._list(command, key, **params)
        except ApiError:
            return None

    def offerings(self, zone_id=None):
        """The active compute offerings (of a zone), listed once."""
        return self._list("listServiceOfferings", "serviceoffering", **({"zoneid": zone_id} if zone_id else {}))

    def offering(self, offering_id):
        """An offering by id, active or not."""
        rows = [row for row in self.offerings() if row.get("id") == offering_id] or \
            self._list("listServiceOfferings", "serviceoffering", id=offering_id) or \
            self._list("listServiceOfferings", "serviceoffering", id=offering_id, state="Inactive")
        if not rows:
            raise CloudStackError("service offering %s of the VM cannot be read" % offering_id)
        return offering_from(rows[0])

    def target_offering(self, key, zone=None):
        """The offering a user names (id or exact name) from the listing; the lookup of _lookup when it is not one match."""
        rows = [row for row in self.offerings(zone["id"] if zone else None) if key in (row.get("id"), row.get("name"))]
        if len(rows) == 1:
            return offering_from(rows[0])
        return offering_from(find_service_offering(self.api, key, zone=zone))

    def setting(self, name, parser, **scope):
        """A setting's effective value in a scope (one listing per scope, cached); None when unreadable."""
        rows = self._optional("listConfigurations", "configuration", **scope) or []
        for row in rows:
            if row.get("name") == name and row.get("value") not in (None, ""):
                try:
                    return parser(row["value"])
                except ValueError:
                    return None
        return None

    def settings(self, vm_row, cluster):
        """The planner Settings of a VM; an unreadable setting keeps its CloudStack default, except the zone switch."""
        scope_ids = {"zoneid": vm_row.get("zoneid"), "clusterid": (cluster or {}).get("id")}
        values = {}
        for field, name, scope, parser in SETTINGS:
            scope_params = {scope: scope_ids[scope]} if scope and scope_ids[scope] else {}
            value = self.setting(name, parser, **scope_params)
            if value is not None:
                values[field] = value
            elif field == "dynamic_scale":
                values[field] = True  # not readable (not an admin): CloudStack judges it
        return planner.Settings(strict_host_tags=self.strict_host_tags(), **values)

    def strict_host_tags(self):
        """``UserVmManager.getStrictHostTags``: vm.strict.host.tags, plus resource.limit.host.tags when
        vm.strict.resource.limit.host.tag.check is true (its default); all three are global settings."""
        tags = _tags(self.setting("vm.strict.host.tags", str))
        if self.setting("vm.strict.resource.limit.host.tag.check", _bool) is not False:
            tags += _tags(self.setting("resource.limit.host.tags", str))
        return tuple(sorted(set(tags)))

    def memory_factor(self, cluster):
        """mem.overprovisioning.factor of a cluster (1 when unreadable)."""
        scope = {"clusterid": cluster["id"]} if cluster and cluster.get("id") else {}
        return self.setting("mem.overprovisioning.factor", float, **scope) or 1.0

    def host_usage(self, host_id):
        """MHz and bytes used by the VMs placed on a host: its allocated capacity without the reserved part.

        CloudStack's API does not show a host's reserved capacity; it is what ``cpuallocatedvalue`` /
        ``memoryallocated`` hold beyond the VMs whose host it is (user VMs, with or without a project, system VMs
        and virtual routers). What cannot be read counts as nothing.
        """
        vms = [vm for params in ({}, {"projectid": "-1"}) for vm in self._optional(
            "listVirtualMachines", "virtualmachine", hostid=host_id, listall=True, **params) or []]
        system = (self._optional("listSystemVms", "systemvm", hostid=host_id) or []) + (
            self._optional("listRouters", "router", hostid=host_id, listall=True) or [])
        sizes = [(_int(vm.get("cpunumber")) or 0, _int(vm.get("cpuspeed")) or 0, _int(vm.get("memory")) or 0)
                 for vm in vms if vm.get("hostid") == host_id and vm.get("state") not in IDLE_STATES]
        for row in system:
            offering = self._optional("listServiceOfferings", "serviceoffering", id=row.get("serviceofferingid"),
                                      issystem=True) or []
            if offering and row.get("hostid") == host_id:
                sizes.append((_int(offering[0].get("cpunumber")) or 0, _int(offering[0].get("cpuspeed")) or 0,
                              _int(offering[0].get("memory")) or 0))
        return sum(cpu * speed for cpu, speed, _memory in sizes), sum(memory for _cpu, _speed, memory in sizes) * planner.MIB

    def zone_hosts(self, zone_id):
        """listHosts rows of a zone's hypervisors, listed once ([] when unreadable)."""
        return self._optional("listHosts", "host", zoneid=zone_id, type="Routing") or [] if zone_id else []

    def host(self, vm_row):
        """The listHosts row of the VM's host, with the capacity this run's plans take from it; None when unknown."""
        rows = [row for row in self.zone_hosts(vm_row.get("zoneid")) if row.get("id") == vm_row.get("hostid")]
        return self._with_taken(rows[0]) if rows and vm_row.get("hostid") else None

    def cluster_hosts(self, cluster):
        """listHosts rows of a cluster, with the capacity this run's plans take ([] when unknown or unreadable)."""
        if not cluster:
            return []
        return [self._with_taken(row) for row in self.zone_hosts(cluster["zoneid"]) if row.get("clusterid") == cluster["id"]]

    def other_hosts(self, cluster, host_id, memory_factor=1.0):
        """The other hosts of the cluster that can take a VM (Up and Enabled)."""
        hosts = [host_from(row, memory_factor) for row in self.cluster_hosts(cluster) if row.get("id") != host_id
                 and row.get("state", "Up") == "Up" and row.get("resourcestate", "Enabled") == "Enabled"]
        return tuple(host for host in hosts if host is not None)

    def _with_taken(self, row):
        """A host row whose allocated capacity includes what this run's plans take from it."""
        mhz, size = self._taken.get(("host", row.get("id")), (0, 0))
        if not mhz and not size:
            return row
        return dict(row, cpuallocatedvalue=float(row.get("cpuallocatedvalue") or 0) + mhz,
                    memoryallocated=float(row.get("memoryallocated") or 0) + size)

    def template(self, template_id):
        """(name, isdynamicallyscalable, templatetag) of a template; the flag True when unreadable."""
        # With an id CloudStack applies no filter, only its access check; "all" is refused to a User (431).
        rows = self._optional("listTemplates", "template", templatefilter="executable", id=template_id) or []
        if not rows:
            return template_id or "", True, ""
        return (rows[0].get("name") or template_id, _bool(rows[0].get("isdynamicallyscalable", False)),
                rows[0].get("templatetag") or "")

    def limits(self, vm_row):
        """What the VM's owner may still allocate, and its domains up to ROOT; root admin accounts are exempt.

        listAccounts / listProjects / listDomains show the limit in force (an explicit one, else max.account.* /
        max.project.* / max.domain.*) and ``cpuavailable`` / ``memoryavailable`` = limit - total, or ``Unlimited``
        (``AccountJoinDaoImpl.setResourceLimits``, ``DomainJoinDaoImpl.setResourceLimits``). A VM of the ROOT domain
        (``domainpath`` ROOT, ``ApiResponseHelper.getPrettyDomainPath``) has no domain limits to read.
        """
        if vm_row.get("projectid"):
            rows = self._optional("listProjects", "project", id=vm_row["projectid"], listall=True) or []
            owner, fix = "project %s" % vm_row.get("project"), "updateResourceLimit projectid=%s" % vm_row["projectid"]
        else:
            rows = [row for row in self._optional("listAccounts", "account", name=vm_row.get("account"),
                                                  domainid=vm_row.get("domainid"), listall=True) or []
                    if row.get("name") == vm_row.get("account")]
            owner = "account %s" % vm_row.get("account") if vm_row.get("account") else ""
            fix = "updateResourceLimit account=%s domainid=%s" % (vm_row.get("account"), vm_row.get("domainid"))
        if rows and _int(rows[0].get("accounttype")) == ROOT_ADMIN:
            return planner.Limits(owner)
        own = rows[0] if rows else {}
        domains = () if vm_row.get("domainpath") == "ROOT" else self.domain_limits(vm_row.get("domainid"))
        return planner.Limits(owner, cpu=self._left(owner_key(vm_row), own.get("cpuavailable"), 0),
                              memory=self._left(owner_key(vm_row), own.get("memoryavailable"), 1), fix=fix, domains=domains)

    def live_limits(self, vm_row):
        """The limits a live scale of this Running VM counts against when they are not the owner's, else None.

        Before 4.20 (``Rules.owner_limits_on_live_scale``) upgradeRunningVirtualMachine checks the caller's account
        and its domains; a root admin has none. listAccounts without id, domainid or listall lists only the caller's
        own account (QueryManagerImpl.searchForAccountIdsAndCount), read once per run; when it lists more
        (allow.user.view.all.domain.accounts) the caller is not known and the owner's limits stand.
        """
        caller = self.live_scale_caller(vm_row)
        if caller is None:
            return None
        owner = "account %s (the caller, whose limits %s checks when a running VM is scaled)" % (
            caller.get("name"), self.version().planned_for)
        if _int(caller.get("accounttype")) == ROOT_ADMIN:
            return planner.Limits(owner)
        key = caller_key(caller)
        fix = "updateResourceLimit account=%s domainid=%s" % (caller.get("name"), caller.get("domainid"))
        return planner.Limits(owner, cpu=self._left(key, caller.get("cpuavailable"), 0),
                              memory=self._left(key, caller.get("memoryavailable"), 1), fix=fix,
                              domains=self.domain_limits(caller.get("domainid")))

    def live_scale_caller(self, vm_row):
        """The caller's listAccounts row when a live scale of this Running VM counts against it rather than against
        the owner (before 4.20, a caller known and other than the owner), else None."""
        if self.version().rules.owner_limits_on_live_scale or vm_row.get("state") != "Running":
            return None
        caller = self.caller_account()
        if caller is None or (not vm_row.get("projectid") and (caller.get("name"), caller.get("domainid")) == (
                vm_row.get("account"), vm_row.get("domainid"))):
            return None
        return caller

    def caller_account(self):
        """The caller's listAccounts row (listAccounts without parameters), None when it is not the only one."""
        rows = self._optional("listAccounts", "account") or []
        return rows[0] if len(rows) == 1 else None

    def _left(self, key, available, index):
        """What an owner has available, less what this run's plans take from it; None for Unlimited."""
        value = _available(available)
        return None if value is None else value - self._taken.get(key, (0, 0))[index]

    def domain_limits(self, domain_id):
        """The limits of a domain and its parents, ROOT excluded (no limits on ROOT); () when unreadable.

        A domain of ``level`` 1 is a child of ROOT (``DomainVO``: ROOT is level 0), so ROOT is not read
        (``ResourceLimitManagerImpl.checkDomainResourceLimit`` skips it).
        """
        found, ids, start = [], [], domain_id
        while domain_id:
            rows = [row for row in self._optional("listDomains", "domain", id=domain_id, listall=True) or []
                    if row.get("id") == domain_id]
            if not rows or not rows[0].get("parentdomainid"):
                break
            key = ("domain", domain_id)
            ids.append(domain_id)
            found.append(planner.Limits("domain %s" % (rows[0].get("path") or rows[0].get("name")),
                                        cpu=self._left(key, rows[0].get("cpuavailable"), 0),
                                        memory=self._left(key, rows[0].get("memoryavailable"), 1),
                                        fix="updateResourceLimit domainid=%s" % domain_id))
            domain_id = rows[0]["parentdomainid"] if str(rows[0].get("level")) != "1" else None
        self._chains[start] = tuple(ids)
        return tuple(found)

    def situation(self, vm_row, complete=True):
        """Everything the planner reads about one VM.

        With ``complete=False`` the template and the host's reserved capacity are not read (see ``plan_vm``).
        """
        host_row = self.host(vm_row)
        cluster = {"id": host_row.get("clusterid"), "name": host_row.get("clustername"),
                   "zoneid": vm_row.get("zoneid")} if host_row else None
        template, template_scalable, template_tag = self.template(vm_row.get("templateid")) if complete else ("", False, "")
        factor = self.memory_factor(cluster)
        usage = None
        if complete and host_row:  # what this run's plans take is in the allocated values: count it as used
            used, taken = self.host_usage(host_row["id"]), self._taken.get(("host", host_row["id"]), (0, 0))
            usage = (used[0] + taken[0], used[1] + taken[1])
        host = host_from(host_row, factor, usage) if host_row else None
        return planner.Situation(
            vm=vm_from(vm_row, cluster), current=self.offering(vm_row.get("serviceofferingid")),
            settings=self.version_settings(self.settings(vm_row, cluster)), template=template, template_scalable=template_scalable,
            host=host, other_hosts=self.other_hosts(cluster, vm_row.get("hostid"), factor),
            limits=self.limits(vm_row), cluster=cluster_from(self.cluster_hosts(cluster)) if cluster else None,
            template_tag=template_tag, version=self.version(), live_limits=self.live_limits(vm_row))

    def commit(self, vm_row, plan):
        """Count what a plan about to be carried out takes from hosts and limits, for the VMs planned after it."""
        vm = vm_from(vm_row, None)
        cpu_more, memory_more = plan.cpu - vm.cpu, plan.memory - vm.memory
        keys = [owner_key(vm_row)] + self._domain_keys(vm_row.get("domainid"))
        live = plan.action in (planner.LIVE, planner.MIGRATE_THEN_LIVE)
        caller = self.live_scale_caller(vm_row) if live else None
        if caller is not None:  # before 4.20 a live scale also counts against the caller's account and domains
            keys += [caller_key(caller)] + self._domain_keys(caller.get("domainid"))
        for key in dict.fromkeys(keys):
            self._take(key, cpu_more, memory_more)
        if vm.state != "Running" or not vm.host_id:
            return
        if plan.migrate_host is not None:
            self._take(("host", vm.host_id), -vm.cpu * vm.speed, -vm.memory * planner.MIB)
            self._take(("host", plan.migrate_host.id), plan.cpu * plan.speed, plan.memory * planner.MIB)
        else:
            self._take(("host", vm.host_id), plan.cpu * plan.speed - vm.cpu * vm.speed, memory_more * planner.MIB)

    def _domain_keys(self, domain_id):
        """The tally keys of a domain and its parents below ROOT, as domain_limits read them ([] when unread)."""
        return [("domain", chain_id) for chain_id in self._chains.get(domain_id, ())]

    def _take(self, key, first, second):
        taken = self._taken.get(key, (0, 0))
        self._taken[key] = (taken[0] + first, taken[1] + second)


def owner_key(vm_row):
    """The key of the VM's owner (account or project) in the reader's tally."""
    return ("project", vm_row["projectid"]) if vm_row.get("projectid") else (
        "account", vm_row.get("domainid"), vm_row.get("account"))


def caller_key(account_row):
    """The key of the caller's account in the reader's tally (an owner's key when it owns VMs too)."""
    return "account", account_row.get("domainid"), account_row.get("name")


def plan_vm(reader, vm_row, target, options):
    """The planner's decision for one VM, read with as few calls as keep it true.

    A VM that already has its fixed target offering is decided from the VM alone (``planner.unchanged``; the same on
    every CloudStack version, so the version is not read for it). Else the
    first plan leaves out the template and the host's reserved capacity: a live scale on the VM's own host does not
    depend on them (reserved capacity only adds room on the own host; the template's flag matters only when the VM's
    flag is off or for a restart, its tag only for strict host tags or another host), so it stands when no strict
    host tags are set; any other answer is planned again with everything read.
    Returns ``(plan, situation)``.
    """
    vm = vm_from(vm_row, None)
    if planner.unchanged(vm, target):
        situation = planner.Situation(vm=vm, current=target.offering, version=reader.version_read())
        return planner.plan(situation, target, options), situation
    situation = reader.situation(vm_row, complete=False)
    plan = planner.plan(situation, target, options)
    if plan.action == planner.LIVE and not situation.settings.strict_host_tags:
        return plan, situation
    situation = reader.situation(vm_row)
    return planner.plan(situation, target, options), situation


def _available(value):
    """An account's ``cpuavailable``/``memoryavailable``; None for Unlimited."""
    try:
        return _int(value)
    except ValueError:
        return None


def requested_values(params):
    """cpu_number, cpu_speed and memory as positive ints (or None); raises InvalidValue before anything is read."""
    values = dict((option, whole_number(option, params.get(option))) for option in VALUE_OPTIONS)
    if not params.get("service_offering") and all(value is None for value in values.values()):
        raise InvalidValue("nothing to scale to: give service_offering, or cpu_number/cpu_speed/memory for a custom offering")
    return values


def requested_target(reader, params, values, vm_row, zone):
    """The Target of the module options for a VM; raises InvalidValue naming the bad option."""
    given = [option for option in VALUE_OPTIONS if values[option] is not None]
    if params.get("service_offering"):
        offering = reader.target_offering(params["service_offering"], zone=zone)
        if given and not offering.custom:
            raise InvalidValue("%s cannot be combined with service_offering=%s: that offering is fixed (%s); drop %s, or name a"
                               " custom offering" % ("/".join(given), params["service_offering"],
                                                     planner.size(offering.cpu, offering.speed, offering.memory), "/".join(given)))
    else:
        offering = reader.offering(vm_row.get("serviceofferingid"))
        if not offering.custom:
            raise InvalidValue("%s needs a custom offering, but VM %s has the fixed offering %s: add service_offering with the"
                               " name of a custom offering" % ("/".join(given), vm_row.get("name"), offering.name))
    return planner.Target(offering, cpu=values["cpu_number"], speed=values["cpu_speed"], memory=values["memory"])


def plan_view(plan):
    """The plan as returned to the user."""
    return dict(action=plan.action, reasons=list(plan.reasons), service_offering=plan.offering.name,
                cpu_number=plan.cpu, cpu_speed=plan.speed, memory=plan.memory,
                migrate_to=plan.migrate_host.name if plan.migrate_host else None, **version_view(plan.version))


def version_view(version):
    """``cloudstack_version`` (as the server reports it) and ``planned_for`` (whose rules); None when not read."""
    unread = version == versions.UNREAD
    return dict(cloudstack_version=version.server or None, planned_for=None if unread else version.planned_for)


def predicted(vm, plan):
    """The VM as it will be after the plan (check mode)."""
    after = dict(vm, serviceofferingid=plan.offering.id, serviceofferingname=plan.offering.name,
                 cpunumber=plan.cpu, cpuspeed=plan.speed, memory=plan.memory)
    if plan.migrate_host is not None:
        after.update(hostid=plan.migrate_host.id, hostname=plan.migrate_host.name)
    return after


def refusal(vm, plan):
    """The error of a refused plan: every reason, and that nothing was changed; the plan goes into the result."""
    error = InvalidValue("VM %s cannot be scaled to %s (%s), nothing was changed: %s" % (
        label(vm), plan.offering.name, planner.size(plan.cpu, plan.speed, plan.memory), "; ".join(plan.reasons)))
    error.result = dict(plan=plan_view(plan), summary=summary.refused(vm.get("name"), plan.reasons))
    return error


def no_wait_refusal(rollout):
    """The InvalidValue of ``wait: false`` for a rollout of more than one job (None for one job), before any write."""
    problem = without_wait_problem(rollout)
    if problem is None:
        return None
    error = InvalidValue("VM %s: %s; nothing was changed" % (label(rollout.vm), problem))
    error.result = dict(plan=plan_view(rollout.plan), summary=summary.refused(rollout.vm.get("name"), [problem]))
    return error


def start_without_waiting(api, rollout):
    """Submit the rollout's one job; (jobs as returned, the VM as it will be) or ([], the VM after) without a job."""
    jobs = [summary.job_entry(jobid, command, rollout.vm) for jobid, command in submit_without_waiting(api, rollout)]
    return jobs, predicted(rollout.vm, rollout.plan) if jobs else rollout.outcome(api)


def changes(before, after):
    """before/after views of a VM and their diff."""
    tracker = DifferenceTracker()
    before_view, after_view = view(before), view(after)
    for key in before_view:
        tracker.add(key, before_view[key], after_view[key])
    return before_view, after_view, tracker.diff()


def options_of(params):
    """The planner Options of the module options."""
    return planner.Options(allow_migration=params["allow_migration"], allow_restart=params["allow_restart"])


def scale_vm(module):
    """vm_scale: wait for a job pending on the VM, plan, validate, execute and verify; returns the result dict.

    With ``wait: false`` the one job of the plan is submitted and returned in ``jobs``; a plan of more jobs is refused.
    """
    params, api = module.params, module.api
    stopwatch = summary.Stopwatch()
    values = requested_values(params)
    vm, scope = find_owned_vm(api, params)
    [vm], waited = settle(api, [vm], params["wait_timeout"])
    reader = Reader(api)
    target = requested_target(reader, params, values, vm, scope["zone"])
    plan, situation = plan_vm(reader, vm, target, options_of(params))
    if plan.action == planner.REFUSE:
        raise refusal(vm, plan)
    after, changed, jobs = vm, plan.action != planner.NONE or interrupted(vm) is not None, []
    if changed:
        rollout = Rollout(vm, plan, situation.settings.auto_migrate, params["allow_restart"])
        if not params["wait"] and no_wait_refusal(rollout):
            raise no_wait_refusal(rollout)
        if module.check_mode:
            after = dict(predicted(vm, plan), state="Running") if interrupted(vm) else predicted(vm, plan)
        elif not params["wait"]:
            jobs, after = start_without_waiting(api, rollout)
        else:
            run_all(api, [rollout], params["wait_timeout"], max_jobs=1)
            after, plan, changed = rollout.outcome(api), rollout.plan, rollout.changed
            if not changed:  # another task's job brought the VM there (a warning says so): nothing changed by this one
                vm = after
            for warning in rollout.warnings:
                module.warn(warning)
    before_view, after_view, diff = changes(vm, after)
    line = summary.scaled(vm.get("name"), before_view, after_view, plan.action, stopwatch, module.check_mode)
    if jobs:
        line = summary.in_progress(summary.scaled(vm.get("name"), before_view, after_view, plan.action), jobs)
    return dict(changed=changed, vm=after, before=before_view, after=after_view, plan=plan_view(plan), diff=diff,
                waited_for=waited.get(vm["id"], []), recovered=recovery_note(vm), jobs=jobs, summary=line)


def scaling_info(module):
    """vm_scaling_info: readiness of one VM or of every VM matching the filters; returns the result dict."""
    params, api = module.params, module.api
    if params.get("vm"):
        vms = [find_owned_vm(api, params)[0]]
    else:
        vms = list_vms(api, params, owner_scope(api, params))
    reader = Reader(api)
    return dict(changed=False, vms=[readiness_view(vm, reader.situation(vm)) for vm in vms])


def list_vms(api, params, scope):
    """The VMs matching zone/account/domain/project (as owner_scope resolved them), name (substring) and state."""
    return list_vms_named(api, params.get("name"), state=params.get("state"), **owner_filters(**scope)[1])


def readiness_view(vm, situation):
    """One VM's entry in vm_scaling_info."""
    ready = planner.readiness(situation)
    return dict(id=vm["id"], name=vm.get("name"), state=vm.get("state"), zone=vm.get("zonename"),
                host=vm.get("hostname") or vm.get("hostid"), service_offering=vm.get("serviceofferingname"),
                offering_kind=situation.current.kind, cpu_number=situation.vm.cpu, cpu_speed=situation.vm.speed,
                memory=situation.vm.memory, live_scalable=ready.live_scalable, max_cpu_number=ready.max_cpu,
                max_memory=ready.max_memory, blockers=list(ready.blockers), warnings=list(ready.warnings),
                interrupted_restart=interrupted(vm), **version_view(situation.version))

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the scaling rules that differ between the CloudStack versions the planner knows.

Not a public API: it may change without notice. Stdlib only, no I/O. ``version_of`` turns listCapabilities'
``cloudstackversion`` into a ``Version``: the rules of that line, or of the nearest known one with a note saying so.
The rules were read from the CloudStack source: [4.22] is github alexandremattioli/cloudstack @ 3d6cafe193
(4.22.0.0-SNAPSHOT), [4.23] is github prashanthr2/cloudstack @ b0601e5478 (4.23.0.0-SNAPSHOT), which includes
apache/cloudstack PR #12975 ("Live scaling for VMs with fixed service offerings on KVM"). 4.18 to 4.21 are the release
commits of apache/cloudstack in the history of that [4.22] tree: 84538da27c (4.18.2.5), 0c7d47138d (4.19.3.0),
4dc3931233 (4.20.2.0), f9513b47bf (4.21.0.0).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError

PR_FIXED_OFFERINGS = "apache/cloudstack PR #12975"


RULE_FIELDS = ("name fixed_offering_live_kvm same_size_cap_change cluster_capacity_settings reconfigure_failed"
               " strict_host_tags owner_limits_on_live_scale")


class Rules(namedtuple("Rules", RULE_FIELDS)):
    """One CloudStack line's scaling rules, where they differ.

    ``fixed_offering_live_kvm``: a running KVM VM on a fixed offering may be live-scaled (UserVmManagerImpl
    upgradeRunningVirtualMachine refuses it before PR #12975). ``same_size_cap_change``: a same-size offering is
    accepted on KVM when the CPU cap changes (before: every same-size target is refused). ``cluster_capacity_settings``:
    kvm.cpu/memory.dynamic.scaling.capacity and auto.migrate.vm.on.live.scale.insufficient.capacity exist; before,
    KVMGuru takes a KVM domain's maximum from the custom offering (maxcpunumber / maxmemory, else
    vm.serviceoffering.cpu.cores.max / ram.size.max, else the host), fixed offerings get none, and a VM short of
    capacity always migrates. ``reconfigure_failed``: the job's errortext when the agent cannot scale the domain
    (VirtualMachineManagerImpl.reConfigureVm). ``strict_host_tags``: a running VM's host needs only the strict tags
    (vm.strict.host.tags, resource.limit.host.tags) of the new offering and the template, and the VM's own host counts
    as full when it lacks a strict tag of the current offering (UserVmManagerImpl.upgradeVirtualMachine
    checkHostServiceOfferingAndTemplateTags, checkEnforceStrictHostTagCheck; PR #9017 of 4.20); before, the host needs
    every host tag of the new offering, the template's is not asked (HostVO.checkHostServiceOfferingTags), and its
    capacity alone decides whether the VM stays. ``owner_limits_on_live_scale``: upgradeRunningVirtualMachine checks
    the limits of the VM's owner (checkVmResourceLimitsForServiceOfferingChange, PR #8935 of 4.20); before, those of
    the caller's account (checkResourceLimit(caller, ...)), while a stopped VM's change checks the owner's in every
    line. Namedtuples, not dataclasses: built at import, also on a Python without ``dataclasses`` (see ``_compat``).
    """

    __slots__ = ()


class Defect(namedtuple("Defect", "first last issue text hypervisor")):
    """A scaling defect users reported for a range of versions (inclusive, as tuples of numbers); ``hypervisor``
    "" for every hypervisor."""

    __slots__ = ()


BEFORE_FIXED_OFFERINGS = Rules("4.22", fixed_offering_live_kvm=False, same_size_cap_change=False,
                               cluster_capacity_settings=False, reconfigure_failed="Unhandled exception",
                               strict_host_tags=True, owner_limits_on_live_scale=True)
WITH_FIXED_OFFERINGS = Rules("4.23", fixed_offering_live_kvm=True, same_size_cap_change=True,
                             cluster_capacity_settings=True, reconfigure_failed="Unable to reconfigure VM.",
                             strict_host_tags=True, owner_limits_on_live_scale=True)
KNOWN = {(4, 22): BEFORE_FIXED_OFFERINGS, (4, 23): WITH_FIXED_OFFERINGS}
# 4.18 to 4.21 have the rules of 4.22, as their trees show: upgradeRunningVirtualMachine refuses a fixed offering on
# KVM and every same-size target with the same texts, KVMGuru and reConfigureVm are 4.22's, and none has the settings
# of PR #12975. 4.18 and 4.19 are before PR #9017 and PR #8935: UserVmManagerImpl.upgradeVirtualMachine tests
# HostVO.checkHostServiceOfferingTags, upgradeRunningVirtualMachine has no checkEnforceStrictHostTagCheck and checks
# the caller's limits. What else differs is in DEFECTS (and in SETTINGS_ADDED).
KNOWN.update(((4, minor), BEFORE_FIXED_OFFERINGS._replace(
    name="4.%d" % minor, strict_host_tags=minor >= 20, owner_limits_on_live_scale=minor >= 20))
    for minor in (18, 19, 20, 21))
# the first release whose ScaleSystemVMCmd / UpgradeSystemVMCmd.getDetails merge details[i] into one map
# (convertDetailsToMap, apache/cloudstack PR #11062, 78e146278b): in 4.20.2.0, not in 4.20.1.0 nor in 4.19.3.0
SYSTEM_VM_DETAILS_MERGED = (4, 20, 2)
PR_SYSTEM_VM_DETAILS = "apache/cloudstack PR #11062"
# planner Settings fields that read settings a line does not have (PR #12975 added them)
CLUSTER_CAPACITY_FIELDS = ("auto_migrate", "kvm_cpu_capacity", "kvm_memory_capacity")

# settings an older line does not have: (the line that added it, the change, what the older lines do instead)
SETTINGS_ADDED = {
    "kvm.cpu.dynamic.scaling.capacity": (
        (4, 23), PR_FIXED_OFFERINGS, "a KVM domain's vCPU maximum is the maxcpunumber of the custom offering the VM was"
        " started with, else vm.serviceoffering.cpu.cores.max, else the host's cores; a fixed offering gets none"),
    "kvm.memory.dynamic.scaling.capacity": (
        (4, 23), PR_FIXED_OFFERINGS, "a KVM domain's memory maximum is the maxmemory of the custom offering the VM was"
        " started with, else vm.serviceoffering.ram.size.max, else the host's memory; a fixed offering gets none"),
    "auto.migrate.vm.on.live.scale.insufficient.capacity": (
        (4, 23), PR_FIXED_OFFERINGS, "a VM whose host lacks the capacity for the live scale is always migrated first"),
    "vm.strict.host.tags": (
        (4, 20), "apache/cloudstack PR #9017", "the host of a running VM must carry every host tag of the new offering"
        " (HostVO.checkHostServiceOfferingTags); the template's tag is not asked"),
    "vm.strict.resource.limit.host.tag.check": (
        (4, 20), "apache/cloudstack PR #9017", "no host tag is strict when a running VM is scaled"),
    "resource.limit.host.tags": (
        (4, 20), "apache/cloudstack PR #8362", "resource limits are per account and domain only, without host tags"),
    "allow.different.host.tags.offerings.for.vm.scale": (
        (4, 23), "apache/cloudstack PR #12919", "listServiceOfferings for a VM lists only the offerings without host tags"
        " or with every host tag of its current offering"),
}

DEFECTS = (
    Defect((4, 19, 1), (4, 19, 1, 3), "apache/cloudstack #9879 (and #9519)",
           "listServiceOfferings with virtualmachineid leaves out the custom offering of a running VM, so the UI's"
           " scale dialog says a KVM VM on a fixed offering cannot be scaled; scaleVirtualMachine itself, which this"
           " collection calls, still works (fixed by apache/cloudstack PR #9894, which 4.19.1.3 does not include)", ""),
    Defect((0,), (4, 22, 99), "apache/cloudstack #9973",
           "a running KVM VM's domain maximum is the maxcpunumber/maxmemory of the custom offering it was started with"
           " (else vm.serviceoffering.cpu.cores.max / vm.serviceoffering.ram.size.max, else the host): a live scale above"
           " it fails with 530 \"Unhandled exception\"; stop and start the VM to give its domain the new offering's"
           " maximum (CloudStack 4.23 takes the maximum from kvm.*.dynamic.scaling.capacity instead)", "KVM"),
)


class Version(namedtuple("Version", "server rules known")):
    """The server's version as listCapabilities reports it ("" when unread), the rules planned with, and whether
    they are the server's own line's."""

    __slots__ = ()

    @property
    def planned_for(self):
        """``CloudStack 4.22``: the line whose rules the planner applied."""
        return "CloudStack %s" % self.rules.name

    @property
    def note(self):
        """Why the rules are not the server's own ("" when they are)."""
        if self.known:
            return ""
        if not self.server:
            return ("the CloudStack version could not be read (listCapabilities cloudstackversion): planned by the rules"
                    " of %s, the newest this collection knows" % self.planned_for)
        return ("CloudStack %s is not a version this collection knows (%s): planned by the rules of %s, the nearest known"
                % (self.server, ", ".join("%d.%d" % line for line in sorted(KNOWN)), self.planned_for))

    def lacks_setting(self, name):
        """Why this server has no setting ``name`` ("" when the version has it or is unread)."""
        added = SETTINGS_ADDED.get(name)
        number = _numbers(self.server)
        if not added or not number or number[:2] >= added[0]:
            return ""
        return ("CloudStack %s has no setting %s: it came with CloudStack %d.%d (%s); before it, %s"
                % (self.server, name, added[0][0], added[0][1], added[1], added[2]))

    @property
    def system_vm_details_by_index(self):
        """Whether scaleSystemVm and changeServiceForSystemVm hand their details on keyed by index (before 4.20.2), so
        that validateCustomParameters refuses every custom system offering; False when the version is unread."""
        number = _numbers(self.server)
        return bool(number) and number < SYSTEM_VM_DETAILS_MERGED

    def defects(self, hypervisor):
        """The known scaling defects of this server version for a VM on that hypervisor, each naming its issue."""
        number = _numbers(self.server)
        if not number:
            return []
        return ["CloudStack %s has a known scaling defect (%s): %s" % (self.server, defect.issue, defect.text)
                for defect in DEFECTS if defect.first <= number <= defect.last
                and defect.hypervisor in ("", hypervisor)]


def _numbers(text):
    """``4.22.0.0-SNAPSHOT`` as (4, 22, 0, 0); () when it does not start with a number."""
    match = re.match(r"\s*(\d+(?:\.\d+)*)", text or "")
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def server_version(api):
    """The server's Version (listCapabilities ``cloudstackversion``, one call); the newest rules, with a note, when it
    cannot be read."""
    try:
        capability = api.call("listCapabilities", action="read the CloudStack version").get("capability")
    except ApiError:
        capability = None
    return version_of((capability or {}).get("cloudstackversion") or "")


def version_of(text):
    """The Version of a ``cloudstackversion`` text: its line's rules, else the nearest known line's (the newest when
    the text is empty or not a version)."""
    number = _numbers(text)
    line = number[:2]
    if line in KNOWN:
        return Version(text, KNOWN[line], True)
    if len(line) < 2:
        return Version(text or "", KNOWN[max(KNOWN)], False)
    nearest = min(KNOWN, key=lambda known: (abs((known[0] - line[0]) * 100 + known[1] - line[1]), -known[1]))
    return Version(text, KNOWN[nearest], False)


# a Situation or Plan made without reading the server (a VM already at its fixed target): the newest rules
UNREAD = Version("", WITH_FIXED_OFFERINGS, True)

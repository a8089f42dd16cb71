# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the one-line ``summary`` of a result, for people to read.

Not a public API: it may change without notice. Every module that changes things returns ``summary``, built here from
what it already knows (before/after views, the plan's action, the host, the time taken on a monotonic clock), so that
all of them read alike: ``web-01: Small 1 vCPU/1024 MiB → Medium 2 vCPU/2048 MiB, live on kvm-a1-01, 1.2 s``.
A refusal's failure carries one too, naming its first reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

ARROW = u"\u2192"
JOB_INFO = "livescale.cloudstack.job_info"
# how each plan action (``_planner``) carried out a scale
HOW = {"live": "live", "migrate_then_live": "migrated, then live", "restart": "stopped, changed and started",
       "offline": "while stopped"}


class Stopwatch:
    """Seconds since it was made, on a monotonic clock (injectable for tests)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.start = clock()

    @property
    def elapsed(self):
        return self.clock() - self.start

    def text(self):
        """``1.2 s``."""
        return "%.1f s" % max(0.0, self.elapsed)


def size(view):
    """``Medium 2 vCPU/2048 MiB`` of a before/after view (service_offering, cpu_number, memory)."""
    shape = "%s vCPU/%s MiB" % (view.get("cpu_number"), view.get("memory"))
    return "%s %s" % (view["service_offering"], shape) if view.get("service_offering") else shape


def first_reason(reasons):
    """The first of ``reasons``, and how many more there are."""
    reasons = [reason for reason in reasons if reason]
    if not reasons:
        return "no reason given"
    more = len(reasons) - 1
    return reasons[0] + (" (and %d more reason%s)" % (more, "" if more == 1 else "s") if more else "")


def refused(subject, reasons):
    """``web-01: refused, nothing changed: <first reason> (and 2 more reasons)``."""
    return "%s: refused, nothing changed: %s" % (subject, first_reason(reasons))


def changed_line(subject, change, detail=None, stopwatch=None, check_mode=False):
    """``<subject>: <change>, <detail>, 1.2 s``; in check mode ``(check mode: nothing changed)`` instead of the time."""
    parts = [change] + ([detail] if detail else [])
    if check_mode:
        parts.append("check mode: nothing changed")
    elif stopwatch is not None:
        parts.append(stopwatch.text())
    return "%s: %s" % (subject, ", ".join(parts))


def unchanged(subject, what):
    """``web-01: already Medium 2 vCPU/2048 MiB, nothing changed``."""
    return "%s: already %s, nothing changed" % (subject, what)


def scaled(subject, before, after, action, stopwatch=None, check_mode=False):
    """A scale (vm_scale, system_vm_scale, one VM of vm_scale_fleet) from its before/after views and plan action."""
    if size(before) == size(after):
        if before.get("state") == after.get("state"):
            return unchanged(subject, size(after))
        return changed_line(subject, "%s, %s %s %s" % (size(after), before.get("state"), ARROW, after.get("state")),
                            None, stopwatch, check_mode)
    how = HOW.get(action, action)
    if action == "migrate_then_live" and after.get("host") != before.get("host"):
        how = "migrated %s %s %s, then live" % (before.get("host"), ARROW, after.get("host"))
    elif after.get("host"):
        how = "%s on %s" % (how, after["host"])
    return changed_line(subject, "%s %s %s" % (size(before), ARROW, size(after)), how, stopwatch, check_mode)


def values(subject, before, after, detail=None, stopwatch=None, check_mode=False):
    """A change of named values: ``<subject>: isdynamicallyscalable false → true``; ``already ...`` when equal."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    if not keys:
        return unchanged(subject, ", ".join("%s %s" % (key, shown(value)) for key, value in after.items()))
    change = ", ".join("%s %s %s %s" % (key, shown(before.get(key)), ARROW, shown(after.get(key))) for key in keys)
    return changed_line(subject, change, detail, stopwatch, check_mode)


def shown(value):
    """A value as a person reads it: booleans lower case, nothing as ``unset``."""
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def counts(noun, tally, order, stopwatch=None, check_mode=False, detail=None):
    """``12 VMs: 10 scaled, 2 unchanged, 8.4 s`` from {outcome: count} in the order of ``order``."""
    parts = ", ".join("%d %s" % (tally[key], key) for key in order if tally.get(key))
    return changed_line(number_of(sum(tally.get(key, 0) for key in order), noun), parts or "none selected", detail,
                        stopwatch, check_mode)


def number_of(count, noun, plural_ending="s"):
    """``1 VM``, ``3 VMs``; ``2 batches`` with ``plural_ending="es"``."""
    return "%d %s%s" % (count, noun, "" if count == 1 else plural_ending)


def in_progress(line, jobs):
    """``<line>; in progress as job <id>: wait for it with livescale.cloudstack.job_info`` (``wait: false``)."""
    one = len(jobs) == 1
    return "%s; in progress as job%s %s: wait for %s with %s" % (
        line, "" if one else "s", ", ".join(job["jobid"] for job in jobs), "it" if one else "them", JOB_INFO)


def job_entry(jobid, command, vm):
    """One item of ``jobs`` returned with ``wait: false``."""
    return dict(jobid=jobid, command=command, vm=vm.get("name") or vm.get("id"))


WAIT_SPEC = dict(wait=dict(type="bool", default=True))  # documented in the doc fragment livescale.cloudstack.wait

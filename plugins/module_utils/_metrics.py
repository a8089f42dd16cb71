# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: VM usage metrics from CloudStack (and optionally Prometheus) as policy samples.

Not a public API: it may change without notice. The shapes follow CloudStack's metrics plugin
(``plugins/metrics``): ``listVirtualMachinesUsageHistory`` (``ListVMsUsageHistoryCmd``, 4.17+) answers
``virtualmachine[]`` of ``VmMetricsStatsResponse`` (id, name, displayname, ``stats[]``); each ``StatsResponse`` has a
``timestamp`` (``yyyy-MM-dd'T'HH:mm:ssZ``), ``cpuused`` as text (``DecimalFormat("#.##")`` + ``%``, so ``"12.5%"``, and
with a comma in some locales), ``memorykbs``, ``memoryintfreekbs`` (-1 when the guest's free memory is not known:
``MetricsServiceImpl.createStatsResponse`` sets -1 whenever free >= total, i.e. without balloon statistics) and
``memorytargetkbs``. Records are kept for ``vm.stats.max.retention.time`` minutes (720 by default) and collected every
``vm.stats.interval`` ms (60000). ``listVirtualMachinesMetrics`` (``ListVMsMetricsCmd``) carries only the latest
figures, without a timestamp: one sample, never enough for a rule that needs a duration.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
from datetime import datetime, timezone
from urllib.parse import urlencode

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError
from ansible_collections.livescale.cloudstack.plugins.module_utils._autoscale_policy import Sample

HISTORY = "listVirtualMachinesUsageHistory"
LATEST = "listVirtualMachinesMetrics"
PROMETHEUS = "prometheus"
NOT_AVAILABLE = (401, 432)  # unknown or not permitted command (older CloudStack, or a role without it)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # CloudStack's ApiResponseGsonHelper date format


def parse_time(text):
    """CloudStack's ``2026-01-05T10:00:00+0000`` as UTC epoch seconds; None when it is not a time."""
    try:
        return datetime.strptime(str(text).strip(), TIME_FORMAT).timestamp()
    except ValueError:
        return None


def format_time(epoch):
    """UTC epoch seconds in CloudStack's date format (accepted by ``DateUtil.parseTZDateString`` for startdate)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_percent(text):
    """``"12.5%"`` (or ``"12,5%"``, or a number) as 12.5; None for missing or unreadable values."""
    if text is None or isinstance(text, bool):
        return None
    try:
        value = float(str(text).strip().rstrip("%").replace(",", "."))
    except ValueError:
        return None
    return value if not math.isnan(value) and value >= 0 else None  # NaN is not a reading


def memory_used(stat):
    """Per cent of the VM's memory the guest uses, or None when CloudStack has no real figure (no balloon stats)."""
    try:
        total, free = int(stat.get("memorykbs") or 0), int(stat.get("memoryintfreekbs", -1))
    except (TypeError, ValueError):
        return None
    if total <= 0 or free < 0 or free >= total:
        return None
    return round((total - free) * 100.0 / total, 2)


def samples_from_stats(stats):
    """Policy samples from a ``stats[]`` list, oldest first, and how many records could not be read."""
    samples, unreadable = [], 0
    for stat in stats or []:
        time, cpu = parse_time(stat.get("timestamp")), parse_percent(stat.get("cpuused"))
        if time is None or cpu is None:
            unreadable += 1
            continue
        samples.append(Sample(time, cpu, memory_used(stat)))
    return sorted(samples, key=lambda sample: sample.time), unreadable


class Series:
    """One VM's samples, where they came from and what the reader noticed."""

    def __init__(self, samples, source, notes=()):
        self.samples = list(samples)
        self.source = source
        self.notes = list(notes)

    @property
    def memory_real(self):
        """Whether the memory figures are real (balloon statistics): the newest sample has one."""
        return bool(self.samples) and self.samples[-1].memory is not None

    def view(self):
        first, last = (self.samples[0].time, self.samples[-1].time) if self.samples else (None, None)
        return dict(source=self.source, samples=len(self.samples), notes=list(self.notes),
                    first=format_time(first) if first is not None else None,
                    last=format_time(last) if last is not None else None, memory_real=self.memory_real)


def series_from_history(row):
    """A Series from one ``virtualmachine`` entry of listVirtualMachinesUsageHistory."""
    samples, unreadable = samples_from_stats(row.get("stats"))
    notes = ["%d stats records without a readable timestamp or cpuused were skipped" % unreadable] if unreadable else []
    if samples and samples[-1].memory is None:
        notes.append("memory figures are not real (memoryintfreekbs -1: no balloon statistics; set"
                     " vm.memballoon.stats.period in the KVM agent's agent.properties): no memory rule")
    return Series(samples, HISTORY, notes)


def series_from_latest(row, now):
    """A one-sample Series from a listVirtualMachinesMetrics / listVirtualMachines row (it has no timestamp)."""
    cpu = parse_percent(row.get("cpuused"))
    samples = [Sample(now, cpu, memory_used(row))] if cpu is not None else []
    return Series(samples, LATEST, ["%s is not available: only the latest reading is known, no history" % HISTORY])


class UsageReader:
    """Reads the usage of many VMs in few calls: the history since ``start`` (one listing per page of VMs), or the
    latest figures when the history command is not available."""

    def __init__(self, api):
        self.api = api

    def read(self, vms, start, now):
        """{vm id: Series} for the VM rows ``vms``, with samples from ``start`` (epoch) on."""
        ids = [vm["id"] for vm in vms]
        if not ids:
            return {}
        try:
            rows = self.api.list(HISTORY, "virtualmachine", action="read usage history", ids=ids,
                                 startdate=format_time(start))
        except ApiError as error:
            if error.errorcode not in NOT_AVAILABLE:
                raise
            rows = self.api.list(LATEST, "virtualmachine", action="read VM metrics", ids=ids, listall=True)
            found = dict((row.get("id"), series_from_latest(row, now)) for row in rows)
        else:
            found = dict((row.get("id"), series_from_history(row)) for row in rows)
        return dict((vm_id, found.get(vm_id) or Series([], HISTORY, ["CloudStack returned no usage for this VM"]))
                    for vm_id in ids)


def prometheus_series(opener, url, query, start, end, step, label="instance"):
    """A Series per value of ``label`` from a Prometheus HTTP API range query (``/api/v1/query_range``) whose values
    are CPU per cent of the VM's vCPUs; ``opener(url)`` returns the answer's bytes."""
    arguments = urlencode(dict(query=query, start=start, end=end, step=int(step)))
    address = "%s/api/v1/query_range?%s" % (url.rstrip("/"), arguments)
    try:
        answer = json.loads(opener(address))
    except ValueError as error:
        raise CloudStackError("Prometheus at %s did not answer JSON: %s" % (url, error))
    if answer.get("status") != "success":
        raise CloudStackError("Prometheus query failed: %s" % answer.get("error", answer))
    found = {}
    for result in answer.get("data", {}).get("result", []):
        name = result.get("metric", {}).get(label)
        samples = [Sample(float(time), cpu) for time, cpu in
                   ((time, parse_percent(value)) for time, value in result.get("values", [])) if cpu is not None]
        found[name] = Series(samples, PROMETHEUS)
    return found

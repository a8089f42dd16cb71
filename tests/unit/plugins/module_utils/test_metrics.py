"""Parsing CloudStack's usage answers (shapes of plugins/metrics VmMetricsStatsResponse / StatsResponse and
MetricsServiceImpl.createStatsResponse) into policy samples, and the fallback to listVirtualMachinesMetrics."""

import json

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _metrics as metrics
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, CloudStackError

T0 = 1767607200.0  # 2026-01-05T10:00:00+0000

# A listVirtualMachinesUsageHistory answer as CloudStack 4.23 serializes it: cpuused is DecimalFormat("#.##") + "%",
# memoryintfreekbs is -1 without balloon statistics (free >= total), records in the order the DAO returns them.
HISTORY = {"id": "vm-1", "name": "web-01", "displayname": "web-01", "stats": [
    {"timestamp": "2026-01-05T10:01:00+0000", "cpuused": "12.5%", "memorykbs": 1048576, "memoryintfreekbs": 262144,
     "memorytargetkbs": 1048576, "diskiopstotal": 0, "networkkbsread": 1, "networkread": "0.00 MiB"},
    {"timestamp": "2026-01-05T10:00:00+0000", "cpuused": "0%", "memorykbs": 1048576, "memoryintfreekbs": 262144,
     "memorytargetkbs": 1048576},
    {"timestamp": "2026-01-05T10:02:00+0000", "cpuused": "99,75%", "memorykbs": 1048576, "memoryintfreekbs": 524288,
     "memorytargetkbs": 1048576},
    {"timestamp": "garbage", "cpuused": "5%"},
    {"timestamp": "2026-01-05T10:03:00+0000", "cpuused": "NaN%"},
]}


@pytest.mark.parametrize("text, value", [("12.5%", 12.5), ("0%", 0.0), ("100%", 100.0), ("99,75%", 99.75),
                                         (" 7.1 % ", 7.1), (3, 3.0), ("NaN%", None), ("", None), (None, None),
                                         ("-1%", None), (True, None)])
def test_parse_percent(text, value):
    assert metrics.parse_percent(text) == value


@pytest.mark.parametrize("text, epoch", [("2026-01-05T10:00:00+0000", T0), ("2026-01-05T11:00:00+0100", T0),
                                         ("2026-01-05 10:00:00", None), (None, None)])
def test_parse_time(text, epoch):
    assert metrics.parse_time(text) == epoch


def test_format_time_is_cloudstacks_zoned_format():
    assert metrics.format_time(T0) == "2026-01-05T10:00:00+0000"


@pytest.mark.parametrize("stat, used", [
    ({"memorykbs": 1048576, "memoryintfreekbs": 262144}, 75.0),
    ({"memorykbs": 1048576, "memoryintfreekbs": -1}, None),       # no balloon statistics
    ({"memorykbs": 1048576, "memoryintfreekbs": 1048576}, None),  # CloudStack would show -1 here
    ({"memorykbs": 0, "memoryintfreekbs": 0}, None), ({}, None), ({"memorykbs": "x", "memoryintfreekbs": 1}, None)])
def test_memory_used_only_when_real(stat, used):
    assert metrics.memory_used(stat) == used


def test_history_is_sorted_and_unreadable_records_are_counted():
    series = metrics.series_from_history(HISTORY)
    assert [(sample.time - T0, sample.cpu, sample.memory) for sample in series.samples] == [
        (0, 0.0, 75.0), (60, 12.5, 75.0), (120, 99.75, 50.0)]
    assert series.notes == ["2 stats records without a readable timestamp or cpuused were skipped"]
    assert series.memory_real


def test_history_without_balloon_stats_says_memory_is_not_real():
    row = {"id": "vm-1", "stats": [{"timestamp": "2026-01-05T10:00:00+0000", "cpuused": "5%", "memorykbs": 1048576,
                                    "memoryintfreekbs": -1, "memorytargetkbs": 1048576}]}
    series = metrics.series_from_history(row)
    assert not series.memory_real and "no balloon statistics" in series.notes[0]


class Api:
    """Answers the two metrics commands from recorded rows; ``history_error`` makes the history command fail."""

    def __init__(self, history=(), latest=(), history_error=None):
        self.history, self.latest, self.history_error = list(history), list(latest), history_error
        self.calls = []

    def list(self, command, key, action=None, **params):
        self.calls.append((command, params))
        if command == metrics.HISTORY:
            if self.history_error:
                raise ApiError(command, "The API [%s] does not exist or is not available for the account" % command,
                               errorcode=self.history_error, action=action)
            return self.history
        return self.latest


def test_reader_asks_for_all_vms_at_once_since_the_start():
    api = Api(history=[HISTORY])
    found = metrics.UsageReader(api).read([{"id": "vm-1"}, {"id": "vm-2"}], T0 - 3600, T0)
    assert api.calls == [(metrics.HISTORY, {"ids": ["vm-1", "vm-2"], "startdate": "2026-01-05T09:00:00+0000"})]
    assert len(found["vm-1"].samples) == 3
    assert found["vm-2"].samples == [] and found["vm-2"].notes == ["CloudStack returned no usage for this VM"]


@pytest.mark.parametrize("code", [401, 432])
def test_reader_falls_back_to_the_latest_metrics(code):
    api = Api(latest=[{"id": "vm-1", "cpuused": "42.5%", "memorykbs": 1048576, "memoryintfreekbs": -1}],
              history_error=code)
    series = metrics.UsageReader(api).read([{"id": "vm-1"}], T0 - 3600, T0)["vm-1"]
    assert series.source == metrics.LATEST and [(s.time, s.cpu) for s in series.samples] == [(T0, 42.5)]
    assert "only the latest reading is known" in series.notes[0]


def test_reader_does_not_hide_other_errors():
    with pytest.raises(ApiError):
        metrics.UsageReader(Api(history_error=530)).read([{"id": "vm-1"}], T0, T0)


def test_prometheus_range_query():
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"instance": "web-01"}, "values": [[T0, "12.5"], [T0 + 60, "NaN"], [T0 + 120, "80"]]},
        {"metric": {"domain": "i-2-3-VM"}, "values": [[T0, "5"]]}]}}
    asked = []

    def opener(url):
        asked.append(url)
        return json.dumps(answer).encode()

    found = metrics.prometheus_series(opener, "http://prom:9090/", "cpu_percent", T0, T0 + 120, 60)
    assert [(s.time, s.cpu) for s in found["web-01"].samples] == [(T0, 12.5), (T0 + 120, 80.0)]
    assert asked[0].startswith("http://prom:9090/api/v1/query_range?query=cpu_percent&start=")
    by_domain = metrics.prometheus_series(opener, "http://prom:9090", "cpu_percent", T0, T0 + 120, 60, label="domain")
    assert [(s.time, s.cpu) for s in by_domain["i-2-3-VM"].samples] == [(T0, 5.0)]


def test_prometheus_error_is_reported():
    with pytest.raises(CloudStackError, match="Prometheus query failed: bad query"):
        metrics.prometheus_series(lambda url: b'{"status": "error", "error": "bad query"}', "http://p", "x", 0, 1, 60)

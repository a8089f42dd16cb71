"""Adaptive waiter: growth, cap, deadline, with an injected clock (no real sleeps)."""

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils._wait import JOB_SCHEDULE, Waiter, WaitTimeout, poll_interval


class FakeClock:
    """A monotonic clock that only moves when sleep() is called."""

    def __init__(self, now=0.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_intervals_start_at_a_tenth_grow_by_half_and_cap_at_two_seconds():
    clock = FakeClock()
    polls = iter([False] * 11 + [True])
    assert Waiter(60, clock=clock, sleep=clock.sleep).until(lambda: next(polls))
    assert clock.sleeps[:6] == pytest.approx([0.1, 0.15, 0.225, 0.3375, 0.50625, 0.759375])
    assert clock.sleeps[-3:] == [2.0, 2.0, 2.0]


def test_job_intervals_start_at_a_tenth_and_grow_to_three_tenths_of_a_second():
    """Ends fall anywhere between two polls: every 0.3 s notices them 0.15 s late in the median, at most 0.3 s."""
    clock = FakeClock()
    polls = iter([False] * 11 + [True])
    assert Waiter(60, clock=clock, sleep=clock.sleep, **JOB_SCHEDULE).until(lambda: next(polls))
    assert clock.sleeps[:4] == pytest.approx([0.1, 0.15, 0.225, 0.3])
    assert clock.sleeps[3:] == pytest.approx([0.3] * 9), "a job is noticed within 0.3 s while the wait is short"
    assert len(clock.sleeps) == 12


def test_long_waits_poll_at_two_percent_of_the_time_waited_up_to_two_seconds():
    assert poll_interval(0.3, 5.0, **JOB_SCHEDULE) == pytest.approx(0.3)
    assert poll_interval(0.3, 50.0, **JOB_SCHEDULE) == pytest.approx(1.0)
    assert poll_interval(1.0, 500.0, **JOB_SCHEDULE) == 2.0


def test_a_ten_minute_wait_stays_under_400_polls():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        Waiter(600, clock=clock, sleep=clock.sleep, **JOB_SCHEDULE).until(lambda: False)
    assert 380 < len(clock.sleeps) < 400
    assert max(clock.sleeps) == 2.0


def test_a_first_interval_above_notice_is_kept():
    clock = FakeClock()
    polls = iter([False] * 3 + [True])
    Waiter(60, clock=clock, sleep=clock.sleep, first=0.5, notice=0.2, cap=1.0).until(lambda: next(polls))
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5, 0.5])


def test_returns_the_predicate_value_and_stops_polling():
    clock = FakeClock()
    calls = []

    def predicate():
        calls.append(clock.now)
        return {"done": True} if len(calls) == 3 else None

    assert Waiter(10, clock=clock, sleep=clock.sleep).until(predicate) == {"done": True}
    assert len(calls) == 3


def test_timeout_never_sleeps_past_the_deadline_and_reports_the_wait():
    clock = FakeClock(now=100.0)
    calls = []
    with pytest.raises(WaitTimeout) as info:
        Waiter(5, clock=clock, sleep=clock.sleep).until(lambda: calls.append(clock.now), what="job 42")
    assert info.value.waited == pytest.approx(5.0)
    assert "job 42" in str(info.value) and "timeout 5 s" in str(info.value)
    assert clock.now == pytest.approx(105.0)
    assert calls[-1] == pytest.approx(105.0), "the last poll happens at the deadline"


def test_zero_timeout_fails_without_polling():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        Waiter(0, clock=clock, sleep=clock.sleep).until(pytest.fail)
    assert not clock.sleeps


def test_negative_timeout_is_rejected():
    with pytest.raises(ValueError, match="-1"):
        Waiter(-1)

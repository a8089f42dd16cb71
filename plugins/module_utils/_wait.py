# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: a bounded, adaptive waiter.

Not a public API: it may change without notice. Stdlib only; the clock and the sleep function are
injected so that unit tests never really sleep.

Intervals start at ``first`` and grow by ``growth`` up to ``notice`` (``cap`` when not given); once
LATE_FRACTION of the time waited is longer (after 15 s at 0.3 s), the interval is that fraction, at
most ``cap``. JOB_SCHEDULE, the one of async jobs, notices an end within 0.3 s (0.15 s in the median: an end
falls anywhere between two polls) or 2 % of the job's run time, whichever is longer, and a 600 s wait takes
about 400 polls; a third fewer rounds than every 0.2 s, for a fleet's many jobs as for one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

FIRST_INTERVAL = 0.1
GROWTH = 1.5
LATE_FRACTION = 0.02
MAX_INTERVAL = 2.0
JOB_SCHEDULE = dict(first=0.1, notice=0.3)


class WaitTimeout(Exception):
    """The condition did not hold before the deadline; ``waited`` is in seconds."""

    def __init__(self, message, waited):
        super(WaitTimeout, self).__init__(message)
        self.waited = waited


def poll_interval(previous, elapsed, first=FIRST_INTERVAL, growth=GROWTH, notice=None, cap=MAX_INTERVAL):
    """The next interval after ``previous`` (None before the first poll), ``elapsed`` seconds into the wait."""
    ramp = first if previous is None else min(previous * growth, max(cap if notice is None else notice, first))
    return min(cap, max(ramp, elapsed * LATE_FRACTION))


class Waiter:
    """Poll a predicate on the schedule of ``poll_interval`` until it holds or ``timeout`` seconds have passed.

    The deadline is taken from the monotonic ``clock`` when ``until`` starts; the last poll happens
    at the deadline at the latest, never after it.
    """

    def __init__(self, timeout, clock=time.monotonic, sleep=time.sleep, first=FIRST_INTERVAL, growth=GROWTH, cap=MAX_INTERVAL,
                 notice=None):
        if timeout < 0:
            raise ValueError("timeout must be 0 or more seconds, got %r" % (timeout,))
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.schedule = dict(first=first, growth=growth, notice=notice, cap=cap)

    def until(self, predicate, what="the condition"):
        """Sleep, then call ``predicate()``, until it returns a true value, which is returned.

        Raises WaitTimeout naming ``what`` when the deadline passes first.
        """
        start = self.clock()
        deadline = start + self.timeout
        interval = None
        while True:
            now = self.clock()
            remaining = deadline - now
            if remaining <= 0:
                waited = now - start
                raise WaitTimeout("gave up waiting for %s after %.1f s (timeout %s s)" % (what, waited, self.timeout), waited)
            interval = poll_interval(interval, now - start, **self.schedule)
            self.sleep(min(interval, remaining))
            result = predicate()
            if result:
                return result

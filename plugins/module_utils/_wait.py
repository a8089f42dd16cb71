# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: a bounded, adaptive waiter.

Not a public API: it may change without notice. Stdlib only; the clock and the sleep function are
injected so that unit tests never really sleep.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

FIRST_INTERVAL = 0.1
GROWTH = 1.5
MAX_INTERVAL = 2.0


class WaitTimeout(Exception):
    """The condition did not hold before the deadline; ``waited`` is in seconds."""

    def __init__(self, message, waited):
        super(WaitTimeout, self).__init__(message)
        self.waited = waited


class Waiter:
    """Poll a predicate with growing intervals until it holds or ``timeout`` seconds have passed.

    The deadline is taken from the monotonic ``clock`` when ``until`` starts; the last poll happens
    at the deadline at the latest, never after it.
    """

    def __init__(self, timeout, clock=time.monotonic, sleep=time.sleep, first=FIRST_INTERVAL, growth=GROWTH, cap=MAX_INTERVAL):
        if timeout < 0:
            raise ValueError("timeout must be 0 or more seconds, got %r" % (timeout,))
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.first = first
        self.growth = growth
        self.cap = cap

    def until(self, predicate, what="the condition"):
        """Sleep, then call ``predicate()``, until it returns a true value, which is returned.

        Raises WaitTimeout naming ``what`` when the deadline passes first.
        """
        start = self.clock()
        deadline = start + self.timeout
        interval = min(self.first, self.cap)
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                waited = self.clock() - start
                raise WaitTimeout("gave up waiting for %s after %.1f s (timeout %s s)" % (what, waited, self.timeout), waited)
            self.sleep(min(interval, remaining))
            result = predicate()
            if result:
                return result
            interval = min(interval * self.growth, self.cap)

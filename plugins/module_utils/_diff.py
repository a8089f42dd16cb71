# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: record differences as data and derive the ``diff`` result.

Not a public API: it may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class DifferenceTracker:
    """Ordered record of (key, before, after); a key added twice keeps its first ``before``."""

    def __init__(self):
        self._changes = {}

    def add(self, key, before, after):
        """Record that ``key`` goes from ``before`` to ``after`` (equal values are kept, but are no change)."""
        if key in self._changes:
            before = self._changes[key][0]
        self._changes[key] = (before, after)

    @property
    def has_changes(self):
        return any(before != after for before, after in self._changes.values())

    @property
    def changed_keys(self):
        return [key for key, (before, after) in self._changes.items() if before != after]

    def before(self):
        return dict((key, values[0]) for key, values in self._changes.items())

    def after(self):
        return dict((key, values[1]) for key, values in self._changes.items())

    def diff(self):
        """The ``diff`` return value: ``{"before": {...}, "after": {...}}``."""
        return dict(before=self.before(), after=self.after())

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: what the module edges share below AnsibleModule.

Not a public API: it may change without notice. Stdlib only. The module edges (``_module.py`` for the
API modules, ``_libvirt_module.py`` for the libvirt ones) refuse a Python older than ``MIN_PYTHON``
with ``unsupported_python()``; so that they can, the pure helpers take ``dataclass``, ``field`` and
``replace`` from here, and on a Python without ``dataclasses`` (3.6) get stand-ins that only let the
modules load. ``unexpected_failure()`` is how both edges fail on an error that is not one of ours.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
import traceback

# the floor of tests/config.yml (modules.python_requires) and of ansible-core 2.19 on managed nodes
MIN_PYTHON = (3, 8)

try:
    from dataclasses import dataclass, field, replace
except ImportError:  # Python 3.6: the edges fail with unsupported_python() before any of these is used
    def dataclass(**_options):
        return lambda cls: cls

    def field(**_options):
        return None

    def replace(obj, **_changes):
        raise RuntimeError(unsupported_python())


def unsupported_python():
    """The failure message for a Python older than MIN_PYTHON (naming the one found and the one needed), else None."""
    found = sys.version_info
    if tuple(found[:2]) >= MIN_PYTHON:
        return None
    needed = "%d.%d" % MIN_PYTHON
    return ("livescale.cloudstack needs Python %s or later on the managed node, but %s is Python %d.%d.%d: point"
            " ansible_python_interpreter at a Python %s or later (for example /usr/bin/python3.11)"
            % (needed, sys.executable or "its interpreter", found[0], found[1], found[2], needed))


def unexpected_failure(exc):
    """fail_json fields for an error no helper expected (a bug): its type and text, and the traceback for -vvv."""
    return dict(msg="unexpected error (a bug in livescale.cloudstack; please report it with the traceback that -vvv shows,"
                    " or ANSIBLE_DISPLAY_TRACEBACK=error on ansible-core 2.19): %s: %s" % (type(exc).__name__, exc),
                exception=traceback.format_exc())


__all__ = ("MIN_PYTHON", "dataclass", "field", "replace", "unexpected_failure", "unsupported_python")

# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the module edge of the libvirt modules.

Not a public API: it may change without notice. The libvirt counterpart of ``_module.py``: the
options every libvirt module takes (``uri``, ``domain``; documented in the ``libvirt`` doc fragment)
and the only place that turns the typed errors of ``_libvirt`` into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.livescale.cloudstack.plugins.module_utils import _libvirt
from ansible_collections.livescale.cloudstack.plugins.module_utils._compat import unexpected_failure, unsupported_python

LIBVIRT_ARGUMENT_SPEC = dict(
    uri=dict(type="str", default="qemu:///system"),
    # one option names the domain in every libvirt module; name and uuid were the options of libvirt_domain_scaling_info
    domain=dict(type="str", required=True, aliases=["name", "uuid"]),
)


class LibvirtModule:
    """AnsibleModule with the libvirt options and the error edge of the libvirt modules."""

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        spec = dict(LIBVIRT_ARGUMENT_SPEC)
        spec.update(argument_spec or {})
        self._module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    def run(self, func):
        """Call ``func(self)`` for the result dict and exit with it.

        Typed libvirt errors become failures naming the fix (and what was applied); any other error fails with
        its traceback (for -vvv).
        """
        if unsupported_python():
            self._module.fail_json(msg=unsupported_python())
        if not _libvirt.HAS_LIBVIRT:
            self._module.fail_json(msg=missing_required_lib("libvirt-python"), exception=str(_libvirt.LIBVIRT_IMPORT_ERROR))
        try:
            result = func(self)
        except _libvirt.VirtError as exc:
            self._module.fail_json(**_libvirt.failure_fields(exc, self.params["domain"]))
        except Exception as exc:  # pylint: disable=broad-except
            # the edge: a bug still ends in a failure that says so, with its traceback
            self._module.fail_json(**unexpected_failure(exc))
        else:
            self._module.exit_json(**dict({"changed": False}, **result))

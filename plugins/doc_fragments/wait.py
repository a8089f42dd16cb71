# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The wait option of the modules that submit CloudStack async jobs (WAIT_SPEC in module_utils/_summary.py).
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait for CloudStack's jobs to end (at most O(wait_timeout) seconds), then check the result.
      - V(false) submits the job and returns at once with C(changed=true), its id in RV(jobs) and a RV(summary) that
        says it is in progress; wait for it with M(livescale.cloudstack.job_info). Nothing checks the result then.
      - With V(false), a change that needs one job to end before the next (a stop-change-start, a migration before the
        scale) is refused before anything is written.
    type: bool
    default: true
"""

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: job_info
short_description: Wait on CloudStack async jobs, or report their status
version_added: 0.2.0
description:
  - Reads CloudStack asynchronous jobs (C(queryAsyncJobResult)) and reports for each its status, what it was about
    (C(jobinstancetype) and C(jobinstanceid)), and its result or error.
  - With O(wait=true) (the default), first waits until every pending job has ended, at most O(wait_timeout) seconds,
    polling all pending jobs in one round of requests per tick (after 0.1 s, then at growing intervals up to 2 s).
  - With O(wait=false), only reports the jobs as they are now.
  - The job ids come from a task whose job outlived its O(wait_timeout) (the C(jobid) of the failure of
    M(livescale.cloudstack.vm_scale), for example), or from any other CloudStack client (C(cs --async), C(cmk)). This is how to wait for long jobs
    without one task blocking for all of them, as the C(poll_async) option of ngine_io.cloudstack's modules allows.
  - The task fails when a job failed or was cancelled (listing each with its error), when a job id is not known to
    CloudStack, or when O(wait=true) and a job is still running after O(wait_timeout); the result still lists
    every job.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.info_module
  - livescale.cloudstack.attributes.actiongroup
options:
  jobs:
    description: Ids of the async jobs. The same id given twice is reported once.
    type: list
    elements: str
    required: true
    aliases: [jobid, job_ids]
  wait:
    description:
      - Wait until every job has ended (at most O(wait_timeout) seconds).
      - V(false) reports the jobs as they are, pending ones included.
    type: bool
    default: true
notes:
  - CloudStack removes ended jobs after its C(job.expire.minutes) setting (1440 by default); an id older than that is
    not found.
seealso:
  - module: livescale.cloudstack.vm_scale
  - module: livescale.cloudstack.vm_state
"""

EXAMPLES = r"""
- name: Scale db-01 (stop, change, start), waiting at most 60 s
  livescale.cloudstack.vm_scale:
    vm: db-01
    service_offering: Large
    allow_restart: true
    wait_timeout: 60
  register: scale_db
  ignore_errors: true

- name: Wait up to 20 more minutes for its job
  livescale.cloudstack.job_info:
    jobs: ["{{ scale_db.jobid }}"]
    wait_timeout: 1200
  when: scale_db.jobid is defined

- name: Report the jobs a script started, without waiting
  livescale.cloudstack.job_info:
    jobs:
      - 6a0f1e1c-1b47-4f5e-9a34-2b1d1c5e7f10
      - 0b6d7e59-0d4e-4a3c-bb52-7d8e2a9f1c21
    wait: false
  register: jobs

- name: Show what is still running
  ansible.builtin.debug:
    msg: "{{ jobs.jobs | selectattr('status', 'eq', 'pending') | map(attribute='jobid') | list }}"
"""

RETURN = r"""
jobs:
  description: Every job, in the order of O(jobs).
  returned: always
  type: list
  elements: dict
  contains:
    jobid:
      description: Id of the job.
      type: str
      sample: 6a0f1e1c-1b47-4f5e-9a34-2b1d1c5e7f10
    status:
      description: The job's C(jobstatus) in words.
      type: str
      choices: [pending, succeeded, failed, cancelled]
      sample: succeeded
    jobstatus:
      description: CloudStack's C(jobstatus) (0 pending, 1 succeeded, 2 failed, 3 cancelled).
      type: int
      sample: 1
    command:
      description: The API command class that ran (C(cmd)).
      type: str
      sample: org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin
    instance_type:
      description: The kind of object the job was about (C(jobinstancetype)), for example V(VirtualMachine).
      type: str
      sample: VirtualMachine
    instance_id:
      description: The id of that object (C(jobinstanceid)).
      type: str
      sample: 0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    created:
      description: When the job was created.
      type: str
      sample: "2026-05-09T07:35:25+0000"
    completed:
      description: When the job ended; absent while pending.
      type: str
      sample: "2026-05-09T07:35:27+0000"
    result:
      description: The job's result (C(jobresult)), for example the VM after a scale.
      type: dict
      returned: when the job succeeded
      sample: {virtualmachine: {name: web-01, cpunumber: 2, memory: 2048}}
    error:
      description: The job's C(errorcode) and C(errortext).
      type: dict
      returned: when the job failed or was cancelled
      sample: {errorcode: 530, errortext: "Unable to scale the VM: not enough capacity on host kvm-a1-01"}
counts:
  description: How many jobs have each status.
  returned: always
  type: dict
  sample: {pending: 0, succeeded: 2, failed: 0, cancelled: 0}
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 6}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._jobs import JOBS_OPTION_SPEC, job_info
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule


def main():
    module = CloudStackModule(argument_spec=JOBS_OPTION_SPEC, supports_check_mode=True)
    module.run(job_info)


if __name__ == "__main__":
    main()

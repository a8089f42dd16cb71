#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vm_autoscale
short_description: Scale CloudStack VMs vertically from their own usage metrics, with guardrails
version_added: 0.2.0
description:
  - One pass of a closed loop for one VM or a fleet. It reads each VM's usage from CloudStack
    (C(listVirtualMachinesUsageHistory), 4.17+; C(listVirtualMachinesMetrics) when the history is not available) or
    from Prometheus, decides with a threshold rule or a percentile recommender, and scales up live through the same
    planner and jobs as M(livescale.cloudstack.vm_scale).
  - Returns per VM the decision, the evidence (window, samples, the rule that fired or the percentile) and every
    reason for not acting (not enough history, cooldown, daily cap, bounds, fleet cap, circuit breaker, readiness
    blockers of the planner).
  - The past scale actions are read from CloudStack's events (C(VM.UPGRADE)), so the module keeps
    no state and is safe to run every minute (from an AWX schedule, a systemd timer or an EDA rulebook).
  - Scale-down is never live. It is a recommendation (V(recommend)), applied only inside O(maintenance_windows) with
    O(allow_restart).
  - CPU figures are CloudStack's C(cpuused), the per cent of all the VM's vCPUs, so they fall when vCPUs are added.
    Samples taken before a VM's last scale are not used. Memory rules need real memory figures, from balloon statistics
    (C(vm.memballoon.stats.period) in the KVM agent, which the P(livescale.cloudstack.kvm_host#role) role sets); without
    them C(memoryintfreekbs) is -1 and there is no memory rule.
  - In check mode nothing is changed; the result shows what would be done, with the planner's plan.
author:
  - livescale.cloudstack maintainers (@livescale)
extends_documentation_fragment:
  - livescale.cloudstack.cloudstack
  - livescale.cloudstack.vm_owner
  - livescale.cloudstack.attributes
  - livescale.cloudstack.attributes.actiongroup
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - A repeat acts only when the metrics still call for it; the cooldown keeps it from acting again at once.
options:
  vm:
    description: Names or ids of the VMs. Without it, every VM matching O(name), O(tags) and the owner options.
    type: list
    elements: str
    aliases: [vms]
    default: []
  name:
    description: Only VMs whose name contains this (case-insensitive).
    type: str
  tags:
    description: Only VMs with all these resource tags (key/value).
    type: dict
    default: {}
  mode:
    description:
      - V(threshold) scales up one step when CPU is above O(cpu_up) for O(cpu_up_for) minutes, and recommends one
        step down when it is below O(cpu_down) for O(cpu_down_for) minutes.
      - V(recommender) scales up on the same trigger, straight to the size that runs the window's peak with O(margin)
        at O(target_utilization) (doubling when saturated), and sizes down to the O(percentile) of demand over
        O(window) plus O(margin), once the history covers O(min_confidence) of the window.
    type: str
    choices: [threshold, recommender]
    default: threshold
  cpu_up:
    description: CPU per cent above which the VM scales up.
    type: float
    default: 80
  cpu_up_for:
    description: Minutes CPU must stay above O(cpu_up); fractions work with a short C(vm.stats.interval).
    type: float
    default: 5
  cpu_down:
    description:
      - CPU per cent below which a scale-down is considered (mode V(threshold)); below O(cpu_up) - O(hysteresis).
      - The scale-down goes straight to the smallest size keeping the down window's peak below O(cpu_up) -
        O(hysteresis).
    type: float
    default: 30
  cpu_down_for:
    description: Minutes CPU must stay below O(cpu_down) (fractions allowed).
    type: float
    default: 60
  statistic:
    description: V(min) needs every sample of the duration beyond the threshold; V(mean) their mean.
    type: str
    choices: [min, mean]
    default: min
  memory_up:
    description: Memory used per cent above which the VM gets O(step_memory) more (only with real memory figures).
    type: float
  memory_up_for:
    description: Minutes memory must stay above O(memory_up) (fractions allowed).
    type: float
    default: 5
  step_cpu:
    description:
      - The smallest step up on a custom offering. A scale-up goes to the size that runs the rule's demand (its mean
        plus O(margin), never above its peak) at O(target_utilization), at least this many vCPUs more.
    type: int
    default: 1
  step_memory:
    description: MiB added per memory step on a custom offering.
    type: int
    default: 1024
  ladder:
    description: Fixed offerings, smallest first; a step is the next one. Without it the VM must have a custom offering.
    type: list
    elements: str
    default: []
  min_cpu:
    description: Fewest vCPUs the loop may give.
    type: int
    default: 1
  max_cpu:
    description: Most vCPUs the loop may give (the offering's own bounds apply too).
    type: int
  min_memory:
    description: Least memory (MiB) the loop may give.
    type: int
    default: 0
  max_memory:
    description: Most memory (MiB) the loop may give.
    type: int
  window:
    description:
      - Minutes of history for the recommender. CloudStack keeps C(vm.stats.max.retention.time) minutes (720 by
        default); a longer window needs that setting raised.
    type: int
    default: 720
  percentile:
    description: Percentile of demand the recommender sizes for.
    type: float
    default: 95
  margin:
    description: Safety margin (a fraction) added to the recommender's percentile and to a scale-up's mean demand, never
      above its peak.
    type: float
    default: 0.15
  target_utilization:
    description: The CPU per cent a scale-up (and the recommended size) runs the demand at; at most O(cpu_up) -
      O(hysteresis).
    type: float
    default: 70
  saturated_growth:
    description:
      - In both modes, the factor a scale-up grows a VM by at least when its mean CPU over O(cpu_up_for) is 98 % or
        more, as its real demand is then hidden by its size.
    type: float
    default: 2.0
  half_life:
    description: Minutes in which a sample's weight halves in the recommender's percentile and in its confidence; V(0)
      for equal weights.
    type: int
    default: 1440
  min_confidence:
    description: Share of O(window) the history must cover before the recommender proposes a smaller size.
    type: float
    default: 0.75
  hysteresis:
    description: A smaller size must keep the peak of the evidence below O(cpu_up) minus this many points.
    type: float
    default: 10
  cooldown:
    description: Minutes after any scale of a VM (successful or not) before it is scaled again.
    type: int
    default: 15
  max_actions_per_day:
    description: Most scale actions per VM in 24 hours.
    type: int
    default: 6
  max_concurrent:
    description: Most scale actions of the fleet in one run (and jobs at once); the most urgent VMs go first.
    type: int
    default: 5
  breaker_failures:
    description:
      - The circuit breaker opens after this many failed scale actions in a row (CloudStack's C(ERROR) events of the
        fleet, and this run's); while open nothing is scaled. V(0) disables it.
    type: int
    default: 3
  maintenance_windows:
    description: Daily windows C(HH:MM-HH:MM) (UTC) in which a scale-down (a restart) may be applied.
    type: list
    elements: str
    default: []
  allow_restart:
    description: Allow scale-downs (stop, change, start) inside O(maintenance_windows); also restarts for a scale-up there.
    type: bool
    default: false
  allow_migration:
    description: Allow moving a VM to another host of its cluster when its host lacks the room for a scale-up.
    type: bool
    default: false
  metrics_source:
    description: Where the usage comes from.
    type: str
    choices: [cloudstack, prometheus]
    default: cloudstack
  prometheus_url:
    description: Base URL of a Prometheus server, for O(metrics_source=prometheus).
    type: str
  prometheus_query:
    description: A range query whose series give CPU per cent of each VM's vCPUs, labelled by O(prometheus_label).
    type: str
  prometheus_label:
    description: The label whose value is the VM's name, instance name or id.
    type: str
    default: instance
  reference_time:
    description: The time to judge at (C(2026-01-05T10:00:00+0000)); default now. For replays, and for a simulated clock.
    type: str
notes:
  - Only running VMs are measured and scaled.
  - History shorter than a rule's duration, stale samples (older than 3 intervals) or gaps give V(insufficient_data)
    and no action.
seealso:
  - module: livescale.cloudstack.vm_scale
  - module: livescale.cloudstack.vm_scaling_info
"""

EXAMPLES = r"""
- name: Scale the web tier up when CPU stays above 80 % for 5 minutes (dry run first)
  livescale.cloudstack.vm_autoscale:
    name: web-
    zone: zone-a
    max_cpu: 8
  check_mode: true
  register: autoscale

- name: Show what would be done and why
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.action }} - {{ item.reasons | join('; ') }}"
  loop: "{{ autoscale.vms }}"
  loop_control:
    label: "{{ item.name }}"

- name: Right-size db-01 and db-02 with the recommender; scale down only at night, with a restart
  livescale.cloudstack.vm_autoscale:
    vm: [db-01, db-02]
    mode: recommender
    percentile: 95
    margin: 0.15
    maintenance_windows: ["02:00-04:00"]
    allow_restart: true

- name: Walk a ladder of fixed offerings for VMs tagged autoscale=true
  livescale.cloudstack.vm_autoscale:
    tags: {autoscale: "true"}
    ladder: [Small, Medium, Large]
    cooldown: 30
    max_concurrent: 2
"""

RETURN = r"""
vms:
  description: One entry per VM.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: VM id.
      type: str
    name:
      description: VM name.
      type: str
    action:
      description: >-
        V(none), V(scale_up), V(scale_down), V(recommend) (a change advised, not applied), V(hold) (wanted but a
        guardrail or the planner stops it) or V(insufficient_data).
      type: str
      sample: scale_up
    applied:
      description: Whether the scale was carried out in this run.
      type: bool
    current:
      description: vCPUs, memory (MiB) and offering (ladder only) before.
      type: dict
      sample: {cpu_number: 2, memory: 2048, service_offering: null}
    target:
      description: The size the decision asks for, or V(null).
      type: dict
      sample: {cpu_number: 3, memory: 2048, service_offering: null}
    evidence:
      description: The rule that fired or the recommendation, with window, samples and values.
      type: dict
      sample: {up: {metric: cpu, threshold: 80.0, duration: 300.0, samples: 6, statistic: min, value: 91.5, peak: 97.0}}
    reasons:
      description: Why it acts or not, in order.
      type: list
      elements: str
      sample: ["CPU min 91.5 % > 80.0 % for 300 s: scale up to 3 vCPUs, 2048 MiB"]
    metrics:
      description: Where the samples came from, how many, first and last, and what the reader noticed.
      type: dict
    plan:
      description: The planner's plan (as in M(livescale.cloudstack.vm_scale)) for an action, else V(null).
      type: dict
    error:
      description: The failure of the scale, else V(null).
      type: str
    summary:
      description: The VM in one line, the scale as M(livescale.cloudstack.vm_scale) words it, or the decision and
        its first reason.
      type: str
      sample: "web-01: Custom 2 vCPU/2048 MiB \u2192 Custom 3 vCPU/2048 MiB, live on kvm-a1-01"
counts:
  description: How many VMs got each action, how many were applied and how many failed.
  returned: always
  type: dict
  sample: {none: 3, scale_up: 1, scale_down: 0, recommend: 1, hold: 0, insufficient_data: 0, applied: 1, failed: 0}
summary:
  description: The run in one line, for people to read.
  returned: always
  type: str
  sample: "5 VMs: 3 none, 1 scale up, 1 recommend, 1 applied, 0 failed, 2.3 s"
breaker:
  description: Whether the circuit breaker is open, and the newest outcomes (true = success) of the fleet's scales.
  returned: always
  type: dict
  sample: {open: false, recent_outcomes: [true, true]}
reference_time:
  description: The time the run judged at.
  returned: always
  type: str
stats_interval:
  description: Seconds between CloudStack's samples (C(vm.stats.interval); 60 when it cannot be read).
  returned: always
  type: float
debug:
  description: Request statistics.
  returned: always
  type: dict
  sample: {api_calls: 9}
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils._autoscale import POLICY_SPEC, SELECT_SPEC, autoscale
from ansible_collections.livescale.cloudstack.plugins.module_utils._lookup import OWNER_SCOPE_SPEC
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule

ARGUMENT_SPEC = dict(OWNER_SCOPE_SPEC, **dict(SELECT_SPEC, **POLICY_SPEC))


def main():
    module = CloudStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(autoscale)


if __name__ == "__main__":
    main()

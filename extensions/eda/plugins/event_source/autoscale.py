# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Event source livescale.cloudstack.autoscale: polls CloudStack's VM metrics and emits one event per VM to scale.

Each poll runs vm_autoscale's decision in check mode (the same reads, policy, guardrails and planner) and puts
``{"autoscale": {"vm", "id", "action", "target", "evidence", "reasons", "plan"}}`` on the queue for every VM whose
decision is ``scale_up`` or ``scale_down`` (and, with ``emit_all``, for every VM). The rulebook acts on them, for
example by running ``livescale.cloudstack.vm_autoscale`` for that VM, which decides again before it scales.

Arguments:
  api_url, api_key, api_secret   CloudStack connection (default: CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY, CLOUDSTACK_SECRET)
  interval                       seconds between polls (default 60)
  once                           poll once, then end (default false)
  emit_all                       also emit the VMs that need nothing (default false)
  options                        vm_autoscale options (vm, name, tags, zone, mode, cpu_up, cooldown, max_cpu, ...)

Example:
  sources:
    - livescale.cloudstack.autoscale:
        interval: 60
        options: {name: web-, max_cpu: 8}
"""

import asyncio
import os
import sys


def _import_collection():
    """The collection's module_utils; the collection root is added to sys.path from this file's place."""
    try:
        from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale  # noqa: F401
    except ImportError:
        # <root>/ansible_collections/livescale/cloudstack/extensions/eda/plugins/event_source/autoscale.py
        sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 7)))
    from ansible_collections.livescale.cloudstack.plugins.module_utils import _api, _autoscale, _lookup
    return _api, _autoscale, _lookup


def _params(autoscale, lookup, options):
    """vm_autoscale's parameters: the spec's defaults, then the given options (unknown ones are refused)."""
    spec = dict(lookup.OWNER_SCOPE_SPEC, **dict(autoscale.SELECT_SPEC, **autoscale.POLICY_SPEC))
    unknown = sorted(set(options) - set(spec))
    if unknown:
        raise ValueError("unknown vm_autoscale options: %s" % ", ".join(unknown))
    params = dict((name, entry.get("default")) for name, entry in spec.items())
    params.update(api_timeout=10, wait_timeout=600)
    params.update(options)
    return params


def poll(args):
    """One pass of the decision in check mode; returns vm_autoscale's result."""
    api_module, autoscale, lookup = _import_collection()
    endpoint = args.get("api_url") or os.environ.get("CLOUDSTACK_ENDPOINT")
    key = args.get("api_key") or os.environ.get("CLOUDSTACK_KEY")
    secret = args.get("api_secret") or os.environ.get("CLOUDSTACK_SECRET")
    if not (endpoint and key and secret):
        raise ValueError("set api_url, api_key and api_secret (or CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY, CLOUDSTACK_SECRET)")
    api = api_module.CloudStackApi(endpoint, key, secret)
    return autoscale.Run(api, _params(autoscale, lookup, args.get("options") or {}), check_mode=True).run()


def events(result, emit_all=False):
    """The events of one poll."""
    for entry in result["vms"]:
        if emit_all or entry["action"] in ("scale_up", "scale_down"):
            yield {"autoscale": dict(vm=entry["name"], id=entry["id"], action=entry["action"], target=entry["target"],
                                     current=entry["current"], evidence=entry["evidence"], reasons=entry["reasons"],
                                     plan=entry["plan"], reference_time=result["reference_time"])}


async def main(queue, args):
    """Poll every ``interval`` seconds (or once) and put the events on the queue."""
    loop = asyncio.get_running_loop()
    while True:
        result = await loop.run_in_executor(None, poll, args)
        for event in events(result, args.get("emit_all", False)):
            await queue.put(event)
        if args.get("once"):
            return
        await asyncio.sleep(float(args.get("interval", 60)))


if __name__ == "__main__":
    class _Printer:
        async def put(self, event):
            print(event)

    asyncio.run(main(_Printer(), {"once": True, "emit_all": True}))

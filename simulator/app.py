"""The simulator application: state, settings, jobs and the per-request context."""

import time
from datetime import datetime, timezone

from simulator import versions, vmops
from simulator.errors import OPERATE_DENIED, denied
from simulator.jobs import Jobs
from simulator.metrics import CLOCK_META, Metrics, SimClock
from simulator.model import STARTUP_SETTINGS, visible_account_ids
from simulator.seed import load_seed
from simulator.settings import Settings
from simulator.store import Store


class Context:
    """What a command handler sees: the app, the caller and the command."""

    def __init__(self, app, caller, cmd):
        self.app = app
        self.store = app.store
        self.settings = app.settings
        self.caller = caller
        self.cmd = cmd
        self._visible = None

    @property
    def visible_accounts(self):
        """Ids of the accounts the caller may see."""
        if self._visible is None:
            self._visible = visible_account_ids(self.store, self.caller)
        return self._visible

    def check_access(self, obj):
        """PermissionDenied (531, DomainChecker's text) when the caller may not operate on an account-owned object."""
        self.check_account(obj["account_id"])
        return obj

    def check_account(self, account_id):
        """PermissionDenied (531) when the caller may not operate on the objects of that account."""
        if account_id not in self.visible_accounts:
            raise denied(OPERATE_DENIED)


class Simulator:
    """State plus behaviour; the HTTP server calls `registry` handlers with a Context."""

    def __init__(self, seed_path, db_path, job_delay=0.0, clock=time.time, version=None):
        """``clock`` is the real time source; ``self.clock`` the simulated one (seed ``clock``, simulator/metrics.py):
        every timestamp, reserved capacity and the VM stats follow it; job timings stay in real time.

        ``version`` (``4.22``, ``4.23``; simulator/versions.py) is the CloudStack version to run as; without it the
        seed's ``version`` when the database is new, else the one the database was created with, else [main]."""
        self.clock = SimClock(clock)
        self.store = Store(db_path)
        self.version_given = version is not None
        self.version = versions.version_named(version or self.store.meta("version"))
        if self.store.meta(CLOCK_META) is not None:
            self.clock.restore(self.store.meta(CLOCK_META))
        self.settings = Settings(self.store)
        self.jobs = Jobs(self, job_delay)
        if self.store.meta("seeded") is None:
            with self.store.transaction():
                load_seed(self, seed_path)
                self.store.set_meta("seeded", self.now())
                self.store.set_meta(CLOCK_META, self.clock.state())
        with self.store.transaction():
            self.store.set_meta("version", self.version.name)
        self.scale_retry = self.settings.integer("scale.retry")
        # read once, as the management server reads them in configure(); later updates need a restart
        self.startup_settings = {name: self.settings.integer(name) for name in STARTUP_SETTINGS}
        with self.store.lock:
            self.jobs.fail_interrupted()
            vmops.recover(self)
        self.metrics = Metrics(self, db_path)

    def now(self):
        """The current time in CloudStack's format, e.g. 2026-06-11T08:29:31+0000."""
        return datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def context(self, caller, cmd):
        """A per-request context; the VM stats runs due by now are taken first."""
        self.metrics.collect()
        return Context(self, caller, cmd)

    def agent_log(self, vm, answer, level="INFO"):
        """Record what a host agent answered about a VM, as management-server.log would show it (not an event:
        simulatorListAgentAnswers reads it)."""
        self.store.add("agentanswer", {"vm_uuid": vm["uuid"], "level": level, "answer": answer, "created": self.now()})

    def event(self, account, event_type, description, resource=None, level="INFO", state="Completed", **links):
        """Record an event (listEvents; ActionEventUtils.persistActionEvent) and return it. ``links``: the
        ``resource_type`` of the resource (an ApiCommandResourceType name), the ``user`` who caused it and the
        ``start_id`` of the event that started its action (0 for none; EventResponse parentid)."""
        user = links.get("user")
        return self.store.add("event", {
            "type": event_type, "level": level, "description": description, "account_id": account["id"],
            "domain_id": account["domain_id"], "user_id": user["id"] if user else None,
            "resource_uuid": resource["uuid"] if resource else None, "resource_type": links.get("resource_type"),
            "start_id": links.get("start_id", 0), "created": self.now(), "state": state})

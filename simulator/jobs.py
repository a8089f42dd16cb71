"""Async jobs: stored in SQLite (spec 1.5), run concurrently on a worker pool, one at a time per VM.

As AsyncJobManagerImpl runs them: API jobs go to a fixed pool of db.cloud.maxActive / 2 threads, and the
work of a VM goes through its VmWorkJobQueue (SyncQueueManager, queue size limit 1), so the jobs of one VM
run one after the other in submit order while jobs of different VMs overlap. A job body runs under the
store lock, but the time its operation takes (the seed's `timings`) passes with the lock released.
"""

import json
import queue
import threading
import time
from contextlib import contextmanager

from simulator.errors import ApiError

# AsyncJobManagerImpl.cleanupLeftOverJobs: stored as the result, a plain text that the API does not show
INTERRUPTED = "job cancelled because of management server restart or shutdown"
DB_CLOUD_MAX_ACTIVE = 250  # utils/conf/db.properties
API_POOL_SIZE = DB_CLOUD_MAX_ACTIVE // 2  # AsyncJobManagerImpl.configure: apiPoolSize = cloudMaxActive / 2
# seconds each operation takes on the host; small, so that tests stay fast yet see the transitional states
DEFAULT_TIMINGS = {"start": 0.2, "stop": 0.1, "reboot": 0.1, "migrate": 0.2, "scale": 0.1, "expunge": 0.05}


def check_timings(given):
    """The defaults updated with a seed's `timings` mapping; ValueError naming a bad entry."""
    if not isinstance(given, dict):
        raise ValueError(f"timings must map operations to seconds, e.g. {{start: 2, stop: 1}}, not {given!r}")
    timings = dict(DEFAULT_TIMINGS)
    for operation, seconds in given.items():
        if operation not in DEFAULT_TIMINGS:
            raise ValueError(f"unknown operation '{operation}' (known: {', '.join(DEFAULT_TIMINGS)})")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"{operation}: seconds must be a number >= 0, not {seconds!r}")
        timings[operation] = float(seconds)
    return timings


_CALL_CONTEXT = threading.local()  # what a worker thread's running job knows: its start event id


def start_event_id():
    """The start event id of the job this thread runs (CallContext.getStartEventId): its Scheduled event; 0 outside
    a job."""
    return getattr(_CALL_CONTEXT, "start_event_id", 0)


@contextmanager
def call_context(start_id):
    """ApiDispatcher.dispatch: ctx.setStartEventId(ctxStartEventId) for the job body."""
    _CALL_CONTEXT.start_event_id = start_id
    try:
        yield
    finally:
        _CALL_CONTEXT.start_event_id = 0


def failure(code, text):
    """ApiAsyncJobDispatcher.runJob's ExceptionResponse: its constructor's empty uuidList, no cserrorcode."""
    return {"uuidList": [], "errorcode": code, "errortext": text}


class ShutDown(Exception):
    """The store closed while a job waited: the job is dropped and stays in progress for the next start."""


class AsyncWork:
    """What an async handler returns: the work to run, the instance the job records (the command's
    getApiResourceType/getApiResourceId), the instance whose work queue it runs in (``queue_uuid``, the recorded one
    by default: a command may name no instance and still run as VM work), an optional created id and the command's
    ``event`` (simulator.events.CommandEvent: its Scheduled event is written when the job is queued)."""

    def __init__(self, run, instance_type="VirtualMachine", instance_uuid=None, created_id=None, queue_uuid=None,
                 event=None):
        self.run = run
        self.event = event
        self.instance_type = instance_type
        self.instance_uuid = instance_uuid
        self.created_id = created_id
        self.queue_uuid = queue_uuid or instance_uuid


class WorkerPool:
    """Executors.newFixedThreadPool: a new (daemon) thread per task until `size` run, later tasks queue FIFO."""

    def __init__(self, size, prefix):
        self.size = size
        self.prefix = prefix
        self.started = 0
        self._tasks = queue.SimpleQueue()
        self._lock = threading.Lock()

    def submit(self, task, *args):
        """Run task(*args) on a pool thread."""
        with self._lock:
            if self.started < self.size:
                self.started += 1
                threading.Thread(target=self._serve, name=f"{self.prefix}-{self.started}", daemon=True).start()
        self._tasks.put((task, args))

    def _serve(self):
        while True:
            task, args = self._tasks.get()
            task(*args)


class Jobs:
    """Creates job records and runs them; `delay` seconds pass before each job starts its work."""

    def __init__(self, app, delay=0.0, sleep=time.sleep):
        self.app = app
        self.delay = delay
        self.sleep = sleep
        self.timings = check_timings(json.loads(app.store.meta("timings", "{}")))
        self.pool = WorkerPool(API_POOL_SIZE, "API-Job-Executor")
        self.queues = {}  # instance uuid -> ids of its jobs in progress, in submit order (VmWorkJobQueue)
        self.pending = {}  # instance uuid -> uuid of the first of them (UserVmResponse jobid/jobstatus)
        self._turn = app.store.condition()

    def set_timings(self, given):
        """Validate and keep a seed's `timings` (stored, so a restart on the same db keeps them)."""
        self.timings = check_timings(given)
        self.app.store.set_meta("timings", json.dumps(self.timings, sort_keys=True))

    def elapse(self, operation):
        """Let an operation's time pass with the store lock released (readers and other VMs' jobs go on).

        The caller holds the lock, as a job body does; ShutDown when the store closed meanwhile.
        """
        if not self.app.store.pause(self.timings[operation]):
            raise ShutDown()

    def fail_interrupted(self):
        """Jobs left in progress by a previous process end as failed (530) with CloudStack's plain-text result."""
        store = self.app.store
        with store.lock:
            for job in store.find("job", status=0):
                self._finish(job, 2, 530, INTERRUPTED)

    def submit(self, ctx, work):
        """Store a job for `work`, queue it behind its instance's earlier jobs; returns the async envelope body."""
        caller = ctx.caller
        cmd = ctx.cmd
        prefix = "admin" if caller.is_root_admin or cmd.admin else "user"
        suffix = "ByAdmin" if caller.is_root_admin and not cmd.admin else ""
        job = self.app.store.add("job", {
            "account_id": caller.account["id"], "user_id": caller.user["id"], "command": cmd.name,
            "cmd": f"org.apache.cloudstack.api.command.{prefix}.{cmd.cmdclass}{suffix}",
            "status": 0, "procstatus": 0, "resultcode": 0, "resulttype": "object", "result": None,
            "instancetype": work.instance_type, "instanceid": work.instance_uuid,
            "created": self.app.now(), "completed": None,
            "start_event_id": work.event.schedule(self.app, caller)["id"] if work.event else 0,
        })
        if work.queue_uuid:
            self.queues.setdefault(work.queue_uuid, []).append(job["id"])
            self.pending.setdefault(work.queue_uuid, job["uuid"])
        self.pool.submit(self._work, job["id"], work)
        body = {"jobid": job["uuid"]}
        if work.created_id:
            body = {"id": work.created_id, "jobid": job["uuid"]}
        return body

    def _work(self, job_id, work):
        if self.delay:
            self.sleep(self.delay)
        store = self.app.store
        with store.lock:
            try:
                self._wait_turn(job_id, work.queue_uuid)
                job = store.get("job", job_id)
                if job is not None and job["status"] == 0:
                    with call_context(job["start_event_id"]):
                        self._run(job, work.run)
            except ShutDown:
                return
            finally:
                self._leave_queue(job_id, work.queue_uuid)

    def _wait_turn(self, job_id, instance):
        """Wait until the instance's earlier jobs have ended (SyncQueueManager, queue size limit 1)."""
        while not self.app.store.closed and self.queues.get(instance, [job_id])[0] != job_id:
            self._turn.wait()
        if self.app.store.closed:
            raise ShutDown()

    def _leave_queue(self, job_id, instance):
        line = self.queues.get(instance)
        if not line:
            return
        line.remove(job_id)
        if line:
            self.pending[instance] = self.app.store.get("job", line[0])["uuid"]
        else:
            del self.queues[instance], self.pending[instance]
        self._turn.notify_all()

    def _run(self, job, run):
        try:
            result = run()
        except ShutDown:
            raise
        except ApiError as err:
            code = err.job_code()
            self._finish(job, 2, code, failure(code, err.text))
        except Exception as err:  # pylint: disable=broad-except
            self._finish(job, 2, 530, failure(530, str(err) or type(err).__name__))
        else:
            self._finish(job, 1, 0, result)

    def _finish(self, job, status, code, result):
        job.update(status=status, resultcode=code, result=result, completed=self.app.now())
        self.app.store.save("job", job)

    def response(self, job):
        """The AsyncJobResponse fields of a job (queryAsyncJobResult / listAsyncJobs)."""
        store = self.app.store
        account = store.get("account", job["account_id"])
        domain = store.get("domain", account["domain_id"])
        user = store.get("user", job["user_id"])
        body = {"accountid": account["uuid"], "account": account["name"], "domainid": domain["uuid"],
                "domainpath": domain["path"], "userid": user["uuid"] if user else None, "cmd": job["cmd"],
                "jobstatus": job["status"], "jobprocstatus": job["procstatus"],
                "jobresultcode": job["resultcode"], "jobresulttype": job["resulttype"]}
        if isinstance(job["result"], dict):
            body["jobresult"] = job["result"]
        if job["instanceid"]:
            body.update(jobinstancetype=job["instancetype"], jobinstanceid=job["instanceid"])
        body.update(created=job["created"], completed=job["completed"], jobid=job["uuid"],
                    managementserverid="00000000-0000-4000-8000-000000000001",
                    managementservername="simulator")
        return {key: value for key, value in body.items() if value is not None}

"""Async jobs: submitted by async commands, run on worker threads, stored in SQLite (spec 1.5)."""

import threading
import time

from simulator.errors import ApiError

# AsyncJobManagerImpl.cleanupLeftOverJobs: stored as the result, a plain text that the API does not show
INTERRUPTED = "job cancelled because of management server restart or shutdown"


class AsyncWork:
    """What an async handler returns: the work to run, the instance it is about, and an optional created id."""

    def __init__(self, run, instance_type="VirtualMachine", instance_uuid=None, created_id=None):
        self.run = run
        self.instance_type = instance_type
        self.instance_uuid = instance_uuid
        self.created_id = created_id


class Jobs:
    """Creates job records and runs them; `delay` seconds pass before each job starts its work."""

    def __init__(self, app, delay=0.0, sleep=time.sleep):
        self.app = app
        self.delay = delay
        self.sleep = sleep
        self.pending = {}  # instance uuid -> uuid of its job in progress (UserVmResponse jobid/jobstatus)

    def fail_interrupted(self):
        """Jobs left in progress by a previous process end as failed (530) with CloudStack's plain-text result."""
        store = self.app.store
        with store.lock:
            for job in store.find("job", status=0):
                self._finish(job, 2, 530, INTERRUPTED)

    def submit(self, ctx, work):
        """Store a job for `work` and start it; returns the async envelope body."""
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
        })
        if work.instance_uuid:
            self.pending[work.instance_uuid] = job["uuid"]
        threading.Thread(target=self._work, args=(job["id"], work.run), daemon=True).start()
        body = {"jobid": job["uuid"]}
        if work.created_id:
            body = {"id": work.created_id, "jobid": job["uuid"]}
        return body

    def _work(self, job_id, run):
        if self.delay:
            self.sleep(self.delay)
        store = self.app.store
        with store.lock:
            job = store.get("job", job_id)
            if store.closed or job is None or job["status"] != 0:
                return
            try:
                result = run()
            except ApiError as err:
                code = err.job_code()
                self._finish(job, 2, code, {"errorcode": code, "errortext": err.text})
            except Exception as err:  # pylint: disable=broad-except
                self._finish(job, 2, 530, {"errorcode": 530, "errortext": str(err) or type(err).__name__})
            else:
                self._finish(job, 1, 0, result)

    def _finish(self, job, status, code, result):
        job.update(status=status, resultcode=code, result=result, completed=self.app.now())
        self.app.store.save("job", job)
        if self.pending.get(job["instanceid"]) == job["uuid"]:
            del self.pending[job["instanceid"]]

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

"""SimulatorProcess: run the simulator as a subprocess for tests, plus a small signed client."""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from simulator.signing import java_url_encode, signature

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = Path(__file__).resolve().parent / "seeds" / "default.yml"
READY = re.compile(r"simulator ready on (http://\S+)")
START_TIMEOUT = 30


class SimulatorProcess:
    """The simulator on a loopback port: start(), stop(), restart() (same db), url and the seed's keys."""

    admin_key, admin_secret = "ADMIN-KEY", "ADMIN-SECRET"
    domain_admin_key, domain_admin_secret = "DOMADMIN-KEY", "DOMADMIN-SECRET"
    user_key, user_secret = "ALICE-KEY", "ALICE-SECRET"

    def __init__(self, seed=DEFAULT_SEED, db="state.sqlite", port=0, job_delay=0.0, host="127.0.0.1", version=None):
        self.seed, self.db, self.port, self.job_delay, self.host = Path(seed), Path(db), port, job_delay, host
        self.version = version  # CloudStack version to run as (--version), None for the seed's or the default
        self.url = None
        self.process = None
        self.output = []

    def start(self):
        """Start and wait for the ready line; RuntimeError with the output if it does not come."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / ".build" / "collections"),
                                             env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        command = [sys.executable, "-m", "simulator", "--seed", str(self.seed), "--db", str(self.db),
                   "--host", self.host, "--port", str(self.port), "--job-delay", str(self.job_delay)]
        command += ["--version", str(self.version)] if self.version else []
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + START_TIMEOUT
        self.output = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            match = READY.search(line)
            if match:
                self.url = match.group(1)
                self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
                threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()
                return self
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process = None
        raise RuntimeError("simulator did not start:\n" + "".join(self.output))

    def _drain(self, stream):
        """Keep reading the output so a chatty simulator never blocks on a full pipe (last 200 lines kept)."""
        with stream:
            for line in stream:
                self.output = (self.output + [line])[-200:]

    def stop(self):
        """Terminate (SIGTERM) and wait; the db stays for a restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self):
        """Stop, then start again on the same port and database."""
        self.stop()
        return self.start()

    def client(self, key=None, secret=None):
        """A signed-request client for this simulator (root admin by default)."""
        return Client(self.url, key or self.admin_key, secret or self.admin_secret)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class InProcessSimulator:
    """The simulator served from a thread of this process, so tests can see its libvirt agents."""

    admin_key, admin_secret = SimulatorProcess.admin_key, SimulatorProcess.admin_secret
    user_key, user_secret = SimulatorProcess.user_key, SimulatorProcess.user_secret
    client = SimulatorProcess.client

    def __init__(self, seed=DEFAULT_SEED, db="state.sqlite", job_delay=0.0, version=None):
        self.seed, self.db, self.job_delay, self.version = Path(seed), Path(db), job_delay, version
        self.app = self.httpd = self.url = None

    def start(self):
        """Build the app (seeding a new db) and serve on a free loopback port."""
        from simulator.app import Simulator  # pylint: disable=import-outside-toplevel
        from simulator.server import SimulatorServer  # pylint: disable=import-outside-toplevel
        self.app = Simulator(self.seed, self.db, job_delay=self.job_delay, version=self.version)
        self.httpd = SimulatorServer(self.app, "127.0.0.1", 0)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d/client/api" % self.httpd.server_address[1]
        return self

    def stop(self):
        """Stop serving and stop the domains this app started (the agents outlive it in this process)."""
        from simulator import vmops  # pylint: disable=import-outside-toplevel
        from simulator.model import instances  # pylint: disable=import-outside-toplevel
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.app.store.lock:
            for vm in instances(self.app.store, state="Running"):
                vmops.stop_domain(self.app, vm)
            self.app.store.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Client:
    """Signs requests like CloudStack clients; call() returns (HTTP status, decoded JSON body)."""

    def __init__(self, url, key, secret):
        self.url, self.key, self.secret = url, key, secret

    def signed_query(self, command, version=3, expires_in=600, **params):
        """The signed parameters of one request (version 2: no expires)."""
        query = {"command": command, "response": "json", "apiKey": self.key}
        query.update({name: str(value) for name, value in params.items()})
        if version == 3:
            expires = datetime.now(timezone.utc) + timedelta(seconds=expires_in)
            query.update(signatureVersion="3", expires=expires.strftime("%Y-%m-%dT%H:%M:%S+0000"))
        query["signature"] = signature(query, self.secret)
        return query

    def call(self, command, method="GET", version=3, expires_in=600, **params):
        """(status, body) of a signed request."""
        query = self.signed_query(command, version, expires_in, **params)
        return self.send(query, method)

    def send(self, query, method="GET"):
        """(status, body) of a request with these exact parameters."""
        encoded = "&".join(f"{java_url_encode(k)}={java_url_encode(v)}" for k, v in query.items())
        if method == "GET":
            request = urllib.request.Request(f"{self.url}?{encoded}")
        else:
            request = urllib.request.Request(self.url, data=encoded.encode(), method="POST",
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            with err:
                return err.code, json.loads(err.read())

    def ok(self, command, **params):
        """The inner body of a successful call; AssertionError with the error otherwise."""
        status, body = self.call(command, **params)
        inner = next(iter(body.values()))
        if status != 200:
            raise AssertionError(f"{command} failed with {status}: {inner}")
        return inner

    def wait(self, jobid, timeout=30):
        """Poll queryAsyncJobResult until the job ends; returns the job response."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            job = self.ok("queryAsyncJobResult", jobid=jobid)
            if job["jobstatus"] != 0:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {jobid} still running after {timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def run(self, command, **params):
        """Submit an async command and wait for its job."""
        return self.wait(self.ok(command, **params)["jobid"])

"""Fixtures of the fault suite: a simulator behind a FaultProxy, and modules run in this process."""

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args

from simulator.testing import ROOT, SimulatorProcess
from tests.faults.proxy import FaultProxy

SCALE_COMMANDS = ("scaleVirtualMachine", "changeServiceForVirtualMachine")


def run_module(name, args):
    """Run livescale.cloudstack.<name> in this process; returns its result dict (``failed`` set on failure)."""
    module = importlib.import_module("ansible_collections.livescale.cloudstack.plugins.modules.%s" % name)
    output = io.StringIO()
    # AnsibleModule keeps warnings process-wide: an earlier in-process run (e.g. a unit test) must not leak into this one
    module_warnings._global_warnings.clear()  # pylint: disable=protected-access
    module_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    with patch_module_args(args), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        module.main()
    return json.loads(output.getvalue())


def run_module_process(name, args, tmp_path):
    """Run livescale.cloudstack.<name> as its own Python process (as Ansible does); returns a Popen.

    Two runs at once need two processes: a module reads its arguments and writes its result process-wide.
    """
    args_file = tmp_path / ("%s-%d.json" % (name, len(list(tmp_path.glob("%s-*.json" % name)))))
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / ".build" / "collections"), str(ROOT)]))
    return subprocess.Popen([sys.executable, "-m", "ansible_collections.livescale.cloudstack.plugins.modules.%s" % name,
                             str(args_file)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(process, timeout=60):
    """The result dict a module process printed."""
    out, err = process.communicate(timeout=timeout)
    assert out.strip(), err
    return json.loads(out)


class World:
    """A simulator (kept on one port and database across kills) with a proxy in front of it."""

    def __init__(self, simulator, proxy):
        self.simulator, self.proxy = simulator, proxy
        self.client = simulator.client()

    def connection(self, through_proxy=True, **extra):
        url = self.proxy.url if through_proxy else self.simulator.url
        return dict(api_url=url, api_key=self.simulator.admin_key, api_secret=self.simulator.admin_secret, **extra)

    def run(self, module_name, /, **args):
        return run_module(module_name, dict(self.connection(), **args))

    def vm(self, name):
        [vm] = [vm for vm in self.client.ok("listVirtualMachines", listall="true", name=name)["virtualmachine"] if vm["name"] == name]
        return vm

    def jobs(self, vm, commands=SCALE_COMMANDS):
        """The jobs the simulator ran on a VM whose command class is one of ``commands`` (counted at the simulator)."""
        classes = tuple(command.replace("VirtualMachine", "VM").lower() for command in commands) + ("upgradevm",)
        listed = self.client.ok("listAsyncJobs", listall="true").get("asyncjobs", [])
        return [job for job in listed if job.get("jobinstanceid") == vm["id"]
                and job["cmd"].rsplit(".", 1)[-1].lower().replace("cmdbyadmin", "").replace("cmd", "") in classes]

    def requests(self, command):
        """How many requests of ``command`` the simulator served since it (re)started (GET /simulator/requests)."""
        url = self.simulator.url.replace("/client/api", "/simulator/requests")
        with urllib.request.urlopen(url, timeout=10) as answer:
            counts = json.loads(answer.read())["requests"]
        return sum(item["count"] for item in counts if item["command"] == command)

    def kill(self):
        """SIGKILL the simulator: no clean shutdown, jobs left in progress."""
        self.simulator.process.kill()
        self.simulator.process.wait()
        self.simulator.process = None

    def start(self):
        self.simulator.start()


def world_of(tmp_path, job_delay=0.0):
    simulator = SimulatorProcess(db=tmp_path / "state.sqlite", job_delay=job_delay).start()
    return World(simulator, FaultProxy(simulator.url))


@pytest.fixture
def world(tmp_path):
    world = world_of(tmp_path)
    yield world
    world.proxy.close()
    world.simulator.stop()


@pytest.fixture
def slow_world(tmp_path):
    """Jobs wait 1.5 s before they run: time to kill the simulator, or to time out, while one is pending."""
    world = world_of(tmp_path, job_delay=1.5)
    yield world
    world.proxy.close()
    world.simulator.stop()

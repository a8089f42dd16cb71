"""Real-stack harness shared by the end-to-end tests and the benchmark.

libvirtd started by tools/libvirtd.sh, a cached guest of tools/build_guest_image, the standalone
simulator (``python -m simulator``) whose seed gives the qemu:///system host ``guest_image: {variant: ...}``
so every VM boots that guest, VMs deployed through the API, livescale.cloudstack.vm_scale run by
ansible-playbook, and the guest watched through qemu-guest-agent on a libvirt connection of our own.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = Path(__file__).resolve().parent / "seed.yml"
SCALE_PLAYBOOK = Path(__file__).resolve().parent / "scale.yml"
URI = "qemu:///system"
ZONE, TEMPLATE, SMALL, LARGE = "e2e-zone", "livescale-minimal-guest", "e2e-small", "e2e-large"
COMMANDS = ("virsh", "libvirtd", "virtlogd", "qemu-system-x86_64", "apt-get", "dpkg", "cpio", "gzip", "ldd")
WORKDIR_MARK = "livescale-e2e"
PING_PERIOD = 0.1
BOOT_TIMEOUT = 90
GUEST_TIMEOUT = 30


def missing_prerequisites():
    """What this machine lacks for the real stack (none of it is /dev/kvm: guests run under TCG)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (libvirtd, qemu:///system and the image builder need it)")
    missing += ["command %s (run scripts/setup.sh)" % name for name in COMMANDS if shutil.which(name) is None]
    if not Path("/bin/busybox").exists():
        missing.append("/bin/busybox (Debian package busybox-static; run scripts/setup.sh)")
    if importlib.util.find_spec("libvirt") is None:
        missing.append("Python module libvirt (libvirt-python in requirements; run scripts/setup.sh)")
    if not (REPO_ROOT / "plugins" / "modules" / "vm_scale.py").exists():
        missing.append("the module plugins/modules/vm_scale.py")
    return missing


def require_real_stack(*missing):
    """Skip the calling test when the machine lacks a prerequisite (of missing_prerequisites, or ``missing``); with
    LIVESCALE_E2E set (CI) fail it instead."""
    import pytest  # pylint: disable=import-outside-toplevel
    missing = missing_prerequisites() + list(missing)
    if missing:
        message = "real-stack prerequisites missing: " + "; ".join(missing)
        if os.environ.get("LIVESCALE_E2E"):
            pytest.fail(message + " (LIVESCALE_E2E is set, so this fails instead of skipping)")
        pytest.skip(message)


def start_libvirtd():
    """tools/libvirtd.sh start (idempotent); CalledProcessError with its output on failure."""
    subprocess.run([str(REPO_ROOT / "tools" / "libvirtd.sh"), "start"], check=True, capture_output=True, text=True)


def build_guest(variant="minimal"):
    """The manifest of the cached guest (built on first use); RuntimeError with the builder's message."""
    result = subprocess.run([str(REPO_ROOT / "tools" / "build_guest_image"), "--variant", variant],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError("tools/build_guest_image failed: %s" % result.stderr.strip())
    return json.loads(result.stdout)


def wait_for(predicate, timeout, what, period=0.1):
    """Poll predicate until it returns a true value (returned) or timeout seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s: not reached within %s s" % (what, timeout))
        time.sleep(period)


class Guest:
    """A domain seen through its own libvirt connection and its guest agent."""

    def __init__(self, name):
        import libvirt  # pylint: disable=import-outside-toplevel
        import libvirt_qemu  # pylint: disable=import-outside-toplevel
        self.libvirt, self.libvirt_qemu = libvirt, libvirt_qemu
        self.name = name
        self.conn = libvirt.open(URI)

    def close(self):
        """Close the connection."""
        self.conn.close()

    def agent(self, command, timeout=2, **arguments):
        """The 'return' of a guest agent command; libvirt.libvirtError when the agent does not answer."""
        domain = self.conn.lookupByName(self.name)
        request = dict({"execute": command}, **({"arguments": arguments} if arguments else {}))
        return json.loads(self.libvirt_qemu.qemuAgentCommand(domain, json.dumps(request), timeout, 0))["return"]

    def spawn(self, script):
        """Start ``sh -c script`` in the guest (guest-exec, output discarded); returns its pid there."""
        return self.agent("guest-exec", path="/bin/sh", arg=["-c", script])["pid"]

    def answers(self):
        """True when the guest agent answers a ping."""
        try:
            self.agent("guest-ping", timeout=1)
        except self.libvirt.libvirtError:
            return False
        return True

    def online_vcpus(self):
        """vCPUs the guest reports online."""
        return sum(1 for cpu in self.agent("guest-get-vcpus") if cpu["online"])

    def online_memory_mib(self):
        """Memory the guest reports online, in MiB (online blocks x block size)."""
        size = self.agent("guest-get-memory-block-info")["size"]
        return sum(1 for block in self.agent("guest-get-memory-blocks") if block["online"]) * size // (1024 * 1024)

    def sees(self, vcpus, memory_mib):
        """True when the guest has exactly these vCPUs and this much memory online."""
        try:
            return self.online_vcpus() == vcpus and self.online_memory_mib() == memory_mib
        except self.libvirt.libvirtError:
            return False

    def live_xml(self):
        """vCPUs (current, max), DIMM sizes in MiB and <memory> in MiB from the live domain XML."""
        root = ET.fromstring(self.conn.lookupByName(self.name).XMLDesc(0))
        vcpu = root.find("vcpu")
        dimms = [int(node.find("target/size").text) // 1024 for node in root.findall("devices/memory[@model='dimm']")]
        max_memory = root.find("maxMemory")
        return {"vcpus": int(vcpu.get("current", vcpu.text)), "max_vcpus": int(vcpu.text), "dimms_mib": dimms,
                "memory_mib": int(root.find("memory").text) // 1024,
                "max_memory_mib": int(max_memory.text) // 1024 if max_memory is not None else None}


class Pinger(threading.Thread):
    """guest-ping at 10 Hz on its own connection, to measure the longest time the guest did not answer."""

    def __init__(self, name):
        super().__init__(daemon=True)
        self.guest = Guest(name)
        self.answered = []
        self.began = None
        self.stopping = threading.Event()

    def run(self):
        self.began = time.monotonic()
        while not self.stopping.is_set():
            started = time.monotonic()
            if self.guest.answers():
                self.answered.append(time.monotonic())
            self.stopping.wait(max(0.0, PING_PERIOD - (time.monotonic() - started)))

    def finish(self):
        """Stop; returns (longest gap in seconds between start, answers and stop, number of answers)."""
        self.stopping.set()
        self.join()
        self.guest.close()
        points = [self.began] + self.answered + [time.monotonic()]
        return max(later - earlier for earlier, later in zip(points, points[1:])), len(self.answered)


def destroy_leftovers():
    """Destroy domains a stopped simulator or a killed run left behind (console log in a workdir marked livescale-e2e).

    Their names would clash with the new simulator's instance names; runs on one machine are therefore sequential.
    """
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(URI)
    try:
        for domain in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            logs = [node.get("path", "") for node in ET.fromstring(domain.XMLDesc(0)).findall("devices/serial/source")]
            if any(WORKDIR_MARK in path for path in logs):
                domain.destroy()
    finally:
        conn.close()


def write_seed(workdir, variant, extra=None):
    """tests/e2e/seed.yml with the host booting the cached guest ``variant`` and the entries of ``extra`` (seed
    section -> list, e.g. settings or service_offerings) added; per-VM files go to workdir."""
    seed = yaml.safe_load(SEED.read_text())
    host = seed["zones"][0]["pods"][0]["clusters"][0]["hosts"][0]
    host["guest_image"] = {"variant": variant, "workdir": str(workdir)}
    for section, entries in (extra or {}).items():
        seed[section] = list(seed.get(section) or []) + list(entries)
    path = Path(workdir) / "seed.yml"
    path.write_text(yaml.safe_dump(seed))
    return path


class Stack:
    """libvirtd + cached guest + standalone simulator seeded with tests/e2e/seed.yml (plus ``extra``, see
    write_seed) and the guest variant.

    The workdir's path must contain livescale-e2e (see destroy_leftovers); the guest's files (console logs,
    disk overlays) go there, so QEMU (user libvirt-qemu) must be able to reach it when the guest has a disk.
    """

    def __init__(self, workdir, variant="minimal", extra=None):
        self.workdir = Path(workdir)
        if WORKDIR_MARK not in str(self.workdir):
            raise ValueError("workdir %s must contain %s in its path" % (workdir, WORKDIR_MARK))
        self.variant, self.extra = variant, extra
        self.simulator = self.client = self.manifest = None
        self.ids = {}

    def start(self):
        """Bring everything up; returns self."""
        sys.path.insert(0, str(REPO_ROOT))
        from simulator.testing import SimulatorProcess  # pylint: disable=import-outside-toplevel
        start_libvirtd()
        destroy_leftovers()
        self.manifest = build_guest(self.variant)  # builds a missing image here, not inside the simulator's start
        self.simulator = SimulatorProcess(seed=write_seed(self.workdir, self.variant, self.extra),
                                          db=self.workdir / "state.sqlite")
        self.simulator.start()
        self.client = self.simulator.client()
        for kind, command, key, name in (("zone", "listZones", "zone", ZONE),
                                         ("template", "listTemplates", "template", TEMPLATE),
                                         (SMALL, "listServiceOfferings", "serviceoffering", SMALL),
                                         (LARGE, "listServiceOfferings", "serviceoffering", LARGE)):
            extra = {"templatefilter": "all"} if kind == "template" else {}
            rows = self.client.ok(command, name=name, **extra)[key]
            self.ids[kind] = next(row["id"] for row in rows if row["name"] == name)
        return self

    def stop(self):
        """Stop the VMs through the API (their domains and overlays go), then the simulator."""
        if self.simulator is None:
            return
        try:
            for vm in self.client.ok("listVirtualMachines", listall="true").get("virtualmachine", []):
                if vm["state"] == "Running":
                    self.client.run("stopVirtualMachine", id=vm["id"], forced="true")
        finally:
            self.simulator.stop()
            destroy_leftovers()

    def deploy(self, name, offering=SMALL):
        """Deploy and start a VM; returns the listVirtualMachines row."""
        job = self.client.run("deployVirtualMachine", name=name, zoneid=self.ids["zone"], templateid=self.ids["template"],
                              serviceofferingid=self.ids[offering])
        if job["jobstatus"] != 1:
            raise AssertionError("deploy %s failed: %s" % (name, job.get("jobresult")))
        return self.vm(name)

    def vm(self, name):
        """The listVirtualMachines row of a VM."""
        return next(row for row in self.client.ok("listVirtualMachines", name=name, listall="true")["virtualmachine"]
                    if row["name"] == name)

    def console_tail(self, lines=15):
        """The end of the newest guest console log (the agent writes <instance name>.console.log), for failure messages."""
        logs = sorted(self.workdir.glob("*.console.log"), key=lambda path: path.stat().st_mtime)
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:]) if logs else "(no console log)"

    def vm_scale(self, vm, offering, allow_restart=False):
        """Run livescale.cloudstack.vm_scale through ansible-playbook; returns the module result."""
        return self.run_playbook(SCALE_PLAYBOOK, {
            "api_url": self.simulator.url, "api_key": self.simulator.admin_key,
            "api_secret": self.simulator.admin_secret, "vm": vm, "service_offering": offering,
            "allow_restart": allow_restart})

    def run_playbook(self, playbook, extra):
        """Run a playbook with the collection, the extra vars and ``result_file``; returns the JSON written there."""
        result_file = self.workdir / "playbook-result.json"
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                              str(playbook), "-e", json.dumps(dict(extra, result_file=str(result_file)))], env=env,
                             cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        if run.returncode != 0 or not result_file.exists():
            raise AssertionError("ansible-playbook failed:\n%s\n%s" % (run.stdout[-3000:], run.stderr[-3000:]))
        result = json.loads(result_file.read_text())
        result_file.unlink()
        return result

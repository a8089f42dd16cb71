"""Seed field guest_image: validation at load, the host's agent, and the per-VM disk overlay (no QEMU needed)."""

import hashlib
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from simulator import agent as host_agent
from simulator import seed as seed_module
from simulator.app import Simulator
from simulator.seed import SeedError
from simulator.testing import InProcessSimulator

from .conftest import DEFAULT, build_seed

CMDLINE = "console=ttyS0 memhp_default_state=online"


@pytest.fixture(name="guest")
def guest_fixture(tmp_path):
    """A fake guest: kernel, initrd and a raw disk with content."""
    files = tmp_path / "guest"
    files.mkdir()
    (files / "vmlinuz").write_bytes(b"kernel")
    (files / "initrd.img").write_bytes(b"initrd")
    (files / "disk.img").write_bytes(b"root filesystem" * 4096)
    return files


def host(name, uri, image=None):
    """A seed host entry."""
    entry = {"name": name, "cores": 4, "cpu_mhz": 2000, "memory_mib": 8192, "uri": uri}
    if image is not None:
        entry["guest_image"] = image
    return entry


def seed_with_hosts(tmp_path, *hosts):
    """The default seed without VMs (user or system), on these hosts (uris kept as given)."""
    seed = json.loads(json.dumps(DEFAULT))
    seed["zones"][0]["pods"][0]["clusters"][0]["hosts"] = list(hosts)
    seed["vms"] = []
    seed["zones"][0].pop("system_vms", None)
    path = tmp_path / "seed.yml"
    path.write_text(yaml.safe_dump(seed))
    return path


def load(tmp_path, *hosts):
    """Load a seed with these hosts into a new database; returns the stored host records by name."""
    app = Simulator(seed_with_hosts(tmp_path, *hosts), tmp_path / "state.sqlite")
    try:
        return {record["name"]: record for record in app.store.all("host")}
    finally:
        app.store.close()


def load_error(tmp_path, *hosts):
    """The text of the SeedError that loading these hosts raises."""
    with pytest.raises(SeedError) as err:
        load(tmp_path, *hosts)
    return str(err.value)


def fake_builder(tmp_path, monkeypatch, stdout, exit_code=0, stderr=""):
    """Point the seed at a stand-in for tools/build_guest_image that prints stdout and its arguments to a file."""
    script = tmp_path / "fake_build_guest_image"
    script.write_text("#!/bin/sh\necho \"$@\" > %s/builder-args\nprintf '%%s' '%s'\nprintf '%%s' '%s' >&2\nexit %d\n"
                      % (tmp_path, stdout, stderr, exit_code))
    script.chmod(0o755)
    monkeypatch.setattr(seed_module, "GUEST_BUILDER", script)
    return tmp_path / "builder-args"


def test_explicit_paths_are_resolved_from_the_seed_directory_and_reach_the_agent(tmp_path, guest):
    uri = "qemu+tcp://192.0.2.10/system"
    image = {"kernel": "guest/vmlinuz", "initrd": str(guest / "initrd.img"), "cmdline": CMDLINE, "disk": "guest/disk.img",
             "workdir": "overlays"}
    record = load(tmp_path, host("kvm-q1", uri, image))["kvm-q1"]
    assert record["guest_image"] == {"kernel": str(guest / "vmlinuz"), "initrd": str(guest / "initrd.img"),
                                     "cmdline": CMDLINE, "disk": str(guest / "disk.img"),
                                     "workdir": str(tmp_path / "overlays")}
    agent = host_agent.agent_for(uri)
    assert agent.guest_image == (str(guest / "vmlinuz"), str(guest / "initrd.img"), CMDLINE, str(guest / "disk.img"), None)
    assert agent.workdir == str(tmp_path / "overlays")


def test_a_host_without_guest_image_keeps_an_agent_without_image(tmp_path):
    record = load(tmp_path, host("kvm-q2", "qemu+tcp://192.0.2.11/system"))["kvm-q2"]
    assert record["guest_image"] is None
    assert host_agent.agent_for("qemu+tcp://192.0.2.11/system").guest_image is None


@pytest.mark.parametrize("image, expected", [
    ({"kernel": "missing/vmlinuz", "initrd": "guest/initrd.img"},
     "host kvm-bad: guest_image: kernel {tmp}/missing/vmlinuz does not exist; build the guest with tools/build_guest_image"),
    ({"kernel": "guest/vmlinuz", "initrd": "guest/initrd.img", "disk": "/nonexistent/disk.img"},
     "host kvm-bad: guest_image: disk /nonexistent/disk.img does not exist; build the guest with tools/build_guest_image"),
    ({"kernel": "guest/vmlinuz"}, "host kvm-bad: guest_image: initrd missing; build the guest with tools/build_guest_image"),
    ({"cmdline": CMDLINE}, "host kvm-bad: guest_image: kernel and initrd missing;"),
    ({"kernel": "guest/vmlinuz", "initrd": "guest/initrd.img", "cmdline": ["console=ttyS0"]},
     "host kvm-bad: guest_image: cmdline must be a text such as \"console=ttyS0\", not ['console=ttyS0']"),
    ({"kernel": "guest/vmlinuz", "initrd": "guest/initrd.img", "kernal": "x"},
     "host kvm-bad: guest_image: unknown key kernal (allowed: variant, kernel, initrd, cmdline, disk, workdir)"),
    ({"variant": "minimal", "kernel": "guest/vmlinuz"},
     "host kvm-bad: guest_image: give either variant or kernel, not both"),
    ("minimal", "host kvm-bad: guest_image must be a mapping, e.g. {variant: minimal}"),
])
def test_bad_guest_image_stops_the_load_naming_the_host_and_the_fix(tmp_path, guest, image, expected):
    del guest
    message = load_error(tmp_path, host("kvm-bad", "qemu+tcp://192.0.2.12/system", image))
    assert message.startswith(expected.replace("{tmp}", str(tmp_path))), message
    if "does not exist" in expected or "missing" in expected:
        assert "or write guest_image: {variant: minimal}" in message


def test_hosts_sharing_a_uri_must_share_the_guest_image(tmp_path, guest):
    uri = "qemu+tcp://192.0.2.13/system"
    image = {"kernel": str(guest / "vmlinuz"), "initrd": str(guest / "initrd.img")}
    message = load_error(tmp_path, host("kvm-s1", uri, image), host("kvm-s2", uri, dict(image, cmdline=CMDLINE)))
    assert message == ("host kvm-s2: guest_image differs from the one of host kvm-s1, which has the same uri %s; hosts"
                       " on one URI share one agent: give both the same guest_image, or give them different URIs" % uri)
    assert host_agent.agent_for(uri).guest_image is None, "nothing registered from a seed that did not load"
    (tmp_path / "same").mkdir()
    shared = load(tmp_path / "same", host("kvm-s1", uri, image), host("kvm-s2", uri, image))
    assert shared["kvm-s1"]["guest_image"] == shared["kvm-s2"]["guest_image"]


def test_variant_takes_the_paths_printed_by_the_builder(tmp_path, guest, monkeypatch):
    manifest = {"variant": "python", "kernel": str(guest / "vmlinuz"), "initrd": str(guest / "initrd.img"),
                "cmdline": CMDLINE + " root=/dev/vda rw", "disk": str(guest / "disk.img"), "cached": True}
    args = fake_builder(tmp_path, monkeypatch, json.dumps(manifest))
    record = load(tmp_path, host("kvm-v1", "qemu+tcp://192.0.2.14/system", {"variant": "python"}))["kvm-v1"]
    assert args.read_text().split() == ["--variant", "python"]
    assert record["guest_image"] == {"kernel": manifest["kernel"], "initrd": manifest["initrd"],
                                     "cmdline": manifest["cmdline"], "disk": manifest["disk"], "workdir": None}


@pytest.mark.parametrize("stdout, exit_code, stderr, expected", [
    ("", 1, "build_guest_image: building a guest needs root",
     "host kvm-v2: guest_image: variant minimal: tools/build_guest_image failed: build_guest_image: building a guest"
     " needs root"),
    ("not json", 0, "", "host kvm-v2: guest_image: variant minimal: tools/build_guest_image printed no guest manifest"
     " (kernel, initrd, cmdline, disk): 'not json'"),
    ('{"kernel": "/nonexistent/vmlinuz", "initrd": "/nonexistent/initrd.img", "cmdline": "", "disk": null}', 0, "",
     "host kvm-v2: guest_image: kernel /nonexistent/vmlinuz does not exist; build the guest with tools/build_guest_image"),
])
def test_variant_failures_name_the_builder_and_its_message(tmp_path, monkeypatch, stdout, exit_code, stderr, expected):
    fake_builder(tmp_path, monkeypatch, stdout, exit_code, stderr)
    message = load_error(tmp_path, host("kvm-v2", "qemu+tcp://192.0.2.15/system", {"variant": "minimal"}))
    assert message.startswith(expected), message


def digest(path):
    """sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (Debian qemu-utils) not installed")
def test_each_vm_boots_its_own_overlay_created_at_start_and_removed_at_stop_and_destroy(tmp_path, guest):
    base_digest, base_mtime = digest(guest / "disk.img"), (guest / "disk.img").stat().st_mtime_ns
    image = {"kernel": str(guest / "vmlinuz"), "initrd": str(guest / "initrd.img"), "disk": str(guest / "disk.img"),
             "workdir": str(tmp_path / "overlays")}
    seed = build_seed(tmp_path, hosts=[host("kvm-a1-01", "", image), host("kvm-a1-02", "", image)])
    uris = {entry["name"]: entry["uri"] for entry in yaml.safe_load(seed.read_text())["zones"][0]["pods"][0]["clusters"][0]["hosts"]}
    sim = InProcessSimulator(seed, tmp_path / "state.sqlite").start()
    try:
        client = sim.client()
        vms = {vm["name"]: vm for vm in client.ok("listVirtualMachines", listall="true")["virtualmachine"]}
        overlays = {name: tmp_path / "overlays" / (vm["instancename"] + ".qcow2") for name, vm in vms.items()}
        for name, overlay in overlays.items():
            info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(overlay)], capture_output=True,
                                             text=True, check=True).stdout)
            assert (info["format"], info["backing-filename"], info["backing-filename-format"]) == \
                ("qcow2", str(guest / "disk.img"), "raw"), name
            domain = host_agent.agent_for(uris[vms[name]["hostname"]]).conn.lookupByName(vms[name]["instancename"])
            disk = ET.fromstring(domain.XMLDesc(0)).find("devices/disk")
            assert (disk.find("driver").get("type"), disk.find("source").get("file")) == ("qcow2", str(overlay))

        assert client.run("stopVirtualMachine", id=vms["web-01"]["id"])["jobstatus"] == 1
        assert not overlays["web-01"].exists() and overlays["db-01"].exists()
        assert client.run("startVirtualMachine", id=vms["web-01"]["id"])["jobstatus"] == 1
        assert overlays["web-01"].exists()
        assert client.run("destroyVirtualMachine", id=vms["db-01"]["id"], expunge="true")["jobstatus"] == 1
        assert not overlays["db-01"].exists() and overlays["web-01"].exists()
    finally:
        sim.stop()
    assert not overlays["web-01"].exists(), "stopping the simulator stops the domain and removes its overlay"
    assert (digest(guest / "disk.img"), (guest / "disk.img").stat().st_mtime_ns) == (base_digest, base_mtime)


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (Debian qemu-utils) not installed")
def test_after_a_restart_running_vms_boot_the_guest_image_stored_with_their_host(tmp_path, guest, monkeypatch):
    image = {"kernel": str(guest / "vmlinuz"), "initrd": str(guest / "initrd.img"), "disk": str(guest / "disk.img"),
             "workdir": str(tmp_path / "overlays")}
    seed = build_seed(tmp_path, hosts=[host("kvm-a1-01", "", image), host("kvm-a1-02", "", image)])
    db = tmp_path / "state.sqlite"
    InProcessSimulator(seed, db).start().stop()
    monkeypatch.setattr(host_agent, "_AGENTS", {})  # a new process: no agent remembers the image
    sim = InProcessSimulator(seed, db).start()
    try:
        vm = {vm["name"]: vm for vm in sim.client().ok("listVirtualMachines", listall="true")["virtualmachine"]}["web-01"]
        assert vm["state"] == "Running"
        assert (tmp_path / "overlays" / (vm["instancename"] + ".qcow2")).exists(), "the recovered domain boots the stored image"
    finally:
        sim.stop()

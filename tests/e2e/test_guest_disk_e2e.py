"""A VM of the standalone simulator boots the python guest's root disk through its own overlay, never writing the disk.

Same skip/fail rule as test_live_scale_e2e.py (LIVESCALE_E2E set: a missing prerequisite fails).
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.e2e.harness import BOOT_TIMEOUT, SMALL, Guest, Stack, WORKDIR_MARK, missing_prerequisites, wait_for

pytestmark = pytest.mark.e2e

VM = "e2e-disk-01"


@pytest.fixture(name="disk_stack")
def disk_stack_fixture():
    """The stack on the python guest (ext4 root disk); its workdir in /tmp, reachable by QEMU's user libvirt-qemu."""
    missing = missing_prerequisites() + ([] if shutil.which("qemu-img") else ["command qemu-img (run scripts/setup.sh)"])
    if missing:
        message = "real-stack prerequisites missing: " + "; ".join(missing)
        if os.environ.get("LIVESCALE_E2E"):
            pytest.fail(message + " (LIVESCALE_E2E is set, so this fails instead of skipping)")
        pytest.skip(message)
    workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_MARK + "-disk-"))
    workdir.chmod(0o755)
    running = Stack(workdir, variant="python")
    try:
        yield running.start()
    finally:
        running.stop()
        shutil.rmtree(workdir)


def test_vm_boots_the_seed_disk_through_an_overlay_removed_at_destroy(disk_stack):
    base = Path(disk_stack.manifest["disk"])
    before = (base.stat().st_size, base.stat().st_mtime_ns)
    vm = disk_stack.deploy(VM, SMALL)
    overlay = disk_stack.workdir / (vm["instancename"] + ".qcow2")
    guest = Guest(vm["instancename"])
    try:
        wait_for(guest.answers, BOOT_TIMEOUT, "guest agent of %s (on its root disk) answers" % VM)
        info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(overlay)], capture_output=True,
                                         text=True, check=True).stdout)
        assert (info["format"], info["backing-filename"]) == ("qcow2", str(base))
        assert guest.agent("guest-get-host-name")["host-name"] == "livescale-guest", "the guest runs from the root disk"
    finally:
        guest.close()
    assert disk_stack.client.run("destroyVirtualMachine", id=vm["id"], expunge="true")["jobstatus"] == 1
    assert not overlay.exists(), "destroy removes the VM's overlay"
    assert (base.stat().st_size, base.stat().st_mtime_ns) == before, "the seed's disk was written"

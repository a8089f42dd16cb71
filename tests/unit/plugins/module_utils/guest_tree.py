"""Build a guest's /proc, /sys, /boot, /etc and /usr files under a directory, for the guest hot-plug facts tests."""

import gzip
from pathlib import Path

RELEASE = "6.1.0-56-amd64"
CONFIG = "CONFIG_HOTPLUG_CPU=y\nCONFIG_MEMORY_HOTPLUG=y\n# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE is not set\nCONFIG_VIRTIO_BALLOON=m\n"
RULES = ('SUBSYSTEM=="cpu", ACTION=="add", TEST=="online", ATTR{online}=="0", ATTR{online}="1"\n'
         'SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", ATTR{state}="online"\n')
MODULES = "virtio_balloon 24576 0 - Live 0x0000000000000000\nvirtio_ring 49152 5 - Live 0x0000000000000000\n"


class GuestTree:
    """A ready guest by default; tests break one piece at a time with write()/remove()."""

    def __init__(self, root, cpus_present="0-3", cpus_online="0-3", blocks=6, block_state="online"):
        self.root = Path(root)
        self.write("proc/sys/kernel/osrelease", RELEASE + "\n")
        self.write("boot/config-" + RELEASE, CONFIG)
        self.write("proc/cmdline", "console=ttyS0 memhp_default_state=online root=/dev/vda rw\n")
        self.write("sys/devices/system/memory/auto_online_blocks", "online\n")
        self.write("proc/modules", MODULES)
        self.write("sys/module/virtio_balloon/refcnt", "0\n")
        self.write("lib/modules/%s/modules.builtin" % RELEASE, "kernel/drivers/char/mem.ko\n")
        self.write("usr/sbin/qemu-ga", "")
        self.write("proc/1/comm", "systemd\n")
        self.write("proc/412/comm", "qemu-ga\n")
        self.write("etc/udev/rules.d/80-livescale-hotplug.rules", RULES)
        self.write("sys/devices/system/cpu/present", cpus_present + "\n")
        self.write("sys/devices/system/cpu/online", cpus_online + "\n")
        self.write("sys/devices/system/memory/block_size_bytes", "8000000\n")
        for block in range(blocks):
            self.write("sys/devices/system/memory/memory%d/state" % block, block_state + "\n")

    def write(self, relative, text):
        """Create or replace a file below the root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def remove(self, relative):
        """Delete a file below the root."""
        (self.root / relative).unlink()

    def move_config_to_proc(self):
        """Keep the kernel config only as /proc/config.gz."""
        config = self.root / "boot" / ("config-" + RELEASE)
        with gzip.open(self.root / "proc" / "config.gz", "wt") as handle:
            handle.write(config.read_text())
        config.unlink()

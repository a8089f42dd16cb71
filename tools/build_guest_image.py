"""Build small Debian guests for the real-QEMU tests, from Debian packages only.

Variants:
  minimal  Debian kernel + an initramfs with busybox-static, qemu-ga and the
           virtio modules; its init onlines hot-added CPUs and memory.
  python   the same kernel and initramfs plus an ext4 root disk made with
           debootstrap (systemd, udev, qemu-guest-agent, python3); the
           initramfs mounts root=/dev/vda and switches to it.

The result lives in CACHE/<variant>/<key>/, where key hashes the package
versions and this builder, so a second run with the same versions is instant.
The disk image in the cache is pristine: boot a copy or a qcow2 overlay of it.
Prints one JSON object: kernel, initrd, disk, cmdline, versions, build time.

Usage: tools/build_guest_image [--variant minimal|python] [--cache-dir DIR] [--force]
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CACHE = "/var/cache/livescale/guest"
RELEASE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KERNEL_META_PACKAGE = "linux-image-amd64"
AGENT_PACKAGE = "qemu-guest-agent"
BUSYBOX_PACKAGE = "busybox-static"
BUSYBOX_PATH = "/bin/busybox"
# insmod order: every module after the ones it depends on.
VIRTIO_MODULES = ("virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
                  "virtio_console", "virtio_balloon")
ROOT_DISK_MODULES = ("virtio_blk", "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4")
PYTHON_PACKAGES = ("systemd-sysv", "qemu-guest-agent", "udev", "kmod", "python3", "python3-apt")
CMDLINE = "console=ttyS0 memhp_default_state=online"
ROOT_CMDLINE = CMDLINE + " root=/dev/vda rw"
DISK_HEADROOM_MIB = 256

INIT_SCRIPT = r"""#!/bin/sh
# livescale guest init: load virtio modules, then either switch to root= or
# run qemu-ga from the initramfs while onlining hot-added CPUs and memory.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module; do
  insmod "/lib/modules/$module.ko" || echo "livescale-init: insmod $module failed"
done < /etc/modules.order
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$root" ]; then
  tries=0
  while [ ! -b "$root" ] && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
  mkdir -p /newroot
  if mount -t ext4 -o rw "$root" /newroot; then
    mount --move /dev /newroot/dev
    umount /sys /proc
    exec switch_root /newroot /sbin/init
  fi
  echo "livescale-init: cannot mount $root; staying in the initramfs"
fi
mkdir -p /dev/virtio-ports /run /var/run /var/lib /tmp
for name_file in /sys/class/virtio-ports/*/name; do
  [ -f "$name_file" ] || continue
  port=$(basename "$(dirname "$name_file")")
  ln -sf "/dev/$port" "/dev/virtio-ports/$(cat "$name_file")"
done
/bin/online-hotplugged &
while :; do
  qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0
  echo "livescale-init: qemu-ga exited; restarting"
  sleep 1
done &
echo "livescale-init: guest ready"
while :; do sleep 3600; done
"""

ONLINE_SCRIPT = r"""#!/bin/sh
# Online every offline CPU and memory block, five times a second (no udev here).
while :; do
  for file in /sys/devices/system/cpu/cpu[0-9]*/online; do
    [ -f "$file" ] && read -r value < "$file" && [ "$value" = 0 ] && echo 1 > "$file"
  done
  for file in /sys/devices/system/memory/memory[0-9]*/state; do
    [ -f "$file" ] && read -r value < "$file" && [ "$value" = offline ] && echo online > "$file"
  done
  sleep 0.2
done
"""


class BuildError(Exception):
    """A build step failed; the message names the fix."""


def run(command, **kwargs):
    """Run a command and return its stdout; raise BuildError with its stderr on failure."""
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True, **kwargs)
    except FileNotFoundError as error:
        raise BuildError("%s is not installed; run scripts/setup.sh" % command[0]) from error
    if result.returncode != 0:
        raise BuildError("%s failed (exit %d): %s" % (" ".join(command), result.returncode, result.stderr.strip()[-2000:]))
    return result.stdout


def candidate_versions(packages):
    """The versions apt would install for packages (one apt-cache call)."""
    versions, current = {}, None
    for line in run(["apt-cache", "policy"] + list(packages)).splitlines():
        if not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
        elif line.strip().startswith("Candidate:") and current:
            value = line.split(":", 1)[1].strip()
            if value != "(none)":
                versions[current] = value
    missing = [package for package in packages if package not in versions]
    if missing:
        raise BuildError("apt knows no candidate for %s; run apt-get update" % ", ".join(missing))
    return versions


def kernel_package():
    """The versioned kernel package that linux-image-amd64 depends on."""
    for line in run(["apt-cache", "depends", KERNEL_META_PACKAGE]).splitlines():
        kind, separator, target = line.strip().partition(":")
        if separator and kind == "Depends" and target.strip().startswith("linux-image-"):
            return target.strip()
    raise BuildError("cannot find the kernel package behind %s; run apt-get update" % KERNEL_META_PACKAGE)


def installed_version(package):
    """The installed version of a Debian package on this machine."""
    try:
        return run(["dpkg-query", "-W", "-f=${Version}", package])
    except BuildError as error:
        raise BuildError("%s is not installed; run scripts/setup.sh (apt-get install %s)" % (package, package)) from error


def package_versions(variant):
    """Every version the image depends on, in a stable order."""
    kernel = kernel_package()
    wanted = [kernel, AGENT_PACKAGE] + (list(PYTHON_PACKAGES) if variant == "python" else [])
    versions = candidate_versions(wanted)
    versions[BUSYBOX_PACKAGE] = installed_version(BUSYBOX_PACKAGE)
    if variant == "python":
        versions["release"] = RELEASE
    return kernel, versions


def cache_key(variant, versions):
    """Hash of the variant, the versions and this builder's source."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(json.dumps([variant, versions], sort_keys=True).encode())
    return digest.hexdigest()[:16]


def download_and_extract(packages, workdir):
    """apt-get download + dpkg -x into workdir/root; returns that root."""
    downloads = workdir / "debs"
    downloads.mkdir()
    os.chmod(downloads, 0o777)  # lets apt's sandbox user write there
    run(["apt-get", "download", "-q"] + list(packages), cwd=downloads)
    root = workdir / "root"
    for deb in sorted(downloads.glob("*.deb")):
        run(["dpkg", "-x", str(deb), str(root)])
    return root


def copy_file(source, target):
    """Copy source (following links) to target, creating parents."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def library_paths(binary):
    """The shared libraries ldd lists for binary, including the loader."""
    paths = []
    for line in run(["ldd", str(binary)]).splitlines():
        line = line.strip()
        if "not found" in line:
            raise BuildError("qemu-ga needs %s, missing on this machine; install the Debian package that ships it" % line.split()[0])
        parts = line.split("=>")
        candidate = (parts[1] if len(parts) == 2 else parts[0]).split("(")[0].strip()
        if candidate.startswith("/"):
            paths.append(candidate)
    return paths


def module_files(extracted, kernel_release, names):
    """Map module name -> .ko path inside the extracted kernel package."""
    found = {path.name[:-3]: path for path in (extracted / "lib" / "modules" / kernel_release).rglob("*.ko")}
    missing = [name for name in names if name not in found]
    if missing:
        raise BuildError("kernel %s has no module %s" % (kernel_release, ", ".join(missing)))
    return {name: found[name] for name in names}


def write_text(path, text, mode=0o644):
    """Write text to path with the given mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def build_initramfs(extracted, kernel_release, modules, output):
    """Assemble the initramfs tree and pack it as gzip'ed newc cpio."""
    tree = output.parent / "initramfs"
    for directory in ("bin", "dev", "proc", "sys", "etc", "lib/modules", "newroot"):
        (tree / directory).mkdir(parents=True, exist_ok=True)
    copy_file(BUSYBOX_PATH, tree / "bin" / "busybox")
    (tree / "bin" / "sh").symlink_to("busybox")
    agent = extracted / "usr" / "sbin" / "qemu-ga"
    copy_file(agent, tree / "bin" / "qemu-ga")
    for library in library_paths(agent):
        copy_file(library, tree / library.lstrip("/"))
    for name, path in modules.items():
        copy_file(path, tree / "lib" / "modules" / (name + ".ko"))
    write_text(tree / "etc" / "modules.order", "".join(name + "\n" for name in modules))
    copy_file(extracted / "boot" / ("config-" + kernel_release), tree / "boot" / ("config-" + kernel_release))
    write_text(tree / "init", INIT_SCRIPT, 0o755)
    write_text(tree / "bin" / "online-hotplugged", ONLINE_SCRIPT, 0o755)
    listing = run(["find", ".", "-mindepth", "1"], cwd=tree)
    with open(output, "wb") as archive:
        cpio = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tree, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        gzip = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=archive)
        cpio.stdout.close()
        cpio.communicate(listing.encode())
        gzip.wait()
    if cpio.returncode or gzip.returncode:
        raise BuildError("packing the initramfs failed (cpio %s, gzip %s)" % (cpio.returncode, gzip.returncode))
    shutil.rmtree(tree)


def build_minimal(workdir, output, kernel, versions):
    """Kernel + initramfs into output; returns the kernel release."""
    extracted = download_and_extract([kernel + "=" + versions[kernel], AGENT_PACKAGE + "=" + versions[AGENT_PACKAGE]], workdir)
    kernel_release = kernel[len("linux-image-"):]
    copy_file(extracted / "boot" / ("vmlinuz-" + kernel_release), output / "vmlinuz")
    modules = module_files(extracted, kernel_release, VIRTIO_MODULES + ROOT_DISK_MODULES)
    build_initramfs(extracted, kernel_release, modules, output / "initrd.img")
    return extracted, kernel_release, modules


def build_root_disk(workdir, output, extracted, kernel_release, modules, mirror):
    """debootstrap a minbase root with python3 and pack it as an ext4 image (no loop mount)."""
    root = workdir / "rootfs"
    run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PYTHON_PACKAGES), RELEASE, str(root), mirror])
    module_root = root / "lib" / "modules" / kernel_release
    source_root = extracted / "lib" / "modules" / kernel_release
    for path in modules.values():
        copy_file(path, module_root / path.relative_to(source_root))
    for name in ("modules.builtin", "modules.order", "modules.builtin.modinfo"):
        copy_file(source_root / name, module_root / name)
    run(["chroot", str(root), "depmod", kernel_release])
    copy_file(extracted / "boot" / ("config-" + kernel_release), root / "boot" / ("config-" + kernel_release))
    write_text(root / "etc" / "fstab", "/dev/vda / ext4 defaults 0 1\n")
    write_text(root / "etc" / "hostname", "livescale-guest\n")
    run(["chroot", str(root), "passwd", "-d", "root"])
    for cache in (root / "var" / "cache" / "apt" / "archives", root / "var" / "lib" / "apt" / "lists"):
        for item in cache.glob("*"):
            if item.is_file():
                item.unlink()
    used_mib = int(run(["du", "-sm", str(root)]).split()[0])
    run(["mkfs.ext4", "-q", "-F", "-L", "livescale-root", "-d", str(root), str(output / "disk.img"),
         "%dM" % (used_mib + DISK_HEADROOM_MIB)])
    shutil.rmtree(root)


def build(variant, cache_dir, mirror=DEFAULT_MIRROR, force=False):
    """Build (or reuse) a guest; returns the manifest dict."""
    if os.geteuid() != 0:
        raise BuildError("building a guest needs root (dpkg -x ownership, debootstrap, chroot); run it with sudo")
    kernel, versions = package_versions(variant)
    variant_dir = Path(cache_dir) / variant
    variant_dir.mkdir(parents=True, exist_ok=True)
    final = variant_dir / cache_key(variant, versions)
    with open(variant_dir / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if force and final.exists():
            shutil.rmtree(final)
        if (final / "manifest.json").exists():
            manifest = json.loads((final / "manifest.json").read_text())
            manifest["cached"] = True
            return manifest
        started = time.monotonic()
        with tempfile.TemporaryDirectory(dir=variant_dir, prefix=".build-") as scratch:
            workdir = Path(scratch)
            output = workdir / "out"
            output.mkdir()
            extracted, kernel_release, modules = build_minimal(workdir, output, kernel, versions)
            manifest = {"variant": variant, "kernel_release": kernel_release, "versions": versions,
                        "cmdline": CMDLINE, "disk": None}
            if variant == "python":
                build_root_disk(workdir, output, extracted, kernel_release, modules, mirror)
                manifest.update(cmdline=ROOT_CMDLINE, disk=str(final / "disk.img"))
            manifest.update(kernel=str(final / "vmlinuz"), initrd=str(final / "initrd.img"),
                            build_seconds=round(time.monotonic() - started, 1))
            write_text(output / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            output.rename(final)
    manifest["cached"] = False
    return manifest


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variant", choices=("minimal", "python"), default="minimal")
    parser.add_argument("--cache-dir", default=os.environ.get("LIVESCALE_GUEST_CACHE") or DEFAULT_CACHE,
                        help="cache root (default $LIVESCALE_GUEST_CACHE or %s)" % DEFAULT_CACHE)
    parser.add_argument("--mirror", default=DEFAULT_MIRROR, help="Debian mirror for debootstrap (python variant)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache holds this key")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.variant, args.cache_dir, args.mirror, args.force)
    except BuildError as error:
        print("build_guest_image: %s" % error, file=sys.stderr)
        return 1
    print(json.dumps(manifest, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

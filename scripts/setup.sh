#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian 12 machine, run as root: Debian packages,
# a virtualenv with the Python requirements, and the offline shim ansible-test needs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LIVESCALE_VENV:-$ROOT/.venv}"
STAMP="$VENV/.setup-stamp"
LOWEST_CORE_VENV="$ROOT/.build/venv-core-lowest"

APT_PACKAGES=(
  git rsync pkg-config gcc libvirt-dev
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
  nftables iproute2 busybox-static cpio e2fsprogs debootstrap shellcheck
  openjdk-17-jre-headless  # the JVM of ansible-rulebook (Drools), for the EDA rulebook test
)

missing_apt_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debian_packages() {
  local missing
  missing="$(missing_apt_packages)"
  [ -z "$missing" ] && return 0
  echo "setup: installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

install_python_packages() {
  local want
  want="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    return 0
  fi
  echo "setup: creating virtualenv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements-dev.txt"
  echo "$want" > "$STAMP"
}

install_lowest_core_venv() {
  # A second virtualenv with the lowest ansible-core of requires_ansible (tests/lowest-ansible-core.txt),
  # for the sanity and smoke stages of scripts/test.sh.
  local want
  want="$(cat "$ROOT/requirements.txt" "$ROOT/tests/lowest-ansible-core.txt" | sha256sum | cut -d' ' -f1)"
  if [ -f "$LOWEST_CORE_VENV/.setup-stamp" ] && [ "$(cat "$LOWEST_CORE_VENV/.setup-stamp")" = "$want" ]; then
    return 0
  fi
  echo "setup: creating virtualenv $LOWEST_CORE_VENV"
  python3 -m venv "$LOWEST_CORE_VENV"
  "$LOWEST_CORE_VENV/bin/pip" install -q -r "$ROOT/tests/lowest-ansible-core.txt"
  echo "$want" > "$LOWEST_CORE_VENV/.setup-stamp"
}

install_ansible_test_pip_shim() {
  # ansible-test bootstraps pip from a URL that is not reachable offline; it first
  # looks for a cached get-pip script, which we provide: it installs the pip wheel
  # of the version ansible-test pins, taken from PyPI. $1: the virtualenv whose ansible-test it serves.
  local venv="$1" pip_version cache shim
  pip_version="$("$venv/bin/python" -c '
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
match = re.search(r"default_packages = dict\(\s*pip=.([0-9.]+)", source.read_text())
print(match.group(1) if match else "")')"
  [ -n "$pip_version" ] || { echo "setup: cannot find the pip version ansible-test pins" >&2; return 1; }
  cache="$HOME/.ansible/test/cache"
  shim="$cache/get_pip_${pip_version//./_}.py"
  [ -f "$shim" ] && return 0
  mkdir -p "$cache/pip-wheels"
  "$VENV/bin/pip" download -q --no-deps -d "$cache/pip-wheels" "pip==$pip_version"
  cat > "$shim" <<PY
"""Offline stand-in for get-pip.py: installs pip from the cached PyPI wheel.

Like get-pip.py, it passes its arguments to 'pip install' and adds setuptools
and wheel unless --no-setuptools / --no-wheel are given.
"""
import glob, os, runpy, sys
wheel = glob.glob(os.path.join("$cache/pip-wheels", "pip-$pip_version-*.whl"))[0]
sys.path.insert(0, wheel)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
extras = [name for name in ("setuptools", "wheel") if "--no-" + name not in sys.argv[1:]]
sys.argv = ["pip", "install"] + args + extras
runpy.run_module("pip", run_name="__main__")
PY
  echo "setup: ansible-test pip shim written to $shim"
}

link_collection() {
  # Ansible and pytest import the collection as ansible_collections.livescale.cloudstack.
  local dest="$ROOT/.build/collections/ansible_collections/livescale"
  mkdir -p "$dest"
  ln -sfn "$ROOT" "$dest/cloudstack"
}

install_debian_packages
install_python_packages
install_lowest_core_venv
install_ansible_test_pip_shim "$VENV"
install_ansible_test_pip_shim "$LOWEST_CORE_VENV"
link_collection

#!/usr/bin/env bash
# Runs the molecule scenarios of the roles (default driver, no Docker), as root:
# kvm_host inside network namespaces, guest in a real QEMU (TCG) VM.
# Usage: tests/molecule_support/run.sh [kvm_host|guest ...]   (default: both)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/environment.sh
source "$ROOT/scripts/environment.sh"

roles=("$@")
if [ "${#roles[@]}" -eq 0 ]; then
  for role in kvm_host guest; do
    [ -f "$ROOT/roles/$role/molecule/default/molecule.yml" ] && roles+=("$role")
  done
fi

for role in "${roles[@]}"; do
  start=$SECONDS
  (cd "$ROOT/roles/$role" && molecule test)
  echo "molecule_support: $role scenario passed in $((SECONDS - start)) s"
done

#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine, as root: set-up, static checks
# (ansible-test sanity, ansible-lint), molecule scenarios, then pytest (unit,
# simulator, integration, real-QEMU end-to-end).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck source=scripts/environment.sh
source scripts/environment.sh
export LIVESCALE_E2E="${LIVESCALE_E2E:-1}"

FAILED_STAGES=()

# Runs one stage; a failure is recorded and the next stage still runs, so one
# CI log shows every problem.
stage() {
  local name="$1"
  shift
  printf '\n==== %s ====\n' "$name"
  if ! "$@"; then
    FAILED_STAGES+=("$name")
  fi
}

sanity() {
  # ansible-test needs the collection at .../ansible_collections/<ns>/<name> as a git work tree.
  local dest="$ROOT/.build/sanity/ansible_collections/livescale/cloudstack"
  mkdir -p "$dest" &&
    rsync -a --delete --exclude .venv --exclude .build --exclude tests/output ./ "$dest/" &&
    (cd "$dest" && ansible-test sanity --venv --python 3.11 --color no)
}

stage "ansible-test sanity" sanity
stage "ansible-lint (profile production)" ansible-lint --profile production
if [ -x tests/molecule_support/run.sh ]; then
  stage "molecule scenarios" tests/molecule_support/run.sh
fi
stage "pytest: unit, simulator, integration, end-to-end" python -m pytest tests "$@"

if [ "${#FAILED_STAGES[@]}" -gt 0 ]; then
  printf '\nFAILED stages: %s\n' "${FAILED_STAGES[*]}"
  exit 1
fi

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
  # $1: the virtualenv whose ansible-test runs; $2: the directory of its copy under .build/.
  local venv="$1" dest="$ROOT/.build/$2/ansible_collections/livescale/cloudstack"
  mkdir -p "$dest" &&
    rsync -a --delete --exclude .venv --exclude .build --exclude tests/output ./ "$dest/" &&
    (cd "$dest" && "$venv/bin/ansible-test" sanity --venv --python 3.11 --color no)
}

# requires_ansible's range: the highest ansible-core (.venv) and the lowest (.build/venv-core-lowest).
LOWEST_CORE_VENV="$ROOT/.build/venv-core-lowest"
stage "ansible-test sanity (highest ansible-core)" sanity "$VIRTUAL_ENV" sanity
stage "ansible-test sanity (lowest ansible-core)" sanity "$LOWEST_CORE_VENV" sanity-lowest
stage "ansible-test units" python scripts/ansible_test.py units
stage "ansible-test integration" python scripts/ansible_test.py integration
# The targets just ran against CloudStack 4.23 with ansible-test; pytest then runs only their 4.22 runs.
if [[ ! " ${FAILED_STAGES[*]} " =~ " ansible-test integration " ]]; then
  export LIVESCALE_TARGETS_RAN_IN_ANSIBLE_TEST=1
fi
stage "smoke run (lowest ansible-core, lowest cs)" "$LOWEST_CORE_VENV/bin/python" scripts/ansible_test.py integration \
  vm_scaling_info vm_state
stage "docsite (antsibull-docs)" bash scripts/docsite.sh
stage "changelog (antsibull-changelog lint)" antsibull-changelog lint
stage "ansible-lint (profile production)" ansible-lint --profile production
if [ -x tests/molecule_support/run.sh ]; then
  stage "molecule scenarios" tests/molecule_support/run.sh
fi
stage "pytest: unit, simulator, integration, end-to-end" python -m pytest tests "$@"

if [ "${#FAILED_STAGES[@]}" -gt 0 ]; then
  printf '\nFAILED stages: %s\n' "${FAILED_STAGES[*]}"
  exit 1
fi

#!/usr/bin/env bash
# Sourced by the project's scripts after scripts/setup.sh: the virtualenv's tools,
# and Ansible pointed at this checkout of the collection and the venv's Python.
LIVESCALE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$LIVESCALE_ROOT/.venv/bin/activate"
export ANSIBLE_COLLECTIONS_PATH="$LIVESCALE_ROOT/.build/collections"
export ANSIBLE_PYTHON_INTERPRETER="$LIVESCALE_ROOT/.venv/bin/python"

#!/usr/bin/env bash
# The demo on a fresh Debian machine, as root: starts the CloudStack API simulator
# with the default seed and live-scales a running VM with the collection.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck source=scripts/environment.sh
source scripts/environment.sh

STATE="$(mktemp -d)"
PORT="${LIVESCALE_DEMO_PORT:-8080}"
python -m simulator --seed simulator/seeds/default.yml --db "$STATE/state.sqlite" --port "$PORT" > "$STATE/simulator.log" 2>&1 &
SIMULATOR_PID=$!
trap 'kill "$SIMULATOR_PID" 2>/dev/null; wait "$SIMULATOR_PID" 2>/dev/null; rm -rf "$STATE"' EXIT
for _ in $(seq 100); do
  grep -q "simulator ready" "$STATE/simulator.log" && break
  kill -0 "$SIMULATOR_PID" 2>/dev/null || { cat "$STATE/simulator.log"; exit 1; }
  sleep 0.1
done
grep -q "simulator ready" "$STATE/simulator.log" || { echo "simulator did not start"; cat "$STATE/simulator.log"; exit 1; }

export CLOUDSTACK_ENDPOINT="http://127.0.0.1:$PORT/client/api"
export CLOUDSTACK_KEY=ADMIN-KEY
export CLOUDSTACK_SECRET=ADMIN-SECRET
ansible-playbook -i localhost, -c local playbooks/demo.yml "$@"

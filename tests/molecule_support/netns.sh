#!/usr/bin/env bash
# Network namespaces for the kvm_host molecule scenario:
#   lskvm-hv     the hypervisor, 192.0.2.1/24 on a bridge
#   lskvm-mgmt   a CloudStack management server, 192.0.2.10/24
#   lskvm-other  any other machine, 192.0.2.20/24
# The hypervisor also gets a foreign nftables table ("operator") that the role
# must leave alone. Usage: netns.sh up | down
set -euo pipefail

HV=lskvm-hv

up() {
  down
  ip netns add "$HV"
  ip -n "$HV" link set lo up
  ip -n "$HV" link add br0 type bridge
  ip -n "$HV" addr add 192.0.2.1/24 dev br0
  ip -n "$HV" link set br0 up
  local name address
  for pair in mgmt:192.0.2.10 other:192.0.2.20; do
    name="${pair%%:*}"
    address="${pair#*:}"
    ip netns add "lskvm-$name"
    ip -n "lskvm-$name" link set lo up
    ip link add "lskvm-$name" netns "lskvm-$name" type veth peer name "to-$name" netns "$HV"
    ip -n "lskvm-$name" addr add "$address/24" dev "lskvm-$name"
    ip -n "lskvm-$name" link set "lskvm-$name" up
    ip -n "$HV" link set "to-$name" master br0 up
  done
  ip netns exec "$HV" nft -f - <<'NFT'
table inet operator {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 2222 counter drop
	}
}
NFT
}

down() {
  local ns
  for ns in lskvm-mgmt lskvm-other "$HV"; do
    if ip netns list | grep -qw "$ns"; then
      ip netns del "$ns"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

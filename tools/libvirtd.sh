#!/usr/bin/env bash
# Start, stop or query virtlogd + libvirtd on machines without systemd.
#
#   tools/libvirtd.sh start|stop|status
#
# start is idempotent: if qemu:///system already answers, nothing is started.
# Daemons started here are recorded in pid files under the state directory
# ($LIVESCALE_LIBVIRTD_STATE, default /run/livescale/libvirtd); stop ends only
# those. Readiness is polled with a virsh round trip, bounded by
# $LIVESCALE_LIBVIRTD_TIMEOUT seconds (default 30).
set -euo pipefail

STATE_DIR="${LIVESCALE_LIBVIRTD_STATE:-/run/livescale/libvirtd}"
TIMEOUT="${LIVESCALE_LIBVIRTD_TIMEOUT:-30}"
URI="qemu:///system"

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

answers() {
  # `virsh version` also answers, but probes host capabilities (~4 s here); `uri` is a cheap RPC round trip.
  virsh -c "$URI" uri >/dev/null 2>&1
}

pid_alive() {
  # pid_alive NAME: true when NAME's pid file names a live process.
  local pidfile="$STATE_DIR/$1.pid"
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "libvirtd: $URI did not answer within ${TIMEOUT}s; see $STATE_DIR/libvirtd.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

fix_kvm_node() {
  # Without udev, /dev/kvm keeps the kernel's root-only mode. libvirt then probes QEMU with KVM but
  # finds KVM unusable for its qemu user on every capability lookup, so it re-probes QEMU each time
  # (~2 s) and domain starts queue behind the probes. Give the node the group and mode udev would.
  if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
}

start() {
  fix_kvm_node
  if answers; then
    echo "libvirtd: already running ($URI answers)"
    return 0
  fi
  for tool in virtlogd libvirtd virsh; do
    command -v "$tool" >/dev/null || {
      echo "libvirtd: $tool not found; install libvirt-daemon-system and libvirt-clients (scripts/setup.sh)" >&2
      return 1
    }
  done
  mkdir -p "$STATE_DIR"
  if ! pid_alive virtlogd && ! pgrep -x virtlogd >/dev/null; then
    virtlogd -d -p "$STATE_DIR/virtlogd.pid"
  fi
  if ! pid_alive libvirtd; then
    setsid libvirtd -p "$STATE_DIR/libvirtd.pid" </dev/null >>"$STATE_DIR/libvirtd.log" 2>&1 &
  fi
  wait_ready
  echo "libvirtd: started ($URI answers)"
}

stop_one() {
  local name="$1" pidfile="$STATE_DIR/$1.pid" pid
  pid_alive "$name" || { rm -f "$pidfile"; return 0; }
  pid="$(cat "$pidfile")"
  kill "$pid"
  local deadline=$((SECONDS + TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "libvirtd: $name (pid $pid) did not exit within ${TIMEOUT}s" >&2
      return 1
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
  echo "libvirtd: stopped $name (pid $pid)"
}

stop() {
  stop_one libvirtd
  stop_one virtlogd
}

status() {
  if answers; then
    echo "libvirtd: running ($URI answers)"
    return 0
  fi
  echo "libvirtd: not running"
  return 3
}

[ $# -eq 1 ] || usage
case "$1" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac

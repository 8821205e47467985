#!/usr/bin/env bash
# Start/stop virtlogd + libvirtd by hand on machines without systemd (containers, CI).
# Usage: scripts/libvirtd.sh start|stop|status
#
# start: does nothing when a libvirtd already answers on qemu:///system; otherwise starts
#        virtlogd and libvirtd daemonized with kvmtest's own pidfiles and waits for the socket.
#        Exit 0 = a daemon answers. Prints "started" when this call started it, "running" when
#        one was already there (the pytest fixture uses that to know whether to stop it again).
# stop:  stops only the daemons this script started (found through its pidfiles).
# status: exit 0 when a daemon answers on qemu:///system, 3 otherwise.
#
# Nothing here edits /etc/libvirt: with Debian 12's defaults the qemu driver works as root in a
# container (guests run as libvirt-qemu with dynamic ownership). See docs/libvirt.md.
set -euo pipefail

RUNDIR=${KVMTEST_LIBVIRT_RUNDIR:-/run/libvirt}
LIBVIRTD_PID=$RUNDIR/kvmtest-libvirtd.pid
VIRTLOGD_PID=$RUNDIR/kvmtest-virtlogd.pid
URI=qemu:///system
TIMEOUT=${KVMTEST_LIBVIRT_TIMEOUT:-30}

answers() {
  # virsh exits non-zero when the daemon is missing or refuses us.
  virsh -q -c "$URI" version >/dev/null 2>&1
}

pid_alive() {
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

need() {
  command -v "$1" >/dev/null || { echo "$1 not found: run scripts/sysdeps.sh libvirt" >&2; exit 1; }
}

start() {
  if answers; then
    echo running
    return 0
  fi
  need libvirtd
  need virtlogd
  need virsh
  mkdir -p "$RUNDIR"
  if ! pid_alive "$VIRTLOGD_PID" && ! pgrep -x virtlogd >/dev/null; then
    virtlogd --daemon --pid-file="$VIRTLOGD_PID"
  fi
  if ! pid_alive "$LIBVIRTD_PID"; then
    # No --listen: TCP/TLS needs certificates; the local unix socket is all kvmtest uses.
    libvirtd --daemon --pid-file="$LIBVIRTD_PID"
  fi
  local i=0
  while ! answers; do
    i=$((i + 1))
    if [ "$i" -gt $((TIMEOUT * 5)) ]; then
      echo "libvirtd did not answer on $URI within ${TIMEOUT}s" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo started
}

stop_one() {
  local pidfile=$1 name=$2 pid i
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for i in $(seq 1 $((TIMEOUT * 5))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name ($pid) ignored SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  echo "stopped $name"
}

stop() {
  stop_one "$LIBVIRTD_PID" libvirtd
  stop_one "$VIRTLOGD_PID" virtlogd
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if answers; then
      echo "libvirtd answers on $URI"
      pid_alive "$LIBVIRTD_PID" && echo "started by kvmtest (pid $(cat "$LIBVIRTD_PID"))"
      exit 0
    fi
    echo "no libvirtd answers on $URI"
    exit 3
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Remove a test LAN made by up.sh: end the processes still running inside its namespaces
# (only PIDs inside them, nothing else on the machine), then delete the namespaces, which
# destroys their interfaces and the bridge. Safe to run when some or all are already gone.
#
# Usage: sudo scripts/testlan/down.sh [N=3]   with the same PREFIX and BRNS as up.sh
N=${1:-3}
PREFIX=${PREFIX:-ns}
BRNS=${BRNS:-swarm-br}

[ "$(id -u)" = 0 ] || { echo "testlan down: must run as root" >&2; exit 1; }

existing=$(ip netns list 2>/dev/null | awk '{print $1}')
for NS in $(seq -f "${PREFIX}%g" 1 "$N") "$BRNS"; do
  grep -qx -- "$NS" <<<"$existing" || continue
  pids=$(ip netns pids "$NS" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086 # one PID per word
    kill $pids 2>/dev/null || true
    for _ in $(seq 20); do
      [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break
      sleep 0.1
    done
    pids=$(ip netns pids "$NS" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null || true
    fi
  fi
  ip netns del "$NS" || echo "testlan down: could not delete namespace $NS" >&2
done
echo "testlan down: removed ${PREFIX}1..${PREFIX}$N and $BRNS"

#!/usr/bin/env bash
# Build a private test LAN on this machine out of network namespaces, for trying several
# swarmd nodes at once and for the project's multi-node tests. Needs root and iproute2.
#
# Usage: sudo scripts/testlan/up.sh [N=3]
#   Creates a bridge "br-swarm" inside its own namespace $BRNS and N host namespaces
#   ${PREFIX}1..${PREFIX}N, each with an interface veth0 = $NET.<i>/24 plugged into the bridge.
#   Nothing is created in (or routed to/from) the root namespace, so mDNS sent inside the
#   LAN never reaches the machine's real network. Run a node with:
#     sudo ip netns exec ns1 swarmd ...
#   and remove everything with scripts/testlan/down.sh N (same environment).
# Environment:
#   PREFIX=ns          host namespace names (at most 9 characters)
#   BRNS=swarm-br      name of the namespace holding the bridge
#   NET=10.203.0       first three octets of the LAN; host i gets $NET.i/24
#   MCAST_ROUTE=1      add 224.0.0.0/4 dev veth0 in each host: the namespaces have no default
#                      route, and multicast sent with no interface pinned (the mDNS default)
#                      fails with ENETUNREACH without it. MCAST_ROUTE=0 reproduces that fault.
set -euo pipefail
N=${1:-3}
PREFIX=${PREFIX:-ns}
BRNS=${BRNS:-swarm-br}
NET=${NET:-10.203.0}
MCAST_ROUTE=${MCAST_ROUTE:-1}
BR=br-swarm

die() { echo "testlan up: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces need CAP_SYS_ADMIN)"
command -v ip >/dev/null || die "the ip command (iproute2) is missing: install iproute2"
if ! [[ "$N" =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 254 ]; then die "N must be 1-254, got '$N'"; fi
[[ "$NET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "NET must look like 10.203.0, got '$NET'"
# The bridge-side peer is named vb-<ns>; Linux interface names are at most 15 characters.
[ $((${#PREFIX} + ${#N} + 3)) -le 15 ] || die "PREFIX '$PREFIX' is too long (interface names max 15 chars)"

# Start clean: a crashed earlier run may have left namespaces of the same names.
PREFIX=$PREFIX BRNS=$BRNS "$(dirname "$0")/down.sh" "$N" >/dev/null 2>&1 || true

# On any failure, remove what was already made rather than leave half a LAN behind.
trap 'PREFIX=$PREFIX BRNS=$BRNS "$(dirname "$0")/down.sh" "$N" >/dev/null 2>&1' ERR

ip netns add "$BRNS"
ip -n "$BRNS" link set lo up
ip -n "$BRNS" link add "$BR" type bridge
# No IGMP querier runs here: with snooping off the bridge floods every multicast group.
ip -n "$BRNS" link set "$BR" type bridge mcast_snooping 0 stp_state 0 forward_delay 0
ip -n "$BRNS" link set "$BR" up

for i in $(seq 1 "$N"); do
  NS=$PREFIX$i
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  # Create the pair directly inside the two namespaces: the root namespace never sees it.
  ip link add veth0 netns "$NS" type veth peer name "vb-$NS" netns "$BRNS"
  ip -n "$BRNS" link set "vb-$NS" master "$BR"
  ip -n "$BRNS" link set "vb-$NS" up
  ip -n "$NS" addr add "$NET.$i/24" dev veth0
  ip -n "$NS" link set veth0 multicast on
  ip -n "$NS" link set veth0 up
  if [ "$MCAST_ROUTE" = 1 ]; then
    ip -n "$NS" route add 224.0.0.0/4 dev veth0
  fi
done

# Wait for carrier on every host so the first packets are not lost.
for i in $(seq 1 "$N"); do
  for _ in $(seq 50); do
    ip -n "$PREFIX$i" -br link show veth0 | grep -q 'UP' && break
    sleep 0.1
  done
done
trap - ERR
echo "testlan up: $BRNS/$BR + ${PREFIX}1..${PREFIX}$N ($NET.1-$N/24), MCAST_ROUTE=$MCAST_ROUTE"

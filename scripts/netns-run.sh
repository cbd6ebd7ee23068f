#!/usr/bin/env bash
# Runs a command inside a fresh, private network namespace (unshare -n, root only) whose only interface
# is loopback, made lossy and rate-capped the way Benchmarks/transport-throughput/run --impaired does it:
#   - nftables drops LOSS % of UDP packets at random on output (every packet crosses lo's output once,
#     so that is the loss rate of the path; TCP, i.e. the XMPP link, is not touched);
#   - a tc token bucket caps lo at RATE (netem is not available on this kernel).
# The loss rule lives in table `inet faults`, chain `out`; a process inside the namespace removes it with
#   nft flush chain inet faults out
# (or with this script's --clear-after). Nothing leaves the namespace: it holds only 127.0.0.1 and ::1.
#
# Usage: scripts/netns-run.sh [--loss PCT] [--rate RATE] [--clear-after SECONDS] -- COMMAND [ARG...]
#   --loss PCT           random UDP loss in percent, 0-100 (default 0: no rule)
#   --rate RATE          tc tbf rate (default 100mbit; "none" for no cap)
#   --clear-after SECS   flush the loss rule SECS seconds after COMMAND starts; the wall-clock time of the
#                        removal (date +%s.%N) goes to $NETNS_CLEARED_FILE if that is set
# Exit status: COMMAND's.
set -euo pipefail
loss=0; rate=100mbit; clear_after=""
while [ $# -gt 0 ]; do
    case "$1" in
        --loss) loss=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --clear-after) clear_after=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "netns-run.sh: unknown option '$1' (usage: $0 [--loss PCT] [--rate RATE] [--clear-after S] -- COMMAND...)" >&2; exit 64 ;;
    esac
done
[ $# -gt 0 ] || { echo "netns-run.sh: no command given" >&2; exit 64; }
[[ "$loss" =~ ^[0-9]+$ ]] && [ "$loss" -le 100 ] || { echo "netns-run.sh: --loss wants 0-100, got '$loss'" >&2; exit 64; }
for tool in unshare ip nft tc; do
    command -v "$tool" >/dev/null || { echo "netns-run.sh: $tool is missing (scripts/bootstrap installs nftables and iproute2)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "netns-run.sh: needs root (unshare -n)" >&2; exit 1; }

exec unshare -n -- bash -euo pipefail -c '
    loss=$1; rate=$2; clear_after=$3; shift 3
    ip link set lo up
    nft add table inet faults
    nft add chain inet faults out "{ type filter hook output priority 0 ; }"
    if [ "$loss" -gt 0 ]; then
        nft add rule inet faults out meta l4proto udp numgen random mod 100 "<" "$loss" drop
    fi
    if [ "$rate" != none ]; then
        tc qdisc add dev lo root tbf rate "$rate" burst 256kb latency 50ms
    fi
    if [ -n "$clear_after" ]; then
        ( sleep "$clear_after"
          nft flush chain inet faults out
          if [ -n "${NETNS_CLEARED_FILE:-}" ]; then date +%s.%N > "$NETNS_CLEARED_FILE"; fi ) </dev/null >/dev/null 2>&1 &
    fi
    "$@"
' netns-run "$loss" "$rate" "$clear_after" "$@"

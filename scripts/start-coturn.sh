#!/usr/bin/env bash
# Starts a private coturn (TURN, RFC 8656) on 127.0.0.1 for the ICE tests and prints its PID.
# Usage: scripts/start-coturn.sh DIR [PORT] [RELAY_MIN] [RELAY_MAX]
#   DIR        scratch directory for the config, log, pid file and user database
#   PORT       STUN/TURN listening port (UDP and TCP), default 13478
#   RELAY_*    relay port range, default 49160-49200
# Authentication: long-term credentials (RFC 8489 §9.2), realm "localhost". COTURN_AUTH=static (default)
# gives the user alice:alicepw; COTURN_AUTH=rest uses the TURN REST shared secret "turnsecret" instead
# (coturn accepts only one of the two modes at a time).
# Loopback only: TLS/DTLS and the CLI are off; loopback peers are allowed because both ICE agents of a
# test live on 127.0.0.1.
set -euo pipefail
DIR=$(realpath -m "$1")
PORT=${2:-13478}
RELAY_MIN=${3:-49160}
RELAY_MAX=${4:-49200}
mkdir -p "$DIR"
case "${COTURN_AUTH:-static}" in
  static) AUTH_LINES="user=alice:alicepw" ;;
  rest)   AUTH_LINES=$'use-auth-secret\nstatic-auth-secret=turnsecret' ;;
  *) echo "COTURN_AUTH must be static or rest" >&2; exit 2 ;;
esac
cat > "$DIR/turnserver.conf" <<CONF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
external-ip=127.0.0.1
listening-port=$PORT
min-port=$RELAY_MIN
max-port=$RELAY_MAX
realm=localhost
fingerprint
lt-cred-mech
$AUTH_LINES
no-tls
no-dtls
no-cli
no-rfc5780
allow-loopback-peers
simple-log
log-file=stdout
pidfile=$DIR/turnserver.pid
userdb=$DIR/turndb.sqlite
verbose
CONF
turnserver -c "$DIR/turnserver.conf" > "$DIR/turnserver.log" 2>&1 &
PID=$!
# The port must be coturn's alone, over UDP and TCP: a test that picked a free port a moment ago can lose it
# to another process, and then TURN over UDP would silently talk to that process instead.
owned_by_coturn() { # ss options (-lun / -ltn)
  local lines
  lines=$(ss -H "$1"p "sport = :$PORT" 2>/dev/null | grep "127.0.0.1:$PORT " || true)
  [ -n "$lines" ] || return 1
  if ! grep -q "pid=" <<<"$lines"; then return 0; fi   # not root: ss cannot name owners; bound is all we can tell
  ! grep -v "pid=$PID," <<<"$lines" | grep -q .
}
# Ready once coturn has started its general servers and the ports are bound (up to 5 s).
for _ in $(seq 1 100); do
  if grep -q "Total General servers" "$DIR/turnserver.log" 2>/dev/null && owned_by_coturn -lun && owned_by_coturn -ltn; then
    echo "$PID"
    exit 0
  fi
  if grep -qi "cannot bind\|Address already in use" "$DIR/turnserver.log" 2>/dev/null; then
    echo "port $PORT is in use by another process" >&2
    kill "$PID" 2>/dev/null || true
    exit 3
  fi
  if ! kill -0 "$PID" 2>/dev/null; then cat "$DIR/turnserver.log" >&2; exit 1; fi
  sleep 0.05
done
echo "turnserver did not come up" >&2
cat "$DIR/turnserver.log" >&2
kill "$PID" 2>/dev/null || true
exit 1

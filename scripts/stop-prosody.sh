#!/bin/bash
# Stops a Prosody started by scripts/start-prosody.sh DIR (SIGTERM, then SIGKILL after 3 s).
set -uo pipefail
DIR=$(realpath -m "${1:?usage: $0 DIR}")
PID=$(cat "$DIR/launcher.pid" 2>/dev/null || cat "$DIR/prosody.pid" 2>/dev/null) || exit 0
kill "$PID" 2>/dev/null || exit 0
for _ in $(seq 1 30); do kill -0 "$PID" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$PID" 2>/dev/null; exit 0

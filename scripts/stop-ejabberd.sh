#!/bin/bash
# Stops an ejabberd started by scripts/start-ejabberd.sh DIR.
set -uo pipefail
DIR=$(realpath -m "${1:?usage: $0 DIR}")
ejabberdctl --config-dir "$DIR" --spool "$DIR/db" --logs "$DIR/logs" stop >/dev/null 2>&1
ejabberdctl --config-dir "$DIR" --spool "$DIR/db" --logs "$DIR/logs" stopped >/dev/null 2>&1
exit 0

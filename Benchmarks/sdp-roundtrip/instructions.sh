#!/usr/bin/env bash
# Instructions per call of each stage of the SDP round trip, counted by valgrind (callgrind): unlike timings,
# the counts do not depend on what else the machine runs, so small changes can be compared reliably.
# Usage: Benchmarks/sdp-roundtrip/instructions.sh ["sdp parse" "xml parse" ...]   (default: every stage)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --scratch-path .build-release --product bench-sdp-roundtrip 2>&1 | grep -E "error|warning: " || true
bench=.build-release/release/bench-sdp-roundtrip
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
count() { # stage iterations -> total instructions of the process
    SDP_STAGE="$1" SDP_STAGE_ITERATIONS="$2" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --stages 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("sdp parse" "to jingle" "element()" "xml serialize" "xml parse" "jingle parse" "to sdp" "sdp serialize")
total=0
for stage in "${stages[@]}"; do
    a=$(count "$stage" 50); b=$(count "$stage" 250)
    per=$(( (b - a) / 200 ))
    total=$(( total + per ))
    printf '%-14s %9d instructions\n' "$stage" "$per"
done
[ ${#stages[@]} -le 1 ] || printf '%-14s %9d instructions\n' "total" "$total"

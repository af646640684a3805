#!/usr/bin/env bash
# End-to-end issuance benchmark (issue 5): `kofu demo --keep-serving` on loopback and
# `kofu loadtest` against it, both release builds on this machine, sharing its cores.
# Usage: bash scripts/bench-issuance.sh [RATE] [DURATION] [CONCURRENCY] [SCOPE]   (SCOPE: self, household, or kiosk for eligibility + issuance sessions)
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-500}; duration=${2:-20}; concurrency=${3:-32}; scope=${4:-self}
swift build -c release --product kofu >/dev/null
kofu=$PWD/.build/release/kofu
work=$(mktemp -d /tmp/kofu-bench-XXXXXX)
cd "$work"
"$kofu" demo --keep-serving >demo.out 2>demo.err &
demo=$!
trap 'kill -TERM $demo 2>/dev/null || true; wait $demo 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "serving until" demo.out 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*serving the Center API on \(http:[^ ]*\) .*/\1/p' demo.out)
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); server and load generator share them"
echo "server: $url (kofu demo --keep-serving, release build)"
"$kofu" loadtest --demo "$work/kofu-demo" --url "$url" --rate "$rate" --duration "$duration" --concurrency "$concurrency" --mix "$scope" --server-pid "$demo"

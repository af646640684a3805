#!/usr/bin/env bash
# The replica benchmarks of issue 4 (docs/benchmarks.md), with one command:
#   bash scripts/bench-replica.sh [RESIDENTS] [WORKDIR]
# Generates a municipality of RESIDENTS (default 1,000,000) with 100 batches of 1,000 events,
# reseeds an empty replica from it (wall time, peak RSS), applies the batches (events/s) and
# measures household lookups. Release build; needs ~4 GB of disk in WORKDIR (default a temp folder).
set -euo pipefail
cd "$(dirname "$0")/.."
RESIDENTS=${1:-1000000}
WORK=${2:-$(mktemp -d /tmp/kofu-bench-replica.XXXXXX)}
swift build -c release --product kofu >/dev/null
KOFU=$PWD/.build/release/kofu
mkdir -p "$WORK" && cd "$WORK"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f extract.jsonl ]; then
  "$KOFU" bench generate --residents "$RESIDENTS" --out extract.jsonl --batches 100 --events-per-batch 1000 --batch-dir batches
fi
mkdir -p cfg/crl && echo x > cfg/seal.png && echo x > cfg/root.pem
cat > cfg/kofu.toml <<TOML
[municipality]
code = "272078"
name = "高槻市"
authority = "高槻市長　高槻　太郎"
official_seal = "seal.png"
official_seal_mm = 21.0
[listen]
center = "127.0.0.1:8443"
sync = "127.0.0.1:8444"
[trust]
anchors = ["root.pem"]
crl_dir = "crl"
policy_oid = "1.2.392.200149.8.5.1.3.30"
[replica]
path = "replica"
[fonts]
base = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
[audit]
path = "audit"
TOML
rm -rf cfg/replica
echo "== reseed of $RESIDENTS residents into an empty replica"
(cd cfg && /usr/bin/time -f "wall %e s, CPU %P, peak RSS %M KB" "$KOFU" reseed --config kofu.toml --extract ../extract.jsonl 2>&1 | grep -v '^kofu reseed: [0-9]*/' | tail -3)
echo "== sync apply: 100 batches of 1,000 events"
rm -rf replica-copy && cp -a cfg/replica replica-copy
"$KOFU" bench sync --replica replica-copy --batch-dir batches
echo "== household lookups"
"$KOFU" bench lookup --replica cfg/replica --count 20000
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); files kept in $WORK"

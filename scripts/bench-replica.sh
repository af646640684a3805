#!/usr/bin/env bash
# The replica benchmarks of issue 4 (docs/benchmarks.md), with one command:
#   bash scripts/bench-replica.sh [RESIDENTS] [WORKDIR]
#   BACKEND=postgres bash scripts/bench-replica.sh [RESIDENTS] [WORKDIR]   # the same on PostgreSQL
# Generates a municipality of RESIDENTS (default 1,000,000) with 100 batches of 1,000 events,
# reseeds an empty replica from it (wall time, peak RSS), applies the batches (events/s) and
# measures household lookups. Release build; needs ~4 GB of disk in WORKDIR (default a temp folder).
# With BACKEND=postgres it starts a PostgreSQL of its own (scripts/postgres.sh, loopback, defaults,
# synchronous_commit on) and the replica is `[replica] url`; the batches go to a copy of the
# reseeded database (CREATE DATABASE … TEMPLATE), as to a copy of the folder with SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
RESIDENTS=${1:-1000000}
WORK=${2:-$(mktemp -d /tmp/kofu-bench-replica.XXXXXX)}
swift build -c release --product kofu >/dev/null
KOFU=$PWD/.build/release/kofu
backend=${BACKEND:-sqlite}
replica_key='path = "replica"'
if [ "$backend" = postgres ]; then
  eval "$(bash scripts/postgres.sh start)"
  trap 'bash "'"$PWD"'/scripts/postgres.sh" stop "$KOFU_POSTGRES_DIR"' EXIT
  base=${KOFU_TEST_POSTGRES_URL%/*}
  psql "$KOFU_TEST_POSTGRES_URL" -X -q -c "CREATE DATABASE kofu_bench ENCODING 'UTF8' TEMPLATE template0"
  replica_key="url = \"$base/kofu_bench\""
  echo "PostgreSQL $(psql "$KOFU_TEST_POSTGRES_URL" -X -A -t -c 'SHOW server_version') on loopback, on the same cores"
fi
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
$replica_key
[fonts]
base = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
[audit]
path = "audit"
TOML
rm -rf cfg/replica
echo "== reseed of $RESIDENTS residents into an empty replica"
(cd cfg && /usr/bin/time -f "wall %e s, CPU %P, peak RSS %M KB" "$KOFU" reseed --config kofu.toml --extract ../extract.jsonl 2>&1 | grep -v '^kofu reseed: [0-9]*/' | tail -3)
echo "== sync apply: 100 batches of 1,000 events"
if [ "$backend" = postgres ]; then
  psql "$KOFU_TEST_POSTGRES_URL" -X -q -c "CREATE DATABASE kofu_apply TEMPLATE kofu_bench"
  "$KOFU" bench sync --replica-url "$base/kofu_apply" --batch-dir batches
  echo "== household lookups"
  "$KOFU" bench lookup --replica-url "$base/kofu_bench" --count 20000
else
  rm -rf replica-copy && cp -a cfg/replica replica-copy
  "$KOFU" bench sync --replica replica-copy --batch-dir batches
  echo "== household lookups"
  "$KOFU" bench lookup --replica cfg/replica --count 20000
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); files kept in $WORK"

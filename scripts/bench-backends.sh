#!/usr/bin/env bash
# End-to-end issuance throughput with the PostgreSQL replica next to the embedded SQLite one
# (issue 7), in one run on this machine:
#   bash scripts/bench-backends.sh
#   RATES="100 300 500" DURATION=20 MIX=self CLOSED_COUNT=6000 CLOSED_CONCURRENCY=16 bash scripts/bench-backends.sh
# For each backend: `kofu demo --keep-serving` (release build; with --replica-url on an empty
# database of a PostgreSQL started by scripts/postgres.sh on loopback, synchronous_commit on) and
# `kofu loadtest` open loop at each rate (scripts/bench-peak.sh: every PDF checked, every
# certificate compared with its audit record), then a closed-loop run for the highest rate each
# backend carries. Writes docs/peak/backends/{sqlite,postgres}/ (bench-peak's tables and plots)
# and docs/peak/backends/compare.md. PostgreSQL, kofu and the load generator share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export RATES=${RATES:-"100 200 300 400 500 600 700"} DURATION=${DURATION:-20} MIX=${MIX:-self}
closed_count=${CLOSED_COUNT:-6000}
closed_concurrency=${CLOSED_CONCURRENCY:-16}
out=$repo/docs/peak/backends
mkdir -p "$out"
swift build -c release --product kofu >/dev/null
export KOFU=$repo/.build/release/kofu
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop "$KOFU_POSTGRES_DIR"' EXIT
db_pid=$(head -1 "$KOFU_POSTGRES_DIR/data/postmaster.pid")
base=${KOFU_TEST_POSTGRES_URL%/*}
fresh_database() {  # an empty database for one demo; its URL
  local name=kofu_bench_$1
  psql "$KOFU_TEST_POSTGRES_URL" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name ENCODING 'UTF8' TEMPLATE template0" >&2
  echo "$base/$name"
}
pg_version=$(psql "$KOFU_TEST_POSTGRES_URL" -X -A -t -c "SHOW server_version")

# The closed loop: CLOSED_COUNT issuances by CLOSED_CONCURRENCY workers back to back, the most this
# machine carries (loadtest bounds a closed loop by count, rate × duration).
closed() {  # backend [replica-url]
  local work; work=$(mktemp -d /tmp/kofu-closed-XXXXXX)
  local args=(); [ -z "${2:-}" ] || args=(--replica-url "$2")
  (cd "$work" && exec "$KOFU" demo --keep-serving --root "$repo" "${args[@]}" >demo.out 2>demo.err) &
  local demo=$!
  for _ in $(seq 1 600); do grep -q "serving until" "$work/demo.out" 2>/dev/null && break; sleep 0.1; done
  local url; url=$(sed -n 's/.*serving the Center API on \(http:[^ ]*\) .*/\1/p' "$work/demo.out")
  "$KOFU" loadtest --demo "$work/kofu-demo" --url "$url" --closed-loop --concurrency "$closed_concurrency" \
    --rate "$((closed_count / 10))" --duration 10 --mix "$MIX" --server-pid "$demo" \
    --report "$out/$1/closed-loop.json" 2>/dev/null | sed "s/^/[$1 closed loop] /"
  kill -TERM "$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true
  rm -rf "$work"
}

status=0
OUT=$out/sqlite bash scripts/bench-peak.sh || status=1
closed sqlite || status=1
OUT=$out/postgres REPLICA_URL=$(fresh_database open) DB_PID=$db_pid bash scripts/bench-peak.sh || status=1
closed postgres "$(fresh_database closed)" || status=1

PG_VERSION="$pg_version" CLOSED_CONCURRENCY="$closed_concurrency" python3 - "$out" $RATES <<'PY'
import json, os, sys
out, rates = sys.argv[1], [int(r) for r in sys.argv[2:]]
def load(path):
    with open(path) as f: return json.load(f)
def ms(v): return "-" if v is None else f"{v:.1f}"
rows = []
for r in rates:
    cells = [str(r)]
    for b in ("sqlite", "postgres"):
        j = load(f"{out}/{b}/peak-{r}.json")
        l = j["latencyMs"]["issuance"]
        ok = "" if j["wrongAnswers"] == 0 else f" ({j['wrongAnswers']} wrong)"
        cells += [f"{j['issuancesPerSecond']:.0f}{ok}", ms(l["p50"]), ms(l["p99"])]
    db = f"{out}/postgres/peak-{r}.db-cpu"
    cells.append(open(db).read().strip() if os.path.exists(db) else "-")
    rows.append("| " + " | ".join(cells) + " |")
closed = {b: load(f"{out}/{b}/closed-loop.json") for b in ("sqlite", "postgres")}
md = [f"PostgreSQL {os.environ['PG_VERSION']} on loopback (scripts/postgres.sh: defaults, synchronous_commit on), "
      "kofu and the load generator on the same cores; see sqlite/peak.md and postgres/peak.md for the machine and every column.",
      "",
      "| offered issuances/s | SQLite: issued/s | p50 ms | p99 ms | PostgreSQL: issued/s | p50 ms | p99 ms | PostgreSQL CPU s |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"] + rows + [""]
md.append(f"Closed loop ({os.environ['CLOSED_CONCURRENCY']} connections back to back, the most each carries here):")
md.append("")
md.append("| backend | issuances | issued/s | p50 ms | p99 ms | wrong answers | PDFs checked | compared with the audit log |")
md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for b, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
    j = closed[b]; l = j["latencyMs"]["issuance"]
    audit = j["audit"].split(";")[0].replace(" certificates compared with their records", "")
    md.append(f"| {name} | {j['issuances']} | {j['issuancesPerSecond']:.0f} | {ms(l['p50'])} | {ms(l['p99'])} | {j['wrongAnswers']} | "
              f"{j['checked']}/{j['issuances']} | {audit} |")
with open(f"{out}/compare.md", "w") as f: f.write("\n".join(md) + "\n")
print("\n".join(md))
PY
echo "wrote $out/compare.md"
exit $status

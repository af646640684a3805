#!/usr/bin/env bash
# The peak table and plot of docs/benchmarks.md (issue 6), with one command:
#   bash scripts/bench-peak.sh                       # rates 100…900/s, 20 s each
#   RATES="100 300 500" DURATION=30 bash scripts/bench-peak.sh
#   MIX=self bash scripts/bench-peak.sh              # issuance alone, one person (issue 5's profile)
# Starts `kofu demo --keep-serving` (release build) on loopback, runs `kofu loadtest` open loop
# (scenario mix: eligibility + issuance sessions, every PDF checked) at each offered rate, reads
# the server's and the load generator's CPU seconds from /proc/PID/stat, and writes
#   docs/peak/MIX/peak-RATE.json   each run's report
#   docs/peak/MIX/peak.md          the table (sustained rate, p50/p99, wrong answers, CPU split, saturation)
#   docs/peak/MIX/latency-vs-rate.svg and .png   session latency p50/p99 against offered rate
# Server and load generator share this machine's cores; the table says how many.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
rates=${RATES:-"100 200 300 400 500 600 700 800 900"}
duration=${DURATION:-20}
concurrency=${CONCURRENCY:-64}
scenario=${SCENARIO:-mix}
mix=${MIX:-kiosk}
out=${OUT:-$repo/docs/peak/$mix}
mkdir -p "$out"
swift build -c release --product kofu >/dev/null
kofu=$repo/.build/release/kofu
work=$(mktemp -d /tmp/kofu-peak-XXXXXX)
cd "$work"
"$kofu" demo --keep-serving --root "$repo" >demo.out 2>demo.err &
demo=$!
trap 'kill -TERM $demo 2>/dev/null || true; wait $demo 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "serving until" demo.out 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*serving the Center API on \(http:[^ ]*\) .*/\1/p' demo.out)
[ -n "$url" ] || { echo "kofu demo did not start" >&2; cat demo.err >&2; exit 1; }
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $machine; server and load generator share them"
echo "server: $url (kofu demo --keep-serving, release build, pid $demo)"
status=0
for rate in $rates; do
  "$kofu" loadtest --demo "$work/kofu-demo" --url "$url" --rate "$rate" --duration "$duration" \
    --concurrency "$concurrency" --scenario "$scenario" --mix "$mix" --server-pid "$demo" --report "$out/peak-$rate.json" \
    2>/dev/null | sed "s/^/[$rate\/s] /" || status=1
  sleep 2
done
MACHINE="$machine" DURATION="$duration" CONCURRENCY="$concurrency" SCENARIO="$scenario" MIX="$mix" python3 - "$out" $rates <<'PY'
import json, os, sys
out, rates = sys.argv[1], [int(r) for r in sys.argv[2:]]
runs = []
for r in rates:
    with open(f"{out}/peak-{r}.json") as f:
        runs.append(json.load(f))
def ms(v): return "-" if v is None else f"{v:.1f}"
rows, saturation, best = [], None, None
for j in runs:
    s = j["latencyMs"]["session"]
    sessions_per_s = j["sessions"] / j["seconds"]
    sustained = j["wrongAnswers"] == 0 and j["unsent"] == 0 and sessions_per_s >= 0.95 * j["rate"] \
        and s["p99"] is not None and s["p99"] <= 500
    if sustained and saturation is None: best = j
    if not sustained and saturation is None: saturation = j
    cpu = j["cpuSeconds"]
    rows.append(f"| {j['rate']} | {sessions_per_s:.0f} | {j['issuancesPerSecond']:.0f} | {ms(s['p50'])} | {ms(s['p99'])} | "
                f"{ms(j['latencyMs']['issuance']['p50'])} | {ms(j['latencyMs']['issuance']['p99'])} | {j['wrongAnswers']} | "
                f"{j['checked']}/{j['issuances']} | {ms(cpu['server'])} | {ms(cpu['loadGenerator'])} | {'yes' if sustained else 'no'} |")
md = [f"Machine: {os.environ['MACHINE']}. Scenario `{os.environ['SCENARIO']}`, mix `{os.environ['MIX']}`, open loop, {os.environ['DURATION']} s per rate, "
      f"{os.environ['CONCURRENCY']} connections; server (`kofu demo --keep-serving`) and load generator on the same cores.",
      "",
      "| offered sessions/s | achieved sessions/s | issuances/s (201) | session p50 ms | session p99 ms | issuance p50 ms | issuance p99 ms | wrong answers | PDFs checked | server CPU s | loadgen CPU s | sustained |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"] + rows + [""]
md.append("Sustained: 0 wrong answers, nothing left unsent, ≥ 95 % of the offered rate achieved and session p99 ≤ 500 ms "
          "(session latency is measured from the planned send time, so queueing shows).")
md.append(f"Highest sustained offered rate: {best['rate'] if best else 'none'}/s; saturation: "
          + (f"{saturation['rate']}/s" if saturation else f"not reached up to {rates[-1]}/s") + ".")
with open(f"{out}/peak.md", "w") as f: f.write("\n".join(md) + "\n")
print("\n".join(md))
# The plot: p50 and p99 session latency (log scale) against offered rate.
W, H, L, R, T, B = 760, 440, 70, 20, 30, 60
xs = [j["rate"] for j in runs]
import math
lat = [(j["latencyMs"]["session"]["p50"] or 0.1, j["latencyMs"]["session"]["p99"] or 0.1) for j in runs]
lo, hi = 1, max(10, max(p for _, p in lat) * 1.5)
def X(v): return L + (v - 0) / (max(xs) * 1.05) * (W - L - R)
def Y(v): return T + (1 - (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))) * (H - T - B)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="DejaVu Sans, sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="18" text-anchor="middle" font-size="14">kofu loadtest: session latency against offered rate ({os.environ["SCENARIO"]}, mix {os.environ["MIX"]}, open loop)</text>']
d = 1
while d <= hi:
    for m in (1, 2, 5):
        v = d * m
        if lo <= v <= hi:
            svg.append(f'<line x1="{L}" x2="{W-R}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/>')
            svg.append(f'<text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v:g}</text>')
    d *= 10
for x in xs:
    svg.append(f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{T}" y2="{H-B}" stroke="#eee"/>')
    svg.append(f'<text x="{X(x):.1f}" y="{H-B+16}" text-anchor="middle">{x}</text>')
svg.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H-B}" stroke="black"/><line x1="{L}" x2="{W-R}" y1="{H-B}" y2="{H-B}" stroke="black"/>')
svg.append(f'<text x="{(L+W-R)/2}" y="{H-18}" text-anchor="middle">offered rate (sessions/s{": eligibility + issuance" if os.environ["MIX"] == "kiosk" else ": issuance requests"})</text>')
svg.append(f'<text x="16" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 16 {(T+H-B)/2})">latency (ms, log scale)</text>')
for k, colour, name in ((0, "#1f77b4", "p50"), (1, "#d62728", "p99")):
    pts = " ".join(f"{X(x):.1f},{Y(l[k]):.1f}" for x, l in zip(xs, lat))
    svg.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for x, l in zip(xs, lat): svg.append(f'<circle cx="{X(x):.1f}" cy="{Y(l[k]):.1f}" r="3" fill="{colour}"/>')
    svg.append(f'<text x="{L+12}" y="{T+18+16*k}" fill="{colour}">{name}</text>')
if saturation:
    svg.append(f'<line x1="{X(saturation["rate"]):.1f}" x2="{X(saturation["rate"]):.1f}" y1="{T}" y2="{H-B}" stroke="#999" stroke-dasharray="4 3"/>')
    svg.append(f'<text x="{X(saturation["rate"])-4:.1f}" y="{T+12}" text-anchor="end" fill="#666">saturation</text>')
svg.append("</svg>")
with open(f"{out}/latency-vs-rate.svg", "w") as f: f.write("\n".join(svg) + "\n")
PY
convert=$(command -v convert || echo /usr/local/bin/convert)
"$convert" "$out/latency-vs-rate.svg" "$out/latency-vs-rate.png"
echo "wrote $out/peak.md, $out/latency-vs-rate.png"
exit $status

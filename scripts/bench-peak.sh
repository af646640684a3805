#!/usr/bin/env bash
# The peak table and plot of docs/benchmarks.md (issue 6), with one command:
#   bash scripts/bench-peak.sh                       # rates 100…900/s, 20 s each
#   RATES="100 300 500" DURATION=30 bash scripts/bench-peak.sh
#   MIX=self bash scripts/bench-peak.sh              # issuance alone, one person (issue 5's profile)
#   REPLICA_URL=postgres://… DB_PID=PID bash scripts/bench-peak.sh   # the demo on PostgreSQL (an
#     empty database; DB_PID: its postmaster, whose CPU seconds are added to the table)
#     scripts/bench-backends.sh runs both backends side by side
# Starts `kofu demo --keep-serving` (release build) on loopback, runs `kofu loadtest` open loop
# (scenario mix: eligibility + issuance sessions, every PDF checked) at each offered rate, reads
# the server's and the load generator's CPU seconds from /proc/PID/stat, and writes
#   docs/peak/MIX/peak-RATE.json   each run's report
#   docs/peak/MIX/peak.md          the table (sustained rate, p50/p99, wrong answers, CPU split, saturation)
#   docs/peak/MIX/latency-vs-rate.svg and .png   session latency p50/p99 against offered rate
#     (the PNG through a one-page PDF and pdftoppm: this machine has no SVG rasteriser)
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
if [ -n "${KOFU:-}" ]; then kofu=$KOFU; else  # KOFU=path: a release binary built already
  swift build -c release --product kofu >/dev/null
  kofu=$repo/.build/release/kofu
fi
work=$(mktemp -d /tmp/kofu-peak-XXXXXX)
cd "$work"
replica_args=(); backend="SQLite (embedded)"
if [ -n "${REPLICA_URL:-}" ]; then replica_args=(--replica-url "$REPLICA_URL"); backend="PostgreSQL ([replica] url)"; fi
"$kofu" demo --keep-serving --root "$repo" "${replica_args[@]}" >demo.out 2>demo.err &
demo=$!
trap 'kill -TERM $demo 2>/dev/null || true; wait $demo 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "serving until" demo.out 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*serving the Center API on \(http:[^ ]*\) .*/\1/p' demo.out)
[ -n "$url" ] || { echo "kofu demo did not start" >&2; cat demo.err >&2; exit 1; }
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $machine; server and load generator share them"
echo "server: $url (kofu demo --keep-serving, release build, pid $demo), replica: $backend"
# CPU seconds of a PostgreSQL cluster: the postmaster with its reaped children, and its live children.
db_cpu() {
  python3 - "$1" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
def stat(pid):
    with open(f"/proc/{pid}/stat") as f: return f.read().rsplit(")", 1)[1].split()
root = sys.argv[1]
s = stat(root)
total = sum(int(v) for v in s[11:15])
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            t = stat(pid)
        except OSError:
            continue
        if t[1] == root: total += int(t[11]) + int(t[12])
print(total / tick)
PY
}
status=0
for rate in $rates; do
  [ -z "${DB_PID:-}" ] || before=$(db_cpu "$DB_PID")
  "$kofu" loadtest --demo "$work/kofu-demo" --url "$url" --rate "$rate" --duration "$duration" \
    --concurrency "$concurrency" --scenario "$scenario" --mix "$mix" --server-pid "$demo" --report "$out/peak-$rate.json" \
    2>/dev/null | sed "s/^/[$rate\/s] /" || status=1
  [ -z "${DB_PID:-}" ] || python3 -c "print(round($(db_cpu "$DB_PID") - $before, 2))" >"$out/peak-$rate.db-cpu"
  sleep 2
done
MACHINE="$machine" DURATION="$duration" CONCURRENCY="$concurrency" SCENARIO="$scenario" MIX="$mix" BACKEND="$backend" \
  python3 - "$out" $rates <<'PY'
import json, os, sys
out, rates = sys.argv[1], [int(r) for r in sys.argv[2:]]
runs = []
for r in rates:
    with open(f"{out}/peak-{r}.json") as f:
        runs.append(json.load(f))
    if os.path.exists(f"{out}/peak-{r}.db-cpu"):
        with open(f"{out}/peak-{r}.db-cpu") as f: runs[-1]["cpuSeconds"]["database"] = float(f.read())
database = any("database" in j["cpuSeconds"] for j in runs)
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
                f"{j['checked']}/{j['issuances']} | {ms(cpu['server'])} | {ms(cpu['loadGenerator'])} | "
                + (f"{ms(cpu.get('database'))} | " if database else "") + f"{'yes' if sustained else 'no'} |")
md = [f"Machine: {os.environ['MACHINE']}. Replica: {os.environ['BACKEND']}. Scenario `{os.environ['SCENARIO']}`, mix `{os.environ['MIX']}`, "
      f"open loop, {os.environ['DURATION']} s per rate, {os.environ['CONCURRENCY']} connections; server (`kofu demo --keep-serving`), "
      + ("PostgreSQL " if database else "") + "and load generator on the same cores.",
      "",
      "| offered sessions/s | achieved sessions/s | issuances/s (201) | session p50 ms | session p99 ms | issuance p50 ms | issuance p99 ms | wrong answers | PDFs checked | server CPU s | loadgen CPU s | "
      + ("database CPU s | " if database else "") + "sustained |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | " + ("---: | " if database else "") + ":---: |"] + rows + [""]
md.append("Sustained: 0 wrong answers, nothing left unsent, ≥ 95 % of the offered rate achieved and session p99 ≤ 500 ms "
          "(session latency is measured from the planned send time, so queueing shows).")
md.append(f"Highest sustained offered rate: {best['rate'] if best else 'none'}/s; saturation: "
          + (f"{saturation['rate']}/s" if saturation else f"not reached up to {rates[-1]}/s") + ".")
with open(f"{out}/peak.md", "w") as f: f.write("\n".join(md) + "\n")
print("\n".join(md))
# The plot: p50 and p99 session latency (log scale) against offered rate, as primitives drawn
# twice: an SVG, and a one-page PDF (Helvetica) that pdftoppm rasterises to the PNG.
import math
W, H, L, R, T, B = 760, 440, 70, 20, 30, 60
xs = [j["rate"] for j in runs]
lat = [(j["latencyMs"]["session"]["p50"] or 0.1, j["latencyMs"]["session"]["p99"] or 0.1) for j in runs]
lo, hi = 1, max(10, max(p for _, p in lat) * 1.5)
def X(v): return L + v / (max(xs) * 1.05) * (W - L - R)
def Y(v): return T + (1 - (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))) * (H - T - B)
prims = []  # (kind, ...) in SVG coordinates (y down)
def line(x1, y1, x2, y2, c="#000000", w=1, dash=False): prims.append(("line", x1, y1, x2, y2, c, w, dash))
def text(x, y, s, anchor="start", size=12, c="#000000", rot=False): prims.append(("text", x, y, s, anchor, size, c, rot))
def dot(x, y, c): prims.append(("dot", x, y, c))
title = f"kofu loadtest: session latency against offered rate ({os.environ['SCENARIO']}, mix {os.environ['MIX']}, open loop)"
text(W / 2, 18, title, "middle", 14)
d = 1
while d <= hi:
    for m in (1, 2, 5):
        v = d * m
        if lo <= v <= hi:
            line(L, Y(v), W - R, Y(v), "#dddddd")
            text(L - 6, Y(v) + 4, f"{v:g}", "end")
    d *= 10
for x in xs:
    line(X(x), T, X(x), H - B, "#eeeeee")
    text(X(x), H - B + 16, str(x), "middle")
line(L, T, L, H - B); line(L, H - B, W - R, H - B)
what = "eligibility + issuance" if os.environ["MIX"] == "kiosk" else "issuance requests"
text((L + W - R) / 2, H - 18, f"offered rate (sessions/s: {what})", "middle")
text(20, (T + H - B) / 2, "latency (ms, log scale)", "middle", 12, "#000000", True)
for k, colour, name in ((0, "#1f77b4", "p50"), (1, "#d62728", "p99")):
    pts = [(X(x), Y(l[k])) for x, l in zip(xs, lat)]
    for (x1, y1), (x2, y2) in zip(pts, pts[1:]): line(x1, y1, x2, y2, colour, 2)
    for x, y in pts: dot(x, y, colour)
    text(L + 12, T + 18 + 16 * k, name, "start", 12, colour)
if saturation:
    line(X(saturation["rate"]), T, X(saturation["rate"]), H - B, "#999999", 1, True)
    text(X(saturation["rate"]) - 4, T + 12, "saturation", "end", 12, "#666666")
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="Helvetica, sans-serif">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
def esc(s): return s.replace("&", "&amp;").replace("<", "&lt;")
for p in prims:
    if p[0] == "line":
        _, x1, y1, x2, y2, c, w, dash = p
        svg.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{c}" stroke-width="{w}"'
                   + (' stroke-dasharray="4 3"' if dash else "") + "/>")
    elif p[0] == "text":
        _, x, y, s, anchor, size, c, rot = p
        svg.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{c}" text-anchor="{anchor}"'
                   + (f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rot else "") + f">{esc(s)}</text>")
    else:
        _, x, y, c = p
        svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"/>')
svg.append("</svg>")
with open(f"{out}/latency-vs-rate.svg", "w") as f: f.write("\n".join(svg) + "\n")
def rgb(c): return " ".join(f"{int(c[i:i + 2], 16) / 255:.3f}" for i in (1, 3, 5))
ops = ["1 1 1 rg 0 0 %d %d re f" % (W, H)]
for p in prims:
    if p[0] == "line":
        _, x1, y1, x2, y2, c, w, dash = p
        ops.append(f"{rgb(c)} RG {w} w " + ("[4 3] 0 d " if dash else "[] 0 d ") + f"{x1:.1f} {H - y1:.1f} m {x2:.1f} {H - y2:.1f} l S")
    elif p[0] == "text":
        _, x, y, s, anchor, size, c, rot = p
        width = 0.52 * size * len(s)
        shift = {"start": 0, "middle": width / 2, "end": width}[anchor]
        s = s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        if rot:
            ops.append(f"BT {rgb(c)} rg /F1 {size} Tf 0 1 -1 0 {x:.1f} {H - y - shift:.1f} Tm ({s}) Tj ET")
        else:
            ops.append(f"BT {rgb(c)} rg /F1 {size} Tf {x - shift:.1f} {H - y:.1f} Td ({s}) Tj ET")
    else:
        _, x, y, c = p
        ops.append(f"{rgb(c)} rg {x - 3:.1f} {H - y - 3:.1f} 6 6 re f")
content = "\n".join(ops).encode("latin-1", "replace")
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {W} {H}] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
pdf, offsets = b"%PDF-1.4\n", []
for i, o in enumerate(objs):
    offsets.append(len(pdf))
    pdf += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
xref = len(pdf)
pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % x for x in offsets)
pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
with open(f"{out}/latency-vs-rate.pdf", "wb") as f: f.write(pdf)
PY
pdftoppm -png -r 96 -singlefile "$out/latency-vs-rate.pdf" "$out/latency-vs-rate"
rm -f "$out/latency-vs-rate.pdf"
echo "wrote $out/peak.md, $out/latency-vs-rate.png"
exit $status

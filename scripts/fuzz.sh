#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/ (ASan + libFuzzer, release) and runs each for a bounded
# time, one after the other. Exits 1 on any crash, leak, timeout or out-of-memory of any harness
# (the reproducer is kept under the scratch folder and named in the output).
#
#   bash scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]     (default: 20 s, every harness)
#
# New inputs go to a scratch copy (KOFU_FUZZ_WORK, default a fresh temporary folder); the committed
# seeds in Fuzz/corpus/ are only read. docs/fuzzing.md has the harnesses and the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
all=(json jws payload syncbatch extractline extract cert crl png toml shape)
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")

# Per harness: the longest input tried and the dictionary, if any.
max_len() {
    case $1 in
        shape) echo 512 ;;
        payload) echo 2048 ;;
        json | extractline | toml) echo 4096 ;;
        jws | syncbatch | cert | crl) echo 8192 ;;
        extract | png) echo 16384 ;;
    esac
}
dict() {
    case $1 in
        json) echo Fuzz/dict/json.dict ;;
        jws) echo Fuzz/dict/jws.dict ;;
        payload) echo Fuzz/dict/payload.dict ;;
        syncbatch | extractline | extract) echo Fuzz/dict/replica.dict ;;
        toml) echo Fuzz/dict/toml.dict ;;
    esac
}

work=${KOFU_FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/kofu-fuzz.XXXXXX")}
mkdir -p "$work"
# Release by default: as many or more features per minute than debug here (docs/fuzzing.md), and
# Swift's overflow and bounds checks stay on with -O. KOFU_FUZZ_CONFIGURATION=debug for the other.
configuration=${KOFU_FUZZ_CONFIGURATION:-release}
# swiftc keeps only the last -sanitize= flag, and SwiftPM passes --sanitize=fuzzer --sanitize=address
# as two: without the combined flag the code has ASan but no coverage (libFuzzer sees one edge).
build=(swift build --package-path Fuzz -c "$configuration" --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)
if ! "${build[@]}" >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    echo "fuzz.sh: the sanitised build failed (log $work/build.log)" >&2
    exit 1
fi
binary=$("${build[@]}" --show-bin-path)/KofuFuzz
failed=()
printf '%-12s %8s %9s %7s %7s %12s %8s  %s\n' harness seconds execs exec/s cov ft corpus result
for h in "${harnesses[@]}"; do
    [ -d "Fuzz/corpus/$h" ] || { echo "fuzz.sh: no harness $h (one of: ${all[*]})" >&2; exit 2; }
    mkdir -p "$work/$h/corpus" "$work/$h/artifacts"
    log=$work/$h/fuzz.log
    options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$h")"
             -print_final_stats=1 -artifact_prefix="$work/$h/artifacts/")
    d=$(dict "$h")
    [ -z "$d" ] || options+=(-dict="$d")
    status=0
    KOFU_FUZZ_HARNESS=$h "$binary" "${options[@]}" "$work/$h/corpus" "Fuzz/corpus/$h" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    # The last status line: "#N  DONE  cov: C ft: F corp: U/S ...".
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    if [ "$status" -eq 0 ]; then result=ok; else result="FAILED (exit $status, log $log)"; failed+=("$h"); fi
    printf '%-12s %8s %9s %7s %7s %12s %8s  %s\n' "$h" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
    if [ "$status" -ne 0 ]; then
        grep -E 'ERROR: |SUMMARY: |invariant broken|Fatal error|Test unit written|Base64' "$log" | head -n 12 | sed 's/^/    /'
    fi
done
echo "fuzz.sh: scratch corpora, logs and any reproducers in $work"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: ${#failed[@]} harness(es) failed: ${failed[*]}" >&2
    exit 1
fi

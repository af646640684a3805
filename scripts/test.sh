#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# A real PostgreSQL for the replica conformance suite (and the multi-server tests), on loopback,
# stopped and deleted on exit. KOFU_REQUIRE_POSTGRES=1 makes the PostgreSQL cases fail rather
# than skip if the URL were missing, so that CI cannot pass without running them.
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop "$KOFU_POSTGRES_DIR"' EXIT
export KOFU_TEST_POSTGRES_URL KOFU_REQUIRE_POSTGRES=1
swift test --skip-build
# A short run of every libFuzzer harness (docs/fuzzing.md): a parser that now crashes fails CI.
bash scripts/fuzz.sh 15

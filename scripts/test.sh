#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
# A short run of every libFuzzer harness (docs/fuzzing.md): a parser that now crashes fails CI.
bash scripts/fuzz.sh 15

#!/usr/bin/env bash
# Every libFuzzer target for about 20 s from its seed corpus (ASan + UBSan).
# The test suite fuzzes with a fixed seed, so a red run can be replayed
# exactly and the suite does not turn red at random; exploring with new seeds
# for hours is `tools/dev fuzz` (see fuzz/README.md). FUZZ_SEED overrides it.
set -euo pipefail
export FUZZ_SEED="${FUZZ_SEED:-1129}"
exec bash "$(dirname "$0")/../fuzz.sh" "${FUZZ_SECONDS:-20}"

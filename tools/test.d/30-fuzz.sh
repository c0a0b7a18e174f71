#!/usr/bin/env bash
# Every libFuzzer target for about 20 s from its seed corpus (ASan + UBSan).
set -euo pipefail
exec bash "$(dirname "$0")/../fuzz.sh" "${FUZZ_SECONDS:-20}"

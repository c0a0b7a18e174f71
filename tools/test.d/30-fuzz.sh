#!/usr/bin/env bash
# Every libFuzzer target for about 11 s from its seed corpus (ASan + UBSan),
# then the targets with tree maps (map, mixed) for about 14 s on a build of
# tiny trees whose map key hashes keep 6 bits: deep paths, keys that
# collide in full, collision nodes.
# The test suite fuzzes with a fixed seed, so a red run can be replayed
# exactly and the suite does not turn red at random; exploring with new seeds
# for hours is `tools/dev fuzz` (see fuzz/README.md). FUZZ_SEED overrides it.
set -euo pipefail
export FUZZ_SEED="${FUZZ_SEED:-1129}"
fuzz="$(dirname "$0")/../fuzz.sh"
bash "$fuzz" "${FUZZ_SECONDS:-11}"
FUZZ_TINY_TREES=1 FUZZ_HASH_BITS=6 FUZZ_TARGETS="map mixed" exec bash "$fuzz" "${FUZZ_SHAPE_SECONDS:-14}"

#!/usr/bin/env bash
# Stage: the library built with tiny trees (4 children per inner node, 16
# bytes of elements per leaf), so that a few hundred elements make a tree
# many levels deep: the unit tests (every strategy, the tree counts of
# vectors and maps) and the fuzz corpus replayed against such trees, with
# ASan and UBSan.
# Then a build whose map keys collide in full (-Dhash_bits=6: 64 hash
# values, so tree maps hold chains of one-child nodes down to collision
# nodes and flat tables long probe runs): the generic map tests of every
# strategy, the tree map's counter test and the ADAPTIVE tests (maps that
# become trees; not the million-entry ones), with ASan and UBSan, at -O0
# (a quarter of the compile time of -O2; these tests run in seconds). Only
# those: the other tests meet maps in passing, and test_map_keys' churn
# test bounds memory in a way that degenerate hashing defeats.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_packages "${BASE_PACKAGES[@]}" clang libclang-rt-14-dev
strict="['-fno-sanitize-recover=all']"
[ -f build-tiny/build.ninja ] || CC=clang CXX=clang++ meson setup build-tiny "$ROOT" \
    --wrap-mode=nodownload -Dwerror=true -Dhash_seed=$TEST_HASH_SEED -Dtree_bits=2 -Dtree_leaf_bytes=16 -Dtree_counters=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args="$strict" -Dcpp_args="$strict" >/dev/null
ninja -C build-tiny -j2 >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-tiny --print-errorlogs --num-processes 2 --no-rebuild --suite api --suite fuzz

collision_tests=(map_lazy map_eager map_threshold map_structural map_tree_counters adaptive)
[ -f build-collisions/build.ninja ] || CC=clang CXX=clang++ meson setup build-collisions "$ROOT" \
    --wrap-mode=nodownload -Dbuildtype=debug -Dwerror=true -Dhash_seed=$TEST_HASH_SEED -Dhash_bits=6 -Dtree_counters=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args="$strict" -Dcpp_args="$strict" >/dev/null
ninja -C build-collisions -j2 "${collision_tests[@]/#/tests/test_}" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-collisions --print-errorlogs --num-processes 2 --no-rebuild \
    --test-args='--test-case-exclude=*[large]*' "${collision_tests[@]}"

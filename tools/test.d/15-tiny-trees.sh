#!/usr/bin/env bash
# Stage: the library built with tiny trees (4 children per inner node, 16
# bytes of elements per leaf), so that a few hundred elements make a tree
# many levels deep: the unit tests (every strategy, the tree counts) and the
# fuzz corpus replayed against such trees, with ASan and UBSan.
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

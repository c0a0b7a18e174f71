#!/usr/bin/env bash
# The whole unit test suite (and the fuzz regression replays) built by clang
# with AddressSanitizer + UndefinedBehaviorSanitizer, then the threaded tests
# under ThreadSanitizer. Any report fails the stage.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_packages "${BASE_PACKAGES[@]}" clang libclang-rt-14-dev

# UBSan reports abort the test instead of printing and going on.
strict="['-fno-sanitize-recover=all']"
build_asan() {
    [ -f build-asan/build.ninja ] || CC=clang CXX=clang++ meson setup build-asan "$ROOT" \
        --wrap-mode=nodownload -Dwerror=true -Dhash_seed=$TEST_HASH_SEED -Dtree_counters=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args="$strict" -Dcpp_args="$strict" >/dev/null
    ninja -C build-asan -j2 >/dev/null
}
build_tsan() {
    [ -f build-tsan/build.ninja ] || CC=clang CXX=clang++ meson setup build-tsan "$ROOT" \
        --wrap-mode=nodownload -Dwerror=true -Dhash_seed=$TEST_HASH_SEED -Db_sanitize=thread -Db_lundef=false >/dev/null
    ninja -C build-tsan -j2 tests/test_threads tests/test_stress >/dev/null
}

start=$SECONDS
build_asan
echo "   asan+ubsan build: $((SECONDS - start)) s"
start=$SECONDS
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 --no-rebuild
echo "   asan+ubsan tests: $((SECONDS - start)) s"

start=$SECONDS
build_tsan
echo "   tsan build: $((SECONDS - start)) s"
start=$SECONDS
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C build-tsan --print-errorlogs --num-processes 1 --no-rebuild threads stress
echo "   tsan tests: $((SECONDS - start)) s"

#!/usr/bin/env bash
# Builds the libFuzzer targets (clang; ASan + UBSan; libcow itself compiled
# with coverage instrumentation) in build-fuzz and runs each for SECONDS from
# a copy of its seed corpus plus its regression inputs. Fails on any finding.
#   tools/fuzz.sh [SECONDS]            every target, SECONDS each (default 60)
#   FUZZ_TARGETS="str mixed"           only these targets
#   FUZZ_JOBS=N                        N parallel fuzzing processes per target
#   FUZZ_MERGE=1                       merge what was found into fuzz/corpus/<t>
#   FUZZ_SEED=N                        libFuzzer's random seed (default: a new one each run)
#   FUZZ_TINY_TREES=1                  build with 4-way trees and 16-byte leaves (build-fuzz-tiny),
#                                      so that trees many levels deep come from short inputs
#   FUZZ_HASH_BITS=N                   keep only the low N bits of map key hashes (build-fuzz-collide,
#                                      or build-fuzz-tiny-collide), so that keys collide in full
#                                      and map trees build collision nodes
#   FUZZ_BUILD=DIR                     build and run in DIR instead (one directory per tree shape)
# Findings are kept in build-fuzz/findings/<target>/ (see fuzz/README text).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SECS="${1:-60}"
BUILD=build-fuzz
tree_options=()
if [ "${FUZZ_TINY_TREES:-0}" = 1 ]; then
    BUILD=build-fuzz-tiny
    tree_options=(-Dtree_bits=2 -Dtree_leaf_bytes=16)
fi
hash_bits="${FUZZ_HASH_BITS:-64}"
if [ "$hash_bits" != 64 ]; then
    BUILD="$BUILD-collide"
fi
BUILD="${FUZZ_BUILD:-$BUILD}"
ensure_packages "${BASE_PACKAGES[@]}" clang libclang-rt-14-dev

# libcow is built with -fsanitize=fuzzer-no-link so that libFuzzer sees the
# coverage of the library, not only of the harness; UBSan findings abort.
flags="['-fsanitize=fuzzer-no-link','-fno-sanitize-recover=all']"
options=(-Dfuzzing=true -Dtests=false -Db_lundef=false -Db_sanitize=address,undefined -Dhash_seed=$TEST_HASH_SEED
         -Dhash_bits="$hash_bits" -Dc_args="$flags" -Dcpp_args="$flags" "${tree_options[@]}")
if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$BUILD" "$ROOT" --wrap-mode=nodownload "${options[@]}" >/dev/null
else
    # whatever it was set up with before; --reconfigure knows options added since
    meson setup --reconfigure "$BUILD" "$ROOT" "${options[@]}" >/dev/null
fi
# Only the targets asked for (each is a long compile); errors are shown.
build_targets=()
for t in ${FUZZ_TARGETS:-}; do build_targets+=("fuzz/fuzz_$t"); done
if ! out="$(ninja -C "$BUILD" -j2 "${build_targets[@]}" 2>&1)"; then
    tail -40 <<<"$out"
    exit 1
fi

targets="${FUZZ_TARGETS:-$(find "$BUILD/fuzz" -maxdepth 1 -type f -executable -name 'fuzz_*' \
    ! -name 'fuzz_replay_*' -printf '%f\n' | sed 's/^fuzz_//' | sort)}"
# Nothing to run is a broken setup, never a pass.
[ -n "$targets" ] || { echo "no libFuzzer targets in $BUILD/fuzz (-Dfuzzing=true with clang?)"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
summary=()
for t in $targets; do
    bin="$BUILD/fuzz/fuzz_$t"
    [ -x "$bin" ] || { echo "no fuzz target $t"; exit 2; }
    mkdir -p "$work/$t" "$BUILD/findings/$t"
    cp fuzz/corpus/"$t"/* "$work/$t/" 2>/dev/null || true
    args=(-max_total_time="$SECS" -malloc_limit_mb=256 -rss_limit_mb=2560 -timeout=20
          -dict=fuzz/cow.dict -print_final_stats=1 -artifact_prefix="$BUILD/findings/$t/")
    if [ -n "${FUZZ_SEED:-}" ]; then
        args+=(-seed="$FUZZ_SEED")
    fi
    if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
        args+=(-fork="$FUZZ_JOBS" -ignore_crashes=0)
    fi
    log="$work/$t.log"
    echo "== fuzz_$t: ${SECS} s"
    if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
       "$bin" "${args[@]}" "$work/$t" "fuzz/regressions/$t" >"$log" 2>&1; then
        ok=ok
    else
        ok=FAILED
        status=1
        grep -E "check failed|unexpected status|ERROR:|runtime error|SUMMARY" "$log" | head -5 || true
        ls -1 "$BUILD/findings/$t/" | sed 's/^/   finding: /'
        tail -40 "$log"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E "(DONE|pulse|NEW|REDUCE) +cov:" "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    summary+=("fuzz_$t: ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus $(ls "$work/$t" | wc -l) - $ok")
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$ok" = ok ]; then
        "$bin" -merge=1 "fuzz/corpus/$t" "$work/$t" >/dev/null 2>&1
    fi
done
echo "== fuzz summary (${SECS} s each)"
for s in "${summary[@]}"; do echo "   $s"; done
if [ "$status" -ne 0 ]; then
    echo "== a fuzzer found a problem: minimise it with"
    echo "   $BUILD/fuzz/fuzz_<t> -minimize_crash=1 -runs=100000 -exact_artifact_path=fuzz/regressions/<t>/<name> <finding>"
    echo "   and replay it: $BUILD/fuzz/fuzz_<t> fuzz/regressions/<t>/<name> (COW_FUZZ_TRACE=1 prints the calls)"
fi
exit "$status"

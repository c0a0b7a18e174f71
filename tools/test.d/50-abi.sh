#!/usr/bin/env bash
# Stage: the public headers and the ABI stay stable.
#
# 1. Every public header (include/*.h, include/*.hpp) compiles on its own,
#    included twice, with -Wall -Wextra -pedantic -Werror: cow.h as C99, C11,
#    C++17 and C++20, the C++ header as C++17 and C++20, with gcc and clang.
# 2. libcow.so, built with -g (buildtype debugoptimized) by g++, is compared
#    with the committed baseline abi/libcow.abi.xml by abidiff:
#      exit bit 8 (incompatible change, e.g. a removed function) -> fail
#      exit bit 4 alone (any other change: an added function, or a changed
#        type that abidiff does not call incompatible, such as a struct that
#        grew) -> fail too: the baseline is stale. Review the change; if it is
#        meant and compatible, regenerate the baseline and add a line to
#        CHANGELOG.md in the same commit, so that every ABI change is recorded.
#
# Regenerate the baseline (after a reviewed, compatible ABI change):
#     bash tools/test.d/50-abi.sh --update
# It writes abi/libcow.abi.xml with
#     abidw --no-corpus-path --no-comp-dir-path --no-show-locs --exported-interfaces-only \
#           --headers-dir include --drop-private-types --out-file abi/libcow.abi.xml \
#           build-consumers/capi/libcow.so.0
# (the options keep build paths, line numbers and internal types out of it).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_packages "${BASE_PACKAGES[@]}" clang abigail-tools

BUILD=build-consumers
BASELINE=abi/libcow.abi.xml
TMP="$(mktemp -d "${TMPDIR:-/tmp}/libcow-abi.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# ---- 1. headers ---------------------------------------------------------------
check_headers() {
    local passed=0 failed=0 h name tu compiler std lang
    for h in include/*.h include/*.hpp; do
        [ -e "$h" ] || continue
        name="$(basename "$h")"
        # The header alone, twice (include guard), plus a use of one symbol.
        tu="$TMP/only_${name%.*}"
        printf '#include <%s>\n#include <%s>\nint main(void) { return cow_version() == 0; }\n' \
            "$name" "$name" >"$tu.c"
        cp "$tu.c" "$tu.cpp"
        local combos=()
        case "$h" in
        *.h) combos=("gcc c99 c" "gcc c11 c" "clang c99 c" "clang c11 c"
                     "g++ c++17 c++" "g++ c++20 c++" "clang++ c++17 c++" "clang++ c++20 c++") ;;
        *.hpp) combos=("g++ c++17 c++" "g++ c++20 c++" "clang++ c++17 c++" "clang++ c++20 c++") ;;
        esac
        for combo in "${combos[@]}"; do
            read -r compiler std lang <<<"$combo"
            local extra=() src="$tu.cpp"
            [ "$lang" = c ] && { extra=(-Wstrict-prototypes); src="$tu.c"; }
            if "$compiler" -std="$std" -Wall -Wextra -pedantic -Werror "${extra[@]}" \
                -fsyntax-only -Iinclude "$src" 2>"$TMP/err"; then
                passed=$((passed + 1))
            else
                failed=$((failed + 1))
                echo "FAILED: $name alone with $compiler -std=$std"
                cat "$TMP/err"
            fi
        done
    done
    echo "header checks: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

# ---- 2. ABI -------------------------------------------------------------------
build_library() {
    # g++ always: the baseline's debug information comes from g++. The build
    # dir is shared with 40-consumers.sh (same options), so it is built once.
    CC=gcc CXX=g++ configure "$BUILD" -Dbuildtype=debugoptimized -Dtests=false -Ddefault_library=both
    meson compile -C "$BUILD" cow >/dev/null
    LIB="$BUILD/capi/libcow.so.0"
    readelf -S "$LIB" >"$TMP/sections"
    grep -q '\.debug_info' "$TMP/sections" || { echo "$LIB has no debug information (-g)"; return 1; }
}

dump_abi() { # dump_abi OUT
    abidw --no-corpus-path --no-comp-dir-path --no-show-locs --exported-interfaces-only \
        --headers-dir include --drop-private-types --out-file "$1" "$LIB"
}

compare_abi() {
    if [ ! -f "$BASELINE" ]; then
        echo "no ABI baseline ($BASELINE): create it with: bash tools/test.d/50-abi.sh --update"
        return 1
    fi
    dump_abi "$TMP/current.xml"
    local rc=0
    abidiff "$BASELINE" "$TMP/current.xml" >"$TMP/abidiff.txt" 2>&1 || rc=$?
    local functions
    functions="$(grep -c '<elf-symbol name=' "$TMP/current.xml" || true)"
    if [ "$rc" -eq 0 ]; then
        echo "ABI matches $BASELINE ($functions exported symbols, SONAME libcow.so.0)"
        return 0
    fi
    cat "$TMP/abidiff.txt"
    if [ $((rc & 3)) -ne 0 ]; then
        echo "abidiff failed to run (exit $rc)"
    elif [ $((rc & 8)) -ne 0 ]; then
        echo "INCOMPATIBLE ABI CHANGE (abidiff exit $rc): existing programs would break."
        echo "Restore the old interface (add new functions instead of changing old ones)."
    else
        echo "The ABI changed (abidiff exit $rc: not flagged incompatible) and $BASELINE is stale."
        if grep -q "size changed" "$TMP/abidiff.txt"; then
            echo "Careful: a struct changed size. That is compatible only for a struct that starts"
            echo "with its own size field (cow.h, STABILITY); callers built against the old header"
            echo "allocate the old size."
        fi
        echo "If the change is meant, update the baseline and add a line to CHANGELOG.md in the"
        echo "same commit:"
        echo "    bash tools/test.d/50-abi.sh --update"
    fi
    return 1
}

update_baseline() {
    mkdir -p "$(dirname "$BASELINE")"
    dump_abi "$BASELINE"
    echo "wrote $BASELINE ($(grep -c '<elf-symbol name=' "$BASELINE") exported symbols)."
    echo "Add a line to CHANGELOG.md describing the ABI change, in the same commit."
}

start=$SECONDS
if [ "${1:-}" = "--update" ]; then
    build_library
    update_baseline
    exit 0
fi
check_headers
echo "   ($((SECONDS - start)) s)"
build_library
compare_abi
echo "   ($((SECONDS - start)) s in all)"

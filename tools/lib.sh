# Shared helpers for tools/dev and its stages (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Installs the Debian packages that are missing (apt-get; sudo when not root).
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "== installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

BASE_PACKAGES=(meson ninja-build g++ clang pkg-config python3 libfmt-dev doctest-dev binutils)

# meson setup (or reconfigure) a build directory with extra options. Every
# developer build treats warnings as errors (the project default does not, so
# that packagers' own flags never break a build).
# Every build made here fixes the hash seed (TEST_HASH_SEED), so that a
# failure replays with the same table layouts.
TEST_HASH_SEED=0x5eed5eed5eed5eed
configure() {
    local dir="$1"; shift
    if [ -f "$dir/build.ninja" ]; then
        # --reconfigure reads meson_options.txt again: an option added since
        # the directory was set up is known.
        meson setup --reconfigure "$dir" "$ROOT" -Dwerror=true -Dhash_seed=$TEST_HASH_SEED "$@" >/dev/null
    else
        meson setup "$dir" "$ROOT" --wrap-mode=nodownload -Dwerror=true -Dhash_seed=$TEST_HASH_SEED "$@" >/dev/null
    fi
}

# Runs a named stage and prints how long it took.
STAGE_TIMES=()
run_stage() {
    local name="$1"; shift
    local start=$SECONDS
    echo "== stage: $name"
    if "$@"; then
        STAGE_TIMES+=("$name: $((SECONDS - start)) s ok")
    else
        STAGE_TIMES+=("$name: $((SECONDS - start)) s FAILED")
        print_stage_times
        echo "== FAILED: $name"
        exit 1
    fi
}
print_stage_times() {
    echo "== stage times"
    for t in "${STAGE_TIMES[@]}"; do echo "   $t"; done
}

# ninja, quiet on success; on failure its output (compiler errors) is shown.
build_quietly() {
    local log
    log="$(mktemp)"
    if ! ninja -C "$1" >"$log" 2>&1; then
        tail -60 "$log"
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

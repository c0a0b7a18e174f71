#!/usr/bin/env bash
# The unit tests (suite "api") under valgrind memcheck: invalid accesses,
# uninitialised reads and leaks all fail. Left out: the stress test (TSan
# covers it, valgrind serialises its threads) and test cases whose name
# contains "[large]" (huge allocations are slow under valgrind).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_packages "${BASE_PACKAGES[@]}" valgrind

configure build-valgrind -Dbuildtype=debugoptimized
ninja -C build-valgrind -j2 >/dev/null
tests=$(meson test -C build-valgrind --list --suite api --no-rebuild 2>/dev/null |
        sed -n 's/^libcow:api \/ //p' | grep -vx stress)
# shellcheck disable=SC2086
meson test -C build-valgrind --suite api --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 10 --test-args='--test-case-exclude=*[large]*' \
    --wrapper 'valgrind --quiet --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-origins=yes' \
    $tests

#!/usr/bin/env bash
# The unit tests (suite "api") under valgrind memcheck: invalid accesses,
# uninitialised reads and leaks all fail. Left out: the stress test (TSan
# covers it, valgrind serialises its threads), test cases whose name
# contains "[large]" (huge allocations are slow under valgrind), and the
# generic vector and map tests of the EAGER, THRESHOLD, STRUCTURAL and
# ADAPTIVE strategies (vec_/map_eager, _threshold, _structural, _adaptive;
# ADAPTIVE's own tests in test_adaptive stay): ASan+UBSan run them
# in 20-sanitizers.sh and with tiny trees in 15-tiny-trees.sh (the map ones
# with colliding keys there too). Valgrind keeps their LAZY runs, the flat
# layouts' own tests and the tree tests (vec_tree, vec_versions, threads),
# which bound what it alone would see (uninitialised reads).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_packages "${BASE_PACKAGES[@]}" valgrind

configure build-valgrind -Dbuildtype=debugoptimized
tests=$(meson test -C build-valgrind --list --suite api --no-rebuild 2>/dev/null |
        sed -n 's/^libcow:api \/ //p' | grep -vxE 'stress|(vec|map)_(eager|threshold|structural|adaptive)')
# Only the programs run here (each test's is tests/test_NAME).
# shellcheck disable=SC2046
ninja -C build-valgrind -j2 $(printf 'tests/test_%s ' $tests) >/dev/null
# shellcheck disable=SC2086
meson test -C build-valgrind --suite api --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 10 --test-args='--test-case-exclude=*[large]*' \
    --wrapper 'valgrind --quiet --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-origins=yes' \
    $tests

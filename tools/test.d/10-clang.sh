# Stage: the library, unit tests and benchmarks also build (release, -O3, no
# warnings) and the tests pass with clang 14.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ensure_packages clang libbenchmark-dev
cd "$ROOT"
CC=clang CXX=clang++ configure build-clang -Dbuildtype=release -Dbench=true
ninja -C build-clang >/dev/null
meson test -C build-clang --print-errorlogs --num-processes 2 --suite api --suite abi

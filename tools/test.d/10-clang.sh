# Stage: the library and unit tests also build and pass with clang 14.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ensure_packages clang
cd "$ROOT"
if [ ! -f build-clang/build.ninja ]; then
    CC=clang CXX=clang++ meson setup build-clang "$ROOT" --wrap-mode=nodownload \
        -Dwerror=true -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-clang >/dev/null
meson test -C build-clang --print-errorlogs --num-processes 2 --suite api --suite abi

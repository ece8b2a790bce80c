#!/usr/bin/env bash
# tests/consumer/run.sh BUILD_DIR — the installed library as a downstream project sees it: installs
# BUILD_DIR (an already built wgf build folder) into a temporary prefix, checks that the exported
# target carries no build-machine flags (-march, sanitizers), then configures, builds and runs the
# standalone project in this folder against it with find_package(wgf) (CMAKE_PREFIX_PATH only).
# Cleans up after itself; exits non-zero on any failure.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wgf-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"   # find_dependency(CUDAToolkit)

cmake --install "$build_dir" --prefix "$tmp/prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
config=$(find "$tmp/prefix" -name wgfTargets.cmake | head -n 1)
[ -n "$config" ] || { echo "consumer: no wgfTargets.cmake under the install prefix" >&2; exit 1; }
if grep -n -E -- '-march|-fsanitize' "$(dirname "$config")"/wgfTargets*.cmake; then
    echo "consumer: the exported wgf::wgf carries build-machine flags (above)" >&2
    exit 1
fi

cmake -S "$here" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" || exit 1
# The test's working folder is the temporary one (nothing is written next to the sources).
(cd "$tmp" && "$tmp/build/wgf_consumer")

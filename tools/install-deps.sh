#!/usr/bin/env bash
# Installs wgf's build and test dependencies from Debian packages (idempotent).
#   doctest-dev       unit tests (doctest + CTest)
#   libbenchmark-dev  microbenchmarks (Google Benchmark)
#   libeigen3-dev     host small dense products (Eigen 3.4, header-only)
#   libopenblas-dev   host large GEMMs (OpenBLAS; faster than Eigen's product at W >= 512, docs/PERFORMANCE.md)
#   libtomlplusplus-dev  `wgf run` config files (toml++)
#   libcli11-dev         `wgf run` command line (CLI11)
#   nlohmann-json3-dev   `wgf run` summaries (JSON)
#   cmake, ninja-build, g++
#   clang             the sanitizer build (preset ci-sanitize) and the fuzz targets (clang 14 on bookworm)
#   libclang-rt-14-dev   clang's ASan/UBSan/libFuzzer runtimes (libclang_rt.*.a; only recommended by
#                        clang-14, so named here for --no-install-recommends)
#   libomp-dev        OpenMP for clang (libomp; g++ uses libgomp from libgcc)
# The CUDA toolkit is not installed here: it is used when nvcc is already on the machine.
set -euo pipefail
pkgs=(cmake ninja-build g++ doctest-dev libbenchmark-dev libeigen3-dev libopenblas-dev libtomlplusplus-dev libcli11-dev
      nlohmann-json3-dev clang libclang-rt-14-dev libomp-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all present (${pkgs[*]})"
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"

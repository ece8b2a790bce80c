#!/usr/bin/env bash
# make_corpus.sh BUILD_DIR — regenerates tests/fuzz/corpus/ (and the hand-made regressions/) with
# wgf_fuzz_make_corpus from BUILD_DIR (any configured build with tests). The output is checked in;
# rerun after a file format changes, then check `git status tests/fuzz`.
set -euo pipefail
build=${1:?usage: tests/fuzz/make_corpus.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
cmake --build "$build" --target wgf_fuzz_make_corpus -j2
rm -rf "$here/corpus"
"$build/tests/fuzz/wgf_fuzz_make_corpus" "$here"
du -sh "$here/corpus" "$here/regressions"

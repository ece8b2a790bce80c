#!/usr/bin/env bash
# tools/fuzz-smoke.sh BUILD_DIR SECONDS_PER_TARGET — a short libFuzzer run of every file-reader target
# (tests/fuzz/README.md) of a build configured with -DWGF_BUILD_FUZZERS=ON (clang), e.g. from .ci/run:
#   tools/fuzz-smoke.sh build/ci-sanitize 20
# Each target starts from a scratch copy of its checked-in corpus (tests/fuzz/corpus/<target>/, never
# modified) plus tests/fuzz/regressions/<target>/. Limits:
#   -rss_limit_mb=2048   no input may drive the process past 2 GiB: a reader allocates at most a small
#                        multiple of its input (≤ 16 nested flow-end copies) and a config at most 2^24
#                        dense values (128 MiB) a few times over; the rest is ASan's shadow and
#                        quarantine and libFuzzer's in-memory corpus (~0.5–1 GiB together).
#   -malloc_limit_mb=512 one allocation over 512 MiB is a bug: nothing a fuzz input (≤ a few KiB; the
#                        largest seed is < 4 KiB) can describe needs it, the config's 128 MiB matrix
#                        being the largest legitimate buffer; a count taken from the file unchecked
#                        (2^61 doubles, D = 100000 → 80 GB) trips it at once.
#   -timeout=60          one input may take a minute under ASan (a D = 4096 Cholesky in a config);
#                        more is a hang.
# A crash, leak, sanitizer report, limit or timeout is saved under BUILD_DIR/fuzz-crashes/<target>/
# and the script exits 1 naming the folder; reproduce with BUILD_DIR/tests/fuzz/fuzz_<target> FILE,
# then add FILE to tests/fuzz/regressions/<target>/ with the fix.
set -uo pipefail
build=${1:?usage: tools/fuzz-smoke.sh BUILD_DIR SECONDS_PER_TARGET}
secs=${2:?usage: tools/fuzz-smoke.sh BUILD_DIR SECONDS_PER_TARGET}
root=$(cd "$(dirname "$0")/.." && pwd)
targets=(icnn flow step npy raw config logreg observations)
crashes=$(cd "$build" && pwd)/fuzz-crashes
work=$(mktemp -d "${TMPDIR:-/tmp}/wgf-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
start=$(date +%s)
for t in "${targets[@]}"; do
    exe=$build/tests/fuzz/fuzz_$t
    if [[ ! -x $exe ]]; then
        echo "fuzz-smoke: $exe is missing (configure with -DWGF_BUILD_FUZZERS=ON and build it)" >&2
        exit 2
    fi
    mkdir -p "$work/$t" "$crashes/$t"
    cp -r "$root/tests/fuzz/corpus/$t/." "$work/$t/"
    extra=()
    [[ -d $root/tests/fuzz/regressions/$t ]] && extra+=("$root/tests/fuzz/regressions/$t")
    log=$crashes/$t.log
    # Leaks in one input are findings too (detect_leaks is libFuzzer's default with ASan).
    if UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=60 \
        -artifact_prefix="$crashes/$t/" -print_final_stats=1 "$work/$t" "${extra[@]}" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "fuzz-smoke: $t: ok (${runs:-?} inputs in ${secs} s)"
    else
        echo "fuzz-smoke: $t: FAILED — inputs in $crashes/$t/, log $log" >&2
        grep -m3 -E 'ERROR|SUMMARY|==[0-9]+==' "$log" >&2 || tail -5 "$log" >&2
        failed+=("$t")
    fi
done
echo "fuzz-smoke: $(( $(date +%s) - start )) s for ${#targets[@]} targets"
if (( ${#failed[@]} > 0 )); then
    echo "fuzz-smoke: failures in: ${failed[*]} (saved under $crashes)" >&2
    exit 1
fi

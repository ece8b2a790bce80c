#!/usr/bin/env bash
# gpu-check.sh — the CUDA checks of wgf on a bare GPU machine (nvcc, cmake, ninja; no Debian dev
# packages: no doctest, Eigen or Google Benchmark; no network), from a build made elsewhere and
# carried along. Run from the repository root.
#
#   Here (a machine with the dev packages), once per change:
#     cmake -S . -B build/gpu -G Ninja -DWGF_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DWGF_CUDA_EMULATION_TESTS=OFF \
#           -DCMAKE_BUILD_TYPE=Release -DWGF_HOST_ARCH=
#     cmake --build build/gpu
#     tools/gpu-check.sh --prepare            # copies the shared libraries a bare machine may lack
#                                             # (libbenchmark, libgomp, …) into build/gpu/lib and
#                                             # deletes the object files (size limit of the carry)
#   There (carry build/gpu along):
#     tools/gpu-check.sh                      # nvidia-smi -L, ctest -L cuda (must pass, not skip),
#                                             # bench_icnn and bench_jko --benchmark_filter=cuda
#                                             # (BM_jko_step_cuda: whole solver steps, CUDA graphs
#                                             # on and off), bench_cuda_ops (each op of a training
#                                             # chunk validated against the host op, then timed),
#                                             # markdown tables
#     tools/gpu-check.sh --sanitize           # instead of the benchmarks and OU runs: the two CUDA
#                                             # test binaries under compute-sanitizer memcheck and
#                                             # racecheck (issue "Trust"; ≤ 4 × 120 s)
#
# Options: [--prepare] [BUILD_DIR] (default build/gpu, or $WGF_GPU_BUILD). Results go to $OUT when it
# is set (gpu-check.md, bench_icnn_cuda.json, bench_jko_cuda.json, ctest.log), else to
# BUILD_DIR/gpu-check/. Exit status 0 only when the cuda tests passed and the benchmarks ran. The
# carried build is required: the tests need doctest and the benchmarks Google Benchmark, which a bare
# machine does not have, so building there is not attempted. Then the OU experiment on the device
# (wgf ou, D = 2 and 12, one instance, pretraining and identity init). Budget (worst case 590 s,
# under the device tool's 600 s per call): ctest ≤ 200 s, bench_icnn and bench_jko ≤ 90 s each, bench_cuda_ops ≤ 60 s, OU ≤ 150 s.
set -u -o pipefail

prepare=0
sanitize=0
build=""
for arg in "$@"; do
    case "$arg" in
        --prepare) prepare=1 ;;
        --sanitize) sanitize=1 ;;
        -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
        -*) echo "gpu-check: unknown option $arg" >&2; exit 2 ;;
        *) build="$arg" ;;
    esac
done
build="${build:-${WGF_GPU_BUILD:-build/gpu}}"

die() { echo "gpu-check: ERROR: $*" >&2; exit 1; }

[ -f "$build/CMakeCache.txt" ] || die "no carried build at '$build' (no CMakeCache.txt). Build it on a machine with
  the dev packages (doctest, Eigen, Google Benchmark) and carry it along; see the top of $0:
    cmake -S . -B $build -G Ninja -DWGF_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DWGF_CUDA_EMULATION_TESTS=OFF -DCMAKE_BUILD_TYPE=Release -DWGF_HOST_ARCH=
    cmake --build $build && tools/gpu-check.sh --prepare $build"
build_abs="$(cd "$build" && pwd -P)"
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n 1; }

# The executables whose libraries matter: tests, benchmarks, the command-line tool, libwgf itself.
binaries() {
    find "$build_abs" -maxdepth 2 -type f \( -name 'test_*' -o -name 'bench_*' -o -name 'wgf' -o -name 'libwgf.so*' \) \
        -perm -u+x 2>/dev/null
}

# ---- --prepare (here) ---------------------------------------------------------------------------------
if [ "$prepare" = 1 ]; then
    [ -x "$build/tests/test_icnn_cuda" ] ||
        die "$build/tests/test_icnn_cuda is missing: configure with -DWGF_ENABLE_CUDA=ON and build it (cmake --build $build)"
    [ -x "$build/bench/bench_icnn" ] || echo "gpu-check: warning: $build/bench/bench_icnn is missing (benchmarks will fail there)"
    archs="$(cache_value CMAKE_CUDA_ARCHITECTURES)"
    case ";$archs;" in *";90;"* | *";90-real;"* | *";90a;"* | *";90a-real;"*) ;; *)
        echo "gpu-check: warning: CMAKE_CUDA_ARCHITECTURES='$archs' has no 90: on an H200 the kernels are JIT-compiled from PTX" ;;
    esac
    lib="$build_abs/lib"
    mkdir -p "$lib"
    # Present on any machine that can run these binaries (C/C++ runtime, the CUDA driver and the
    # toolkit's own libraries, which the GPU machine's CUDA provides): not copied. libstdc++ is not
    # copied on purpose: an older one on LD_LIBRARY_PATH would break ctest or python3 there.
    skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libgcc_s\.so|libstdc\+\+\.so|libcuda\.so|libcudart\.so|libcublas|libcublasLt|libcusolver|libcusparse|libnvJitLink|libwgf\.so)'
    copied=0
    while read -r name path; do
        [ -n "$path" ] || continue
        echo "$name" | grep -Eq "$skip" && continue
        case "$path" in "$build_abs"/*) continue ;; esac
        cp -L "$path" "$lib/$name"
        echo "gpu-check: copied $path -> $lib/$name"
        copied=$((copied + 1))
    done < <(for b in $(binaries); do ldd "$b" 2>/dev/null; done |
        awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u)
    # Object files are not needed there and the carried tree is limited to 64 MiB (the next build
    # here recompiles from scratch).
    find "$build_abs" -name '*.o' -delete
    size="$(du -sm "$build_abs" | cut -f1)"
    echo "gpu-check: prepared $build ($copied libraries in $build/lib, ${size} MiB in all)"
    [ "$size" -lt 60 ] || echo "gpu-check: warning: $build is ${size} MiB; the carried tree is limited to 64 MiB"
    echo "gpu-check: on the GPU machine run 'tools/gpu-check.sh $build' with '$build' carried along"
    exit 0
fi

# ---- the check (on the GPU machine) -----------------------------------------------------------------
out="${OUT:-$build_abs/gpu-check}"
mkdir -p "$out"
report="$out/gpu-check.md"
export LD_LIBRARY_PATH="$build_abs/lib:$build_abs:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
say() { echo "$*" | tee -a "$report"; }
: >"$report"

say "# wgf gpu-check"
say ""
say "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
if commit="$(git rev-parse --short HEAD 2>/dev/null)"; then
    git diff --quiet HEAD 2>/dev/null || commit="$commit (+ local changes)"
else
    commit="unknown (no git here)"
fi
say "- commit: $commit"
say "- build: $build (CUDA architectures $(cache_value CMAKE_CUDA_ARCHITECTURES), $(cache_value CMAKE_BUILD_TYPE))"
if command -v nvidia-smi >/dev/null 2>&1; then
    gpus="$(nvidia-smi -L 2>&1)" || { say "- nvidia-smi -L failed: $gpus"; status=1; }
    say "- GPUs: $(echo "$gpus" | tr '\n' ';' | sed 's/;$//')"
    say "- driver: $(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
else
    say "- nvidia-smi: not found"
    status=1
fi
say ""

# Libraries the binaries cannot find here.
missing="$(for b in $(binaries); do ldd "$b" 2>/dev/null | grep 'not found'; done | sort -u)"
if [ -n "$missing" ]; then
    say "**Missing shared libraries** (run --prepare where the build was made, or check the CUDA toolkit here):"
    say '```'
    say "$missing"
    say '```'
    status=1
fi

# CTest files and RUNPATHs hold the absolute paths of the machine that configured the build. When
# those paths do not exist here, recreate them as links to the carried tree.
orig_src="$(cache_value CMAKE_HOME_DIRECTORY)"
orig_build="$(cache_value CMAKE_CACHEFILE_DIR)"
if [ -n "$orig_build" ] && [ ! -e "$orig_build/CMakeCache.txt" ]; then
    if [ -n "$orig_src" ] && [ ! -e "$orig_src" ] && [ "$build_abs" = "$(pwd -P)/${orig_build#"$orig_src"/}" ]; then
        mkdir -p "$(dirname "$orig_src")" && ln -s "$(pwd -P)" "$orig_src"
    else
        mkdir -p "$(dirname "$orig_build")" && ln -sfn "$build_abs" "$orig_build"
    fi 2>/dev/null || echo "gpu-check: warning: cannot link $orig_build to $build_abs; ctest may not find the tests"
fi

# ---- tests ------------------------------------------------------------------------------------------------
say "## CUDA tests"
say ""
ctest_log="$out/ctest.log"
if command -v ctest >/dev/null 2>&1 && [ -e "$orig_build/CMakeCache.txt" ]; then
    timeout 200 ctest --test-dir "$build" -L cuda --output-on-failure --timeout 190 >"$ctest_log" 2>&1
    rc=$?
    summary="$(grep -E 'tests passed|tests failed|Passed|Failed|Skipped|\*\*\*' "$ctest_log" | tail -n 8)"
    if [ $rc -ne 0 ]; then
        say "FAILED (ctest exit $rc)"
        status=1
    elif grep -q 'Skipped\|Not Run' "$ctest_log" || ! grep -q 'Passed' "$ctest_log"; then
        say "FAILED: the cuda tests were skipped or did not run (no device seen?)"
        status=1
    else
        say "passed"
    fi
else  # no ctest, or no usable CTest files: run the test binaries themselves (0 passed, 77 skipped)
    : >"$ctest_log"
    for t in test_icnn_cuda test_train_cuda; do
        timeout 120 "$build/tests/$t" >>"$ctest_log" 2>&1
        rc=$?
        case $rc in
            0) say "$t passed (run directly)" ;;
            77) say "FAILED: $t reports skipped (no CUDA device seen)"; status=1 ;;
            *) say "FAILED ($t exit $rc)"; status=1 ;;
        esac
    done
    summary="$(tail -n 8 "$ctest_log")"
fi
say ""
say '```'
say "$summary"
say '```'
[ $status -eq 0 ] || tail -n 60 "$ctest_log"
say ""

# ---- compute-sanitizer (--sanitize): memory errors and shared-memory races in the CUDA suites ---------
if [ "$sanitize" = 1 ]; then
    say "## compute-sanitizer (memcheck, racecheck) over the CUDA suites"
    say ""
    say "| tool | binary | result |"
    say "| --- | --- | --- |"
    if ! command -v compute-sanitizer >/dev/null 2>&1; then
        say "| – | – | FAILED: compute-sanitizer not found (it ships with the CUDA toolkit) |"
        status=1
    else
        for tool in memcheck racecheck; do
            for t in test_icnn_cuda test_train_cuda; do
                log="$out/sanitize_${tool}_$t.log"
                timeout 120 compute-sanitizer --tool "$tool" --error-exitcode 86 "$build/tests/$t" >"$log" 2>&1
                rc=$?
                case $rc in
                    0) result="clean ($(grep -Eo 'ERROR SUMMARY: [0-9]+ errors?' "$log" | tail -n 1))" ;;
                    86) result="FAILED: errors reported (see $(basename "$log"))"; status=1 ;;
                    124) result="timed out after 120 s (not a verdict)"; status=1 ;;
                    77) result="FAILED: skipped (no device seen)"; status=1 ;;
                    *) result="FAILED (exit $rc)"; status=1 ;;
                esac
                say "| $tool | $t | $result |"
            done
        done
    fi
    say ""
    say "result: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
    exit $status
fi

# ---- benchmarks -------------------------------------------------------------------------------------
# run_bench NAME LIMIT: $build/bench/NAME --benchmark_filter=cuda (at most LIMIT s), JSON to $out/NAME_cuda.json, a table.
run_bench() {
    local name="$1" limit="$2" json="$out/$1_cuda.json" bench="$build/bench/$1" rc errors
    say "## CUDA benchmarks ($name --benchmark_filter=cuda)"
    say ""
    if [ ! -x "$bench" ]; then
        say "FAILED: $bench is missing"
        status=1
        return
    fi
    # JSON to stdout as asked of the benchmark, kept out of this log; the same JSON goes to $json.
    timeout "$limit" "$bench" --benchmark_filter=cuda --benchmark_min_time=0.2 --benchmark_format=json \
        --benchmark_out="$json" >"$out/.bench_stdout.json" 2>"$out/.bench_stderr.txt"
    rc=$?
    if [ $rc -ne 0 ] || [ ! -s "$json" ]; then
        say "FAILED ($name exit $rc$([ $rc -eq 124 ] && echo ", timed out after $limit s"))"
        tail -n 20 "$out/.bench_stderr.txt"
        status=1
    fi
    if [ -s "$json" ]; then
        errors="$(grep -c '"error_occurred": *true' "$json")"
        if [ "$errors" -gt 0 ]; then
            say "FAILED: $errors benchmarks reported an error (see the note column)"
            status=1
        fi
        if command -v python3 >/dev/null 2>&1 && python3 - "$json" >"$out/.table.md" 2>/dev/null <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
ctx = data.get("context", {})
print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, {ctx.get('date', '')}")
print()
print("| name | points/s | GFLOP/s | note |")
print("| --- | ---: | ---: | --- |")
fmt = lambda v: f"{v:.4g}" if v is not None else "–"
for b in data.get("benchmarks", []):
    note = b.get("error_message", "") if b.get("error_occurred") else b.get("label", "")
    print(f"| {b.get('name', '?')} | {fmt(b.get('points_per_s'))} | {fmt(b.get('GFLOPs'))} | {note} |")
EOF
        then
            cat "$out/.table.md" >>"$report"
            cat "$out/.table.md"
        else  # awk fallback: Google Benchmark writes one key per line
            awk '
                function flush() { if (name != "") printf "| %s | %s | %s | %s |\n", name, pts, gf, note; name = "" }
                BEGIN { print "| name | points/s | GFLOP/s | note |"; print "| --- | ---: | ---: | --- |" }
                /^[ \t]*"name":/ { flush(); name = $0; sub(/^[^:]*: *"/, "", name); sub(/",?[ \t]*$/, "", name); pts = "–"; gf = "–"; note = "" }
                /^[ \t]*"points_per_s":/ { v = $2; sub(/,$/, "", v); pts = sprintf("%.4g", v) }
                /^[ \t]*"GFLOPs":/ { v = $2; sub(/,$/, "", v); gf = sprintf("%.4g", v) }
                /^[ \t]*"(label|error_message)":/ { note = $0; sub(/^[^:]*: *"/, "", note); sub(/",?[ \t]*$/, "", note) }
                END { flush() }' "$json" | tee -a "$report"
        fi
    fi
    rm -f "$out/.bench_stdout.json" "$out/.bench_stderr.txt" "$out/.table.md"
    say ""
}
run_bench bench_icnn 90
run_bench bench_jko 90
run_bench bench_cuda_ops 60  # validates every op against the host first; exit 1 on a mismatch

# ---- the main job on the device -------------------------------------------------------------------------
say "## OU flows on the device (wgf ou --backend cuda, reference configuration, one instance)"
say ""
say '```'
for init in pretrain identity; do
    timeout 75 "$build/tools/wgf" ou --dims 2,12 --instances 1 --backend cuda --init "$init" --quiet \
        >"$out/ou_$init.txt" 2>&1
    rc=$?
    cat "$out/ou_$init.txt" | tee -a "$report" >/dev/null
    cat "$out/ou_$init.txt"
    [ $rc -eq 0 ] || { say "wgf ou --init $init: exit $rc$([ $rc -eq 124 ] && echo ' (timed out after 75 s)')"; status=1; }
done
say '```'
say ""
say "result: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
[ -n "${OUT:-}" ] || echo "gpu-check: report in $report"
exit $status

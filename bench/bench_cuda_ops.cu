// bench_cuda_ops.cu — the CUDA ops of one training chunk, one at a time (llm.c's dev/cuda habit):
// first every op is validated against the host op it mirrors (cuda_op_checks.h, at each benchmarked
// shape with 64 points, in double to 1e-10 and float to 1e-3 of each tensor's scale; a failure stops
// the program before any timing), then each op is timed on the device with CUDA events on a chunk of
// P points in float, and the whole chunk (every op in order: forward and backward of the JKO loss's
// ICNN part, without Φ and the loss sums). Arguments {D, W, P}, L = 2, r = 5. Counters: points_per_s.
// The same ops on the host: bench_ops_host. Without a CUDA device the program says so and exits 0.
//   build/<preset>/bench/bench_cuda_ops --benchmark_filter=values_forward
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/cuda_op_checks.h"

namespace {

using namespace wgf;

struct Shape {
    int D, W, P;
};
const std::vector<Shape> kShapes = {{2, 64, 1024}, {12, 256, 1024}, {12, 1024, 512}, {32, 1024, 256}};

IcnnShape icnn_shape(const Shape& s) { return IcnnShape::uniform(s.D, s.W, 2, 5); }

template <typename T>
bool validate(Context& ctx, const Shape& s, double bound) {
    bool ok = true;
    for (const auto& c : op_checks::validate_chunk_ops<T>(ctx, icnn_shape(s), 64, 11)) {
        if (c.rel_err <= bound) continue;
        std::printf("VALIDATION FAILED (%s, D=%d W=%d): %s %s: relative error %.3g > %.3g (scale %.3g)\n",
                    sizeof(T) == 8 ? "double" : "float", s.D, s.W, c.op.c_str(), c.tensor.c_str(), c.rel_err, bound,
                    c.scale);
        ok = false;
    }
    return ok;
}

/// Times op (or the whole chunk: op < 0) with CUDA events around each repetition.
void time_op(benchmark::State& state, Context& ctx, const Shape& s, int op) {
    const op_checks::ChunkInputs<float> in(icnn_shape(s), s.P, 11);
    op_checks::DeviceChunk<float> chunk(ctx, icnn_shape(s), in.params, in.x, in.ybar, in.logdet_bar);
    op_checks::run_chunk(chunk);  // every tensor an op reads is in place
    cudaEvent_t start, stop;
    WGF_CUDA_CHECK(cudaEventCreate(&start));
    WGF_CUDA_CHECK(cudaEventCreate(&stop));
    for (auto _ : state) {
        WGF_CUDA_CHECK(cudaEventRecord(start, chunk.st.stream));
        if (op < 0)
            op_checks::run_chunk(chunk);
        else
            op_checks::run_chunk_op(chunk, op);
        WGF_CUDA_CHECK(cudaEventRecord(stop, chunk.st.stream));
        WGF_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        WGF_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        state.SetIterationTime(ms * 1e-3);
    }
    WGF_CUDA_CHECK(cudaEventDestroy(start));
    WGF_CUDA_CHECK(cudaEventDestroy(stop));
    state.counters["points_per_s"] = benchmark::Counter(double(s.P), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("bench_cuda_ops: no CUDA device, nothing to time\n");
        return 0;
    }
    Context ctx(Backend::Cuda);
    bool ok = true;
    for (const Shape& s : kShapes) ok = validate<double>(ctx, s, 1e-10) && validate<float>(ctx, s, 1e-3) && ok;
    if (!ok) return 1;
    std::printf("bench_cuda_ops: every op validated against the host at every shape (double 1e-10, float 1e-3)\n");
    for (const Shape& s : kShapes)
        for (int op = -1; op < op_checks::kChunkOps; ++op) {
            const std::string name = std::string("BM_cuda_op/") + (op < 0 ? "chunk" : op_checks::chunk_op_name(op)) +
                                     "/D:" + std::to_string(s.D) + "/W:" + std::to_string(s.W) + "/P:" +
                                     std::to_string(s.P);
            benchmark::RegisterBenchmark(name.c_str(), [&ctx, s, op](benchmark::State& st) { time_op(st, ctx, s, op); })
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
        }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// bench_icnn.cpp — Hessian log-det throughput: one icnn_eval computing ψ, ∇ψ, ∇²ψ and log det ∇²ψ for a
// batch of N points, for the reference's shapes (L = 2, r = 5), on host and (when present) CUDA.
// Counters: points_per_s, and GFLOPs = icnn_eval_flops_per_point(shape) · N / time — the DESIGN.md §5
// nominal model 2ΣW_lW_{l−1}D + 2(1+r)ΣW_lD² + D³/3 (wgf's algorithm does fewer flops for the
// quadratic-form Hessian term, so this slightly overstates work done; it is the fixed yardstick).
// Arguments: {D, W, N}. A validity check (finite log det, status 0) runs before timing.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "wgf/wgf.h"

namespace {

using namespace wgf;

const std::vector<std::vector<std::int64_t>> kShapes = {
    // {D, W}: the reference's experiment shapes plus the two it was timed on (8/64, 13/512)
    {2, 256}, {8, 64}, {12, 64}, {13, 512}, {12, 1024}, {32, 1024}, {64, 1024}};

void apply_shapes(benchmark::internal::Benchmark* b) {
    for (const auto& s : kShapes)
        for (std::int64_t n : {512, 1024}) b->Args({s[0], s[1], n});
    b->ArgNames({"D", "W", "N"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

template <typename T>
void run_eval(benchmark::State& state, Backend backend) {
    if (backend == Backend::Cuda && !cuda_available()) {
        state.SkipWithError("no CUDA device");
        return;
    }
    const int D = static_cast<int>(state.range(0)), W = static_cast<int>(state.range(1));
    const std::int64_t N = state.range(2);
    const IcnnShape shape = IcnnShape::uniform(D, W, 2, 5);
    const Icnn<T> net = Icnn<T>::random(shape, 42);
    Rng rng(7);
    std::vector<T> x(static_cast<std::size_t>(N * D));
    for (auto& v : x) v = static_cast<T>(rng.normal());

    Context ctx(backend);
    const std::size_t n = static_cast<std::size_t>(N), d = static_cast<std::size_t>(D);
    // Device-resident buffers on CUDA so that the timing excludes PCIe transfers.
    std::vector<T> h_value(n), h_grad(n * d), h_hess(n * d * d), h_logdet(n);
    std::vector<std::int32_t> h_status(n);
    DeviceBuffer<T> d_params, d_x, d_value, d_grad, d_hess, d_logdet;
    DeviceBuffer<std::int32_t> d_status;
    const T* params = net.data();
    const T* px = x.data();
    IcnnOutputs<T> out{h_value.data(), h_grad.data(), h_hess.data(), h_logdet.data(), h_status.data()};
    if (backend == Backend::Cuda) {
        d_params = DeviceBuffer<T>(net.data(), net.size());
        d_x = DeviceBuffer<T>(x.data(), x.size());
        d_value = DeviceBuffer<T>(n);
        d_grad = DeviceBuffer<T>(n * d);
        d_hess = DeviceBuffer<T>(n * d * d);
        d_logdet = DeviceBuffer<T>(n);
        d_status = DeviceBuffer<std::int32_t>(n);
        params = d_params.data();
        px = d_x.data();
        out = IcnnOutputs<T>{d_value.data(), d_grad.data(), d_hess.data(), d_logdet.data(), d_status.data()};
    }

    // Validity check before timing.
    icnn_eval(ctx, shape, params, px, N, out);
    ctx.synchronize();
    if (backend == Backend::Cuda) {
        d_logdet.download(h_logdet.data(), n);
        d_status.download(h_status.data(), n);
    }
    for (std::size_t i = 0; i < n; ++i)
        if (h_status[i] != 0 || !std::isfinite(h_logdet[i])) {
            state.SkipWithError("validity check failed: non-finite log det or failed Cholesky");
            return;
        }

    for (auto _ : state) {
        icnn_eval(ctx, shape, params, px, N, out);
        ctx.synchronize();
    }
    const double points = static_cast<double>(state.iterations()) * static_cast<double>(N);
    state.SetItemsProcessed(static_cast<std::int64_t>(points));
    state.counters["points_per_s"] = benchmark::Counter(points, benchmark::Counter::kIsRate);
    state.counters["GFLOPs"] =
        benchmark::Counter(points * icnn_eval_flops_per_point(shape) * 1e-9, benchmark::Counter::kIsRate);
    state.SetLabel(ctx.describe());
}

template <typename T>
void BM_icnn_eval_host(benchmark::State& state) {
    run_eval<T>(state, Backend::Host);
}
template <typename T>
void BM_icnn_eval_cuda(benchmark::State& state) {
    run_eval<T>(state, Backend::Cuda);
}

BENCHMARK_TEMPLATE(BM_icnn_eval_host, float)->Apply(apply_shapes);
BENCHMARK_TEMPLATE(BM_icnn_eval_host, double)->Apply(apply_shapes);
BENCHMARK_TEMPLATE(BM_icnn_eval_cuda, float)->Apply(apply_shapes);
BENCHMARK_TEMPLATE(BM_icnn_eval_cuda, double)->Apply(apply_shapes);

}  // namespace

BENCHMARK_MAIN();

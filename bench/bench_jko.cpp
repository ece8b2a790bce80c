// bench_jko.cpp — training and density throughput on the host (CUDA training is not implemented yet):
//   BM_jko_iteration: one JKO training iteration (loss + backward through the tape + Adam + projection)
//                     on N points, points/s and GFLOP/s against DESIGN §5's 3 × eval model;
//   BM_identity_iteration: one pretraining iteration (no Hessian);
//   BM_push: ∇ψ on N points (sampling through a map), points/s;
//   BM_inverse: Newton inversion of one map on N points, points/s.
// Arguments {D, W, N}; quadratic (OU) potential; L = 2, r = 5.
#include <benchmark/benchmark.h>

#include <vector>

#include "wgf/wgf.h"
#include "wgf/adam.h"
#include "wgf/flow.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

namespace {

using namespace wgf;

void shapes(benchmark::internal::Benchmark* b) {
    for (const auto& s : std::vector<std::vector<std::int64_t>>{{2, 64, 1024}, {8, 64, 1024}, {12, 64, 1024},
                                                                {13, 512, 1024}, {12, 1024, 512}})
        b->Args(s);
    b->ArgNames({"D", "W", "N"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

template <typename T>
struct Setup {
    IcnnShape shape;
    Icnn<T> net;
    std::vector<T> x;
    std::unique_ptr<QuadraticPotential<T>> pot;
    explicit Setup(const benchmark::State& st) {
        const int D = static_cast<int>(st.range(0));
        shape = IcnnShape::uniform(D, static_cast<int>(st.range(1)), 2, 5);
        net = Icnn<T>::random(shape, 3);
        Rng rng(4);
        x.resize(static_cast<std::size_t>(st.range(2) * D));
        for (auto& v : x) v = static_cast<T>(rng.normal());
        std::vector<double> A(static_cast<std::size_t>(D * D), 0.0), m(static_cast<std::size_t>(D), 0.3);
        for (int i = 0; i < D; ++i) A[static_cast<std::size_t>(i * D + i)] = 1.5;
        pot = std::make_unique<QuadraticPotential<T>>(A, m);
    }
};

/// One training iteration per benchmark iteration: `loss` fills the gradient, then Adam + projection.
template <typename T, typename Loss>
void run_training(benchmark::State& state, Setup<T>& s, Loss loss) {
    Context ctx(Backend::Host);
    Adam<T> adam(ctx, s.net.size(), AdamOptions{});
    std::vector<T> grad(s.net.size());
    for (auto _ : state) {
        loss(ctx, grad.data());
        adam.step(s.net.data(), grad.data());
        s.net.project();
    }
    state.counters["points_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * state.range(2)), benchmark::Counter::kIsRate);
    state.SetLabel(ctx.describe());
}

template <typename T>
void BM_jko_iteration(benchmark::State& state) {
    Setup<T> s(state);
    const std::int64_t N = state.range(2);
    run_training(state, s, [&](Context& ctx, T* grad) {
        jko_loss(ctx, s.shape, s.net.data(), s.x.data(), N, *s.pot, JkoLossOptions{}, grad);
    });
    // DESIGN §5: forward + backward ≈ 3 × the evaluation cost.
    state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations() * N) * 3 *
                                                      icnn_eval_flops_per_point(s.shape) * 1e-9,
                                                  benchmark::Counter::kIsRate);
}

template <typename T>
void BM_identity_iteration(benchmark::State& state) {
    Setup<T> s(state);
    const std::int64_t N = state.range(2);
    run_training(state, s, [&](Context& ctx, T* grad) { identity_loss(ctx, s.shape, s.net.data(), s.x.data(), N, grad); });
}

template <typename T>
void BM_push(benchmark::State& state) {
    Setup<T> s(state);
    Context ctx(Backend::Host);
    const std::int64_t N = state.range(2);
    std::vector<T> y(s.x.size());
    for (auto _ : state) icnn_eval(ctx, s.net, s.x.data(), N, IcnnOutputs<T>{nullptr, y.data()});
    state.counters["points_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * N), benchmark::Counter::kIsRate);
}

template <typename T>
void BM_inverse(benchmark::State& state) {
    Setup<T> s(state);
    Context ctx(Backend::Host);
    const int D = s.shape.dim;
    std::vector<double> eye(static_cast<std::size_t>(D * D), 0.0);
    for (int i = 0; i < D; ++i) eye[static_cast<std::size_t>(i * D + i)] = 1.0;
    Flow<T> flow(Gaussian(std::vector<double>(static_cast<std::size_t>(D), 0.0), eye));
    flow.push_back(s.net, 0.05);
    const std::int64_t N = state.range(2);
    std::vector<T> yt(s.x.size());
    icnn_eval(ctx, s.net, s.x.data(), N, IcnnOutputs<T>{nullptr, yt.data()});
    const std::vector<double> y(yt.begin(), yt.end());
    InverseReport rep;
    for (auto _ : state) {
        std::vector<double> x = y;
        rep.iterations.assign(static_cast<std::size_t>(N), 0);
        rep.residual.assign(static_cast<std::size_t>(N), 0.0);
        rep.converged.assign(static_cast<std::size_t>(N), 1);
        flow.invert_map(ctx, 0, x, InverseOptions{}, rep);
    }
    if (rep.failures() != 0) state.SkipWithError("inversion did not converge for some points");
    state.counters["points_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * N), benchmark::Counter::kIsRate);
}

BENCHMARK_TEMPLATE(BM_jko_iteration, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_iteration, double)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_identity_iteration, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_push, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_inverse, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_inverse, double)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();

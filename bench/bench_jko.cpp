// bench_jko.cpp — training and density throughput, host and CUDA (suffix _host / _cuda; the CUDA
// ones skip without a device and keep parameters, gradient and batch in device memory):
//   BM_jko_iteration: one JKO training iteration (loss + backward + Adam + projection, i.e. what the
//                     solver runs per iteration, including the loss value's device→host copy) on N
//                     points, points/s and GFLOP/s against DESIGN §5's 3 × eval model;
//   BM_identity_iteration: one pretraining iteration (no Hessian);
//   BM_push: ∇ψ on N points (sampling through a map), points/s;
//   BM_inverse: Newton inversion of one map on N points (host vectors; on CUDA every Newton
//               iteration stages through the device), points/s.
//   BM_jko_iteration_convergence: the iteration on the convergence study's shapes (PAPER-SPEC §7.1–7.2:
//                     D = 12 at W = 256…1024, D = 32 and 64 at W = 1024) with its potential (10 unit
//                     Gaussians, centres in [−5, 5]^D) and points from ρ⁰ = N(0, 16 I), whose large
//                     inputs reach the softplus tails (denormals in float without FlushDenormals).
//   BM_jko_step: a whole JKO step of 50 iterations through JkoSolver (what a flow runs: on CUDA the
//                step's inputs uploaded once, the iterations replayed from a CUDA graph with
//                graphs = 1 or launched one by one with graphs = 0 (WGF_CUDA_GRAPHS), the losses read
//                back once), iterations/s and points/s per training iteration, the step's set-up
//                (pool of 16 N points from ρ⁰, identity initialisation) included.
// Arguments {D, W, N}; quadratic (OU) potential unless said; L = 2, r = 5.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "wgf/wgf.h"
#include "wgf/adam.h"
#include "wgf/device_buffer.h"
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
    std::unique_ptr<Potential<T>> pot;
    explicit Setup(const benchmark::State& st, bool convergence = false) {
        const int D = static_cast<int>(st.range(0));
        shape = IcnnShape::uniform(D, static_cast<int>(st.range(1)), 2, 5);
        net = Icnn<T>::random(shape, 3);
        Rng rng(4);
        x.resize(static_cast<std::size_t>(st.range(2) * D));
        for (auto& v : x) v = static_cast<T>((convergence ? 4.0 : 1.0) * rng.normal());
        if (convergence) {
            const int K = 10;
            std::vector<double> w(K, 1.0), mu(static_cast<std::size_t>(K * D)), cov(static_cast<std::size_t>(K * D * D), 0.0);
            for (auto& v : mu) v = -5.0 + 10.0 * rng.uniform();
            for (int k = 0; k < K; ++k)
                for (int i = 0; i < D; ++i) cov[static_cast<std::size_t>((k * D + i) * D + i)] = 1.0;
            pot = std::make_unique<GaussianMixturePotential<T>>(w, mu, cov, D);
            return;
        }
        std::vector<double> A(static_cast<std::size_t>(D * D), 0.0), m(static_cast<std::size_t>(D), 0.3);
        for (int i = 0; i < D; ++i) A[static_cast<std::size_t>(i * D + i)] = 1.5;
        pot = std::make_unique<QuadraticPotential<T>>(A, m);
    }
};

bool skip_without_device(benchmark::State& state, Backend backend) {
    if (backend == Backend::Cuda && !cuda_available()) {
        state.SkipWithError("no CUDA device");
        return true;
    }
    return false;
}

/// One training iteration per benchmark iteration: `loss(ctx, params, x, grad)` fills the gradient,
/// then Adam + projection. Parameters, gradient and points live in ctx's memory space.
template <typename T, typename Loss>
void run_training(benchmark::State& state, Backend backend, Setup<T>& s, Loss loss) {
    Context ctx(backend);
    Adam<T> adam(ctx, s.net.size(), AdamOptions{});
    std::vector<T> grad_host(s.net.size());
    T* params = s.net.data();
    T* grad = grad_host.data();
    const T* x = s.x.data();
    DeviceBuffer<T> d_params, d_grad, d_x;
    if (backend == Backend::Cuda) {
        d_params = DeviceBuffer<T>(s.net.data(), s.net.size());
        d_grad = DeviceBuffer<T>(s.net.size());
        d_x = DeviceBuffer<T>(s.x.data(), s.x.size());
        params = d_params.data();
        grad = d_grad.data();
        x = d_x.data();
    }
    for (auto _ : state) {
        loss(ctx, params, x, grad);
        adam.step(params, grad);
        icnn_project(ctx, s.shape, params);
    }
    ctx.synchronize();
    state.counters["points_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * state.range(2)), benchmark::Counter::kIsRate);
    state.SetLabel(ctx.describe());
}

void convergence_shapes(benchmark::internal::Benchmark* b) {
    for (const auto& s : std::vector<std::vector<std::int64_t>>{{12, 256, 512}, {12, 512, 512}, {12, 1024, 512},
                                                                {32, 1024, 512}, {64, 1024, 512}})
        b->Args(s);
    b->ArgNames({"D", "W", "N"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

template <typename T>
void jko_iteration(benchmark::State& state, Backend backend, bool convergence = false) {
    if (skip_without_device(state, backend)) return;
    Setup<T> s(state, convergence);
    const std::int64_t N = state.range(2);
    run_training(state, backend, s, [&](Context& ctx, const T* params, const T* x, T* grad) {
        jko_loss(ctx, s.shape, params, x, N, *s.pot, JkoLossOptions{}, grad);
    });
    // DESIGN §5: forward + backward ≈ 3 × the evaluation cost.
    state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations() * N) * 3 *
                                                      icnn_eval_flops_per_point(s.shape) * 1e-9,
                                                  benchmark::Counter::kIsRate);
}

template <typename T>
void jko_iteration_convergence(benchmark::State& state, Backend backend) {
    jko_iteration<T>(state, backend, true);
}

template <typename T>
void identity_iteration(benchmark::State& state, Backend backend) {
    if (skip_without_device(state, backend)) return;
    Setup<T> s(state);
    const std::int64_t N = state.range(2);
    run_training(state, backend, s, [&](Context& ctx, const T* params, const T* x, T* grad) {
        identity_loss(ctx, s.shape, params, x, N, grad);
    });
}

template <typename T>
void push(benchmark::State& state, Backend backend) {
    if (skip_without_device(state, backend)) return;
    Setup<T> s(state);
    Context ctx(backend);
    const std::int64_t N = state.range(2);
    std::vector<T> y(s.x.size());
    const T* params = s.net.data();
    const T* x = s.x.data();
    T* py = y.data();
    DeviceBuffer<T> d_params, d_x, d_y;
    if (backend == Backend::Cuda) {
        d_params = DeviceBuffer<T>(s.net.data(), s.net.size());
        d_x = DeviceBuffer<T>(s.x.data(), s.x.size());
        d_y = DeviceBuffer<T>(s.x.size());
        params = d_params.data();
        x = d_x.data();
        py = d_y.data();
    }
    for (auto _ : state) {
        icnn_eval(ctx, s.shape, params, x, N, IcnnOutputs<T>{nullptr, py});
        ctx.synchronize();
    }
    state.counters["points_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * N), benchmark::Counter::kIsRate);
    state.SetLabel(ctx.describe());
}

template <typename T>
void inverse(benchmark::State& state, Backend backend) {
    if (skip_without_device(state, backend)) return;
    Setup<T> s(state);
    Context ctx(backend);
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
    state.SetLabel(ctx.describe());
}

void step_shapes(benchmark::internal::Benchmark* b, std::vector<std::int64_t> graph_settings) {
    for (const auto& s : std::vector<std::vector<std::int64_t>>{{2, 64, 1024}, {12, 64, 1024}, {12, 256, 512}})
        for (std::int64_t graphs : graph_settings) {
            std::vector<std::int64_t> args = s;
            args.push_back(graphs);
            b->Args(args);
        }
    b->ArgNames({"D", "W", "N", "graphs"})->Unit(benchmark::kMillisecond)->UseRealTime();
}
void step_shapes_cuda(benchmark::internal::Benchmark* b) { step_shapes(b, {0, 1}); }
void step_shapes_host(benchmark::internal::Benchmark* b) { step_shapes(b, {0}); }  // graphs: no meaning on the host

template <typename T>
void jko_step(benchmark::State& state, Backend backend) {
    if (skip_without_device(state, backend)) return;
    Setup<T> s(state);
    const int D = s.shape.dim;
    const bool graphs = state.range(3) != 0;
    setenv("WGF_CUDA_GRAPHS", graphs ? "1" : "0", 1);
    Context ctx(backend);
    JkoOptions opt;
    opt.tau = 0.05;
    opt.steps = 1;
    opt.iterations = 50;
    opt.batch = state.range(2);
    opt.init = JkoInit::Identity;
    opt.seed = 9;
    std::vector<double> eye(static_cast<std::size_t>(D * D), 0.0);
    for (int i = 0; i < D; ++i) eye[static_cast<std::size_t>(i * D + i)] = 1.0;
    const Gaussian rho0(std::vector<double>(static_cast<std::size_t>(D), 0.0), eye);
    JkoSolver<T> solver(ctx, s.shape, *s.pot, opt);
    for (auto _ : state) {
        Flow<T> flow(rho0);
        solver.run(flow);
        benchmark::DoNotOptimize(flow.map(0).data());
    }
    unsetenv("WGF_CUDA_GRAPHS");
    const double iterations = static_cast<double>(state.iterations()) * opt.iterations;
    state.counters["iterations_per_s"] = benchmark::Counter(iterations, benchmark::Counter::kIsRate);
    state.counters["points_per_s"] = benchmark::Counter(iterations * state.range(2), benchmark::Counter::kIsRate);
    state.SetLabel(ctx.describe());
}

#define WGF_BACKEND_PAIR(name)                                                 \
    template <typename T>                                                      \
    void BM_##name##_host(benchmark::State& state) { name<T>(state, Backend::Host); } \
    template <typename T>                                                      \
    void BM_##name##_cuda(benchmark::State& state) { name<T>(state, Backend::Cuda); }
WGF_BACKEND_PAIR(jko_iteration)
WGF_BACKEND_PAIR(jko_iteration_convergence)
WGF_BACKEND_PAIR(identity_iteration)
WGF_BACKEND_PAIR(push)
WGF_BACKEND_PAIR(inverse)
WGF_BACKEND_PAIR(jko_step)
#undef WGF_BACKEND_PAIR

BENCHMARK_TEMPLATE(BM_jko_iteration_host, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_iteration_host, double)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_iteration_convergence_host, float)->Apply(convergence_shapes);
BENCHMARK_TEMPLATE(BM_identity_iteration_host, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_push_host, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_inverse_host, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_inverse_host, double)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_step_host, float)->Apply(step_shapes_host);
BENCHMARK_TEMPLATE(BM_jko_iteration_cuda, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_iteration_cuda, double)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_iteration_convergence_cuda, float)->Apply(convergence_shapes);
BENCHMARK_TEMPLATE(BM_identity_iteration_cuda, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_push_cuda, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_inverse_cuda, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_jko_step_cuda, float)->Apply(step_shapes_cuda);

}  // namespace

BENCHMARK_MAIN();

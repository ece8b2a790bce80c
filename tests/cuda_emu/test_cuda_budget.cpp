// test_cuda_budget.cpp — what one training iteration of the CUDA backend costs in launches, library
// calls, host<->device copies and synchronisations, counted by the CPU emulation of the CUDA runtime
// (cuda_emu.h: wgf_emu::counters()), against budgets, so that a change that adds a round trip to the
// inner loop fails CI without a GPU.
//
// Method: the same one-step JKO run with I₁ and I₂ iterations (same seed, same pool, same
// initialisation); the difference of the counters divided by I₂ − I₁ is the cost of one iteration,
// free of the per-step work (pool push, uploads, the end-of-step read-back) and of the set-up.
//
// Budgets (per iteration inside a step) and why:
//   synchronisations 0, host<->device copies 0: an H200 iteration at the OU shape is tens of
//     microseconds of arithmetic; one round trip (~10 µs of launch latency plus the pipeline drain)
//     would cost as much as the work. The loss values stay on the device and are read once per step.
//   allocations 0: cudaMalloc/cudaFree synchronise the device.
//   With a built-in device potential the iterations after the first replay a CUDA graph of one
//     captured iteration: 1 graph launch and nothing else from the host per iteration.
//   Without graphs (WGF_CUDA_GRAPHS=0, or a potential that stages through the host, which then
//     brings its own copies): kernel launches ≤ 4 L + 13 and library calls ≤ 23 L, what the
//     current kernels need (L = 1, 2, 3: 17, 21, 25 launches and 13, 37, 61 GEMMs/geams, measured
//     2026-12-01 after the backward's two downward chains were merged; 18, 23, 28 launches before,
//     18, 28, 38 on 2026-11-30, 25, 41, 58 before the first fusions). Per layer: one fused kernel per
//     layer step of each of four passes through the layers — values with the Jacobians (up), the
//     gradient recursion with the Hessian (down), the gradient recursion's adjoints with the
//     Hessian's curvature terms (up), the Jacobians' and the values' adjoints together (down) — each
//     step separated from the next by a GEMM by C_l (icnn_backward_ops.cuh). The constant 13: gather,
//     Pm of every layer, the ones vector, δ_{L−1} = c, s x, Cholesky, Φ, loss sums, ȳ, H̄, Ā of every
//     layer, status, Adam. A change that adds a launch must raise these with its reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "wgf/error.h"
#include "wgf/flow.h"
#include "wgf/jko.h"
#include "wgf/logreg.h"
#include "wgf/potential.h"
#include "wgf/random.h"

using namespace wgf;

namespace {

struct Cost {
    wgf_emu::Counters per_step;  // counters of the whole run with I₁ iterations
    double launches = 0, library = 0, h2d = 0, d2h = 0, d2d = 0, memsets = 0, syncs = 0, allocations = 0,
           graph_launches = 0;
};

/// Sets WGF_CUDA_GRAPHS for the scope ("0": the step without graphs).
class GraphsSetting {
public:
    explicit GraphsSetting(bool on) { setenv("WGF_CUDA_GRAPHS", on ? "1" : "0", 1); }
    ~GraphsSetting() { unsetenv("WGF_CUDA_GRAPHS"); }
};

JkoOptions budget_options(int iterations, bool carry_pool, double average_tail) {
    JkoOptions opt;
    opt.tau = 0.1;
    opt.steps = 1;
    opt.iterations = iterations;
    opt.batch = 16;
    opt.pool_size = 64;  // several epochs over the pool: the reshuffles happen inside the step
    opt.carry_pool = carry_pool;
    opt.average_tail = average_tail;
    opt.lr_end_ratio = 0.5;  // a learning rate per iteration
    opt.init = JkoInit::Identity;
    opt.seed = 5;
    return opt;
}

const Gaussian kRho0(std::vector<double>{0.0, 0.0}, std::vector<double>{1.0, 0.0, 0.0, 1.0});

/// One JKO step of a D = 2 OU flow on the emulated device with `iterations` iterations; the
/// counters of the run, and the flow.
template <typename T>
wgf_emu::Counters run_counted(int depth, int iterations, bool graphs, double average_tail, Flow<T>* out = nullptr) {
    const GraphsSetting setting(graphs);
    Context dev(Backend::Cuda);
    const QuadraticPotential<T> pot({1.2, 0.3, 0.3, 0.8}, {2.0, -1.5});
    JkoSolver<T> solver(dev, IcnnShape::uniform(2, 4, depth, 2), pot, budget_options(iterations, true, average_tail));
    Flow<T> flow(kRho0);
    const wgf_emu::Counters before = wgf_emu::counters();
    solver.run(flow);
    const wgf_emu::Counters used = wgf_emu::counters() - before;
    if (out != nullptr) *out = flow;
    return used;
}

template <typename T>
Cost per_iteration(int depth, bool graphs, double average_tail = 0.0) {
    constexpr int I1 = 3, I2 = 9;
    Cost c;
    c.per_step = run_counted<T>(depth, I1, graphs, average_tail);
    const wgf_emu::Counters d = run_counted<T>(depth, I2, graphs, average_tail) - c.per_step;
    const double n = I2 - I1;
    c.launches = d.kernel_launches / n;
    c.library = d.library_calls / n;
    c.h2d = d.copies_host_to_device / n;
    c.d2h = d.copies_device_to_host / n;
    c.d2d = d.copies_device_to_device / n;
    c.memsets = d.memsets / n;
    c.syncs = d.synchronizations / n;
    c.allocations = d.allocations / n;
    c.graph_launches = d.graph_launches / n;
    MESSAGE("L = " << depth << std::string(graphs ? ", graphs" : ", no graphs") << ": per iteration " << c.graph_launches
                   << " graph launches, " << c.launches << " kernel launches, " << c.library << " library calls, "
                   << c.memsets << " memsets, copies h2d " << c.h2d << " d2h " << c.d2h << " d2d " << c.d2d << ", "
                   << c.syncs << " synchronisations, " << c.allocations << " allocations; the whole run with " << I1
                   << " iterations: " << c.per_step.kernel_launches << " launches, " << c.per_step.synchronizations
                   << " synchronisations, " << c.per_step.copies_host_to_device + c.per_step.copies_device_to_host
                   << " host<->device copies, " << c.per_step.captured_operations << " operations captured");
    return c;
}

void check_no_round_trip(const Cost& c) {
    CHECK(c.syncs == 0);
    CHECK(c.h2d == 0);
    CHECK(c.d2h == 0);
    CHECK(c.allocations == 0);
}

}  // namespace

TEST_CASE("budget: a CUDA training iteration replays one graph, and nothing else reaches the host") {
    for (int depth : {1, 2, 3}) {
        CAPTURE(depth);
        const Cost c = per_iteration<float>(depth, true, 0.5);
        check_no_round_trip(c);
        CHECK(c.graph_launches == 1);
        CHECK(c.launches == 0);
        CHECK(c.library == 0);
        CHECK(c.memsets == 0);
        CHECK(c.d2d == 0);
        // One iteration captured per step: what the fallback launches per iteration, plus its memsets and copies.
        const Cost f = per_iteration<float>(depth, false, 0.5);
        CHECK(c.per_step.captured_operations == f.launches + f.library + f.memsets + f.d2d);
    }
}

TEST_CASE("budget: pretraining on the device replays one graph per iteration, and nothing else reaches the host") {
    // initial_map on a CUDA context: the stage's keys are uploaded once and each iteration draws its
    // batch of ρ⁰ (a Gaussian: a counter-based law) on the device; every iteration after the first
    // replays the captured draw + identity-regression iteration.
    const GraphsSetting setting(true);
    const auto run = [](int iterations) {
        Context dev(Backend::Cuda);
        const QuadraticPotential<float> pot({1.2, 0.3, 0.3, 0.8}, {2.0, -1.5});
        JkoOptions opt = budget_options(1, true, 0.0);
        opt.init = JkoInit::Pretrain;
        opt.pretrain_iterations = iterations;
        const JkoSolver<float> solver(dev, IcnnShape::uniform(2, 4, 2, 2), pot, opt);
        const Flow<float> flow(kRho0);
        const wgf_emu::Counters before = wgf_emu::counters();
        (void)solver.initial_map(flow);
        return wgf_emu::counters() - before;
    };
    const wgf_emu::Counters a = run(6), d = run(12) - a;
    MESSAGE("6 more pretraining iterations: " << d.graph_launches << " graph launches, " << d.kernel_launches
                                              << " kernel launches, " << d.library_calls << " library calls, "
                                              << d.synchronizations << " synchronisations, "
                                              << d.copies_host_to_device + d.copies_device_to_host << " copies; "
                                              << "the run of 6: " << a.synchronizations << " synchronisations, "
                                              << a.copies_host_to_device + a.copies_device_to_host << " copies");
    CHECK(d.graph_launches == 6);
    CHECK(d.kernel_launches == 0);
    CHECK(d.library_calls == 0);
    CHECK(d.synchronizations == 0);
    CHECK(d.copies_host_to_device == 0);
    CHECK(d.copies_device_to_host == 0);
    CHECK(d.allocations == 0);
}

TEST_CASE("budget: the pool stays on the device from step to step; nothing of it comes back") {
    // The JKO solver keeps its pool on the device (src/jko.cpp: DevicePool): a carried pool is pushed
    // one map per step there, a fresh one is drawn on the host (ρ⁰.sample(), as the host solver draws
    // it) and uploaded once, then pushed through every map on the device. The cost of step 2 = a
    // 3-step run minus a 2-step run. What comes back per step is the step's end: its status, its
    // losses and its map (3 copies), plus the scan of each push's input and map for NaN/Inf that
    // icnn_eval makes at its entry (2 read-backs per map pushed); the pool itself never does.
    const GraphsSetting setting(true);
    const auto run = [](int steps, bool carry) {
        Context dev(Backend::Cuda);
        const QuadraticPotential<float> pot({1.2, 0.3, 0.3, 0.8}, {2.0, -1.5});
        JkoOptions opt = budget_options(4, carry, 0.0);
        opt.steps = steps;
        JkoSolver<float> solver(dev, IcnnShape::uniform(2, 4, 2, 2), pot, opt);
        Flow<float> flow(kRho0);
        const wgf_emu::Counters before = wgf_emu::counters();
        solver.run(flow);
        return wgf_emu::counters() - before;
    };
    for (const bool carry : {true, false}) {
        CAPTURE(carry);
        const wgf_emu::Counters d = run(3, carry) - run(2, carry);
        const int pushed = carry ? 1 : 2;  // maps the pool goes through at step 2
        MESSAGE(std::string(carry ? "carried pool" : "fresh pool") << ", step 2: " << d.copies_host_to_device << " uploads, "
                                                       << d.copies_device_to_host << " read-backs, "
                                                       << d.synchronizations << " synchronisations, "
                                                       << d.graph_launches << " graph launches");
        CHECK(d.copies_device_to_host == 3 + 2 * pushed);
        CHECK(d.graph_launches == 3);  // iterations 1 … 3 replay the capture of iteration 0
    }
}

TEST_CASE("budget: a CUDA training iteration without graphs") {
    for (int depth : {1, 2, 3}) {
        CAPTURE(depth);
        const Cost c = per_iteration<float>(depth, false);
        check_no_round_trip(c);
        CHECK(c.graph_launches == 0);
        CHECK(c.launches <= 4 * depth + 13);
        CHECK(c.library <= 23 * depth);
        CHECK(c.memsets <= 4);
    }
}

TEST_CASE("the graph replay trains the same maps as the launches it captured") {
    Flow<double> with(kRho0), without(kRho0);
    run_counted<double>(2, 9, true, 0.5, &with);
    run_counted<double>(2, 9, false, 0.5, &without);
    REQUIRE(with.steps() == 1);
    CHECK(with.map(0).params() == without.map(0).params());
}

TEST_CASE("the Gaussian-mixture potential is captured too, with the same maps as without graphs") {
    const GaussianMixturePotential<double> pot({0.4, 0.6}, {-1.0, 0.5, 1.5, -0.5}, {1, 0, 0, 1, 0.5, 0.1, 0.1, 0.8}, 2);
    Flow<double> with(kRho0), without(kRho0);
    wgf_emu::Counters used[2];
    for (const bool graphs : {true, false}) {
        const GraphsSetting setting(graphs);
        Context dev(Backend::Cuda);
        JkoSolver<double> solver(dev, IcnnShape::uniform(2, 4, 2, 2), pot, budget_options(7, false, 0.0));
        Flow<double>& flow = graphs ? with : without;
        const wgf_emu::Counters before = wgf_emu::counters();
        solver.run(flow);
        used[graphs ? 0 : 1] = wgf_emu::counters() - before;
    }
    CHECK(used[0].graph_launches == 6);  // iterations 1 … 6 replay the capture of one
    CHECK(used[1].graph_launches == 0);
    CHECK(with.map(0).params() == without.map(0).params());
}

namespace {
/// A D = 2 quadratic Φ whose evaluations from call number `from` on (counted over both backends'
/// callbacks, one call per loss evaluation) return NaN values (bad_value) or NaN gradients.
FunctionPotential<double> failing_potential(std::shared_ptr<int> calls, int from, bool bad_value) {
    auto fn = [calls, from, bad_value](const double* y, std::int64_t n, double* value, double* grad) {
        const bool bad = (*calls)++ >= from;
        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (std::int64_t i = 0; i < n; ++i) {
            const double a = y[2 * i] - 1.0, b = y[2 * i + 1];
            if (value) value[i] = bad && bad_value ? nan : 0.5 * (a * a + b * b);
            if (grad) {
                grad[2 * i] = bad && !bad_value ? nan : a;
                grad[2 * i + 1] = b;
            }
        }
    };
    // Under the emulation "device" memory is host memory: the same callback serves as device_fn.
    return FunctionPotential<double>(2, fn, fn, "failing quadratic");
}

/// The message of the error a one-step run on `backend` throws with the potential above.
std::string failure_message(Backend backend, int from, bool bad_value) {
    auto calls = std::make_shared<int>(0);
    const FunctionPotential<double> pot = failing_potential(calls, from, bad_value);
    JkoOptions opt;
    opt.tau = 0.1;
    opt.steps = 1;
    opt.iterations = 6;
    opt.batch = 16;
    opt.pool_size = 64;
    opt.init = JkoInit::Identity;
    opt.seed = 5;
    Context ctx(backend, 1);
    JkoSolver<double> solver(ctx, IcnnShape::uniform(2, 4, 2, 2), pot, opt);
    Flow<double> flow(Gaussian(std::vector<double>{0.0, 0.0}, std::vector<double>{1.0, 0.0, 0.0, 1.0}));
    try {
        solver.run(flow);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("the logistic posterior on the full data is captured too; with a minibatch each iteration uploads its rows") {
    // Full data: the training set is copied to the device on the first call, then every evaluation is
    // one kernel, so the iterations replay a graph like the built-in potentials. A minibatch's rows are
    // drawn on the host per evaluation: uploaded (1 copy, and a synchronisation before freeing them),
    // so no graph, and the per-iteration budget names that cost.
    Rng rng(3);
    std::vector<double> X, labels;
    for (int i = 0; i < 30; ++i) {
        X.push_back(rng.normal());
        X.push_back(rng.normal());
        labels.push_back(X[X.size() - 2] - X.back() >= 0 ? 1.0 : -1.0);
    }
    const Gaussian rho0(std::vector<double>{0.0, 0.0, -1.0}, std::vector<double>{0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.3});
    for (const std::int64_t minibatch : {std::int64_t(0), std::int64_t(8)}) {
        CAPTURE(minibatch);
        LogisticPosteriorOptions po;
        po.minibatch = minibatch;
        const auto run = [&](int iterations) {
            const LogisticPosteriorPotential<float> pot(X, labels, 2, po);
            Context dev(Backend::Cuda);
            JkoSolver<float> solver(dev, IcnnShape::uniform(3, 4, 2, 2), pot, budget_options(iterations, true, 0.0));
            Flow<float> flow(rho0);
            const wgf_emu::Counters before = wgf_emu::counters();
            solver.run(flow);
            return wgf_emu::counters() - before;
        };
        const wgf_emu::Counters d = run(9) - run(3);
        const double n = 6;
        MESSAGE("logistic posterior, minibatch " << minibatch << ": per iteration " << d.graph_launches / n
                                                 << " graph launches, " << d.kernel_launches / n << " kernel launches, "
                                                 << d.copies_host_to_device / n << " uploads, "
                                                 << d.synchronizations / n << " synchronisations");
        if (minibatch == 0) {
            CHECK(d.graph_launches / n == 1);
            CHECK(d.kernel_launches == 0);
            CHECK(d.copies_host_to_device == 0);
            CHECK(d.synchronizations == 0);
        } else {
            CHECK(d.graph_launches == 0);
            CHECK(d.copies_host_to_device / n == 1);
            CHECK(d.synchronizations / n <= 2);
        }
    }
}

TEST_CASE("the device step reports a non-finite loss at the iteration it appeared, as the host loop") {
    // Φ is NaN from the third loss evaluation on: iteration 2. The device finds it at the end of
    // the step (its status word), with the parameters frozen where iteration 2 started, so the
    // count of bad points is made on the same parameters and batch as the host's.
    const std::string host = failure_message(Backend::Host, 2, true);
    const std::string dev = failure_message(Backend::Cuda, 2, true);
    MESSAGE("host: " << host);
    MESSAGE("device: " << dev);
    CHECK(dev.find("step 0 (from t = 0), iteration 2: the loss is not finite") != std::string::npos);
    CHECK(dev.find("Φ is not finite at 16 of the 16 pushed points") != std::string::npos);
    CHECK(dev.substr(0, dev.find("(W2")) == host.substr(0, host.find("(W2")));
}

TEST_CASE("the device step reports a non-finite gradient at the iteration it appeared, as the host loop") {
    const std::string host = failure_message(Backend::Host, 4, false);
    const std::string dev = failure_message(Backend::Cuda, 4, false);
    MESSAGE("device: " << dev);
    // The same words from both (the source locations in the messages differ).
    for (const std::string& what : {host, dev}) {
        CHECK(what.find("JkoSolver: step 0 (from t = 0), iteration 4: ") != std::string::npos);
        CHECK(what.find("Adam::step: gradient contains 76 NaN/Inf entries (of 76); parameters left unchanged") !=
              std::string::npos);
    }
}

int main(int argc, char** argv) {
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    return context.run();
}

// test_flow.cpp — Flow on the host: Newton inversion of a map, trace log-density vs inverse-map
// log-density, normalisation of the pushed density in 1-D, save/load, per-step checkpoints (atomic,
// damaged files rejected) and resume of a JKO run that reproduces an uninterrupted run exactly.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "compare.h"
#include "errors.h"
#include "random.h"
#include "wgf/wgf.h"
#include "wgf/flow.h"
#include "wgf/jko.h"
#include "wgf/potential.h"

using namespace wgf;
using namespace wgf_test;

namespace {
Gaussian standard_normal(int D) {
    std::vector<double> eye(static_cast<std::size_t>(D * D), 0.0);
    for (int i = 0; i < D; ++i) eye[static_cast<std::size_t>(i * D + i)] = 1.0;
    return Gaussian(std::vector<double>(static_cast<std::size_t>(D), 0.0), eye);
}

/// A flow of k random maps ψ = ICNN + ½‖x‖²-like (identity construction plus a sizeable random part).
Flow<double> random_flow(int D, int k, std::uint64_t seed) {
    Flow<double> flow(standard_normal(D));
    for (int i = 0; i < k; ++i) flow.push_back(identity_icnn<double>(IcnnShape::uniform(D, 16, 2, 3), seed + i, 0.3), 0.1);
    return flow;
}

void remove_tree(const std::string& dir) { std::system(("rm -rf '" + dir + "'").c_str()); }
}  // namespace

TEST_CASE("Flow: Newton inverts a map to 1e-9 in a few iterations") {
    Context ctx(Backend::Host);
    for (int D : {1, 3, 8}) {
        INFO("D=" << D);
        const Flow<double> flow = random_flow(D, 1, 10 + D);
        const auto xs = random_points<double>(200, D, 20 + D, 1.5);
        std::vector<double> y(xs.size());
        icnn_eval(ctx, flow.map(0), xs.data(), 200, IcnnOutputs<double>{nullptr, y.data()});
        InverseReport rep;
        rep.iterations.assign(200, 0);
        rep.residual.assign(200, 0.0);
        rep.converged.assign(200, 1);
        std::vector<double> x = y;
        flow.invert_map(ctx, 0, x, InverseOptions{}, rep);
        CHECK(rep.failures() == 0);
        int max_it = 0;
        for (auto it : rep.iterations) max_it = std::max(max_it, static_cast<int>(it));
        CHECK(max_it <= 12);
        // ‖∇ψ(x) − y‖ ≤ 1e-9 max(1, ‖y‖) and ∇²ψ ⪰ s I with s ~ 0.01 here: ‖x − x*‖ ≲ 1e-7.
        expect_allclose(x, xs, 0, 1e-6, "inverse of y = ∇ψ(x)");
    }
}

TEST_CASE("Flow: trace log-density equals the inverse-map log-density; 1-D density integrates to 1") {
    Context ctx(Backend::Host);
    const Flow<double> flow = random_flow(3, 3, 40);
    Rng rng(41);
    std::vector<double> logp_trace;
    const auto xs = flow.sample(ctx, 3, 300, rng, &logp_trace);
    InverseReport rep;
    const auto logp_inv = flow.log_density(ctx, 3, xs, InverseOptions{}, &rep);
    CHECK(rep.failures() == 0);
    // Both are log ρ⁰(x₀) − Σ log det at the same trace; inversion error 1e-9 moves them by ~1e-8.
    expect_allclose(logp_inv, logp_trace, 0, 1e-7, "log density: inverse maps vs forward trace");

    const Flow<double> f1 = random_flow(1, 3, 50);
    const int n = 4001;
    std::vector<double> grid(n);
    for (int i = 0; i < n; ++i) grid[i] = -12.0 + 24.0 * i / (n - 1);
    const auto lp = f1.log_density(ctx, 3, grid);
    double mass = 0;
    for (int i = 0; i < n; ++i) mass += std::exp(lp[i]) * (i == 0 || i == n - 1 ? 0.5 : 1.0) * 24.0 / (n - 1);
    // Trapezoid error O(h²) ~ 1e-5 for these smooth densities; tails beyond ±12 are < 1e-20.
    CHECK(mass == doctest::Approx(1.0).epsilon(1e-4));
}

TEST_CASE("Flow: save/load round trip and per-step checkpoints") {
    const Flow<double> flow = random_flow(2, 3, 60);
    const std::string path = "test_flow_roundtrip.wgfflow";
    flow.save(path);
    const auto back = Flow<double>::load(path);
    REQUIRE(back.steps() == 3);
    for (int k = 0; k < 3; ++k) CHECK(back.map(k).params() == flow.map(k).params());
    CHECK(back.time(3) == doctest::Approx(0.3));
    std::remove(path.c_str());

    const std::string dir = "test_flow_steps/nested";  // missing parent folders are created
    remove_tree("test_flow_steps");
    for (int k = 0; k < 3; ++k) flow.save_step(dir, k);
    // A crash in the middle of writing step 3 leaves only a temporary file: ignored on resume.
    { std::ofstream(dir + "/step-00003.wgfstep.tmp.999") << "partial"; }
    const auto resumed = Flow<double>::load_steps(dir);
    CHECK(resumed.steps() == 3);
    for (int k = 0; k < 3; ++k) CHECK(resumed.map(k).params() == flow.map(k).params());
    // A damaged complete step file is an error, not a silent truncation.
    std::string bytes;
    {
        std::ifstream in(Flow<double>::step_path(dir, 1), std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() / 2] ^= 0x1;
    { std::ofstream(Flow<double>::step_path(dir, 1), std::ios::binary | std::ios::trunc) << bytes; }
    bool threw = false;
    try {
        (void)Flow<double>::load_steps(dir);
    } catch (const Error& e) {
        threw = std::string(e.what()).find("checksum") != std::string::npos;
    }
    CHECK(threw);
    remove_tree("test_flow_steps");
}

TEST_CASE("JKO: a run stopped after 2 steps resumes from its checkpoints and matches an uninterrupted run") {
    bool carry = false;
    SUBCASE("a fresh pool per step") { carry = false; }
    SUBCASE("a carried pool (re-created on resume from the same ρ⁰ points)") { carry = true; }
    const int D = 2;
    const IcnnShape shape = IcnnShape::uniform(D, 12, 2, 2);
    const QuadraticPotential<double> pot(std::vector<double>{1.5, 0.2, 0.2, 1.0}, std::vector<double>{0.5, -0.5});
    JkoOptions opt;
    opt.tau = 0.1;
    opt.iterations = 20;
    opt.batch = 64;
    opt.pretrain_iterations = 30;
    opt.seed = 5;
    opt.carry_pool = carry;
    Context ctx(Backend::Host, 1);

    opt.steps = 4;
    JkoSolver<double> full_solver(ctx, shape, pot, opt);
    Flow<double> full(standard_normal(D));
    full_solver.run(full);

    const std::string dir = "test_jko_resume";
    remove_tree(dir);
    opt.checkpoint_dir = dir;
    opt.steps = 2;  // "killed" after step 2
    {
        JkoSolver<double> s(ctx, shape, pot, opt);
        Flow<double> f = s.resume_or_start(standard_normal(D));
        CHECK(f.steps() == 0);
        s.run(f);
    }
    opt.steps = 4;
    JkoSolver<double> s2(ctx, shape, pot, opt);
    Flow<double> resumed = s2.resume_or_start(standard_normal(D));
    CHECK(resumed.steps() == 2);
    s2.run(resumed);
    REQUIRE(resumed.steps() == 4);
    for (int k = 0; k < 4; ++k) {
        double diff = 0;
        for (std::size_t i = 0; i < full.map(k).size(); ++i)
            diff = std::max(diff, std::fabs(resumed.map(k).data()[i] - full.map(k).data()[i]));
        CHECK_MESSAGE(diff == 0.0, "map " << k << " differs by " << diff);
    }
    remove_tree(dir);
}

TEST_CASE("JKO: tail averaging gives the mean of the last iterates; the in-step lr decay follows its cosine") {
    // The batches of iteration i do not depend on the iteration count (the pool and its shuffle are
    // drawn per step), so runs of 1, 2 and 3 iterations share their first iterates: the map of a
    // 3-iteration run averaged over its last 2 must be the mean of the 2- and 3-iteration maps.
    const int D = 2;
    const IcnnShape shape = IcnnShape::uniform(D, 8, 2, 2);
    const QuadraticPotential<double> pot(std::vector<double>{1.5, 0.2, 0.2, 1.0}, std::vector<double>{0.5, -0.5});
    JkoOptions opt;
    opt.tau = 0.1;
    opt.steps = 1;
    opt.batch = 32;
    opt.pool_size = 256;
    opt.pretrain_iterations = 10;
    opt.seed = 9;
    Context ctx(Backend::Host, 1);
    auto trained = [&](int iterations, double tail) {
        JkoOptions o = opt;
        o.iterations = iterations;
        o.average_tail = tail;
        JkoSolver<double> s(ctx, shape, pot, o);
        Flow<double> f(standard_normal(D));
        s.run(f);
        return f.map(0);
    };
    const Icnn<double> two = trained(2, 0.0), three = trained(3, 0.0), averaged = trained(3, 0.5);  // ⌈1.5⌉ = 2
    double diff = 0, moved = 0;
    for (std::size_t i = 0; i < two.size(); ++i) {
        diff = std::max(diff, std::fabs(averaged.data()[i] - 0.5 * (two.data()[i] + three.data()[i])));
        moved = std::max(moved, std::fabs(three.data()[i] - two.data()[i]));
    }
    CHECK(moved > 1e-4);   // the two iterates differ, so the check can fail
    CHECK(diff < 1e-15);

    opt.iterations = 5;
    opt.lr = 1e-2;
    opt.lr_end_ratio = 0.1;
    CHECK(opt.lr_at(0, 0) == doctest::Approx(1e-2).epsilon(1e-14));
    CHECK(opt.lr_at(0, 2) == doctest::Approx(1e-2 * (0.1 + 0.9 * 0.5)).epsilon(1e-14));  // cos(π/2) = 0
    CHECK(opt.lr_at(0, 4) == doctest::Approx(1e-3).epsilon(1e-14));
    opt.lr_end_ratio = 0.0;
    CHECK_THROWS_WITH_AS(opt.validate(), doctest::Contains("lr_end_ratio"), Error);
    opt.lr_end_ratio = 1.0;
    opt.average_tail = 1.5;
    CHECK_THROWS_WITH_AS(opt.validate(), doctest::Contains("average_tail"), Error);
}

TEST_CASE("JKO: a potential that turns NaN stops the run at that step and iteration; earlier checkpoints stay") {
    // Φ = ½‖x‖², except that once `poison` is set it is NaN where x_0 > 0 (about half of any batch
    // centred at 0). Poison is set after step 2, so step 2, iteration 0 must fail.
    const int D = 2;
    bool poison = false;
    const FunctionPotential<double> pot(D, [&](const double* y, std::int64_t n, double* value, double* grad) {
        for (std::int64_t i = 0; i < n; ++i) {
            const bool bad = poison && y[i * D] > 0;
            if (value) value[i] = bad ? std::nan("") : 0.5 * (y[i * D] * y[i * D] + y[i * D + 1] * y[i * D + 1]);
            if (grad)
                for (int d = 0; d < D; ++d) grad[i * D + d] = bad ? std::nan("") : y[i * D + d];
        }
    });
    JkoOptions opt;
    opt.tau = 0.1;
    opt.steps = 4;
    opt.iterations = 3;
    opt.batch = 64;
    opt.init = JkoInit::Identity;
    opt.checkpoint_dir = "test_jko_nan";
    remove_tree(opt.checkpoint_dir);
    Context ctx(Backend::Host, 2);
    JkoSolver<double> solver(ctx, IcnnShape::uniform(D, 8, 2, 2), pot, opt);
    Flow<double> flow = solver.resume_or_start(standard_normal(D));
    std::string msg;
    try {
        solver.run(flow, [&](const JkoStepReport& r) {
            if (r.step == 1) poison = true;
        });
    } catch (const Error& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("step 2 (from t = 0.2), iteration 0") != std::string::npos);
    CHECK(msg.find("the loss is not finite") != std::string::npos);
    CHECK(msg.find("up to step 1 are kept") != std::string::npos);
    // The count of bad points: between 1 and 63 of the 64 (x_0 > 0 for about half).
    const std::size_t at = msg.find("Φ is not finite at ");
    REQUIRE(at != std::string::npos);
    const int bad = std::atoi(msg.c_str() + at + std::string("Φ is not finite at ").size());
    CHECK(bad > 5);
    CHECK(bad < 60);
    CHECK(flow.steps() == 2);
    poison = false;
    CHECK(Flow<double>::load_steps(opt.checkpoint_dir).steps() == 2);  // the last good checkpoint is kept
    remove_tree(opt.checkpoint_dir);
}

TEST_CASE("identity_icnn: ∇ψ(x) ≈ x without pretraining") {
    Context ctx(Backend::Host);
    for (int D : {1, 3, 12})
        for (int L : {1, 2, 3}) {
            INFO("D=" << D << " L=" << L);
            const IcnnShape shape = IcnnShape::uniform(D, 64, L, 5);
            const auto x = random_points<double>(100, D, 70 + D, 2.0);
            std::vector<double> g(x.size());
            // Exact construction (noise 0): softplus(u) = u + log1p(e^{−u}) with u ≥ 12 gives a
            // relative gradient error ≤ e^{−12} ≈ 6e-6 per softplus layer.
            icnn_eval(ctx, identity_icnn<double>(shape, 1, 0.0), x.data(), 100, IcnnOutputs<double>{nullptr, g.data()});
            expect_allclose(g, x, 2e-5 * L, 1e-9, "grad of the exact identity construction");
            // With the symmetry-breaking noise (scale 1e-2 of the reference init) the map stays within
            // 10 % of the identity for |x| ≲ 6 (the random quadratic forms grow like |x|²).
            icnn_eval(ctx, identity_icnn<double>(shape, 1, 1e-2), x.data(), 100, IcnnOutputs<double>{nullptr, g.data()});
            expect_allclose(g, x, 0.1, 0.1, "grad of the noisy identity construction");
        }
}

TEST_CASE("spread_identity_icnn: ∇ψ ≈ x over the samples and past them, with slope ≈ 1 throughout the knots") {
    Context ctx(Backend::Host, 1);
    // D = 1: the partition of unity (ψ'' = (1 − f) + f Σ bumps ≈ 1 on the knot range, which reaches 10 sd
    // past the mean). Samples from N(0.7, 0.5²).
    Rng rng(5);
    std::vector<double> s(4096);
    for (auto& v : s) v = 0.7 + 0.5 * rng.normal();
    const IcnnShape shape = IcnnShape::uniform(1, 64, 2);
    const Icnn<double> net = spread_identity_icnn<double>(shape, s, 3);
    // Slopes: 48 knots over ≈ [−4.3, 5.7] (half at the samples' quantiles): the bumps a σ''(a s) with
    // a = 1.5/spacing overlap to a ripple of a few per cent; the ridge units carry half of ψ''.
    std::vector<double> xs;
    for (double x = -3.5; x <= 5.0; x += 0.01) xs.push_back(x);
    std::vector<double> g(xs.size()), h(xs.size());
    icnn_eval(ctx, net, xs.data(), static_cast<std::int64_t>(xs.size()), IcnnOutputs<double>{nullptr, g.data(), h.data()});
    double hmin = 1e9, hmax = 0;
    for (double v : h) {
        hmin = std::min(hmin, v);
        hmax = std::max(hmax, v);
    }
    MESSAGE("spread init, D = 1: psi'' in [" << hmin << ", " << hmax << "] on [-3.5, 5]");
    CHECK(hmin > 0.85);
    CHECK(hmax < 1.15);
    // ∇ψ(median) = median by construction, so over the samples' ±2 sd the map is within
    // ∫|ψ'' − 1| ≲ 0.2 × 1 of the identity.
    for (std::size_t i = 0; i < xs.size(); ++i)
        if (std::abs(xs[i] - 0.7) <= 1.0) CHECK(std::abs(g[i] - xs[i]) < 0.1);
    // D = 2: random ridge directions, trace-normalised: the mean of tr ∇²ψ over the samples is D.
    std::vector<double> s2(2 * 2048);
    for (auto& v : s2) v = rng.normal();
    const Icnn<double> net2 = spread_identity_icnn<double>(IcnnShape::uniform(2, 64, 2), s2, 4);
    std::vector<double> h2(4 * 2048);
    icnn_eval(ctx, net2, s2.data(), 2048, IcnnOutputs<double>{nullptr, nullptr, h2.data()});
    double tr = 0;
    for (int i = 0; i < 2048; ++i) tr += h2[static_cast<std::size_t>(4 * i)] + h2[static_cast<std::size_t>(4 * i + 3)];
    CHECK(tr / 2048 == doctest::Approx(2.0).epsilon(0.05));
    CHECK(error_of([&] { spread_identity_icnn<double>(IcnnShape::uniform(1, 64, 3), s, 1); }).find("2 layers") !=
          std::string::npos);
}

TEST_CASE("Flow: Newton does not cycle at a sharp change of curvature (double nets)") {
    // ψ'' = 0.586 + 0.8 · 20 σ''(20 (x + 0.45)): the map's slope jumps from 0.59 to ~4.6 within ±0.1 of
    // x = −0.45, as the JKO maps of the filtering study do. Newton from x = y = −1.21 overshoots to the
    // right; the old acceptance rule (Armijo on φ, or a smaller residual) then let it step back and
    // cycle between x ≈ −0.26 and x ≈ −1.25 forever (the failure seen on a trained map).
    const IcnnShape shape = IcnnShape::uniform(1, 4, 2);
    Icnn<double> net = identity_icnn<double>(shape, 1, 0.0);
    const IcnnLayout& lay = net.layout();
    double* p = net.data();
    const auto& l2 = lay.layers[1];
    for (int k = 0; k < 4; ++k) p[lay.c + k] = k == 0 ? 0.586 : 0.0;
    // unit 1: u = 20 (x + 0.45), no quadratic input, c = 0.8 / 20 (bump mass c·a = 0.8)
    std::fill_n(p + l2.C + 1 * l2.width_prev, l2.width_prev, 0.0);
    for (int t = 0; t < shape.rank; ++t) p[l2.A + static_cast<std::size_t>(t) * 4 + 1] = 0.0;
    p[l2.B + 1] = 20.0;
    p[l2.b + 1] = 20.0 * 0.45;
    p[lay.c + 1] = 0.8 / 20.0;
    Flow<double> flow(standard_normal(1));
    flow.push_back(net, 0.1);
    Context ctx(Backend::Host, 1);
    int cycled = 0;
    for (double y = -1.6; y <= 0.5; y += 0.01) {
        std::vector<double> x = {y};
        InverseReport rep;
        rep.iterations = {0};
        rep.residual = {0.0};
        rep.converged = {1};
        flow.invert_map(ctx, 0, x, InverseOptions{}, rep);
        double g = 0;
        icnn_eval(ctx, flow.map(0), x.data(), 1, IcnnOutputs<double>{nullptr, &g});
        if (!rep.converged[0] || std::abs(g - y) > 1e-8) ++cycled;
    }
    CHECK(cycled == 0);
}

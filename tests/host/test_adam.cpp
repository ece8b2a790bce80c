// test_adam.cpp — Adam on the host backend: the first step against hand-computed numbers (θ moves by
// ≈ lr·sign(g)), bias correction over many steps against an independent scalar re-implementation,
// the L2 weight-decay term, reset(), NaN/Inf gradients rejected with the parameters untouched,
// option validation, and convergence on a convex quadratic.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "errors.h"
#include "compare.h"
#include "wgf/adam.h"
#include "wgf/error.h"
#include "wgf/random.h"

using namespace wgf;
using namespace wgf_test;

namespace {

/// Independent scalar re-implementation, written from the textbook form (Kingma & Ba, Algorithm 1,
/// with PyTorch's L2 term): m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), θ ← θ − lr m̂ / (√v̂ + ε).
struct ScalarAdam {
    double lr, b1, b2, eps, wd;
    double m = 0, v = 0;
    int t = 0;
    double step(double theta, double g) {
        ++t;
        g += wd * theta;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const double mhat = m / (1 - std::pow(b1, t)), vhat = v / (1 - std::pow(b2, t));
        return theta - lr * mhat / (std::sqrt(vhat) + eps);
    }
};
}  // namespace

TEST_CASE_TEMPLATE("adam first step moves each parameter by about lr*sign(g)", T, float, double) {
    Context ctx(Backend::Host);
    AdamOptions opt;
    opt.lr = 0.1;
    opt.weight_decay = 0;
    Adam<T> adam(ctx, 4, opt);
    std::vector<T> theta = {T(1), T(-2), T(0.5), T(0.25)};
    const std::vector<T> g = {T(0.3), T(-4), T(1e-3), T(-2.5e-7)};
    adam.step(theta.data(), g.data());
    CHECK(adam.steps() == 1);
    // After one step m̂ = g and v̂ = g² exactly (up to rounding), so θ₁ = θ₀ − lr·g/(|g| + ε).
    // By hand (40 digits, Python Decimal): 1 − 0.1·0.3/(0.3+1e-8) etc. The last entry has |g| ≈ 25 ε,
    // where ε visibly shortens the step (0.0962 instead of 0.1).
    const std::vector<double> expected = {0.9000000033333332222222259, -1.900000000249999999375000002,
                                          0.4000009999900000999990000, 0.3461538461538461538461538};
    // double: a handful of roundings, 1e-13. float: θ and g are rounded to float (2^-24 ≈ 6e-8
    // relative) and the update is computed in float; 1e-6 relative is a few ulps of θ.
    const double rtol = std::is_same<T, double>::value ? 1e-13 : 1e-6;
    expect_allclose(theta.data(), expected.data(), 4, rtol, 0.0, "theta after one step");
    // The step is lr·sign(g) up to ε/|g| for the three large gradients.
    CHECK(std::fabs((1.0 - double(theta[0])) - 0.1) < 1e-6);
    CHECK(std::fabs((double(theta[1]) + 2.0) - 0.1) < 1e-6);
}

TEST_CASE("adam bias correction over 25 steps matches a scalar re-implementation (double)") {
    Context ctx(Backend::Host);
    AdamOptions opt;
    opt.lr = 3e-2;
    opt.beta1 = 0.8;
    opt.beta2 = 0.95;  // small β₂ so that the bias correction of v changes a lot over 25 steps
    opt.eps = 1e-6;
    opt.weight_decay = 0.05;
    const int n = 7;
    Adam<double> adam(ctx, n, opt);
    std::vector<ScalarAdam> ref(n, ScalarAdam{opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay});
    Rng rng(2024);
    std::vector<double> theta(n), theta_ref(n), g(n);
    for (int i = 0; i < n; ++i) theta[i] = theta_ref[i] = rng.normal();
    for (int step = 0; step < 25; ++step) {
        for (int i = 0; i < n; ++i) g[i] = rng.normal() * std::pow(10.0, i - 3);  // gradients 1e-3 .. 1e3
        adam.step(theta.data(), g.data());
        for (int i = 0; i < n; ++i) theta_ref[i] = ref[i].step(theta_ref[i], g[i]);
    }
    CHECK(adam.steps() == 25);
    // Same arithmetic in a different order (m/bc1 vs lr/bc1 first, √(v/bc2) vs √v/√bc2): a few ulps
    // per step, accumulated over 25 steps; 1e-12 relative. A bias correction off by one step changes
    // early updates by tens of percent.
    expect_allclose(theta, theta_ref, 1e-12, 1e-14, "theta after 25 steps");
}

TEST_CASE("adam weight decay is an L2 term added to the gradient") {
    Context ctx(Backend::Host);
    AdamOptions opt;
    opt.lr = 0.01;
    opt.weight_decay = 0.5;
    const std::vector<double> theta0 = {2.0, -3.0, 0.7};
    const std::vector<double> g = {0.1, 0.2, -0.3};

    // (a) decay λ with gradient g ≡ no decay with gradient g + λθ, step after step.
    AdamOptions nodecay = opt;
    nodecay.weight_decay = 0;
    Adam<double> a(ctx, 3, opt), b(ctx, 3, nodecay);
    std::vector<double> ta = theta0, tb = theta0, gb(3);
    for (int step = 0; step < 5; ++step) {
        for (int i = 0; i < 3; ++i) gb[i] = g[i] + opt.weight_decay * tb[i];
        a.step(ta.data(), g.data());
        b.step(tb.data(), gb.data());
    }
    expect_allclose(ta, tb, 1e-15, 0.0, "decay vs explicit L2 gradient");

    // (b) With a zero gradient, decay alone pulls every parameter towards 0 by ≈ lr on the first
    // step; without decay nothing moves (m = v = 0 gives a zero update).
    std::vector<double> zero(3, 0.0), tc = theta0, td = theta0;
    Adam<double> c(ctx, 3, opt), d(ctx, 3, nodecay);
    c.step(tc.data(), zero.data());
    d.step(td.data(), zero.data());
    CHECK(td == theta0);
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(std::fabs(tc[i]) < std::fabs(theta0[i]));
        CHECK(std::fabs(std::fabs(theta0[i] - tc[i]) - opt.lr) < 1e-7);
    }
}

TEST_CASE("adam reset gives a fresh optimiser; set_lr changes the step") {
    Context ctx(Backend::Host);
    AdamOptions opt;
    opt.lr = 0.05;
    Adam<double> a(ctx, 3, opt), fresh(ctx, 3, opt);
    std::vector<double> theta = {1, 2, 3};
    const std::vector<double> g1 = {0.5, -0.5, 1.0}, g2 = {-1.0, 0.25, 2.0};
    for (int i = 0; i < 4; ++i) a.step(theta.data(), g1.data());
    a.reset();
    CHECK(a.steps() == 0);
    std::vector<double> t1 = theta, t2 = theta;
    a.step(t1.data(), g2.data());
    fresh.step(t2.data(), g2.data());
    CHECK(t1 == t2);  // same backend, same inputs: bitwise
    CHECK(t1 != theta);

    Adam<double> big(ctx, 3, opt);
    big.set_lr(0.2);
    CHECK(big.options().lr == 0.2);
    std::vector<double> t3 = theta;
    big.step(t3.data(), g2.data());
    // First step ≈ lr·sign(g) with the new lr; g2[0] < 0, so θ₀ grows by 0.2 (not the old 0.05).
    CHECK(std::fabs((t3[0] - theta[0]) - 0.2) < 1e-6);
    CHECK(contains(error_of([&] { big.set_lr(-1); }), "lr must be finite and >= 0"));
    CHECK(big.options().lr == 0.2);  // unchanged after the rejected value

    // A moved-to optimiser keeps the state; the moved-from one is unusable but destructible.
    Adam<double> moved(std::move(big));
    CHECK(moved.steps() == 1);
    moved.step(t3.data(), g2.data());
    CHECK(moved.steps() == 2);
}

TEST_CASE_TEMPLATE("adam rejects NaN/Inf gradients without touching the parameters", T, float, double) {
    Context ctx(Backend::Host);
    Adam<T> adam(ctx, 5, AdamOptions{});
    std::vector<T> theta = {T(1), T(2), T(3), T(4), T(5)};
    std::vector<T> g = {T(0.1), T(0.2), T(0.3), T(0.4), T(0.5)};
    adam.step(theta.data(), g.data());
    const std::vector<T> before = theta;
    g[1] = std::numeric_limits<T>::quiet_NaN();
    g[3] = -std::numeric_limits<T>::infinity();
    const auto msg = error_of([&] { adam.step(theta.data(), g.data()); });
    CHECK_MESSAGE(contains(msg, "gradient contains 2 NaN/Inf"), msg);
    CHECK(theta == before);
    CHECK(adam.steps() == 1);
    CHECK(contains(error_of([&] { adam.step(nullptr, g.data()); }), "params is null"));
    CHECK(contains(error_of([&] { adam.step(theta.data(), nullptr); }), "grad is null"));
}

TEST_CASE("adam options are validated, naming the field") {
    Context ctx(Backend::Host);
    const auto bad = [&](const std::function<void(AdamOptions&)>& edit) {
        AdamOptions o;
        edit(o);
        return error_of([&] { Adam<double>(ctx, 3, o); });
    };
    CHECK(contains(bad([](AdamOptions& o) { o.lr = -1e-3; }), "lr must be"));
    CHECK(contains(bad([](AdamOptions& o) { o.lr = std::nan(""); }), "lr must be"));
    CHECK(contains(bad([](AdamOptions& o) { o.beta1 = 1.0; }), "beta1 must be in [0, 1)"));
    CHECK(contains(bad([](AdamOptions& o) { o.beta2 = -0.1; }), "beta2 must be in [0, 1)"));
    CHECK(contains(bad([](AdamOptions& o) { o.eps = -1; }), "eps must be"));
    CHECK(contains(bad([](AdamOptions& o) { o.weight_decay = -1e-9; }), "weight_decay must be"));
    CHECK(contains(error_of([&] { Adam<double>(ctx, 0, AdamOptions{}); }), "empty"));
    AdamOptions ok;
    CHECK_NOTHROW(ok.validate());
    CHECK(ok.lr == 5e-3);
    CHECK(ok.weight_decay == 1e-9);
}

TEST_CASE_TEMPLATE("adam minimises a convex quadratic", T, float, double) {
    // f(θ) = ½ Σ a_i (θ_i − c_i)², curvatures a_i ∈ [0.5, 5], minimum at c, from θ = 0.
    Context ctx(Backend::Host, 1);
    const int n = 2000;
    Rng rng(7);
    std::vector<double> a(n), c(n);
    for (int i = 0; i < n; ++i) {
        a[i] = 0.5 + 4.5 * rng.uniform();
        c[i] = 3.0 * rng.normal();
    }
    const auto f = [&](const std::vector<T>& th) {
        double s = 0;
        for (int i = 0; i < n; ++i) s += 0.5 * a[i] * (double(th[i]) - c[i]) * (double(th[i]) - c[i]);
        return s;
    };
    AdamOptions opt;
    opt.lr = 0.1;
    opt.weight_decay = 0;
    Adam<T> adam(ctx, n, opt);
    std::vector<T> theta(n, T(0)), g(n);
    const double f0 = f(theta);
    for (int step = 1; step <= 1500; ++step) {
        if (step % 300 == 0) adam.set_lr(adam.options().lr * 0.3);  // a step schedule, as the reference's lr lists
        for (int i = 0; i < n; ++i) g[i] = static_cast<T>(a[i] * (double(theta[i]) - c[i]));
        adam.step(theta.data(), g.data());
    }
    const double f1 = f(theta);
    double max_err = 0;
    for (int i = 0; i < n; ++i) max_err = std::fmax(max_err, std::fabs(double(theta[i]) - c[i]));
    CAPTURE(f0);
    CAPTURE(f1);
    CHECK(f0 > 1e3);
    CHECK(f1 < 1e-8 * f0);
    // Adam's steps stay ~lr-sized near the optimum (m̂/√v̂ does not vanish with g), so the worst
    // coordinate ends within a few final learning rates (0.1·0.3⁴ ≈ 8e-4) of c; it started ~10 away.
    CHECK(max_err < 2e-2);
}

TEST_CASE_TEMPLATE("adam results do not depend on the host thread count", T, float, double) {
    // 200k elements: above the size where the host update is spread over threads.
    const int n = 200000;
    Rng rng(8);
    std::vector<T> theta0(n), g(n);
    for (int i = 0; i < n; ++i) {
        theta0[i] = static_cast<T>(rng.normal());
        g[i] = static_cast<T>(rng.normal());
    }
    Context c1(Backend::Host, 1), c2(Backend::Host, 2);
    AdamOptions opt;
    opt.weight_decay = 1e-2;
    Adam<T> a1(c1, n, opt), a2(c2, n, opt);
    std::vector<T> t1 = theta0, t2 = theta0;
    for (int step = 0; step < 3; ++step) {
        a1.step(t1.data(), g.data());
        a2.step(t2.data(), g.data());
    }
    CHECK(t1 == t2);
    CHECK(t1 != theta0);
}

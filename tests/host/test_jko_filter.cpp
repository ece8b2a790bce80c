// test_jko_filter.cpp — the JKO filter (wgf/jko_filter.h) on a case with an exact answer: an OU latent
// in 1-D, Gaussian start, two Gaussian observations. For quadratic Φ every JKO step maps a Gaussian to
// a Gaussian in closed form, and the Bayes update of a Gaussian is conjugate, so the filter's target —
// the JKO-discretised filtering density — is known exactly ("JKO–Kalman" below). What remains is the
// ICNN's training error and the path sampler's Monte-Carlo error; the continuous-time Kalman filter is
// reported beside it (its gap is the O(τ) time discretisation, the same for any JKO method).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "errors.h"
#include "wgf/filtering.h"
#include "wgf/jko_filter.h"
#include "wgf/metrics.h"

using namespace wgf;
using namespace wgf_test;

namespace {
constexpr double kPi = 3.14159265358979323846;

struct Gauss1 {
    double mean, var;
};

// One JKO step of size tau for Φ = A/2 (x − m)², β: the optimal map is x ↦ a(x − μ) + μ', with
//   μ' = (μ + τ A m)/(1 + τ A)  (the mean part of the objective, (μ'−μ)²/(2τ) + A(μ'−m)²/2), and
//   a > 0 solving v(a − 1)/τ + A a v − 1/(β a) = 0  (the spread part: v(a−1)²/(2τ) + A a² v/2 − β⁻¹ log a).
Gauss1 jko_gaussian_step(Gauss1 g, double A, double m, double beta, double tau) {
    const double p = g.var / tau + A * g.var;
    const double a = (g.var / tau + std::sqrt(g.var * g.var / (tau * tau) + 4 * p / beta)) / (2 * p);
    return {(g.mean + tau * A * m) / (1 + tau * A), a * a * g.var};
}

// The exact continuous OU marginal after time t.
Gauss1 ou_step(Gauss1 g, double A, double m, double beta, double t) {
    const double e = std::exp(-A * t);
    return {m + (g.mean - m) * e, g.var * e * e + (1 - e * e) / (beta * A)};
}

// Conjugate update by y = x + N(0, r); also returns log p(y | past).
Gauss1 bayes(Gauss1 g, double y, double r, double* log_evidence) {
    const double s = g.var + r;
    *log_evidence += -0.5 * std::log(2 * kPi * s) - 0.5 * (y - g.mean) * (y - g.mean) / s;
    const double k = g.var / s;
    return {g.mean + k * (y - g.mean), (1 - k) * g.var};
}

double gauss_log_pdf(double x, Gauss1 g) { return -0.5 * std::log(2 * kPi * g.var) - 0.5 * (x - g.mean) * (x - g.mean) / g.var; }

// The filter settings of these tests: τ = 0.1, 32-unit maps from the identity construction, 300
// iterations per step with the in-step decay and tail averaging.
JkoFilterOptions test_options(int dim, std::int64_t batch, std::uint64_t seed) {
    JkoFilterOptions opt;
    opt.shape = IcnnShape::uniform(dim, 32, 2);
    opt.jko.tau = 0.1;
    opt.jko.iterations = 300;
    opt.jko.batch = batch;
    opt.jko.lr = 5e-3;
    opt.jko.lr_end_ratio = 0.1;
    opt.jko.average_tail = 0.3;
    opt.jko.init = JkoInit::Identity;
    opt.jko.seed = seed;
    return opt;
}

// SymKL between the filter's density and a Gaussian on a grid, both normalised on the grid.
double grid_symkl(const std::vector<double>& x, const std::vector<double>& logp_model, Gauss1 g) {
    const double dx = x[1] - x[0];
    double mx = -std::numeric_limits<double>::infinity();
    for (double v : logp_model) mx = std::max(mx, v);
    double z = 0;
    for (double v : logp_model) z += std::exp(v - mx) * dx;
    std::vector<double> p(x.size()), q(x.size());
    double zq = 0;
    for (std::size_t j = 0; j < x.size(); ++j) {
        p[j] = std::exp(logp_model[j] - mx) / z;
        zq += (q[j] = std::exp(gauss_log_pdf(x[j], g))) * dx;
    }
    for (auto& v : q) v /= zq;
    return grid_sym_kl(p, q, dx);
}
}  // namespace

TEST_CASE("JKO filter: OU latent, two observations, against the exact JKO–Kalman filter") {
    const double A = 1.0, m = 1.5, beta = 1.0, tau = 0.1, r = 0.5;
    const std::vector<double> times = {0.3, 0.6}, ys = {2.2, 0.4};
    const double t_final = 0.8;
    Context ctx(Backend::Host, 2);
    auto potential = std::make_shared<const QuadraticPotential<double>>(std::vector<double>{A}, std::vector<double>{m});
    auto rho0 = std::make_shared<const Gaussian>(std::vector<double>{0.0}, std::vector<double>{1.0});
    JkoFilterOptions opt = test_options(1, 256, 7);
    opt.jko.beta = beta;
    opt.chains = 1024;
    opt.warmup_sweeps = 20;
    opt.seed = 11;
    JkoFilter<double> filter(ctx, potential, rho0, gaussian_observations(ys, 1, r), opt);
    filter.run(times, t_final);
    REQUIRE(filter.blocks() == 3);  // 0 → 0.3 (3 steps), 0.3 → 0.6 (3), 0.6 → 0.8 (2)
    CHECK(filter.block(0).steps() == 3);
    CHECK(filter.block(2).steps() == 2);

    // The exact targets.
    Gauss1 jk{0.0, 1.0}, ct{0.0, 1.0};
    double ev_jk = 0, ev_ct = 0;
    double t = 0;
    for (std::size_t k = 0; k <= times.size(); ++k) {
        const double t_next = k < times.size() ? times[k] : t_final;
        const int steps = static_cast<int>(std::lround((t_next - t) / tau));
        for (int s = 0; s < steps; ++s) jk = jko_gaussian_step(jk, A, m, beta, tau);
        ct = ou_step(ct, A, m, beta, t_next - t);
        if (k < times.size()) {
            jk = bayes(jk, ys[k], r, &ev_jk);
            ct = bayes(ct, ys[k], r, &ev_ct);
        }
        t = t_next;
    }

    std::vector<double> x;
    for (int j = 0; j < 801; ++j) x.push_back(jk.mean - 8 * std::sqrt(jk.var) + j * 16 * std::sqrt(jk.var) / 800);
    InverseReport rep;
    const std::vector<double> lp = filter.log_density(x, &rep);
    CHECK(rep.failures() == 0);
    const double kl_jk = grid_symkl(x, lp, jk), kl_ct = grid_symkl(x, lp, ct);
    MESSAGE("SymKL to the JKO–Kalman filter " << kl_jk << ", to the continuous Kalman filter " << kl_ct
                                              << "; log evidence " << filter.log_evidence() << " (JKO–Kalman " << ev_jk << ")");
    // The bound. The density goes through 8 trained maps trained on 1024-chain posterior samples; a
    // Gaussian's N-sample moment fit is off by SymKL ≈ (D + D(D+1)/2)/N ≈ 2/N ≈ 2e-3 per block at worst
    // (measured: 3.4e-5, the errors being far from worst case). 1e-3 is 30× the measurement and half the
    // SymKL between the discretised and the continuous filter (2.0e-3 here), so the test tells the
    // target it is meant to follow from its nearest wrong one.
    CHECK(kl_jk < 1e-3);
    CHECK(kl_jk < 0.25 * kl_ct);  // it follows the discretised filter, not the continuous one
    // The evidence: Σ_k log mean_chains e^{ℓ_k}, an unbiased estimate of Z in the SMC; with ESS ≥ 30%
    // its relative standard error is ≲ 1/√(0.3 N) ≈ 3% (0.03 in log); the maps' error adds a little.
    CHECK(std::abs(filter.log_evidence() - ev_jk) < 0.1);

    // The posterior samples at t_final: mean and variance of the JKO–Kalman target, within 5 standard
    // errors of 4096 draws of 1024 chains (draws of a chain are correlated: effective size ≥ 1024).
    const std::vector<double> s = filter.sample(4096);
    double mean = 0, var = 0;
    for (double v : s) mean += v;
    mean /= static_cast<double>(s.size());
    for (double v : s) var += (v - mean) * (v - mean);
    var /= static_cast<double>(s.size() - 1);
    CHECK(std::abs(mean - jk.mean) < 5 * std::sqrt(jk.var / 1024));
    CHECK(std::abs(var / jk.var - 1) < 5 * std::sqrt(2.0 / 1024));

    // The reports: an observed block has an ESS and an evidence factor; the sampler moved.
    const auto& reps = filter.reports();
    REQUIRE(reps.size() == 3);
    CHECK(reps[0].observed);
    CHECK(!reps[2].observed);
    CHECK(reps[0].ess_fraction > 0.3);
    CHECK(reps[0].ess_fraction <= 1.0);
    CHECK(reps[1].accept_random_walk > 0.1);
    CHECK(reps[1].accept_independent > 0.05);
    CHECK(reps[1].unique_starts > 512);
}

TEST_CASE("JKO filter: the reference's sampler and float maps reach the same filter") {
    // Same model, one observation, float maps and the reference's independent MH sampler (no
    // resampling, no random walk): its chains reach π_1 through the warm-up only. The bound is that of
    // the double/SMC case relaxed for float maps (Newton to 2e-4 relative, 5 maps).
    const double A = 1.0, m = 1.5, beta = 1.0, tau = 0.1, r = 0.5, y = 2.2;
    Context ctx(Backend::Host, 2);
    auto potential = std::make_shared<const QuadraticPotential<float>>(std::vector<double>{A}, std::vector<double>{m});
    auto rho0 = std::make_shared<const Gaussian>(std::vector<double>{0.0}, std::vector<double>{1.0});
    JkoFilterOptions opt = test_options(1, 256, 3);
    opt.sampler = FilterSampler::Reference;
    opt.warmup_sweeps = 200;
    opt.thin_sweeps = 3;
    JkoFilter<float> filter(ctx, potential, rho0, gaussian_observations({y}, 1, r), opt);
    filter.run({0.3}, 0.5);
    Gauss1 g{0.0, 1.0};
    double ev = 0;
    for (int s = 0; s < 3; ++s) g = jko_gaussian_step(g, A, m, beta, tau);
    g = bayes(g, y, r, &ev);
    for (int s = 0; s < 2; ++s) g = jko_gaussian_step(g, A, m, beta, tau);
    std::vector<double> x;
    for (int j = 0; j < 801; ++j) x.push_back(g.mean - 8 * std::sqrt(g.var) + j * 16 * std::sqrt(g.var) / 800);
    InverseReport rep;
    const double kl = grid_symkl(x, filter.log_density(x, &rep), g);
    MESSAGE("reference sampler, float maps: SymKL to the JKO–Kalman filter " << kl);
    CHECK(rep.failures() == 0);
    CHECK(kl < 3e-3);
    const auto& reps = filter.reports();
    REQUIRE(reps.size() == 2);
    CHECK(reps[0].accept_random_walk == 0.0);
    CHECK(reps[0].random_walk_scale == 0.0);
    CHECK(reps[0].accept_independent > 0.2);
    CHECK(reps[0].ess_fraction < 1.0);
}

TEST_CASE("JKO filter in D = 2: samples, evidence and normalised log-density against the JKO–Kalman filter") {
    // Φ = ½‖x − m‖² (A = I): the coordinates evolve independently, each by jko_gaussian_step; one
    // observation y = x + N(0, r I). The density needs the evidence estimate to be normalised
    // (no grid in D > 1): log p = log p̃ − log Ẑ.
    const double tau = 0.1, r = 0.5;
    const std::vector<double> m = {1.0, -0.5}, y = {1.8, -1.2};
    Context ctx(Backend::Host, 2);
    auto potential = std::make_shared<const QuadraticPotential<double>>(std::vector<double>{1, 0, 0, 1}, m);
    auto rho0 = std::make_shared<const Gaussian>(std::vector<double>{0.0, 0.0}, std::vector<double>{1, 0, 0, 1});
    JkoFilterOptions opt = test_options(2, 512, 9);
    opt.warmup_sweeps = 20;
    JkoFilter<double> filter(ctx, potential, rho0, gaussian_observations(y, 2, r), opt);
    filter.run({0.3}, 0.5);
    double ev = 0;
    Gauss1 g[2];
    for (int d = 0; d < 2; ++d) {
        g[d] = {0.0, 1.0};
        for (int s = 0; s < 3; ++s) g[d] = jko_gaussian_step(g[d], 1.0, m[static_cast<std::size_t>(d)], 1.0, tau);
        g[d] = bayes(g[d], y[static_cast<std::size_t>(d)], r, &ev);
        for (int s = 0; s < 2; ++s) g[d] = jko_gaussian_step(g[d], 1.0, m[static_cast<std::size_t>(d)], 1.0, tau);
    }
    // Evidence: as in D = 1 (ESS ≥ 30%: ~3% relative standard error).
    CHECK(std::abs(filter.log_evidence() - ev) < 0.1);
    // Samples: each coordinate's mean and variance within 5 standard errors (effective size ≥ 1024).
    const std::vector<double> s = filter.sample(4096);
    for (int d = 0; d < 2; ++d) {
        double mean = 0, var = 0;
        for (std::size_t i = static_cast<std::size_t>(d); i < s.size(); i += 2) mean += s[i];
        mean /= 4096;
        for (std::size_t i = static_cast<std::size_t>(d); i < s.size(); i += 2) var += (s[i] - mean) * (s[i] - mean);
        var /= 4095;
        CHECK(std::abs(mean - g[d].mean) < 5 * std::sqrt(g[d].var / 1024));
        CHECK(std::abs(var / g[d].var - 1) < 5 * std::sqrt(2.0 / 1024));
    }
    // The log-density at points within two standard deviations, normalised by the evidence estimate:
    // within 0.1 of the exact (0.1 = the evidence bound; the maps' own error is ~1e-2 in D = 1).
    std::vector<double> pts;
    for (double a : {-1.5, 0.0, 1.5})
        for (double b : {-1.5, 0.0, 1.5}) {
            pts.push_back(g[0].mean + a * std::sqrt(g[0].var));
            pts.push_back(g[1].mean + b * std::sqrt(g[1].var));
        }
    const std::vector<double> lp = filter.log_density(pts);
    for (std::size_t i = 0; i < lp.size(); ++i) {
        const double exact = gauss_log_pdf(pts[2 * i], g[0]) + gauss_log_pdf(pts[2 * i + 1], g[1]);
        CHECK(std::abs(lp[i] - filter.log_evidence() - exact) < 0.1);
    }
}

TEST_CASE("JKO filter smoke: a tiny filter runs every path (resampling, both moves, densities, samples)") {
    // Not an accuracy test (5 iterations per step): every code path of run(), log_density() and sample()
    // on a problem small enough for the sanitizer build; the results must be finite and consistent.
    Context ctx(Backend::Host, 1);
    auto potential = std::make_shared<const FilteringReferencePotential<double>>();
    auto rho0 = std::make_shared<const Gaussian>(std::vector<double>{0.0}, std::vector<double>{1.0});
    for (FilterSampler sampler : {FilterSampler::Smc, FilterSampler::Reference}) {
        JkoFilterOptions opt = test_options(1, 16, 5);
        opt.shape = IcnnShape::uniform(1, 8, 2);
        opt.jko.iterations = 5;
        opt.jko.init = JkoInit::Spread;
        opt.chains = 16;
        opt.warmup_sweeps = 2;
        opt.sampler = sampler;
        JkoFilter<double> f(ctx, potential, rho0, gaussian_observations({0.7, -0.4}, 1, 1.0), opt);
        f.run({0.2, 0.4}, 0.5);
        REQUIRE(f.blocks() == 3);
        InverseReport rep;
        const std::vector<double> lp = f.log_density({-1.0, 0.0, 1.0}, &rep);
        for (double v : lp) CHECK(std::isfinite(v));
        const std::vector<double> after0 = f.log_density({0.0}, nullptr, 0);
        CHECK(std::isfinite(after0[0]));
        const std::vector<double> s = f.sample(40);
        CHECK(s.size() == 40);
        for (double v : s) CHECK(std::isfinite(v));
        CHECK(std::isfinite(f.log_evidence()));
        CHECK(contains(error_of([&] { f.log_density({0.0}, nullptr, 3); }), "out of range"));
        CHECK(contains(error_of([&] { f.run({0.2}, 0.2); }), "already run"));
    }
}

TEST_CASE("JKO filter: bad input is refused with the field named") {
    Context ctx(Backend::Host, 1);
    auto potential = std::make_shared<const QuadraticPotential<double>>(std::vector<double>{1.0}, std::vector<double>{0.0});
    auto rho0 = std::make_shared<const Gaussian>(std::vector<double>{0.0}, std::vector<double>{1.0});
    JkoFilterOptions opt;
    opt.shape = IcnnShape::uniform(1, 8, 2);
    opt.jko.tau = 0.1;
    opt.jko.iterations = 5;
    opt.jko.batch = 16;
    opt.jko.init = JkoInit::Identity;
    opt.chains = 16;
    opt.warmup_sweeps = 1;
    const auto obs = gaussian_observations({0.5, 0.1}, 1, 1.0);
    {
        JkoFilterOptions o = opt;
        o.chains = 1;
        CHECK(contains(error_of([&] { JkoFilter<double>(ctx, potential, rho0, obs, o); }), "chains"));
    }
    {
        JkoFilterOptions o = opt;
        o.shape = IcnnShape::uniform(2, 8, 2);
        CHECK(contains(error_of([&] { JkoFilter<double>(ctx, potential, rho0, obs, o); }), "shape.dim"));
    }
    CHECK(contains(error_of([&] { JkoFilter<double>(ctx, potential, rho0, nullptr, opt); }), "log-likelihood"));
    CHECK(contains(error_of([] { gaussian_observations({}, 1, 1.0); }), "values"));
    CHECK(contains(error_of([] { gaussian_observations({1.0}, 1, 0.0); }), "variance"));
    CHECK(contains(error_of([] { gaussian_observations({std::nan("")}, 1, 1.0); }), "value 0"));
    {
        JkoFilter<double> f(ctx, potential, rho0, obs, opt);
        CHECK(contains(error_of([&] { f.run({0.15, 0.2}, 0.2); }), "whole number"));
    }
    {
        JkoFilter<double> f(ctx, potential, rho0, obs, opt);
        CHECK(contains(error_of([&] { f.run({0.2, 0.1}, 0.3); }), "increase"));
    }
    {
        JkoFilter<double> f(ctx, potential, rho0, obs, opt);
        CHECK(contains(error_of([&] { f.run({0.1, 0.2}, 0.15); }), "before the last observation"));
        CHECK(contains(error_of([&] { f.log_density({0.0}); }), "has not run"));
    }
    {
        // A log-likelihood that returns NaN is caught where it is called.
        const ObservationLogLikelihood bad = [](int, const double*, std::int64_t n, double* out) {
            for (std::int64_t i = 0; i < n; ++i) out[i] = std::nan("");
        };
        JkoFilter<double> f(ctx, potential, rho0, bad, opt);
        CHECK(contains(error_of([&] { f.run({0.1}, 0.1); }), "must be finite or -inf"));
    }
    {
        // An observation no chain can explain: likelihood −∞ everywhere.
        const ObservationLogLikelihood impossible = [](int, const double*, std::int64_t n, double* out) {
            for (std::int64_t i = 0; i < n; ++i) out[i] = -std::numeric_limits<double>::infinity();
        };
        JkoFilter<double> f(ctx, potential, rho0, impossible, opt);
        CHECK(contains(error_of([&] { f.run({0.1}, 0.1); }), "likelihood 0"));
    }
}

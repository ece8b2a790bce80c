// test_filtering.cpp — the filtering study's ground truth and baseline (wgf/filtering.h): Chang–Cooper
// reaches e^{−βΦ}/Z and holds it exactly, matches the exact OU marginal, conserves mass; the Bayes
// update on the grid against the conjugate Gaussian posterior; the bootstrap particle filter against
// Chang–Cooper on a simulated run; observation files; bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "errors.h"
#include "wgf/filtering.h"

using namespace wgf;
using namespace wgf_test;

namespace {
constexpr double kPi = 3.14159265358979323846;

double gauss_pdf(double x, double mean, double var) {
    return std::exp(-0.5 * (x - mean) * (x - mean) / var) / std::sqrt(2 * kPi * var);
}

double grid_mean(const std::vector<double>& x, const std::vector<double>& p, double dx) {
    double s = 0;
    for (std::size_t j = 0; j < x.size(); ++j) s += x[j] * p[j] * dx;
    return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

FilteringModel ou_model(double beta) {
    FilteringModel m;
    m.potential = [](double x) { return 0.5 * x * x; };
    m.gradient = [](double x) { return x; };
    m.beta = beta;
    return m;
}
}  // namespace

TEST_CASE("Chang–Cooper: e^{−βΦ}/Z is the exact discrete stationary state, and is reached") {
    const FilteringModel model;  // the reference's Φ, β = 1
    const Grid1D grid;
    const double dx = grid.dx();
    const std::vector<double> x = grid.nodes();
    std::vector<double> target(x.size());
    double z = 0;
    for (std::size_t j = 0; j < x.size(); ++j) z += (target[j] = std::exp(-model.beta * model.potential(x[j]))) * dx;
    for (auto& v : target) v /= z;

    // One step from the normalised e^{−βΦ} does not move it (the face fluxes vanish to rounding).
    const ChangCooper cc(model, grid, 1e-3);
    std::vector<double> p = target;
    cc.step(p);
    double change = 0;
    for (std::size_t j = 0; j < p.size(); ++j) change = std::max(change, std::abs(p[j] - target[j]));
    MESSAGE("one step from e^{-beta Phi}/Z: max change " << change);
    CHECK(change < 1e-12);
    const std::vector<double> st = cc.stationary();
    double diff = 0;
    for (std::size_t j = 0; j < p.size(); ++j) diff = std::max(diff, std::abs(st[j] - target[j]));
    CHECK(diff < 1e-12);

    // From N(0, 1) without observations: the implicit scheme's fixed point does not depend on dt, so
    // a large step (0.01) reaches it in 5000 steps (t = 50; the slowest relaxation rate of this
    // Φ at β = 1 is well above 0.2, and e^{−2·0.2·50} ≈ 2e-9).
    const ChangCooper coarse(model, grid, 1e-2);
    std::vector<double> q = coarse.gaussian(0.0, 1.0);
    const double kl0 = grid_sym_kl(q, target, dx);
    coarse.advance(q, 5000);
    const double kl = grid_sym_kl(q, target, dx);
    MESSAGE("SymKL to e^{-beta Phi}/Z: start " << kl0 << ", t = 50: " << kl);
    CHECK(kl0 > 0.05);  // not vacuous: N(0, 1) is far from the stationary state
    CHECK(kl < 1e-6);
    CHECK(std::abs(coarse.mass(q) - 1) < 1e-12);
}

TEST_CASE("Chang–Cooper matches the exact OU marginal (Φ = x²/2)") {
    // ρ₀ = N(1.5, 0.2), β = 2, t = 1: N(m e^{−t}, v e^{−2t} + β⁻¹(1 − e^{−2t})).
    // Tolerance: the scheme is first order in dt (implicit Euler) and second order in dx (central
    // differences where the Péclet number w = β x dx ≤ 0.05), so the relative density error is
    // ε ≈ c₁ dt + c₂ dx² with dx² = 2.5e-5; SymKL is quadratic in ε, ≈ ∫ ε² p. With dt = 1e-3 the
    // time error dominates (SymKL ~ 1e-7, measured below); halving dt must cut SymKL by ≈ 4.
    const double beta = 2.0, m0 = 1.5, v0 = 0.2, t = 1.0;
    const FilteringModel model = ou_model(beta);
    const Grid1D grid;
    const std::vector<double> x = grid.nodes();
    std::vector<double> exact(x.size());
    const double mean = m0 * std::exp(-t), var = v0 * std::exp(-2 * t) + (1 - std::exp(-2 * t)) / beta;
    for (std::size_t j = 0; j < x.size(); ++j) exact[j] = gauss_pdf(x[j], mean, var);
    double kl[2];
    const double dts[2] = {1e-3, 5e-4};
    for (int i = 0; i < 2; ++i) {
        const ChangCooper cc(model, grid, dts[i]);
        std::vector<double> p = cc.gaussian(m0, v0);
        cc.advance(p, static_cast<std::int64_t>(std::llround(t / dts[i])));
        kl[i] = grid_sym_kl(p, exact, grid.dx());
        CHECK(std::abs(grid_mean(x, p, grid.dx()) - mean) < 1e-3);
    }
    MESSAGE("OU t = 1: SymKL dt 1e-3: " << kl[0] << ", dt 5e-4: " << kl[1] << ", ratio " << kl[0] / kl[1]);
    CHECK(kl[0] < 1e-5);
    CHECK(kl[0] / kl[1] > 3.0);
    CHECK(kl[0] / kl[1] < 5.0);
    // Not vacuous: the start is far from the marginal at t = 1.
    const ChangCooper cc(model, grid, 1e-3);
    CHECK(grid_sym_kl(cc.gaussian(m0, v0), exact, grid.dx()) > 1.0);
}

TEST_CASE("Chang–Cooper conserves mass and positivity") {
    const FilteringModel model;
    const Grid1D grid;
    // A spike at one node next to the boundary and one in the middle: the hardest start for both.
    const ChangCooper cc(model, grid, 1e-3);
    std::vector<double> p(static_cast<std::size_t>(grid.n), 0.0);
    p[0] = 0.5 / grid.dx();
    p[1000] = 0.5 / grid.dx();
    double worst = 0;
    for (int s = 0; s < 2000; ++s) {
        cc.step(p);
        worst = std::max(worst, std::abs(cc.mass(p) - 1));
    }
    MESSAGE("spike start, 2000 steps: max |mass - 1| = " << worst);
    CHECK(worst < 1e-12);
    for (double v : p) CHECK_MESSAGE(v >= 0, "negative density");
    // The filter checks |mass − 1| ≤ 1e-12 before every update and at T (throws otherwise).
    const FilterDensities f = chang_cooper_filter(model, simulate_observations(model, 5));
    MESSAGE("filter: max |mass - 1| before updates = " << f.max_mass_error);
    CHECK(f.max_mass_error < 1e-12);
    CHECK(f.posteriors.size() == 9);
}

TEST_CASE("Bayes update on the grid equals the conjugate Gaussian posterior") {
    const FilteringModel model;
    const Grid1D grid;
    const ChangCooper cc(model, grid, 1e-3);
    const double m0 = 0.7, v0 = 0.5, y = -0.4, s2 = 0.8;
    std::vector<double> p = cc.gaussian(m0, v0);
    cc.bayes_update(p, y, s2);
    const double mp = (m0 * s2 + y * v0) / (v0 + s2), vp = v0 * s2 / (v0 + s2);
    const std::vector<double> x = grid.nodes();
    double err = 0;
    for (std::size_t j = 0; j < x.size(); ++j) err = std::max(err, std::abs(p[j] - gauss_pdf(x[j], mp, vp)));
    // The product of two sampled Gaussians is the sampled posterior times a constant, and the grid
    // sum of a Gaussian of sd ≈ 0.5 ≫ dx equals its integral to rounding: only rounding is left.
    MESSAGE("Bayes update: max |p - closed form| = " << err);
    CHECK(err < 1e-12);
    // A far observation must not underflow to a zero posterior.
    std::vector<double> q = cc.gaussian(0.0, 0.01);
    cc.bayes_update(q, 60.0, 0.01);
    CHECK(std::abs(cc.mass(q) - 1) < 1e-12);
}

TEST_CASE("Bootstrap particle filter (10k) against Chang–Cooper on a simulated run") {
    const FilteringModel model;
    const Observations obs = simulate_observations(model, 3);
    REQUIRE(obs.times.size() == 9);
    CHECK(obs.times.back() == doctest::Approx(4.5));
    auto t0 = std::chrono::steady_clock::now();
    const FilterDensities cc = chang_cooper_filter(model, obs);
    const double t_cc = seconds_since(t0);
    ParticleFilterOptions po;
    po.particles = 10000;
    po.seed = 11;
    t0 = std::chrono::steady_clock::now();
    const FilterDensities bbf = particle_filter(model, obs, po);
    const double t_bbf = seconds_since(t0);
    const double dx = Grid1D{}.dx();
    const double kl = grid_sym_kl(bbf.density, cc.density, dx);
    const double mean_cc = grid_mean(cc.x, cc.density, dx);
    double mean_bbf = 0, var_cc = 0;
    for (double v : bbf.particles) mean_bbf += v / static_cast<double>(bbf.particles.size());
    for (std::size_t j = 0; j < cc.x.size(); ++j) var_cc += (cc.x[j] - mean_cc) * (cc.x[j] - mean_cc) * cc.density[j] * dx;
    MESSAGE("BBF 10k vs Chang-Cooper: SymKL " << kl << "; mean " << mean_bbf << " vs " << mean_cc << " (sd "
                                              << std::sqrt(var_cc) << "); min ESS " << *std::min_element(bbf.ess.begin(), bbf.ess.end())
                                              << "; wall CC " << t_cc << " s, BBF " << t_bbf << " s");
    // The reference's BBF 10k over 15 runs: median 0.0128, worst 0.0316.
    CHECK(kl < 0.05);
    // Mean: Monte Carlo error sd/√N ≈ 0.005 for N = 10k, inflated by resampling (each resampling
    // adds variance ≈ the same again, ≤ 10 of them: ×√10) and the EM bias O(dt) ≈ 1e-3: 0.05 is
    // more than 3 of those standard errors.
    CHECK(std::abs(mean_bbf - mean_cc) < 0.05);
    // Not vacuous: the observations moved the posterior away from the prior's stationary state.
    const ChangCooper prop(model, Grid1D{}, 1e-3);
    CHECK(grid_sym_kl(prop.stationary(), cc.density, dx) > 0.1);
    double mass_bbf = 0;
    for (double v : bbf.density) mass_bbf += v * dx;
    CHECK(mass_bbf == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("Observations: simulation is seeded; files round-trip") {
    const FilteringModel model;
    const Observations a = simulate_observations(model, 7), b = simulate_observations(model, 7),
                       c = simulate_observations(model, 8);
    CHECK(a.values == b.values);
    CHECK(a.values != c.values);
    CHECK(a.latent.size() == 9);
    const std::string path = "test_filtering_observations.txt";
    save_observations(path, a);
    const Observations r = load_observations(path);
    CHECK(r.times == a.times);
    CHECK(r.values == a.values);
    CHECK(r.latent == a.latent);
    std::remove(path.c_str());
    CHECK(contains(error_of([] { load_observations("/nonexistent/obs.txt"); }), "cannot open"));
}

TEST_CASE("Filtering: bad input names the parameter") {
    const FilteringModel model;
    const Observations obs = simulate_observations(model, 1);
    Grid1D small;
    small.n = 2;
    CHECK(contains(error_of([&] { ChangCooper(model, small, 1e-3); }), "n must be >= 3"));
    CHECK(contains(error_of([&] { ChangCooper(model, Grid1D{}, 0.0); }), "dt must be > 0"));
    CHECK(contains(error_of([&] { ChangCooper(model, Grid1D{}, -1e-3); }), "dt must be > 0"));
    ChangCooperOptions co;
    co.dt = std::nan("");
    CHECK(contains(error_of([&] { chang_cooper_filter(model, obs, co); }), "dt must be > 0"));
    CHECK(contains(error_of([&] { simulate_observations(model, 1, 0.0); }), "dt must be > 0"));
    co = {};
    co.grid.hi = std::numeric_limits<double>::infinity();
    CHECK(contains(error_of([&] { chang_cooper_filter(model, obs, co); }), "lo < hi"));
    FilteringModel bad = model;
    bad.beta = std::nan("");
    CHECK(contains(error_of([&] { chang_cooper_filter(bad, obs); }), "beta"));
    bad = model;
    bad.obs_variance = 0;
    CHECK(contains(error_of([&] { particle_filter(bad, obs); }), "obs_variance"));
    bad = model;
    bad.gradient = nullptr;
    CHECK(contains(error_of([&] { particle_filter(bad, obs); }), "gradient"));
    Observations o = obs;
    o.values[3] = std::nan("");
    CHECK(contains(error_of([&] { chang_cooper_filter(model, o); }), "observation value 3"));
    o = obs;
    o.times[2] = o.times[1];
    CHECK(contains(error_of([&] { particle_filter(model, o); }), "observation times"));
    o = obs;
    o.times[0] = 0.5004;
    CHECK(contains(error_of([&] { chang_cooper_filter(model, o); }), "whole number of steps"));
    CHECK(contains(error_of([&] { chang_cooper_filter(model, Observations{}); }), "observations are empty"));
    CHECK(contains(error_of([&] { particle_filter(model, Observations{}); }), "observations are empty"));
    ParticleFilterOptions po;
    po.particles = 1;
    CHECK(contains(error_of([&] { particle_filter(model, obs, po); }), "particles must be >= 2"));
    bad = model;
    bad.potential = [](double x) { return x > 4 ? std::nan("") : x * x; };
    CHECK(contains(error_of([&] { ChangCooper(bad, Grid1D{}, 1e-3); }), "potential is not finite"));
    CHECK(contains(error_of([] { grid_sym_kl({1.0, -1.0}, {1.0, 1.0}, 0.1); }), ">= 0"));
}

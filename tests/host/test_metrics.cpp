// test_metrics.cpp — Gaussian log density against the explicit formula (D = 1, 3), sampling moments
// against CLT bounds, the OU marginal (t = 0, t → ∞, the moment ODEs by central differences in t,
// the scalar textbook formula), the energy distance (identical / shifted sets, brute force, the 1-D
// Cramér identity), the symmetric KL estimator against the closed form for two Gaussians, and
// random_spd_matrix (symmetric, eigenvalues in [1, 2]).
#include <doctest/doctest.h>

#include "eigen_dense.h"
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "compare.h"
#include "random.h"
#include "wgf/error.h"
#include "wgf/metrics.h"

using namespace wgf;
using namespace wgf_test;

namespace {

using MatR = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXd;

MatR to_mat(const std::vector<double>& a, int D) { return Eigen::Map<const MatR>(a.data(), D, D); }
std::vector<double> to_vec(const MatR& m) { return std::vector<double>(m.data(), m.data() + m.size()); }

/// A fixed, non-diagonal 3×3 SPD matrix (eigenvalues in [1, 2]) scaled by s.
std::vector<double> spd3(std::uint64_t seed, double s) {
    Rng rng(seed);
    auto A = random_spd_matrix(3, rng);
    for (auto& v : A) v *= s;
    return A;
}

/// KL(N(m0, S0) ‖ N(m1, S1)) = ½ [tr(S1⁻¹S0) + (m1−m0)ᵀS1⁻¹(m1−m0) − D + log det S1 − log det S0].
double kl_gauss(const Gaussian& p, const Gaussian& q) {
    const int D = p.dim();
    const MatR S0 = to_mat(p.cov(), D), S1 = to_mat(q.cov(), D);
    const Vec dm = Eigen::Map<const Vec>(q.mean().data(), D) - Eigen::Map<const Vec>(p.mean().data(), D);
    const MatR S1inv = S1.inverse();
    return 0.5 * ((S1inv * S0).trace() + dm.dot(S1inv * dm) - D + std::log(S1.determinant() / S0.determinant()));
}

/// The naive energy distance, all pairs in one double loop each (no symmetry, no threads).
double energy_brute(const std::vector<double>& x, const std::vector<double>& y, int D) {
    const auto mean_dist = [D](const std::vector<double>& a, const std::vector<double>& b) {
        const std::size_t na = a.size() / D, nb = b.size() / D;
        double s = 0;
        for (std::size_t i = 0; i < na; ++i)
            for (std::size_t j = 0; j < nb; ++j) {
                double d2 = 0;
                for (int k = 0; k < D; ++k) d2 += (a[i * D + k] - b[j * D + k]) * (a[i * D + k] - b[j * D + k]);
                s += std::sqrt(d2);
            }
        return s / (double(na) * double(nb));
    };
    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y);
}
}  // namespace

TEST_CASE("gaussian log density matches the explicit formula (D=1, D=3)") {
    SUBCASE("D=1") {
        const double mu = 0.7, var = 2.3;
        Gaussian g({mu}, {var});
        const std::vector<double> x = {-3.0, 0.0, 0.7, 1.5, 10.0};
        std::vector<double> expected;
        for (double xi : x) expected.push_back(-0.5 * std::log(2 * M_PI * var) - (xi - mu) * (xi - mu) / (2 * var));
        expect_allclose(g.log_density(x), expected, 1e-13, 1e-14, "log N D=1");
    }
    SUBCASE("D=3") {
        const std::vector<double> mu = {1.0, -2.0, 0.5};
        const auto S = spd3(5, 0.7);
        Gaussian g(mu, S);
        CHECK(g.dim() == 3);
        // Explicit: −½ (D log 2π + log det Σ) − ½ (x−μ)ᵀ Σ⁻¹ (x−μ), with Eigen's LU inverse and determinant.
        const MatR Sm = to_mat(S, 3), Sinv = Sm.inverse();
        const auto x = random_points<double>(20, 3, 6, 2.0);
        std::vector<double> expected;
        for (int p = 0; p < 20; ++p) {
            const Vec d = Eigen::Map<const Vec>(x.data() + 3 * p, 3) - Eigen::Map<const Vec>(mu.data(), 3);
            expected.push_back(-0.5 * (3 * std::log(2 * M_PI) + std::log(Sm.determinant())) - 0.5 * d.dot(Sinv * d));
        }
        expect_allclose(g.log_density(x), expected, 1e-12, 1e-13, "log N D=3");
    }
}

TEST_CASE("gaussian samples: mean, covariance and mean log density converge (CLT bounds)") {
    const int D = 3;
    const std::int64_t n = 200000;
    const std::vector<double> mu = {1.0, -2.0, 0.5};
    const auto S = spd3(8, 1.5);
    Gaussian g(mu, S);
    Rng rng(9);
    const auto x = g.sample(n, rng);
    REQUIRE(x.size() == static_cast<std::size_t>(n * D));
    Vec mean = Vec::Zero(D);
    for (std::int64_t p = 0; p < n; ++p) mean += Eigen::Map<const Vec>(x.data() + p * D, D);
    mean /= double(n);
    MatR cov = MatR::Zero(D, D);
    for (std::int64_t p = 0; p < n; ++p) {
        const Vec d = Eigen::Map<const Vec>(x.data() + p * D, D) - mean;
        cov += d * d.transpose();
    }
    cov /= double(n - 1);
    // Bounds of 5 standard errors: mean_i has sd √(Σ_ii/n); the sample covariance entry (i, j) has
    // variance (Σ_ii Σ_jj + Σ_ij²)/n (Isserlis). For a fixed seed the check is deterministic; a
    // 5σ miss would have probability ~6e-7 per entry, while a wrong Cholesky factor (e.g. Lᵀ for L)
    // changes the covariance by O(1).
    for (int i = 0; i < D; ++i) {
        CAPTURE(i);
        CHECK(std::fabs(mean[i] - mu[i]) < 5 * std::sqrt(S[i * D + i] / double(n)));
        for (int j = 0; j < D; ++j) {
            CAPTURE(j);
            const double se = std::sqrt((S[i * D + i] * S[j * D + j] + S[i * D + j] * S[i * D + j]) / double(n));
            CHECK(std::fabs(cov(i, j) - S[i * D + j]) < 5 * se);
        }
    }
    // E[log N(X)] = −½ (D log 2π + log det Σ) − D/2, and Var[log N(X)] = D/2 (½ χ²_D).
    const auto lp = g.log_density(x);
    double mlp = 0;
    for (double v : lp) mlp += v;
    mlp /= double(n);
    const double expected = -0.5 * (D * std::log(2 * M_PI) + std::log(to_mat(S, D).determinant())) - 0.5 * D;
    CHECK(std::fabs(mlp - expected) < 5 * std::sqrt(0.5 * D / double(n)));
    // Same seed, same samples; another seed, other samples.
    Rng r1(9), r2(10);
    CHECK(g.sample(5, r1) == std::vector<double>(x.begin(), x.begin() + 5 * D));
    CHECK(g.sample(5, r2) != std::vector<double>(x.begin(), x.begin() + 5 * D));
}

TEST_CASE("ou_marginal: t=0 is the start, t -> infinity is N(m, inv(A)/beta)") {
    const std::vector<double> A = spd3(11, 1.0), m = {0.5, -1.0, 2.0};
    const Gaussian start({-1.0, 0.3, 0.0}, spd3(12, 0.5));
    const double beta = 0.8;
    const Gaussian g0 = ou_marginal(start, A, m, beta, 0.0);
    expect_allclose(g0.mean(), start.mean(), 1e-13, 1e-14, "mean at t=0");
    expect_allclose(g0.cov(), start.cov(), 1e-13, 1e-14, "cov at t=0");
    // Eigenvalues of A ≥ 1, so at t = 60 the start is forgotten to e^{−60} ≈ 1e-26.
    const Gaussian ginf = ou_marginal(start, A, m, beta, 60.0);
    const auto stat_cov = to_vec(to_mat(A, 3).inverse() / beta);
    expect_allclose(ginf.mean(), m, 1e-13, 1e-14, "mean at t=60");
    expect_allclose(ginf.cov(), stat_cov, 1e-12, 1e-14, "cov at t=60");
    // Halfway it is neither.
    const Gaussian gmid = ou_marginal(start, A, m, beta, 0.5);
    CHECK(std::fabs(gmid.mean()[0] - m[0]) > 0.05);
    CHECK(std::fabs(gmid.mean()[0] - start.mean()[0]) > 0.05);
}

TEST_CASE("ou_marginal satisfies the moment ODEs (central differences in t)") {
    // dμ/dt = −A(μ − m),  dΣ/dt = −AΣ − ΣA + 2β⁻¹ I.
    const int D = 3;
    const std::vector<double> A = spd3(21, 1.3), m = {0.5, -1.0, 2.0};
    const Gaussian start({-1.0, 0.3, 0.0}, spd3(22, 0.4));
    const double beta = 0.5;
    const MatR Am = to_mat(A, D);
    for (double t : {0.05, 0.3, 1.2}) {
        CAPTURE(t);
        // h = 1e-4: truncation h²/6 |μ'''| ≤ 2e-9 · ‖A‖³ · scale ≈ 2e-8, rounding ε/h ≈ 1e-12;
        // tolerance 1e-6 relative to the largest derivative. A sign or factor-2 error is O(1).
        const double h = 1e-4;
        const Gaussian gp = ou_marginal(start, A, m, beta, t + h), gm = ou_marginal(start, A, m, beta, t - h),
                       g = ou_marginal(start, A, m, beta, t);
        std::vector<double> dmu(D), dS(D * D);
        for (int i = 0; i < D; ++i) dmu[i] = (gp.mean()[i] - gm.mean()[i]) / (2 * h);
        for (int i = 0; i < D * D; ++i) dS[i] = (gp.cov()[i] - gm.cov()[i]) / (2 * h);
        const Vec mu = Eigen::Map<const Vec>(g.mean().data(), D);
        const Vec rhs_mu = -Am * (mu - Eigen::Map<const Vec>(m.data(), D));
        const MatR S = to_mat(g.cov(), D);
        const MatR rhs_S = -Am * S - S * Am + (2.0 / beta) * MatR::Identity(D, D);
        const std::vector<double> rmu(rhs_mu.data(), rhs_mu.data() + D);
        const auto rS = to_vec(rhs_S);
        const double smu = rhs_mu.cwiseAbs().maxCoeff(), sS = rhs_S.cwiseAbs().maxCoeff();
        expect_allclose(dmu, rmu, 1e-6, 1e-6 * smu, "dmu/dt");
        expect_allclose(dS, rS, 1e-6, 1e-6 * sS, "dSigma/dt");
    }
}

TEST_CASE("ou_marginal in 1-D matches the textbook formula") {
    // dX = −a(X − m) dt + √(2/β) dW, X₀ ∼ N(m0, s0):
    //   E X_t = m + (m0 − m) e^{−at},  Var X_t = s0 e^{−2at} + (1 − e^{−2at}) / (aβ).
    const double a = 1.7, m = 0.4, beta = 2.5, m0 = -1.0, s0 = 0.3;
    for (double t : {1e-6, 0.1, 0.8, 3.0}) {
        CAPTURE(t);
        const Gaussian g = ou_marginal(Gaussian({m0}, {s0}), {a}, {m}, beta, t);
        const double e = std::exp(-a * t), e2 = std::exp(-2 * a * t);
        const double mean = m + (m0 - m) * e, var = s0 * e2 + (1 - e2) / (a * beta);
        CHECK(std::fabs(g.mean()[0] - mean) <= 1e-14 * std::fabs(mean) + 1e-15);
        CHECK(std::fabs(g.cov()[0] - var) <= 1e-12 * var);
    }
}

TEST_CASE("ou_marginal and Gaussian reject bad input") {
    const Gaussian start({0.0, 0.0}, {1, 0, 0, 1});
    const std::vector<double> I2 = {1, 0, 0, 1}, m2 = {0, 0};
    CHECK(contains(error_of([&] { ou_marginal(start, I2, m2, 1.0, -0.1); }), "t must be finite and >= 0"));
    CHECK(contains(error_of([&] { ou_marginal(start, I2, m2, 0.0, 1.0); }), "beta must be finite and > 0"));
    CHECK(contains(error_of([&] { ou_marginal(start, {1, 0, 0}, m2, 1.0, 1.0); }), "A has 3 entries"));
    CHECK(contains(error_of([&] { ou_marginal(start, {1, 0, 0, -1}, m2, 1.0, 1.0); }), "not positive definite"));
    CHECK(contains(error_of([&] { ou_marginal(start, I2, {0, 0, 0}, 1.0, 1.0); }), "m has 3 entries"));
    CHECK(contains(error_of([&] { Gaussian({}, {}); }), "empty"));
    CHECK(contains(error_of([&] { Gaussian({0, 0}, {1, 0, 0}); }), "cov has 3 entries"));
    CHECK(contains(error_of([&] { Gaussian({0, 0}, {1, 2, 2, 1}); }), "cov is not positive definite (2x2, Cholesky: indefinite)"));
    CHECK(contains(error_of([&] { Gaussian({0, 0}, {1, 0.3, 0, 1}); }), "cov is not symmetric"));
    CHECK(contains(error_of([&] { Gaussian({0, NAN}, I2); }), "mean[1] is not finite"));
    CHECK(contains(error_of([&] { start.log_density(std::vector<double>{1, 2, 3}); }), "not a multiple of D = 2"));
}

TEST_CASE("energy distance: zero for identical sets, positive when shifted, brute force, 1-D Cramer") {
    const int D = 3;
    const auto x = random_points<double>(300, D, 31);
    auto y = x;
    const double e_same = energy_distance(x, y, D);
    // Mean pair distance is ≈ 2.2 here; the three terms cancel up to summation rounding.
    CHECK(std::fabs(e_same) < 1e-12);
    for (std::size_t p = 0; p < y.size() / D; ++p) y[p * D] += 2.0;
    const double e_shift = energy_distance(x, y, D);
    CHECK(e_shift > 0.5);
    // Against the naive all-pairs formula, on sets of different sizes.
    const auto a = random_points<double>(57, D, 32), b = random_points<double>(83, D, 33, 1.5);
    const double e = energy_distance(a, b, D), e_ref = energy_brute(a, b, D);
    CHECK(e_ref > 0.01);
    CHECK(std::fabs(e - e_ref) <= 1e-12 * e_ref);
    CHECK(std::fabs(e_shift - energy_brute(x, y, D)) <= 1e-12 * e_shift);
    // Two single points: 2‖a − b‖.
    CHECK(energy_distance({0, 0}, {3, 4}, 2) == doctest::Approx(10.0).epsilon(1e-15));
    // 1-D: for empirical laws the V-statistic equals 2 ∫ (F_x(t) − F_y(t))² dt exactly (Cramér).
    const auto u = random_points<double>(200, 1, 34), v = random_points<double>(150, 1, 35, 2.0);
    std::vector<std::pair<double, int>> all;
    for (double t : u) all.emplace_back(t, 0);
    for (double t : v) all.emplace_back(t, 1);
    std::sort(all.begin(), all.end());
    double Fu = 0, Fv = 0, cramer = 0;
    for (std::size_t i = 0; i + 1 < all.size(); ++i) {
        (all[i].second == 0 ? Fu : Fv) += 1.0 / double(all[i].second == 0 ? u.size() : v.size());
        cramer += (Fu - Fv) * (Fu - Fv) * (all[i + 1].first - all[i].first);
    }
    cramer *= 2;
    CHECK(cramer > 0.01);
    CHECK(std::fabs(energy_distance(u, v, 1) - cramer) <= 1e-11 * cramer);
}

TEST_CASE("energy distance rejects bad input") {
    CHECK(contains(error_of([] { energy_distance({1, 2, 3}, {1, 2}, 2); }), "x has 3 entries"));
    CHECK(contains(error_of([] { energy_distance({1, 2}, {}, 2); }), "y has 0 entries"));
    CHECK(contains(error_of([] { energy_distance({1, 2}, {1, 2}, 0); }), "dim must be >= 1"));
    CHECK(contains(error_of([] { energy_distance({1, NAN}, {1, INFINITY}, 2); }), "x has 1 and y has 1 NaN/Inf"));
}

TEST_CASE("symmetric KL estimator against the closed form for two Gaussians (200k samples)") {
    const std::int64_t n = 200000;
    const Gaussian model({0.3, -0.2, 0.5}, spd3(41, 0.8)), target({-0.4, 0.4, 0.0}, spd3(42, 1.2));
    Rng rng(43);
    const auto xm = model.sample(n, rng), xt = target.sample(n, rng);
    const auto mm = model.log_density(xm), tm = target.log_density(xm);
    const auto tt = target.log_density(xt), mt = model.log_density(xt);
    const SymmetricKl kl = symmetric_kl(mm, tm, tt, mt);
    const double kl_mt = kl_gauss(model, target), kl_tm = kl_gauss(target, model);
    // Tolerance: 5 standard errors of each Monte-Carlo mean, the standard error estimated from the
    // samples' log-ratio spread (sd/√n ≈ 2e-3·sd). The estimator is unbiased, so a correct one
    // misses by > 5 SE with probability ~6e-7; the closed-form KLs (~0.5) are > 20 SE, so a swapped
    // sign or direction fails.
    const auto se = [](const std::vector<double>& a, const std::vector<double>& b) {  // n: a constant, not captured
        double s = 0, s2 = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            s += a[i] - b[i];
            s2 += (a[i] - b[i]) * (a[i] - b[i]);
        }
        const double mean = s / double(n);
        return std::sqrt((s2 / double(n) - mean * mean) / double(n));
    };
    const double se_mt = se(mm, tm), se_tm = se(tt, mt);
    CAPTURE(kl_mt);
    CAPTURE(kl_tm);
    CAPTURE(kl.kl_model_target);
    CAPTURE(kl.kl_target_model);
    CHECK(kl_mt > 20 * se_mt);
    CHECK(kl_tm > 20 * se_tm);
    CHECK(std::fabs(kl.kl_model_target - kl_mt) < 5 * se_mt);
    CHECK(std::fabs(kl.kl_target_model - kl_tm) < 5 * se_tm);
    CHECK(kl.sym() == kl.kl_model_target + kl.kl_target_model);
    // The same law on both sides: both terms are exactly 0.
    const SymmetricKl zero = symmetric_kl(mm, mm, tt, tt);
    CHECK(zero.sym() == 0.0);
}

TEST_CASE("symmetric KL rejects mismatched sizes and non-finite log densities") {
    const std::vector<double> a = {-1, -2, -3}, b = {-1.5, -2.5, -3.5}, c = {-1, -2};
    CHECK(contains(error_of([&] { symmetric_kl(a, c, a, b); }), "model_logp_at_model (3) and target_logp_at_model (2)"));
    CHECK(contains(error_of([&] { symmetric_kl(a, b, a, c); }), "target_logp_at_target (3) and model_logp_at_target (2)"));
    CHECK(contains(error_of([&] { symmetric_kl({}, {}, a, b); }), "non-zero size"));
    auto bad = b;
    bad[1] = -std::numeric_limits<double>::infinity();
    CHECK(contains(error_of([&] { symmetric_kl(a, b, a, bad); }), "model_logp_at_target has 1 NaN/Inf"));
    bad[2] = std::nan("");
    CHECK(contains(error_of([&] { symmetric_kl(a, bad, a, b); }), "target_logp_at_model has 2 NaN/Inf"));
}

TEST_CASE("random_spd_matrix: symmetric, eigenvalues in [1, 2], spread over the interval") {
    Rng rng(51);
    double lo = 3, hi = 0;
    for (int D : {1, 2, 5, 12}) {
        for (int rep = 0; rep < 20; ++rep) {
            CAPTURE(D);
            CAPTURE(rep);
            const auto S = random_spd_matrix(D, rng);
            REQUIRE(S.size() == static_cast<std::size_t>(D * D));
            const MatR Sm = to_mat(S, D);
            CHECK(Sm == Sm.transpose());  // exactly symmetric
            const Eigen::SelfAdjointEigenSolver<MatR> eig(Sm);
            const double emin = eig.eigenvalues().minCoeff(), emax = eig.eigenvalues().maxCoeff();
            CHECK(emin >= 1.0 - 1e-12);
            CHECK(emax <= 2.0 + 1e-12);
            lo = std::min(lo, emin);
            hi = std::max(hi, emax);
            if (D >= 2) CHECK((Sm - MatR(Sm.diagonal().asDiagonal())).cwiseAbs().maxCoeff() > 1e-3);  // not diagonal
        }
    }
    // 400 eigenvalues i.i.d. 1 + U(0,1): P(all > 1.1) = 0.9^400 ≈ 5e-19.
    CHECK(lo < 1.1);
    CHECK(hi > 1.9);
    CHECK(contains(error_of([&] { random_spd_matrix(0, rng); }), "dim must be >= 1"));
}

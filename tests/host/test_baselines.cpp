// test_baselines.cpp — the particle baselines (wgf/baselines.h): Euler–Maruyama against the exact OU
// marginal, the Gaussian KDE against a direct sum and Scott's rule, its normalisation and its sampler,
// and errors that name the failing step.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "errors.h"
#include "moments.h"
#include "wgf/wgf.h"

using namespace wgf;
using namespace wgf_test;

TEST_CASE("Euler–Maruyama reaches the exact OU marginal (moments)") {
    const std::vector<double> A = {1.5, 0.4, 0.4, 1.0}, m = {1.0, -0.5};
    const double beta = 2.0, t = 0.5;
    const QuadraticPotential<double> phi(A, m);
    const Gaussian rho0({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0});
    Context ctx(Backend::Host);
    Rng rng(4);
    const std::int64_t n = 40000;
    const std::vector<double> x = euler_maruyama(ctx, phi, rho0, n, beta, 1e-3, t, rng);
    const Gaussian exact = ou_marginal(rho0, A, m, beta, t);
    std::vector<double> mean, cov;
    moments(x, 2, mean, cov);
    for (int i = 0; i < 2; ++i) {
        // Statistical error sqrt(var/n) ≈ 0.004; EM's weak error O(dt · |A|) ≈ 2e-3.
        const double se = std::sqrt(exact.cov()[i * 2 + i] / n);
        CHECK(std::abs(mean[i] - exact.mean()[i]) < 5 * se + 3e-3);
        for (int j = 0; j < 2; ++j)
            CHECK(std::abs(cov[i * 2 + j] - exact.cov()[i * 2 + j]) < 5 * std::sqrt(2.0 / n) * exact.cov()[i * 2 + i] + 3e-3);
    }
    // The untrained start is far off, so the check above is not vacuous.
    CHECK(std::abs(exact.mean()[0]) > 0.4);
}

TEST_CASE("Gaussian KDE: Scott's bandwidth, a direct sum, normalisation, sampling") {
    Rng rng(9);
    const Gaussian g({0.5, -1.0}, {2.0, 0.6, 0.6, 1.0});
    const std::int64_t n = 3000;
    const std::vector<double> pts = g.sample(n, rng);
    const GaussianKde kde(pts, 2);
    // H = n^{−2/(D+4)} · Cov (1/(n−1)).
    std::vector<double> mean, cov;
    moments(pts, 2, mean, cov);
    const double f = std::pow(static_cast<double>(n), -2.0 / 6) * n / (n - 1.0);
    for (int k = 0; k < 4; ++k) CHECK(kde.bandwidth()[k] == doctest::Approx(f * cov[k]).epsilon(1e-10));
    // Against a direct sum with the explicit 2×2 inverse.
    const auto& H = kde.bandwidth();
    const double det = H[0] * H[3] - H[1] * H[2];
    const std::vector<double> q = {0.0, 0.0, 2.0, 1.0, -3.0, -2.5, 10.0, 10.0};
    const std::vector<double> lp = kde.log_density(q);
    for (int k = 0; k < 4; ++k) {
        double s = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const double dx = q[k * 2] - pts[i * 2], dy = q[k * 2 + 1] - pts[i * 2 + 1];
            const double quad = (H[3] * dx * dx - 2 * H[1] * dx * dy + H[0] * dy * dy) / det;
            s += std::exp(-0.5 * quad) / (2 * 3.14159265358979323846 * std::sqrt(det));
        }
        INFO("query " << k);
        if (s > 1e-300) CHECK(lp[k] == doctest::Approx(std::log(s / n)).epsilon(1e-9));
    }
    // Integrates to 1 (trapezoid on [−9, 10]², smooth integrand).
    std::vector<double> grid;
    const int m = 161;
    const double a = -9, b = 10, h = (b - a) / (m - 1);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j) {
            grid.push_back(a + i * h);
            grid.push_back(a + j * h);
        }
    const std::vector<double> lg = kde.log_density(grid);
    double total = 0;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j)
            total += std::exp(lg[i * m + j]) * h * h * ((i == 0 || i == m - 1) ? 0.5 : 1) * ((j == 0 || j == m - 1) ? 0.5 : 1);
    CHECK(total == doctest::Approx(1.0).epsilon(1e-4));
    // Samples: mean = the points' mean, covariance = the points' covariance + H.
    const std::vector<double> s = kde.sample(200000, rng);
    std::vector<double> sm, sc;
    moments(s, 2, sm, sc);
    for (int i = 0; i < 2; ++i) CHECK(sm[i] == doctest::Approx(mean[i]).epsilon(0.02).scale(1));
    for (int k = 0; k < 4; ++k) CHECK(sc[k] == doctest::Approx(cov[k] + H[k]).epsilon(0.03).scale(1));
}

TEST_CASE("baselines reject bad input and name the failing step") {
    Context ctx(Backend::Host);
    Rng rng(1);
    const QuadraticPotential<double> stiff({1e4}, {0.0});
    const Gaussian rho0({0.0}, {1.0});
    // dt · a = 10 > 2: explicit Euler diverges geometrically (×9 per step) and overflows.
    CHECK(contains(error_of([&] { (void)euler_maruyama(ctx, stiff, rho0, 10, 1.0, 1e-3, 1.0, rng); }),
                   "particle coordinates are not finite"));
    CHECK(contains(error_of([&] { (void)euler_maruyama(ctx, stiff, rho0, 10, 1.0, 0.0, 1.0, rng); }), "dt must be > 0"));
    CHECK(contains(error_of([&] { GaussianKde({1.0, 1.0, 1.0}, 1); }), "bandwidth (the points' covariance is singular)"));
    CHECK(contains(error_of([&] { GaussianKde({1.0}, 1); }), "at least 2 points"));
}

// test_potentials.cpp — the built-in potentials on the host backend: gradients against central finite
// differences (double), the one-component mixture against the quadratic with A = Σ⁻¹/β, the
// log-sum-exp far (50σ) from every component against a long-double reference, float against double,
// thread-count independence, FunctionPotential pass-through, and the error messages for bad input.
#include <doctest/doctest.h>

#include "eigen_dense.h"
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "errors.h"
#include "potential_fd.h"
#include "compare.h"
#include "random.h"
#include "wgf/error.h"
#include "wgf/metrics.h"
#include "wgf/potential.h"

using namespace wgf;
using namespace wgf_test;

namespace {

using MatR = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A 3-component mixture in D = 3 with random SPD covariances (eigenvalues in [0.5, 2]) and unequal
/// weights; means about 2 apart so that several responsibilities are non-negligible between them.
struct MixtureSpec {
    int D = 3;
    std::vector<double> w = {0.2, 0.5, 0.3};
    std::vector<double> mu = {0, 0, 0, 2, 0.5, -1, -1, 1.5, 1};
    std::vector<double> cov;
    double beta = 2.0;
};
MixtureSpec mixture_spec(std::uint64_t seed) {
    MixtureSpec s;
    Rng rng(seed);
    for (int k = 0; k < 3; ++k) {
        auto S = random_spd_matrix(s.D, rng);  // eigenvalues in [1, 2]
        const double scale = k == 0 ? 0.5 : (k == 1 ? 1.0 : 0.8);
        for (auto& v : S) v *= scale;
        s.cov.insert(s.cov.end(), S.begin(), S.end());
    }
    return s;
}

template <typename T>
void eval_host(const Potential<T>& pot, const std::vector<T>& y, std::vector<T>& value, std::vector<T>& grad,
               int threads = 1) {
    Context ctx(Backend::Host, threads);
    const std::int64_t n = static_cast<std::int64_t>(y.size()) / pot.dim();
    value.assign(static_cast<std::size_t>(n), T(0));
    grad.assign(y.size(), T(0));
    pot.eval(ctx, y.data(), n, value.data(), grad.data());
}


double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::fmax(m, std::fabs(x));
    return m;
}
}  // namespace

TEST_CASE("potential gradients match central finite differences (double)") {
    // h = ∛ε·max(1,|y|) ≈ 6e-6 balances truncation h²|Φ'''|/6 ≈ 6e-12|Φ'''| against rounding
    // ε|Φ|/h ≈ 4e-11|Φ|. Here |Φ| ≲ 50 and |Φ'''| ≲ 1e2 (precisions ≤ 2, β = 2), so the FD error
    // is ≲ 1e-8 absolute; atol 1e-6·max|∇Φ| + rtol 1e-6 has a ≥ 100× margin, while a wrong factor
    // (β, ½, a responsibility) is an O(1) relative error.
    SUBCASE("quadratic D=4") {
        Rng rng(11);
        std::vector<double> A = random_spd_matrix(4, rng), m = {0.5, -1, 2, 0};
        QuadraticPotential<double> pot(A, m);
        const auto y = random_points<double>(16, 4, 12, 2.0);
        std::vector<double> v, g;
        eval_host(pot, y, v, g);
        const auto fd = fd_gradient(pot, y);
        expect_allclose(g, fd, 1e-6, 1e-6 * max_abs(fd), "quadratic grad vs FD");
        // The quadratic's gradient is also A(y − m) exactly: check one point by hand.
        double e0 = 0;
        for (int j = 0; j < 4; ++j) e0 += A[j] * (y[j] - m[j]);
        CHECK(std::fabs(g[0] - e0) <= 1e-13 * std::fabs(e0) + 1e-15);
    }
    SUBCASE("gaussian mixture D=3 K=3 beta=2") {
        const auto s = mixture_spec(21);
        GaussianMixturePotential<double> pot(s.w, s.mu, s.cov, s.D, s.beta);
        // Points around and between the components (scale 1.5 around the origin).
        const auto y = random_points<double>(40, 3, 22, 1.5);
        std::vector<double> v, g;
        eval_host(pot, y, v, g);
        const auto fd = fd_gradient(pot, y);
        expect_allclose(g, fd, 1e-6, 1e-6 * max_abs(fd), "mixture grad vs FD");
    }
}

TEST_CASE("a one-component mixture is the quadratic with A = inv(Sigma)/beta, up to a constant") {
    Rng rng(31);
    const int D = 3;
    const double beta = 0.7;
    std::vector<double> cov = random_spd_matrix(D, rng);
    for (auto& v : cov) v *= 0.6;
    const std::vector<double> mu = {1.0, -0.5, 0.25};
    const MatR S = Eigen::Map<const MatR>(cov.data(), D, D);
    const MatR P = S.inverse() / beta;
    std::vector<double> A(P.data(), P.data() + D * D);
    for (int i = 0; i < D; ++i)  // exact symmetry (inverse() is symmetric only to rounding)
        for (int j = 0; j < i; ++j) A[i * D + j] = A[j * D + i];

    GaussianMixturePotential<double> mix({3.0}, mu, cov, D, beta);  // weight 3 is normalised to 1
    QuadraticPotential<double> quad(A, mu);
    const auto y = random_points<double>(25, D, 32, 2.0);
    std::vector<double> vm, gm, vq, gq;
    eval_host(mix, y, vm, gm);
    eval_host(quad, y, vq, gq);
    expect_allclose(gm, gq, 1e-12, 1e-14, "gradients");
    // Φ_mix − Φ_quad = β⁻¹ · ½ log det(2π Σ) for every point.
    const double c = 0.5 * std::log((2 * M_PI * S).determinant()) / beta;
    std::vector<double> diff(vm.size()), expected(vm.size(), c);
    for (std::size_t i = 0; i < vm.size(); ++i) diff[i] = vm[i] - vq[i];
    CHECK(std::fabs(c) > 0.5);  // the constant is not trivially zero here
    expect_allclose(diff, expected, 1e-12, 1e-12, "value difference is the normalising constant");
}

TEST_CASE("gaussian mixture log-sum-exp stays finite and accurate 50 sigma from every component") {
    REQUIRE(std::numeric_limits<long double>::min_exponent10 < -1000);  // x87 80-bit long double
    const int D = 3;
    const std::vector<double> w = {0.3, 0.7}, mu = {0, 0, 0, 3, 0, 0};
    std::vector<double> cov(2 * 9, 0.0);
    for (int k = 0; k < 2; ++k)
        for (int i = 0; i < 3; ++i) cov[k * 9 + i * 3 + i] = 1.0;
    const double beta = 1.5;
    GaussianMixturePotential<double> pot(w, mu, cov, D, beta);
    // y at distance 50 from μ₀ and ≈ 50.09 from μ₁: the densities are e^{-1250}, below double's range,
    // so a naive log Σ w_k N_k would be log 0 = −∞. Reference: the naive formula in long double.
    const std::vector<double> ys = {0, 50, 0, 1, 0, -50, 40, 30, 0};
    std::vector<double> v, g;
    eval_host(pot, ys, v, g);
    for (int p = 0; p < 3; ++p) {
        CAPTURE(p);
        long double dens = 0, gnum[3] = {0, 0, 0};
        for (int k = 0; k < 2; ++k) {
            long double q = 0;
            for (int i = 0; i < 3; ++i) q += (long double)(ys[p * 3 + i] - mu[k * 3 + i]) * (ys[p * 3 + i] - mu[k * 3 + i]);
            const long double nk = w[k] * std::exp(-0.5L * q) / std::pow(2.0L * 3.14159265358979323846264338L, 1.5L);
            dens += nk;
            for (int i = 0; i < 3; ++i) gnum[i] += nk * (long double)(ys[p * 3 + i] - mu[k * 3 + i]);
        }
        REQUIRE(dens > 0);
        CHECK(double(dens) == 0.0);  // confirms the naive double computation would underflow
        const double phi_ref = double(-std::log(dens) / beta);
        CHECK(std::isfinite(v[p]));
        CHECK(phi_ref > 700);
        // Φ ≈ 760..840; q is computed in double (relative error ~1e-16) → 1e-13 relative.
        CHECK(std::fabs(v[p] - phi_ref) <= 1e-13 * phi_ref);
        for (int i = 0; i < 3; ++i) {
            const double gref = double(gnum[i] / dens / beta);
            CHECK(std::isfinite(g[p * 3 + i]));
            CHECK(std::fabs(g[p * 3 + i] - gref) <= 1e-12 * (1.0 + std::fabs(gref)));
        }
    }
    // Much farther (1e4σ), the gradient is the nearest component's, β⁻¹ (y − μ_near).
    const std::vector<double> far = {-1e4, 0, 0};
    eval_host(pot, far, v, g);
    CHECK(std::isfinite(v[0]));
    CHECK(std::fabs(g[0] - (-1e4 / beta)) <= 1e-10 * 1e4);
}

TEST_CASE("potentials in float agree with double") {
    // The host backend computes in double whatever T is and rounds once on output, so the float
    // result is the double result (on the same, float-representable inputs) rounded to float:
    // ≤ 2^-24 ≈ 6e-8 relative per entry; rtol 1e-6 leaves 16× slack.
    const auto s = mixture_spec(41);
    GaussianMixturePotential<double> mixd(s.w, s.mu, s.cov, s.D, s.beta);
    GaussianMixturePotential<float> mixf(s.w, s.mu, s.cov, s.D, s.beta);
    Rng rng(42);
    const auto A = random_spd_matrix(3, rng);
    QuadraticPotential<double> quadd(A, {1, 2, 3});
    QuadraticPotential<float> quadf(A, {1, 2, 3});
    const auto yf = random_points<float>(64, 3, 43, 2.0);
    const std::vector<double> yd(yf.begin(), yf.end());
    std::vector<double> vd, gd;
    std::vector<float> vf, gf;
    eval_host(mixd, yd, vd, gd);
    eval_host(mixf, yf, vf, gf);
    expect_allclose(vf, vd, 1e-6, 0.0, "mixture value float vs double");
    expect_allclose(gf, gd, 1e-6, 0.0, "mixture grad float vs double");
    eval_host(quadd, yd, vd, gd);
    eval_host(quadf, yf, vf, gf);
    expect_allclose(vf, vd, 1e-6, 0.0, "quadratic value float vs double");
    expect_allclose(gf, gd, 1e-6, 0.0, "quadratic grad float vs double");
}

TEST_CASE("potential results do not depend on the host thread count; outputs are optional") {
    const auto s = mixture_spec(51);
    GaussianMixturePotential<double> pot(s.w, s.mu, s.cov, s.D, s.beta);
    const auto y = random_points<double>(20000, 3, 52, 2.0);
    std::vector<double> v1, g1, v2, g2;
    eval_host(pot, y, v1, g1, 1);
    eval_host(pot, y, v2, g2, 2);
    CHECK(v1 == v2);
    CHECK(g1 == g2);
    // value only and grad only give the same numbers as both together.
    Context ctx(Backend::Host, 2);
    std::vector<double> v(20000), g(60000);
    pot.eval(ctx, y.data(), 20000, v.data(), nullptr);
    pot.eval(ctx, y.data(), 20000, nullptr, g.data());
    CHECK(v == v1);
    CHECK(g == g1);
}

TEST_CASE("FunctionPotential calls through to the host callback") {
    Context ctx(Backend::Host);
    int calls = 0;
    const double* seen_y = nullptr;
    std::int64_t seen_n = -1;
    bool saw_value = false, saw_grad = false;
    // Φ(y) = Σ y_i³ (any user function), ∇Φ = 3 y².
    FunctionPotential<double> pot(
        2,
        [&](const double* y, std::int64_t n, double* value, double* grad) {
            ++calls;
            seen_y = y;
            seen_n = n;
            saw_value = value != nullptr;
            saw_grad = grad != nullptr;
            for (std::int64_t p = 0; p < n; ++p) {
                if (value) value[p] = y[2 * p] * y[2 * p] * y[2 * p] + y[2 * p + 1] * y[2 * p + 1] * y[2 * p + 1];
                if (grad)
                    for (int i = 0; i < 2; ++i) grad[2 * p + i] = 3 * y[2 * p + i] * y[2 * p + i];
            }
        },
        nullptr, "cubic");
    CHECK(pot.dim() == 2);
    CHECK(pot.describe() == "cubic");
    const std::vector<double> y = {1, 2, -1, 0.5, 3, -2};
    std::vector<double> v(3), g(6);
    pot.eval(ctx, y.data(), 3, v.data(), g.data());
    CHECK(calls == 1);
    CHECK(seen_y == y.data());  // host context: no copy
    CHECK(seen_n == 3);
    CHECK(saw_value);
    CHECK(saw_grad);
    const std::vector<double> ev = {9, -0.875, 19}, eg = {3, 12, 3, 0.75, 27, 12};
    expect_allclose(v, ev, 0.0, 0.0, "user value");
    expect_allclose(g, eg, 0.0, 0.0, "user grad");
    pot.eval(ctx, y.data(), 3, nullptr, g.data());
    CHECK(calls == 2);
    CHECK(!saw_value);
    CHECK(saw_grad);
    std::vector<double> ybad = y;
    ybad[4] = std::numeric_limits<double>::infinity();
    const auto msg = error_of([&] { pot.eval(ctx, ybad.data(), 3, v.data(), nullptr); });
    CHECK_MESSAGE(contains(msg, "y contains 1 NaN/Inf"), msg);
    CHECK(calls == 2);  // not called on bad input
}

TEST_CASE("potentials reject bad input with a message naming the problem") {
    Context ctx(Backend::Host);
    const std::vector<double> I2 = {1, 0, 0, 1};
    // Construction.
    CHECK(contains(error_of([&] { QuadraticPotential<double>({1, 0, 0}, {0, 0}); }), "A has 3 entries"));
    CHECK(contains(error_of([&] { QuadraticPotential<double>({}, {}); }), "empty"));
    CHECK(contains(error_of([&] { QuadraticPotential<double>({1, 2, 2, 1}, {0, 0}); }), "not positive definite"));
    CHECK(contains(error_of([&] { QuadraticPotential<double>({1, 0.5, 0, 1}, {0, 0}); }), "not symmetric"));
    CHECK(contains(error_of([&] { QuadraticPotential<double>({1, 0, 0, std::nan("")}, {0, 0}); }), "not finite"));
    CHECK(contains(error_of([&] { QuadraticPotential<float>(I2, {0, INFINITY}); }), "center m[1] is not finite"));
    const std::vector<double> mu2 = {0, 0, 1, 1}, cov2 = {1, 0, 0, 1, 2, 0, 0, 2};
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({0.5, 0.0}, mu2, cov2, 2); }),
                   "weight 1 must be finite and > 0"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({0.5, -1.0}, mu2, cov2, 2); }), "weight 1"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({}, {}, {}, 2); }), "no components"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({1, 1}, mu2, cov2, 2, 0.0); }),
                   "beta must be finite and > 0"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({1, 1}, mu2, cov2, 2, -1.0); }), "beta"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({1, 1}, {0, 0, 1}, cov2, 2); }), "means has 3"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({1, 1}, mu2, I2, 2); }), "covariances has 4"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({1, 1}, mu2, {1, 0, 0, 1, 1, 0, 0, -1}, 2); }),
                   "covariance 1 is not positive definite (2x2, Cholesky: indefinite)"));
    CHECK(contains(error_of([&] { GaussianMixturePotential<double>({1}, {0, 0}, I2, 0); }), "dim must be >= 1"));
    CHECK(contains(error_of([&] { FunctionPotential<double>(0, [](const double*, std::int64_t, double*, double*) {}); }),
                   "dim must be >= 1"));
    CHECK(contains(error_of([&] { FunctionPotential<double>(2, nullptr); }), "host_fn is required"));

    // Evaluation.
    QuadraticPotential<double> quad(I2, {0, 0});
    GaussianMixturePotential<float> mix({1, 1}, mu2, cov2, 2);
    std::vector<double> y = {1, 2, 3, 4}, v(2), g(4);
    std::vector<float> yf = {1, 2, 3, 4}, vf(2), gf(4);
    CHECK(contains(error_of([&] { quad.eval(ctx, y.data(), 0, v.data(), g.data()); }), "empty batch (n = 0)"));
    CHECK(contains(error_of([&] { quad.eval(ctx, y.data(), -3, v.data(), g.data()); }), "empty batch"));
    CHECK(contains(error_of([&] { quad.eval(ctx, nullptr, 2, v.data(), g.data()); }), "y is null"));
    CHECK(contains(error_of([&] { quad.eval(ctx, y.data(), 2, nullptr, nullptr); }), "no output requested"));
    CHECK(contains(error_of([&] { mix.eval(ctx, yf.data(), 2, nullptr, nullptr); }), "no output requested"));
    y[1] = std::nan("");
    y[2] = -INFINITY;
    CHECK(contains(error_of([&] { quad.eval(ctx, y.data(), 2, v.data(), nullptr); }), "y contains 2 NaN/Inf"));
    yf[3] = NAN;
    CHECK(contains(error_of([&] { mix.eval(ctx, yf.data(), 2, nullptr, gf.data()); }), "y contains 1 NaN/Inf"));
    // A Cuda context cannot be made without a device; the host path above is what runs here.
    if (!cuda_available()) CHECK(contains(error_of([&] { Context c(Backend::Cuda); }), "cuda"));
}

TEST_CASE("potential describe() strings") {
    QuadraticPotential<double> quad({2, 0, 0, 2}, {0, 0});
    CHECK(quad.describe() == "quadratic D=2");
    CHECK(quad.dim() == 2);
    GaussianMixturePotential<float> mix({1, 1}, {0, 0, 1, 1}, {1, 0, 0, 1, 2, 0, 0, 2}, 2, 0.5);
    CHECK(mix.components() == 2);
    CHECK(contains(mix.describe(), "K=2"));
    CHECK(contains(mix.describe(), "beta=0.5"));
}

// test_laplace.cpp — flows in an affine frame (wgf/affine_frame.h) and the Laplace approximation
// (wgf/laplace.h): the frame's maps and their inverse, the bad frames; the framed potential's value
// against the inner potential at m + L y and its gradient against central finite differences (a
// Gaussian mixture and the german posterior); the Laplace approximation of a quadratic (exact: mode m,
// Hessian A, L Lᵀ = (βA)⁻¹) and of the german posterior (∇Φ = 0 at the mode, the Hessian against
// differences of the gradient, the frame whitening it); the failures (wrong start size, Φ unbounded
// below, non-finite start).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "compare.h"
#include "errors.h"
#include "potential_fd.h"
#include "wgf/affine_frame.h"
#include "wgf/context.h"
#include "wgf/error.h"
#include "wgf/laplace.h"
#include "wgf/logreg.h"
#include "wgf/logreg_data.h"
#include "wgf/metrics.h"
#include "wgf/random.h"

#ifndef WGF_DATA_DIR
#error "WGF_DATA_DIR must name the repository's data/ folder"
#endif

using namespace wgf;
using namespace wgf_test;

namespace {

/// A 3-D frame with every entry of L below the diagonal non-zero.
AffineFrame frame3() {
    AffineFrame f;
    f.dim = 3;
    f.center = {0.5, -1.0, 2.0};
    f.factor = {1.5, 0, 0, 0.3, 0.7, 0, -0.4, 0.2, 2.0};
    return f;
}

std::vector<double> normals(std::size_t n, std::uint64_t seed, double scale = 1.0) {
    Rng rng(seed);
    std::vector<double> v(n);
    for (double& x : v) x = scale * rng.normal();
    return v;
}

std::shared_ptr<const LogisticPosteriorPotential<double>> german_posterior() {
    const LogRegDataset ds = load_logreg_dataset(std::string(WGF_DATA_DIR) + "/logreg/german");
    LogisticPosteriorOptions o;
    o.log_alpha_clip = 30;  // wgf's default: the proper posterior
    return std::make_shared<const LogisticPosteriorPotential<double>>(ds.X_train, ds.y_train, ds.dim, o);
}

/// max_i |g_i − fd_i| / (1 + max |fd| of the point), over all points.
double fd_error(const Potential<double>& pot, const std::vector<double>& y) {
    Context ctx(Backend::Host, 1);
    const std::size_t D = static_cast<std::size_t>(pot.dim()), n = y.size() / D;
    std::vector<double> v(n), g(y.size());
    pot.eval(ctx, y.data(), static_cast<std::int64_t>(n), v.data(), g.data());
    const std::vector<double> fd = fd_gradient(pot, y);
    double worst = 0;
    for (std::size_t p = 0; p < n; ++p) {
        double scale = 0;
        for (std::size_t i = 0; i < D; ++i) scale = std::max(scale, std::fabs(fd[p * D + i]));
        REQUIRE(scale > 0);  // a zero gradient cannot pass
        for (std::size_t i = 0; i < D; ++i) worst = std::max(worst, std::fabs(g[p * D + i] - fd[p * D + i]) / (1 + scale));
    }
    return worst;
}

}  // namespace

TEST_CASE("AffineFrame: x = m + L y and back, log det, bad frames") {
    const AffineFrame f = frame3();
    f.validate();
    const std::vector<double> y = normals(3 * 5, 1);
    const std::vector<double> x = f.to_x(y);
    // x_0 of the first point by hand: m_0 + L_00 y_0.
    CHECK(x[0] == doctest::Approx(0.5 + 1.5 * y[0]).epsilon(1e-15));
    CHECK(x[2] == doctest::Approx(2.0 - 0.4 * y[0] + 0.2 * y[1] + 2.0 * y[2]).epsilon(1e-14));
    const std::vector<double> back = f.to_y(x);
    expect_allclose(back.data(), y.data(), y.size(), 1e-13, 1e-13, "to_y(to_x(y))");
    CHECK(f.log_det() == doctest::Approx(std::log(1.5 * 0.7 * 2.0)).epsilon(1e-14));
    std::vector<double> lp{1.0, -2.0};
    f.log_density_to_x(lp);
    CHECK(lp[0] == doctest::Approx(1.0 - std::log(2.1)).epsilon(1e-14));

    AffineFrame upper = f;
    upper.factor[1] = 0.1;
    CHECK(contains(error_of([&] { upper.validate(); }), "above the diagonal"));
    AffineFrame zero_diag = f;
    zero_diag.factor[4] = 0;
    CHECK(contains(error_of([&] { zero_diag.validate(); }), "factor[1][1] = 0 must be > 0"));
    AffineFrame short_center = f;
    short_center.center.pop_back();
    CHECK(contains(error_of([&] { short_center.validate(); }), "center has 2 entries, expected D = 3"));
    AffineFrame nan_factor = f;
    nan_factor.factor[3] = std::nan("");
    CHECK(contains(error_of([&] { nan_factor.validate(); }), "factor[1][0] is not finite"));
    CHECK(contains(error_of([&] { f.to_x(std::vector<double>(4)); }), "not points of D = 3"));

    // The frame's ρ⁰: N(0, I).
    const Gaussian std3 = Gaussian::standard(3);
    CHECK(std3.dim() == 3);
    CHECK(std3.mean() == std::vector<double>{0, 0, 0});
    CHECK(std3.cov() == std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1});
    CHECK(contains(error_of([] { Gaussian::standard(0); }), "dimension 0 must be >= 1"));
}

TEST_CASE("FramedPotential: the inner potential at m + L y, gradient Lᵀ ∇Φ against finite differences") {
    const AffineFrame f = frame3();
    auto mixture = std::make_shared<const GaussianMixturePotential<double>>(
        std::vector<double>{0.3, 0.7}, std::vector<double>{0, 0, 0, 1, -1, 2},
        std::vector<double>{1, 0, 0, 0, 2, 0.3, 0, 0.3, 1, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5}, 3);
    const FramedPotential<double> framed(mixture, f);
    const std::vector<double> y = normals(3 * 8, 2);
    Context ctx(Backend::Host, 1);
    std::vector<double> v(8), vx(8);
    framed.eval(ctx, y.data(), 8, v.data(), nullptr);
    const std::vector<double> x = f.to_x(y);
    mixture->eval(ctx, x.data(), 8, vx.data(), nullptr);
    expect_allclose(v.data(), vx.data(), 8, 1e-14, 1e-14, "Φ_y(y) = Φ(m + L y)");
    // Central differences with h = ∛ε: error ~ ε^{2/3} ≈ 4e-11 relative; 1e-8 leaves room for the
    // curvature of the mixture and fails on a missing or transposed Lᵀ (errors of order 1).
    const double err = fd_error(framed, y);
    MESSAGE("mixture in the frame: FD error " << err);
    CHECK(err < 1e-8);

    // The german posterior (D = 21: 20 weights and log α) in a frame with a scaled identity factor and a shifted centre.
    auto post = german_posterior();
    AffineFrame g;
    g.dim = post->dim();
    g.center = normals(static_cast<std::size_t>(g.dim), 3, 0.1);
    g.center.back() = -2;
    g.factor.assign(static_cast<std::size_t>(g.dim * g.dim), 0.0);
    for (int i = 0; i < g.dim; ++i)
        for (int j = 0; j <= i; ++j) g.factor[static_cast<std::size_t>(i * g.dim + j)] = i == j ? 0.2 : 0.01 * (i - j);
    const FramedPotential<double> fpost(post, g);
    const double err2 = fd_error(fpost, normals(static_cast<std::size_t>(g.dim) * 4, 4));
    MESSAGE("german posterior in the frame: FD error " << err2);
    CHECK(err2 < 1e-7);
    const std::string mismatch = error_of([&] { FramedPotential<double>(mixture, g); });
    INFO(mismatch);
    CHECK(contains(mismatch, "the potential has D = 3, the frame " + std::to_string(g.dim)));
    CHECK(fpost.fingerprint() != FramedPotential<double>(post, [&] { AffineFrame h = g; h.center[0] += 1e-9; return h; }())
                                     .fingerprint());
}

TEST_CASE("laplace_approximation of a quadratic: mode m, Hessian A, covariance (βA)⁻¹") {
    // Φ = ½ (x − m)ᵀ A (x − m), A SPD with condition number ~50.
    const std::vector<double> A{4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 0.2}, m{1, -2, 3};
    const QuadraticPotential<double> q(A, m);
    LaplaceOptions o;
    o.beta = 2.0;
    const LaplaceApproximation lap = laplace_approximation(q, {10, 10, -10}, o);
    // Newton on a quadratic: one step (the FD Hessian of a linear gradient is exact to rounding).
    CHECK(lap.iterations <= 2);
    expect_allclose(lap.mode.data(), m.data(), 3, 1e-9, 1e-9, "mode");
    expect_allclose(lap.hessian.data(), A.data(), 9, 1e-7, 1e-7, "Hessian");
    // L Lᵀ (β A) = I.
    const std::vector<double>& L = lap.frame.factor;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            double s = 0;
            for (int k = 0; k < 3; ++k) {
                double llt = 0;
                for (int c = 0; c < 3; ++c) llt += L[static_cast<std::size_t>(i * 3 + c)] * L[static_cast<std::size_t>(k * 3 + c)];
                s += llt * o.beta * A[static_cast<std::size_t>(k * 3 + j)];
            }
            CHECK(s == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-7).scale(1.0));
        }
    CHECK(L[1] == 0.0);  // lower triangular
}

TEST_CASE("laplace_approximation of the german posterior: stationary, whitening") {
    auto post = german_posterior();
    const int D = post->dim();
    std::vector<double> x0(static_cast<std::size_t>(D), 0.0);
    x0.back() = std::log(0.01);
    const LaplaceApproximation lap = laplace_approximation(*post, x0);
    MESSAGE("german: " << lap.iterations << " Newton steps, decrement " << lap.decrement);
    Context ctx(Backend::Host, 1);
    std::vector<double> g(static_cast<std::size_t>(D));
    double v = 0;
    post->eval(ctx, lap.mode.data(), 1, &v, g.data());
    double gmax = 0;
    for (double gi : g) gmax = std::max(gmax, std::fabs(gi));
    // Converged to gᵀH⁻¹g/2 < 1e-10 with H's eigenvalues up to ~1e3 here: |g| well under 1e-3.
    CHECK(gmax < 1e-3);
    CHECK(v == doctest::Approx(lap.value).epsilon(1e-12));
    // In the frame, the Hessian of Φ_y at 0 is Lᵀ H L = I (β = 1): its FD Hessian column by column.
    const FramedPotential<double> fpost(post, lap.frame);
    const double h = 1e-4;
    double worst = 0;
    for (int i = 0; i < D; ++i) {
        std::vector<double> yp(static_cast<std::size_t>(D), 0.0), ym = yp, gp(yp.size()), gm(yp.size());
        yp[static_cast<std::size_t>(i)] = h;
        ym[static_cast<std::size_t>(i)] = -h;
        fpost.eval(ctx, yp.data(), 1, &v, gp.data());
        fpost.eval(ctx, ym.data(), 1, &v, gm.data());
        for (int j = 0; j < D; ++j) {
            const double hij = (gp[static_cast<std::size_t>(j)] - gm[static_cast<std::size_t>(j)]) / (2 * h);
            worst = std::max(worst, std::fabs(hij - (i == j ? 1.0 : 0.0)));
        }
    }
    MESSAGE("german: max |Lᵀ H L − I| = " << worst);
    CHECK(worst < 1e-4);
}

TEST_CASE("laplace_approximation: failures") {
    const QuadraticPotential<double> q({1, 0, 0, 1}, {0, 0});
    CHECK(contains(error_of([&] { laplace_approximation(q, {0, 0, 0}); }), "the start has 3 coordinates, the potential D = 2"));
    CHECK(contains(error_of([&] { laplace_approximation(q, {std::nan(""), 0}); }), "NaN/Inf"));
    // Φ = −x²/2: no mode. Newton with a shift descends forever.
    const FunctionPotential<double> down(1, [](const double* y, std::int64_t n, double* v, double* g) {
        for (std::int64_t i = 0; i < n; ++i) {
            if (v) v[i] = -0.5 * y[i] * y[i];
            if (g) g[i] = -y[i];
        }
    });
    LaplaceOptions o;
    o.max_iterations = 20;
    CHECK(contains(error_of([&] { laplace_approximation(down, {1.0}, o); }), "did not converge in 20 steps"));
}

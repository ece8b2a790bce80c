// laplace.cpp — the Laplace approximation (wgf/laplace.h): damped Newton with a finite-difference
// Hessian of the analytic gradient, then the Cholesky factor of the covariance (β H)⁻¹.
#include "wgf/laplace.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "eigen_dense.h"
#include "wgf/context.h"
#include "wgf/error.h"

namespace wgf {

namespace {
using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXd;

struct Evaluator {
    const Potential<double>& phi;
    Context ctx;
    int D;
    double value(const Vec& x) {
        double v = 0;
        phi.eval(ctx, x.data(), 1, &v, nullptr);
        return v;
    }
    double value_gradient(const Vec& x, Vec& g) {
        double v = 0;
        g.resize(D);
        phi.eval(ctx, x.data(), 1, &v, g.data());
        return v;
    }
    /// Central differences of ∇Φ, all 2D shifted points in one eval, symmetrised.
    Mat hessian(const Vec& x, double fd_step) {
        const std::int64_t n = 2 * static_cast<std::int64_t>(D);
        Mat pts(n, D), grads(n, D);
        Vec h(D);
        for (int i = 0; i < D; ++i) {
            h[i] = fd_step * std::max(1.0, std::fabs(x[i]));
            pts.row(2 * i) = x.transpose();
            pts.row(2 * i + 1) = x.transpose();
            pts(2 * i, i) += h[i];
            pts(2 * i + 1, i) -= h[i];
        }
        phi.eval(ctx, pts.data(), n, nullptr, grads.data());
        Mat H(D, D);
        for (int i = 0; i < D; ++i) H.col(i) = (grads.row(2 * i) - grads.row(2 * i + 1)).transpose() / (2 * h[i]);
        Mat S = 0.5 * (H + H.transpose());
        WGF_CHECK(S.allFinite(), "laplace_approximation: the Hessian (finite differences of the gradient) is not finite");
        return S;
    }
};
}  // namespace

LaplaceApproximation laplace_approximation(const Potential<double>& phi, std::vector<double> start,
                                           const LaplaceOptions& opt) {
    const int D = phi.dim();
    WGF_CHECK(static_cast<int>(start.size()) == D,
              "laplace_approximation: the start has " << start.size() << " coordinates, the potential D = " << D);
    WGF_CHECK(std::isfinite(opt.beta) && opt.beta > 0, "laplace_approximation: beta must be > 0, got " << opt.beta);
    WGF_CHECK(opt.max_iterations >= 1, "laplace_approximation: max_iterations must be >= 1");
    WGF_CHECK(std::isfinite(opt.tolerance) && opt.tolerance > 0, "laplace_approximation: tolerance must be > 0");
    WGF_CHECK(std::isfinite(opt.fd_step) && opt.fd_step > 0 && opt.fd_step < 1,
              "laplace_approximation: fd_step must be in (0, 1), got " << opt.fd_step);
    Evaluator ev{phi, Context(Backend::Host, opt.threads), D};
    Vec x = Eigen::Map<const Vec>(start.data(), D), g;
    double f = ev.value_gradient(x, g);
    WGF_CHECK(std::isfinite(f) && g.allFinite(), "laplace_approximation: Φ or ∇Φ is not finite at the start");
    LaplaceApproximation out;
    Mat H;
    for (int it = 0;; ++it) {
        H = ev.hessian(x, opt.fd_step);
        // Newton direction with a Levenberg shift until H + λI is positive definite.
        const double scale = std::max(1e-12, H.diagonal().cwiseAbs().maxCoeff());
        double lambda = 0;
        Eigen::LLT<Mat> llt;
        for (;;) {
            llt.compute(H + lambda * Mat::Identity(D, D));
            if (llt.info() == Eigen::Success) break;
            lambda = lambda == 0 ? 1e-8 * scale : 10 * lambda;
            WGF_CHECK(lambda < 1e8 * scale, "laplace_approximation: no positive-definite shift of the Hessian at step " << it);
        }
        const Vec p = -llt.solve(g);
        const double decrement = -0.5 * g.dot(p);  // gᵀ (H + λI)⁻¹ g / 2
        out.iterations = it;
        out.decrement = decrement;
        if (lambda == 0 && decrement < opt.tolerance) break;
        WGF_CHECK(it < opt.max_iterations, "laplace_approximation: Newton did not converge in "
                                               << opt.max_iterations << " steps (predicted decrease " << decrement
                                               << ", tolerance " << opt.tolerance << ")");
        // Backtracking (Armijo) on Φ along p.
        double t = 1;
        Vec xn;
        double fn = std::numeric_limits<double>::infinity();
        for (int k = 0; k < 60; ++k, t *= 0.5) {
            xn = x + t * p;
            fn = ev.value(xn);
            if (std::isfinite(fn) && fn <= f - 1e-4 * t * 2 * decrement) break;
        }
        if (!(fn < f)) {  // no decrease at machine precision: at the mode (if H is positive definite there)
            WGF_CHECK(lambda == 0, "laplace_approximation: the line search found no decrease of Φ at step "
                                       << it << " where the Hessian is not positive definite");
            break;
        }
        x = xn;
        f = ev.value_gradient(x, g);
        WGF_CHECK(std::isfinite(f) && g.allFinite(), "laplace_approximation: ∇Φ is not finite at step " << it + 1);
    }
    // Covariance Σ = (β H)⁻¹ and its Cholesky factor L (Σ = L Lᵀ).
    Eigen::LLT<Mat> hl(opt.beta * H);
    WGF_CHECK(hl.info() == Eigen::Success, "laplace_approximation: the Hessian at the mode is not positive definite");
    const Mat cov = hl.solve(Mat::Identity(D, D));
    Eigen::LLT<Mat> cl(0.5 * (cov + cov.transpose()));
    WGF_CHECK(cl.info() == Eigen::Success, "laplace_approximation: the covariance at the mode is not positive definite");
    const Mat L = cl.matrixL();
    out.mode.assign(x.data(), x.data() + D);
    out.value = f;
    out.hessian.assign(H.data(), H.data() + static_cast<std::size_t>(D) * D);
    out.frame.dim = D;
    out.frame.center = out.mode;
    out.frame.factor.assign(L.data(), L.data() + static_cast<std::size_t>(D) * D);
    out.frame.validate();
    return out;
}

}  // namespace wgf

// baselines.cpp — Euler–Maruyama particles and the Gaussian KDE (wgf/baselines.h).
//
// KDE log-density, whitened: with H = L Lᵀ, z = L⁻¹y and w_i = L⁻¹x_i,
//   log p(y) = log_norm + logsumexp_i(−½‖z − w_i‖²),  ‖z − w_i‖² = ‖z‖² + ‖w_i‖² − 2 zᵀw_i,
// the cross terms of a block of queries against all points as one GEMM (host BLAS), then a max-shifted
// sum per query. The expansion loses digits when ‖z‖ ≫ ‖z − w_i‖ only for far-out queries, whose
// densities are negligible; distances are clamped at 0.
#include "wgf/baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "host/host_blas.h"
#include "host/parallel_errors.h"
#include "host/potential_host.h"
#include "wgf/error.h"

namespace wgf {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;

// L⁻¹ v for lower-triangular L [D][D] (forward substitution).
void forward_solve(const std::vector<double>& L, int D, const double* v, double* out) {
    for (int i = 0; i < D; ++i) {
        double s = v[i];
        for (int j = 0; j < i; ++j) s -= L[static_cast<std::size_t>(i) * D + j] * out[j];
        out[i] = s / L[static_cast<std::size_t>(i) * D + i];
    }
}
}  // namespace

std::vector<double> euler_maruyama(Context& ctx, const Potential<double>& potential, const InitialDistribution& rho0,
                                   std::int64_t n, double beta, double dt, double t, Rng& rng) {
    WGF_CHECK(ctx.backend() == Backend::Host, "euler_maruyama: runs on a Host context");
    WGF_CHECK(n >= 1, "euler_maruyama: n must be >= 1, got " << n);
    WGF_CHECK(std::isfinite(beta) && beta > 0, "euler_maruyama: beta must be > 0, got " << beta);
    WGF_CHECK(std::isfinite(dt) && dt > 0, "euler_maruyama: dt must be > 0, got " << dt);
    WGF_CHECK(std::isfinite(t) && t >= 0, "euler_maruyama: t must be >= 0, got " << t);
    WGF_CHECK(potential.dim() == rho0.dim(), "euler_maruyama: potential in D = " << potential.dim() << ", rho0 in D = "
                                                                                 << rho0.dim());
    const int D = rho0.dim();
    const std::int64_t steps = static_cast<std::int64_t>(std::llround(t / dt));
    std::vector<double> x = rho0.sample(n, rng), grad(x.size()), noise(x.size());
    const double h = steps > 0 ? t / static_cast<double>(steps) : 0.0, sigma = std::sqrt(2 * h / beta);
    for (std::int64_t s = 0; s < steps; ++s) {
        try {
            potential.eval(ctx, x.data(), n, nullptr, grad.data());
        } catch (const Error& e) {
            WGF_FAIL("euler_maruyama: step " << s << " of " << steps << " (t = " << s * h << "): " << e.what());
        }
        for (auto& v : noise) v = rng.normal();  // one stream, in order: reproducible for any thread count
        std::int64_t bad = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            x[i] += -grad[i] * h + sigma * noise[i];
            bad += std::isfinite(x[i]) ? 0 : 1;
        }
        WGF_CHECK(bad == 0, "euler_maruyama: step " << s << " (t = " << s * h << "): " << bad
                                                    << " particle coordinates are not finite (dt " << dt
                                                    << " too large for this drift?)");
    }
    (void)D;
    return x;
}

GaussianKde::GaussianKde(std::vector<double> points, int dim) : m_dim(dim), m_points(std::move(points)) {
    WGF_CHECK(dim >= 1, "GaussianKde: dim must be >= 1, got " << dim);
    WGF_CHECK(m_points.size() % static_cast<std::size_t>(dim) == 0,
              "GaussianKde: " << m_points.size() << " values are not a multiple of D = " << dim);
    const std::int64_t n = size();
    WGF_CHECK(n >= 2, "GaussianKde: needs at least 2 points, got " << n);
    for (std::size_t i = 0; i < m_points.size(); ++i)
        WGF_CHECK(std::isfinite(m_points[i]), "GaussianKde: point " << i / dim << " is not finite");
    const int D = dim;
    std::vector<double> mean(static_cast<std::size_t>(D), 0.0);
    for (std::int64_t p = 0; p < n; ++p)
        for (int i = 0; i < D; ++i) mean[i] += m_points[p * D + i] / static_cast<double>(n);
    m_H.assign(static_cast<std::size_t>(D) * D, 0.0);
    for (std::int64_t p = 0; p < n; ++p)
        for (int i = 0; i < D; ++i)
            for (int j = 0; j < D; ++j)
                m_H[i * D + j] += (m_points[p * D + i] - mean[i]) * (m_points[p * D + j] - mean[j]);
    const double scott2 = std::pow(static_cast<double>(n), -2.0 / (D + 4));  // Scott's factor, squared
    for (auto& v : m_H) v *= scott2 / static_cast<double>(n - 1);
    m_L = detail::spd_cholesky("GaussianKde", "bandwidth (the points' covariance is singular)", m_H, D);
    double logdet = 0;
    for (int i = 0; i < D; ++i) logdet += 2 * std::log(m_L[static_cast<std::size_t>(i) * D + i]);
    m_log_norm = -0.5 * (D * kLog2Pi + logdet) - std::log(static_cast<double>(n));
    m_white.resize(m_points.size());
    m_white_sq.resize(static_cast<std::size_t>(n));
    for (std::int64_t p = 0; p < n; ++p) {
        forward_solve(m_L, D, m_points.data() + p * D, m_white.data() + p * D);
        double s = 0;
        for (int i = 0; i < D; ++i) s += m_white[p * D + i] * m_white[p * D + i];
        m_white_sq[static_cast<std::size_t>(p)] = s;
    }
}

std::vector<double> GaussianKde::sample(std::int64_t n, Rng& rng) const {
    WGF_CHECK(n >= 0, "GaussianKde::sample: n must be >= 0, got " << n);
    const int D = m_dim;
    std::vector<double> out(static_cast<std::size_t>(n) * D), xi(static_cast<std::size_t>(D));
    for (std::int64_t p = 0; p < n; ++p) {
        const std::int64_t c = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(size())));
        for (auto& v : xi) v = rng.normal();
        for (int i = 0; i < D; ++i) {
            double s = m_points[c * D + i];
            for (int j = 0; j <= i; ++j) s += m_L[static_cast<std::size_t>(i) * D + j] * xi[j];
            out[p * D + i] = s;
        }
    }
    return out;
}

void GaussianKde::log_density(const double* y, std::int64_t n, double* out) const {
    WGF_CHECK(n >= 0, "GaussianKde::log_density: n must be >= 0, got " << n);
    if (n == 0) return;
    WGF_CHECK(y != nullptr && out != nullptr, "GaussianKde::log_density: y or out is null");
    const int D = m_dim;
    const std::int64_t m = size(), block = 128;
    const std::int64_t blocks = (n + block - 1) / block;
    detail::ParallelErrors errors;  // allocation and the BLAS call can throw: rethrown after the region
#pragma omp parallel
    {
        std::vector<double> z, zsq, cross;
        errors.run(-1, [&] {
            z.resize(static_cast<std::size_t>(block) * D);
            zsq.resize(static_cast<std::size_t>(block));
            cross.resize(static_cast<std::size_t>(block) * static_cast<std::size_t>(m));
        });
#pragma omp for schedule(dynamic)
        for (std::int64_t b = 0; b < blocks; ++b) errors.run(b, [&] {
            const std::int64_t q0 = b * block, nq = std::min(block, n - q0);
            for (std::int64_t q = 0; q < nq; ++q) {
                forward_solve(m_L, D, y + (q0 + q) * D, z.data() + q * D);
                double s = 0;
                for (int i = 0; i < D; ++i) s += z[q * D + i] * z[q * D + i];
                zsq[static_cast<std::size_t>(q)] = s;
            }
            // cross [m × nq] column-major = W [m × D] (row-major = Wᵀ col-major) · Zᵀ.
            detail::blas_gemm<double>(true, false, m, nq, D, 1.0, m_white.data(), D, z.data(), D, 0.0, cross.data(), m);
            for (std::int64_t q = 0; q < nq; ++q) {
                const double* c = cross.data() + q * m;
                double best = -std::numeric_limits<double>::infinity();
                for (std::int64_t i = 0; i < m; ++i)
                    best = std::max(best, -0.5 * std::max(0.0, zsq[q] + m_white_sq[i] - 2 * c[i]));
                double s = 0;
                for (std::int64_t i = 0; i < m; ++i) s += std::exp(-0.5 * std::max(0.0, zsq[q] + m_white_sq[i] - 2 * c[i]) - best);
                out[q0 + q] = m_log_norm + best + std::log(s);
            }
        });
    }
    errors.rethrow();
}

std::string GaussianKde::describe() const {
    std::ostringstream os;
    os << "Gaussian KDE of " << size() << " points in D = " << m_dim << " (Scott's bandwidth)";
    return os.str();
}

InitialRecord GaussianKde::record() const {
    InitialRecord r;
    r.kind = "kde";
    r.dim = m_dim;
    return r;
}

}  // namespace wgf

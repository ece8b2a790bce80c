// metrics.cpp — Gaussian densities and sampling, the closed-form OU marginal, the energy distance and
// the symmetric KL estimator of PAPER-SPEC §6.1, and random SPD matrices. Host memory, double.
//
//   Gaussian:   cov = L Lᵀ,  log N(x) = −½ (D log 2π + 2 Σ log L_ii) − ½ ‖L⁻¹(x − μ)‖²,  sample μ + L ξ
//   OU:         A = U diag(λ) Uᵀ,  F = e^{−At} = U diag(e^{−λt}) Uᵀ,
//               μ_t = m + F (m0 − m),  Σ_t = F S0 F + β⁻¹ U diag((1 − e^{−2λt}) / λ) Uᵀ
//               (β⁻¹ A⁻¹ (I − e^{−2At}) written in the eigenbasis; 1 − e^{−2λt} = −expm1(−2λt) keeps
//               its relative precision for small t)
//   Energy:     2 mean_ij ‖x_i − y_j‖ − mean_ij ‖x_i − x_j‖ − mean_ij ‖y_i − y_j‖ (all pairs, diagonal
//               zeros included), O((nx + ny)² D); the self terms use symmetry (i < j, doubled)
#include "wgf/metrics.h"

#include "eigen_dense.h"
#include <algorithm>
#include <sstream>
#include <cmath>
#include <utility>
#include <vector>

#include "host/potential_host.h"
#include "wgf/error.h"

namespace wgf {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;
using MatR = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXd;

std::int64_t count_nonfinite(const std::vector<double>& v) {
    std::int64_t bad = 0;
    for (double x : v) bad += std::isfinite(x) ? 0 : 1;
    return bad;
}
}  // namespace

// ---- Gaussian -------------------------------------------------------------------------------------

Gaussian Gaussian::standard(int dim) {
    WGF_CHECK(dim >= 1, "Gaussian::standard: dimension " << dim << " must be >= 1");
    const std::size_t D = static_cast<std::size_t>(dim);
    std::vector<double> identity(D * D, 0.0);
    for (std::size_t i = 0; i < D; ++i) identity[i * D + i] = 1.0;
    return Gaussian(std::vector<double>(D, 0.0), std::move(identity));
}

Gaussian::Gaussian(std::vector<double> mean, std::vector<double> cov) : m_mean(std::move(mean)), m_cov(std::move(cov)) {
    const int D = static_cast<int>(m_mean.size());
    WGF_CHECK(D >= 1, "Gaussian: the mean is empty (its size is the dimension D)");
    for (int i = 0; i < D; ++i)
        WGF_CHECK(std::isfinite(m_mean[i]), "Gaussian: mean[" << i << "] is not finite (" << m_mean[i] << ")");
    WGF_CHECK(m_cov.size() == m_mean.size() * m_mean.size(),
              "Gaussian: cov has " << m_cov.size() << " entries but the mean has D = " << D << ", so cov must be D*D = "
                                   << m_mean.size() * m_mean.size());
    m_chol = detail::spd_cholesky("Gaussian", "cov", m_cov, D);
    double logdet = 0;
    for (int i = 0; i < D; ++i) logdet += 2.0 * std::log(m_chol[static_cast<std::size_t>(i) * D + i]);
    m_log_norm = -0.5 * (D * kLog2Pi + logdet);
}

void Gaussian::log_density(const double* x, std::int64_t n, double* out) const {
    WGF_CHECK(n >= 0, "Gaussian::log_density: n must be >= 0, got " << n);
    if (n == 0) return;
    WGF_CHECK(x != nullptr && out != nullptr, "Gaussian::log_density: x or out is null");
    const int D = dim();
    std::vector<double> z(static_cast<std::size_t>(D));
    for (std::int64_t p = 0; p < n; ++p) {
        const double* xp = x + p * D;
        double q = 0;
        for (int i = 0; i < D; ++i) {  // forward substitution: L z = x − μ
            const double* Li = m_chol.data() + static_cast<std::size_t>(i) * D;
            double s = xp[i] - m_mean[i];
            for (int j = 0; j < i; ++j) s -= Li[j] * z[j];
            z[i] = s / Li[i];
            q += z[i] * z[i];
        }
        out[p] = m_log_norm - 0.5 * q;
    }
}

std::string Gaussian::describe() const {
    std::ostringstream os;
    os << "Gaussian in D = " << dim() << " (mean[0] " << m_mean[0] << ", cov[0][0] " << m_cov[0] << ")";
    return os.str();
}

InitialRecord Gaussian::record() const {
    InitialRecord r;
    r.kind = "gaussian";
    r.dim = dim();
    r.params = m_mean;
    r.params.insert(r.params.end(), m_cov.begin(), m_cov.end());
    return r;
}

std::vector<double> Gaussian::sample(std::int64_t n, Rng& rng) const {
    WGF_CHECK(n >= 0, "Gaussian::sample: n must be >= 0, got " << n);
    const int D = dim();
    std::vector<double> out(static_cast<std::size_t>(n) * static_cast<std::size_t>(D));
    std::vector<double> xi(static_cast<std::size_t>(D));
    for (std::int64_t p = 0; p < n; ++p) {
        for (auto& v : xi) v = rng.normal();
        double* op = out.data() + p * D;
        for (int i = 0; i < D; ++i) {
            const double* Li = m_chol.data() + static_cast<std::size_t>(i) * D;
            double s = m_mean[i];
            for (int j = 0; j <= i; ++j) s += Li[j] * xi[j];
            op[i] = s;
        }
    }
    return out;
}

detail::CounterSampler Gaussian::counter_sampler() const {
    detail::CounterSampler s;
    s.law = detail::CounterLaw::Gaussian;
    s.dim = dim();
    s.params = m_mean;
    s.params.insert(s.params.end(), m_chol.begin(), m_chol.end());
    return s;
}

// ---- OU marginal ----------------------------------------------------------------------------------

Gaussian ou_marginal(const Gaussian& start, const std::vector<double>& A, const std::vector<double>& m, double beta,
                     double t) {
    const int D = start.dim();
    WGF_CHECK(m.size() == static_cast<std::size_t>(D),
              "ou_marginal: m has " << m.size() << " entries but the start distribution has D = " << D);
    WGF_CHECK(std::isfinite(beta) && beta > 0, "ou_marginal: beta must be finite and > 0, got " << beta);
    WGF_CHECK(std::isfinite(t) && t >= 0, "ou_marginal: t must be finite and >= 0, got " << t);
    for (int i = 0; i < D; ++i) WGF_CHECK(std::isfinite(m[i]), "ou_marginal: m[" << i << "] is not finite (" << m[i] << ")");
    std::vector<double> As = A;
    detail::spd_cholesky("ou_marginal", "A", As, D);  // checks size, symmetry, SPD; symmetrises As

    const Eigen::Map<const MatR> Am(As.data(), D, D);
    const Eigen::SelfAdjointEigenSolver<MatR> eig(Am);
    WGF_CHECK(eig.info() == Eigen::Success, "ou_marginal: eigen-decomposition of A did not converge");
    const Vec lambda = eig.eigenvalues();
    WGF_CHECK(lambda.minCoeff() > 0, "ou_marginal: A has a non-positive eigenvalue " << lambda.minCoeff());
    const MatR U = eig.eigenvectors();

    Vec f(D), g(D);
    for (int i = 0; i < D; ++i) {
        f[i] = std::exp(-lambda[i] * t);
        g[i] = -std::expm1(-2.0 * lambda[i] * t) / (lambda[i] * beta);
    }
    const MatR F = U * f.asDiagonal() * U.transpose();
    const Eigen::Map<const Vec> m0(start.mean().data(), D), mv(m.data(), D);
    const Eigen::Map<const MatR> S0(start.cov().data(), D, D);
    const Vec mean = mv + F * (m0 - mv);
    MatR cov = F * S0 * F.transpose() + U * g.asDiagonal() * U.transpose();
    cov = (0.5 * (cov + cov.transpose())).eval();
    return Gaussian(std::vector<double>(mean.data(), mean.data() + D),
                    std::vector<double>(cov.data(), cov.data() + static_cast<std::ptrdiff_t>(D) * D));
}

// ---- energy distance ------------------------------------------------------------------------------

namespace {
double dist(const double* a, const double* b, int D) {
    double s = 0;
    for (int k = 0; k < D; ++k) {
        const double d = a[k] - b[k];
        s += d * d;
    }
    return std::sqrt(s);
}

/// Σ_i Σ_j ‖a_i − b_j‖; with a == b (same array) Σ_{i<j} doubled. Rows are summed in parallel into
/// their own slots and the row sums added in order, so the result does not depend on the thread count.
double pair_sum(const double* a, std::int64_t na, const double* b, std::int64_t nb, int D, bool self) {
    std::vector<double> rows(static_cast<std::size_t>(na));
#pragma omp parallel for schedule(dynamic, 16)
    for (std::int64_t i = 0; i < na; ++i) {
        double row = 0;
        for (std::int64_t j = self ? i + 1 : 0; j < nb; ++j) row += dist(a + i * D, b + j * D, D);
        rows[static_cast<std::size_t>(i)] = self ? 2 * row : row;
    }
    double total = 0;
    for (double r : rows) total += r;
    return total;
}
}  // namespace

double energy_distance(const std::vector<double>& x, const std::vector<double>& y, int dim) {
    WGF_CHECK(dim >= 1, "energy_distance: dim must be >= 1, got " << dim);
    const std::size_t D = static_cast<std::size_t>(dim);
    WGF_CHECK(!x.empty() && x.size() % D == 0,
              "energy_distance: x has " << x.size() << " entries; need a non-zero multiple of dim = " << dim);
    WGF_CHECK(!y.empty() && y.size() % D == 0,
              "energy_distance: y has " << y.size() << " entries; need a non-zero multiple of dim = " << dim);
    const std::int64_t bx = count_nonfinite(x), by = count_nonfinite(y);
    WGF_CHECK(bx == 0 && by == 0, "energy_distance: x has " << bx << " and y has " << by << " NaN/Inf entries");
    const std::int64_t nx = static_cast<std::int64_t>(x.size() / D), ny = static_cast<std::int64_t>(y.size() / D);
    const double xy = pair_sum(x.data(), nx, y.data(), ny, dim, false) / (double(nx) * double(ny));
    const double xx = pair_sum(x.data(), nx, x.data(), nx, dim, true) / (double(nx) * double(nx));
    const double yy = pair_sum(y.data(), ny, y.data(), ny, dim, true) / (double(ny) * double(ny));
    return 2 * xy - xx - yy;
}

// ---- symmetric KL ---------------------------------------------------------------------------------

SymmetricKl symmetric_kl(const std::vector<double>& model_logp_at_model, const std::vector<double>& target_logp_at_model,
                         const std::vector<double>& target_logp_at_target, const std::vector<double>& model_logp_at_target) {
    WGF_CHECK(!model_logp_at_model.empty() && model_logp_at_model.size() == target_logp_at_model.size(),
              "symmetric_kl: model_logp_at_model (" << model_logp_at_model.size() << ") and target_logp_at_model ("
                                                    << target_logp_at_model.size()
                                                    << ") must have the same, non-zero size");
    WGF_CHECK(!target_logp_at_target.empty() && target_logp_at_target.size() == model_logp_at_target.size(),
              "symmetric_kl: target_logp_at_target (" << target_logp_at_target.size() << ") and model_logp_at_target ("
                                                      << model_logp_at_target.size()
                                                      << ") must have the same, non-zero size");
    const std::pair<const char*, const std::vector<double>*> inputs[] = {
        {"model_logp_at_model", &model_logp_at_model},
        {"target_logp_at_model", &target_logp_at_model},
        {"target_logp_at_target", &target_logp_at_target},
        {"model_logp_at_target", &model_logp_at_target}};
    for (const auto& in : inputs) {
        const std::int64_t bad = count_nonfinite(*in.second);
        WGF_CHECK(bad == 0, "symmetric_kl: " << in.first << " has " << bad << " NaN/Inf entries (of "
                                             << in.second->size() << ")");
    }
    const auto mean_diff = [](const std::vector<double>& a, const std::vector<double>& b) {
        double s = 0;
        for (std::size_t i = 0; i < a.size(); ++i) s += a[i] - b[i];
        return s / double(a.size());
    };
    SymmetricKl r;
    r.kl_model_target = mean_diff(model_logp_at_model, target_logp_at_model);
    r.kl_target_model = mean_diff(target_logp_at_target, model_logp_at_target);
    return r;
}

// ---- random SPD matrix ----------------------------------------------------------------------------

std::vector<double> random_spd_matrix(int dim, Rng& rng) {
    WGF_CHECK(dim >= 1, "random_spd_matrix: dim must be >= 1, got " << dim);
    const int D = dim;
    MatR G(D, D);
    for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) G(i, j) = rng.normal();
    // G = Q R. Multiplying column i of Q by sign(R_ii) makes Q Haar-distributed on O(D).
    const Eigen::HouseholderQR<MatR> qr(G);
    MatR Q = qr.householderQ() * MatR::Identity(D, D);
    const MatR& R = qr.matrixQR();
    for (int i = 0; i < D; ++i)
        if (R(i, i) < 0) Q.col(i) *= -1.0;
    Vec ev(D);
    for (int i = 0; i < D; ++i) ev[i] = 1.0 + rng.uniform();
    MatR S = Q * ev.asDiagonal() * Q.transpose();
    S = (0.5 * (S + S.transpose())).eval();
    return std::vector<double>(S.data(), S.data() + static_cast<std::ptrdiff_t>(D) * D);
}

}  // namespace wgf

// wgf/metrics.h — reference densities and accuracy metrics: multivariate Gaussians, the closed-form
// Ornstein–Uhlenbeck marginal, the symmetric KL estimator of PAPER-SPEC §6.1 and the energy distance.
// Host memory, double precision (metrics are evaluation, not the hot path).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wgf/initial.h"
#include "wgf/random.h"

namespace wgf {

/// N(mean, cov) in R^D. cov [D][D] row-major SPD (throws wgf::Error naming the problem otherwise).
/// Also a ρ⁰ (wgf/initial.h).
class Gaussian : public InitialDistribution {
public:
    Gaussian(std::vector<double> mean, std::vector<double> cov);
    /// N(0, I) in D = dim.
    static Gaussian standard(int dim);
    int dim() const override { return static_cast<int>(m_mean.size()); }
    const std::vector<double>& mean() const { return m_mean; }
    const std::vector<double>& cov() const { return m_cov; }
    /// log N(x_i; mean, cov) for x [n][D] → out [n].
    void log_density(const double* x, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    /// n samples [n][D].
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    std::string describe() const override;
    InitialRecord record() const override;
    detail::CounterSampler counter_sampler() const override;

private:
    std::vector<double> m_mean, m_cov, m_chol;  // m_chol: lower Cholesky factor of cov
    double m_log_norm = 0;                      // −½ (D log 2π + log det cov)
};

/// The law at time t of dX = −A (X − m) dt + √(2/β) dW with X₀ ∼ N(m0, S0), A symmetric positive
/// definite: N(m + e^{−At}(m0 − m), e^{−At} S0 e^{−At} + β⁻¹ A⁻¹ (I − e^{−2At})).
Gaussian ou_marginal(const Gaussian& start, const std::vector<double>& A, const std::vector<double>& m, double beta,
                     double t);

/// Energy distance 2 E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ as the reference computes it (V-statistic over all
/// pairs, diagonals included). x [nx][D], y [ny][D].
double energy_distance(const std::vector<double>& x, const std::vector<double>& y, int dim);

/// Symmetric KL = KL(model‖target) + KL(target‖model), each a Monte-Carlo mean (PAPER-SPEC §6.1):
///   KL(model‖target) ≈ mean_i [log ρ(x_i) − log p*(x_i)]   over model samples x_i with exact log ρ
///   KL(target‖model) ≈ mean_i [log p*(y_i) − log ρ(y_i)]   over target samples y_i
struct SymmetricKl {
    double kl_model_target = 0;  ///< KL(ρ‖p*) ("kl_train" in the reference)
    double kl_target_model = 0;  ///< KL(p*‖ρ) ("kl_target")
    double sym() const { return kl_model_target + kl_target_model; }
};
SymmetricKl symmetric_kl(const std::vector<double>& model_logp_at_model, const std::vector<double>& target_logp_at_model,
                         const std::vector<double>& target_logp_at_target, const std::vector<double>& model_logp_at_target);

/// A random SPD matrix like sklearn's make_spd_matrix (used by the reference's OU instances):
/// U diag(1 + u_i) Uᵀ with U a random orthogonal matrix and u_i ∼ Uniform(0, 1), so eigenvalues ∈ [1, 2].
std::vector<double> random_spd_matrix(int dim, Rng& rng);

}  // namespace wgf

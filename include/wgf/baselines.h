// wgf/baselines.h — the particle baselines of PAPER-SPEC §8.1 and §6.2, native: Euler–Maruyama
// simulation of the diffusion and a Gaussian kernel density estimate of its particles, so that a
// JKO flow can be compared with them on the same target, with the same SymKL estimator.
//
//   Euler–Maruyama:  x ← x − ∇Φ(x)·h + √(2h/β)·ξ,  ξ ∼ N(0, I),  from n samples of ρ⁰, round(t/h) steps
//   Gaussian KDE:    p(y) = (1/n) Σ_i N(y; x_i, H),  H = n^{−2/(D+4)} · Cov(x)   (Scott's rule, as
//                    scipy.stats.gaussian_kde; Cov with the 1/(n−1) normalisation)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wgf/context.h"
#include "wgf/initial.h"
#include "wgf/potential.h"
#include "wgf/random.h"

namespace wgf {

/// n particles [n][D] at time t (host memory). Throws wgf::Error naming the step and the number of
/// particles when the drift or a particle stops being finite.
std::vector<double> euler_maruyama(Context& ctx, const Potential<double>& potential, const InitialDistribution& rho0,
                                   std::int64_t n, double beta, double dt, double t, Rng& rng);

/// A Gaussian KDE of points [n][D] with Scott's bandwidth; a distribution (sample, log_density) so
/// that the SymKL estimator takes it like any other. Its record has kind "kde" and cannot be rebuilt
/// from files (it is an evaluation object, not a ρ⁰).
class GaussianKde : public InitialDistribution {
public:
    GaussianKde(std::vector<double> points, int dim);
    int dim() const override { return m_dim; }
    std::int64_t size() const { return static_cast<std::int64_t>(m_points.size()) / m_dim; }
    /// The bandwidth matrix H [D][D].
    const std::vector<double>& bandwidth() const { return m_H; }
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    /// log p(y) by log-sum-exp over all points (blocks of queries, OpenMP threads).
    void log_density(const double* y, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    std::string describe() const override;
    InitialRecord record() const override;

private:
    int m_dim;
    std::vector<double> m_points, m_H, m_L;  // m_L: lower Cholesky factor of H
    std::vector<double> m_white;             // L⁻¹ x_i, [n][D]
    std::vector<double> m_white_sq;          // ‖L⁻¹ x_i‖²
    double m_log_norm = 0;                   // −½ (D log 2π + log det H) − log n
};

}  // namespace wgf

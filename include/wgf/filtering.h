// wgf/filtering.h — the nonlinear filtering study of PAPER-SPEC §7.5 (1-D), first part: the latent
// model, simulated observations, the Chang–Cooper ground truth (§8.4) and the bootstrap particle
// filter (§8.5), with the grid SymKL of §6.5. The JKO filter comes later.
//
//   latent:        dX = −Φ'(X) dt + √(2/β) dW,  X₀ ∼ N(m₀, v₀)
//   observations:  Y_k = X_{t_k} + v_k,  v_k ∼ N(0, σ²),  t_k = k·period, k = 1…count
//   target:        p(X_T | Y_{1:K}) at T = t_final, on the grid linspace(lo, hi, n)
//
// The reference's model (the defaults): Φ(x) = sin(2πx)/π + x²/4, β = 1, σ² = 1, period 0.5, 9
// observations, T = 5, X₀ ∼ N(0, 1).
//
// Chang–Cooper. Finite volumes of width dx centred on the n nodes x_j (the end cells stick out by
// dx/2; mass = Σ_j p_j dx), zero flux through the ends, implicit Euler in time. The flux of
// ∂_t p = ∂_x(Φ' p + β⁻¹ ∂_x p) through the face j+½ is
//   J_{j+½} = −[ B_{j+½} ((1 − δ_{j+½}) p_{j+1} + δ_{j+½} p_j) + β⁻¹ (p_{j+1} − p_j)/dx ],
//   B_{j+½} = (Φ(x_{j+1}) − Φ(x_j))/dx,  w = β B dx (the local Péclet number),  δ = 1/w − 1/(eʷ − 1),
// so that J_{j+½} = 0 exactly when p_{j+1}/p_j = e^{−β(Φ_{j+1} − Φ_j)}: the discrete stationary state is
// e^{−βΦ(x_j)}/Z at the nodes, whatever dx and dt. (B as the difference quotient of Φ, not Φ' at the
// face, is what makes that exact.) The step matrix is tridiagonal, an M-matrix with unit column sums:
// mass is conserved and positivity kept for any dt; it is factorised once (Thomas algorithm).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wgf/random.h"

namespace wgf {

/// Φ(x) = sin(2πx)/π + x²/4 and Φ'(x) = 2 cos(2πx) + x/2 (PAPER-SPEC §7.5).
double filtering_reference_potential(double x);
double filtering_reference_gradient(double x);

struct FilteringModel {
    std::function<double(double)> potential = filtering_reference_potential;  ///< Φ (Chang–Cooper)
    std::function<double(double)> gradient = filtering_reference_gradient;    ///< Φ' (Euler–Maruyama)
    double beta = 1.0;          ///< inverse temperature
    double obs_variance = 1.0;  ///< σ² of the Gaussian observation noise
    double obs_period = 0.5;    ///< t_k = k · obs_period
    int obs_count = 9;          ///< k = 1…obs_count
    double t_final = 5.0;       ///< time of the target density
    double x0_mean = 0.0, x0_variance = 1.0;  ///< X₀ ∼ N(x0_mean, x0_variance)

    /// Throws wgf::Error naming the first bad field (callbacks empty, β, σ², period, count, t_final
    /// before the last observation, x0_variance).
    void validate() const;
};

/// Observation times, values Y_k and (for simulated runs) the latent X_{t_k}; `latent` may be empty.
struct Observations {
    std::vector<double> times, values, latent;
};

/// One Euler–Maruyama path (step dt) of the model from X₀ ∼ N(x0_mean, x0_variance), observed at
/// t_k = k·period, k = 1…count: Y_k = X_{t_k} + σ v_k. Deterministic in `seed`.
Observations simulate_observations(const FilteringModel& model, std::uint64_t seed, double dt = 1e-3);

/// Observations as text: a header line "# wgf filtering observations: t y x" and one line per
/// observation "t y x" (x = nan when the latent value is unknown), 17 significant digits. load reads
/// the same format back (and also two-column "t y" lines); it throws wgf::Error naming the file and line.
void save_observations(const std::string& path, const Observations& obs);
Observations load_observations(const std::string& path);

/// A uniform 1-D grid: n nodes from lo to hi inclusive (numpy's linspace), dx = (hi − lo)/(n − 1).
struct Grid1D {
    double lo = -5.0, hi = 5.0;
    std::int64_t n = 2000;
    void validate() const;  ///< n ≥ 3, lo < hi, both finite; throws wgf::Error naming the field
    double dx() const { return (hi - lo) / static_cast<double>(n - 1); }
    double node(std::int64_t j) const { return lo + static_cast<double>(j) * dx(); }
    std::vector<double> nodes() const;
};

/// The Chang–Cooper scheme for the model's Fokker–Planck equation on a grid (see the file comment).
class ChangCooper {
public:
    ChangCooper(const FilteringModel& model, const Grid1D& grid, double dt);
    const Grid1D& grid() const { return m_grid; }
    double dt() const { return m_dt; }
    /// Σ_j p_j dx.
    double mass(const std::vector<double>& p) const;
    /// One implicit Euler step in place. Throws wgf::Error when the mass changes by more than 1e-12
    /// (relative) or a value stops being finite; then rescales to the mass before the step, so that
    /// rounding does not accumulate over many steps.
    void step(std::vector<double>& p) const;
    void advance(std::vector<double>& p, std::int64_t steps) const;
    /// e^{−βΦ(x_j)} normalised to unit mass: the scheme's exact stationary state.
    std::vector<double> stationary() const;
    /// The N(mean, variance) density at the nodes, normalised to unit mass on the grid.
    std::vector<double> gaussian(double mean, double variance) const;
    /// Bayes' rule on the grid: p_j ← p_j N(y; x_j, σ²), renormalised to unit mass.
    void bayes_update(std::vector<double>& p, double y, double obs_variance) const;

private:
    Grid1D m_grid;
    double m_dt;
    std::vector<double> m_lower, m_diag, m_upper;  // the step matrix (rows)
    std::vector<double> m_c, m_inv;                // Thomas: modified upper diagonal, 1/pivot
};

struct ChangCooperOptions {
    Grid1D grid;
    double dt = 1e-3;
};

struct FilterDensities {
    std::vector<double> x;                       ///< grid nodes
    std::vector<double> density;                 ///< p(x_T | Y_{1:K}) at the nodes
    std::vector<std::vector<double>> posteriors;  ///< p(x_{t_k} | Y_{1:k}) after each update (Chang–Cooper)
    std::vector<double> ess;                     ///< effective sample size at each update (particle filter)
    std::vector<double> particles;               ///< final particles (particle filter)
    double max_mass_error = 0;                   ///< max |mass − 1| before each update and at T (Chang–Cooper)
};

/// The filtering density at t_final by Chang–Cooper: N(x0_mean, x0_variance) on the grid, propagated
/// between observations, multiplied by the likelihood and renormalised at each. Observation times must
/// increase, lie in (0, t_final] and be whole multiples of dt (to 1e-9 relative).
FilterDensities chang_cooper_filter(const FilteringModel& model, const Observations& obs,
                                    const ChangCooperOptions& options = {});

struct ParticleFilterOptions {
    std::int64_t particles = 10000;
    double dt = 1e-3;
    Grid1D grid;  ///< where the final KDE is evaluated
    std::uint64_t seed = 1;
};

/// The bootstrap particle filter: particles from N(x0_mean, x0_variance), Euler–Maruyama between
/// observations, weights ∝ N(y; x_i, σ²) and multinomial resampling at each observation, and at
/// t_final a Gaussian KDE (Scott) of the particles evaluated at the nodes (not renormalised).
/// Particles move in blocks on OpenMP threads (each block its own stream: results depend on the seed
/// only), so model.gradient must be safe to call from several threads at once.
FilterDensities particle_filter(const FilteringModel& model, const Observations& obs,
                                const ParticleFilterOptions& options = {});

/// SymKL = KL(p‖q) + KL(q‖p) of two densities at the nodes of a grid of step dx, as PAPER-SPEC §6.5:
/// KL(p‖q) = Σ_j p_j (log p_j − log q_j) dx, neither renormalised. Values below 1e-300 are raised to
/// 1e-300 inside the logarithms (see filtering.cpp).
double grid_sym_kl(const std::vector<double>& p, const std::vector<double>& q, double dx);

}  // namespace wgf

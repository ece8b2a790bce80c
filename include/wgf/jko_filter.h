// wgf/jko_filter.h — nonlinear filtering with JKO flows (paper §7.5, PAPER-SPEC §7.5): the latent
// diffusion dX = −∇Φ(X) dt + √(2/β) dW, X₀ ∼ ρ⁰, observed at t_1 < … < t_K through log-likelihoods
// ℓ_k(x) = log p(y_k | x); the filtering density p(x_t | y_{1:k}) carried by blocks of JKO maps.
//
// Block k (t_{k−1} → t_k, t_0 = 0, and a last block t_K → t_final when t_final > t_K) is a Flow of
// (t_k − t_{k−1})/τ JKO steps trained on samples of the filtering posterior at t_{k−1}; its maps
// compose to T_k. With X_k(x₀) = T_k(…T_1(x₀)) the path of x₀ through the blocks, define
//   p̃_0 = ρ⁰,  p̃_k = e^{ℓ_k} · (T_k)#p̃_{k−1},  so  p̃_k(X_k(x₀)) |det ∇X_k(x₀)| = ρ⁰(x₀) Π_{i≤k} e^{ℓ_i(X_i(x₀))}.
// Hence (i) the posterior at t_k is the law of X_k(x₀) for x₀ drawn from
//   π_k(x₀) ∝ ρ⁰(x₀) exp L_k(x₀),  L_k(x₀) = Σ_{i≤k} ℓ_i(X_i(x₀)),
// a density on the start space with no Jacobian in it — any MCMC on x₀ is exact given the maps; and
// (ii) log p̃_k at any point y follows from the inverse maps, block by block from the last:
//   log p̃_k(y) = ℓ_k(y) + log (T_k)#p̃_{k−1}(y) = ℓ_k(y) + log p̃_{k−1}(T_k⁻¹ y) − Σ log det ∇²ψ (block k),
// with Z = ∫ p̃_K = E_{ρ⁰}[e^{L_K}] the evidence p(y_{1:K}) (when the ℓ_k are normalised likelihoods).
//
// The path sampler. The reference (PAPER-SPEC §7.5, sampler "reference") runs N independent
// Metropolis–Hastings chains on π_k with proposals x₀' ∼ ρ⁰, acceptance min(1, e^{L_k(x₀') − L_k(x₀)}):
// when the posterior sits where ρ⁰ pushed through the maps puts little mass, almost nothing is
// accepted, the chains stay where they were before the observation, and the next block is trained on
// a few repeated points. wgf's default (sampler "smc") is a resample–move sequential Monte Carlo: after
// block k the chains' paths are extended by T_k, weighted by e^{ℓ_k}, resampled (systematic), then
// moved by MH sweeps that alternate a random walk on x₀ (Gaussian with the chains' covariance, its
// scale adapted towards acceptance 0.3 during the warm-up) with the reference's independent ρ⁰
// proposal. Acceptance rates, ESS and the evidence estimate are reported per block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wgf/context.h"
#include "wgf/flow.h"
#include "wgf/icnn.h"
#include "wgf/initial.h"
#include "wgf/jko.h"
#include "wgf/potential.h"

namespace wgf {

/// ℓ_k(x) = log p(y_k | x) for observation k (0-based) at the points x [n][D] → out [n]. Must be finite
/// or −∞ (−∞: the point is impossible given y_k), and thread-compatible (called from one thread).
using ObservationLogLikelihood = std::function<void(int k, const double* x, std::int64_t n, double* out)>;

/// Y_k = x + v, v ∼ N(0, variance · I): ℓ_k(x) = −‖y_k − x‖²/(2 variance) − (D/2) log(2π variance).
/// values: [K][D] row-major, K = values.size() / D.
ObservationLogLikelihood gaussian_observations(std::vector<double> values, int dim, double variance);

enum class FilterSampler {
    Smc,        ///< resample–move SMC (see the file comment)
    Reference,  ///< the reference: independent MH with ρ⁰ proposals, no resampling
};

struct JkoFilterOptions {
    /// The JKO steps of every block: tau, beta, iterations, batch, lr, init, pool, … (`steps` and
    /// `checkpoint_dir` are ignored: each block has (t_k − t_{k−1})/tau steps; no checkpoints).
    /// `seed` seeds block k's solver with seed + k.
    JkoOptions jko;
    IcnnShape shape;                 ///< ICNN of every map (shape.dim = D)
    FilterSampler sampler = FilterSampler::Smc;
    std::int64_t chains = 1024;      ///< N parallel chains
    int warmup_sweeps = 50;          ///< MH sweeps after each block, before any draw (reference: 1000)
    int thin_sweeps = 2;             ///< sweeps between two draws of the same chain (reference: 3)
    double target_acceptance = 0.3;  ///< of the random walk (smc), during the warm-up
    std::uint64_t seed = 1;          ///< of the path sampler
    InverseOptions inverse;          ///< Newton inversion of the maps (log_density)
};

/// What happened in one block.
struct FilterBlockReport {
    int block = 0;                   ///< 0-based
    double t_start = 0, t_end = 0;
    bool observed = false;           ///< whether an observation is attached at t_end
    int steps = 0;                   ///< JKO steps in the block
    double train_seconds = 0, sample_seconds = 0;
    double loss_first = 0, loss_last = 0;  ///< of the block's last JKO step
    /// After the observation (observed blocks): ESS/N of the weights e^{ℓ_k} over the chains (before
    /// resampling), and the block's factor of the evidence, log mean_chains e^{ℓ_k}.
    double ess_fraction = 1, log_evidence_increment = 0;
    double accept_independent = 0;   ///< MH acceptance of the ρ⁰ proposals over the block's sweeps
    double accept_random_walk = 0;   ///< of the random walk (smc; 0 for the reference sampler)
    double random_walk_scale = 0;    ///< its final scale (multiple of the chains' covariance factor)
    std::int64_t unique_starts = 0;  ///< distinct x₀ among the chains at the end of the block's sweeps
};

namespace detail {
template <typename T>
struct JkoFilterState;  // src/jko_filter.cpp
}

/// The JKO filter (see the file comment). T: the precision of the maps. Single-threaded use; the
/// Context may be Host or Cuda.
template <typename T>
class JkoFilter {
public:
    JkoFilter(Context& ctx, std::shared_ptr<const Potential<T>> potential,
              std::shared_ptr<const InitialDistribution> rho0, ObservationLogLikelihood loglik, JkoFilterOptions options);
    ~JkoFilter();
    JkoFilter(const JkoFilter&) = delete;
    JkoFilter& operator=(const JkoFilter&) = delete;

    /// Train the blocks for observations at `times` (increasing, > 0, whole multiples of tau from 0)
    /// up to t_final (≥ the last time, a whole multiple of tau); on_block after each block.
    void run(const std::vector<double>& times, double t_final,
             const std::function<void(const FilterBlockReport&)>& on_block = nullptr);

    int blocks() const;
    /// Block b's flow. Its ρ⁰ (for b ≥ 1: the filtering posterior after block b − 1, sampled by this
    /// filter's chains) refers to the filter: sample from it or evaluate its density only while the
    /// filter lives; its maps (map(k), push) have no such tie.
    const Flow<T>& block(int b) const;
    const std::vector<FilterBlockReport>& reports() const;
    /// Σ of the blocks' evidence increments: an estimate of log Z = log p(y_{1:K}).
    double log_evidence() const;

    /// log p̃ after block `after_block` (−1: the last, i.e. at t_final) at points y [n][D]: unnormalised,
    /// its integral is the evidence of the observations up to the block's end (with the block's own
    /// observation applied). Through the inverse maps of that block and every earlier one. Points whose
    /// inversion fails get NaN and are flagged in report (given), else throw.
    std::vector<double> log_density(const std::vector<double>& y, InverseReport* report = nullptr,
                                    int after_block = -1) const;
    /// n samples of the filtering posterior at t_final (the chains' paths pushed through the last block).
    std::vector<double> sample(std::int64_t n);

private:
    std::unique_ptr<detail::JkoFilterState<T>> m;
};

}  // namespace wgf

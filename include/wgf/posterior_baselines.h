// wgf/posterior_baselines.h — native posterior baselines for the Bayesian logistic-regression study
// (paper §7.4, issue 9): Stein variational gradient descent, a MALA reference with warm-up
// adaptation, the split-R̂ convergence diagnostic, and a comparison of two sample sets. Targets are
// π ∝ e^{−Φ} for a Potential Φ (score ∇log π = −∇Φ). Points are row-major [n][D], host memory, double.
//
//   SVGD (Liu & Wang 2016, "Stein variational gradient descent", NeurIPS), n particles x_i:
//     φ(x_i) = (1/n) Σ_j [k(x_j, x_i) ∇log π(x_j) + ∇_{x_j} k(x_j, x_i)],  k(x, y) = exp(−‖x − y‖²/h)
//            = (1/n) Σ_j k_ij [−∇Φ(x_j) + (2/h)(x_i − x_j)]
//     h = med²/log(n + 1), med² the median of ‖x_i − x_j‖² over the pairs i < j (median heuristic,
//     recomputed every iteration), or a fixed h. Step as the authors' reference code (AdaGrad with
//     momentum on the squared gradient, elementwise): G ← φ² at the first iteration, then
//     G ← a G + (1 − a) φ²;  x ← x + ε φ / (fudge + √G).
//     This normalised step does not shrink as φ → 0: near the fixed point the particles keep
//     oscillating, together, by about ±ε/2 per coordinate (0.025 with the default ε).
//   MALA (Roberts & Tweedie 1996) with a preconditioner M = L Lᵀ (dense by default) and step h:
//     y = x − h M ∇Φ(x) + √(2h) L ξ,   ξ ∼ N(0, I)
//     accept with probability min(1, exp(Φ(x) − Φ(y) + log q(x | y) − log q(y | x))),
//     log q(y | x) = −‖y − x + h M ∇Φ(x)‖²_{M⁻¹} / (4h) + const; a proposal with non-finite Φ or ∇Φ
//     is rejected. Warm-up: Robbins–Monro on log h towards the target acceptance (0.574, the optimal
//     rate of Roberts & Rosenthal 1998), M from the pooled covariance of warm-up draws (three windows;
//     a dense M makes the chains mix on posteriors with strongly correlated coordinates, such as
//     logistic regression on unscaled features, where a diagonal M leaves R̂ in the tens).
//   split-R̂ (Gelman et al. 2013, Bayesian Data Analysis 3rd ed., §11.4): each chain cut in two
//     halves of n draws, m = 2·chains sequences with means θ̄_j and variances s_j² (1/(n − 1)):
//     B = n/(m − 1) Σ_j (θ̄_j − θ̄)²,  W = (1/m) Σ_j s_j²,  var⁺ = (n − 1)/n W + B/n,  R̂ = √(var⁺/W).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "wgf/context.h"
#include "wgf/initial.h"
#include "wgf/potential.h"
#include "wgf/random.h"

namespace wgf {

// ---- SVGD -------------------------------------------------------------------------------------------

/// SVGD settings; the defaults are those of Liu & Wang's experiments and reference code (100
/// particles, master step 0.05, auto-correlation 0.9, fudge 1e-6).
struct SvgdOptions {
    std::int64_t particles = 100;  ///< n ≥ 2
    std::int64_t iterations = 3000;  ///< ≥ 1
    double step_size = 0.05;       ///< ε > 0 (the reference's master_stepsize)
    double alpha = 0.9;            ///< a ∈ [0, 1): weight of the old squared gradient
    double fudge = 1e-6;           ///< > 0, keeps the AdaGrad division finite
    /// h of k(x, y) = exp(−‖x − y‖²/h); ≤ 0: the median heuristic, every iteration. When all the
    /// particles coincide (median 0) the heuristic uses h = 1.
    double bandwidth = -1;
};

/// Called after every iteration with the iteration count (1…iterations) and the particles [n][D].
using SvgdProgress = std::function<void(std::int64_t iteration, const std::vector<double>& particles)>;

/// SVGD from opt.particles draws of rho0 (taken from rng; the iterations are deterministic). Returns
/// the particles [n][D]. Host context only; T is the potential's precision (particles are kept in
/// double, converted to T for each evaluation). The potential is evaluated once per iteration on all
/// particles, so a minibatch potential (LogisticPosteriorPotential with minibatch > 0) draws one batch
/// per iteration shared by all particles, as in the reference; a full-data LogisticPosteriorPotential
/// is evaluated in blocks of particles on ctx.host_threads() threads. The kernel term costs O(n² D)
/// time and O(n²) memory per iteration and runs on ctx.host_threads() threads; the result does not
/// depend on the thread count. Throws wgf::Error naming the field for bad options, and naming the
/// iteration when Φ throws or its gradient is not finite.
template <typename T>
std::vector<double> svgd(Context& ctx, const Potential<T>& phi, const InitialDistribution& rho0, const SvgdOptions& opt,
                         Rng& rng, const SvgdProgress& progress = nullptr);

// ---- MALA -------------------------------------------------------------------------------------------

/// The preconditioner MALA adapts during the warm-up.
enum class MalaPreconditioner {
    Identity,  ///< M = I throughout
    Diagonal,  ///< the pooled per-coordinate variances
    Dense,     ///< the pooled covariance matrix (the default)
};

struct MalaOptions {
    int chains = 64;                ///< ≥ 2 (R̂ compares chains)
    std::int64_t warmup = 2000;     ///< adaptation iterations, discarded (≥ 0; adaptation needs ≥ 20)
    std::int64_t draws = 2000;      ///< kept draws per chain after warm-up (≥ 4: split-R̂ needs halves of ≥ 2)
    std::int64_t thin = 1;          ///< keep every thin-th iteration after warm-up (≥ 1)
    double initial_step = 0.1;      ///< h at the start (> 0); adapted during warm-up
    double target_accept = 0.574;   ///< acceptance rate the warm-up aims at, in (0, 1)
    MalaPreconditioner preconditioner = MalaPreconditioner::Dense;
    std::uint64_t seed = 0;         ///< chain c draws from its own stream, a function of (seed, c) only
};

struct MalaResult {
    int chains = 0, dim = 0;
    std::int64_t draws = 0;          ///< per chain
    std::vector<double> samples;     ///< [chains][draws][D], chain-major (the layout split_rhat takes)
    double acceptance = 0;           ///< accepted / proposed over all chains, post-warm-up iterations
    std::vector<double> rhat;        ///< split-R̂ per coordinate [D], of the kept draws
    double max_rhat = 0;
    double step_size = 0;            ///< h after warm-up (used for every kept draw)
    int restarted_chains = 0;        ///< stuck chains moved during the warm-up (see mala())
    std::vector<double> preconditioner;         ///< diag(M) [D] after warm-up
    std::vector<double> preconditioner_matrix;  ///< M [D][D] row-major after warm-up
};

/// MALA chains for π ∝ e^{−Φ}, each started from its own draw of init. Φ must be deterministic
/// (the same value for the same point): a LogisticPosteriorPotential with minibatch > 0 is refused
/// (wgf::Error); construct it with minibatch = 0, the full data. Host context only. The chains move in
/// lockstep so that the warm-up adapts one step size and one preconditioner from all of them: the
/// step from the mean acceptance probability over chains, M at the ends of the warm-up windows
/// [W/8, W/4), [W/4, W/2) and [W/2, 3W/4) (after which h is rescaled and adaptation restarts; a window
/// whose covariance is not positive definite keeps the previous M), and the final h is
/// the geometric mean of h over [7W/8, W). At the end of each window a chain whose mean acceptance
/// probability over it was below 10% of the target is stuck (started far out in a tail, where every
/// proposal overshoots: seen on the logistic posteriors from prior draws): it is left out of M's
/// estimate and moved to the current point of a chain that moved (chosen from the seed). This only
/// changes where the kept draws start; a chain stuck after the warm-up still shows in R̂. With warmup
/// < 20 nothing is adapted. Chains run on
/// ctx.host_threads() threads (one when Φ is not thread_safe()); the result depends on the seed only.
MalaResult mala(Context& ctx, const Potential<double>& phi, const InitialDistribution& init, const MalaOptions& opt);

// ---- diagnostics --------------------------------------------------------------------------------------

/// Split-R̂ per coordinate (formula above) of draws [chains][draws_per_chain][dim] (chain-major).
/// draws_per_chain ≥ 4; with an odd count the middle draw of each chain is left out. A coordinate
/// constant within every half gets R̂ = 1 when all halves agree and +∞ otherwise. Throws wgf::Error
/// for a size mismatch or non-finite draws.
std::vector<double> split_rhat(const std::vector<double>& draws, int chains, std::int64_t draws_per_chain, int dim);

/// How far samples are from a reference sample set (both [n][dim], n ≥ 2).
struct PosteriorComparison {
    double energy_distance = 0;  ///< wgf::energy_distance of at most 2000 points of each set
    double mean_error = 0;       ///< max_k |mean_k − ref mean_k| / ref std_k
    double std_error = 0;        ///< max_k |std_k / ref std_k − 1|
    std::int64_t energy_points = 0, energy_reference_points = 0;  ///< points the energy distance used
};

/// Compares samples with reference: moments from all points (std with 1/(n − 1)); the energy
/// distance, O(n²), from at most 2000 evenly spaced rows of each set (rows ⌊i n/m⌋, i < m:
/// deterministic, and spread over every chain of a chain-major MALA sample). Throws wgf::Error when a
/// reference coordinate has zero spread.
PosteriorComparison compare_samples(const std::vector<double>& samples, const std::vector<double>& reference, int dim);

}  // namespace wgf

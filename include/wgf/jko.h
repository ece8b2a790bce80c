// wgf/jko.h — the JKO solver (paper Algorithm 1, reference defaults of PAPER-SPEC §3–4): per step a
// warm-started ICNN, a fresh Adam, `iterations` optimiser steps on batches of ρ^k, the convexity
// projection after each step; identity pretraining of the first map; a learning-rate schedule across
// steps. Beyond the reference: a per-step sample pool (push ρ⁰ samples through the earlier maps once
// per step and subsample, instead of re-pushing a fresh batch through every map at every iteration),
// an identity initialisation that needs no pretraining, per-step checkpoints and resume.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "wgf/adam.h"
#include "wgf/context.h"
#include "wgf/flow.h"
#include "wgf/icnn.h"
#include "wgf/potential.h"

namespace wgf {

enum class JkoInit {
    Pretrain,  ///< reference: random init, then `pretrain_iterations` of identity regression on ρ⁰
    Identity,  ///< ∇ψ ≈ x by construction (softplus units in their linear regime), small random part
    /// ∇ψ ≈ x with half of ∇²ψ carried by ridge units softplus(a(v·x − o)) whose kinks are spread over
    /// ρ⁰'s samples (spread_identity_icnn): the map can bend locally from the first iteration.
    Spread,
};

struct JkoOptions {
    double tau = 0.05;               ///< JKO step
    double beta = 1.0;               ///< inverse temperature
    int steps = 20;                  ///< JKO steps to reach (a resumed flow continues to this count)
    int iterations = 500;            ///< Adam steps per JKO step
    std::int64_t batch = 1024;       ///< N, points per iteration
    double lr = 5e-3;                ///< learning rate when lr_schedule is empty
    /// Piecewise-constant learning rate across steps: {number of steps, lr}, in order; the last
    /// entry extends to the end.
    std::vector<std::pair<int, double>> lr_schedule;
    /// Within each step the learning rate falls from lr_at(step) to lr_at(step) × lr_end_ratio along a
    /// half cosine over the step's iterations; 1 = constant (the reference). Lowers the Adam noise
    /// that the last iterate of a step carries (beyond the reference).
    double lr_end_ratio = 1.0;
    /// The step's map is the average of the parameters after each of the step's last
    /// ⌈average_tail × iterations⌉ iterations (Polyak–Ruppert tail averaging; the average of
    /// projected, non-negative weights stays a convex ICNN); 0 = the last iterate (the reference).
    double average_tail = 0.0;
    double weight_decay = 1e-9;      ///< Adam L2 weight decay during JKO steps
    JkoInit init = JkoInit::Pretrain;
    int pretrain_iterations = 4000;
    double pretrain_lr = 5e-3;
    double pretrain_weight_decay = 1e-8;
    /// > 0: the reference's two-stage pretraining of the posterior study (PAPER-SPEC §3, §7.4): first
    /// pretrain_iterations towards the identity on N(0, v I) (v = 100 there), then pretrain_iterations
    /// on ρ⁰, each stage with a fresh Adam. 0: one stage, on ρ⁰.
    double pretrain_wide_variance = 0.0;
    /// A step whose per-iteration losses end clearly above the lowest level they reached (the
    /// optimisation diverged inside the step, e.g. after a batch with a point far in ρ⁰'s tails;
    /// the test is in docs/VALIDATION.md) is redone from its warm start on another order of its
    /// batches, up to this many times; if every attempt diverges the least bad map is kept and the
    /// step's report says so. 0 = off (the reference). Beyond the reference.
    int divergence_retries = 2;
    bool sample_pool = true;         ///< false = the reference's fresh batch re-pushed every iteration
    std::int64_t pool_size = 0;      ///< points in the per-step pool; 0 = 16 × batch
    /// false: each step's pool is a fresh ρ⁰ sample pushed through all earlier maps (cost k pushes
    /// per point at step k). true: one pool of ρ⁰ samples (fixed by the seed) is carried along,
    /// pushed through the newest map only (one push per point per step), so a pool many times
    /// larger costs less and the points of a step are rarely reused within it.
    bool carry_pool = false;
    std::uint64_t seed = 0;
    std::string checkpoint_dir;      ///< empty = no checkpoints; else one step file per JKO step
    void validate() const;
    double lr_at(int step) const;
    /// The learning rate of iteration `iteration` (0-based) of step `step`, with the in-step decay.
    double lr_at(int step, int iteration) const;
};

/// What happened in one JKO step.
struct JkoStepReport {
    int step = 0;             ///< 0-based index of the map just trained (ρ^step → ρ^{step+1})
    double time = 0;          ///< t of ρ^{step+1}
    double loss_first = 0;    ///< loss of the first and of the last iteration
    double loss_last = 0;
    double seconds = 0;       ///< wall time of the step (sampling + training)
    double lr = 0;
    /// The divergence check of the map kept (JkoOptions::divergence_retries): the rise of the median
    /// loss of the step's last tenth of iterations over the lowest tenth, in standard errors of such
    /// a median (> 8: diverged), the attempts redone, and whether every attempt diverged (the map
    /// kept is then the one whose losses ended lowest: a warning, the flow goes on).
    double loss_rise = 0;
    int retries = 0;
    bool diverged = false;
};

template <typename T>
class JkoSolver {
public:
    /// The solver shares the potential (keeps it alive) and refers to ctx, which must outlive it.
    JkoSolver(Context& ctx, IcnnShape shape, std::shared_ptr<const Potential<T>> potential, JkoOptions options);
    /// The potential by reference: it must outlive the solver (a temporary is refused at compile time).
    JkoSolver(Context& ctx, IcnnShape shape, const Potential<T>& potential, JkoOptions options);
    JkoSolver(Context& ctx, IcnnShape shape, const Potential<T>&& potential, JkoOptions options) = delete;

    /// Train the first map's initialisation (pretraining or identity construction) on ρ⁰ of `flow`.
    /// Called by run() when the flow has no steps yet.
    Icnn<T> initial_map(const Flow<T>& flow, double* seconds = nullptr) const;
    /// Extend `flow` to options.steps steps; calls on_step after each (and writes checkpoints).
    void run(Flow<T>& flow, const std::function<void(const JkoStepReport&)>& on_step = nullptr);
    /// The flow saved in options.checkpoint_dir if there is one (resume), else an empty flow at ρ⁰.
    /// Checkpoints that exist but are damaged, start from another ρ⁰ or ICNN shape, or were made
    /// with other settings() throw wgf::Error (the message lists every differing setting).
    Flow<T> resume_or_start(std::shared_ptr<const InitialDistribution> rho0) const;
    /// The same with a copy of a distribution: resume_or_start(Gaussian(...)).
    template <typename Dist, typename = std::enable_if_t<std::is_base_of_v<InitialDistribution, std::decay_t<Dist>>>>
    Flow<T> resume_or_start(Dist&& rho0) const {
        return resume_or_start(std::make_shared<const std::decay_t<Dist>>(std::forward<Dist>(rho0)));
    }

    /// The run's settings that determine the maps (every JkoOptions field except steps and
    /// checkpoint_dir, the precision T and the potential's fingerprint), as "key = value" lines.
    /// Written into every checkpoint; resume_or_start refuses checkpoints made with other settings.
    std::string settings() const;

    const JkoOptions& options() const { return m_opt; }
    double pretrain_seconds() const { return m_pretrain_seconds; }

private:
    std::string where_failed(int step, int iteration) const;

    Context* m_ctx;
    IcnnShape m_shape;
    std::shared_ptr<const Potential<T>> m_potential;  // owning, or a non-owning alias for the reference form
    JkoOptions m_opt;
    double m_pretrain_seconds = 0;
};

/// ψ with ∇ψ(x) ≈ x on average over `samples` [n][D] (draws of the law it will push), made of
///  - quadratic units as identity_icnn, carrying (1 − fraction) of ∇²ψ everywhere, and
///  - ridge units k (the last ⌊3W/4⌋ of layer 2): u_k = a (v_k·x − o_k), v_k a random unit vector, o_k
///    the projection of a random sample, a = m / (8 σ_k) for m ridge units and σ_k the spread of the
///    projections (neighbouring kinks overlap), all with the same c_k, scaled so that the ridge part of
///    ∇²ψ has mean trace fraction · D over the samples.
/// The ridge part is a sum of bumps c_k a² σ''(u_k) v_k v_kᵀ; moving one c_k, o_k or a changes the
/// map's slope near one kink, so the optimiser can make the local compressions and expansions that
/// a multi-well potential asks for (an identity_icnn map is affine to e^{−12} and its gradient sees
/// such potentials only through e^{−2π²}-small Fourier tails). Needs L = 2, W ≥ 4 and W ≥ D + 1.
template <typename T>
Icnn<T> spread_identity_icnn(const IcnnShape& shape, const std::vector<double>& samples, std::uint64_t seed,
                             double fraction = 0.5);

/// ψ with ∇ψ(x) ≈ x for every x (relative error ≲ e^{−12}): first-layer units j < D carry x_j²,
/// deeper units sum them with a large positive bias so that softplus is in its linear regime, plus a
/// random part of scale `noise` (the reference init × noise) to break the symmetry between units.
/// Needs L ≥ 2 and W_1 ≥ D, or L = 1 and r·W_1 ≥ D.
template <typename T>
Icnn<T> identity_icnn(const IcnnShape& shape, std::uint64_t seed, double noise = 1e-2);

}  // namespace wgf

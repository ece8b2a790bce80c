// wgf/logreg.h — Bayesian logistic regression (paper §7.4, PAPER-SPEC §7.4, data/logreg/): the
// posterior potential Φ = −log posterior (up to a constant) and the posterior-predictive evaluation
// of §6.6.
//
// Parameter w = (θ ∈ R^d, r) with r = log α, D = d + 1. With ℓ = clamp(r, −c, c) (c = 8 in the
// reference), α = e^ℓ, prior α ∼ Gamma(shape a, rate b) (a = 1, b = 100), θ | α ∼ N(0, α⁻¹ I), written
// in the (θ, log α) coordinates (the last aℓ includes the Jacobian dα/dℓ = α):
//   log p0(w) = −½ α‖θ‖² + (d/2) ℓ − (d/2) log 2π + a log b − lgamma(a) + a ℓ − b α
//   Φ(w)      = −log p0(w) − (N/|S|) Σ_{s∈S} log σ(y_s θᵀx_s)
// with N the number of training rows and S the data minibatch (all N rows with minibatch = 0).
// log σ(z) = −softplus(−z) is evaluated without overflow for any z (log_sigmoid below). Option
// clamp_likelihood replaces log σ(z) by log max(σ(z), 1e-5), as the reference does.
// Gradients:
//   ∂Φ/∂θ = α θ − (N/|S|) Σ_s g_s y_s x_s,   g_s = σ(−y_s θᵀx_s)  (0 where the likelihood clamp is active)
//   ∂Φ/∂r = [½ α‖θ‖² − d/2 − a + b α] · 1{−c ≤ r ≤ c}
// The clamp of log α enters as torch.clamp's backward does: derivative 1 on the closed interval
// [−c, c], 0 outside, so Φ is flat in r outside it (and the θ-terms then use α = e^{±c}). The
// likelihood clamp likewise passes the gradient where σ(z) ≥ 1e-5 and zeroes it below.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "wgf/detail/logreg_point.h"
#include "wgf/initial.h"
#include "wgf/potential.h"

namespace wgf {

/// log σ(z) = −log(1 + e^{−z}), finite for every finite z (−1000 → −1000, +1000 → −0).
inline double log_sigmoid(double z) { return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z)); }

struct LogisticPosteriorOptions {
    double prior_shape = 1.0;      ///< a: α ∼ Gamma(a, rate b)
    double prior_rate = 100.0;     ///< b
    double log_alpha_clip = 8.0;   ///< c: log α is clamped to [−c, c]
    /// Rows per data minibatch; 0 (or ≥ N) = the full training set, exact and deterministic. With a
    /// minibatch, every eval() call draws the next batch of an epoch-wise shuffled pass over the rows
    /// (the reference's DataLoader, shuffle=True, drop_last=False: the last batch of an epoch may be
    /// smaller), so each call's data term is an unbiased estimate of the full one.
    std::int64_t minibatch = 0;
    bool clamp_likelihood = false;  ///< the reference's log max(p, 1e-5) (off: the exact log σ)
    double likelihood_floor = 1e-5;
    std::uint64_t seed = 0;         ///< of the minibatch shuffle
};

/// Φ = −log posterior of Bayesian logistic regression (above). X [N][d] row-major, labels [N] in
/// {−1, +1}: the training set, kept in host memory and, on the first eval on a Cuda context, copied
/// to that device once. On a Cuda context with d ≤ 128 the points are evaluated by a kernel (one
/// thread per point, the host's per-point code: wgf/detail/logreg_point.h); with a minibatch its rows
/// are uploaded per call; above 128 features y is staged through the host.
/// eval() with minibatches advances a shared shuffle under a mutex (thread-safe: concurrent calls
/// each get their own batch); eval_rows() is deterministic.
template <typename T>
class LogisticPosteriorPotential final : public Potential<T> {
public:
    LogisticPosteriorPotential(std::vector<double> X, std::vector<double> labels, int features,
                               LogisticPosteriorOptions options = {});
    ~LogisticPosteriorPotential() override;
    int dim() const override { return m_d + 1; }
    std::string describe() const override;
    /// describe() plus an FNV-1a digest of X, the labels and every option.
    std::string fingerprint() const override;
    void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    /// eval without the NaN/Inf scan of y on a Cuda context (no synchronisation; the JKO solver's
    /// inner loop, which checks its own results).
    void eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    bool thread_safe() const override { return true; }
    /// Whether eval on ctx runs on ctx's device without any host copy or synchronisation after the
    /// first call (full data, d ≤ 128): the JKO solver can then capture its iterations in a CUDA graph.
    bool device_resident(const Context& ctx) const;

    /// Φ with the data term N/m Σ over the given m training rows (host pointers; value [n] or null,
    /// grad [n][D] or null). Rows may repeat.
    void eval_rows(const std::int64_t* rows, std::int64_t m, const T* y, std::int64_t n, T* value, T* grad) const;
    std::int64_t n_train() const { return static_cast<std::int64_t>(m_labels.size()); }
    int features() const { return m_d; }
    const LogisticPosteriorOptions& options() const { return m_opt; }

private:
    void eval_rows_threaded(const std::int64_t* rows, std::int64_t m, const T* y, std::int64_t n, T* value, T* grad,
                            int threads) const;
    void evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad, bool scan_y) const;
    detail::LogregConstants constants() const;
    struct Shuffle;
    int m_d;
    std::vector<double> m_X, m_labels;
    LogisticPosteriorOptions m_opt;
    std::unique_ptr<Shuffle> m_shuffle;  // minibatch state (null with full data)
    std::shared_ptr<detail::PotentialDeviceCache> m_device;  // device copies of X and the labels
};

/// ρ⁰ = the prior in (θ, log α) coordinates, D = d + 1: ℓ = log α with α ∼ Gamma(a, rate b), θ | α ∼
/// N(0, α⁻¹ I); exact log-density
///   log ρ⁰(θ, ℓ) = −½ e^ℓ ‖θ‖² + (d/2) ℓ − (d/2) log 2π + a log b − lgamma(a) + a ℓ − b e^ℓ − log Z_c,
/// restricted to |ℓ| ≤ c (log_alpha_clip; −∞ outside) with Z_c = P(|ℓ| ≤ c) (1 for c = +∞, the default).
/// Restricting ρ⁰ to the clip of LogisticPosteriorOptions keeps every flow, particle and chain where
/// Φ depends on ℓ: outside it the clamp makes Φ flat in ℓ, an improper tail of e^{−Φ} in which mass
/// started there (b e^{−c} ≈ 3.3% of unrestricted prior draws for b = 100, c = 8) stays or drifts away.
/// The reference's sampler clamps α to [e⁻⁸, e⁸] instead, an atom of that 3.3% at ℓ = −8 where no
/// density exists; the restriction is the density-bearing version. Z_c by Simpson's rule on ℓ (relative
/// error < 1e-10); sampling by rejection (refused when Z_c < 1e-6). Its record() is the built-in kind
/// "logreg-prior" (params a, b, c; docs/FORMATS.md), so saved flows from it load without the program.
class LogisticPrior final : public InitialDistribution {
public:
    LogisticPrior(int features, double shape = 1.0, double rate = 100.0,
                  double log_alpha_clip = std::numeric_limits<double>::infinity());
    double log_alpha_clip() const { return m_clip; }
    /// log Z_c (0 without a clip)
    double log_mass() const { return m_log_mass; }
    int dim() const override { return m_d + 1; }
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    void log_density(const double* x, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    std::string describe() const override;
    InitialRecord record() const override;

private:
    int m_d;
    double m_shape, m_rate, m_clip, m_log_mass = 0;
};

/// §6.6: posterior-predictive p̄_i = (1/M) Σ_m σ(y_i θ_mᵀ x_i) over samples [M][d+1] (the last
/// coordinate, log α, is ignored); accuracy = mean_i [p̄_i > 0.5], log_lik = mean_i log p̄_i.
struct LogRegPredictive {
    double accuracy = 0, log_lik = 0;
};
LogRegPredictive logreg_predictive(const std::vector<double>& X, const std::vector<double>& labels, int features,
                                   const std::vector<double>& samples);

}  // namespace wgf

// posterior_baselines.cpp — SVGD, MALA with warm-up adaptation, split-R̂ and the comparison of sample
// sets (formulas in wgf/posterior_baselines.h). Host code in double.
//
// SVGD per iteration: ∇Φ at the n particles; the n × n squared distances S_ij (rows in parallel);
// h from the median of S_ij over i < j (the authors' code takes the median of the full n × n matrix,
// diagonal zeros included, which lowers it slightly for small n; the pairs are the usual definition);
// then φ_i = (1/n) Σ_j k_ij (s_j + (2/h)(x_i − x_j)) row by row in parallel, each row summed in the
// order of j, so the particles do not depend on the thread count.
// MALA: the chains take one step each per iteration (in parallel, each with its own Rng), then the
// warm-up adapts from the acceptance probabilities summed in chain order (thread-count independent):
//   log h ← log h + (ā − target) (t + 1)^{−0.6},  t = iterations since the last (re)start,
// M ← the pooled covariance Σ of the window's draws of all chains (dense, or its diagonal), shrunk as
// Stan does, (n Σ + 5·10⁻³ I)/(n + 5), n the number of pooled draws, and h ← h · gm(M_old)/gm(M_new)
// (gm = det^{1/D}) so that the mean proposal scale is kept when M changes. With M = L Lᵀ the proposal's
// noise is √(2h) L ξ, so the forward residual is exactly √(2h) L ξ (‖·‖²_{M⁻¹} = 2h‖ξ‖²) and the
// backward one is whitened by one triangular solve: O(D²) per step beside the gradient's O(N D).
#include "wgf/posterior_baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "host/parallel_errors.h"
#include "wgf/detail/cholesky.h"
#include "wgf/error.h"
#include "wgf/logreg.h"
#include "wgf/metrics.h"

namespace wgf {

namespace {

/// A chain is stuck when its window's mean acceptance probability is below this fraction of the target.
constexpr double kStuckAcceptance = 0.1;

std::int64_t count_nonfinite(const double* v, std::size_t n) {
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += std::isfinite(v[i]) ? 0 : 1;
    return bad;
}

/// Median of v (reorders v); the mean of the two middle values for an even count. v non-empty.
double median_inplace(std::vector<double>& v) {
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double hi = v[mid];
    if (v.size() % 2 == 1) return hi;
    const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return 0.5 * (lo + hi);
}

/// A full-data LogisticPosteriorPotential gives each point's Φ independently of the others in the
/// batch (deterministic, thread-safe), so it can be evaluated in blocks of points on several threads.
/// Other potentials get one call: a minibatch potential then draws one batch for all points.
template <typename T>
bool blockwise_potential(const Potential<T>& phi) {
    const auto* lp = dynamic_cast<const LogisticPosteriorPotential<T>*>(&phi);
    return lp != nullptr && lp->options().minibatch == 0;
}

/// grad [n][D] = ∇Φ at x [n][D], evaluated in precision T through the buffers yT, gT.
template <typename T>
void potential_gradient(Context& ctx, const Potential<T>& phi, bool blockwise, const std::vector<double>& x,
                        std::int64_t n, int D, std::vector<T>& yT, std::vector<T>& gT, std::vector<double>& grad) {
    for (std::size_t i = 0; i < x.size(); ++i) yT[i] = static_cast<T>(x[i]);
    const int threads = ctx.host_threads();
    if (blockwise && threads > 1 && n > 1) {
        const std::int64_t blocks = std::min<std::int64_t>(n, 4 * static_cast<std::int64_t>(threads));
        const std::int64_t per = (n + blocks - 1) / blocks;
        detail::ParallelErrors errors;  // Φ may throw: rethrown after the region
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (std::int64_t b = 0; b < blocks; ++b) errors.run(b, [&] {
            const std::int64_t p0 = b * per, np = std::min(per, n - p0);
            if (np <= 0) return;
            Context host(Backend::Host, 1);
            phi.eval(host, yT.data() + p0 * D, np, nullptr, gT.data() + p0 * D);
        });
        errors.rethrow();
    } else {
        phi.eval(ctx, yT.data(), n, nullptr, gT.data());
    }
    for (std::size_t i = 0; i < x.size(); ++i) grad[i] = static_cast<double>(gT[i]);
}

}  // namespace

// ---- SVGD -------------------------------------------------------------------------------------------

template <typename T>
std::vector<double> svgd(Context& ctx, const Potential<T>& phi, const InitialDistribution& rho0, const SvgdOptions& opt,
                         Rng& rng, const SvgdProgress& progress) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "T must be float or double");
    WGF_CHECK(ctx.backend() == Backend::Host, "svgd: runs on a Host context, got " << backend_name(ctx.backend()));
    WGF_CHECK(opt.particles >= 2, "svgd: SvgdOptions::particles must be >= 2, got " << opt.particles);
    WGF_CHECK(opt.iterations >= 1, "svgd: SvgdOptions::iterations must be >= 1, got " << opt.iterations);
    WGF_CHECK(std::isfinite(opt.step_size) && opt.step_size > 0,
              "svgd: SvgdOptions::step_size must be finite and > 0, got " << opt.step_size);
    WGF_CHECK(std::isfinite(opt.alpha) && opt.alpha >= 0 && opt.alpha < 1,
              "svgd: SvgdOptions::alpha must be in [0, 1), got " << opt.alpha);
    WGF_CHECK(std::isfinite(opt.fudge) && opt.fudge > 0, "svgd: SvgdOptions::fudge must be finite and > 0, got "
                                                             << opt.fudge);
    WGF_CHECK(std::isfinite(opt.bandwidth),
              "svgd: SvgdOptions::bandwidth must be finite (<= 0: median heuristic), got " << opt.bandwidth);
    WGF_CHECK(phi.dim() == rho0.dim(), "svgd: the potential is in D = " << phi.dim() << ", rho0 in D = " << rho0.dim());
    const int D = phi.dim();
    const std::int64_t n = opt.particles;
    const std::size_t N = static_cast<std::size_t>(n), ND = N * static_cast<std::size_t>(D);
    std::vector<double> x = rho0.sample(n, rng);
    WGF_CHECK(x.size() == ND, "svgd: rho0 returned " << x.size() << " values for " << n << " points in D = " << D);
    const std::int64_t bad0 = count_nonfinite(x.data(), ND);
    WGF_CHECK(bad0 == 0, "svgd: " << bad0 << " coordinates of the initial particles are not finite");

    std::vector<T> yT(ND), gT(ND);
    std::vector<double> grad(ND), phi_step(ND), hist(ND), kern(N * N), pairs(N * (N - 1) / 2);
    const int threads = ctx.host_threads();
    const bool blockwise = blockwise_potential(phi);
    for (std::int64_t it = 0; it < opt.iterations; ++it) {
        try {
            potential_gradient(ctx, phi, blockwise, x, n, D, yT, gT, grad);
        } catch (const Error& e) {
            WGF_FAIL("svgd: iteration " << it << " of " << opt.iterations << ": " << e.what());
        }
        const std::int64_t bad = count_nonfinite(grad.data(), ND);
        WGF_CHECK(bad == 0, "svgd: iteration " << it << " of " << opt.iterations << ": " << bad
                                               << " entries of grad Phi at the particles are not finite");
        // S_ij = ‖x_i − x_j‖² for i < j, mirrored (each pair is written by one thread; the loop bodies
        // are arithmetic only: nothing can throw).
#pragma omp parallel for num_threads(threads) schedule(dynamic, 8)
        for (std::int64_t i = 0; i < n; ++i) {
            const std::size_t ii = static_cast<std::size_t>(i);
            const double* xi = x.data() + ii * D;
            kern[ii * N + ii] = 0;
            for (std::size_t j = ii + 1; j < N; ++j) {
                const double* xj = x.data() + j * static_cast<std::size_t>(D);
                double s = 0;
                for (int c = 0; c < D; ++c) s += (xi[c] - xj[c]) * (xi[c] - xj[c]);
                kern[ii * N + j] = kern[j * N + ii] = s;
            }
        }
        double h = opt.bandwidth;
        if (h <= 0) {
            std::size_t q = 0;
            for (std::size_t i = 0; i < N; ++i)
                for (std::size_t j = i + 1; j < N; ++j) pairs[q++] = kern[i * N + j];
            const double med = median_inplace(pairs);
            h = med > 0 ? med / std::log(static_cast<double>(n) + 1) : 1.0;
        }
        const double inv_h = 1 / h, two_over_h = 2 / h, inv_n = 1 / static_cast<double>(n);
        // k_ij = exp(−S_ij/h) in place, again one exp per pair.
#pragma omp parallel for num_threads(threads) schedule(dynamic, 8)
        for (std::int64_t i = 0; i < n; ++i) {
            const std::size_t ii = static_cast<std::size_t>(i);
            kern[ii * N + ii] = 1;
            for (std::size_t j = ii + 1; j < N; ++j)
                kern[ii * N + j] = kern[j * N + ii] = std::exp(-kern[ii * N + j] * inv_h);
        }
        // φ_i = (1/n) Σ_j k_ij (−∇Φ(x_j) + (2/h)(x_i − x_j)), j in order.
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::int64_t i = 0; i < n; ++i) {
            const std::size_t ri = static_cast<std::size_t>(i) * D;
            const double* ki = kern.data() + static_cast<std::size_t>(i) * N;
            double* out = phi_step.data() + ri;
            for (int c = 0; c < D; ++c) out[c] = 0;
            for (std::size_t j = 0; j < N; ++j) {
                const std::size_t rj = j * static_cast<std::size_t>(D);
                for (int c = 0; c < D; ++c) out[c] += ki[j] * (-grad[rj + c] + two_over_h * (x[ri + c] - x[rj + c]));
            }
            for (int c = 0; c < D; ++c) out[c] *= inv_n;
        }
        // The reference's AdaGrad step, elementwise.
        for (std::size_t e = 0; e < ND; ++e) {
            const double g2 = phi_step[e] * phi_step[e];
            hist[e] = it == 0 ? g2 : opt.alpha * hist[e] + (1 - opt.alpha) * g2;
            x[e] += opt.step_size * phi_step[e] / (opt.fudge + std::sqrt(hist[e]));
        }
        if (progress) progress(it + 1, x);
    }
    return x;
}

// ---- MALA -------------------------------------------------------------------------------------------

namespace {

/// The seed of chain c's stream: splitmix64's finaliser of seed + (c + 1)·γ, so that neighbouring
/// chains (and neighbouring seeds) get unrelated xoshiro states.
std::uint64_t chain_seed(std::uint64_t seed, int c) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(c) + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct Chain {
    Rng rng;
    std::vector<double> x, g, y, gy, xi, r;  // point, ∇Φ there; proposal, ∇Φ there; noise; scratch
    double phi = 0;
    double accept_prob = 0;  // of the last proposal (0 when it was not finite)
    bool accepted = false;
    // Welford sums of the current warm-up window: mean [D] and co-moment [D][D]; acceptance sum
    std::int64_t count = 0;
    double window_accept = 0;
    std::vector<double> mean, m2;
    Chain(std::uint64_t seed, int D)
        : rng(seed), x(static_cast<std::size_t>(D), 0.0), g(x), y(x), gy(x), xi(x), r(x), mean(x),
          m2(static_cast<std::size_t>(D) * static_cast<std::size_t>(D), 0.0) {}
};

/// The preconditioner M = L Lᵀ, both [D][D] row-major (L lower triangular).
struct Preconditioner {
    int D = 0;
    std::vector<double> M, L;
    explicit Preconditioner(int d) : D(d), M(static_cast<std::size_t>(d) * static_cast<std::size_t>(d), 0.0), L(M) {
        for (int k = 0; k < D; ++k) M[static_cast<std::size_t>(k) * D + k] = L[static_cast<std::size_t>(k) * D + k] = 1;
    }
    /// out = M v
    void apply(const std::vector<double>& v, std::vector<double>& out) const {
        for (int i = 0; i < D; ++i) {
            double s = 0;
            for (int k = 0; k < D; ++k) s += M[static_cast<std::size_t>(i) * D + k] * v[static_cast<std::size_t>(k)];
            out[static_cast<std::size_t>(i)] = s;
        }
    }
    /// ‖L⁻¹ v‖² = vᵀ M⁻¹ v (v is overwritten by L⁻¹ v)
    double whitened_norm2(std::vector<double>& v) const {
        double s = 0;
        for (int i = 0; i < D; ++i) {
            double t = v[static_cast<std::size_t>(i)];
            for (int k = 0; k < i; ++k) t -= L[static_cast<std::size_t>(i) * D + k] * v[static_cast<std::size_t>(k)];
            t /= L[static_cast<std::size_t>(i) * D + i];
            v[static_cast<std::size_t>(i)] = t;
            s += t * t;
        }
        return s;
    }
    double log_det() const { return detail::cholesky_logdet(L.data(), D); }
};

/// One MALA transition of chain ch with step h and preconditioner P (formulas in the header).
void mala_step(const Potential<double>& phi, Chain& ch, double h, const Preconditioner& P) {
    const std::size_t D = ch.x.size();
    for (std::size_t k = 0; k < D; ++k) ch.xi[k] = ch.rng.normal();
    const double u = ch.rng.uniform();  // drawn whatever happens: the stream does not depend on Φ's values
    P.apply(ch.g, ch.r);                // M ∇Φ(x)
    const double noise = std::sqrt(2 * h);
    bool ok = true;
    for (std::size_t i = 0; i < D; ++i) {
        double lxi = 0;
        for (std::size_t k = 0; k <= i; ++k) lxi += P.L[i * D + k] * ch.xi[k];
        ch.y[i] = ch.x[i] - h * ch.r[i] + noise * lxi;
        ok = ok && std::isfinite(ch.y[i]);
    }
    double phi_y = 0;
    if (ok) {
        Context host(Backend::Host, 1);
        phi.eval(host, ch.y.data(), 1, &phi_y, ch.gy.data());
        ok = std::isfinite(phi_y) && count_nonfinite(ch.gy.data(), D) == 0;
    }
    ch.accept_prob = 0;
    ch.accepted = false;
    if (!ok) return;  // a proposal outside the finite region of Φ is rejected
    // log q(x | y) − log q(y | x) = −(‖x − y + hM∇Φ(y)‖² − ‖y − x + hM∇Φ(x)‖²)_{M⁻¹} / (4h), where
    // y − x + hM∇Φ(x) = √(2h) L ξ has ‖·‖²_{M⁻¹} = 2h‖ξ‖².
    double fwd = 0;
    for (std::size_t k = 0; k < D; ++k) fwd += ch.xi[k] * ch.xi[k];
    fwd *= 2 * h;
    P.apply(ch.gy, ch.r);
    for (std::size_t k = 0; k < D; ++k) ch.r[k] = ch.x[k] - ch.y[k] + h * ch.r[k];
    const double bwd = P.whitened_norm2(ch.r);
    const double log_ratio = ch.phi - phi_y - (bwd - fwd) / (4 * h);
    ch.accept_prob = log_ratio >= 0 ? 1.0 : std::exp(log_ratio);  // NaN-free: every term is finite
    if (u < ch.accept_prob) {
        std::swap(ch.x, ch.y);
        std::swap(ch.g, ch.gy);
        ch.phi = phi_y;
        ch.accepted = true;
    }
}

}  // namespace

MalaResult mala(Context& ctx, const Potential<double>& phi, const InitialDistribution& init, const MalaOptions& opt) {
    WGF_CHECK(ctx.backend() == Backend::Host, "mala: runs on a Host context, got " << backend_name(ctx.backend()));
    WGF_CHECK(opt.chains >= 2, "mala: MalaOptions::chains must be >= 2 (R-hat compares chains), got " << opt.chains);
    WGF_CHECK(opt.warmup >= 0, "mala: MalaOptions::warmup must be >= 0, got " << opt.warmup);
    WGF_CHECK(opt.draws >= 4, "mala: MalaOptions::draws must be >= 4 (split R-hat needs two halves of >= 2), got "
                                  << opt.draws);
    WGF_CHECK(opt.thin >= 1, "mala: MalaOptions::thin must be >= 1, got " << opt.thin);
    WGF_CHECK(std::isfinite(opt.initial_step) && opt.initial_step > 0,
              "mala: MalaOptions::initial_step must be finite and > 0, got " << opt.initial_step);
    WGF_CHECK(opt.target_accept > 0 && opt.target_accept < 1,
              "mala: MalaOptions::target_accept must be in (0, 1), got " << opt.target_accept);
    WGF_CHECK(phi.dim() == init.dim(), "mala: the potential is in D = " << phi.dim() << ", init in D = " << init.dim());
    if (const auto* lp = dynamic_cast<const LogisticPosteriorPotential<double>*>(&phi))
        WGF_CHECK(lp->options().minibatch == 0,
                  "mala: the potential draws data minibatches (minibatch = "
                      << lp->options().minibatch
                      << "); MALA needs a deterministic Phi: construct it with minibatch = 0 (the full data)");
    const int D = phi.dim(), C = opt.chains;
    const std::size_t DS = static_cast<std::size_t>(D);

    // Chains, their starting points and Φ, ∇Φ there (serial: init.sample need not be thread-safe).
    std::vector<Chain> chains;
    chains.reserve(static_cast<std::size_t>(C));
    for (int c = 0; c < C; ++c) {
        chains.emplace_back(chain_seed(opt.seed, c), D);
        Chain& ch = chains.back();
        const std::vector<double> x0 = init.sample(1, ch.rng);
        WGF_CHECK(x0.size() == DS, "mala: init returned " << x0.size() << " values for one point in D = " << D);
        ch.x = x0;
        Context host(Backend::Host, 1);
        phi.eval(host, ch.x.data(), 1, &ch.phi, ch.g.data());
        WGF_CHECK(std::isfinite(ch.phi) && count_nonfinite(ch.g.data(), DS) == 0,
                  "mala: Phi or its gradient is not finite at the starting point of chain " << c);
    }

    const int threads = phi.thread_safe() ? ctx.host_threads() : 1;
    Preconditioner P(D);
    double log_h = std::log(opt.initial_step);
    // One iteration: every chain steps; returns the mean acceptance probability (chain order).
    auto iterate = [&](double h) {
        detail::ParallelErrors errors;  // Φ may throw: rethrown after the region
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int c = 0; c < C; ++c) errors.run(c, [&] { mala_step(phi, chains[static_cast<std::size_t>(c)], h, P); });
        errors.rethrow();
        double s = 0;
        for (const Chain& ch : chains) s += ch.accept_prob;
        return s / C;
    };

    // ---- warm-up ----
    // Preconditioner windows [W/8, W/4), [W/4, W/2), [W/2, 3W/4): each estimate starts from draws
    // taken with the previous one, so chains that started far out (the prior) are in the bulk by the
    // last; then W/8 iterations of step adaptation alone and W/8 over which log h is averaged.
    const std::int64_t W = opt.warmup;
    const bool adapt = W >= 20;
    const std::int64_t window_ends[3] = {W / 4, W / 2, 3 * W / 4};
    const std::int64_t window_from = W / 8, window_to = 3 * W / 4, avg_from = 7 * W / 8;
    std::int64_t t_rm = 0;  // iterations since the step adaptation (re)started
    Rng restart_rng(chain_seed(opt.seed, -1));
    int restarted = 0;
    double sum_log_h = 0;
    std::int64_t n_log_h = 0;
    for (std::int64_t t = 0; t < W; ++t) {
        const double abar = iterate(std::exp(log_h));
        if (!adapt) continue;
        log_h += (abar - opt.target_accept) * std::pow(static_cast<double>(t_rm + 1), -0.6);
        ++t_rm;
        if (t >= avg_from) {
            sum_log_h += log_h;
            ++n_log_h;
        }
        if (t < window_from || t >= window_to) continue;
        for (Chain& ch : chains) {  // Welford update with the chain's current point (co-moment, lower half)
            ++ch.count;
            ch.window_accept += ch.accept_prob;
            const double w = 1.0 / static_cast<double>(ch.count);
            for (std::size_t k = 0; k < DS; ++k) ch.r[k] = ch.x[k] - ch.mean[k];  // old deviation
            for (std::size_t k = 0; k < DS; ++k) ch.mean[k] += ch.r[k] * w;
            for (std::size_t i = 0; i < DS; ++i)
                for (std::size_t k = 0; k <= i; ++k) ch.m2[i * DS + k] += ch.r[i] * (ch.x[k] - ch.mean[k]);
        }
        if (t != window_ends[0] - 1 && t != window_ends[1] - 1 && t != window_ends[2] - 1) continue;
        // End of a window. A chain whose mean acceptance probability over the window is below
        // kStuckAcceptance of the target is stuck (far out in a tail where every proposal overshoots):
        // it is left out of the covariance and restarts from the point of a chain that moved.
        std::vector<int> moving;
        std::vector<char> stuck(static_cast<std::size_t>(C), 0);
        for (int c = 0; c < C; ++c) {
            const Chain& ch = chains[static_cast<std::size_t>(c)];
            stuck[static_cast<std::size_t>(c)] =
                ch.window_accept < kStuckAcceptance * opt.target_accept * static_cast<double>(ch.count);
            if (!stuck[static_cast<std::size_t>(c)]) moving.push_back(c);
        }
        for (int c = 0; c < C && !moving.empty(); ++c) {
            if (!stuck[static_cast<std::size_t>(c)]) continue;
            const Chain& from = chains[static_cast<std::size_t>(moving[restart_rng.below(moving.size())])];
            Chain& ch = chains[static_cast<std::size_t>(c)];
            ch.x = from.x;
            ch.g = from.g;
            ch.phi = from.phi;
            ++restarted;
        }
        // Pool the moving chains (Chan et al.'s merge, in chain order), set M, restart.
        std::int64_t n = 0;
        std::vector<double> mean(DS, 0.0), m2(DS * DS, 0.0), d(DS);
        for (int c = 0; c < C; ++c) {
            Chain& ch = chains[static_cast<std::size_t>(c)];
            const bool use = !stuck[static_cast<std::size_t>(c)];
            const std::int64_t count = ch.count;
            ch.count = 0;
            ch.window_accept = 0;
            if (!use) {
                std::fill(ch.mean.begin(), ch.mean.end(), 0.0);
                std::fill(ch.m2.begin(), ch.m2.end(), 0.0);
                continue;
            }
            const std::int64_t nn = n + count;
            const double f = static_cast<double>(n) * static_cast<double>(count) / static_cast<double>(nn);
            for (std::size_t k = 0; k < DS; ++k) d[k] = ch.mean[k] - mean[k];
            for (std::size_t k = 0; k < DS; ++k) mean[k] += d[k] * static_cast<double>(count) / static_cast<double>(nn);
            for (std::size_t i = 0; i < DS; ++i)
                for (std::size_t k = 0; k <= i; ++k) m2[i * DS + k] += ch.m2[i * DS + k] + d[i] * d[k] * f;
            n = nn;
            std::fill(ch.mean.begin(), ch.mean.end(), 0.0);
            std::fill(ch.m2.begin(), ch.m2.end(), 0.0);
        }
        t_rm = 0;
        if (opt.preconditioner == MalaPreconditioner::Identity || n < 2) continue;
        Preconditioner next(D);
        const double nd = static_cast<double>(n);
        for (std::size_t i = 0; i < DS; ++i)
            for (std::size_t k = 0; k <= i; ++k) {
                const bool diag = i == k;
                if (!diag && opt.preconditioner == MalaPreconditioner::Diagonal) continue;
                const double cov = m2[i * DS + k] / (nd - 1);
                const double shrunk = (nd * cov + (diag ? 5e-3 : 0.0)) / (nd + 5);
                next.M[i * DS + k] = next.M[k * DS + i] = next.L[i * DS + k] = shrunk;
            }
        // A window whose estimate is not finite or not positive definite keeps the previous M.
        if (detail::cholesky_lower_inplace(next.L.data(), D) == kIcnnOk) {
            for (std::size_t i = 0; i < DS; ++i)
                for (std::size_t k = i + 1; k < DS; ++k) next.L[i * DS + k] = 0;  // strict upper: unused, zeroed
            log_h += (P.log_det() - next.log_det()) / D;
            P = std::move(next);
        }
    }
    if (adapt) log_h = n_log_h > 0 ? sum_log_h / static_cast<double>(n_log_h) : log_h;
    const double h = std::exp(log_h);

    // ---- kept draws ----
    MalaResult out;
    out.chains = C;
    out.dim = D;
    out.draws = opt.draws;
    out.step_size = h;
    out.restarted_chains = restarted;
    out.preconditioner.resize(DS);
    for (std::size_t k = 0; k < DS; ++k) out.preconditioner[k] = P.M[k * DS + k];
    out.preconditioner_matrix = P.M;
    out.samples.resize(static_cast<std::size_t>(C) * static_cast<std::size_t>(opt.draws) * DS);
    std::int64_t accepted = 0, proposed = 0;
    for (std::int64_t s = 0; s < opt.draws; ++s) {
        for (std::int64_t r = 0; r < opt.thin; ++r) {
            iterate(h);
            for (const Chain& ch : chains) accepted += ch.accepted ? 1 : 0;
            proposed += C;
        }
        for (int c = 0; c < C; ++c)
            std::copy(chains[static_cast<std::size_t>(c)].x.begin(), chains[static_cast<std::size_t>(c)].x.end(),
                      out.samples.begin() +
                          static_cast<std::ptrdiff_t>((static_cast<std::size_t>(c) * opt.draws + s) * DS));
    }
    out.acceptance = static_cast<double>(accepted) / static_cast<double>(proposed);
    out.rhat = split_rhat(out.samples, C, opt.draws, D);
    out.max_rhat = *std::max_element(out.rhat.begin(), out.rhat.end());
    return out;
}

// ---- diagnostics --------------------------------------------------------------------------------------

std::vector<double> split_rhat(const std::vector<double>& draws, int chains, std::int64_t draws_per_chain, int dim) {
    WGF_CHECK(chains >= 1, "split_rhat: chains must be >= 1, got " << chains);
    WGF_CHECK(draws_per_chain >= 4, "split_rhat: draws_per_chain must be >= 4 (two halves of >= 2), got "
                                        << draws_per_chain);
    WGF_CHECK(dim >= 1, "split_rhat: dim must be >= 1, got " << dim);
    const std::size_t DS = static_cast<std::size_t>(dim), P = static_cast<std::size_t>(draws_per_chain);
    WGF_CHECK(draws.size() == static_cast<std::size_t>(chains) * P * DS,
              "split_rhat: draws has " << draws.size() << " values, expected chains*draws_per_chain*dim = " << chains
                                       << "*" << draws_per_chain << "*" << dim);
    const std::int64_t bad = count_nonfinite(draws.data(), draws.size());
    WGF_CHECK(bad == 0, "split_rhat: " << bad << " draws are not finite");
    const std::size_t n = P / 2, m = 2 * static_cast<std::size_t>(chains);
    const double nd = static_cast<double>(n), md = static_cast<double>(m);
    std::vector<double> out(DS), means(m), vars(m);
    for (std::size_t k = 0; k < DS; ++k) {
        for (std::size_t c = 0; c < static_cast<std::size_t>(chains); ++c)
            for (std::size_t half = 0; half < 2; ++half) {
                const std::size_t first = half == 0 ? 0 : P - n;  // odd P: the middle draw is left out
                const double* v = draws.data() + (c * P + first) * DS + k;
                double mean = 0;
                for (std::size_t s = 0; s < n; ++s) mean += v[s * DS];
                mean /= nd;
                double var = 0;
                for (std::size_t s = 0; s < n; ++s) var += (v[s * DS] - mean) * (v[s * DS] - mean);
                means[2 * c + half] = mean;
                vars[2 * c + half] = var / (nd - 1);
            }
        double grand = 0, W = 0;
        for (std::size_t j = 0; j < m; ++j) {
            grand += means[j] / md;
            W += vars[j] / md;
        }
        double B = 0;
        for (std::size_t j = 0; j < m; ++j) B += (means[j] - grand) * (means[j] - grand);
        B *= nd / (md - 1);
        if (W == 0)
            out[k] = B == 0 ? 1.0 : std::numeric_limits<double>::infinity();
        else
            out[k] = std::sqrt(((nd - 1) / nd * W + B / nd) / W);
    }
    return out;
}

namespace {
/// Per-coordinate mean and standard deviation (1/(n − 1)) of x [n][D].
void mean_std(const std::vector<double>& x, int D, std::vector<double>& mean, std::vector<double>& sd) {
    const std::size_t DS = static_cast<std::size_t>(D), n = x.size() / DS;
    mean.assign(DS, 0.0);
    sd.assign(DS, 0.0);
    for (std::size_t p = 0; p < n; ++p)
        for (std::size_t k = 0; k < DS; ++k) mean[k] += x[p * DS + k];
    for (double& v : mean) v /= static_cast<double>(n);
    for (std::size_t p = 0; p < n; ++p)
        for (std::size_t k = 0; k < DS; ++k) sd[k] += (x[p * DS + k] - mean[k]) * (x[p * DS + k] - mean[k]);
    for (double& v : sd) v = std::sqrt(v / static_cast<double>(n - 1));
}

/// At most `limit` rows of x [n][D]: rows ⌊i n / m⌋, i < m = min(n, limit).
std::vector<double> spread_rows(const std::vector<double>& x, int D, std::size_t limit) {
    const std::size_t DS = static_cast<std::size_t>(D), n = x.size() / DS;
    if (n <= limit) return x;
    std::vector<double> out(limit * DS);
    for (std::size_t i = 0; i < limit; ++i) {
        const std::size_t r = i * n / limit;
        const auto from = x.begin() + static_cast<std::ptrdiff_t>(r * DS);
        std::copy(from, from + static_cast<std::ptrdiff_t>(DS), out.begin() + static_cast<std::ptrdiff_t>(i * DS));
    }
    return out;
}
}  // namespace

PosteriorComparison compare_samples(const std::vector<double>& samples, const std::vector<double>& reference, int dim) {
    WGF_CHECK(dim >= 1, "compare_samples: dim must be >= 1, got " << dim);
    const std::size_t DS = static_cast<std::size_t>(dim);
    WGF_CHECK(samples.size() % DS == 0 && samples.size() / DS >= 2,
              "compare_samples: samples has " << samples.size() << " values; need >= 2 points of dim = " << dim);
    WGF_CHECK(reference.size() % DS == 0 && reference.size() / DS >= 2,
              "compare_samples: reference has " << reference.size() << " values; need >= 2 points of dim = " << dim);
    const std::int64_t bs = count_nonfinite(samples.data(), samples.size());
    const std::int64_t br = count_nonfinite(reference.data(), reference.size());
    WGF_CHECK(bs == 0 && br == 0,
              "compare_samples: samples have " << bs << " and reference " << br << " non-finite values");
    std::vector<double> ms, ss, mr, sr;
    mean_std(samples, dim, ms, ss);
    mean_std(reference, dim, mr, sr);
    PosteriorComparison out;
    for (std::size_t k = 0; k < DS; ++k) {
        WGF_CHECK(sr[k] > 0, "compare_samples: coordinate " << k << " of the reference has zero spread");
        out.mean_error = std::max(out.mean_error, std::fabs(ms[k] - mr[k]) / sr[k]);
        out.std_error = std::max(out.std_error, std::fabs(ss[k] / sr[k] - 1));
    }
    constexpr std::size_t kEnergyPoints = 2000;  // energy_distance is O((nx + ny)² D)
    const std::vector<double> xs = spread_rows(samples, dim, kEnergyPoints);
    const std::vector<double> xr = spread_rows(reference, dim, kEnergyPoints);
    out.energy_points = static_cast<std::int64_t>(xs.size() / DS);
    out.energy_reference_points = static_cast<std::int64_t>(xr.size() / DS);
    out.energy_distance = energy_distance(xs, xr, dim);
    return out;
}

template std::vector<double> svgd<float>(Context&, const Potential<float>&, const InitialDistribution&,
                                         const SvgdOptions&, Rng&, const SvgdProgress&);
template std::vector<double> svgd<double>(Context&, const Potential<double>&, const InitialDistribution&,
                                          const SvgdOptions&, Rng&, const SvgdProgress&);

}  // namespace wgf

// logreg.cpp — the Bayesian logistic-regression posterior potential and the posterior-predictive
// evaluation (formulas in wgf/logreg.h). Host code in double whatever T is: y is converted once
// per point and only the results are rounded to T.
#include "wgf/logreg.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <type_traits>
#include <utility>

#include "binary_io.h"
#include "count_nonfinite.h"
#include "device_memory.h"
#include "potential_device_cache.h"
#include "context_access.h"
#ifdef WGF_WITH_CUDA
#include "cuda/train_cuda.h"
#endif
#include "wgf/error.h"
#include "wgf/random.h"

namespace wgf {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;
}  // namespace

/// The epoch-wise shuffle of the training rows (DataLoader with shuffle=True, drop_last=False).
template <typename T>
struct LogisticPosteriorPotential<T>::Shuffle {
    std::mutex mutex;
    Rng rng;
    std::vector<std::int64_t> perm;
    std::size_t cursor = 0;
    explicit Shuffle(std::uint64_t seed, std::int64_t n) : rng(seed), perm(static_cast<std::size_t>(n)) {
        std::iota(perm.begin(), perm.end(), std::int64_t{0});
        reshuffle();
    }
    void reshuffle() {
        for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
        cursor = 0;
    }
    /// The next batch of at most m rows of the current epoch (a new epoch once this one is used up).
    std::vector<std::int64_t> next(std::int64_t m) {
        std::lock_guard<std::mutex> lock(mutex);
        if (cursor >= perm.size()) reshuffle();
        const std::size_t take = std::min(static_cast<std::size_t>(m), perm.size() - cursor);
        std::vector<std::int64_t> rows(perm.begin() + static_cast<std::ptrdiff_t>(cursor),
                                       perm.begin() + static_cast<std::ptrdiff_t>(cursor + take));
        cursor += take;
        return rows;
    }
};

template <typename T>
LogisticPosteriorPotential<T>::LogisticPosteriorPotential(std::vector<double> X, std::vector<double> labels,
                                                          int features, LogisticPosteriorOptions options)
    : m_d(features), m_X(std::move(X)), m_labels(std::move(labels)), m_opt(options) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "T must be float or double");
    const char* who = "LogisticPosteriorPotential";
    WGF_CHECK(m_d >= 1, who << ": features must be >= 1, got " << m_d);
    WGF_CHECK(!m_labels.empty(), who << ": no training rows");
    WGF_CHECK(m_X.size() == m_labels.size() * static_cast<std::size_t>(m_d),
              who << ": X has " << m_X.size() << " entries, expected N*d = " << m_labels.size() << "*" << m_d);
    for (std::size_t i = 0; i < m_labels.size(); ++i)
        WGF_CHECK(m_labels[i] == 1.0 || m_labels[i] == -1.0,
                  who << ": label " << i << " is " << m_labels[i] << ", not -1 or +1");
    for (std::size_t i = 0; i < m_X.size(); ++i)
        WGF_CHECK(std::isfinite(m_X[i]), who << ": X[" << i / static_cast<std::size_t>(m_d) << "]["
                                             << i % static_cast<std::size_t>(m_d) << "] is not finite");
    WGF_CHECK(std::isfinite(m_opt.prior_shape) && m_opt.prior_shape > 0,
              who << ": prior_shape must be finite and > 0, got " << m_opt.prior_shape);
    WGF_CHECK(std::isfinite(m_opt.prior_rate) && m_opt.prior_rate > 0,
              who << ": prior_rate must be finite and > 0, got " << m_opt.prior_rate);
    WGF_CHECK(std::isfinite(m_opt.log_alpha_clip) && m_opt.log_alpha_clip > 0 && m_opt.log_alpha_clip <= 700,
              who << ": log_alpha_clip must be in (0, 700], got " << m_opt.log_alpha_clip);
    WGF_CHECK(m_opt.minibatch >= 0, who << ": minibatch must be >= 0 (0 = full data), got " << m_opt.minibatch);
    WGF_CHECK(!m_opt.clamp_likelihood || (m_opt.likelihood_floor > 0 && m_opt.likelihood_floor < 1),
              who << ": likelihood_floor must be in (0, 1), got " << m_opt.likelihood_floor);
    if (m_opt.minibatch >= n_train()) m_opt.minibatch = 0;  // a batch of every row is the full data
    if (m_opt.minibatch > 0) m_shuffle = std::make_unique<Shuffle>(m_opt.seed, n_train());
    m_device = std::make_shared<detail::PotentialDeviceCache>();
}

template <typename T>
LogisticPosteriorPotential<T>::~LogisticPosteriorPotential() = default;

template <typename T>
std::string LogisticPosteriorPotential<T>::describe() const {
    std::ostringstream os;
    os << "logistic-posterior d=" << m_d << " N=" << n_train() << " prior=Gamma(" << m_opt.prior_shape << ", rate "
       << m_opt.prior_rate << ") clip=" << m_opt.log_alpha_clip << " minibatch="
       << (m_opt.minibatch > 0 ? std::to_string(m_opt.minibatch) : std::string("full"));
    if (m_opt.clamp_likelihood) os << " likelihood-floor=" << m_opt.likelihood_floor;
    if (m_opt.minibatch > 0) os << " seed=" << m_opt.seed;
    return os.str();
}

template <typename T>
std::string LogisticPosteriorPotential<T>::fingerprint() const {
    std::uint64_t h = detail::fnv1a64(m_X.data(), m_X.size() * sizeof(double));
    h = detail::fnv1a64(m_labels.data(), m_labels.size() * sizeof(double), h);
    const double opts[] = {m_opt.prior_shape, m_opt.prior_rate, m_opt.log_alpha_clip,
                           static_cast<double>(m_opt.minibatch), m_opt.clamp_likelihood ? 1.0 : 0.0,
                           m_opt.likelihood_floor, static_cast<double>(m_opt.seed), static_cast<double>(m_d)};
    h = detail::fnv1a64(opts, sizeof(opts), h);
    std::ostringstream os;
    os << describe() << " fnv1a64:" << std::hex << h;
    return os.str();
}

template <typename T>
detail::LogregConstants LogisticPosteriorPotential<T>::constants() const {
    detail::LogregConstants k;
    k.d = m_d;
    k.a = m_opt.prior_shape;
    k.b = m_opt.prior_rate;
    k.c = m_opt.log_alpha_clip;
    k.log_norm = 0.5 * m_d * kLog2Pi - k.a * std::log(k.b) + std::lgamma(k.a);  // −(constants of log p0)
    k.log_floor = std::log(m_opt.likelihood_floor);
    k.clamp = m_opt.clamp_likelihood;
    return k;
}

template <typename T>
void LogisticPosteriorPotential<T>::eval_rows(const std::int64_t* rows, std::int64_t m, const T* y, std::int64_t n,
                                              T* value, T* grad) const {
    eval_rows_threaded(rows, m, y, n, value, grad, 1);
}

// The points are independent: each thread takes a contiguous block of them, and every point's sums run
// in row order, so the result does not depend on the thread count.
template <typename T>
void LogisticPosteriorPotential<T>::eval_rows_threaded(const std::int64_t* rows, std::int64_t m, const T* y,
                                                       std::int64_t n, T* value, T* grad, int threads) const {
    const std::size_t D = static_cast<std::size_t>(m_d) + 1;
    const detail::LogregConstants k = constants();
    const double scale = static_cast<double>(n_train()) / static_cast<double>(m);
    const int nt = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n)));
#pragma omp parallel num_threads(nt)
    {
        std::vector<double> g(static_cast<std::size_t>(m_d));
    #pragma omp for schedule(static)
        for (std::int64_t p = 0; p < n; ++p)
            detail::logreg_point(k, m_X.data(), m_labels.data(), rows, m, scale, y + static_cast<std::size_t>(p) * D,
                                 g.data(), value ? value + p : nullptr, grad ? grad + static_cast<std::size_t>(p) * D : nullptr);
    }  // omp parallel
}

template <typename T>
void LogisticPosteriorPotential<T>::eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, true);
}

template <typename T>
void LogisticPosteriorPotential<T>::eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value,
                                                   T* grad) const {
    evaluate(ctx, y, n, value, grad, false);
}

template <typename T>
bool LogisticPosteriorPotential<T>::device_resident(const Context& ctx) const {
#ifdef WGF_WITH_CUDA
    return ctx.backend() == Backend::Cuda && !m_shuffle && m_d <= detail::kLogregMaxFeatures;
#else
    (void)ctx;
    return false;
#endif
}

template <typename T>
void LogisticPosteriorPotential<T>::evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad,
                                             bool scan_y) const {
    const char* who = "LogisticPosteriorPotential";
    WGF_CHECK(n > 0, who << "::eval: empty batch (n = " << n << "); at least one point is needed");
    WGF_CHECK(y != nullptr, who << "::eval: y is null");
    WGF_CHECK(value != nullptr || grad != nullptr, who << "::eval: no output requested (value and grad are both null)");
    const int D = dim();
    const std::size_t N = static_cast<std::size_t>(n), ND = N * static_cast<std::size_t>(D);
    // The rows of this call's data term: all of them, or the next minibatch of the shuffle.
    std::vector<std::int64_t> rows;
    if (m_shuffle) rows = m_shuffle->next(m_opt.minibatch);
    const std::int64_t m = m_shuffle ? static_cast<std::int64_t>(rows.size()) : n_train();
    const std::int64_t* row_ptr = m_shuffle ? rows.data() : nullptr;
#ifndef WGF_WITH_CUDA
    (void)scan_y;  // the host always scans y: it costs no synchronisation
#else
    if (ctx.backend() == Backend::Cuda && m_d <= detail::kLogregMaxFeatures) {
        if (scan_y) {
            const std::int64_t bad = detail::count_nonfinite(ctx, y, n * D);
            WGF_CHECK(bad == 0, who << "::eval: y contains " << bad << " NaN/Inf entries (y is [" << n << "][" << D << "])");
        }
        const auto dev = detail::device_arrays(ctx, *m_device, {&m_X, &m_labels});
        detail::ContextDeviceScope scope(ctx);
        // A minibatch's rows go up with the call (a synchronous copy on the legacy stream, which ctx's
        // blocking stream waits for) and are freed once the kernel has read them.
        std::unique_ptr<void, void (*)(void*)> d_rows(nullptr, [](void* q) { detail::device_free(q); });
        if (row_ptr != nullptr) {
            d_rows.reset(detail::device_malloc(rows.size() * sizeof(std::int64_t)));
            detail::copy_host_to_device(d_rows.get(), rows.data(), rows.size() * sizeof(std::int64_t));
        }
        detail::logreg_eval_cuda(*detail::cuda_state(ctx), constants(), dev[0], dev[1],
                                 static_cast<const std::int64_t*>(d_rows.get()), m,
                                 static_cast<double>(n_train()) / static_cast<double>(m), y, n, value, grad);
        if (row_ptr != nullptr) ctx.synchronize();  // the kernel read the rows: they can go
        return;
    }
#endif
    auto host_eval = [&](const T* hy, T* hv, T* hg) {
        const std::int64_t bad = detail::count_nonfinite_host(hy, n * D);
        WGF_CHECK(bad == 0, who << "::eval: y contains " << bad << " NaN/Inf entries (y is [" << n << "][" << D << "])");
        eval_rows_threaded(row_ptr, m, hy, n, hv, hg, ctx.host_threads());
    };
    if (ctx.backend() == Backend::Host) {
        host_eval(y, value, grad);
        return;
    }
    // Cuda context with more than kLogregMaxFeatures features: staged through the host.
    std::vector<T> hy(ND), hv(value ? N : 0), hg(grad ? ND : 0);
    ctx.synchronize();
    detail::copy_device_to_host(hy.data(), y, ND * sizeof(T));
    host_eval(hy.data(), value ? hv.data() : nullptr, grad ? hg.data() : nullptr);
    if (value) detail::copy_host_to_device(value, hv.data(), N * sizeof(T));
    if (grad) detail::copy_host_to_device(grad, hg.data(), ND * sizeof(T));
}

// ---- LogisticPrior ----------------------------------------------------------------------------------

namespace {
/// log P(|ℓ| ≤ c) for ℓ = log α, α ∼ Gamma(a, rate b): Simpson's rule on the density of ℓ,
/// exp(a ℓ − b e^ℓ + a log b − lgamma(a)), over [−c, c] ∩ [mode − 60/a − 60, mode + 8] (outside that
/// window the density is below e^{−60} of its peak), 200000 intervals.
double log_clip_mass(double a, double b, double c) {
    const double mode = std::log(a / b), lo = std::max(-c, mode - 60 / a - 60), hi = std::min(c, mode + 8);
    if (!(lo < hi)) return -INFINITY;
    const int n = 200000;
    const double h = (hi - lo) / n, k = a * std::log(b) - std::lgamma(a);
    double sum = 0;
    for (int i = 0; i <= n; ++i) {
        const double ell = lo + i * h, f = std::exp(a * ell - b * std::exp(ell) + k);
        sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return std::log(std::min(1.0, sum * h / 3));
}
}  // namespace

LogisticPrior::LogisticPrior(int features, double shape, double rate, double log_alpha_clip)
    : m_d(features), m_shape(shape), m_rate(rate), m_clip(log_alpha_clip) {
    WGF_CHECK(features >= 1, "LogisticPrior: features must be >= 1, got " << features);
    WGF_CHECK(std::isfinite(shape) && shape > 0, "LogisticPrior: shape must be finite and > 0, got " << shape);
    WGF_CHECK(std::isfinite(rate) && rate > 0, "LogisticPrior: rate must be finite and > 0, got " << rate);
    WGF_CHECK(log_alpha_clip > 0, "LogisticPrior: log_alpha_clip must be > 0 (+inf: no clip), got " << log_alpha_clip);
    if (std::isfinite(m_clip)) {
        m_log_mass = log_clip_mass(shape, rate, m_clip);
        WGF_CHECK(m_log_mass > std::log(1e-6), "LogisticPrior: P(|log alpha| <= " << m_clip << ") = " << std::exp(m_log_mass)
                                                    << " under Gamma(" << shape << ", rate " << rate
                                                    << ") is below 1e-6: the clip leaves almost no prior mass");
    }
}

namespace {
/// log G for G ∼ Gamma(a, rate 1): Marsaglia–Tsang for a ≥ 1; for a < 1, G = G' U^{1/a} with
/// G' ∼ Gamma(a + 1), taken in logs (U^{1/a} underflows for small a).
double log_gamma_variate(double a, Rng& rng) {
    if (a < 1) {
        double u = rng.uniform();
        while (u <= 0) u = rng.uniform();
        return log_gamma_variate(a + 1, rng) + std::log(u) / a;
    }
    const double dd = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * dd);
    for (;;) {
        double x, v;
        do {
            x = rng.normal();
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = rng.uniform();
        while (u <= 0) u = rng.uniform();
        if (std::log(u) < 0.5 * x * x + dd - dd * v + dd * std::log(v)) return std::log(dd * v);
    }
}
}  // namespace

std::vector<double> LogisticPrior::sample(std::int64_t n, Rng& rng) const {
    WGF_CHECK(n >= 0, "LogisticPrior::sample: n must be >= 0, got " << n);
    const std::size_t D = static_cast<std::size_t>(m_d) + 1;
    std::vector<double> out(static_cast<std::size_t>(n) * D);
    for (std::size_t p = 0; p < static_cast<std::size_t>(n); ++p) {
        double ell = log_gamma_variate(m_shape, rng) - std::log(m_rate);
        while (!(std::fabs(ell) <= m_clip)) ell = log_gamma_variate(m_shape, rng) - std::log(m_rate);
        const double sd = std::exp(-0.5 * ell);  // α^{−1/2}
        for (std::size_t j = 0; j < D - 1; ++j) out[p * D + j] = sd * rng.normal();
        out[p * D + D - 1] = ell;
    }
    return out;
}

void LogisticPrior::log_density(const double* x, std::int64_t n, double* out) const {
    const std::size_t D = static_cast<std::size_t>(m_d) + 1;
    const double c = -0.5 * m_d * kLog2Pi + m_shape * std::log(m_rate) - std::lgamma(m_shape) - m_log_mass;
    for (std::size_t p = 0; p < static_cast<std::size_t>(n); ++p) {
        const double* w = x + p * D;
        const double ell = w[D - 1], alpha = std::exp(ell);
        double sq = 0;
        for (std::size_t j = 0; j + 1 < D; ++j) sq += w[j] * w[j];
        // α‖θ‖² with α = +∞ and θ = 0 would be NaN: the density there is 0 (−∞).
        const double quad = sq == 0 ? 0.0 : 0.5 * alpha * sq;
        out[p] = -quad + (0.5 * m_d + m_shape) * ell - m_rate * alpha + c;
        if (std::isnan(out[p]) || !(std::fabs(ell) <= m_clip)) out[p] = -INFINITY;
    }
}

std::string LogisticPrior::describe() const {
    std::ostringstream os;
    os << "logistic-regression prior (theta, log alpha): alpha ~ Gamma(" << m_shape << ", rate " << m_rate
       << "), theta | alpha ~ N(0, I/alpha)";
    if (std::isfinite(m_clip)) os << ", restricted to |log alpha| <= " << m_clip;
    os << ", D = " << m_d + 1;
    return os.str();
}

InitialRecord LogisticPrior::record() const {
    InitialRecord r;
    r.kind = "logreg-prior";
    r.dim = m_d + 1;
    r.params = {m_shape, m_rate, m_clip};
    return r;
}

LogRegPredictive logreg_predictive(const std::vector<double>& X, const std::vector<double>& labels, int features,
                                   const std::vector<double>& samples) {
    WGF_CHECK(features >= 1, "logreg_predictive: features must be >= 1, got " << features);
    const std::size_t d = static_cast<std::size_t>(features), D = d + 1;
    WGF_CHECK(!labels.empty() && X.size() == labels.size() * d,
              "logreg_predictive: X has " << X.size() << " entries for " << labels.size() << " labels and d = " << d);
    WGF_CHECK(!samples.empty() && samples.size() % D == 0,
              "logreg_predictive: samples has " << samples.size() << " entries, not a positive multiple of D = " << D);
    const std::size_t M = samples.size() / D;
    LogRegPredictive out;
    std::vector<double> ls(M);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const double* x = X.data() + i * d;
        double mx = -INFINITY;
        for (std::size_t m = 0; m < M; ++m) {
            double z = 0;
            for (std::size_t j = 0; j < d; ++j) z += samples[m * D + j] * x[j];
            ls[m] = log_sigmoid(labels[i] * z);
            mx = std::max(mx, ls[m]);
        }
        double s = 0;
        for (std::size_t m = 0; m < M; ++m) s += std::exp(ls[m] - mx);
        const double log_p = mx + std::log(s / static_cast<double>(M));  // log p̄_i (log-sum-exp)
        out.log_lik += log_p;
        out.accuracy += log_p > std::log(0.5) ? 1.0 : 0.0;
    }
    out.accuracy /= static_cast<double>(labels.size());
    out.log_lik /= static_cast<double>(labels.size());
    return out;
}

template class LogisticPosteriorPotential<float>;
template class LogisticPosteriorPotential<double>;

}  // namespace wgf

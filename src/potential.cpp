// potential.cpp — the built-in potentials and FunctionPotential: parameter validation at
// construction, argument checks on every eval (always on), then the backend switch. The math lives
// in src/host/potential_host.cpp; src/cuda/potential_cuda.cu runs it on the device (the mixture up
// to D = 64). A FunctionPotential without device_fn (and a mixture above D = 64) is evaluated on the
// host through staging copies on a Cuda context: y [n][D] is downloaded, the host code runs,
// value [n] / grad [n][D] are uploaded.
#include "wgf/potential.h"
#include "context_access.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "binary_io.h"
#include "count_nonfinite.h"
#include "host/icnn_host.h"
#include "host/potential_host.h"
#include "device_memory.h"
#include "potential_device_cache.h"
#include "wgf/detail/filtering_potential.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"

#ifdef WGF_WITH_CUDA
#include "cuda/icnn_cuda.h"
#include "cuda/train_cuda.h"
#endif

namespace wgf {

namespace {

constexpr double kLog2Pi = 1.8378770664093454835606594728112;

/// Checks shared by every eval: a non-empty batch, y given, at least one output requested.
template <typename T>
void check_eval_args(const char* who, const T* y, std::int64_t n, const T* value, const T* grad) {
    WGF_CHECK(n > 0, who << "::eval: empty batch (n = " << n << "); at least one point is needed");
    WGF_CHECK(y != nullptr, who << "::eval: y is null");
    WGF_CHECK(value != nullptr || grad != nullptr, who << "::eval: no output requested (value and grad are both null)");
}

template <typename T>
void check_finite_host(const char* who, const T* y, std::int64_t n, int D) {
    const std::int64_t bad = detail::count_nonfinite_host(y, n * D);
    WGF_CHECK(bad == 0, who << "::eval: y contains " << bad << " NaN/Inf entries (y is [" << n << "][" << D << "])");
}

/// Evaluates through host_eval(y, n, value, grad) on host memory. On a Cuda context y is staged to
/// the host and the requested outputs are copied back; ctx is synchronised first so that y, written
/// by earlier work queued on ctx's stream, is complete.
template <typename T, typename HostEval>
void eval_via_host(Context& ctx, const char* who, int D, const T* y, std::int64_t n, T* value, T* grad,
                   HostEval&& host_eval) {
    check_eval_args(who, y, n, value, grad);
    if (ctx.backend() == Backend::Host) {
        check_finite_host(who, y, n, D);
        host_eval(y, n, value, grad);
        return;
    }
    const std::size_t N = static_cast<std::size_t>(n), ND = N * static_cast<std::size_t>(D);
    std::vector<T> hy(ND), hv(value ? N : 0), hg(grad ? ND : 0);
    ctx.synchronize();
    detail::copy_device_to_host(hy.data(), y, ND * sizeof(T));
    check_finite_host(who, hy.data(), n, D);
    host_eval(hy.data(), n, value ? hv.data() : nullptr, grad ? hg.data() : nullptr);
    if (value) detail::copy_host_to_device(value, hv.data(), N * sizeof(T));
    if (grad) detail::copy_host_to_device(grad, hg.data(), ND * sizeof(T));
}

#ifdef WGF_WITH_CUDA
/// Checks of a device eval: arguments, and (scan_y) finite y, counted on the device.
template <typename T>
void check_device_eval(Context& ctx, const char* who, int D, const T* y, std::int64_t n, const T* value, const T* grad,
                       bool scan_y) {
    check_eval_args(who, y, n, value, grad);
    if (!scan_y) return;
    const std::int64_t bad = detail::count_nonfinite(ctx, y, n * D);
    WGF_CHECK(bad == 0, who << "::eval: y contains " << bad << " NaN/Inf entries (y is [" << n << "][" << D << "])");
}
#endif

}  // namespace

#ifdef WGF_WITH_CUDA
std::vector<const double*> detail::device_arrays(Context& ctx, detail::PotentialDeviceCache& cache,
                                                 std::initializer_list<const std::vector<double>*> arrays) {
    std::lock_guard<std::mutex> lock(cache.mutex);
    detail::CudaState& st = *detail::cuda_state(ctx);
    auto& copies = cache.arrays[detail::cuda_state_device(st)];
    if (copies.empty())
        for (const std::vector<double>* a : arrays) copies.push_back(detail::upload_doubles_cuda(st, *a));
    std::vector<const double*> out;
    for (const auto& a : copies) out.push_back(a.get());
    return out;
}
#endif

// ---- QuadraticPotential ----------------------------------------------------------------------------

template <typename T>
QuadraticPotential<T>::QuadraticPotential(std::vector<double> A, std::vector<double> m)
    : m_dim(static_cast<int>(m.size())), m_A(std::move(A)), m_m(std::move(m)) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "T must be float or double");
    WGF_CHECK(m_dim >= 1, "QuadraticPotential: the center m is empty (its size is the dimension D)");
    for (int i = 0; i < m_dim; ++i)
        WGF_CHECK(std::isfinite(m_m[i]), "QuadraticPotential: center m[" << i << "] is not finite (" << m_m[i] << ")");
    WGF_CHECK(m_A.size() == m_m.size() * m_m.size(), "QuadraticPotential: A has " << m_A.size()
                                                         << " entries but m has D = " << m_dim
                                                         << ", so A must be D*D = " << m_m.size() * m_m.size());
    detail::spd_cholesky("QuadraticPotential", "A", m_A, m_dim);
    m_device = std::make_shared<detail::PotentialDeviceCache>();
}

template <typename T>
std::string QuadraticPotential<T>::describe() const {
    return "quadratic D=" + std::to_string(m_dim);
}

namespace {
/// "<describe> fnv1a64:<hex>" over the given parameter arrays (exact bits: any change shows).
std::string with_digest(const std::string& description, std::initializer_list<const std::vector<double>*> arrays) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const auto* a : arrays) h = detail::fnv1a64(a->data(), a->size() * sizeof(double), h);
    std::ostringstream os;
    os << description << " fnv1a64:" << std::hex << h;
    return os.str();
}
}  // namespace

template <typename T>
std::string QuadraticPotential<T>::fingerprint() const {
    return with_digest(describe(), {&m_A, &m_m});
}

template <typename T>
void QuadraticPotential<T>::eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, true);
}

template <typename T>
void QuadraticPotential<T>::eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, false);
}

template <typename T>
void QuadraticPotential<T>::evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad, bool scan_y) const {
#ifdef WGF_WITH_CUDA
    if (ctx.backend() == Backend::Cuda) {
        check_device_eval(ctx, "QuadraticPotential", m_dim, y, n, value, grad, scan_y);
        const auto dev = detail::device_arrays(ctx, *m_device, {&m_A, &m_m});
        detail::quadratic_eval_cuda(*detail::cuda_state(ctx), m_dim, dev[0], dev[1], y, n, value, grad);
        return;
    }
#else
    (void)scan_y;
#endif
    const int threads = ctx.host_threads();  // the host always scans y: it costs no synchronisation
    eval_via_host(ctx, "QuadraticPotential", m_dim, y, n, value, grad,
                  [&](const T* hy, std::int64_t hn, T* hv, T* hg) {
                      detail::quadratic_eval_host(threads, m_dim, m_A.data(), m_m.data(), hy, hn, hv, hg);
                  });
}

// ---- GaussianMixturePotential ----------------------------------------------------------------------

template <typename T>
GaussianMixturePotential<T>::GaussianMixturePotential(std::vector<double> weights, std::vector<double> means,
                                                      std::vector<double> covariances, int dim, double beta)
    : m_dim(dim), m_beta(beta), m_means(std::move(means)) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "T must be float or double");
    const char* who = "GaussianMixturePotential";
    WGF_CHECK(dim >= 1, who << ": dim must be >= 1, got " << dim);
    WGF_CHECK(std::isfinite(beta) && beta > 0, who << ": beta must be finite and > 0, got " << beta);
    const std::size_t K = weights.size(), D = static_cast<std::size_t>(dim);
    WGF_CHECK(K >= 1, who << ": no components (weights is empty)");
    double wsum = 0;
    for (std::size_t k = 0; k < K; ++k) {
        WGF_CHECK(std::isfinite(weights[k]) && weights[k] > 0,
                  who << ": weight " << k << " must be finite and > 0, got " << weights[k]);
        wsum += weights[k];
    }
    WGF_CHECK(m_means.size() == K * D, who << ": means has " << m_means.size() << " entries, expected K*D = " << K
                                           << "*" << D << " = " << K * D);
    WGF_CHECK(covariances.size() == K * D * D, who << ": covariances has " << covariances.size()
                                                   << " entries, expected K*D*D = " << K << "*" << D << "*" << D
                                                   << " = " << K * D * D);
    for (std::size_t i = 0; i < m_means.size(); ++i)
        WGF_CHECK(std::isfinite(m_means[i]),
                  who << ": mean of component " << i / D << " has a non-finite entry " << i % D << " (" << m_means[i]
                      << ")");
    m_logw.resize(K);
    m_precision.resize(K * D * D);
    for (std::size_t k = 0; k < K; ++k) {
        std::vector<double> cov(covariances.begin() + static_cast<std::ptrdiff_t>(k * D * D),
                                covariances.begin() + static_cast<std::ptrdiff_t>((k + 1) * D * D));
        const std::string what = "covariance " + std::to_string(k);
        const std::vector<double> L = detail::spd_cholesky(who, what.c_str(), cov, dim);
        double logdet = 0;
        for (std::size_t i = 0; i < D; ++i) logdet += 2.0 * std::log(L[i * D + i]);
        // log w_k − ½ log det(2π Σ_k), with the weights normalised.
        m_logw[k] = std::log(weights[k] / wsum) - 0.5 * (double(D) * kLog2Pi + logdet);
        const std::vector<double> P = detail::spd_inverse_from_cholesky(L, dim);
        std::copy(P.begin(), P.end(), m_precision.begin() + static_cast<std::ptrdiff_t>(k * D * D));
    }
    m_device = std::make_shared<detail::PotentialDeviceCache>();
}

template <typename T>
std::string GaussianMixturePotential<T>::describe() const {
    std::ostringstream os;
    os << "gaussian mixture D=" << m_dim << " K=" << m_logw.size() << " beta=" << m_beta;
    return os.str();
}

template <typename T>
std::string GaussianMixturePotential<T>::fingerprint() const {
    const std::vector<double> beta{m_beta};
    return with_digest(describe(), {&m_logw, &m_means, &m_precision, &beta});
}

template <typename T>
void GaussianMixturePotential<T>::eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, true);
}

template <typename T>
void GaussianMixturePotential<T>::eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, false);
}

template <typename T>
void GaussianMixturePotential<T>::evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad,
                                           bool scan_y) const {
#ifdef WGF_WITH_CUDA
    if (ctx.backend() == Backend::Cuda && m_dim <= detail::kMixtureMaxDim) {  // larger D: host staging below
        check_device_eval(ctx, "GaussianMixturePotential", m_dim, y, n, value, grad, scan_y);
        const auto dev = detail::device_arrays(ctx, *m_device, {&m_logw, &m_means, &m_precision});
        detail::mixture_eval_cuda(*detail::cuda_state(ctx), m_dim, components(), m_beta, dev[0], dev[1], dev[2], y, n, value,
                                  grad);
        return;
    }
#else
    (void)scan_y;
#endif
    const int threads = ctx.host_threads();  // the host (and host staging) always scans y
    eval_via_host(ctx, "GaussianMixturePotential", m_dim, y, n, value, grad,
                  [&](const T* hy, std::int64_t hn, T* hv, T* hg) {
                      detail::mixture_eval_host(threads, m_dim, components(), m_beta, m_logw.data(), m_means.data(),
                                                m_precision.data(), hy, hn, hv, hg);
                  });
}

// ---- FunctionPotential -----------------------------------------------------------------------------

template <typename T>
FunctionPotential<T>::FunctionPotential(int dim, Fn host_fn, Fn device_fn, std::string name)
    : m_dim(dim), m_host(std::move(host_fn)), m_device(std::move(device_fn)), m_name(std::move(name)) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "T must be float or double");
    WGF_CHECK(dim >= 1, "FunctionPotential '" << m_name << "': dim must be >= 1, got " << dim);
    WGF_CHECK(static_cast<bool>(m_host), "FunctionPotential '" << m_name << "': host_fn is required (it is empty)");
}

template <typename T>
void FunctionPotential<T>::eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    if (ctx.backend() == Backend::Cuda && m_device) {
        check_eval_args("FunctionPotential", y, n, value, grad);
        const std::int64_t bad = detail::count_nonfinite(ctx, y, n * m_dim);
        WGF_CHECK(bad == 0, "FunctionPotential::eval: y contains " << bad << " NaN/Inf entries (y is [" << n << "]["
                                                                   << m_dim << "])");
        ctx.synchronize();  // y complete, whatever stream device_fn uses
        detail::ContextDeviceScope scope(ctx);
        m_device(y, n, value, grad);
        return;
    }
    eval_via_host(ctx, "FunctionPotential", m_dim, y, n, value, grad,
                  [&](const T* hy, std::int64_t hn, T* hv, T* hg) { m_host(hy, hn, hv, hg); });
}

// ---- FilteringReferencePotential -------------------------------------------------------------------

template <typename T>
void FilteringReferencePotential<T>::eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    eval_via_host(ctx, "FilteringReferencePotential", 1, y, n, value, grad,
                  [](const T* hy, std::int64_t hn, T* hv, T* hg) {
                      for (std::int64_t i = 0; i < hn; ++i) {
                          if (hv) hv[i] = detail::filtering_potential_value(hy[i]);
                          if (hg) hg[i] = detail::filtering_potential_gradient(hy[i]);
                      }
                  });
}

template class QuadraticPotential<float>;
template class QuadraticPotential<double>;
template class GaussianMixturePotential<float>;
template class GaussianMixturePotential<double>;
template class FilteringReferencePotential<float>;
template class FilteringReferencePotential<double>;
template class FunctionPotential<float>;
template class FunctionPotential<double>;

}  // namespace wgf

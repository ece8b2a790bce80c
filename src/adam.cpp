// adam.cpp — Adam: option validation, state ownership and the backend switch. The update rule is
// wgf/detail/adam_update.h, run by src/host/adam_host.cpp and src/cuda/adam_cuda.cu. On a Cuda
// context the moments m, v live in one device allocation of 2·size elements (m_device).
#include "wgf/adam.h"
#include "context_access.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "host/adam_host.h"
#include "count_nonfinite.h"
#include "host/icnn_host.h"
#include "device_memory.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"

#ifdef WGF_WITH_CUDA
#include "cuda/icnn_cuda.h"
#include "cuda/train_cuda.h"
#endif

namespace wgf {

void AdamOptions::validate() const {
    // The ranges PyTorch's Adam accepts (0 ≤ lr, 0 ≤ eps, 0 ≤ β < 1, 0 ≤ weight_decay), all finite.
    WGF_CHECK(std::isfinite(lr) && lr >= 0, "AdamOptions: lr must be finite and >= 0, got " << lr);
    WGF_CHECK(std::isfinite(beta1) && beta1 >= 0 && beta1 < 1, "AdamOptions: beta1 must be in [0, 1), got " << beta1);
    WGF_CHECK(std::isfinite(beta2) && beta2 >= 0 && beta2 < 1, "AdamOptions: beta2 must be in [0, 1), got " << beta2);
    WGF_CHECK(std::isfinite(eps) && eps >= 0, "AdamOptions: eps must be finite and >= 0, got " << eps);
    WGF_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
              "AdamOptions: weight_decay must be finite and >= 0, got " << weight_decay);
}

template <typename T>
Adam<T>::Adam(Context& ctx, std::size_t size, AdamOptions options) : m_ctx(&ctx), m_size(size), m_opt(options) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "T must be float or double");
    m_opt.validate();
    WGF_CHECK(size > 0, "Adam: the parameter buffer is empty (size = 0)");
    if (ctx.backend() == Backend::Host) {
        m_m_host.assign(size, T(0));
        m_v_host.assign(size, T(0));
    } else {
        detail::ContextDeviceScope scope(ctx);
        m_device = detail::device_malloc(2 * size * sizeof(T));
        reset();
    }
}

template <typename T>
Adam<T>::~Adam() {
    if (m_device == nullptr) return;
    try {
        detail::ContextDeviceScope scope(*m_ctx);
        detail::device_free(m_device);  // never throws
    } catch (...) {
        detail::device_free(m_device);
    }
}

template <typename T>
Adam<T>::Adam(Adam&& o) noexcept
    : m_ctx(o.m_ctx),
      m_size(o.m_size),
      m_opt(o.m_opt),
      m_t(o.m_t),
      m_m_host(std::move(o.m_m_host)),
      m_v_host(std::move(o.m_v_host)),
      m_device(std::exchange(o.m_device, nullptr)) {}

template <typename T>
Adam<T>& Adam<T>::operator=(Adam&& o) noexcept {
    if (this != &o) {
        detail::device_free(m_device);
        m_ctx = o.m_ctx;
        m_size = o.m_size;
        m_opt = o.m_opt;
        m_t = o.m_t;
        m_m_host = std::move(o.m_m_host);
        m_v_host = std::move(o.m_v_host);
        m_device = std::exchange(o.m_device, nullptr);
    }
    return *this;
}

template <typename T>
void Adam<T>::step(T* params, const T* grad) {
    WGF_CHECK(params != nullptr, "Adam::step: params is null");
    WGF_CHECK(grad != nullptr, "Adam::step: grad is null");
    const bool cuda = m_ctx->backend() == Backend::Cuda;
    WGF_CHECK(cuda ? m_device != nullptr : m_m_host.size() == m_size,
              "Adam::step: optimiser state is missing (moved-from Adam?)");
    const std::int64_t bad = detail::count_nonfinite(*m_ctx, grad, static_cast<std::int64_t>(m_size));
    WGF_CHECK(bad == 0, "Adam::step: gradient contains " << bad << " NaN/Inf entries (of " << m_size
                                                         << "); parameters left unchanged");
    ++m_t;
    if (!cuda) {
        detail::adam_step_host(m_ctx->host_threads(), m_size, m_opt, m_t, params, grad, m_m_host.data(),
                               m_v_host.data());
        return;
    }
#ifdef WGF_WITH_CUDA
    T* m = static_cast<T*>(m_device);
    detail::adam_step_cuda(*detail::cuda_state(*m_ctx), m_size, m_opt, m_t, params, grad, m, m + m_size);
#endif
}

template <typename T>
void Adam<T>::reset() {
    m_t = 0;
    std::fill(m_m_host.begin(), m_m_host.end(), T(0));
    std::fill(m_v_host.begin(), m_v_host.end(), T(0));
    if (m_device != nullptr) {
        m_ctx->synchronize();  // no step still queued on the stream may use the old moments
        detail::ContextDeviceScope scope(*m_ctx);
        detail::device_memset_zero(m_device, 2 * m_size * sizeof(T));
    }
}

template <typename T>
void Adam<T>::set_lr(double lr) {
    AdamOptions o = m_opt;
    o.lr = lr;
    o.validate();
    m_opt = o;
}

template class Adam<float>;
template class Adam<double>;

}  // namespace wgf

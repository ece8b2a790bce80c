// adam_host.cpp — host reference of one Adam step (PyTorch torch.optim.Adam, foreach=False,
// amsgrad=False, maximize=False; weight decay as an L2 term added to the gradient, not AdamW):
//   g ← g + λ θ
//   m ← β₁ m + (1−β₁) g
//   v ← β₂ v + (1−β₂) g²
//   θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
// which is the header's θ − lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), arranged as
// PyTorch does (step_size and √bias_correction2 are scalars). The scalar factors are computed in
// double, the elementwise update in T, as the later CUDA kernel will do. Elements are independent.
#include "adam_host.h"

#include <algorithm>
#include <cmath>

namespace wgf {
namespace detail {

template <typename T>
void adam_step_host(int threads, std::size_t size, const AdamOptions& opt, std::int64_t t, T* params, const T* grad,
                    T* m, T* v) {
    const double bc1 = 1.0 - std::pow(opt.beta1, double(t));
    const double bc2 = 1.0 - std::pow(opt.beta2, double(t));
    const T step_size = static_cast<T>(opt.lr / bc1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    const T b1 = static_cast<T>(opt.beta1), b2 = static_cast<T>(opt.beta2);
    const T one_b1 = static_cast<T>(1.0 - opt.beta1), one_b2 = static_cast<T>(1.0 - opt.beta2);
    const T eps = static_cast<T>(opt.eps), wd = static_cast<T>(opt.weight_decay);
    const std::int64_t n = static_cast<std::int64_t>(size);
    // About 15 flops per element: threads only pay off for large buffers.
    const int nt = n < (std::int64_t(1) << 16) ? 1 : std::max(1, threads);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
        const T g = grad[i] + wd * params[i];
        const T mi = b1 * m[i] + one_b1 * g;
        const T vi = b2 * v[i] + one_b2 * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] -= step_size * (mi / (std::sqrt(vi) / bc2_sqrt + eps));
    }
}

template void adam_step_host<float>(int, std::size_t, const AdamOptions&, std::int64_t, float*, const float*, float*,
                                    float*);
template void adam_step_host<double>(int, std::size_t, const AdamOptions&, std::int64_t, double*, const double*,
                                     double*, double*);

}  // namespace detail
}  // namespace wgf

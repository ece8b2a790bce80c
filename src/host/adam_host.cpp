// adam_host.cpp — host reference of one Adam step (PyTorch torch.optim.Adam, foreach=False,
// amsgrad=False, maximize=False; weight decay as an L2 term added to the gradient, not AdamW):
//   g ← g + λ θ
//   m ← β₁ m + (1−β₁) g
//   v ← β₂ v + (1−β₂) g²
//   θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
// which is the header's θ − lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), arranged as
// PyTorch does (step_size and √bias_correction2 are scalars). The scalar factors are computed in
// double, the elementwise update in T (wgf/detail/adam_update.h, shared with the CUDA kernel).
// Elements are independent.
#include "adam_host.h"

#include "wgf/detail/adam_update.h"

#include <algorithm>
#include <cmath>

namespace wgf {
namespace detail {

template <typename T>
void adam_step_host(int threads, std::size_t size, const AdamOptions& opt, std::int64_t t, T* params, const T* grad,
                    T* m, T* v) {
    const AdamScalars<T> k = adam_scalars<T>(opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay, t);
    const std::int64_t n = static_cast<std::int64_t>(size);
    // About 15 flops per element: threads only pay off for large buffers.
    const int nt = n < (std::int64_t(1) << 16) ? 1 : std::max(1, threads);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) adam_update(k, params[i], grad[i], m[i], v[i]);
}

template void adam_step_host<float>(int, std::size_t, const AdamOptions&, std::int64_t, float*, const float*, float*,
                                    float*);
template void adam_step_host<double>(int, std::size_t, const AdamOptions&, std::int64_t, double*, const double*,
                                     double*, double*);

}  // namespace detail
}  // namespace wgf

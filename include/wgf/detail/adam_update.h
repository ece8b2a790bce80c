// wgf/detail/adam_update.h — one element of an Adam step (PyTorch torch.optim.Adam semantics, weight
// decay as an L2 term), shared by the host backend (src/host/adam_host.cpp, where the formula is
// written out) and the CUDA kernel (src/cuda/adam_cuda.cu). The per-step scalars are computed once
// in double by adam_scalars() and used in T.
#pragma once

#include <cmath>
#include <cstdint>

#include "wgf/config.h"

namespace wgf {
namespace detail {

template <typename T>
struct AdamScalars {
    T step_size;  ///< lr / (1 − β₁ᵗ)
    T bc2_sqrt;   ///< √(1 − β₂ᵗ)
    T b1, b2, one_b1, one_b2, eps, wd;
};

template <typename T>
AdamScalars<T> adam_scalars(double lr, double beta1, double beta2, double eps, double weight_decay, std::int64_t t) {
    const double bc1 = 1.0 - std::pow(beta1, double(t));
    const double bc2 = 1.0 - std::pow(beta2, double(t));
    return {static_cast<T>(lr / bc1),           static_cast<T>(std::sqrt(bc2)), static_cast<T>(beta1),
            static_cast<T>(beta2),              static_cast<T>(1.0 - beta1),    static_cast<T>(1.0 - beta2),
            static_cast<T>(eps),                static_cast<T>(weight_decay)};
}

/// g ← g + λθ; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − step_size · m / (√v / √(1−β₂ᵗ) + ε).
template <typename T>
WGF_HOST_DEVICE void adam_update(const AdamScalars<T>& k, T& param, T grad, T& m, T& v) {
    using std::sqrt;
    const T g = grad + k.wd * param;
    const T mi = k.b1 * m + k.one_b1 * g;
    const T vi = k.b2 * v + k.one_b2 * g * g;
    m = mi;
    v = vi;
    param -= k.step_size * (mi / (sqrt(vi) / k.bc2_sqrt + k.eps));
}

}  // namespace detail
}  // namespace wgf

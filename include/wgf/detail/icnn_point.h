// wgf/detail/icnn_point.h — per-unit, per-point steps of the ICNN (DESIGN.md §2), shared by the host
// backend (src/host/icnn_host.cpp, where the math is written out in full) and the CUDA kernels.
// Indices: j = unit of layer l (width W), t = rank index (r), d = input coordinate (D).
// s_t = a_{l,t,j}·x are precomputed projections; a_l is the [D][r][W] block of the parameters.
#pragma once

#include "wgf/config.h"
#include "wgf/detail/softplus.h"

namespace wgf {
namespace detail {

/// q_{l,j}(x) = Σ_t s_t² + (B_l x)_j + b_j, given s_t = a_{l,t,j}·x (stride s_stride between t).
template <typename T>
WGF_HOST_DEVICE T quad_value(const T* s, int s_stride, int rank, T bx_j, T b_j) {
    T q = bx_j + b_j;
    for (int t = 0; t < rank; ++t) q += s[t * s_stride] * s[t * s_stride];
    return q;
}

/// Entry (j, d) of ∇q_l(x): B_{j,d} + 2 Σ_t s_t a_{l,t,j,d}; a_jd points at A_l[d][0][j] (stride W
/// between t), s at s_0 (stride s_stride between t).
template <typename T>
WGF_HOST_DEVICE T quad_jacobian(const T* s, int s_stride, const T* a_jd, int width, int rank, T b_jd) {
    T k = T(0);
    for (int t = 0; t < rank; ++t) k += s[t * s_stride] * a_jd[t * width];
    return b_jd + T(2) * k;
}

/// Entry (a, b) of P_{l,j} = 2 Σ_t a_{l,t,j} a_{l,t,j}ᵀ, the constant Hessian of q_{l,j}.
/// A is the [D][r][W] block of layer l.
template <typename T>
WGF_HOST_DEVICE T quad_hessian(const T* A, int rank, int width, int j, int a, int b) {
    T h = T(0);
    for (int t = 0; t < rank; ++t) h += A[(a * rank + t) * width + j] * A[(b * rank + t) * width + j];
    return T(2) * h;
}

/// The activation of layer l (0-based): layer 0 is linear (z = u, σ' = 1, σ'' = 0), deeper layers
/// use softplus. Writes z, σ'(u), σ''(u).
template <typename T>
WGF_HOST_DEVICE void layer_activation(int layer, T u, T& z, T& s1, T& s2) {
    if (layer == 0) {
        z = u;
        s1 = T(1);
        s2 = T(0);
    } else {
        const SoftplusDerivs<T> sp = softplus_derivs(u);
        z = sp.s0;
        s1 = sp.s1;
        s2 = sp.s2;
    }
}

/// σ'(u) and σ''(u) of layer l without σ(u) itself (one exp, no log1p): for the last layer when ψ's
/// value is not needed (gradients, Hessians, the training losses).
template <typename T>
WGF_HOST_DEVICE void layer_activation_derivs(int layer, T u, T& s1, T& s2) {
    if (layer == 0) {
        s1 = T(1);
        s2 = T(0);
    } else {
        using std::exp;
        const T e = exp(-(u > T(0) ? u : -u));
        const T p = u >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
        const T q = u >= T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);
        s1 = p;
        s2 = p * q;
    }
}

}  // namespace detail
}  // namespace wgf

// wgf/detail/cholesky.h — in-place Cholesky of one small SPD matrix and its log-determinant,
// shared by the host backend and the CUDA per-point kernels.
// a: [d][d] row-major; on success its lower triangle holds L with A = L Lᵀ (the strict upper
// triangle is left as it was). Returns 0, or the 1-based row k at which the pivot was not
// positive and finite (A is not numerically SPD). log det A = 2 Σ log L_ii.
#pragma once

#include <cmath>

#include "wgf/config.h"

namespace wgf {
namespace detail {

template <typename T>
WGF_HOST_DEVICE int cholesky_lower_inplace(T* a, int d) {
    for (int k = 0; k < d; ++k) {
        T diag = a[k * d + k];
        for (int m = 0; m < k; ++m) diag -= a[k * d + m] * a[k * d + m];
        // The negated test also catches NaN.
        if (!(diag > T(0)) || !(diag < T(INFINITY))) return k + 1;
        const T lkk = std::sqrt(diag);
        a[k * d + k] = lkk;
        const T inv = T(1) / lkk;
        for (int i = k + 1; i < d; ++i) {
            T v = a[i * d + k];
            for (int m = 0; m < k; ++m) v -= a[i * d + m] * a[k * d + m];
            a[i * d + k] = v * inv;
        }
    }
    return 0;
}

/// 2 Σ log L_ii of a factor produced by cholesky_lower_inplace.
template <typename T>
WGF_HOST_DEVICE T cholesky_logdet(const T* l, int d) {
    T sum = T(0);
    for (int k = 0; k < d; ++k) sum += std::log(l[k * d + k]);
    return T(2) * sum;
}

}  // namespace detail
}  // namespace wgf

// wgf/detail/cholesky.h — in-place Cholesky of one small SPD matrix and its log-determinant,
// shared by the host backend and the CUDA per-point kernels: the one place where a Hessian is
// judged factorisable (wgf/icnn_status.h).
// a: [d][d] row-major; on success its lower triangle holds L with A = L Lᵀ (the strict upper
// triangle is left as it was). Returns kIcnnOk, or why not: kIcnnNonFinite (a NaN/Inf pivot),
// kIcnnIndefinite (a pivot below −floor), kIcnnSingular (a pivot within ±floor), with
// floor = cholesky_pivot_floor(max_i |A_ii|, d). log det A = 2 Σ log L_ii.
#pragma once

#include <cfloat>
#include <cmath>

#include "wgf/config.h"
#include "wgf/icnn_status.h"

namespace wgf {
namespace detail {

/// The pivot floor of wgf/icnn_status.h: (d + 1)·u·max_diag, u = ε/2 of T.
template <typename T>
WGF_HOST_DEVICE T cholesky_pivot_floor(T max_diag, int d) {
    const T unit_roundoff = sizeof(T) == 4 ? T(FLT_EPSILON / 2) : T(DBL_EPSILON / 2);
    return T(d + 1) * unit_roundoff * max_diag;
}

/// The floor for matrix a ([d][d] row-major); NaN when a diagonal entry is not finite.
template <typename T>
WGF_HOST_DEVICE T cholesky_pivot_floor_of(const T* a, int d) {
    T max_diag = T(0);
    for (int k = 0; k < d; ++k) {
        const T v = std::fabs(a[k * d + k]);
        if (!(v < T(INFINITY))) return T(NAN);  // Inf or NaN
        max_diag = v > max_diag ? v : max_diag;
    }
    return cholesky_pivot_floor(max_diag, d);
}

template <typename T>
WGF_HOST_DEVICE int cholesky_lower_inplace(T* a, int d) {
    const T pivot_floor = cholesky_pivot_floor_of(a, d);
    if (!(pivot_floor == pivot_floor)) return kIcnnNonFinite;
    for (int k = 0; k < d; ++k) {
        T diag = a[k * d + k];
        for (int m = 0; m < k; ++m) diag -= a[k * d + m] * a[k * d + m];
        if (!(std::fabs(diag) < T(INFINITY))) return kIcnnNonFinite;  // also NaN (from an Inf off the diagonal)
        if (diag < -pivot_floor) return kIcnnIndefinite;
        if (!(diag > pivot_floor)) return kIcnnSingular;
        const T lkk = std::sqrt(diag);
        a[k * d + k] = lkk;
        const T inv = T(1) / lkk;
        for (int i = k + 1; i < d; ++i) {
            T v = a[i * d + k];
            for (int m = 0; m < k; ++m) v -= a[i * d + m] * a[k * d + m];
            a[i * d + k] = v * inv;
        }
    }
    return kIcnnOk;
}

/// 2 Σ log L_ii of a factor produced by cholesky_lower_inplace.
template <typename T>
WGF_HOST_DEVICE T cholesky_logdet(const T* l, int d) {
    T sum = T(0);
    for (int k = 0; k < d; ++k) sum += std::log(l[k * d + k]);
    return T(2) * sum;
}

/// A⁻¹ = L⁻ᵀ L⁻¹ from a factor produced by cholesky_lower_inplace (lower triangle of l used).
/// inv: [d][d] row-major, full symmetric result; work: d·d scratch (receives L⁻¹, lower).
/// d(log det A)/dA = A⁻¹ — the backward rule of the log-det.
template <typename T>
WGF_HOST_DEVICE void cholesky_inverse(const T* l, int d, T* inv, T* work) {
    // work = L⁻¹ by forward substitution, column by column.
    for (int c = 0; c < d; ++c) {
        for (int i = 0; i < c; ++i) work[i * d + c] = T(0);
        work[c * d + c] = T(1) / l[c * d + c];
        for (int i = c + 1; i < d; ++i) {
            T v = T(0);
            for (int k = c; k < i; ++k) v -= l[i * d + k] * work[k * d + c];
            work[i * d + c] = v / l[i * d + i];
        }
    }
    // inv = (L⁻¹)ᵀ L⁻¹: inv(a, b) = Σ_{k ≥ max(a,b)} L⁻¹(k, a) L⁻¹(k, b).
    for (int a = 0; a < d; ++a)
        for (int b = 0; b <= a; ++b) {
            T v = T(0);
            for (int k = a; k < d; ++k) v += work[k * d + a] * work[k * d + b];
            inv[a * d + b] = v;
            inv[b * d + a] = v;
        }
}

}  // namespace detail
}  // namespace wgf

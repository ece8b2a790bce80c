// wgf/detail/builtin_potentials.h — the built-in potentials at one point, written once and called by
// the host loops (src/host/potential_host.cpp) and the CUDA kernels (src/cuda/potential_cuda.cu), in
// double whatever T is (the formulas and their documentation: src/host/potential_host.h):
//   quadratic  Φ = ½ dᵀ A d, ∇Φ = A d, d = y − m
//   mixture    Φ = −β⁻¹ log Σ_k exp ℓ_k,  ℓ_k = logw_k − ½ d_kᵀ P_k d_k,  ∇Φ = β⁻¹ Σ_k r_k P_k d_k
// The mixture's log-sum-exp runs online over k (running maximum and rescaled sum: no per-component
// storage, so a GPU thread needs only D-sized scratch); the gradient pass recomputes P_k d_k.
#pragma once

#include <cmath>
#include <cstdint>

#include "wgf/config.h"

namespace wgf {
namespace detail {

/// value (not null) = Φ(y), grad (not null) = ∇Φ(y) [D]. No scratch: any D, on a GPU thread too.
template <typename T>
WGF_HOST_DEVICE void quadratic_point(int D, const double* A, const double* m, const T* y, T* value, T* grad) {
    double phi = 0;
    for (int i = 0; i < D; ++i) {
        const double* Ai = A + std::int64_t(i) * D;
        double Ad = 0;
        for (int j = 0; j < D; ++j) Ad += Ai[j] * (static_cast<double>(y[j]) - m[j]);
        phi += (static_cast<double>(y[i]) - m[i]) * Ad;
        if (grad != nullptr) grad[i] = static_cast<T>(Ad);
    }
    if (value != nullptr) *value = static_cast<T>(0.5 * phi);
}

/// pd = P (y − μ) and returns (y − μ)ᵀ P (y − μ); P [D][D].
WGF_HOST_DEVICE double mixture_component(int D, const double* P, const double* yd, const double* mu, double* d,
                                                double* pd) {
    for (int i = 0; i < D; ++i) d[i] = yd[i] - mu[i];
    double q = 0;
    for (int i = 0; i < D; ++i) {
        const double* Pi = P + std::int64_t(i) * D;
        double s = 0;
        for (int j = 0; j < D; ++j) s += Pi[j] * d[j];
        pd[i] = s;
        q += d[i] * s;
    }
    return q;
}

/// value (not null) = Φ(y), grad (not null) = ∇Φ(y) [D]. scratch: [4 D] doubles.
template <typename T>
WGF_HOST_DEVICE void mixture_point(int D, int K, double beta, const double* logw, const double* means,
                                   const double* precision, const T* y, double* scratch, T* value, T* grad) {
    using std::exp;
    using std::log;
    double* yd = scratch;
    double* d = scratch + D;
    double* pd = scratch + 2 * D;
    double* g = scratch + 3 * D;
    const std::int64_t dd = std::int64_t(D) * D;
    for (int i = 0; i < D; ++i) yd[i] = static_cast<double>(y[i]);
    double M = -INFINITY, sum = 0;  // online log-sum-exp of ℓ_k: Σ_k exp(ℓ_k − M) with M the running maximum
    for (int k = 0; k < K; ++k) {
        const double ell = logw[k] - 0.5 * mixture_component(D, precision + k * dd, yd, means + std::int64_t(k) * D, d, pd);
        if (ell > M) {
            sum = sum * exp(M - ell) + 1.0;
            M = ell;
        } else {
            sum += exp(ell - M);
        }
    }
    const double S = M + log(sum);  // sum ∈ [1, K]
    if (value != nullptr) *value = static_cast<T>(-S / beta);
    if (grad == nullptr) return;
    for (int i = 0; i < D; ++i) g[i] = 0;
    for (int k = 0; k < K; ++k) {
        const double q = mixture_component(D, precision + k * dd, yd, means + std::int64_t(k) * D, d, pd);
        const double r = exp(logw[k] - 0.5 * q - S);
        for (int i = 0; i < D; ++i) g[i] += r * pd[i];
    }
    for (int i = 0; i < D; ++i) grad[i] = static_cast<T>(g[i] / beta);
}

}  // namespace detail
}  // namespace wgf

// softplus_vec_host.h (private) — softplus and its derivatives over arrays, for the host backend's
// activation loops. The double path is the scalar reference (wgf/detail/softplus.h: std::exp,
// std::log1p). The float path uses branch-free e^x and log1p written so that the compiler
// vectorises the array loops (no -ffast-math; only +, −, ×, ÷, comparisons and bit casts):
//
//   e^x, x ≤ 0:  x = n ln2 + ρ, n = round(x / ln2), |ρ| ≤ ln2/2 (Cody–Waite: ln2 = hi + lo with hi
//                exact to 15 bits, so n·hi and x − n·hi are exact for |n| ≤ 173); e^ρ by its Taylor
//                polynomial of degree 7 (remainder ≤ (ln2/2)⁸/8! < 1.4e-9); 2ⁿ applied as
//                two normal factors so that results down to the subnormal range are right;
//                x < −104 gives 0 (e^x < 2^{−150} rounds to 0).
//   log1p(e), 0 ≤ e ≤ 1:  log(1 + e) = 2 artanh(z) = 2 Σ_k z^{2k+1}/(2k+1), z = e/(2 + e) ∈ [0, 1/3];
//                terms up to z¹⁵ (remainder < z¹⁶/17 ≤ 1.4e-9 relatively). All terms are positive:
//                no cancellation, small e keeps full relative accuracy (log1p(e) ≈ e).
// Measured against double-precision std::exp / std::log1p (tests/host/test_softplus_vec.cpp):
// both within 2 ulp (rel. 2.4e-7) over their ranges; σ, σ', σ'' of softplus within 4 ulp, σ''' within
// 4 ulp of σ''·(1 + |1 − 2σ'|) (its factor 1 − 2σ' cancels near u = 0, as in the scalar formula).
// Large |u| is safe: e^{−|u|} only underflows; σ(u) = u + log1p(e^{−u}) = u for large u > 0.
#pragma once

#include <cstdint>
#include <cstring>

#include "wgf/detail/softplus.h"

namespace wgf {
namespace detail {

/// c ? a : b on the bits, so that the compiler if-converts it: a `?:` whose operand is computed only
/// for it is sunk into a branch, and floating-point operations in a branch keep a loop scalar.
inline float select_bits(bool c, float a, float b) {
    std::uint32_t ai, bi;
    std::memcpy(&ai, &a, sizeof ai);
    std::memcpy(&bi, &b, sizeof bi);
    const std::uint32_t m = 0u - static_cast<std::uint32_t>(c);
    const std::uint32_t r = (ai & m) | (bi & ~m);
    float f;
    std::memcpy(&f, &r, sizeof f);
    return f;
}

/// e^x for x ≤ 0 (float, branch-free; NaN in, NaN out). See the header comment for the method.
inline float exp_nonpositive(float x) {
    constexpr float kLog2e = 1.44269504088896341f;
    constexpr float kLn2Hi = 0.693145751953125f;                  // 22713 / 2^15: n·hi exact for |n| < 2^9
    constexpr float kLn2Lo = float(0.69314718055994531 - 0.693145751953125);
    constexpr float kRound = 12582912.0f;                         // 1.5·2^23: adding it rounds to an integer
    const float xc = select_bits(x >= -120.0f, x, -120.0f);       // also maps NaN to −120
    const float n = (xc * kLog2e + kRound) - kRound;              // round(x / ln2) ∈ [−173, 0]
    float rho = xc - n * kLn2Hi;                                  // exact (Sterbenz)
    rho = rho - n * kLn2Lo;
    // Taylor polynomial of e^ρ, Horner form (coefficients 1/k!).
    float p = 1.0f / 5040.0f;
    p = p * rho + 1.0f / 720.0f;
    p = p * rho + 1.0f / 120.0f;
    p = p * rho + 1.0f / 24.0f;
    p = p * rho + 1.0f / 6.0f;
    p = p * rho + 0.5f;
    p = p * rho + 1.0f;
    p = p * rho + 1.0f;
    // 2ⁿ = 2^{n1}·2^{n2}, n1 = trunc(n/2) and n2 = n − n1 both ≥ −87: normal floats. Below x = −104
    // the product rounds to 0 by itself (no select, which would keep the loop from vectorising).
    const std::int32_t ni = static_cast<std::int32_t>(n);
    const std::int32_t n1 = ni / 2, n2 = ni - n1;
    const std::uint32_t b1 = static_cast<std::uint32_t>(n1 + 127) << 23, b2 = static_cast<std::uint32_t>(n2 + 127) << 23;
    float s1, s2;
    std::memcpy(&s1, &b1, sizeof s1);
    std::memcpy(&s2, &b2, sizeof s2);
    const float r = (p * s1) * s2;
    return select_bits(x == x, r, x);
}

/// log(1 + e) for 0 ≤ e ≤ 1 (float, branch-free). See the header comment for the method.
inline float log1p_unit(float e) {
    const float z = e / (2.0f + e);
    const float z2 = z * z;
    float p = 1.0f / 15.0f;
    p = p * z2 + 1.0f / 13.0f;
    p = p * z2 + 1.0f / 11.0f;
    p = p * z2 + 1.0f / 9.0f;
    p = p * z2 + 1.0f / 7.0f;
    p = p * z2 + 1.0f / 5.0f;
    p = p * z2 + 1.0f / 3.0f;
    p = p * z2 + 1.0f;
    return (2.0f * z) * p;
}

/// Softplus and derivatives of n values: s0 = σ(u) (skipped when null), s1 = σ'(u), s2 = σ''(u),
/// s3 = σ'''(u) (skipped when null). The formulas of softplus_derivs (wgf/detail/softplus.h).
template <typename T>
void softplus_derivs_array(const T* u, int n, T* s0, T* s1, T* s2, T* s3) {
    for (int i = 0; i < n; ++i) {
        const SoftplusDerivs<T> d = softplus_derivs(u[i]);
        if (s0) s0[i] = d.s0;
        s1[i] = d.s1;
        s2[i] = d.s2;
        if (s3) s3[i] = d.s3;
    }
}

namespace softplus_vec {
/// One element of the float path (inlined into the vectorised loops below).
template <bool kS0, bool kS3>
inline void derivs(float u, float* s0, float* s1, float* s2, float* s3) {
    const float a = u > 0.0f ? u : -u;
    const float e = exp_nonpositive(-a);  // e^{−|u|} ∈ [0, 1]
    const float inv = 1.0f / (1.0f + e), rat = e / (1.0f + e);
    const float p = u >= 0.0f ? inv : rat;  // σ'(u)
    const float q = u >= 0.0f ? rat : inv;  // 1 − σ'(u) without cancellation
    if (kS0) *s0 = (u > 0.0f ? u : 0.0f) + log1p_unit(e);
    *s1 = p;
    *s2 = p * q;
    if (kS3) *s3 = p * q * (q - p);
}

template <bool kS0, bool kS3>
void loop(const float* __restrict u, int n, float* __restrict s0, float* __restrict s1, float* __restrict s2,
          float* __restrict s3) {
#pragma omp simd
    for (int i = 0; i < n; ++i) derivs<kS0, kS3>(u[i], kS0 ? s0 + i : nullptr, s1 + i, s2 + i, kS3 ? s3 + i : nullptr);
}
}  // namespace softplus_vec

template <>
inline void softplus_derivs_array<float>(const float* u, int n, float* s0, float* s1, float* s2, float* s3) {
    if (s0 && s3)
        softplus_vec::loop<true, true>(u, n, s0, s1, s2, s3);
    else if (s0)
        softplus_vec::loop<true, false>(u, n, s0, s1, s2, nullptr);
    else if (s3)
        softplus_vec::loop<false, true>(u, n, nullptr, s1, s2, s3);
    else
        softplus_vec::loop<false, false>(u, n, nullptr, s1, s2, nullptr);
}

}  // namespace detail
}  // namespace wgf

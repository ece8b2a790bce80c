// wgf/detail/softplus.h — σ = softplus and its first three derivatives, shared by host and CUDA.
//   σ(u)   = log(1 + e^u) = max(u, 0) + log1p(e^{−|u|})      (stable for any u)
//   σ'(u)  = sigmoid(u) = 1 / (1 + e^{−u})
//   σ''(u) = p (1 − p),            p = sigmoid(u)
//   σ'''(u)= p (1 − p)(1 − 2p)
// sigmoid is evaluated from e^{−|u|} so that no exp overflows.
#pragma once

#include <cmath>

#include "wgf/config.h"

namespace wgf {
namespace detail {

template <typename T>
WGF_HOST_DEVICE T softplus(T u) {
    using std::exp;
    using std::log1p;
    return (u > T(0) ? u : T(0)) + log1p(exp(-(u > T(0) ? u : -u)));
}

template <typename T>
WGF_HOST_DEVICE T sigmoid(T u) {
    using std::exp;
    const T e = exp(-(u > T(0) ? u : -u));  // e^{−|u|} ∈ (0, 1]
    return u >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

/// σ(u), σ'(u), σ''(u), σ'''(u) in one call (one exp, one log1p).
template <typename T>
struct SoftplusDerivs {
    T s0, s1, s2, s3;
};

template <typename T>
WGF_HOST_DEVICE SoftplusDerivs<T> softplus_derivs(T u) {
    using std::exp;
    using std::log1p;
    const T a = u > T(0) ? u : -u;
    const T e = exp(-a);
    const T p = u >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    const T q = u >= T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);  // 1 − p without cancellation
    SoftplusDerivs<T> d;
    d.s0 = (u > T(0) ? u : T(0)) + log1p(e);
    d.s1 = p;
    d.s2 = p * q;
    d.s3 = p * q * (q - p);
    return d;
}

}  // namespace detail
}  // namespace wgf

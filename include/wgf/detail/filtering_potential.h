// wgf/detail/filtering_potential.h — the latent potential of the filtering study (PAPER-SPEC §7.5),
// shared by the host and CUDA code: Φ(x) = sin(2πx)/π + x²/4, Φ'(x) = 2 cos(2πx) + x/2 (D = 1).
#pragma once

#include <cmath>

#include "wgf/config.h"

namespace wgf {
namespace detail {

template <typename T>
WGF_HOST_DEVICE T filtering_potential_value(T x) {
    using std::sin;
    const T pi = T(3.14159265358979323846264338327950288);
    return sin(T(2) * pi * x) / pi + T(0.25) * x * x;
}

template <typename T>
WGF_HOST_DEVICE T filtering_potential_gradient(T x) {
    using std::cos;
    const T pi = T(3.14159265358979323846264338327950288);
    return T(2) * cos(T(2) * pi * x) + T(0.5) * x;
}

}  // namespace detail
}  // namespace wgf

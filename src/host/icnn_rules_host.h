// icnn_rules_host.h (private) — the per-entry rules of wgf/detail/icnn_rules.h applied over n entries
// of the host ops' column-major blocks. Restrict pointers, so that the loops vectorise as the Eigen
// array expressions they replaced (measured: docs/PERFORMANCE.md, "Host A/B for issue 11").
#pragma once

#include <cstddef>

#include "wgf/detail/icnn_rules.h"

namespace wgf {
namespace detail {

template <typename T>
void gradient_entries(std::ptrdiff_t n, const T* __restrict s1, const T* __restrict delta, T* __restrict g) {
    for (std::ptrdiff_t i = 0; i < n; ++i) g[i] = gradient_entry(s1[i], delta[i]);
}
template <typename T>
void curvature_entries(std::ptrdiff_t n, const T* __restrict s2, const T* __restrict delta, T* __restrict e) {
    for (std::ptrdiff_t i = 0; i < n; ++i) e[i] = curvature_entry(s2[i], delta[i]);
}
template <typename T>
void grad_recursion_backward_entries(std::ptrdiff_t n, const T* __restrict s1, const T* __restrict s2,
                                     const T* __restrict delta, const T* __restrict g_bar, T* __restrict delta_bar,
                                     T* __restrict u_bar) {
    for (std::ptrdiff_t i = 0; i < n; ++i)
        grad_recursion_backward_entry(s1[i], s2[i], delta[i], g_bar[i], delta_bar[i], u_bar[i]);
}
template <typename T>
void activation_backward_entries(std::ptrdiff_t n, const T* __restrict s1, const T* __restrict z_bar,
                                 T* __restrict u_bar) {
    for (std::ptrdiff_t i = 0; i < n; ++i) activation_backward_entry(s1[i], z_bar[i], u_bar[i]);
}
template <typename T>
void curvature_backward_entries(std::ptrdiff_t n, const T* __restrict e_bar, const T* __restrict s2,
                                const T* __restrict s3, const T* __restrict delta, T* __restrict delta_bar,
                                T* __restrict u_bar) {
    for (std::ptrdiff_t i = 0; i < n; ++i) curvature_backward_entry(e_bar[i], s2[i], s3[i], delta[i], delta_bar[i], u_bar[i]);
}
template <typename T>
void jacobian_backward_entries(std::ptrdiff_t n, const T* __restrict s2, const T* __restrict jk, T* __restrict u_bar) {
    for (std::ptrdiff_t i = 0; i < n; ++i) jacobian_backward_entry(s2[i], jk[i], u_bar[i]);
}

}  // namespace detail
}  // namespace wgf

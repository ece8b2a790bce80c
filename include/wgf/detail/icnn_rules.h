// wgf/detail/icnn_rules.h — the per-entry rules of the ICNN ops and of their backward rules, written
// once and called by the host ops (src/host/icnn_ops_host.cpp, icnn_hessian_ops_host.cpp) and by the
// CUDA kernels (src/cuda/icnn_kernels.cuh, train_kernels.cuh), as wgf/detail/adam_update.h is for
// Adam and wgf/detail/icnn_point.h for q_l and its derivatives. The math of each op is in the host
// file's comments and DESIGN.md §2; a rule is what one (unit j, point p) does. Each rule adds its
// terms in a fixed order, so both backends compute the same expression per entry (their sums over
// points and their GEMMs still differ in order).
//   σ' = s1, σ'' = s2, σ''' = s3 at u_l(j, p);  δ = δ_l(j, p);  e = σ'' δ.
#pragma once

#include "wgf/config.h"

namespace wgf {
namespace detail {

/// grad_recursion_forward (and e_l of hessian_assembly_forward): g = σ' δ, e = σ'' δ.
template <typename T>
WGF_HOST_DEVICE T gradient_entry(T s1, T delta) {
    return s1 * delta;
}
template <typename T>
WGF_HOST_DEVICE T curvature_entry(T s2, T delta) {
    return s2 * delta;
}

/// grad_recursion_backward: [g = σ' δ] δ̄ += σ' ḡ, ū += σ'' δ ḡ.
template <typename T>
WGF_HOST_DEVICE void grad_recursion_backward_entry(T s1, T s2, T delta, T g_bar, T& delta_bar, T& u_bar) {
    delta_bar += s1 * g_bar;
    u_bar += s2 * delta * g_bar;
}

/// values_backward through z = σ(u): ū += σ' z̄.
template <typename T>
WGF_HOST_DEVICE void activation_backward_entry(T s1, T z_bar, T& u_bar) {
    u_bar += s1 * z_bar;
}

/// hessian_assembly_backward, layer l ≥ 1, given ē = Σ_d R(j, d) K(j, d) (R = K H̄): [e = σ'' δ]
/// δ̄ += ē σ'', ū += ē δ σ'''.
template <typename T>
WGF_HOST_DEVICE void curvature_backward_entry(T e_bar, T s2, T s3, T delta, T& delta_bar, T& u_bar) {
    delta_bar += e_bar * s2;
    u_bar += e_bar * delta * s3;
}

/// jacobian_recursion_backward, 1 ≤ l < L−1, given a = Σ_d J̄(j, d) K(j, d): [J = diag(σ') K] ū += σ'' a.
template <typename T>
WGF_HOST_DEVICE void jacobian_backward_entry(T s2, T jk, T& u_bar) {
    u_bar += s2 * jk;
}

}  // namespace detail
}  // namespace wgf

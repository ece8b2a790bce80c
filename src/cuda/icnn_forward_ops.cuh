// icnn_forward_ops.cuh (private) — the forward ops of the ICNN on a chunk of P points, shared by
// evaluation (icnn_cuda.cu: eval_chunk) and training (jko_loss_cuda.cu: train_chunk), named after
// the host ops they mirror (src/host/icnn_ops_host.cpp, icnn_hessian_ops_host.cpp):
//   values_forward (+ quad_jacobian_forward)  S_l, u_l, z_l, σ', σ'', σ''' and ∇q_l
//   grad_recursion_forward                    δ_l, g_l = σ' δ_l, e_l = σ'' δ_l
//   hessian_assembly_forward (+ jacobian_recursion_forward)
//                                             K_l = ∇q_l + C_l J_{l−1}, J_l = diag(σ') K_l,
//                                             H = Σ_l Pm_l g_l + Σ_{l≥1} K_lᵀ diag(e_l) K_l (before
//                                             the symmetrisation and s I)
//   cholesky_logdet_forward                   factor, log det and status per point
// The tensors are per-layer pointer lists (ForwardTensors); a caller that streams a tensor through
// one buffer (evaluation keeps one U, one δ and one J) gives the same pointer for every layer. Layouts
// as icnn_kernels.cuh (column-major, column p = point p).
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/cublas_wrappers.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_kernels.cuh"
#include "wgf/icnn.h"

namespace wgf {
namespace detail {

template <typename T>
struct ForwardTensors {
    // per layer l (entries may alias: see above); null where a tensor is not wanted
    std::vector<T*> S, U, Z, S1, S2, S3;  // values_forward; S3 only for the training's backward
    std::vector<T*> DQ;                   // ∇q_l [W × P·D]; may alias K (then K_l starts as ∇q_l)
    std::vector<T*> Delta, G, E;          // grad_recursion_forward; Delta[L−1] null: c is broadcast on the fly
    std::vector<T*> K, J;                 // Jacobians [W × P·D] (J: layers 1 … L−2)
    T* BX = nullptr;                      // [Wmax × P] scratch
    T* M = nullptr;                       // [Wmax × P·D] scratch: diag(e_l) K_l
    const T* const* Pm = nullptr;         // per layer [D² × W_l]: column j = P_{l,j}
};

/// values_forward: per layer S_l = A_l X, u_l = C_l z_{l−1} + q_l(x), z_l = σ(u_l), σ', σ'' (σ''' with
/// S3), and ∇q_l when DQ[l] is given (quad_jacobian_forward, in the same kernel).
template <typename T>
void values_forward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                         const T* X, int P, const ForwardTensors<T>& t) {
    const int D = shape.dim, r = shape.rank, L = shape.depth();
    for (int l = 0; l < L; ++l) {
        const auto& ll = layout.layers[l];
        const int W = ll.width, Wp = ll.width_prev;
        gemm(st.cublas, kN, kN, r * W, P, D, T(1), params + ll.A, r * W, X, D, T(0), t.S[l], r * W);
        gemm(st.cublas, kT, kN, W, P, D, T(1), params + ll.B, D, X, D, T(0), t.BX, W);
        if (l > 0) gemm(st.cublas, kT, kN, W, P, Wp, T(1), params + ll.C, Wp, t.Z[l - 1], Wp, T(0), t.U[l], W);
        T* dq = t.DQ.empty() ? nullptr : t.DQ[l];
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * P), kThreads, st.stream, quad_forward_kernel<T>)(
            l, W, r, P, t.S[l], t.BX, params + ll.b, t.U[l], t.Z[l], t.S1[l], t.S2[l], t.S3.empty() ? nullptr : t.S3[l],
            D, params + ll.A, params + ll.B, dq);
        WGF_LAUNCH_CHECK(st.stream);
    }
}

/// grad_recursion_forward: δ_{L−1} = c, g_l = σ' δ_l, e_l = σ'' δ_l (E[l] given; it may alias S2[l]),
/// δ_{l−1} = C_lᵀ g_l. Delta[L−1] given: c is written there (the training's backward reads it).
template <typename T>
void grad_recursion_forward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                                 int P, const ForwardTensors<T>& t) {
    const int L = shape.depth();
    const T* c = params + layout.c;
    const int WL = layout.layers[L - 1].width;
    if (t.Delta[L - 1] != nullptr) {
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(WL) * P), kThreads, st.stream, broadcast_columns_kernel<T>)(
            WL, P, c, t.Delta[L - 1]);
        WGF_LAUNCH_CHECK(st.stream);
    }
    for (int l = L - 1; l >= 0; --l) {
        const auto& ll = layout.layers[l];
        const int W = ll.width, Wp = ll.width_prev;
        const bool broadcast = l == L - 1 && t.Delta[l] == nullptr;
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * P), kThreads, st.stream, reverse_kernel<T>)(
            W, P, t.S1[l], t.S2[l], broadcast ? c : t.Delta[l], broadcast ? 0 : W, t.G[l], t.E.empty() ? nullptr : t.E[l]);
        WGF_LAUNCH_CHECK(st.stream);
        if (l > 0) gemm(st.cublas, kN, kN, Wp, P, W, T(1), params + ll.C, Wp, t.G[l], W, T(0), t.Delta[l - 1], Wp);
    }
}

/// hessian_assembly_forward with jacobian_recursion_forward: H = Σ_l Pm_l g_l, then for l ≥ 1
/// K_l = ∇q_l + C_l J_{l−1} (J_0 = ∇q_0), J_l = σ'(u_l) ⊙ K_l (l < L−1), H += K_lᵀ diag(e_l) K_l per point.
/// H [D² × P] is neither symmetrised nor shifted by s I here.
template <typename T>
void hessian_assembly_forward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                                   int P, const ForwardTensors<T>& t, T* H) {
    const int D = shape.dim, L = shape.depth(), DD = D * D, PD = P * D;
    for (int l = 0; l < L; ++l) {
        const int W = layout.layers[l].width;
        gemm(st.cublas, kN, kN, DD, P, W, T(1), t.Pm[l], DD, t.G[l], W, l == 0 ? T(0) : T(1), H, DD);
    }
    for (int l = 1; l < L; ++l) {
        const auto& ll = layout.layers[l];
        const int W = ll.width, Wp = ll.width_prev;
        const T* Jprev = l == 1 ? t.DQ[0] : t.J[l - 1];
        const bool dq_in_k = t.DQ[l] == t.K[l];  // K_l already holds ∇q_l: add the product to it
        gemm(st.cublas, kT, kN, W, PD, Wp, T(1), params + ll.C, Wp, Jprev, Wp, dq_in_k ? T(1) : T(0), t.K[l], W);
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * PD), kThreads, st.stream, jacobian_forward_kernel<T>)(
            W, D, P, dq_in_k ? nullptr : t.DQ[l], t.S1[l], t.E[l], t.K[l], l + 1 < L ? t.J[l] : nullptr, t.M);
        WGF_LAUNCH_CHECK(st.stream);
        const long long stride = static_cast<long long>(W) * D;
        gemm_strided_batched(st.cublas, kT, kN, D, D, W, T(1), t.K[l], W, stride, t.M, W, stride, T(1), H, D, DD, P);
    }
}

/// cholesky_logdet_forward on P points (cholesky_logdet_kernel): in local memory for D ≤ kMaxCholeskyDim,
/// in F (global memory) above. Evaluation with D > kMaxCholeskyDim uses cuSOLVER instead (icnn_cuda.cu).
template <typename T>
void cholesky_logdet_cuda(CudaState& st, int D, int P, std::int64_t n0, const T* H, T s, bool symmetrize, const T* Y,
                          T* F, T* logdet, std::int32_t* status, unsigned long long* first_failure) {
    if (D <= 16) {
        WGF_LAUNCH_KERNEL(grid_for(P, 32), 32, st.stream, cholesky_logdet_kernel<T, 16>)(
            D, P, n0, H, s, symmetrize, Y, F, logdet, status, first_failure);
    } else if (D <= kMaxCholeskyDim) {
        WGF_LAUNCH_KERNEL(grid_for(P, 32), 32, st.stream, cholesky_logdet_kernel<T, kMaxCholeskyDim>)(
            D, P, n0, H, s, symmetrize, Y, F, logdet, status, first_failure);
    } else {
        WGF_LAUNCH_KERNEL(grid_for(P, 32), 32, st.stream, cholesky_logdet_kernel<T, 0>)(
            D, P, n0, H, s, symmetrize, Y, F, logdet, status, first_failure);
    }
    WGF_LAUNCH_CHECK(st.stream);
}

}  // namespace detail
}  // namespace wgf

// icnn_forward_ops.cuh (private) — the forward ops of the ICNN on a chunk of P points, shared by
// evaluation (icnn_cuda.cu: eval_chunk) and training (jko_loss_cuda.cu: train_chunk), named after
// the host ops they mirror (src/host/icnn_ops_host.cpp, icnn_hessian_ops_host.cpp). Each layer step
// is cuBLAS GEMMs and one fused elementwise kernel:
//   build_pm_cuda                             Pm_l = the Hessians of q_l's units, every layer, one launch
//   values_forward (+ quad_jacobian_forward, + jacobian_recursion_forward)
//                                             S_l, u_l, z_l, σ', σ'', σ''' and ∇q_l; with the Hessian
//                                             K_l = ∇q_l + C_l J_{l−1} (J_0 = ∇q_0), J_l = diag(σ') K_l
//   grad_recursion_forward (+ hessian_assembly_forward)
//                                             δ_l, g_l = σ' δ_l, e_l = σ'' δ_l; with the Hessian
//                                             H = Σ_l Pm_l g_l + Σ_{l≥1} K_lᵀ diag(e_l) K_l (before the
//                                             symmetrisation and s I)
//   grad_assembly_forward                     ∇ψ = Σ_l ∇q_lᵀ g_l + s x (training; evaluation reads
//                                             ∇ψ = K_{L−1}ᵀ g_{L−1} + s x off the Jacobians)
//   cholesky_logdet_forward                   factor, log det and status per point
// The tensors are per-layer pointer lists (ForwardTensors); a caller that streams a tensor through
// one buffer (evaluation keeps one U, one δ and one J) gives the same pointer for every layer. Layouts
// as icnn_kernels.cuh (column-major, column p = point p).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cuda/cublas_wrappers.h"
#include "cuda/cuda_check.h"
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
    std::vector<T*> K, J;                 // Jacobians [W × P·D] (K: layers ≥ 1 with the Hessian; J: 1 … L−2)
    T* BX = nullptr;                      // [Wmax × P] scratch
    T* M = nullptr;                       // [Wmax × P·D] scratch: diag(e_l) K_l
    const T* const* Pm = nullptr;         // per layer [D² × W_l]: column j = P_{l,j}
};

/// Pm_l [D² × W_l] of every layer (column j = P_{l,j} = 2 Σ_t a_{l,t,j} a_{l,t,j}ᵀ), kLayersPerLaunch
/// layers per launch (one launch up to 8 layers).
template <typename T>
void build_pm_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params, T* const* Pm) {
    const int D = shape.dim, L = shape.depth();
    for (int first = 0; first < L; first += kLayersPerLaunch) {
        PmLayers<T> batch;
        for (int l = first; l < std::min(L, first + kLayersPerLaunch); ++l) {
            const int k = l - first, W = layout.layers[l].width;
            batch.W[k] = W;
            batch.A[k] = params + layout.layers[l].A;
            batch.Pm[k] = Pm[l];
            batch.spans.add(std::int64_t(D) * D * W);
        }
        WGF_LAUNCH_KERNEL(grid_for(batch.spans.total()), kThreads, st.stream, build_pm_kernel<T>)(D, shape.rank, batch);
        WGF_LAUNCH_CHECK(st.stream);
    }
}

/// values_forward: per layer S_l = A_l X, u_l = C_l z_{l−1} + q_l(x), z_l = σ(u_l), σ', σ'' (σ''' with
/// S3), and ∇q_l when DQ[l] is given (quad_jacobian_forward, in the same kernel). With K[l] given
/// (l ≥ 1) also the Jacobian recursion: K_l = C_l J_{l−1} (a GEMM) + ∇q_l and J_l = σ' ⊙ K_l (J[l]
/// given) in that kernel. DQ[l] == K[l] (evaluation) keeps ∇q_l only inside K_l.
template <typename T>
void values_forward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                         const T* X, int P, const ForwardTensors<T>& t) {
    const int D = shape.dim, r = shape.rank, L = shape.depth(), PD = P * D;
    const auto at = [](const std::vector<T*>& v, int l) { return v.empty() ? nullptr : v[l]; };
    for (int l = 0; l < L; ++l) {
        const auto& ll = layout.layers[l];
        const int W = ll.width, Wp = ll.width_prev;
        gemm(st.cublas, kN, kN, r * W, P, D, T(1), params + ll.A, r * W, X, D, T(0), t.S[l], r * W);
        gemm(st.cublas, kT, kN, W, P, D, T(1), params + ll.B, D, X, D, T(0), t.BX, W);
        if (l > 0) gemm(st.cublas, kT, kN, W, P, Wp, T(1), params + ll.C, Wp, t.Z[l - 1], Wp, T(0), t.U[l], W);
        T* K = l > 0 ? at(t.K, l) : nullptr;
        T* dq = at(t.DQ, l);
        if (K != nullptr) {
            const T* Jprev = l == 1 ? t.DQ[0] : t.J[l - 1];
            gemm(st.cublas, kT, kN, W, PD, Wp, T(1), params + ll.C, Wp, Jprev, Wp, T(0), K, W);
            if (dq == K) dq = nullptr;
        }
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * P), kThreads, st.stream, quad_forward_kernel<T>)(
            l, W, r, P, t.S[l], t.BX, params + ll.b, t.U[l], t.Z[l], t.S1[l], t.S2[l], at(t.S3, l), D, params + ll.A,
            params + ll.B, dq, K, K != nullptr && l + 1 < L ? t.J[l] : nullptr);
        WGF_LAUNCH_CHECK(st.stream);
    }
}

/// grad_recursion_forward: δ_{L−1} = c, g_l = σ' δ_l, e_l = σ'' δ_l (E[l] given; it may alias S2[l]),
/// δ_{l−1} = C_lᵀ g_l. Delta[L−1] given: c is written there (the training's backward reads it).
/// With H given, hessian_assembly_forward in the same pass (needs values_forward's K_l): the kernel
/// of layer l ≥ 1 also forms M = diag(e_l) K_l, and H = Σ_l Pm_l g_l + Σ_{l≥1} K_lᵀ M, accumulated
/// from the top layer down, neither symmetrised nor shifted by s I.
template <typename T>
void grad_recursion_forward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                                 int P, const ForwardTensors<T>& t, T* H) {
    const int D = shape.dim, L = shape.depth(), DD = D * D;
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
        const bool curvature = H != nullptr && l >= 1;
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * P), kThreads, st.stream, reverse_kernel<T>)(
            W, P, t.S1[l], t.S2[l], broadcast ? c : t.Delta[l], broadcast ? 0 : W, t.G[l],
            t.E.empty() ? nullptr : t.E[l], D, curvature ? static_cast<const T*>(t.K[l]) : nullptr,
            curvature ? t.M : nullptr);
        WGF_LAUNCH_CHECK(st.stream);
        if (l > 0) gemm(st.cublas, kN, kN, Wp, P, W, T(1), params + ll.C, Wp, t.G[l], W, T(0), t.Delta[l - 1], Wp);
        if (H == nullptr) continue;
        gemm(st.cublas, kN, kN, DD, P, W, T(1), t.Pm[l], DD, t.G[l], W, l == L - 1 ? T(0) : T(1), H, DD);
        if (curvature) {
            const long long stride = static_cast<long long>(W) * D;
            gemm_strided_batched(st.cublas, kT, kN, D, D, W, T(1), t.K[l], W, stride, t.M, W, stride, T(1), H, D, DD,
                                 P);
        }
    }
}

/// grad_assembly_forward: Y = s X + Σ_l ∇q_lᵀ g_l per point [D × P] (the training's ∇ψ, whose
/// backward is grad_assembly_backward).
template <typename T>
void grad_assembly_forward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* X, int P,
                                const ForwardTensors<T>& t, T* Y) {
    const int D = shape.dim, PD = P * D;
    const T s = static_cast<T>(shape.strong_convexity);
    WGF_LAUNCH_KERNEL(grid_for(PD), kThreads, st.stream, scale_kernel<T>)(std::int64_t(PD), s, X, Y);
    WGF_LAUNCH_CHECK(st.stream);
    for (int l = 0; l < shape.depth(); ++l) {
        const int W = layout.layers[l].width;
        gemm_strided_batched(st.cublas, kT, kN, D, 1, W, T(1), t.DQ[l], W, static_cast<long long>(W) * D, t.G[l], W,
                             W, T(1), Y, D, D, P);
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

// icnn_backward_ops.cuh (private) — the backward rules of the ICNN ops on a chunk of P points, for
// the training losses (jko_loss_cuda.cu: train_chunk), named after the host ops they mirror
// (src/host/icnn_ops_host.cpp, icnn_hessian_ops_host.cpp; the math is written there and in
// DESIGN.md §2). Run in this order, each a function of cuBLAS GEMMs and fused elementwise kernels
// (train_kernels.cuh), adjoints accumulated in the TrainWorkspace (train_workspace.cuh):
//   cholesky_logdet_backward_cuda      H̄_p = logdet̄ H_p⁻¹
//   hessian_assembly_backward_cuda     Ḡ_l += Pm_lᵀ H̄, MA_l = H̄ G_lᵀ (GEMMs; its per-point terms
//                                      through R_l = K_l H̄ are in the two passes below)
//   grad_assembly_backward_cuda        Ḡ_l += ∇q_l ȳ (GEMMs; its DQ̄ term is in values_backward_cuda)
//   grad_recursion_backward_cuda       up the layers, one kernel per layer: the Hessian's curvature
//                                      terms (ē → Δ̄_l, Ū_l), Δ̄_l, Ū_l; then Ḡ_{l+1}, C̄_{l+1}, c̄
//   values_backward_cuda               down the layers, one kernel per layer: the Hessian's K̄_l with
//                                      jacobian_recursion_backward, DQ̄_l = K̄_l + g_l ȳᵀ, Ū_l through
//                                      z, S̄_l; then C̄_l, J̄_{l−1}, Z̄_{l−1}, b̄_l, B̄_l, Ā_l
//   quad_jacobian_backward_cuda        B̄_l, and Ā_l of every layer in one launch (needs every DQ̄_l)
// Kernel launches per chunk: 2 per layer + 2 (logdet, Ā) for up to kLayersPerLaunch layers. The
// backward has three chains through the layers — the Jacobians' adjoints K̄ (down), the gradient
// recursion's Δ̄ (up), the values' Ū (down) — each step separated from the next by a GEMM by C_l.
// Δ̄ needs nothing from K̄ (its Hessian term ē_l = diag(K_l H̄ K_lᵀ) uses forward tensors only), so
// it runs first, and K̄ and Ū, both downwards, share one kernel per layer; R_l = K_l H̄ is formed in
// each pass (a strided-batched GEMM of 2 W D² P flops, against the 2 W² D P of each C_l product).
#pragma once

#include <algorithm>
#include <cstdint>

#include "cuda/cublas_wrappers.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/train_kernels.cuh"
#include "cuda/train_workspace.cuh"
#include "wgf/icnn.h"

namespace wgf {
namespace detail {

/// Parameter-gradient blocks of layer l inside dparams (the parameter layout of IcnnLayout).
template <typename T>
struct ParamGrads {
    const IcnnLayout& layout;
    T* d;
    T* A(int l) const { return d + layout.layers[l].A; }
    T* B(int l) const { return d + layout.layers[l].B; }
    T* b(int l) const { return d + layout.layers[l].b; }
    T* C(int l) const { return d + layout.layers[l].C; }
    T* c() const { return d + layout.c; }
};

/// cholesky_logdet_backward: H̄_p = logdet̄ · H_p⁻¹ from the factor F_p (points whose factorisation
/// failed get H̄_p = 0).
template <typename T>
void cholesky_logdet_backward_cuda(CudaState& st, int D, int P, T logdet_bar, const std::int32_t* status,
                                   const TrainWorkspace<T>& ws) {
    WGF_LAUNCH_KERNEL(grid_for(P), kThreads, st.stream, logdet_backward_kernel<T>)(D, P, logdet_bar, ws.F, status,
                                                                                   ws.work, ws.Hbar);
    WGF_LAUNCH_CHECK(st.stream);
}

/// hessian_assembly_backward's terms outside the per-layer chains (H̄ is exactly symmetric, so its
/// symmetrisation is the identity): Ḡ_l += Pm_lᵀ H̄ and MA_l = H̄ G_lᵀ (Ā's part, used by
/// quad_jacobian_backward_cuda), every layer.
template <typename T>
void hessian_assembly_backward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, int P,
                                    const TrainWorkspace<T>& ws) {
    const int DD = shape.dim * shape.dim;
    for (int l = 0; l < shape.depth(); ++l) {
        const int W = layout.layers[l].width;
        gemm(st.cublas, kT, kN, W, P, DD, T(1), ws.Pm[l], DD, ws.Hbar, DD, T(1), ws.Gbar[l], W);
        gemm(st.cublas, kN, kT, DD, W, P, T(1), ws.Hbar, DD, ws.G[l], W, T(0), ws.MA[l], DD);
    }
}

/// grad_assembly_backward's Ḡ_l += ∇q_l ȳ per point, every layer (its DQ̄_l = K̄_l + g_l ȳᵀ is formed
/// in values_backward_cuda's kernel).
template <typename T>
void grad_assembly_backward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, int P,
                                 const TrainWorkspace<T>& ws) {
    const int D = shape.dim;
    for (int l = 0; l < shape.depth(); ++l) {
        const int W = layout.layers[l].width;
        gemm_strided_batched(st.cublas, kN, kN, W, 1, D, T(1), ws.DQ[l], W, static_cast<long long>(W) * D, ws.Ybar, D,
                             D, T(1), ws.Gbar[l], W, W, P);
    }
}

/// R_p = K_{l,p} H̄_p for every point of the chunk, into ws.M (layer l ≥ 1, with the Hessian).
template <typename T>
const T* hessian_adjoint_product_cuda(CudaState& st, int D, int W, int P, int l, const TrainWorkspace<T>& ws) {
    const long long stride = static_cast<long long>(W) * D;
    gemm_strided_batched(st.cublas, kN, kN, W, D, D, T(1), ws.K[l], W, stride, ws.Hbar, D,
                         static_cast<long long>(D) * D, T(0), ws.M, W, stride, P);
    return ws.M;
}

/// grad_recursion_backward, l = 0 upwards, with hessian_assembly_backward's curvature terms (hess,
/// l ≥ 1): the kernel (ē, Δ̄_l += ē σ'' + σ' Ḡ_l, Ū_l += ē δ σ''' + σ'' δ Ḡ_l), then Ḡ_{l+1} += C_{l+1} Δ̄_l
/// and C̄_{l+1} += Δ̄_l g_{l+1}ᵀ; at the top c̄ += Σ_p Δ̄_{L−1} (δ_{L−1} = c). Needs Ḡ_l's Pm and ∇q terms.
template <typename T>
void grad_recursion_backward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                                  int P, bool hess, const TrainWorkspace<T>& ws, const ParamGrads<T>& grads) {
    const int D = shape.dim, L = shape.depth();
    for (int l = 0; l < L; ++l) {
        const int W = layout.layers[l].width;
        const T* R = hess && l >= 1 ? hessian_adjoint_product_cuda(st, D, W, P, l, ws) : nullptr;
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * P), kThreads, st.stream, grad_recursion_backward_kernel<T>)(
            W, D, P, R, ws.K[l], ws.S1[l], ws.S2[l], ws.S3[l], ws.Delta[l], ws.Gbar[l], ws.Deltabar[l], ws.Ubar[l]);
        WGF_LAUNCH_CHECK(st.stream);
        if (l + 1 < L) {
            const int Wn = layout.layers[l + 1].width;
            const T* Cn = params + layout.layers[l + 1].C;
            gemm(st.cublas, kT, kN, Wn, P, W, T(1), Cn, W, ws.Deltabar[l], W, T(1), ws.Gbar[l + 1], Wn);
            gemm(st.cublas, kN, kT, W, Wn, P, T(1), ws.Deltabar[l], W, ws.G[l + 1], Wn, T(1), grads.C(l + 1), W);
        }
    }
    const int WL = layout.layers[L - 1].width;
    gemm(st.cublas, kN, kN, WL, 1, P, T(1), ws.Deltabar[L - 1], WL, ws.ones, P, T(1), grads.c(), WL);
}

/// values_backward (ψ̄ = 0: the losses do not use ψ's value), l = L−1 down, with the Hessian's K̄_l and
/// jacobian_recursion_backward (hess) and grad_assembly_backward's DQ̄_l: the kernel (K̄_l, DQ̄_l,
/// Ū_l += σ'' Σ_d J̄ ⊙ K + σ' Z̄_l, S̄_l), then (hess, l ≥ 1) C̄_l += J_{l−1} K̄_lᵀ, J̄_{l−1} = C_l K̄_l
/// (J_0 = ∇q_0), and C̄_l += z_{l−1} Ū_lᵀ, Z̄_{l−1} = C_l Ū_l, b̄_l += Σ_p Ū_l, B̄_l += X Ū_lᵀ,
/// Ā_l += S̄_l Xᵀ. Needs Ū's and Δ̄'s terms from grad_recursion_backward_cuda.
template <typename T>
void values_backward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                          const T* X, int P, bool hess, const TrainWorkspace<T>& ws, const ParamGrads<T>& grads) {
    const int D = shape.dim, r = shape.rank, L = shape.depth(), PD = P * D;
    const cublasHandle_t cb = st.cublas;
    for (int l = L - 1; l >= 0; --l) {
        const int W = layout.layers[l].width, Wp = layout.layers[l].width_prev;
        const bool curvature = hess && l >= 1;
        const T* R = curvature ? hessian_adjoint_product_cuda(st, D, W, P, l, ws) : nullptr;
        // J̄_l: from the layer above (l < L−1), or J̄_0 = K̄_0 on layer 0 (L > 1); none without the Hessian.
        const T* Jbar = hess && l + 1 < L ? static_cast<const T*>(ws.Jbar) : nullptr;
        WGF_LAUNCH_KERNEL(grid_for(std::int64_t(W) * P), kThreads, st.stream, values_backward_kernel<T>)(
            W, D, r, P, params + layout.layers[l].A, R, ws.K[l], ws.E[l], ws.S2[l], Jbar, ws.G[l], ws.Ybar, ws.S[l],
            ws.S1[l], l + 1 < L ? static_cast<const T*>(ws.Zbar) : nullptr, curvature ? ws.Kbar[l] : nullptr,
            ws.DQbar[l], ws.Ubar[l], ws.Sbar[l]);
        WGF_LAUNCH_CHECK(st.stream);
        if (curvature) {
            const T* Jprev = l == 1 ? ws.DQ[0] : ws.J[l - 1];
            const T* C = params + layout.layers[l].C;
            gemm(cb, kN, kT, Wp, W, PD, T(1), Jprev, Wp, ws.Kbar[l], W, T(1), grads.C(l), Wp);
            gemm(cb, kN, kN, Wp, PD, W, T(1), C, Wp, ws.Kbar[l], W, T(0), ws.Jbar, Wp);
        }
        if (l > 0) {
            gemm(cb, kN, kT, Wp, W, P, T(1), ws.Z[l - 1], Wp, ws.Ubar[l], W, T(1), grads.C(l), Wp);
            gemm(cb, kN, kN, Wp, P, W, T(1), params + layout.layers[l].C, Wp, ws.Ubar[l], W, T(0), ws.Zbar, Wp);
        }
        gemm(cb, kN, kN, W, 1, P, T(1), ws.Ubar[l], W, ws.ones, P, T(1), grads.b(l), W);
        gemm(cb, kN, kT, D, W, P, T(1), X, D, ws.Ubar[l], W, T(1), grads.B(l), D);
        gemm(cb, kN, kT, r * W, D, P, T(1), ws.Sbar[l], r * W, X, D, T(1), grads.A(l), r * W);
    }
}

/// quad_jacobian_backward: B̄_l += Σ_p DQ̄_{l,p}ᵀ; Ā_l += 2 Σ_p S_{l,p} DQ̄_{l,p} (and, hess, the
/// Hessian's 4 M_j A part), Ā of up to kLayersPerLaunch layers per launch. Its S̄ part is in
/// values_backward_cuda's kernel; runs after it (every DQ̄_l complete).
template <typename T>
void quad_jacobian_backward_cuda(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params,
                                 int P, bool hess, const TrainWorkspace<T>& ws, const ParamGrads<T>& grads) {
    const int D = shape.dim, r = shape.rank, L = shape.depth();
    for (int l = 0; l < L; ++l) {
        const int W = layout.layers[l].width;
        gemm(st.cublas, kN, kN, W * D, 1, P, T(1), ws.DQbar[l], W * D, ws.ones, P, T(0), ws.Btmp, W * D);  // [W × D]
        geam(st.cublas, kN, kT, D, W, T(1), grads.B(l), D, T(1), ws.Btmp, W, grads.B(l), D);              // B̄ += Btmpᵀ
    }
    for (int first = 0; first < L; first += kLayersPerLaunch) {
        ABackwardLayers<T> batch;
        for (int l = first; l < std::min(L, first + kLayersPerLaunch); ++l) {
            const int k = l - first, W = layout.layers[l].width;
            batch.W[k] = W;
            batch.MA[k] = hess ? ws.MA[l] : nullptr;
            batch.A[k] = params + layout.layers[l].A;
            batch.S[k] = ws.S[l];
            batch.DQbar[k] = ws.DQbar[l];
            batch.dA[k] = grads.A(l);
            batch.spans.add(std::int64_t(D) * r * W);
        }
        WGF_LAUNCH_KERNEL(grid_for(batch.spans.total()), kThreads, st.stream, A_backward_kernel<T>)(D, r, P, batch);
        WGF_LAUNCH_CHECK(st.stream);
    }
}

}  // namespace detail
}  // namespace wgf

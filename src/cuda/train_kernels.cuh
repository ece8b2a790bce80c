// train_kernels.cuh (private) — the elementwise and per-point kernels of the training losses on the
// device (src/cuda/jko_loss_cuda.cu): the backward rules of the host ops in src/host/icnn_ops_host.cpp
// and src/host/icnn_hessian_ops_host.cpp, whose header comments give the math; each kernel names the
// host rule it mirrors. Only the thread ↔ data mapping lives here.
//
// Layouts (column-major, column p = point p of the chunk), as icnn_kernels.cuh:
//   S, S̄  [rW × P]   row t·W + j          U, Z, S1, S2, S3, G, Δ, E and their adjoints  [W × P]
//   DQ, K, J, R and adjoints [W × P·D]  column p·D + d      Y, Ȳ, X  [D × P]      H, H̄, F  [D² × P]
// Per-thread loops run in a fixed order, so every result is deterministic (no atomics on data).
#pragma once

#include <cstdint>
#include <limits>

#include "cuda/icnn_kernels.cuh"
#include "wgf/detail/cholesky.h"
#include "wgf/detail/icnn_rules.h"

namespace wgf {
namespace detail {

/// v[i] = value over `count` entries.
template <typename T>
__global__ void fill_kernel(std::int64_t count, T value, T* __restrict__ v) {
    WGF_GRID_STRIDE(i, count) v[i] = value;
}

/// H̄_p = scale · H_p⁻¹ from the factor F_p (cholesky_logdet_backward with logdet̄ = scale); points
/// whose factorisation failed get H̄_p = 0. work: [D² × P] scratch.
template <typename T>
__global__ void logdet_backward_kernel(int D, int P, T scale, const T* __restrict__ F,
                                       const std::int32_t* __restrict__ status, T* __restrict__ work,
                                       T* __restrict__ Hbar) {
    const std::int64_t dd = std::int64_t(D) * D;
    WGF_GRID_STRIDE(p, std::int64_t(P)) {
        T* hb = Hbar + p * dd;
        if (status[p] != 0) {
            for (std::int64_t k = 0; k < dd; ++k) hb[k] = T(0);
            continue;
        }
        cholesky_inverse(F + p * dd, D, hb, work + p * dd);
        for (std::int64_t k = 0; k < dd; ++k) hb[k] *= scale;
    }
}

/// Loss seed of ȳ: Ȳ = w_scale (Y − X) + phi_scale ∇Φ(Y) (dphi may be null). The JKO loss uses
/// w_scale = 1/N, phi_scale = τ/N; the identity loss w_scale = 2/(N·D).
template <typename T>
__global__ void y_seed_kernel(std::int64_t count, T w_scale, T phi_scale, const T* __restrict__ Y,
                              const T* __restrict__ X, const T* __restrict__ dphi, T* __restrict__ Ybar) {
    WGF_GRID_STRIDE(i, count) Ybar[i] = w_scale * (Y[i] - X[i]) + (dphi != nullptr ? phi_scale * dphi[i] : T(0));
}

/// Chunk sums, one block of kSumThreads threads (fixed reduction order: deterministic), added to
/// sums[0..2] in double: Σ_p ½‖y_p − x_p‖², Σ_p Φ_p (phi may be null), Σ_p logdet_p (may be null).
constexpr int kSumThreads = 256;
template <typename T>
__global__ void loss_sums_kernel(int D, int P, const T* __restrict__ Y, const T* __restrict__ X,
                                 const T* __restrict__ phi, const T* __restrict__ logdet, double* sums) {
    __shared__ double part[3][kSumThreads];
    double w = 0, f = 0, g = 0;
    for (int p = threadIdx.x; p < P; p += kSumThreads) {
        double sq = 0;
        for (int d = 0; d < D; ++d) {
            const double e = double(Y[std::int64_t(p) * D + d]) - double(X[std::int64_t(p) * D + d]);
            sq += e * e;
        }
        w += 0.5 * sq;
        if (phi != nullptr) f += double(phi[p]);
        if (logdet != nullptr) g += double(logdet[p]);
    }
    part[0][threadIdx.x] = w;
    part[1][threadIdx.x] = f;
    part[2][threadIdx.x] = g;
    __syncthreads();
    for (int half = kSumThreads / 2; half > 0; half /= 2) {
        if (int(threadIdx.x) < half)
            for (int k = 0; k < 3; ++k) part[k][threadIdx.x] += part[k][threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        for (int k = 0; k < 3; ++k) sums[k] += part[k][0];
}

// ---- quad_jacobian_backward --------------------------------------------------------------------------------

/// Ā of every layer of the batch in one launch (the batch's layer k: W[k], MA[k], A[k], S[k], DQbar[k],
/// dA[k]). Per layer: Ā[d][t][j] += 4 Σ_k M_j(d, k) A[k][t][j] (hessian_assembly_backward; MA[k] not
/// null: the JKO loss), then += 2 Σ_p S(t·W + j, p) DQ̄(j, p·D + d) (quad_jacobian_backward), in that
/// order. MA = H̄ Gᵀ [D² × W] (column j = Σ_p g_{j,p} H̄_p, a column-major D×D matrix, so M_j(d, k)
/// is at row k·D + d, as the host's Map). Thread ↔ (d, t, j) = Ā's own offset; loops over the
/// chunk's points (reads coalesced across j).
template <typename T>
struct ABackwardLayers {
    LayerSpans spans;
    int W[kLayersPerLaunch] = {};
    const T* MA[kLayersPerLaunch] = {};
    const T* A[kLayersPerLaunch] = {};
    const T* S[kLayersPerLaunch] = {};
    const T* DQbar[kLayersPerLaunch] = {};
    T* dA[kLayersPerLaunch] = {};
};
template <typename T>
__global__ void A_backward_kernel(int D, int r, int P, ABackwardLayers<T> layers) {
    const std::int64_t dd = std::int64_t(D) * D;
    WGF_GRID_STRIDE(item, layers.spans.total()) {
        const int layer = layers.spans.layer_of(item);
        const std::int64_t idx = item - layers.spans.begin[layer];
        const int W = layers.W[layer];
        const T *MA = layers.MA[layer], *A = layers.A[layer], *S = layers.S[layer], *DQbar = layers.DQbar[layer];
        const int j = static_cast<int>(idx % W);
        const int t = static_cast<int>((idx / W) % r);
        const int d = static_cast<int>(idx / (std::int64_t(W) * r));
        T a = layers.dA[layer][idx];
        if (MA != nullptr) {
            T v = T(0);
            for (int k = 0; k < D; ++k) v += MA[j * dd + std::int64_t(k) * D + d] * A[(std::int64_t(k) * r + t) * W + j];
            a += T(4) * v;
        }
        T v = T(0);
        for (std::int64_t p = 0; p < P; ++p) v += S[p * r * W + std::int64_t(t) * W + j] * DQbar[(p * D + d) * W + j];
        layers.dA[layer][idx] = a + T(2) * v;
    }
}

// ---- grad_recursion_backward (up the layers) / values_backward (down the layers) ---------------------

/// Layer l of the upward pass: (R not null: l ≥ 1 with the Hessian) hessian_assembly_backward's
/// curvature terms, given R_p = K_p H̄_p: ē_j = Σ_d R(j, d) K(j, d), δ̄ += ē σ'', ū += ē δ σ'''; then
/// grad_recursion_backward: δ̄ += σ' ḡ, ū += σ'' δ ḡ (Ḡ_l complete: its Pm, ∇q and C_l Δ̄_{l−1} terms
/// added before). Thread ↔ (j, p); one loop over d.
template <typename T>
__global__ void grad_recursion_backward_kernel(int W, int D, int P, const T* __restrict__ R, const T* __restrict__ K,
                                               const T* __restrict__ S1, const T* __restrict__ S2,
                                               const T* __restrict__ S3, const T* __restrict__ Delta,
                                               const T* __restrict__ Gbar, T* __restrict__ Delta_bar,
                                               T* __restrict__ U_bar) {
    WGF_GRID_STRIDE(idx, std::int64_t(W) * P) {
        const int j = static_cast<int>(idx % W);
        const std::int64_t p = idx / W;
        T dbar = Delta_bar[idx], ubar = U_bar[idx];
        if (R != nullptr) {
            T ebar = T(0);
            for (int d = 0; d < D; ++d) {
                const std::int64_t at = (p * D + d) * W + j;
                ebar += R[at] * K[at];
            }
            curvature_backward_entry(ebar, S2[idx], S3[idx], Delta[idx], dbar, ubar);
        }
        grad_recursion_backward_entry(S1[idx], S2[idx], Delta[idx], Gbar[idx], dbar, ubar);
        Delta_bar[idx] = dbar;
        U_bar[idx] = ubar;
    }
}

/// Layer l of the downward pass, one kernel:
///  1. K̄ and DQ̄ of the layer (per d):
///     R not null (l ≥ 1 with the Hessian): hessian_assembly_backward's K̄ = 2 diag(e) R (R_p = K_p H̄_p)
///       and (Jbar not null: l < L−1) jacobian_recursion_backward's K̄ += σ' ⊙ J̄, ū += σ'' Σ_d J̄ ⊙ K;
///     R null (layer 0, or no Hessian): K̄ = J̄ (Jbar: J̄_0 = C_1 K̄_1, layer 0 with the Hessian), else 0;
///     then grad_assembly_backward's adjoint of ∇q_l: DQ̄ = K̄ + g ȳᵀ;
///  2. values_backward: ū += σ' z̄ (Zbar null on the top layer, whose z feeds only ψ's value);
///  3. S̄(t·W + j, p) = 2 Σ_d A[d][t][j] DQ̄(j, p·D + d) (quad_jacobian_backward) + 2 S(t·W + j, p) ū
///     (q's quadratic part).
/// Kbar is written only with R (the GEMMs of C̄_l and J̄_{l−1} read it). Thread ↔ (j, p).
template <typename T>
__global__ void values_backward_kernel(int W, int D, int r, int P, const T* __restrict__ A, const T* __restrict__ R,
                                       const T* __restrict__ K, const T* __restrict__ E, const T* __restrict__ S2,
                                       const T* __restrict__ Jbar, const T* __restrict__ G,
                                       const T* __restrict__ Ybar, const T* __restrict__ S,
                                       const T* __restrict__ S1, const T* __restrict__ Zbar, T* __restrict__ Kbar,
                                       T* __restrict__ DQbar, T* __restrict__ U_bar, T* __restrict__ Sbar) {
    WGF_GRID_STRIDE(idx, std::int64_t(W) * P) {
        const int j = static_cast<int>(idx % W);
        const std::int64_t p = idx / W;
        const T g = G[idx];
        T ubar = U_bar[idx];
        if (R != nullptr) {
            const T e2 = T(2) * E[idx], s1 = S1[idx];
            T jk = T(0);
            for (int d = 0; d < D; ++d) {
                const std::int64_t at = (p * D + d) * W + j;
                T kbar = e2 * R[at];
                if (Jbar != nullptr) {
                    jk += Jbar[at] * K[at];
                    kbar += s1 * Jbar[at];
                }
                Kbar[at] = kbar;
                DQbar[at] = kbar + g * Ybar[p * D + d];
            }
            if (Jbar != nullptr) jacobian_backward_entry(S2[idx], jk, ubar);
        } else {
            for (int d = 0; d < D; ++d) {
                const std::int64_t at = (p * D + d) * W + j;
                DQbar[at] = (Jbar != nullptr ? Jbar[at] : T(0)) + g * Ybar[p * D + d];
            }
        }
        if (Zbar != nullptr) activation_backward_entry(S1[idx], Zbar[idx], ubar);
        U_bar[idx] = ubar;
        for (int t = 0; t < r; ++t) {
            T v = T(0);
            for (int d = 0; d < D; ++d) v += A[(std::int64_t(d) * r + t) * W + j] * DQbar[(p * D + d) * W + j];
            const std::int64_t at = p * r * W + std::int64_t(t) * W + j;
            Sbar[at] = T(2) * v + T(2) * S[at] * ubar;
        }
    }
}

/// Clamp the convexity-constrained entries to ≥ 0 (Icnn::project): v[i] = max(v[i], 0).
template <typename T>
__global__ void clamp_nonnegative_kernel(std::int64_t count, T* __restrict__ v) {
    WGF_GRID_STRIDE(i, count) v[i] = v[i] < T(0) ? T(0) : v[i];
}

}  // namespace detail
}  // namespace wgf

// icnn_kernels.cuh (private) — the elementwise and per-point kernels of icnn_eval_cuda. The math is
// written out once in src/host/icnn_host.cpp; the formulas come from wgf/detail/ (icnn_point.h,
// softplus.h, cholesky.h), the same code the host runs. Here only the thread ↔ data mapping lives.
//
// Batched layout of one chunk of P points (column-major, column p = point p), as on the host:
//   S_l  [rW × P]     projections s_{l,t,j} at row t·W + j
//   Z, S1, S2, G, U, BX  [W × P]
//   K_l, J, M  [W × P·D]  column p·D + d; point p's W×D block is contiguous
//   H    [D² × P]     point p's D×D Hessian (symmetric, so row- and column-major agree)
// Elementwise kernels use a grid-stride loop over the flattened index, j (the unit) fastest, so
// consecutive threads touch consecutive addresses of S, K, Z, ….
#pragma once

#include <cstdint>
#include <limits>

#include "cuda/launch.h"
#include "wgf/detail/cholesky.h"
#include "wgf/detail/icnn_point.h"
#include "wgf/config.h"
#include "wgf/detail/icnn_rules.h"

namespace wgf {
namespace detail {

constexpr int kThreads = 256;            // block size of the elementwise kernels
constexpr int kMaxCholeskyDim = 32;      // in-kernel Cholesky up to this D; cuSOLVER above

/// Grid size for a grid-stride loop over `count` items (capped; the loop covers the rest).
inline unsigned grid_for(std::int64_t count, int threads = kThreads) {
    const std::int64_t blocks = (count + threads - 1) / threads;
#ifdef WGF_CUDA_EMULATION
    const std::int64_t cap = 1;  // the CPU emulation runs blocks one after the other: one block will do
#else
    const std::int64_t cap = std::int64_t(1) << 20;
#endif
    return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

#define WGF_GRID_STRIDE(i, count)                                                                          \
    for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (count);                \
         i += std::int64_t(gridDim.x) * blockDim.x)

/// u = [C Z_{l−1}] + q_l(x), then z, σ', σ'' and (S3 not null) σ''' (layer 0 is linear: 1, 0, 0).
/// With DQ not null also ∇q_l [W × P·D] (quad_jacobian_forward; A [D][r][W], B [W][D] as stored).
/// With K not null (layers l ≥ 1 of the Hessian path) also jacobian_recursion_forward's elementwise
/// part: K holds C_l J_{l−1} on entry and K_l = C_l J_{l−1} + ∇q_l on exit, and (J not null: layers
/// below the last) J_l = σ'(u_l) ⊙ K_l. DQ must not alias K then (a caller that keeps ∇q_l in K_l
/// passes DQ null). Thread ↔ (unit j, point p). U holds C_l Z_{l−1} on entry (ignored on layer 0)
/// and u on exit; S is the projections, BX = B_l X.
template <typename T>
__global__ void quad_forward_kernel(int layer, int W, int r, int P, const T* __restrict__ S,
                                    const T* __restrict__ BX, const T* __restrict__ b, T* __restrict__ U,
                                    T* __restrict__ Z, T* __restrict__ S1, T* __restrict__ S2, T* __restrict__ S3,
                                    int D, const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ DQ,
                                    T* __restrict__ K, T* __restrict__ J) {
    const std::int64_t count = std::int64_t(W) * P;
    WGF_GRID_STRIDE(idx, count) {
        const int j = static_cast<int>(idx % W);
        const std::int64_t p = idx / W;
        const T q = quad_value(S + p * r * W + j, W, r, BX[idx], b[j]);
        const T u = (layer == 0 ? T(0) : U[idx]) + q;
        U[idx] = u;
        T z, s1, s2;
        layer_activation(layer, u, z, s1, s2);
        Z[idx] = z;
        S1[idx] = s1;
        S2[idx] = s2;
        if (S3 != nullptr) S3[idx] = layer == 0 ? T(0) : softplus_derivs(u).s3;
        if (DQ == nullptr && K == nullptr) continue;
        for (int d = 0; d < D; ++d) {  // column p·D + d: consecutive j, consecutive addresses
            const std::int64_t at = (p * D + d) * W + j;
            const T dq = quad_jacobian(S + p * r * W + j, W, A + std::int64_t(d) * r * W + j, W, r, B[j * D + d]);
            if (DQ != nullptr) DQ[at] = dq;
            if (K == nullptr) continue;
            const T k = K[at] + dq;
            K[at] = k;
            if (J != nullptr) J[at] = s1 * k;
        }
    }
}

/// g_l = σ'(u_l) ⊙ δ_l and (E not null) e_l = σ''(u_l) ⊙ δ_l; E may alias S2 (in place, as the
/// host). δ_l(j, p) = delta[j + p·delta_ld]; delta_ld = 0 broadcasts c on the last layer. With M not
/// null (layers l ≥ 1 of the Hessian path) also M = diag(e_l) K_l per point [W × P·D], the right
/// factor of hessian_assembly_forward's H += K_lᵀ M. Thread ↔ (unit j, point p).
template <typename T>
__global__ void reverse_kernel(int W, int P, const T* S1, const T* S2, const T* delta, int delta_ld, T* G, T* E,
                               int D, const T* __restrict__ K, T* __restrict__ M) {
    const std::int64_t count = std::int64_t(W) * P;
    WGF_GRID_STRIDE(idx, count) {
        const int j = static_cast<int>(idx % W);
        const std::int64_t p = idx / W;
        const T dl = delta[j + p * delta_ld];
        G[idx] = gradient_entry(S1[idx], dl);
        const T e = curvature_entry(S2[idx], dl);
        if (E != nullptr) E[idx] = e;
        if (M == nullptr) continue;
        for (int d = 0; d < D; ++d) {
            const std::int64_t at = (p * D + d) * W + j;
            M[at] = e * K[at];
        }
    }
}

/// out(j, p) = v[j] for every point (δ_{L−1} = c, broadcast over the chunk).
template <typename T>
__global__ void broadcast_columns_kernel(int W, int P, const T* __restrict__ v, T* __restrict__ out) {
    WGF_GRID_STRIDE(idx, std::int64_t(W) * P) out[idx] = v[idx % W];
}

/// ψ(x_p) = c·z_{L−1}(:, p) + (s/2)‖x_p‖². One warp ↔ one point; lanes stride over units and
/// coordinates, then a shuffle reduction.
template <typename T>
__global__ void value_kernel(int W, int D, int P, const T* __restrict__ Z, const T* __restrict__ c,
                             const T* __restrict__ x, T s, T* __restrict__ value) {
    const int lane = threadIdx.x % 32;
    const std::int64_t warp = (std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const std::int64_t warps = std::int64_t(gridDim.x) * blockDim.x / 32;
    for (std::int64_t p = warp; p < P; p += warps) {
        T cz = T(0), xx = T(0);
        for (int j = lane; j < W; j += 32) cz += c[j] * Z[p * W + j];
        for (int d = lane; d < D; d += 32) xx += x[p * D + d] * x[p * D + d];
        for (int off = 16; off > 0; off /= 2) {
            cz += __shfl_down_sync(0xffffffffu, cz, off);
            xx += __shfl_down_sync(0xffffffffu, xx, off);
        }
        if (lane == 0) value[p] = cz + s / T(2) * xx;
    }
}

/// y += a·x over `count` entries (∇ψ += s x).
template <typename T>
__global__ void axpy_kernel(std::int64_t count, T a, const T* __restrict__ x, T* __restrict__ y) {
    WGF_GRID_STRIDE(i, count) y[i] += a * x[i];
}

/// y[i] = a·x[i] over `count` entries (∇ψ's s x term, before the layers' terms are added).
template <typename T>
__global__ void scale_kernel(std::int64_t count, T a, const T* __restrict__ x, T* __restrict__ y) {
    WGF_GRID_STRIDE(i, count) y[i] = a * x[i];
}

/// R_l = 2 S_l ⊙ g_l in place: S(t·W + j, p) *= 2 g(j, p) (gradient-only branch).
template <typename T>
__global__ void scale_projections_kernel(int W, int r, int P, const T* __restrict__ G, T* __restrict__ S) {
    const std::int64_t count = std::int64_t(r) * W * P;
    WGF_GRID_STRIDE(idx, count) {
        const int j = static_cast<int>(idx % W);
        const std::int64_t p = idx / (std::int64_t(r) * W);
        S[idx] *= T(2) * G[p * W + j];
    }
}

/// Up to kLayersPerLaunch layers of one per-layer step in one launch: layer k of the batch owns the
/// flattened items [begin[k], begin[k + 1]) (begin[0] = 0). Passed by value.
constexpr int kLayersPerLaunch = 8;
struct LayerSpans {
    int count = 0;
    std::int64_t begin[kLayersPerLaunch + 1] = {};
    /// The batch's layer that owns item idx (a scan over at most kLayersPerLaunch entries).
    WGF_HOST_DEVICE int layer_of(std::int64_t idx) const {
        int k = 0;
        while (k + 1 < count && idx >= begin[k + 1]) ++k;
        return k;
    }
    WGF_HOST_DEVICE std::int64_t total() const { return begin[count]; }
    /// Appends a layer of `items` items.
    void add(std::int64_t items) {
        begin[count + 1] = begin[count] + items;
        ++count;
    }
};

/// Pm_l [D² × W_l] (column-major): column j = P_{l,j} = 2 Σ_t a_{l,t,j} a_{l,t,j}ᵀ flattened (a·D + b),
/// for every layer of the batch in one launch (A[k], Pm[k], W[k]: the batch's layer k).
template <typename T>
struct PmLayers {
    LayerSpans spans;
    int W[kLayersPerLaunch] = {};
    const T* A[kLayersPerLaunch] = {};
    T* Pm[kLayersPerLaunch] = {};
};
template <typename T>
__global__ void build_pm_kernel(int D, int r, PmLayers<T> layers) {
    const std::int64_t dd = std::int64_t(D) * D;
    WGF_GRID_STRIDE(item, layers.spans.total()) {
        const int k = layers.spans.layer_of(item);
        const std::int64_t idx = item - layers.spans.begin[k];
        const int j = static_cast<int>(idx / dd);
        const int ab = static_cast<int>(idx % dd);
        layers.Pm[k][idx] = quad_hessian(layers.A[k], r, layers.W[k], j, ab / D, ab % D);
    }
}

/// H_p += s I for every point.
template <typename T>
__global__ void add_diagonal_kernel(int D, int P, T s, T* __restrict__ H) {
    const std::int64_t count = std::int64_t(P) * D;
    WGF_GRID_STRIDE(idx, count) {
        const std::int64_t p = idx / D;
        const int a = static_cast<int>(idx % D);
        H[p * D * D + std::int64_t(a) * D + a] += s;
    }
}

/// Exact symmetrisation, as the host: H(a,b) = H(b,a) = ½(H(a,b) + H(b,a)). Thread ↔ entry (p, a, b);
/// the thread with a > b writes the pair, a < b idles. F (not null) receives a copy of the result.
template <typename T>
__global__ void symmetrize_kernel(int D, int P, T* __restrict__ H, T* __restrict__ F) {
    const std::int64_t dd = std::int64_t(D) * D;
    const std::int64_t count = dd * P;
    WGF_GRID_STRIDE(idx, count) {
        const std::int64_t base = (idx / dd) * dd;
        const int a = static_cast<int>((idx % dd) / D);
        const int b = static_cast<int>(idx % D);
        if (a < b) continue;
        const std::int64_t ab = base + std::int64_t(a) * D + b, ba = base + std::int64_t(b) * D + a;
        if (a == b) {
            if (F != nullptr) F[ab] = H[ab];
            continue;
        }
        const T v = T(0.5) * (H[ab] + H[ba]);
        H[ab] = v;
        H[ba] = v;
        if (F != nullptr) {
            F[ab] = v;
            F[ba] = v;
        }
    }
}

/// cholesky_logdet_forward, one thread ↔ one point, the one in-kernel Cholesky path of evaluation and
/// training: a = ½(H_p + H_pᵀ) + s I (symmetrize: training, whose H is the unsymmetrised sum of
/// hessian_assembly_forward) or a = H_p (evaluation, already symmetric), factorised by
/// cholesky_lower_inplace; logdet and status (the contract of wgf/icnn_status.h; a point whose push
/// Y, when given, is not finite is kIcnnNonFinite). F given: the factor is kept there (the training's
/// backward needs it). first_failure given: the lowest failing point index n0 + p (atomicMin:
/// deterministic). kLocalDim > 0: the factorisation runs in a thread-local array (D ≤ kLocalDim;
/// local memory is interleaved across a warp, so the same-offset accesses of 32 threads coalesce);
/// kLocalDim = 0: in F itself (global memory, any D). H is not modified.
template <typename T, int kLocalDim>
__global__ void cholesky_logdet_kernel(int D, int P, std::int64_t n0, const T* __restrict__ H, T s, bool symmetrize,
                                       const T* __restrict__ Y, T* __restrict__ F, T* __restrict__ logdet,
                                       std::int32_t* __restrict__ status, unsigned long long* first_failure) {
    T local[kLocalDim > 0 ? kLocalDim * kLocalDim : 1];
    const std::int64_t dd = std::int64_t(D) * D;
    WGF_GRID_STRIDE(p, std::int64_t(P)) {
        T* a = kLocalDim > 0 ? local : F + p * dd;
        const T* h = H + p * dd;
        if (symmetrize) {
            for (int i = 0; i < D; ++i) {
                a[std::int64_t(i) * D + i] = h[std::int64_t(i) * D + i] + s;
                for (int j = 0; j < i; ++j) {
                    const T v = T(0.5) * (h[std::int64_t(i) * D + j] + h[std::int64_t(j) * D + i]);
                    a[std::int64_t(i) * D + j] = v;
                    a[std::int64_t(j) * D + i] = v;
                }
            }
        } else {
            for (std::int64_t k = 0; k < dd; ++k) a[k] = h[k];
        }
        int code = cholesky_lower_inplace(a, D);
        for (int d = 0; Y != nullptr && code == kIcnnOk && d < D; ++d)
            if (!(std::fabs(Y[p * D + d]) < T(INFINITY))) code = kIcnnNonFinite;
        logdet[p] = code == kIcnnOk ? cholesky_logdet(a, D) : std::numeric_limits<T>::quiet_NaN();
        status[p] = code;
        if (kLocalDim > 0 && F != nullptr)
            for (std::int64_t k = 0; k < dd; ++k) F[p * dd + k] = a[k];
        if (code != kIcnnOk && first_failure != nullptr) atomicMin(first_failure, static_cast<unsigned long long>(n0 + p));
    }
}

/// After cusolverDn<T>potrfBatched on F (a copy of H): log det from the factor's diagonal, under the
/// contract of wgf/icnn_status.h. status holds potrf's info (0, or the order of the first leading
/// minor that is not PD). A point potrf factorised whose pivots L_kk² all exceed the floor of H takes
/// potrf's log det; any other point (potrf failed, a pivot at or below the floor, NaN/Inf) is
/// factorised again by cholesky_lower_inplace in F (global memory), so that its status is the one the
/// host and the in-kernel path give: potrf cannot tell a singular H from an indefinite one.
template <typename T>
__global__ void logdet_from_factor_kernel(int D, int P, const T* __restrict__ H, T* __restrict__ F,
                                          T* __restrict__ logdet, std::int32_t* __restrict__ status) {
    const std::int64_t dd = std::int64_t(D) * D;
    WGF_GRID_STRIDE(p, std::int64_t(P)) {
        T* f = F + p * dd;
        const T* h = H + p * dd;
        const T pivot_floor = cholesky_pivot_floor_of(h, D);
        bool ok = status[p] == 0 && pivot_floor == pivot_floor;
        for (int k = 0; ok && k < D; ++k) {
            const T lkk = f[std::int64_t(k) * D + k];
            ok = lkk * lkk > pivot_floor && lkk < T(INFINITY);
        }
        if (ok) {
            logdet[p] = cholesky_logdet(f, D);
            status[p] = kIcnnOk;
            continue;
        }
        for (std::int64_t k = 0; k < dd; ++k) f[k] = h[k];
        const int code = cholesky_lower_inplace(f, D);
        logdet[p] = code == kIcnnOk ? cholesky_logdet(f, D) : std::numeric_limits<T>::quiet_NaN();
        status[p] = code;
    }
}

/// A point whose requested ψ (value) or ∇ψ (grad, [P][D]) is not finite gets kIcnnNonFinite and
/// logdet NaN (mark_nonfinite_outputs in icnn_host.cpp).
template <typename T>
__global__ void mark_nonfinite_outputs_kernel(int D, int P, const T* __restrict__ value, const T* __restrict__ grad,
                                              T* __restrict__ logdet, std::int32_t* __restrict__ status) {
    WGF_GRID_STRIDE(p, std::int64_t(P)) {
        bool finite = value == nullptr || std::fabs(value[p]) < T(INFINITY);
        for (int d = 0; finite && grad != nullptr && d < D; ++d) finite = std::fabs(grad[p * D + d]) < T(INFINITY);
        if (!finite) {
            status[p] = kIcnnNonFinite;
            logdet[p] = std::numeric_limits<T>::quiet_NaN();
        }
    }
}

/// ptrs[p] = base + p·stride (the pointer array potrfBatched needs).
template <typename T>
__global__ void fill_pointers_kernel(int P, T* base, std::int64_t stride, T** ptrs) {
    WGF_GRID_STRIDE(p, std::int64_t(P)) ptrs[p] = base + p * stride;
}

/// *out += number of NaN/±Inf entries of v[0..count).
template <typename T>
__global__ void count_nonfinite_kernel(std::int64_t count, const T* __restrict__ v, unsigned long long* out) {
    unsigned long long bad = 0;
    WGF_GRID_STRIDE(i, count) bad += isfinite(v[i]) ? 0ull : 1ull;
    for (int off = 16; off > 0; off /= 2) bad += __shfl_down_sync(0xffffffffu, bad, off);
    if (threadIdx.x % 32 == 0 && bad != 0) atomicAdd(out, bad);
}

}  // namespace detail
}  // namespace wgf

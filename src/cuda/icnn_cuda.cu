// icnn_cuda.cu — icnn_eval on the device: ψ, ∇ψ, ∇²ψ, log det ∇²ψ for a batch of points, with the
// semantics of icnn_eval_host (src/host/icnn_host.cpp, where the math and the batched layout are
// written out). Dense products are cuBLAS GEMMs over a whole chunk of points; the per-entry steps
// are the kernels of icnn_kernels.cuh; Cholesky runs in a kernel for D ≤ 32 and in cuSOLVER above.
//
// cuBLAS is column-major. The row-major parameter blocks are used in place as column-major views:
//   A_l [D][r][W] = A_cm [rW × D] (ld rW);  B_l [W][D] = B_cm [D × W] (ld D);  C_l [W][W'] = C_cm [W' × W]
//   X   [N][D]    = X_cm [D × N] (ld D), so column p is point p; grad_x [N][D] likewise.
// GEMMs per chunk of P points (host names):
//   S_l = A_cm X             [rW × P]          BX = B_cmᵀ X        [W × P]
//   U_l = C_cmᵀ Z_{l−1}      [W × P]           K_l = C_cmᵀ J_{l−1}  [W × P·D]
//   Δ_{l−1} = C_cm G_l       [W' × P]          H  = Σ_l Pm_l G_l    [D² × P]
//   H_p += K_pᵀ M_p          strided-batched over points, stride W·D, M = diag(e) K
//   ∇ψ_p = K_pᵀ g_p          strided-batched (Hessian path); otherwise Σ_l B_cm G_l + A_cmᵀ R_l
// Chunking bounds the working set by CudaState::scratch_budget (default 1 GiB).
#include <algorithm>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/cublas_wrappers.h"
#include "cuda/icnn_cuda.h"
#include "cuda/icnn_forward_ops.cuh"
#include "cuda/icnn_kernels.cuh"
#include "cuda/scratch_plan.h"
#include "wgf/error.h"

namespace wgf {
namespace detail {
namespace {

static_assert(sizeof(int) == sizeof(std::int32_t), "cuSOLVER's int info array doubles as the int32 status");


// ---- the per-call plan and its scratch layout ----------------------------------------------------------

struct Request {
    bool value, grad, hess;  // hess: ∇²ψ needed (for hess_x or logdet)
    bool hess_out, logdet;   // hess_x given; logdet given
    bool own_status;         // logdet without a status buffer: statuses kept in scratch
    bool potrf;              // logdet with D > kMaxCholeskyDim: cuSOLVER
};

/// Device buffers of one chunk of P points (plus the per-call constants Pm_l and own status).
template <typename T>
struct Workspace {
    std::vector<T*> S, Z, S1, S2, G, K, Pm;  // per layer
    T* BX = nullptr;     // [Wmax × P]  B_l X
    T* U = nullptr;      // [Wmax × P]  C_l Z_{l−1}
    T* Delta = nullptr;  // [Wmax × P]  δ_l
    T* J = nullptr;      // [Wmax × P·D]  J_l, streamed through the layers
    T* M = nullptr;      // [Wmax × P·D]  diag(e_l) K_l
    T* H = nullptr;      // [D² × P]  when hess_x is not an output
    T* F = nullptr;      // [D² × P]  potrf's copy of H (H stays for the pivot floor and re-factorisations)
    T** ptrs = nullptr;  // [P]  potrfBatched's pointer array
    std::int32_t* status = nullptr;  // [N]  own statuses
};

/// Lays the workspace out from `base` (or only sizes it when base is null); returns the bytes.
template <typename T>
std::size_t plan_workspace(const IcnnShape& shape, const Request& req, std::int64_t n, std::int64_t P, char* base,
                           Workspace<T>& ws) {
    const std::int64_t D = shape.dim, r = shape.rank, Wmax = shape.max_width();
    const int L = shape.depth();
    ScratchCarver carve(base);
    const auto takeT = [&](std::int64_t count) { return carve.take<T>(count); };
    ws.S.assign(L, nullptr);
    ws.Z.assign(L, nullptr);
    ws.S1.assign(L, nullptr);
    ws.S2.assign(L, nullptr);
    ws.G.assign(L, nullptr);
    ws.K.assign(L, nullptr);
    ws.Pm.assign(L, nullptr);
    for (int l = 0; l < L; ++l) {
        const std::int64_t W = shape.widths[l];
        ws.S[l] = takeT(r * W * P);
        ws.Z[l] = takeT(W * P);
        ws.S1[l] = takeT(W * P);
        ws.S2[l] = takeT(W * P);
        ws.G[l] = takeT(W * P);
        if (req.hess) {
            ws.K[l] = takeT(W * P * D);
            ws.Pm[l] = takeT(D * D * W);
        }
    }
    ws.BX = takeT(Wmax * P);
    ws.U = takeT(Wmax * P);
    ws.Delta = takeT(Wmax * P);
    if (req.hess) {
        ws.J = takeT(Wmax * P * D);
        ws.M = takeT(Wmax * P * D);
        if (!req.hess_out) ws.H = takeT(D * D * P);
    }
    if (req.potrf) {
        ws.F = takeT(D * D * P);
        ws.ptrs = carve.take<T*>(P);
    }
    if (req.own_status) ws.status = carve.take<std::int32_t>(n);
    return carve.bytes();
}

/// Points per chunk (scratch_plan.h).
template <typename T>
std::int64_t chunk_points(const IcnnShape& shape, const Request& req, std::int64_t n, std::size_t budget) {
    Workspace<T> dummy;
    return chunk_points_fitting(shape, plan_workspace<T>(shape, req, n, 0, nullptr, dummy),
                                plan_workspace<T>(shape, req, n, 1, nullptr, dummy), budget, n);
}

/// One chunk of P points starting at point n0 (the body of icnn_eval_host's eval_block).
template <typename T>
void eval_chunk(CudaState& st, const IcnnShape& shape, const IcnnLayout& layout, const T* params, const Request& req,
                const T* x, std::int64_t n0, int P, IcnnOutputs<T> out, const Workspace<T>& ws) {
    const int D = shape.dim, r = shape.rank, L = shape.depth();
    const T s = static_cast<T>(shape.strong_convexity);
    const cublasHandle_t cb = st.cublas;
    const cudaStream_t stream = st.stream;
    const T* xc = x + n0 * D;  // X_cm [D × P]
    const int PD = P * D;

    // ---- forward (icnn_forward_ops.cuh, shared with training): S, U, Z, σ', σ'' and (Hessian path)
    // the Jacobians K_l, ∇q_l kept only inside them; one U, one δ and one J buffer streamed through the
    // layers; e_l in place of σ''_l -----------------------------------------------------------------------------
    ForwardTensors<T> ft;
    ft.S = ws.S;
    ft.U.assign(L, ws.U);
    ft.Z = ws.Z;
    ft.S1 = ws.S1;
    ft.S2 = ws.S2;
    if (req.hess) ft.DQ = ws.K;  // K_l starts as ∇q_l
    ft.Delta.assign(L, ws.Delta);
    ft.Delta[L - 1] = nullptr;  // c broadcast on the fly
    ft.G = ws.G;
    if (req.hess) {
        ft.E = ws.S2;
        ft.E[0] = nullptr;  // layer 0 is linear: e_0 = 0 is not needed
    }
    ft.K = ws.K;
    ft.J.assign(L, ws.J);
    ft.BX = ws.BX;
    ft.M = ws.M;
    ft.Pm = ws.Pm.data();
    values_forward_cuda(st, shape, layout, params, xc, P, ft);
    const T* c = params + layout.c;
    const int WL = layout.layers[L - 1].width;

    // ---- ψ --------------------------------------------------------------------------------------------
    if (req.value) {
        constexpr int kWarpsPerBlock = kThreads / 32;
        WGF_LAUNCH_KERNEL_COOP(grid_for(P, kWarpsPerBlock), kThreads, stream, value_kernel<T>)(WL, D, P, ws.Z[L - 1], c, xc, s,
                                                                               out.value + n0);
        WGF_LAUNCH_CHECK(stream);
    }
    if (!req.grad && !req.hess) return;

    // ---- reverse (grad_recursion_forward), with the Hessian its assembly in the same pass ------------------
    const int DD = D * D;
    T* H = req.hess_out ? out.hess_x + n0 * DD : ws.H;  // [D² × P]
    grad_recursion_forward_cuda(st, shape, layout, params, P, ft, req.hess ? H : nullptr);

    // ---- ∇ψ ---------------------------------------------------------------------------------------------
    if (req.grad) {
        T* grad = out.grad_x + n0 * D;  // [D × P], ld D
        if (req.hess) {  // ∇ψ_p = K_{L−1,p}ᵀ g_p + s x_p: one (D × W)(W × 1) product per point
            gemm_strided_batched(cb, kT, kN, D, 1, WL, T(1), ws.K[L - 1], WL, static_cast<long long>(WL) * D,
                                 ws.G[L - 1], WL, WL, T(0), grad, D, D, P);
        } else {  // ∇ψ = Σ_l [B_lᵀ G_l + A_lᵀ R_l], R_l = 2 S_l ⊙ g_l (rows t·W + j)
            for (int l = 0; l < L; ++l) {
                const auto& ll = layout.layers[l];
                const int W = ll.width;
                WGF_LAUNCH_KERNEL(grid_for(std::int64_t(r) * W * P), kThreads, stream, scale_projections_kernel<T>)(W, r, P, ws.G[l],
                                                                                                      ws.S[l]);
                WGF_LAUNCH_CHECK(stream);
                gemm(cb, kN, kN, D, P, W, T(1), params + ll.B, D, ws.G[l], W, l == 0 ? T(0) : T(1), grad, D);
                gemm(cb, kT, kN, D, P, r * W, T(1), params + ll.A, r * W, ws.S[l], r * W, T(1), grad, D);
            }
        }
        WGF_LAUNCH_KERNEL(grid_for(PD), kThreads, stream, axpy_kernel<T>)(PD, s, xc, grad);
        WGF_LAUNCH_CHECK(stream);
    }
    if (!req.hess) return;

    // ---- ∇²ψ: + s I, then symmetrise ----------------------------------------------------------------------------
    WGF_LAUNCH_KERNEL(grid_for(PD), kThreads, stream, add_diagonal_kernel<T>)(D, P, s, H);
    WGF_LAUNCH_CHECK(stream);
    T* F = req.potrf ? ws.F : nullptr;  // symmetrize_kernel also writes potrf's copy
    WGF_LAUNCH_KERNEL(grid_for(std::int64_t(DD) * P), kThreads, stream, symmetrize_kernel<T>)(D, P, H, F);
    WGF_LAUNCH_CHECK(stream);
    if (!req.logdet) return;

    // ---- log det by Cholesky; status[p] as in wgf/icnn_status.h ----------------------------------------------
    std::int32_t* status = (req.own_status ? ws.status : out.status) + n0;
    T* logdet = out.logdet + n0;
    if (!req.potrf) {
        cholesky_logdet_cuda<T>(st, D, P, 0, H, T(0), false, nullptr, nullptr, logdet, status, nullptr);
    } else {
        // cuSOLVER potrfBatched: takes an array of device pointers (no strided variant), factorises in
        // place the copy F (H is kept: logdet_from_factor_kernel reads its diagonal for the pivot floor
        // and re-factorises the points potrf rejects), fills only the LOWER triangle (column-major, so
        // the row-major upper one; only the diagonal is read back) and reports info[p] = k > 0 when the
        // leading minor of order k is not PD.
        WGF_LAUNCH_KERNEL(grid_for(P), kThreads, stream, fill_pointers_kernel<T>)(P, F, DD, ws.ptrs);
        WGF_LAUNCH_CHECK(stream);
        potrf_batched(st.cusolver, D, ws.ptrs, D, status, P);
        WGF_LAUNCH_KERNEL(grid_for(P, 32), 32, stream, logdet_from_factor_kernel<T>)(D, P, H, F, logdet, status);
        WGF_LAUNCH_CHECK(stream);
    }
    if (req.value || req.grad) {
        WGF_LAUNCH_KERNEL(grid_for(P), kThreads, stream, mark_nonfinite_outputs_kernel<T>)(
            D, P, req.value ? out.value + n0 : nullptr, req.grad ? out.grad_x + n0 * D : nullptr, logdet, status);
        WGF_LAUNCH_CHECK(stream);
    }
}

}  // namespace

template <typename T>
void icnn_eval_cuda(CudaState& state, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                    IcnnOutputs<T> out) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "icnn_eval_cuda: float or double");
    CudaDeviceGuard guard(state.device);
    const IcnnLayout layout(shape);
    const int D = shape.dim;
    Request req{};
    req.value = out.value != nullptr;
    req.grad = out.grad_x != nullptr;
    req.hess = out.hess_x != nullptr || out.logdet != nullptr;
    req.hess_out = out.hess_x != nullptr;
    req.logdet = out.logdet != nullptr;
    req.own_status = out.logdet != nullptr && out.status == nullptr;
    req.potrf = out.logdet != nullptr && D > kMaxCholeskyDim;

    const std::int64_t P = chunk_points<T>(shape, req, n, state.scratch_budget);
    Workspace<T> ws;
    const std::size_t bytes = plan_workspace<T>(shape, req, n, P, nullptr, ws);
    char* base = static_cast<char*>(cuda_scratch(state, bytes));
    plan_workspace<T>(shape, req, n, P, base, ws);

    // Per-call constants: Pm_l [D² × W_l], column j = P_{l,j}.
    if (req.hess) build_pm_cuda(state, shape, layout, params, ws.Pm.data());
    for (std::int64_t n0 = 0; n0 < n; n0 += P) {
        const int np = static_cast<int>(std::min<std::int64_t>(P, n - n0));
        eval_chunk(state, shape, layout, params, req, x, n0, np, out, ws);
    }
    WGF_CUDA_CHECK(cudaStreamSynchronize(state.stream));

    if (req.own_status) {  // logdet without a status buffer: throw for the first failing point
        std::vector<std::int32_t> status(static_cast<std::size_t>(n));
        WGF_CUDA_CHECK(cudaMemcpyAsync(status.data(), ws.status, status.size() * sizeof(std::int32_t),
                                       cudaMemcpyDeviceToHost, state.stream));
        WGF_CUDA_CHECK(cudaStreamSynchronize(state.stream));
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int32_t code = status[static_cast<std::size_t>(i)];
            if (code != kIcnnOk)
                throw NotPositiveDefinite(i, code, "icnn_eval: Hessian of point " + std::to_string(i) +
                                                       " is not positive definite: " + icnn_status_reason(code) +
                                                       "; pass a status buffer to get per-point results");
        }
    }
}

template <typename T>
std::int64_t count_nonfinite_cuda(CudaState& state, const T* p, std::int64_t count) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "count_nonfinite_cuda: float or double");
    if (count <= 0) return 0;
    CudaDeviceGuard guard(state.device);
    WGF_CUDA_CHECK(cudaMemsetAsync(state.counter, 0, sizeof(unsigned long long), state.stream));
    WGF_LAUNCH_KERNEL_COOP(grid_for(count), kThreads, state.stream, count_nonfinite_kernel<T>)(count, p, state.counter);
    WGF_LAUNCH_CHECK(state.stream);
    unsigned long long bad = 0;
    WGF_CUDA_CHECK(cudaMemcpyAsync(&bad, state.counter, sizeof bad, cudaMemcpyDeviceToHost, state.stream));
    WGF_CUDA_CHECK(cudaStreamSynchronize(state.stream));
    return static_cast<std::int64_t>(bad);
}

template void icnn_eval_cuda<float>(CudaState&, const IcnnShape&, const float*, const float*, std::int64_t,
                                    IcnnOutputs<float>);
template void icnn_eval_cuda<double>(CudaState&, const IcnnShape&, const double*, const double*, std::int64_t,
                                     IcnnOutputs<double>);
template std::int64_t count_nonfinite_cuda<float>(CudaState&, const float*, std::int64_t);
template std::int64_t count_nonfinite_cuda<double>(CudaState&, const double*, std::int64_t);

}  // namespace detail
}  // namespace wgf

// jko_loss_cuda.cu — the training losses and their parameter gradients on the device, the same ops
// and backward rules as the host tape (src/host/jko_loss_host.cpp, icnn_ops_host.cpp,
// icnn_hessian_ops_host.cpp — the math is written there). The op sequence is fixed, so the "tape"
// here is the reverse of the forward code: each backward block below names the host rule it mirrors.
// Dense products are cuBLAS GEMMs over a chunk of points (column-major views of the row-major
// parameter blocks, as icnn_cuda.cu explains); the per-entry steps are train_kernels.cuh.
//
//   JKO:      L = (1/N) Σ_p [ ½‖y_p − x_p‖² + τ Φ(y_p) − τβ⁻¹ log det H_p ],  y = ∇ψ(x), H = ∇²ψ(x)
//   identity: L = (1/(N·D)) Σ_p ‖y_p − x_p‖²
//
// Chunks of P points bound the working set by CudaState::scratch_budget; the parameter gradient
// accumulates over chunks (β = 1 in its GEMMs). Loss sums are reduced in double in a fixed order and
// fetched once at the end with the lowest failing point: results are deterministic.
#include <algorithm>
#include "context_access.h"
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cublas_wrappers.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_forward_ops.cuh"
#include "cuda/scratch_plan.h"
#include "cuda/train_cuda.h"
#include "cuda/train_kernels.cuh"
#include "wgf/error.h"

namespace wgf {
namespace detail {
namespace {

/// Device buffers of one chunk of P points. Adjoints are one contiguous range (one memset).
template <typename T>
struct TrainWorkspace {
    // forward, per layer
    std::vector<T*> S, U, Z, S1, S2, S3, G, Delta, E, DQ, K, J, Pm;
    // adjoints, per layer
    std::vector<T*> Sbar, Ubar, Gbar, Deltabar, DQbar, Kbar;
    std::vector<T*> MA;  // per layer: H̄ Gᵀ [D² × W]
    char* adjoint_begin = nullptr;
    std::size_t adjoint_bytes = 0;
    // shared temporaries
    T *BX = nullptr, *M = nullptr, *Jbar = nullptr, *Zbar = nullptr, *Y = nullptr, *Ybar = nullptr, *phi = nullptr,
      *dphi = nullptr, *H = nullptr, *F = nullptr, *logdet = nullptr, *Hbar = nullptr, *work = nullptr,
      *ones = nullptr, *Btmp = nullptr;
    // per call
    std::int32_t* status = nullptr;     // [n]
    double* sums = nullptr;             // [3] then the failure word
    unsigned long long* failure = nullptr;
};

/// Lays the workspace out from base (or only sizes it when base is null); returns the bytes.
template <typename T>
std::size_t plan_train(const IcnnShape& shape, bool hess, bool jko, std::int64_t n, std::int64_t P, char* base,
                       TrainWorkspace<T>& ws) {
    const std::int64_t D = shape.dim, r = shape.rank, Wmax = shape.max_width(), DD = D * D, PD = P * D;
    const int L = shape.depth();
    ScratchCarver carve(base);
    const auto takeT = [&](std::int64_t count) { return carve.take<T>(count); };
    // fixed part first: sums + failure word, statuses of the whole batch, Pm
    ws.sums = carve.take<double>(4);
    ws.failure = ws.sums ? reinterpret_cast<unsigned long long*>(ws.sums + 3) : nullptr;
    ws.status = hess ? carve.take<std::int32_t>(n) : nullptr;
    for (auto* v : {&ws.S, &ws.U, &ws.Z, &ws.S1, &ws.S2, &ws.S3, &ws.G, &ws.Delta, &ws.E, &ws.DQ, &ws.K, &ws.J, &ws.Pm,
                    &ws.Sbar, &ws.Ubar, &ws.Gbar, &ws.Deltabar, &ws.DQbar, &ws.Kbar, &ws.MA})
        v->assign(L, nullptr);
    if (hess)
        for (int l = 0; l < L; ++l) {
            ws.Pm[l] = takeT(DD * shape.widths[l]);
            ws.MA[l] = takeT(DD * shape.widths[l]);
        }
    for (int l = 0; l < L; ++l) {
        const std::int64_t W = shape.widths[l];
        ws.S[l] = takeT(r * W * P);
        ws.U[l] = takeT(W * P);
        ws.Z[l] = takeT(W * P);
        ws.S1[l] = takeT(W * P);
        ws.S2[l] = takeT(W * P);
        ws.G[l] = takeT(W * P);
        ws.Delta[l] = takeT(W * P);
        ws.DQ[l] = takeT(W * PD);
        if (hess) {
            ws.S3[l] = takeT(W * P);
            ws.E[l] = takeT(W * P);
            if (l >= 1) ws.K[l] = takeT(W * PD);
            if (l >= 1 && l + 1 < L) ws.J[l] = takeT(W * PD);
        }
    }
    const std::size_t adjoint_start = carve.bytes();
    ws.adjoint_begin = base ? base + adjoint_start : nullptr;
    for (int l = 0; l < L; ++l) {
        const std::int64_t W = shape.widths[l];
        ws.Sbar[l] = takeT(r * W * P);
        ws.Ubar[l] = takeT(W * P);
        ws.Gbar[l] = takeT(W * P);
        ws.Deltabar[l] = takeT(W * P);
        ws.DQbar[l] = takeT(W * PD);
        if (hess && l >= 1) ws.Kbar[l] = takeT(W * PD);
    }
    ws.adjoint_bytes = carve.bytes() - adjoint_start;
    ws.BX = takeT(Wmax * P);
    ws.Zbar = takeT(Wmax * P);
    ws.Y = takeT(PD);
    ws.Ybar = takeT(PD);
    ws.ones = takeT(P);
    ws.Btmp = takeT(Wmax * D);
    if (jko) {
        ws.phi = takeT(P);
        ws.dphi = takeT(PD);
    }
    if (hess) {
        ws.M = takeT(Wmax * PD);
        ws.Jbar = takeT(Wmax * PD);
        ws.H = takeT(DD * P);
        ws.F = takeT(DD * P);
        ws.Hbar = takeT(DD * P);
        ws.work = takeT(DD * P);
        ws.logdet = takeT(P);
    }
    return carve.bytes();
}

template <typename T>
std::int64_t train_chunk_points(const IcnnShape& shape, bool hess, bool jko, std::int64_t n, std::size_t budget) {
    TrainWorkspace<T> dummy;
    return chunk_points_fitting(shape, plan_train<T>(shape, hess, jko, n, 0, nullptr, dummy),
                                plan_train<T>(shape, hess, jko, n, 1, nullptr, dummy), budget, n);
}

#define WGF_LAUNCH(kernel, count, ...)                                                   \
    do {                                                                                 \
        WGF_LAUNCH_KERNEL(grid_for(count), kThreads, stream, kernel<T>)(__VA_ARGS__);               \
        WGF_LAUNCH_CHECK(stream);                                                        \
    } while (0)

/// What one chunk needs to know about the loss.
template <typename T>
struct LossSpec {
    bool hess = false;                   // JKO loss (Hessian, log det) vs identity loss
    const Potential<T>* potential = nullptr;
    T w_scale = 0, phi_scale = 0, logdet_scale = 0;  // seeds of ȳ and of logdet̄
    bool scan_potential_input = true;    // Φ through eval() (y scanned: a synchronisation) or eval_unchecked()
};

/// Forward of one chunk (values, gradient recursion, ∇q, ∇ψ, and with hess the Jacobians, ∇²ψ and
/// its Cholesky); the loss terms; then, with dparams, the backward rules in reverse order.
template <typename T>
void train_chunk(Context& ctx, const IcnnShape& shape, const IcnnLayout& layout, const T* params, const T* x,
                 std::int64_t n0, int P, const LossSpec<T>& spec, T* dparams, const TrainWorkspace<T>& ws) {
    CudaState& st = *detail::cuda_state(ctx);
    const int D = shape.dim, r = shape.rank, L = shape.depth(), DD = D * D, PD = P * D;
    const T s = static_cast<T>(shape.strong_convexity);
    const cublasHandle_t cb = st.cublas;
    const cudaStream_t stream = st.stream;
    const T* X = x + n0 * D;  // [D × P]
    const auto Wof = [&](int l) { return layout.layers[l].width; };
    const auto Wprev = [&](int l) { return layout.layers[l].width_prev; };
    const auto A = [&](int l) { return params + layout.layers[l].A; };
    const auto C = [&](int l) { return params + layout.layers[l].C; };

    // ---- the forward ops shared with evaluation (icnn_forward_ops.cuh): values and ∇q_l, the gradient
    // recursion (δ_{L−1} = c kept for the backward), and with hess ∇²ψ; then ∇ψ = Σ_l ∇q_lᵀ g_l + s x
    // (grad_assembly_forward) and the symmetrisation, s I and Cholesky of ∇²ψ in one kernel ------------------
    ForwardTensors<T> ft;
    ft.S = ws.S;
    ft.U = ws.U;
    ft.Z = ws.Z;
    ft.S1 = ws.S1;
    ft.S2 = ws.S2;
    ft.S3 = ws.S3;  // null entries without hess
    ft.DQ = ws.DQ;
    ft.Delta = ws.Delta;
    ft.G = ws.G;
    if (spec.hess) ft.E = ws.E;
    ft.K = ws.K;
    ft.J = ws.J;
    ft.BX = ws.BX;
    ft.M = ws.M;
    ft.Pm = ws.Pm.data();
    values_forward_cuda(st, shape, layout, params, X, P, ft);
    grad_recursion_forward_cuda(st, shape, layout, params, P, ft);
    WGF_LAUNCH(scale_kernel, PD, std::int64_t(PD), s, X, ws.Y);
    for (int l = 0; l < L; ++l) {
        const int W = Wof(l);
        gemm_strided_batched(cb, kT, kN, D, 1, W, T(1), ws.DQ[l], W, static_cast<long long>(W) * D, ws.G[l], W, W, T(1),
                             ws.Y, D, D, P);
    }
    if (spec.hess) {
        hessian_assembly_forward_cuda(st, shape, layout, params, P, ft, ws.H);
        cholesky_logdet_cuda(st, D, P, n0, ws.H, s, true, ws.Y, ws.F, ws.logdet, ws.status + n0, ws.failure);
    }
    // ---- the loss's own terms: potential, W₂, sums -------------------------------------------------------------
    if (spec.potential != nullptr) {
        if (spec.scan_potential_input)
            spec.potential->eval(ctx, ws.Y, P, ws.phi, ws.dphi);
        else
            spec.potential->eval_unchecked(ctx, ws.Y, P, ws.phi, ws.dphi);
    }
    WGF_LAUNCH_KERNEL_COOP(1, kSumThreads, stream, loss_sums_kernel<T>)(D, P, ws.Y, X, spec.potential ? ws.phi : nullptr,
                                                       spec.hess ? ws.logdet : nullptr, ws.sums);
    WGF_LAUNCH_CHECK(stream);
    if (dparams == nullptr) return;

    // ================================ backward ==================================================================
    const auto dA = [&](int l) { return dparams + layout.layers[l].A; };
    const auto dB = [&](int l) { return dparams + layout.layers[l].B; };
    const auto db = [&](int l) { return dparams + layout.layers[l].b; };
    const auto dC = [&](int l) { return dparams + layout.layers[l].C; };
    T* dc = dparams + layout.c;
    WGF_CUDA_CHECK(cudaMemsetAsync(ws.adjoint_begin, 0, ws.adjoint_bytes, stream));
    WGF_LAUNCH(fill_kernel, P, std::int64_t(P), T(1), ws.ones);
    // mean_reduction, w2, potential (or mse): ȳ
    WGF_LAUNCH(y_seed_kernel, PD, std::int64_t(PD), spec.w_scale, spec.phi_scale, ws.Y, X,
               spec.potential ? static_cast<const T*>(ws.dphi) : nullptr, ws.Ybar);
    if (spec.hess) {
        // cholesky_logdet_backward: H̄_p = logdet̄ · H_p⁻¹
        WGF_LAUNCH(logdet_backward_kernel, P, D, P, spec.logdet_scale, ws.F, ws.status + n0, ws.work, ws.Hbar);
        // hessian_assembly_backward (H̄ is exactly symmetric, so its symmetrisation is the identity)
        for (int l = 0; l < L; ++l) {
            const int W = Wof(l);
            gemm(cb, kT, kN, W, P, DD, T(1), ws.Pm[l], DD, ws.Hbar, DD, T(1), ws.Gbar[l], W);
            gemm(cb, kN, kT, DD, W, P, T(1), ws.Hbar, DD, ws.G[l], W, T(0), ws.MA[l], DD);  // Ā's part: A_backward
        }
        // the K_l terms of hessian_assembly_backward and jacobian_recursion_backward, l = L−1 … 1
        for (int l = L - 1; l >= 1; --l) {
            const int W = Wof(l), Wp = Wprev(l);
            const long long stride = static_cast<long long>(W) * D;
            T* R = ws.M;  // R_p = K_p H̄_p
            gemm_strided_batched(cb, kN, kN, W, D, D, T(1), ws.K[l], W, stride, ws.Hbar, D, DD, T(0), R, W, stride, P);
            WGF_LAUNCH(K_backward_kernel, std::int64_t(W) * P, W, D, P, R, ws.K[l], ws.E[l], ws.S1[l], ws.S2[l],
                       ws.Delta[l], ws.S3[l], l + 1 < L ? static_cast<const T*>(ws.Jbar) : nullptr, ws.Kbar[l],
                       ws.Deltabar[l], ws.Ubar[l]);
            const T* Jprev = l == 1 ? ws.DQ[0] : ws.J[l - 1];
            gemm(cb, kN, kT, Wp, W, PD, T(1), Jprev, Wp, ws.Kbar[l], W, T(1), dC(l), Wp);
            gemm(cb, kN, kN, Wp, PD, W, T(1), C(l), Wp, ws.Kbar[l], W, T(0), ws.Jbar, Wp);
        }
    }
    // grad_assembly_backward: DQ̄_l = K̄_l (J̄_0 for l = 0: the Jacobian recursion's adjoints of ∇q_l) +
    // g_{l,p} ȳ_pᵀ, Ḡ_{l,p} += DQ_{l,p} ȳ_p
    for (int l = 0; l < L; ++l) {
        const int W = Wof(l);
        const T* from_jacobians = !spec.hess ? nullptr : l > 0 ? ws.Kbar[l] : L > 1 ? ws.Jbar : nullptr;
        WGF_LAUNCH(grad_assembly_backward_kernel, std::int64_t(W) * PD, W, D, P, ws.G[l], ws.Ybar, from_jacobians,
                   ws.DQbar[l]);
        gemm_strided_batched(cb, kN, kN, W, 1, D, T(1), ws.DQ[l], W, static_cast<long long>(W) * D, ws.Ybar, D, D, T(1),
                             ws.Gbar[l], W, W, P);
    }
    // quad_jacobian_backward: B̄, Ā (with hessian_assembly_backward's part of Ā); its S̄ part is in
    // S_backward_kernel below, with values_backward's
    for (int l = 0; l < L; ++l) {
        const int W = Wof(l);
        gemm(cb, kN, kN, W * D, 1, P, T(1), ws.DQbar[l], W * D, ws.ones, P, T(0), ws.Btmp, W * D);  // [W × D]
        geam(cb, kN, kT, D, W, T(1), dB(l), D, T(1), ws.Btmp, W, dB(l), D);                        // B̄ += Btmpᵀ
        WGF_LAUNCH(A_backward_kernel, std::int64_t(D) * r * W, W, D, r, P,
                   spec.hess ? static_cast<const T*>(ws.MA[l]) : nullptr, A(l), ws.S[l], ws.DQbar[l], dA(l));
    }
    // grad_recursion_backward (l = 0 upwards)
    for (int l = 0; l < L; ++l) {
        const int W = Wof(l);
        WGF_LAUNCH(grad_recursion_backward_kernel, std::int64_t(W) * P, std::int64_t(W) * P, ws.S1[l], ws.S2[l],
                   ws.Delta[l], ws.Gbar[l], ws.Deltabar[l], ws.Ubar[l]);
        if (l + 1 < L) {
            const int Wn = Wof(l + 1);
            gemm(cb, kT, kN, Wn, P, W, T(1), C(l + 1), W, ws.Deltabar[l], W, T(1), ws.Gbar[l + 1], Wn);
            gemm(cb, kN, kT, W, Wn, P, T(1), ws.Deltabar[l], W, ws.G[l + 1], Wn, T(1), dC(l + 1), W);
        }
    }
    gemm(cb, kN, kN, Wof(L - 1), 1, P, T(1), ws.Deltabar[L - 1], Wof(L - 1), ws.ones, P, T(1), dc, Wof(L - 1));
    // values_backward (ψ̄ = 0: the losses do not use ψ's value)
    for (int l = L - 1; l >= 0; --l) {
        const int W = Wof(l), Wp = Wprev(l);
        if (l + 1 < L)
            WGF_LAUNCH(activation_backward_kernel, std::int64_t(W) * P, std::int64_t(W) * P, ws.S1[l], ws.Zbar, ws.Ubar[l]);
        if (l > 0) {
            gemm(cb, kN, kT, Wp, W, P, T(1), ws.Z[l - 1], Wp, ws.Ubar[l], W, T(1), dC(l), Wp);
            gemm(cb, kN, kN, Wp, P, W, T(1), C(l), Wp, ws.Ubar[l], W, T(0), ws.Zbar, Wp);
        }
        gemm(cb, kN, kN, W, 1, P, T(1), ws.Ubar[l], W, ws.ones, P, T(1), db(l), W);
        gemm(cb, kN, kT, D, W, P, T(1), X, D, ws.Ubar[l], W, T(1), dB(l), D);
        WGF_LAUNCH(S_backward_kernel, std::int64_t(r) * W * P, W, D, r, P, A(l), ws.DQbar[l], ws.S[l], ws.Ubar[l],
                   ws.Sbar[l]);
        gemm(cb, kN, kT, r * W, D, P, T(1), ws.Sbar[l], r * W, X, D, T(1), dA(l), r * W);
    }
}

#undef WGF_LAUNCH

/// The bytes of scratch the loss of n points needs (its chunk size fitted to the budget).
template <typename T>
std::size_t loss_scratch_bytes(const CudaState& st, const IcnnShape& shape, bool hess, bool jko, std::int64_t n) {
    const std::int64_t P = train_chunk_points<T>(shape, hess, jko, n, st.scratch_budget);
    TrainWorkspace<T> ws;
    return plan_train<T>(shape, hess, jko, n, P, nullptr, ws);
}

/// The chunk loop shared by the two losses, queued on ctx's stream: the sums [3] (double), the
/// lowest failing point and the per-point statuses are left in the scratch arena (LossOnDevice).
template <typename T>
LossOnDevice enqueue_loss(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                          const LossSpec<T>& spec, T* dparams) {
    CudaState& st = *detail::cuda_state(ctx);
    CudaDeviceGuard guard(st.device);
    const IcnnLayout layout(shape);
    const bool jko = spec.potential != nullptr;
    const std::int64_t P = train_chunk_points<T>(shape, spec.hess, jko, n, st.scratch_budget);
    TrainWorkspace<T> ws;
    const std::size_t bytes = plan_train<T>(shape, spec.hess, jko, n, P, nullptr, ws);
    char* base = static_cast<char*>(cuda_scratch(st, bytes));
    plan_train<T>(shape, spec.hess, jko, n, P, base, ws);
    const cudaStream_t stream = st.stream;
    WGF_CUDA_CHECK(cudaMemsetAsync(ws.sums, 0, 3 * sizeof(double), stream));
    WGF_CUDA_CHECK(cudaMemsetAsync(ws.failure, 0xFF, sizeof(unsigned long long), stream));
    if (dparams) WGF_CUDA_CHECK(cudaMemsetAsync(dparams, 0, layout.total * sizeof(T), stream));
    if (spec.hess)
        for (int l = 0; l < shape.depth(); ++l) {
            const int W = shape.widths[l];
            WGF_LAUNCH_KERNEL(grid_for(std::int64_t(shape.dim) * shape.dim * W), kThreads, stream, build_pm_kernel<T>)(
                W, shape.dim, shape.rank, params + layout.layers[l].A, ws.Pm[l]);
            WGF_LAUNCH_CHECK(stream);
        }
    for (std::int64_t n0 = 0; n0 < n; n0 += P)
        train_chunk(ctx, shape, layout, params, x, n0, static_cast<int>(std::min<std::int64_t>(P, n - n0)), spec, dparams,
                    ws);
    return LossOnDevice{ws.sums, spec.hess ? ws.failure : nullptr, ws.status};
}

/// enqueue_loss, then the sums read back (one synchronisation); a failing point throws
/// NotPositiveDefinite. Returns the sums [3].
template <typename T>
std::vector<double> run_loss(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                             const LossSpec<T>& spec, T* dparams, const char* who) {
    const LossOnDevice out = enqueue_loss(ctx, shape, params, x, n, spec, dparams);
    CudaState& st = *detail::cuda_state(ctx);
    CudaDeviceGuard guard(st.device);
    const cudaStream_t stream = st.stream;
    double host[4];
    WGF_CUDA_CHECK(cudaMemcpyAsync(host, out.sums, sizeof host, cudaMemcpyDeviceToHost, stream));
    WGF_CUDA_CHECK(cudaStreamSynchronize(stream));
    unsigned long long failed = 0;
    static_assert(sizeof failed == sizeof(double), "failure word");
    std::memcpy(&failed, &host[3], sizeof failed);
    if (spec.hess && failed != std::numeric_limits<unsigned long long>::max()) {
        std::int32_t code = 0;
        WGF_CUDA_CHECK(cudaMemcpyAsync(&code, out.status + failed, sizeof code, cudaMemcpyDeviceToHost, stream));
        WGF_CUDA_CHECK(cudaStreamSynchronize(stream));
        const auto point = static_cast<std::int64_t>(failed);
        throw NotPositiveDefinite(point, code, std::string(who) + ": Hessian of batch point " + std::to_string(point) +
                                                   " is not positive definite: " + icnn_status_reason(code) +
                                                   "; the loss is undefined");
    }
    return {host[0], host[1], host[2]};
}

}  // namespace

namespace {
template <typename T>
LossSpec<T> jko_spec(const Potential<T>& potential, const JkoLossOptions& opt, std::int64_t n) {
    LossSpec<T> spec;
    spec.hess = true;
    spec.potential = &potential;
    spec.w_scale = static_cast<T>(1.0 / double(n));
    spec.phi_scale = static_cast<T>(opt.tau / double(n));
    spec.logdet_scale = static_cast<T>(-opt.tau / opt.beta / double(n));
    return spec;
}
}  // namespace

JkoLossValue jko_loss_from_sums(const double* sums, std::int64_t n, const JkoLossOptions& opt) {
    JkoLossValue v;
    v.w2 = sums[0] / double(n);
    v.potential = sums[1] / double(n);
    v.logdet = sums[2] / double(n);
    v.total = v.w2 + opt.tau * v.potential - opt.tau / opt.beta * v.logdet;
    return v;
}

template <typename T>
JkoLossValue jko_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                           const Potential<T>& potential, const JkoLossOptions& opt, T* dL_dparams) {
    const std::vector<double> sums = run_loss(ctx, shape, params, x, n, jko_spec(potential, opt, n), dL_dparams,
                                              "jko_loss");
    return jko_loss_from_sums(sums.data(), n, opt);
}

template <typename T>
LossOnDevice enqueue_jko_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                                   const Potential<T>& potential, const JkoLossOptions& opt, T* dL_dparams) {
    LossSpec<T> spec = jko_spec(potential, opt, n);
    spec.scan_potential_input = false;
    return enqueue_loss(ctx, shape, params, x, n, spec, dL_dparams);
}

template <typename T>
void reserve_jko_loss_cuda(Context& ctx, const IcnnShape& shape, std::int64_t n) {
    CudaState& st = *detail::cuda_state(ctx);
    CudaDeviceGuard guard(st.device);
    (void)cuda_scratch(st, loss_scratch_bytes<T>(st, shape, true, true, n));
}

template <typename T>
double identity_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                          T* dL_dparams) {
    LossSpec<T> spec;
    spec.w_scale = static_cast<T>(2.0 / double(n * shape.dim));
    const std::vector<double> sums = run_loss(ctx, shape, params, x, n, spec, dL_dparams, "identity_loss");
    return 2.0 * sums[0] / double(n * shape.dim);  // sums[0] = Σ ½‖y − x‖²
}

template JkoLossValue jko_loss_cuda<float>(Context&, const IcnnShape&, const float*, const float*, std::int64_t,
                                           const Potential<float>&, const JkoLossOptions&, float*);
template JkoLossValue jko_loss_cuda<double>(Context&, const IcnnShape&, const double*, const double*, std::int64_t,
                                            const Potential<double>&, const JkoLossOptions&, double*);
template LossOnDevice enqueue_jko_loss_cuda<float>(Context&, const IcnnShape&, const float*, const float*, std::int64_t,
                                                   const Potential<float>&, const JkoLossOptions&, float*);
template LossOnDevice enqueue_jko_loss_cuda<double>(Context&, const IcnnShape&, const double*, const double*,
                                                    std::int64_t, const Potential<double>&, const JkoLossOptions&,
                                                    double*);
template void reserve_jko_loss_cuda<float>(Context&, const IcnnShape&, std::int64_t);
template void reserve_jko_loss_cuda<double>(Context&, const IcnnShape&, std::int64_t);
template double identity_loss_cuda<float>(Context&, const IcnnShape&, const float*, const float*, std::int64_t, float*);
template double identity_loss_cuda<double>(Context&, const IcnnShape&, const double*, const double*, std::int64_t,
                                           double*);

}  // namespace detail
}  // namespace wgf

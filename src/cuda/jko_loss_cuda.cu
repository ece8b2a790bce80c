// jko_loss_cuda.cu — the training losses and their parameter gradients on the device, the same ops
// and backward rules as the host tape (src/host/jko_loss_host.cpp, icnn_ops_host.cpp,
// icnn_hessian_ops_host.cpp — the math is written there). The op sequence is fixed, so the "tape"
// here is the reverse of the forward code: the forward ops are icnn_forward_ops.cuh (shared with
// evaluation), the backward ops icnn_backward_ops.cuh, each named after the host op it mirrors, on
// the chunk's workspace (train_workspace.cuh); this file adds the loss's own terms and the chunk loop.
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
#include "cuda/train_workspace.cuh"
#include "cuda/icnn_backward_ops.cuh"
#include "wgf/error.h"

namespace wgf {
namespace detail {
namespace {

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

/// Forward of one chunk (values with the Jacobians, gradient recursion with ∇²ψ, ∇ψ, the Cholesky of
/// ∇²ψ: icnn_forward_ops.cuh); the loss terms; then, with dparams, the backward rules in reverse order
/// (icnn_backward_ops.cuh).
template <typename T>
void train_chunk(Context& ctx, const IcnnShape& shape, const IcnnLayout& layout, const T* params, const T* x,
                 std::int64_t n0, int P, const LossSpec<T>& spec, T* dparams, const TrainWorkspace<T>& ws) {
    CudaState& st = *detail::cuda_state(ctx);
    const int D = shape.dim, PD = P * D;
    const T s = static_cast<T>(shape.strong_convexity);
    const cudaStream_t stream = st.stream;
    const T* X = x + n0 * D;  // [D × P]

    // ---- the forward ops shared with evaluation: values and ∇q_l (with the Jacobians K_l, J_l), the
    // gradient recursion (δ_{L−1} = c kept for the backward) with the assembly of ∇²ψ, ∇ψ = Σ_l ∇q_lᵀ g_l + s x,
    // and the symmetrisation, s I and Cholesky of ∇²ψ in one kernel -----------------------------------------------
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
    grad_recursion_forward_cuda(st, shape, layout, params, P, ft, spec.hess ? ws.H : nullptr);
    grad_assembly_forward_cuda(st, shape, layout, X, P, ft, ws.Y);
    if (spec.hess) cholesky_logdet_cuda(st, D, P, n0, ws.H, s, true, ws.Y, ws.F, ws.logdet, ws.status + n0, ws.failure);
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
    const ParamGrads<T> grads{layout, dparams};
    WGF_CUDA_CHECK(cudaMemsetAsync(ws.adjoint_begin, 0, ws.adjoint_bytes, stream));
    // mean_reduction, w2, potential (or mse): ȳ
    WGF_LAUNCH(y_seed_kernel, PD, std::int64_t(PD), spec.w_scale, spec.phi_scale, ws.Y, X,
               spec.potential ? static_cast<const T*>(ws.dphi) : nullptr, ws.Ybar);
    if (spec.hess) {
        cholesky_logdet_backward_cuda(st, D, P, spec.logdet_scale, ws.status + n0, ws);
        hessian_assembly_backward_cuda(st, shape, layout, P, ws);
    }
    grad_assembly_backward_cuda(st, shape, layout, P, ws);
    grad_recursion_backward_cuda(st, shape, layout, params, P, spec.hess, ws, grads);  // Δ̄ up
    values_backward_cuda(st, shape, layout, params, X, P, spec.hess, ws, grads);       // K̄ and Ū down
    quad_jacobian_backward_cuda(st, shape, layout, params, P, spec.hess, ws, grads);
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
    if (spec.hess) build_pm_cuda(st, shape, layout, params, ws.Pm.data());
    WGF_LAUNCH_KERNEL(grid_for(P), kThreads, stream, fill_kernel<T>)(P, T(1), ws.ones);
    WGF_LAUNCH_CHECK(stream);
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

namespace {
template <typename T>
LossSpec<T> identity_spec(const IcnnShape& shape, std::int64_t n) {
    LossSpec<T> spec;
    spec.w_scale = static_cast<T>(2.0 / double(n * shape.dim));
    return spec;
}
}  // namespace

template <typename T>
double identity_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                          T* dL_dparams) {
    const std::vector<double> sums =
        run_loss(ctx, shape, params, x, n, identity_spec<T>(shape, n), dL_dparams, "identity_loss");
    return 2.0 * sums[0] / double(n * shape.dim);  // sums[0] = Σ ½‖y − x‖²
}

template <typename T>
LossOnDevice enqueue_identity_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x,
                                        std::int64_t n, T* dL_dparams) {
    return enqueue_loss(ctx, shape, params, x, n, identity_spec<T>(shape, n), dL_dparams);
}

template <typename T>
void reserve_identity_loss_cuda(Context& ctx, const IcnnShape& shape, std::int64_t n) {
    CudaState& st = *detail::cuda_state(ctx);
    CudaDeviceGuard guard(st.device);
    (void)cuda_scratch(st, loss_scratch_bytes<T>(st, shape, false, false, n));
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
template LossOnDevice enqueue_identity_loss_cuda<float>(Context&, const IcnnShape&, const float*, const float*,
                                                        std::int64_t, float*);
template LossOnDevice enqueue_identity_loss_cuda<double>(Context&, const IcnnShape&, const double*, const double*,
                                                         std::int64_t, double*);
template void reserve_identity_loss_cuda<float>(Context&, const IcnnShape&, std::int64_t);
template void reserve_identity_loss_cuda<double>(Context&, const IcnnShape&, std::int64_t);

}  // namespace detail
}  // namespace wgf

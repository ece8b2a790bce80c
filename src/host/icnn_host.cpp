// icnn_host.cpp — host reference for ψ, ∇ψ, ∇²ψ and log det ∇²ψ of the ICNN on a batch of points.
//
// Math (DESIGN.md §2; layers 0-based here, l = 0..L−1, layer 0 has no activation):
//   s_{l,t,j} = a_{l,t,j}·x,   q_{l,j} = Σ_t s_{l,t,j}² + (B_l x)_j + b_{l,j}
//   u_0 = q_0, z_0 = u_0;   u_l = C_l z_{l−1} + q_l, z_l = σ(u_l)                 (forward)
//   ψ = c·z_{L−1} + (s/2)‖x‖²
//   δ_{L−1} = c;  g_l = σ'(u_l) ⊙ δ_l (g_0 = δ_0);  δ_{l−1} = C_lᵀ g_l              (reverse)
//   ∇q_l (W_l×D): row j = 2 Σ_t s_{l,t,j} a_{l,t,j} + B_{l,j}
//   K_0 = ∇q_0, J_0 = K_0;  K_l = C_l J_{l−1} + ∇q_l, J_l = diag(σ'(u_l)) K_l       (Jacobians)
//   ∇ψ = K_{L−1}ᵀ g_{L−1} + s x  = Σ_l ∇q_lᵀ g_l + s x                            (two equal forms)
//   ∇²ψ = s I + Σ_{l≥1} K_lᵀ diag(δ_l ⊙ σ''(u_l)) K_l + Σ_l Σ_j g_{l,j} P_{l,j},
//         P_{l,j} = 2 Σ_t a_{l,t,j} a_{l,t,j}ᵀ   (the constant Hessian of q_{l,j})
//   log det ∇²ψ = 2 Σ log L_ii,  ∇²ψ = L Lᵀ (Cholesky; failure is reported per point).
//
// Batched form, for a block of P points (column n of a [·×P] matrix is point n):
//   S_l = X A_l                 [P × rW_l]   (A_l viewed as [D × rW_l] row-major)
//   U_l = C_l Z_{l−1} + Q_l     [W_l × P]    GEMM
//   K_l = C_l J_{l−1} + ∇Q_l    [W_l × P·D]  GEMM; columns n·D..n·D+D−1 are point n's W_l×D Jacobian
//   H_quad = Pm_l G_l           [D² × P]     GEMM; Pm_l [D² × W_l] holds the P_{l,j} (built once)
// The per-point remainder (Kᵀ diag(e) K, Cholesky) runs inside the block. Blocks are spread over
// threads; each thread owns its workspace and Eigen runs single-threaded inside it.
// The ops themselves (forward + backward rules) are in icnn_ops_host.cpp and
// icnn_hessian_ops_host.cpp; this file drives them for evaluation.
#include "icnn_host.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "icnn_block_host.h"
#include "denormals.h"
#include "parallel_errors.h"
#include "wgf/error.h"

namespace wgf {
namespace detail {

int host_block_points(const IcnnShape& shape, std::int64_t n, int threads, bool hess) {
    // The Jacobian blocks K_l are W·P·D values: keep each near 2^18 entries (1–2 MB, cache-sized but
    // wide enough for efficient GEMMs), 4 ≤ P ≤ 256; and give each thread about four blocks (not
    // fewer than 16 points each) so that dynamic scheduling balances the load.
    const double per_point = hess ? double(shape.max_width()) * shape.dim : double(shape.max_width());
    int P = static_cast<int>(std::clamp(double(1 << 18) / per_point, 4.0, 256.0));
    const std::int64_t balanced = std::max<std::int64_t>(16, (n + 4 * threads - 1) / (4 * threads));
    if (balanced < P) P = static_cast<int>(balanced);
    if (threads > 1 && n < static_cast<std::int64_t>(P) * threads)
        P = static_cast<int>(std::max<std::int64_t>(1, (n + threads - 1) / threads));
    return P;
}

namespace {
/// A point whose requested ψ or ∇ψ is not finite gets kIcnnNonFinite (and logdet NaN), whatever its
/// Hessian: its outputs are not usable (wgf/icnn_status.h).
template <typename T>
void mark_nonfinite_outputs(const IcnnOutputs<T>& out, std::int64_t n0, int P, int D) {
    for (std::int64_t p = n0; p < n0 + P; ++p) {
        bool finite = !out.value || std::isfinite(out.value[p]);
        for (int d = 0; finite && out.grad_x && d < D; ++d) finite = std::isfinite(out.grad_x[p * D + d]);
        if (!finite) {
            out.status[p] = kIcnnNonFinite;
            out.logdet[p] = std::numeric_limits<T>::quiet_NaN();
        }
    }
}

template <typename T>
void eval_block(const HostNet<T>& net, const T* x, std::int64_t n0, int P, IcnnOutputs<T> out, IcnnBlock<T>& blk) {
    const int D = net.shape.dim;
    const bool need_hess = out.hess_x || out.logdet;
    blk.set_points(x + n0 * D, P, D);
    values_forward(net, blk, /*need_s3=*/false, /*need_psi=*/out.value != nullptr);
    if (out.value) std::copy(blk.psi.data(), blk.psi.data() + P, out.value + n0);
    if (!out.grad_x && !need_hess) return;
    grad_recursion_forward(net, blk);
    quad_jacobian_forward(net, blk);
    if (out.grad_x) {
        grad_assembly_forward(net, blk);
        std::copy(blk.Y.data(), blk.Y.data() + static_cast<std::ptrdiff_t>(P) * D, out.grad_x + n0 * D);
    }
    if (!need_hess) return;
    jacobian_recursion_forward(net, blk);
    hessian_assembly_forward(net, blk);
    if (out.hess_x)
        std::copy(blk.H.data(), blk.H.data() + static_cast<std::ptrdiff_t>(P) * D * D, out.hess_x + n0 * D * D);
    if (out.logdet) {
        cholesky_logdet_forward(net, blk);
        std::copy(blk.logdet.data(), blk.logdet.data() + P, out.logdet + n0);
        std::copy(blk.status.begin(), blk.status.end(), out.status + n0);
        mark_nonfinite_outputs(out, n0, P, D);
    }
}
}  // namespace

template <typename T>
void icnn_eval_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                    IcnnOutputs<T> out) {
    const bool need_hess = out.hess_x || out.logdet;
    const HostNet<T> net(shape, params, need_hess);

    // logdet without a status buffer: collect statuses internally, throw on the first failure.
    std::vector<std::int32_t> own_status;
    if (out.logdet && !out.status) {
        own_status.assign(static_cast<std::size_t>(n), 0);
        out.status = own_status.data();
    }

    const int P = host_block_points(shape, n, threads, need_hess);
    const std::int64_t blocks = (n + P - 1) / P;
    ParallelErrors errors;
#pragma omp parallel num_threads(threads)
    {
        const FlushDenormals flush_denormals;  // softplus tails: no denormal slow paths (denormals.h)
        static thread_local IcnnBlock<T> blk;  // reused across calls: no page faults per call
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::int64_t n0 = b * P;
            errors.run(b, [&] { eval_block(net, x, n0, static_cast<int>(std::min<std::int64_t>(P, n - n0)), out, blk); });
        }
    }
    errors.rethrow();

    for (std::size_t i = 0; i < own_status.size(); ++i)
        if (own_status[i] != kIcnnOk)
            throw NotPositiveDefinite(static_cast<std::int64_t>(i), own_status[i],
                                      "icnn_eval: Hessian of point " + std::to_string(i) + " is not positive definite: " +
                                          icnn_status_reason(own_status[i]) +
                                          "; pass a status buffer to get per-point results");
}

template <typename T>
std::int64_t count_nonfinite_host(const T* p, std::int64_t count) {
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < count; ++i) bad += std::isfinite(p[i]) ? 0 : 1;
    return bad;
}

template void icnn_eval_host<float>(int, const IcnnShape&, const float*, const float*, std::int64_t, IcnnOutputs<float>);
template void icnn_eval_host<double>(int, const IcnnShape&, const double*, const double*, std::int64_t,
                                     IcnnOutputs<double>);
template std::int64_t count_nonfinite_host<float>(const float*, std::int64_t);
template std::int64_t count_nonfinite_host<double>(const double*, std::int64_t);

}  // namespace detail
}  // namespace wgf

// potential_host.cpp — host reference of the built-in potentials on a batch y [n][D] (row-major).
//
//   Quadratic:  d = y − m,  Φ = ½ dᵀ A d,  ∇Φ = A d                          (A symmetric)
//   Mixture:    d_k = y − μ_k,  ℓ_k = log w_k − ½ log det(2π Σ_k) − ½ d_kᵀ P_k d_k,  P_k = Σ_k⁻¹
//               M = max_k ℓ_k,  S = log Σ_k exp(ℓ_k − M) + M   (log-sum-exp: every term ≤ 1, one = 1,
//               so S is finite however far y is from every μ_k)
//               Φ = −β⁻¹ S,  ∇Φ = β⁻¹ Σ_k r_k P_k d_k,  r_k = exp(ℓ_k − S) ∈ [0, 1], Σ r_k = 1
// Internally everything is double whatever T is: the inputs are converted once per point, and only
// the results are rounded to T. Points are independent; OpenMP spreads them over the threads.
#include "potential_host.h"
#include "wgf/detail/builtin_potentials.h"

#include "eigen_core.h"
#include <algorithm>
#include <cmath>
#include <vector>

#include "wgf/detail/cholesky.h"
#include "wgf/error.h"
#include "parallel_errors.h"

namespace wgf {
namespace detail {

std::vector<double> spd_cholesky(const char* who, const char* what, std::vector<double>& A, int D) {
    WGF_CHECK(D >= 1, who << ": " << what << ": dimension must be >= 1, got " << D);
    const std::size_t DD = static_cast<std::size_t>(D) * static_cast<std::size_t>(D);
    WGF_CHECK(A.size() == DD, who << ": " << what << " has " << A.size() << " entries, expected D*D = " << DD
                                  << " for D = " << D);
    double max_abs = 0;
    for (std::size_t i = 0; i < DD; ++i) {
        WGF_CHECK(std::isfinite(A[i]), who << ": " << what << " entry (" << i / D << ", " << i % D
                                           << ") is not finite (" << A[i] << ")");
        max_abs = std::max(max_abs, std::fabs(A[i]));
    }
    // Symmetry up to rounding (a matrix computed as U diag Uᵀ is symmetric only to ~1e-16 relative).
    for (int i = 0; i < D; ++i)
        for (int j = i + 1; j < D; ++j) {
            const double a = A[static_cast<std::size_t>(i) * D + j], b = A[static_cast<std::size_t>(j) * D + i];
            WGF_CHECK(std::fabs(a - b) <= 1e-10 * max_abs,
                      who << ": " << what << " is not symmetric: entry (" << i << ", " << j << ") = " << a
                          << " but (" << j << ", " << i << ") = " << b);
            A[static_cast<std::size_t>(i) * D + j] = A[static_cast<std::size_t>(j) * D + i] = 0.5 * (a + b);
        }
    std::vector<double> L = A;
    const int status = cholesky_lower_inplace(L.data(), D);  // the rule of wgf/icnn_status.h
    WGF_CHECK(status == kIcnnOk, who << ": " << what << " is not positive definite (" << D << "x" << D << ", Cholesky: "
                                     << icnn_status_name(status) << ")");
    for (int i = 0; i < D; ++i)
        for (int j = i + 1; j < D; ++j) L[static_cast<std::size_t>(i) * D + j] = 0.0;
    return L;
}

std::vector<double> spd_inverse_from_cholesky(const std::vector<double>& L, int D) {
    using MatR = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const MatR> Lm(L.data(), D, D);
    // L⁻¹ by a triangular solve, then (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹.
    const MatR Linv = Lm.triangularView<Eigen::Lower>().solve(MatR::Identity(D, D));
    MatR P = Linv.transpose() * Linv;
    P = (0.5 * (P + P.transpose())).eval();
    return std::vector<double>(P.data(), P.data() + static_cast<std::ptrdiff_t>(D) * D);
}

namespace {
/// Spread the n points over threads only when there is enough work to pay for the fork.
int threads_for(int threads, std::int64_t n, double flops_per_point) {
    return double(n) * flops_per_point < 2e5 ? 1 : std::max(1, threads);
}
}  // namespace

template <typename T>
void quadratic_eval_host(int threads, int D, const double* A, const double* m, const T* y, std::int64_t n, T* value,
                         T* grad) {
    const int nt = threads_for(threads, n, 2.0 * D * D);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t p = 0; p < n; ++p)
        quadratic_point(D, A, m, y + p * D, value ? value + p : nullptr, grad ? grad + p * D : nullptr);
}

template <typename T>
void mixture_eval_host(int threads, int D, int K, double beta, const double* logw, const double* means,
                       const double* precision, const T* y, std::int64_t n, T* value, T* grad) {
    const int nt = threads_for(threads, n, 2.0 * K * D * D);
    ParallelErrors errors;  // only the scratch allocation can throw; the loop body is arithmetic
#pragma omp parallel num_threads(nt)
    {
        std::vector<double> scratch;
        const bool ready = errors.run(-1, [&] { scratch.resize(4 * static_cast<std::size_t>(D)); });
#pragma omp for schedule(static)
        for (std::int64_t p = 0; p < n; ++p) {
            if (!ready) continue;
            mixture_point(D, K, beta, logw, means, precision, y + p * D, scratch.data(), value ? value + p : nullptr,
                          grad ? grad + p * D : nullptr);
        }
    }
    errors.rethrow();
}

template void quadratic_eval_host<float>(int, int, const double*, const double*, const float*, std::int64_t, float*,
                                         float*);
template void quadratic_eval_host<double>(int, int, const double*, const double*, const double*, std::int64_t,
                                          double*, double*);
template void mixture_eval_host<float>(int, int, int, double, const double*, const double*, const double*,
                                       const float*, std::int64_t, float*, float*);
template void mixture_eval_host<double>(int, int, int, double, const double*, const double*, const double*,
                                        const double*, std::int64_t, double*, double*);

}  // namespace detail
}  // namespace wgf

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
    ParallelErrors errors;  // only the scratch allocation can throw; the loop body is arithmetic
#pragma omp parallel num_threads(nt)
    {
        std::vector<double> d;
        const bool ready = errors.run(-1, [&] { d.resize(static_cast<std::size_t>(D)); });
#pragma omp for schedule(static)
        for (std::int64_t p = 0; p < n; ++p) {
            if (!ready) continue;
            const T* yp = y + p * D;
            for (int i = 0; i < D; ++i) d[i] = static_cast<double>(yp[i]) - m[i];
            double phi = 0;
            for (int i = 0; i < D; ++i) {
                const double* Ai = A + static_cast<std::size_t>(i) * D;
                double Ad = 0;
                for (int j = 0; j < D; ++j) Ad += Ai[j] * d[j];
                phi += d[i] * Ad;
                if (grad) grad[p * D + i] = static_cast<T>(Ad);
            }
            if (value) value[p] = static_cast<T>(0.5 * phi);
        }
    }
    errors.rethrow();
}

template <typename T>
void mixture_eval_host(int threads, int D, int K, double beta, const double* logw, const double* means,
                       const double* precision, const T* y, std::int64_t n, T* value, T* grad) {
    const std::size_t DD = static_cast<std::size_t>(D) * static_cast<std::size_t>(D);
    const int nt = threads_for(threads, n, 2.0 * K * D * D);
    ParallelErrors errors;  // only the scratch allocation can throw; the loop body is arithmetic
#pragma omp parallel num_threads(nt)
    {
        std::vector<double> yd, d, Pd, ell;  // Pd: P_k d_k, kept for the gradient
        const bool ready = errors.run(-1, [&] {
            yd.resize(static_cast<std::size_t>(D));
            d.resize(static_cast<std::size_t>(D));
            Pd.resize(static_cast<std::size_t>(K) * D);
            ell.resize(static_cast<std::size_t>(K));
        });
#pragma omp for schedule(static)
        for (std::int64_t p = 0; p < n; ++p) {
            if (!ready) continue;
            for (int i = 0; i < D; ++i) yd[i] = static_cast<double>(y[p * D + i]);
            double M = -INFINITY;
            for (int k = 0; k < K; ++k) {
                const double* mu = means + static_cast<std::size_t>(k) * D;
                const double* P = precision + k * DD;
                double* Pdk = Pd.data() + static_cast<std::size_t>(k) * D;
                for (int i = 0; i < D; ++i) d[i] = yd[i] - mu[i];
                double q = 0;
                for (int i = 0; i < D; ++i) {
                    const double* Pi = P + static_cast<std::size_t>(i) * D;
                    double s = 0;
                    for (int j = 0; j < D; ++j) s += Pi[j] * d[j];
                    Pdk[i] = s;
                    q += d[i] * s;
                }
                ell[k] = logw[k] - 0.5 * q;
                M = std::max(M, ell[k]);
            }
            double sum = 0;
            for (int k = 0; k < K; ++k) sum += std::exp(ell[k] - M);
            const double S = M + std::log(sum);  // sum ∈ [1, K]
            if (value) value[p] = static_cast<T>(-S / beta);
            if (grad) {
                for (int i = 0; i < D; ++i) d[i] = 0;
                for (int k = 0; k < K; ++k) {
                    const double r = std::exp(ell[k] - S);
                    const double* Pdk = Pd.data() + static_cast<std::size_t>(k) * D;
                    for (int i = 0; i < D; ++i) d[i] += r * Pdk[i];
                }
                for (int i = 0; i < D; ++i) grad[p * D + i] = static_cast<T>(d[i] / beta);
            }
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

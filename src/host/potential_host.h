// potential_host.h (private) — the host backend of the built-in potentials (QuadraticPotential,
// GaussianMixturePotential), plus the symmetric-positive-definite check shared by the potentials and
// the metrics (src/metrics.cpp). Points y [n][D] row-major in host memory; parameters in double.
#pragma once

#include <cstdint>
#include <vector>

namespace wgf {
namespace detail {

/// Checks that A ([D][D] row-major) is finite, symmetric (|A_ij − A_ji| ≤ 1e-10 · max|A|) and
/// positive definite (Cholesky), symmetrises it in place ((A + Aᵀ)/2), and returns its lower Cholesky
/// factor L ([D][D] row-major, strict upper triangle zero). Throws wgf::Error naming `who` and `what`
/// (e.g. "GaussianMixturePotential", "covariance 2") and the offending entry or Cholesky row.
std::vector<double> spd_cholesky(const char* who, const char* what, std::vector<double>& A, int D);

/// (L Lᵀ)⁻¹ from a lower Cholesky factor L [D][D]; exactly symmetric.
std::vector<double> spd_inverse_from_cholesky(const std::vector<double>& L, int D);

/// Φ(y) = ½ (y − m)ᵀ A (y − m), ∇Φ = A (y − m), computed in double. value [n] / grad [n][D] may be
/// null (not both; checked by the caller). threads ≥ 1.
template <typename T>
void quadratic_eval_host(int threads, int D, const double* A, const double* m, const T* y, std::int64_t n, T* value,
                         T* grad);

/// Φ(y) = −β⁻¹ log Σ_k exp(ℓ_k(y)),  ℓ_k = logw_k − ½ (y − μ_k)ᵀ P_k (y − μ_k)   (log-sum-exp),
/// ∇Φ = β⁻¹ Σ_k r_k P_k (y − μ_k),   r_k = exp(ℓ_k − log Σ_j exp ℓ_j)   (responsibilities).
/// logw [K], means [K][D], precision [K][D][D] (P_k = Σ_k⁻¹). Computed in double. threads ≥ 1.
template <typename T>
void mixture_eval_host(int threads, int D, int K, double beta, const double* logw, const double* means,
                       const double* precision, const T* y, std::int64_t n, T* value, T* grad);

}  // namespace detail
}  // namespace wgf

// cublas_wrappers.h (private) — cuBLAS / cuSOLVER calls overloaded by precision, each checked
// (a failure throws wgf::Error naming the call). Column-major, as cuBLAS.
#pragma once

#include <cublas_v2.h>
#include <cusolverDn.h>

#include "cuda/cuda_check.h"

namespace wgf {
namespace detail {

inline void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
          const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    WGF_CUBLAS_CHECK(cublasSgemm(h, ta, tb, m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc));
}
inline void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, double alpha,
          const double* A, int lda, const double* B, int ldb, double beta, double* C, int ldc) {
    WGF_CUBLAS_CHECK(cublasDgemm(h, ta, tb, m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc));
}
inline void gemm_strided_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                          float alpha, const float* A, int lda, long long sa, const float* B, int ldb, long long sb,
                          float beta, float* C, int ldc, long long sc, int batch) {
    WGF_CUBLAS_CHECK(
        cublasSgemmStridedBatched(h, ta, tb, m, n, k, &alpha, A, lda, sa, B, ldb, sb, &beta, C, ldc, sc, batch));
}
inline void gemm_strided_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                          double alpha, const double* A, int lda, long long sa, const double* B, int ldb,
                          long long sb, double beta, double* C, int ldc, long long sc, int batch) {
    WGF_CUBLAS_CHECK(
        cublasDgemmStridedBatched(h, ta, tb, m, n, k, &alpha, A, lda, sa, B, ldb, sb, &beta, C, ldc, sc, batch));
}
inline void potrf_batched(cusolverDnHandle_t h, int n, float** A, int lda, int* info, int batch) {
    WGF_CUSOLVER_CHECK(cusolverDnSpotrfBatched(h, CUBLAS_FILL_MODE_LOWER, n, A, lda, info, batch));
}
inline void potrf_batched(cusolverDnHandle_t h, int n, double** A, int lda, int* info, int batch) {
    WGF_CUSOLVER_CHECK(cusolverDnDpotrfBatched(h, CUBLAS_FILL_MODE_LOWER, n, A, lda, info, batch));
}

/// C = α op(A) + β op(B) (cublas<t>geam; in place when C == A, ldc == lda and op(A) = N).
inline void geam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, float alpha, const float* A,
                 int lda, float beta, const float* B, int ldb, float* C, int ldc) {
    WGF_CUBLAS_CHECK(cublasSgeam(h, ta, tb, m, n, &alpha, A, lda, &beta, B, ldb, C, ldc));
}
inline void geam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, double alpha,
                 const double* A, int lda, double beta, const double* B, int ldb, double* C, int ldc) {
    WGF_CUBLAS_CHECK(cublasDgeam(h, ta, tb, m, n, &alpha, A, lda, &beta, B, ldb, C, ldc));
}

inline constexpr cublasOperation_t kN = CUBLAS_OP_N;
inline constexpr cublasOperation_t kT = CUBLAS_OP_T;

}  // namespace detail
}  // namespace wgf

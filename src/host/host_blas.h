// host_blas.h (private) — the host backend's dense matrix product: column-major GEMM through
// OpenBLAS (chosen over Eigen's product by benchmark: ~60–70 vs ~35–48 GFLOP/s per core for the
// W×W × W×(P·D) products at W ≥ 512; equal at W = 64; see docs/PERFORMANCE.md). OpenBLAS runs
// single-threaded inside our OpenMP blocks. It is loaded at the first product, with its kernels chosen
// from the CPU's features (wgf/host_blas.h: host_blas_info() says which, and why).
//   C = alpha · op(A) · op(B) + beta · C,  op(A) is m×k, op(B) is k×n, C is m×n.
#pragma once

#include <cstdint>

namespace wgf {
namespace detail {

template <typename T>
void blas_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
               std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

}  // namespace detail
}  // namespace wgf

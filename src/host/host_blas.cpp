// host_blas.cpp — see host_blas.h.
#include "host_blas.h"

#include <cblas.h>

#include <mutex>

#include "wgf/error.h"

extern "C" void openblas_set_num_threads(int);

namespace wgf {
namespace detail {

namespace {
void blas_init() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });  // parallelism is ours (blocks of points)
}
template <typename T>
void check_dims(std::int64_t m, std::int64_t n, std::int64_t k) {
    WGF_CHECK(m < (std::int64_t(1) << 31) && n < (std::int64_t(1) << 31) && k < (std::int64_t(1) << 31),
              "blas_gemm: dimensions exceed the 32-bit BLAS interface (" << m << ", " << n << ", " << k << ")");
}
}  // namespace

template <>
void blas_gemm<float>(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
                      std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
    blas_init();
    check_dims<float>(m, n, k);
    cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
                c, static_cast<int>(ldc));
}

template <>
void blas_gemm<double>(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
                       std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
    blas_init();
    check_dims<double>(m, n, k);
    cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
                c, static_cast<int>(ldc));
}

}  // namespace detail
}  // namespace wgf

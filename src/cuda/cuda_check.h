// cuda_check.h (private) — error checks for the CUDA backend. One generic macro turns a failed
// status of any CUDA library into a wgf::Error carrying the expression, file:line and the library's
// message; WGF_CUDA_CHECK / WGF_CUBLAS_CHECK / WGF_CUSOLVER_CHECK derive from it.
// WGF_SYNC_CHECK(stream) synchronises and checks after a launch only when WGF_DEBUG_SYNC is defined.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <string>

#include "wgf/error.h"

namespace wgf {
namespace detail {

inline std::string cuda_status_message(cudaError_t e) {
    return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

inline std::string cuda_status_message(cublasStatus_t e) {
    return std::string(cublasGetStatusName(e)) + ": " + cublasGetStatusString(e);
}

inline std::string cuda_status_message(cusolverStatus_t e) {
    switch (e) {
        case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
        case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
        case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
        case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
        case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
        case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
        case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
        default: return "cusolverStatus_t " + std::to_string(static_cast<int>(e));
    }
}

}  // namespace detail
}  // namespace wgf

/// WGF_CUDA_CHECK_GEN(expr, success, library): evaluate expr once; if its status is not `success`,
/// throw wgf::Error "file:line: <library> error <name: text> [check: expr]".
#define WGF_CUDA_CHECK_GEN(expr, success, library)                                                     \
    do {                                                                                                \
        const auto wgf_status_ = (expr);                                                                \
        if (wgf_status_ != (success)) {                                                                 \
            ::wgf::detail::throw_error(__FILE__, __LINE__, #expr,                                       \
                                       std::string(library) + " error " +                               \
                                           ::wgf::detail::cuda_status_message(wgf_status_));            \
        }                                                                                               \
    } while (0)

#define WGF_CUDA_CHECK(expr) WGF_CUDA_CHECK_GEN(expr, cudaSuccess, "CUDA")
#define WGF_CUBLAS_CHECK(expr) WGF_CUDA_CHECK_GEN(expr, CUBLAS_STATUS_SUCCESS, "cuBLAS")
#define WGF_CUSOLVER_CHECK(expr) WGF_CUDA_CHECK_GEN(expr, CUSOLVER_STATUS_SUCCESS, "cuSOLVER")

/// After a kernel launch: catches launch errors at once, and (WGF_DEBUG_SYNC) execution errors at the
/// launch that caused them rather than at the next synchronisation.
#ifdef WGF_DEBUG_SYNC
#define WGF_SYNC_CHECK(stream) WGF_CUDA_CHECK(cudaStreamSynchronize(stream))
#else
#define WGF_SYNC_CHECK(stream) \
    do {                       \
        (void)(stream);        \
    } while (0)
#endif

/// Launch check used after every <<<...>>>: the launch status, then WGF_SYNC_CHECK.
#define WGF_LAUNCH_CHECK(stream)                  \
    do {                                          \
        WGF_CUDA_CHECK(cudaGetLastError());       \
        WGF_SYNC_CHECK(stream);                   \
    } while (0)

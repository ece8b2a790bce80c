// cuda_state.h (private) — the CUDA backend state behind a wgf::Context (declared opaque in
// wgf/context.h): device ordinal, stream, cuBLAS and cuSOLVER handles, and a growable arena of
// device scratch memory reused across calls. Only src/cuda/*.cu include this header.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstddef>
#include <string>

namespace wgf {
namespace detail {

struct CudaState {
    int device = -1;                     ///< CUDA device ordinal
    std::string name;                    ///< cudaDeviceProp::name
    cudaStream_t stream = nullptr;       ///< every launch and library call of this context runs here
    cublasHandle_t cublas = nullptr;     ///< bound to `stream`, CUBLAS_DEFAULT_MATH (no TF32)
    cusolverDnHandle_t cusolver = nullptr;  ///< bound to `stream`
    void* scratch = nullptr;             ///< the arena: device memory reused by every call
    std::size_t scratch_bytes = 0;       ///< its size
    std::size_t scratch_budget = 0;      ///< soft bound on the per-call working set (bytes); calls chunk their points to fit
    unsigned long long* counter = nullptr;  ///< one device word for reductions (count_nonfinite)
};

/// The arena with at least `bytes` bytes. Growing frees the old block (cudaFree synchronises the
/// device), so pointers from earlier calls are invalid afterwards; callers carve it per call.
void* cuda_scratch(CudaState& state, std::size_t bytes);

/// Makes `device` current for the guard's lifetime and restores the previous device after.
class CudaDeviceGuard {
public:
    explicit CudaDeviceGuard(int device);
    ~CudaDeviceGuard();
    CudaDeviceGuard(const CudaDeviceGuard&) = delete;
    CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

private:
    int m_previous = -1;
};

}  // namespace detail
}  // namespace wgf

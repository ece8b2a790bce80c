// icnn_cuda.h (private) — the CUDA backend's plain C++ interface, so that the dispatcher
// (src/icnn.cpp, src/context.cpp) compiles with g++. Implemented in src/cuda/*.cu; only built when
// WGF_WITH_CUDA is defined.
#pragma once

#include <cstdint>
#include <string>

#include "wgf/icnn.h"

namespace wgf {
namespace detail {

/// Number of CUDA devices visible (0 when there is no driver or no device; never throws).
int cuda_device_count();

/// Device, stream, cuBLAS/cuSOLVER handles and reusable scratch memory of one Context.
CudaState* cuda_state_create(int device);  // throws wgf::Error
void cuda_state_destroy(CudaState* state) noexcept;
std::string cuda_state_describe(const CudaState& state);
void cuda_state_synchronize(CudaState& state);

/// icnn_eval on device pointers (params, x and every output in device memory). Arguments were
/// validated by the dispatcher. Semantics identical to icnn_eval_host (src/host/icnn_host.cpp),
/// including the status / NotPositiveDefinite contract.
template <typename T>
void icnn_eval_cuda(CudaState& state, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                    IcnnOutputs<T> out);

/// Number of NaN/±Inf entries of a device array.
template <typename T>
std::int64_t count_nonfinite_cuda(CudaState& state, const T* p, std::int64_t count);

}  // namespace detail
}  // namespace wgf

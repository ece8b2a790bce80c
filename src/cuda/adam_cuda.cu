// adam_cuda.cu — the Adam step (the element rule of wgf/detail/adam_update.h, as the host) and the
// ICNN convexity projection on device parameters.
#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_kernels.cuh"
#include "cuda/train_cuda.h"
#include "cuda/train_kernels.cuh"
#include "wgf/detail/adam_update.h"

namespace wgf {
namespace detail {
namespace {

template <typename T>
__global__ void adam_kernel(std::int64_t count, AdamScalars<T> k, T* __restrict__ params, const T* __restrict__ grad,
                            T* __restrict__ m, T* __restrict__ v) {
    WGF_GRID_STRIDE(i, count) adam_update(k, params[i], grad[i], m[i], v[i]);
}

}  // namespace

template <typename T>
void adam_step_cuda(CudaState& st, std::size_t size, const AdamOptions& opt, std::int64_t t, T* params, const T* grad,
                    T* m, T* v) {
    CudaDeviceGuard guard(st.device);
    const AdamScalars<T> k = adam_scalars<T>(opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay, t);
    const auto count = static_cast<std::int64_t>(size);
    WGF_LAUNCH_KERNEL(grid_for(count), kThreads, st.stream, adam_kernel<T>)(count, k, params, grad, m, v);
    WGF_LAUNCH_CHECK(st.stream);
}

template <typename T>
void icnn_project_cuda(CudaState& st, const IcnnShape& shape, T* params) {
    CudaDeviceGuard guard(st.device);
    for (const auto& block : IcnnLayout(shape).nonnegative_blocks()) {
        const auto count = static_cast<std::int64_t>(block.end - block.begin);
        WGF_LAUNCH_KERNEL(grid_for(count), kThreads, st.stream, clamp_nonnegative_kernel<T>)(count, params + block.begin);
        WGF_LAUNCH_CHECK(st.stream);
    }
}

template void adam_step_cuda<float>(CudaState&, std::size_t, const AdamOptions&, std::int64_t, float*, const float*,
                                    float*, float*);
template void adam_step_cuda<double>(CudaState&, std::size_t, const AdamOptions&, std::int64_t, double*, const double*,
                                     double*, double*);
template void icnn_project_cuda<float>(CudaState&, const IcnnShape&, float*);
template void icnn_project_cuda<double>(CudaState&, const IcnnShape&, double*);

}  // namespace detail
}  // namespace wgf

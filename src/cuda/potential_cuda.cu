// potential_cuda.cu — the built-in potentials on the device, one thread per point: the per-point
// functions of wgf/detail/builtin_potentials.h (the host's too), in double whatever T is.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_cuda.h"
#include "cuda/icnn_kernels.cuh"
#include "cuda/train_cuda.h"
#include "wgf/detail/builtin_potentials.h"

namespace wgf {
namespace detail {
namespace {

template <typename T>
__global__ void quadratic_kernel(int D, std::int64_t n, const double* __restrict__ A, const double* __restrict__ m,
                                 const T* __restrict__ y, T* __restrict__ value, T* __restrict__ grad) {
    WGF_GRID_STRIDE(p, n) {
        quadratic_point(D, A, m, y + p * D, value != nullptr ? value + p : nullptr, grad != nullptr ? grad + p * D : nullptr);
    }
}

template <typename T>
__global__ void mixture_kernel(int D, int K, double beta, std::int64_t n, const double* __restrict__ logw,
                               const double* __restrict__ means, const double* __restrict__ precision,
                               const T* __restrict__ y, T* __restrict__ value, T* __restrict__ grad) {
    double scratch[4 * kMixtureMaxDim];
    WGF_GRID_STRIDE(p, n) {
        mixture_point(D, K, beta, logw, means, precision, y + p * D, scratch, value != nullptr ? value + p : nullptr,
                      grad != nullptr ? grad + p * D : nullptr);
    }
}

}  // namespace

template <typename T>
void quadratic_eval_cuda(CudaState& st, int D, const double* A, const double* m, const T* y, std::int64_t n, T* value,
                         T* grad) {
    CudaDeviceGuard guard(st.device);
    WGF_LAUNCH_KERNEL(grid_for(n, 128), 128, st.stream, quadratic_kernel<T>)(D, n, A, m, y, value, grad);
    WGF_LAUNCH_CHECK(st.stream);
}

template <typename T>
void mixture_eval_cuda(CudaState& st, int D, int K, double beta, const double* logw, const double* means,
                       const double* precision, const T* y, std::int64_t n, T* value, T* grad) {
    CudaDeviceGuard guard(st.device);
    WGF_LAUNCH_KERNEL(grid_for(n, 128), 128, st.stream, mixture_kernel<T>)(D, K, beta, n, logw, means, precision, y, value, grad);
    WGF_LAUNCH_CHECK(st.stream);
}

std::shared_ptr<const double> upload_doubles_cuda(CudaState& st, const std::vector<double>& values) {
    CudaDeviceGuard guard(st.device);
    double* p = nullptr;
    const std::size_t bytes = std::max<std::size_t>(1, values.size()) * sizeof(double);
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        WGF_FAIL("potential: cannot allocate " << bytes << " bytes for its parameters on " << cuda_state_describe(st)
                                               << " (" << cudaGetErrorString(e) << ")");
    }
    const int device = st.device;
    std::shared_ptr<const double> owner(p, [device](const double* q) {  // never throws
        int previous = -1;
        const bool switch_device = cudaGetDevice(&previous) == cudaSuccess && previous != device;
        if (switch_device) (void)cudaSetDevice(device);
        (void)cudaFree(const_cast<double*>(q));
        if (switch_device) (void)cudaSetDevice(previous);
    });
    if (!values.empty())
        WGF_CUDA_CHECK(cudaMemcpyAsync(p, values.data(), values.size() * sizeof(double), cudaMemcpyHostToDevice, st.stream));
    WGF_CUDA_CHECK(cudaStreamSynchronize(st.stream));
    return owner;
}

int cuda_state_device(const CudaState& st) { return st.device; }

template void quadratic_eval_cuda<float>(CudaState&, int, const double*, const double*, const float*, std::int64_t,
                                         float*, float*);
template void quadratic_eval_cuda<double>(CudaState&, int, const double*, const double*, const double*, std::int64_t,
                                          double*, double*);
template void mixture_eval_cuda<float>(CudaState&, int, int, double, const double*, const double*, const double*,
                                       const float*, std::int64_t, float*, float*);
template void mixture_eval_cuda<double>(CudaState&, int, int, double, const double*, const double*, const double*,
                                        const double*, std::int64_t, double*, double*);

}  // namespace detail
}  // namespace wgf

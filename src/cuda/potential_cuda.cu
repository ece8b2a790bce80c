// potential_cuda.cu — the built-in potentials on the device, one thread per point, computed in
// double like the host versions (src/host/potential_host.cpp, where the formulas are written out):
//   quadratic  Φ = ½ dᵀ A d, ∇Φ = A d, d = y − m
//   mixture    Φ = −β⁻¹ log Σ_k exp ℓ_k,  ℓ_k = logw_k − ½ d_kᵀ P_k d_k,  ∇Φ = β⁻¹ Σ_k r_k P_k d_k
// The mixture's log-sum-exp runs online in a first pass over k (running max and rescaled sum); the
// gradient pass recomputes P_k d_k, so no per-component storage is needed.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_cuda.h"
#include "cuda/icnn_kernels.cuh"
#include "cuda/train_cuda.h"

namespace wgf {
namespace detail {
namespace {

template <typename T>
__global__ void quadratic_kernel(int D, std::int64_t n, const double* __restrict__ A, const double* __restrict__ m,
                                 const T* __restrict__ y, T* __restrict__ value, T* __restrict__ grad) {
    WGF_GRID_STRIDE(p, n) {
        const T* yp = y + p * D;
        double phi = 0;
        for (int i = 0; i < D; ++i) {
            double Ad = 0;
            for (int j = 0; j < D; ++j) Ad += A[std::int64_t(i) * D + j] * (double(yp[j]) - m[j]);
            phi += (double(yp[i]) - m[i]) * Ad;
            if (grad != nullptr) grad[p * D + i] = static_cast<T>(Ad);
        }
        if (value != nullptr) value[p] = static_cast<T>(0.5 * phi);
    }
}

/// (P d)_i for component k, d = y − μ_k.
__device__ __forceinline__ double precision_times_diff(int D, int i, const double* P, const double* y,
                                                       const double* mu) {
    double s = 0;
    for (int j = 0; j < D; ++j) s += P[std::int64_t(i) * D + j] * (y[j] - mu[j]);
    return s;
}

template <typename T>
__global__ void mixture_kernel(int D, int K, double beta, std::int64_t n, const double* __restrict__ logw,
                               const double* __restrict__ means, const double* __restrict__ precision,
                               const T* __restrict__ y, T* __restrict__ value, T* __restrict__ grad) {
    double yd[kMixtureMaxDim], g[kMixtureMaxDim];
    const std::int64_t dd = std::int64_t(D) * D;
    WGF_GRID_STRIDE(p, n) {
        for (int i = 0; i < D; ++i) yd[i] = double(y[p * D + i]);
        double M = -INFINITY, sum = 0;  // online log-sum-exp of ℓ_k
        for (int k = 0; k < K; ++k) {
            const double* mu = means + std::int64_t(k) * D;
            double q = 0;
            for (int i = 0; i < D; ++i) q += (yd[i] - mu[i]) * precision_times_diff(D, i, precision + k * dd, yd, mu);
            const double ell = logw[k] - 0.5 * q;
            if (ell > M) {
                sum = sum * exp(M - ell) + 1.0;
                M = ell;
            } else {
                sum += exp(ell - M);
            }
        }
        const double S = M + log(sum);
        if (value != nullptr) value[p] = static_cast<T>(-S / beta);
        if (grad == nullptr) continue;
        for (int i = 0; i < D; ++i) g[i] = 0;
        for (int k = 0; k < K; ++k) {
            const double* mu = means + std::int64_t(k) * D;
            double q = 0;
            for (int i = 0; i < D; ++i) q += (yd[i] - mu[i]) * precision_times_diff(D, i, precision + k * dd, yd, mu);
            const double r = exp(logw[k] - 0.5 * q - S);
            for (int i = 0; i < D; ++i) g[i] += r * precision_times_diff(D, i, precision + k * dd, yd, mu);
        }
        for (int i = 0; i < D; ++i) grad[p * D + i] = static_cast<T>(g[i] / beta);
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

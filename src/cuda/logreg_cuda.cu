// logreg_cuda.cu — the Bayesian logistic-regression posterior potential on the device, one thread per
// point: logreg_point of wgf/detail/logreg_point.h (the host's loop too), in double whatever T is.
// The training rows and labels are device copies made once per device (src/logreg.cpp).
#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_kernels.cuh"
#include "cuda/train_cuda.h"
#include "wgf/detail/logreg_point.h"

namespace wgf {
namespace detail {
namespace {

template <typename T>
__global__ void logreg_kernel(LogregConstants k, const double* __restrict__ X, const double* __restrict__ labels,
                              const std::int64_t* __restrict__ rows, std::int64_t m, double scale, std::int64_t n,
                              const T* __restrict__ y, T* __restrict__ value, T* __restrict__ grad) {
    double g[kLogregMaxFeatures];
    const std::int64_t D = k.d + 1;
    WGF_GRID_STRIDE(p, n) {
        logreg_point(k, X, labels, rows, m, scale, y + p * D, g, value != nullptr ? value + p : nullptr,
                     grad != nullptr ? grad + p * D : nullptr);
    }
}

}  // namespace

template <typename T>
void logreg_eval_cuda(CudaState& st, const LogregConstants& k, const double* X, const double* labels,
                      const std::int64_t* rows, std::int64_t m, double scale, const T* y, std::int64_t n, T* value,
                      T* grad) {
    CudaDeviceGuard guard(st.device);
    WGF_LAUNCH_KERNEL(grid_for(n, 128), 128, st.stream, logreg_kernel<T>)(k, X, labels, rows, m, scale, n, y, value,
                                                                          grad);
    WGF_LAUNCH_CHECK(st.stream);
}

template void logreg_eval_cuda<float>(CudaState&, const LogregConstants&, const double*, const double*,
                                      const std::int64_t*, std::int64_t, double, const float*, std::int64_t, float*,
                                      float*);
template void logreg_eval_cuda<double>(CudaState&, const LogregConstants&, const double*, const double*,
                                       const std::int64_t*, std::int64_t, double, const double*, std::int64_t, double*,
                                       double*);

}  // namespace detail
}  // namespace wgf

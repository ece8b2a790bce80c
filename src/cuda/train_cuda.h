// train_cuda.h (private) — the CUDA backend of training: the losses with their parameter gradients
// (jko_loss_cuda.cu), the Adam step and the convexity projection (adam_cuda.cu), and the built-in
// potentials (potential_cuda.cu). Plain C++ interface, so that the dispatchers (src/jko_loss.cpp,
// src/adam.cpp, src/potential.cpp, src/icnn.cpp) compile with g++. Every pointer is device memory;
// arguments were validated by the dispatcher. Semantics identical to the host versions named below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "wgf/adam.h"
#include "wgf/detail/logreg_point.h"
#include "wgf/context.h"
#include "wgf/icnn.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

namespace wgf {
namespace detail {

/// jko_loss_host (src/host/jko_loss_host.cpp) on ctx's device.
template <typename T>
JkoLossValue jko_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                           const Potential<T>& potential, const JkoLossOptions& options, T* dL_dparams);
/// Where a loss queued on a device leaves its results (scratch memory of the context: valid until
/// the next call that uses the context's scratch arena).
struct LossOnDevice {
    const double* sums = nullptr;                       ///< [3]: Σ ½‖y−x‖², Σ Φ(y), Σ log det H
    const unsigned long long* first_failure = nullptr;  ///< lowest point whose Hessian failed, or ~0
    const std::int32_t* status = nullptr;               ///< [n] per-point status (wgf/icnn_status.h)
};
/// jko_loss_cuda without its read-back: the loss and dL_dparams are queued on ctx's stream and
/// nothing waits for them (no copy, no synchronisation; Φ through eval_unchecked). Non-finite
/// results are the caller's to detect from the sums and the failure word.
template <typename T>
LossOnDevice enqueue_jko_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                                   const Potential<T>& potential, const JkoLossOptions& options, T* dL_dparams);
/// Grows ctx's scratch arena to what the JKO loss of n points needs, so that later calls allocate
/// nothing (growing synchronises the device).
template <typename T>
void reserve_jko_loss_cuda(Context& ctx, const IcnnShape& shape, std::int64_t n);
/// identity_loss_cuda without its read-back (sums[0] = Σ ½‖∇ψ(x) − x‖², sums[1] = sums[2] = 0; no
/// Hessian, so first_failure is null), and its scratch reserved as reserve_jko_loss_cuda does.
template <typename T>
LossOnDevice enqueue_identity_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x,
                                        std::int64_t n, T* dL_dparams);
template <typename T>
void reserve_identity_loss_cuda(Context& ctx, const IcnnShape& shape, std::int64_t n);
/// The loss value from the sums [3] of n points (jko_loss's definition).
JkoLossValue jko_loss_from_sums(const double* sums, std::int64_t n, const JkoLossOptions& options);
/// identity_loss_host on ctx's device.
template <typename T>
double identity_loss_cuda(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                          T* dL_dparams);

/// adam_step_host (src/host/adam_host.cpp): one step on `size` elements, moments m, v.
template <typename T>
void adam_step_cuda(CudaState& state, std::size_t size, const AdamOptions& opt, std::int64_t t, T* params,
                    const T* grad, T* m, T* v);

/// Icnn::project on device parameters: C_l (l ≥ 1) and c clamped to ≥ 0.
template <typename T>
void icnn_project_cuda(CudaState& state, const IcnnShape& shape, T* params);

/// quadratic_eval_host: A [D][D], m [D] in device memory (double).
template <typename T>
void quadratic_eval_cuda(CudaState& state, int D, const double* A, const double* m, const T* y, std::int64_t n,
                         T* value, T* grad);
/// mixture_eval_host: logw [K], means [K][D], precision [K][D][D] in device memory (double); D ≤ kMixtureMaxDim.
constexpr int kMixtureMaxDim = 64;
template <typename T>
void mixture_eval_cuda(CudaState& state, int D, int K, double beta, const double* logw, const double* means,
                       const double* precision, const T* y, std::int64_t n, T* value, T* grad);

/// LogisticPosteriorPotential's eval (wgf/detail/logreg_point.h) on the device: X [N][d], labels [N]
/// and rows [m] (or null: rows 0 … m−1) in device memory; d ≤ kLogregMaxFeatures (a thread's
/// scratch; larger d is staged through the host).
constexpr int kLogregMaxFeatures = 128;
template <typename T>
void logreg_eval_cuda(CudaState& state, const LogregConstants& k, const double* X, const double* labels,
                      const std::int64_t* rows, std::int64_t m, double scale, const T* y, std::int64_t n, T* value,
                      T* grad);

/// A copy of `values` in the device memory of `state`'s device, freed (on that device) when the last
/// owner lets go. Used to keep the built-in potentials' parameters on the device.
std::shared_ptr<const double> upload_doubles_cuda(CudaState& state, const std::vector<double>& values);
/// The device ordinal of a CUDA context state.
int cuda_state_device(const CudaState& state);

}  // namespace detail
}  // namespace wgf

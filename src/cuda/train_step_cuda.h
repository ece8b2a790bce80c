// train_step_cuda.h (private) — one JKO step's training iterations (or a stretch of the identity
// pretraining) on the device with no host round trip inside the step (issue 11): everything the step
// needs is on the device or uploaded once at its start (the pool of ρ^k points, which the JKO solver
// keeps on the device; the rows of every iteration's batch; the Adam scalars of every iteration), the
// loss values are recorded on the device, and a failure (a Hessian that is not positive definite, a
// non-finite loss or gradient) is caught by a device status word: it records the first failing
// iteration and freezes the parameters there, so the host can report the failure with the
// parameters and the batch that produced it. The status and the recorded losses are read once, at
// the end of the step. Plain C++ interface (src/jko.cpp compiles with g++).
//
// One iteration = gather the batch from the pool, or draw it (the pretraining's fresh ρ⁰ batches) (1 launch), the JKO loss and its gradient
// (enqueue_jko_loss_cuda), the status update (1 launch), Adam + convexity projection + tail
// averaging fused (1 launch). The same arithmetic as the host loop of JkoSolver::run (Adam, then the
// projection, on each element), so the two backends train the same maps up to rounding.
#pragma once

#include <cstdint>
#include <vector>

#include "wgf/adam.h"
#include "wgf/context.h"
#include "wgf/detail/counter_sampler.h"
#include "wgf/icnn.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

namespace wgf {
namespace detail {

/// What one step trains on; host memory read during the call (the pool may be device memory).
template <typename T>
struct DeviceStepPlan {
    const T* pool = nullptr;                  ///< [pool_n][D] ρ^k samples
    std::int64_t pool_n = 0;
    bool pool_on_device = false;              ///< pool is device memory (the solver's, kept across steps)
    const std::int64_t* rows = nullptr;       ///< [iterations][batch] pool rows of each iteration's batch
    /// Instead of pool and rows: each iteration's batch drawn on the device, point b of iteration it
    /// = counter_sample_point(*draw, keys[it], b) (wgf/detail/counter_sampler.h), as the host draws it.
    const CounterSampler* draw = nullptr;
    const std::uint64_t* keys = nullptr;      ///< [iterations], with draw
    std::int64_t batch = 0;
    int iterations = 0;
    const double* lr = nullptr;               ///< [iterations] learning rate of each iteration
    AdamOptions adam;                         ///< β₁, β₂, ε, weight decay (lr is taken from `lr`)
    int average_from = -1;                    ///< iterations ≥ this are summed into param_sum; < 0: none
    /// Adam's state across calls (a stage trained in several calls): moments [2P] (m, then v), in and
    /// out, nullptr = fresh zeros; adam_step0 = the Adam steps taken before this call's first iteration.
    T* moments = nullptr;
    std::int64_t adam_step0 = 0;
};

enum class DeviceStepFailure : int { None = 0, NotPositiveDefinite = 1, LossNotFinite = 2, GradientNotFinite = 3 };

struct DeviceStepResult {
    std::vector<JkoLossValue> losses;  ///< [iterations done]: the loss of each iteration (up to the failing one)
    DeviceStepFailure failure = DeviceStepFailure::None;
    int failed_iteration = -1;
    std::int64_t point = -1;           ///< NotPositiveDefinite: the lowest failing batch point
    std::int32_t code = 0;             ///< its status (wgf/icnn_status.h)
    std::int64_t bad_gradient = 0;     ///< GradientNotFinite: NaN/Inf entries of dL/dθ
    std::vector<double> param_sum;     ///< Σ of the parameters after iterations ≥ average_from
};

/// Trains `params` (host memory, [layout.total]; in: the step's start, out: the last iterate, or on
/// failure the parameters the failing iteration started from) for plan.iterations iterations, on the
/// JKO loss with `potential`, or with potential = nullptr on the identity regression of the
/// pretraining (identity_loss: the batches are then the pretraining's draws, each used once).
template <typename T>
DeviceStepResult train_step_cuda(Context& ctx, const IcnnShape& shape, const Potential<T>* potential,
                                 const JkoLossOptions& options, const DeviceStepPlan<T>& plan, T* params);

}  // namespace detail
}  // namespace wgf

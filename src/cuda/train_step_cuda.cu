// train_step_cuda.cu — one JKO step's iterations on the device without host round trips (the
// contract and the iteration's kernels are in train_step_cuda.h). The loss is jko_loss_cuda's
// (jko_loss_cuda.cu), queued without its read-back; Adam's element rule is wgf/detail/adam_update.h,
// as on the host.
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

#include "context_access.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_kernels.cuh"
#include "cuda/train_cuda.h"
#include "cuda/train_kernels.cuh"
#include "cuda/train_step_cuda.h"
#include "device_memory.h"
#include "wgf/detail/adam_update.h"
#include "wgf/error.h"
#include "wgf/logreg.h"

namespace wgf {
namespace detail {
// A named namespace, not an anonymous one: the iteration's lambda in train_step_cuda (external
// linkage) captures these types.
namespace train_step {

constexpr unsigned long long kNoFailure = std::numeric_limits<unsigned long long>::max();

/// The device status word of a step: the first failing iteration and why (DeviceStepFailure).
struct StepStatus {
    unsigned long long failed_iteration;
    long long point;         // NotPositiveDefinite: lowest failing point
    long long bad_gradient;  // GradientNotFinite: NaN/Inf entries of the gradient
    int reason;
    int code;
};

/// Device memory of `count` elements of E, freed with the object.
template <typename E>
class DeviceArray {
public:
    explicit DeviceArray(std::size_t count) : m_p(static_cast<E*>(device_malloc(std::max<std::size_t>(count, 1) * sizeof(E)))) {}
    ~DeviceArray() { device_free(m_p); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    E* get() const { return m_p; }

private:
    E* m_p;
};

// The iteration number lives on the device (`iteration`, one int): the gather reads it, the status
// kernel reads it and advances it, and Adam reads the advanced value, so the kernels of every
// iteration have the same arguments and one captured iteration (a CUDA graph) replays them all.

/// out[b][d] = pool[rows[it][b]][d] for the batch of N points (`count` = N·D entries), it = *iteration.
template <typename T>
__global__ void gather_rows_kernel(std::int64_t count, int D, std::int64_t N, const int* __restrict__ iteration,
                                   const std::int64_t* __restrict__ rows, const T* __restrict__ pool,
                                   T* __restrict__ out) {
    const std::int64_t* r = rows + std::int64_t(*iteration) * N;
    WGF_GRID_STRIDE(i, count) out[i] = pool[r[i / D] * D + i % D];
}

/// The batch of iteration it = *iteration drawn on the device: point b = counter_sample_point(law,
/// keys[it], b), the host's draw (wgf/detail/counter_sampler.h). Thread ↔ point.
template <typename T>
__global__ void draw_batch_kernel(std::int64_t N, CounterSamplerView law, const int* __restrict__ iteration,
                                  const std::uint64_t* __restrict__ keys, T* __restrict__ out) {
    const std::uint64_t key = keys[*iteration];
    WGF_GRID_STRIDE(b, N) counter_sample_point(law, key, b, out + b * law.dim);
}

/// After the loss of iteration it = *iteration: records its sums, counts the gradient's NaN/Inf
/// entries, and (no earlier failure) sets the status if the Hessian failed, the sums or the
/// gradient are not finite; then *iteration = it + 1. One block of kSumThreads threads.
template <typename T>
__global__ void iteration_status_kernel(int* iteration, std::int64_t P, const double* __restrict__ sums,
                                        const unsigned long long* __restrict__ first_failure,
                                        const std::int32_t* __restrict__ point_status, const T* __restrict__ grad,
                                        double* __restrict__ record, StepStatus* status) {
    __shared__ unsigned long long part[kSumThreads];
    unsigned long long bad = 0;
    for (std::int64_t i = threadIdx.x; i < P; i += kSumThreads) bad += isfinite(grad[i]) ? 0 : 1;
    part[threadIdx.x] = bad;
    __syncthreads();
    for (int half = kSumThreads / 2; half > 0; half /= 2) {
        if (int(threadIdx.x) < half) part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x != 0) return;
    const int it = *iteration;
    *iteration = it + 1;
    for (int k = 0; k < 3; ++k) record[3 * it + k] = sums[k];
    if (status->failed_iteration != kNoFailure) return;
    int reason = 0;
    if (first_failure != nullptr && *first_failure != kNoFailure) {
        reason = static_cast<int>(DeviceStepFailure::NotPositiveDefinite);
        status->point = static_cast<long long>(*first_failure);
        status->code = point_status[*first_failure];
    } else if (!(isfinite(sums[0]) && isfinite(sums[1]) && isfinite(sums[2]))) {
        reason = static_cast<int>(DeviceStepFailure::LossNotFinite);
    } else if (part[0] != 0) {
        reason = static_cast<int>(DeviceStepFailure::GradientNotFinite);
        status->bad_gradient = static_cast<long long>(part[0]);
    }
    if (reason == 0) return;
    status->reason = reason;
    status->failed_iteration = static_cast<unsigned long long>(it);
}

/// Adam (adam_update) of iteration it = *iteration − 1, then the convexity projection where
/// clamp[i] (icnn_project), then param_sum += θ when it ≥ average_from (param_sum given); nothing
/// once the step has failed (the parameters stay those the failing iteration started from).
template <typename T>
__global__ void adam_project_kernel(std::int64_t count, const AdamScalars<T>* __restrict__ scalars,
                                    const int* __restrict__ iteration, T* __restrict__ params,
                                    const T* __restrict__ grad, T* __restrict__ m, T* __restrict__ v,
                                    const unsigned char* __restrict__ clamp, double* __restrict__ param_sum,
                                    int average_from, const StepStatus* status) {
    if (status->failed_iteration != kNoFailure) return;
    const int it = *iteration - 1;
    const AdamScalars<T> k = scalars[it];
    double* sum = param_sum != nullptr && it >= average_from ? param_sum : nullptr;
    WGF_GRID_STRIDE(i, count) {
        T p = params[i];
        adam_update(k, p, grad[i], m[i], v[i]);
        if (clamp[i] && p < T(0)) p = T(0);
        params[i] = p;
        if (sum != nullptr) sum[i] += static_cast<double>(p);
    }
}

/// Whether the step's iterations can be captured into a CUDA graph: Φ must run on the device with
/// no synchronisation or host copy (the built-in device potentials: quadratic, mixture up to D = 64,
/// logistic posterior on the full data), WGF_CUDA_GRAPHS=0 is not set (the fallback, for comparison
/// and debugging), and the build is not WGF_DEBUG_SYNC.
template <typename T>
bool graph_capturable(const Context& ctx, const Potential<T>* potential) {
#ifdef WGF_DEBUG_SYNC
    (void)ctx;
    (void)potential;
    return false;  // every launch synchronises to find its own errors: nothing to capture
#else
    const char* env = std::getenv("WGF_CUDA_GRAPHS");
    if (env != nullptr && std::string(env) == "0") return false;
    if (potential == nullptr) return true;  // the identity regression: no Φ
    if (dynamic_cast<const QuadraticPotential<T>*>(potential) != nullptr) return true;
    if (const auto* posterior = dynamic_cast<const LogisticPosteriorPotential<T>*>(potential))
        return posterior->device_resident(ctx);
    const auto* mixture = dynamic_cast<const GaussianMixturePotential<T>*>(potential);
    return mixture != nullptr && mixture->dim() <= kMixtureMaxDim;
#endif
}

/// An instantiated graph of one captured iteration, destroyed with the object.
class IterationGraph {
public:
    IterationGraph() = default;
    ~IterationGraph() {
        if (m_exec != nullptr) (void)cudaGraphExecDestroy(m_exec);
        if (m_graph != nullptr) (void)cudaGraphDestroy(m_graph);
    }
    IterationGraph(const IterationGraph&) = delete;
    IterationGraph& operator=(const IterationGraph&) = delete;
    /// Captures what enqueue() queues on `stream` (nothing runs) and instantiates it. A capture
    /// that fails is closed before the error propagates.
    template <typename Enqueue>
    void capture(cudaStream_t stream, Enqueue&& enqueue) {
        WGF_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        try {
            enqueue();
        } catch (...) {
            cudaGraph_t partial = nullptr;
            (void)cudaStreamEndCapture(stream, &partial);
            if (partial != nullptr) (void)cudaGraphDestroy(partial);
            (void)cudaGetLastError();
            throw;
        }
        WGF_CUDA_CHECK(cudaStreamEndCapture(stream, &m_graph));
        WGF_CUDA_CHECK(cudaGraphInstantiate(&m_exec, m_graph, 0));
    }
    void launch(cudaStream_t stream) { WGF_CUDA_CHECK(cudaGraphLaunch(m_exec, stream)); }

private:
    cudaGraph_t m_graph = nullptr;
    cudaGraphExec_t m_exec = nullptr;
};

void upload(const void* host, void* device, std::size_t bytes, cudaStream_t stream) {
    if (bytes > 0) WGF_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream));
}
void download(const void* device, void* host, std::size_t bytes, cudaStream_t stream) {
    if (bytes > 0) WGF_CUDA_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream));
}

}  // namespace train_step

template <typename T>
DeviceStepResult train_step_cuda(Context& ctx, const IcnnShape& shape, const Potential<T>* potential,
                                 const JkoLossOptions& options, const DeviceStepPlan<T>& plan, T* params) {
    using namespace train_step;
    CudaState& st = *detail::cuda_state(ctx);
    CudaDeviceGuard guard(st.device);
    const cudaStream_t stream = st.stream;
    const IcnnLayout layout(shape);
    const std::int64_t D = shape.dim, N = plan.batch, P = static_cast<std::int64_t>(layout.total);
    const int iters = plan.iterations;
    const bool drawn = plan.draw != nullptr;
    WGF_CHECK(N > 0 && iters > 0 && (drawn ? plan.keys != nullptr && plan.draw->dim == D : plan.pool_n > 0),
              "train_step_cuda: empty step, or a draw without keys or of another dimension");

    // ---- the step's inputs, uploaded once ------------------------------------------------------------------
    std::vector<AdamScalars<T>> scalars(static_cast<std::size_t>(iters));
    for (int it = 0; it < iters; ++it)
        scalars[static_cast<std::size_t>(it)] = adam_scalars<T>(plan.lr[it], plan.adam.beta1, plan.adam.beta2,
                                                                plan.adam.eps, plan.adam.weight_decay,
                                                                plan.adam_step0 + it + 1);
    std::vector<unsigned char> clamp(static_cast<std::size_t>(P), 0);  // icnn_project's entries
    for (const auto& block : layout.nonnegative_blocks())
        std::fill(clamp.begin() + static_cast<std::ptrdiff_t>(block.begin),
                  clamp.begin() + static_cast<std::ptrdiff_t>(block.end), 1);
    const StepStatus status0{kNoFailure, -1, 0, 0, 0};
    const int iteration0 = 0;
    const bool averaging = plan.average_from >= 0 && plan.average_from < iters;

    const bool copy_pool = !drawn && !plan.pool_on_device;
    DeviceArray<T> d_pool(copy_pool ? static_cast<std::size_t>(plan.pool_n * D) : 0),
        d_batch(static_cast<std::size_t>(N * D));
    const T* pool = copy_pool ? d_pool.get() : plan.pool;
    DeviceArray<std::int64_t> d_rows(drawn ? 0 : static_cast<std::size_t>(iters) * N);
    DeviceArray<std::uint64_t> d_keys(drawn ? static_cast<std::size_t>(iters) : 0);
    DeviceArray<double> d_law(drawn ? plan.draw->params.size() : 0);
    DeviceArray<AdamScalars<T>> d_scalars(scalars.size());
    DeviceArray<T> d_params(P), d_grad(P), d_moments(2 * P);
    DeviceArray<unsigned char> d_clamp(P);
    DeviceArray<double> d_record(3 * static_cast<std::size_t>(iters)), d_sum(averaging ? P : 0);
    DeviceArray<StepStatus> d_status(1);
    DeviceArray<int> d_iteration(1);
    if (drawn) {
        upload(plan.keys, d_keys.get(), sizeof(std::uint64_t) * iters, stream);
        upload(plan.draw->params.data(), d_law.get(), sizeof(double) * plan.draw->params.size(), stream);
    } else {
        if (copy_pool) upload(plan.pool, d_pool.get(), sizeof(T) * plan.pool_n * D, stream);
        upload(plan.rows, d_rows.get(), sizeof(std::int64_t) * iters * N, stream);
    }
    upload(scalars.data(), d_scalars.get(), sizeof(AdamScalars<T>) * scalars.size(), stream);
    upload(params, d_params.get(), sizeof(T) * P, stream);
    upload(clamp.data(), d_clamp.get(), clamp.size(), stream);
    upload(&status0, d_status.get(), sizeof status0, stream);
    upload(&iteration0, d_iteration.get(), sizeof iteration0, stream);
    if (plan.moments != nullptr)
        upload(plan.moments, d_moments.get(), sizeof(T) * 2 * P, stream);
    else
        WGF_CUDA_CHECK(cudaMemsetAsync(d_moments.get(), 0, sizeof(T) * 2 * P, stream));
    if (averaging) WGF_CUDA_CHECK(cudaMemsetAsync(d_sum.get(), 0, sizeof(double) * P, stream));
    // the scratch arena never grows inside the loop
    if (potential != nullptr)
        reserve_jko_loss_cuda<T>(ctx, shape, N);
    else
        reserve_identity_loss_cuda<T>(ctx, shape, N);
    const auto enqueue_loss = [&] {
        return potential != nullptr ? enqueue_jko_loss_cuda<T>(ctx, shape, d_params.get(), d_batch.get(), N,
                                                               *potential, options, d_grad.get())
                                    : enqueue_identity_loss_cuda<T>(ctx, shape, d_params.get(), d_batch.get(), N,
                                                                    d_grad.get());
    };

    // ---- the iterations: no copy, no synchronisation ---------------------------------------------------------
    const auto enqueue_iteration = [&] {
        if (drawn) {
            WGF_LAUNCH_KERNEL(grid_for(N), kThreads, stream, draw_batch_kernel<T>)(
                N, view_of(*plan.draw, d_law.get()), d_iteration.get(), d_keys.get(), d_batch.get());
        } else {
            WGF_LAUNCH_KERNEL(grid_for(N * D), kThreads, stream, gather_rows_kernel<T>)(
                N * D, static_cast<int>(D), N, d_iteration.get(), d_rows.get(), pool, d_batch.get());
        }
        WGF_LAUNCH_CHECK(stream);
        const LossOnDevice loss = enqueue_loss();
        WGF_LAUNCH_KERNEL_COOP(1, kSumThreads, stream, iteration_status_kernel<T>)(
            d_iteration.get(), P, loss.sums, loss.first_failure, loss.status, d_grad.get(), d_record.get(),
            d_status.get());
        WGF_LAUNCH_CHECK(stream);
        WGF_LAUNCH_KERNEL(grid_for(P), kThreads, stream, adam_project_kernel<T>)(
            P, d_scalars.get(), d_iteration.get(), d_params.get(), d_grad.get(), d_moments.get(), d_moments.get() + P,
            d_clamp.get(), averaging ? d_sum.get() : nullptr, plan.average_from, d_status.get());
        WGF_LAUNCH_CHECK(stream);
    };
    // The first iteration runs as it is queued (first uses: Φ's parameters uploaded, library state
    // set up); the others replay a graph of one captured iteration when Φ allows it.
    enqueue_iteration();
    if (iters > 1 && graph_capturable(ctx, potential)) {
        IterationGraph graph;
        graph.capture(stream, enqueue_iteration);
        for (int it = 1; it < iters; ++it) graph.launch(stream);
    } else {
        for (int it = 1; it < iters; ++it) enqueue_iteration();
    }

    // ---- one read-back at the end of the step -----------------------------------------------------------------
    StepStatus status{};
    std::vector<double> record(3 * static_cast<std::size_t>(iters));
    DeviceStepResult out;
    download(d_status.get(), &status, sizeof status, stream);
    download(d_record.get(), record.data(), sizeof(double) * record.size(), stream);
    download(d_params.get(), params, sizeof(T) * P, stream);
    if (plan.moments != nullptr) download(d_moments.get(), plan.moments, sizeof(T) * 2 * P, stream);
    if (averaging) {
        out.param_sum.resize(static_cast<std::size_t>(P));
        download(d_sum.get(), out.param_sum.data(), sizeof(double) * P, stream);
    }
    WGF_CUDA_CHECK(cudaStreamSynchronize(stream));
    const int done = status.failed_iteration == kNoFailure ? iters : static_cast<int>(status.failed_iteration) + 1;
    for (int it = 0; it < done; ++it) out.losses.push_back(jko_loss_from_sums(&record[3 * std::size_t(it)], N, options));
    if (status.failed_iteration != kNoFailure) {
        out.failure = static_cast<DeviceStepFailure>(status.reason);
        out.failed_iteration = static_cast<int>(status.failed_iteration);
        out.point = status.point;
        out.code = status.code;
        out.bad_gradient = status.bad_gradient;
    }
    return out;
}

template DeviceStepResult train_step_cuda<float>(Context&, const IcnnShape&, const Potential<float>*,
                                                 const JkoLossOptions&, const DeviceStepPlan<float>&, float*);
template DeviceStepResult train_step_cuda<double>(Context&, const IcnnShape&, const Potential<double>*,
                                                  const JkoLossOptions&, const DeviceStepPlan<double>&, double*);

}  // namespace detail
}  // namespace wgf

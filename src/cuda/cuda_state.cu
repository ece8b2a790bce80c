// cuda_state.cu — CudaState (device, stream, cuBLAS/cuSOLVER handles, scratch arena), device
// discovery that never throws, and the device-memory functions of src/device_memory.h.
// Environment: WGF_CUDA_SCRATCH_MB (optional, ≥ 1) bounds the per-call working set of a new context
// (default 1024 MiB); calls split their batch into chunks of points that fit. Tests use a small value
// to exercise chunking.
#include <cstdio>
#include "context_access.h"
#include <cstdlib>
#include <memory>
#include <string>

#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_cuda.h"
#include "../device_memory.h"
#include "wgf/device_buffer.h"

namespace wgf {
namespace detail {

namespace {
constexpr std::size_t kDefaultScratchBudget = std::size_t(1) << 30;  // 1 GiB
constexpr std::size_t kScratchGranule = std::size_t(1) << 20;        // grow in whole MiB

std::size_t scratch_budget_from_env() {
    const char* env = std::getenv("WGF_CUDA_SCRATCH_MB");
    if (env == nullptr || env[0] == '\0') return kDefaultScratchBudget;
    char* end = nullptr;
    const long long mb = std::strtoll(env, &end, 10);
    WGF_CHECK(end != env && *end == '\0' && mb >= 1,
              "WGF_CUDA_SCRATCH_MB must be a whole number of MiB >= 1, got '" << env << "'");
    return static_cast<std::size_t>(mb) << 20;
}
}  // namespace

CudaDeviceGuard::CudaDeviceGuard(int device) {
    WGF_CUDA_CHECK(cudaGetDevice(&m_previous));
    if (m_previous != device) WGF_CUDA_CHECK(cudaSetDevice(device));
}

CudaDeviceGuard::~CudaDeviceGuard() {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current != m_previous && m_previous >= 0) {
        const cudaError_t e = cudaSetDevice(m_previous);
        if (e != cudaSuccess)
            std::fprintf(stderr, "wgf: warning: cannot restore CUDA device %d: %s\n", m_previous, cudaGetErrorString(e));
    }
}

int cuda_device_count() {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        // cudaErrorNoDevice, cudaErrorInsufficientDriver (no driver at all), ...: no usable device.
        // Clear the error so that it does not surface at an unrelated later check.
        (void)cudaGetLastError();
        return 0;
    }
    return count;
}

CudaState* cuda_state_create(int device) {
    // Destroy whatever was created if a later step throws.
    std::unique_ptr<CudaState, void (*)(CudaState*)> state(new CudaState(),
                                                           [](CudaState* p) { cuda_state_destroy(p); });
    state->device = device;
    state->scratch_budget = scratch_budget_from_env();
    CudaDeviceGuard guard(device);
    cudaDeviceProp prop{};
    WGF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    state->name = prop.name;
    // A blocking stream (not cudaStreamNonBlocking): it orders after work on the legacy default
    // stream, where the synchronous copies of DeviceBuffer and of user code run.
    WGF_CUDA_CHECK(cudaStreamCreate(&state->stream));
    WGF_CUBLAS_CHECK(cublasCreate(&state->cublas));
    WGF_CUBLAS_CHECK(cublasSetStream(state->cublas, state->stream));
    // DEFAULT_MATH: compute in at least the precision of the data type, so no TF32 for float and
    // no reduced-precision emulation for double (NVIDIA_TF32_OVERRIDE can only disable TF32).
    WGF_CUBLAS_CHECK(cublasSetMathMode(state->cublas, CUBLAS_DEFAULT_MATH));
    WGF_CUSOLVER_CHECK(cusolverDnCreate(&state->cusolver));
    WGF_CUSOLVER_CHECK(cusolverDnSetStream(state->cusolver, state->stream));
    WGF_CUDA_CHECK(cudaMalloc(&state->counter, sizeof(unsigned long long)));
    return state.release();
}

void cuda_state_destroy(CudaState* state) noexcept {
    if (state == nullptr) return;
    int previous = -1;
    const bool have_device = state->device >= 0 && cudaGetDevice(&previous) == cudaSuccess &&
                             cudaSetDevice(state->device) == cudaSuccess;
    const auto warn = [](const char* what, const char* msg) {
        std::fprintf(stderr, "wgf: warning: %s failed while destroying a CUDA context: %s\n", what, msg);
    };
    if (have_device) {
        if (state->stream) {
            const cudaError_t e = cudaStreamSynchronize(state->stream);
            if (e != cudaSuccess) warn("cudaStreamSynchronize", cudaGetErrorString(e));
        }
        if (state->cusolver) {
            const cusolverStatus_t e = cusolverDnDestroy(state->cusolver);
            if (e != CUSOLVER_STATUS_SUCCESS) warn("cusolverDnDestroy", cuda_status_message(e).c_str());
        }
        if (state->cublas) {
            const cublasStatus_t e = cublasDestroy(state->cublas);
            if (e != CUBLAS_STATUS_SUCCESS) warn("cublasDestroy", cublasGetStatusString(e));
        }
        for (void* p : {static_cast<void*>(state->counter), state->scratch}) {
            if (p == nullptr) continue;
            const cudaError_t e = cudaFree(p);
            if (e != cudaSuccess) warn("cudaFree", cudaGetErrorString(e));
        }
        if (state->stream) {
            const cudaError_t e = cudaStreamDestroy(state->stream);
            if (e != cudaSuccess) warn("cudaStreamDestroy", cudaGetErrorString(e));
        }
        if (previous >= 0 && previous != state->device) (void)cudaSetDevice(previous);
    }
    delete state;
}

std::string cuda_state_describe(const CudaState& state) {
    return "cuda:" + std::to_string(state.device) + " " + state.name;
}

void cuda_state_synchronize(CudaState& state) {
    CudaDeviceGuard guard(state.device);
    WGF_CUDA_CHECK(cudaStreamSynchronize(state.stream));
}

void* cuda_scratch(CudaState& state, std::size_t bytes) {
    if (bytes <= state.scratch_bytes) return state.scratch;
    const std::size_t grown = (bytes + kScratchGranule - 1) / kScratchGranule * kScratchGranule;
    // Work queued earlier may still read the old block: cudaFree waits for the device, but make the
    // ordering explicit on our stream first.
    WGF_CUDA_CHECK(cudaStreamSynchronize(state.stream));
    if (state.scratch != nullptr) {
        WGF_CUDA_CHECK(cudaFree(state.scratch));
        state.scratch = nullptr;
        state.scratch_bytes = 0;
    }
    const cudaError_t e = cudaMalloc(&state.scratch, grown);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        state.scratch = nullptr;
        WGF_FAIL("CUDA scratch: cannot allocate " << grown << " bytes on " << cuda_state_describe(state) << " ("
                                                  << cudaGetErrorString(e) << ")");
    }
    state.scratch_bytes = grown;
    return state.scratch;
}

// ---- device_memory.h: synchronous copies on the legacy default stream ---------------------------

void* device_malloc(std::size_t bytes) {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        WGF_FAIL("device_malloc: cannot allocate " << bytes << " bytes (" << cudaGetErrorName(e) << ": "
                                                   << cudaGetErrorString(e) << ")");
    }
    return p;
}

void device_free(void* ptr) noexcept {
    if (ptr == nullptr) return;  // never touch the runtime for an empty buffer (no device needed)
    const cudaError_t e = cudaFree(ptr);
    if (e != cudaSuccess) std::fprintf(stderr, "wgf: warning: device_free: cudaFree failed: %s\n", cudaGetErrorString(e));
}

namespace {
void copy_sync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
    if (bytes == 0) return;
    // cudaMemcpy from pageable memory may return before the DMA lands; make the copy complete
    // before returning, so that any stream (and the host) sees the data.
    WGF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, cudaStreamLegacy));
    WGF_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
}
}  // namespace

void device_memset_zero(void* dst, std::size_t bytes) {
    if (bytes == 0) return;
    WGF_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, cudaStreamLegacy));
    WGF_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
}

ContextDeviceScope::ContextDeviceScope(const Context& ctx) {
    if (ctx.backend() != Backend::Cuda || detail::cuda_state(ctx) == nullptr) return;
    const int device = detail::cuda_state(ctx)->device;
    WGF_CUDA_CHECK(cudaGetDevice(&m_previous));
    if (m_previous == device) {
        m_previous = -1;  // nothing to restore
        return;
    }
    WGF_CUDA_CHECK(cudaSetDevice(device));
}

ContextDeviceScope::~ContextDeviceScope() {
    if (m_previous < 0) return;
    const cudaError_t e = cudaSetDevice(m_previous);
    if (e != cudaSuccess)
        std::fprintf(stderr, "wgf: warning: cannot restore CUDA device %d: %s\n", m_previous, cudaGetErrorString(e));
}

void copy_host_to_device(void* dst, const void* src, std::size_t bytes) {
    copy_sync(dst, src, bytes, cudaMemcpyHostToDevice);
}
void copy_device_to_host(void* dst, const void* src, std::size_t bytes) {
    copy_sync(dst, src, bytes, cudaMemcpyDeviceToHost);
}
void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
    copy_sync(dst, src, bytes, cudaMemcpyDeviceToDevice);
}

}  // namespace detail
}  // namespace wgf

// cuda_emu_runtime.cpp — the host implementations behind cuda_emu.h: launches, barriers, warp
// shuffles, atomics, and the CUDA runtime / cuBLAS / cuSOLVER entry points wgf calls ("device"
// memory is host memory, every stream is synchronous, one emulated device). cuBLAS products are
// plain loops in double-or-T accumulation order of the column-major definition.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <ucontext.h>
#include <vector>

#include "cuda_emu.h"

namespace wgf_emu {

thread_local Index3 thread_idx, block_idx, block_dim, grid_dim;

namespace {
Counters g_counters;  // launches are serial: the runtime is entered from one host thread at a time
std::mutex g_counters_mutex;
}  // namespace

Counters counters() {
    std::lock_guard<std::mutex> lock(g_counters_mutex);
    return g_counters;
}
/// Adds one to the counter `field` of g_counters.
void count(long long Counters::*field) {
    std::lock_guard<std::mutex> lock(g_counters_mutex);
    ++(g_counters.*field);
}

// Stream capture (one emulated stream, so a capture takes all queued work): while it is open, work
// is recorded as closures instead of run; what a graph cannot contain (a synchronisation, a copy to
// or from the host, an allocation) invalidates it, and cudaStreamEndCapture then fails, as on a GPU.
namespace {
struct Capture {
    std::vector<std::function<void()>> ops;
    bool invalid = false;
};
Capture* g_capture = nullptr;
}  // namespace

/// Runs op now (counted in `field`), or records it in the open capture.
void enqueue(long long Counters::*field, std::function<void()> op) {
    if (g_capture != nullptr) {
        count(&Counters::captured_operations);
        g_capture->ops.push_back(std::move(op));
        return;
    }
    count(field);
    op();
}
/// For an operation a capture cannot contain: true (and the capture invalidated) while one is open.
bool refused_by_capture() {
    if (g_capture == nullptr) return false;
    g_capture->invalid = true;
    return true;
}
bool capture_open() { return g_capture != nullptr; }
void begin_capture() { g_capture = new Capture; }
/// Closes the capture; its operations, or false when it was invalidated.
bool end_capture(std::vector<std::function<void()>>& ops) {
    Capture* c = g_capture;
    g_capture = nullptr;
    const bool ok = c != nullptr && !c->invalid;
    if (ok) ops = std::move(c->ops);
    delete c;
    return ok;
}

namespace {

void set_index(dim3 grid, dim3 block, unsigned b, unsigned t) {
    grid_dim = {grid.x, 1, 1};
    block_dim = {block.x, 1, 1};
    block_idx = {b, 0, 0};
    thread_idx = {t, 0, 0};
}

// Cooperative blocks run their threads as coroutines (ucontext) on the calling thread, in passes:
// each pass resumes every live thread in index order until it reaches its next barrier (or ends).
// After a pass every thread has arrived at the same barrier, which is what __syncthreads and the
// shuffle's two barriers need (threads of a block, lanes of a warp, execute the same barriers).
struct CoopBlock {
    ucontext_t scheduler;
    std::vector<ucontext_t> threads;
    std::vector<std::vector<char>> stacks;
    std::vector<char> done;
    std::vector<unsigned long long> slots;  // one shuffle slot per thread
    const std::function<void()>* body = nullptr;
    unsigned current = 0;
};
CoopBlock* g_block = nullptr;  // the cooperative block running now (launches are serial)
std::mutex g_atomic;
constexpr std::size_t kStackBytes = 256 * 1024;

void coop_entry() {
    (*g_block->body)();
    g_block->done[g_block->current] = 1;  // returning resumes uc_link, the scheduler
}

void yield_to_scheduler() {
    if (g_block == nullptr) std::abort();  // a barrier in a launch not marked cooperative
    swapcontext(&g_block->threads[g_block->current], &g_block->scheduler);
}

void run_cooperative_block(dim3 grid, dim3 block, unsigned b, const std::function<void()>& body) {
    static CoopBlock state;  // stacks reused across launches
    const unsigned n = block.x;
    state.threads.resize(n);
    if (state.stacks.size() < n) state.stacks.resize(n);
    state.done.assign(n, 0);
    state.slots.assign(n, 0);
    state.body = &body;
    for (unsigned t = 0; t < n; ++t) {
        state.stacks[t].resize(kStackBytes);
        getcontext(&state.threads[t]);
        state.threads[t].uc_stack.ss_sp = state.stacks[t].data();
        state.threads[t].uc_stack.ss_size = kStackBytes;
        state.threads[t].uc_link = &state.scheduler;
        makecontext(&state.threads[t], coop_entry, 0);
    }
    g_block = &state;
    for (unsigned alive = n; alive > 0;) {
        for (unsigned t = 0; t < n; ++t) {
            if (state.done[t]) continue;
            state.current = t;
            set_index(grid, block, b, t);
            swapcontext(&state.scheduler, &state.threads[t]);
            if (state.done[t]) --alive;
        }
    }
    g_block = nullptr;
}

}  // namespace

namespace {
void execute_launch(dim3 grid, dim3 block, bool cooperative, const std::function<void()>& body) {
    for (unsigned b = 0; b < grid.x; ++b) {
        if (cooperative) {
            run_cooperative_block(grid, block, b, body);
            continue;
        }
        for (unsigned t = 0; t < block.x; ++t) {
            set_index(grid, block, b, t);
            body();
        }
    }
}
}  // namespace

void run_launch(dim3 grid, dim3 block, bool cooperative, const std::function<void()>& body) {
    if (grid.y != 1 || grid.z != 1 || block.y != 1 || block.z != 1) std::abort();  // wgf launches are 1-D
    enqueue(&Counters::kernel_launches, [grid, block, cooperative, body] { execute_launch(grid, block, cooperative, body); });
}

void sync_block() { yield_to_scheduler(); }

void warp_shuffle_down(const void* in, void* out, std::size_t bytes, unsigned offset) {
    if (g_block == nullptr || bytes > sizeof(unsigned long long)) std::abort();
    const unsigned lane = thread_idx.x % 32, warp_base = thread_idx.x - lane;
    const unsigned width = std::min(32u, block_dim.x - warp_base);
    unsigned long long* slot = g_block->slots.data() + warp_base;
    std::memcpy(&slot[lane], in, bytes);
    yield_to_scheduler();  // every lane has written
    std::memcpy(out, lane + offset < width ? &slot[lane + offset] : &slot[lane], bytes);
    yield_to_scheduler();  // every lane has read before any writes again
}

unsigned long long atomic_add(unsigned long long* a, unsigned long long v) {
    std::lock_guard<std::mutex> lock(g_atomic);
    const unsigned long long old = *a;
    *a = old + v;
    return old;
}
unsigned long long atomic_min(unsigned long long* a, unsigned long long v) {
    std::lock_guard<std::mutex> lock(g_atomic);
    const unsigned long long old = *a;
    *a = std::min(old, v);
    return old;
}

}  // namespace wgf_emu

// ---- CUDA runtime ----------------------------------------------------------------------------------
struct CUgraph_st {
    std::vector<std::function<void()>> ops;
};
struct CUgraphExec_st {
    std::vector<std::function<void()>> ops;
};

namespace {
int g_device = 0;
using wgf_emu::count;
using wgf_emu::Counters;
using wgf_emu::enqueue;
using wgf_emu::refused_by_capture;
void count_copy(cudaMemcpyKind kind) {
    switch (kind) {
        case cudaMemcpyHostToDevice: count(&Counters::copies_host_to_device); break;
        case cudaMemcpyDeviceToHost: count(&Counters::copies_device_to_host); break;
        case cudaMemcpyDeviceToDevice: count(&Counters::copies_device_to_device); break;
        default: std::abort();  // wgf names the direction of every copy
    }
}
}
extern "C" {
cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
    *device = g_device;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
    if (device != 0) return cudaErrorInvalidDevice;
    g_device = device;
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int) {
    std::memset(prop, 0, sizeof *prop);
    std::strcpy(prop->name, "CPU emulation of CUDA (tests/cuda_emu)");
    prop->totalGlobalMem = std::size_t(8) << 30;
    prop->major = 9;
    return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t bytes) {
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;
    count(&Counters::allocations);
    *p = std::aligned_alloc(256, std::max<size_t>(256, (bytes + 255) / 256 * 256));
    if (*p == nullptr) return cudaErrorMemoryAllocation;
    std::memset(*p, 0xA5, bytes);  // garbage, as fresh device memory: reads before writes show up
    return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;
    count(&Counters::allocations);
    std::free(p);
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;
    count_copy(kind);
    count(&Counters::synchronizations);  // cudaMemcpy returns when the copy is done
    if (bytes) std::memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    if (kind == cudaMemcpyDeviceToDevice) {
        enqueue(&Counters::copies_device_to_device, [=] {
            if (bytes) std::memmove(dst, src, bytes);
        });
        return cudaSuccess;
    }
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;  // the host's memory is no graph node here
    count_copy(kind);
    if (bytes) std::memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) {
    enqueue(&Counters::memsets, [=] { std::memset(dst, value, bytes); });
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) {
    *s = reinterpret_cast<cudaStream_t>(0x1);
    return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { return cudaStreamCreate(s); }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) {
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;
    count(&Counters::synchronizations);
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;
    count(&Counters::synchronizations);
    return cudaSuccess;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
    if (wgf_emu::capture_open()) return cudaErrorIllegalState;
    wgf_emu::begin_capture();
    return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t* graph) {
    if (!wgf_emu::capture_open()) return cudaErrorIllegalState;
    *graph = nullptr;
    std::vector<std::function<void()>> ops;
    if (!wgf_emu::end_capture(ops)) return cudaErrorStreamCaptureInvalidated;
    *graph = new CUgraph_st{std::move(ops)};
    return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
    *exec = new CUgraphExec_st{graph->ops};
    return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
    if (refused_by_capture()) return cudaErrorStreamCaptureUnsupported;
    count(&Counters::graph_launches);
    for (const auto& op : exec->ops) op();
    return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete graph;
    return cudaSuccess;
}
cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaPeekAtLastError() { return cudaSuccess; }
const char* cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulated CUDA error"; }
const char* cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaErrorEmulated"; }
}  // extern "C"

// ---- cuBLAS ------------------------------------------------------------------------------------------
namespace {
template <typename T>
T elem(const T* A, int lda, cublasOperation_t op, int i, int j) {  // op(A)(i, j), column-major
    return op == CUBLAS_OP_N ? A[i + std::int64_t(j) * lda] : A[j + std::int64_t(i) * lda];
}
template <typename T>
void gemm_ref(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, T alpha, const T* A, int lda,
              const T* B, int ldb, T beta, T* C, int ldc) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            T acc = T(0);
            for (int p = 0; p < k; ++p) acc += elem(A, lda, ta, i, p) * elem(B, ldb, tb, p, j);
            T& c = C[i + std::int64_t(j) * ldc];
            c = beta == T(0) ? alpha * acc : alpha * acc + beta * c;  // β = 0: C is not read (may be NaN)
        }
}
}  // namespace

extern "C" {
cublasStatus_t cublasCreate_v2(cublasHandle_t* h) {
    *h = reinterpret_cast<cublasHandle_t>(0x2);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }
const char* cublasGetStatusName(cublasStatus_t) { return "CUBLAS_STATUS_EMULATED"; }
const char* cublasGetStatusString(cublasStatus_t) { return "emulated cuBLAS status"; }

cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                              const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                              float* C, int ldc) {
    const auto a = *alpha, b = *beta;  // host pointer mode: read at the call, as cuBLAS does
    enqueue(&Counters::library_calls, [=] { gemm_ref(ta, tb, m, n, k, a, A, lda, B, ldb, b, C, ldc); });
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                              const double* alpha, const double* A, int lda, const double* B, int ldb,
                              const double* beta, double* C, int ldc) {
    const auto a = *alpha, b = *beta;  // host pointer mode: read at the call, as cuBLAS does
    enqueue(&Counters::library_calls, [=] { gemm_ref(ta, tb, m, n, k, a, A, lda, B, ldb, b, C, ldc); });
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float* alpha, const float* A, int lda, long long sa,
                                         const float* B, int ldb, long long sb, const float* beta, float* C, int ldc,
                                         long long sc, int batch) {
    const auto a = *alpha, b = *beta;
    enqueue(&Counters::library_calls, [=] {
        for (int i = 0; i < batch; ++i) gemm_ref(ta, tb, m, n, k, a, A + i * sa, lda, B + i * sb, ldb, b, C + i * sc, ldc);
    });
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const double* alpha, const double* A, int lda, long long sa,
                                         const double* B, int ldb, long long sb, const double* beta, double* C,
                                         int ldc, long long sc, int batch) {
    const auto a = *alpha, b = *beta;
    enqueue(&Counters::library_calls, [=] {
        for (int i = 0; i < batch; ++i) gemm_ref(ta, tb, m, n, k, a, A + i * sa, lda, B + i * sb, ldb, b, C + i * sc, ldc);
    });
    return CUBLAS_STATUS_SUCCESS;
}
}  // extern "C"

namespace {
template <typename T>
cublasStatus_t geam_ref(cublasOperation_t ta, cublasOperation_t tb, int m, int n, T alpha, const T* A, int lda, T beta,
                        const T* B, int ldb, T* C, int ldc) {
    // In place (C == A) is allowed by cuBLAS only with op(A) = N and lda == ldc; enforce it.
    if (C == A && (ta != CUBLAS_OP_N || lda != ldc)) return CUBLAS_STATUS_INVALID_VALUE;
    if (C == B && (tb != CUBLAS_OP_N || ldb != ldc)) return CUBLAS_STATUS_INVALID_VALUE;
    std::vector<T> out(std::size_t(m) * n);
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) out[i + std::size_t(j) * m] = alpha * elem(A, lda, ta, i, j) + beta * elem(B, ldb, tb, i, j);
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) C[i + std::int64_t(j) * ldc] = out[i + std::size_t(j) * m];
    return CUBLAS_STATUS_SUCCESS;
}
template <typename T>
void potrf_lower(int n, T* a, int lda, int* info) {  // column-major lower Cholesky, LAPACK info
    *info = 0;
    for (int k = 0; k < n; ++k) {
        T d = a[k + std::int64_t(k) * lda];
        for (int m = 0; m < k; ++m) d -= a[k + std::int64_t(m) * lda] * a[k + std::int64_t(m) * lda];
        if (!(d > T(0))) {
            *info = k + 1;
            return;
        }
        const T l = std::sqrt(d);
        a[k + std::int64_t(k) * lda] = l;
        for (int i = k + 1; i < n; ++i) {
            T v = a[i + std::int64_t(k) * lda];
            for (int m = 0; m < k; ++m) v -= a[i + std::int64_t(m) * lda] * a[k + std::int64_t(m) * lda];
            a[i + std::int64_t(k) * lda] = v / l;
        }
    }
}
}  // namespace

extern "C" {
cublasStatus_t cublasSgeam(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, const float* alpha,
                           const float* A, int lda, const float* beta, const float* B, int ldb, float* C, int ldc) {
    if ((C == A && (ta != CUBLAS_OP_N || lda != ldc)) || (C == B && (tb != CUBLAS_OP_N || ldb != ldc)))
        return CUBLAS_STATUS_INVALID_VALUE;  // in place only as cuBLAS allows it (geam_ref)
    const auto a = *alpha, b = *beta;
    enqueue(&Counters::library_calls, [=] { (void)geam_ref(ta, tb, m, n, a, A, lda, b, B, ldb, C, ldc); });
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgeam(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, const double* alpha,
                           const double* A, int lda, const double* beta, const double* B, int ldb, double* C, int ldc) {
    if ((C == A && (ta != CUBLAS_OP_N || lda != ldc)) || (C == B && (tb != CUBLAS_OP_N || ldb != ldc)))
        return CUBLAS_STATUS_INVALID_VALUE;  // in place only as cuBLAS allows it (geam_ref)
    const auto a = *alpha, b = *beta;
    enqueue(&Counters::library_calls, [=] { (void)geam_ref(ta, tb, m, n, a, A, lda, b, B, ldb, C, ldc); });
    return CUBLAS_STATUS_SUCCESS;
}

// ---- cuSOLVER ----------------------------------------------------------------------------------------
cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* h) {
    *h = reinterpret_cast<cusolverDnHandle_t>(0x3);
    return CUSOLVER_STATUS_SUCCESS;
}
cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t) { return CUSOLVER_STATUS_SUCCESS; }
cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t, cudaStream_t) { return CUSOLVER_STATUS_SUCCESS; }
cusolverStatus_t cusolverDnSpotrfBatched(cusolverDnHandle_t, cublasFillMode_t uplo, int n, float* A[], int lda,
                                         int* info, int batch) {
    if (uplo != CUBLAS_FILL_MODE_LOWER) return CUSOLVER_STATUS_NOT_SUPPORTED;
    enqueue(&Counters::library_calls, [=] {
        for (int i = 0; i < batch; ++i) potrf_lower(n, A[i], lda, info + i);
    });
    return CUSOLVER_STATUS_SUCCESS;
}
cusolverStatus_t cusolverDnDpotrfBatched(cusolverDnHandle_t, cublasFillMode_t uplo, int n, double* A[], int lda,
                                         int* info, int batch) {
    if (uplo != CUBLAS_FILL_MODE_LOWER) return CUSOLVER_STATUS_NOT_SUPPORTED;
    enqueue(&Counters::library_calls, [=] {
        for (int i = 0; i < batch; ++i) potrf_lower(n, A[i], lda, info + i);
    });
    return CUSOLVER_STATUS_SUCCESS;
}
}  // extern "C"

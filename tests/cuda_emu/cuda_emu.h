// cuda_emu.h — a CPU emulation of the small part of CUDA that wgf's kernels use, force-included
// (-include) when src/cuda/*.cu are compiled as plain C++ for the emulated tests. The real CUDA
// headers provide the types; this prelude provides what the device code needs:
//   threadIdx, blockIdx, blockDim, gridDim   per emulated thread (thread_local)
//   __syncthreads, __shfl_down_sync          block / warp barriers (cooperative launches only)
//   atomicAdd, atomicMin                     under a mutex
//   __shared__                               function-static (one emulated block at a time)
//   WGF_LAUNCH_KERNEL(…)(args)               every block, every thread in turn, on this thread
//   WGF_LAUNCH_KERNEL_COOP(…)(args)          each block's threads as std::threads (warp shuffles,
//                                            __syncthreads work as on a GPU)
// The CUDA runtime, cuBLAS and cuSOLVER entry points are implemented on the host in
// cuda_emu_runtime.cpp ("device" memory is host memory; streams are synchronous; a stream capture
// records the queued work as closures that cudaGraphLaunch replays). What this
// checks: index math, library-call arguments, operation order, workspace layout, host/device
// contracts, and what each call costs in launches, library calls, copies and synchronisations
// (wgf_emu::counters(), for the budget test). What it cannot check: races between real GPU threads,
// performance.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>

#undef __shared__
#define __shared__ static

namespace wgf_emu {

/// What the device code asked of the runtime since the process started. Copies are counted by
/// direction (a host<->device copy is a round trip on a GPU; a device-to-device one is not).
struct Counters {
    long long kernel_launches = 0;  ///< WGF_LAUNCH_KERNEL / WGF_LAUNCH_KERNEL_COOP
    long long library_calls = 0;    ///< cuBLAS and cuSOLVER calls (each one or more launches on a GPU)
    long long copies_host_to_device = 0, copies_device_to_host = 0, copies_device_to_device = 0;
    long long memsets = 0;
    long long synchronizations = 0;  ///< cudaStreamSynchronize, cudaDeviceSynchronize
    long long allocations = 0;       ///< cudaMalloc and cudaFree (each may synchronise on a GPU)
    long long graph_launches = 0;    ///< cudaGraphLaunch (its operations are not counted above)
    long long captured_operations = 0;  ///< launches, library calls, memsets and copies recorded by a capture
};
Counters counters();
inline Counters operator-(const Counters& a, const Counters& b) {
    Counters d;
    d.kernel_launches = a.kernel_launches - b.kernel_launches;
    d.library_calls = a.library_calls - b.library_calls;
    d.copies_host_to_device = a.copies_host_to_device - b.copies_host_to_device;
    d.copies_device_to_host = a.copies_device_to_host - b.copies_device_to_host;
    d.copies_device_to_device = a.copies_device_to_device - b.copies_device_to_device;
    d.memsets = a.memsets - b.memsets;
    d.synchronizations = a.synchronizations - b.synchronizations;
    d.allocations = a.allocations - b.allocations;
    d.graph_launches = a.graph_launches - b.graph_launches;
    d.captured_operations = a.captured_operations - b.captured_operations;
    return d;
}

struct Index3 {
    unsigned x = 0, y = 0, z = 0;
};
extern thread_local Index3 thread_idx, block_idx, block_dim, grid_dim;

/// Runs body once per (block, thread) of the launch; cooperative: one std::thread per thread.
void run_launch(dim3 grid, dim3 block, bool cooperative, const std::function<void()>& body);
void sync_block();
/// Lane `lane + offset`'s value of this warp (own value past the warp's end), as __shfl_down_sync.
void warp_shuffle_down(const void* in, void* out, std::size_t bytes, unsigned offset);
unsigned long long atomic_add(unsigned long long* address, unsigned long long value);
unsigned long long atomic_min(unsigned long long* address, unsigned long long value);

template <typename... Params>
struct Launch {
    dim3 grid, block;
    bool cooperative;
    void (*kernel)(Params...);
    template <typename... Args>
    void operator()(Args&&... args) const {
        const auto k = kernel;
        std::function<void()> body = [k, args...]() { k(static_cast<Params>(args)...); };
        run_launch(grid, block, cooperative, body);
    }
};
template <typename... Params>
Launch<Params...> make_launch(dim3 grid, dim3 block, bool cooperative, void (*kernel)(Params...)) {
    return Launch<Params...>{grid, block, cooperative, kernel};
}

}  // namespace wgf_emu

#define threadIdx (::wgf_emu::thread_idx)
#define blockIdx (::wgf_emu::block_idx)
#define blockDim (::wgf_emu::block_dim)
#define gridDim (::wgf_emu::grid_dim)

inline void __syncthreads() { ::wgf_emu::sync_block(); }
template <typename T>
T __shfl_down_sync(unsigned /*mask*/, T value, unsigned offset) {
    T out;
    ::wgf_emu::warp_shuffle_down(&value, &out, sizeof(T), offset);
    return out;
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { return ::wgf_emu::atomic_add(a, v); }
inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) { return ::wgf_emu::atomic_min(a, v); }
using std::isfinite;

#define WGF_LAUNCH_KERNEL(grid, block, stream, ...) \
    ((void)(stream), ::wgf_emu::make_launch(dim3(grid), dim3(block), false, &__VA_ARGS__))
#define WGF_LAUNCH_KERNEL_COOP(grid, block, stream, ...) \
    ((void)(stream), ::wgf_emu::make_launch(dim3(grid), dim3(block), true, &__VA_ARGS__))

// context.cpp — Context construction, backend selection, and the host-only stubs of the device
// memory functions when wgf is built without CUDA.
#include "wgf/context.h"

#include <thread>

#include "device_memory.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"
#include "wgf/host_blas.h"

#ifdef WGF_WITH_CUDA
#include "cuda/icnn_cuda.h"
#endif

namespace wgf {

const char* backend_name(Backend b) { return b == Backend::Host ? "host" : "cuda"; }

bool cuda_available() {
#ifdef WGF_WITH_CUDA
    return detail::cuda_device_count() > 0;
#else
    return false;
#endif
}

Backend default_backend() { return cuda_available() ? Backend::Cuda : Backend::Host; }

namespace detail {
void CudaStateDeleter::operator()(CudaState* state) const {
#ifdef WGF_WITH_CUDA
    cuda_state_destroy(state);
#else
    (void)state;  // never created without CUDA
#endif
}
}  // namespace detail

static int hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

Context::Context(Backend backend, int host_threads, int cuda_device) : m_backend(backend), m_host_threads(1) {
    set_host_threads(host_threads);
    if (backend == Backend::Cuda) {
#ifdef WGF_WITH_CUDA
        const int count = detail::cuda_device_count();
        WGF_CHECK(count > 0, "Context: backend cuda requested but no CUDA device is visible");
        WGF_CHECK(cuda_device >= 0 && cuda_device < count,
                  "Context: CUDA device " << cuda_device << " does not exist (" << count << " visible)");
        m_cuda.reset(detail::cuda_state_create(cuda_device));
#else
        (void)cuda_device;
        WGF_FAIL("Context: backend cuda requested but this wgf was built without CUDA (WGF_ENABLE_CUDA=OFF)");
#endif
    }
}

Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

void Context::set_host_threads(int n) {
    WGF_CHECK(n >= 0, "Context: host_threads must be >= 0 (0 = all hardware threads), got " << n);
    m_host_threads = n == 0 ? hardware_threads() : n;
}

std::string Context::describe() const {
    if (m_backend == Backend::Host)
        return "host, " + std::to_string(m_host_threads) + " threads, OpenBLAS " + host_blas_info().core;
#ifdef WGF_WITH_CUDA
    return detail::cuda_state_describe(*m_cuda);
#else
    return "cuda (unavailable)";
#endif
}

void Context::synchronize() {
#ifdef WGF_WITH_CUDA
    if (m_cuda) detail::cuda_state_synchronize(*m_cuda);
#endif
}

#ifndef WGF_WITH_CUDA
namespace detail {
[[noreturn]] static void no_cuda(const char* what) {
    WGF_FAIL(what << ": this wgf was built without CUDA (WGF_ENABLE_CUDA=OFF)");
}
void* device_malloc(std::size_t) { no_cuda("device_malloc"); }
void device_free(void* ptr) noexcept { (void)ptr; }
void copy_host_to_device(void*, const void*, std::size_t) { no_cuda("copy_host_to_device"); }
void copy_device_to_host(void*, const void*, std::size_t) { no_cuda("copy_device_to_host"); }
void copy_device_to_device(void*, const void*, std::size_t) { no_cuda("copy_device_to_device"); }
void device_memset_zero(void*, std::size_t) { no_cuda("device_memset_zero"); }
ContextDeviceScope::ContextDeviceScope(const Context&) {}
ContextDeviceScope::~ContextDeviceScope() = default;
}  // namespace detail
#endif

}  // namespace wgf

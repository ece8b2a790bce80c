// device_memory.h — the device-memory functions behind wgf::DeviceBuffer and the CUDA backend
// (private: not installed). Defined in src/cuda/cuda_state.cu, or as throwing stubs in
// src/context.cpp when wgf is built without CUDA.
#pragma once

#include <cstddef>

#include "wgf/context.h"

namespace wgf {
namespace detail {
void* device_malloc(std::size_t bytes);                      // throws on failure
void device_free(void* ptr) noexcept;                        // logs, never throws
void copy_host_to_device(void* dst, const void* src, std::size_t bytes);
void copy_device_to_host(void* dst, const void* src, std::size_t bytes);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);
void device_memset_zero(void* dst, std::size_t bytes);       // completes before returning

/// Makes a Cuda context's device current for the scope and restores the previous one after
/// (no-op for a Host context). Device allocations and copies use the current device, so code that
/// allocates or copies for a context on another device than the current one holds one of these.
class ContextDeviceScope {
public:
    explicit ContextDeviceScope(const Context& ctx);
    ~ContextDeviceScope();
    ContextDeviceScope(const ContextDeviceScope&) = delete;
    ContextDeviceScope& operator=(const ContextDeviceScope&) = delete;

private:
    [[maybe_unused]] int m_previous = -1;  // unused when CUDA is off
};
}  // namespace detail
}  // namespace wgf

// wgf/device_buffer.h — a minimal owning buffer in CUDA device memory, usable from plain C++.
// For the raw-pointer entry points on a Cuda context. In a build without CUDA every operation
// throws wgf::Error.
#pragma once

#include <cstddef>
#include <utility>

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
    int m_previous = -1;
};
}  // namespace detail

template <typename T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t count)
        : m_ptr(count ? static_cast<T*>(detail::device_malloc(count * sizeof(T))) : nullptr), m_count(count) {}
    DeviceBuffer(const T* host, std::size_t count) : DeviceBuffer(count) { upload(host, count); }
    ~DeviceBuffer() { detail::device_free(m_ptr); }
    DeviceBuffer(DeviceBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_count(std::exchange(o.m_count, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            detail::device_free(m_ptr);
            m_ptr = std::exchange(o.m_ptr, nullptr);
            m_count = std::exchange(o.m_count, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* data() { return m_ptr; }
    const T* data() const { return m_ptr; }
    std::size_t size() const { return m_count; }
    /// Copies count elements from host memory (count ≤ size()).
    void upload(const T* host, std::size_t count) { detail::copy_host_to_device(m_ptr, host, checked(count) * sizeof(T)); }
    /// Copies count elements to host memory (count ≤ size()).
    void download(T* host, std::size_t count) const { detail::copy_device_to_host(host, m_ptr, checked(count) * sizeof(T)); }

private:
    std::size_t checked(std::size_t count) const;
    T* m_ptr = nullptr;
    std::size_t m_count = 0;
};

}  // namespace wgf

#include "wgf/error.h"
template <typename T>
std::size_t wgf::DeviceBuffer<T>::checked(std::size_t count) const {
    WGF_CHECK(count <= m_count, "DeviceBuffer: copy of " << count << " elements exceeds its size " << m_count);
    return count;
}

// wgf/device_buffer.h — a minimal owning buffer in CUDA device memory, usable from plain C++.
// For the raw-pointer entry points on a Cuda context. Instantiated for float, double and
// std::int32_t (src/device_buffer.cpp). In a build without CUDA every operation that touches
// device memory throws wgf::Error; an empty buffer never does.
#pragma once

#include <cstddef>

namespace wgf {

template <typename T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t count);              ///< uninitialised device memory
    DeviceBuffer(const T* host, std::size_t count);        ///< a copy of count host elements
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& o) noexcept;
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* data() { return m_ptr; }
    const T* data() const { return m_ptr; }
    std::size_t size() const { return m_count; }
    /// Copies count elements from host memory (count ≤ size(); throws otherwise).
    void upload(const T* host, std::size_t count);
    /// Copies count elements to host memory (count ≤ size(); throws otherwise).
    void download(T* host, std::size_t count) const;
    /// Copies count elements from another device buffer (count ≤ both sizes; throws otherwise).
    void copy_from(const DeviceBuffer& other, std::size_t count);

private:
    T* m_ptr = nullptr;
    std::size_t m_count = 0;
};

}  // namespace wgf

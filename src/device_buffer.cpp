// device_buffer.cpp — wgf::DeviceBuffer over the private device-memory functions (device_memory.h).
#include "wgf/device_buffer.h"

#include <cstdint>
#include <utility>

#include "device_memory.h"
#include "wgf/error.h"

namespace wgf {

namespace {
std::size_t checked(std::size_t count, std::size_t size, const char* what) {
    WGF_CHECK(count <= size, "DeviceBuffer: " << what << " of " << count << " elements exceeds its size " << size);
    return count;
}
}  // namespace

template <typename T>
DeviceBuffer<T>::DeviceBuffer(std::size_t count)
    : m_ptr(count ? static_cast<T*>(detail::device_malloc(count * sizeof(T))) : nullptr), m_count(count) {}

template <typename T>
DeviceBuffer<T>::DeviceBuffer(const T* host, std::size_t count) : DeviceBuffer(count) {
    upload(host, count);
}

template <typename T>
DeviceBuffer<T>::~DeviceBuffer() {
    detail::device_free(m_ptr);
}

template <typename T>
DeviceBuffer<T>::DeviceBuffer(DeviceBuffer&& o) noexcept
    : m_ptr(std::exchange(o.m_ptr, nullptr)), m_count(std::exchange(o.m_count, 0)) {}

template <typename T>
DeviceBuffer<T>& DeviceBuffer<T>::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        detail::device_free(m_ptr);
        m_ptr = std::exchange(o.m_ptr, nullptr);
        m_count = std::exchange(o.m_count, 0);
    }
    return *this;
}

template <typename T>
void DeviceBuffer<T>::upload(const T* host, std::size_t count) {
    detail::copy_host_to_device(m_ptr, host, checked(count, m_count, "copy") * sizeof(T));
}

template <typename T>
void DeviceBuffer<T>::download(T* host, std::size_t count) const {
    detail::copy_device_to_host(host, m_ptr, checked(count, m_count, "copy") * sizeof(T));
}

template <typename T>
void DeviceBuffer<T>::copy_from(const DeviceBuffer& other, std::size_t count) {
    checked(count, other.m_count, "copy from a smaller buffer");
    detail::copy_device_to_device(m_ptr, other.m_ptr, checked(count, m_count, "copy") * sizeof(T));
}

template class DeviceBuffer<float>;
template class DeviceBuffer<double>;
template class DeviceBuffer<std::int32_t>;

}  // namespace wgf

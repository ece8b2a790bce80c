// wgf/context.h — where computation runs. A Context picks the backend (Host or Cuda) and owns the
// backend's state: the host thread count, or the CUDA device, stream, cuBLAS and cuSOLVER handles.
// Raw-pointer entry points take pointers in the context's memory space (host memory for Host,
// device memory for Cuda).
#pragma once

#include <memory>
#include <string>

namespace wgf {

enum class Backend { Host, Cuda };

const char* backend_name(Backend b);

/// True when wgf was built with CUDA and a CUDA device is visible now.
bool cuda_available();

/// Cuda when cuda_available(), otherwise Host.
Backend default_backend();

namespace detail {
struct CudaState;  // defined in src/cuda/ (device, stream, library handles, scratch memory)
struct ContextAccess;  // private to the library (src/context_access.h)
struct CudaStateDeleter {
    void operator()(CudaState* state) const;  // defined in src/context.cpp
};
}

class Context {
public:
    /// backend: Host or Cuda (throws wgf::Error if Cuda is not available).
    /// host_threads: worker threads for the host backend; 0 = all hardware threads.
    /// cuda_device: the CUDA device ordinal.
    explicit Context(Backend backend = default_backend(), int host_threads = 0, int cuda_device = 0);
    ~Context();
    Context(Context&&) noexcept;
    Context& operator=(Context&&) noexcept;
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    Backend backend() const { return m_backend; }
    int host_threads() const { return m_host_threads; }
    void set_host_threads(int n);
    /// Human-readable description ("host, 2 threads" / "cuda:0 NVIDIA H200").
    std::string describe() const;
    /// Waits for all work queued on this context (no-op on Host).
    void synchronize();

private:
    friend struct detail::ContextAccess;  // the backends reach the CUDA state through it (src/context_access.h)

    Backend m_backend;
    int m_host_threads;
    std::unique_ptr<detail::CudaState, detail::CudaStateDeleter> m_cuda;
};

}  // namespace wgf

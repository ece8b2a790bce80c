// wgf/adam.h — Adam with the reference's settings (PyTorch semantics: weight decay is an L2 term added
// to the gradient, not decoupled AdamW), on host or device memory, plus the ICNN convexity projection
// applied after each step by the caller (Icnn::project / icnn_project).
//   g ← g + λ θ;  m ← β₁ m + (1−β₁) g;  v ← β₂ v + (1−β₂) g²;
//   θ ← θ − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "wgf/context.h"

namespace wgf {

struct AdamOptions {
    double lr = 5e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 1e-9;  ///< the reference's JKO value (1e-8 in pretraining)
    void validate() const;       ///< throws wgf::Error naming the bad field
};

/// Optimiser state for one parameter buffer of `size` (≥ 1) elements, kept in ctx's memory space.
/// On a Cuda context the moments live in device memory and step() runs a kernel on its stream.
template <typename T>
class Adam {
public:
    Adam(Context& ctx, std::size_t size, AdamOptions options);
    ~Adam();
    Adam(Adam&&) noexcept;
    Adam& operator=(Adam&&) noexcept;

    /// One step on params [size] with gradient grad [size] (both in ctx's memory space).
    /// Throws if grad contains NaN/Inf (the parameters are left unchanged).
    void step(T* params, const T* grad);
    /// Forget the moments and the step count (a fresh optimiser, as the reference per JKO step).
    void reset();
    std::int64_t steps() const { return m_t; }
    const AdamOptions& options() const { return m_opt; }
    void set_lr(double lr);

private:
    Context* m_ctx;
    std::size_t m_size;
    AdamOptions m_opt;
    std::int64_t m_t = 0;
    std::vector<T> m_m_host, m_v_host;  // host backend state
    void* m_device = nullptr;           // device backend state (two arrays), owned
};

}  // namespace wgf

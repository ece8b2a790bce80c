// adam_host.h (private) — the host backend of Adam (src/adam.cpp dispatches): one elementwise step
// on host arrays params, grad, m, v [size].
#pragma once

#include <cstddef>
#include <cstdint>

#include "wgf/adam.h"

namespace wgf {
namespace detail {

/// One Adam step with step count t ≥ 1 (already incremented); see src/host/adam_host.cpp for the
/// formula. Arguments validated by the caller (grad finite, t ≥ 1). threads ≥ 1.
template <typename T>
void adam_step_host(int threads, std::size_t size, const AdamOptions& opt, std::int64_t t, T* params, const T* grad,
                    T* m, T* v);

}  // namespace detail
}  // namespace wgf

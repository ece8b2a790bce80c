// icnn_host.h (private) — the host (CPU) backend of icnn_eval: the reference implementation, float
// and double, multi-threaded over blocks of points, Eigen for the dense products.
#pragma once

#include <cstdint>

#include "wgf/icnn.h"

namespace wgf {
namespace detail {

/// Arguments validated by the dispatcher (src/icnn.cpp). threads ≥ 1.
template <typename T>
void icnn_eval_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                    IcnnOutputs<T> out);

/// Points per block for the host ops (Jacobian blocks near 2^18 entries, ≥ 1 block per thread).
int host_block_points(const IcnnShape& shape, std::int64_t n, int threads, bool hess);

/// Number of entries of p[0..count) that are NaN or ±Inf.
template <typename T>
std::int64_t count_nonfinite_host(const T* p, std::int64_t count);

}  // namespace detail
}  // namespace wgf

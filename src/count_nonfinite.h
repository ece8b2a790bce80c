// count_nonfinite.h (private) — the number of NaN/±Inf entries of an array in ctx's memory space, for
// the argument checks of the dispatchers (icnn.cpp, jko_loss.cpp, adam.cpp, potential.cpp).
#pragma once

#include <cstdint>
#include "context_access.h"

#include "host/icnn_host.h"
#include "wgf/context.h"

#ifdef WGF_WITH_CUDA
#include "cuda/icnn_cuda.h"
#endif

namespace wgf {
namespace detail {

template <typename T>
std::int64_t count_nonfinite(Context& ctx, const T* p, std::int64_t count) {
#ifdef WGF_WITH_CUDA
    if (ctx.backend() == Backend::Cuda) return count_nonfinite_cuda(*detail::cuda_state(ctx), p, count);
#endif
    (void)ctx;
    return count_nonfinite_host(p, count);
}

}  // namespace detail
}  // namespace wgf

// jko_loss_dispatch.h (private) — jko_loss on ctx's backend without the public entry point's checks
// (src/jko_loss.cpp): for callers that made the batch and the parameters themselves, such as the JKO
// solver's inner loop, which catches a non-finite loss or gradient after the call.
#pragma once

#include <cstdint>

#include "wgf/context.h"
#include "wgf/icnn.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

namespace wgf {
namespace detail {

template <typename T>
JkoLossValue jko_loss_unchecked(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                                const Potential<T>& potential, const JkoLossOptions& options, T* dL_dparams);

}  // namespace detail
}  // namespace wgf

// context_access.h (private) — the backends' access to a Context's CUDA state, which is not part of
// the public API (wgf/context.h declares ContextAccess as a friend and nothing else).
#pragma once

#include "wgf/context.h"

namespace wgf {
namespace detail {

struct ContextAccess {
    static CudaState* cuda_state(const Context& ctx) { return ctx.m_cuda.get(); }
};

/// The CUDA backend's state of ctx (nullptr on Host).
inline CudaState* cuda_state(const Context& ctx) { return ContextAccess::cuda_state(ctx); }

}  // namespace detail
}  // namespace wgf

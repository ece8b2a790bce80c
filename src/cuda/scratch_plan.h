// scratch_plan.h (private) — laying out a call's device workspace in the scratch arena
// (CudaState::scratch), shared by icnn_cuda.cu and jko_loss_cuda.cu: a planner function runs once
// without a base (to size the workspace, for 0 and 1 points) and once with the arena's base.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "wgf/icnn.h"

namespace wgf {
namespace detail {

/// Hands out consecutive 256-byte-aligned buffers from `base`, or only counts bytes when base is null.
class ScratchCarver {
public:
    explicit ScratchCarver(char* base) : m_base(base) {}
    template <typename U>
    U* take(std::int64_t count) {
        const std::size_t at = m_bytes;
        m_bytes += (static_cast<std::size_t>(count) * sizeof(U) + 255) / 256 * 256;
        return m_base ? reinterpret_cast<U*>(m_base + at) : nullptr;
    }
    std::size_t bytes() const { return m_bytes; }

private:
    char* m_base;
    std::size_t m_bytes = 0;
};

/// Points per chunk for a workspace of `fixed` bytes plus (one_point − fixed) per point: as many as
/// fit `budget` (at least 1, at most n), and few enough that every cuBLAS dimension (P·W·D or P·D²
/// entries per layer) stays an int.
inline std::int64_t chunk_points_fitting(const IcnnShape& shape, std::size_t fixed, std::size_t one_point,
                                         std::size_t budget, std::int64_t n) {
    const std::size_t per_point = std::max<std::size_t>(1, one_point - fixed);
    std::int64_t P = budget > fixed ? static_cast<std::int64_t>((budget - fixed) / per_point) : 1;
    const std::int64_t wd = std::int64_t(shape.max_width()) * shape.dim;
    P = std::min<std::int64_t>(P, std::numeric_limits<int>::max() / std::max<std::int64_t>(wd, shape.dim * shape.dim));
    return std::clamp<std::int64_t>(P, 1, n);
}

}  // namespace detail
}  // namespace wgf

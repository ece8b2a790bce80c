// denormals.h (private) — FlushDenormals: while alive, the calling thread flushes denormal floats to
// zero (SSE MXCSR FTZ and DAZ); the previous mode is restored on destruction.
//
// Why: softplus and its derivatives of strongly negative pre-activations (e^u with u < −87 in float)
// produce denormals, and x86 cores take microcode assists on them, ~100× slower per operation. On a
// D = 12 flow from N(0, 16 I) the first JKO steps ran 5–7× slower in float than later ones (11 s vs
// 1.3 s per step, 2026-11-30, Xeon model 207) until the host blocks ran under this guard. Values below
// 1.2e-38 (float) or 2.2e-308 (double) become 0, far below every tolerance of the computation.
// The host backend's parallel regions (one guard per thread per region) use it; the user's threads
// keep their own mode outside wgf's calls.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace wgf {
namespace detail {

class FlushDenormals {
public:
#if defined(__SSE__) || defined(__x86_64__)
    FlushDenormals() : m_saved(_mm_getcsr()) { _mm_setcsr(m_saved | 0x8040u); }  // FTZ (bit 15) | DAZ (bit 6)
    ~FlushDenormals() { _mm_setcsr(m_saved); }

private:
    unsigned m_saved;
#else
    FlushDenormals() = default;
#endif
public:
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;
};

}  // namespace detail
}  // namespace wgf

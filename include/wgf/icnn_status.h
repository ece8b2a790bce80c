// wgf/icnn_status.h — the per-point status of every evaluation that factorises ∇²ψ (icnn_eval's
// status output, the training losses, Flow::push/sample/log_density), the same codes on the host
// and on CUDA (docs/FORMATS.md "Status codes"). The decision is made in one place,
// wgf::detail::cholesky_lower_inplace (wgf/detail/cholesky.h), which both backends call.
#pragma once

#include <cstdint>

namespace wgf {

enum IcnnStatus : std::int32_t {
    kIcnnOk = 0,          ///< factorised: every Cholesky pivot above the floor; log det finite
    kIcnnIndefinite = 1,  ///< a pivot below −floor: ∇²ψ is not positive semidefinite (a ψ that is not convex)
    kIcnnSingular = 2,    ///< a pivot within [−floor, floor]: ∇²ψ is numerically singular; log det is −∞ or
                          ///< not resolvable in this precision
    kIcnnNonFinite = 3,   ///< NaN or ±Inf in ∇²ψ, or (when requested) in ψ or ∇ψ: the point overflowed
};
// The pivot floor is (D + 1)·u·max_i |H_ii| with u the unit roundoff of the evaluation's type
// (2⁻⁵³ double, 2⁻²⁴ float): the backward error bound of Cholesky, |ΔH| ≤ γ_{D+1} |L||Lᵀ| with
// (|L||Lᵀ|)_ij ≤ max_i H_ii, so a pivot below it is indistinguishable from that of an exactly
// singular matrix within rounding. Every status other than kIcnnOk comes with logdet = NaN.

/// "ok", "indefinite", "singular", "non-finite" (or "unknown").
inline const char* icnn_status_name(std::int32_t status) {
    switch (status) {
        case kIcnnOk: return "ok";
        case kIcnnIndefinite: return "indefinite";
        case kIcnnSingular: return "singular";
        case kIcnnNonFinite: return "non-finite";
        default: return "unknown";
    }
}

/// Why a point failed, for error messages: completes "the Hessian of point i is not positive
/// definite: ...".
inline const char* icnn_status_reason(std::int32_t status) {
    switch (status) {
        case kIcnnIndefinite: return "indefinite (a Cholesky pivot below -floor: psi is not convex there)";
        case kIcnnSingular:
            return "numerically singular (a Cholesky pivot within the rounding floor (D+1)*u*max|H_ii|; log det is "
                   "-inf or not resolvable in this precision)";
        case kIcnnNonFinite: return "non-finite (NaN/Inf in psi, its gradient or its Hessian: the point overflowed)";
        default: return "unknown status";
    }
}

}  // namespace wgf

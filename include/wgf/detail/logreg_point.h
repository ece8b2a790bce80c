// wgf/detail/logreg_point.h — Φ and ∇Φ of Bayesian logistic regression at one point w = (θ, r),
// written once and called by the host loop (src/logreg.cpp) and the CUDA kernel
// (src/cuda/logreg_cuda.cu), in double whatever T is. The formulas and the clamps' conventions are in
// wgf/logreg.h:
//   Φ(w)   = ½ α‖θ‖² − (d/2) ℓ − a ℓ + b α + log_norm − scale Σ_{s} log σ(y_s θᵀx_s),  ℓ = clamp(r, −c, c)
//   ∇_θ Φ  = α θ − scale Σ_s σ(−y_s θᵀx_s) y_s x_s,   ∂_r Φ = [½ α‖θ‖² − d/2 − a + b α] 1{−c ≤ r ≤ c}
// over the rows s = rows[k] (k < m; rows null: s = k) of X [N][d] and labels [N] in {−1, +1}, with
// scale = N/m. Each sum runs in row order, so both backends add the same terms in the same order.
#pragma once

#include <cmath>
#include <cstdint>

#include "wgf/config.h"

namespace wgf {
namespace detail {

/// The model's constants (wgf/logreg.h): d features, prior Gamma(a, rate b), clip c of log α,
/// log_norm = (d/2) log 2π − a log b + lgamma(a), the likelihood clamp (log σ ≥ log_floor) when clamp.
struct LogregConstants {
    int d = 0;
    double a = 1, b = 100, c = 8, log_norm = 0, log_floor = 0;
    bool clamp = false;
};

/// value (not null) = Φ(w), grad (not null) = ∇Φ(w) [d + 1], w = y [d + 1]. g: scratch of d doubles.
template <typename T>
WGF_HOST_DEVICE void logreg_point(const LogregConstants& k, const double* X, const double* labels,
                                  const std::int64_t* rows, std::int64_t m, double scale, const T* y, double* g,
                                  T* value, T* grad) {
    using std::exp;
    using std::fabs;
    using std::log1p;
    const int d = k.d;
    const double r = static_cast<double>(y[d]);
    const bool inside = r >= -k.c && r <= k.c;
    const double ell = r < -k.c ? -k.c : (r > k.c ? k.c : r), alpha = exp(ell);
    double sq = 0;
    for (int j = 0; j < d; ++j) sq += static_cast<double>(y[j]) * static_cast<double>(y[j]);
    double phi = 0.5 * alpha * sq - 0.5 * d * ell - k.a * ell + k.b * alpha + k.log_norm;
    for (int j = 0; j < d; ++j) g[j] = alpha * static_cast<double>(y[j]);
    double data = 0;
    for (std::int64_t i = 0; i < m; ++i) {
        const std::int64_t s = rows != nullptr ? rows[i] : i;
        const double* x = X + s * d;
        const double ys = labels[s];
        double z = 0;
        for (int j = 0; j < d; ++j) z += static_cast<double>(y[j]) * x[j];
        z *= ys;
        // log σ(z) = −(max(−z, 0) + log1p(e)) and d log σ(z)/dz = σ(−z), both from e = e^{−|z|}.
        const double e = exp(-fabs(z));
        double ls = -((z < 0 ? -z : 0.0) + log1p(e));
        double dls = z >= 0 ? e / (1 + e) : 1 / (1 + e);
        if (k.clamp && ls < k.log_floor) {
            ls = k.log_floor;
            dls = 0;
        }
        data += ls;
        if (grad != nullptr && dls != 0)
            for (int j = 0; j < d; ++j) g[j] -= scale * dls * ys * x[j];
    }
    phi -= scale * data;
    if (value != nullptr) *value = static_cast<T>(phi);
    if (grad != nullptr) {
        for (int j = 0; j < d; ++j) grad[j] = static_cast<T>(g[j]);
        grad[d] = static_cast<T>(inside ? 0.5 * alpha * sq - 0.5 * d - k.a + k.b * alpha : 0.0);
    }
}

}  // namespace detail
}  // namespace wgf

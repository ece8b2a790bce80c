// wgf/detail/counter_sampler.h — samples of the built-in ρ⁰ laws as functions of (key, point index):
// a counter-based generator and the per-point samplers, written once for the host (Gaussian,
// GaussianMixture and UniformBox ::sample) and the device (the pretraining's batches, drawn inside
// the training step: src/cuda/train_step_cuda.cu). Point i of a draw depends on (key, i) only, so
// both backends make the same points, in any order, with no generator state to carry.
//
// Generator: 64 bits = two rounds of SplitMix64's finaliser, mix(key ⊕ mix(γ·c + c₀)) for counter c
// (a bijection of c for each key); uniforms in (0, 1) from the top 53 bits; normals by Box–Muller,
// numbers 2m and 2m + 1 the cosine and sine of one pair of uniforms (counters 2m, 2m + 1).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "wgf/config.h"

namespace wgf {
namespace detail {

WGF_HOST_DEVICE std::uint64_t counter_mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// 64 random bits, a function of (key, counter) only.
WGF_HOST_DEVICE std::uint64_t counter_bits(std::uint64_t key, std::uint64_t counter) {
    return counter_mix(key ^ counter_mix(counter * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull));
}

/// Uniform in (0, 1), never 0 or 1 (53 random bits, centred in their cell).
WGF_HOST_DEVICE double counter_uniform(std::uint64_t key, std::uint64_t counter) {
    return (static_cast<double>(counter_bits(key, counter) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/// Standard normal number `counter` of the stream `key`.
WGF_HOST_DEVICE double counter_normal(std::uint64_t key, std::uint64_t counter) {
    using std::cos;
    using std::log;
    using std::sin;
    using std::sqrt;
    const std::uint64_t pair = counter >> 1;
    const double r = sqrt(-2.0 * log(counter_uniform(key, 2 * pair)));
    const double th = 6.283185307179586476925 * counter_uniform(key, 2 * pair + 1);
    return (counter & 1) != 0 ? r * sin(th) : r * cos(th);
}

enum class CounterLaw : std::int32_t { None = 0, Gaussian = 1, GaussianMixture = 2, UniformBox = 3 };

/// A built-in law as the per-point sampler reads it; params (double) by law:
///   Gaussian         mean [D], lower Cholesky factor of the covariance [D][D] (row-major);
///   GaussianMixture  cumulative weights [K] (the last 1), then per component mean [D], factor [D][D];
///   UniformBox       lower [D], upper [D].
struct CounterSampler {
    CounterLaw law = CounterLaw::None;
    std::int32_t dim = 0;
    std::int32_t components = 0;  ///< GaussianMixture: K
    std::vector<double> params;
};

/// The same with its parameters wherever they live (host or device memory): what a kernel takes.
struct CounterSamplerView {
    CounterLaw law;
    std::int32_t dim;
    std::int32_t components;
    const double* params;
};

inline CounterSamplerView view_of(const CounterSampler& s, const double* params) {
    return CounterSamplerView{s.law, s.dim, s.components, params};
}

/// Point i of the draw `key` of the law v, into out[0, D). A Gaussian's normals z_e (numbers i·D + e
/// of the stream) go into out first and are transformed in place, x_d = μ_d + Σ_{e≤d} L_de z_e for d
/// from D−1 down (each z_e is read before it is overwritten); a mixture's component is the first k
/// with u < cdf_k, u number i of its own stream (mix(key ⊕ 1)).
template <typename T>
WGF_HOST_DEVICE void counter_sample_point(const CounterSamplerView& v, std::uint64_t key, std::int64_t i, T* out) {
    const int D = v.dim;
    const std::uint64_t first = static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(D);
    if (v.law == CounterLaw::UniformBox) {
        const double *lower = v.params, *upper = v.params + D;
        for (int d = 0; d < D; ++d)
            out[d] = static_cast<T>(lower[d] + (upper[d] - lower[d]) * counter_uniform(key, first + d));
        return;
    }
    const double* part = v.params;  // mean, then factor
    if (v.law == CounterLaw::GaussianMixture) {
        const double u = counter_uniform(counter_mix(key ^ 1ull), static_cast<std::uint64_t>(i));
        int k = 0;
        while (k + 1 < v.components && !(u < v.params[k])) ++k;
        part = v.params + v.components + static_cast<std::int64_t>(k) * (D + static_cast<std::int64_t>(D) * D);
    }
    const double *mean = part, *L = part + D;
    for (int d = 0; d < D; ++d) out[d] = static_cast<T>(counter_normal(key, first + d));
    for (int d = D - 1; d >= 0; --d) {
        double s = mean[d];
        for (int e = 0; e <= d; ++e) s += L[static_cast<std::int64_t>(d) * D + e] * static_cast<double>(out[e]);
        out[d] = static_cast<T>(s);
    }
}

/// n points of the draw `key` into out [n][D] on the host (the device's kernel makes the same ones).
template <typename T>
void counter_sample(const CounterSampler& s, std::uint64_t key, std::int64_t n, T* out) {
    const CounterSamplerView v = view_of(s, s.params.data());
    for (std::int64_t i = 0; i < n; ++i) counter_sample_point(v, key, i, out + i * s.dim);
}

}  // namespace detail
}  // namespace wgf

// random.h — test inputs: random points and random ICNNs with fixed, printed seeds.
#pragma once

#include <cstdint>
#include <vector>

#include "wgf/icnn.h"
#include "wgf/random.h"

namespace wgf_test {

/// n points of dimension d, i.i.d. N(0, scale²).
template <typename T>
std::vector<T> random_points(std::int64_t n, int d, std::uint64_t seed, double scale = 1.0) {
    wgf::Rng rng(seed);
    std::vector<T> x(static_cast<std::size_t>(n) * static_cast<std::size_t>(d));
    for (auto& v : x) v = static_cast<T>(scale * rng.normal());
    return x;
}

/// A random convex ICNN (reference init, projected). Biases get an offset so that softplus units
/// sit in their curved region and σ'' terms matter.
template <typename T>
wgf::Icnn<T> random_icnn(const wgf::IcnnShape& shape, std::uint64_t seed) {
    return wgf::Icnn<T>::random(shape, seed, /*project=*/true);
}

}  // namespace wgf_test

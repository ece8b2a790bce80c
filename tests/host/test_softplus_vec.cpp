// test_softplus_vec.cpp — the host backend's float e^x, log1p and softplus-derivative arrays
// (src/host/softplus_vec_host.h) against double-precision std::exp / std::log1p, over wide ranges
// (every 61st float of each range — 17–37 million values — plus edge cases), and the double path against the scalar
// reference bit for bit. Error bounds in units of float's ulp at 1 (2^-23 ≈ 1.19e-7, relative).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "host/softplus_vec_host.h"

using namespace wgf::detail;

namespace {

constexpr double kUlp = 1.0 / (1 << 23);                                // relative float ulp at 1
constexpr double kMinNormal = std::numeric_limits<float>::min();        // 2^-126
constexpr double kMinSubnormal = std::numeric_limits<float>::denorm_min();  // 2^-149

float from_bits(std::uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}
std::uint32_t to_bits(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

/// Every `stride`-th float in [lo, hi] (same sign), plus both ends.
std::vector<float> floats_between(float lo, float hi, std::uint32_t stride) {
    std::vector<float> out;
    std::uint32_t a = to_bits(lo), b = to_bits(hi);
    if (a > b) std::swap(a, b);
    for (std::uint64_t i = a; i <= b; i += stride) out.push_back(from_bits(static_cast<std::uint32_t>(i)));
    out.push_back(lo);
    out.push_back(hi);
    return out;
}

/// Error of `got` against `want` in ulps: relative where `want` is a normal float, else absolute in
/// units of the smallest subnormal (the rounding step there).
double ulp_error(double got, double want) {
    if (std::fabs(want) >= kMinNormal) return std::fabs(got - want) / std::fabs(want) / kUlp;
    return std::fabs(got - want) / kMinSubnormal;
}

}  // namespace

TEST_CASE("float e^x for x <= 0 against double std::exp: within 2 ulp, underflow to 0, NaN kept") {
    double worst = 0;
    float worst_x = 0;
    std::vector<float> xs = floats_between(-0.0f, -120.0f, 61);
    for (float x : floats_between(-1e-30f, -1e-45f, 61)) xs.push_back(x);
    for (float x : xs) {
        const double err = ulp_error(exp_nonpositive(x), std::exp(static_cast<double>(x)));
        if (err > worst) worst = err, worst_x = x;
    }
    MESSAGE("exp_nonpositive: max error " << worst << " ulp at x = " << worst_x << " (" << xs.size() << " points)");
    CHECK(worst <= 2.0);
    CHECK(exp_nonpositive(0.0f) == 1.0f);
    CHECK(exp_nonpositive(-200.0f) == 0.0f);
    CHECK(exp_nonpositive(-1e30f) == 0.0f);
    CHECK(exp_nonpositive(-std::numeric_limits<float>::infinity()) == 0.0f);
    CHECK(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("float log1p on [0, 1] against double std::log1p: within 2 ulp, tiny arguments exact-ish") {
    double worst = 0;
    float worst_e = 0;
    const std::vector<float> es = floats_between(0.0f, 1.0f, 61);
    for (float e : es) {
        const double err = ulp_error(log1p_unit(e), std::log1p(static_cast<double>(e)));
        if (err > worst) worst = err, worst_e = e;
    }
    MESSAGE("log1p_unit: max error " << worst << " ulp at e = " << worst_e << " (" << es.size() << " points)");
    CHECK(worst <= 2.0);
    CHECK(log1p_unit(0.0f) == 0.0f);
    CHECK(log1p_unit(1e-40f) == 1e-40f);  // subnormal: log1p(e) = e
}

TEST_CASE("float softplus derivative arrays against double std:: formulas (wide range, large |u|)") {
    std::vector<float> us;
    for (float u : floats_between(0.0f, 200.0f, 61)) {
        us.push_back(u);
        us.push_back(-u);
    }
    for (float u : {1e30f, -1e30f, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                    std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
        us.push_back(u);
    const int n = static_cast<int>(us.size());
    std::vector<float> s0(n), s1(n), s2(n), s3(n), t1(n), t2(n);
    softplus_derivs_array(us.data(), n, s0.data(), s1.data(), s2.data(), s3.data());
    softplus_derivs_array<float>(us.data(), n, nullptr, t1.data(), t2.data(), nullptr);  // the training variant
    double w0 = 0, w1 = 0, w2 = 0, w3 = 0;
    int variant_differs = 0, large_u_not_u = 0;
    for (int i = 0; i < n; ++i) {
        const double u = us[i];
        variant_differs += t1[i] != s1[i] || t2[i] != s2[i];
        if (std::isinf(u)) {
            CHECK(s0[i] == (u > 0 ? us[i] : 0.0f));
            CHECK(s1[i] == (u > 0 ? 1.0f : 0.0f));
            CHECK(s2[i] == 0.0f);
            CHECK(s3[i] == 0.0f);
            continue;
        }
        const double e = std::exp(-std::fabs(u));
        const double p = u >= 0 ? 1 / (1 + e) : e / (1 + e), q = u >= 0 ? e / (1 + e) : 1 / (1 + e);
        const double sp = std::max(u, 0.0) + std::log1p(e);
        w0 = std::max(w0, ulp_error(s0[i], sp));
        w1 = std::max(w1, ulp_error(s1[i], p));
        w2 = std::max(w2, ulp_error(s2[i], p * q));
        // σ''' = σ''·(q − p): q − p cancels near u = 0, so measure against σ''·(1 + |q − p|).
        const double scale = p * q * (1 + std::fabs(q - p));
        w3 = std::max(w3, scale >= kMinNormal ? std::fabs(s3[i] - p * q * (q - p)) / scale / kUlp
                                              : std::fabs(s3[i] - p * q * (q - p)) / kMinSubnormal);
        if (u > 20) large_u_not_u += s0[i] != us[i] + static_cast<float>(std::log1p(e));  // σ(u) = u (+ e^{−u})
    }
    CHECK(variant_differs == 0);
    CHECK(large_u_not_u == 0);
    MESSAGE("softplus arrays, max error in ulp: s0 " << w0 << ", s1 " << w1 << ", s2 " << w2 << ", s3 " << w3 << " ("
                                                      << n << " points)");
    CHECK(w0 <= 4.0);
    CHECK(w1 <= 4.0);
    CHECK(w2 <= 4.0);
    CHECK(w3 <= 4.0);
    float nan = std::numeric_limits<float>::quiet_NaN(), a, b, c, d;
    softplus_derivs_array(&nan, 1, &a, &b, &c, &d);
    CHECK(std::isnan(a));
    CHECK(std::isnan(b));
}

TEST_CASE("double softplus derivative arrays are the scalar std:: reference, bit for bit") {
    std::vector<double> us;
    for (int i = -4000; i <= 4000; ++i) us.push_back(i * 0.05 + 0.0137);
    const int n = static_cast<int>(us.size());
    std::vector<double> s0(n), s1(n), s2(n), s3(n);
    softplus_derivs_array(us.data(), n, s0.data(), s1.data(), s2.data(), s3.data());
    for (int i = 0; i < n; ++i) {
        const SoftplusDerivs<double> d = softplus_derivs(us[i]);
        CHECK(s0[i] == d.s0);
        CHECK(s1[i] == d.s1);
        CHECK(s2[i] == d.s2);
        CHECK(s3[i] == d.s3);
    }
}

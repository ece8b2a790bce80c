// compare.h — expect_allclose for the doctest suites: NaN/Inf agreement first, a reference that is
// not all zeros, the max (not mean) error, and the worst index with both values on failure.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace wgf_test {

/// Passes when |a_i − e_i| ≤ atol + rtol·|e_i| for every i, both arrays are finite where the other
/// is, and the reference has a non-zero entry (so zeros cannot pass).
template <typename A, typename E>
void expect_allclose(const A* actual, const E* expected, std::size_t n, double rtol, double atol,
                     const std::string& what) {
    INFO(what);
    REQUIRE(n > 0);
    double max_ref = 0.0, worst_excess = -1.0;
    std::size_t worst = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double a = static_cast<double>(actual[i]), e = static_cast<double>(expected[i]);
        if (std::isfinite(a) != std::isfinite(e)) {
            FAIL_CHECK(what << ": finiteness differs at " << i << ": actual " << a << ", expected " << e);
            return;
        }
        if (!std::isfinite(e)) {
            FAIL_CHECK(what << ": non-finite reference at " << i << " (" << e << ")");
            return;
        }
        max_ref = std::fmax(max_ref, std::fabs(e));
        const double excess = std::fabs(a - e) / (atol + rtol * std::fabs(e));
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    CHECK_MESSAGE(max_ref > 0.0, what << ": reference is all zeros");
    std::ostringstream os;
    os.precision(17);
    os << what << ": worst at " << worst << ": actual " << static_cast<double>(actual[worst]) << " expected "
       << static_cast<double>(expected[worst]) << " (error/tolerance = " << worst_excess << ", rtol " << rtol
       << ", atol " << atol << ")";
    CHECK_MESSAGE(worst_excess <= 1.0, os.str());
}

template <typename A, typename E>
void expect_allclose(const std::vector<A>& actual, const std::vector<E>& expected, double rtol, double atol,
                     const std::string& what) {
    REQUIRE(actual.size() == expected.size());
    expect_allclose(actual.data(), expected.data(), actual.size(), rtol, atol, what);
}

}  // namespace wgf_test

// moments.h — sample mean and covariance (1/n) of points x [n][D], for the sampler tests.
#pragma once

#include <cstddef>
#include <vector>

namespace wgf_test {

inline void moments(const std::vector<double>& x, int D, std::vector<double>& mean, std::vector<double>& cov) {
    const std::size_t n = x.size() / static_cast<std::size_t>(D);
    mean.assign(static_cast<std::size_t>(D), 0.0);
    cov.assign(static_cast<std::size_t>(D) * static_cast<std::size_t>(D), 0.0);
    for (std::size_t p = 0; p < n; ++p)
        for (int i = 0; i < D; ++i) mean[i] += x[p * D + i] / static_cast<double>(n);
    for (std::size_t p = 0; p < n; ++p)
        for (int i = 0; i < D; ++i)
            for (int j = 0; j < D; ++j)
                cov[i * D + j] += (x[p * D + i] - mean[i]) * (x[p * D + j] - mean[j]) / static_cast<double>(n);
}

}  // namespace wgf_test

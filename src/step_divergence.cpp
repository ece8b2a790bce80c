// step_divergence.cpp — see step_divergence.h.
#include "step_divergence.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace wgf {
namespace detail {

namespace {
double median(std::vector<double> v) {
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double upper = v[mid];
    if (v.size() % 2 == 1) return upper;
    return 0.5 * (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
}

/// The medians of the windows of w values ending at the last one, and se of such a median.
struct Windows {
    std::vector<double> levels;
    double se = 0;
};

Windows windows_of(const std::vector<double>& values, std::size_t w) {
    const std::size_t count = values.size() / w, first = values.size() - count * w;
    Windows out;
    out.levels.resize(count);
    std::vector<double> deviations;
    deviations.reserve(count * w);
    for (std::size_t j = 0; j < count; ++j) {
        const auto b = values.begin() + static_cast<std::ptrdiff_t>(first + j * w);
        const std::vector<double> window(b, b + static_cast<std::ptrdiff_t>(w));
        out.levels[j] = median(window);
        for (const double x : window) deviations.push_back(std::abs(x - out.levels[j]));
    }
    out.se = 1.2533 * 1.4826 * median(deviations) / std::sqrt(static_cast<double>(w));
    return out;
}

}  // namespace

StepDivergence check_step_divergence(const std::vector<double>& losses) {
    StepDivergence out;
    const std::size_t n = losses.size();
    const std::size_t w = std::max<std::size_t>(5, n / 10);
    if (n / w < 2) {
        if (n > 0) out.last_level = losses.back();
        return out;
    }
    const Windows trained = windows_of(losses, w);
    const double lowest = *std::min_element(trained.levels.begin(), trained.levels.end());
    out.last_level = trained.levels.back();
    const double rise = out.last_level - lowest;
    out.rise_se = trained.se > 0 ? rise / trained.se : (rise > 0 ? std::numeric_limits<double>::infinity() : 0.0);
    out.diverged = std::isfinite(rise) && rise > 8 * trained.se && rise > 1e-9 * (1 + std::abs(lowest));
    out.lowest_level = lowest;
    out.se = trained.se;
    return out;
}

void compare_with_earlier(StepDivergence& attempt, const StepDivergence& earlier_best) {
    const double excess = attempt.last_level - earlier_best.lowest_level;
    const double se = std::sqrt(attempt.se * attempt.se + earlier_best.se * earlier_best.se);
    const double in_se = se > 0 ? excess / se : (excess > 0 ? std::numeric_limits<double>::infinity() : 0.0);
    attempt.rise_se = std::max(attempt.rise_se, in_se);
    if (std::isfinite(excess) && excess > 8 * se && excess > 1e-9 * (1 + std::abs(earlier_best.lowest_level)))
        attempt.diverged = true;
}

}  // namespace detail
}  // namespace wgf

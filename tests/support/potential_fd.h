// potential_fd.h — the finite-difference reference for potentials' gradients.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "wgf/context.h"
#include "wgf/potential.h"

namespace wgf_test {

/// Central differences of the value, h = ∛ε·max(1, |y_i|) (truncation and rounding errors both
/// ~ε^{2/3}), one point at a time on a single-threaded host context.
inline std::vector<double> fd_gradient(const wgf::Potential<double>& pot, const std::vector<double>& y) {
    wgf::Context ctx(wgf::Backend::Host, 1);
    const std::size_t D = static_cast<std::size_t>(pot.dim()), n = y.size() / D;
    std::vector<double> out(y.size());
    for (std::size_t p = 0; p < n; ++p)
        for (std::size_t i = 0; i < D; ++i) {
            std::vector<double> yp(y.begin() + static_cast<std::ptrdiff_t>(p * D),
                                   y.begin() + static_cast<std::ptrdiff_t>((p + 1) * D)),
                ym = yp;
            const double h = std::cbrt(2.2e-16) * std::max(1.0, std::fabs(yp[i]));
            yp[i] += h;
            ym[i] -= h;
            double vp = 0, vm = 0;
            pot.eval(ctx, yp.data(), 1, &vp, nullptr);
            pot.eval(ctx, ym.data(), 1, &vm, nullptr);
            out[p * D + i] = (vp - vm) / (2 * h);
        }
    return out;
}

}  // namespace wgf_test

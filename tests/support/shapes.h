// shapes.h — the shape lists shared by tests and benchmarks.
#pragma once

#include <vector>

#include "wgf/icnn.h"

namespace wgf_test {

/// FD-test grid of the core issue: L ∈ {1,2,3}, r ∈ {1,5}, D ∈ {1,2,5,13}, widths up to 64 (mixed).
inline std::vector<wgf::IcnnShape> fd_shapes() {
    std::vector<wgf::IcnnShape> out;
    const std::vector<std::vector<int>> widths = {{7}, {16, 9}, {64, 64}, {12, 33, 64}};
    for (const auto& w : widths)
        for (int r : {1, 5})
            for (int d : {1, 2, 5, 13}) {
                wgf::IcnnShape s;
                s.dim = d;
                s.widths = w;
                s.rank = r;
                s.strong_convexity = 1e-6;
                out.push_back(s);
            }
    return out;
}

}  // namespace wgf_test

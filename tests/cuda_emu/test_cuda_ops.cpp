// test_cuda_ops.cpp — every CUDA op of a training chunk against the host op it mirrors, one op at a
// time, under the CPU emulation (bench/cuda_op_checks.h: the validation bench_cuda_ops runs on a GPU
// before it times the ops). The device ops and the host ops share the per-entry rules
// (wgf/detail/icnn_rules.h) but not their loops or their GEMMs' summation order, so double agrees to
// rounding: the bound 1e-12 of each tensor's scale is ~5000 ulps of headroom at these sizes, and a
// wrong index, factor or missing term is O(1). Float: 1e-4 (sums of ≤ 50 terms of ~1e-7 relative
// error each, plus the Cholesky inverse's conditioning).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "bench/cuda_op_checks.h"

namespace {

using namespace wgf;

template <typename T>
void check_shape(const IcnnShape& shape, int P, double bound) {
    Context ctx(Backend::Cuda);
    const auto checks = op_checks::validate_chunk_ops<T>(ctx, shape, P, 7);
    std::set<std::string> seen;
    for (const auto& c : checks) {
        CAPTURE(c.op);
        CAPTURE(c.tensor);
        CAPTURE(c.scale);
        // Zero by the math (layer 0 is linear: σ''_0 = 0, no curvature terms on layer 0, and with one
        // layer nothing reaches u_0's adjoint); any other tensor of zeros would compare trivially.
        const bool zero_by_math = c.tensor == "S2_0" ||
                                  (c.op == "hessian_assembly_backward" && (c.tensor == "Deltabar_0" || c.tensor == "Ubar_0")) ||
                                  (shape.depth() == 1 && c.tensor == "Ubar_0");
        if (zero_by_math)
            CHECK(c.rel_err == 0);
        else
            CHECK(c.scale > 0);
        CHECK(c.rel_err <= bound);
        seen.insert(c.op);
    }
    std::set<std::string> ops;
    for (int i = 0; i < op_checks::kChunkOps; ++i) ops.insert(op_checks::chunk_op_name(i));
    CHECK(seen == ops);  // every op of the chunk was checked
}

TEST_CASE("each CUDA op of a training chunk equals its host op, double, 1e-12 of scale") {
    check_shape<double>(IcnnShape{3, {5, 4, 6}, 2, 1e-6}, 6, 1e-12);  // three layers: J_1, every chain
    check_shape<double>(IcnnShape{2, {7}, 3, 1e-6}, 5, 1e-12);        // one layer: no Jacobian recursion
    check_shape<double>(IcnnShape{4, {3, 5}, 2, 0.1}, 4, 1e-12);      // two layers, s > 0
}

TEST_CASE("each CUDA op of a training chunk equals its host op, float, 1e-4 of scale") {
    check_shape<float>(IcnnShape{3, {5, 4, 6}, 2, 1e-6}, 6, 1e-4);
}

}  // namespace

// bench_ops_host.cpp — the host backend's ops of one training block (src/host/icnn_block_host.h), one
// at a time, on one thread: the host side of bench_cuda_ops, with the same op names, shapes and
// points. Each op is timed on a block of P points after every op before it has run once (its inputs
// are in place); backward ops accumulate into their adjoints, which changes no cost. "chunk" is every
// op in order, the adjoints cleared first (the ICNN part of a JKO loss block, without Φ and the
// sums). Arguments {D, W, P}, L = 2, r = 5, float. Counters: points_per_s.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/chunk_reference_host.h"
#include "host/icnn_block_host.h"
#include "wgf/icnn.h"
#include "wgf/random.h"

namespace {

using namespace wgf;
using namespace wgf::detail;

struct Block {
    IcnnShape shape;
    std::vector<float> params, dparams;
    HostNet<float> net;
    IcnnBlock<float> blk;
    std::vector<float> ybar;
    Block(int D, int W, int P)
        : shape(IcnnShape::uniform(D, W, 2, 5)), params(Icnn<float>::random(shape, 11).params()),
          dparams(params.size(), 0.0f), net(shape, params.data(), /*with_hessian=*/true) {
        Rng rng(12);
        std::vector<float> x(static_cast<std::size_t>(P) * D);
        for (auto& v : x) v = static_cast<float>(rng.normal());
        blk.set_points(x.data(), P, D);
        ybar.resize(x.size());
        for (auto& v : ybar) v = static_cast<float>(rng.normal() / P);
    }
    void begin_backward() {
        blk.zero_adjoints(net);
        blk.Y_bar = Eigen::Map<const HMatR<float>>(ybar.data(), blk.P, shape.dim);
        blk.logdet_bar.setConstant(blk.P, -0.1f / blk.P);
    }
    /// Op i by bench_cuda_ops's names (cuda_op_checks.h): the host op of that name, with the host ops
    /// the device's forward op includes. The host's backward ops split the work differently (the
    /// device's passes take the Hessian's per-point terms, K̄ and DQ̄ into grad_recursion_backward and
    /// values_backward), so the backward rows time the host ops of those names, and "chunk" runs them
    /// in the host's order (kHostOrder), which quad_jacobian_backward before values_backward needs.
    void run(int i) {
        float* g = dparams.data();
        switch (i) {
            case 0: { HostNet<float> rebuilt(shape, params.data(), true); benchmark::DoNotOptimize(rebuilt.layers.data()); break; }
            case 1: values_forward(net, blk, true, false); quad_jacobian_forward(net, blk); jacobian_recursion_forward(net, blk); break;
            case 2: grad_recursion_forward(net, blk); hessian_assembly_forward(net, blk); break;
            case 3: grad_assembly_forward(net, blk); break;
            case 4: cholesky_logdet_forward(net, blk); break;
            case 5: cholesky_logdet_backward(net, blk); break;
            case 6: hessian_assembly_backward(net, blk, g); jacobian_recursion_backward(net, blk, g); break;
            case 7: grad_assembly_backward(net, blk); break;
            case 8: grad_recursion_backward(net, blk, g); break;
            case 9: values_backward(net, blk, g); break;
            default: quad_jacobian_backward(net, blk, g); break;
        }
    }
    static constexpr int kHostOrder[] = {1, 2, 3, 4, 5, 6, 7, 10, 8, 9};
    void run_chunk() {
        for (const int i : kHostOrder) {
            if (i == 5) begin_backward();
            run(i);
        }
    }
};

void time_op(benchmark::State& state, int D, int W, int P, int op) {
    Block b(D, W, P);
    b.run_chunk();
    for (auto _ : state) {
        if (op < 0)
            b.run_chunk();
        else
            b.run(op);
    }
    state.counters["points_per_s"] = benchmark::Counter(double(P), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    struct Shape {
        int D, W, P;
    };
    for (const Shape s : {Shape{2, 64, 1024}, Shape{12, 256, 1024}, Shape{12, 1024, 512}, Shape{32, 1024, 256}})
        for (int op = -1; op < op_checks::kChunkOps; ++op) {
            const std::string name = std::string("BM_host_op/") + (op < 0 ? "chunk" : op_checks::chunk_op_name(op)) + "/D:" +
                                     std::to_string(s.D) + "/W:" + std::to_string(s.W) + "/P:" + std::to_string(s.P);
            benchmark::RegisterBenchmark(name.c_str(), [s, op](benchmark::State& st) { time_op(st, s.D, s.W, s.P, op); })
                ->Unit(benchmark::kMicrosecond);
        }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

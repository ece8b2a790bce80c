// test_icnn_host.cpp — host backend properties beyond the FD checks: the gradient-only branch equals
// the Hessian branch, batches equal single points (block splitting, threads), float agrees with
// double within an argued tolerance, subsets of outputs equal the full evaluation, save/load.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "compare.h"
#include "icnn_eval_all.h"
#include "random.h"
#include "shapes.h"
#include "wgf/wgf.h"

using namespace wgf;
using namespace wgf_test;

namespace {
double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double e : v) m = std::max(m, std::fabs(e));
    return m;
}
}  // namespace

TEST_CASE("icnn host: gradient-only branch equals the Hessian branch; subsets equal the full call") {
    Context ctx(Backend::Host);
    std::uint64_t seed = 4000;
    for (const IcnnShape& shape : fd_shapes()) {
        ++seed;
        INFO("icnn " << shape.describe() << " seed " << seed);
        const auto net = random_icnn<double>(shape, seed);
        const auto x = random_points<double>(37, shape.dim, seed + 1);
        const auto full = eval_all(ctx, net, x, 15u);
        const auto grad_only = eval_all(ctx, net, x, 2u);
        const auto value_only = eval_all(ctx, net, x, 1u);
        const auto logdet_only = eval_all(ctx, net, x, 8u);
        // Same math, different association order: agreement to ~1e-13 of the scale.
        expect_allclose(grad_only.grad, full.grad, 1e-12, 1e-12 * max_abs(full.grad), "grad (no-Hessian branch)");
        expect_allclose(value_only.value, full.value, 0, 0, "value alone is bitwise the same");
        expect_allclose(logdet_only.logdet, full.logdet, 0, 0, "logdet without hess_x is bitwise the same");
    }
}

TEST_CASE("icnn host: a batch equals its points one by one, for 1 and 2 threads") {
    const IcnnShape shape = IcnnShape::uniform(5, 48, 3, 5);
    const auto net = random_icnn<double>(shape, 77);
    const int n = 301;  // not a multiple of any block size
    const auto x = random_points<double>(n, shape.dim, 78);
    for (int threads : {1, 2}) {
        Context ctx(Backend::Host, threads);
        const auto batch = eval_all(ctx, net, x);
        std::vector<double> one_value(n), one_grad(n * 5), one_hess(n * 25), one_logdet(n);
        for (int p = 0; p < n; ++p) {
            const std::vector<double> xp(x.begin() + p * 5, x.begin() + (p + 1) * 5);
            const auto r = eval_all(ctx, net, xp);
            one_value[p] = r.value[0];
            std::copy(r.grad.begin(), r.grad.end(), one_grad.begin() + p * 5);
            std::copy(r.hess.begin(), r.hess.end(), one_hess.begin() + p * 25);
            one_logdet[p] = r.logdet[0];
        }
        INFO("threads " << threads);
        // Blocked GEMMs may associate differently for different block sizes: 1e-12 relative.
        expect_allclose(batch.value, one_value, 1e-12, 1e-12, "value");
        expect_allclose(batch.grad, one_grad, 1e-12, 1e-12 * max_abs(one_grad), "grad");
        expect_allclose(batch.hess, one_hess, 1e-12, 1e-12 * max_abs(one_hess), "hess");
        expect_allclose(batch.logdet, one_logdet, 1e-12, 1e-12, "logdet");
    }
}

TEST_CASE("icnn host: float agrees with double") {
    Context ctx(Backend::Host);
    std::uint64_t seed = 5000;
    int checked = 0;
    for (const IcnnShape& shape : fd_shapes()) {
        ++seed;
        INFO("icnn " << shape.describe() << " seed " << seed);
        const int D = shape.dim, n = 16;
        const auto net64 = random_icnn<double>(shape, seed);
        const auto net32 = net64.cast<float>();
        const auto x64 = random_points<double>(n, D, seed + 1);
        std::vector<float> x32(x64.begin(), x64.end());
        std::vector<double> x64r(x32.begin(), x32.end());  // the same (float-rounded) points in double
        const auto ref = eval_all(ctx, net32.cast<double>(), x64r);
        const auto got = eval_all(ctx, net32, x32);
        // Every output is a sum of at most a few thousand products along ≤ 3 layers; float rounding
        // accumulates to about (depth + log2 W) · ε_f ≈ 10 · 6e-8 of the largest partial sums, which
        // are within 10× of the largest output. 2e-5 of the largest entry leaves a margin of ~30.
        expect_allclose(got.value, ref.value, 0, 2e-5 * max_abs(ref.value), "value f32 vs f64");
        expect_allclose(got.grad, ref.grad, 0, 2e-5 * max_abs(ref.grad), "grad f32 vs f64");
        expect_allclose(got.hess, ref.hess, 0, 2e-5 * max_abs(ref.hess), "hess f32 vs f64");
        // log det: |Δ| ≤ Σ|Δλ_i|/λ_i ≤ D‖ΔH‖/λ_min, so the tolerance is per point from the conditioning.
        for (int p = 0; p < n; ++p) {
            REQUIRE(ref.status[p] == 0);
            double hmax = 0, lmin_bound = shape.strong_convexity;
            for (int k = 0; k < D * D; ++k) hmax = std::max(hmax, std::fabs(ref.hess[p * D * D + k]));
            // λ_min ≥ exp(logdet − (D−1) log(D·hmax)) since every other eigenvalue ≤ D·hmax.
            lmin_bound = std::max(lmin_bound, std::exp(ref.logdet[p] - (D - 1) * std::log(D * hmax)));
            if (got.status[p] != 0) {
                // A float Cholesky may fail only where H is singular at float precision: λ_min within
                // ~D·ε_f·‖H‖ of zero. A failure on a well-conditioned H is a bug.
                CHECK_MESSAGE(lmin_bound <= 1e3 * D * 6e-8 * D * hmax,
                              "point " << p << ": float Cholesky failed although lambda_min >= " << lmin_bound);
                continue;
            }
            ++checked;
            const double tol = 1e-5 + D * (2e-5 * hmax * D) / lmin_bound;
            CHECK_MESSAGE(std::fabs(got.logdet[p] - ref.logdet[p]) <= tol,
                          "point " << p << " logdet f32 " << got.logdet[p] << " f64 " << ref.logdet[p] << " tol " << tol);
        }
    }
    CHECK(checked > static_cast<int>(fd_shapes().size()) * 16 / 2);  // most points are compared, not skipped
}

TEST_CASE("icnn save/load round-trips exactly, in both precisions") {
    const IcnnShape shape = IcnnShape::uniform(4, 16, 3, 2, 1e-3);
    const auto net = random_icnn<double>(shape, 9);
    const std::string path = "test_icnn_roundtrip.wgficnn";
    net.save(path);
    const auto back = Icnn<double>::load(path);
    CHECK(back.shape() == shape);
    CHECK(back.params() == net.params());
    const auto back32 = Icnn<float>::load(path, shape);
    for (std::size_t i = 0; i < net.size(); ++i) CHECK(back32.data()[i] == static_cast<float>(net.data()[i]));
    net.cast<float>().save(path);
    const auto widened = Icnn<double>::load(path);
    for (std::size_t i = 0; i < net.size(); ++i) CHECK(widened.data()[i] == static_cast<double>(static_cast<float>(net.data()[i])));
    std::remove(path.c_str());
}

TEST_CASE("icnn projection and initialisation") {
    const IcnnShape shape = IcnnShape::uniform(3, 200, 2, 5);
    const auto raw = Icnn<double>::random(shape, 5, /*project=*/false);
    CHECK_FALSE(raw.is_convex());  // about half of C and c are negative before the projection
    auto net = raw;
    net.project();
    CHECK(net.is_convex());
    // N(0,1)/√W: sample variance of A_1 close to 1/W (40 000 ... entries: 3 % relative error band).
    const auto& lay = net.layout().layers[0];
    double ss = 0;
    const std::size_t nA = lay.B - lay.A;
    for (std::size_t i = lay.A; i < lay.B; ++i) ss += net.data()[i] * net.data()[i];
    CHECK(ss / nA == doctest::Approx(1.0 / 200).epsilon(0.05));
    CHECK(Icnn<double>::random(shape, 5).params() == net.params());  // seeded: reproducible
}

TEST_CASE("the convexity constraint: C_l (l >= 1) and c, nothing else, clamped by the projection") {
    const IcnnShape shape = IcnnShape::uniform(2, 3, 3, 2);  // widths 3, 3, 3
    const IcnnLayout lay(shape);
    const auto blocks = lay.nonnegative_blocks();
    REQUIRE(blocks.size() == 3);
    CHECK(blocks[0].name == "C_2");
    CHECK(blocks[0].begin == lay.layers[1].C);
    CHECK(blocks[0].end == lay.layers[2].A);  // C_l is the last block of layer l
    CHECK(blocks[1].name == "C_3");
    CHECK(blocks[1].begin == lay.layers[2].C);
    CHECK(blocks[1].end == lay.c);
    CHECK(blocks[2].name == "c");
    CHECK(blocks[2].begin == lay.c);
    CHECK(blocks[2].end == lay.total);
    // Every entry −1: the projection zeroes exactly the blocks, and leaves A, B, b negative.
    Icnn<double> net(shape);
    net.set_params(std::vector<double>(lay.total, -1.0));
    net.project();
    std::size_t zeroed = 0;
    for (std::size_t i = 0; i < lay.total; ++i) {
        bool inside = false;
        for (const auto& b : blocks) inside = inside || (i >= b.begin && i < b.end);
        CHECK(net.data()[i] == (inside ? 0.0 : -1.0));
        zeroed += inside;
    }
    CHECK(zeroed == 2 * 3 * 3 + 3);
    CHECK(net.is_convex());
}

TEST_CASE("icnn_project on a raw buffer equals Icnn::project, and rejects bad input") {
    const IcnnShape shape = IcnnShape::uniform(4, 16, 3, 2);
    const auto raw = Icnn<float>::random(shape, 9, /*project=*/false);
    auto expected = raw;
    expected.project();
    std::vector<float> buffer = raw.params();
    Context ctx(Backend::Host);
    icnn_project(ctx, shape, buffer.data());
    CHECK(buffer == expected.params());
    CHECK(buffer != raw.params());  // something was clamped
    CHECK_THROWS_AS(icnn_project<float>(ctx, shape, nullptr), Error);
    IcnnShape bad = shape;
    bad.dim = 0;
    CHECK_THROWS_AS(icnn_project(ctx, bad, buffer.data()), Error);
}

// test_icnn_cuda_vs_host.cpp — the CUDA backend of icnn_eval against the host reference (DESIGN.md
// §4.2): double to ~1e-12 of each array's scale, float against host double with an argued tolerance,
// every subset of outputs, chunked batches, the status / NotPositiveDefinite contract on both
// Cholesky paths (in-kernel D ≤ 32, cuSOLVER above), NaN/Inf rejection of device inputs, DeviceBuffer
// and guard regions. Own main(): without a CUDA device it exits 77, which CTest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "eigen_dense.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "errors.h"
#include "compare.h"
#include "icnn_eval_all.h"
#include "random.h"
#include "shapes.h"
#include "wgf/wgf.h"

using namespace wgf;
using namespace wgf_test;

namespace {

template <typename T>
double max_abs(const std::vector<T>& v) {
    double m = 0;
    for (T e : v) m = std::max(m, std::fabs(static_cast<double>(e)));
    return m;
}

/// The FD grid plus reference-sized shapes: D=12 W=64 (the paper's low-D runs), D=32 W=1024 (wide,
/// K = C J with k = 1024), D=20 (the in-kernel Cholesky with kMaxDim 32), D=33 and D=40 (cuSOLVER
/// potrfBatched, D > 32). Big shapes use few points.
struct Case {
    IcnnShape shape;
    int n;
};
std::vector<Case> cases() {
    std::vector<Case> out;
    for (const IcnnShape& s : fd_shapes()) out.push_back({s, 37});
    out.push_back({IcnnShape::uniform(12, 64), 64});
    out.push_back({IcnnShape::uniform(32, 1024), 8});
    out.push_back({IcnnShape::uniform(20, 32, 3), 19});
    out.push_back({IcnnShape::uniform(33, 16, 2, 1), 11});
    out.push_back({IcnnShape::uniform(40, 48), 9});
    return out;
}

/// Eigenvalue range of each point's D×D Hessian (host double), for conditioning-aware log-det bounds.
struct Spectrum {
    double lmin, lmax;
};
std::vector<Spectrum> spectra(const std::vector<double>& hess, int D) {
    const std::size_t n = hess.size() / (static_cast<std::size_t>(D) * D);
    std::vector<Spectrum> out(n);
    for (std::size_t p = 0; p < n; ++p) {
        const Eigen::Map<const Eigen::MatrixXd> H(hess.data() + p * D * D, D, D);
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(H, Eigen::EigenvaluesOnly);
        out[p] = {es.eigenvalues().minCoeff(), es.eigenvalues().maxCoeff()};
    }
    return out;
}

/// |Δ log det| for an entrywise Hessian error ≤ dh plus Cholesky rounding at unit roundoff u:
/// by Weyl, |Δλ_i| ≤ ‖ΔH‖₂ ≤ D·dh, and Cholesky's backward error adds ≤ 2·D·u·λ_max; log det moves by
/// Σ |Δλ_i|/λ_i ≤ D·(D·dh + 2·D·u·λ_max)/λ_min. The reference's own rounding is u·|log det|.
double logdet_tolerance(const Spectrum& sp, int D, double dh, double u, double logdet) {
    return D * (D * dh + 2.0 * D * u * sp.lmax) / sp.lmin + 4 * u * std::max(1.0, std::fabs(logdet));
}


/// Sets an environment variable for the lifetime of the object (a new Context reads it).
struct ScopedEnv {
    ScopedEnv(const char* name, const char* value) : m_name(name) { setenv(name, value, 1); }
    ~ScopedEnv() { unsetenv(m_name); }
    const char* m_name;
};

}  // namespace

TEST_CASE("icnn_eval_cuda double matches the host double reference") {
    Context host(Backend::Host), cuda(Backend::Cuda);
    std::uint64_t seed = 7000;
    for (const Case& c : cases()) {
        ++seed;
        const IcnnShape& shape = c.shape;
        const int D = shape.dim;
        INFO("icnn " << shape.describe() << " n=" << c.n << " T=double seed " << seed);
        const auto net = random_icnn<double>(shape, seed);
        const auto x = random_points<double>(c.n, D, seed + 1);
        const auto ref = eval_all(host, net, x);
        const auto got = eval_all(cuda, net, x);
        // Same formulas (wgf/detail) in the same order per entry; the differences are the summation
        // order of the GEMMs (cuBLAS splits k = D, W, rW differently from Eigen) and FMA contraction.
        // Each entry is a sum of at most a few thousand terms over ≤ 3 layers whose partial sums stay
        // within ~10× of the array's largest entry: ≲ 1e3 · 1.1e-16 · 10 ≈ 1e-12 of that scale. The
        // host against itself with other blockings differs by ≤ 1.3e-15 of the scale on these shapes.
        expect_allclose(got.value, ref.value, 1e-12, 1e-12 * max_abs(ref.value), "value");
        expect_allclose(got.grad, ref.grad, 1e-12, 1e-12 * max_abs(ref.grad), "grad");
        const double dh = 1e-12 * max_abs(ref.hess);
        expect_allclose(got.hess, ref.hess, 1e-12, dh, "hess");
        // log det: its error follows from the Hessian's through the conditioning of each point.
        const auto sp = spectra(ref.hess, D);
        for (int p = 0; p < c.n; ++p) {
            REQUIRE(ref.status[p] == 0);
            CHECK_MESSAGE(got.status[p] == 0, "point " << p << " status " << got.status[p]);
            const double tol = logdet_tolerance(sp[p], D, dh, 1.1e-16, ref.logdet[p]);
            CHECK_MESSAGE(std::fabs(got.logdet[p] - ref.logdet[p]) <= tol, "point " << p << " logdet cuda "
                                                                                      << got.logdet[p] << " host "
                                                                                      << ref.logdet[p] << " tol " << tol);
        }
    }
}

TEST_CASE("icnn_eval_cuda float agrees with the host double reference") {
    Context host(Backend::Host), cuda(Backend::Cuda);
    std::uint64_t seed = 8000;
    for (const Case& c : cases()) {
        ++seed;
        const IcnnShape& shape = c.shape;
        const int D = shape.dim;
        INFO("icnn " << shape.describe() << " n=" << c.n << " T=float seed " << seed);
        const auto net32 = random_icnn<double>(shape, seed).cast<float>();
        const auto x64 = random_points<double>(c.n, D, seed + 1);
        const std::vector<float> x32(x64.begin(), x64.end());
        const std::vector<double> x64r(x32.begin(), x32.end());  // the same (float-rounded) points in double
        const auto ref = eval_all(host, net32.cast<double>(), x64r);
        const auto got = eval_all(cuda, net32, x32);
        // As in test_icnn_host.cpp: float rounding accumulates to about (depth + log2 W) · ε_f ≈
        // (3 + 10) · 6e-8 ≈ 8e-7 of the largest partial sums, which stay within ~10× of the largest
        // output; 2e-5 of the array's largest entry leaves a margin ≥ 2. The host in float stays
        // below 4e-7 of the scale on these shapes, W = 1024 included.
        expect_allclose(got.value, ref.value, 0, 2e-5 * max_abs(ref.value), "value f32 vs f64");
        expect_allclose(got.grad, ref.grad, 0, 2e-5 * max_abs(ref.grad), "grad f32 vs f64");
        const double dh = 2e-5 * max_abs(ref.hess);
        expect_allclose(got.hess, ref.hess, 0, dh, "hess f32 vs f64");
        const auto sp = spectra(ref.hess, D);
        for (int p = 0; p < c.n; ++p) {
            REQUIRE(ref.status[p] == 0);
            if (got.status[p] != 0) {  // float Cholesky may fail on a near-singular H: reported, fine
                CHECK(std::isnan(got.logdet[p]));
                CHECK((got.status[p] == kIcnnSingular || got.status[p] == kIcnnIndefinite));
                continue;
            }
            const double tol = logdet_tolerance(sp[p], D, dh, 6e-8, ref.logdet[p]);
            CHECK_MESSAGE(std::fabs(got.logdet[p] - ref.logdet[p]) <= tol,
                          "point " << p << " logdet f32 " << got.logdet[p] << " f64 " << ref.logdet[p] << " tol " << tol);
        }
    }
}

TEST_CASE_TEMPLATE("icnn_eval_cuda: every subset of outputs equals the full evaluation", T, float, double) {
    Context cuda(Backend::Cuda);
    // D ≤ 16 and D ≤ 32 (in-kernel Cholesky, both kMaxDim), D > 32 (cuSOLVER), L = 1 and L = 3.
    const std::vector<IcnnShape> shapes = {IcnnShape::uniform(5, 48, 3), IcnnShape::uniform(13, 64, 1),
                                           IcnnShape::uniform(24, 40), IcnnShape::uniform(36, 24)};
    std::uint64_t seed = 9000;
    for (const IcnnShape& shape : shapes) {
        ++seed;
        INFO("icnn " << shape.describe() << " seed " << seed);
        const auto net = random_icnn<double>(shape, seed).template cast<T>();
        const auto x64 = random_points<double>(23, shape.dim, seed + 1);
        const std::vector<T> x(x64.begin(), x64.end());
        const auto full = eval_all(cuda, net, x, 15u);
        for (unsigned which = 1; which < 15; ++which) {
            INFO("outputs mask " << which);
            const auto sub = eval_all(cuda, net, x, which);
            // The forward pass, the Hessian and the Cholesky are the same kernels and GEMMs whatever
            // is requested (buffers differ only in place, all 256-byte aligned): bitwise equal.
            if (which & 1u) expect_allclose(sub.value, full.value, 0, 0, "value");
            if (which & 4u) expect_allclose(sub.hess, full.hess, 0, 0, "hess");
            if (which & 8u) {
                CHECK(sub.status == full.status);
                for (std::size_t p = 0; p < full.logdet.size(); ++p)  // NaN where a float Cholesky failed
                    CHECK_MESSAGE(std::memcmp(&sub.logdet[p], &full.logdet[p], sizeof(T)) == 0,
                                  "point " << p << " logdet " << sub.logdet[p] << " vs " << full.logdet[p]);
            }
            if (which & 2u) {
                if (which & 12u) {
                    expect_allclose(sub.grad, full.grad, 0, 0, "grad (Hessian branch)");
                } else {
                    // ∇ψ = Σ_l B_lᵀ g_l + A_lᵀ R_l instead of K_{L−1}ᵀ g: same math, another association
                    // order; the host test allows 1e-12 of the scale in double. In float the terms
                    // differ by ~(3 + log2 W) ε_f ≈ 6e-7 of the scale: 1e-5.
                    const double rel = sizeof(T) == 8 ? 1e-12 : 1e-5;
                    expect_allclose(sub.grad, full.grad, rel, rel * max_abs(full.grad), "grad (gradient-only branch)");
                }
            }
        }
    }
}

TEST_CASE("icnn_eval_cuda: batches split into chunks equal the host") {
    // 1 MiB of scratch: a few points per chunk, so the chunk loop, the offsets n0 into every output
    // and the own-status buffer (logdet without status) are exercised, on both Cholesky paths.
    const ScopedEnv env("WGF_CUDA_SCRATCH_MB", "1");
    Context host(Backend::Host), cuda(Backend::Cuda);
    std::uint64_t seed = 9500;
    for (const IcnnShape& shape : {IcnnShape::uniform(5, 48, 3), IcnnShape::uniform(40, 32)}) {
        ++seed;
        INFO("icnn " << shape.describe() << " seed " << seed);
        const int n = 301, D = shape.dim;
        const auto net = random_icnn<double>(shape, seed);
        const auto x = random_points<double>(n, D, seed + 1);
        const auto ref = eval_all(host, net, x);
        const auto got = eval_all(cuda, net, x);
        // Tolerances as in the double test above.
        expect_allclose(got.value, ref.value, 1e-12, 1e-12 * max_abs(ref.value), "value");
        expect_allclose(got.grad, ref.grad, 1e-12, 1e-12 * max_abs(ref.grad), "grad");
        const double dh = 1e-12 * max_abs(ref.hess);
        expect_allclose(got.hess, ref.hess, 1e-12, dh, "hess");
        const auto sp = spectra(ref.hess, D);
        for (int p = 0; p < n; ++p) {
            REQUIRE(got.status[p] == 0);
            CHECK(std::fabs(got.logdet[p] - ref.logdet[p]) <= logdet_tolerance(sp[p], D, dh, 1.1e-16, ref.logdet[p]));
        }
        // logdet alone, without status (other chunk sizes: less scratch per point): the internal
        // statuses of every chunk are checked, none fails.
        std::vector<double> logdet(n);
        icnn_eval(cuda, net, x.data(), n, IcnnOutputs<double>{nullptr, nullptr, nullptr, logdet.data(), nullptr});
        for (int p = 0; p < n; ++p)
            CHECK(std::fabs(logdet[p] - ref.logdet[p]) <= logdet_tolerance(sp[p], D, dh, 1.1e-16, ref.logdet[p]));
    }
}

TEST_CASE("icnn_eval_cuda: a Hessian that is not SPD is reported, never a silent NaN") {
    Context cuda(Backend::Cuda);
    // s = 0 and all parameters zero: ∇²ψ = 0, singular (wgf/icnn_status.h) — in the kernel (D = 2, 20)
    // and after cuSOLVER (D = 40).
    for (int D : {2, 20, 40}) {
        INFO("D=" << D);
        const IcnnShape shape = IcnnShape::uniform(D, 4, 2, 1, 0.0);
        const Icnn<double> net(shape);
        const int n = 5;
        const auto x = random_points<double>(n, D, 4);
        std::vector<double> logdet(n), hess(static_cast<std::size_t>(n) * D * D, 1.0);
        std::vector<std::int32_t> status(n, -5);
        icnn_eval(cuda, net, x.data(), n, IcnnOutputs<double>{nullptr, nullptr, hess.data(), logdet.data(), status.data()});
        for (int p = 0; p < n; ++p) {
            CHECK(status[p] == kIcnnSingular);
            CHECK(std::isnan(logdet[p]));
        }
        CHECK(max_abs(hess) == 0.0);
        try {
            icnn_eval(cuda, net, x.data(), n, IcnnOutputs<double>{nullptr, nullptr, nullptr, logdet.data(), nullptr});
            FAIL("expected NotPositiveDefinite");
        } catch (const NotPositiveDefinite& e) {
            CHECK(e.point() == 0);
            CHECK(e.status() == kIcnnSingular);
            CHECK(contains(e.what(), "not positive definite"));
        }
        // float takes the same paths
        const Icnn<float> net32(shape);
        const std::vector<float> x32(x.begin(), x.end());
        std::vector<float> logdet32(n);
        icnn_eval(cuda, net32, x32.data(), n, IcnnOutputs<float>{nullptr, nullptr, nullptr, logdet32.data(), status.data()});
        for (int p = 0; p < n; ++p) {
            CHECK(status[p] == kIcnnSingular);
            CHECK(std::isnan(logdet32[p]));
        }
    }
}

TEST_CASE("icnn_eval_cuda: singular, nearly singular, indefinite and overflowing points get the host's status") {
    // The contract of wgf/icnn_status.h on both device paths: in-kernel Cholesky (D = 8) and cuSOLVER
    // plus re-factorisation (D = 40). H₀ = ∇²ψ of a network with s = 0 and one layer of 3 units of
    // rank 2 has rank < D; s = 1e-17 stays below the pivot floor, s = 1e-6 is far above it.
    Context host(Backend::Host), cuda(Backend::Cuda);
    for (int D : {8, 40}) {
        IcnnShape shape = IcnnShape::uniform(D, 3, 1, 2, 0.0);
        const Icnn<double> base = Icnn<double>::random(shape, 11);
        std::vector<double> x = random_points<double>(12, D, 5);
        x[static_cast<std::size_t>(D) * 11] = 1e160;  // the last point overflows ψ
        const auto with = [&](double s, bool negative_c) {
            IcnnShape sh = shape;
            sh.strong_convexity = s;
            Icnn<double> net(sh);
            std::copy(base.data(), base.data() + base.size(), net.data());
            if (negative_c)
                for (std::size_t i = net.layout().c; i < net.layout().total; ++i) net.data()[i] = -1.0;
            return net;
        };
        struct Variant {
            const char* name;
            Icnn<double> net;
            std::int32_t expect;  // for points 0..10
        };
        const std::vector<Variant> variants = {{"exactly singular", with(0.0, false), kIcnnSingular},
                                               {"below the floor", with(1e-17, false), kIcnnSingular},
                                               {"above the floor", with(1e-6, false), kIcnnOk},
                                               {"indefinite", with(0.0, true), kIcnnIndefinite}};
        for (const Variant& v : variants) {
            INFO("D=" << D << " " << v.name);
            std::vector<double> value(12), ld_h(12), ld_d(12);
            std::vector<std::int32_t> st_h(12, -9), st_d(12, -9);
            icnn_eval(host, v.net, x.data(), 12, IcnnOutputs<double>{value.data(), nullptr, nullptr, ld_h.data(), st_h.data()});
            icnn_eval(cuda, v.net, x.data(), 12, IcnnOutputs<double>{value.data(), nullptr, nullptr, ld_d.data(), st_d.data()});
            for (int p = 0; p < 11; ++p) {
                CHECK(st_h[static_cast<std::size_t>(p)] == v.expect);
                CHECK(st_d[static_cast<std::size_t>(p)] == st_h[static_cast<std::size_t>(p)]);
                if (v.expect == kIcnnOk)
                    CHECK(ld_d[static_cast<std::size_t>(p)] == doctest::Approx(ld_h[static_cast<std::size_t>(p)]).epsilon(1e-9));
                else
                    CHECK(std::isnan(ld_d[static_cast<std::size_t>(p)]));
            }
            CHECK(st_h[11] == kIcnnNonFinite);
            CHECK(st_d[11] == kIcnnNonFinite);
        }
    }
}

TEST_CASE("icnn_eval on a cuda context rejects NaN/Inf in device points and parameters") {
    Context cuda(Backend::Cuda);
    const IcnnShape shape = IcnnShape::uniform(3, 8);
    auto net = random_icnn<double>(shape, 1);
    auto x = random_points<double>(4, 3, 2);
    x[5] = std::numeric_limits<double>::quiet_NaN();
    x[11] = -std::numeric_limits<double>::infinity();
    DeviceBuffer<double> d_params(net.data(), net.size()), d_x(x.data(), x.size()), d_value(4);
    auto msg = error_of([&] {
        icnn_eval(cuda, shape, d_params.data(), d_x.data(), 4, IcnnOutputs<double>{d_value.data()});
    });
    CHECK_MESSAGE(contains(msg, "x contains 2 NaN/Inf"), msg);

    x[5] = 0.5;
    x[11] = 0.25;
    d_x.upload(x.data(), x.size());
    net.data()[3] = std::numeric_limits<double>::infinity();
    d_params.upload(net.data(), net.size());
    msg = error_of([&] {
        icnn_eval(cuda, shape, d_params.data(), d_x.data(), 4, IcnnOutputs<double>{d_value.data()});
    });
    CHECK_MESSAGE(contains(msg, "parameters contain 1 NaN/Inf"), msg);

    // float, through the host-memory overload
    auto net32 = random_icnn<double>(shape, 1).cast<float>();
    std::vector<float> x32(x.begin(), x.end()), v32(4);
    x32[0] = std::numeric_limits<float>::quiet_NaN();
    msg = error_of([&] { icnn_eval(cuda, net32, x32.data(), 4, IcnnOutputs<float>{v32.data()}); });
    CHECK_MESSAGE(contains(msg, "x contains 1 NaN/Inf"), msg);
}

TEST_CASE("DeviceBuffer: upload, device copy, download, bounds, moves") {
    std::vector<double> a(1000);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(double(i)) * 1e3;
    DeviceBuffer<double> d1(a.data(), a.size());
    DeviceBuffer<double> d2(a.size());
    d2.copy_from(d1, a.size());
    CHECK(contains(error_of([&] { d2.copy_from(DeviceBuffer<double>(10), 11); }), "exceeds its size"));
    std::vector<double> back(a.size(), -1.0);
    d2.download(back.data(), back.size());
    CHECK(back == a);
    CHECK(contains(error_of([&] { d2.download(back.data(), a.size() + 1); }), "exceeds its size"));
    DeviceBuffer<double> moved(std::move(d2));
    CHECK(d2.data() == nullptr);
    CHECK(d2.size() == 0);
    CHECK(moved.size() == a.size());
    std::fill(back.begin(), back.end(), 0.0);
    moved.download(back.data(), back.size());
    CHECK(back == a);
    DeviceBuffer<float> empty(0);
    CHECK(empty.data() == nullptr);
}

TEST_CASE_TEMPLATE("icnn_eval_cuda: device pointers equal the host-memory overload; guard regions untouched", T, float,
                   double) {
    Context cuda(Backend::Cuda);
    CHECK(contains(cuda.describe(), "cuda:"));
    const IcnnShape shape = IcnnShape::uniform(7, 40, 2);
    const auto net = random_icnn<double>(shape, 31).template cast<T>();
    const int n = 29, D = shape.dim;
    const auto x64 = random_points<double>(n, D, 32);
    const std::vector<T> x(x64.begin(), x64.end());
    const auto ref = eval_all(cuda, net, x);

    // Each output in a buffer with kPad sentinel entries on both sides (a quiet-NaN payload no
    // kernel writes); kPad keeps the data 256-byte aligned, as the overload's own buffers are.
    constexpr std::size_t kPad = 64;
    const auto sentinel = [] {
        T v;
        if (sizeof(T) == 8) {
            const std::uint64_t bits = 0x7ffcdead0000beefull;
            std::memcpy(&v, &bits, sizeof v);
        } else {
            const std::uint32_t bits = 0x7fe0beefu;
            std::memcpy(&v, &bits, sizeof v);
        }
        return v;
    }();
    const auto guarded = [&](std::size_t count) {
        std::vector<T> h(count + 2 * kPad, sentinel);
        return DeviceBuffer<T>(h.data(), h.size());
    };
    DeviceBuffer<T> d_params(net.data(), net.size()), d_x(x.data(), x.size());
    DeviceBuffer<T> d_value = guarded(n), d_grad = guarded(n * D), d_hess = guarded(n * D * D), d_logdet = guarded(n);
    std::vector<std::int32_t> status_init(n + 2 * kPad, -7);
    DeviceBuffer<std::int32_t> d_status(status_init.data(), status_init.size());
    icnn_eval(cuda, shape, d_params.data(), d_x.data(), n,
              IcnnOutputs<T>{d_value.data() + kPad, d_grad.data() + kPad, d_hess.data() + kPad,
                             d_logdet.data() + kPad, d_status.data() + kPad});

    const auto check = [&](const DeviceBuffer<T>& d, const std::vector<T>& expected, const char* what) {
        INFO(what);
        std::vector<T> h(d.size());
        d.download(h.data(), h.size());
        for (std::size_t i = 0; i < kPad; ++i) {
            CHECK(std::memcmp(&h[i], &sentinel, sizeof(T)) == 0);
            CHECK(std::memcmp(&h[h.size() - 1 - i], &sentinel, sizeof(T)) == 0);
        }
        // Same kernels, GEMMs and alignment as the overload's call: bitwise equal.
        const std::vector<T> body(h.begin() + kPad, h.end() - kPad);
        expect_allclose(body, expected, 0, 0, what);
    };
    check(d_value, ref.value, "value");
    check(d_grad, ref.grad, "grad");
    check(d_hess, ref.hess, "hess");
    check(d_logdet, ref.logdet, "logdet");
    std::vector<std::int32_t> status(status_init.size());
    d_status.download(status.data(), status.size());
    for (std::size_t i = 0; i < kPad; ++i) {
        CHECK(status[i] == -7);
        CHECK(status[status.size() - 1 - i] == -7);
    }
    CHECK(std::vector<std::int32_t>(status.begin() + kPad, status.end() - kPad) == ref.status);
}

TEST_CASE("icnn_eval_cuda: a single point, and repeated calls reuse the scratch arena") {
    Context host(Backend::Host), cuda(Backend::Cuda);
    const IcnnShape shape = IcnnShape::uniform(6, 32, 2);
    const auto net = random_icnn<double>(shape, 55);
    for (int n : {1, 300, 2, 1}) {  // grow, then shrink: the arena is kept
        INFO("n=" << n);
        const auto x = random_points<double>(n, shape.dim, 56 + n);
        const auto ref = eval_all(host, net, x);
        const auto got = eval_all(cuda, net, x);
        expect_allclose(got.value, ref.value, 1e-12, 1e-12 * max_abs(ref.value), "value");
        expect_allclose(got.grad, ref.grad, 1e-12, 1e-12 * max_abs(ref.grad), "grad");
        expect_allclose(got.hess, ref.hess, 1e-12, 1e-12 * max_abs(ref.hess), "hess");
        const auto sp = spectra(ref.hess, shape.dim);
        for (int p = 0; p < n; ++p)
            CHECK(std::fabs(got.logdet[p] - ref.logdet[p]) <=
                  logdet_tolerance(sp[p], shape.dim, 1e-12 * max_abs(ref.hess), 1.1e-16, ref.logdet[p]));
    }
}

int main(int argc, char** argv) {
    if (!cuda_available()) {
        std::printf("test_icnn_cuda: no CUDA device visible (or wgf built without CUDA): skipped\n");
        return 77;
    }
    {
        Context ctx(Backend::Cuda);
        std::printf("test_icnn_cuda: %s\n", ctx.describe().c_str());
    }
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    return context.run();
}

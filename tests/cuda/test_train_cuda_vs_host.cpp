// test_train_cuda_vs_host.cpp — the CUDA training path against the host reference (which is itself
// checked against finite differences in tests/host/test_icnn_backward_fd.cpp): the JKO and identity
// losses and their parameter gradients (every layer count and rank of the FD grid, both potentials,
// chunked batches), the NotPositiveDefinite contract, Adam, the convexity projection, the built-in
// potentials, the solver's device step (train_step_cuda.cu, CUDA graph replay) against the host
// loop, and a short JKO run on the device against the closed-form OU marginal.
// Own main(): without a CUDA device it exits 77, which CTest reports as skipped.
//
// Tolerances. double: the device sums the same terms in another order (cuBLAS blocking, chunk
// sums), so values agree to ~1e-15 relative per operation; 1e-10 of each array's largest entry
// leaves room for the cancellation in Σ_p of the parameter gradient. The log-det gradient carries
// H⁻¹, so a 1-ulp difference in H moves it by cond(H)·ε: the FD grid's s = 1e-6 gives cond ~1e6 on
// its low-rank shapes (one layer, r·W_+ < D), so the comparison raises s to 0.05 (as the host FD
// test of the loss does), which bounds cond(H) by ~1e2–1e3. float: device float against
// host double; the per-point float error (~1e-6 relative, amplified by H⁻¹'s conditioning in the
// log-det gradient) averaged over the batch gives ~1e-4 of the gradient's scale: 2e-3 is asserted.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "compare.h"
#include "ou_flow.h"
#include "random.h"
#include "shapes.h"
#include "wgf/wgf.h"
#include "wgf/adam.h"
#include "wgf/device_buffer.h"
#include "wgf/flow.h"
#include "wgf/jko.h"
#include "wgf/jko_loss.h"
#include "wgf/logreg.h"
#include "wgf/metrics.h"
#include "wgf/potential.h"

using namespace wgf;
using namespace wgf_test;

namespace {

double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double e : v) m = std::max(m, std::fabs(e));
    return m;
}

template <typename T>
std::vector<T> download(const DeviceBuffer<T>& b) {
    std::vector<T> out(b.size());
    b.download(out.data(), out.size());
    return out;
}

/// A quadratic and a two-component mixture potential for dimension D (fixed seeds).
struct Potentials {
    std::vector<double> A, m, wts, mus, covs;
    Potentials(int D, std::uint64_t seed) : A(D * D, 0.0), m(D), wts{0.3, 0.7}, mus(2 * D), covs(2 * D * D, 0.0) {
        Rng rng(seed);
        for (int i = 0; i < D; ++i) {
            A[i * D + i] = 1.0 + rng.uniform();
            m[i] = rng.normal();
        }
        for (auto& e : mus) e = 2 * rng.normal();
        for (int k = 0; k < 2; ++k)
            for (int i = 0; i < D; ++i) covs[k * D * D + i * D + i] = 0.5 + rng.uniform();
    }
};

/// Sets an environment variable for the scope (restores the previous value, also on exceptions).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) {
        const char* old = std::getenv(name);
        m_had = old != nullptr;
        if (m_had) m_old = old;
        setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (m_had)
            setenv(m_name.c_str(), m_old.c_str(), 1);
        else
            unsetenv(m_name.c_str());
    }

private:
    std::string m_name, m_old;
    bool m_had = false;
};

/// Device loss + gradient in T against the host in double.
template <typename T>
void compare_losses(IcnnShape shape, int n, std::uint64_t seed, double rtol) {
    shape.strong_convexity = std::max(shape.strong_convexity, 0.05);  // cond(H) bounded: see the header
    const int D = shape.dim;
    INFO("shape " << shape.describe() << " n " << n << " seed " << seed << " precision " << sizeof(T) * 8);
    const auto net = random_icnn<double>(shape, seed);
    const auto x = random_points<double>(n, D, seed + 1);
    const Potentials pp(D, seed + 2);
    const QuadraticPotential<double> quad_h(pp.A, pp.m);
    const GaussianMixturePotential<double> mix_h(pp.wts, pp.mus, pp.covs, D, 2.0);
    const QuadraticPotential<T> quad_d(pp.A, pp.m);
    const GaussianMixturePotential<T> mix_d(pp.wts, pp.mus, pp.covs, D, 2.0);
    const JkoLossOptions opt{0.1, 2.0};
    Context host(Backend::Host), dev(Backend::Cuda);
    const Icnn<T> net_t = net.template cast<T>();
    const std::vector<T> x_t(x.begin(), x.end());
    DeviceBuffer<T> d_params(net_t.data(), net_t.size()), d_x(x_t.data(), x_t.size()), d_grad(net_t.size());
    for (int which = 0; which < 2; ++which) {
        const Potential<double>& ph = which == 0 ? static_cast<const Potential<double>&>(quad_h) : mix_h;
        const Potential<T>& pd = which == 0 ? static_cast<const Potential<T>&>(quad_d) : mix_d;
        INFO(ph.describe());
        std::vector<double> gh(net.size());
        const JkoLossValue Lh = jko_loss(host, shape, net.data(), x.data(), n, ph, opt, gh.data());
        const JkoLossValue Ld = jko_loss(dev, shape, d_params.data(), d_x.data(), n, pd, opt, d_grad.data());
        const double scale = std::max({std::fabs(Lh.w2), std::fabs(Lh.potential), std::fabs(Lh.logdet), 1e-3});
        CHECK(std::fabs(Ld.w2 - Lh.w2) <= rtol * scale);
        CHECK(std::fabs(Ld.potential - Lh.potential) <= rtol * scale);
        CHECK(std::fabs(Ld.logdet - Lh.logdet) <= rtol * scale);
        CHECK(std::fabs(Ld.total - Lh.total) <= rtol * scale);
        const auto gd = download(d_grad);
        expect_allclose(gd.data(), gh.data(), gh.size(), 0.0, rtol * max_abs(gh), "dL/dθ (jko)");
        // The value without a gradient is the same computation.
        const JkoLossValue Lv = jko_loss<T>(dev, shape, d_params.data(), d_x.data(), n, pd, opt, nullptr);
        CHECK(Lv.total == Ld.total);
    }
    std::vector<double> gh(net.size());
    const double Ih = identity_loss(host, shape, net.data(), x.data(), n, gh.data());
    const double Id = identity_loss(dev, shape, d_params.data(), d_x.data(), n, d_grad.data());
    CHECK(std::fabs(Id - Ih) <= rtol * std::max(std::fabs(Ih), 1e-3));
    const auto gd = download(d_grad);
    expect_allclose(gd.data(), gh.data(), gh.size(), 0.0, rtol * max_abs(gh), "dL/dθ (identity)");
}

}  // namespace

TEST_CASE("cuda JKO and identity losses match the host in double on the FD grid") {
    std::uint64_t seed = 100;
    for (const IcnnShape& shape : fd_shapes()) compare_losses<double>(shape, 37, seed += 3, 1e-10);
    compare_losses<double>(IcnnShape::uniform(12, 64), 256, 7, 1e-10);
    compare_losses<double>(IcnnShape::uniform(13, 256, 3, 5), 64, 8, 1e-10);
    compare_losses<double>(IcnnShape::uniform(20, 16, 2, 2), 24, 10, 1e-10);  // 16 < D ≤ 32: the 32 × 32 local factor
    compare_losses<double>(IcnnShape::uniform(40, 32, 2, 2), 16, 9, 1e-10);   // D > 32: the factor in global memory
}

TEST_CASE("cuda losses in float match the host in double") {
    compare_losses<float>(IcnnShape::uniform(2, 64), 512, 21, 2e-3);
    compare_losses<float>(IcnnShape::uniform(12, 64), 1024, 22, 2e-3);
    compare_losses<float>(IcnnShape::uniform(8, 32, 3, 1), 300, 23, 2e-3);
}

TEST_CASE("cuda losses: a chunked batch equals the whole batch (JKO and identity, L = 2 and 3)") {
    // WGF_CUDA_SCRATCH_MB is read when a context is created: a 1 MiB budget forces many chunks.
    for (const IcnnShape& shape : {IcnnShape::uniform(5, 64, 2, 5), IcnnShape::uniform(3, 48, 3, 2)}) {
        INFO(shape.describe());
        const int D = shape.dim;
        const auto net = random_icnn<double>(shape, 31);
        const auto x = random_points<double>(700, D, 32);
        const Potentials pp(D, 33);
        const QuadraticPotential<double> quad(pp.A, pp.m);
        std::vector<double> g_whole, g_chunk, i_whole, i_chunk;
        double L_whole = 0, L_chunk = 0, I_whole = 0, I_chunk = 0;
        for (int pass = 0; pass < 2; ++pass) {
            const ScopedEnv env("WGF_CUDA_SCRATCH_MB", pass == 0 ? "1024" : "1");
            Context dev(Backend::Cuda);
            DeviceBuffer<double> d_params(net.data(), net.size()), d_x(x.data(), x.size()), d_grad(net.size());
            (pass == 0 ? L_whole : L_chunk) =
                jko_loss(dev, shape, d_params.data(), d_x.data(), 700, quad, JkoLossOptions{}, d_grad.data()).total;
            (pass == 0 ? g_whole : g_chunk) = download(d_grad);
            (pass == 0 ? I_whole : I_chunk) = identity_loss(dev, shape, d_params.data(), d_x.data(), 700, d_grad.data());
            (pass == 0 ? i_whole : i_chunk) = download(d_grad);
        }
        CHECK(L_chunk == doctest::Approx(L_whole).epsilon(1e-12));
        CHECK(I_chunk == doctest::Approx(I_whole).epsilon(1e-12));
        expect_allclose(g_chunk, g_whole, 0.0, 1e-11 * max_abs(g_whole), "chunked dL/dθ (jko)");
        expect_allclose(i_chunk, i_whole, 0.0, 1e-11 * max_abs(i_whole), "chunked dL/dθ (identity)");
    }
}

TEST_CASE("cuda jko_loss with a potential staged through the host (FunctionPotential without device_fn)") {
    const IcnnShape shape = IcnnShape::uniform(3, 32, 2, 5, 0.05);
    const auto net = random_icnn<double>(shape, 35);
    const auto x = random_points<double>(200, 3, 36);
    // Φ(y) = Σ_d cosh(y_d) / 4: value and gradient by callback, host memory only.
    const FunctionPotential<double> pot(3, [](const double* y, std::int64_t n, double* v, double* g) {
        for (std::int64_t p = 0; p < n; ++p) {
            double s = 0;
            for (int d = 0; d < 3; ++d) {
                s += std::cosh(y[p * 3 + d]) / 4;
                if (g) g[p * 3 + d] = std::sinh(y[p * 3 + d]) / 4;
            }
            if (v) v[p] = s;
        }
    });
    Context host(Backend::Host), dev(Backend::Cuda);
    std::vector<double> gh(net.size());
    const double Lh = jko_loss(host, shape, net.data(), x.data(), 200, pot, JkoLossOptions{}, gh.data()).total;
    DeviceBuffer<double> d_params(net.data(), net.size()), d_x(x.data(), x.size()), d_grad(net.size());
    const double Ld = jko_loss(dev, shape, d_params.data(), d_x.data(), 200, pot, JkoLossOptions{}, d_grad.data()).total;
    CHECK(Ld == doctest::Approx(Lh).epsilon(1e-10));
    const auto gd = download(d_grad);
    expect_allclose(gd.data(), gh.data(), gh.size(), 0.0, 1e-10 * max_abs(gh), "dL/dθ, staged potential");
}

TEST_CASE("cuda jko_loss names the first failing point when it lies in a later chunk") {
    // s = 0; layer 1 sees only z_0 (its own quadratic part and B are zero) with bias −800, so
    // softplus'(u_1) underflows to exactly 0 where z_0 is small: at x = 0 every g_l and σ'' vanish and
    // ∇²ψ(0) = 0 (Cholesky fails at row 1). Far from 0, z_0 = Σ_t (a·x)² is large, the units are on
    // and ∇²ψ = Σ_j δ_j P_j is positive definite (log det 1.67 at radius 100, checked on the host).
    // Point 600 is the origin; the host agrees.
    IcnnShape shape = IcnnShape::uniform(2, 64, 2, 5);
    shape.strong_convexity = 0;
    auto net = random_icnn<double>(shape, 37);
    const auto& l0 = net.layout().layers[0];
    const auto& l1 = net.layout().layers[1];
    for (std::size_t i = l0.B; i < l0.C; ++i) net.data()[i] = 0;  // B_0, b_0
    for (std::size_t i = l1.A; i < l1.b; ++i) net.data()[i] = 0;  // A_1, B_1
    for (std::size_t i = l1.b; i < l1.C; ++i) net.data()[i] = -800;
    std::vector<double> x = random_points<double>(700, 2, 38);
    for (std::size_t p = 0; p < 700; ++p) {
        const double r = std::hypot(x[2 * p], x[2 * p + 1]);
        x[2 * p] *= 100 / r;
        x[2 * p + 1] *= 100 / r;
    }
    x[1200] = x[1201] = 0;
    const QuadraticPotential<double> quad(std::vector<double>{1, 0, 0, 1}, std::vector<double>{0, 0});
    Context host(Backend::Host);
    std::int64_t host_point = -1, dev_point = -2;
    try {
        jko_loss<double>(host, shape, net.data(), x.data(), 700, quad, JkoLossOptions{}, nullptr);
    } catch (const NotPositiveDefinite& e) {
        host_point = e.point();
    }
    REQUIRE(host_point == 600);
    const ScopedEnv env("WGF_CUDA_SCRATCH_MB", "1");
    Context dev(Backend::Cuda);
    DeviceBuffer<double> d_params(net.data(), net.size()), d_x(x.data(), x.size()), d_grad(net.size());
    try {
        jko_loss<double>(dev, shape, d_params.data(), d_x.data(), 700, quad, JkoLossOptions{}, d_grad.data());
    } catch (const NotPositiveDefinite& e) {
        dev_point = e.point();
    }
    CHECK(dev_point == 600);
}

TEST_CASE("cuda jko_loss reports a Hessian that is not positive definite, as the host") {
    // All parameters zero and s = 0: ψ = 0, ∇²ψ = 0 exactly: singular everywhere (wgf/icnn_status.h).
    IcnnShape shape = IcnnShape::uniform(5, 2, 1, 1);
    shape.strong_convexity = 0;
    const Icnn<double> net(shape);
    const auto x = random_points<double>(9, 5, 42);
    const QuadraticPotential<double> quad(std::vector<double>{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0,
                                                              0, 0, 0, 0, 1},
                                          std::vector<double>(5, 0.0));
    Context host(Backend::Host), dev(Backend::Cuda);
    std::int64_t host_point = -1, dev_point = -2;
    std::int32_t host_status = -1, dev_status = -2;
    try {
        jko_loss<double>(host, shape, net.data(), x.data(), 9, quad, JkoLossOptions{}, nullptr);
    } catch (const NotPositiveDefinite& e) {
        host_point = e.point();
        host_status = e.status();
    }
    DeviceBuffer<double> d_params(net.data(), net.size()), d_x(x.data(), x.size()), d_grad(net.size());
    try {
        jko_loss<double>(dev, shape, d_params.data(), d_x.data(), 9, quad, JkoLossOptions{}, d_grad.data());
    } catch (const NotPositiveDefinite& e) {
        dev_point = e.point();
        dev_status = e.status();
    }
    CHECK(host_point == 0);
    CHECK(host_status == kIcnnSingular);
    CHECK(dev_point == host_point);
    CHECK(dev_status == host_status);
}

TEST_CASE_TEMPLATE("cuda Adam and the projection match the host", T, float, double) {
    const std::size_t n = 5000;
    Context host(Backend::Host), dev(Backend::Cuda);
    AdamOptions ao;
    ao.lr = 1e-2;
    ao.weight_decay = 1e-3;
    Adam<T> ah(host, n, ao), ad(dev, n, ao);
    std::vector<T> ph = random_points<T>(static_cast<std::int64_t>(n), 1, 51);
    DeviceBuffer<T> d_p(ph.data(), n), d_g(n);
    for (int step = 0; step < 25; ++step) {
        const std::vector<T> g = random_points<T>(static_cast<std::int64_t>(n), 1, 60 + step, 0.1);
        d_g.upload(g.data(), n);
        ah.step(ph.data(), g.data());
        ad.step(d_p.data(), d_g.data());
    }
    const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;
    expect_allclose(download(d_p), ph, tol, tol, "Adam parameters after 25 steps");
    ad.reset();
    ah.reset();
    CHECK(ad.steps() == 0);
    // NaN gradients are refused on the device too, parameters untouched.
    std::vector<T> bad(n, T(0));
    bad[17] = std::numeric_limits<T>::quiet_NaN();
    d_g.upload(bad.data(), n);
    const auto before = download(d_p);
    CHECK_THROWS_AS(ad.step(d_p.data(), d_g.data()), Error);
    CHECK(download(d_p) == before);

    const IcnnShape shape = IcnnShape::uniform(3, 16, 3, 2);
    Icnn<T> net = Icnn<T>::random(shape, 52, /*project=*/false);
    DeviceBuffer<T> d_net(net.data(), net.size());
    icnn_project(dev, shape, d_net.data());
    net.project();
    CHECK(download(d_net) == net.params());
}

TEST_CASE("cuda built-in potentials match the host") {
    for (int D : {1, 3, 12, 70}) {
        INFO("D = " << D);
        const Potentials pp(D, 70 + D);
        const QuadraticPotential<double> quad(pp.A, pp.m);
        const GaussianMixturePotential<double> mix(pp.wts, pp.mus, pp.covs, D, 0.5);
        const auto y = random_points<double>(333, D, 80 + D, 2.0);
        Context host(Backend::Host), dev(Backend::Cuda);
        DeviceBuffer<double> d_y(y.data(), y.size()), d_v(333), d_g(y.size());
        for (const Potential<double>* pot : {static_cast<const Potential<double>*>(&quad),
                                            static_cast<const Potential<double>*>(&mix)}) {
            INFO(pot->describe());
            std::vector<double> vh(333), gh(y.size());
            pot->eval(host, y.data(), 333, vh.data(), gh.data());
            pot->eval(dev, d_y.data(), 333, d_v.data(), d_g.data());
            expect_allclose(download(d_v), vh, 1e-12, 1e-12, "value");
            expect_allclose(download(d_g), gh, 1e-12, 1e-12 * max_abs(gh), "gradient");
        }
    }
}

namespace {
/// A synthetic logistic-regression training set: N rows of d features N(0, 1), labels from a random
/// θ* with label noise, so both classes and both signs of y θᵀx occur.
struct TinyLogreg {
    std::vector<double> X, labels;
    TinyLogreg(int N, int d, std::uint64_t seed) {
        Rng rng(seed);
        std::vector<double> theta(static_cast<std::size_t>(d));
        for (auto& t : theta) t = rng.normal();
        for (int i = 0; i < N; ++i) {
            double z = 0;
            for (int j = 0; j < d; ++j) {
                X.push_back(rng.normal());
                z += theta[static_cast<std::size_t>(j)] * X.back();
            }
            labels.push_back(z + 0.5 * rng.normal() >= 0 ? 1.0 : -1.0);
        }
    }
};

/// Points (θ, r) with θ ~ N(0, s²) and r spread over [−10, 10], so that some lie outside the clip of
/// log α (|r| > 8) and, with a large s, the likelihood clamp is active on some rows.
template <typename T>
std::vector<T> posterior_points(int n, int d, double s, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<T> y;
    for (int p = 0; p < n; ++p) {
        for (int j = 0; j < d; ++j) y.push_back(static_cast<T>(s * rng.normal()));
        y.push_back(static_cast<T>(-10.0 + 20.0 * rng.uniform()));
    }
    return y;
}
}  // namespace

TEST_CASE_TEMPLATE("cuda logistic posterior potential matches the host (full data, minibatches, clamps)", T, float,
                   double) {
    // The device kernel runs the host's per-point code (wgf/detail/logreg_point.h) in double, in the
    // same row order, so the results agree to rounding of the final conversion to T (double: the
    // same operations; float: one rounding each side, 1 ulp).
    const double tol = std::is_same<T, double>::value ? 1e-13 : 2e-7;
    for (const int d : {3, 130}) {  // 130 > kLogregMaxFeatures: staged through the host
        for (const bool clamp : {false, true}) {
            for (const std::int64_t minibatch : {std::int64_t(0), std::int64_t(16)}) {
                CAPTURE(d);
                CAPTURE(clamp);
                CAPTURE(minibatch);
                const TinyLogreg data(57, d, 11 + d);
                LogisticPosteriorOptions opt;
                opt.clamp_likelihood = clamp;
                opt.minibatch = minibatch;
                opt.seed = 5;
                // Two instances with the same seed draw the same minibatch sequence.
                const LogisticPosteriorPotential<T> on_host(data.X, data.labels, d, opt);
                const LogisticPosteriorPotential<T> on_dev(data.X, data.labels, d, opt);
                const int n = 37, D = d + 1;
                const auto y = posterior_points<T>(n, d, clamp ? 4.0 : 0.7, 21 + d);
                Context host(Backend::Host, 1), dev(Backend::Cuda);
                CHECK(on_dev.device_resident(dev) == (minibatch == 0 && d <= 128));
                CHECK_FALSE(on_host.device_resident(host));
                DeviceBuffer<T> d_y(y.data(), y.size()), d_v(n), d_g(y.size());
                for (int call = 0; call < 3; ++call) {  // minibatch: three consecutive batches
                    CAPTURE(call);
                    std::vector<T> vh(n), gh(y.size());
                    on_host.eval(host, y.data(), n, vh.data(), gh.data());
                    if (call == 1)
                        on_dev.eval_unchecked(dev, d_y.data(), n, d_v.data(), d_g.data());
                    else
                        on_dev.eval(dev, d_y.data(), n, d_v.data(), d_g.data());
                    std::vector<double> vh64(vh.begin(), vh.end()), gh64(gh.begin(), gh.end());
                    const std::vector<T> vd = download(d_v), gd = download(d_g);
                    expect_allclose(std::vector<double>(vd.begin(), vd.end()), vh64, tol, 0.0, "value");
                    expect_allclose(std::vector<double>(gd.begin(), gd.end()), gh64, tol, tol * max_abs(gh64),
                                    "gradient");
                    // The r-gradient vanishes exactly outside the clip on both.
                    for (int p = 0; p < n; ++p)
                        if (std::fabs(double(y[std::size_t(p) * D + d])) > 8.0) CHECK(gd[std::size_t(p) * D + d] == T(0));
                }
            }
        }
    }
}

TEST_CASE("cuda JKO solver with the logistic posterior: the graph replay trains the maps the host trains") {
    // The posterior on the full data runs on the device without host copies, so the solver captures
    // its iterations in a CUDA graph (train_step_cuda.cu: graph_capturable); same bound as above.
    const TinyLogreg data(40, 2, 17);
    const LogisticPosteriorPotential<double> pot(data.X, data.labels, 2);
    const Gaussian rho0(std::vector<double>{0.0, 0.0, -1.0}, std::vector<double>{0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.3});
    JkoOptions opt;
    opt.tau = 0.05;
    opt.steps = 2;
    opt.iterations = 10;
    opt.batch = 32;
    opt.lr = 5e-3;
    opt.init = JkoInit::Identity;
    opt.seed = 4;
    const IcnnShape shape = IcnnShape::uniform(3, 8, 2, 2);
    Context host(Backend::Host, 1), dev(Backend::Cuda);
    REQUIRE(pot.device_resident(dev));
    Flow<double> fh(rho0), fd(rho0);
    JkoSolver<double>(host, shape, pot, opt).run(fh);
    JkoSolver<double>(dev, shape, pot, opt).run(fd);
    REQUIRE(fd.steps() == 2);
    for (int k = 0; k < 2; ++k) {
        CAPTURE(k);
        const auto& ph = fh.map(k).params();
        expect_allclose(fd.map(k).params(), ph, 0.0, 1e-12 * max_abs(ph), "map parameters");
    }
}

TEST_CASE("cuda pretraining runs on the device and trains the first map the host trains (one or two stages, one "
          "chunk or several, batches drawn on the device or uploaded)") {
    // initial_map on a CUDA context runs the identity regression through train_step_cuda on the host
    // loop's batches, in its order, each used once. A built-in ρ⁰ (and the wide stage's N(0, v I)):
    // the device draws them from the host's keys with the shared counter-based sampler
    // (wgf/detail/counter_sampler.h); a user's ρ⁰: the host draws them and uploads a chunk of
    // iterations at a time. WGF_PRETRAIN_CHUNK_ITERATIONS = 7 forces 4 calls of the 25 iterations
    // either way, with Adam's moments and step count carried across them. Same arithmetic per element
    // as the host loop: the bound of the JKO steps below.
    const QuadraticPotential<double> pot({1.0, 0.0, 0.0, 1.0}, {0.0, 0.0});
    const auto gaussian = std::make_shared<Gaussian>(std::vector<double>{0.5, -0.2}, std::vector<double>{2.0, 0.3, 0.3, 1.0});
    const auto user = std::make_shared<UserDistribution>(
        "gaussian-by-callback", 2, [gaussian](std::int64_t n, Rng& rng) { return gaussian->sample(n, rng); },
        [gaussian](const double* x, std::int64_t n, double* out) { gaussian->log_density(x, n, out); });
    REQUIRE(user->counter_sampler().law == detail::CounterLaw::None);
    for (const std::shared_ptr<const InitialDistribution>& rho0 :
         {std::shared_ptr<const InitialDistribution>(gaussian), std::shared_ptr<const InitialDistribution>(user)}) {
        CAPTURE(rho0->describe());
        const IcnnShape shape = IcnnShape::uniform(2, 8, 2, 2);
        JkoOptions opt;
        opt.init = JkoInit::Pretrain;
        opt.pretrain_iterations = 25;
        opt.pretrain_lr = 1e-2;
        opt.batch = 16;
        opt.seed = 7;
        Context host(Backend::Host, 1), dev(Backend::Cuda);
        const Flow<double> flow(rho0);
        JkoOptions untrained = opt;
        untrained.pretrain_iterations = 0;
        const Icnn<double> start = JkoSolver<double>(host, shape, pot, untrained).initial_map(flow);
        for (const double wide : {0.0, 4.0}) {
            for (const bool chunked : {false, true}) {
                CAPTURE(wide);
                CAPTURE(chunked);
                const ScopedEnv chunks("WGF_PRETRAIN_CHUNK_ITERATIONS", chunked ? "7" : "1000000");
                opt.pretrain_wide_variance = wide;
                const Icnn<double> h = JkoSolver<double>(host, shape, pot, opt).initial_map(flow);
                const Icnn<double> d = JkoSolver<double>(dev, shape, pot, opt).initial_map(flow);
                const auto& ph = h.params();
                expect_allclose(d.params(), ph, 0.0, 1e-12 * max_abs(ph), "pretrained parameters");
                double moved = 0;  // the pretraining did train: the map left its random start
                for (std::size_t i = 0; i < ph.size(); ++i) moved = std::max(moved, std::abs(ph[i] - start.params()[i]));
                CHECK(moved > 1e-2);
            }
        }
    }
}

TEST_CASE("cuda JKO solver trains the maps the host trains (double: pools, carried pool, lr decay, tail average, "
          "the reference's fresh batches)") {
    // The device step (src/cuda/train_step_cuda.cu) draws the same batches (the host's rows, uploaded
    // once per step), runs the same loss and the same Adam + projection element rule, so the maps
    // agree up to the summation order of the reductions (cuBLAS blocking, chunk sums): ~1e-16
    // relative per gradient entry, carried through 2 × 12 Adam steps whose update m/(√v + ε) is
    // scale-free, so a relative gradient error ε moves a parameter by ~lr·ε per step. Measured:
    // 2.5e-16 at most (2e-17 of the largest parameter); 1e-12 of the largest leaves room for entries
    // whose gradient is rounding noise (their direction is then arbitrary on either backend).
    // Without a pool (the reference's fresh batch, pushed through the earlier maps every iteration)
    // the solver runs its per-iteration loop on the device: the same bound holds.
    const QuadraticPotential<double> pot({1.2, 0.3, 0.3, 0.8}, {2.0, -1.5});
    const Gaussian rho0(std::vector<double>{0.5, 0.0}, std::vector<double>{1.5, 0.2, 0.2, 0.7});
    for (const int mode : {0, 1, 2}) {  // pool, carried pool, no pool
        const bool carry = mode == 1;
        CAPTURE(mode);
        JkoOptions opt;
        opt.sample_pool = mode != 2;
        opt.tau = 0.1;
        opt.steps = 2;
        opt.iterations = 12;
        opt.batch = 32;
        opt.pool_size = 80;  // 12 batches of 32 = 4.8 epochs: reshuffles inside the step
        opt.carry_pool = carry;
        opt.lr = 1e-2;
        opt.lr_end_ratio = 0.5;
        opt.average_tail = carry ? 0.5 : 0.0;
        opt.init = JkoInit::Identity;
        opt.seed = 3;
        const IcnnShape shape = IcnnShape::uniform(2, 8, 2, 2);
        Context host(Backend::Host, 1), dev(Backend::Cuda);
        std::vector<JkoStepReport> rh, rd;
        Flow<double> fh(rho0), fd(rho0);
        JkoSolver<double>(host, shape, pot, opt).run(fh, [&](const JkoStepReport& r) { rh.push_back(r); });
        JkoSolver<double>(dev, shape, pot, opt).run(fd, [&](const JkoStepReport& r) { rd.push_back(r); });
        REQUIRE(fd.steps() == 2);
        for (int k = 0; k < 2; ++k) {
            CAPTURE(k);
            const auto& ph = fh.map(k).params();
            const double scale = max_abs(ph);
            expect_allclose(fd.map(k).params(), ph, 0.0, 1e-12 * scale, "map parameters");
            CHECK(rd[k].loss_first == doctest::Approx(rh[k].loss_first).epsilon(1e-12));
            CHECK(rd[k].loss_last == doctest::Approx(rh[k].loss_last).epsilon(1e-9));
            // the divergence check sees the device step's losses as the host loop's
            CHECK(rd[k].loss_rise == doctest::Approx(rh[k].loss_rise).epsilon(1e-6));
            CHECK(rd[k].retries == rh[k].retries);
            CHECK(rd[k].diverged == rh[k].diverged);
        }
    }
}

TEST_CASE("cuda JKO solver reproduces the OU marginal (D=2, t=0.3), as the host test") {
    const SmallOu ou;
    Context dev(Backend::Cuda);
    const Flow<float> flow = ou.train<float>(dev);
    const double kl = flow_sym_kl(dev, flow, 3, ou.target(flow.time(3)), 17);
    MESSAGE("SymKL on the device " << kl << " (the host test asserts < 0.02)");
    CHECK(kl < 0.02);
}

int main(int argc, char** argv) {
    if (!cuda_available()) {
        std::printf("test_train_cuda: no CUDA device visible (or wgf built without CUDA): skipped\n");
        return 77;
    }
    {
        Context ctx(Backend::Cuda);
        std::printf("test_train_cuda: %s\n", ctx.describe().c_str());
    }
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    return context.run();
}

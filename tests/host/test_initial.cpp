// test_initial.cpp — ρ⁰ (wgf/initial.h): every built-in sampler against its own log-density
// (normalisation by quadrature in 1-D and 2-D, bin probabilities in 1-D, moments), records that
// rebuild the same distribution, bad input, flow and step files of version 2 for each kind, files
// of version 1 still loading, a user-defined ρ⁰ through save/load, and NoCheckpoint vs damage.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "binary_io.h"
#include "errors.h"
#include "moments.h"
#include "icnn_io.h"
#include "wgf/wgf.h"

using namespace wgf;
using namespace wgf_test;

namespace {

// A 1-D mixture with unequal weights and scales, a 2-D mixture with a correlated component, a box.
GaussianMixture mixture_1d() { return GaussianMixture({1.0, 3.0}, {-2.0, 1.5}, {0.25, 1.44}, 1); }
GaussianMixture mixture_2d() {
    return GaussianMixture({2.0, 1.0}, {-1.0, 0.5, 1.5, -1.0}, {1.0, 0.6, 0.6, 1.0, 0.3, 0.0, 0.0, 0.5}, 2);
}

// ∫ ρ over [a, b]^D (D = 1, 2) by the trapezoid rule on m points per axis.
double integrate(const InitialDistribution& d, double a, double b, int m) {
    const int D = d.dim();
    const double h = (b - a) / (m - 1);
    std::vector<double> x;
    std::vector<double> w;
    if (D == 1) {
        for (int i = 0; i < m; ++i) {
            x.push_back(a + i * h);
            w.push_back((i == 0 || i == m - 1) ? 0.5 * h : h);
        }
    } else {
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < m; ++j) {
                x.push_back(a + i * h);
                x.push_back(a + j * h);
                w.push_back(((i == 0 || i == m - 1) ? 0.5 * h : h) * ((j == 0 || j == m - 1) ? 0.5 * h : h));
            }
    }
    const std::vector<double> lp = d.log_density(x);
    double s = 0;
    for (std::size_t i = 0; i < lp.size(); ++i) s += w[i] * std::exp(lp[i]);
    return s;
}


// The mixture's exact mean Σ w μ and covariance Σ w (Σ_k + μ_k μ_kᵀ) − m mᵀ.
void mixture_moments(const GaussianMixture& g, std::vector<double>& mean, std::vector<double>& cov) {
    const InitialRecord r = g.record();
    const int D = g.dim(), K = g.components();
    const double* w = r.params.data() + 1;
    const double* mu = w + K;
    const double* S = mu + K * D;
    mean.assign(D, 0.0);
    cov.assign(static_cast<std::size_t>(D * D), 0.0);
    for (int k = 0; k < K; ++k)
        for (int i = 0; i < D; ++i) mean[i] += w[k] * mu[k * D + i];
    for (int k = 0; k < K; ++k)
        for (int i = 0; i < D; ++i)
            for (int j = 0; j < D; ++j)
                cov[i * D + j] += w[k] * (S[k * D * D + i * D + j] + mu[k * D + i] * mu[k * D + j]);
    for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) cov[i * D + j] -= mean[i] * mean[j];
}

// n points of d: sample() with a fixed seed, or (counter) the counter-based draw with a fixed key.
std::vector<double> draw(const InitialDistribution& d, std::int64_t n, bool counter) {
    if (!counter) {
        Rng rng(2024);
        return d.sample(n, rng);
    }
    const detail::CounterSampler s = d.counter_sampler();
    REQUIRE(s.law != detail::CounterLaw::None);
    REQUIRE(s.dim == d.dim());
    std::vector<double> x(static_cast<std::size_t>(n * d.dim()));
    detail::counter_sample(s, 0x5EEDull, n, x.data());
    return x;
}

void check_moments(const InitialDistribution& d, const std::vector<double>& mean, const std::vector<double>& cov,
                   std::int64_t n, bool counter = false) {
    const std::vector<double> x = draw(d, n, counter);
    REQUIRE(x.size() == static_cast<std::size_t>(n * d.dim()));
    std::vector<double> m, c;
    moments(x, d.dim(), m, c);
    const int D = d.dim();
    for (int i = 0; i < D; ++i) {
        // Standard error of a mean: sqrt(var/n); of a (co)variance: ≲ sqrt(2 var_i var_j / n) for
        // light tails (a mixture's fourth moment is a few times larger, hence the factor 6).
        const double se_mean = std::sqrt(cov[i * D + i] / n);
        INFO(d.describe() << " coordinate " << i);
        CHECK(std::abs(m[i] - mean[i]) < 6 * se_mean);
        for (int j = 0; j < D; ++j) {
            const double se_cov = std::sqrt(3.0 * cov[i * D + i] * cov[j * D + j] / n);
            CHECK(std::abs(c[i * D + j] - cov[i * D + j]) < 6 * se_cov);
        }
    }
}

void remove_tree(const std::string& dir) { std::system(("rm -rf '" + dir + "'").c_str()); }

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A flow of k maps near the identity from ρ⁰.
Flow<double> flow_from(std::shared_ptr<const InitialDistribution> rho0, int k) {
    Flow<double> flow(std::move(rho0));
    for (int i = 0; i < k; ++i)
        flow.push_back(identity_icnn<double>(IcnnShape::uniform(flow.dim(), 8, 2, 2), 70 + i, 0.2), 0.1);
    return flow;
}

// Densities of two flows at the same points (through the inverse maps), to compare ρ⁰s end to end.
void check_same_density(const Flow<double>& a, const Flow<double>& b, const std::vector<double>& y) {
    Context ctx(Backend::Host);
    const std::vector<double> la = a.log_density(ctx, a.steps(), y), lb = b.log_density(ctx, b.steps(), y);
    REQUIRE(la.size() == lb.size());
    for (std::size_t i = 0; i < la.size(); ++i) CHECK(la[i] == lb[i]);
}

}  // namespace

TEST_CASE("ρ⁰ densities integrate to 1 (1-D and 2-D quadrature)") {
    // Trapezoid on smooth densities with tails below 1e-12 outside the range: error ≪ 1e-6.
    CHECK(integrate(mixture_1d(), -12, 12, 20001) == doctest::Approx(1.0).epsilon(1e-8));
    CHECK(integrate(Gaussian({0.5}, {2.0}), -15, 16, 20001) == doctest::Approx(1.0).epsilon(1e-8));
    CHECK(integrate(mixture_2d(), -9, 9, 801) == doctest::Approx(1.0).epsilon(1e-6));
    // The box's density is a step: the trapezoid sees the edges only to O(h).
    CHECK(integrate(UniformBox({-1.0, 0.0}, {2.0, 0.5}), -2, 3, 1001) == doctest::Approx(1.0).epsilon(2e-2));
    CHECK(integrate(UniformBox({-1.0}, {2.0}), -1, 2, 11) == doctest::Approx(1.0).epsilon(1e-12));  // exact inside
}

TEST_CASE("ρ⁰ samplers against their log-densities: 1-D bin probabilities and moments") {
  // sample() (xoshiro) and the counter-based draw of the same law (wgf/detail/counter_sampler.h: the
  // pretraining's batches on both backends) pass the same checks.
  for (const bool counter : {false, true}) {
    CAPTURE(counter);
    const GaussianMixture g = mixture_1d();
    const std::int64_t n = 200000;
    const std::vector<double> x = draw(g, n, counter);
    // 24 bins on [−4, 5]; each bin's probability by a fine trapezoid of exp(log ρ). The count is
    // binomial: |count/n − P| < 5 sqrt(P(1 − P)/n) for all bins fails with probability < 1e-5 per bin.
    const int bins = 24;
    const double a = -4, b = 5, h = (b - a) / bins;
    std::vector<double> count(bins, 0.0);
    for (double v : x)
        if (v >= a && v < b) count[static_cast<int>((v - a) / h)] += 1;
    for (int k = 0; k < bins; ++k) {
        std::vector<double> grid;
        const int m = 401;
        for (int i = 0; i < m; ++i) grid.push_back(a + k * h + i * h / (m - 1));
        const std::vector<double> lp = g.log_density(grid);
        double P = 0;
        for (int i = 0; i < m; ++i) P += ((i == 0 || i == m - 1) ? 0.5 : 1.0) * std::exp(lp[i]) * h / (m - 1);
        INFO("bin " << k << " P " << P << " observed " << count[k] / n);
        CHECK(std::abs(count[k] / n - P) < 5 * std::sqrt(P * (1 - P) / n) + 1e-6);
    }
    std::vector<double> mean, cov;
    mixture_moments(g, mean, cov);
    check_moments(g, mean, cov, n, counter);
    mixture_moments(mixture_2d(), mean, cov);
    check_moments(mixture_2d(), mean, cov, n, counter);
    check_moments(UniformBox({-1.0, 2.0}, {3.0, 2.5}), {1.0, 2.25}, {16.0 / 12, 0.0, 0.0, 0.25 / 12}, n, counter);
    check_moments(Gaussian({1.0, -1.0}, {2.0, 0.5, 0.5, 1.0}), {1.0, -1.0}, {2.0, 0.5, 0.5, 1.0}, n, counter);
    // A 3-D Gaussian with a full factor: the in-place transform x = μ + L z reads every z_e it needs.
    const std::vector<double> c3{4.0, 1.2, -0.8, 1.2, 2.0, 0.5, -0.8, 0.5, 1.5};
    check_moments(Gaussian({0.5, -2.0, 3.0}, c3), {0.5, -2.0, 3.0}, c3, n, counter);
  }
}

TEST_CASE("counter-based draws: standard normals, and point i a function of (key, i) only") {
    // 1e6 normals of one stream: mean 0 (se 1e-3), variance 1 (se 1.4e-3), fourth moment 3 (se 4.9e-3),
    // and no correlation between neighbours (a Box–Muller pair's cosine and sine are independent; se
    // 1e-3): each checked at 6 se.
    const std::int64_t n = 1000000;
    double m1 = 0, m2 = 0, m4 = 0, lag = 0, prev = 0;
    bool finite = true;
    for (std::int64_t i = 0; i < n; ++i) {
        const double z = detail::counter_normal(42, static_cast<std::uint64_t>(i));
        finite = finite && std::isfinite(z);
        m1 += z / n;
        m2 += z * z / n;
        m4 += z * z * z * z / n;
        if (i > 0) lag += z * prev / (n - 1);
        prev = z;
    }
    CHECK(finite);
    CHECK(std::abs(m1) < 6e-3);
    CHECK(std::abs(m2 - 1) < 6 * 1.42e-3);
    CHECK(std::abs(m4 - 3) < 6 * 4.9e-3);
    CHECK(std::abs(lag) < 6e-3);
    bool inside = true;  // uniforms stay inside (0, 1)
    for (std::uint64_t c = 0; c < 100000; ++c) {
        const double u = detail::counter_uniform(7, c);
        inside = inside && u > 0 && u < 1;
    }
    CHECK(inside);

    const GaussianMixture g = mixture_2d();
    const detail::CounterSampler s = g.counter_sampler();
    std::vector<double> many(2000), few(10), again(2000), other(2000);
    detail::counter_sample(s, 99, 1000, many.data());
    detail::counter_sample(s, 99, 5, few.data());
    detail::counter_sample(s, 99, 1000, again.data());
    detail::counter_sample(s, 100, 1000, other.data());
    for (std::size_t i = 0; i < few.size(); ++i) CHECK(few[i] == many[i]);  // point i does not depend on n
    CHECK(again == many);
    std::size_t same = 0;
    for (std::size_t i = 0; i < many.size(); ++i) same += many[i] == other[i] ? 1 : 0;
    CHECK(same == 0);  // another key, other points
    // In float the same points, rounded: the in-place transform runs in T, within a few float ulps.
    std::vector<float> f(2000);
    detail::counter_sample(s, 99, 1000, f.data());
    double worst = 0;
    for (std::size_t i = 0; i < f.size(); ++i) worst = std::max(worst, std::abs(double(f[i]) - many[i]) / (1 + std::abs(many[i])));
    CHECK(worst <= 1e-6);
    // Laws without a counter sampler: the user's and another flow's end.
    const UserDistribution user("u", 1, [](std::int64_t k, Rng&) { return std::vector<double>(static_cast<std::size_t>(k), 0.0); },
                                [](const double*, std::int64_t k, double* out) { std::fill(out, out + k, 0.0); });
    CHECK(user.counter_sampler().law == detail::CounterLaw::None);
}

TEST_CASE("ρ⁰ log-densities: closed forms and support") {
    const GaussianMixture one({5.0}, {0.3, -0.2}, {1.5, 0.2, 0.2, 0.7}, 2);  // one component = that Gaussian
    const Gaussian same({0.3, -0.2}, {1.5, 0.2, 0.2, 0.7});
    const std::vector<double> pts = {0.0, 0.0, 2.0, -1.0, -30.0, 40.0};
    const auto a = one.log_density(pts), b = same.log_density(pts);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-13));
    CHECK(std::isfinite(a[2]));  // far out: log-sum-exp keeps it finite
    const UniformBox box({-1.0, 0.0}, {2.0, 0.5});
    const auto lb = box.log_density({0.0, 0.25, 2.0, 0.5, 2.0001, 0.25, 0.0, std::nan("")});
    CHECK(lb[0] == doctest::Approx(-std::log(1.5)));
    CHECK(lb[1] == doctest::Approx(-std::log(1.5)));  // closed box
    CHECK(lb[2] == -std::numeric_limits<double>::infinity());
    CHECK(lb[3] == -std::numeric_limits<double>::infinity());
}

TEST_CASE("GaussianMixture::most_likely_component: argmax of w_k N_k(x), weights and covariances count") {
    // Two components in 1-D: N(0, 1) with weight 0.9 and N(3, 1) with weight 0.1. The boundary is
    // where 0.9 e^{−x²/2} = 0.1 e^{−(x−3)²/2}: x* = 1.5 + ln 9 / 3 ≈ 2.2324 (not the midpoint 1.5).
    const GaussianMixture mix({0.9, 0.1}, {0.0, 3.0}, {1.0, 1.0}, 1);
    const double xstar = 1.5 + std::log(9.0) / 3.0;
    const auto c = mix.most_likely_component(std::vector<double>{-5.0, 1.6, xstar - 1e-6, xstar + 1e-6, 9.0}.data(), 5);
    CHECK(c == std::vector<int>{0, 0, 0, 1, 1});
    // A wide component wins far out even when its centre is farther.
    const GaussianMixture wide({0.5, 0.5}, {0.0, 4.0}, {25.0, 0.25}, 1);
    CHECK(wide.most_likely_component(std::vector<double>{-8.0, 4.0, 12.0}.data(), 3) == std::vector<int>{0, 1, 0});
}

TEST_CASE("ρ⁰ records rebuild the same distribution") {
    const std::vector<std::shared_ptr<const InitialDistribution>> ds = {
        std::make_shared<Gaussian>(std::vector<double>{0.1, 0.2}, std::vector<double>{1.0, 0.3, 0.3, 2.0}),
        std::make_shared<GaussianMixture>(mixture_2d()), std::make_shared<UniformBox>(std::vector<double>{-1.0, 0.0},
                                                                                       std::vector<double>{2.0, 0.5})};
    const std::vector<double> pts = {0.0, 0.1, 1.0, -0.7, -0.5, 0.4};
    for (const auto& d : ds) {
        INFO(d->describe());
        const auto back = make_initial(d->record());
        CHECK(back->record() == d->record());
        const auto la = d->log_density(pts), lb = back->log_density(pts);
        for (std::size_t i = 0; i < la.size(); ++i) CHECK(la[i] == lb[i]);
    }
}

TEST_CASE("ρ⁰ bad input is named") {
    CHECK(contains(error_of([] { GaussianMixture({1.0}, {0.0, 0.0}, {1, 0, 0, 1}, 0); }), "dim must be >= 1"));
    CHECK(contains(error_of([] { GaussianMixture({}, {}, {}, 2); }), "no components"));
    CHECK(contains(error_of([] { GaussianMixture({1.0, 0.0}, {0, 0, 1, 1}, {1, 0, 0, 1, 1, 0, 0, 1}, 2); }),
                   "weight 1 must be finite and > 0"));
    CHECK(contains(error_of([] { GaussianMixture({1.0}, {0, 0, 1}, {1, 0, 0, 1}, 2); }), "means has 3 entries"));
    CHECK(contains(error_of([] { GaussianMixture({1.0, 1.0}, {0, 0, 1, 1}, {1, 0, 0, 1, 1, 2, 2, 1}, 2); }),
                   "component 1"));
    CHECK(contains(error_of([] { UniformBox({0.0, 1.0}, {1.0, 1.0}); }), "side 1 must be finite with lower < upper"));
    CHECK(contains(error_of([] { UniformBox({0.0}, {1.0, 2.0}); }), "lower has 1 entries, upper 2"));
    CHECK(contains(error_of([] { UniformBox({}, {}); }), "lower is empty"));
    const auto sampler = [](std::int64_t n, Rng&) { return std::vector<double>(static_cast<std::size_t>(n), 0.0); };
    const auto logp = [](const double*, std::int64_t n, double* out) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = std::nan("");
    };
    CHECK(contains(error_of([&] { UserDistribution("", 1, sampler, logp); }), "name is empty"));
    CHECK(contains(error_of([&] { UserDistribution("u", 1, nullptr, logp); }), "sampler or the log-density is empty"));
    const UserDistribution bad("wrong-size", 2, sampler, logp);
    Rng rng(1);
    CHECK(contains(error_of([&] { (void)bad.sample(3, rng); }), "returned 3 values for n = 3 points in D = 2"));
    CHECK(contains(error_of([&] { (void)bad.log_density(std::vector<double>{0.0, 0.0}); }), "log-density nan at point 0"));
    CHECK(contains(error_of([&] { (void)make_initial(bad.record()); }), "user-defined distribution 'wrong-size'"));
    InitialRecord r = mixture_2d().record();
    r.params.pop_back();
    CHECK(contains(error_of([&] { (void)make_initial(r); }), "parameters, expected"));
    r.kind = "cauchy";
    CHECK(contains(error_of([&] { (void)make_initial(r); }), "unknown initial distribution kind 'cauchy'"));
}

TEST_CASE("flow and step files record ρ⁰ (version 2) for every kind") {
    const std::vector<double> y = {0.2, -0.1, 0.9, 0.3, -0.6, 0.1};
    const std::vector<std::shared_ptr<const InitialDistribution>> ds = {
        std::make_shared<Gaussian>(std::vector<double>{0.1, 0.2}, std::vector<double>{1.0, 0.3, 0.3, 2.0}),
        std::make_shared<GaussianMixture>(mixture_2d()),
        std::make_shared<UniformBox>(std::vector<double>{-2.0, -2.0}, std::vector<double>{2.0, 2.0})};
    for (const auto& d : ds) {
        INFO(d->describe());
        const Flow<double> flow = flow_from(d, 2);
        flow.save("test_initial.wgfflow");
        const Flow<double> back = Flow<double>::load("test_initial.wgfflow");
        CHECK(back.initial().record() == d->record());
        check_same_density(flow, back, y);
        remove_tree("test_initial_steps");
        for (int k = 0; k < flow.steps(); ++k) flow.save_step("test_initial_steps", k);
        const Flow<double> steps = Flow<double>::load_steps("test_initial_steps");
        CHECK(steps.initial().record() == d->record());
        check_same_density(flow, steps, y);
    }
    std::remove("test_initial.wgfflow");
    remove_tree("test_initial_steps");
}

TEST_CASE("flow and step files of version 1 (Gaussian ρ⁰) still load") {
    const Gaussian g({0.25, -0.5}, {1.0, 0.2, 0.2, 0.5});
    const Icnn<double> net = identity_icnn<double>(IcnnShape::uniform(2, 8, 2, 2), 5, 0.2);
    // The version-1 layouts of docs/FORMATS.md, written by hand.
    const auto put_gaussian = [&](detail::BinaryWriter& w) {
        w.put_bytes(g.mean().data(), g.mean().size() * sizeof(double));
        w.put_bytes(g.cov().data(), g.cov().size() * sizeof(double));
    };
    {
        detail::BinaryWriter w;
        w.put_bytes("WGFFLOW\0", 8);
        w.put<std::uint32_t>(1);
        w.put<std::uint32_t>(2);
        w.put<std::uint32_t>(1);
        put_gaussian(w);
        w.put_checksum();
        w.put<double>(0.05);
        icnn_write(w, net);
        w.put_checksum();
        detail::write_file_atomic("test_initial_v1.wgfflow", w.bytes());
    }
    remove_tree("test_initial_v1_steps");
    {
        detail::BinaryWriter w;
        w.put_bytes("WGFSTEP\0", 8);
        w.put<std::uint32_t>(1);
        w.put<std::uint32_t>(2);
        w.put<std::uint32_t>(0);
        put_gaussian(w);
        w.put<double>(0.05);
        w.put_checksum();
        icnn_write(w, net);
        w.put_checksum();
        std::system("mkdir -p test_initial_v1_steps");
        detail::write_file_atomic(Flow<double>::step_path("test_initial_v1_steps", 0), w.bytes());
    }
    Flow<double> expected(g);
    expected.push_back(net, 0.05);
    const Flow<double> a = Flow<double>::load("test_initial_v1.wgfflow");
    const Flow<double> b = Flow<double>::load_steps("test_initial_v1_steps");
    CHECK(a.initial().record() == g.record());
    CHECK(b.initial().record() == g.record());
    CHECK(a.map(0).params() == net.params());
    CHECK(b.tau(0) == 0.05);
    check_same_density(expected, a, {0.1, 0.2, -0.3, 0.4});
    // Re-saving writes the current version (3).
    a.save("test_initial_v1.wgfflow");
    const std::string bytes = read_bytes("test_initial_v1.wgfflow");
    CHECK(bytes[8] == 3);
    CHECK(Flow<double>::load("test_initial_v1.wgfflow").initial().record() == g.record());
    std::remove("test_initial_v1.wgfflow");
    remove_tree("test_initial_v1_steps");
}

TEST_CASE("a flow from a user-defined ρ⁰ is saved by name and loads only with it") {
    // Laplace(0, 1) in 1-D: exact sampler (inverse CDF) and log-density.
    const auto sampler = [](std::int64_t n, Rng& rng) {
        std::vector<double> x(static_cast<std::size_t>(n));
        for (auto& v : x) {
            const double u = rng.uniform() - 0.5;
            v = -std::copysign(1.0, u) * std::log1p(-2 * std::abs(u));
        }
        return x;
    };
    const auto logp = [](const double* x, std::int64_t n, double* out) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = -std::log(2.0) - std::abs(x[i]);
    };
    const auto laplace = std::make_shared<UserDistribution>("laplace", 1, sampler, logp);
    CHECK(integrate(*laplace, -40, 40, 400001) == doctest::Approx(1.0).epsilon(1e-6));
    check_moments(*laplace, {0.0}, {2.0}, 200000);
    const Flow<double> flow = flow_from(laplace, 2);
    flow.save("test_initial_user.wgfflow");
    const std::string err = error_of([] { (void)Flow<double>::load("test_initial_user.wgfflow"); });
    CHECK(contains(err, "test_initial_user.wgfflow"));
    CHECK(contains(err, "user-defined distribution 'laplace'"));
    const auto other = std::make_shared<UserDistribution>("student-t", 1, sampler, logp);
    CHECK(contains(error_of([&] { (void)Flow<double>::load("test_initial_user.wgfflow", other); }),
                   "but the one given is user-defined 'student-t'"));
    const Flow<double> back = Flow<double>::load("test_initial_user.wgfflow", laplace);
    CHECK(&back.initial() == laplace.get());
    check_same_density(flow, back, {-0.7, 0.1, 1.3});
    std::remove("test_initial_user.wgfflow");
}

TEST_CASE("FlowEnd: ρ^k of another flow as ρ⁰ — trace and inverse densities agree, files embed the source") {
    const Flow<double> a = flow_from(std::make_shared<GaussianMixture>(mixture_2d()), 2);
    const auto end = std::make_shared<const FlowEnd<double>>(a);
    CHECK(end->step() == 2);
    CHECK(end->dim() == 2);
    Rng rng(5);
    std::vector<double> logp;
    const std::vector<double> x = end->sample_with_log_density(300, rng, logp);
    // Along the traces vs through the inverse maps: the same density (Newton to 1e-9 relative).
    const std::vector<double> inv = end->log_density(x);
    for (std::size_t i = 0; i < logp.size(); ++i) CHECK(inv[i] == doctest::Approx(logp[i]).epsilon(1e-7));
    // Its record rebuilds it, with the source flow embedded.
    const auto back = make_initial(end->record());
    CHECK(back->record() == end->record());
    const std::vector<double> pts = {0.3, -0.2, -1.0, 1.5};
    const auto l1 = end->log_density(pts), l2 = back->log_density(pts);
    for (std::size_t i = 0; i < l1.size(); ++i) CHECK(l1[i] == l2[i]);
    // A flow that continues from it: densities chain through both flows; files are self-contained.
    const Flow<double> b = flow_from(end, 1);
    b.save("test_flow_end.wgfflow");
    const Flow<double> b2 = Flow<double>::load("test_flow_end.wgfflow");
    CHECK(b2.initial().record() == end->record());
    check_same_density(b, b2, {0.1, 0.1, 2.0, -1.0});
    std::remove("test_flow_end.wgfflow");
    // Checkpoints: step 0 embeds the source, later steps only its digest; resume checks both.
    remove_tree("test_flow_end_steps");
    const Flow<double> c = flow_from(end, 2);
    for (int k = 0; k < 2; ++k) c.save_step("test_flow_end_steps", k);
    const std::size_t size0 = read_bytes(Flow<double>::step_path("test_flow_end_steps", 0)).size();
    const std::size_t size1 = read_bytes(Flow<double>::step_path("test_flow_end_steps", 1)).size();
    CHECK(size0 > size1 + end->record().blob.size() - 64);
    const Flow<double> c2 = Flow<double>::load_steps("test_flow_end_steps");
    CHECK(c2.steps() == 2);
    CHECK(c2.initial().record() == end->record());
    // A later step written from another source flow is refused.
    const Flow<double> other = flow_from(std::make_shared<const FlowEnd<double>>(flow_from(std::make_shared<GaussianMixture>(mixture_2d()), 1)), 2);
    other.save_step("test_flow_end_steps", 1);
    CHECK(contains(error_of([] { (void)Flow<double>::load_steps("test_flow_end_steps"); }), "initial distribution differs from step 0's"));
    remove_tree("test_flow_end_steps");
    // Float flows continue from double ones: ρ⁰ log-densities are those of the rounded points.
    Flow<float> f(end);
    f.push_back(identity_icnn<float>(IcnnShape::uniform(2, 8, 2, 2), 9, 0.2), 0.1);
    Context ctx(Backend::Host);
    std::vector<double> lf;
    Rng rng2(6);
    const std::vector<float> xf = f.sample(ctx, 0, 50, rng2, &lf);
    const std::vector<double> xd(xf.begin(), xf.end());
    const auto exact = end->log_density(xd);
    for (std::size_t i = 0; i < lf.size(); ++i) CHECK(lf[i] == doctest::Approx(exact[i]).epsilon(1e-9));
    CHECK(contains(error_of([&] { FlowEnd<double>(a, 3); }), "step 3 out of range [-1, 2]"));
}

TEST_CASE("FlowEnd in 1-D integrates to 1") {
    Flow<double> a(Gaussian({0.5}, {2.0}));
    for (int i = 0; i < 2; ++i) a.push_back(identity_icnn<double>(IcnnShape::uniform(1, 8, 2, 2), 30 + i, 0.3), 0.1);
    const FlowEnd<double> end(a);
    CHECK(integrate(end, -15, 16, 3001) == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("resume: no checkpoint is NoCheckpoint; damage and another ρ⁰ are errors") {
    remove_tree("test_initial_resume");
    CHECK_THROWS_AS((void)Flow<double>::load_steps("test_initial_resume"), NoCheckpoint);
    const Flow<double> flow = flow_from(std::make_shared<GaussianMixture>(mixture_2d()), 2);
    for (int k = 0; k < 2; ++k) flow.save_step("test_initial_resume", k);
    // Step 0 damaged (one bit): an Error that is not NoCheckpoint, so resume does not start over.
    const std::string path = Flow<double>::step_path("test_initial_resume", 0);
    std::string bytes = read_bytes(path);
    bytes[bytes.size() / 3] ^= 0x4;
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes; }
    bool plain_error = false;
    try {
        (void)Flow<double>::load_steps("test_initial_resume");
    } catch (const NoCheckpoint&) {
        plain_error = false;
    } catch (const Error&) {
        plain_error = true;
    }
    CHECK(plain_error);
    // Through the solver: damage propagates; another ρ⁰ is refused; an empty folder starts fresh.
    Context ctx(Backend::Host, 1);
    const QuadraticPotential<double> phi({1.0, 0.0, 0.0, 1.0}, {0.0, 0.0});
    JkoOptions opt;
    opt.checkpoint_dir = "test_initial_resume";
    JkoSolver<double> solver(ctx, IcnnShape::uniform(2, 8, 2, 2), phi, opt);
    CHECK_THROWS_AS((void)solver.resume_or_start(mixture_2d()), Error);
    for (int k = 0; k < 2; ++k) flow.save_step("test_initial_resume", k);
    CHECK(solver.resume_or_start(mixture_2d()).steps() == 2);
    CHECK(contains(error_of([&] { (void)solver.resume_or_start(UniformBox({-1.0, -1.0}, {1.0, 1.0})); }),
                   "start from another initial distribution"));
    remove_tree("test_initial_resume");
    CHECK(solver.resume_or_start(UniformBox({-1.0, -1.0}, {1.0, 1.0})).steps() == 0);
}

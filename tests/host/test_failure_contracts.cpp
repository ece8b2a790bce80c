// test_failure_contracts.cpp — what the library does when things go wrong (issue "Trust"): an
// exception thrown inside the host backend's OpenMP regions reaches the caller (never
// std::terminate); one status contract for singular, indefinite and non-finite Hessians
// (wgf/icnn_status.h) on every path — icnn_eval, the loss, the flow; far points marked, not fatal to
// a batch; shapes too large refused before allocating; checkpoints that record the run's settings,
// and a checkpoint folder checked before any training.
#include <doctest/doctest.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "eigen_dense.h"
#include "errors.h"
#include "random.h"
#include "wgf/wgf.h"

using namespace wgf;
using wgf_test::contains;
using wgf_test::error_of;
using wgf_test::random_points;

namespace {
/// A user potential that throws from its callback (from inside the loss's parallel region).
FunctionPotential<double> throwing_potential(int D) {
    return FunctionPotential<double>(
        D, [](const double*, std::int64_t, double*, double*) { throw std::runtime_error("user potential failed"); },
        nullptr, "throwing");
}

/// The reviewer's exactly singular ICNN: D = 8, one layer of 3 units, rank 2, s = 0 — ∇²ψ has rank
/// ≤ 5 < 8 everywhere.
Icnn<double> singular_net() {
    IcnnShape shape;
    shape.dim = 8;
    shape.widths = {3};
    shape.rank = 2;
    shape.strong_convexity = 0;
    return Icnn<double>::random(shape, 11);
}

std::vector<std::int32_t> statuses(Context& ctx, const Icnn<double>& net, const std::vector<double>& x,
                                   std::vector<double>* logdet_out = nullptr, std::vector<double>* value = nullptr) {
    const std::int64_t n = static_cast<std::int64_t>(x.size()) / net.shape().dim;
    std::vector<double> logdet(static_cast<std::size_t>(n));
    std::vector<std::int32_t> status(static_cast<std::size_t>(n), -9);
    if (value) value->assign(static_cast<std::size_t>(n), 0.0);
    icnn_eval(ctx, net, x.data(), n,
              IcnnOutputs<double>{value ? value->data() : nullptr, nullptr, nullptr, logdet.data(), status.data()});
    if (logdet_out) *logdet_out = logdet;
    return status;
}

std::string temp_dir(const char* name) {
    const std::string dir = (std::filesystem::temp_directory_path() / name).string();
    std::filesystem::remove_all(dir);
    return dir;
}
}  // namespace

TEST_CASE("a user potential that throws inside the host loss reaches the caller (no std::terminate)") {
    const IcnnShape shape = IcnnShape::uniform(2, 8, 2, 2);
    const Icnn<double> net = Icnn<double>::random(shape, 3);
    const auto x = random_points<double>(3000, 2, 5);  // many blocks, on 2 threads
    const auto phi = throwing_potential(2);
    Context ctx(Backend::Host, 2);
    std::vector<double> grad(net.size());
    CHECK_THROWS_WITH_AS(jko_loss(ctx, shape, net.data(), x.data(), 3000, phi, JkoLossOptions{}, grad.data()),
                         "user potential failed", std::runtime_error);

    JkoOptions opt;
    opt.steps = 1;
    opt.iterations = 2;
    opt.batch = 256;
    opt.init = JkoInit::Identity;
    JkoSolver<double> solver(ctx, shape, phi, opt);
    Flow<double> flow(Gaussian({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}));
    CHECK_THROWS_WITH_AS(solver.run(flow), "user potential failed", std::runtime_error);
}

TEST_CASE("an exactly singular Hessian is kIcnnSingular on every path, not a finite log det") {
    Context ctx(Backend::Host, 2);
    const Icnn<double> net = singular_net();
    const auto x = random_points<double>(64, 8, 7);
    std::vector<double> logdet;
    const auto status = statuses(ctx, net, x, &logdet);
    for (std::size_t p = 0; p < status.size(); ++p) {
        CHECK_MESSAGE(status[p] == kIcnnSingular, "point " << p << " status " << status[p]);
        CHECK(std::isnan(logdet[p]));
    }
    // float: the same network rounded, the same verdict
    const Icnn<float> net32 = net.cast<float>();
    const std::vector<float> x32(x.begin(), x.end());
    std::vector<float> logdet32(64);
    std::vector<std::int32_t> status32(64, -9);
    icnn_eval(ctx, net32, x32.data(), 64, IcnnOutputs<float>{nullptr, nullptr, nullptr, logdet32.data(), status32.data()});
    for (int p = 0; p < 64; ++p) CHECK(status32[p] == kIcnnSingular);
    // without a status buffer: NotPositiveDefinite naming the point and the status
    try {
        std::vector<double> ld(64);
        icnn_eval(ctx, net, x.data(), 64, IcnnOutputs<double>{nullptr, nullptr, nullptr, ld.data(), nullptr});
        FAIL("expected NotPositiveDefinite");
    } catch (const NotPositiveDefinite& e) {
        CHECK(e.point() == 0);
        CHECK(e.status() == kIcnnSingular);
        CHECK(contains(e.what(), "singular"));
    }
    // the loss refuses the same points the evaluation reports
    std::vector<double> eye8(64, 0.0);
    for (int i = 0; i < 8; ++i) eye8[static_cast<std::size_t>(i * 9)] = 1.0;
    const QuadraticPotential<double> quad(eye8, std::vector<double>(8, 0.0));
    try {
        jko_loss<double>(ctx, net.shape(), net.data(), x.data(), 64, quad, JkoLossOptions{}, nullptr);
        FAIL("expected NotPositiveDefinite from jko_loss");
    } catch (const NotPositiveDefinite& e) {
        CHECK(e.status() == kIcnnSingular);
    }
}

TEST_CASE("nearly singular: below the pivot floor is singular, above it the log det is right") {
    Context ctx(Backend::Host, 2);
    Icnn<double> net = singular_net();
    const auto x = random_points<double>(16, 8, 9);
    // H = H₀ + s I with H₀ singular (rank < 8): its null eigenvalues become s. The floor is
    // 9·2⁻⁵³·max H_ii, about 1e-14 here (max H_ii ≈ 10): s = 1e-17 is below it, s = 1e-6 far above.
    IcnnShape shape = net.shape();
    shape.strong_convexity = 1e-17;
    Icnn<double> tiny(shape);
    std::copy(net.data(), net.data() + net.size(), tiny.data());
    for (auto s : statuses(ctx, tiny, x)) CHECK(s == kIcnnSingular);
    shape.strong_convexity = 1e-6;
    Icnn<double> small(shape);
    std::copy(net.data(), net.data() + net.size(), small.data());
    std::vector<double> logdet, hess(16 * 64);
    std::vector<int> small_eigenvalues(16);
    const auto status = statuses(ctx, small, x, &logdet);
    icnn_eval(ctx, small, x.data(), 16, IcnnOutputs<double>{nullptr, nullptr, hess.data()});
    for (int p = 0; p < 16; ++p) {
        REQUIRE(status[static_cast<std::size_t>(p)] == kIcnnOk);
        // Reference: Σ log λ_i by a symmetric eigen-solver (independent of Cholesky). Three λ = 1e-6
        // carry log det ≈ −41; agreement to 1e-6 absolute shows they are resolved, not rounded.
        Eigen::Map<const Eigen::Matrix<double, 8, 8, Eigen::RowMajor>> H(hess.data() + p * 64);
        const Eigen::SelfAdjointEigenSolver<Eigen::Matrix<double, 8, 8>> eig(H);
        const double ref = eig.eigenvalues().array().log().sum();
        small_eigenvalues[static_cast<std::size_t>(p)] = static_cast<int>((eig.eigenvalues().array() < 1e-5).count());
        CHECK(small_eigenvalues[static_cast<std::size_t>(p)] >= 1);
        CHECK(logdet[static_cast<std::size_t>(p)] == doctest::Approx(ref).epsilon(1e-7));
    }
    // s = 1e-7: the m eigenvalues equal to s shrink tenfold, log det falls by m ln 10 (to 1e-5: the
    // others barely move), so those eigenvalues are resolved, not rounding noise.
    shape.strong_convexity = 1e-7;
    Icnn<double> smaller(shape);
    std::copy(net.data(), net.data() + net.size(), smaller.data());
    std::vector<double> logdet7;
    for (auto s7 : statuses(ctx, smaller, x, &logdet7)) REQUIRE(s7 == kIcnnOk);
    for (int p = 0; p < 16; ++p)
        CHECK(logdet[static_cast<std::size_t>(p)] - logdet7[static_cast<std::size_t>(p)] ==
              doctest::Approx(small_eigenvalues[static_cast<std::size_t>(p)] * std::log(10.0)).epsilon(1e-5));
}

TEST_CASE("an indefinite Hessian (a ψ that is not convex) is kIcnnIndefinite") {
    Context ctx(Backend::Host, 1);
    IcnnShape shape = IcnnShape::uniform(3, 4, 1, 2, 0.0);
    Icnn<double> net = Icnn<double>::random(shape, 2);
    const IcnnLayout layout(shape);
    for (std::size_t i = layout.c; i < layout.total; ++i) net.data()[i] = -1.0;  // negative output weights
    const auto x = random_points<double>(8, 3, 1);
    for (auto s : statuses(ctx, net, x)) CHECK(s == kIcnnIndefinite);
    // Such a network is not written: the reader would refuse the file (c >= 0 is in the format).
    const std::string path = temp_dir("wgf_test_nonconvex.icnn");
    CHECK(contains(error_of([&] { net.save(path); }), "not convex"));
    CHECK(!std::filesystem::exists(path));
}

TEST_CASE("far points: non-finite outputs are kIcnnNonFinite; the loss names the point; log_density marks it") {
    Context ctx(Backend::Host, 2);
    const IcnnShape shape = IcnnShape::uniform(3, 8, 2, 2);
    const Icnn<double> net = Icnn<double>::random(shape, 4);
    std::vector<double> x = random_points<double>(6, 3, 3);
    x[3 * 4] = 1e160;  // point 4: ψ ~ |x|² overflows
    std::vector<double> value, logdet;
    const auto status = statuses(ctx, net, x, &logdet, &value);
    for (int p = 0; p < 6; ++p) {
        INFO("point " << p);
        if (p == 4) {
            CHECK(status[4] == kIcnnNonFinite);
            CHECK(std::isnan(logdet[4]));
        } else {
            CHECK(status[static_cast<std::size_t>(p)] == kIcnnOk);
            CHECK(std::isfinite(logdet[static_cast<std::size_t>(p)]));
        }
    }
    // The loss at (1e300, 0, 0): NotPositiveDefinite for that point, not std::terminate.
    std::vector<double> y = random_points<double>(5, 3, 8);
    y[3 * 2] = 1e300;
    const QuadraticPotential<double> quad({1, 0, 0, 0, 1, 0, 0, 0, 1}, {0, 0, 0});
    try {
        jko_loss<double>(ctx, shape, net.data(), y.data(), 5, quad, JkoLossOptions{}, nullptr);
        FAIL("expected NotPositiveDefinite");
    } catch (const NotPositiveDefinite& e) {
        CHECK(e.point() == 2);
        CHECK(e.status() == kIcnnNonFinite);
    }

    // Flow::log_density with a report: the far point is NaN and not converged, the others as alone.
    Flow<double> flow(Gaussian({0.0, 0.0, 0.0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
    flow.push_back(identity_icnn<double>(IcnnShape::uniform(3, 16, 2, 3), 1, 0.3), 0.1);
    flow.push_back(identity_icnn<double>(IcnnShape::uniform(3, 16, 2, 3), 2, 0.3), 0.1);
    const std::vector<double> pts = {0.3, -0.2, 0.1, 1e300, 0.0, 0.0, 0.1, 0.4, -0.5};
    InverseReport rep;
    const auto lp = flow.log_density(ctx, 2, pts, InverseOptions{}, &rep);
    CHECK(std::isnan(lp[1]));
    CHECK(rep.converged[1] == 0);
    CHECK(rep.failures() == 1);
    const auto lp0 = flow.log_density(ctx, 2, {0.3, -0.2, 0.1});
    const auto lp2 = flow.log_density(ctx, 2, {0.1, 0.4, -0.5});
    CHECK(lp[0] == doctest::Approx(lp0[0]).epsilon(1e-12));
    CHECK(lp[2] == doctest::Approx(lp2[0]).epsilon(1e-12));
    const std::string msg = error_of([&] { (void)flow.log_density(ctx, 2, pts); });
    CHECK_MESSAGE(contains(msg, "1 of 3"), msg);
    // float: a coordinate beyond float's range is that point's failure too
    Flow<float> flow32(Gaussian({0.0, 0.0, 0.0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
    flow32.push_back(flow.map(0).cast<float>(), 0.1);
    InverseReport rep32;
    const auto lp32 = flow32.log_density(ctx, 1, pts, InverseOptions{}, &rep32);
    CHECK(std::isnan(lp32[1]));
    CHECK(std::isfinite(lp32[0]));
    CHECK(std::isfinite(lp32[2]));
}

TEST_CASE("shapes beyond the index range are refused before any allocation, without int overflow") {
    CHECK(contains(error_of([&] { (void)IcnnShape::uniform(4, 8, 2, INT_MAX); }), "2^31"));  // r + 1 overflowed an int
    IcnnShape s = IcnnShape::uniform(4, 8, 2, 2);
    s.rank = INT_MAX;
    CHECK(contains(error_of([&] { s.validate(); }), "2^31"));
    IcnnShape huge = IcnnShape::uniform(4, 8, 1);
    huge.dim = 40000;  // D² < 2^31, but r·W·D and the parameter count are not
    huge.widths = {40000};
    CHECK(contains(error_of([&] { (void)Icnn<double>::random(huge, 0); }), "parameters"));
    CHECK(contains(error_of([&] { (void)IcnnShape::uniform(50000, 1, 1, 1); }), "Hessian"));  // D² > 2^31
}

TEST_CASE("checkpoints record the run's settings: resume refuses other settings, lists them") {
    const std::string dir = temp_dir("wgf_test_settings");
    Context ctx(Backend::Host, 2);
    const IcnnShape shape = IcnnShape::uniform(2, 8, 2, 2);
    const QuadraticPotential<double> quad({1, 0, 0, 1}, {1, 0});
    JkoOptions opt;
    opt.steps = 1;
    opt.iterations = 3;
    opt.batch = 64;
    opt.init = JkoInit::Identity;
    opt.checkpoint_dir = dir;
    const Gaussian rho0({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0});
    {
        JkoSolver<double> solver(ctx, shape, quad, opt);
        Flow<double> flow = solver.resume_or_start(rho0);
        solver.run(flow);
    }
    {  // the same settings (more steps allowed): resumes
        JkoOptions more = opt;
        more.steps = 2;
        JkoSolver<double> solver(ctx, shape, quad, more);
        CHECK(solver.resume_or_start(rho0).steps() == 1);
    }
    JkoOptions other = opt;
    other.seed = 1;
    other.tau = 0.1;
    const std::string msg = error_of([&] { JkoSolver<double>(ctx, shape, quad, other).resume_or_start(rho0); });
    CHECK_MESSAGE(contains(msg, "other settings"), msg);
    CHECK_MESSAGE(contains(msg, "seed (checkpoints: 0, now: 1)"), msg);
    CHECK_MESSAGE(contains(msg, "tau (checkpoints: 0.05"), msg);
    CHECK_MESSAGE(!contains(msg, "batch"), msg);
    // another potential (same description, other centre) and another precision
    const QuadraticPotential<double> moved({1, 0, 0, 1}, {2, 0});
    CHECK(contains(error_of([&] { JkoSolver<double>(ctx, shape, moved, opt).resume_or_start(rho0); }), "potential"));
    const QuadraticPotential<float> quad32({1, 0, 0, 1}, {1, 0});
    CHECK(contains(error_of([&] { JkoSolver<float>(ctx, shape, quad32, opt).resume_or_start(rho0); }), "precision"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a checkpoint folder that cannot hold checkpoints fails before pretraining") {
    const std::string file = temp_dir("wgf_test_ckpt_is_a_file");
    { std::FILE* f = std::fopen(file.c_str(), "w"); REQUIRE(f != nullptr); std::fclose(f); }
    Context ctx(Backend::Host, 1);
    const IcnnShape shape = IcnnShape::uniform(2, 8, 2, 2);
    const QuadraticPotential<double> quad({1, 0, 0, 1}, {1, 0});
    JkoOptions opt;
    opt.steps = 1;
    opt.pretrain_iterations = 1000000;  // would take minutes if it ran first
    opt.checkpoint_dir = file;
    JkoSolver<double> solver(ctx, shape, quad, opt);
    Flow<double> flow(Gaussian({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}));
    const std::string msg = error_of([&] { solver.run(flow); });
    CHECK_MESSAGE(contains(msg, "is not a folder"), msg);
    CHECK(solver.pretrain_seconds() == 0.0);
    std::remove(file.c_str());
}

// test_jko_ou.cpp — a small Ornstein–Uhlenbeck flow end to end on the host: the JKO solver, the
// trace and inverse-map densities, and SymKL against the closed-form marginal. The bound is one a
// broken gradient cannot reach: it is checked against the SymKL of the untrained flow (identity
// maps, ρ stays at ρ⁰), which the trained flow must beat by a factor of 20.
#include <doctest/doctest.h>

#include <cmath>

#include "wgf/wgf.h"
#include "wgf/flow.h"
#include "wgf/jko.h"
#include "wgf/metrics.h"
#include "wgf/potential.h"

using namespace wgf;

namespace {
template <typename T>
double sym_kl(Context& ctx, const Flow<T>& flow, int k, const Gaussian& target, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<double> logp;
    const auto xs = flow.sample(ctx, k, 4096, rng, &logp);
    const std::vector<double> xd(xs.begin(), xs.end());
    const auto ys = target.sample(4096, rng);
    InverseReport rep;
    const auto model_at_target = flow.log_density(ctx, k, ys, InverseOptions{}, &rep);
    REQUIRE(rep.failures() == 0);
    return symmetric_kl(logp, target.log_density(xd), target.log_density(ys), model_at_target).sym();
}
}  // namespace

TEST_CASE_TEMPLATE("JKO reproduces the OU marginal (D=2, t=0.3)", T, float, double) {
    const int D = 2;
    const std::vector<double> A = {1.2, 0.3, 0.3, 0.8}, m = {2.0, -1.5};
    const QuadraticPotential<T> pot(A, m);
    const Gaussian rho0(std::vector<double>{0.0, 0.0}, std::vector<double>{1.0, 0.0, 0.0, 1.0});
    JkoOptions opt;
    opt.tau = 0.1;
    opt.steps = 3;
    opt.iterations = 150;
    opt.batch = 256;
    opt.pretrain_iterations = 300;
    opt.seed = 11;
    Context ctx(Backend::Host);
    JkoSolver<T> solver(ctx, IcnnShape::uniform(D, 32, 2, 5), pot, opt);
    Flow<T> flow(rho0);
    solver.run(flow);
    const Gaussian target = ou_marginal(rho0, A, m, 1.0, flow.time(3));

    // Untrained baseline: identity maps leave ρ⁰ in place.
    Rng brng(3);
    const auto bx = rho0.sample(4096, brng);
    const auto by = target.sample(4096, brng);
    const double baseline =
        symmetric_kl(rho0.log_density(bx), target.log_density(bx), target.log_density(by), rho0.log_density(by)).sym();
    const double kl = sym_kl(ctx, flow, 3, target, 17);
    MESSAGE("SymKL trained " << kl << ", untrained " << baseline);
    CHECK(baseline > 0.1);
    CHECK(kl < baseline / 20);
    CHECK(kl < 0.02);
}

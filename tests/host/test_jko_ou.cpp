// test_jko_ou.cpp — a small Ornstein–Uhlenbeck flow end to end on the host: the JKO solver, the
// trace and inverse-map densities, and SymKL against the closed-form marginal. The bound is one a
// broken gradient cannot reach: it is checked against the SymKL of the untrained flow (identity
// maps, ρ stays at ρ⁰), which the trained flow must beat by a factor of 20.
#include <doctest/doctest.h>

#include <cmath>

#include "ou_flow.h"
#include "wgf/wgf.h"
#include "wgf/flow.h"
#include "wgf/jko.h"
#include "wgf/metrics.h"
#include "wgf/potential.h"

using namespace wgf;

TEST_CASE_TEMPLATE("JKO reproduces the OU marginal (D=2, t=0.3)", T, float, double) {
    const wgf_test::SmallOu ou;
    Context ctx(Backend::Host);
    const Flow<T> flow = ou.train<T>(ctx);
    const Gaussian target = ou.target(flow.time(3));
    const Gaussian& rho0 = ou.rho0;

    // Untrained baseline: identity maps leave ρ⁰ in place.
    Rng brng(3);
    const auto bx = rho0.sample(4096, brng);
    const auto by = target.sample(4096, brng);
    const double baseline =
        symmetric_kl(rho0.log_density(bx), target.log_density(bx), target.log_density(by), rho0.log_density(by)).sym();
    const double kl = wgf_test::flow_sym_kl(ctx, flow, 3, target, 17);
    MESSAGE("SymKL trained " << kl << ", untrained " << baseline);
    CHECK(baseline > 0.1);
    CHECK(kl < baseline / 20);
    CHECK(kl < 0.02);
}

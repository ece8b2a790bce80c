// ou_flow.h — the small Ornstein–Uhlenbeck flow shared by the host test (test_jko_ou) and the CUDA
// test (test_train_cuda): its problem, its training, and SymKL against the closed-form marginal as
// the reference estimates it (model samples with trace densities, target samples through the
// inverse maps).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "wgf/flow.h"
#include "wgf/jko.h"
#include "wgf/metrics.h"
#include "wgf/potential.h"

namespace wgf_test {

/// Φ = ½(x−m)ᵀA(x−m) in D = 2, ρ⁰ = N(0, I), τ = 0.1, 3 steps (t = 0.3).
struct SmallOu {
    std::vector<double> A = {1.2, 0.3, 0.3, 0.8}, m = {2.0, -1.5};
    wgf::Gaussian rho0{std::vector<double>{0.0, 0.0}, std::vector<double>{1.0, 0.0, 0.0, 1.0}};
    wgf::JkoOptions options() const {
        wgf::JkoOptions opt;
        opt.tau = 0.1;
        opt.steps = 3;
        opt.iterations = 150;
        opt.batch = 256;
        opt.pretrain_iterations = 300;
        opt.seed = 11;
        return opt;
    }
    /// Trains the flow on ctx's backend.
    template <typename T>
    wgf::Flow<T> train(wgf::Context& ctx) const {
        const wgf::QuadraticPotential<T> pot(A, m);
        wgf::JkoSolver<T> solver(ctx, wgf::IcnnShape::uniform(2, 32, 2, 5), pot, options());
        wgf::Flow<T> flow(rho0);
        solver.run(flow);
        return flow;
    }
    wgf::Gaussian target(double t) const { return wgf::ou_marginal(rho0, A, m, 1.0, t); }
};

/// SymKL between ρ^k of `flow` and `target`, 4096 samples each; every inversion must converge.
template <typename T>
double flow_sym_kl(wgf::Context& ctx, const wgf::Flow<T>& flow, int k, const wgf::Gaussian& target,
                   std::uint64_t seed) {
    wgf::Rng rng(seed);
    std::vector<double> logp;
    const auto xs = flow.sample(ctx, k, 4096, rng, &logp);
    const std::vector<double> xd(xs.begin(), xs.end());
    const auto ys = target.sample(4096, rng);
    wgf::InverseReport rep;
    const auto model_at_target = flow.log_density(ctx, k, ys, wgf::InverseOptions{}, &rep);
    REQUIRE(rep.failures() == 0);
    return wgf::symmetric_kl(logp, target.log_density(xd), target.log_density(ys), model_at_target).sym();
}

}  // namespace wgf_test

// tiny_logreg.h — the small synthetic logistic-regression posterior of the posterior tests
// (test_posterior_baselines, test_posterior_jko) and their MALA reference settings.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "wgf/wgf.h"

namespace wgf_test {

/// A tiny logistic-regression problem: d = 3 features ~ N(0, 1), 60 rows, labels drawn from the model
/// with θ = (1, −2, 0.5) (seed 11).
struct TinyLogReg {
    int d = 3;
    std::vector<double> X, y;
    explicit TinyLogReg(int rows = 60) {
        wgf::Rng g(11);
        const double th[3] = {1.0, -2.0, 0.5};
        for (int s = 0; s < rows; ++s) {
            double z = 0;
            for (int j = 0; j < d; ++j) {
                X.push_back(g.normal());
                z += th[j] * X.back();
            }
            y.push_back(g.uniform() < 1 / (1 + std::exp(-z)) ? 1.0 : -1.0);
        }
    }
};

/// The MALA reference of the logistic tests: 32 chains × (1000 warm-up + 1000 draws).
inline wgf::MalaResult mala_reference(wgf::Context& ctx, const wgf::Potential<double>& phi,
                                      const wgf::InitialDistribution& start, std::uint64_t seed) {
    wgf::MalaOptions mo;
    mo.chains = 32;
    mo.warmup = 1000;
    mo.draws = 1000;
    mo.seed = seed;
    return wgf::mala(ctx, phi, start, mo);
}

}  // namespace wgf_test

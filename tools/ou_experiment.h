// ou_experiment.h — the Ornstein–Uhlenbeck validation of PAPER-SPEC §7.3 as a reusable driver:
// random instance (Σ = random SPD with eigenvalues in [1, 2], A = Σ⁻¹, m ∼ N(0, I), ρ⁰ = N(0, I),
// Φ(x) = ½(x−m)ᵀA(x−m)), a JKO flow, and SymKL against the closed-form marginal at chosen times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wgf/jko.h"

namespace wgf_cli {

struct OuConfig {
    int dim = 2;
    int width = 64, depth = 2, rank = 5;
    double beta = 1.0;
    wgf::JkoOptions jko;               ///< tau 0.05, 20 steps, 500 iterations, N 1024, lr 5e-3 (reference)
    std::int64_t eval_points = 8192;   ///< samples per KL term
    std::vector<int> eval_steps = {10, 18};  ///< steps k whose ρ^k is evaluated (t = k·τ), each in [0, steps]
    bool use_double = false;           ///< float32 maps, as the reference
    int host_threads = 0;
    wgf::Backend backend = wgf::Backend::Host;  ///< where the flow is trained and evaluated
};

struct OuResult {
    int instance = 0;
    std::vector<int> steps;            ///< one entry per cfg.eval_steps, in that order
    std::vector<double> times, sym_kl, kl_model_target, kl_target_model;
    std::vector<std::int64_t> inverse_failures;
    double train_seconds = 0, pretrain_seconds = 0, eval_seconds = 0;
};

/// Runs instance `instance` (seeded by (seed, D, instance)); progress lines go to stderr when verbose.
OuResult run_ou_instance(const OuConfig& cfg, int instance, std::uint64_t seed, bool verbose);

/// The reference's median SymKL (PAPER-SPEC §9.2) at t = 0.5 or 0.9 for D, or NaN if not published.
double reference_ou_median(int dim, double t);

}  // namespace wgf_cli

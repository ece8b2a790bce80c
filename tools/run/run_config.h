// run_config.h — the `wgf run` configuration: one TOML file describes a flow (docs/RUN.md has every
// key). Reading it checks everything before any training starts: unknown keys, wrong types, missing
// fields and inconsistent dimensions are errors that name the file, the line, the key and what was
// expected.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wgf/icnn.h"
#include "wgf/initial.h"
#include "wgf/jko.h"
#include "wgf/potential.h"

namespace wgf_cli {

struct RunConfig {
    std::string file;  ///< the config file, as given

    // [flow]
    int dim = 0;
    bool use_double = false;
    std::string backend = "auto";  ///< auto | host | cuda
    int threads = 0;

    // [potential]
    std::string potential_kind;                   ///< quadratic | gaussian-mixture | cube-mixture
    std::vector<double> A, m;                     ///< quadratic
    std::vector<double> weights, means, covs;     ///< gaussian-mixture (cube-mixture: drawn at load)

    // [initial]
    std::shared_ptr<const wgf::InitialDistribution> initial;

    // [network], [training] (+ tau, beta, steps, seed of [flow])
    wgf::IcnnShape shape;
    wgf::JkoOptions jko;

    // [output]
    std::string out_dir;
    bool checkpoints = true;
    std::vector<int> at_steps;            ///< output steps (sorted, unique, in [0, steps])
    std::int64_t samples = 4096;          ///< samples with log-densities per output step (0: none)
    std::string points;                   ///< .npy [n][D] of points for log-densities ("" = none)
    bool metrics = true;                  ///< SymKL and energy distance against the reference law, when known
    std::int64_t metric_samples = 4096;
    /// KL(ρ^k‖reference law) after every step on one fixed batch of this many ρ⁰ samples pushed along
    /// (PAPER-SPEC §7.2's per-step log); 0 = off.
    std::int64_t step_kl_samples = 0;
    bool save_flow = true;
};

/// Reads and checks a config file (throws wgf::Error with file:line: [section] key: problem).
/// overrides: "section.key=value" with a TOML value (e.g. "training.iterations=20",
/// "initial.mean=[1, 2]"), applied over the file before checking (`wgf run --set`).
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The potential the config describes, in precision T.
template <typename T>
std::shared_ptr<const wgf::Potential<T>> make_run_potential(const RunConfig& cfg);

/// The law the metrics compare with at time t, when it is known in closed form: the exact OU
/// marginal (quadratic Φ, Gaussian ρ⁰), else the stationary law e^{−βΦ}/Z (quadratic: N(m, (βA)⁻¹);
/// mixtures: the mixture itself, since wgf's mixture potential is Φ = −β⁻¹ log mixture). `what`
/// names it ("ou-marginal" or "stationary").
std::shared_ptr<const wgf::InitialDistribution> reference_law(const RunConfig& cfg, double t, std::string* what);

}  // namespace wgf_cli

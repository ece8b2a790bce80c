// cmd_em.cpp — `wgf em CONFIG`: the Euler–Maruyama + KDE baselines (PAPER-SPEC §8.1, §6.2) on the
// flow a `wgf run` config describes: the same potential, ρ⁰, β and final time t = steps · τ, with
// the same SymKL estimator against the same reference law, for several particle counts.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "binary_io.h"  // the library's atomic file write
#include "cli_common.h"
#include "flow_metrics.h"
#include "user_error.h"
#include "run_config.h"
#include "wgf/wgf.h"

namespace wgf_cli {

int cmd_em(int argc, char** argv) {
    CLI::App app{"wgf em: Euler-Maruyama + KDE baselines for a wgf run config", "wgf em"};
    configure_app(app);
    std::string config, json_path;
    std::vector<std::int64_t> particles = {1000, 10000, 50000};
    double dt = 1e-3;
    std::int64_t eval = 10000, energy_points = 4096;
    std::uint64_t seed = 0;
    std::vector<std::string> overrides;
    app.add_option("config", config, "the TOML file describing the flow (docs/RUN.md)")->required();
    add_list_option(app, "--particles", particles, "particle counts", integer_in(2, 100000000));
    app.add_option("--dt", dt, "Euler-Maruyama step (the reference: 1e-3)")
        ->capture_default_str()
        ->check(positive_real());
    app.add_option("--eval", eval, "samples per KL term, at most the particle count (the reference: 1000/10000/10000)")
        ->capture_default_str()
        ->transform(integer_in(2, 100000000));
    app.add_option("--energy-points", energy_points, "points per side in the energy distance (0: skip it)")
        ->capture_default_str()
        ->transform(integer_in(0, 1000000));
    app.add_option("--seed", seed, "random seed of the simulation")->capture_default_str()->transform(seed_value());
    app.add_option("--set", overrides, "section.key=value: override a config value (TOML syntax)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);  // repeatable
    const CLI::Option* opt_json =
        app.add_option("--json", json_path, "write the results as JSON (atomically, after the last run)");
    if (const int rc = parse_command_line(app, "em", argc, argv); rc >= 0) return rc;
    if (opt_json->count() > 0) check_output_path("--json", json_path);  // an empty path is refused too
    const RunConfig cfg = load_run_config(config, overrides);
    const double t = cfg.jko.tau * cfg.jko.steps;
    WGF_USER_CHECK(t / dt <= 1e9, "--dt " << dt << ": " << t / dt << " Euler-Maruyama steps to reach t = " << t
                                          << " (at most 1e9)");
    std::string what;
    const auto target = reference_law(cfg, t, &what);
    const auto potential = make_run_potential<double>(cfg);
    wgf::Context ctx(wgf::Backend::Host, cfg.threads);
    nlohmann::json runs = nlohmann::json::array();
    std::printf("%-10s %12s %12s %12s %12s %12s %10s %10s\n", "particles", "SymKL", "KL(m||p)", "KL(p||m)", "energy",
                "mode SymKL", "sim s", "est s");
    for (std::int64_t n : particles) {
        using clock = std::chrono::steady_clock;
        wgf::Rng rng(seed * 1000003ull + static_cast<std::uint64_t>(n));
        const auto t0 = clock::now();
        const std::vector<double> x = wgf::euler_maruyama(ctx, *potential, *cfg.initial, n, cfg.jko.beta, dt, t, rng);
        const double sim = std::chrono::duration<double>(clock::now() - t0).count();
        const auto t1 = clock::now();
        const wgf::GaussianKde kde(x, cfg.dim);
        const FlowMetrics m = kde_metrics(kde, x, *target, std::min(eval, n), rng, energy_points);
        const double est = std::chrono::duration<double>(clock::now() - t1).count();
        std::printf("%-10lld %12.4g %12.4g %12.4g %12.4g %12.4g %10.1f %10.1f\n", static_cast<long long>(n), m.kl.sym(),
                    m.kl.kl_model_target, m.kl.kl_target_model, m.energy, m.mode_sym_kl, sim, est);
        std::fflush(stdout);
        runs.push_back({{"particles", n},
                        {"sym_kl", m.kl.sym()},
                        {"kl_model_target", m.kl.kl_model_target},
                        {"kl_target_model", m.kl.kl_target_model},
                        {"energy_distance", m.energy},
                        {"eval_samples", m.samples},
                        {"mode_sym_kl", m.mode_sym_kl},
                        {"model_modes", m.model_modes},
                        {"target_modes", m.target_modes},
                        {"simulate_seconds", sim},
                        {"estimate_seconds", est}});
    }
    if (!json_path.empty()) {
        const nlohmann::json out = {{"config", config}, {"dim", cfg.dim}, {"t", t}, {"dt", dt}, {"reference", what},
                                    {"runs", runs}};
        wgf::detail::write_file_atomic(json_path, out.dump(2) + "\n");
    }
    return 0;
}

}  // namespace wgf_cli

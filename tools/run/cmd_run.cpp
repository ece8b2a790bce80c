// cmd_run.cpp — `wgf run CONFIG`: any flow from a TOML file (run_config.h). Trains the JKO flow with
// per-step checkpoints (a rerun resumes), then writes, for each output step, samples with their
// log-densities, log-densities at the user's points, and the metrics against the reference law when
// one is known (.npy files and summary.json in the output folder), and the whole flow.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "binary_io.h"  // the library's atomic file write
#include "cli_common.h"
#include "user_error.h"
#include "flow_metrics.h"
#include "npy.h"
#include "progress.h"
#include "run_config.h"
#include "wgf/wgf.h"


namespace wgf_cli {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

std::string step_name(int k) {
    std::ostringstream os;
    os << "step-" << std::setw(5) << std::setfill('0') << k;
    return os.str();
}

double finite_or_null(double v) { return v; }  // nlohmann writes NaN as null

// Outputs at step k: samples + log-densities, log-densities at the user's points, metrics.
template <typename T>
json outputs_at(wgf::Context& ctx, const wgf::Flow<T>& flow, int k, const RunConfig& cfg, const NpyArray* points,
                Progress& progress) {
    const int D = cfg.dim;
    json o;
    o["step"] = k;
    o["t"] = flow.time(k);
    const std::string base = cfg.out_dir + "/" + step_name(k);
    if (cfg.samples > 0) {
        wgf::Rng rng(cfg.jko.seed * 0x9E3779B97F4A7C15ull + 101 + static_cast<std::uint64_t>(k));
        std::vector<double> logp;
        const std::vector<T> xs = flow.sample(ctx, k, cfg.samples, rng, &logp);
        npy_write(base + "-samples.npy", std::vector<double>(xs.begin(), xs.end()), {cfg.samples, D});
        npy_write(base + "-logp.npy", logp, {cfg.samples});
        o["samples"] = step_name(k) + "-samples.npy";
        o["logp"] = step_name(k) + "-logp.npy";
        if (cfg.metrics) {  // as many samples of the law the metrics compare with (figures side by side)
            const auto ref = reference_law(cfg, flow.time(k), nullptr);
            npy_write(base + "-reference-samples.npy", ref->sample(cfg.samples, rng), {cfg.samples, D});
            o["reference_samples"] = step_name(k) + "-reference-samples.npy";
        }
    }
    if (points != nullptr) {
        wgf::InverseReport rep;
        const std::vector<double> lp = flow.log_density(ctx, k, points->data, wgf::InverseOptions{}, &rep);
        npy_write(base + "-points-logp.npy", lp, {static_cast<std::int64_t>(lp.size())});
        o["points_logp"] = step_name(k) + "-points-logp.npy";
        o["points_inverse_failures"] = rep.failures();
        if (rep.failures() > 0)
            progress.note("wgf run: step " + std::to_string(k) + ": the inverse maps did not converge at " +
                          std::to_string(rep.failures()) + " of the points (NaN in points-logp)");
    }
    if (cfg.metrics) {
        std::string what;
        const auto ref = reference_law(cfg, flow.time(k), &what);
        wgf::Rng rng(cfg.jko.seed * 0x9E3779B97F4A7C15ull + 202 + static_cast<std::uint64_t>(k));
        const FlowMetrics m = flow_metrics(ctx, flow, k, *ref, cfg.metric_samples, rng, std::min<std::int64_t>(cfg.metric_samples, 4096));
        o["metrics"] = {{"reference", what},
                        {"sym_kl", finite_or_null(m.kl.sym())},
                        {"kl_model_target", finite_or_null(m.kl.kl_model_target)},
                        {"kl_target_model", finite_or_null(m.kl.kl_target_model)},
                        {"energy_distance", finite_or_null(m.energy)},
                        {"samples", m.samples},
                        {"inverse_failures", m.inverse_failures},
                        {"outside_support", m.outside_support}};
        if (!m.model_modes.empty()) {
            o["metrics"]["mode_sym_kl"] = m.mode_sym_kl;
            o["metrics"]["model_modes"] = m.model_modes;
            o["metrics"]["target_modes"] = m.target_modes;
        }
        std::ostringstream line;
        line << "step " << k << " (t = " << flow.time(k) << "): SymKL " << m.kl.sym() << " against the " << what
             << " law, energy distance " << m.energy;
        if (m.inverse_failures > 0) line << " (" << m.inverse_failures << " inverse failures dropped)";
        if (m.outside_support > 0)
            line << " (" << m.outside_support << " of " << m.samples << " reference samples lie outside ρ^k's support: "
                 << "KL(reference‖model) = inf)";
        progress.note(line.str());
    }
    return o;
}

// KL(ρ^k‖reference law at t_k) on one fixed batch of ρ⁰ samples, pushed one map further per step
// (PAPER-SPEC §7.2: the reference logs it on a fixed X_test). The mean of log ρ^k − log π over the
// batch; the batch follows the flow incrementally, so the cost is one push per step.
template <typename T>
class StepKl {
public:
    StepKl(const RunConfig& cfg) : m_cfg(cfg), m_n(cfg.step_kl_samples) {}
    bool enabled() const { return m_n > 0; }
    double at(wgf::Context& ctx, const wgf::Flow<T>& flow, int k) {
        if (m_x.empty()) {  // first call (also after a resume): the same fixed batch, pushed to step k
            wgf::Rng rng(m_cfg.jko.seed * 0x9E3779B97F4A7C15ull + 303);
            m_x = flow.sample(ctx, k, m_n, rng, &m_logp);
        } else {
            flow.push(ctx, m_at, k, m_x.data(), m_n, m_logp.data());
        }
        m_at = k;
        const auto ref = reference_law(m_cfg, flow.time(k), nullptr);
        const std::vector<double> lpi = ref->log_density(std::vector<double>(m_x.begin(), m_x.end()));
        double sum = 0;
        for (std::int64_t i = 0; i < m_n; ++i) sum += m_logp[static_cast<std::size_t>(i)] - lpi[static_cast<std::size_t>(i)];
        return sum / static_cast<double>(m_n);
    }

private:
    const RunConfig& m_cfg;
    std::int64_t m_n;
    int m_at = 0;
    std::vector<T> m_x;
    std::vector<double> m_logp;
};

// What the checkpoints depend on: a rerun may extend the steps or change the outputs, not these.
json training_fingerprint(const RunConfig& cfg) {
    json schedule = json::array();
    for (const auto& p : cfg.jko.lr_schedule) schedule.push_back({p.first, p.second});
    json fp = {{"dim", cfg.dim},
            {"precision", cfg.use_double ? "double" : "float"},
            {"potential", {{"kind", cfg.potential_kind}, {"A", cfg.A}, {"m", cfg.m}, {"weights", cfg.weights},
                           {"means", cfg.means}, {"covariances", cfg.covs}}},
            {"initial", cfg.initial->describe()},
            {"tau", cfg.jko.tau},
            {"beta", cfg.jko.beta},
            {"seed", cfg.jko.seed},
            {"network", cfg.shape.describe()},
            {"training", {{"iterations", cfg.jko.iterations}, {"batch", cfg.jko.batch}, {"lr", cfg.jko.lr},
                          {"lr_schedule", schedule}, {"init", cfg.jko.init == wgf::JkoInit::Pretrain ? "pretrain" : "identity"},
                          {"pretrain_iterations", cfg.jko.pretrain_iterations}, {"pretrain_lr", cfg.jko.pretrain_lr},
                          {"weight_decay", cfg.jko.weight_decay}, {"pretrain_weight_decay", cfg.jko.pretrain_weight_decay},
                          {"pool", cfg.jko.sample_pool}, {"pool_size", cfg.jko.pool_size}}}};
    // Recorded only when set, so that checkpoints written before the option existed still resume.
    if (cfg.jko.lr_end_ratio != 1.0) fp["training"]["lr_end_ratio"] = cfg.jko.lr_end_ratio;
    if (cfg.jko.average_tail != 0.0) fp["training"]["average_tail"] = cfg.jko.average_tail;
    if (cfg.jko.carry_pool) fp["training"]["carry_pool"] = true;
    if (cfg.jko.divergence_retries != wgf::JkoOptions{}.divergence_retries)
        fp["training"]["divergence_retries"] = cfg.jko.divergence_retries;
    return fp;
}

// Fresh start: record the fingerprint beside the checkpoints. Resume: refuse checkpoints made with
// another configuration (they would silently continue another flow).
void check_or_record_fingerprint(const RunConfig& cfg, bool resuming) {
    if (cfg.jko.checkpoint_dir.empty()) return;
    const std::string path = cfg.jko.checkpoint_dir + "/run-config.json";
    const json now = training_fingerprint(cfg);
    if (!resuming) {
        std::filesystem::create_directories(cfg.jko.checkpoint_dir);
        wgf::detail::write_file_atomic(path, now.dump(2) + "\n");
        return;
    }
    std::ifstream in(path);
    WGF_USER_CHECK(in.good(), cfg.file << ": the checkpoints in '" << cfg.jko.checkpoint_dir << "' have no run-config.json; "
                                  << "they were not made by wgf run: use another [output] dir");
    json before;
    try {
        before = json::parse(in);
    } catch (const json::exception& e) {
        WGF_USER_CHECK(false, path << " is damaged (" << e.what() << ")");
    }
    std::string diff;
    for (const auto& [key, value] : now.items())
        if (!before.contains(key) || before[key] != value) diff += (diff.empty() ? "" : ", ") + key;
    WGF_USER_CHECK(diff.empty(), cfg.file << ": the checkpoints in '" << cfg.jko.checkpoint_dir
                                     << "' were made with another configuration (" << diff
                                     << " differ); a rerun may only change [flow] steps and [output]: use another "
                                     << "[output] dir or remove that one");
}

template <typename T>
int run_typed(const RunConfig& cfg, bool quiet) {
    const auto t_start = clock_type::now();
    const wgf::Backend backend = cfg.backend == "host"   ? wgf::Backend::Host
                                 : cfg.backend == "cuda" ? wgf::Backend::Cuda
                                                         : wgf::default_backend();
    wgf::Context ctx(backend, cfg.threads);
    // The output folders can be created and written before any training (not only at the first checkpoint).
    prepare_output_dir("[output] dir", cfg.out_dir);
    if (!cfg.jko.checkpoint_dir.empty()) prepare_output_dir("[output] checkpoints", cfg.jko.checkpoint_dir);
    NpyArray points;
    if (!cfg.points.empty()) {
        points = npy_read(cfg.points);
        const std::int64_t last = points.shape.back();
        WGF_USER_CHECK((points.shape.size() == 2 && last == cfg.dim) || (points.shape.size() == 1 && cfg.dim == 1),
                  cfg.file << ": [output] points: '" << cfg.points << "' must be an array of shape (n, " << cfg.dim << ")");
    }
    const auto potential = make_run_potential<T>(cfg);
    wgf::JkoSolver<T> solver(ctx, cfg.shape, potential, cfg.jko);
    // Checkpoints of another configuration are refused before the solver reads them, with the config
    // keys that differ (the solver's own check names its settings, not the config's keys).
    const bool has_checkpoints = !cfg.jko.checkpoint_dir.empty() &&
                                 std::filesystem::exists(cfg.jko.checkpoint_dir + "/step-00000.wgfstep");
    if (has_checkpoints) check_or_record_fingerprint(cfg, true);
    wgf::Flow<T> flow = solver.resume_or_start(cfg.initial);
    const int resumed = flow.steps();
    if (!has_checkpoints || resumed == 0) check_or_record_fingerprint(cfg, resumed > 0);
    Progress progress(cfg.jko.steps, resumed, stderr, quiet);
    progress.note("wgf run " + cfg.file + ": D = " + std::to_string(cfg.dim) + ", " + ctx.describe() + ", " +
                  (cfg.use_double ? "double" : "float") + ", ICNN " + cfg.shape.describe() + "; Φ: " +
                  potential->describe() + "; ρ⁰: " + cfg.initial->describe() +
                  (resumed > 0 ? "; resuming after step " + std::to_string(resumed) : ""));
    json steps = json::array();
    StepKl<T> step_kl(cfg);
    solver.run(flow, [&](const wgf::JkoStepReport& r) {
        json s = {{"step", r.step + 1},
                  {"t", r.time},
                  {"loss_first", r.loss_first},
                  {"loss_last", r.loss_last},
                  {"lr", r.lr},
                  {"seconds", r.seconds},
                  {"loss_rise", r.loss_rise},
                  {"retries", r.retries},
                  {"diverged", r.diverged}};
        if (r.retries > 0 || r.diverged)
            progress.warn("JKO step " + std::to_string(r.step + 1) + " diverged and was redone " + std::to_string(r.retries) +
                          " time(s)" + (r.diverged ? "; every attempt diverged, the least bad map is kept" : ""));
        if (step_kl.enabled()) s["kl_model_target_test"] = step_kl.at(ctx, flow, r.step + 1);
        steps.push_back(s);
        progress.step(r.step + 1, r.time, r.loss_last, r.seconds);
    });
    progress.finish();
    const double train_seconds = std::chrono::duration<double>(clock_type::now() - t_start).count();
    if (cfg.save_flow) flow.save(cfg.out_dir + "/flow.wgfflow");

    const auto t_out = clock_type::now();
    json outputs = json::array();
    for (int k : cfg.at_steps) outputs.push_back(outputs_at(ctx, flow, k, cfg, cfg.points.empty() ? nullptr : &points, progress));
    json summary = {
        {"wgf_version", std::to_string(WGF_VERSION_MAJOR) + "." + std::to_string(WGF_VERSION_MINOR) + "." +
                            std::to_string(WGF_VERSION_PATCH)},
        {"config", cfg.file},
        {"dim", cfg.dim},
        {"precision", cfg.use_double ? "double" : "float"},
        {"context", ctx.describe()},
        {"potential", potential->describe()},
        {"initial", cfg.initial->describe()},
        {"network", cfg.shape.describe()},
        {"tau", cfg.jko.tau},
        {"beta", cfg.jko.beta},
        {"steps", flow.steps()},
        {"resumed_after_step", resumed},
        {"training", {{"seconds", train_seconds}, {"pretrain_seconds", solver.pretrain_seconds()}, {"per_step", steps}}},
        {"outputs", outputs},
        {"output_seconds", std::chrono::duration<double>(clock_type::now() - t_out).count()},
        {"flow", cfg.save_flow ? "flow.wgfflow" : ""},
        {"points", cfg.points.empty() ? "" : std::filesystem::absolute(cfg.points).string()},
    };
    wgf::detail::write_file_atomic(cfg.out_dir + "/summary.json", summary.dump(2) + "\n");
    progress.note("wgf run: " + std::to_string(flow.steps()) + " steps, " + format_duration(train_seconds) +
                  " training; outputs in " + cfg.out_dir + "/ (summary.json)");
    return 0;
}

}  // namespace

int cmd_run(int argc, char** argv) {
    CLI::App app{"wgf run: a JKO flow from a TOML config (docs/RUN.md)", "wgf run"};
    configure_app(app);
    std::string config;
    bool check = false, quiet = false;
    std::vector<std::string> overrides;
    app.add_option("config", config, "the TOML file describing the flow")->required();
    app.add_option("--set", overrides, "section.key=value: override a config value (TOML syntax), repeatable")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);  // repeatable
    app.add_flag("--check", check, "read and check the config, then stop (no training)");
    app.add_flag("--quiet", quiet, "no progress output");
    if (const int rc = parse_command_line(app, "run", argc, argv); rc >= 0) return rc;
    const RunConfig cfg = load_run_config(config, overrides);
    if (check) {
        std::cout << config << ": ok (D = " << cfg.dim << ", " << cfg.jko.steps << " steps, outputs in " << cfg.out_dir
                  << ")\n";
        return 0;
    }
    return cfg.use_double ? run_typed<double>(cfg, quiet) : run_typed<float>(cfg, quiet);
}

}  // namespace wgf_cli

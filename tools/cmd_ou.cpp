// cmd_ou.cpp — `wgf ou`: the Ornstein–Uhlenbeck validation (PAPER-SPEC §7.3) end to end: for each
// dimension and random instance, train a JKO flow, measure SymKL against the closed-form marginal
// at the evaluation times, and print the medians next to the reference's, with wall times.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "binary_io.h"  // the library's atomic file write
#include "cli_common.h"
#include "ou_experiment.h"
#include "run/user_error.h"
#include "wgf/context.h"

namespace wgf_cli {

namespace {
double median(std::vector<double> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

int cmd_ou(int argc, char** argv) {
    CLI::App app{"wgf ou: Ornstein-Uhlenbeck validation against the closed-form marginal (PAPER-SPEC 7.3)", "wgf ou"};
    configure_app(app);
    OuConfig cfg;
    std::vector<int> dims = {2};
    int instances = 3, first_instance = 0;
    std::uint64_t seed = 0;
    std::string init = "pretrain", pool = "on", precision = "float", backend = "auto", json_path, ckpt;
    std::vector<double> eval_times = {0.5, 0.9};
    bool quiet = false;
    const auto count = [](std::int64_t lo, std::int64_t hi) { return integer_in(lo, hi); };
    add_list_option(app, "--dims", dims, "dimensions D, comma-separated", count(1, 100000));
    app.add_option("--instances", instances, "random instances per D")
        ->capture_default_str()
        ->transform(count(1, 1000000));
    // With these bounds first-instance + instances stays far below INT_MAX.
    app.add_option("--first-instance", first_instance, "index of the first instance")
        ->capture_default_str()
        ->transform(count(0, 1000000000));
    app.add_option("--seed", seed, "seed of the instances and of training")
        ->capture_default_str()
        ->transform(seed_value());
    app.add_option("--width", cfg.width, "ICNN width W")->capture_default_str()->transform(count(1, 65536));
    app.add_option("--depth", cfg.depth, "ICNN layers L")->capture_default_str()->transform(count(1, 64));
    app.add_option("--rank", cfg.rank, "rank of the quadratic forms")->capture_default_str()->transform(count(1, 4096));
    app.add_option("--tau", cfg.jko.tau, "JKO step")->capture_default_str()->check(positive_real());
    app.add_option("--steps", cfg.jko.steps, "JKO steps")->capture_default_str()->transform(count(1, 1000000));
    app.add_option("--iterations", cfg.jko.iterations, "Adam iterations per step")
        ->capture_default_str()
        ->transform(count(1, 100000000));
    app.add_option("--batch", cfg.jko.batch, "points per iteration N")
        ->capture_default_str()
        ->transform(count(1, 100000000));
    app.add_option("--lr", cfg.jko.lr, "learning rate (also of pretraining)")
        ->capture_default_str()
        ->check(positive_real());
    app.add_option("--beta", cfg.beta, "inverse temperature")->capture_default_str()->check(positive_real());
    app.add_option("--init", init, "first map: pretrain (identity regression), identity (exact construction) or spread (identity with "
                   "ridge units whose kinks are spread over rho0's samples)")
        ->capture_default_str()
        ->check(CLI::IsMember({"pretrain", "identity", "spread"}));
    app.add_option("--pool", pool, "on: a sample pool per step; off: the reference's re-push")
        ->capture_default_str()
        ->check(CLI::IsMember({"on", "off"}));
    app.add_option("--pool-size", cfg.jko.pool_size, "points in the pool (0: 16 x batch)")
        ->capture_default_str()
        ->transform(count(0, 1000000000));
    app.add_option("--pretrain-iterations", cfg.jko.pretrain_iterations, "pretraining iterations")
        ->capture_default_str()
        ->transform(count(0, 100000000));
    app.add_option("--eval-points", cfg.eval_points, "samples per KL term")
        ->capture_default_str()
        ->transform(count(2, 100000000));
    add_list_option(app, "--eval-times", eval_times, "times t = k tau (0 <= k <= steps) where SymKL is measured",
                    real_in(0.0));
    app.add_option("--precision", precision, "float or double maps")
        ->capture_default_str()
        ->check(CLI::IsMember({"float", "double"}));
    app.add_option("--threads", cfg.host_threads, "host threads (0: all cores)")
        ->capture_default_str()
        ->transform(count(0, 4096));
    app.add_option("--backend", backend, "auto (the CUDA device when one is visible), host or cuda")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "host", "cuda"}));
    const CLI::Option* opt_ckpt =
        app.add_option("--checkpoint-dir", ckpt, "one step file per JKO step under DIR/ou-dD-iI; a rerun resumes");
    const CLI::Option* opt_json =
        app.add_option("--json", json_path, "write the results as JSON (after the last instance)");
    app.add_flag("--quiet", quiet, "no per-step progress");
    const int rc = parse_command_line(app, "ou", argc, argv, [&] {
        const double tau = cfg.jko.tau, end = cfg.jko.steps * tau;
        if (!std::isfinite(end)) throw CLI::ValidationError("--tau", "steps x tau is not finite");
        // Every requested time must be one of the flow's times k·τ, up to rounding.
        cfg.eval_steps.clear();
        for (const double t : eval_times) {
            std::ostringstream why;
            if (t > end * (1 + 1e-9)) {
                why << t << " is after the last step (steps x tau = " << end << ")";
            } else {
                const double k = std::round(t / tau);
                if (std::fabs(t / tau - k) > 1e-6) why << t << " is not a multiple of tau = " << tau << " (the flow has "
                                                       << "no time between steps)";
                else if (std::count(cfg.eval_steps.begin(), cfg.eval_steps.end(), static_cast<int>(k)) > 0)
                    why << t << " is given twice";
                else cfg.eval_steps.push_back(static_cast<int>(k));
            }
            if (!why.str().empty()) throw CLI::ValidationError("--eval-times", why.str());
        }
    });
    if (rc >= 0) return rc;
    cfg.jko.pretrain_lr = cfg.jko.lr;
    cfg.jko.init = init == "pretrain"   ? wgf::JkoInit::Pretrain
                   : init == "identity" ? wgf::JkoInit::Identity
                                        : wgf::JkoInit::Spread;
    cfg.jko.sample_pool = pool == "on";
    cfg.use_double = precision == "double";
    cfg.backend = backend == "auto"   ? wgf::default_backend()
                  : backend == "cuda" ? wgf::Backend::Cuda
                                      : wgf::Backend::Host;
    WGF_USER_CHECK(cfg.backend == wgf::Backend::Host || wgf::cuda_available(),
                   "--backend cuda: no CUDA device is visible (or wgf was built without CUDA)");
    const bool verbose = !quiet;
    const auto instance_dir = [&](int D, int i) { return ckpt + "/ou-d" + std::to_string(D) + "-i" + std::to_string(i); };

    // Everything that can be checked is checked before the first instance trains: the output file's
    // folder can be written, the checkpoint folders can be created and written.
    if (opt_json->count() > 0) check_output_path("--json", json_path);  // an empty path is refused too
    if (opt_ckpt->count() > 0) {
        prepare_output_dir("--checkpoint-dir", ckpt);
        for (int D : dims)
            for (int i = first_instance; i < first_instance + instances; ++i) {
                std::error_code ec;
                const std::string dir = instance_dir(D, i);
                WGF_USER_CHECK(!std::filesystem::exists(dir, ec) || std::filesystem::is_directory(dir, ec),
                               "--checkpoint-dir: '" << dir << "' exists and is not a folder");
            }
    }
    std::vector<double> label_times;  // the times of the evaluated steps: the columns' headers
    for (int k : cfg.eval_steps) label_times.push_back(k * cfg.jko.tau);
    const auto time_text = [](double t) {
        std::ostringstream os;
        os << std::setprecision(6) << t;
        return os.str();
    };

    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    std::cout << "# wgf ou: tau=" << cfg.jko.tau << " steps=" << cfg.jko.steps << " iterations=" << cfg.jko.iterations
              << " N=" << cfg.jko.batch << " W=" << cfg.width << " L=" << cfg.depth << " r=" << cfg.rank
              << " init=" << init << " pool=" << pool << " precision=" << precision << " beta=" << cfg.beta << "\n"
              << "# backend: " << wgf::Context(cfg.backend, cfg.host_threads).describe() << "\n";
    std::cout << std::setw(3) << "D" << std::setw(5) << "inst";
    std::vector<int> column;  // each time's column width: its header and a space
    for (double t : label_times) {
        const std::string header = "SymKL@" + time_text(t);
        column.push_back(std::max<int>(12, static_cast<int>(header.size()) + 2));
        std::cout << std::setw(column.back()) << header;
    }
    std::cout << std::setw(11) << "train s" << std::setw(10) << "eval s" << std::setw(10) << "inv.fail" << "\n";
    for (int D : dims) {
        std::vector<std::vector<double>> per_time(cfg.eval_steps.size());
        std::vector<double> train_s;
        for (int i = first_instance; i < first_instance + instances; ++i) {
            OuConfig c = cfg;
            c.dim = D;
            if (!ckpt.empty()) c.jko.checkpoint_dir = instance_dir(D, i);
            std::ostringstream what;
            what << "the flow of D = " << D << ", instance " << i << " (batch " << c.jko.batch << ", pool "
                 << (c.jko.sample_pool ? (c.jko.pool_size > 0 ? c.jko.pool_size : 16 * c.jko.batch) : 0) << " points, "
                 << c.eval_points << " evaluation points, W = " << c.width << ")";
            const OuResult r = allocating(what.str(), [&] { return run_ou_instance(c, i, seed, verbose); });
            WGF_CHECK(r.steps == cfg.eval_steps, "the OU driver evaluated other steps than asked");
            std::cout << std::setw(3) << D << std::setw(5) << i;
            std::int64_t fails = 0;
            nlohmann::ordered_json evaluations = nlohmann::ordered_json::array();
            for (std::size_t k = 0; k < r.sym_kl.size(); ++k) {
                std::cout << std::setw(column[k]) << std::setprecision(4) << r.sym_kl[k];
                per_time[k].push_back(r.sym_kl[k]);
                fails += r.inverse_failures[k];
                evaluations.push_back({{"t", r.times[k]},
                                       {"step", r.steps[k]},
                                       {"sym_kl", r.sym_kl[k]},
                                       {"kl_model_target", r.kl_model_target[k]},
                                       {"kl_target_model", r.kl_target_model[k]},
                                       {"inverse_failures", r.inverse_failures[k]}});
            }
            std::cout << std::setw(11) << std::fixed << std::setprecision(1) << r.train_seconds << std::setw(10)
                      << r.eval_seconds << std::setw(10) << fails << std::defaultfloat << "\n"
                      << std::flush;
            train_s.push_back(r.train_seconds);
            // The per-time arrays (one entry per evaluation, in order) and the same numbers keyed
            // by their time in "evaluations". NaN is written as null.
            results.push_back({{"dim", D},
                               {"instance", i},
                               {"train_seconds", r.train_seconds},
                               {"pretrain_seconds", r.pretrain_seconds},
                               {"eval_seconds", r.eval_seconds},
                               {"times", r.times},
                               {"steps", r.steps},
                               {"sym_kl", r.sym_kl},
                               {"kl_model_target", r.kl_model_target},
                               {"kl_target_model", r.kl_target_model},
                               {"inverse_failures", r.inverse_failures},
                               {"evaluations", evaluations}});
        }
        std::cout << "median D=" << D << ":";
        for (std::size_t k = 0; k < label_times.size(); ++k) {
            std::cout << "  t=" << time_text(label_times[k]) << " SymKL " << std::setprecision(3) << median(per_time[k]);
            const double ref = reference_ou_median(D, label_times[k]);
            if (std::isfinite(ref)) std::cout << " (reference " << ref << ")";
        }
        std::cout << "  train " << std::fixed << std::setprecision(1) << median(train_s) << " s/run" << std::defaultfloat
                  << "\n";
    }
    // Only a complete run writes the file, atomically: a failure leaves an existing file as it was.
    if (opt_json->count() > 0) wgf::detail::write_file_atomic(json_path, results.dump(2) + "\n");
    return 0;
}

}  // namespace wgf_cli

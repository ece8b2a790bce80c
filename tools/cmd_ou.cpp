// cmd_ou.cpp — `wgf ou`: the Ornstein–Uhlenbeck validation (PAPER-SPEC §7.3) end to end: for each
// dimension and random instance, train a JKO flow, measure SymKL against the closed-form marginal
// at the evaluation times, and print the medians next to the reference's, with wall times.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>

#include "cli_args.h"
#include "wgf/context.h"
#include "ou_experiment.h"

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
    const Args a(argc, argv, 2,
                 {"dims", "instances", "seed", "width", "depth", "rank", "tau", "steps", "iterations", "batch", "lr",
                  "init", "pool", "pool-size", "pretrain-iterations", "eval-points", "eval-times", "precision", "threads",
                  "beta", "json", "checkpoint-dir", "first-instance", "backend"},
                 {"quiet"});
    OuConfig cfg;
    cfg.width = static_cast<int>(a.integer("width", 64));
    cfg.depth = static_cast<int>(a.integer("depth", 2));
    cfg.rank = static_cast<int>(a.integer("rank", 5));
    cfg.beta = a.real("beta", 1.0);
    cfg.jko.tau = a.real("tau", 0.05);
    cfg.jko.steps = static_cast<int>(a.integer("steps", 20));
    cfg.jko.iterations = static_cast<int>(a.integer("iterations", 500));
    cfg.jko.batch = a.integer("batch", 1024);
    cfg.jko.lr = a.real("lr", 5e-3);
    cfg.jko.pretrain_lr = cfg.jko.lr;
    cfg.jko.pretrain_iterations = static_cast<int>(a.integer("pretrain-iterations", 4000));
    const std::string init = a.str("init", "pretrain");
    WGF_CHECK(init == "pretrain" || init == "identity", "--init must be pretrain or identity, got '" << init << "'");
    cfg.jko.init = init == "pretrain" ? wgf::JkoInit::Pretrain : wgf::JkoInit::Identity;
    const std::string pool = a.str("pool", "on");
    WGF_CHECK(pool == "on" || pool == "off", "--pool must be on or off, got '" << pool << "'");
    cfg.jko.sample_pool = pool == "on";
    cfg.jko.pool_size = a.integer("pool-size", 0);
    cfg.eval_points = a.integer("eval-points", 8192);
    if (a.has("eval-times")) cfg.eval_times = a.real_list("eval-times");
    const std::string precision = a.str("precision", "float");
    WGF_CHECK(precision == "float" || precision == "double", "--precision must be float or double");
    cfg.use_double = precision == "double";
    cfg.host_threads = static_cast<int>(a.integer("threads", 0));
    const std::string backend = a.str("backend", "auto");  // auto: CUDA when a device is visible
    WGF_CHECK(backend == "auto" || backend == "host" || backend == "cuda",
              "--backend must be auto, host or cuda, got '" << backend << "'");
    cfg.backend = backend == "auto" ? wgf::default_backend() : backend == "cuda" ? wgf::Backend::Cuda : wgf::Backend::Host;
    WGF_CHECK(cfg.backend == wgf::Backend::Host || wgf::cuda_available(),
              "--backend cuda: no CUDA device is visible (or wgf was built without CUDA)");
    const std::vector<int> dims = a.has("dims") ? a.int_list("dims") : std::vector<int>{2};
    const int instances = static_cast<int>(a.integer("instances", 3));
    WGF_CHECK(instances >= 1, "--instances must be >= 1");
    const int first_instance = static_cast<int>(a.integer("first-instance", 0));
    WGF_CHECK(first_instance >= 0, "--first-instance must be >= 0");
    const std::uint64_t seed = static_cast<std::uint64_t>(a.integer("seed", 0));
    const bool verbose = !a.has("quiet");
    const std::string ckpt = a.str("checkpoint-dir", "");

    std::ofstream json;
    if (a.has("json")) {
        json.open(a.str("json"));
        WGF_CHECK(json.good(), "cannot create '" << a.str("json") << "'");
        json << "[\n";
    }
    bool first_json = true;
    std::cout << "# wgf ou: tau=" << cfg.jko.tau << " steps=" << cfg.jko.steps << " iterations=" << cfg.jko.iterations
              << " N=" << cfg.jko.batch << " W=" << cfg.width << " L=" << cfg.depth << " r=" << cfg.rank
              << " init=" << init << " pool=" << pool << " precision=" << precision << " beta=" << cfg.beta << "\n"
              << "# backend: " << wgf::Context(cfg.backend, cfg.host_threads).describe() << "\n";
    std::cout << std::setw(3) << "D" << std::setw(5) << "inst";
    for (double t : cfg.eval_times) std::cout << std::setw(12) << ("SymKL@" + std::to_string(t).substr(0, 4));
    std::cout << std::setw(11) << "train s" << std::setw(10) << "eval s" << std::setw(10) << "inv.fail" << "\n";
    for (int D : dims) {
        std::vector<std::vector<double>> per_time(cfg.eval_times.size());
        std::vector<double> train_s;
        for (int i = first_instance; i < first_instance + instances; ++i) {
            OuConfig c = cfg;
            c.dim = D;
            if (!ckpt.empty()) c.jko.checkpoint_dir = ckpt + "/ou-d" + std::to_string(D) + "-i" + std::to_string(i);
            const OuResult r = run_ou_instance(c, i, seed, verbose);
            std::cout << std::setw(3) << D << std::setw(5) << i;
            std::int64_t fails = 0;
            for (std::size_t k = 0; k < r.sym_kl.size(); ++k) {
                std::cout << std::setw(12) << std::setprecision(4) << r.sym_kl[k];
                per_time[k].push_back(r.sym_kl[k]);
                fails += r.inverse_failures[k];
            }
            std::cout << std::setw(11) << std::fixed << std::setprecision(1) << r.train_seconds << std::setw(10)
                      << r.eval_seconds << std::setw(10) << fails << std::defaultfloat << "\n"
                      << std::flush;
            train_s.push_back(r.train_seconds);
            if (json.is_open()) {
                json << (first_json ? "" : ",\n") << "  {\"dim\": " << D << ", \"instance\": " << i
                     << ", \"train_seconds\": " << r.train_seconds << ", \"pretrain_seconds\": " << r.pretrain_seconds
                     << ", \"eval_seconds\": " << r.eval_seconds << ", \"times\": [";
                for (std::size_t k = 0; k < r.times.size(); ++k) json << (k ? ", " : "") << r.times[k];
                json << "], \"sym_kl\": [";
                for (std::size_t k = 0; k < r.sym_kl.size(); ++k) json << (k ? ", " : "") << r.sym_kl[k];
                json << "], \"kl_model_target\": [";
                for (std::size_t k = 0; k < r.sym_kl.size(); ++k) json << (k ? ", " : "") << r.kl_model_target[k];
                json << "], \"kl_target_model\": [";
                for (std::size_t k = 0; k < r.sym_kl.size(); ++k) json << (k ? ", " : "") << r.kl_target_model[k];
                json << "], \"inverse_failures\": [";
                for (std::size_t k = 0; k < r.sym_kl.size(); ++k) json << (k ? ", " : "") << r.inverse_failures[k];
                json << "]}";
                first_json = false;
            }
        }
        std::cout << "median D=" << D << ":";
        for (std::size_t k = 0; k < cfg.eval_times.size(); ++k) {
            std::cout << "  t=" << cfg.eval_times[k] << " SymKL " << std::setprecision(3) << median(per_time[k]);
            const double ref = reference_ou_median(D, cfg.eval_times[k]);
            if (std::isfinite(ref)) std::cout << " (reference " << ref << ")";
        }
        std::cout << "  train " << std::fixed << std::setprecision(1) << median(train_s) << " s/run" << std::defaultfloat
                  << "\n";
    }
    if (json.is_open()) json << "\n]\n";
    return 0;
}

}  // namespace wgf_cli

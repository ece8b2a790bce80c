// cmd_filter.cpp — `wgf filter`: the nonlinear filtering study (paper §7.5, PAPER-SPEC §7.5). For
// each run: simulated observations (or the user's, --observations), the Chang–Cooper ground truth, the
// JKO filter and the bootstrap particle filter at several particle counts, each density on the grid
// written as .npy [2][n] (grid; density) and scored by SymKL against Chang–Cooper; a JSON summary with
// every run, block reports (MH acceptance, ESS, evidence) and the median/mean/worst over the runs.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

#include "binary_io.h"  // the library's atomic file write
#include "cli_common.h"
#include "npy.h"
#include "progress.h"
#include "user_error.h"
#include "wgf/wgf.h"

namespace wgf_cli {

namespace {

struct FilterSettings {
    int runs = 15, first_run = 0;
    std::string observations;  // a file: one run on the user's observations
    std::string out;
    std::vector<std::int64_t> particles = {100, 1000, 10000, 50000};
    bool jko = true;
    std::string sampler = "smc";
    std::string precision = "double";
    std::string init = "spread";
    int width = 64, depth = 2;
    int iterations = 500;
    std::int64_t batch = 1024, chains = 1024;
    int warmup = 50, thin = 2;
    double tau = 0.1, lr = 4e-3, lr_end_ratio = 0.1, average_tail = 0.3;
    int pretrain_iterations = 2000;
    int threads = 0;
    std::uint64_t seed = 0;
    bool quiet = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string run_name(int run) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "run-%02d", run);
    return buf;
}

void write_density(const std::string& path, const std::vector<double>& x, const std::vector<double>& p) {
    std::vector<double> data(x);
    data.insert(data.end(), p.begin(), p.end());
    npy_write(path, data, {2, static_cast<std::int64_t>(x.size())});
}

struct JkoRun {
    std::vector<double> density;
    double train_seconds = 0, eval_seconds = 0, log_evidence = 0;
    std::int64_t inverse_failures = 0;
    nlohmann::json blocks = nlohmann::json::array();
};

// The filter's density after block b (−1: at t_final) on the grid, normalised there (PAPER-SPEC §6.5:
// p = exp(lp − logsumexp(lp + log dx))); points whose inversion failed get 0 and are counted.
template <typename T>
std::vector<double> grid_density(const wgf::JkoFilter<T>& filter, const wgf::Grid1D& grid, int b, int run,
                                 std::int64_t* failures) {
    const std::vector<double> x = grid.nodes();
    wgf::InverseReport rep;
    const std::vector<double> lp = filter.log_density(x, &rep, b);
    if (failures) *failures = rep.failures();
    double mx = -std::numeric_limits<double>::infinity();
    for (double v : lp)
        if (!std::isnan(v)) mx = std::max(mx, v);
    WGF_USER_CHECK(mx > -std::numeric_limits<double>::infinity(),
                   run_name(run) << ": the JKO filter's density is zero or failed at every grid point");
    double z = 0;
    for (double v : lp)
        if (!std::isnan(v)) z += std::exp(v - mx) * grid.dx();
    std::vector<double> p(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) p[j] = std::isnan(lp[j]) ? 0.0 : std::exp(lp[j] - mx) / z;
    return p;
}

template <typename T>
JkoRun run_jko(const FilterSettings& s, const wgf::FilteringModel& model, const wgf::Observations& obs,
               const std::vector<std::vector<double>>& cc_posteriors, const wgf::Grid1D& grid, int run,
               Progress& progress) {
    JkoRun out;
    wgf::Context ctx(wgf::Backend::Host, s.threads);
    auto potential = std::make_shared<const wgf::FilteringReferencePotential<T>>();
    auto rho0 = std::make_shared<const wgf::Gaussian>(std::vector<double>{model.x0_mean},
                                                      std::vector<double>{model.x0_variance});
    wgf::JkoFilterOptions o;
    o.shape = wgf::IcnnShape::uniform(1, s.width, s.depth);
    o.jko.tau = s.tau;
    o.jko.beta = model.beta;
    o.jko.iterations = s.iterations;
    o.jko.batch = s.batch;
    o.jko.lr = s.lr;
    o.jko.lr_end_ratio = s.lr_end_ratio;
    o.jko.average_tail = s.average_tail;
    o.jko.init = s.init == "identity" ? wgf::JkoInit::Identity
                 : s.init == "spread"   ? wgf::JkoInit::Spread
                                        : wgf::JkoInit::Pretrain;
    o.jko.pretrain_iterations = s.pretrain_iterations;
    o.jko.seed = s.seed * 1000003ull + static_cast<std::uint64_t>(run) * 7919ull + 17;
    o.sampler = s.sampler == "reference" ? wgf::FilterSampler::Reference : wgf::FilterSampler::Smc;
    o.chains = s.chains;
    o.warmup_sweeps = s.warmup;
    o.thin_sweeps = s.thin;
    o.seed = s.seed * 1000003ull + static_cast<std::uint64_t>(run) * 7919ull + 29;
    wgf::JkoFilter<T> filter(ctx, potential, rho0, wgf::gaussian_observations(obs.values, 1, model.obs_variance), o);
    const auto t0 = std::chrono::steady_clock::now();
    int done = 0;
    filter.run(obs.times, model.t_final, [&](const wgf::FilterBlockReport& r) {
        done += r.steps;
        progress.step(done, r.t_end, r.loss_last, r.train_seconds + r.sample_seconds);
        std::ostringstream line;
        line << run_name(run) << " block " << r.block << " (t " << r.t_start << " -> " << r.t_end << "): train "
             << r.train_seconds << " s, sampler " << r.sample_seconds << " s, accept indep " << r.accept_independent
             << " rw " << r.accept_random_walk << ", ESS " << r.ess_fraction << ", unique starts " << r.unique_starts;
        progress.note(line.str());
        out.blocks.push_back({{"block", r.block},
                              {"t_start", r.t_start},
                              {"t_end", r.t_end},
                              {"observed", r.observed},
                              {"steps", r.steps},
                              {"train_seconds", r.train_seconds},
                              {"sample_seconds", r.sample_seconds},
                              {"loss_first", r.loss_first},
                              {"loss_last", r.loss_last},
                              {"ess_fraction", r.ess_fraction},
                              {"log_evidence_increment", r.log_evidence_increment},
                              {"accept_independent", r.accept_independent},
                              {"accept_random_walk", r.accept_random_walk},
                              {"random_walk_scale", r.random_walk_scale},
                              {"unique_starts", r.unique_starts}});
    });
    out.train_seconds = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    out.density = grid_density(filter, grid, -1, run, &out.inverse_failures);
    out.log_evidence = filter.log_evidence();
    out.eval_seconds = seconds_since(t1);
    // The filtering density after each observation, against Chang–Cooper's (where the error starts).
    for (int b = 0; b < filter.blocks(); ++b) {
        if (!filter.reports()[static_cast<std::size_t>(b)].observed) continue;
        const std::vector<double> p = grid_density(filter, grid, b, run, nullptr);
        out.blocks[static_cast<std::size_t>(b)]["sym_kl_after_update"] =
            wgf::grid_sym_kl(p, cc_posteriors[static_cast<std::size_t>(b)], grid.dx());
    }
    return out;
}

nlohmann::json stats(std::vector<double> v) {
    if (v.empty()) return nullptr;
    std::sort(v.begin(), v.end());
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    const std::size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return {{"median", median}, {"mean", mean}, {"worst", v.back()}, {"best", v.front()}, {"runs", n}};
}

}  // namespace

int cmd_filter(int argc, char** argv) {
    CLI::App app{"wgf filter: the nonlinear filtering study (paper 7.5): Chang-Cooper, the JKO filter and the bootstrap "
                 "particle filter on simulated or given observations",
                 "wgf filter"};
    configure_app(app);
    FilterSettings s;
    app.add_option("--runs", s.runs, "simulated runs (observations seeded by --seed and the run index)")
        ->capture_default_str()
        ->transform(integer_in(1, 10000));
    app.add_option("--first-run", s.first_run, "index of the first run")->capture_default_str()->transform(integer_in(0, 1000000));
    app.add_option("--observations", s.observations,
                   "filter these observations (a file in wgf's observation format, docs/FORMATS.md) instead of "
                   "simulated runs");
    app.add_option("--out", s.out, "output folder: run-NN/{observations.txt,cc.npy,jko.npy,bbf-N.npy}, summary.json")
        ->required();
    add_list_option(app, "--particles", s.particles, "bootstrap particle filter sizes (empty: none)",
                    integer_in(2, 100000000));
    app.add_flag("--no-jko{false}", s.jko, "skip the JKO filter (ground truth and particle filter only)");
    app.add_option("--sampler", s.sampler, "posterior path sampler: smc (wgf) or reference (independent MH)")
        ->capture_default_str()
        ->check(CLI::IsMember({"smc", "reference"}));
    app.add_option("--precision", s.precision, "of the maps")->capture_default_str()->check(CLI::IsMember({"float", "double"}));
    app.add_option("--init", s.init,
                   "of each block's first map: spread (identity with kinks spread over the samples), identity, or "
                   "pretrain (the reference)")
        ->capture_default_str()
        ->check(CLI::IsMember({"spread", "identity", "pretrain"}));
    app.add_option("--width", s.width, "ICNN width (the reference: 256)")->capture_default_str()->transform(integer_in(1, 65536));
    app.add_option("--depth", s.depth, "ICNN layers")->capture_default_str()->transform(integer_in(1, 64));
    app.add_option("--iterations", s.iterations, "Adam iterations per JKO step (the reference: 700)")
        ->capture_default_str()
        ->transform(integer_in(1, 10000000));
    app.add_option("--batch", s.batch, "points per iteration (the reference: 1024)")
        ->capture_default_str()
        ->transform(integer_in(1, 100000000));
    app.add_option("--tau", s.tau, "JKO step; observation times and t_final must be whole multiples")
        ->capture_default_str()
        ->check(positive_real());
    app.add_option("--lr", s.lr, "Adam learning rate (the reference: 4e-3)")->capture_default_str()->check(positive_real());
    app.add_option("--lr-end-ratio", s.lr_end_ratio, "in-step cosine decay of the learning rate to lr * ratio (1: constant)")
        ->capture_default_str()
        ->check(real_in(0.0, 1.0, true));
    app.add_option("--average-tail", s.average_tail, "fraction of each step's last iterations averaged (0: last iterate)")
        ->capture_default_str()
        ->check(real_in(0.0, 1.0));
    app.add_option("--pretrain-iterations", s.pretrain_iterations, "with --init pretrain")
        ->capture_default_str()
        ->transform(integer_in(0, 10000000));
    app.add_option("--chains", s.chains, "parallel MH chains of the path sampler (the reference: 1024)")
        ->capture_default_str()
        ->transform(integer_in(2, 1 << 26));
    app.add_option("--warmup", s.warmup, "MH sweeps after each block before draws (the reference: 1000)")
        ->capture_default_str()
        ->transform(integer_in(0, 1000000));
    app.add_option("--thin", s.thin, "MH sweeps between two draws of a chain (the reference: 3)")
        ->capture_default_str()
        ->transform(integer_in(1, 10000));
    app.add_option("--threads", s.threads, "host threads (0: all cores)")->capture_default_str()->transform(integer_in(0, 4096));
    app.add_option("--seed", s.seed, "base seed of observations, filters and particle filters")
        ->capture_default_str()
        ->transform(seed_value());
    app.add_flag("--quiet", s.quiet, "no progress output");
    if (const int rc = parse_command_line(app, "filter", argc, argv); rc >= 0) return rc;
    prepare_output_dir("--out", s.out);

    const wgf::FilteringModel model;  // the reference's model (PAPER-SPEC §7.5)
    const wgf::Grid1D grid;           // linspace(−5, 5, 2000)
    const std::vector<double> x = grid.nodes();
    std::vector<wgf::Observations> observations;
    std::vector<int> run_ids;
    if (!s.observations.empty()) {
        observations.push_back(wgf::load_observations(s.observations));
        run_ids.push_back(0);
    } else {
        for (int r = s.first_run; r < s.first_run + s.runs; ++r) {
            observations.push_back(wgf::simulate_observations(model, s.seed * 1000003ull + static_cast<std::uint64_t>(r)));
            run_ids.push_back(r);
        }
    }
    // Every observation set must fit the JKO blocks (whole multiples of tau) before any work starts.
    for (std::size_t i = 0; i < observations.size() && s.jko; ++i)
        for (std::size_t k = 0; k < observations[i].times.size(); ++k) {
            const double n = observations[i].times[k] / s.tau;
            WGF_USER_CHECK(std::abs(n - std::round(n)) <= 1e-9 * std::max(1.0, n),
                           "observation " << k << " at t = " << observations[i].times[k]
                                          << " is not a whole multiple of --tau " << s.tau);
        }

    nlohmann::json runs = nlohmann::json::array();
    std::vector<double> kl_jko;
    std::vector<std::vector<double>> kl_bbf(s.particles.size());
    double jko_seconds = 0;
    const int steps_per_run = static_cast<int>(std::lround(model.t_final / s.tau));
    for (std::size_t i = 0; i < observations.size(); ++i) {
        const int run = run_ids[i];
        const wgf::Observations& obs = observations[i];
        const std::string dir = s.out + "/" + run_name(run);
        prepare_output_dir("--out", dir);
        wgf::save_observations(dir + "/observations.txt", obs);
        nlohmann::json jr = {{"run", run}, {"observations", {{"times", obs.times}, {"values", obs.values}}}};

        auto t0 = std::chrono::steady_clock::now();
        const wgf::FilterDensities cc = wgf::chang_cooper_filter(model, obs);
        const double cc_seconds = seconds_since(t0);
        write_density(dir + "/cc.npy", x, cc.density);
        double cc_mean = 0;
        for (std::size_t j = 0; j < x.size(); ++j) cc_mean += x[j] * cc.density[j] * grid.dx();
        jr["chang_cooper"] = {{"seconds", cc_seconds}, {"mean", cc_mean}, {"max_mass_error", cc.max_mass_error}};
        if (!s.quiet) std::fprintf(stderr, "%s: Chang-Cooper %.2f s, posterior mean %.3f\n", run_name(run).c_str(), cc_seconds, cc_mean);

        if (s.jko) {
            Progress progress(steps_per_run, 0, stderr, s.quiet);
            const JkoRun jk = s.precision == "float" ? run_jko<float>(s, model, obs, cc.posteriors, grid, run, progress)
                                                     : run_jko<double>(s, model, obs, cc.posteriors, grid, run, progress);
            progress.finish();
            write_density(dir + "/jko.npy", x, jk.density);
            const double kl = wgf::grid_sym_kl(jk.density, cc.density, grid.dx());
            kl_jko.push_back(kl);
            jko_seconds += jk.train_seconds + jk.eval_seconds;
            jr["jko"] = {{"sym_kl", kl},
                         {"train_seconds", jk.train_seconds},
                         {"eval_seconds", jk.eval_seconds},
                         {"log_evidence", jk.log_evidence},
                         {"inverse_failures", jk.inverse_failures},
                         {"blocks", jk.blocks}};
            if (!s.quiet)
                std::fprintf(stderr, "%s: JKO filter SymKL %.4g (train %.1f s, density %.1f s, inverse failures %lld)\n",
                             run_name(run).c_str(), kl, jk.train_seconds, jk.eval_seconds,
                             static_cast<long long>(jk.inverse_failures));
        }
        nlohmann::json bbf = nlohmann::json::array();
        for (std::size_t p = 0; p < s.particles.size(); ++p) {
            wgf::ParticleFilterOptions po;
            po.particles = s.particles[p];
            po.seed = s.seed * 1000003ull + static_cast<std::uint64_t>(run) * 131ull + static_cast<std::uint64_t>(p) + 5;
            t0 = std::chrono::steady_clock::now();
            const wgf::FilterDensities pf = wgf::particle_filter(model, obs, po);
            const double sec = seconds_since(t0);
            const double kl = wgf::grid_sym_kl(pf.density, cc.density, grid.dx());
            kl_bbf[p].push_back(kl);
            write_density(dir + "/bbf-" + std::to_string(s.particles[p]) + ".npy", x, pf.density);
            bbf.push_back({{"particles", s.particles[p]}, {"sym_kl", kl}, {"seconds", sec}});
            if (!s.quiet)
                std::fprintf(stderr, "%s: BBF %lld SymKL %.4g (%.1f s)\n", run_name(run).c_str(),
                             static_cast<long long>(s.particles[p]), kl, sec);
        }
        jr["bbf"] = bbf;
        runs.push_back(jr);
    }

    nlohmann::json summary = {{"model", "PAPER-SPEC 7.5: Phi = sin(2 pi x)/pi + x^2/4, beta 1, sigma^2 1, t_k = 0.5k, k=1..9, T=5"},
                              {"grid", {{"lo", grid.lo}, {"hi", grid.hi}, {"n", grid.n}}},
                              {"settings",
                               {{"sampler", s.sampler}, {"precision", s.precision}, {"init", s.init}, {"width", s.width},
                                {"depth", s.depth}, {"iterations", s.iterations}, {"batch", s.batch}, {"tau", s.tau},
                                {"lr", s.lr}, {"lr_end_ratio", s.lr_end_ratio}, {"average_tail", s.average_tail},
                                {"chains", s.chains}, {"warmup", s.warmup}, {"thin", s.thin}, {"threads", s.threads},
                                {"seed", s.seed}}},
                              {"runs", runs}};
    nlohmann::json table = nlohmann::json::object();
    if (s.jko) table["jko"] = stats(kl_jko);
    for (std::size_t p = 0; p < s.particles.size(); ++p) table["bbf_" + std::to_string(s.particles[p])] = stats(kl_bbf[p]);
    summary["sym_kl"] = table;
    if (s.jko) summary["jko_seconds_per_run"] = jko_seconds / static_cast<double>(observations.size());
    wgf::detail::write_file_atomic(s.out + "/summary.json", summary.dump(2) + "\n");
    std::printf("%-12s %10s %10s %10s\n", "method", "median", "mean", "worst");
    for (auto it = table.begin(); it != table.end(); ++it)
        std::printf("%-12s %10.4g %10.4g %10.4g\n", it.key().c_str(), it.value()["median"].get<double>(),
                    it.value()["mean"].get<double>(), it.value()["worst"].get<double>());
    return 0;
}

}  // namespace wgf_cli

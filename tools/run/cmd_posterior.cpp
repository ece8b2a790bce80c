// cmd_posterior.cpp — `wgf posterior`: the Bayesian logistic-regression study (paper §7.4, PAPER-SPEC
// §7.4, §6.6). For each dataset: the JKO flow towards the posterior, in the frame of its Laplace
// approximation or from the prior (samples with their exact log-densities), SVGD and a long-run MALA reference on the same posterior; the §6.6 test
// accuracy and log-likelihood of each method's posterior predictive; the energy distance and moment
// errors of the JKO and SVGD samples against MALA's; samples as .npy, a JSON summary.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
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

/// Up to this many training rows the default data term is the full data (german 800, diabetis 614),
/// above it a minibatch of 512 rows per evaluation (the reference's choice for both; the full data on
/// twonorm costs 7× the time per step of a minibatch, for the same predictive).
constexpr std::int64_t kFullDataRows = 1000;

struct PosteriorSettings {
    std::vector<std::string> datasets = {"german"};
    std::string data_dir = "data/logreg", out;
    std::string reference_dir;  // non-empty: DIR/NAME/mala-samples.npy of an earlier run instead of MALA
    // JKO
    bool jko = true;
    // The fast configuration of docs/VALIDATION.md (the reference: W = 128–512, 2–16 steps of
    // 2000–10000 iterations at lr 5e-5–2e-3, constant, from the prior): the flow in the Laplace frame,
    // where the posterior's covariance is ≈ I, to t = 20; fewer, larger Adam steps that decay within
    // each JKO step. From the prior (--start prior) the time must follow the posterior's largest
    // variance instead (5 steps of 0.1 on five of the eight datasets).
    int steps = 5, iterations = 300, width = 64;
    // minibatch −1: the reference's choice, the full data up to kFullDataRows training rows, else 512
    std::int64_t batch = 512, minibatch = -1, eval_samples = 4096;
    double tau = 4.0, lr = 1e-2, lr_end_ratio = 0.1, average_tail = 0.0;
    std::string init = "pretrain", precision = "float";
    std::string start = "laplace";  // the flow in the Laplace frame from N(x*, H⁻¹); or "prior"
    int pretrain_iterations = 1000;
    double pretrain_lr = 1e-3;
    double pretrain_wide_variance = 0.0;  // > 0: the reference's first stage on N(0, v I) (v = 100)
    int divergence_retries = 2;           // JkoOptions::divergence_retries
    bool clamp_likelihood = false;
    // Φ's clamp of log α and ρ⁰'s range of log α. The reference clamps both at 8; with Φ clamped there,
    // e^{−Φ} is flat in log α below −8, an improper tail into which the flow's mass drifts (measured on
    // twonorm with a minibatch: 90% of the JKO samples below −8) and MALA's chains with it. wgf's
    // default is the proper posterior (the clamp at 30, beyond any point a run reaches) from the
    // reference's range of ρ⁰.
    double log_alpha_clip = 30.0, prior_clip = 8.0;
    // baselines
    std::int64_t svgd_particles = 100, svgd_iterations = 3000;
    int mala_chains = 64;
    std::int64_t mala_warmup = 2000, mala_draws = 2000;
    int threads = 0;
    std::uint64_t seed = 0;
    bool quiet = false;
};

double seconds_since(
std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json predictive_json(const wgf::LogRegDataset& ds, const std::vector<double>& samples) {
    const wgf::LogRegPredictive p = wgf::logreg_predictive(ds.X_test, ds.y_test, ds.dim, samples);
    return {{"accuracy", p.accuracy}, {"log_lik", p.log_lik}};
}

nlohmann::json comparison_json(const std::vector<double>& samples, const std::vector<double>& reference, int D) {
    const wgf::PosteriorComparison c = wgf::compare_samples(samples, reference, D);
    return {{"energy_distance", c.energy_distance}, {"mean_error_sd", c.mean_error}, {"std_error", c.std_error}};
}

std::string reference_path(const PosteriorSettings& s, const std::string& name) {
    return s.reference_dir + "/" + name + "/mala-samples.npy";
}

/// The reference samples [n][D] of dataset name from an earlier run's mala-samples.npy.
std::vector<double> read_reference(const std::string& path, int D, const std::string& name) {
    NpyArray a = npy_read(path);
    WGF_USER_CHECK(a.shape.size() == 2 && a.shape[1] == D && a.shape[0] >= 2,
                   "--reference-dir: " << path << " must hold [n >= 2][" << D << "] samples of " << name
                                       << " (d + 1 = " << D << " coordinates)");
    for (double v : a.data) WGF_USER_CHECK(std::isfinite(v), "--reference-dir: " << path << " holds a non-finite value");
    return std::move(a.data);
}

template <typename T>
nlohmann::json run_dataset(const PosteriorSettings& s, const std::string& name, std::uint64_t seed) {
    using clock = std::chrono::steady_clock;
    const std::string folder = s.data_dir + "/" + name;
    const wgf::LogRegDataset ds = wgf::load_logreg_dataset(folder);
    const int D = ds.dim + 1;
    const std::string dir = s.out + "/" + name;
    prepare_output_dir("--out", dir);
    wgf::Context ctx(wgf::Backend::Host, s.threads);
    nlohmann::json out = {{"dataset", name}, {"features", ds.dim}, {"n_train", ds.n_train()}, {"n_test", ds.n_test()}};
    // ρ⁰ = the prior restricted to |log α| ≤ prior_clip (wgf/logreg.h).
    auto prior = std::make_shared<const wgf::LogisticPrior>(ds.dim, 1.0, 100.0, s.prior_clip);

    // The posterior potential (JKO and SVGD).
    wgf::LogisticPosteriorOptions po;
    po.minibatch = s.minibatch >= 0 ? s.minibatch : ds.n_train() <= kFullDataRows ? 0 : 512;
    po.clamp_likelihood = s.clamp_likelihood;
    po.log_alpha_clip = s.log_alpha_clip;
    po.seed = seed + 1;
    auto potential = std::make_shared<const wgf::LogisticPosteriorPotential<T>>(ds.X_train, ds.y_train, ds.dim, po);
    out["minibatch"] = po.minibatch;
    std::vector<double> jko_samples;
    auto t0 = clock::now();
    if (s.jko) {  // the JKO flow (from the prior or in the Laplace frame)
        wgf::JkoOptions jo;
        jo.tau = s.tau;
        jo.steps = s.steps;
        jo.iterations = s.iterations;
        jo.batch = s.batch;
        jo.lr = s.lr;
        jo.lr_end_ratio = s.lr_end_ratio;
        jo.average_tail = s.average_tail;
        jo.init = s.init == "identity" ? wgf::JkoInit::Identity : s.init == "spread" ? wgf::JkoInit::Spread : wgf::JkoInit::Pretrain;
        jo.pretrain_iterations = s.pretrain_iterations;
        jo.pretrain_lr = s.pretrain_lr;
        jo.pretrain_wide_variance = s.pretrain_wide_variance;
        jo.divergence_retries = s.divergence_retries;
        jo.seed = seed;
        // --start laplace: the flow runs in the Laplace frame x = m + L y (wgf/laplace.h) from
        // ρ⁰_y = N(0, I), i.e. ρ⁰ = the Laplace approximation N(x*, H⁻¹) in x, towards Φ_y(y) = Φ(m + L y);
        // samples and log-densities are mapped back to x below.
        std::shared_ptr<const wgf::Potential<T>> flow_potential = potential;
        std::shared_ptr<const wgf::InitialDistribution> rho0 = prior;
        wgf::AffineFrame frame;
        if (s.start == "laplace") {
            const auto tl = clock::now();
            wgf::LogisticPosteriorOptions full = po;
            full.minibatch = 0;
            const wgf::LogisticPosteriorPotential<double> exact(ds.X_train, ds.y_train, ds.dim, full);
            std::vector<double> x0(static_cast<std::size_t>(D), 0.0);
            x0.back() = std::log(1.0 / 100.0);  // θ = 0, log α at the prior's mode (a / b)
            wgf::LaplaceOptions lo;
            lo.threads = s.threads;
            const wgf::LaplaceApproximation lap = wgf::laplace_approximation(exact, x0, lo);
            frame = lap.frame;
            flow_potential = std::make_shared<const wgf::FramedPotential<T>>(potential, frame);
            rho0 = std::make_shared<const wgf::Gaussian>(wgf::Gaussian::standard(D));
            out["laplace"] = {{"newton_steps", lap.iterations}, {"seconds", seconds_since(tl)},
                              {"log_det_covariance", 2 * frame.log_det()}};
        }
        wgf::JkoSolver<T> solver(ctx, wgf::IcnnShape::uniform(D, s.width, 2), flow_potential, jo);
        wgf::Flow<T> flow(rho0);
        Progress progress(s.steps, 0, stderr, s.quiet);
        t0 = clock::now();
        nlohmann::json steps = nlohmann::json::array();
        solver.run(flow, [&](const wgf::JkoStepReport& r) {
            steps.push_back({{"step", r.step + 1}, {"loss_first", r.loss_first}, {"loss_last", r.loss_last},
                             {"loss_rise", r.loss_rise}, {"retries", r.retries}, {"diverged", r.diverged},
                             {"seconds", r.seconds}});
            if (r.retries > 0 || r.diverged) {
                progress.warn(name + ": JKO step " + std::to_string(r.step + 1) + " diverged and was redone " +
                              std::to_string(r.retries) + " time(s)" +
                              (r.diverged ? "; every attempt diverged, the least bad map is kept" : ""));
            }
            progress.step(r.step + 1, r.time, r.loss_last, r.seconds);
        });
        progress.finish();
        out["jko_steps"] = steps;
        const double jko_train = seconds_since(t0);
        t0 = clock::now();
        wgf::Rng rng(seed * 1000003ull + 7);
        std::vector<double> logp;
        const std::vector<T> xs = flow.sample(ctx, flow.steps(), s.eval_samples, rng, &logp);
        jko_samples.assign(xs.begin(), xs.end());
        if (s.start == "laplace") {  // y → x = m + L y, log ρ_x = log ρ_y − log|det L|
            jko_samples = frame.to_x(jko_samples);
            frame.log_density_to_x(logp);
        }
        npy_write(dir + "/jko-samples.npy", jko_samples, {s.eval_samples, D});
        npy_write(dir + "/jko-logdensity.npy", logp, {s.eval_samples});
        out["jko"] = predictive_json(ds, jko_samples);
        out["jko"]["train_seconds"] = jko_train;
        out["jko"]["pretrain_seconds"] = solver.pretrain_seconds();
        out["jko"]["sample_seconds"] = seconds_since(t0);
        if (!s.quiet)
            std::fprintf(stderr, "%s: JKO accuracy %.4f, test log-lik %.4f (%.1f s)\n", name.c_str(),
                         out["jko"]["accuracy"].get<double>(), out["jko"]["log_lik"].get<double>(), jko_train);
    }

    // SVGD: the same posterior, its own instance (with a minibatch, one batch per iteration shared by
    // the particles), so that its minibatch stream, hence its result, depends on its own settings and
    // the seed only, not on how many evaluations the JKO flow made before.
    std::vector<double> svgd_samples;
    if (s.svgd_particles > 0) {
        wgf::SvgdOptions so;
        so.particles = s.svgd_particles;
        so.iterations = s.svgd_iterations;
        wgf::Rng srng(seed * 1000003ull + 11);
        const wgf::LogisticPosteriorPotential<T> svgd_potential(ds.X_train, ds.y_train, ds.dim, po);
        t0 = clock::now();
        svgd_samples = wgf::svgd<T>(ctx, svgd_potential, *prior, so, srng);
        out["svgd"] = predictive_json(ds, svgd_samples);
        out["svgd"]["seconds"] = seconds_since(t0);
        npy_write(dir + "/svgd-samples.npy", svgd_samples, {s.svgd_particles, D});
        if (!s.quiet)
            std::fprintf(stderr, "%s: SVGD accuracy %.4f, test log-lik %.4f (%.1f s)\n", name.c_str(),
                         out["svgd"]["accuracy"].get<double>(), out["svgd"]["log_lik"].get<double>(),
                         out["svgd"]["seconds"].get<double>());
    }

    // The reference samples: MALA (full data, double), or those of an earlier run.
    std::vector<double> reference;
    if (!s.reference_dir.empty()) {
        const std::string path = reference_path(s, name);
        reference = read_reference(path, D, name);
        out["reference"] = predictive_json(ds, reference);
        out["reference"]["file"] = path;
    } else if (s.mala_chains > 0) {
        // The same Φ with the full data. With --log-alpha-clip 8 (the reference's) the target is
        // improper and chains that reach log α < −8 drift without end (seen on banana: R̂ 5).
        wgf::LogisticPosteriorOptions full = po;
        full.minibatch = 0;
        const wgf::LogisticPosteriorPotential<double> exact(ds.X_train, ds.y_train, ds.dim, full);
        wgf::MalaOptions mo;
        mo.chains = s.mala_chains;
        mo.warmup = s.mala_warmup;
        mo.draws = s.mala_draws;
        mo.seed = seed * 1000003ull + 13;
        t0 = clock::now();
        const wgf::MalaResult mr = wgf::mala(ctx, exact, *prior, mo);
        out["mala"] = predictive_json(ds, mr.samples);
        out["mala"]["seconds"] = seconds_since(t0);
        out["mala"]["max_rhat"] = mr.max_rhat;
        out["mala"]["acceptance"] = mr.acceptance;
        out["mala"]["restarted_chains"] = mr.restarted_chains;
        npy_write(dir + "/mala-samples.npy", mr.samples, {static_cast<std::int64_t>(mr.samples.size() / D), D});
        reference = mr.samples;
        if (!s.quiet)
            std::fprintf(stderr, "%s: MALA accuracy %.4f, test log-lik %.4f, max R-hat %.4f (%.1f s)\n", name.c_str(),
                         out["mala"]["accuracy"].get<double>(), out["mala"]["log_lik"].get<double>(), mr.max_rhat,
                         out["mala"]["seconds"].get<double>());
    }
    if (!reference.empty()) {
        if (!jko_samples.empty()) out["jko"]["vs_mala"] = comparison_json(jko_samples, reference, D);
        if (!svgd_samples.empty()) out["svgd"]["vs_mala"] = comparison_json(svgd_samples, reference, D);
    }
    return out;
}

}  // namespace

int cmd_posterior(int argc, char** argv) {
    CLI::App app{"wgf posterior: Bayesian logistic regression (paper 7.4): the JKO flow to the posterior, SVGD and a "
                 "MALA reference, with the test accuracy and log-likelihood of each posterior predictive",
                 "wgf posterior"};
    configure_app(app);
    PosteriorSettings s;
    std::string datasets = "german";
    app.add_option("--datasets", datasets, "comma-separated dataset names under --data-dir, or 'all'")->capture_default_str();
    app.add_option("--data-dir", s.data_dir, "folder of the datasets (data/logreg of the repository)")->capture_default_str();
    app.add_option("--out", s.out, "output folder: NAME/{jko-samples,jko-logdensity,svgd-samples,mala-samples}.npy, "
                                   "summary.json")
        ->required();
    app.add_flag("!--no-jko", s.jko, "run only the baselines");
    app.add_option("--reference-dir", s.reference_dir,
                   "compare with DIR/NAME/mala-samples.npy of an earlier run instead of running MALA");
    app.add_option("--steps", s.steps, "JKO steps (t = steps x tau)")->capture_default_str()->transform(integer_in(1, 100000));
    app.add_option("--tau", s.tau, "JKO step (in the Laplace frame with --start laplace)")->capture_default_str()->check(positive_real());
    app.add_option("--iterations", s.iterations, "Adam iterations per step")
        ->capture_default_str()
        ->transform(integer_in(1, 10000000));
    app.add_option("--batch", s.batch, "points per iteration")->capture_default_str()->transform(integer_in(1, 100000000));
    app.add_option("--width", s.width, "ICNN width (2 layers)")->capture_default_str()->transform(integer_in(1, 65536));
    app.add_option("--lr", s.lr, "Adam learning rate")->capture_default_str()->check(positive_real());
    app.add_option("--lr-end-ratio", s.lr_end_ratio, "in-step cosine decay to lr * ratio")
        ->capture_default_str()
        ->check(real_in(0.0, 1.0, true));
    app.add_option("--average-tail", s.average_tail, "fraction of each step's last iterations averaged")
        ->capture_default_str()
        ->check(real_in(0.0, 1.0));
    app.add_option("--start", s.start,
                   "laplace: the flow from the Laplace approximation N(x*, H^-1) of the posterior, run in its frame "
                   "x = x* + L y (a preconditioned flow to the same posterior; docs/VALIDATION.md); prior: from the "
                   "prior in (theta, log alpha), the reference's (give --steps and --tau for the dataset)")
        ->capture_default_str()
        ->check(CLI::IsMember({"prior", "laplace"}));
    app.add_option("--init", s.init, "first map: pretrain (the reference), identity or spread")
        ->capture_default_str()
        ->check(CLI::IsMember({"pretrain", "identity", "spread"}));
    app.add_option("--pretrain-iterations", s.pretrain_iterations, "with --init pretrain")
        ->capture_default_str()
        ->transform(integer_in(0, 100000000));
    app.add_option("--pretrain-lr", s.pretrain_lr, "with --init pretrain")->capture_default_str()->check(positive_real());
    app.add_option("--pretrain-wide-variance", s.pretrain_wide_variance,
                   "with --init pretrain: > 0 adds the reference's first stage, --pretrain-iterations towards the "
                   "identity on N(0, v I) before as many on rho0 (the reference: 100); 0: rho0 only")
        ->capture_default_str()
        ->check(real_in(0.0));
    app.add_option("--divergence-retries", s.divergence_retries,
                   "a JKO step whose losses end clearly above their lowest level is redone on another batch order "
                   "up to this many times (0: off, the reference)")
        ->capture_default_str()
        ->transform(integer_in(0, 100));
    app.add_option("--minibatch", s.minibatch,
                   "data rows per loss evaluation of JKO and SVGD (0: the full training set; -1: full up to 1000 "
                   "training rows, else 512, as the reference)")
        ->capture_default_str()
        ->transform(integer_in(-1, 100000000));
    app.add_option("--log-alpha-clip", s.log_alpha_clip,
                   "log alpha clamped to [-c, c] in Phi (the reference: 8, an improper posterior)")
        ->capture_default_str()
        ->check(real_in(1.0, 700.0));
    app.add_option("--prior-clip", s.prior_clip, "rho0 = the prior restricted to |log alpha| <= c (the reference: 8)")
        ->capture_default_str()
        ->check(real_in(1.0, 700.0));
    app.add_flag("--clamp-likelihood", s.clamp_likelihood, "the reference's log max(p, 1e-5)");
    app.add_option("--precision", s.precision, "of the maps")->capture_default_str()->check(CLI::IsMember({"float", "double"}));
    app.add_option("--eval-samples", s.eval_samples, "JKO samples for the predictive (the reference: 4096)")
        ->capture_default_str()
        ->transform(integer_in(2, 100000000));
    app.add_option("--svgd-particles", s.svgd_particles, "0: no SVGD")->capture_default_str()->transform(integer_in(0, 1000000));
    app.add_option("--svgd-iterations", s.svgd_iterations, "SVGD iterations")
        ->capture_default_str()
        ->transform(integer_in(1, 100000000));
    app.add_option("--mala-chains", s.mala_chains, "0: no MALA reference")->capture_default_str()->transform(integer_in(0, 1000000));
    app.add_option("--mala-warmup", s.mala_warmup, "MALA warm-up iterations per chain")
        ->capture_default_str()
        ->transform(integer_in(0, 100000000));
    app.add_option("--mala-draws", s.mala_draws, "MALA draws kept per chain")
        ->capture_default_str()
        ->transform(integer_in(4, 100000000));
    app.add_option("--threads", s.threads, "host threads (0: all cores)")->capture_default_str()->transform(integer_in(0, 4096));
    app.add_option("--seed", s.seed, "base seed")->capture_default_str()->transform(seed_value());
    app.add_flag("--quiet", s.quiet, "no progress output");
    if (const int rc = parse_command_line(app, "posterior", argc, argv); rc >= 0) return rc;
    if (datasets == "all") {
        s.datasets = wgf::logreg_dataset_names();
    } else {
        s.datasets.clear();
        std::stringstream ss(datasets);
        std::string item;
        while (std::getline(ss, item, ',')) {
            WGF_USER_CHECK(!item.empty(), "--datasets '" << datasets << "': an empty name");
            s.datasets.push_back(item);
        }
    }
    prepare_output_dir("--out", s.out);
    for (const std::string& name : s.datasets) {  // every dataset and reference loads before any training
        const wgf::LogRegDataset ds = wgf::load_logreg_dataset(s.data_dir + "/" + name);
        if (!s.reference_dir.empty()) read_reference(reference_path(s, name), ds.dim + 1, name);
    }
    nlohmann::json results = nlohmann::json::array();
    for (std::size_t i = 0; i < s.datasets.size(); ++i) {
        const std::uint64_t seed = s.seed * 1000003ull + i * 7919ull + 1;
        results.push_back(s.precision == "double" ? run_dataset<double>(s, s.datasets[i], seed)
                                                  : run_dataset<float>(s, s.datasets[i], seed));
        const nlohmann::json summary = {{"settings",
                                         {{"steps", s.steps}, {"tau", s.tau}, {"iterations", s.iterations},
                                          {"batch", s.batch}, {"width", s.width}, {"lr", s.lr}, {"init", s.init}, {"start", s.start},
                                          {"pretrain_iterations", s.pretrain_iterations}, {"pretrain_lr", s.pretrain_lr},
                                          {"pretrain_wide_variance", s.pretrain_wide_variance},
                                          {"divergence_retries", s.divergence_retries},
                                          {"minibatch", s.minibatch}, {"clamp_likelihood", s.clamp_likelihood}, {"log_alpha_clip", s.log_alpha_clip}, {"prior_clip", s.prior_clip},
                                          {"precision", s.precision}, {"svgd_particles", s.svgd_particles},
                                          {"svgd_iterations", s.svgd_iterations}, {"mala_chains", s.mala_chains},
                                          {"mala_warmup", s.mala_warmup}, {"mala_draws", s.mala_draws},
                                          {"seed", s.seed}, {"jko", s.jko}, {"reference_dir", s.reference_dir}}},
                                        {"datasets", results}};
        wgf::detail::write_file_atomic(s.out + "/summary.json", summary.dump(2) + "\n");  // after each dataset
    }
    std::printf("%-10s %10s %10s %10s %10s %10s %10s %9s %9s\n", "dataset", "jko acc", "jko ll", "svgd acc", "svgd ll",
                "mala acc", "mala ll", "jko s", "ED jko");
    for (const auto& r : results) {
        auto get = [&](const char* m, const char* k) {
            if (std::string(m) == "mala" && !r.contains("mala")) m = "reference";  // --reference-dir
            return r.contains(m) && r[m].contains(k) ? r[m][k].get<double>() : std::nan("");
        };
        const double ed = r.contains("jko") && r["jko"].contains("vs_mala") ? r["jko"]["vs_mala"]["energy_distance"].get<double>()
                                                                           : std::nan("");
        std::printf("%-10s %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f %9.1f %9.4f\n", r["dataset"].get<std::string>().c_str(),
                    get("jko", "accuracy"), get("jko", "log_lik"), get("svgd", "accuracy"), get("svgd", "log_lik"),
                    get("mala", "accuracy"), get("mala", "log_lik"), get("jko", "train_seconds"), ed);
    }
    return 0;
}

}  // namespace wgf_cli

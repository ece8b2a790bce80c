// filtering.cpp — the filtering model, simulated observations, Chang–Cooper, the bootstrap particle
// filter and the grid SymKL (wgf/filtering.h).
//
// Chang–Cooper in Scharfetter–Gummel form. With C = 1/β, w = β(Φ_{j+1} − Φ_j) and the Bernoulli
// function Bern(w) = w/(eʷ − 1), the face flux of the header reads
//   J_{j+½} = (C/dx) [Bern(w) p_j − Bern(−w) p_{j+1}],
// because C/dx − B δ = (C/dx)(1 − w δ) = (C/dx) Bern(w) and C/dx + B(1 − δ) = (C/dx) Bern(−w). This
// form has no cancellation at small w (δ → ½, central differences) nor overflow at large |w| (upwind).
// Bern(−w) = eʷ Bern(w), so the flux vanishes exactly at p_{j+1}/p_j = e^{−w}. The implicit step
//   p_j' + (dt/dx) (J_{j+½}(p') − J_{j−½}(p')) = p_j,  J_{−½} = J_{n−½} = 0,
// has diagonal 1 + r(a_{j+½} + c_{j−½}), upper −r c_{j+½}, lower −r a_{j−½} (r = dt/dx, a = (C/dx)Bern(w),
// c = (C/dx)Bern(−w)): every column sums to 1 (mass), off-diagonals are ≤ 0 and the matrix is
// column diagonally dominant, so Thomas needs no pivoting and the solution stays positive.
#include "wgf/filtering.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "binary_io.h"
#include "host/parallel_errors.h"
#include "wgf/baselines.h"
#include "wgf/detail/filtering_potential.h"
#include "wgf/error.h"

namespace wgf {

namespace {

// w/(eʷ − 1), 1 at w = 0.
double bernoulli(double w) {
    if (std::abs(w) < 1e-8) return 1.0 - 0.5 * w;
    return w / std::expm1(w);
}

// The number of steps of size dt from t0 to t1; throws unless t1 − t0 is a whole multiple of dt.
std::int64_t steps_between(double t0, double t1, double dt, const char* who, std::size_t k) {
    const double n = (t1 - t0) / dt;
    const double r = std::round(n);
    WGF_CHECK(std::abs(n - r) <= 1e-9 * std::max(1.0, std::abs(n)),
              who << ": observation " << k << " at t = " << t1 << " is not a whole number of steps dt = " << dt
                  << " after t = " << t0);
    return static_cast<std::int64_t>(r);
}

void check_observations(const FilteringModel& model, const Observations& obs, double dt, const char* who) {
    WGF_CHECK(!obs.times.empty(), who << ": observations are empty");
    WGF_CHECK(obs.times.size() == obs.values.size(), who << ": observations have " << obs.times.size() << " times and "
                                                         << obs.values.size() << " values");
    WGF_CHECK(std::isfinite(dt) && dt > 0, who << ": dt must be > 0, got " << dt);
    double prev = 0;
    for (std::size_t k = 0; k < obs.times.size(); ++k) {
        WGF_CHECK(std::isfinite(obs.times[k]) && obs.times[k] > prev,
                  who << ": observation times must be finite and increase from 0; time " << k << " is " << obs.times[k]);
        WGF_CHECK(std::isfinite(obs.values[k]), who << ": observation value " << k << " is not finite");
        prev = obs.times[k];
    }
    WGF_CHECK(prev <= model.t_final * (1 + 1e-12),
              who << ": the last observation (t = " << prev << ") is after t_final = " << model.t_final);
}

double gaussian_loglik(double y, double x, double var) { return -0.5 * (y - x) * (y - x) / var; }
}  // namespace

double filtering_reference_potential(double x) { return detail::filtering_potential_value(x); }
double filtering_reference_gradient(double x) { return detail::filtering_potential_gradient(x); }

void FilteringModel::validate() const {
    WGF_CHECK(static_cast<bool>(potential), "FilteringModel: potential is empty");
    WGF_CHECK(static_cast<bool>(gradient), "FilteringModel: gradient is empty");
    WGF_CHECK(std::isfinite(beta) && beta > 0, "FilteringModel: beta must be > 0, got " << beta);
    WGF_CHECK(std::isfinite(obs_variance) && obs_variance > 0,
              "FilteringModel: obs_variance must be > 0, got " << obs_variance);
    WGF_CHECK(std::isfinite(obs_period) && obs_period > 0, "FilteringModel: obs_period must be > 0, got " << obs_period);
    WGF_CHECK(obs_count >= 0, "FilteringModel: obs_count must be >= 0, got " << obs_count);
    WGF_CHECK(std::isfinite(t_final) && t_final >= obs_period * obs_count * (1 - 1e-12),
              "FilteringModel: t_final (" << t_final << ") must be finite and not before the last observation ("
                                          << obs_period * obs_count << ")");
    WGF_CHECK(std::isfinite(x0_mean), "FilteringModel: x0_mean is not finite");
    WGF_CHECK(std::isfinite(x0_variance) && x0_variance > 0,
              "FilteringModel: x0_variance must be > 0, got " << x0_variance);
}

Observations simulate_observations(const FilteringModel& model, std::uint64_t seed, double dt) {
    model.validate();
    WGF_CHECK(std::isfinite(dt) && dt > 0, "simulate_observations: dt must be > 0, got " << dt);
    Rng rng(seed);
    const double sigma = std::sqrt(2 * dt / model.beta), noise = std::sqrt(model.obs_variance);
    double x = model.x0_mean + std::sqrt(model.x0_variance) * rng.normal();
    Observations obs;
    std::int64_t done = 0;
    for (int k = 1; k <= model.obs_count; ++k) {
        const double t = model.obs_period * k;
        const std::int64_t target = steps_between(0.0, t, dt, "simulate_observations", static_cast<std::size_t>(k - 1));
        for (; done < target; ++done) {
            x += -model.gradient(x) * dt + sigma * rng.normal();
            WGF_CHECK(std::isfinite(x), "simulate_observations: the path is not finite at step " << done
                                                                                                << " (dt too large for this drift?)");
        }
        obs.times.push_back(t);
        obs.latent.push_back(x);
        obs.values.push_back(x + noise * rng.normal());
    }
    return obs;
}

void save_observations(const std::string& path, const Observations& obs) {
    WGF_CHECK(obs.times.size() == obs.values.size(), "save_observations: " << obs.times.size() << " times and "
                                                                           << obs.values.size() << " values");
    WGF_CHECK(obs.latent.empty() || obs.latent.size() == obs.times.size(),
              "save_observations: " << obs.latent.size() << " latent values for " << obs.times.size() << " times");
    std::ostringstream f;  // written atomically below: an existing file is replaced only when complete
    f.precision(17);
    f << "# wgf filtering observations: t y x\n";
    for (std::size_t k = 0; k < obs.times.size(); ++k) {
        f << obs.times[k] << ' ' << obs.values[k] << ' ';
        if (obs.latent.empty())
            f << "nan";
        else
            f << obs.latent[k];
        f << '\n';
    }
    detail::write_file_atomic(path, f.str());
}

Observations load_observations(const std::string& path) {
    // A regular file of at most 64 MiB (millions of lines): never /dev/zero, a FIFO or a folder.
    std::istringstream f(detail::read_file(path, "observations file", std::uint64_t{64} << 20));
    Observations obs;
    bool all_latent = true;
    std::string line;
    std::int64_t lineno = 0;
    while (std::getline(f, line)) {
        ++lineno;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        std::istringstream is(line);
        std::string fields[4];
        int nf = 0;
        while (nf < 4 && (is >> fields[nf])) ++nf;
        WGF_CHECK(nf == 2 || nf == 3, "load_observations: " << path << ":" << lineno << ": expected 't y' or 't y x', got '"
                                                            << line << "'");
        double v[3] = {0, 0, std::numeric_limits<double>::quiet_NaN()};
        for (int i = 0; i < nf; ++i) {
            std::size_t used = 0;
            try {
                v[i] = std::stod(fields[i], &used);
            } catch (const std::exception&) {
                used = 0;
            }
            WGF_CHECK(used == fields[i].size() && used > 0,
                      "load_observations: " << path << ":" << lineno << ": '" << fields[i] << "' is not a number");
        }
        WGF_CHECK(std::isfinite(v[0]) && std::isfinite(v[1]),
                  "load_observations: " << path << ":" << lineno << ": t and y must be finite");
        obs.times.push_back(v[0]);
        obs.values.push_back(v[1]);
        obs.latent.push_back(v[2]);
        all_latent = all_latent && std::isfinite(v[2]);
    }
    WGF_CHECK(!obs.times.empty(), "load_observations: " << path << " holds no observations");
    if (!all_latent) obs.latent.clear();
    return obs;
}

void Grid1D::validate() const {
    WGF_CHECK(n >= 3, "Grid1D: n must be >= 3, got " << n);
    WGF_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi,
              "Grid1D: lo < hi must hold and both be finite, got lo = " << lo << ", hi = " << hi);
}

std::vector<double> Grid1D::nodes() const {
    std::vector<double> x(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) x[static_cast<std::size_t>(j)] = node(j);
    x.back() = hi;
    return x;
}

ChangCooper::ChangCooper(const FilteringModel& model, const Grid1D& grid, double dt) : m_grid(grid), m_dt(dt) {
    model.validate();
    grid.validate();
    WGF_CHECK(std::isfinite(dt) && dt > 0, "ChangCooper: dt must be > 0, got " << dt);
    const std::size_t n = static_cast<std::size_t>(grid.n);
    const std::vector<double> x = grid.nodes();
    const double dx = grid.dx(), C = 1.0 / model.beta, r = dt / dx;
    std::vector<double> phi(n);
    for (std::size_t j = 0; j < n; ++j) {
        phi[j] = model.potential(x[j]);
        WGF_CHECK(std::isfinite(phi[j]), "ChangCooper: the potential is not finite at x = " << x[j]);
    }
    // a[j], c[j]: the face j+½ (j = 0…n−2).
    std::vector<double> a(n - 1), c(n - 1);
    for (std::size_t j = 0; j + 1 < n; ++j) {
        const double w = model.beta * (phi[j + 1] - phi[j]);
        a[j] = C / dx * bernoulli(w);
        c[j] = C / dx * bernoulli(-w);
    }
    m_lower.assign(n, 0.0);
    m_diag.assign(n, 1.0);
    m_upper.assign(n, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
        if (j + 1 < n) {
            m_diag[j] += r * a[j];
            m_upper[j] = -r * c[j];
        }
        if (j > 0) {
            m_diag[j] += r * c[j - 1];
            m_lower[j] = -r * a[j - 1];
        }
    }
    m_c.assign(n, 0.0);
    m_inv.assign(n, 0.0);
    double prev_c = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const double pivot = m_diag[j] - (j > 0 ? m_lower[j] * prev_c : 0.0);
        WGF_CHECK(std::isfinite(pivot) && pivot > 0, "ChangCooper: pivot " << j << " is " << pivot);
        m_inv[j] = 1.0 / pivot;
        m_c[j] = m_upper[j] * m_inv[j];
        prev_c = m_c[j];
    }
}

double ChangCooper::mass(const std::vector<double>& p) const {
    double s = 0;
    for (double v : p) s += v;
    return s * m_grid.dx();
}

void ChangCooper::step(std::vector<double>& p) const {
    const std::size_t n = m_diag.size();
    WGF_CHECK(p.size() == n, "ChangCooper::step: density has " << p.size() << " values for " << n << " nodes");
    const double before = mass(p);
    WGF_CHECK(std::isfinite(before) && before > 0, "ChangCooper::step: the mass is " << before);
    // Thomas: forward elimination with the stored factorisation, then back substitution.
    p[0] *= m_inv[0];
    for (std::size_t j = 1; j < n; ++j) p[j] = (p[j] - m_lower[j] * p[j - 1]) * m_inv[j];
    for (std::size_t j = n - 1; j-- > 0;) p[j] -= m_c[j] * p[j + 1];
    const double after = mass(p);
    WGF_CHECK(std::isfinite(after) && std::abs(after - before) <= 1e-12 * before,
              "ChangCooper::step: mass changed from " << before << " to " << after << " (relative "
                                                      << (after - before) / before << ", allowed 1e-12)");
    // The matrix conserves mass exactly; the solve's rounding (≈ 1e-16 relative per step, checked
    // above) would still random-walk over 10⁴–10⁵ steps. Rescale to the mass before the step.
    const double scale = before / after;
    for (auto& v : p) v *= scale;
}

void ChangCooper::advance(std::vector<double>& p, std::int64_t steps) const {
    WGF_CHECK(steps >= 0, "ChangCooper::advance: steps must be >= 0, got " << steps);
    for (std::int64_t s = 0; s < steps; ++s) step(p);
}

std::vector<double> ChangCooper::stationary() const {
    // Φ is not stored: the state with zero flux through every face is rebuilt from the matrix, since
    // p_{j+1}/p_j = a_{j+½}/c_{j+½} = −lower_{j+1}/upper_j (= e^{−w}). Log-domain, shifted to a max of 0.
    const std::size_t n = m_diag.size();
    std::vector<double> logp(n, 0.0);
    for (std::size_t j = 0; j + 1 < n; ++j) logp[j + 1] = logp[j] + std::log(m_lower[j + 1] / m_upper[j]);
    const double top = *std::max_element(logp.begin(), logp.end());
    std::vector<double> p(n);
    for (std::size_t j = 0; j < n; ++j) p[j] = std::exp(logp[j] - top);
    const double m = mass(p);
    for (auto& v : p) v /= m;
    return p;
}

std::vector<double> ChangCooper::gaussian(double mean, double variance) const {
    WGF_CHECK(std::isfinite(mean), "ChangCooper::gaussian: mean is not finite");
    WGF_CHECK(std::isfinite(variance) && variance > 0, "ChangCooper::gaussian: variance must be > 0, got " << variance);
    std::vector<double> p = m_grid.nodes();
    for (auto& v : p) v = std::exp(-0.5 * (v - mean) * (v - mean) / variance);
    const double m = mass(p);
    WGF_CHECK(m > 0, "ChangCooper::gaussian: N(" << mean << ", " << variance << ") has no mass on the grid");
    for (auto& v : p) v /= m;
    return p;
}

void ChangCooper::bayes_update(std::vector<double>& p, double y, double obs_variance) const {
    WGF_CHECK(p.size() == m_diag.size(), "ChangCooper::bayes_update: density has " << p.size() << " values for "
                                                                                   << m_diag.size() << " nodes");
    WGF_CHECK(std::isfinite(y), "ChangCooper::bayes_update: the observation is not finite");
    WGF_CHECK(std::isfinite(obs_variance) && obs_variance > 0,
              "ChangCooper::bayes_update: obs_variance must be > 0, got " << obs_variance);
    // In logs, shifted by the largest log p_j + log N(y; x_j, σ²), so that a far observation does not
    // underflow every product to 0 (the shift cancels in the renormalisation).
    const std::vector<double> x = m_grid.nodes();
    std::vector<double> lp(p.size(), -std::numeric_limits<double>::infinity());
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < p.size(); ++j) {
        WGF_CHECK(std::isfinite(p[j]) && p[j] >= 0, "ChangCooper::bayes_update: prior value " << j << " is " << p[j]);
        if (p[j] > 0) {
            lp[j] = std::log(p[j]) + gaussian_loglik(y, x[j], obs_variance);
            top = std::max(top, lp[j]);
        }
    }
    WGF_CHECK(std::isfinite(top), "ChangCooper::bayes_update: the prior has no mass");
    for (std::size_t j = 0; j < p.size(); ++j) p[j] = std::exp(lp[j] - top);
    const double m = mass(p);
    WGF_CHECK(std::isfinite(m) && m > 0, "ChangCooper::bayes_update: the posterior mass is " << m << " (y = " << y << ")");
    for (auto& v : p) v /= m;
}

FilterDensities chang_cooper_filter(const FilteringModel& model, const Observations& obs, const ChangCooperOptions& options) {
    model.validate();
    options.grid.validate();
    check_observations(model, obs, options.dt, "chang_cooper_filter");
    const ChangCooper cc(model, options.grid, options.dt);
    FilterDensities out;
    out.x = options.grid.nodes();
    std::vector<double> p = cc.gaussian(model.x0_mean, model.x0_variance);
    auto check_mass = [&](const char* where, std::size_t k) {
        const double err = std::abs(cc.mass(p) - 1.0);
        out.max_mass_error = std::max(out.max_mass_error, err);
        WGF_CHECK(err <= 1e-12, "chang_cooper_filter: the mass is off 1 by " << err << " " << where << " " << k);
    };
    double t = 0;
    for (std::size_t k = 0; k < obs.times.size(); ++k) {
        cc.advance(p, steps_between(t, obs.times[k], options.dt, "chang_cooper_filter", k));
        check_mass("before observation", k);
        cc.bayes_update(p, obs.values[k], model.obs_variance);
        out.posteriors.push_back(p);
        t = obs.times[k];
    }
    cc.advance(p, static_cast<std::int64_t>(std::llround((model.t_final - t) / options.dt)));
    check_mass("at t_final after observation", obs.times.size() - 1);
    out.density = std::move(p);
    return out;
}

FilterDensities particle_filter(const FilteringModel& model, const Observations& obs, const ParticleFilterOptions& options) {
    model.validate();
    options.grid.validate();
    check_observations(model, obs, options.dt, "particle_filter");
    WGF_CHECK(options.particles >= 2, "particle_filter: particles must be >= 2, got " << options.particles);
    const std::size_t n = static_cast<std::size_t>(options.particles);
    const double dt = options.dt, sigma = std::sqrt(2 * dt / model.beta);
    // Each block of kBlock particles has its own stream (for x₀ and its noise), so that the blocks run
    // on OpenMP threads with results that do not depend on the thread count; resampling draws from
    // the main stream.
    constexpr std::size_t kBlock = 1024;
    const std::size_t blocks = (n + kBlock - 1) / kBlock;
    Rng rng(options.seed);
    std::vector<Rng> streams;
    for (std::size_t b = 0; b < blocks; ++b) streams.emplace_back(options.seed ^ (0xD1B54A32D192ED03ull * (b + 1)));
    std::vector<double> x(n), next(n), cdf(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = model.x0_mean + std::sqrt(model.x0_variance) * streams[i / kBlock].normal();
    auto propagate = [&](std::int64_t steps, double t0) {
        detail::ParallelErrors errors;  // the user's gradient may throw
        std::int64_t bad = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : bad)
        for (std::int64_t b = 0; b < static_cast<std::int64_t>(blocks); ++b) errors.run(b, [&] {
            Rng& r = streams[static_cast<std::size_t>(b)];
            const std::size_t i0 = static_cast<std::size_t>(b) * kBlock, i1 = std::min(n, i0 + kBlock);
            for (std::int64_t s = 0; s < steps; ++s)
                for (std::size_t i = i0; i < i1; ++i) x[i] += -model.gradient(x[i]) * dt + sigma * r.normal();
            for (std::size_t i = i0; i < i1; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
        });
        errors.rethrow();
        WGF_CHECK(bad == 0, "particle_filter: " << bad << " particles are not finite at t = " << t0 + steps * dt
                                                << " (dt " << dt << " too large for this drift?)");
    };
    FilterDensities out;
    double t = 0;
    for (std::size_t k = 0; k < obs.times.size(); ++k) {
        propagate(steps_between(t, obs.times[k], dt, "particle_filter", k), t);
        t = obs.times[k];
        double top = -std::numeric_limits<double>::infinity();
        for (double v : x) top = std::max(top, gaussian_loglik(obs.values[k], v, model.obs_variance));
        double sum = 0, sum2 = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double w = std::exp(gaussian_loglik(obs.values[k], x[i], model.obs_variance) - top);
            sum += w;
            sum2 += w * w;
            cdf[i] = sum;
        }
        out.ess.push_back(sum * sum / sum2);
        // Multinomial resampling: n independent draws from the weights (inverse CDF).
        for (std::size_t i = 0; i < n; ++i) {
            const double u = rng.uniform() * sum;
            const std::size_t idx = static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
            next[i] = x[std::min(idx, n - 1)];
        }
        x.swap(next);
    }
    propagate(static_cast<std::int64_t>(std::llround((model.t_final - t) / dt)), t);
    out.x = options.grid.nodes();
    const GaussianKde kde(x, 1);
    out.density.resize(out.x.size());
    kde.log_density(out.x.data(), static_cast<std::int64_t>(out.x.size()), out.density.data());
    for (auto& v : out.density) v = std::exp(v);
    out.particles = std::move(x);
    return out;
}

double grid_sym_kl(const std::vector<double>& p, const std::vector<double>& q, double dx) {
    WGF_CHECK(p.size() == q.size() && !p.empty(), "grid_sym_kl: densities of " << p.size() << " and " << q.size()
                                                                               << " values");
    WGF_CHECK(std::isfinite(dx) && dx > 0, "grid_sym_kl: dx must be > 0, got " << dx);
    // The floor. Far tails of a KDE or of a sharp posterior underflow to 0 (or to subnormals), where
    // log 0 would turn a negligible node into an infinite or NaN SymKL. Raising values below 1e-300 to
    // 1e-300 inside the logs changes a node's term (p − q)(log p − log q) dx by at most
    // 1e-300 · 1500 · dx in absolute value when both are below the floor, and when only one is below
    // it replaces log 0 by log 1e-300 ≈ −691 — a node whose other density is p contributes then
    // ≤ p · (|log p| + 691) · dx, which is what a density of 1e-300 "means" at the resolution of any
    // test (SymKL ≥ 1e-6). A density of 0 against a positive one is therefore penalised, finitely.
    constexpr double kFloor = 1e-300;
    double s = 0;
    for (std::size_t j = 0; j < p.size(); ++j) {
        WGF_CHECK(std::isfinite(p[j]) && std::isfinite(q[j]) && p[j] >= 0 && q[j] >= 0,
                  "grid_sym_kl: density values must be finite and >= 0; node " << j << " has " << p[j] << " and " << q[j]);
        // KL(p‖q) + KL(q‖p) node by node: p(log p − log q) + q(log q − log p) = (p − q)(log p − log q).
        s += (p[j] - q[j]) * (std::log(std::max(p[j], kFloor)) - std::log(std::max(q[j], kFloor)));
    }
    return s * dx;
}

}  // namespace wgf

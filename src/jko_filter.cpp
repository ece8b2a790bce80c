// jko_filter.cpp — the JKO filter (wgf/jko_filter.h).
//
// The chains. Chain c holds a start point x₀ᶜ, the end of its path X_k(x₀ᶜ) through the blocks
// trained so far, L_k(x₀ᶜ) and log ρ⁰(x₀ᶜ). "Level k" = the chains target π_k (k blocks, with the
// observations of those blocks). A sweep proposes one move per chain, pushes all proposals through
// the k blocks as one batch (ℓ evaluated at each observed block's end) and accepts by Metropolis–
// Hastings on π_k. Both moves keep π_k invariant: the independent ρ⁰ proposal has ratio e^{L' − L}
// (ρ⁰ cancels), the random walk (symmetric, fixed within a level after its warm-up) has ratio
// ρ⁰(x₀')e^{L'} / (ρ⁰(x₀)e^{L}); during the warm-up the walk's scale adapts (Robbins–Monro on its
// log), which only moves the chains towards π_k before draws are taken.
//
// The posterior at t_k as the ρ⁰ of block k + 1 is the class PosteriorAt below: its samples are the
// chains' path ends (fresh sweeps between draws), its log-density is log p̃_k through block k's
// inverse maps and, recursively, the earlier blocks'.
#include "wgf/jko_filter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "wgf/detail/cholesky.h"
#include "wgf/error.h"

namespace wgf {

namespace {
constexpr double kLog2Pi = 1.83787706640934548356065947281123527;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double log_mean_exp(const std::vector<double>& w) {
    double m = kNegInf;
    for (double v : w) m = std::max(m, v);
    if (!(m > kNegInf)) return kNegInf;
    double s = 0;
    for (double v : w) s += std::exp(v - m);
    return m + std::log(s / static_cast<double>(w.size()));
}

// Whole number of steps tau from t0 to t1 (throws naming the observation otherwise).
int steps_of(double t0, double t1, double tau, const std::string& what) {
    const double n = (t1 - t0) / tau, r = std::round(n);
    WGF_CHECK(r >= 1 && std::abs(n - r) <= 1e-9 * std::max(1.0, n),
              "JkoFilter: " << what << " (t = " << t1 << ") is not a whole number >= 1 of JKO steps tau = " << tau
                            << " after t = " << t0);
    WGF_CHECK(r <= 1e6, "JkoFilter: " << what << " needs " << r << " JKO steps (more than 1e6)");
    return static_cast<int>(r);
}
}  // namespace

ObservationLogLikelihood gaussian_observations(std::vector<double> values, int dim, double variance) {
    WGF_CHECK(dim >= 1, "gaussian_observations: dim must be >= 1, got " << dim);
    WGF_CHECK(std::isfinite(variance) && variance > 0, "gaussian_observations: variance must be > 0, got " << variance);
    WGF_CHECK(!values.empty() && values.size() % static_cast<std::size_t>(dim) == 0,
              "gaussian_observations: " << values.size() << " values are not a positive multiple of D = " << dim);
    for (std::size_t i = 0; i < values.size(); ++i)
        WGF_CHECK(std::isfinite(values[i]), "gaussian_observations: value " << i << " is not finite");
    const int K = static_cast<int>(values.size() / static_cast<std::size_t>(dim));
    const double log_norm = -0.5 * dim * (kLog2Pi + std::log(variance));
    return [values = std::move(values), dim, variance, K, log_norm](int k, const double* x, std::int64_t n, double* out) {
        WGF_CHECK(k >= 0 && k < K, "gaussian_observations: observation " << k << " of " << K << " asked for");
        const double* y = values.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(dim);
        for (std::int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (int d = 0; d < dim; ++d) {
                const double r = x[i * dim + d] - y[d];
                s += r * r;
            }
            out[i] = log_norm - 0.5 * s / variance;
        }
    };
}

// ---- the state ------------------------------------------------------------------------------------

namespace detail {
template <typename T>
struct JkoFilterState {
    Context* ctx;
    std::shared_ptr<const Potential<T>> potential;
    std::shared_ptr<const InitialDistribution> rho0;
    ObservationLogLikelihood loglik;
    JkoFilterOptions opt;
    int D;

    std::vector<Flow<T>> blocks;
    std::vector<int> observation;  // per block: the observation index at its end, −1 for none
    std::vector<std::shared_ptr<const InitialDistribution>> posterior;  // [k]: p̃_k as a distribution
    std::vector<FilterBlockReport> reports;

    // The chains, at level `level`.
    int level = 0;
    std::int64_t N = 0;
    std::vector<double> x0, end, L, logr0;
    Rng rng;
    double rw_scale = 0.5;
    std::vector<double> rw_factor;  // [D][D] lower Cholesky factor of the chains' x₀ covariance
    // acceptance counters since the last report
    std::int64_t prop_indep = 0, acc_indep = 0, prop_rw = 0, acc_rw = 0;
    std::int64_t sweeps = 0;  // sweeps made at this level (alternation of the moves)

    JkoFilterState(Context& c, std::shared_ptr<const Potential<T>> p, std::shared_ptr<const InitialDistribution> r,
          ObservationLogLikelihood l, JkoFilterOptions o)
        : ctx(&c), potential(std::move(p)), rho0(std::move(r)), loglik(std::move(l)), opt(std::move(o)), rng(opt.seed) {}

    void validate() const {
        WGF_CHECK(potential != nullptr, "JkoFilter: potential is null");
        WGF_CHECK(rho0 != nullptr, "JkoFilter: rho0 is null");
        WGF_CHECK(static_cast<bool>(loglik), "JkoFilter: the observation log-likelihood is empty");
        WGF_CHECK(potential->dim() == rho0->dim(), "JkoFilter: the potential has D = " << potential->dim()
                                                                                       << " but rho0 has D = " << rho0->dim());
        WGF_CHECK(opt.shape.dim == rho0->dim(),
                  "JkoFilter: shape.dim = " << opt.shape.dim << " but rho0 has D = " << rho0->dim());
        opt.shape.validate();
        JkoOptions j = opt.jko;
        j.steps = 1;
        j.checkpoint_dir.clear();
        j.validate();
        WGF_CHECK(opt.chains >= 2 && opt.chains <= (std::int64_t(1) << 26),
                  "JkoFilterOptions: chains must be in [2, 2^26], got " << opt.chains);
        WGF_CHECK(opt.warmup_sweeps >= 0 && opt.warmup_sweeps <= 1000000,
                  "JkoFilterOptions: warmup_sweeps must be in [0, 1e6], got " << opt.warmup_sweeps);
        WGF_CHECK(opt.thin_sweeps >= 1 && opt.thin_sweeps <= 10000,
                  "JkoFilterOptions: thin_sweeps must be in [1, 10000], got " << opt.thin_sweeps);
        WGF_CHECK(opt.target_acceptance > 0 && opt.target_acceptance < 1,
                  "JkoFilterOptions: target_acceptance must be in (0, 1), got " << opt.target_acceptance);
        WGF_CHECK(opt.inverse.max_iterations > 0 && opt.inverse.max_backtracks >= 0 && opt.inverse.tolerance >= 0,
                  "JkoFilterOptions: bad inverse options");
    }

    // ℓ_k at points x [n][D], checked: finite or −∞.
    std::vector<double> observe(int k, const double* x, std::int64_t n) const {
        std::vector<double> out(static_cast<std::size_t>(n));
        loglik(k, x, n, out.data());
        for (std::int64_t i = 0; i < n; ++i)
            WGF_CHECK(!std::isnan(out[i]) && out[i] != std::numeric_limits<double>::infinity(),
                      "JkoFilter: the observation log-likelihood of observation " << k << " returned " << out[i]
                                                                                   << " (must be finite or -inf)");
        return out;
    }

    // Push x₀ [n][D] through blocks [0, k): path ends → `out`, Σ ℓ at the observed ends → `sum_ll`.
    void push_paths(const std::vector<double>& start, int k, std::vector<double>& out, std::vector<double>& sum_ll) {
        const std::int64_t n = static_cast<std::int64_t>(start.size()) / D;
        std::vector<T> x(start.begin(), start.end());
        sum_ll.assign(static_cast<std::size_t>(n), 0.0);
        std::vector<double> xd;
        for (int b = 0; b < k; ++b) {
            blocks[static_cast<std::size_t>(b)].push(*ctx, 0, blocks[static_cast<std::size_t>(b)].steps(), x.data(), n);
            const int obs = observation[static_cast<std::size_t>(b)];
            if (obs < 0) continue;
            xd.assign(x.begin(), x.end());
            const std::vector<double> ll = observe(obs, xd.data(), n);
            for (std::int64_t i = 0; i < n; ++i) sum_ll[static_cast<std::size_t>(i)] += ll[static_cast<std::size_t>(i)];
        }
        out.assign(x.begin(), x.end());
        for (std::int64_t i = 0; i < n; ++i) {
            bool finite = true;
            for (int d = 0; d < D; ++d) finite = finite && std::isfinite(out[static_cast<std::size_t>(i * D + d)]);
            if (!finite) sum_ll[static_cast<std::size_t>(i)] = kNegInf;  // a path that left the numbers: rejected
        }
    }

    void start_chains() {
        N = opt.chains;
        x0 = rho0->sample(N, rng);
        end = x0;
        L.assign(static_cast<std::size_t>(N), 0.0);
        logr0 = rho0->log_density(x0);
        level = 0;
    }

    // The chains' x₀ covariance factor (regularised), for the random walk.
    void update_random_walk_factor() {
        std::vector<double> mean(static_cast<std::size_t>(D), 0.0), cov(static_cast<std::size_t>(D * D), 0.0);
        for (std::int64_t c = 0; c < N; ++c)
            for (int d = 0; d < D; ++d) mean[static_cast<std::size_t>(d)] += x0[static_cast<std::size_t>(c * D + d)];
        for (double& m : mean) m /= static_cast<double>(N);
        for (std::int64_t c = 0; c < N; ++c)
            for (int a = 0; a < D; ++a)
                for (int b = 0; b < D; ++b)
                    cov[static_cast<std::size_t>(a * D + b)] +=
                        (x0[static_cast<std::size_t>(c * D + a)] - mean[static_cast<std::size_t>(a)]) *
                        (x0[static_cast<std::size_t>(c * D + b)] - mean[static_cast<std::size_t>(b)]);
        double trace = 0;
        for (int a = 0; a < D; ++a) trace += cov[static_cast<std::size_t>(a * D + a)] / static_cast<double>(N);
        // A floor keeps the walk moving when the chains have collapsed onto few points.
        const double floor = std::max(1e-6 * trace / D, 1e-12);
        for (double& v : cov) v /= static_cast<double>(N);
        for (int a = 0; a < D; ++a) cov[static_cast<std::size_t>(a * D + a)] += floor;
        const int status = detail::cholesky_lower_inplace(cov.data(), D);
        if (status != 0) {  // not SPD after all: an isotropic walk of the same trace
            std::fill(cov.begin(), cov.end(), 0.0);
            for (int a = 0; a < D; ++a) cov[static_cast<std::size_t>(a * D + a)] = std::sqrt(std::max(trace / D, 1e-12));
        }
        for (int a = 0; a < D; ++a)
            for (int b = a + 1; b < D; ++b) cov[static_cast<std::size_t>(a * D + b)] = 0.0;
        rw_factor = std::move(cov);
    }

    // One MH sweep at the current level; adapt: whether the random walk's scale may change.
    void sweep(bool adapt) {
        const bool reference = opt.sampler == FilterSampler::Reference;
        const bool random_walk = !reference && (sweeps % 2 == 0);
        ++sweeps;
        const std::size_t ND = static_cast<std::size_t>(N * D);
        std::vector<double> prop(ND), prop_logr0(static_cast<std::size_t>(N));
        if (random_walk) {
            std::vector<double> z(static_cast<std::size_t>(D));
            for (std::int64_t c = 0; c < N; ++c) {
                for (int d = 0; d < D; ++d) z[static_cast<std::size_t>(d)] = rng.normal();
                for (int a = 0; a < D; ++a) {
                    double s = 0;
                    for (int b = 0; b <= a; ++b) s += rw_factor[static_cast<std::size_t>(a * D + b)] * z[static_cast<std::size_t>(b)];
                    prop[static_cast<std::size_t>(c * D + a)] = x0[static_cast<std::size_t>(c * D + a)] + rw_scale * s;
                }
            }
        } else {
            prop = rho0->sample(N, rng);
        }
        prop_logr0 = rho0->log_density(prop);
        std::vector<double> prop_end, prop_L;
        push_paths(prop, level, prop_end, prop_L);
        std::int64_t accepted = 0;
        for (std::int64_t c = 0; c < N; ++c) {
            const std::size_t i = static_cast<std::size_t>(c);
            double log_ratio = prop_L[i] - L[i];
            if (random_walk) log_ratio += prop_logr0[i] - logr0[i];
            const bool ok = prop_L[i] > kNegInf && prop_logr0[i] > kNegInf && std::log(rng.uniform()) < log_ratio;
            if (!ok) continue;
            ++accepted;
            std::copy_n(prop.begin() + c * D, D, x0.begin() + c * D);
            std::copy_n(prop_end.begin() + c * D, D, end.begin() + c * D);
            L[i] = prop_L[i];
            logr0[i] = prop_logr0[i];
        }
        if (random_walk) {
            prop_rw += N;
            acc_rw += accepted;
            if (adapt) {  // Robbins–Monro on log scale towards the target acceptance
                const double rate = static_cast<double>(accepted) / static_cast<double>(N);
                rw_scale *= std::exp(rate - opt.target_acceptance);
                rw_scale = std::min(std::max(rw_scale, 1e-4), 1e2);
            }
        } else {
            prop_indep += N;
            acc_indep += accepted;
        }
    }

    // Extend the chains' paths by block `level` (just trained), apply its observation, resample (smc)
    // and warm up: the chains move to level + 1.
    void advance_level(FilterBlockReport& rep) {
        const int b = level;
        {
            std::vector<T> x(end.begin(), end.end());
            blocks[static_cast<std::size_t>(b)].push(*ctx, 0, blocks[static_cast<std::size_t>(b)].steps(), x.data(), N);
            end.assign(x.begin(), x.end());
        }
        level = b + 1;
        sweeps = 0;
        const int obs = observation[static_cast<std::size_t>(b)];
        std::vector<double> w(static_cast<std::size_t>(N), 0.0);
        if (obs >= 0) {
            w = observe(obs, end.data(), N);
            for (std::int64_t c = 0; c < N; ++c) {
                const bool finite = std::all_of(end.begin() + c * D, end.begin() + (c + 1) * D, [](double v) { return std::isfinite(v); });
                if (!finite) w[static_cast<std::size_t>(c)] = kNegInf;
            }
            const double lme = log_mean_exp(w);
            WGF_CHECK(lme > kNegInf, "JkoFilter: observation " << obs << " has likelihood 0 (or a non-finite path) at every one of the "
                                                                << N << " chains: the filter cannot continue");
            rep.log_evidence_increment = lme;
            double s1 = 0, s2 = 0;
            for (double v : w) {
                const double e = std::exp(v - lme);
                s1 += e;
                s2 += e * e;
            }
            rep.ess_fraction = s1 * s1 / s2 / static_cast<double>(N);
            for (std::int64_t c = 0; c < N; ++c) L[static_cast<std::size_t>(c)] += w[static_cast<std::size_t>(c)];
            if (opt.sampler == FilterSampler::Smc) resample(w, lme);
        }
        update_random_walk_factor();
        for (int s = 0; s < opt.warmup_sweeps; ++s) sweep(true);
    }

    // Systematic resampling of the chains by the weights e^{w}.
    void resample(const std::vector<double>& w, double lme) {
        std::vector<double> cum(static_cast<std::size_t>(N));
        double total = 0;
        for (std::int64_t c = 0; c < N; ++c) cum[static_cast<std::size_t>(c)] = total += std::exp(w[static_cast<std::size_t>(c)] - lme);
        const double u0 = rng.uniform();
        std::vector<double> nx0(x0.size()), nend(end.size()), nL(L.size()), nr(logr0.size());
        std::int64_t j = 0;
        for (std::int64_t c = 0; c < N; ++c) {
            const double u = (static_cast<double>(c) + u0) / static_cast<double>(N) * total;
            while (j < N - 1 && cum[static_cast<std::size_t>(j)] < u) ++j;
            std::copy_n(x0.begin() + j * D, D, nx0.begin() + c * D);
            std::copy_n(end.begin() + j * D, D, nend.begin() + c * D);
            nL[static_cast<std::size_t>(c)] = L[static_cast<std::size_t>(j)];
            nr[static_cast<std::size_t>(c)] = logr0[static_cast<std::size_t>(j)];
        }
        x0.swap(nx0);
        end.swap(nend);
        L.swap(nL);
        logr0.swap(nr);
    }

    // n draws of the path ends at the current level: rounds of thin_sweeps sweeps, then every chain's end.
    std::vector<double> draw(std::int64_t n) {
        WGF_CHECK(n > 0, "JkoFilter: a sample of " << n << " points asked for");
        std::vector<double> out;
        out.reserve(static_cast<std::size_t>(n * D));
        while (static_cast<std::int64_t>(out.size()) < n * D) {
            for (int s = 0; s < opt.thin_sweeps; ++s) sweep(false);
            const std::int64_t take = std::min<std::int64_t>(N, n - static_cast<std::int64_t>(out.size()) / D);
            out.insert(out.end(), end.begin(), end.begin() + take * D);
        }
        return out;
    }

    std::int64_t unique_starts() const {
        std::vector<std::vector<double>> rows(static_cast<std::size_t>(N));
        for (std::int64_t c = 0; c < N; ++c) rows[static_cast<std::size_t>(c)].assign(x0.begin() + c * D, x0.begin() + (c + 1) * D);
        std::sort(rows.begin(), rows.end());
        return static_cast<std::int64_t>(std::unique(rows.begin(), rows.end()) - rows.begin());
    }

    // log p̃_k at y [n][D] (NaN where an inversion failed).
    std::vector<double> log_posterior(int k, const double* y, std::int64_t n) const {
        const std::vector<double> pts(y, y + n * D);
        if (k == 0) return rho0->log_density(pts);
        const Flow<T>& f = blocks[static_cast<std::size_t>(k - 1)];
        InverseReport rep;
        std::vector<double> lp = f.log_density(*ctx, f.steps(), pts, opt.inverse, &rep);
        const int obs = observation[static_cast<std::size_t>(k - 1)];
        if (obs >= 0) {
            const std::vector<double> ll = observe(obs, y, n);
            for (std::int64_t i = 0; i < n; ++i) lp[static_cast<std::size_t>(i)] += ll[static_cast<std::size_t>(i)];
        }
        for (std::int64_t i = 0; i < n; ++i)
            if (!rep.converged[static_cast<std::size_t>(i)]) lp[static_cast<std::size_t>(i)] = std::numeric_limits<double>::quiet_NaN();
        return lp;
    }
};

}  // namespace detail

namespace {
/// The filtering posterior p̃_k as the ρ⁰ of block k + 1 (see the file comment).
template <typename T>
class PosteriorAt final : public InitialDistribution {
public:
    using State = detail::JkoFilterState<T>;
    PosteriorAt(State* state, int k) : m_state(state), m_k(k) {}
    int dim() const override { return m_state->D; }
    std::vector<double> sample(std::int64_t n, Rng&) const override {
        WGF_CHECK(m_state->level == m_k, "JkoFilter: the posterior at block " << m_k << " was sampled while the chains are at "
                                                                                 << m_state->level << " (a filter's blocks are trained in order)");
        return m_state->draw(n);
    }
    void log_density(const double* x, std::int64_t n, double* out) const override {
        const std::vector<double> lp = m_state->log_posterior(m_k, x, n);
        std::copy(lp.begin(), lp.end(), out);
    }
    using InitialDistribution::log_density;
    std::string describe() const override {
        std::ostringstream os;
        os << "JKO filter posterior after block " << m_k << " (unnormalised) in D = " << m_state->D;
        return os.str();
    }
    InitialRecord record() const override {
        InitialRecord r;
        r.kind = "user";
        std::ostringstream os;
        os << "jko-filter-posterior-" << m_k;
        r.name = os.str();
        r.dim = m_state->D;
        return r;
    }

private:
    State* m_state;
    int m_k;
};

}  // namespace

// ---- JkoFilter ------------------------------------------------------------------------------------

template <typename T>
JkoFilter<T>::JkoFilter(Context& ctx, std::shared_ptr<const Potential<T>> potential,
                        std::shared_ptr<const InitialDistribution> rho0, ObservationLogLikelihood loglik,
                        JkoFilterOptions options)
    : m(std::make_unique<detail::JkoFilterState<T>>(ctx, std::move(potential), std::move(rho0), std::move(loglik), std::move(options))) {
    m->validate();
    m->D = m->rho0->dim();
}

template <typename T>
JkoFilter<T>::~JkoFilter() = default;

template <typename T>
void JkoFilter<T>::run(const std::vector<double>& times, double t_final,
                       const std::function<void(const FilterBlockReport&)>& on_block) {
    using clock = std::chrono::steady_clock;
    detail::JkoFilterState<T>& s = *m;
    WGF_CHECK(s.blocks.empty(), "JkoFilter::run: the filter has already run (make a new one)");
    const double tau = s.opt.jko.tau;
    // The blocks: one per observation interval, and one to t_final when it is after the last observation.
    std::vector<double> ends;
    std::vector<int> steps, obs;
    double prev = 0;
    for (std::size_t k = 0; k < times.size(); ++k) {
        WGF_CHECK(std::isfinite(times[k]) && times[k] > prev,
                  "JkoFilter::run: observation times must be finite and increase from 0; time " << k << " is " << times[k]);
        std::ostringstream what;
        what << "observation " << k;
        steps.push_back(steps_of(prev, times[k], tau, what.str()));
        ends.push_back(times[k]);
        obs.push_back(static_cast<int>(k));
        prev = times[k];
    }
    WGF_CHECK(std::isfinite(t_final) && t_final >= prev * (1 - 1e-12),
              "JkoFilter::run: t_final = " << t_final << " is before the last observation (t = " << prev << ")");
    if (t_final - prev > 1e-9 * std::max(1.0, t_final)) {
        steps.push_back(steps_of(prev, t_final, tau, "t_final"));
        ends.push_back(t_final);
        obs.push_back(-1);
    }
    WGF_CHECK(!ends.empty(), "JkoFilter::run: no observations and t_final = 0: nothing to do");

    s.start_chains();
    s.posterior.push_back(s.rho0);
    double t0 = 0;
    for (std::size_t b = 0; b < ends.size(); ++b) {
        FilterBlockReport rep;
        rep.block = static_cast<int>(b);
        rep.t_start = t0;
        rep.t_end = ends[b];
        rep.observed = obs[b] >= 0;
        rep.steps = steps[b];
        JkoOptions jo = s.opt.jko;
        jo.steps = steps[b];
        jo.checkpoint_dir.clear();
        jo.seed = s.opt.jko.seed + b;
        const auto c0 = clock::now();
        JkoSolver<T> solver(*s.ctx, s.opt.shape, s.potential, jo);
        Flow<T> flow(s.posterior[b]);
        solver.run(flow, [&](const JkoStepReport& r) {
            rep.loss_first = r.loss_first;
            rep.loss_last = r.loss_last;
        });
        const auto c1 = clock::now();
        s.blocks.push_back(std::move(flow));
        s.observation.push_back(obs[b]);
        s.advance_level(rep);
        s.posterior.push_back(std::make_shared<const PosteriorAt<T>>(&s, static_cast<int>(b) + 1));
        const auto c2 = clock::now();
        rep.train_seconds = std::chrono::duration<double>(c1 - c0).count();
        rep.sample_seconds = std::chrono::duration<double>(c2 - c1).count();
        rep.accept_independent = s.prop_indep ? static_cast<double>(s.acc_indep) / static_cast<double>(s.prop_indep) : 0.0;
        rep.accept_random_walk = s.prop_rw ? static_cast<double>(s.acc_rw) / static_cast<double>(s.prop_rw) : 0.0;
        rep.random_walk_scale = s.opt.sampler == FilterSampler::Smc ? s.rw_scale : 0.0;
        rep.unique_starts = s.unique_starts();
        s.prop_indep = s.acc_indep = s.prop_rw = s.acc_rw = 0;
        s.reports.push_back(rep);
        if (on_block) on_block(rep);
        t0 = ends[b];
    }
}

template <typename T>
int JkoFilter<T>::blocks() const {
    return static_cast<int>(m->blocks.size());
}

template <typename T>
const Flow<T>& JkoFilter<T>::block(int b) const {
    WGF_CHECK(b >= 0 && b < blocks(), "JkoFilter::block: " << b << " out of range [0, " << blocks() << ")");
    return m->blocks[static_cast<std::size_t>(b)];
}

template <typename T>
const std::vector<FilterBlockReport>& JkoFilter<T>::reports() const {
    return m->reports;
}

template <typename T>
double JkoFilter<T>::log_evidence() const {
    double s = 0;
    for (const auto& r : m->reports) s += r.log_evidence_increment;
    return s;
}

template <typename T>
std::vector<double> JkoFilter<T>::log_density(const std::vector<double>& y, InverseReport* report, int after_block) const {
    const detail::JkoFilterState<T>& s = *m;
    WGF_CHECK(!s.blocks.empty(), "JkoFilter::log_density: the filter has not run");
    WGF_CHECK(after_block >= -1 && after_block < blocks(),
              "JkoFilter::log_density: block " << after_block << " out of range [-1, " << blocks() << ")");
    const int level = after_block < 0 ? blocks() : after_block + 1;
    WGF_CHECK(!y.empty() && y.size() % static_cast<std::size_t>(s.D) == 0,
              "JkoFilter::log_density: y has " << y.size() << " values, not a positive multiple of D = " << s.D);
    for (double v : y) WGF_CHECK(std::isfinite(v), "JkoFilter::log_density: y contains NaN/Inf");
    const std::int64_t n = static_cast<std::int64_t>(y.size()) / s.D;
    std::vector<double> lp = s.log_posterior(level, y.data(), n);
    std::int64_t failed = 0;
    if (report) {
        report->iterations.assign(static_cast<std::size_t>(n), 0);
        report->residual.assign(static_cast<std::size_t>(n), 0.0);
        report->converged.assign(static_cast<std::size_t>(n), 1);
    }
    for (std::int64_t i = 0; i < n; ++i)
        if (std::isnan(lp[static_cast<std::size_t>(i)])) {
            ++failed;
            if (report) report->converged[static_cast<std::size_t>(i)] = 0;
        }
    WGF_CHECK(report != nullptr || failed == 0, "JkoFilter::log_density: inversion failed for "
                                                    << failed << " of " << n << " points (pass an InverseReport to get per-point results)");
    return lp;
}

template <typename T>
std::vector<double> JkoFilter<T>::sample(std::int64_t n) {
    WGF_CHECK(!m->blocks.empty(), "JkoFilter::sample: the filter has not run");
    return m->draw(n);
}

template class JkoFilter<float>;
template class JkoFilter<double>;

}  // namespace wgf

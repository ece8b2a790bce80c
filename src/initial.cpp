// initial.cpp — the built-in ρ⁰ (wgf/initial.h) and their records.
//
//   GaussianMixture:  log ρ(x) = logsumexp_k (log w_k + log N(x; μ_k, Σ_k)); sample: k ∼ w, then N(μ_k, Σ_k)
//   UniformBox:       log ρ(x) = −Σ_d log(b_d − a_d) inside, −∞ outside; sample a + (b − a) U
// Records (params, docs/FORMATS.md): gaussian mean[D] cov[D·D]; gaussian-mixture K w[K] μ[K·D] Σ[K·D·D];
// uniform-box lower[D] upper[D]; user: none (name and D only).
#include "wgf/initial.h"

#include "wgf/logreg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "wgf/error.h"
#include "wgf/flow.h"
#include "wgf/metrics.h"

namespace wgf {

std::vector<double> InitialDistribution::log_density(const std::vector<double>& x) const {
    const std::size_t D = static_cast<std::size_t>(dim());
    WGF_CHECK(x.size() % D == 0, "log_density: x has " << x.size() << " entries, not a multiple of D = " << D << " ("
                                                       << describe() << ")");
    std::vector<double> out(x.size() / D);
    log_density(x.data(), static_cast<std::int64_t>(out.size()), out.data());
    return out;
}

std::vector<double> InitialDistribution::sample_with_log_density(std::int64_t n, Rng& rng,
                                                                 std::vector<double>& logp) const {
    std::vector<double> x = sample(n, rng);
    logp = log_density(x);
    return x;
}

// ---- GaussianMixture -------------------------------------------------------------------------------

GaussianMixture::GaussianMixture(std::vector<double> weights, std::vector<double> means, std::vector<double> covs, int dim)
    : m_dim(dim), m_weights(std::move(weights)), m_means(std::move(means)), m_covs(std::move(covs)) {
    WGF_CHECK(dim >= 1, "GaussianMixture: dim must be >= 1, got " << dim);
    const std::size_t K = m_weights.size(), D = static_cast<std::size_t>(dim);
    WGF_CHECK(K >= 1, "GaussianMixture: no components (weights is empty)");
    WGF_CHECK(m_means.size() == K * D, "GaussianMixture: means has " << m_means.size() << " entries, expected K*D = "
                                                                     << K << "*" << D << " = " << K * D);
    WGF_CHECK(m_covs.size() == K * D * D, "GaussianMixture: covs has " << m_covs.size() << " entries, expected K*D*D = "
                                                                       << K * D * D);
    double total = 0;
    for (std::size_t k = 0; k < K; ++k) {
        WGF_CHECK(std::isfinite(m_weights[k]) && m_weights[k] > 0,
                  "GaussianMixture: weight " << k << " must be finite and > 0, got " << m_weights[k]);
        total += m_weights[k];
    }
    for (auto& w : m_weights) w /= total;
    for (std::size_t k = 0; k < K; ++k) {
        std::vector<double> mu(m_means.begin() + k * D, m_means.begin() + (k + 1) * D);
        std::vector<double> cov(m_covs.begin() + k * D * D, m_covs.begin() + (k + 1) * D * D);
        try {
            m_parts.push_back(std::make_shared<Gaussian>(std::move(mu), std::move(cov)));
        } catch (const Error& e) {
            WGF_FAIL("GaussianMixture: component " << k << ": " << e.what());
        }
    }
    m_counter.law = detail::CounterLaw::GaussianMixture;
    m_counter.dim = dim;
    m_counter.components = static_cast<std::int32_t>(K);
    double c = 0;
    for (std::size_t k = 0; k < K; ++k) m_counter.params.push_back(k + 1 < K ? (c += m_weights[k]) : 1.0);
    for (const auto& part : m_parts) {  // mean, then the Cholesky factor of each component
        const detail::CounterSampler g = part->counter_sampler();
        m_counter.params.insert(m_counter.params.end(), g.params.begin(), g.params.end());
    }
}

std::vector<double> GaussianMixture::sample(std::int64_t n, Rng& rng) const {
    WGF_CHECK(n >= 0, "GaussianMixture::sample: n must be >= 0, got " << n);
    const std::size_t D = static_cast<std::size_t>(m_dim);
    std::vector<double> out(static_cast<std::size_t>(n) * D);
    std::vector<double> cdf(m_weights.size());
    double c = 0;
    for (std::size_t k = 0; k < cdf.size(); ++k) cdf[k] = (c += m_weights[k]);
    for (std::int64_t p = 0; p < n; ++p) {
        const double u = rng.uniform() * c;
        const std::size_t k =
            std::min<std::size_t>(static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()),
                                  cdf.size() - 1);
        const std::vector<double> x = m_parts[k]->sample(1, rng);
        std::copy(x.begin(), x.end(), out.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(p) * D));
    }
    return out;
}

void GaussianMixture::log_density(const double* x, std::int64_t n, double* out) const {
    WGF_CHECK(n >= 0, "GaussianMixture::log_density: n must be >= 0, got " << n);
    if (n == 0) return;
    WGF_CHECK(x != nullptr && out != nullptr, "GaussianMixture::log_density: x or out is null");
    const std::size_t K = m_parts.size(), N = static_cast<std::size_t>(n);
    std::vector<double> terms(K * N);
    for (std::size_t k = 0; k < K; ++k) {
        m_parts[k]->log_density(x, n, terms.data() + k * N);
        for (std::size_t p = 0; p < N; ++p) terms[k * N + p] += std::log(m_weights[k]);
    }
    for (std::size_t p = 0; p < N; ++p) {  // log-sum-exp: every exponent ≤ 0, one = 0
        double m = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < K; ++k) m = std::max(m, terms[k * N + p]);
        double s = 0;
        for (std::size_t k = 0; k < K; ++k) s += std::exp(terms[k * N + p] - m);
        out[p] = m + std::log(s);
    }
}

std::vector<int> GaussianMixture::most_likely_component(const double* x, std::int64_t n) const {
    WGF_CHECK(n >= 0 && (n == 0 || x != nullptr), "GaussianMixture::most_likely_component: bad input (n = " << n << ")");
    const std::size_t K = m_parts.size(), N = static_cast<std::size_t>(n);
    std::vector<int> best(N, 0);
    std::vector<double> best_score(N, -std::numeric_limits<double>::infinity()), score(N);
    for (std::size_t k = 0; k < K; ++k) {
        if (n > 0) m_parts[k]->log_density(x, n, score.data());
        for (std::size_t p = 0; p < N; ++p) {
            const double v = score[p] + std::log(m_weights[k]);
            if (v > best_score[p]) {
                best_score[p] = v;
                best[p] = static_cast<int>(k);
            }
        }
    }
    return best;
}

std::string GaussianMixture::describe() const {
    std::ostringstream os;
    os << "Gaussian mixture of " << m_weights.size() << " components in D = " << m_dim;
    return os.str();
}

InitialRecord GaussianMixture::record() const {
    InitialRecord r;
    r.kind = "gaussian-mixture";
    r.dim = m_dim;
    r.params.push_back(static_cast<double>(m_weights.size()));
    r.params.insert(r.params.end(), m_weights.begin(), m_weights.end());
    r.params.insert(r.params.end(), m_means.begin(), m_means.end());
    r.params.insert(r.params.end(), m_covs.begin(), m_covs.end());
    return r;
}

// ---- UniformBox ------------------------------------------------------------------------------------

UniformBox::UniformBox(std::vector<double> lower, std::vector<double> upper)
    : m_lower(std::move(lower)), m_upper(std::move(upper)) {
    WGF_CHECK(!m_lower.empty(), "UniformBox: lower is empty (its size is the dimension D)");
    WGF_CHECK(m_upper.size() == m_lower.size(),
              "UniformBox: lower has " << m_lower.size() << " entries, upper " << m_upper.size());
    for (std::size_t d = 0; d < m_lower.size(); ++d) {
        WGF_CHECK(std::isfinite(m_lower[d]) && std::isfinite(m_upper[d]) && m_lower[d] < m_upper[d],
                  "UniformBox: side " << d << " must be finite with lower < upper, got [" << m_lower[d] << ", "
                                      << m_upper[d] << "]");
        m_log_density -= std::log(m_upper[d] - m_lower[d]);
    }
    m_counter.law = detail::CounterLaw::UniformBox;
    m_counter.dim = static_cast<std::int32_t>(m_lower.size());
    m_counter.params = m_lower;
    m_counter.params.insert(m_counter.params.end(), m_upper.begin(), m_upper.end());
}

std::vector<double> UniformBox::sample(std::int64_t n, Rng& rng) const {
    WGF_CHECK(n >= 0, "UniformBox::sample: n must be >= 0, got " << n);
    const std::size_t D = m_lower.size();
    std::vector<double> out(static_cast<std::size_t>(n) * D);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::size_t d = i % D;
        out[i] = m_lower[d] + (m_upper[d] - m_lower[d]) * rng.uniform();
    }
    return out;
}

void UniformBox::log_density(const double* x, std::int64_t n, double* out) const {
    WGF_CHECK(n >= 0, "UniformBox::log_density: n must be >= 0, got " << n);
    if (n == 0) return;
    WGF_CHECK(x != nullptr && out != nullptr, "UniformBox::log_density: x or out is null");
    const std::size_t D = m_lower.size();
    for (std::int64_t p = 0; p < n; ++p) {
        bool inside = true;
        for (std::size_t d = 0; d < D; ++d) {
            const double v = x[static_cast<std::size_t>(p) * D + d];
            inside = inside && v >= m_lower[d] && v <= m_upper[d];  // NaN is outside
        }
        out[p] = inside ? m_log_density : -std::numeric_limits<double>::infinity();
    }
}

std::string UniformBox::describe() const {
    std::ostringstream os;
    os << "uniform on a box in D = " << m_lower.size() << " ([" << m_lower[0] << ", " << m_upper[0] << "] × …)";
    return os.str();
}

InitialRecord UniformBox::record() const {
    InitialRecord r;
    r.kind = "uniform-box";
    r.dim = dim();
    r.params = m_lower;
    r.params.insert(r.params.end(), m_upper.begin(), m_upper.end());
    return r;
}

// ---- UserDistribution ------------------------------------------------------------------------------

UserDistribution::UserDistribution(std::string name, int dim, Sampler sampler, LogDensity log_density)
    : m_name(std::move(name)), m_dim(dim), m_sampler(std::move(sampler)), m_log_density(std::move(log_density)) {
    WGF_CHECK(!m_name.empty(), "UserDistribution: the name is empty (it identifies the distribution in flow files)");
    WGF_CHECK(dim >= 1, "UserDistribution '" << m_name << "': dim must be >= 1, got " << dim);
    WGF_CHECK(m_sampler && m_log_density, "UserDistribution '" << m_name << "': the sampler or the log-density is empty");
}

std::vector<double> UserDistribution::sample(std::int64_t n, Rng& rng) const {
    WGF_CHECK(n >= 0, "UserDistribution '" << m_name << "'::sample: n must be >= 0, got " << n);
    std::vector<double> x = m_sampler(n, rng);
    WGF_CHECK(x.size() == static_cast<std::size_t>(n) * static_cast<std::size_t>(m_dim),
              "UserDistribution '" << m_name << "': the sampler returned " << x.size() << " values for n = " << n
                                   << " points in D = " << m_dim << " (expected " << n * m_dim << ")");
    for (std::size_t i = 0; i < x.size(); ++i)
        WGF_CHECK(std::isfinite(x[i]), "UserDistribution '" << m_name << "': the sampler returned a non-finite value ("
                                                            << x[i] << ") for point " << i / m_dim << ", coordinate "
                                                            << i % m_dim);
    return x;
}

void UserDistribution::log_density(const double* x, std::int64_t n, double* out) const {
    WGF_CHECK(n >= 0, "UserDistribution '" << m_name << "'::log_density: n must be >= 0, got " << n);
    if (n == 0) return;
    m_log_density(x, n, out);
    for (std::int64_t p = 0; p < n; ++p)
        WGF_CHECK(!std::isnan(out[p]) && out[p] != std::numeric_limits<double>::infinity(),
                  "UserDistribution '" << m_name << "': log-density " << out[p] << " at point " << p
                                       << " (NaN and +inf are not densities; -inf means outside the support)");
}

std::string UserDistribution::describe() const {
    std::ostringstream os;
    os << "user-defined '" << m_name << "' in D = " << m_dim;
    return os.str();
}

InitialRecord UserDistribution::record() const {
    InitialRecord r;
    r.kind = "user";
    r.name = m_name;
    r.dim = m_dim;
    return r;
}

// ---- records → distributions -----------------------------------------------------------------------

std::shared_ptr<const InitialDistribution> make_initial(const InitialRecord& r) {
    WGF_CHECK(r.dim >= 1, "initial distribution record '" << r.kind << "': dimension " << r.dim << " is out of range");
    const std::size_t D = static_cast<std::size_t>(r.dim), P = r.params.size();
    const auto expect = [&](std::size_t n) {
        WGF_CHECK(P == n, "initial distribution record '" << r.kind << "' in D = " << D << ": " << P
                                                          << " parameters, expected " << n);
    };
    if (r.kind == "gaussian") {
        expect(D + D * D);
        return std::make_shared<Gaussian>(std::vector<double>(r.params.begin(), r.params.begin() + D),
                                          std::vector<double>(r.params.begin() + D, r.params.end()));
    }
    if (r.kind == "gaussian-mixture") {
        WGF_CHECK(P >= 1 && r.params[0] >= 1 && r.params[0] <= 1e6 && r.params[0] == std::floor(r.params[0]),
                  "initial distribution record 'gaussian-mixture': bad component count");
        const std::size_t K = static_cast<std::size_t>(r.params[0]);
        expect(1 + K + K * D + K * D * D);
        const auto b = r.params.begin() + 1;
        return std::make_shared<GaussianMixture>(std::vector<double>(b, b + K), std::vector<double>(b + K, b + K + K * D),
                                                 std::vector<double>(b + K + K * D, r.params.end()), r.dim);
    }
    if (r.kind == "uniform-box") {
        expect(2 * D);
        return std::make_shared<UniformBox>(std::vector<double>(r.params.begin(), r.params.begin() + D),
                                            std::vector<double>(r.params.begin() + D, r.params.end()));
    }
    if (r.kind == "flow-end") return detail::make_flow_end(r);
    if (r.kind == "logreg-prior") {  // params: a, b, clip (+inf: none); LogisticPrior checks their ranges
        expect(3);
        WGF_CHECK(r.dim >= 2, "initial distribution record 'logreg-prior': D = " << r.dim << ", expected >= 2 (d + 1)");
        return std::make_shared<LogisticPrior>(r.dim - 1, r.params[0], r.params[1], r.params[2]);
    }
    if (r.kind == "user")
        WGF_FAIL("the flow starts from the user-defined distribution '"
                 << r.name << "' (D = " << r.dim << "), which only the program that defined it can rebuild: pass it to "
                 << "Flow::load / Flow::load_steps / JkoSolver::resume_or_start");
    WGF_FAIL("unknown initial distribution kind '" << r.kind << "'");
}

}  // namespace wgf

// wgf/initial.h — ρ⁰, the law a flow starts from: exact samples and an exact log-density, in host
// memory and double precision, plus how it is recorded in flow and step files (docs/FORMATS.md).
//
// Built in: Gaussian (wgf/metrics.h), GaussianMixture, UniformBox, FlowEnd (ρ^k of another flow,
// wgf/flow.h), and UserDistribution (a sampler
// and a log-density given as callbacks; saved by name only, so a flow that starts from one is loaded
// by handing the same distribution back to Flow::load / load_steps).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wgf/detail/counter_sampler.h"
#include "wgf/random.h"

namespace wgf {

/// How a ρ⁰ is stored: a kind, a name (UserDistribution), parameters. Two flows start from the same
/// ρ⁰ when their records are equal.
struct InitialRecord {
    std::string kind;            ///< "gaussian", "gaussian-mixture", "uniform-box", "flow-end", "logreg-prior" or "user"
    std::string name;            ///< "user": the name the program gave; empty otherwise
    std::int32_t dim = 0;
    std::vector<double> params;  ///< kind-specific, docs/FORMATS.md
    std::string blob;            ///< "flow-end": the source flow's file bytes; empty otherwise
    bool operator==(const InitialRecord& o) const {
        return kind == o.kind && name == o.name && dim == o.dim && params == o.params && blob == o.blob;
    }
    bool operator!=(const InitialRecord& o) const { return !(*this == o); }
};

class InitialDistribution {
public:
    virtual ~InitialDistribution() = default;
    virtual int dim() const = 0;
    /// n samples [n][D] (row-major).
    virtual std::vector<double> sample(std::int64_t n, Rng& rng) const = 0;
    /// log ρ⁰(x_i) for x [n][D] → out [n]; −∞ outside the support.
    virtual void log_density(const double* x, std::int64_t n, double* out) const = 0;
    /// The same for x.size() / D points (x.size() must be a multiple of D).
    std::vector<double> log_density(const std::vector<double>& x) const;
    /// n samples and their log-densities; by default sample() then log_density(), cheaper for
    /// distributions that know the density of what they sample (FlowEnd: along the traces).
    virtual std::vector<double> sample_with_log_density(std::int64_t n, Rng& rng, std::vector<double>& logp) const;
    /// One line for logs and errors, e.g. "Gaussian N(mean, cov) in D = 2".
    virtual std::string describe() const = 0;
    virtual InitialRecord record() const = 0;
    /// The law as a counter-based sampler (wgf/detail/counter_sampler.h) for the built-in Gaussian,
    /// GaussianMixture and UniformBox: point i of a draw is a function of (key, i), so the CUDA backend
    /// draws the same points on the device (the pretraining's batches, on both backends). law None
    /// (the default): those batches come from sample() on the host.
    virtual detail::CounterSampler counter_sampler() const { return {}; }
};

/// The built-in distribution a record describes; throws wgf::Error for a bad record or for kind
/// "user" (which only the program that defined it can rebuild).
std::shared_ptr<const InitialDistribution> make_initial(const InitialRecord& record);

/// Σ_k w_k N(μ_k, Σ_k). weights [K] (> 0, normalised here), means [K][D], covs [K][D][D] (SPD).
class GaussianMixture : public InitialDistribution {
public:
    GaussianMixture(std::vector<double> weights, std::vector<double> means, std::vector<double> covs, int dim);
    int dim() const override { return m_dim; }
    int components() const { return static_cast<int>(m_weights.size()); }
    const std::vector<double>& weights() const { return m_weights; }
    /// For each of the n points [n][D], the component of largest posterior weight
    /// (argmax_k w_k N_k(x); ties to the lower k).
    std::vector<int> most_likely_component(const double* x, std::int64_t n) const;
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    void log_density(const double* x, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    std::string describe() const override;
    InitialRecord record() const override;
    detail::CounterSampler counter_sampler() const override { return m_counter; }

private:
    detail::CounterSampler m_counter;
    int m_dim;
    std::vector<double> m_weights, m_means, m_covs;
    std::vector<std::shared_ptr<const InitialDistribution>> m_parts;  // the Gaussians
};

/// Uniform on the box Π_d [lower_d, upper_d] (lower_d < upper_d, finite).
class UniformBox : public InitialDistribution {
public:
    UniformBox(std::vector<double> lower, std::vector<double> upper);
    int dim() const override { return static_cast<int>(m_lower.size()); }
    const std::vector<double>& lower() const { return m_lower; }
    const std::vector<double>& upper() const { return m_upper; }
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    void log_density(const double* x, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    std::string describe() const override;
    InitialRecord record() const override;
    detail::CounterSampler counter_sampler() const override { return m_counter; }

private:
    detail::CounterSampler m_counter;
    std::vector<double> m_lower, m_upper;
    double m_log_density = 0;  // −Σ log(upper − lower)
};

/// A ρ⁰ from the program: sampler(n, rng) → [n][D], log_density(x, n, out). Both must be exact for
/// the densities wgf reports to be exact. Its record holds the name and D only.
class UserDistribution : public InitialDistribution {
public:
    using Sampler = std::function<std::vector<double>(std::int64_t n, Rng& rng)>;
    using LogDensity = std::function<void(const double* x, std::int64_t n, double* out)>;
    UserDistribution(std::string name, int dim, Sampler sampler, LogDensity log_density);
    int dim() const override { return m_dim; }
    const std::string& name() const { return m_name; }
    /// Checks the sampler's output size and that it is finite (throws wgf::Error naming the distribution).
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    /// Checks that no value is NaN or +∞ (−∞ is allowed: outside the support).
    void log_density(const double* x, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    std::string describe() const override;
    InitialRecord record() const override;

private:
    std::string m_name;
    int m_dim;
    Sampler m_sampler;
    LogDensity m_log_density;
};

}  // namespace wgf

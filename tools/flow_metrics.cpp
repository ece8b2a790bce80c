// flow_metrics.cpp — see flow_metrics.h.
#include "flow_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace wgf_cli {

void mode_metrics(FlowMetrics& m, const std::vector<double>& model, const std::vector<double>& target_samples,
                  const wgf::InitialDistribution& target) {
    const auto* mix = dynamic_cast<const wgf::GaussianMixture*>(&target);
    if (mix == nullptr) return;
    const int D = mix->dim(), K = mix->components();
    auto fractions = [&](const std::vector<double>& x) {
        const std::int64_t n = static_cast<std::int64_t>(x.size()) / D;
        std::vector<double> f(static_cast<std::size_t>(K), 0.5);
        for (int c : mix->most_likely_component(x.data(), n)) f[static_cast<std::size_t>(c)] += 1;
        for (double& v : f) v /= static_cast<double>(n) + 0.5 * K;
        return f;
    };
    m.model_modes = fractions(model);
    m.target_modes = fractions(target_samples);
    double sym = 0;
    for (int k = 0; k < K; ++k) {
        const double p = m.model_modes[static_cast<std::size_t>(k)], q = m.target_modes[static_cast<std::size_t>(k)];
        sym += (p - q) * std::log(p / q);  // KL(p‖q) + KL(q‖p)
    }
    m.mode_sym_kl = sym;
}

template <typename T>
FlowMetrics flow_metrics(wgf::Context& ctx, const wgf::Flow<T>& flow, int k, const wgf::InitialDistribution& target,
                         std::int64_t n, wgf::Rng& rng, std::int64_t energy_points) {
    const int D = flow.dim();
    FlowMetrics m;
    m.samples = n;
    std::vector<double> logp_model;
    const std::vector<T> xs = flow.sample(ctx, k, n, rng, &logp_model);
    const std::vector<double> xd(xs.begin(), xs.end());
    const std::vector<double> target_at_model = target.log_density(xd);
    const std::vector<double> ys = target.sample(n, rng);
    const std::vector<double> target_at_target = target.log_density(ys);
    wgf::InverseReport rep;
    const std::vector<double> model_at_target = flow.log_density(ctx, k, ys, wgf::InverseOptions{}, &rep);
    // NaN: the inversion failed (dropped, counted); −∞: the point is outside ρ^k's support, so
    // KL(target‖model) = +∞ (counted, and said so rather than averaged away).
    std::vector<double> tt, mt;
    for (std::size_t i = 0; i < ys.size() / static_cast<std::size_t>(D); ++i) {
        if (std::isnan(model_at_target[i])) continue;
        if (model_at_target[i] == -std::numeric_limits<double>::infinity()) {
            ++m.outside_support;
            continue;
        }
        tt.push_back(target_at_target[i]);
        mt.push_back(model_at_target[i]);
    }
    m.inverse_failures = rep.failures();
    m.kl = wgf::symmetric_kl(logp_model, target_at_model, tt, mt);
    if (m.outside_support > 0) m.kl.kl_target_model = std::numeric_limits<double>::infinity();
    mode_metrics(m, xd, ys, target);
    m.energy = std::numeric_limits<double>::quiet_NaN();
    if (energy_points > 0) {
        const std::size_t e = static_cast<std::size_t>(std::min(energy_points, n)) * static_cast<std::size_t>(D);
        m.energy = wgf::energy_distance(std::vector<double>(xd.begin(), xd.begin() + static_cast<std::ptrdiff_t>(e)),
                                        std::vector<double>(ys.begin(), ys.begin() + static_cast<std::ptrdiff_t>(e)), D);
    }
    return m;
}

FlowMetrics kde_metrics(const wgf::GaussianKde& kde, const std::vector<double>& particles,
                        const wgf::InitialDistribution& target, std::int64_t n, wgf::Rng& rng,
                        std::int64_t energy_points) {
    const int D = kde.dim();
    FlowMetrics m;
    m.samples = n;
    const std::vector<double> xs = kde.sample(n, rng);
    const std::vector<double> kde_at_model = kde.log_density(xs), target_at_model = target.log_density(xs);
    const std::vector<double> ys = target.sample(n, rng);
    const std::vector<double> target_at_target = target.log_density(ys), kde_at_target = kde.log_density(ys);
    m.kl = wgf::symmetric_kl(kde_at_model, target_at_model, target_at_target, kde_at_target);
    mode_metrics(m, particles, ys, target);  // the particles themselves: the simulated law's mode weights
    m.energy = std::numeric_limits<double>::quiet_NaN();
    if (energy_points > 0) {
        const std::int64_t e = std::min({energy_points, n, static_cast<std::int64_t>(particles.size()) / D});
        const auto len = static_cast<std::ptrdiff_t>(e * D);
        m.energy = wgf::energy_distance(std::vector<double>(particles.begin(), particles.begin() + len),
                                        std::vector<double>(ys.begin(), ys.begin() + len), D);
    }
    return m;
}

template FlowMetrics flow_metrics<float>(wgf::Context&, const wgf::Flow<float>&, int, const wgf::InitialDistribution&,
                                         std::int64_t, wgf::Rng&, std::int64_t);
template FlowMetrics flow_metrics<double>(wgf::Context&, const wgf::Flow<double>&, int, const wgf::InitialDistribution&,
                                          std::int64_t, wgf::Rng&, std::int64_t);

}  // namespace wgf_cli

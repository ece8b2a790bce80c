// flow_metrics.h — a flow's ρ^k against a reference law with a known density (PAPER-SPEC §6.1):
// SymKL from n model samples (exact log-densities along their traces) and n reference samples (the
// model's log-density there through the inverse maps; points whose inversion fails are dropped from
// that mean and counted; points outside ρ^k's support make KL(target‖model) = +∞), and optionally the energy distance between the two sample sets.
#pragma once

#include <cstdint>
#include <limits>

#include <vector>

#include "wgf/baselines.h"
#include "wgf/context.h"
#include "wgf/flow.h"
#include "wgf/initial.h"
#include "wgf/metrics.h"
#include "wgf/random.h"

namespace wgf_cli {

struct FlowMetrics {
    wgf::SymmetricKl kl;
    double energy = 0;                    ///< NaN when not asked for
    std::int64_t inverse_failures = 0;    ///< reference samples dropped from KL(target‖model)
    std::int64_t outside_support = 0;     ///< reference samples where ρ^k = 0: then KL(target‖model) = +∞
    std::int64_t samples = 0;
    /// Mixture targets only (else empty / NaN): the fraction of model and of target samples whose
    /// most likely component is k, and the SymKL between these two discrete laws. By the
    /// data-processing inequality each KL term bounds the continuous one from below (up to sampling
    /// error; counts get +½ each so that an empty mode stays finite), so mode_sym_kl of the exact
    /// flow is a floor no method can beat when the flow has not redistributed mass between modes
    /// by time t.
    std::vector<double> model_modes, target_modes;
    double mode_sym_kl = std::numeric_limits<double>::quiet_NaN();
};

/// Fills the mode fields of m from model and target samples when target is a Gaussian mixture.
void mode_metrics(FlowMetrics& m, const std::vector<double>& model, const std::vector<double>& target_samples,
                  const wgf::InitialDistribution& target);

/// energy_points: how many of the samples (each side) enter the O(n²) energy distance; 0 = skip it.
template <typename T>
FlowMetrics flow_metrics(wgf::Context& ctx, const wgf::Flow<T>& flow, int k, const wgf::InitialDistribution& target,
                         std::int64_t n, wgf::Rng& rng, std::int64_t energy_points = 0);

/// The particle baselines' metrics (PAPER-SPEC §6.2): KL(model‖target) over n samples resampled from
/// the KDE of the particles, KL(target‖model) over n target samples, both with the KDE's log-density;
/// the energy distance between the first min(n, energy_points) particles and target samples.
FlowMetrics kde_metrics(const wgf::GaussianKde& kde, const std::vector<double>& particles,
                        const wgf::InitialDistribution& target, std::int64_t n, wgf::Rng& rng,
                        std::int64_t energy_points);

}  // namespace wgf_cli

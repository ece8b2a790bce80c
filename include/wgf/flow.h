// wgf/flow.h — a simulated flow: the chain ρ⁰ → ∇ψ_0 → … → ∇ψ_{K−1}, with samples, pushes, exact
// log-densities along forward traces, log-densities at arbitrary points through the inverse maps,
// and checkpoints.
//
//   samples of ρ^k:      x_k = ∇ψ_{k−1}(… ∇ψ_0(x_0)),  x_0 ∼ ρ⁰
//   along a trace:       log ρ^k(x_k) = log ρ⁰(x_0) − Σ_{i<k} log det ∇²ψ_i(x_i)
//   at a point y:        x_{i} = argmin_x ψ_i(x) − ⟨x, x_{i+1}⟩ for i = k−1..0 (Newton with the analytic
//                        Hessian and a backtracking line search), then the trace formula.
// Points are [n][D] row-major in host memory; densities are double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wgf/context.h"
#include "wgf/icnn.h"
#include "wgf/metrics.h"

namespace wgf {

/// Newton inversion of ∇ψ(x) = y.
struct InverseOptions {
    int max_iterations = 50;      ///< Newton iterations per map
    double tolerance = 0;         ///< ‖∇ψ(x) − y‖ target; 0 = 1e-9 (double) or 2e-4 (float) × max(1, ‖y‖)
    int max_backtracks = 40;      ///< line-search halvings per iteration
};

/// Per-point result of an inversion through all maps.
struct InverseReport {
    std::vector<std::int32_t> iterations;  ///< Newton iterations, summed over the maps
    std::vector<double> residual;          ///< largest ‖∇ψ_i(x_i) − x_{i+1}‖ over the maps
    std::vector<std::uint8_t> converged;   ///< 1 when every map reached the tolerance
    std::int64_t failures() const;
};

template <typename T>
class Flow {
public:
    Flow() = default;
    /// A flow that starts at ρ⁰ = `initial` (dimension D).
    explicit Flow(Gaussian initial);

    int dim() const { return m_initial.dim(); }
    int steps() const { return static_cast<int>(m_maps.size()); }
    const Gaussian& initial() const { return m_initial; }
    const Icnn<T>& map(int k) const;
    /// τ of step k; time(k) = Σ_{i<k} τ_i is the time of ρ^k.
    double tau(int k) const;
    double time(int k) const;

    /// Append ∇ψ as the next step, of length tau.
    void push_back(Icnn<T> map, double tau);
    /// Keep only the first k steps.
    void truncate(int k);

    /// Push x [n][D] in place through maps [from, to). If logp is given ([n]), subtract the log-dets
    /// (the change of variables). Throws NotPositiveDefinite when some Hessian is not SPD.
    void push(Context& ctx, int from, int to, T* x, std::int64_t n, double* logp = nullptr) const;
    /// n samples of ρ^k [n][D]; with logp, their exact log-densities along the traces.
    std::vector<T> sample(Context& ctx, int k, std::int64_t n, Rng& rng, std::vector<double>* logp = nullptr) const;
    /// log ρ^k(y) for y [n][D] through the inverse maps; report (optional) gets per-point
    /// convergence. Points whose inversion fails get NaN and are counted in the report — with no
    /// report given, a failure throws wgf::Error.
    std::vector<double> log_density(Context& ctx, int k, const std::vector<double>& y, const InverseOptions& options = {},
                                    InverseReport* report = nullptr) const;
    /// x = (∇ψ_map)⁻¹(y) for one map, in place on y [n][D] (x starts at y).
    void invert_map(Context& ctx, int map, std::vector<double>& y, const InverseOptions& options,
                    InverseReport& report) const;

    /// Save the whole flow (every map + metadata) to one file, atomically (docs/FORMATS.md).
    void save(const std::string& path) const;
    static Flow load(const std::string& path);

    /// Checkpoint of step k alone: `dir`/step-KKKKK.wgfstep (ρ⁰, τ_k, map k), written atomically.
    /// Returns the path.
    std::string save_step(const std::string& dir, int k) const;
    /// Rebuild a flow from the step files 0, 1, … in `dir`, stopping at the first missing one. A
    /// step file that exists but is damaged (truncated, bad checksum, other shape or ρ⁰) throws.
    static Flow load_steps(const std::string& dir);
    static std::string step_path(const std::string& dir, int k);

private:
    Gaussian m_initial{std::vector<double>{0.0}, std::vector<double>{1.0}};
    std::vector<Icnn<T>> m_maps;
    std::vector<double> m_tau;
};

}  // namespace wgf

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
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "wgf/context.h"
#include "wgf/icnn.h"
#include "wgf/initial.h"
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
    Flow();  ///< an empty flow at N(0, 1) in D = 1 (a placeholder to assign to)
    /// A flow that starts at ρ⁰ = `initial` (dimension D), shared (the flow keeps it alive).
    explicit Flow(std::shared_ptr<const InitialDistribution> initial);
    /// The same with a copy of a built-in or user distribution: Flow<float>(Gaussian(...)).
    template <typename Dist, typename = std::enable_if_t<std::is_base_of_v<InitialDistribution, std::decay_t<Dist>>>>
    explicit Flow(Dist&& initial) : Flow(std::make_shared<const std::decay_t<Dist>>(std::forward<Dist>(initial))) {}

    int dim() const { return m_initial->dim(); }
    int steps() const { return static_cast<int>(m_maps.size()); }
    const InitialDistribution& initial() const { return *m_initial; }
    const std::shared_ptr<const InitialDistribution>& initial_ptr() const { return m_initial; }
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

    /// Save the whole flow (every map + metadata + ρ⁰'s record) to one file, atomically
    /// (docs/FORMATS.md). Files of version 1 (Gaussian ρ⁰) still load.
    void save(const std::string& path) const;
    /// user_initial: the distribution to use when the file's ρ⁰ is a UserDistribution (its name and
    /// D must match); ignored otherwise.
    static Flow load(const std::string& path, std::shared_ptr<const InitialDistribution> user_initial = nullptr);
    /// The flow file's bytes, and a flow from them (`source` names them in errors).
    std::string to_bytes() const;
    static Flow from_bytes(const std::string& bytes, const std::string& source,
                           std::shared_ptr<const InitialDistribution> user_initial = nullptr);

    /// Checkpoint of step k alone: `dir`/step-KKKKK.wgfstep (ρ⁰, τ_k, the run's settings, map k),
    /// written atomically. `settings`: text that identifies how the maps were made (JkoSolver writes
    /// JkoSolver::settings(); at most 64 KiB). Returns the path.
    std::string save_step(const std::string& dir, int k, const std::string& settings = {}) const;
    /// Rebuild a flow from the step files 0, 1, … in `dir`, stopping at the first missing one.
    /// Throws NoCheckpoint when there is no step 0 file (a fresh start), wgf::Error when a step file
    /// exists but is damaged (truncated, bad checksum, other shape or ρ⁰). `settings` (if given)
    /// receives step 0's run settings (empty for files of version 2, which have none).
    static Flow load_steps(const std::string& dir, std::shared_ptr<const InitialDistribution> user_initial = nullptr,
                           std::string* settings = nullptr);
    static std::string step_path(const std::string& dir, int k);

private:
    std::shared_ptr<const InitialDistribution> m_initial;
    std::vector<Icnn<T>> m_maps;
    std::vector<double> m_tau;
};

/// ρ^step of another flow as a ρ⁰ ("the end of another flow"): samples pushed through its maps with
/// exact log-densities along the traces, and log-densities at any point through its inverse maps
/// (NaN where an inversion does not converge). It owns a copy of the source flow and a host Context
/// for these computations; its record embeds the whole source flow, so that a flow starting from it
/// is self-contained in its files.
template <typename T>
class FlowEnd : public InitialDistribution {
public:
    /// step −1: the source's last step. host_threads: threads of its host Context (0: all cores).
    explicit FlowEnd(Flow<T> source, int step = -1, int host_threads = 0);
    /// ρ^step of the flow saved at `path` (a Flow<T> file of either precision).
    static FlowEnd load(const std::string& path, int step = -1, int host_threads = 0);
    int dim() const override { return m_flow->dim(); }
    int step() const { return m_step; }
    const Flow<T>& source() const { return *m_flow; }
    std::vector<double> sample(std::int64_t n, Rng& rng) const override;
    std::vector<double> sample_with_log_density(std::int64_t n, Rng& rng, std::vector<double>& logp) const override;
    void log_density(const double* x, std::int64_t n, double* out) const override;
    using InitialDistribution::log_density;
    std::string describe() const override;
    InitialRecord record() const override;

private:
    std::shared_ptr<const Flow<T>> m_flow;
    std::shared_ptr<const std::string> m_bytes;  // the source's flow file, serialised once (its record)
    int m_step;
    std::shared_ptr<Context> m_ctx;
    std::shared_ptr<std::mutex> m_mutex;  // one computation at a time on m_ctx
};

namespace detail {
/// The FlowEnd a "flow-end" record describes (used by make_initial).
std::shared_ptr<const InitialDistribution> make_flow_end(const InitialRecord& record);
}  // namespace detail

}  // namespace wgf

// flow.cpp — Flow: pushes, samples, trace log-densities and the inverse maps (Newton's method with
// the analytic Hessian and an Armijo backtracking line search on φ(x) = ψ(x) − ⟨x, y⟩, which is
// strictly convex, so ∇φ = 0 ⇔ ∇ψ(x) = y).
#include "wgf/flow.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "wgf/detail/cholesky.h"
#include "wgf/error.h"

namespace wgf {

std::int64_t InverseReport::failures() const {
    std::int64_t f = 0;
    for (auto c : converged) f += c ? 0 : 1;
    return f;
}

template <typename T>
Flow<T>::Flow() : m_initial(std::make_shared<const Gaussian>(std::vector<double>{0.0}, std::vector<double>{1.0})) {}

template <typename T>
Flow<T>::Flow(std::shared_ptr<const InitialDistribution> initial) : m_initial(std::move(initial)) {
    WGF_CHECK(m_initial != nullptr, "Flow: the initial distribution is null");
    WGF_CHECK(m_initial->dim() >= 1, "Flow: the initial distribution has dimension " << m_initial->dim());
}

template <typename T>
const Icnn<T>& Flow<T>::map(int k) const {
    WGF_CHECK(k >= 0 && k < steps(), "Flow::map: step " << k << " out of range [0, " << steps() << ")");
    return m_maps[static_cast<std::size_t>(k)];
}

template <typename T>
double Flow<T>::tau(int k) const {
    WGF_CHECK(k >= 0 && k < steps(), "Flow::tau: step " << k << " out of range [0, " << steps() << ")");
    return m_tau[static_cast<std::size_t>(k)];
}

template <typename T>
double Flow<T>::time(int k) const {
    WGF_CHECK(k >= 0 && k <= steps(), "Flow::time: step " << k << " out of range [0, " << steps() << "]");
    double t = 0;
    for (int i = 0; i < k; ++i) t += m_tau[static_cast<std::size_t>(i)];
    return t;
}

template <typename T>
void Flow<T>::push_back(Icnn<T> net, double tau) {
    WGF_CHECK(net.size() > 0, "Flow::push_back: empty network");
    WGF_CHECK(net.shape().dim == dim(), "Flow::push_back: map of dimension " << net.shape().dim << " in a flow of dimension "
                                                                             << dim());
    WGF_CHECK(std::isfinite(tau) && tau > 0, "Flow::push_back: tau must be > 0, got " << tau);
    m_maps.push_back(std::move(net));
    m_tau.push_back(tau);
}

template <typename T>
void Flow<T>::truncate(int k) {
    WGF_CHECK(k >= 0 && k <= steps(), "Flow::truncate: " << k << " out of range [0, " << steps() << "]");
    m_maps.resize(static_cast<std::size_t>(k));
    m_tau.resize(static_cast<std::size_t>(k));
}

template <typename T>
void Flow<T>::push(Context& ctx, int from, int to, T* x, std::int64_t n, double* logp) const {
    WGF_CHECK(0 <= from && from <= to && to <= steps(), "Flow::push: maps [" << from << ", " << to << ") out of range [0, "
                                                                             << steps() << "]");
    if (from == to) return;
    const std::size_t N = static_cast<std::size_t>(n), D = static_cast<std::size_t>(dim());
    std::vector<T> y(N * D), logdet(logp ? N : 0);
    for (int k = from; k < to; ++k) {
        IcnnOutputs<T> out;
        out.grad_x = y.data();
        if (logp) out.logdet = logdet.data();  // no status: a non-SPD Hessian throws NotPositiveDefinite
        icnn_eval(ctx, map(k), x, n, out);
        std::copy(y.begin(), y.end(), x);
        if (logp)
            for (std::size_t i = 0; i < N; ++i) logp[i] -= static_cast<double>(logdet[i]);
    }
}

template <typename T>
std::vector<T> Flow<T>::sample(Context& ctx, int k, std::int64_t n, Rng& rng, std::vector<double>* logp) const {
    WGF_CHECK(n > 0, "Flow::sample: n must be > 0, got " << n);
    WGF_CHECK(k >= 0 && k <= steps(), "Flow::sample: step " << k << " out of range [0, " << steps() << "]");
    std::vector<double> x0;
    if (logp) {
        x0 = m_initial->sample_with_log_density(n, rng, *logp);
    } else {
        x0 = m_initial->sample(n, rng);
    }
    std::vector<T> x(x0.begin(), x0.end());
    if (logp) {
        // log ρ⁰ must be that of the rounded starting points (what is actually pushed): recompute it
        // for the points that rounding to T moved (none when T = double or ρ⁰ samples in float).
        const std::size_t D = static_cast<std::size_t>(dim());
        std::vector<double> moved;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
            bool changed = false;
            for (std::size_t d = 0; d < D; ++d) changed = changed || static_cast<double>(x[i * D + d]) != x0[i * D + d];
            if (!changed) continue;
            which.push_back(i);
            for (std::size_t d = 0; d < D; ++d) moved.push_back(static_cast<double>(x[i * D + d]));
        }
        if (!which.empty()) {
            const std::vector<double> lp = m_initial->log_density(moved);
            for (std::size_t j = 0; j < which.size(); ++j) (*logp)[which[j]] = lp[j];
        }
    }
    push(ctx, 0, k, x.data(), n, logp ? logp->data() : nullptr);
    return x;
}

namespace {
/// Whether every coordinate of a point is finite and within T's range (a far point in double may
/// not be a float).
template <typename T>
bool representable(const double* x, int D) {
    for (int d = 0; d < D; ++d)
        if (!(std::fabs(x[d]) <= static_cast<double>(std::numeric_limits<T>::max()))) return false;
    return true;
}
template <typename T>
bool finite_point(const T* x, int D) {
    for (int d = 0; d < D; ++d)
        if (!std::isfinite(x[d])) return false;
    return true;
}
}  // namespace

template <typename T>
void Flow<T>::invert_map(Context& ctx, int k, std::vector<double>& y, const InverseOptions& opt,
                         InverseReport& report) const {
    const Icnn<T>& net = map(k);
    const int D = dim();
    const std::int64_t n = static_cast<std::int64_t>(y.size()) / D;
    const double eps_t = std::numeric_limits<T>::epsilon();
    const double rel_tol = opt.tolerance > 0 ? opt.tolerance : (sizeof(T) == 8 ? 1e-9 : 2e-4);
    std::vector<double> x = y;  // start at x = y (maps are near the identity)
    // Points already failed, or with a coordinate beyond T's range, are not traced (they stay not
    // converged): one far point must not fail the batch.
    std::vector<std::int64_t> active;
    for (std::int64_t i = 0; i < n; ++i)
        if (report.converged[static_cast<std::size_t>(i)] && representable<T>(y.data() + i * D, D)) active.push_back(i);
    std::vector<double> tol(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        double ny = 0;
        for (int d = 0; d < D; ++d) ny += y[i * D + d] * y[i * D + d];
        tol[static_cast<std::size_t>(i)] = rel_tol * std::max(1.0, std::sqrt(ny));
    }
    std::vector<std::uint8_t> done(static_cast<std::size_t>(n), 0);
    std::vector<T> xa, ga, ha, va, xt, gt, vt;
    std::vector<double> p, H(static_cast<std::size_t>(D * D));
    for (int it = 0; it < opt.max_iterations && !active.empty(); ++it) {
        const std::int64_t m = static_cast<std::int64_t>(active.size());
        xa.resize(static_cast<std::size_t>(m * D));
        for (std::int64_t a = 0; a < m; ++a)
            for (int d = 0; d < D; ++d) xa[a * D + d] = static_cast<T>(x[active[a] * D + d]);
        ga.resize(xa.size());
        ha.resize(static_cast<std::size_t>(m * D * D));
        va.resize(static_cast<std::size_t>(m));
        icnn_eval(ctx, net, xa.data(), m, IcnnOutputs<T>{va.data(), ga.data(), ha.data()});
        // Newton directions p = −H⁻¹ g, g = ∇ψ(x) − y.
        p.assign(static_cast<std::size_t>(m * D), 0.0);
        std::vector<double> gnorm(static_cast<std::size_t>(m)), slope(static_cast<std::size_t>(m)),
            phi(static_cast<std::size_t>(m));
        std::vector<std::uint8_t> still(static_cast<std::size_t>(m), 1);
        for (std::int64_t a = 0; a < m; ++a) {
            const std::int64_t i = active[a];
            double g2 = 0, xy = 0;
            for (int d = 0; d < D; ++d) {
                const double g = static_cast<double>(ga[a * D + d]) - y[i * D + d];
                p[a * D + d] = -g;
                g2 += g * g;
                xy += x[i * D + d] * y[i * D + d];
            }
            gnorm[a] = std::sqrt(g2);
            phi[a] = static_cast<double>(va[a]) - xy;
            report.iterations[static_cast<std::size_t>(i)] += 1;
            if (!std::isfinite(gnorm[a]) || !std::isfinite(phi[a])) {  // ψ or ∇ψ overflowed here: give up
                report.residual[static_cast<std::size_t>(i)] = std::numeric_limits<double>::infinity();
                still[a] = 0;
                continue;
            }
            if (gnorm[a] <= tol[static_cast<std::size_t>(i)]) {
                done[static_cast<std::size_t>(i)] = 1;
                report.residual[static_cast<std::size_t>(i)] = std::max(report.residual[static_cast<std::size_t>(i)], gnorm[a]);
                still[a] = 0;
                continue;
            }
            for (int q = 0; q < D * D; ++q) H[static_cast<std::size_t>(q)] = static_cast<double>(ha[a * D * D + q]);
            if (detail::cholesky_lower_inplace(H.data(), D) == kIcnnOk) {  // solve L Lᵀ p = −g in place
                double* pa = p.data() + a * D;
                for (int r = 0; r < D; ++r) {
                    double v = pa[r];
                    for (int c = 0; c < r; ++c) v -= H[static_cast<std::size_t>(r * D + c)] * pa[c];
                    pa[r] = v / H[static_cast<std::size_t>(r * D + r)];
                }
                for (int r = D - 1; r >= 0; --r) {
                    double v = pa[r];
                    for (int c = r + 1; c < D; ++c) v -= H[static_cast<std::size_t>(c * D + r)] * pa[c];
                    pa[r] = v / H[static_cast<std::size_t>(r * D + r)];
                }
            }  // else keep the gradient direction p = −g
            double s = 0;
            for (int d = 0; d < D; ++d) s += p[a * D + d] * (static_cast<double>(ga[a * D + d]) - y[i * D + d]);
            slope[a] = s;  // ∇φ·p < 0
        }
        // Backtracking on the points that still move: accept when φ decreases by the Armijo amount, or
        // (float nets only, where φ is noisy near the solution) when the residual decreases.
        std::vector<std::int64_t> trial;
        for (std::int64_t a = 0; a < m; ++a)
            if (still[a]) trial.push_back(a);
        double alpha = 1.0;
        std::vector<double> step(static_cast<std::size_t>(m), 0.0);
        for (int bt = 0; bt <= opt.max_backtracks && !trial.empty(); ++bt, alpha *= 0.5) {
            const std::int64_t mt = static_cast<std::int64_t>(trial.size());
            xt.resize(static_cast<std::size_t>(mt * D));
            gt.resize(xt.size());
            vt.resize(static_cast<std::size_t>(mt));
            std::vector<std::int64_t> retry, evaluated;  // a trial point beyond T's range is retried shorter
            std::int64_t me = 0;
            for (std::int64_t b = 0; b < mt; ++b) {
                const std::int64_t a = trial[b], i = active[a];
                for (int d = 0; d < D; ++d) xt[me * D + d] = static_cast<T>(x[i * D + d] + alpha * p[a * D + d]);
                if (finite_point(xt.data() + me * D, D)) {
                    evaluated.push_back(a);
                    ++me;
                } else {
                    retry.push_back(a);
                }
            }
            if (me > 0) icnn_eval(ctx, net, xt.data(), me, IcnnOutputs<T>{vt.data(), gt.data()});
            for (std::int64_t b = 0; b < me; ++b) {
                const std::int64_t a = evaluated[static_cast<std::size_t>(b)], i = active[a];
                double xy = 0, g2 = 0;
                for (int d = 0; d < D; ++d) {
                    xy += static_cast<double>(xt[b * D + d]) * y[i * D + d];
                    const double g = static_cast<double>(gt[b * D + d]) - y[i * D + d];
                    g2 += g * g;
                }
                const double phi_t = static_cast<double>(vt[b]) - xy;
                const double noise = 16 * eps_t * (std::fabs(static_cast<double>(vt[b])) + std::fabs(xy));
                // φ's rounding level is allowed for in both precisions: near the solution the Armijo decrease
                // (~ residual²) drops below it and could not be certified otherwise.
                const bool armijo = phi_t <= phi[a] + 1e-4 * alpha * slope[a] + noise;
                // Only for float nets: mixing the two tests lets a double-precision Newton iteration cycle
                // between two points (Armijo accepts one way, the smaller residual the other), as seen
                // at sharp curvature changes of a trained map.
                const bool residual_down = sizeof(T) == 4 && std::sqrt(g2) < (1 - 1e-4 * alpha) * gnorm[a];
                if (std::isfinite(phi_t) && (armijo || residual_down))
                    step[a] = alpha;
                else
                    retry.push_back(a);
            }
            trial.swap(retry);
        }
        std::vector<std::int64_t> next;
        for (std::int64_t a = 0; a < m; ++a) {
            if (!still[a]) continue;
            const std::int64_t i = active[a];
            if (step[a] == 0.0) {  // no acceptable step: stalled
                report.residual[static_cast<std::size_t>(i)] = std::max(report.residual[static_cast<std::size_t>(i)], gnorm[a]);
                continue;
            }
            for (int d = 0; d < D; ++d) x[i * D + d] += step[a] * p[a * D + d];
            next.push_back(i);
        }
        active.swap(next);
    }
    // Points still active ran out of iterations; points never marked done failed.
    for (std::int64_t i = 0; i < n; ++i)
        if (!done[static_cast<std::size_t>(i)]) report.converged[static_cast<std::size_t>(i)] = 0;
    if (!active.empty()) {
        // Their last residual: one more gradient evaluation.
        const std::int64_t m = static_cast<std::int64_t>(active.size());
        xa.resize(static_cast<std::size_t>(m * D));
        ga.resize(xa.size());
        for (std::int64_t a = 0; a < m; ++a)
            for (int d = 0; d < D; ++d) xa[a * D + d] = static_cast<T>(x[active[a] * D + d]);
        icnn_eval(ctx, net, xa.data(), m, IcnnOutputs<T>{nullptr, ga.data()});
        for (std::int64_t a = 0; a < m; ++a) {
            double g2 = 0;
            for (int d = 0; d < D; ++d) {
                const double g = static_cast<double>(ga[a * D + d]) - y[active[a] * D + d];
                g2 += g * g;
            }
            report.residual[static_cast<std::size_t>(active[a])] =
                std::max(report.residual[static_cast<std::size_t>(active[a])], std::sqrt(g2));
        }
    }
    y.swap(x);
}

template <typename T>
std::vector<double> Flow<T>::log_density(Context& ctx, int k, const std::vector<double>& y, const InverseOptions& opt,
                                         InverseReport* report) const {
    WGF_CHECK(k >= 0 && k <= steps(), "Flow::log_density: step " << k << " out of range [0, " << steps() << "]");
    const int D = dim();
    WGF_CHECK(!y.empty() && y.size() % static_cast<std::size_t>(D) == 0,
              "Flow::log_density: y has " << y.size() << " values, not a positive multiple of D = " << D);
    for (double v : y) WGF_CHECK(std::isfinite(v), "Flow::log_density: y contains NaN/Inf");
    WGF_CHECK(opt.max_iterations > 0 && opt.max_backtracks >= 0 && opt.tolerance >= 0, "Flow::log_density: bad InverseOptions");
    const std::int64_t n = static_cast<std::int64_t>(y.size()) / D;
    InverseReport local;
    InverseReport& rep = report ? *report : local;
    rep.iterations.assign(static_cast<std::size_t>(n), 0);
    rep.residual.assign(static_cast<std::size_t>(n), 0.0);
    rep.converged.assign(static_cast<std::size_t>(n), 1);
    // Invert from the last map to the first: xs[i] = x_i, the point of ρ^i on the trace.
    std::vector<std::vector<double>> xs(static_cast<std::size_t>(k) + 1);
    xs[static_cast<std::size_t>(k)] = y;
    for (int i = k - 1; i >= 0; --i) {
        xs[static_cast<std::size_t>(i)] = xs[static_cast<std::size_t>(i) + 1];
        invert_map(ctx, i, xs[static_cast<std::size_t>(i)], opt, rep);
    }
    // log ρ⁰ and the log dets along the trace, for the points still traced (a failed point's trace is
    // not meaningful and may hold values no evaluation accepts).
    std::vector<std::int64_t> live;
    for (std::int64_t p = 0; p < n; ++p)
        if (rep.converged[static_cast<std::size_t>(p)]) live.push_back(p);
    const std::int64_t m = static_cast<std::int64_t>(live.size());
    std::vector<double> logp(static_cast<std::size_t>(n), std::numeric_limits<double>::quiet_NaN());
    if (m > 0) {
        std::vector<double> x0(static_cast<std::size_t>(m * D));
        for (std::int64_t a = 0; a < m; ++a)
            std::copy_n(xs[0].begin() + live[static_cast<std::size_t>(a)] * D, D, x0.begin() + a * D);
        const std::vector<double> lp0 = m_initial->log_density(x0);
        for (std::int64_t a = 0; a < m; ++a) logp[static_cast<std::size_t>(live[static_cast<std::size_t>(a)])] = lp0[static_cast<std::size_t>(a)];
    }
    std::vector<T> xt(static_cast<std::size_t>(m * D)), logdet(static_cast<std::size_t>(m));
    std::vector<std::int32_t> status(static_cast<std::size_t>(m));
    for (int i = 0; i < k && m > 0; ++i) {
        const auto& xi = xs[static_cast<std::size_t>(i)];
        for (std::int64_t a = 0; a < m; ++a)
            for (int d = 0; d < D; ++d)
                xt[static_cast<std::size_t>(a * D + d)] = static_cast<T>(xi[static_cast<std::size_t>(live[static_cast<std::size_t>(a)] * D + d)]);
        icnn_eval(ctx, map(i), xt.data(), m, IcnnOutputs<T>{nullptr, nullptr, nullptr, logdet.data(), status.data()});
        for (std::int64_t a = 0; a < m; ++a) {
            const std::size_t p = static_cast<std::size_t>(live[static_cast<std::size_t>(a)]);
            if (status[static_cast<std::size_t>(a)] != kIcnnOk) rep.converged[p] = 0;
            logp[p] -= static_cast<double>(logdet[static_cast<std::size_t>(a)]);
        }
    }
    std::int64_t failed = 0;
    for (std::int64_t p = 0; p < n; ++p)
        if (!rep.converged[static_cast<std::size_t>(p)]) {
            logp[static_cast<std::size_t>(p)] = std::numeric_limits<double>::quiet_NaN();
            ++failed;
        }
    WGF_CHECK(report != nullptr || failed == 0,
              "Flow::log_density: inversion failed for " << failed << " of " << n
                                                         << " points (pass an InverseReport to get per-point results)");
    return logp;
}

template class Flow<float>;
template class Flow<double>;

}  // namespace wgf

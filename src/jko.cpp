// jko.cpp — the JKO solver (see wgf/jko.h), identity pretraining and the identity construction.
#include "wgf/jko.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>

#include "device_memory.h"
#include "jko_loss_dispatch.h"
#include "step_divergence.h"
#include "wgf/detail/softplus.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"
#include "wgf/jko_loss.h"
#include "wgf/random.h"

#ifdef WGF_WITH_CUDA
#include "cuda/train_step_cuda.h"
#endif

namespace wgf {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
/// Independent streams per purpose and step, so that a resumed run draws what an uninterrupted one
/// would have drawn.
Rng stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t step) {
    return Rng(seed * 0x9E3779B97F4A7C15ull ^ (purpose << 56) ^ (step * 0xD1B54A32D192ED03ull));
}

/// The parameters, their gradient and the batch in ctx's memory space: the Icnn's own buffer and
/// host vectors on Host; device buffers on Cuda, with the parameters copied back by store().
template <typename T>
class TrainingBuffers {
public:
    TrainingBuffers(Context& ctx, const Icnn<T>& net, std::int64_t batch_elems)
        : m_cuda(ctx.backend() == Backend::Cuda), m_grad_host(m_cuda ? 0 : net.size()) {
        if (!m_cuda) return;
        m_params = DeviceBuffer<T>(net.data(), net.size());
        m_grad = DeviceBuffer<T>(net.size());
        m_batch = DeviceBuffer<T>(static_cast<std::size_t>(batch_elems));
    }
    T* params(Icnn<T>& net) { return m_cuda ? m_params.data() : net.data(); }
    T* grad() { return m_cuda ? m_grad.data() : m_grad_host.data(); }
    const T* batch(const std::vector<T>& host) {
        if (!m_cuda) return host.data();
        m_batch.upload(host.data(), host.size());
        return m_batch.data();
    }
    /// Copy the trained parameters into net (no-op on Host, where they are already there).
    void store(Icnn<T>& net) const {
        if (m_cuda) m_params.download(net.data(), net.size());
    }
    /// sum += the current parameters (host arithmetic in double; on Cuda through a download).
    void accumulate(const Icnn<T>& net, std::vector<double>& sum) {
        const T* p = net.data();
        if (m_cuda) {
            m_host_copy.resize(net.size());
            m_params.download(m_host_copy.data(), m_host_copy.size());
            p = m_host_copy.data();
        }
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += static_cast<double>(p[i]);
    }

private:
    bool m_cuda;
    std::vector<T> m_grad_host, m_host_copy;
    DeviceBuffer<T> m_params, m_grad, m_batch;
};

/// The pool rows of each of `iterations` batches of N: without replacement within an epoch over the
/// pool, reshuffled at the start of each epoch (drawn up front, in the order the iterations use them).
std::vector<std::int64_t> draw_batch_rows(Rng& rng, std::int64_t pool_n, std::int64_t N, int iterations) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(pool_n));
    std::iota(order.begin(), order.end(), 0);
    std::size_t cursor = order.size();
    std::vector<std::int64_t> rows(static_cast<std::size_t>(N) * static_cast<std::size_t>(iterations));
    for (auto& row : rows) {
        if (cursor == order.size()) {
            for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
            cursor = 0;
        }
        row = order[cursor++];
    }
    return rows;
}

/// batch = the pool rows of iteration `it` (draw_batch_rows).
template <typename T>
void gather_batch(const std::vector<T>& pool, const std::vector<std::int64_t>& rows, int it, std::int64_t N,
                  std::int64_t D, std::vector<T>& batch) {
    for (std::int64_t b = 0; b < N; ++b) {
        const std::int64_t src = rows[static_cast<std::size_t>(it * N + b)];
        std::copy(pool.begin() + src * D, pool.begin() + (src + 1) * D, batch.begin() + b * D);
    }
}

template <typename T>
std::int64_t count_bad_potential(const Potential<T>& potential, const Icnn<T>& current, const std::vector<T>& batch,
                                 std::int64_t n) {
    // Push the batch with the given parameters (host memory) and evaluate Φ there on the host, one
    // point at a time, so that one bad point cannot hide the others (diagnostics only, after a failure).
    Context host(Backend::Host, 1);
    const int D = current.shape().dim;
    std::vector<T> y(batch.size());
    IcnnOutputs<T> out;
    out.grad_x = y.data();
    icnn_eval(host, current, batch.data(), n, out);
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        T value = 0;
        try {
            potential.eval(host, y.data() + i * D, 1, &value, nullptr);
            bad += std::isfinite(static_cast<double>(value)) ? 0 : 1;
        } catch (const Error&) {
            ++bad;
        }
    }
    return bad;
}

template <typename T>
[[noreturn]] void fail_loss_not_finite(const std::string& where, const JkoLossValue& L, const Potential<T>& potential,
                                       const Icnn<T>& current, const std::vector<T>& batch, std::int64_t N) {
    WGF_FAIL(where << "the loss is not finite (W2 term " << L.w2 << ", potential term " << L.potential
                   << ", log-det term " << L.logdet << "); Φ is not finite at "
                   << count_bad_potential(potential, current, batch, N) << " of the " << N
                   << " pushed points of this batch");
}

/// The law of a pretraining stage's batches: counter-based (law not None: drawn with the key
/// rng.next_u64(), on either backend), else `host` (sample() of a ρ⁰ without a counter sampler).
struct PretrainDraw {
    detail::CounterSampler counter;
    std::function<std::vector<double>(Rng&)> host;
    /// One batch of n points into x [n][D] (the host's draw; the device makes the same from the keys).
    template <typename T>
    void batch(Rng& rng, std::int64_t n, std::vector<T>& x) const {
        if (counter.law != detail::CounterLaw::None) {
            detail::counter_sample(counter, rng.next_u64(), n, x.data());
            return;
        }
        const std::vector<double> x0 = host(rng);
        std::transform(x0.begin(), x0.end(), x.begin(), [](double v) { return static_cast<T>(v); });
    }
};

#ifdef WGF_WITH_CUDA
/// One JKO step's iterations on the device (train_step_cuda.h): net in, the step's map out (the
/// last iterate or the tail average); a failure throws as the host loop does, with where(iteration)
/// in front of the message. The step's loss of the first and the last iteration go to rep.
template <typename T>
void train_step_on_device(Context& ctx, const IcnnShape& shape, const Potential<T>& potential, const JkoOptions& opt,
                          int k, const DeviceBuffer<T>& pool, std::int64_t pool_n, const std::vector<std::int64_t>& rows,
                          int averaged, const std::function<std::string(int)>& where, JkoStepReport& rep,
                          Icnn<T>& net, std::vector<double>& losses) {
    const int iters = opt.iterations;
    std::vector<double> lr(static_cast<std::size_t>(iters), rep.lr);
    if (opt.lr_end_ratio != 1.0)
        for (int it = 0; it < iters; ++it) lr[static_cast<std::size_t>(it)] = opt.lr_at(k, it);
    detail::DeviceStepPlan<T> plan;
    plan.pool = pool.data();
    plan.pool_n = pool_n;
    plan.pool_on_device = true;
    plan.rows = rows.data();
    plan.batch = opt.batch;
    plan.iterations = iters;
    plan.lr = lr.data();
    plan.adam.weight_decay = opt.weight_decay;
    plan.average_from = averaged > 0 ? iters - averaged : -1;
    const JkoLossOptions lo{opt.tau, opt.beta};
    detail::DeviceStepResult res;
    try {
        res = detail::train_step_cuda(ctx, shape, &potential, lo, plan, net.data());
    } catch (const Error& e) {
        throw Error(where(0) + "(the step on the device) " + e.what());
    }
    const int it = res.failed_iteration;
    switch (res.failure) {
        case detail::DeviceStepFailure::None: break;
        case detail::DeviceStepFailure::NotPositiveDefinite:
            throw NotPositiveDefinite(res.point, res.code,
                                      where(it) + "jko_loss: Hessian of batch point " + std::to_string(res.point) +
                                          " is not positive definite: " + icnn_status_reason(res.code) +
                                          "; the loss is undefined");
        case detail::DeviceStepFailure::LossNotFinite: {
            std::vector<T> host_pool(static_cast<std::size_t>(pool_n * shape.dim)),
                batch(static_cast<std::size_t>(opt.batch * shape.dim));
            pool.download(host_pool.data(), host_pool.size());
            gather_batch(host_pool, rows, it, opt.batch, shape.dim, batch);
            fail_loss_not_finite(where(it), res.losses.back(), potential, net, batch, opt.batch);
        }
        case detail::DeviceStepFailure::GradientNotFinite:
            WGF_FAIL(where(it) << "Adam::step: gradient contains " << res.bad_gradient << " NaN/Inf entries (of "
                               << net.size() << "); parameters left unchanged");
    }
    rep.loss_first = res.losses.front().total;
    rep.loss_last = res.losses.back().total;
    losses.clear();
    for (const JkoLossValue& L : res.losses) losses.push_back(L.total);
    if (averaged > 0) {
        T* p = net.data();
        for (std::size_t i = 0; i < res.param_sum.size(); ++i) p[i] = static_cast<T>(res.param_sum[i] / averaged);
    }
}

/// The JKO solver's pool on a CUDA context, kept on the device across steps: ρ⁰'s points drawn on
/// the host (ρ⁰.sample(), as Flow::sample draws them) and uploaded once, pushed through the maps on
/// the device (no download), read in place by every iteration's gather.
template <typename T>
class DevicePool {
public:
    /// The pool of ρ^k: n fresh points of ρ⁰ from rng, pushed through maps [0, k).
    void sample(Context& ctx, const Flow<T>& flow, int k, std::int64_t n, Rng& rng) {
        const std::vector<double> x0 = flow.initial().sample(n, rng);
        const std::vector<T> x(x0.begin(), x0.end());
        if (m_points.size() != x.size()) {
            m_points = DeviceBuffer<T>(x.size());
            m_spare = DeviceBuffer<T>(x.size());
        }
        m_points.upload(x.data(), x.size());
        push(ctx, flow, 0, k);
    }
    /// The same points pushed on through maps [from, to) (the carried pool).
    void push(Context& ctx, const Flow<T>& flow, int from, int to) {
        const std::int64_t n = static_cast<std::int64_t>(m_points.size()) / flow.dim();
        for (int j = from; j < to; ++j) {
            const Icnn<T>& map = flow.map(j);
            const DeviceBuffer<T> params(map.data(), map.size());
            IcnnOutputs<T> out;
            out.grad_x = m_spare.data();
            icnn_eval(ctx, map.shape(), params.data(), m_points.data(), n, out);
            std::swap(m_points, m_spare);
        }
    }
    const DeviceBuffer<T>& points() const { return m_points; }

private:
    DeviceBuffer<T> m_points, m_spare;
};

/// One pretraining stage on the device (train_step_cuda on the identity regression), on the batches
/// the host loop would draw, in its order, with no host round trip per iteration. A counter-based
/// law: the host draws only the keys (one per iteration) and the device the points, inside the step,
/// in one call. Otherwise the host draws the points and uploads them a chunk of iterations at a time
/// (at most kPretrainChunkBytes of points per upload; Adam's moments and step count carried across
/// chunks). Both backends pretrain the same map up to rounding.
template <typename T>
void pretrain_stage_on_device(Context& ctx, const IcnnShape& shape, const JkoOptions& opt, Rng rng,
                              const PretrainDraw& draw, Icnn<T>& net) {
    constexpr std::int64_t kPretrainChunkBytes = std::int64_t(64) << 20;
    const std::int64_t N = opt.batch, per_iteration = N * shape.dim, iters = opt.pretrain_iterations;
    const bool drawn = draw.counter.law != detail::CounterLaw::None;
    std::int64_t chunk = drawn ? iters : kPretrainChunkBytes / (per_iteration * std::int64_t(sizeof(T)));
    if (const char* env = std::getenv("WGF_PRETRAIN_CHUNK_ITERATIONS"))  // tests: force several chunks
        chunk = std::atoll(env);
    chunk = std::clamp<std::int64_t>(chunk, 1, std::max<std::int64_t>(iters, 1));
    std::vector<T> moments(2 * net.size(), T(0));
    const std::vector<double> lr(static_cast<std::size_t>(chunk), opt.pretrain_lr);
    std::vector<T> pool, x(static_cast<std::size_t>(per_iteration));
    std::vector<std::int64_t> rows;
    std::vector<std::uint64_t> keys;
    for (std::int64_t it0 = 0; it0 < iters; it0 += chunk) {
        const std::int64_t n = std::min(chunk, iters - it0);
        detail::DeviceStepPlan<T> plan;
        if (drawn) {
            keys.resize(static_cast<std::size_t>(n));
            for (auto& k : keys) k = rng.next_u64();  // what draw.batch() takes, iteration by iteration
            plan.draw = &draw.counter;
            plan.keys = keys.data();
        } else {
            pool.resize(static_cast<std::size_t>(n * per_iteration));
            for (std::int64_t j = 0; j < n; ++j) {
                draw.batch(rng, N, x);
                std::copy(x.begin(), x.end(), pool.begin() + j * per_iteration);
            }
            rows.resize(static_cast<std::size_t>(n * N));
            std::iota(rows.begin(), rows.end(), std::int64_t(0));  // each draw used once, in order
            plan.pool = pool.data();
            plan.pool_n = n * N;
            plan.rows = rows.data();
        }
        plan.batch = N;
        plan.iterations = static_cast<int>(n);
        plan.lr = lr.data();
        plan.adam.weight_decay = opt.pretrain_weight_decay;
        plan.moments = moments.data();
        plan.adam_step0 = it0;
        detail::DeviceStepResult res;
        try {
            res = detail::train_step_cuda<T>(ctx, shape, nullptr, JkoLossOptions{}, plan, net.data());
        } catch (const Error& e) {
            throw Error("JkoSolver: pretraining (on the device): " + std::string(e.what()));
        }
        const std::int64_t it = it0 + res.failed_iteration;
        if (res.failure == detail::DeviceStepFailure::LossNotFinite)
            WGF_FAIL("JkoSolver: pretraining iteration " << it << ": the identity loss is not finite");
        if (res.failure == detail::DeviceStepFailure::GradientNotFinite)
            WGF_FAIL("JkoSolver: pretraining iteration " << it << ": Adam::step: gradient contains " << res.bad_gradient
                                                         << " NaN/Inf entries (of " << net.size() << ")");
        WGF_CHECK(res.failure == detail::DeviceStepFailure::None,
                  "JkoSolver: pretraining iteration " << it << ": the device step failed");
    }
}
#endif

}  // namespace

void JkoOptions::validate() const {
    WGF_CHECK(std::isfinite(tau) && tau > 0, "JkoOptions: tau must be > 0, got " << tau);
    WGF_CHECK(std::isfinite(beta) && beta > 0, "JkoOptions: beta must be > 0, got " << beta);
    WGF_CHECK(steps >= 0, "JkoOptions: steps must be >= 0, got " << steps);
    WGF_CHECK(iterations >= 1, "JkoOptions: iterations must be >= 1, got " << iterations);
    WGF_CHECK(batch >= 1, "JkoOptions: batch must be >= 1, got " << batch);
    WGF_CHECK(std::isfinite(lr) && lr > 0, "JkoOptions: lr must be > 0, got " << lr);
    for (const auto& piece : lr_schedule)
        WGF_CHECK(piece.first >= 1 && std::isfinite(piece.second) && piece.second > 0,
                  "JkoOptions: lr_schedule entries need steps >= 1 and lr > 0, got {" << piece.first << ", "
                                                                                       << piece.second << "}");
    WGF_CHECK(std::isfinite(lr_end_ratio) && lr_end_ratio > 0 && lr_end_ratio <= 1,
              "JkoOptions: lr_end_ratio must be in (0, 1], got " << lr_end_ratio);
    WGF_CHECK(std::isfinite(average_tail) && average_tail >= 0 && average_tail <= 1,
              "JkoOptions: average_tail must be in [0, 1], got " << average_tail);
    WGF_CHECK(std::isfinite(weight_decay) && weight_decay >= 0 && std::isfinite(pretrain_weight_decay) &&
                  pretrain_weight_decay >= 0,
              "JkoOptions: weight decays must be finite and >= 0, got " << weight_decay << " and " << pretrain_weight_decay);
    WGF_CHECK(pretrain_iterations >= 0, "JkoOptions: pretrain_iterations must be >= 0");
    WGF_CHECK(std::isfinite(pretrain_lr) && pretrain_lr > 0, "JkoOptions: pretrain_lr must be > 0");
    WGF_CHECK(std::isfinite(pretrain_wide_variance) && pretrain_wide_variance >= 0,
              "JkoOptions: pretrain_wide_variance must be finite and >= 0 (0: no wide stage), got "
                  << pretrain_wide_variance);
    WGF_CHECK(divergence_retries >= 0 && divergence_retries <= 100,
              "JkoOptions: divergence_retries must be in [0, 100] (0: off), got " << divergence_retries);
    WGF_CHECK(pool_size >= 0, "JkoOptions: pool_size must be >= 0");
    WGF_CHECK(!carry_pool || sample_pool, "JkoOptions: carry_pool needs sample_pool (a pool to carry)");
}

double JkoOptions::lr_at(int step) const {
    if (lr_schedule.empty()) return lr;
    int start = 0;
    for (const auto& piece : lr_schedule) {
        if (step < start + piece.first) return piece.second;
        start += piece.first;
    }
    return lr_schedule.back().second;
}

double JkoOptions::lr_at(int step, int iteration) const {
    const double base = lr_at(step);
    if (lr_end_ratio == 1.0 || iterations <= 1) return base;
    const double progress = static_cast<double>(iteration) / (iterations - 1);  // 0 … 1
    const double cosine = 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));  // 1 … 0
    return base * (lr_end_ratio + (1.0 - lr_end_ratio) * cosine);
}

template <typename T>
Icnn<T> identity_icnn(const IcnnShape& shape, std::uint64_t seed, double noise) {
    const int D = shape.dim, L = shape.depth(), r = shape.rank;
    WGF_CHECK(shape.widths[0] >= D, "identity_icnn: the first layer needs width >= D (" << shape.widths[0] << " < " << D
                                                                                       << ")");
    Icnn<T> net = Icnn<T>::random(shape, seed, /*project=*/false);
    for (std::size_t i = 0; i < net.size(); ++i) net.data()[i] = static_cast<T>(net.data()[i] * noise);
    net.project();
    const IcnnLayout& lay = net.layout();
    T* p = net.data();
    const int W0 = shape.widths[0];
    // Layer 1: unit j < D computes x_j² through its first rank-one term a_{1,0,j} = e_j.
    for (int j = 0; j < D; ++j) p[lay.layers[0].A + (static_cast<std::size_t>(j) * r + 0) * W0 + j] += T(1);
    const T bias = T(12);  // softplus(u) = u + log1p(e^{−u}): relative error e^{−12} ≈ 6e-6 at the origin
    if (L == 1) {
        for (int j = 0; j < D; ++j) p[lay.c + static_cast<std::size_t>(j)] += T(0.5);
        return net;
    }
    for (int l = 1; l < L; ++l) {
        const auto& ll = lay.layers[static_cast<std::size_t>(l)];
        for (int k = 0; k < ll.width; ++k) {
            T* row = p + ll.C + static_cast<std::size_t>(k) * ll.width_prev;
            if (l == 1) {
                for (int j = 0; j < D; ++j) row[j] += T(0.5);  // u = ½‖x‖² + bias
                p[ll.b + static_cast<std::size_t>(k)] += bias;
            } else {
                for (int j = 0; j < ll.width_prev; ++j) row[j] += T(1) / static_cast<T>(ll.width_prev);  // mean of z
            }
        }
    }
    for (int k = 0; k < shape.widths.back(); ++k) p[lay.c + static_cast<std::size_t>(k)] += T(1) / static_cast<T>(shape.widths.back());
    return net;
}

template <typename T>
Icnn<T> spread_identity_icnn(const IcnnShape& shape, const std::vector<double>& samples, std::uint64_t seed,
                             double fraction) {
    const int D = shape.dim, W = shape.depth() == 2 ? shape.widths[1] : 0, r = shape.rank;
    WGF_CHECK(shape.depth() == 2, "spread_identity_icnn: needs 2 layers, got " << shape.depth());
    WGF_CHECK(W >= 4 && W >= D + 1 && shape.widths[0] >= D,
              "spread_identity_icnn: widths must be >= max(4, D + 1), got " << shape.describe());
    WGF_CHECK(fraction > 0 && fraction < 1, "spread_identity_icnn: fraction must be in (0, 1), got " << fraction);
    WGF_CHECK(!samples.empty() && samples.size() % static_cast<std::size_t>(D) == 0,
              "spread_identity_icnn: " << samples.size() << " sample values are not a positive multiple of D = " << D);
    for (double v : samples) WGF_CHECK(std::isfinite(v), "spread_identity_icnn: a sample is not finite");
    const std::int64_t n = static_cast<std::int64_t>(samples.size()) / D;
    Icnn<T> net = identity_icnn<T>(shape, seed);
    const IcnnLayout& lay = net.layout();
    const auto& l2 = lay.layers[1];
    T* p = net.data();
    const int m = W - W / 4, first = W - m;  // ridge units [first, W); units [0, first) stay quadratic
    Rng rng = stream(seed, 7, 0);
    std::vector<double> v(static_cast<std::size_t>(m) * D), a(static_cast<std::size_t>(m)), o(static_cast<std::size_t>(m));
    std::vector<double> proj(static_cast<std::size_t>(n));
    for (int k = 0; k < m; ++k) {
        double* vk = v.data() + static_cast<std::size_t>(k) * D;
        double norm = 0;
        while (norm < 1e-12) {
            norm = 0;
            for (int d = 0; d < D; ++d) {
                vk[d] = rng.normal();
                norm += vk[d] * vk[d];
            }
        }
        for (int d = 0; d < D; ++d) vk[d] /= std::sqrt(norm);
        double mean = 0, var = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (int d = 0; d < D; ++d) s += vk[d] * samples[static_cast<std::size_t>(i * D + d)];
            mean += (proj[static_cast<std::size_t>(i)] = s);
        }
        mean /= static_cast<double>(n);
        for (double s : proj) var += (s - mean) * (s - mean);
        const double sd = std::sqrt(var / static_cast<double>(n)) + 1e-12;
        a[static_cast<std::size_t>(k)] = m / (8 * sd);
        o[static_cast<std::size_t>(k)] = proj[static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(n)))];
    }
    std::vector<double> c(static_cast<std::size_t>(m), 0.0);
    if (D == 1) {
        // Knots at the quantiles of ½ (the samples, smoothed) + ½ Uniform[lo, hi], lo/hi = the further of min/max ∓ 3 sd
        // and mean ∓ 10 sd, so that they reach well past the samples (beyond the knots the map's slope is
        // 1 − fraction, which compounds over the maps of a flow); each unit's weight is its share of the knot spacing, so that the ridge part
        // of ψ'' is ≈ fraction over the whole knot range (a partition of unity by the bumps a σ''(a s),
        // each of integral 1, a = 1.5 / spacing so that neighbours overlap).
        std::vector<double> xs(samples);
        std::sort(xs.begin(), xs.end());
        double mean = 0, var = 0;
        for (double x : xs) mean += x;
        mean /= static_cast<double>(n);
        for (double x : xs) var += (x - mean) * (x - mean);
        const double sd = std::sqrt(var / static_cast<double>(n)) + 1e-12;
        const double lo = std::min(xs.front() - 3 * sd, mean - 10 * sd), hi = std::max(xs.back() + 3 * sd, mean + 10 * sd);
        // The samples' part is smoothed (each sample a N(x_i, (sd/2)²)) so that the knot density, and with
        // it the bumps' widths, changes gradually where the samples end; up to 1024 evenly spaced order
        // statistics stand for the samples.
        std::vector<double> centres;
        const std::int64_t stride = std::max<std::int64_t>(1, n / 1024);
        for (std::int64_t i = stride / 2; i < n; i += stride) centres.push_back(xs[static_cast<std::size_t>(i)]);
        const double h = 0.5 * sd;
        auto mixture_cdf = [&](double x) {
            double emp = 0;
            for (double ci : centres) emp += 0.5 * std::erfc(-(x - ci) / (h * std::sqrt(2.0)));
            emp /= static_cast<double>(centres.size());
            return 0.5 * emp + 0.5 * std::min(1.0, std::max(0.0, (x - lo) / (hi - lo)));
        };
        for (int k = 0; k < m; ++k) {  // bisection for the quantile (k + ½)/m
            const double target = (k + 0.5) / m;
            double a_lo = lo, a_hi = hi;
            for (int it = 0; it < 60; ++it) {
                const double mid = 0.5 * (a_lo + a_hi);
                (mixture_cdf(mid) < target ? a_lo : a_hi) = mid;
            }
            o[static_cast<std::size_t>(k)] = 0.5 * (a_lo + a_hi);
            // Linear side away from the samples: a unit whose knot lies left of them is softplus(−a(x − o)),
            // zero (not a translation) on the samples, so its parameters get no gradient from them and the
            // map's slope out there stays as built instead of drifting with the optimiser's noise.
            v[static_cast<std::size_t>(k)] = o[static_cast<std::size_t>(k)] < xs[static_cast<std::size_t>(n / 2)] ? -1.0 : 1.0;
        }
        for (int k = 0; k < m; ++k) {
            const double left = k > 0 ? o[static_cast<std::size_t>(k - 1)] : lo, right = k + 1 < m ? o[static_cast<std::size_t>(k + 1)] : hi;
            const double spacing = std::max(0.5 * (right - left), 1e-9 * sd);
            a[static_cast<std::size_t>(k)] = 1.5 / spacing;
            // ψ'' of unit k = c a² σ''(a s) = (c a) · [a σ''(a s)]: its mass is c a = fraction · spacing.
            c[static_cast<std::size_t>(k)] = fraction * spacing / a[static_cast<std::size_t>(k)];
        }
        for (int k = 0; k < m; ++k) o[static_cast<std::size_t>(k)] *= v[static_cast<std::size_t>(k)];  // knot → projection v·x
    }
    // Mean trace of the ridge Hessian with unit c: (1/n) Σ_i Σ_k a_k² σ''(a_k (v_k·x_i − o_k)).
    double trace = 0;
    for (std::int64_t i = 0; i < n; ++i)
        for (int k = 0; k < m; ++k) {
            double s = 0;
            for (int d = 0; d < D; ++d) s += v[static_cast<std::size_t>(k) * D + d] * samples[static_cast<std::size_t>(i * D + d)];
            const double ak = a[static_cast<std::size_t>(k)];
            trace += ak * ak * detail::softplus_derivs(ak * (s - o[static_cast<std::size_t>(k)])).s2;
        }
    trace /= static_cast<double>(n);
    WGF_CHECK(trace > 0 && std::isfinite(trace), "spread_identity_icnn: the ridge units do not reach the samples");
    if (D > 1)
        for (auto& ck : c) ck = fraction * D / trace;
    for (int k = 0; k < W; ++k) p[lay.c + static_cast<std::size_t>(k)] = static_cast<T>((1 - fraction) / first);
    for (int k = first; k < W; ++k) {
        const std::size_t q = static_cast<std::size_t>(k - first);
        std::fill_n(p + l2.C + static_cast<std::size_t>(k) * l2.width_prev, l2.width_prev, T(0));
        for (int i = 0; i < D; ++i) {
            for (int t = 0; t < r; ++t) p[l2.A + (static_cast<std::size_t>(i) * r + t) * W + k] = T(0);
            p[l2.B + static_cast<std::size_t>(k) * D + i] = static_cast<T>(a[q] * v[q * D + i]);
        }
        p[l2.b + static_cast<std::size_t>(k)] = static_cast<T>(-a[q] * o[q]);
        p[lay.c + static_cast<std::size_t>(k)] = static_cast<T>(c[q]);
    }
    if (D == 1) {
        // The ridge units shift the map by a constant δ on the samples. Each quadratic unit's u = ½x² + 12
        // becomes ½(x + e)² + 12 (B += e, b += ½e²): still ≥ 12, in softplus's linear regime, and with
        // Σ c = 1 − fraction the map moves by (1 − fraction) e = δ, putting ∇ψ(median) back at the median.
        std::vector<double> xs(samples);
        std::nth_element(xs.begin(), xs.begin() + n / 2, xs.end());
        const T med = static_cast<T>(xs[static_cast<std::size_t>(n / 2)]);
        T g = 0;
        Context host(Backend::Host, 1);
        icnn_eval(host, net, &med, 1, IcnnOutputs<T>{nullptr, &g, nullptr, nullptr, nullptr});
        const double e = (static_cast<double>(med) - static_cast<double>(g)) / (1 - fraction);
        for (int k = 0; k < first; ++k) {
            p[l2.B + static_cast<std::size_t>(k)] += static_cast<T>(e);
            p[l2.b + static_cast<std::size_t>(k)] += static_cast<T>(0.5 * e * e);
        }
    }
    return net;
}

template <typename T>
JkoSolver<T>::JkoSolver(Context& ctx, IcnnShape shape, const Potential<T>& potential, JkoOptions options)
    : JkoSolver(ctx, std::move(shape), std::shared_ptr<const Potential<T>>(std::shared_ptr<const Potential<T>>(), &potential),
                std::move(options)) {}

template <typename T>
JkoSolver<T>::JkoSolver(Context& ctx, IcnnShape shape, std::shared_ptr<const Potential<T>> potential, JkoOptions options)
    : m_ctx(&ctx), m_shape(std::move(shape)), m_potential(std::move(potential)), m_opt(std::move(options)) {
    WGF_CHECK(m_potential != nullptr, "JkoSolver: the potential is null");
    m_shape.validate();
    m_opt.validate();
    WGF_CHECK(m_potential->dim() == m_shape.dim, "JkoSolver: potential dimension " << m_potential->dim()
                                                                                   << " differs from the ICNN's D = "
                                                                                   << m_shape.dim);
}

template <typename T>
Icnn<T> JkoSolver<T>::initial_map(const Flow<T>& flow, double* seconds) const {
    const auto t0 = std::chrono::steady_clock::now();
    WGF_CHECK(flow.dim() == m_shape.dim, "JkoSolver: flow dimension " << flow.dim() << " differs from D = " << m_shape.dim);
    if (m_opt.init == JkoInit::Identity) {
        Icnn<T> net = identity_icnn<T>(m_shape, m_opt.seed);
        if (seconds) *seconds = seconds_since(t0);
        return net;
    }
    if (m_opt.init == JkoInit::Spread) {
        Rng rng = stream(m_opt.seed, 8, 0);
        const std::vector<double> x0 = flow.initial().sample(std::min<std::int64_t>(4096, std::max<std::int64_t>(m_opt.batch, 256)), rng);
        Icnn<T> net = spread_identity_icnn<T>(m_shape, x0, m_opt.seed);
        if (seconds) *seconds = seconds_since(t0);
        return net;
    }
    detail::ContextDeviceScope scope(*m_ctx);  // device buffers below belong to ctx's device
    // Reference pretraining: Adam(pretrain_lr, wd 1e-8) on mean((∇ψ(x) − x)²), x ∼ ρ⁰ fresh each
    // iteration, projection after each step, the full iteration count (PAPER-SPEC §3); with
    // pretrain_wide_variance v > 0 a first stage on N(0, v I), as the reference's posterior study.
    Icnn<T> net = Icnn<T>::random(m_shape, m_opt.seed, /*project=*/false);
    // Each iteration's batch is a fresh draw: of N(0, v I), then of ρ⁰. Built-in laws draw through the
    // counter-based sampler with the key rng.next_u64() (as their sample() does), so the device draws
    // the same batches inside its step; other laws draw with sample() on the host.
    PretrainDraw wide;
    if (m_opt.pretrain_wide_variance > 0) {
        const int D = m_shape.dim;
        wide.counter.law = detail::CounterLaw::Gaussian;
        wide.counter.dim = D;
        wide.counter.params.assign(static_cast<std::size_t>(D + D * D), 0.0);  // mean 0, factor √v I
        for (int d = 0; d < D; ++d) wide.counter.params[static_cast<std::size_t>(D + d * D + d)] = std::sqrt(m_opt.pretrain_wide_variance);
    }
    PretrainDraw rho0;
    rho0.counter = flow.initial().counter_sampler();
    rho0.host = [&](Rng& rng) { return flow.initial().sample(m_opt.batch, rng); };
#ifdef WGF_WITH_CUDA
    if (m_ctx->backend() == Backend::Cuda) {  // the same stages on the device, no round trip per iteration
        if (m_opt.pretrain_wide_variance > 0)
            pretrain_stage_on_device(*m_ctx, m_shape, m_opt, stream(m_opt.seed, 1, 1), wide, net);
        pretrain_stage_on_device(*m_ctx, m_shape, m_opt, stream(m_opt.seed, 1, 0), rho0, net);
        net.project();
        if (seconds) *seconds = seconds_since(t0);
        return net;
    }
#endif
    AdamOptions ao;
    ao.lr = m_opt.pretrain_lr;
    ao.weight_decay = m_opt.pretrain_weight_decay;
    TrainingBuffers<T> buf(*m_ctx, net, m_opt.batch * m_shape.dim);
    T* params = buf.params(net);
    std::vector<T> x(static_cast<std::size_t>(m_opt.batch * m_shape.dim));
    const auto stage = [&](Rng rng, const PretrainDraw& draw) {
        Adam<T> adam(*m_ctx, net.size(), ao);  // a fresh optimiser per stage, as the reference's calls
        for (int it = 0; it < m_opt.pretrain_iterations; ++it) {
            draw.batch(rng, m_opt.batch, x);
            identity_loss(*m_ctx, m_shape, params, buf.batch(x), m_opt.batch, buf.grad());
            adam.step(params, buf.grad());
            icnn_project(*m_ctx, m_shape, params);
        }
    };
    if (m_opt.pretrain_wide_variance > 0) stage(stream(m_opt.seed, 1, 1), wide);
    stage(stream(m_opt.seed, 1, 0), rho0);
    buf.store(net);
    net.project();
    if (seconds) *seconds = seconds_since(t0);
    return net;
}

namespace {
/// "key = value" lines → ordered (key, value) pairs; lines without " = " are kept whole as keys.
std::vector<std::pair<std::string, std::string>> parse_settings(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t eq = line.find(" = ");
        if (eq == std::string::npos)
            out.emplace_back(line, "");
        else
            out.emplace_back(line.substr(0, eq), line.substr(eq + 3));
    }
    return out;
}

/// "seed (checkpoints: 0, now: 1); tau (...)" for every key whose value differs or is missing on one side.
std::string settings_difference(const std::string& before, const std::string& now) {
    const auto a = parse_settings(before), b = parse_settings(now);
    const auto find = [](const std::vector<std::pair<std::string, std::string>>& v, const std::string& key) -> const std::string* {
        for (const auto& kv : v)
            if (kv.first == key) return &kv.second;
        return nullptr;
    };
    std::ostringstream os;
    const auto add = [&](const std::string& key, const std::string* x, const std::string* y) {
        os << (os.tellp() > 0 ? "; " : "") << key << " (checkpoints: " << (x ? *x : "not recorded")
           << ", now: " << (y ? *y : "not set") << ")";
    };
    for (const auto& kv : b) {
        const std::string* old = find(a, kv.first);
        if (!old || *old != kv.second) add(kv.first, old, &kv.second);
    }
    for (const auto& kv : a)
        if (!find(b, kv.first)) add(kv.first, &kv.second, nullptr);
    return os.str();
}

/// Refuses a checkpoint folder that cannot hold step files — before any training: a path that is a
/// file, a folder that cannot be created or written (read-only file system, permissions).
void check_checkpoint_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    WGF_CHECK(std::filesystem::is_directory(dir),
              "JkoSolver: checkpoint_dir '" << dir << "' is not a folder and cannot be created"
                                            << (ec ? " (" + ec.message() + ")" : std::string()));
    const std::string probe = dir + "/.wgf-write-probe";
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    const int err = errno;
    WGF_CHECK(f != nullptr, "JkoSolver: checkpoint_dir '" << dir << "' is not writable (" << std::strerror(err) << ")");
    std::fclose(f);
    std::remove(probe.c_str());
}

/// A shortest decimal that reads back to exactly v ("0.05", not "0.050000000000000003").
std::string exact(double v) {
    for (int digits = 6; digits <= 17; ++digits) {
        std::ostringstream os;
        os.precision(digits);
        os << v;
        if (std::stod(os.str()) == v || digits == 17) return os.str();
    }
    return {};
}
}  // namespace

template <typename T>
std::string JkoSolver<T>::settings() const {
    std::ostringstream os;
    const JkoOptions& o = m_opt;
    os << "precision = " << (sizeof(T) == 4 ? "float" : "double") << "\n"
       << "potential = " << m_potential->fingerprint() << "\n"
       << "tau = " << exact(o.tau) << "\nbeta = " << exact(o.beta) << "\nseed = " << o.seed
       << "\niterations = " << o.iterations << "\nbatch = " << o.batch << "\nlr = " << exact(o.lr) << "\nlr_schedule =";
    for (const auto& piece : o.lr_schedule) os << " " << piece.first << ":" << exact(piece.second);
    os << "\nlr_end_ratio = " << exact(o.lr_end_ratio) << "\naverage_tail = " << exact(o.average_tail)
       << "\nweight_decay = " << exact(o.weight_decay)
       << "\ninit = " << (o.init == JkoInit::Pretrain ? "pretrain" : o.init == JkoInit::Identity ? "identity" : "spread")
       << "\npretrain_iterations = " << o.pretrain_iterations << "\npretrain_lr = " << exact(o.pretrain_lr)
       << "\npretrain_weight_decay = " << exact(o.pretrain_weight_decay) << "\nsample_pool = " << o.sample_pool
       << "\npool_size = " << o.pool_size << "\ncarry_pool = " << o.carry_pool << "\n";
    // Recorded only when set, so that checkpoints made before the option existed still resume.
    if (o.pretrain_wide_variance > 0) os << "pretrain_wide_variance = " << exact(o.pretrain_wide_variance) << "\n";
    // Recorded only when not the default: checkpoints made before the option existed resume.
    if (o.divergence_retries != JkoOptions{}.divergence_retries)
        os << "divergence_retries = " << o.divergence_retries << "\n";
    return os.str();
}

template <typename T>
Flow<T> JkoSolver<T>::resume_or_start(std::shared_ptr<const InitialDistribution> rho0) const {
    WGF_CHECK(rho0 != nullptr, "JkoSolver::resume_or_start: the initial distribution is null");
    WGF_CHECK(rho0->dim() == m_shape.dim, "JkoSolver::resume_or_start: the initial distribution has D = " << rho0->dim()
                                                                                                        << ", the ICNN "
                                                                                                        << m_shape.dim);
    if (!m_opt.checkpoint_dir.empty()) {
        try {
            std::string recorded;
            Flow<T> flow = Flow<T>::load_steps(m_opt.checkpoint_dir, rho0, &recorded);
            WGF_CHECK(flow.initial().record() == rho0->record(),
                      "JkoSolver: checkpoints in '" << m_opt.checkpoint_dir << "' start from another initial distribution ("
                                                    << flow.initial().describe() << ", not " << rho0->describe() << ")");
            WGF_CHECK(flow.map(0).shape() == m_shape, "JkoSolver: checkpoints in '" << m_opt.checkpoint_dir
                                                                                  << "' hold maps of shape "
                                                                                  << flow.map(0).shape().describe());
            // Step files of version 2 have no settings to compare: they resume as before.
            const std::string diff = recorded.empty() ? std::string() : settings_difference(recorded, settings());
            WGF_CHECK(diff.empty(), "JkoSolver: the checkpoints in '"
                                        << m_opt.checkpoint_dir << "' were made with other settings: " << diff
                                        << ". Resuming would continue another flow: use another checkpoint folder, "
                                           "or remove that one to start again");
            return flow;
        } catch (const NoCheckpoint&) {
            // No step file at all: a fresh start. Anything else (damage, mismatch) propagates.
        }
    }
    return Flow<T>(std::move(rho0));
}

template <typename T>
std::string JkoSolver<T>::where_failed(int step, int iteration) const {
    std::ostringstream os;
    os << "JkoSolver: step " << step << " (from t = " << step * m_opt.tau << "), iteration " << iteration << ": ";
    if (!m_opt.checkpoint_dir.empty() && step > 0)
        os << "(the checkpoints in '" << m_opt.checkpoint_dir << "' up to step " << step - 1 << " are kept) ";
    return os.str();
}

template <typename T>
void JkoSolver<T>::run(Flow<T>& flow, const std::function<void(const JkoStepReport&)>& on_step) {
    WGF_CHECK(flow.dim() == m_shape.dim, "JkoSolver::run: flow dimension " << flow.dim() << " differs from D = "
                                                                           << m_shape.dim);
    if (!m_opt.checkpoint_dir.empty() && flow.steps() < m_opt.steps) check_checkpoint_dir(m_opt.checkpoint_dir);
    Icnn<T> net = flow.steps() == 0 ? initial_map(flow, &m_pretrain_seconds) : flow.map(flow.steps() - 1);
    detail::ContextDeviceScope scope(*m_ctx);  // device buffers below belong to ctx's device
    const std::int64_t N = m_opt.batch, D = m_shape.dim;
    const std::int64_t pool_n = m_opt.pool_size > 0 ? m_opt.pool_size : 16 * N;
    std::vector<T> batch(static_cast<std::size_t>(N * D));
    const JkoLossOptions lo{m_opt.tau, m_opt.beta};
    std::vector<T> pool;  // ρ^k samples the step's batches are drawn from
    int pool_at = -1;     // the step the pool was made for (carry_pool: pushed one map per step)
#ifdef WGF_WITH_CUDA
    const bool on_device = m_ctx->backend() == Backend::Cuda && m_opt.sample_pool;  // the step on the device
    DevicePool<T> device_pool;  // on_device: the pool, on the device (the same points as `pool` would be)
#endif
    for (int k = flow.steps(); k < m_opt.steps; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        JkoStepReport rep;
        rep.step = k;
        rep.lr = m_opt.lr_at(k);
        Rng rng = stream(m_opt.seed, 2, static_cast<std::uint64_t>(k));
        std::vector<std::int64_t> rows;  // sample_pool: the pool rows of every iteration's batch
        if (m_opt.sample_pool) {
            Rng pool_rng = stream(m_opt.seed, 3, 0);  // carry_pool: the same ρ⁰ points at every (re)start
            Rng& draw_rng = m_opt.carry_pool ? pool_rng : rng;
#ifdef WGF_WITH_CUDA
            if (on_device) {
                if (m_opt.carry_pool && pool_at >= 0)
                    device_pool.push(*m_ctx, flow, pool_at, k);
                else
                    device_pool.sample(*m_ctx, flow, k, pool_n, draw_rng);
            } else
#endif
            if (m_opt.carry_pool && pool_at >= 0) {
                flow.push(*m_ctx, pool_at, k, pool.data(), pool_n);
            } else {
                pool = flow.sample(*m_ctx, k, pool_n, draw_rng);
            }
            pool_at = k;
            rows = draw_batch_rows(rng, pool_n, N, m_opt.iterations);
        }
        const int averaged = m_opt.average_tail > 0
                                 ? std::max(1, static_cast<int>(std::ceil(m_opt.average_tail * m_opt.iterations)))
                                 : 0;
        const Icnn<T> start = net;  // the step's warm start: every attempt begins here
        // One attempt of the step's iterations on the batches `batch_rows` of the pool (without a
        // pool: fresh draws from rng): net = its map, r = its losses, returns every iteration's loss.
        const auto attempt = [&](const std::vector<std::int64_t>& batch_rows, JkoStepReport& r) {
            net = start;
            std::vector<double> losses;
            losses.reserve(static_cast<std::size_t>(m_opt.iterations));
#ifdef WGF_WITH_CUDA
            if (on_device) {
                // The whole step on the device, with no host round trip inside it (train_step_cuda.h).
                train_step_on_device(*m_ctx, m_shape, *m_potential, m_opt, k, device_pool.points(), pool_n, batch_rows,
                                     averaged, [&](int it) { return where_failed(k, it); }, r, net, losses);
                return losses;
            }
#endif
            AdamOptions ao;
            ao.lr = r.lr;
            ao.weight_decay = m_opt.weight_decay;
            Adam<T> adam(*m_ctx, net.size(), ao);  // fresh optimiser per step, warm-started parameters
            TrainingBuffers<T> buf(*m_ctx, net, N * D);
            T* params = buf.params(net);
            std::vector<double> param_sum(averaged > 0 ? net.size() : 0, 0.0);
            for (int it = 0; it < m_opt.iterations; ++it) {
                if (m_opt.sample_pool) {
                    gather_batch(pool, batch_rows, it, N, D, batch);
                } else {
                    batch = flow.sample(*m_ctx, k, N, rng);  // the reference: fresh ρ⁰ samples through all maps
                }
                JkoLossValue L;
                try {
                    // the backend's loss without re-scanning the batch and parameters the solver made
                    L = detail::jko_loss_unchecked(*m_ctx, m_shape, params, buf.batch(batch), N, *m_potential, lo,
                                                   buf.grad());
                } catch (const NotPositiveDefinite& e) {
                    throw NotPositiveDefinite(e.point(), e.status(), where_failed(k, it) + e.what());
                } catch (const Error& e) {
                    throw Error(where_failed(k, it) + e.what());
                }
                if (!std::isfinite(L.total)) {
                    Icnn<T> current = net;  // the parameters being trained: in place on Host, on the device on Cuda
                    buf.store(current);
                    fail_loss_not_finite(where_failed(k, it), L, *m_potential, current, batch, N);
                }
                if (it == 0) r.loss_first = L.total;
                r.loss_last = L.total;
                losses.push_back(L.total);
                if (m_opt.lr_end_ratio != 1.0) adam.set_lr(m_opt.lr_at(k, it));
                try {
                    adam.step(params, buf.grad());
                } catch (const Error& e) {
                    throw Error(where_failed(k, it) + e.what());
                }
                icnn_project(*m_ctx, m_shape, params);
                if (it >= m_opt.iterations - averaged) buf.accumulate(net, param_sum);
            }
            buf.store(net);
            if (averaged > 0) {
                T* p = net.data();
                for (std::size_t i = 0; i < param_sum.size(); ++i) p[i] = static_cast<T>(param_sum[i] / averaged);
            }
            return losses;
        };
        detail::StepDivergence check = detail::check_step_divergence(attempt(rows, rep));
        rep.loss_rise = check.rise_se;
        if (check.diverged && m_opt.divergence_retries > 0) {
            // Redo the step from its warm start on other orders of the same pool (their own stream, so
            // that a resumed run redoes what an uninterrupted one did); keep the first attempt that does
            // not diverge, else the one whose losses ended lowest. A redone attempt must also end near
            // the lowest level an earlier one reached (it may be derailed from its first iterations,
            // with no rise of its own).
            Rng retry_rng = stream(m_opt.seed, 9, static_cast<std::uint64_t>(k));
            Icnn<T> kept = net;
            JkoStepReport kept_rep = rep;
            double kept_level = check.last_level;
            detail::StepDivergence earlier_best = check;
            for (int a = 1; a <= m_opt.divergence_retries; ++a) {
                JkoStepReport r = rep;
                if (m_opt.sample_pool) rows = draw_batch_rows(retry_rng, pool_n, N, m_opt.iterations);
                check = detail::check_step_divergence(attempt(rows, r));
                const detail::StepDivergence own = check;
                detail::compare_with_earlier(check, earlier_best);
                if (own.lowest_level < earlier_best.lowest_level) earlier_best = own;
                r.loss_rise = check.rise_se;
                if (!check.diverged || check.last_level < kept_level) {
                    kept = net;
                    kept_rep = r;
                    kept_level = check.last_level;
                }
                kept_rep.retries = a;
                if (!check.diverged) break;
            }
            net = std::move(kept);
            rep = kept_rep;
        }
        rep.diverged = check.diverged;  // the last attempt's verdict: false once one attempt passed
        flow.push_back(net, m_opt.tau);
        if (!m_opt.checkpoint_dir.empty()) flow.save_step(m_opt.checkpoint_dir, k, settings());
        rep.time = flow.time(k + 1);
        rep.seconds = seconds_since(t0);
        if (on_step) on_step(rep);
    }
}

template class JkoSolver<float>;
template class JkoSolver<double>;
template Icnn<float> identity_icnn<float>(const IcnnShape&, std::uint64_t, double);
template Icnn<double> identity_icnn<double>(const IcnnShape&, std::uint64_t, double);
template Icnn<float> spread_identity_icnn<float>(const IcnnShape&, const std::vector<double>&, std::uint64_t, double);
template Icnn<double> spread_identity_icnn<double>(const IcnnShape&, const std::vector<double>&, std::uint64_t, double);

}  // namespace wgf

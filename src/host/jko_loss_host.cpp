// jko_loss_host.cpp — the training losses on the host: per block of points, the ops of
// icnn_block_host.h run forward while recording their backward rules on a Tape, then the tape is
// replayed and the parameter gradient accumulates per group of blocks. Threads take groups
// dynamically and the per-group sums are added in group order, so results are deterministic for a
// given thread count.
//   JKO:      L = (1/N) Σ_p [ ½‖y_p − x_p‖² + τ Φ(y_p) − τβ⁻¹ log det H_p ],  y = ∇ψ(x), H = ∇²ψ(x)
//   identity: L = (1/(N·D)) Σ_p ‖y_p − x_p‖²
#include "jko_loss_host.h"

#include <algorithm>
#include <string>
#include <vector>

#include "icnn_block_host.h"
#include "icnn_host.h"
#include "denormals.h"
#include "parallel_errors.h"
#include "wgf/error.h"
#include "tape.h"

namespace wgf {
namespace detail {

namespace {

/// Records the ops that produce y = ∇ψ(x) (and, with hessian, H and log det) for one block.
template <typename T>
void record_icnn(Tape& tape, const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams, bool hessian) {
    values_forward(net, blk, /*need_s3=*/hessian, /*need_psi=*/false);  // ψ's value is not in the losses
    tape.record("icnn_values", [&net, &blk, dparams] { values_backward(net, blk, dparams); });
    grad_recursion_forward(net, blk);
    tape.record("grad_recursion", [&net, &blk, dparams] { grad_recursion_backward(net, blk, dparams); });
    quad_jacobian_forward(net, blk);
    tape.record("quad_jacobian", [&net, &blk, dparams] { quad_jacobian_backward(net, blk, dparams); });
    grad_assembly_forward(net, blk);
    tape.record("grad_assembly", [&net, &blk] { grad_assembly_backward(net, blk); });
    if (!hessian) return;
    jacobian_recursion_forward(net, blk);
    tape.record("jacobian_recursion", [&net, &blk, dparams] { jacobian_recursion_backward(net, blk, dparams); });
    hessian_assembly_forward(net, blk);
    tape.record("hessian_assembly", [&net, &blk, dparams] { hessian_assembly_backward(net, blk, dparams); });
    cholesky_logdet_forward(net, blk);
    tape.record("cholesky_logdet", [&net, &blk] { cholesky_logdet_backward(net, blk); });
}

/// Accumulators of one group of blocks (see run_blocks).
template <typename T>
struct ThreadSums {
    HVec<T> dparams;  // aligned, like HostNet::params, for reproducible reductions
    double w2 = 0, potential = 0, logdet = 0, sq = 0;
    std::int64_t failed_point = -1;
    std::int32_t failed_status = kIcnnOk;
};

/// The block loop shared by the losses. The blocks of points are split into up to 4·threads groups of
/// consecutive blocks; threads take groups dynamically (a thread that runs slower — another process
/// on its core — gets fewer), and each group owns its accumulators. For each block the ICNN ops are
/// recorded on the thread's tape, then `loss_ops(blk, tape, acc, n0)` records the loss's own ops (and
/// accumulates its values) and returns whether the tape is to be replayed (false when the block has a
/// failed factorisation). The groups' parameter gradients are added into dL_dparams (if given) in
/// group order, so results depend only on the grouping (the block size and thread count), never on
/// which thread ran which group.
template <typename T, typename LossOps>
std::vector<ThreadSums<T>> run_blocks(int threads, const HostNet<T>& net, const T* x, std::int64_t n, bool hessian,
                                      T* dL_dparams, LossOps loss_ops) {
    const int D = net.shape.dim;
    const std::size_t count = net.layout.total;
    const int P = host_block_points(net.shape, n, threads, true);
    const std::int64_t blocks = (n + P - 1) / P;
    const std::int64_t groups = std::min<std::int64_t>(blocks, 4 * static_cast<std::int64_t>(threads));
    std::vector<ThreadSums<T>> sums(static_cast<std::size_t>(groups));
    ParallelErrors errors;  // a throwing potential or allocation: rethrown below, never std::terminate
#pragma omp parallel num_threads(threads)
    {
        const FlushDenormals flush_denormals;  // softplus tails: no denormal slow paths (denormals.h)
        static thread_local IcnnBlock<T> storage;  // reused across calls: no page faults per call
        IcnnBlock<T>& blk = storage;
        Tape tape;
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t g = 0; g < groups; ++g) {
            errors.run(g, [&] {
                ThreadSums<T>& acc = sums[static_cast<std::size_t>(g)];
                if (dL_dparams) acc.dparams.setZero(static_cast<Eigen::Index>(count));
                for (std::int64_t b = g * blocks / groups; b < (g + 1) * blocks / groups; ++b) {
                    const std::int64_t n0 = b * P;
                    tape.clear();  // a block that threw left its ops behind
                    blk.set_points(x + n0 * D, static_cast<int>(std::min<std::int64_t>(P, n - n0)), D);
                    record_icnn(tape, net, blk, dL_dparams ? acc.dparams.data() : nullptr, hessian);
                    if (loss_ops(blk, tape, acc, n0) && dL_dparams) {
                        blk.zero_adjoints(net);
                        tape.backward();
                    }
                    tape.clear();
                }
            });
        }
    }
    errors.rethrow();
    if (dL_dparams) {
        std::fill(dL_dparams, dL_dparams + count, T(0));
        for (const auto& acc : sums)
            for (std::size_t i = 0; i < count; ++i) dL_dparams[i] += acc.dparams[static_cast<Eigen::Index>(i)];
    }
    return sums;
}

}  // namespace

template <typename T>
JkoLossValue jko_loss_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                           const Potential<T>& potential, const JkoLossOptions& opt, T* dL_dparams) {
    const HostNet<T> net(shape, params, /*with_hessian=*/true);
    const int D = shape.dim;
    const T inv_n = T(1) / static_cast<T>(n), tau = static_cast<T>(opt.tau), tau_beta = static_cast<T>(opt.tau / opt.beta);
    const bool serial_potential = !potential.thread_safe();
    // Per-thread scratch that the loss ops' backward rules refer to (alive until the tape replays).
    struct Scratch {
        HVec<T> phi, w, phi_bar, w_bar;
        HMatR<T> dphi;
    };

    const auto sums = run_blocks(threads, net, x, n, /*hessian=*/true, dL_dparams,
                                 [&](IcnnBlock<T>& blk, Tape& tape, ThreadSums<T>& acc, std::int64_t n0) {
        static thread_local Scratch scratch;
        Scratch& sc = scratch;
        for (int p = 0; p < blk.P; ++p) {
            // A push that overflowed is a non-finite point, as in icnn_eval (wgf/icnn_status.h).
            if (blk.status[static_cast<std::size_t>(p)] == kIcnnOk && !blk.Y.row(p).allFinite())
                blk.status[static_cast<std::size_t>(p)] = kIcnnNonFinite;
            if (blk.status[static_cast<std::size_t>(p)] != kIcnnOk && acc.failed_point < 0) {
                acc.failed_point = n0 + p;
                acc.failed_status = blk.status[static_cast<std::size_t>(p)];
            }
        }
        if (acc.failed_point >= 0) return false;  // the loss is undefined: no potential on non-finite points
        // Potential Φ(y) with ∇Φ(y): backward ȳ += Φ̄ ∇Φ(y).
        sc.phi.resize(blk.P);
        sc.dphi.resize(blk.P, D);
        Context host(Backend::Host, 1);
        if (serial_potential) {
            std::exception_ptr thrown;  // must not leave the critical section
#pragma omp critical(wgf_user_potential)
            thrown = catch_inside([&] { potential.eval(host, blk.Y.data(), blk.P, sc.phi.data(), sc.dphi.data()); });
            if (thrown) std::rethrow_exception(thrown);
        } else {
            potential.eval(host, blk.Y.data(), blk.P, sc.phi.data(), sc.dphi.data());
        }
        tape.record("potential", [&blk, &sc] { blk.Y_bar.noalias() += sc.phi_bar.asDiagonal() * sc.dphi; });
        // W₂ term w_p = ½‖y_p − x_p‖²: backward ȳ += w̄ (y − x), x̄ −= w̄ (y − x).
        const Eigen::Map<const HMatR<T>> X(blk.x, blk.P, D);
        sc.w = T(0.5) * (blk.Y - X).rowwise().squaredNorm();
        tape.record("w2", [&blk, &sc, X] {
            const HMatR<T> diff = sc.w_bar.asDiagonal() * (blk.Y - X);
            blk.Y_bar += diff;
            blk.x_bar -= diff;
        });
        // Mean reduction: L = Σ_p (w_p + τΦ_p − τβ⁻¹ logdet_p)/N.
        tape.record("mean_reduction", [&blk, &sc, inv_n, tau, tau_beta] {
            sc.w_bar = HVec<T>::Constant(blk.P, inv_n);
            sc.phi_bar = HVec<T>::Constant(blk.P, tau * inv_n);
            blk.logdet_bar = HVec<T>::Constant(blk.P, -tau_beta * inv_n);
        });
        acc.w2 += static_cast<double>(sc.w.sum());
        acc.potential += static_cast<double>(sc.phi.sum());
        acc.logdet += static_cast<double>(blk.logdet.sum());
        return acc.failed_point < 0;
    });

    JkoLossValue v;
    for (const auto& acc : sums) {
        if (acc.failed_point >= 0)
            throw NotPositiveDefinite(acc.failed_point, acc.failed_status,
                                      "jko_loss: Hessian of batch point " + std::to_string(acc.failed_point) +
                                          " is not positive definite: " + icnn_status_reason(acc.failed_status) +
                                          "; the loss is undefined");
        v.w2 += acc.w2;
        v.potential += acc.potential;
        v.logdet += acc.logdet;
    }
    v.w2 /= static_cast<double>(n);
    v.potential /= static_cast<double>(n);
    v.logdet /= static_cast<double>(n);
    v.total = v.w2 + opt.tau * v.potential - opt.tau / opt.beta * v.logdet;
    return v;
}

template <typename T>
double identity_loss_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                          T* dL_dparams) {
    const HostNet<T> net(shape, params, /*with_hessian=*/false);
    const int D = shape.dim;
    const T scale = T(1) / static_cast<T>(n * D);
    const auto sums = run_blocks(threads, net, x, n, /*hessian=*/false, dL_dparams,
                                 [&](IcnnBlock<T>& blk, Tape& tape, ThreadSums<T>& acc, std::int64_t) {
        const Eigen::Map<const HMatR<T>> X(blk.x, blk.P, D);
        // Squared error Σ (y − x)² · scale: backward ȳ += 2·scale·(y − x).
        tape.record("mse", [&blk, X, scale] { blk.Y_bar += (T(2) * scale) * (blk.Y - X); });
        acc.sq += static_cast<double>((blk.Y - X).squaredNorm());
        return true;
    });
    double sq = 0;
    for (const auto& acc : sums) sq += acc.sq;
    return sq / static_cast<double>(n * D);
}

template JkoLossValue jko_loss_host<float>(int, const IcnnShape&, const float*, const float*, std::int64_t,
                                           const Potential<float>&, const JkoLossOptions&, float*);
template JkoLossValue jko_loss_host<double>(int, const IcnnShape&, const double*, const double*, std::int64_t,
                                            const Potential<double>&, const JkoLossOptions&, double*);
template double identity_loss_host<float>(int, const IcnnShape&, const float*, const float*, std::int64_t, float*);
template double identity_loss_host<double>(int, const IcnnShape&, const double*, const double*, std::int64_t,
                                           double*);

}  // namespace detail
}  // namespace wgf

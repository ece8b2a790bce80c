// cuda_op_checks.h — the CUDA ops of one training chunk (src/cuda/icnn_forward_ops.cuh,
// icnn_backward_ops.cuh) run one at a time on P points, each compared with the host op(s) it mirrors
// (src/host/icnn_block_host.h) on the same points and parameters: every tensor the op writes, against
// the host's, as max |device − host| / max |host| (llm.c's dev/cuda habit: validate each kernel, then
// time it). Shared by bench_cuda_ops (validation before timing, on a GPU) and test_cuda_ops (the same
// validation under the CPU emulation, in CI). Compiled as CUDA by nvcc, or as C++ against
// tests/cuda_emu/cuda_emu.h.
//
// Op boundaries (icnn_backward_ops.cuh): the device's hessian_assembly_backward and
// grad_assembly_backward form only Ḡ's terms; grad_recursion_backward adds the Hessian's curvature
// terms to Δ̄ and Ū; values_backward forms K̄ (with jacobian_recursion_backward), DQ̄ and S̄;
// quad_jacobian_backward runs last. Each check compares what both sides have complete at that point:
// Ḡ after each op that adds to it, Δ̄ after the upward pass, K̄, DQ̄, Ū and S̄ after the downward one,
// the parameter gradient at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "context_access.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_state.h"
#include "cuda/icnn_backward_ops.cuh"
#include "cuda/icnn_forward_ops.cuh"
#include "cuda/train_workspace.cuh"
#include "bench/chunk_reference_host.h"
#include "wgf/context.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"
#include "wgf/icnn.h"

namespace wgf {
namespace op_checks {

/// One compared tensor: the op, the tensor, its error relative to the host tensor's scale, that scale.
struct TensorCheck {
    std::string op, tensor;
    double rel_err = 0, scale = 0;
};

/// The device side of one chunk: parameters, points [P][D], ȳ and logdet̄ seeds, the training workspace.
template <typename T>
class DeviceChunk {
public:
    DeviceChunk(Context& ctx, const IcnnShape& shape, const std::vector<T>& params, const std::vector<T>& x,
                const std::vector<T>& ybar, T logdet_bar)
        : st(*detail::cuda_state(ctx)), shape(shape), layout(shape), P(static_cast<int>(x.size() / shape.dim)),
          logdet_bar(logdet_bar), d_params(params.data(), params.size()), d_x(x.data(), x.size()),
          d_ybar(ybar.data(), ybar.size()), d_grads(params.size()) {
        const std::size_t bytes = detail::plan_train<T>(shape, true, true, P, P, nullptr, ws);
        char* base = static_cast<char*>(detail::cuda_scratch(st, bytes));
        detail::plan_train<T>(shape, true, true, P, P, base, ws);
        ft.S = ws.S;
        ft.U = ws.U;
        ft.Z = ws.Z;
        ft.S1 = ws.S1;
        ft.S2 = ws.S2;
        ft.S3 = ws.S3;
        ft.DQ = ws.DQ;
        ft.Delta = ws.Delta;
        ft.G = ws.G;
        ft.E = ws.E;
        ft.K = ws.K;
        ft.J = ws.J;
        ft.BX = ws.BX;
        ft.M = ws.M;
        ft.Pm = ws.Pm.data();
    }

    // ---- the ops, in the order of a training chunk (jko_loss_cuda.cu: train_chunk) -----------------------
    void build_pm() { detail::build_pm_cuda(st, shape, layout, d_params.data(), ws.Pm.data()); }
    void values_forward() { detail::values_forward_cuda(st, shape, layout, d_params.data(), d_x.data(), P, ft); }
    void grad_recursion_forward() {
        detail::grad_recursion_forward_cuda(st, shape, layout, d_params.data(), P, ft, ws.H);
    }
    void grad_assembly_forward() { detail::grad_assembly_forward_cuda(st, shape, layout, d_x.data(), P, ft, ws.Y); }
    void cholesky_logdet() {
        detail::cholesky_logdet_cuda(st, shape.dim, P, 0, ws.H, static_cast<T>(shape.strong_convexity), true, ws.Y,
                                     ws.F, ws.logdet, ws.status, ws.failure);
    }
    /// Zeroes the adjoints and the parameter gradient, sets ȳ and the ones vector.
    void begin_backward() {
        WGF_CUDA_CHECK(cudaMemsetAsync(ws.adjoint_begin, 0, ws.adjoint_bytes, st.stream));
        WGF_CUDA_CHECK(cudaMemsetAsync(d_grads.data(), 0, d_grads.size() * sizeof(T), st.stream));
        WGF_CUDA_CHECK(cudaMemcpyAsync(ws.Ybar, d_ybar.data(), d_ybar.size() * sizeof(T), cudaMemcpyDeviceToDevice,
                                       st.stream));
        WGF_LAUNCH_KERNEL(detail::grid_for(P), detail::kThreads, st.stream, detail::fill_kernel<T>)(std::int64_t(P), T(1),
                                                                                                 ws.ones);
        WGF_LAUNCH_CHECK(st.stream);
    }
    void cholesky_logdet_backward() { detail::cholesky_logdet_backward_cuda(st, shape.dim, P, logdet_bar, ws.status, ws); }
    void hessian_assembly_backward() { detail::hessian_assembly_backward_cuda(st, shape, layout, P, ws); }
    void grad_assembly_backward() { detail::grad_assembly_backward_cuda(st, shape, layout, P, ws); }
    void grad_recursion_backward() {
        detail::grad_recursion_backward_cuda(st, shape, layout, d_params.data(), P, true, ws, grads());
    }
    void values_backward() {
        detail::values_backward_cuda(st, shape, layout, d_params.data(), d_x.data(), P, true, ws, grads());
    }
    void quad_jacobian_backward() {
        detail::quad_jacobian_backward_cuda(st, shape, layout, d_params.data(), P, true, ws, grads());
    }

    /// count elements of device memory, after the stream's work.
    template <typename E>
    std::vector<E> fetch(const E* device, std::int64_t count) {
        std::vector<E> out(static_cast<std::size_t>(count));
        WGF_CUDA_CHECK(cudaMemcpyAsync(out.data(), device, out.size() * sizeof(E), cudaMemcpyDeviceToHost, st.stream));
        WGF_CUDA_CHECK(cudaStreamSynchronize(st.stream));
        return out;
    }
    std::vector<T> grads_now() { return fetch(static_cast<const T*>(d_grads.data()), std::int64_t(d_grads.size())); }

    detail::CudaState& st;
    const IcnnShape shape;
    const IcnnLayout layout;
    const int P;
    const T logdet_bar;
    detail::TrainWorkspace<T> ws;
    detail::ForwardTensors<T> ft;

private:
    detail::ParamGrads<T> grads() { return detail::ParamGrads<T>{layout, d_grads.data()}; }
    DeviceBuffer<T> d_params, d_x, d_ybar, d_grads;
};

/// Queues op i of the chunk on the device (the stream's work, nothing waited for).
template <typename T>
void run_chunk_op(DeviceChunk<T>& c, int i) {
    switch (i) {
        case 0: c.build_pm(); break;
        case 1: c.values_forward(); break;
        case 2: c.grad_recursion_forward(); break;
        case 3: c.grad_assembly_forward(); break;
        case 4: c.cholesky_logdet(); break;
        case 5: c.cholesky_logdet_backward(); break;
        case 6: c.hessian_assembly_backward(); break;
        case 7: c.grad_assembly_backward(); break;
        case 8: c.grad_recursion_backward(); break;
        case 9: c.values_backward(); break;
        default: c.quad_jacobian_backward(); break;
    }
}
/// The whole chunk: every op in order, the backward's adjoints cleared first.
template <typename T>
void run_chunk(DeviceChunk<T>& c) {
    for (int i = 0; i < kChunkOps; ++i) {
        if (i == 5) c.begin_backward();
        run_chunk_op(c, i);
    }
}

/// Runs every op of a chunk on the device, comparing after each op with the host reference
/// (chunk_reference_host.h) on the same inputs. Every reference tensor is compared once.
template <typename T>
std::vector<TensorCheck> validate_chunk_ops(Context& ctx, const IcnnShape& shape, int P, std::uint64_t seed) {
    const ChunkInputs<T> in(shape, P, seed);
    const ChunkReference<T> ref = host_chunk_reference(shape, in);
    DeviceChunk<T> dev(ctx, shape, in.params, in.x, in.ybar, in.logdet_bar);
    const int D = shape.dim, L = shape.depth(), r = shape.rank;
    const std::int64_t PD = std::int64_t(P) * D, DD = std::int64_t(D) * D;
    std::vector<TensorCheck> out;
    const auto compare_values = [&](const std::string& op, const std::string& name, const std::vector<T>& got) {
        const auto it = ref.find(op + "|" + name);
        WGF_CHECK(it != ref.end() && it->second.size() == got.size(),
                  "validate_chunk_ops: no host tensor " << op << "|" << name << " of " << got.size() << " entries");
        const std::vector<T>& host = it->second;
        double scale = 0, err = 0;
        bool not_finite = false;  // std::max drops a NaN: a NaN or Inf on either side fails explicitly
        for (std::size_t i = 0; i < got.size(); ++i) {
            const double diff = std::fabs(double(got[i]) - double(host[i]));
            not_finite = not_finite || !std::isfinite(diff) || !std::isfinite(double(host[i]));
            scale = std::max(scale, std::fabs(double(host[i])));
            err = std::max(err, diff);
        }
        const double rel = not_finite ? INFINITY : scale > 0 ? err / scale : (err > 0 ? INFINITY : 0.0);
        out.push_back({op, name, rel, scale});
    };
    const auto compare = [&](const std::string& op, const std::string& name, const T* device, std::int64_t count) {
        compare_values(op, name, dev.fetch(device, count));
    };
    const auto lname = [](const char* t, int l) { return std::string(t) + "_" + std::to_string(l); };
    const auto W = [&](int l) { return std::int64_t(shape.widths[l]); };
    const auto& ws = dev.ws;

    dev.build_pm();
    for (int l = 0; l < L; ++l) compare("build_pm", lname("Pm", l), ws.Pm[l], DD * W(l));

    dev.values_forward();
    for (int l = 0; l < L; ++l) {
        compare("values_forward", lname("S", l), ws.S[l], r * W(l) * P);
        compare("values_forward", lname("U", l), ws.U[l], W(l) * P);
        if (l + 1 < L) compare("values_forward", lname("Z", l), ws.Z[l], W(l) * P);
        compare("values_forward", lname("S1", l), ws.S1[l], W(l) * P);
        compare("values_forward", lname("S2", l), ws.S2[l], W(l) * P);
        if (l > 0) compare("values_forward", lname("S3", l), ws.S3[l], W(l) * P);
        compare("values_forward", lname("DQ", l), ws.DQ[l], W(l) * PD);
        if (l > 0) compare("values_forward", lname("K", l), ws.K[l], W(l) * PD);
        if (l > 0 && l + 1 < L) compare("values_forward", lname("J", l), ws.J[l], W(l) * PD);
    }

    dev.grad_recursion_forward();
    for (int l = 0; l < L; ++l) {
        compare("grad_recursion_forward", lname("G", l), ws.G[l], W(l) * P);
        compare("grad_recursion_forward", lname("Delta", l), ws.Delta[l], W(l) * P);
        if (l > 0) compare("grad_recursion_forward", lname("E", l), ws.E[l], W(l) * P);
    }
    {  // the device's H is the unsymmetrised sum without s I: compare ½(H + Hᵀ) + s I
        const std::vector<T> h = dev.fetch(static_cast<const T*>(ws.H), DD * P);
        std::vector<T> sym(h.size());
        for (std::int64_t p = 0; p < P; ++p)
            for (int a = 0; a < D; ++a)
                for (int b = 0; b < D; ++b)
                    sym[p * DD + a * D + b] = T(0.5) * (h[p * DD + a * D + b] + h[p * DD + b * D + a]) +
                                              (a == b ? static_cast<T>(shape.strong_convexity) : T(0));
        compare_values("grad_recursion_forward", "H", sym);
    }

    dev.grad_assembly_forward();
    compare("grad_assembly_forward", "Y", ws.Y, PD);
    dev.cholesky_logdet();
    compare("cholesky_logdet", "logdet", ws.logdet, P);

    dev.begin_backward();
    dev.cholesky_logdet_backward();
    compare("cholesky_logdet_backward", "Hbar", ws.Hbar, DD * P);
    dev.hessian_assembly_backward();
    for (int l = 0; l < L; ++l) compare("hessian_assembly_backward", lname("Gbar", l), ws.Gbar[l], W(l) * P);
    dev.grad_assembly_backward();
    for (int l = 0; l < L; ++l) compare("grad_assembly_backward", lname("Gbar", l), ws.Gbar[l], W(l) * P);
    dev.grad_recursion_backward();
    for (int l = 0; l < L; ++l) {
        compare("grad_recursion_backward", lname("Deltabar", l), ws.Deltabar[l], W(l) * P);
        compare("grad_recursion_backward", lname("Gbar", l), ws.Gbar[l], W(l) * P);
    }
    dev.values_backward();
    for (int l = 0; l < L; ++l) {
        if (l > 0) compare("values_backward", lname("Kbar", l), ws.Kbar[l], W(l) * PD);
        compare("values_backward", lname("DQbar", l), ws.DQbar[l], W(l) * PD);
        compare("values_backward", lname("Ubar", l), ws.Ubar[l], W(l) * P);
        compare("values_backward", lname("Sbar", l), ws.Sbar[l], r * W(l) * P);
    }
    dev.quad_jacobian_backward();
    compare_values("quad_jacobian_backward", "dparams", dev.grads_now());
    WGF_CHECK(out.size() == ref.size(), "validate_chunk_ops: " << out.size() << " of the host's " << ref.size()
                                                               << " tensors compared");
    return out;
}

}  // namespace op_checks
}  // namespace wgf

// icnn.cpp — icnn_eval: argument checks (always on), then the backend switch. The math lives in
// src/host/icnn_host.cpp (reference) and src/cuda/ (fast path).
#include "wgf/icnn.h"
#include "context_access.h"

#include <vector>

#include "count_nonfinite.h"
#include "host/icnn_host.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"

#ifdef WGF_WITH_CUDA
#include "cuda/icnn_cuda.h"
#include "cuda/train_cuda.h"
#endif

namespace wgf {

template <typename T>
void icnn_eval(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
               IcnnOutputs<T> out) {
    shape.validate();
    WGF_CHECK(n > 0, "icnn_eval: empty batch (n = " << n << "); at least one point is needed");
    WGF_CHECK(params != nullptr, "icnn_eval: params is null");
    WGF_CHECK(x != nullptr, "icnn_eval: x is null");
    WGF_CHECK(out.value || out.grad_x || out.hess_x || out.logdet,
              "icnn_eval: no output requested (value, grad_x, hess_x and logdet are all null)");
    WGF_CHECK(!out.status || out.logdet, "icnn_eval: status is given but logdet is not requested");
    const std::int64_t D = shape.dim;
    const std::int64_t bad_x = detail::count_nonfinite(ctx, x, n * D);
    WGF_CHECK(bad_x == 0, "icnn_eval: x contains " << bad_x << " NaN/Inf entries (x is [" << n << "][" << D << "])");
    const std::int64_t count = static_cast<std::int64_t>(IcnnLayout(shape).total);
    const std::int64_t bad_p = detail::count_nonfinite(ctx, params, count);
    WGF_CHECK(bad_p == 0, "icnn_eval: parameters contain " << bad_p << " NaN/Inf entries");

    if (ctx.backend() == Backend::Host) {
        detail::icnn_eval_host(ctx.host_threads(), shape, params, x, n, out);
        return;
    }
#ifdef WGF_WITH_CUDA
    detail::icnn_eval_cuda(*detail::cuda_state(ctx), shape, params, x, n, out);
#else
    WGF_FAIL("icnn_eval: backend cuda is not built");
#endif
}

template <typename T>
void icnn_eval(Context& ctx, const Icnn<T>& net, const T* x, std::int64_t n, IcnnOutputs<T> out) {
    WGF_CHECK(net.size() > 0, "icnn_eval: the network is empty (default-constructed Icnn)");
    if (ctx.backend() == Backend::Host) {
        icnn_eval(ctx, net.shape(), net.data(), x, n, out);
        return;
    }
    // Stage through the device: upload params and x, evaluate, download what was requested.
    WGF_CHECK(n > 0, "icnn_eval: empty batch (n = " << n << "); at least one point is needed");
    WGF_CHECK(x != nullptr, "icnn_eval: x is null");
    const std::size_t N = static_cast<std::size_t>(n), D = static_cast<std::size_t>(net.shape().dim);
    DeviceBuffer<T> d_params(net.data(), net.size());
    DeviceBuffer<T> d_x(x, N * D);
    DeviceBuffer<T> d_value(out.value ? N : 0), d_grad(out.grad_x ? N * D : 0), d_hess(out.hess_x ? N * D * D : 0),
        d_logdet(out.logdet ? N : 0);
    DeviceBuffer<std::int32_t> d_status(out.status ? N : 0);
    IcnnOutputs<T> d_out{d_value.data(), d_grad.data(), d_hess.data(), d_logdet.data(), d_status.data()};
    icnn_eval(ctx, net.shape(), d_params.data(), d_x.data(), n, d_out);
    if (out.value) d_value.download(out.value, N);
    if (out.grad_x) d_grad.download(out.grad_x, N * D);
    if (out.hess_x) d_hess.download(out.hess_x, N * D * D);
    if (out.logdet) d_logdet.download(out.logdet, N);
    if (out.status) d_status.download(out.status, N);
}

template <typename T>
void icnn_project(Context& ctx, const IcnnShape& shape, T* params) {
    shape.validate();
    WGF_CHECK(params != nullptr, "icnn_project: params is null");
    if (ctx.backend() == Backend::Host) {
        for (const auto& block : IcnnLayout(shape).nonnegative_blocks())
            for (std::size_t i = block.begin; i < block.end; ++i) params[i] = params[i] < T(0) ? T(0) : params[i];
        return;
    }
#ifdef WGF_WITH_CUDA
    detail::icnn_project_cuda(*detail::cuda_state(ctx), shape, params);
#else
    WGF_FAIL("icnn_project: backend cuda is not built");
#endif
}

template void icnn_project<float>(Context&, const IcnnShape&, float*);
template void icnn_project<double>(Context&, const IcnnShape&, double*);
template void icnn_eval<float>(Context&, const IcnnShape&, const float*, const float*, std::int64_t, IcnnOutputs<float>);
template void icnn_eval<double>(Context&, const IcnnShape&, const double*, const double*, std::int64_t,
                                IcnnOutputs<double>);
template void icnn_eval<float>(Context&, const Icnn<float>&, const float*, std::int64_t, IcnnOutputs<float>);
template void icnn_eval<double>(Context&, const Icnn<double>&, const double*, std::int64_t, IcnnOutputs<double>);

}  // namespace wgf

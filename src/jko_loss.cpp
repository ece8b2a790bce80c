// jko_loss.cpp — argument checks and backend switch for the training losses (wgf/jko_loss.h).
#include "wgf/jko_loss.h"

#include <cmath>

#include "count_nonfinite.h"
#include "host/icnn_host.h"
#include "host/jko_loss_host.h"
#include "jko_loss_dispatch.h"
#include "wgf/error.h"

#ifdef WGF_WITH_CUDA
#include "cuda/icnn_cuda.h"
#include "cuda/train_cuda.h"
#endif

namespace wgf {

void JkoLossOptions::validate() const {
    WGF_CHECK(std::isfinite(tau) && tau > 0, "JkoLossOptions: tau must be finite and > 0, got " << tau);
    WGF_CHECK(std::isfinite(beta) && beta > 0, "JkoLossOptions: beta must be finite and > 0, got " << beta);
}

namespace {
template <typename T>
void check_common(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n, const char* what) {
    shape.validate();
    WGF_CHECK(n > 0, what << ": empty batch (n = " << n << ")");
    WGF_CHECK(params != nullptr && x != nullptr, what << ": params and x must not be null");
    const std::int64_t bad_x = detail::count_nonfinite(ctx, x, n * shape.dim);
    WGF_CHECK(bad_x == 0, what << ": x contains " << bad_x << " NaN/Inf entries");
    const std::int64_t bad_p = detail::count_nonfinite(ctx, params, static_cast<std::int64_t>(IcnnLayout(shape).total));
    WGF_CHECK(bad_p == 0, what << ": parameters contain " << bad_p << " NaN/Inf entries");
}
}  // namespace

template <typename T>
JkoLossValue jko_loss(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                      const Potential<T>& potential, const JkoLossOptions& options, T* dL_dparams) {
    options.validate();
    WGF_CHECK(potential.dim() == shape.dim,
              "jko_loss: potential dimension " << potential.dim() << " differs from the ICNN's D = " << shape.dim);
    check_common(ctx, shape, params, x, n, "jko_loss");
    return detail::jko_loss_unchecked(ctx, shape, params, x, n, potential, options, dL_dparams);
}

template <typename T>
JkoLossValue detail::jko_loss_unchecked(Context& ctx, const IcnnShape& shape, const T* params, const T* x,
                                        std::int64_t n, const Potential<T>& potential, const JkoLossOptions& options,
                                        T* dL_dparams) {
    if (ctx.backend() == Backend::Host)
        return detail::jko_loss_host(ctx.host_threads(), shape, params, x, n, potential, options, dL_dparams);
#ifdef WGF_WITH_CUDA
    return detail::jko_loss_cuda(ctx, shape, params, x, n, potential, options, dL_dparams);
#else
    WGF_FAIL("jko_loss: backend cuda is not built");
#endif
}

template <typename T>
double identity_loss(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                     T* dL_dparams) {
    check_common(ctx, shape, params, x, n, "identity_loss");
    if (ctx.backend() == Backend::Host)
        return detail::identity_loss_host(ctx.host_threads(), shape, params, x, n, dL_dparams);
#ifdef WGF_WITH_CUDA
    return detail::identity_loss_cuda(ctx, shape, params, x, n, dL_dparams);
#else
    WGF_FAIL("identity_loss: backend cuda is not built");
#endif
}

template JkoLossValue jko_loss<float>(Context&, const IcnnShape&, const float*, const float*, std::int64_t,
                                      const Potential<float>&, const JkoLossOptions&, float*);
template JkoLossValue jko_loss<double>(Context&, const IcnnShape&, const double*, const double*, std::int64_t,
                                       const Potential<double>&, const JkoLossOptions&, double*);
template JkoLossValue detail::jko_loss_unchecked<float>(Context&, const IcnnShape&, const float*, const float*,
                                                        std::int64_t, const Potential<float>&, const JkoLossOptions&,
                                                        float*);
template JkoLossValue detail::jko_loss_unchecked<double>(Context&, const IcnnShape&, const double*, const double*,
                                                         std::int64_t, const Potential<double>&,
                                                         const JkoLossOptions&, double*);
template double identity_loss<float>(Context&, const IcnnShape&, const float*, const float*, std::int64_t, float*);
template double identity_loss<double>(Context&, const IcnnShape&, const double*, const double*, std::int64_t,
                                      double*);

}  // namespace wgf

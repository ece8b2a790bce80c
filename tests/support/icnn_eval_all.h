// icnn_eval_all.h — evaluate every output of an ICNN on host memory into vectors (test helper).
#pragma once

#include <cstdint>
#include <vector>

#include "wgf/icnn.h"

namespace wgf_test {

template <typename T>
struct IcnnResult {
    std::vector<T> value, grad, hess, logdet;
    std::vector<std::int32_t> status;
};

/// which: bit 0 value, 1 grad, 2 hess, 3 logdet(+status).
template <typename T>
IcnnResult<T> eval_all(wgf::Context& ctx, const wgf::Icnn<T>& net, const std::vector<T>& x, unsigned which = 15u) {
    const int D = net.shape().dim;
    const std::int64_t n = static_cast<std::int64_t>(x.size()) / D;
    IcnnResult<T> r;
    wgf::IcnnOutputs<T> out;
    if (which & 1u) out.value = (r.value.resize(n), r.value.data());
    if (which & 2u) out.grad_x = (r.grad.resize(n * D), r.grad.data());
    if (which & 4u) out.hess_x = (r.hess.resize(n * D * D), r.hess.data());
    if (which & 8u) {
        out.logdet = (r.logdet.resize(n), r.logdet.data());
        out.status = (r.status.resize(n), r.status.data());
    }
    wgf::icnn_eval(ctx, net, x.data(), n, out);
    return r;
}

}  // namespace wgf_test

// jko_loss_host.h (private) — host implementations of the training losses of wgf/jko_loss.h.
#pragma once

#include <cstdint>

#include "wgf/jko_loss.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace wgf {
namespace detail {

template <typename T>
JkoLossValue jko_loss_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                           const Potential<T>& potential, const JkoLossOptions& options, T* dL_dparams);
template <typename T>
double identity_loss_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                          T* dL_dparams);

}  // namespace detail
}  // namespace wgf

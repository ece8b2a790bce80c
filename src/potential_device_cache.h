// potential_device_cache.h (private) — device copies of a built-in potential's double parameters
// (the quadratic's A and m, the mixture's weights, means and precisions, the logistic posterior's
// training set), one set per device, made on the first eval on a Cuda context of that device and kept
// (never replaced while a kernel may read them). Shared by copies of the potential (the parameters
// are immutable after construction).
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "wgf/context.h"

namespace wgf {
namespace detail {

struct PotentialDeviceCache {
    std::mutex mutex;
    std::map<int, std::vector<std::shared_ptr<const double>>> arrays;  // device → copies
};

#ifdef WGF_WITH_CUDA
/// The device copies of `arrays` for ctx's device (uploaded on first use; defined in potential.cpp).
std::vector<const double*> device_arrays(Context& ctx, PotentialDeviceCache& cache,
                                         std::initializer_list<const std::vector<double>*> arrays);
#endif

}  // namespace detail
}  // namespace wgf

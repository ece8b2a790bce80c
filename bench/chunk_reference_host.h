// chunk_reference_host.h — the host ops of one training block run in the order of the CUDA chunk's ops
// (cuda_op_checks.h), with a copy of every tensor each op group leaves complete: the reference the
// CUDA ops are validated against. Plain C++ (the Eigen-typed host ops stay in
// chunk_reference_host.cpp, compiled for the library's host architecture), so that nvcc never sees
// Eigen types whose layout depends on the host's -march.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wgf/icnn.h"
#include "wgf/random.h"

namespace wgf {
namespace op_checks {

/// The ops of a training chunk in order, by the names the checks report and the benchmarks use
/// (bench_cuda_ops, bench_ops_host; begin_backward before the first backward op is not an op).
constexpr int kChunkOps = 11;
inline const char* chunk_op_name(int i) {
    static const char* const names[kChunkOps] = {
        "build_pm",        "values_forward",           "grad_recursion_forward",    "grad_assembly_forward",
        "cholesky_logdet", "cholesky_logdet_backward", "hessian_assembly_backward", "grad_assembly_backward",
        "grad_recursion_backward", "values_backward", "quad_jacobian_backward"};
    return names[i];
}

/// Parameters (the reference initialisation, projected), points N(0, I) [P][D], ȳ N(0, 1)/P and
/// logdet̄ = −0.1/P (the JKO loss's −τβ⁻¹/N at τ = 0.1).
template <typename T>
struct ChunkInputs {
    std::vector<T> params, x, ybar;
    T logdet_bar;
    ChunkInputs(const IcnnShape& shape, int P, std::uint64_t seed) {
        params = Icnn<T>::random(shape, seed).params();
        Rng rng(seed + 1);
        x.resize(static_cast<std::size_t>(P) * shape.dim);
        for (auto& v : x) v = static_cast<T>(rng.normal());
        ybar.resize(x.size());
        for (auto& v : ybar) v = static_cast<T>(rng.normal() / P);
        logdet_bar = static_cast<T>(-0.1 / P);
    }
};

/// "op|tensor" → the host's tensor after that op group, in the device's layout (cuda_op_checks.h
/// names the groups and tensors).
template <typename T>
using ChunkReference = std::map<std::string, std::vector<T>>;

template <typename T>
ChunkReference<T> host_chunk_reference(const IcnnShape& shape, const ChunkInputs<T>& in);

}  // namespace op_checks
}  // namespace wgf

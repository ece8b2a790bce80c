// wgf/jko_loss.h — the training losses and their parameter gradients (reverse mode through the tape).
//
// JKO step (DESIGN.md §1), on a batch x ∼ ρ^k of N points:
//   L(θ) = mean_x [ ½‖∇ψ(x) − x‖² + τ Φ(∇ψ(x)) − τ β⁻¹ log det ∇²ψ(x) ]
// Identity pretraining (PAPER-SPEC §3): L(θ) = mean over the N·D entries of (∇ψ(x) − x)².
// Pointers live in ctx's memory space; dL_dparams (may be null) is overwritten with ∂L/∂θ in the
// parameter layout of wgf/icnn.h.
#pragma once

#include <cstdint>

#include "wgf/context.h"
#include "wgf/icnn.h"
#include "wgf/potential.h"

namespace wgf {

struct JkoLossOptions {
    double tau = 0.05;  ///< JKO step τ > 0
    double beta = 1.0;  ///< inverse temperature β > 0 (the reference uses 1)
    void validate() const;
};

/// The loss and its three terms, each a mean over the batch.
struct JkoLossValue {
    double total = 0;      ///< w2 + τ·potential − τβ⁻¹·logdet
    double w2 = 0;         ///< mean ½‖∇ψ(x) − x‖²
    double potential = 0;  ///< mean Φ(∇ψ(x))
    double logdet = 0;     ///< mean log det ∇²ψ(x)
};

/// Throws wgf::NotPositiveDefinite if some ∇²ψ(x) cannot be factorised (the loss is undefined),
/// wgf::Error on bad arguments.
template <typename T>
JkoLossValue jko_loss(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                      const Potential<T>& potential, const JkoLossOptions& options, T* dL_dparams);

/// Identity-pretraining loss mean((∇ψ(x) − x)²) over N·D entries, and its gradient.
template <typename T>
double identity_loss(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                     T* dL_dparams);

}  // namespace wgf

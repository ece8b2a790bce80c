// wgf/laplace.h — the Laplace approximation of e^{−βΦ}: the mode x* of Φ and the Gaussian
// N(x*, (β ∇²Φ(x*))⁻¹), as an AffineFrame (wgf/affine_frame.h) whose y-coordinates make it N(0, I).
//
// The mode by damped Newton on the host in double: the Hessian from central differences of the
// analytic gradient (all 2D shifted points in one eval), symmetrised; a Levenberg shift when it is
// not positive definite; a backtracking (Armijo) line search on Φ. Φ must be deterministic (a
// minibatch potential's estimates would not converge): give the full-data one.
#pragma once

#include <vector>

#include "wgf/affine_frame.h"
#include "wgf/potential.h"

namespace wgf {

struct LaplaceOptions {
    double beta = 1.0;          ///< the target is e^{−βΦ}
    int max_iterations = 200;   ///< Newton steps
    /// Converged when half the squared Newton decrement, gᵀ H⁻¹ g / 2 (the predicted decrease of Φ),
    /// is below this.
    double tolerance = 1e-10;
    double fd_step = 1e-5;      ///< central-difference step h_i = fd_step · max(1, |x_i|)
    int threads = 0;            ///< host threads of the potential's evaluations (0: all)
};

struct LaplaceApproximation {
    std::vector<double> mode;     ///< x* [D]
    double value = 0;             ///< Φ(x*)
    std::vector<double> hessian;  ///< ∇²Φ(x*) [D][D], symmetric positive definite
    AffineFrame frame;            ///< m = x*, L = Cholesky factor of (β ∇²Φ(x*))⁻¹
    int iterations = 0;           ///< Newton steps taken
    double decrement = 0;         ///< gᵀ H⁻¹ g / 2 at the last step
};

/// Throws wgf::Error when Φ or ∇Φ is not finite at the start, when Newton does not converge within
/// max_iterations, or when the Hessian at the mode is not positive definite (no Gaussian to take).
LaplaceApproximation laplace_approximation(const Potential<double>& phi, std::vector<double> start,
                                           const LaplaceOptions& options = {});

}  // namespace wgf

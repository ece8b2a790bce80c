// wgf/affine_frame.h — flows in an affine frame x = m + L y (L lower triangular, invertible).
//
// The Fokker–Planck flow is not invariant under a change of coordinates, but its stationary law is:
// the flow of Φ_y(y) = Φ(m + L y) in y tends to the law of L⁻¹(X − m), X ∼ e^{−βΦ}/Z. Chosen so that
// this law is near N(0, I) (L Lᵀ ≈ the target's covariance: laplace_approximation in wgf/laplace.h), it is a
// preconditioned flow: every direction relaxes at a rate of order one, where in x a posterior with
// variances 1e-3…1e2 relaxes its widest direction 10⁵ times slower than its narrowest. For sampling
// the target, not for the flow's path in x: that path is another one.
//
// Densities: a flow in y with samples y_i and log-densities log ρ_y(y_i) gives samples x_i = m + L y_i
// with log ρ_x(x_i) = log ρ_y(y_i) − log|det L| (AffineFrame::to_x, log_det).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wgf/context.h"
#include "wgf/potential.h"

namespace wgf {

/// x = center + factor · y, factor [D][D] row-major lower triangular with a positive diagonal.
struct AffineFrame {
    int dim = 0;
    std::vector<double> center;  ///< m [D]
    std::vector<double> factor;  ///< L [D][D], row-major, lower triangular, diagonal > 0

    /// Throws wgf::Error naming what is wrong (sizes, non-finite entries, entries above the diagonal,
    /// a diagonal entry ≤ 0).
    void validate() const;
    /// log|det L| = Σ log L_ii.
    double log_det() const;
    /// x = m + L y for points y [n][D] (n = y.size() / D).
    std::vector<double> to_x(const std::vector<double>& y) const;
    /// y = L⁻¹ (x − m) (forward substitution).
    std::vector<double> to_y(const std::vector<double>& x) const;
    /// log ρ_x(m + L y) = log ρ_y(y) − log|det L|, in place over [n] values.
    void log_density_to_x(std::vector<double>& log_density) const;
};

/// Φ_y(y) = Φ(m + L y), ∇Φ_y(y) = Lᵀ ∇Φ(m + L y). Shares (keeps alive) the potential in x. On a Host
/// context the points are mapped on the host and the inner potential is evaluated on them; on a Cuda
/// context y is staged through the host (download, map, upload x, the inner potential on the device,
/// download ∇Φ, map, upload): correct, not fast — unverified on GPU.
template <typename T>
class FramedPotential final : public Potential<T> {
public:
    FramedPotential(std::shared_ptr<const Potential<T>> potential, AffineFrame frame);
    int dim() const override { return m_frame.dim; }
    std::string describe() const override;
    /// The inner potential's fingerprint and a digest of the frame.
    std::string fingerprint() const override;
    void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    void eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    bool thread_safe() const override { return m_potential->thread_safe(); }
    const AffineFrame& frame() const { return m_frame; }
    const Potential<T>& potential() const { return *m_potential; }

private:
    void evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad, bool checked) const;
    std::shared_ptr<const Potential<T>> m_potential;
    AffineFrame m_frame;
};

}  // namespace wgf

// wgf/potential.h — potentials Φ for the Fokker–Planck flow dX = −∇Φ(X) dt + √(2β⁻¹) dW, evaluated
// on batches of points: value [N] and gradient [N][D] at y [N][D] (row-major).
//
// Built in:
//   QuadraticPotential        Φ(x) = ½ (x − m)ᵀ A (x − m),  A symmetric positive definite (OU)
//   GaussianMixturePotential  Φ(x) = −β⁻¹ log Σ_k w_k N(x; μ_k, Σ_k)   (so that e^{−βΦ} is the mixture)
//   FilteringReferencePotential  Φ(x) = sin(2πx)/π + x²/4 in D = 1 (PAPER-SPEC §7.5)
//   FunctionPotential         user callbacks (host, and optionally device)
// All pointers given to eval() live in ctx's memory space. The built-in potentials have CUDA kernels
// (their parameters are copied to the device once, on first use); a FunctionPotential without a
// device callback is evaluated on the host through staging copies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wgf/context.h"

namespace wgf {

namespace detail {
struct PotentialDeviceCache;  // device copies of a built-in potential's parameters (src/potential_device_cache.h)
}

template <typename T>
class Potential {
public:
    virtual ~Potential() = default;
    virtual int dim() const = 0;
    virtual std::string describe() const = 0;
    /// What identifies the potential in a checkpoint's run settings (JkoSolver refuses to resume
    /// checkpoints made with another one): the built-ins add a digest of their parameters to
    /// describe(); a user's potential is known by its describe() (its name) alone.
    virtual std::string fingerprint() const { return describe(); }
    /// value: [n] or null; grad: [n][D] or null; y: [n][D]. Pointers in ctx's memory space.
    /// Throws wgf::Error on bad arguments (n ≤ 0, null y, nothing requested) and when y contains
    /// NaN/Inf (the message gives the count).
    virtual void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const = 0;
    /// eval() for a caller that computed y itself and catches non-finite results downstream (the
    /// training loss: a NaN/Inf y or Φ makes its sums non-finite, which the solver reports): the
    /// arguments are still checked, but y is not scanned for NaN/Inf, which on a Cuda context saves
    /// a device reduction and a synchronisation per call. The default is eval(); the built-in
    /// device potentials override it.
    virtual void eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
        eval(ctx, y, n, value, grad);
    }
    /// Whether eval() on a Host context may be called from several threads at once (the host
    /// training loss evaluates the potential per block of points in parallel). User callbacks are
    /// not assumed to be, and are serialised.
    virtual bool thread_safe() const { return true; }
};

/// Φ(x) = ½ (x − m)ᵀ A (x − m). A: [D][D] row-major, symmetric positive definite (checked by Cholesky).
template <typename T>
class QuadraticPotential final : public Potential<T> {
public:
    QuadraticPotential(std::vector<double> A, std::vector<double> m);
    int dim() const override { return m_dim; }
    std::string describe() const override;
    std::string fingerprint() const override;
    void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    void eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    const std::vector<double>& matrix() const { return m_A; }
    const std::vector<double>& center() const { return m_m; }

private:
    /// eval (scan_y) and eval_unchecked (not: a Cuda context skips the NaN scan of y).
    void evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad, bool scan_y) const;
    int m_dim;
    std::vector<double> m_A, m_m;
    std::shared_ptr<detail::PotentialDeviceCache> m_device;
};

/// Φ(x) = −β⁻¹ log Σ_k w_k N(x; μ_k, Σ_k). weights [K] (> 0, normalised internally), means [K][D],
/// covariances [K][D][D] (SPD). Evaluated with log-sum-exp, stable far from every component.
template <typename T>
class GaussianMixturePotential final : public Potential<T> {
public:
    GaussianMixturePotential(std::vector<double> weights, std::vector<double> means, std::vector<double> covariances,
                             int dim, double beta = 1.0);
    int dim() const override { return m_dim; }
    std::string describe() const override;
    std::string fingerprint() const override;
    void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    void eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    int components() const { return static_cast<int>(m_logw.size()); }

private:
    /// eval (scan_y) and eval_unchecked (not: a Cuda context skips the NaN scan of y).
    void evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad, bool scan_y) const;
    int m_dim;
    double m_beta;
    std::vector<double> m_logw;       // log w_k − ½ log det(2π Σ_k)
    std::vector<double> m_means;      // [K][D]
    std::vector<double> m_precision;  // [K][D][D] Σ_k⁻¹
    std::shared_ptr<detail::PotentialDeviceCache> m_device;
};

/// Φ(x) = sin(2πx)/π + x²/4, Φ'(x) = 2 cos(2πx) + x/2 in D = 1: the latent potential of the filtering
/// study (PAPER-SPEC §7.5; the math in wgf/detail/filtering_potential.h). Evaluated on the host (a
/// Cuda context stages y through the host).
template <typename T>
class FilteringReferencePotential final : public Potential<T> {
public:
    int dim() const override { return 1; }
    std::string describe() const override { return "filtering-reference sin(2 pi x)/pi + x^2/4 (D = 1)"; }
    void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
};

/// User-defined potential. host_fn is required; device_fn is optional — without it a Cuda context
/// stages y to the host, calls host_fn and copies back. Each callback receives (y, n, value or null,
/// grad or null). device_fn receives device pointers of ctx's device (current during the call); y is
/// complete when it is called (wgf synchronises its stream first), and its outputs must be complete
/// when it returns (synchronise whatever stream it used). It must not call wgf on the same Context
/// (the training loss's workspace lives in that context's scratch memory).
template <typename T>
class FunctionPotential final : public Potential<T> {
public:
    using Fn = std::function<void(const T* y, std::int64_t n, T* value, T* grad)>;
    FunctionPotential(int dim, Fn host_fn, Fn device_fn = nullptr, std::string name = "user");
    int dim() const override { return m_dim; }
    std::string describe() const override { return m_name; }
    void eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const override;
    bool thread_safe() const override { return false; }

private:
    int m_dim;
    Fn m_host, m_device;
    std::string m_name;
};

}  // namespace wgf

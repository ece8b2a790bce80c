// affine_frame.cpp — AffineFrame (x = m + L y) and FramedPotential (Φ_y(y) = Φ(m + L y)); the math
// in wgf/affine_frame.h.
#include "wgf/affine_frame.h"

#include <cmath>
#include <sstream>
#include <utility>

#include "binary_io.h"
#include "device_memory.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"

namespace wgf {

namespace {
std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

/// x_i = m + L y_i for n points (T: the points' precision; the frame in double).
template <typename T>
void map_to_x(const AffineFrame& f, const T* y, std::int64_t n, T* x) {
    const std::size_t D = sz(f.dim);
    for (std::size_t i = 0; i < sz(n); ++i) {
        const T* yi = y + i * D;
        T* xi = x + i * D;
        for (std::size_t r = 0; r < D; ++r) {
            double s = f.center[r];
            const double* Lr = f.factor.data() + r * D;
            for (std::size_t c = 0; c <= r; ++c) s += Lr[c] * static_cast<double>(yi[c]);
            xi[r] = static_cast<T>(s);
        }
    }
}

/// g_y = Lᵀ g_x for n gradients, in place.
template <typename T>
void pull_back_gradient(const AffineFrame& f, T* g, std::int64_t n) {
    const std::size_t D = sz(f.dim);
    std::vector<double> out(D);
    for (std::size_t i = 0; i < sz(n); ++i) {
        T* gi = g + i * D;
        for (std::size_t c = 0; c < D; ++c) {
            double s = 0;
            for (std::size_t r = c; r < D; ++r) s += f.factor[r * D + c] * static_cast<double>(gi[r]);
            out[c] = s;
        }
        for (std::size_t c = 0; c < D; ++c) gi[c] = static_cast<T>(out[c]);
    }
}
}  // namespace

void AffineFrame::validate() const {
    WGF_CHECK(dim >= 1, "AffineFrame: dimension " << dim << " must be >= 1");
    const std::size_t D = sz(dim);
    WGF_CHECK(center.size() == D, "AffineFrame: center has " << center.size() << " entries, expected D = " << D);
    WGF_CHECK(factor.size() == D * D, "AffineFrame: factor has " << factor.size() << " entries, expected D x D = " << D * D);
    for (std::size_t r = 0; r < D; ++r) {
        WGF_CHECK(std::isfinite(center[r]), "AffineFrame: center[" << r << "] is not finite");
        for (std::size_t c = 0; c < D; ++c) {
            const double v = factor[r * D + c];
            WGF_CHECK(std::isfinite(v), "AffineFrame: factor[" << r << "][" << c << "] is not finite");
            WGF_CHECK(c <= r || v == 0, "AffineFrame: factor[" << r << "][" << c << "] = " << v
                                                                << " is above the diagonal (L must be lower triangular)");
        }
        WGF_CHECK(factor[r * D + r] > 0, "AffineFrame: factor[" << r << "][" << r << "] = " << factor[r * D + r]
                                                                 << " must be > 0");
    }
}

double AffineFrame::log_det() const {
    double s = 0;
    for (std::size_t r = 0; r < sz(dim); ++r) s += std::log(factor[r * sz(dim) + r]);
    return s;
}

std::vector<double> AffineFrame::to_x(const std::vector<double>& y) const {
    WGF_CHECK(dim >= 1 && y.size() % sz(dim) == 0,
              "AffineFrame::to_x: " << y.size() << " values are not points of D = " << dim);
    std::vector<double> x(y.size());
    map_to_x(*this, y.data(), static_cast<std::int64_t>(y.size() / sz(dim)), x.data());
    return x;
}

std::vector<double> AffineFrame::to_y(const std::vector<double>& x) const {
    WGF_CHECK(dim >= 1 && x.size() % sz(dim) == 0,
              "AffineFrame::to_y: " << x.size() << " values are not points of D = " << dim);
    const std::size_t D = sz(dim);
    std::vector<double> y(x.size());
    for (std::size_t i = 0; i < x.size() / D; ++i)
        for (std::size_t r = 0; r < D; ++r) {  // L y = x − m, forward substitution
            double s = x[i * D + r] - center[r];
            for (std::size_t c = 0; c < r; ++c) s -= factor[r * D + c] * y[i * D + c];
            y[i * D + r] = s / factor[r * D + r];
        }
    return y;
}

void AffineFrame::log_density_to_x(std::vector<double>& log_density) const {
    const double ld = log_det();
    for (double& v : log_density) v -= ld;
}

template <typename T>
FramedPotential<T>::FramedPotential(std::shared_ptr<const Potential<T>> potential, AffineFrame frame)
    : m_potential(std::move(potential)), m_frame(std::move(frame)) {
    WGF_CHECK(m_potential != nullptr, "FramedPotential: the potential is null");
    m_frame.validate();
    WGF_CHECK(m_potential->dim() == m_frame.dim, "FramedPotential: the potential has D = " << m_potential->dim()
                                                                                         << ", the frame " << m_frame.dim);
}

template <typename T>
std::string FramedPotential<T>::describe() const {
    return m_potential->describe() + " in an affine frame x = m + L y";
}

template <typename T>
std::string FramedPotential<T>::fingerprint() const {
    std::uint64_t h = detail::fnv1a64(m_frame.center.data(), m_frame.center.size() * sizeof(double));
    h = detail::fnv1a64(m_frame.factor.data(), m_frame.factor.size() * sizeof(double), h);
    std::ostringstream os;
    os << m_potential->fingerprint() << " in the affine frame fnv1a64:" << std::hex << h;
    return os.str();
}

template <typename T>
void FramedPotential<T>::eval(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, true);
}

template <typename T>
void FramedPotential<T>::eval_unchecked(Context& ctx, const T* y, std::int64_t n, T* value, T* grad) const {
    evaluate(ctx, y, n, value, grad, false);
}

template <typename T>
void FramedPotential<T>::evaluate(Context& ctx, const T* y, std::int64_t n, T* value, T* grad, bool checked) const {
    WGF_CHECK(n > 0, "FramedPotential::eval: empty batch (n = " << n << "); at least one point is needed");
    WGF_CHECK(y != nullptr, "FramedPotential::eval: y is null");
    WGF_CHECK(value != nullptr || grad != nullptr, "FramedPotential::eval: no output requested (value and grad are both null)");
    const std::size_t ND = sz(n) * sz(m_frame.dim);
    // x is finite exactly when y is (L finite), so the inner potential's scan of x is the scan of y.
    const auto inner = [&](const T* x, T* v, T* g) {
        if (checked)
            m_potential->eval(ctx, x, n, v, g);
        else
            m_potential->eval_unchecked(ctx, x, n, v, g);
    };
    std::vector<T> hx(ND);
    if (ctx.backend() == Backend::Host) {
        map_to_x(m_frame, y, n, hx.data());
        inner(hx.data(), value, grad);
        if (grad) pull_back_gradient(m_frame, grad, n);
        return;
    }
    // A Cuda context: stage through the host.
    std::vector<T> hy(ND);
    ctx.synchronize();
    detail::copy_device_to_host(hy.data(), y, ND * sizeof(T));
    map_to_x(m_frame, hy.data(), n, hx.data());
    DeviceBuffer<T> x(hx.data(), ND);
    inner(x.data(), value, grad);
    if (!grad) return;
    ctx.synchronize();
    detail::copy_device_to_host(hx.data(), grad, ND * sizeof(T));
    pull_back_gradient(m_frame, hx.data(), n);
    detail::copy_host_to_device(grad, hx.data(), ND * sizeof(T));
}

template class FramedPotential<float>;
template class FramedPotential<double>;

}  // namespace wgf

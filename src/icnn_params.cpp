// icnn_params.cpp — IcnnShape, IcnnLayout (the parameter buffer layout documented in wgf/icnn.h),
// the reference initialisation, the convexity projection and the nominal flop model.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "wgf/error.h"
#include "wgf/icnn.h"
#include "wgf/random.h"

namespace wgf {

int IcnnShape::max_width() const {
    int m = 0;
    for (int w : widths) m = w > m ? w : m;
    return m;
}

void IcnnShape::validate() const {
    WGF_CHECK(dim >= 1, "IcnnShape: dim must be >= 1, got " << dim);
    WGF_CHECK(!widths.empty(), "IcnnShape: at least one layer is needed (widths is empty)");
    for (std::size_t l = 0; l < widths.size(); ++l)
        WGF_CHECK(widths[l] >= 1, "IcnnShape: width of layer " << l + 1 << " must be >= 1, got " << widths[l]);
    WGF_CHECK(rank >= 1, "IcnnShape: rank must be >= 1, got " << rank);
    WGF_CHECK(std::isfinite(strong_convexity) && strong_convexity >= 0.0,
              "IcnnShape: strong_convexity must be finite and >= 0, got " << strong_convexity);
    // Every count below is formed in long double: no int overflow whatever the fields (rank = INT_MAX
    // included). The limit is the index range of the BLAS and CUDA calls, which take int sizes
    // (m·n of a parameter block, D² of a Hessian, r·W rows): each must stay below 2^31.
    constexpr long double kIndexLimit = 2147483647.0L;
    const long double D = dim, r = rank;
    long double total = 0, prev = 0;
    for (int w : widths) {
        total += static_cast<long double>(w) * (D * (r + 1) + 1 + prev);  // A_l, B_l, b_l, C_l
        prev = w;
    }
    WGF_CHECK(D * D <= kIndexLimit, "IcnnShape: D = " << dim << ": the Hessian's D² entries exceed 2^31 - 1");
    WGF_CHECK(total <= kIndexLimit, "IcnnShape: " << describe() << " has " << static_cast<double>(total)
                                                  << " parameters, more than 2^31 - 1 (the BLAS/CUDA index range)");
}

std::size_t IcnnShape::param_count() const { return IcnnLayout(*this).total; }

std::string IcnnShape::describe() const {
    std::ostringstream os;
    os << "D=" << dim << " W=[";
    for (std::size_t l = 0; l < widths.size(); ++l) os << (l ? "," : "") << widths[l];
    os << "] r=" << rank << " s=" << strong_convexity;
    return os.str();
}

bool IcnnShape::operator==(const IcnnShape& o) const {
    return dim == o.dim && widths == o.widths && rank == o.rank && strong_convexity == o.strong_convexity;
}

IcnnShape IcnnShape::uniform(int dim, int width, int depth, int rank, double strong_convexity) {
    WGF_CHECK(depth >= 1, "IcnnShape::uniform: depth must be >= 1, got " << depth);
    IcnnShape s;
    s.dim = dim;
    s.widths.assign(static_cast<std::size_t>(depth), width);
    s.rank = rank;
    s.strong_convexity = strong_convexity;
    s.validate();
    return s;
}

IcnnLayout::IcnnLayout(const IcnnShape& shape) {
    shape.validate();
    const std::size_t D = static_cast<std::size_t>(shape.dim), r = static_cast<std::size_t>(shape.rank);
    std::size_t off = 0;
    int prev = 0;
    for (int w : shape.widths) {
        Layer L{};
        const std::size_t W = static_cast<std::size_t>(w);
        L.width = w;
        L.width_prev = prev;
        L.A = off;
        off += D * r * W;
        L.B = off;
        off += W * D;
        L.b = off;
        off += W;
        L.C = off;
        off += W * static_cast<std::size_t>(prev);
        layers.push_back(L);
        prev = w;
    }
    c = off;
    off += static_cast<std::size_t>(prev);
    total = off;
}

std::vector<IcnnLayout::NonnegativeBlock> IcnnLayout::nonnegative_blocks() const {
    std::vector<NonnegativeBlock> blocks;
    for (std::size_t l = 1; l < layers.size(); ++l) {
        const Layer& L = layers[l];
        blocks.push_back({L.C, L.C + static_cast<std::size_t>(L.width) * static_cast<std::size_t>(L.width_prev),
                          "C_" + std::to_string(l + 1)});
    }
    blocks.push_back({c, total, "c"});
    return blocks;
}

template <typename T>
Icnn<T>::Icnn(IcnnShape shape) : m_shape(std::move(shape)), m_layout(m_shape), m_params(m_layout.total, T(0)) {}

template <typename T>
Icnn<T> Icnn<T>::random(const IcnnShape& shape, std::uint64_t seed, bool project) {
    Icnn net(shape);
    Rng rng(seed);
    T* p = net.data();
    const IcnnLayout& lay = net.layout();
    for (const auto& L : lay.layers) {
        const double scale = 1.0 / std::sqrt(static_cast<double>(L.width));
        const std::size_t end = L.C + static_cast<std::size_t>(L.width) * static_cast<std::size_t>(L.width_prev);
        for (std::size_t i = L.A; i < end; ++i) p[i] = static_cast<T>(rng.normal() * scale);
    }
    const int WL = shape.widths.back();
    for (int j = 0; j < WL; ++j) p[lay.c + static_cast<std::size_t>(j)] = static_cast<T>(rng.normal() / std::sqrt(double(WL)));
    if (project) net.project();
    return net;
}

template <typename T>
void Icnn<T>::set_params(const std::vector<T>& p) {
    WGF_CHECK(p.size() == m_params.size(), "Icnn::set_params: " << p.size() << " values for a network of "
                                                                << m_params.size() << " parameters ("
                                                                << m_shape.describe() << ")");
    std::copy(p.begin(), p.end(), m_params.begin());
}

template <typename T>
void Icnn<T>::project() {
    T* p = m_params.data();
    for (const auto& block : m_layout.nonnegative_blocks())
        for (std::size_t i = block.begin; i < block.end; ++i) p[i] = p[i] < T(0) ? T(0) : p[i];
}

template <typename T>
bool Icnn<T>::is_convex() const {
    for (T v : m_params)
        if (!std::isfinite(v)) return false;
    for (const auto& block : m_layout.nonnegative_blocks())
        for (std::size_t i = block.begin; i < block.end; ++i)
            if (m_params[i] < T(0)) return false;
    return true;
}

double icnn_eval_flops_per_point(const IcnnShape& shape) {
    const double D = shape.dim, r = shape.rank;
    double f = D * D * D / 3.0;
    int prev = 0;
    for (int w : shape.widths) {
        f += 2.0 * w * prev * D + 2.0 * (1.0 + r) * w * D * D;
        prev = w;
    }
    return f;
}

template class Icnn<float>;
template class Icnn<double>;

}  // namespace wgf

// wgf/icnn.h — the input-convex neural network ψ of DESIGN.md §2 and its batched evaluation.
//
//   q_l(x)_j = Σ_t (a_{l,t,j}·x)² + (B_l x)_j + b_{l,j}
//   u_1 = q_1(x), z_1 = u_1;   u_l = C_l z_{l−1} + q_l(x), z_l = softplus(u_l)  (l = 2..L)
//   ψ(x) = c·z_L + (s/2)‖x‖²,   C_l ≥ 0, c ≥ 0  ⇒  ψ convex, ∇²ψ ⪰ s I.
//
// Parameter buffer layout (one contiguous array of T, row-major, layers in order l = 1..L):
//   A_l  [D][r][W_l]      A_l[i][t][j] = i-th coordinate of a_{l,t,j}      (the reference's
//   B_l  [W_l][D]                                                           "quadratic_decomposed",
//   b_l  [W_l]                                                              "weight", "bias")
//   C_l  [W_l][W_{l−1}]   only for l ≥ 2
// followed by c [W_L]. IcnnLayout gives the offsets. Point batches x are [N][D] row-major;
// outputs are value [N], grad_x [N][D], hess_x [N][D][D], logdet [N], status [N].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "wgf/context.h"
#include "wgf/icnn_status.h"

namespace wgf {

/// Shape of an ICNN. Defaults reproduce the reference (rank 5, s = 1e-6, softplus).
struct IcnnShape {
    int dim = 0;              ///< D, input dimension (≥ 1)
    std::vector<int> widths;  ///< W_1..W_L, one per layer (L ≥ 1, each ≥ 1)
    int rank = 5;             ///< r, rank of the quadratic forms (≥ 1)
    double strong_convexity = 1e-6;  ///< s ≥ 0, the (s/2)‖x‖² term

    int depth() const { return static_cast<int>(widths.size()); }
    int max_width() const;
    std::size_t param_count() const;
    /// Throws wgf::Error naming the offending field if the shape is unusable.
    void validate() const;
    /// "D=12 W=[64,64] r=5 s=1e-06"
    std::string describe() const;
    bool operator==(const IcnnShape& o) const;
    bool operator!=(const IcnnShape& o) const { return !(*this == o); }

    /// The reference's shape: L layers of width W, rank 5, s = 1e-6.
    static IcnnShape uniform(int dim, int width, int depth = 2, int rank = 5, double strong_convexity = 1e-6);
};

/// Offsets (in elements of T) of each parameter block in the contiguous buffer.
struct IcnnLayout {
    struct Layer {
        std::size_t A, B, b, C;  ///< C is meaningless for layer 0 (no C_1)
        int width, width_prev;   ///< W_l and W_{l−1} (width_prev = 0 for layer 0)
    };
    std::vector<Layer> layers;
    std::size_t c = 0;
    std::size_t total = 0;

    IcnnLayout() = default;
    explicit IcnnLayout(const IcnnShape& shape);

    /// A block of entries that convexity constrains to be ≥ 0: [begin, end), named as in the
    /// paper's numbering ("C_2" for layers[1].C, …, "c").
    struct NonnegativeBlock {
        std::size_t begin, end;
        std::string name;
    };
    /// Every such block, in buffer order: C_l of each layer l ≥ 1, then c. The one definition of the
    /// convexity constraint that Icnn::project, icnn_project (both backends), the device training
    /// step, is_convex and the file checks use.
    std::vector<NonnegativeBlock> nonnegative_blocks() const;
};

/// Host-side owner of one ICNN's parameters.
template <typename T>
class Icnn {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "Icnn<T>: T is float or double");

public:
    Icnn() = default;
    /// All parameters zero (ψ = (s/2)‖x‖²).
    explicit Icnn(IcnnShape shape);

    /// The reference's initialisation: every entry i.i.d. N(0, 1)/√W_l (c uses W_L). With
    /// project = true, C_l and c are clamped to ≥ 0 at once (the reference clamps after the first
    /// optimiser step); with false they keep their signs, as the reference's freshly built net.
    static Icnn random(const IcnnShape& shape, std::uint64_t seed, bool project = true);

    const IcnnShape& shape() const { return m_shape; }
    const IcnnLayout& layout() const { return m_layout; }
    std::size_t size() const { return m_params.size(); }
    T* data() { return m_params.data(); }
    const T* data() const { return m_params.data(); }
    /// The parameters in the documented layout; read-only, so that the buffer keeps its size (write
    /// through data() or set_params()).
    const std::vector<T>& params() const { return m_params; }
    /// Replace every parameter; throws wgf::Error unless p.size() == size().
    void set_params(const std::vector<T>& p);

    /// Clamp C_l and c to ≥ 0 (the convexity projection).
    void project();
    /// True when every C_l and c entry is ≥ 0 and every parameter is finite.
    bool is_convex() const;

    /// Save to / load from the documented binary format (docs/FORMATS.md, "ICNN file").
    /// Writes atomically (temporary file + rename). Loading converts the stored precision to T.
    void save(const std::string& path) const;
    static Icnn load(const std::string& path);
    /// Load and require the stored shape to equal `expected` (throws naming both shapes).
    static Icnn load(const std::string& path, const IcnnShape& expected);

    template <typename U>
    Icnn<U> cast() const {
        Icnn<U> out(m_shape);
        for (std::size_t i = 0; i < m_params.size(); ++i) out.data()[i] = static_cast<U>(m_params[i]);
        return out;
    }

private:
    IcnnShape m_shape;
    IcnnLayout m_layout;
    std::vector<T> m_params;
};


/// Requested outputs; a null pointer skips that output. All pointers live in the context's
/// memory space. status may be given only with logdet; without status a failed factorisation
/// throws wgf::NotPositiveDefinite.
template <typename T>
struct IcnnOutputs {
    T* value = nullptr;          ///< [N]        ψ(x)
    T* grad_x = nullptr;         ///< [N][D]     ∇ψ(x)
    T* hess_x = nullptr;         ///< [N][D][D]  ∇²ψ(x)
    T* logdet = nullptr;         ///< [N]        log det ∇²ψ(x) by Cholesky
    std::int32_t* status = nullptr;  ///< [N]    see IcnnStatus
};

/// Batched evaluation on ctx's backend. params: IcnnLayout(shape).total elements; x: [n][D].
/// Every pointer is in ctx's memory space. Throws wgf::Error on bad shapes, n ≤ 0, non-finite x,
/// or no output requested.
template <typename T>
void icnn_eval(Context& ctx, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
               IcnnOutputs<T> out);

/// Convenience: parameters, x and outputs all in host memory, whatever the backend; on Cuda the
/// data is staged through the device.
template <typename T>
void icnn_eval(Context& ctx, const Icnn<T>& net, const T* x, std::int64_t n, IcnnOutputs<T> out);

/// The convexity projection (Icnn::project) on a parameter buffer in ctx's memory space: C_l and c
/// clamped to ≥ 0. Training on a Cuda context keeps the parameters on the device and projects there.
template <typename T>
void icnn_project(Context& ctx, const IcnnShape& shape, T* params);

/// Nominal floating-point operations per point of a full evaluation (ψ, ∇ψ, ∇²ψ, log det), the
/// DESIGN.md §5 model: 2 Σ W_l W_{l−1} D + 2(1+r) Σ W_l D² + D³/3. Used by the benchmarks.
double icnn_eval_flops_per_point(const IcnnShape& shape);

}  // namespace wgf

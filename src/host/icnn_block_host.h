// icnn_block_host.h (private) — the host backend's batched ICNN ops on a block of P points, each a
// forward function and a hand-written backward rule (reverse mode), used by icnn_eval_host (forward
// only) and by the training losses through the tape (src/host/jko_loss_host.cpp).
//
// The math is in icnn_host.cpp's header comment (DESIGN.md §2); layers are 0-based, layer 0 linear.
// Layouts (column n of a [·×P] matrix is point n of the block):
//   S_l      [P × rW_l] row-major   S(p, t·W+j) = a_{l,t,j}·x_p
//   U,Z,S1,S2,S3,G,Delta  [W_l × P] u_l, z_l, σ'(u_l), σ''(u_l), σ'''(u_l), g_l, δ_l
//   DQ_l, K_l, J_l  [W_l × P·D]    columns p·D..p·D+D−1: point p's W_l×D matrix ∇q_l, K_l, J_l
//   Y        [P × D] row-major      ∇ψ
//   H        [D² × P]               column p: ∇²ψ(x_p), D×D (symmetric)
// Ops (forward / backward):
//   values        x, θ → S, U, Z, σ-derivatives, ψ          ψ̄, Ū, S̄ → θ̄, x̄
//   grad_recursion  U, θ → G, Delta                         Ḡ, Δ̄ → Ū, θ̄(C, c)
//   quad_jacobian   S, θ → DQ                               DQ̄ → S̄, θ̄(A, B)
//   grad_assembly   DQ, G, x → Y                            Ȳ → DQ̄, Ḡ, x̄
//   jacobian_recursion DQ, U, θ → K, J                      K̄ → DQ̄, Ū, θ̄(C)
//   hessian_assembly K, Delta, G, U, θ → H                  H̄ → K̄, Δ̄, Ḡ, Ū, θ̄(A)
//   cholesky_logdet H → logdet, status                      logdet̄ → H̄ (+= logdet̄ · H⁻¹)
// Backward rules accumulate (+=) into the adjoint buffers, which the caller zeroes with
// zero_adjoints() (K̄_0 stays empty: K_0 = ∇q_0, whose adjoint is DQ̄_0). Parameter adjoints accumulate into a [param_count] buffer in the parameter layout.
#pragma once

#include "eigen_core.h"
#include <cstdint>
#include <vector>

#include "wgf/icnn.h"

namespace wgf {
namespace detail {

template <typename T>
using HMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <typename T>
using HMatR = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using HVec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <typename T>
using CMapR = Eigen::Map<const HMatR<T>>;
template <typename T>
using MapR = Eigen::Map<HMatR<T>>;
template <typename T>
using CMap = Eigen::Map<const HMat<T>>;

/// Point p's W×D block (columns p·D..p·D+D−1) of a [W × P·D] matrix.
template <typename M>
auto point_block(M& m, int p, int D) {
    return m.middleCols(static_cast<Eigen::Index>(p) * D, D);
}

/// One layer's parameters (views into the buffer) plus per-call constants derived from them.
template <typename T>
struct HostLayer {
    int W = 0, Wprev = 0;
    const T* A = nullptr;  // [D][r][W]
    const T* B = nullptr;  // [W][D]
    const T* b = nullptr;  // [W]
    const T* C = nullptr;  // [W][Wprev], null for layer 0
    HMat<T> Bt;            // [W × D]: column d = B[:, d]
    HMat<T> Pm;            // [D² × W]: column j = P_{l,j} = 2 Σ_t a a^T (only when Hessians are needed)
};

/// The network as the ops see it: shape, per-layer views, c, and the parameter-buffer offsets.
template <typename T>
struct HostNet {
    IcnnShape shape;
    IcnnLayout layout;
    std::vector<HostLayer<T>> layers;
    HVec<T> params;  // aligned copy: Eigen's vectorised reductions associate by address, so a copy at a
                     // fixed alignment makes results bitwise reproducible across runs
    const T* c = nullptr;
    T s = T(0);
    /// with_hessian: build the Pm_l matrices (D²W_l each).
    HostNet(const IcnnShape& shape, const T* params, bool with_hessian);
};

/// Forward values and adjoints of one block.
template <typename T>
struct IcnnBlock {
    int P = 0;
    const T* x = nullptr;  // [P][D] row-major: points at xbuf after set_points()
    HMatR<T> xbuf;
    /// Copy the block's points into aligned storage (bitwise-reproducible reductions, see HostNet).
    void set_points(const T* points, int count, int dim) {
        P = count;
        xbuf = Eigen::Map<const HMatR<T>>(points, count, dim);
        x = xbuf.data();
    }
    // forward
    std::vector<HMatR<T>> S;
    std::vector<HMat<T>> U, Z, S1, S2, S3, G, Delta, DQ, K, J;
    HVec<T> psi;
    bool has_psi = false;  // values_forward computed ψ and the last layer's Z
    HMatR<T> Y;
    HMat<T> H, Lfac;  // Lfac: Cholesky factors, [D² × P]
    HVec<T> logdet;
    std::vector<std::int32_t> status;
    // adjoints
    std::vector<HMatR<T>> S_bar;
    std::vector<HMat<T>> U_bar, G_bar, Delta_bar, DQ_bar, K_bar;
    HVec<T> psi_bar, logdet_bar;
    HMatR<T> Y_bar, x_bar;
    HMat<T> H_bar;

    /// Size the adjoint buffers for the current P and set them to zero.
    void zero_adjoints(const HostNet<T>& net);
};

// ---- forward ops --------------------------------------------------------------------------------
/// S, U, Z, S1, S2 (and S3 when need_s3); psi and the last layer's Z only when need_psi.
template <typename T>
void values_forward(const HostNet<T>& net, IcnnBlock<T>& blk, bool need_s3, bool need_psi = true);
template <typename T>
void grad_recursion_forward(const HostNet<T>& net, IcnnBlock<T>& blk);
template <typename T>
void quad_jacobian_forward(const HostNet<T>& net, IcnnBlock<T>& blk);
template <typename T>
void grad_assembly_forward(const HostNet<T>& net, IcnnBlock<T>& blk);
template <typename T>
void jacobian_recursion_forward(const HostNet<T>& net, IcnnBlock<T>& blk);
template <typename T>
void hessian_assembly_forward(const HostNet<T>& net, IcnnBlock<T>& blk);
/// logdet and status per point; keeps the factors for the backward rule.
template <typename T>
void cholesky_logdet_forward(const HostNet<T>& net, IcnnBlock<T>& blk);

// ---- backward rules (accumulate into blk's adjoints and dparams [param_count]) -------------------
template <typename T>
void values_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams);
template <typename T>
void grad_recursion_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams);
template <typename T>
void quad_jacobian_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams);
template <typename T>
void grad_assembly_backward(const HostNet<T>& net, IcnnBlock<T>& blk);
template <typename T>
void jacobian_recursion_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams);
template <typename T>
void hessian_assembly_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams);
template <typename T>
void cholesky_logdet_backward(const HostNet<T>& net, IcnnBlock<T>& blk);

}  // namespace detail
}  // namespace wgf

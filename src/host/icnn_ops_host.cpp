// icnn_ops_host.cpp — the host ICNN ops on a block (see icnn_block_host.h for layouts): forward pass,
// gradient recursion, ∇q_l, ∇ψ assembly and the Jacobian recursion, each with its backward rule.
// The math: icnn_host.cpp (header comment) and DESIGN.md §2. Each backward rule is checked against
// finite differences in tests/host/test_icnn_backward_fd.cpp.
#include <algorithm>
#include <cmath>

#include "host_blas.h"
#include "icnn_block_host.h"
#include "softplus_vec_host.h"
#include "wgf/detail/icnn_point.h"
#include "icnn_rules_host.h"

namespace wgf {
namespace detail {


template <typename T>
HostNet<T>::HostNet(const IcnnShape& shp, const T* external, bool with_hessian) : shape(shp), layout(shp) {
    const int D = shape.dim, r = shape.rank;
    params = Eigen::Map<const HVec<T>>(external, static_cast<Eigen::Index>(layout.total));
    const T* p = params.data();
    layers.resize(static_cast<std::size_t>(shape.depth()));
    for (int l = 0; l < shape.depth(); ++l) {
        const auto& ll = layout.layers[static_cast<std::size_t>(l)];
        HostLayer<T>& lp = layers[static_cast<std::size_t>(l)];
        lp.W = ll.width;
        lp.Wprev = ll.width_prev;
        lp.A = p + ll.A;
        lp.B = p + ll.B;
        lp.b = p + ll.b;
        lp.C = l > 0 ? p + ll.C : nullptr;
        lp.Bt = CMapR<T>(lp.B, lp.W, D);
        if (with_hessian) {
            lp.Pm.resize(static_cast<Eigen::Index>(D) * D, lp.W);
            for (int j = 0; j < lp.W; ++j)
                for (int a = 0; a < D; ++a)
                    for (int b = 0; b <= a; ++b) {
                        const T h = quad_hessian(lp.A, r, lp.W, j, a, b);
                        lp.Pm(a * D + b, j) = h;
                        lp.Pm(b * D + a, j) = h;
                    }
        }
    }
    c = p + layout.c;
    s = static_cast<T>(shape.strong_convexity);
}

template <typename T>
void IcnnBlock<T>::zero_adjoints(const HostNet<T>& net) {
    const int L = net.shape.depth(), D = net.shape.dim, r = net.shape.rank;
    S_bar.resize(L);
    U_bar.resize(L);
    G_bar.resize(L);
    Delta_bar.resize(L);
    DQ_bar.resize(L);
    K_bar.resize(L);
    for (int l = 0; l < L; ++l) {
        const int W = net.layers[l].W;
        S_bar[l].setZero(P, r * W);
        U_bar[l].setZero(W, P);
        G_bar[l].setZero(W, P);
        Delta_bar[l].setZero(W, P);
        DQ_bar[l].setZero(W, static_cast<Eigen::Index>(P) * D);
        if (l > 0)  // K_0 is ∇q_0: its adjoint is DQ̄_0, K̄_0 stays empty
            K_bar[l].setZero(W, static_cast<Eigen::Index>(P) * D);
    }
    psi_bar.setZero(P);
    logdet_bar.setZero(P);
    Y_bar.setZero(P, D);
    x_bar.setZero(P, D);
    H_bar.setZero(static_cast<Eigen::Index>(D) * D, P);
}

namespace {
/// q[j] = (bx[j] + b[j]) + Σ_t s[tW+j]²: detail::quad_value for all units j, terms in the same order.
template <typename T>
void quad_value_column(int W, int r, const T* __restrict s, const T* __restrict bx, const T* __restrict b,
                       T* __restrict q) {
    for (int j = 0; j < W; ++j) q[j] = bx[j] + b[j];
    for (int t = 0; t < r; ++t)
        for (int j = 0; j < W; ++j) {
            const T v = s[static_cast<std::ptrdiff_t>(t) * W + j];
            q[j] += v * v;
        }
}
}  // namespace

// ---- values: S_l = X A_l; q; U_l = C_l Z_{l−1} + q_l; Z_l = σ(U_l); ψ = c·Z_{L−1} + (s/2)‖x‖² ----------
template <typename T>
void values_forward(const HostNet<T>& net, IcnnBlock<T>& blk, bool need_s3, bool need_psi) {
    const int D = net.shape.dim, r = net.shape.rank, L = net.shape.depth(), P = blk.P;
    const CMapR<T> X(blk.x, P, D);
    blk.S.resize(L);
    blk.U.resize(L);
    blk.Z.resize(L);
    blk.S1.resize(L);
    blk.S2.resize(L);
    blk.S3.resize(L);
    static thread_local HMat<T> BX;
    static thread_local HVec<T> q;
    for (int l = 0; l < L; ++l) {
        const HostLayer<T>& lp = net.layers[l];
        const int W = lp.W;
        blk.S[l].noalias() = X * CMapR<T>(lp.A, D, r * W);
        BX.noalias() = lp.Bt * X.transpose();
        HMat<T>& U = blk.U[l];
        U.resize(W, P);
        if (l > 0)  // U = C_l Z_{l−1}; C_l row-major [W × W'] is column-major [W' × W], transposed
            blas_gemm<T>(true, false, W, P, lp.Wprev, T(1), lp.C, lp.Wprev, blk.Z[l - 1].data(), lp.Wprev, T(0), U.data(), W);
        blk.Z[l].resize(W, P);
        blk.S1[l].resize(W, P);
        blk.S2[l].resize(W, P);
        if (need_s3) blk.S3[l].resize(W, P);
        const bool need_z = l + 1 < L || need_psi;
        q.resize(W);
        for (int p = 0; p < P; ++p) {
            // u = (C_l z_{l−1})_j + q_j, q_j = (B x)_j + b_j + Σ_t s_t² (quad_value, vectorised over j).
            T* u = U.col(p).data();
            quad_value_column(W, r, blk.S[l].data() + static_cast<std::ptrdiff_t>(p) * r * W, BX.col(p).data(), lp.b,
                              q.data());
            for (int j = 0; j < W; ++j) u[j] = l == 0 ? q[j] : u[j] + q[j];
            T* z = blk.Z[l].col(p).data();
            T* s1 = blk.S1[l].col(p).data();
            T* s2 = blk.S2[l].col(p).data();
            T* s3 = need_s3 ? blk.S3[l].col(p).data() : nullptr;
            if (l == 0) {  // linear layer: z = u, σ' = 1, σ'' = σ''' = 0
                if (need_z) std::copy(u, u + W, z);
                std::fill(s1, s1 + W, T(1));
                std::fill(s2, s2 + W, T(0));
                if (s3) std::fill(s3, s3 + W, T(0));
            } else {  // softplus (layer_activation), vectorised for float
                softplus_derivs_array(u, W, need_z ? z : nullptr, s1, s2, s3);
            }
        }
    }
    blk.has_psi = need_psi;
    if (!need_psi) return;
    const Eigen::Map<const HVec<T>> cv(net.c, net.layers[L - 1].W);
    blk.psi.resize(P);
    for (int p = 0; p < P; ++p) blk.psi[p] = cv.dot(blk.Z[L - 1].col(p)) + net.s / T(2) * X.row(p).squaredNorm();
}

// ψ̄ → c̄ += Z_{L−1}ψ̄, Z̄_{L−1} = c ψ̄ᵀ, x̄ += sψ̄x; per layer (reverse): Ū += σ'⊙Z̄; C̄_l += Ū Z_{l−1}ᵀ;
// Z̄_{l−1} = C_lᵀ Ū; q̄ = Ū → b̄ += Σ_p Ū, B̄ += Ū X, S̄ += 2 S ⊙ Ū; then Ā += Xᵀ S̄, x̄ += S̄ Aᵀ + Ūᵀ B.
template <typename T>
void values_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams) {
    const int D = net.shape.dim, r = net.shape.rank, L = net.shape.depth(), P = blk.P;
    const CMapR<T> X(blk.x, P, D);
    const int WL = net.layers[L - 1].W;
    const Eigen::Map<const HVec<T>> cv(net.c, WL);
    static thread_local HMat<T> Zbar;
    if (blk.has_psi) {
        Eigen::Map<HVec<T>>(dparams + net.layout.c, WL).noalias() += blk.Z[L - 1] * blk.psi_bar;
        Zbar.noalias() = cv * blk.psi_bar.transpose();
        blk.x_bar.noalias() += net.s * (blk.psi_bar.asDiagonal() * X);
    } else {  // ψ was not computed, so nothing depends on it: ψ̄ must be zero
        Zbar.setZero(WL, P);
    }
    for (int l = L - 1; l >= 0; --l) {
        const HostLayer<T>& lp = net.layers[l];
        const auto& off = net.layout.layers[l];
        const int W = lp.W;
        HMat<T>& Ub = blk.U_bar[l];
        activation_backward_entries(Ub.size(), blk.S1[l].data(), Zbar.data(), Ub.data());  // σ' = 1 on layer 0
        if (l > 0) {
            MapR<T>(dparams + off.C, W, lp.Wprev).noalias() += Ub * blk.Z[l - 1].transpose();
            Zbar.noalias() = CMapR<T>(lp.C, W, lp.Wprev).transpose() * Ub;
        }
        Eigen::Map<HVec<T>>(dparams + off.b, W).noalias() += Ub.rowwise().sum();
        MapR<T>(dparams + off.B, W, D).noalias() += Ub * X;
        HMatR<T>& Sb = blk.S_bar[l];
        for (int p = 0; p < P; ++p)
            for (int t = 0; t < r; ++t)
                for (int j = 0; j < W; ++j) Sb(p, t * W + j) += T(2) * blk.S[l](p, t * W + j) * Ub(j, p);
        MapR<T>(dparams + off.A, D, r * W).noalias() += X.transpose() * Sb;
        blk.x_bar.noalias() += Sb * CMapR<T>(lp.A, D, r * W).transpose();
        blk.x_bar.noalias() += Ub.transpose() * CMapR<T>(lp.B, W, D);
    }
}

// ---- gradient recursion: δ_{L−1} = c; g_l = σ'(u_l) ⊙ δ_l; δ_{l−1} = C_lᵀ g_l ----------------------
template <typename T>
void grad_recursion_forward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int L = net.shape.depth(), P = blk.P;
    blk.G.resize(L);
    blk.Delta.resize(L);
    const int WL = net.layers[L - 1].W;
    blk.Delta[L - 1] = Eigen::Map<const HVec<T>>(net.c, WL).replicate(1, P);
    for (int l = L - 1; l >= 0; --l) {
        blk.G[l].resize(blk.S1[l].rows(), blk.S1[l].cols());
        gradient_entries(blk.G[l].size(), blk.S1[l].data(), blk.Delta[l].data(), blk.G[l].data());
        if (l > 0)
            blk.Delta[l - 1].noalias() =
                CMapR<T>(net.layers[l].C, net.layers[l].W, net.layers[l].Wprev).transpose() * blk.G[l];
    }
}

// Reverse of the forward order, so l = 0 upwards: [g_l = σ'⊙δ_l] Δ̄_l += σ'⊙Ḡ_l, Ū_l += σ''⊙δ_l⊙Ḡ_l;
// [δ_l = C_{l+1}ᵀ g_{l+1}] Ḡ_{l+1} += C_{l+1} Δ̄_l, C̄_{l+1} += g_{l+1} Δ̄_lᵀ; [δ_{L−1} = c] c̄ += Σ_p Δ̄_{L−1}.
template <typename T>
void grad_recursion_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams) {
    const int L = net.shape.depth();
    for (int l = 0; l < L; ++l) {
        grad_recursion_backward_entries(blk.G_bar[l].size(), blk.S1[l].data(), blk.S2[l].data(),  // σ'' = 0 on layer 0
                                        blk.Delta[l].data(), blk.G_bar[l].data(), blk.Delta_bar[l].data(),
                                        blk.U_bar[l].data());
        if (l + 1 < L) {
            const HostLayer<T>& nx = net.layers[l + 1];
            blk.G_bar[l + 1].noalias() += CMapR<T>(nx.C, nx.W, nx.Wprev) * blk.Delta_bar[l];
            MapR<T>(dparams + net.layout.layers[l + 1].C, nx.W, nx.Wprev).noalias() +=
                blk.G[l + 1] * blk.Delta_bar[l].transpose();
        }
    }
    Eigen::Map<HVec<T>>(dparams + net.layout.c, net.layers[L - 1].W).noalias() += blk.Delta_bar[L - 1].rowwise().sum();
}

// ---- ∇q_l: DQ(:, pD+d) = B[:, d] + 2 Σ_t S(p, tW+:) ⊙ A[d][t][:] -----------------------------------
// The formula of detail::quad_jacobian with the loops interchanged so that the innermost loop runs
// over units j (contiguous in S, A, DQ and S̄, Ā, DQ̄): plain loops over restrict pointers that the
// compiler vectorises; each S̄, Ā element still accumulates its terms in the order of the reference
// loops (d ascending for S̄, p ascending for Ā), so results do not depend on the blocking.
namespace {
/// dq[j] = b[j] + 2 Σ_t s[tW+j] a[tW+j]  (one column of ∇q: point p, coordinate d).
template <typename T>
void quad_jacobian_column(int W, int r, const T* __restrict s, const T* __restrict a, const T* __restrict b,
                          T* __restrict dq) {
    for (int j = 0; j < W; ++j) dq[j] = T(0);
    for (int t = 0; t < r; ++t)
        for (int j = 0; j < W; ++j) dq[j] += s[static_cast<std::ptrdiff_t>(t) * W + j] * a[static_cast<std::ptrdiff_t>(t) * W + j];
    for (int j = 0; j < W; ++j) dq[j] = b[j] + T(2) * dq[j];
}

/// sb[j] += 2 a[j] c[j];  da[j] += 2 s[j] c[j]  (one (p, t, d) term of the ∇q backward rule).
template <typename T>
void quad_jacobian_term_backward(int W, const T* __restrict a, const T* __restrict s, const T* __restrict c,
                                 T* __restrict sb, T* __restrict da) {
    for (int j = 0; j < W; ++j) {
        const T c2 = T(2) * c[j];
        sb[j] += a[j] * c2;
        da[j] += s[j] * c2;
    }
}
}  // namespace

template <typename T>
void quad_jacobian_forward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, r = net.shape.rank, L = net.shape.depth(), P = blk.P;
    blk.DQ.resize(L);
    for (int l = 0; l < L; ++l) {
        const HostLayer<T>& lp = net.layers[l];
        const int W = lp.W;
        HMat<T>& DQ = blk.DQ[l];
        DQ.resize(W, static_cast<Eigen::Index>(P) * D);
        for (int p = 0; p < P; ++p) {
            const T* s = blk.S[l].data() + static_cast<std::ptrdiff_t>(p) * r * W;
            for (int d = 0; d < D; ++d)
                quad_jacobian_column(W, r, s, lp.A + static_cast<std::ptrdiff_t>(d) * r * W, lp.Bt.col(d).data(),
                                     DQ.col(static_cast<Eigen::Index>(p) * D + d).data());
        }
    }
}

// DQ̄ → B̄[j][d] += Σ_p DQ̄(j, pD+d); S̄(p, tW+j) += 2 Σ_d A[d][t][j] DQ̄(j, pD+d);
//        Ā[d][t][j] += 2 Σ_p S(p, tW+j) DQ̄(j, pD+d).
// Points outermost: point p's S̄ row and DQ̄ block and the whole Ā of the layer (D·r·W) stay in L1.
template <typename T>
void quad_jacobian_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams) {
    const int D = net.shape.dim, r = net.shape.rank, L = net.shape.depth(), P = blk.P;
    for (int l = 0; l < L; ++l) {
        const HostLayer<T>& lp = net.layers[l];
        const auto& off = net.layout.layers[l];
        const int W = lp.W;
        T* dA = dparams + off.A;
        const HMat<T>& DQb = blk.DQ_bar[l];
        // B̄ (row-major W × D) += the sum over points of the W × D blocks of DQ̄ (column-major).
        const HVec<T> bsum = CMap<T>(DQb.data(), static_cast<Eigen::Index>(W) * D, P).rowwise().sum();
        MapR<T>(dparams + off.B, W, D).noalias() += CMap<T>(bsum.data(), W, D);
        for (int p = 0; p < P; ++p) {
            const T* dqb = DQb.data() + static_cast<std::ptrdiff_t>(p) * D * W;
            for (int t = 0; t < r; ++t) {
                const std::ptrdiff_t st = (static_cast<std::ptrdiff_t>(p) * r + t) * W;
                for (int d = 0; d < D; ++d) {
                    const std::ptrdiff_t at = (static_cast<std::ptrdiff_t>(d) * r + t) * W;
                    quad_jacobian_term_backward(W, lp.A + at, blk.S[l].data() + st, dqb + static_cast<std::ptrdiff_t>(d) * W,
                                                blk.S_bar[l].data() + st, dA + at);
                }
            }
        }
    }
}

// ---- ∇ψ = Σ_l DQ_{l,p}ᵀ g_{l,p} + s x_p --------------------------------------------------------------
template <typename T>
void grad_assembly_forward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, L = net.shape.depth(), P = blk.P;
    const CMapR<T> X(blk.x, P, D);
    blk.Y = net.s * X;
    for (int l = 0; l < L; ++l)
        for (int p = 0; p < P; ++p)
            blk.Y.row(p).noalias() += (point_block(blk.DQ[l], p, D).transpose() * blk.G[l].col(p)).transpose();
}

// Ȳ → DQ̄_{l,p} += g_{l,p} Ȳ_p; Ḡ_{l,p} += DQ_{l,p} Ȳ_pᵀ; x̄_p += s Ȳ_p.
template <typename T>
void grad_assembly_backward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, L = net.shape.depth(), P = blk.P;
    for (int l = 0; l < L; ++l)
        for (int p = 0; p < P; ++p) {
            point_block(blk.DQ_bar[l], p, D).noalias() += blk.G[l].col(p) * blk.Y_bar.row(p);
            blk.G_bar[l].col(p).noalias() += point_block(blk.DQ[l], p, D) * blk.Y_bar.row(p).transpose();
        }
    blk.x_bar += net.s * blk.Y_bar;
}

// ---- Jacobians: K_0 = J_0 = ∇q_0; K_l = C_l J_{l−1} + ∇q_l; J_l = diag(σ'(u_l)) K_l ---------------------
// K[0] and J[0] are left empty (they equal DQ[0]); J_{L−1} is not needed.
template <typename T>
void jacobian_recursion_forward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, L = net.shape.depth(), P = blk.P;
    blk.K.resize(L);
    blk.J.resize(L);
    for (int l = 1; l < L; ++l) {
        const HostLayer<T>& lp = net.layers[l];
        const HMat<T>& Jprev = l == 1 ? blk.DQ[0] : blk.J[l - 1];
        blk.K[l] = blk.DQ[l];  // K_l = ∇q_l + C_l J_{l−1}
        blas_gemm<T>(true, false, lp.W, static_cast<std::int64_t>(P) * D, lp.Wprev, T(1), lp.C, lp.Wprev, Jprev.data(),
                     lp.Wprev, T(1), blk.K[l].data(), lp.W);
        if (l + 1 < L) {
            blk.J[l].resize(lp.W, static_cast<Eigen::Index>(P) * D);
            for (int p = 0; p < P; ++p)
                point_block(blk.J[l], p, D) = blk.S1[l].col(p).asDiagonal() * point_block(blk.K[l], p, D);
        }
    }
}

// K̄_l (l ≥ 1, from the Hessian) → for l = L−1..1: K̄_l += σ'⊙J̄_l, Ū_l(j,p) += σ''(u) Σ_d J̄_l K_l;
// C̄_l += K̄_l J_{l−1}ᵀ; J̄_{l−1} = C_lᵀ K̄_l; DQ̄_l += K̄_l. Finally DQ̄_0 += J̄_0.
template <typename T>
void jacobian_recursion_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams) {
    const int D = net.shape.dim, L = net.shape.depth(), P = blk.P;
    if (L == 1) return;
    static thread_local HMat<T> Jbar;  // J̄_l of the layer being processed (empty for l = L−1)
    static thread_local HVec<T> jk;    // Σ_d J̄ ⊙ K of one point
    for (int l = L - 1; l >= 1; --l) {
        const HostLayer<T>& lp = net.layers[l];
        HMat<T>& Kb = blk.K_bar[l];
        if (l + 1 < L) {
            for (int p = 0; p < P; ++p) {
                auto jb = point_block(Jbar, p, D);
                point_block(Kb, p, D).noalias() += blk.S1[l].col(p).asDiagonal() * jb;
                jk = (jb.array() * point_block(blk.K[l], p, D).array()).rowwise().sum();
                jacobian_backward_entries(lp.W, blk.S2[l].col(p).data(), jk.data(), blk.U_bar[l].col(p).data());
            }
        }
        const HMat<T>& Jprev = l == 1 ? blk.DQ[0] : blk.J[l - 1];
        const std::int64_t PD = static_cast<std::int64_t>(P) * D;
        // C̄_lᵀ (column-major [W' × W]) += J_{l−1} K̄_lᵀ;  J̄_{l−1} = C_lᵀ K̄_l.
        blas_gemm<T>(false, true, lp.Wprev, lp.W, PD, T(1), Jprev.data(), lp.Wprev, Kb.data(), lp.W, T(1),
                     dparams + net.layout.layers[l].C, lp.Wprev);
        // J̄_0 goes straight into DQ̄_0 (beta = 1): J_0 is ∇q_0.
        if (l > 1) Jbar.resize(lp.Wprev, PD);
        blas_gemm<T>(false, false, lp.Wprev, PD, lp.W, T(1), lp.C, lp.Wprev, Kb.data(), lp.W, l > 1 ? T(0) : T(1),
                     l > 1 ? Jbar.data() : blk.DQ_bar[0].data(), lp.Wprev);
        blk.DQ_bar[l] += Kb;
    }
}

#define WGF_INSTANTIATE(T)                                                                       \
    template struct HostNet<T>;                                                                  \
    template struct IcnnBlock<T>;                                                                \
    template void values_forward<T>(const HostNet<T>&, IcnnBlock<T>&, bool, bool);                     \
    template void values_backward<T>(const HostNet<T>&, IcnnBlock<T>&, T*);                     \
    template void grad_recursion_forward<T>(const HostNet<T>&, IcnnBlock<T>&);                   \
    template void grad_recursion_backward<T>(const HostNet<T>&, IcnnBlock<T>&, T*);              \
    template void quad_jacobian_forward<T>(const HostNet<T>&, IcnnBlock<T>&);                    \
    template void quad_jacobian_backward<T>(const HostNet<T>&, IcnnBlock<T>&, T*);               \
    template void grad_assembly_forward<T>(const HostNet<T>&, IcnnBlock<T>&);                    \
    template void grad_assembly_backward<T>(const HostNet<T>&, IcnnBlock<T>&);                   \
    template void jacobian_recursion_forward<T>(const HostNet<T>&, IcnnBlock<T>&);               \
    template void jacobian_recursion_backward<T>(const HostNet<T>&, IcnnBlock<T>&, T*);
WGF_INSTANTIATE(float)
WGF_INSTANTIATE(double)
#undef WGF_INSTANTIATE

}  // namespace detail
}  // namespace wgf

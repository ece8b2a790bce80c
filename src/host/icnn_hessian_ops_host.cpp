// icnn_hessian_ops_host.cpp — the host ops that build ∇²ψ and its log-determinant on a block, with
// their backward rules (see icnn_block_host.h for layouts; math in icnn_host.cpp and DESIGN.md §2):
//   H_p = s I + Σ_l mat(Pm_l g_{l,p}) + Σ_{l≥1} K_{l,p}ᵀ diag(e_{l,p}) K_{l,p},  e_l = δ_l ⊙ σ''(u_l)
//   logdet_p = 2 Σ log L_ii,  H_p = L Lᵀ
// Checked against finite differences in tests/host/test_icnn_backward_fd.cpp.
#include <limits>
#include <vector>

#include "host_blas.h"
#include "icnn_block_host.h"
#include "wgf/detail/cholesky.h"
#include "icnn_rules_host.h"

namespace wgf {
namespace detail {


template <typename T>
void hessian_assembly_forward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, L = net.shape.depth(), P = blk.P;
    const std::int64_t D2 = static_cast<std::int64_t>(D) * D;
    blk.H.resize(D2, P);
    for (int l = 0; l < L; ++l)  // H = Σ_l Pm_l G_l
        blas_gemm<T>(false, false, D2, P, net.layers[l].W, T(1), net.layers[l].Pm.data(), D2, blk.G[l].data(),
                     net.layers[l].W, l == 0 ? T(0) : T(1), blk.H.data(), D2);
    static thread_local HMat<T> M, Hp;
    static thread_local std::vector<HMat<T>> E;  // e_l = σ''(u_l) ⊙ δ_l [W × P], l ≥ 1
    E.resize(static_cast<std::size_t>(L));
    for (int l = 1; l < L; ++l) {
        E[l].resize(net.layers[l].W, P);
        curvature_entries(E[l].size(), blk.S2[l].data(), blk.Delta[l].data(), E[l].data());
    }
    Hp.resize(D, D);
    for (int p = 0; p < P; ++p) {
        Eigen::Map<HMat<T>> Hcol(blk.H.col(p).data(), D, D);
        Hp = Hcol;
        Hp.diagonal().array() += net.s;
        for (int l = 1; l < L; ++l) {
            const auto Kp = point_block(blk.K[l], p, D);
            M.noalias() = E[l].col(p).asDiagonal() * Kp;
            Hp.noalias() += Kp.transpose() * M;
        }
        // Symmetrise exactly: the GEMMs round the two triangles differently.
        Hcol = T(0.5) * (Hp + Hp.transpose());
    }
}

// H̄ (symmetrised first, the adjoint of the symmetrisation) →
//   Ḡ_l += Pm_lᵀ H̄;  Ā_{l,t,j} += 4 (Σ_p g_{l,j,p} H̄_p) a_{l,t,j};
//   l ≥ 1, per point: R = K H̄; K̄ += 2 diag(e) R; ē_j = R_j·K_j; Δ̄ += ē ⊙ σ''; Ū += ē ⊙ δ ⊙ σ'''.
template <typename T>
void hessian_assembly_backward(const HostNet<T>& net, IcnnBlock<T>& blk, T* dparams) {
    const int D = net.shape.dim, r = net.shape.rank, L = net.shape.depth(), P = blk.P;
    static thread_local HMat<T> Hbar, sym;
    static thread_local HVec<T> ebar;  // per-point scratch, kept across calls (no allocation per point)
    Hbar = blk.H_bar;
    for (int p = 0; p < P; ++p) {
        Eigen::Map<HMat<T>> Hp(Hbar.col(p).data(), D, D);
        sym.noalias() = T(0.5) * (Hp + Hp.transpose());
        Hp = sym;
    }
    static thread_local HMat<T> M, R, e;
    for (int l = 0; l < L; ++l) {
        const HostLayer<T>& lp = net.layers[l];
        const int W = lp.W;
        const std::int64_t D2 = static_cast<std::int64_t>(D) * D;
        blas_gemm<T>(true, false, W, P, D2, T(1), lp.Pm.data(), D2, Hbar.data(), D2, T(1), blk.G_bar[l].data(), W);
        M.resize(D2, W);  // [D² × W]: column j = Σ_p g_{j,p} H̄_p
        blas_gemm<T>(false, true, D2, W, P, T(1), Hbar.data(), D2, blk.G[l].data(), W, T(0), M.data(), D2);
        T* dA = dparams + net.layout.layers[l].A;
        for (int j = 0; j < W; ++j) {
            const CMap<T> Mj(M.col(j).data(), D, D);
            for (int t = 0; t < r; ++t)
                for (int d = 0; d < D; ++d) {
                    T v = T(0);
                    for (int k = 0; k < D; ++k) v += Mj(d, k) * lp.A[(static_cast<std::ptrdiff_t>(k) * r + t) * W + j];
                    dA[(static_cast<std::ptrdiff_t>(d) * r + t) * W + j] += T(4) * v;
                }
        }
        if (l == 0) continue;
        e.resize(W, P);
        curvature_entries(e.size(), blk.S2[l].data(), blk.Delta[l].data(), e.data());
        for (int p = 0; p < P; ++p) {
            const auto Kp = point_block(blk.K[l], p, D);
            R.noalias() = Kp * CMap<T>(Hbar.col(p).data(), D, D);
            point_block(blk.K_bar[l], p, D).noalias() += T(2) * (e.col(p).asDiagonal() * R);
            ebar.noalias() = (R.array() * Kp.array()).rowwise().sum().matrix();
            curvature_backward_entries(W, ebar.data(), blk.S2[l].col(p).data(), blk.S3[l].col(p).data(),
                                       blk.Delta[l].col(p).data(), blk.Delta_bar[l].col(p).data(),
                                       blk.U_bar[l].col(p).data());
        }
    }
}

template <typename T>
void cholesky_logdet_forward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, P = blk.P;
    blk.Lfac = blk.H;
    blk.logdet.resize(P);
    blk.status.assign(static_cast<std::size_t>(P), 0);
    for (int p = 0; p < P; ++p) {
        T* a = blk.Lfac.col(p).data();
        const int status = cholesky_lower_inplace(a, D);  // the contract of wgf/icnn_status.h
        blk.status[static_cast<std::size_t>(p)] = status;
        blk.logdet[p] = status == kIcnnOk ? cholesky_logdet(a, D) : std::numeric_limits<T>::quiet_NaN();
    }
}

// logdet̄ → H̄_p += logdet̄_p · H_p⁻¹ (points whose factorisation failed carry no gradient; the caller
// reports them).
template <typename T>
void cholesky_logdet_backward(const HostNet<T>& net, IcnnBlock<T>& blk) {
    const int D = net.shape.dim, P = blk.P;
    static thread_local HVec<T> inv, work;
    inv.resize(D * D);
    work.resize(D * D);
    for (int p = 0; p < P; ++p) {
        if (blk.status[static_cast<std::size_t>(p)] != 0 || blk.logdet_bar[p] == T(0)) continue;
        cholesky_inverse(blk.Lfac.col(p).data(), D, inv.data(), work.data());
        blk.H_bar.col(p) += blk.logdet_bar[p] * inv;
    }
}

#define WGF_INSTANTIATE(T)                                                             \
    template void hessian_assembly_forward<T>(const HostNet<T>&, IcnnBlock<T>&);       \
    template void hessian_assembly_backward<T>(const HostNet<T>&, IcnnBlock<T>&, T*);  \
    template void cholesky_logdet_forward<T>(const HostNet<T>&, IcnnBlock<T>&);        \
    template void cholesky_logdet_backward<T>(const HostNet<T>&, IcnnBlock<T>&);
WGF_INSTANTIATE(float)
WGF_INSTANTIATE(double)
#undef WGF_INSTANTIATE

}  // namespace detail
}  // namespace wgf

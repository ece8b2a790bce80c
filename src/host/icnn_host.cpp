// icnn_host.cpp — host reference for ψ, ∇ψ, ∇²ψ and log det ∇²ψ of the ICNN on a batch of points.
//
// Math (DESIGN.md §2; layers 0-based here, l = 0..L−1, layer 0 has no activation):
//   s_{l,t,j} = a_{l,t,j}·x,   q_{l,j} = Σ_t s_{l,t,j}² + (B_l x)_j + b_{l,j}
//   u_0 = q_0, z_0 = u_0;   u_l = C_l z_{l−1} + q_l, z_l = σ(u_l)                 (forward)
//   ψ = c·z_{L−1} + (s/2)‖x‖²
//   δ_{L−1} = c;  g_l = σ'(u_l) ⊙ δ_l (g_0 = δ_0);  δ_{l−1} = C_lᵀ g_l              (reverse)
//   ∇q_l (W_l×D): row j = 2 Σ_t s_{l,t,j} a_{l,t,j} + B_{l,j}
//   K_0 = ∇q_0, J_0 = K_0;  K_l = C_l J_{l−1} + ∇q_l, J_l = diag(σ'(u_l)) K_l       (Jacobians)
//   ∇ψ = K_{L−1}ᵀ g_{L−1} + s x  = Σ_l ∇q_lᵀ g_l + s x                            (two equal forms)
//   ∇²ψ = s I + Σ_{l≥1} K_lᵀ diag(δ_l ⊙ σ''(u_l)) K_l + Σ_l Σ_j g_{l,j} P_{l,j},
//         P_{l,j} = 2 Σ_t a_{l,t,j} a_{l,t,j}ᵀ   (the constant Hessian of q_{l,j})
//   log det ∇²ψ = 2 Σ log L_ii,  ∇²ψ = L Lᵀ (Cholesky; failure is reported per point).
//
// Batched form, for a block of P points (column n of a [·×P] matrix is point n):
//   S_l = X A_l                 [P × rW_l]   (A_l viewed as [D × rW_l] row-major)
//   U_l = C_l Z_{l−1} + Q_l     [W_l × P]    GEMM
//   K_l = C_l J_{l−1} + ∇Q_l    [W_l × P·D]  GEMM; columns n·D..n·D+D−1 are point n's W_l×D Jacobian
//   H_quad = Pm_l G_l           [D² × P]     GEMM; Pm_l [D² × W_l] holds the P_{l,j} (built once)
// The per-point remainder (Kᵀ diag(e) K, Cholesky) runs inside the block. Blocks are spread over
// threads; each thread owns its workspace and Eigen runs single-threaded inside it.
#include "icnn_host.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "wgf/detail/cholesky.h"
#include "wgf/detail/icnn_point.h"
#include "wgf/error.h"

namespace wgf {
namespace detail {
namespace {

using Eigen::Dynamic;
template <typename T>
using Mat = Eigen::Matrix<T, Dynamic, Dynamic, Eigen::ColMajor>;
template <typename T>
using MatR = Eigen::Matrix<T, Dynamic, Dynamic, Eigen::RowMajor>;
template <typename T>
using CMapR = Eigen::Map<const MatR<T>>;
template <typename T>
using CMap = Eigen::Map<const Mat<T>>;
template <typename T>
using Vec = Eigen::Matrix<T, Dynamic, 1>;

/// Read-only views of one layer's parameters plus the per-call constants built from them.
template <typename T>
struct LayerParams {
    int W = 0, Wprev = 0;
    const T* A = nullptr;  // [D][r][W]
    const T* B = nullptr;  // [W][D]
    const T* b = nullptr;  // [W]
    const T* C = nullptr;  // [W][Wprev], null for layer 0
    Mat<T> Bt;             // [W × D] col-major copy: column d = B[:, d] contiguous
    Mat<T> Pm;             // [D² × W]: column j = P_{l,j} flattened (built only for Hessians)
};

/// One thread's scratch for a block of up to P points.
template <typename T>
struct Workspace {
    std::vector<MatR<T>> S;                 // per layer [P × rW]
    std::vector<Mat<T>> U, Z, S1, S2, G;    // per layer [W × P]: u, z, σ', σ'', g
    std::vector<Mat<T>> K;                  // per layer [W × P·D]
    Mat<T> J, Delta, BX, HQ;                // J_{l−1}, δ_l, B x, Σ_l Pm_l G_l
    Mat<T> M;                               // [W × D] diag(e) K of one point
    Mat<T> H;                               // [D × D]
};

struct Request {
    bool value, grad, hess;  // hess: ∇²ψ needed (for hess_x or logdet)
};

template <typename T>
void eval_block(const IcnnShape& shape, const std::vector<LayerParams<T>>& layers, const T* c, const Request& req,
                const T* x, std::int64_t n0, int P, IcnnOutputs<T> out, Workspace<T>& ws) {
    const int D = shape.dim, r = shape.rank, L = shape.depth();
    const T s = static_cast<T>(shape.strong_convexity);
    const CMapR<T> X(x + n0 * D, P, D);
    ws.S.resize(L);
    ws.U.resize(L);
    ws.Z.resize(L);
    ws.S1.resize(L);
    ws.S2.resize(L);
    ws.G.resize(L);
    ws.K.resize(L);

    // ---- forward: S, U, Z, σ', σ'' and (Hessian path) the Jacobians K_l --------------------------
    for (int l = 0; l < L; ++l) {
        const LayerParams<T>& lp = layers[l];
        const int W = lp.W;
        ws.S[l].noalias() = X * CMapR<T>(lp.A, D, r * W);
        ws.BX.noalias() = lp.Bt * X.transpose();  // B_l X^T: [W × P]
        Mat<T>& U = ws.U[l];
        if (l == 0) {
            U.resize(W, P);
        } else {
            U.noalias() = CMapR<T>(lp.C, W, lp.Wprev) * ws.Z[l - 1];
        }
        ws.Z[l].resize(W, P);
        ws.S1[l].resize(W, P);
        ws.S2[l].resize(W, P);
        for (int p = 0; p < P; ++p) {
            const T* srow = ws.S[l].data() + static_cast<std::ptrdiff_t>(p) * r * W;
            for (int j = 0; j < W; ++j) {
                const T q = quad_value(srow + j, W, r, ws.BX(j, p), lp.b[j]);
                const T u = (l == 0 ? T(0) : U(j, p)) + q;
                U(j, p) = u;
                layer_activation(l, u, ws.Z[l](j, p), ws.S1[l](j, p), ws.S2[l](j, p));
            }
        }
        if (!req.hess) continue;
        Mat<T>& K = ws.K[l];
        if (l == 0) {
            K.resize(W, static_cast<std::ptrdiff_t>(P) * D);
        } else {
            K.noalias() = CMapR<T>(lp.C, W, lp.Wprev) * ws.J;  // C_l J_{l−1}
        }
        // K += ∇q_l: column (p, d) gets B[:, d] + 2 Σ_t s_{t,:} ⊙ A[d][t][:]
        for (int p = 0; p < P; ++p) {
            const T* srow = ws.S[l].data() + static_cast<std::ptrdiff_t>(p) * r * W;
            for (int d = 0; d < D; ++d) {
                T* col = K.data() + (static_cast<std::ptrdiff_t>(p) * D + d) * W;
                const T* bt = lp.Bt.data() + static_cast<std::ptrdiff_t>(d) * W;
                const T* a = lp.A + static_cast<std::ptrdiff_t>(d) * r * W;
                for (int j = 0; j < W; ++j) {
                    const T kq = quad_jacobian(srow + j, W, a + j, W, r, bt[j]);
                    col[j] = (l == 0 ? T(0) : col[j]) + kq;
                }
            }
        }
        if (l + 1 < L) {  // J_l = diag(σ'(u_l)) K_l feeds layer l+1
            ws.J.resize(W, static_cast<std::ptrdiff_t>(P) * D);
            for (int p = 0; p < P; ++p)
                for (int d = 0; d < D; ++d) {
                    const std::ptrdiff_t col = static_cast<std::ptrdiff_t>(p) * D + d;
                    ws.J.col(col) = ws.S1[l].col(p).cwiseProduct(K.col(col));
                }
        }
    }

    // ---- ψ ------------------------------------------------------------------------------------------
    if (req.value) {
        const Eigen::Map<const Vec<T>> cv(c, layers[L - 1].W);
        for (int p = 0; p < P; ++p) out.value[n0 + p] = cv.dot(ws.Z[L - 1].col(p)) + s / T(2) * X.row(p).squaredNorm();
    }
    if (!req.grad && !req.hess) return;

    // ---- reverse: G_l = σ'(U_l) ⊙ Δ_l, Δ_{l−1} = C_lᵀ G_l ------------------------------------------
    {
        const int WL = layers[L - 1].W;
        ws.Delta.resize(WL, P);
        for (int p = 0; p < P; ++p)
            for (int j = 0; j < WL; ++j) ws.Delta(j, p) = c[j];
    }
    for (int l = L - 1; l >= 0; --l) {
        ws.G[l] = ws.S1[l].cwiseProduct(ws.Delta);  // σ' = 1 on layer 0
        if (l > 0) {
            ws.S2[l] = ws.S2[l].cwiseProduct(ws.Delta);  // reuse S2 as e_l = δ_l ⊙ σ''(u_l)
            ws.Delta.noalias() = CMapR<T>(layers[l].C, layers[l].W, layers[l].Wprev).transpose() * ws.G[l];
        }
    }

    // ---- ∇ψ -----------------------------------------------------------------------------------------
    if (req.grad) {
        Eigen::Map<MatR<T>> grad(out.grad_x + n0 * D, P, D);
        if (req.hess) {  // ∇ψ = K_{L−1}ᵀ g_{L−1} + s x, per point
            const Mat<T>& K = ws.K[L - 1];
            const int W = layers[L - 1].W;
            for (int p = 0; p < P; ++p)
                grad.row(p).noalias() =
                    (CMap<T>(K.data() + static_cast<std::ptrdiff_t>(p) * D * W, W, D).transpose() * ws.G[L - 1].col(p))
                        .transpose();
        } else {  // ∇ψ = Σ_l [G_lᵀ B_l + 2 R_l A_lᵀ] + s x with R_l(p, tW+j) = S_l(p, tW+j) G_l(j, p)
            grad.setZero();
            for (int l = 0; l < L; ++l) {
                const LayerParams<T>& lp = layers[l];
                const int W = lp.W;
                MatR<T>& R = ws.S[l];  // S_l is not needed any more: scale it in place
                for (int p = 0; p < P; ++p)
                    for (int t = 0; t < r; ++t)
                        for (int j = 0; j < W; ++j) R(p, t * W + j) *= T(2) * ws.G[l](j, p);
                grad.noalias() += ws.G[l].transpose() * lp.Bt;
                grad.noalias() += R * CMapR<T>(lp.A, D, r * W).transpose();
            }
        }
        grad += s * X;
    }
    if (!req.hess) return;

    // ---- ∇²ψ and log det -----------------------------------------------------------------------------
    ws.HQ = layers[0].Pm * ws.G[0];
    for (int l = 1; l < L; ++l) ws.HQ.noalias() += layers[l].Pm * ws.G[l];
    ws.H.resize(D, D);
    for (int p = 0; p < P; ++p) {
        ws.H = CMap<T>(ws.HQ.data() + static_cast<std::ptrdiff_t>(p) * D * D, D, D);
        ws.H.diagonal().array() += s;
        for (int l = 1; l < L; ++l) {
            const int W = layers[l].W;
            const CMap<T> Kp(ws.K[l].data() + static_cast<std::ptrdiff_t>(p) * D * W, W, D);
            ws.M.noalias() = ws.S2[l].col(p).asDiagonal() * Kp;
            ws.H.noalias() += Kp.transpose() * ws.M;
        }
        // Symmetrise exactly (the two triangles differ by rounding in the GEMMs).
        for (int a = 0; a < D; ++a)
            for (int b = 0; b < a; ++b) {
                const T v = T(0.5) * (ws.H(a, b) + ws.H(b, a));
                ws.H(a, b) = v;
                ws.H(b, a) = v;
            }
        const std::int64_t n = n0 + p;
        if (out.hess_x) std::copy(ws.H.data(), ws.H.data() + D * D, out.hess_x + n * D * D);
        if (out.logdet) {
            const int row = cholesky_lower_inplace(ws.H.data(), D);
            out.logdet[n] = row == 0 ? cholesky_logdet(ws.H.data(), D) : std::numeric_limits<T>::quiet_NaN();
            out.status[n] = row;
        }
    }
}

/// Points per block: the Jacobian blocks K_l are W·P·D values; keep each near 2^18 entries (1–2 MB,
/// cache-sized but wide enough for efficient GEMMs), at least 4 and at most 256 points, and leave
/// at least one block per thread.
int block_points(const IcnnShape& shape, std::int64_t n, int threads, bool hess) {
    const double per_point = hess ? double(shape.max_width()) * shape.dim : double(shape.max_width());
    int P = static_cast<int>(std::clamp(double(1 << 18) / per_point, 4.0, 256.0));
    const std::int64_t per_thread = (n + threads - 1) / threads;
    if (per_thread < P) P = static_cast<int>(std::max<std::int64_t>(1, per_thread));
    return P;
}

}  // namespace

template <typename T>
void icnn_eval_host(int threads, const IcnnShape& shape, const T* params, const T* x, std::int64_t n,
                    IcnnOutputs<T> out) {
    const IcnnLayout layout(shape);
    const int D = shape.dim, r = shape.rank, L = shape.depth();
    const Request req{out.value != nullptr, out.grad_x != nullptr, out.hess_x != nullptr || out.logdet != nullptr};

    std::vector<LayerParams<T>> layers(static_cast<std::size_t>(L));
    for (int l = 0; l < L; ++l) {
        const auto& ll = layout.layers[static_cast<std::size_t>(l)];
        LayerParams<T>& lp = layers[static_cast<std::size_t>(l)];
        lp.W = ll.width;
        lp.Wprev = ll.width_prev;
        lp.A = params + ll.A;
        lp.B = params + ll.B;
        lp.b = params + ll.b;
        lp.C = l > 0 ? params + ll.C : nullptr;
        lp.Bt = CMapR<T>(lp.B, lp.W, D);
        if (req.hess) {
            lp.Pm.resize(static_cast<std::ptrdiff_t>(D) * D, lp.W);
            for (int j = 0; j < lp.W; ++j)
                for (int a = 0; a < D; ++a)
                    for (int b = 0; b < D; ++b) lp.Pm(a * D + b, j) = quad_hessian(lp.A, r, lp.W, j, a, b);
        }
    }
    const T* c = params + layout.c;

    // logdet without a status buffer: collect statuses internally, throw on the first failure.
    std::vector<std::int32_t> own_status;
    if (out.logdet && !out.status) {
        own_status.assign(static_cast<std::size_t>(n), 0);
        out.status = own_status.data();
    }

    const int P = block_points(shape, n, threads, req.hess);
    const std::int64_t blocks = (n + P - 1) / P;
#pragma omp parallel num_threads(threads)
    {
        Workspace<T> ws;
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t blk = 0; blk < blocks; ++blk) {
            const std::int64_t n0 = blk * P;
            const int np = static_cast<int>(std::min<std::int64_t>(P, n - n0));
            eval_block(shape, layers, c, req, x, n0, np, out, ws);
        }
    }

    if (!own_status.empty()) {
        for (std::int64_t i = 0; i < n; ++i)
            if (own_status[static_cast<std::size_t>(i)] != 0) {
                const int row = own_status[static_cast<std::size_t>(i)];
                throw NotPositiveDefinite(i, row, "icnn_eval: Hessian of point " + std::to_string(i) +
                                                      " is not positive definite (Cholesky failed at row " +
                                                      std::to_string(row) + "); pass a status buffer to get per-point results");
            }
    }
}

template <typename T>
std::int64_t count_nonfinite_host(const T* p, std::int64_t count) {
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < count; ++i) bad += std::isfinite(p[i]) ? 0 : 1;
    return bad;
}

template void icnn_eval_host<float>(int, const IcnnShape&, const float*, const float*, std::int64_t, IcnnOutputs<float>);
template void icnn_eval_host<double>(int, const IcnnShape&, const double*, const double*, std::int64_t,
                                     IcnnOutputs<double>);
template std::int64_t count_nonfinite_host<float>(const float*, std::int64_t);
template std::int64_t count_nonfinite_host<double>(const double*, std::int64_t);

}  // namespace detail
}  // namespace wgf

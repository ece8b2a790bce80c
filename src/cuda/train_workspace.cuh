// train_workspace.cuh (private) — the device buffers of one chunk of P points of a training loss
// (jko_loss_cuda.cu) and their layout in the scratch arena: the forward tensors the backward reads, the
// adjoints (one contiguous range, cleared by one memset per chunk), the shared temporaries. The
// backward ops (icnn_backward_ops.cuh) and the loss's chunk loop read them from here. Layouts as
// train_kernels.cuh.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda/scratch_plan.h"
#include "wgf/icnn.h"

namespace wgf {
namespace detail {

/// Device buffers of one chunk of P points. Adjoints are one contiguous range (one memset).
template <typename T>
struct TrainWorkspace {
    // forward, per layer
    std::vector<T*> S, U, Z, S1, S2, S3, G, Delta, E, DQ, K, J, Pm;
    // adjoints, per layer
    std::vector<T*> Sbar, Ubar, Gbar, Deltabar, DQbar, Kbar;
    std::vector<T*> MA;  // per layer: H̄ Gᵀ [D² × W]
    char* adjoint_begin = nullptr;
    std::size_t adjoint_bytes = 0;
    // shared temporaries
    T *BX = nullptr, *M = nullptr, *Jbar = nullptr, *Zbar = nullptr, *Y = nullptr, *Ybar = nullptr, *phi = nullptr,
      *dphi = nullptr, *H = nullptr, *F = nullptr, *logdet = nullptr, *Hbar = nullptr, *work = nullptr,
      *ones = nullptr, *Btmp = nullptr;
    // per call
    std::int32_t* status = nullptr;     // [n]
    double* sums = nullptr;             // [3] then the failure word
    unsigned long long* failure = nullptr;
};

/// Lays the workspace out from base (or only sizes it when base is null); returns the bytes.
template <typename T>
std::size_t plan_train(const IcnnShape& shape, bool hess, bool jko, std::int64_t n, std::int64_t P, char* base,
                       TrainWorkspace<T>& ws) {
    const std::int64_t D = shape.dim, r = shape.rank, Wmax = shape.max_width(), DD = D * D, PD = P * D;
    const int L = shape.depth();
    ScratchCarver carve(base);
    const auto takeT = [&](std::int64_t count) { return carve.take<T>(count); };
    // fixed part first: sums + failure word, statuses of the whole batch, Pm
    ws.sums = carve.take<double>(4);
    ws.failure = ws.sums ? reinterpret_cast<unsigned long long*>(ws.sums + 3) : nullptr;
    ws.status = hess ? carve.take<std::int32_t>(n) : nullptr;
    for (auto* v : {&ws.S, &ws.U, &ws.Z, &ws.S1, &ws.S2, &ws.S3, &ws.G, &ws.Delta, &ws.E, &ws.DQ, &ws.K, &ws.J, &ws.Pm,
                    &ws.Sbar, &ws.Ubar, &ws.Gbar, &ws.Deltabar, &ws.DQbar, &ws.Kbar, &ws.MA})
        v->assign(L, nullptr);
    if (hess)
        for (int l = 0; l < L; ++l) {
            ws.Pm[l] = takeT(DD * shape.widths[l]);
            ws.MA[l] = takeT(DD * shape.widths[l]);
        }
    for (int l = 0; l < L; ++l) {
        const std::int64_t W = shape.widths[l];
        ws.S[l] = takeT(r * W * P);
        ws.U[l] = takeT(W * P);
        ws.Z[l] = takeT(W * P);
        ws.S1[l] = takeT(W * P);
        ws.S2[l] = takeT(W * P);
        ws.G[l] = takeT(W * P);
        ws.Delta[l] = takeT(W * P);
        ws.DQ[l] = takeT(W * PD);
        if (hess) {
            ws.S3[l] = takeT(W * P);
            ws.E[l] = takeT(W * P);
            if (l >= 1) ws.K[l] = takeT(W * PD);
            if (l >= 1 && l + 1 < L) ws.J[l] = takeT(W * PD);
        }
    }
    const std::size_t adjoint_start = carve.bytes();
    ws.adjoint_begin = base ? base + adjoint_start : nullptr;
    for (int l = 0; l < L; ++l) {
        const std::int64_t W = shape.widths[l];
        ws.Sbar[l] = takeT(r * W * P);
        ws.Ubar[l] = takeT(W * P);
        ws.Gbar[l] = takeT(W * P);
        ws.Deltabar[l] = takeT(W * P);
        ws.DQbar[l] = takeT(W * PD);
        if (hess && l >= 1) ws.Kbar[l] = takeT(W * PD);
    }
    ws.adjoint_bytes = carve.bytes() - adjoint_start;
    ws.BX = takeT(Wmax * P);
    ws.Zbar = takeT(Wmax * P);
    ws.Y = takeT(PD);
    ws.Ybar = takeT(PD);
    ws.ones = takeT(P);
    ws.Btmp = takeT(Wmax * D);
    if (jko) {
        ws.phi = takeT(P);
        ws.dphi = takeT(PD);
    }
    if (hess) {
        ws.M = takeT(Wmax * PD);
        ws.Jbar = takeT(Wmax * PD);
        ws.H = takeT(DD * P);
        ws.F = takeT(DD * P);
        ws.Hbar = takeT(DD * P);
        ws.work = takeT(DD * P);
        ws.logdet = takeT(P);
    }
    return carve.bytes();
}

template <typename T>
std::int64_t train_chunk_points(const IcnnShape& shape, bool hess, bool jko, std::int64_t n, std::size_t budget) {
    TrainWorkspace<T> dummy;
    return chunk_points_fitting(shape, plan_train<T>(shape, hess, jko, n, 0, nullptr, dummy),
                                plan_train<T>(shape, hess, jko, n, 1, nullptr, dummy), budget, n);
}

}  // namespace detail
}  // namespace wgf

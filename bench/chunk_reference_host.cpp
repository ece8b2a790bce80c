// chunk_reference_host.cpp — the host reference of cuda_op_checks.h (chunk_reference_host.h).
#include "bench/chunk_reference_host.h"

#include "host/icnn_block_host.h"

namespace wgf {
namespace op_checks {

template <typename T>
ChunkReference<T> host_chunk_reference(const IcnnShape& shape, const ChunkInputs<T>& in) {
    using namespace detail;
    const int D = shape.dim, L = shape.depth(), P = static_cast<int>(in.x.size() / D);
    const HostNet<T> net(shape, in.params.data(), /*with_hessian=*/true);
    IcnnBlock<T> blk;
    blk.set_points(in.x.data(), P, D);
    ChunkReference<T> ref;
    const auto keep = [&](const char* op, const std::string& name, const T* data, std::int64_t count) {
        ref[std::string(op) + "|" + name] = std::vector<T>(data, data + count);
    };
    const auto lname = [](const char* t, int l) { return std::string(t) + "_" + std::to_string(l); };

    for (int l = 0; l < L; ++l) keep("build_pm", lname("Pm", l), net.layers[l].Pm.data(), net.layers[l].Pm.size());

    values_forward(net, blk, /*need_s3=*/true, /*need_psi=*/false);
    quad_jacobian_forward(net, blk);
    jacobian_recursion_forward(net, blk);
    for (int l = 0; l < L; ++l) {
        keep("values_forward", lname("S", l), blk.S[l].data(), blk.S[l].size());
        keep("values_forward", lname("U", l), blk.U[l].data(), blk.U[l].size());
        if (l + 1 < L) keep("values_forward", lname("Z", l), blk.Z[l].data(), blk.Z[l].size());  // no z_{L−1} without ψ
        keep("values_forward", lname("S1", l), blk.S1[l].data(), blk.S1[l].size());
        keep("values_forward", lname("S2", l), blk.S2[l].data(), blk.S2[l].size());
        if (l > 0) keep("values_forward", lname("S3", l), blk.S3[l].data(), blk.S3[l].size());
        keep("values_forward", lname("DQ", l), blk.DQ[l].data(), blk.DQ[l].size());
        if (l > 0) keep("values_forward", lname("K", l), blk.K[l].data(), blk.K[l].size());
        if (l > 0 && l + 1 < L) keep("values_forward", lname("J", l), blk.J[l].data(), blk.J[l].size());
    }

    grad_recursion_forward(net, blk);
    hessian_assembly_forward(net, blk);
    for (int l = 0; l < L; ++l) {
        keep("grad_recursion_forward", lname("G", l), blk.G[l].data(), blk.G[l].size());
        keep("grad_recursion_forward", lname("Delta", l), blk.Delta[l].data(), blk.Delta[l].size());
        if (l > 0) {
            const HMat<T> e = blk.S2[l].cwiseProduct(blk.Delta[l]);
            keep("grad_recursion_forward", lname("E", l), e.data(), e.size());
        }
    }
    keep("grad_recursion_forward", "H", blk.H.data(), blk.H.size());  // symmetrised, with s I

    grad_assembly_forward(net, blk);
    keep("grad_assembly_forward", "Y", blk.Y.data(), blk.Y.size());
    cholesky_logdet_forward(net, blk);
    keep("cholesky_logdet", "logdet", blk.logdet.data(), blk.logdet.size());

    blk.zero_adjoints(net);
    blk.Y_bar = Eigen::Map<const HMatR<T>>(in.ybar.data(), P, D);
    blk.logdet_bar.setConstant(P, in.logdet_bar);
    std::vector<T> dparams(in.params.size(), T(0));
    cholesky_logdet_backward(net, blk);
    keep("cholesky_logdet_backward", "Hbar", blk.H_bar.data(), blk.H_bar.size());

    // The host ops in their own order; kept where the device's ops (cuda_op_checks.h) have the same
    // tensor complete: Ḡ after each op that adds to it, Δ̄ after grad_recursion_backward, K̄, DQ̄, Ū and
    // S̄ once every op has run (the last to change them is values_backward), the parameter gradient at
    // the end.
    hessian_assembly_backward(net, blk, dparams.data());
    for (int l = 0; l < L; ++l)
        keep("hessian_assembly_backward", lname("Gbar", l), blk.G_bar[l].data(), blk.G_bar[l].size());
    jacobian_recursion_backward(net, blk, dparams.data());
    grad_assembly_backward(net, blk);
    for (int l = 0; l < L; ++l)
        keep("grad_assembly_backward", lname("Gbar", l), blk.G_bar[l].data(), blk.G_bar[l].size());
    quad_jacobian_backward(net, blk, dparams.data());
    grad_recursion_backward(net, blk, dparams.data());
    for (int l = 0; l < L; ++l) {
        keep("grad_recursion_backward", lname("Deltabar", l), blk.Delta_bar[l].data(), blk.Delta_bar[l].size());
        keep("grad_recursion_backward", lname("Gbar", l), blk.G_bar[l].data(), blk.G_bar[l].size());
    }
    values_backward(net, blk, dparams.data());
    for (int l = 0; l < L; ++l) {
        if (l > 0) keep("values_backward", lname("Kbar", l), blk.K_bar[l].data(), blk.K_bar[l].size());
        keep("values_backward", lname("DQbar", l), blk.DQ_bar[l].data(), blk.DQ_bar[l].size());
        keep("values_backward", lname("Ubar", l), blk.U_bar[l].data(), blk.U_bar[l].size());
        keep("values_backward", lname("Sbar", l), blk.S_bar[l].data(), blk.S_bar[l].size());
    }
    keep("quad_jacobian_backward", "dparams", dparams.data(), std::int64_t(dparams.size()));
    return ref;
}

template ChunkReference<float> host_chunk_reference<float>(const IcnnShape&, const ChunkInputs<float>&);
template ChunkReference<double> host_chunk_reference<double>(const IcnnShape&, const ChunkInputs<double>&);

}  // namespace op_checks
}  // namespace wgf

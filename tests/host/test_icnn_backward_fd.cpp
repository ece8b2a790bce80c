// test_icnn_backward_fd.cpp — every backward rule of the host ICNN ops (src/host/icnn_block_host.h)
// against central finite differences in double, for L ∈ {1,2,3}, r ∈ {1,5}.
//
// Rules are checked as growing chains: chain k runs the forward ops 1..k, takes the scalar
// f = ⟨R, outputs of op k⟩ for random weights R, and compares the directional derivative of f along a
// random direction of θ (and of x) with ⟨∂f/∂θ, v⟩ from the backward rules k..1. Chain k−1 passing
// and chain k failing points at rule k. Ops: 1 values, 2 grad_recursion, 3 quad_jacobian,
// 4 grad_assembly, 5 jacobian_recursion, 6 hessian_assembly, 7 cholesky_logdet.
// Then the whole JKO and identity losses (tape + potential + W₂ + reduction) against FD, rel. error
// below 1e-6.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "host/icnn_block_host.h"
#include "random.h"
#include "wgf/wgf.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

using namespace wgf;
using namespace wgf::detail;
using namespace wgf_test;

namespace {

const char* kOpNames[] = {"", "values", "grad_recursion", "quad_jacobian", "grad_assembly", "jacobian_recursion",
                          "hessian_assembly", "cholesky_logdet"};

/// Random weights R for the outputs of each op (fixed per test case).
struct Weights {
    HVec<double> psi, logdet;
    std::vector<HMat<double>> U, G, Delta, DQ, K;
    std::vector<HMatR<double>> S;
    HMatR<double> Y;
    HMat<double> H;
};

HMat<double> random_mat(Rng& rng, Eigen::Index r, Eigen::Index c) {
    HMat<double> m(r, c);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
    return m;
}

Weights make_weights(const IcnnShape& shape, int P, std::uint64_t seed) {
    Rng rng(seed);
    const int D = shape.dim, r = shape.rank, L = shape.depth();
    Weights w;
    w.psi = random_mat(rng, P, 1);
    w.logdet = random_mat(rng, P, 1);
    for (int l = 0; l < L; ++l) {
        const int W = shape.widths[l];
        w.U.push_back(random_mat(rng, W, P));
        w.G.push_back(random_mat(rng, W, P));
        w.Delta.push_back(random_mat(rng, W, P));
        w.DQ.push_back(random_mat(rng, W, P * D));
        w.K.push_back(random_mat(rng, W, P * D));
        w.S.push_back(random_mat(rng, P, r * W));
    }
    w.Y = random_mat(rng, P, D);
    w.H = random_mat(rng, D * D, P);
    return w;
}

/// Runs the forward ops 1..k and returns ⟨R, outputs of op k⟩.
double chain_forward(const HostNet<double>& net, IcnnBlock<double>& blk, const Weights& w, int k) {
    const int L = net.shape.depth();
    values_forward(net, blk, /*need_s3=*/true);
    double f = 0;
    if (k == 1) {
        f += w.psi.dot(blk.psi);
        for (int l = 0; l < L; ++l) f += (w.U[l].array() * blk.U[l].array()).sum() + (w.S[l].array() * blk.S[l].array()).sum();
        return f;
    }
    grad_recursion_forward(net, blk);
    if (k == 2) {
        for (int l = 0; l < L; ++l)
            f += (w.G[l].array() * blk.G[l].array()).sum() + (w.Delta[l].array() * blk.Delta[l].array()).sum();
        return f;
    }
    quad_jacobian_forward(net, blk);
    if (k == 3) {
        for (int l = 0; l < L; ++l) f += (w.DQ[l].array() * blk.DQ[l].array()).sum();
        return f;
    }
    grad_assembly_forward(net, blk);
    if (k == 4) return (w.Y.array() * blk.Y.array()).sum();
    jacobian_recursion_forward(net, blk);
    if (k == 5) {
        for (int l = 1; l < L; ++l) f += (w.K[l].array() * blk.K[l].array()).sum();
        return f;
    }
    hessian_assembly_forward(net, blk);
    if (k == 6) return (w.H.array() * blk.H.array()).sum();
    cholesky_logdet_forward(net, blk);
    for (auto s : blk.status) REQUIRE(s == 0);
    return w.logdet.dot(blk.logdet);
}

/// Seeds the adjoints of op k's outputs with R and runs the backward rules k..1.
void chain_backward(const HostNet<double>& net, IcnnBlock<double>& blk, const Weights& w, int k, double* dparams) {
    const int L = net.shape.depth();
    blk.zero_adjoints(net);
    switch (k) {
        case 1:
            blk.psi_bar = w.psi;
            for (int l = 0; l < L; ++l) {
                blk.U_bar[l] = w.U[l];
                blk.S_bar[l] = w.S[l];
            }
            break;
        case 2:
            for (int l = 0; l < L; ++l) {
                blk.G_bar[l] = w.G[l];
                blk.Delta_bar[l] = w.Delta[l];
            }
            break;
        case 3:
            for (int l = 0; l < L; ++l) blk.DQ_bar[l] = w.DQ[l];
            break;
        case 4: blk.Y_bar = w.Y; break;
        case 5:
            for (int l = 1; l < L; ++l) blk.K_bar[l] = w.K[l];
            break;
        case 6: blk.H_bar = w.H; break;
        case 7: blk.logdet_bar = w.logdet; break;
    }
    if (k >= 7) cholesky_logdet_backward(net, blk);
    if (k >= 6) hessian_assembly_backward(net, blk, dparams);
    if (k >= 5) jacobian_recursion_backward(net, blk, dparams);
    if (k >= 4) grad_assembly_backward(net, blk);
    if (k >= 3) quad_jacobian_backward(net, blk, dparams);
    if (k >= 2) grad_recursion_backward(net, blk, dparams);
    values_backward(net, blk, dparams);
}

std::vector<IcnnShape> backward_shapes() {
    std::vector<IcnnShape> out;
    for (const std::vector<int>& widths : {std::vector<int>{6}, std::vector<int>{7, 5}, std::vector<int>{6, 9, 4}})
        for (int r : {1, 5})
            for (int d : {1, 3}) {
                IcnnShape s;
                s.dim = d;
                s.widths = widths;
                s.rank = r;
                s.strong_convexity = 0.05;  // keeps the logdet chain well conditioned
                out.push_back(s);
            }
    return out;
}

/// Relative error of a directional derivative, with the FD step h·v (central difference).
double rel_err(double fd, double an) { return std::fabs(fd - an) / std::max({std::fabs(fd), std::fabs(an), 1e-300}); }

}  // namespace

TEST_CASE("host backward rules: op chains against central finite differences (double)") {
    std::uint64_t seed = 9000;
    for (const IcnnShape& shape : backward_shapes())
        for (int k = 1; k <= 7; ++k) {
            ++seed;
            const int P = 3, D = shape.dim;
            const std::string name = std::string("rule ") + kOpNames[k] + " icnn " + shape.describe();
            INFO(name << " seed " << seed);
            const auto net0 = random_icnn<double>(shape, seed);
            auto x = random_points<double>(P, D, seed + 1);
            const Weights w = make_weights(shape, P, seed + 2);

            IcnnBlock<double> blk;
            blk.P = P;
            blk.x = x.data();
            const HostNet<double> net(shape, net0.data(), true);
            chain_forward(net, blk, w, k);
            std::vector<double> dparams(net0.size(), 0.0);
            chain_backward(net, blk, w, k, dparams.data());
            const HMatR<double> xbar = blk.x_bar;

            // Direction in θ: random, but C, c perturbed only where they stay ≥ 0 (the clamp is not
            // part of the op). Step h = 1e-5: truncation h²|f'''| ~ 1e-10, rounding ε|f|/h ~ 1e-11.
            Rng rng(seed + 3);
            std::vector<double> v(net0.size());
            for (auto& e : v) e = rng.normal();
            const double h = 1e-5;
            const auto f_at = [&](const std::vector<double>& params, const std::vector<double>& xx) {
                IcnnBlock<double> b2;
                b2.P = P;
                b2.x = xx.data();
                const HostNet<double> n2(shape, params.data(), true);
                return chain_forward(n2, b2, w, k);
            };
            std::vector<double> tp = net0.params(), tm = net0.params();
            for (std::size_t i = 0; i < v.size(); ++i) {
                tp[i] += h * v[i];
                tm[i] -= h * v[i];
            }
            const double fd_theta = (f_at(tp, x) - f_at(tm, x)) / (2 * h);
            double an_theta = 0;
            for (std::size_t i = 0; i < v.size(); ++i) an_theta += dparams[i] * v[i];
            CHECK_MESSAGE(rel_err(fd_theta, an_theta) < 1e-6,
                          name << ": d/dθ FD " << fd_theta << " vs backward " << an_theta);
            // The check must not pass on a vanishing derivative (chain 5 has no output when L = 1).
            if (!(k == 5 && shape.depth() == 1)) CHECK(std::fabs(an_theta) > 1e-8);

            std::vector<double> vx(x.size()), xp = x, xm = x;
            for (auto& e : vx) e = rng.normal();
            for (std::size_t i = 0; i < x.size(); ++i) {
                xp[i] += h * vx[i];
                xm[i] -= h * vx[i];
            }
            const double fd_x = (f_at(net0.params(), xp) - f_at(net0.params(), xm)) / (2 * h);
            double an_x = 0;
            for (std::size_t i = 0; i < x.size(); ++i) an_x += xbar.data()[i] * vx[i];
            CHECK_MESSAGE(rel_err(fd_x, an_x) < 1e-6, name << ": d/dx FD " << fd_x << " vs backward " << an_x);
        }
}

TEST_CASE("host JKO loss and identity loss gradients against finite differences (double)") {
    Context ctx(Backend::Host, 2);
    std::uint64_t seed = 9500;
    for (const IcnnShape& base : backward_shapes()) {
        ++seed;
        IcnnShape shape = base;
        shape.strong_convexity = 1e-6;  // the reference's value: loss well defined because C, c ≥ 0
        const int D = shape.dim, n = 37;
        INFO("loss icnn " << shape.describe() << " seed " << seed);
        const auto net = random_icnn<double>(shape, seed);
        const auto x = random_points<double>(n, D, seed + 1);
        std::vector<double> A(D * D, 0.0), m(D);
        Rng rng(seed + 2);
        for (int i = 0; i < D; ++i) {
            A[i * D + i] = 1.0 + rng.uniform();
            m[i] = rng.normal();
        }
        const QuadraticPotential<double> quad(A, m);
        std::vector<double> wts = {0.3, 0.7}, mus(2 * D), covs(2 * D * D, 0.0);
        for (auto& e : mus) e = 2 * rng.normal();
        for (int k = 0; k < 2; ++k)
            for (int i = 0; i < D; ++i) covs[k * D * D + i * D + i] = 0.5 + rng.uniform();
        const GaussianMixturePotential<double> mix(wts, mus, covs, D, 2.0);
        const JkoLossOptions opt{0.1, 2.0};

        std::vector<double> v(net.size());
        for (auto& e : v) e = rng.normal();
        // Perturb C and c only where they are > 0 would be ideal; a random direction is fine
        // because θ ± hv keeps the Hessians SPD for h = 1e-6 (s = 1e-6 ≪ the curvature here).
        const double h = 1e-6;
        std::vector<double> tp = net.params(), tm = net.params();
        for (std::size_t i = 0; i < v.size(); ++i) {
            tp[i] += h * v[i];
            tm[i] -= h * v[i];
        }
        for (const Potential<double>* pot : {static_cast<const Potential<double>*>(&quad),
                                            static_cast<const Potential<double>*>(&mix)}) {
            INFO(pot->describe());
            std::vector<double> g(net.size());
            const JkoLossValue L0 = jko_loss(ctx, shape, net.data(), x.data(), n, *pot, opt, g.data());
            CHECK(std::isfinite(L0.total));
            const double fd = (jko_loss<double>(ctx, shape, tp.data(), x.data(), n, *pot, opt, nullptr).total -
                               jko_loss<double>(ctx, shape, tm.data(), x.data(), n, *pot, opt, nullptr).total) /
                              (2 * h);
            double an = 0;
            for (std::size_t i = 0; i < v.size(); ++i) an += g[i] * v[i];
            CHECK_MESSAGE(rel_err(fd, an) < 1e-6, "jko loss: FD " << fd << " vs backward " << an);
            CHECK(std::fabs(an) > 1e-8);
            // Per-coordinate spot checks on the first entries of each block (A, B, b, C, c).
            for (const auto& lay : net.layout().layers)
                for (std::size_t idx : {lay.A, lay.B, lay.b, lay.C}) {
                    if (idx >= net.layout().c) continue;
                    std::vector<double> p1 = net.params(), p2 = net.params();
                    const double hh = 1e-6 * std::max(1.0, std::fabs(p1[idx]));
                    p1[idx] += hh;
                    p2[idx] -= hh;
                    const double fdi = (jko_loss<double>(ctx, shape, p1.data(), x.data(), n, *pot, opt, nullptr).total -
                                        jko_loss<double>(ctx, shape, p2.data(), x.data(), n, *pot, opt, nullptr).total) /
                                       (2 * hh);
                    CHECK_MESSAGE(std::fabs(fdi - g[idx]) <= 1e-6 * std::max(1e-3, std::fabs(fdi)),
                                  "param " << idx << ": FD " << fdi << " vs " << g[idx]);
                }
        }
        std::vector<double> g(net.size());
        identity_loss(ctx, shape, net.data(), x.data(), n, g.data());
        const double fd = (identity_loss<double>(ctx, shape, tp.data(), x.data(), n, nullptr) -
                           identity_loss<double>(ctx, shape, tm.data(), x.data(), n, nullptr)) /
                          (2 * h);
        double an = 0;
        for (std::size_t i = 0; i < v.size(); ++i) an += g[i] * v[i];
        CHECK_MESSAGE(rel_err(fd, an) < 1e-6, "identity loss: FD " << fd << " vs backward " << an);
    }
}

TEST_CASE("host JKO loss: deterministic, thread-count independent up to rounding, tape records every op") {
    const IcnnShape shape = IcnnShape::uniform(4, 16, 2, 5);
    const auto net = random_icnn<double>(shape, 5);
    const auto x = random_points<double>(101, 4, 6);
    const QuadraticPotential<double> quad(std::vector<double>{2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3},
                                          std::vector<double>(4, 0.5));
    std::vector<double> g1(net.size()), g1b(net.size()), g2(net.size());
    Context c1(Backend::Host, 1), c2(Backend::Host, 2);
    const auto L1 = jko_loss(c1, shape, net.data(), x.data(), 101, quad, JkoLossOptions{}, g1.data());
    const auto L1b = jko_loss(c1, shape, net.data(), x.data(), 101, quad, JkoLossOptions{}, g1b.data());
    const auto L2 = jko_loss(c2, shape, net.data(), x.data(), 101, quad, JkoLossOptions{}, g2.data());
    CHECK(L1.total == L1b.total);
    CHECK(g1 == g1b);
    CHECK(L2.total == doctest::Approx(L1.total).epsilon(1e-12));
    for (std::size_t i = 0; i < g1.size(); ++i) CHECK(g2[i] == doctest::Approx(g1[i]).epsilon(1e-10).scale(1e-12));
}

#!/usr/bin/env python3
"""jko_loss_autograd_check — an independent PyTorch-autograd computation of the JKO loss gradient
dL/dtheta for a saved ICNN, compared with wgf's hand-written backward rules (`wgf jko-loss`).

    L(theta) = mean_x [ 1/2 |grad psi(x) - x|^2 + tau Phi(grad psi(x)) - tau/beta log det hess psi(x) ],
    Phi(y) = 1/2 (y - m)^T A (y - m)

torch computes grad psi with create_graph, the Hessian by D more autograd passes (the reference's
method), torch.logdet, then L.backward() — third-order autograd — all in float64 with a softplus that
is exact to every derivative order (tools/wgf_icnn.py).

    .venv/bin/python tools/jko_loss_autograd_check.py --wgf build/default/tools/wgf

Tolerance: both sides are float64 computations of the same sums in different orders; the gradient
entries are sums over N points of products through ~5 ops, so agreement to ~1e-13 of the largest
entry is expected; 1e-10 leaves a wide margin while any wrong backward rule gives O(1e-3..1) errors.
Exits 1 on any mismatch. Ends with an "N passed, N failed" line.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wgf_icnn  # noqa: E402


def check(wgf, dim, widths, rank, n, seed, tmp):
    import torch
    rng = np.random.default_rng(seed)
    net_path = os.path.join(tmp, f"net{seed}.wgficnn")
    subprocess.run([wgf, "icnn-init", "--dim", str(dim), "--widths", ",".join(map(str, widths)), "--rank", str(rank),
                    "--seed", str(seed), "--out", net_path], check=True, capture_output=True)
    x = rng.standard_normal((n, dim))
    x.astype("<f8").tofile(os.path.join(tmp, "x.f64"))
    Q = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    A = Q @ np.diag(1 + rng.random(dim)) @ Q.T
    A = 0.5 * (A + A.T)
    m = rng.standard_normal(dim)
    tau, beta = 0.1, 1.7
    prefix = os.path.join(tmp, "out")
    subprocess.run([wgf, "jko-loss", "--net", net_path, "--points", os.path.join(tmp, "x.f64"), "--tau", str(tau),
                    "--beta", str(beta), "--A", ",".join(repr(float(v)) for v in A.ravel()), "--m",
                    ",".join(repr(float(v)) for v in m), "--out", prefix], check=True, capture_output=True)
    loss_wgf = np.fromfile(prefix + ".loss.f64", dtype="<f8")
    grad_wgf = np.fromfile(prefix + ".dparams.f64", dtype="<f8")

    net = wgf_icnn.read_icnn(net_path)
    model = wgf_icnn.TorchIcnn.from_icnn(net, dtype=torch.float64)
    xt = torch.tensor(x, requires_grad=True)
    psi = model(xt)
    g, = torch.autograd.grad(psi.sum(), xt, create_graph=True)
    rows = [torch.autograd.grad(g[:, d].sum(), xt, create_graph=True)[0] for d in range(dim)]
    logdet = torch.logdet(torch.stack(rows, 1))
    At, mt = torch.tensor(A), torch.tensor(m)
    diff = g - mt
    phi = 0.5 * ((diff @ At) * diff).sum(1)
    w2 = 0.5 * ((g - xt) ** 2).sum(1)
    L = (w2 + tau * phi - tau / beta * logdet).mean()
    L.backward()
    parts = []
    for l in range(net.shape.depth):
        parts += [model.A[l], model.B[l], model.b[l]] + ([model.C[l - 1]] if l > 0 else [])
    parts.append(model.c)
    # A block the loss does not depend on (b_1: it drops out of grad psi) has no .grad: zero.
    grad_torch = np.concatenate([(p.grad if p.grad is not None else torch.zeros_like(p)).detach().numpy().ravel()
                                 for p in parts])
    scale = np.max(np.abs(grad_torch))
    gerr = np.max(np.abs(grad_wgf - grad_torch)) / scale
    lerr = abs(loss_wgf[0] - L.item()) / max(1.0, abs(L.item()))
    ok = gerr < 1e-10 and lerr < 1e-12 and scale > 0
    print(f"D={dim} W={widths} r={rank} N={n}: loss wgf {loss_wgf[0]:.12g} torch {L.item():.12g} (rel {lerr:.1e}); "
          f"dL/dtheta max error / max|grad| = {gerr:.1e} over {grad_torch.size} parameters  {'ok' if ok else 'MISMATCH'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wgf", default="build/default/tools/wgf")
    args = ap.parse_args()
    cases = [(1, [8], 1), (2, [16, 9], 5), (3, [7, 12, 5], 2), (5, [32, 32], 5), (13, [24, 16], 5)]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (dim, widths, rank) in enumerate(cases):
            if check(args.wgf, dim, widths, rank, 50, 100 + i, tmp):
                passed += 1
            else:
                failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

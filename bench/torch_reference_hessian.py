#!/usr/bin/env python3
"""torch_reference_hessian — the reference code's Hessian log-det, timed with PyTorch on the CPU.

The reference (shared/reference/PAPER-SPEC.md §2.5) computes, for its JKO loss on a batch of N points:
psi(x) forward; grad = autograd.grad(psi.sum(), x, create_graph=True); D more autograd.grad calls, one
per coordinate of grad, stacked into the N x D x D Hessian (create_graph=True, so that the loss can be
differentiated again); torch.logdet. This script times exactly that for the DenseICNN
(L = 2, rank 5, softplus, s = 1e-6, float32, N(0,1)/sqrt(W) init with C, c clamped >= 0), batched the
way the reference batches it, and prints points/s to compare with `bench_icnn` (wgf).

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-compare.txt
    .venv/bin/python bench/torch_reference_hessian.py [--shapes 8x64,13x512] [--n 1024] [--threads 2]

Measured on the 2-core CI machine (2026-11-29, torch 2.9.1, 2 threads): 14.3k points/s at D=8, W=64
and 0.90k at D=13, W=512 (the reference's own figures on these machines: 14.8k and 1.07k).
"""
import argparse
import json
import os
import time

import torch


def make_icnn(dim, width, rank=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape: torch.randn(*shape, generator=g) / width**0.5
    p = dict(A1=rnd(dim, rank, width), B1=rnd(width, dim), b1=rnd(width),
             A2=rnd(dim, rank, width), B2=rnd(width, dim), b2=rnd(width),
             C=rnd(width, width).clamp(min=0), c=rnd(width).clamp(min=0))
    for v in p.values():
        v.requires_grad_(True)
    return p


def psi(p, x, s=1e-6):
    def quad(A, B, b):  # q_j(x) = sum_t (a_tj . x)^2 + (B x)_j + b_j
        d, r, w = A.shape
        return ((x @ A.reshape(d, r * w)).reshape(-1, r, w) ** 2).sum(1) + x @ B.T + b
    z1 = quad(p["A1"], p["B1"], p["b1"])  # no activation on layer 1, as the reference
    z2 = torch.nn.functional.softplus(z1 @ p["C"].T + quad(p["A2"], p["B2"], p["b2"]))
    return z2 @ p["c"] + 0.5 * s * (x * x).sum(1)


def reference_logdet(p, x):
    grad, = torch.autograd.grad(psi(p, x).sum(), x, create_graph=True)
    rows = [torch.autograd.grad(grad[:, d].sum(), x, create_graph=True)[0] for d in range(x.shape[1])]
    return torch.logdet(torch.stack(rows, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default="2x256,8x64,12x64,13x512,12x1024", help="DxW list")
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for item in args.shapes.split(","):
        dim, width = (int(v) for v in item.split("x"))
        p = make_icnn(dim, width)
        x = torch.randn(args.n, dim, requires_grad=True)
        reference_logdet(p, x)  # warm-up
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            reference_logdet(p, x)
        rate = args.n * args.repeats / (time.perf_counter() - t0)
        results.append(dict(dim=dim, width=width, n=args.n, points_per_s=rate, threads=args.threads))
        print(f"D={dim:3d} W={width:5d} N={args.n}: {rate:10.0f} points/s  (torch {torch.__version__}, {args.threads} threads)",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""torch_hessian_logdet — throughput of the reference's PyTorch-autograd Hessian log-det, for comparison with wgf.

The reference code (shared/reference/PAPER-SPEC.md §2.5) gets log det ∇²ψ for its JKO loss like
this, on a batch of N points: ψ(x) forward; ∇ψ = autograd.grad(ψ.sum(), x, create_graph=True);
D more autograd.grad calls, one per coordinate of ∇ψ (grad_outputs = ones), stacked into the
N×D×D Hessian, with create_graph=True so that the loss can be differentiated again; torch.logdet.
This script times exactly that on a random float32 DenseICNN-equivalent network
(wgf_icnn.TorchIcnn with torch's softplus, as the reference) and reports points per second.

Variants (--variants):
  create_graph      the Hessian rows keep their graph, as in the reference's training loss (default)
  no_create_graph   the Hessian rows are plain values (what an evaluation-only caller would do)
  train             create_graph plus logdet.mean().backward() to the parameters (opt-in; the
                    part of a training step that log det costs)

Usage (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-compare.txt
    .venv/bin/python bench/torch_hessian_logdet.py [--quick] [--json out/torch_hessian_logdet.json]
    .venv/bin/python bench/torch_hessian_logdet.py --shapes 8x64,13x512 --n 1024 --repeats 5

Timing: torch.set_num_threads(--threads, default os.cpu_count()); per measurement one warm-up call,
then --repeats timed calls; best and median reported. Large shapes are subsampled so that one call
takes about --budget seconds: probe calls on 64, 128, ... points estimate the cost, and if N
points would take longer, fewer points (a multiple of 64) are timed and points/s is reported from
those. Autograd cost is linear in the batch size once the batch fills the BLAS kernels, so the
rate carries over to N; the table marks such rows. Measurements already made for the same number
of timed points are reused rather than repeated. "nominal GFLOP/s" is points/s times wgf's flop
model for one full evaluation (DESIGN.md §5: 2 Σ W_l W_{l-1} D + 2(1+r) Σ W_l D² + D³/3), so it
compares directly with wgf's benchmark; autograd itself does several times more work.

Run it on an otherwise idle machine: with every core in use by torch, any other busy process makes
its OpenMP threads wait for each other at every op (measured: D=8, W=64 fell from ~12k to 45
points/s while a 2-thread job ran beside it). The script warns when the load average is high and
records it in the JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import wgf_icnn  # noqa: E402

DEFAULT_SHAPES = [(2, 256), (8, 64), (12, 64), (13, 512), (12, 1024), (32, 1024), (64, 1024)]
QUICK_SHAPES = [(2, 256), (8, 64), (13, 512)]
DEFAULT_NS = [512, 1024]
VARIANTS = ("create_graph", "no_create_graph", "train")

# The reference's own measurements on these machines (create_graph, as in its training loop).
REFERENCE_POINTS_PER_S = {(8, 64, 1024): 14.8e3, (13, 512, 1024): 1.07e3}

PROBE_POINTS = 64


def nominal_flops_per_point(shape: wgf_icnn.IcnnShape) -> float:
    """wgf's flop model for ψ, ∇ψ, ∇²ψ and log det at one point (DESIGN.md §5)."""
    d, r = shape.dim, shape.rank
    flops, prev = 0.0, 0
    for w in shape.widths:
        flops += 2.0 * w * prev * d + 2.0 * (1 + r) * w * d * d
        prev = w
    return flops + d**3 / 3.0


def make_call(torch, model, variant: str):
    """One evaluation of the reference method on x, returning once every result is computed."""
    create_graph = variant != "no_create_graph"

    def call(x):
        _, _, _, logdet = wgf_icnn.reference_hessian_logdet(model, x, create_graph=create_graph)
        if variant == "train":
            model.zero_grad(set_to_none=True)
            logdet.mean().backward()
        if x.is_cuda:
            torch.cuda.synchronize()
        return float(logdet.detach().sum())  # touch the result (a sync point everywhere)

    return call


def time_call(call, x, repeats: int) -> List[float]:
    """One warm-up call, then ``repeats`` timed calls (seconds each)."""
    call(x)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call(x)
        out.append(time.perf_counter() - t0)
    return out


def points_to_time(call, x_full, n: int, budget: float) -> int:
    """How many of the first n points to time so that one call takes about ``budget`` seconds.

    Probes with 64, 128, ... points until a call takes a quarter of the budget, then extrapolates
    linearly. Fixed per-call overheads make the extrapolation overestimate, so it errs towards
    fewer points."""
    m = min(n, PROBE_POINTS)
    call(x_full[:m])  # warm-up
    while True:
        t0 = time.perf_counter()
        call(x_full[:m])
        t = time.perf_counter() - t0
        if m == n or t * n / m <= budget:
            return n
        if t >= budget / 4:
            return max(PROBE_POINTS, int(budget / t * m) // PROBE_POINTS * PROBE_POINTS)
        m = min(n, 2 * m)


def load_average() -> Optional[float]:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def parse_shapes(text: str) -> List[Tuple[int, int]]:
    shapes = []
    for item in text.split(","):
        try:
            d, w = item.lower().split("x")
            shapes.append((int(d), int(w)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad shape {item!r}: expected DxW, e.g. 13x512") from None
    return shapes


def parse_ints(text: str) -> List[int]:
    return [int(v) for v in text.split(",")]


def fmt_rate(v: Optional[float]) -> str:
    if v is None:
        return "—"
    return f"{v / 1e3:.2f}k" if v >= 1e3 else f"{v:.0f}"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", type=parse_shapes, help="comma-separated DxW (default: the 7 reference shapes)")
    p.add_argument("--n", type=parse_ints, help="comma-separated batch sizes N (default 512,1024)")
    p.add_argument("--quick", action="store_true", help=f"shapes {QUICK_SHAPES}, N = 1024, 2 repeats")
    p.add_argument("--depth", type=int, default=2, help="L (default 2, as the reference)")
    p.add_argument("--rank", type=int, default=5, help="r (default 5, as the reference)")
    p.add_argument("--variants", default="create_graph,no_create_graph",
                   help=f"comma-separated, from {', '.join(VARIANTS)} (default create_graph,no_create_graph)")
    p.add_argument("--repeats", type=int, help="timed calls per measurement (default 3; 2 with --quick)")
    p.add_argument("--budget", type=float, default=2.0, help="target seconds per call; larger N are subsampled (default 2)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)

    import torch

    shapes = args.shapes or (QUICK_SHAPES if args.quick else DEFAULT_SHAPES)
    ns = args.n or ([1024] if args.quick else DEFAULT_NS)
    repeats = args.repeats or (2 if args.quick else 3)
    variants = args.variants.split(",")
    for v in variants:
        if v not in VARIANTS:
            p.error(f"unknown variant {v!r} (choose from {', '.join(VARIANTS)})")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    meta = {
        "script": "bench/torch_hessian_logdet.py",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "device": args.device if device.type != "cuda" else torch.cuda.get_device_name(device),
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "dtype": "float32",
        "depth": args.depth,
        "rank": args.rank,
        "strong_convexity": 1e-6,
        "activation": "torch.nn.functional.softplus",
        "repeats": repeats,
        "budget_s": args.budget,
        "method": "reference: psi; grad = autograd.grad(psi.sum(), x, create_graph=True); "
                  "D x autograd.grad(grad[:, d], x, ones); torch.logdet",
    }
    load = load_average()
    meta["load_average_1min_at_start"] = load
    if load is not None and load > 0.5:
        print(f"warning: the 1-minute load average is {load:.2f}: other work is running. torch's OpenMP threads "
              "spin-wait on each other, so with busy cores small ops can slow down a hundredfold; wait for an idle "
              "machine, or use --threads 1 (or OMP_WAIT_POLICY=PASSIVE) and say so")
    print(f"torch {torch.__version__} on {meta['device']} ({meta['cpu']}), {meta['threads']} threads, float32, "
          f"L={args.depth}, r={args.rank}, repeats={repeats}, budget {args.budget:g} s/call")

    results = []
    t_start = time.perf_counter()
    for d, w in shapes:
        shape = wgf_icnn.IcnnShape.uniform(d, w, args.depth, args.rank)
        net = wgf_icnn.random_icnn(shape, seed=args.seed, dtype=np.float32)
        model = wgf_icnn.TorchIcnn.from_icnn(net, dtype=torch.float32, device=device, activation="torch")
        rng = np.random.default_rng(args.seed + 1)
        x_full = torch.from_numpy(rng.standard_normal((max(ns), d)).astype(np.float32)).to(device)
        flops = nominal_flops_per_point(shape)
        cache: Dict[Tuple[str, int], List[float]] = {}
        for variant in variants:
            call = make_call(torch, model, variant)
            for n in ns:
                n_timed = points_to_time(call, x_full, n, args.budget)
                key = (variant, n_timed)
                if key not in cache:
                    cache[key] = time_call(call, x_full[:n_timed], repeats)
                secs = cache[key]
                best, median = min(secs), statistics.median(secs)
                rec = {
                    "dim": d, "width": w, "depth": args.depth, "rank": args.rank, "n": n,
                    "n_timed": n_timed, "subsampled": n_timed < n, "variant": variant,
                    "seconds": secs, "seconds_best": best, "seconds_median": median,
                    "points_per_s_best": n_timed / best, "points_per_s_median": n_timed / median,
                    "nominal_flops_per_point": flops,
                    "nominal_gflop_per_s_best": n_timed / best * flops / 1e9,
                    "reference_points_per_s": REFERENCE_POINTS_PER_S.get((d, w, n)) if variant == "create_graph" else None,
                }
                results.append(rec)
                print(f"  D={d:3d} W={w:5d} N={n:5d} {variant:16s} timed {n_timed:5d} pts: "
                      f"{fmt_rate(rec['points_per_s_best'])} pts/s best, {fmt_rate(rec['points_per_s_median'])} median",
                      flush=True)
        del model, x_full
    elapsed = time.perf_counter() - t_start
    meta["load_average_1min_at_end"] = load_average()

    print_table(results, variants, ns, shapes)
    notes = [
        "points/s = timed points / seconds per call; rows marked * timed fewer points than N "
        f"(a call on N would exceed the {args.budget:g} s budget) and report that rate.",
        "nominal GFLOP/s uses wgf's flop model (DESIGN.md §5), not the work autograd does.",
        "reference = the reference code's own measurement (create_graph, as in its training loop).",
    ]
    for note in notes:
        print("note: " + note)
    print(f"total {elapsed:.0f} s")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "notes": notes, "elapsed_s": elapsed}, f, indent=1)
        print(f"wrote {args.json}")
    return 0


def print_table(results: List[dict], variants: List[str], ns: List[int], shapes: List[Tuple[int, int]]) -> None:
    """One row per (D, W, N): best points/s of each variant, nominal GFLOP/s, the reference's figure."""
    by_key = {(r["dim"], r["width"], r["n"], r["variant"]): r for r in results}
    head = f"{'D':>4} {'W':>5} {'N':>5} {'timed':>6}"
    for v in variants:
        head += f" | {v + ' pts/s':>21}"
    head += f" | {'nominal GFLOP/s':>15} | {'reference pts/s':>15}"
    print()
    print("best points/s (median in parentheses)")
    print(head)
    print("-" * len(head))
    for d, w in shapes:
        for n in ns:
            rows = [by_key[(d, w, n, v)] for v in variants]
            timed = rows[0]["n_timed"]
            line = f"{d:4d} {w:5d} {n:5d} {timed:5d}{'*' if timed < n else ' '}"
            for r in rows:
                cell = f"{fmt_rate(r['points_per_s_best'])} ({fmt_rate(r['points_per_s_median'])})"
                line += f" | {cell:>21}"
            first = rows[0]
            ref = REFERENCE_POINTS_PER_S.get((d, w, n))
            line += f" | {first['nominal_gflop_per_s_best']:15.2f} | {fmt_rate(ref):>15}"
            print(line)
    print(f"(nominal GFLOP/s and 'timed' are for the first variant, {variants[0]})")


if __name__ == "__main__":
    sys.exit(main())

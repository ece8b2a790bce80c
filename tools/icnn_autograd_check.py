#!/usr/bin/env python3
"""icnn_autograd_check — checks wgf's ICNN value, gradient, Hessian and log det against PyTorch autograd.

An independent check: wgf evaluates psi, grad psi, Hessian and log det with hand-written closed-form
code (DESIGN.md §2); here the same network, read back from the file wgf wrote, is differentiated by
torch autograd in float64 the way the reference code does it (reference_hessian_logdet: one
autograd.grad for the gradient, D more for the Hessian rows, torch.logdet).

Usage (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-compare.txt
    .venv/bin/python tools/icnn_autograd_check.py --wgf build/host/tools/wgf
    .venv/bin/python tools/icnn_autograd_check.py --wgf build/host/tools/wgf --dim 5 --width 32 --depth 3 --rank 5 --n 64 --seed 1
    .venv/bin/python tools/icnn_autograd_check.py --standin      # no wgf binary: see below

For each shape it runs

    wgf icnn-init --dim D --widths W1,... --rank r --strong-convexity s --seed S --out DIR/net.wgficnn
    wgf icnn-eval --net DIR/net.wgficnn (--random N --seed S | --points DIR/points.f64) --out DIR/eval

reads DIR/eval.{x,value,grad,hess,logdet}.f64 and eval.status.i32, recomputes every output with
autograd and prints, per output, the max absolute error and the max error relative to the largest
magnitude of that output. It exits 1 if any relative error exceeds --tol (1e-10), if a status is
non-zero, or if the file or outputs are malformed; 0 otherwise.

With no shape option it loops over L in {1, 2, 3}, r in {1, 5}, D in {1, 2, 13}; layer widths are
then deliberately unequal (W_l = 32, 20, 27 for l = 1, 2, 3) so that a transposed C_l [W_l][W_{l-1}]
cannot go unnoticed, and half of the shapes are evaluated on points this script writes (the
--points path of icnn-eval), the other half on wgf's own --random points.

--standin replaces the wgf binary by a Python stand-in that writes the same files: the network
from wgf_icnn.random_icnn and the outputs from wgf_icnn.closed_form_eval (numpy, the closed form
of DESIGN.md §2). That checks this script, the file reader and the closed form itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wgf_icnn  # noqa: E402

# Tolerance. Both sides work in float64 (unit roundoff u = 1.1e-16) and differ only in the order
# and grouping of the same sums: wgf sums the closed-form terms (W-long dot products, r- and
# D-long sums, Cholesky), autograd sums the chain-rule products of its graph. A sum of m terms
# carries a rounding error of at most ~m·u times the sum of the terms' magnitudes; with W up to
# ~1000 and terms not much larger than the result (every Hessian piece is PSD, so there is
# little cancellation), that is ≲ 1e-13 relative to the largest entry. log det adds the
# conditioning: δ log det = tr(H⁻¹ δH) ≤ D·κ(H)·‖δH‖/‖H‖, and κ reaches ~1e6 when the network's
# PSD terms have rank < D and only s = 1e-6 props up the rest (then |log det| ~ 100, which the
# relative-to-max scale divides by). Measured on the host backend: value/grad/Hessian 1e-16 to
# 4e-15 (up to W = 1024), log det ≤ 1e-13 on the default shapes and ≤ 2e-12 on near-singular
# ones (D = 13, W ≤ 8, r = 1, κ ≈ 3e6). 1e-10 leaves two orders of magnitude above the worst of these, yet every real
# bug — a wrong index, a missing or doubled term, a float32 intermediate (u = 6e-8), a thresholded
# softplus (2e-9 above u = 20), a mangled parameter — shows up as 1e-8 or far more.
DEFAULT_TOL = 1e-10

OUTPUTS = ("value", "grad", "hess", "logdet")


@dataclass
class Case:
    dim: int
    widths: List[int]
    rank: int
    strong_convexity: float
    n: int
    seed: int
    python_points: bool  # evaluate on points written by this script (--points) instead of --random

    def describe(self) -> str:
        src = "points file" if self.python_points else "wgf --random"
        return f"D={self.dim} W={self.widths} r={self.rank} s={self.strong_convexity:g} N={self.n} seed={self.seed} ({src})"


# --------------------------------------------------------------------------------------------
# The two producers: the wgf command-line tool, or a Python stand-in writing the same files
# --------------------------------------------------------------------------------------------


class WgfCli:
    """Runs `wgf icnn-init` and `wgf icnn-eval` as documented in the module docstring."""

    def __init__(self, binary: str):
        self.binary = binary

    def _run(self, args: Sequence[str]) -> None:
        cmd = [self.binary, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(
                f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}".rstrip()
            )

    def init(self, case: Case, path: str) -> None:
        self._run(
            [
                "icnn-init",
                "--dim", str(case.dim),
                "--widths", ",".join(map(str, case.widths)),
                "--rank", str(case.rank),
                "--strong-convexity", repr(case.strong_convexity),
                "--seed", str(case.seed),
                "--out", path,
            ]
        )

    def eval(self, net_path: str, points: Optional[str], case: Case, prefix: str) -> None:
        source = ["--points", points] if points else ["--random", str(case.n), "--seed", str(case.seed)]
        self._run(["icnn-eval", "--net", net_path, *source, "--out", prefix])


class PythonStandIn:
    """Writes what the wgf CLI would, from wgf_icnn's random init and numpy closed form."""

    def init(self, case: Case, path: str) -> None:
        shape = wgf_icnn.IcnnShape(case.dim, case.widths, case.rank, case.strong_convexity)
        wgf_icnn.write_icnn(path, wgf_icnn.random_icnn(shape, case.seed))

    def eval(self, net_path: str, points: Optional[str], case: Case, prefix: str) -> None:
        net = wgf_icnn.read_icnn(net_path)
        if points:
            x = wgf_icnn.read_raw(points, np.float64, (net.shape.dim,))
        else:
            x = np.random.default_rng(case.seed).standard_normal((case.n, net.shape.dim))
        out = wgf_icnn.closed_form_eval(net, x)
        wgf_icnn.write_raw(prefix + ".x.f64", x, np.float64)
        for name in OUTPUTS:
            wgf_icnn.write_raw(f"{prefix}.{name}.f64", out[name], np.float64)
        wgf_icnn.write_raw(prefix + ".status.i32", out["status"], np.int32)


# --------------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------------


def read_outputs(prefix: str, dim: int) -> Dict[str, np.ndarray]:
    """The raw files of one icnn-eval run, shapes checked against each other."""
    got = {
        "x": wgf_icnn.read_raw(prefix + ".x.f64", np.float64, (dim,)),
        "value": wgf_icnn.read_raw(prefix + ".value.f64", np.float64),
        "grad": wgf_icnn.read_raw(prefix + ".grad.f64", np.float64, (dim,)),
        "hess": wgf_icnn.read_raw(prefix + ".hess.f64", np.float64, (dim, dim)),
        "logdet": wgf_icnn.read_raw(prefix + ".logdet.f64", np.float64),
        "status": wgf_icnn.read_raw(prefix + ".status.i32", np.int32),
    }
    got["value"] = got["value"].reshape(-1)
    got["logdet"] = got["logdet"].reshape(-1)
    got["status"] = got["status"].reshape(-1)
    n = got["x"].shape[0]
    for name, arr in got.items():
        if arr.shape[0] != n:
            raise ValueError(f"{prefix}.{name}: {arr.shape[0]} points, but {prefix}.x.f64 has {n}")
    return got


def autograd_outputs(net: wgf_icnn.Icnn, x: np.ndarray) -> Dict[str, np.ndarray]:
    """value, grad, hess, logdet by torch autograd in float64 (the reference's method)."""
    import torch

    model = wgf_icnn.TorchIcnn.from_icnn(net, dtype=torch.float64)
    value, grad, hess, logdet = wgf_icnn.reference_hessian_logdet(model, torch.from_numpy(x), create_graph=False)
    return {k: t.detach().numpy() for k, t in zip(OUTPUTS, (value, grad, hess, logdet))}


def run_case(producer, case: Case, workdir: str, tol: float) -> bool:
    print(f"== {case.describe()}")
    net_path = os.path.join(workdir, "net.wgficnn")
    prefix = os.path.join(workdir, "eval")
    producer.init(case, net_path)
    net = wgf_icnn.read_icnn(net_path)

    ok = True
    expect = wgf_icnn.IcnnShape(case.dim, case.widths, case.rank, case.strong_convexity)
    if net.shape != expect:
        print(f"   FAIL: the file holds {net.shape.describe()}, asked for {expect.describe()}")
        return False
    if net.params.dtype != np.float64:
        print(f"   FAIL: the file stores {net.params.dtype}, expected float64")
        ok = False
    if not net.is_convex():
        print("   FAIL: the file has negative C_l or c entries (icnn-init should project them)")
        ok = False

    points = None
    if case.python_points:
        points = os.path.join(workdir, "points.f64")
        rng = np.random.default_rng(case.seed + 1000)
        wgf_icnn.write_raw(points, rng.standard_normal((case.n, case.dim)), np.float64)
    producer.eval(net_path, points, case, prefix)
    got = read_outputs(prefix, case.dim)
    if got["x"].shape[0] != case.n:
        print(f"   FAIL: {got['x'].shape[0]} points evaluated, asked for {case.n}")
        ok = False
    if points is not None and not np.array_equal(got["x"], wgf_icnn.read_raw(points, np.float64, (case.dim,))):
        print("   FAIL: eval.x.f64 differs from the points file given with --points")
        ok = False
    bad = np.flatnonzero(got["status"] != 0)
    if bad.size:
        print(f"   FAIL: {bad.size} points have a non-zero status (first: point {bad[0]}, status {got['status'][bad[0]]})")
        ok = False

    ref = autograd_outputs(net, got["x"])
    for name in OUTPUTS:
        a, b = got[name], ref[name]
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            print(f"   {name:7s} FAIL: non-finite values (wgf {int((~np.isfinite(a)).sum())}, "
                  f"autograd {int((~np.isfinite(b)).sum())})")
            ok = False
            continue
        abs_err = float(np.abs(a - b).max())
        scale = float(np.abs(b).max())
        rel_err = abs_err / scale if scale > 0 else abs_err
        verdict = "ok" if rel_err <= tol else "FAIL"
        ok &= rel_err <= tol
        print(f"   {name:7s} max|abs err| {abs_err:9.2e}   max|rel err| {rel_err:9.2e}   (max|value| {scale:9.3e})  {verdict}")
    cond = np.linalg.cond(ref["hess"])
    print(f"   Hessian condition number: median {np.median(cond):.2e}, max {cond.max():.2e}")
    return ok


def default_cases(args) -> List[Case]:
    """L in {1, 2, 3} x r in {1, 5} x D in {1, 2, 13}, unequal widths, alternating point sources."""
    widths = [32, 20, 27]
    cases = []
    for depth in (1, 2, 3):
        for rank in (1, 5):
            for dim in (1, 2, 13):
                cases.append(
                    Case(dim, widths[:depth], rank, args.strong_convexity, args.n,
                         args.seed + len(cases), python_points=len(cases) % 2 == 1)
                )
    return cases


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--wgf", help="path of the wgf command-line tool (e.g. build/host/tools/wgf)")
    src.add_argument("--standin", action="store_true", help="use the Python stand-in instead of wgf (see above)")
    p.add_argument("--dim", type=int, help="D (default: loop over shapes; see above)")
    p.add_argument("--width", type=int, help="W of every layer (default 32 for a single shape)")
    p.add_argument("--widths", help="comma-separated W_1,...,W_L (instead of --width/--depth)")
    p.add_argument("--depth", type=int, help="L (default 2 for a single shape)")
    p.add_argument("--rank", type=int, help="r (default 5 for a single shape)")
    p.add_argument("--strong-convexity", type=float, default=1e-6, help="s (default 1e-6)")
    p.add_argument("--n", type=int, default=64, help="points per shape (default 64)")
    p.add_argument("--seed", type=int, default=1, help="seed of the first shape (default 1)")
    p.add_argument("--points", action="store_true", help="single shape: evaluate on a points file, not --random")
    p.add_argument("--tol", type=float, default=DEFAULT_TOL, help=f"max relative error (default {DEFAULT_TOL:g})")
    p.add_argument("--keep", metavar="DIR", help="write the files into DIR and keep them")
    args = p.parse_args(argv)

    if args.wgf and not os.access(args.wgf, os.X_OK):
        p.error(f"--wgf {args.wgf}: not an executable file")
    if args.n < 1:
        p.error("--n must be >= 1")
    single = any(v is not None for v in (args.dim, args.width, args.widths, args.depth, args.rank))
    if single:
        def given(value, default):
            return default if value is None else value

        if args.widths:
            widths = [int(w) for w in args.widths.split(",")]
        else:
            widths = [given(args.width, 32)] * given(args.depth, 2)
        cases = [Case(given(args.dim, 5), widths, given(args.rank, 5), args.strong_convexity, args.n, args.seed, args.points)]
    else:
        cases = default_cases(args)

    producer = PythonStandIn() if args.standin else WgfCli(args.wgf)
    print(f"icnn_autograd_check: {'Python stand-in' if args.standin else args.wgf} vs torch autograd (float64), "
          f"tol {args.tol:g}")
    failed = []
    for i, case in enumerate(cases):
        if args.keep:
            workdir = os.path.join(args.keep, f"case{i:02d}")
            os.makedirs(workdir, exist_ok=True)
            ok = run_case(producer, case, workdir, args.tol)
        else:
            with tempfile.TemporaryDirectory(prefix="wgf-autograd-check-") as workdir:
                ok = run_case(producer, case, workdir, args.tol)
        if not ok:
            failed.append(case.describe())
    print(f"{len(cases) - len(failed)} passed, {len(failed)} failed")
    for f in failed:
        print(f"  FAILED: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, ValueError, OSError) as e:  # wgf failed, or a file is malformed/missing
        print(f"icnn_autograd_check: error: {e}", file=sys.stderr)
        sys.exit(1)

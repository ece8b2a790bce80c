#!/usr/bin/env python3
"""Figures from wgf's outputs (optional: matplotlib + numpy; never needed to build or test wgf).

  tools/plot.py convergence STUDY_DIR --out docs/convergence.png
      SymKL(ρ^40, π) against D: wgf (each instance and the median), the Euler–Maruyama + KDE baselines,
      and the reference's medians (PAPER-SPEC §9.1). STUDY_DIR is tools/studies/convergence.sh's output.
  tools/plot.py samples RUN_DIR --out docs/samples.png [--steps 0,10,40]
      Samples of ρ^k from a `wgf run` output folder (step-KKKKK-samples.npy), coloured by their exact
      log-density; the first two coordinates, or the 2-D PCA projection (fit on the last step) when D > 2.
  tools/plot.py pca RUN_DIR [RUN_DIR ...] --out docs/pca.png [--step 40] [--n 4000]
      PAPER-SPEC §7.2's figure: n samples of the model and of the reference law at one step
      (step-KKKKK-{samples,reference-samples}.npy), projected on the first two principal axes of the
      reference samples, as density contours; one row per run, and under it the per-step
      KL(ρ^k‖π) on the fixed test batch when the run logged it ([output] step_kl_samples).
  tools/plot.py density RUN_DIR --out docs/density.png [--steps 0,5,20]
      Density snapshots of a 1-D or 2-D flow over time: exp(log ρ^k) at the run's [output] points (a
      grid written by `tools/plot.py grid`), through the inverse maps (step-KKKKK-points-logp.npy).
  tools/plot.py filter STUDY_DIR --run 12 --out docs/filtering.png
      PAPER-SPEC §7.5's figure: the filtering density p(x_5 | y_1..9) of one run of `wgf filter`
      (run-NN/{cc,jko,bbf-N}.npy): Chang–Cooper (ground truth), wgf's JKO filter and the particle filters,
      with the observations marked, and the SymKL of each method against Chang–Cooper in the legend.
  tools/plot.py grid --dim 2 --lo -6 --hi 6 --n 121 --out grid.npy
      The points of a regular grid ([n] or [n*n, 2]) for [output] points.
"""
import argparse
import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "studies"))
from convergence_table import REF_EM, REF_ICNN  # noqa: E402


def convergence(study, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wgf, em = {}, {}
    for path in glob.glob(os.path.join(study, "D*-i*", "summary.json")):
        name = os.path.basename(os.path.dirname(path))
        d = int(name[1:name.index("-")])
        wgf.setdefault(d, []).append(json.load(open(path))["outputs"][-1]["metrics"]["sym_kl"])
        em_path = os.path.join(study, name + "-em.json")
        if os.path.exists(em_path):
            for run in json.load(open(em_path))["runs"]:
                em.setdefault(run["particles"], {}).setdefault(d, []).append(run["sym_kl"])
    dims = sorted(wgf)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for d in dims:
        ax.scatter([d] * len(wgf[d]), wgf[d], color="C0", alpha=0.4, s=14)
    ax.plot(dims, [statistics.median(wgf[d]) for d in dims], "o-", color="C0", label="wgf (JKO-ICNN, host)")
    for i, (p, per_d) in enumerate(sorted(em.items())):
        ds = sorted(per_d)
        ax.plot(ds, [statistics.median(per_d[d]) for d in ds], "s--", color=f"C{i + 1}", label=f"EM + KDE, {p} particles (wgf)")
    ref_d = sorted(REF_ICNN)
    ax.plot(ref_d, [REF_ICNN[d] for d in ref_d], "x:", color="k", label="reference ICNN (median of 5)")
    ax.plot(ref_d, [REF_EM[d][1] for d in ref_d], "+:", color="gray", label="reference EM 10k")
    ax.set_yscale("log")
    ax.set_xlabel("dimension D")
    ax.set_ylabel("SymKL(ρ at t = 4, π)")
    ax.set_title("Convergence to a stationary Gaussian mixture (PAPER-SPEC §7.1)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


def samples(run, out, steps):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    summary = json.load(open(os.path.join(run, "summary.json")))
    outputs = [o for o in summary["outputs"] if "samples" in o and (not steps or o["step"] in steps)]
    if not outputs:
        sys.exit(f"{run}: no samples at the requested steps (write them with [output] samples > 0)")
    xs = [np.load(os.path.join(run, o["samples"])) for o in outputs]
    lps = [np.load(os.path.join(run, o["logp"])) for o in outputs]
    D = xs[0].shape[1]
    if D > 2:  # PCA fit on the last step
        mean = xs[-1].mean(0)
        _, _, vt = np.linalg.svd(xs[-1] - mean, full_matrices=False)
        proj = [(x - mean) @ vt[:2].T for x in xs]
        labels = ("PC 1", "PC 2")
    else:
        proj = [x if D == 2 else np.column_stack([x[:, 0], np.zeros(len(x))]) for x in xs]
        labels = ("x1", "x2")
    fig, axes = plt.subplots(1, len(outputs), figsize=(3.6 * len(outputs), 3.4), squeeze=False)
    for ax, o, p, lp in zip(axes[0], outputs, proj, lps):
        sc = ax.scatter(p[:, 0], p[:, 1], c=lp, s=3, cmap="viridis")
        ax.set_title(f"step {o['step']}, t = {o['t']:.3g}")
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        fig.colorbar(sc, ax=ax, label="log ρ (exact)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


def _kde2(p, lim, n=120):
    """A Gaussian KDE of 2-D points on an n×n grid (Scott's bandwidth, numpy only)."""
    import numpy as np

    xs = np.linspace(lim[0], lim[1], n)
    ys = np.linspace(lim[2], lim[3], n)
    gx, gy = np.meshgrid(xs, ys)
    g = np.column_stack([gx.ravel(), gy.ravel()])
    cov = np.cov(p.T) * len(p) ** (-2.0 / 6.0)
    prec = np.linalg.inv(cov)
    dens = np.zeros(len(g))
    for start in range(0, len(p), 500):
        d = g[:, None, :] - p[None, start:start + 500, :]
        dens += np.exp(-0.5 * np.einsum("gpi,ij,gpj->gp", d, prec, d)).sum(1)
    dens /= len(p) * 2 * np.pi * np.sqrt(np.linalg.det(cov))
    return gx, gy, dens.reshape(n, n)


def pca(runs, out, step, n):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(len(runs), 3, figsize=(11, 3.4 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs):
        summary = json.load(open(os.path.join(run, "summary.json")))
        outs = [o for o in summary["outputs"] if "reference_samples" in o and (step is None or o["step"] == step)]
        if not outs:
            sys.exit(f"{run}: no samples with reference samples (write them with [output] samples > 0)")
        o = outs[-1]
        x = np.load(os.path.join(run, o["samples"]))[:n]
        y = np.load(os.path.join(run, o["reference_samples"]))[:n]
        mean = y.mean(0)
        _, _, vt = np.linalg.svd(y - mean, full_matrices=False)  # PCA fit on the target, as the reference
        px, py = (x - mean) @ vt[:2].T, (y - mean) @ vt[:2].T
        both = np.vstack([px, py])
        lo, hi = both.min(0) - 1, both.max(0) + 1
        lim = (lo[0], hi[0], lo[1], hi[1])
        D = x.shape[1]
        for ax, p, title in ((row[0], py, "target π"), (row[1], px, f"wgf ρ at t = {o['t']:.3g}")):
            gx, gy, dens = _kde2(p, lim)
            ax.contourf(gx, gy, dens, levels=12, cmap="Blues")
            ax.set_title(f"D = {D}: {title}")
            ax.set_xlabel("PC 1 (of π)")
            ax.set_ylabel("PC 2 (of π)")
        per_step = summary["training"]["per_step"]
        ks = [s["step"] for s in per_step if "kl_model_target_test" in s]
        kl = [s["kl_model_target_test"] for s in per_step if "kl_model_target_test" in s]
        ax = row[2]
        if ks:
            ax.plot(ks, kl, ".-")
            ax.set_yscale("log" if min(kl) > 0 else "linear")
        ax.set_xlabel("JKO step k")
        ax.set_ylabel("KL(ρ^k‖π), fixed test batch")
        ax.set_title(f"D = {D}: per-step KL")
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def density(run, out, steps):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    summary = json.load(open(os.path.join(run, "summary.json")))
    outputs = [o for o in summary["outputs"] if "points_logp" in o and (not steps or o["step"] in steps)]
    if not outputs:
        sys.exit(f"{run}: no densities at points (give [output] points, e.g. a grid from `tools/plot.py grid`)")
    cfg_points = summary.get("points")
    if not cfg_points:
        sys.exit(f"{run}: summary.json does not name the points file")
    pts = np.load(cfg_points)
    fig, axes = plt.subplots(1, len(outputs), figsize=(3.6 * len(outputs), 3.3), squeeze=False)
    for ax, o in zip(axes[0], outputs):
        dens = np.exp(np.load(os.path.join(run, o["points_logp"])))
        if pts.ndim == 1 or pts.shape[1] == 1:
            ax.plot(pts.ravel(), dens)
            ax.set_xlabel("x")
            ax.set_ylabel("ρ(x)")
        else:
            m = int(round(np.sqrt(len(pts))))
            ax.imshow(dens.reshape(m, m), origin="lower", cmap="magma",
                      extent=(pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max()))
            ax.set_xlabel("x1")
            ax.set_ylabel("x2")
        ax.set_title(f"step {o['step']}, t = {o['t']:.3g}")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


def filtering(study, run, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    d = os.path.join(study, f"run-{run:02d}")
    summary = json.load(open(os.path.join(study, "summary.json")))
    rec = next(r for r in summary["runs"] if r["run"] == run)
    cc = np.load(os.path.join(d, "cc.npy"))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(cc[0], cc[1], color="k", lw=2.2, label="Chang–Cooper (ground truth)")
    if os.path.exists(os.path.join(d, "jko.npy")):
        jk = np.load(os.path.join(d, "jko.npy"))
        ax.plot(jk[0], jk[1], color="C0", lw=1.6, label=f"wgf JKO filter (SymKL {rec['jko']['sym_kl']:.4f})")
    for i, b in enumerate(rec.get("bbf", [])):
        pf = np.load(os.path.join(d, f"bbf-{b['particles']}.npy"))
        ax.plot(pf[0], pf[1], "--", color=f"C{i + 1}", lw=1.0, label=f"BBF {b['particles']} (SymKL {b['sym_kl']:.4f})")
    obs = rec["observations"]
    ax.plot(obs["values"], [0] * len(obs["values"]), "|", color="gray", ms=12, label="observations y_1..9")
    ax.set_xlim(-4, 4)
    ax.set_xlabel("x")
    ax.set_ylabel("p(x_5 | y_1..9)")
    ax.set_title(f"Nonlinear filtering (PAPER-SPEC §7.5), run {run}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    print(f"wrote {out}")


def grid(dim, lo, hi, n, out):
    import numpy as np

    xs = np.linspace(lo, hi, n)
    if dim == 1:
        g = xs[:, None]
    elif dim == 2:
        gx, gy = np.meshgrid(xs, xs)  # row-major: x1 varies fastest, as density() reshapes it
        g = np.column_stack([gx.ravel(), gy.ravel()])
    else:
        sys.exit("grid: --dim must be 1 or 2")
    np.save(out, g.astype(np.float64))
    print(f"wrote {out} ({g.shape[0]} points)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convergence")
    c.add_argument("study")
    c.add_argument("--out", default="convergence.png")
    s = sub.add_parser("samples")
    s.add_argument("run")
    s.add_argument("--out", default="samples.png")
    s.add_argument("--steps", default="")
    p = sub.add_parser("pca")
    p.add_argument("runs", nargs="+")
    p.add_argument("--out", default="pca.png")
    p.add_argument("--step", type=int, default=None)
    p.add_argument("--n", type=int, default=4000)
    d = sub.add_parser("density")
    d.add_argument("run")
    d.add_argument("--out", default="density.png")
    d.add_argument("--steps", default="")
    f = sub.add_parser("filter")
    f.add_argument("study")
    f.add_argument("--run", type=int, default=0)
    f.add_argument("--out", default="filtering.png")
    g = sub.add_parser("grid")
    g.add_argument("--dim", type=int, default=2)
    g.add_argument("--lo", type=float, default=-6.0)
    g.add_argument("--hi", type=float, default=6.0)
    g.add_argument("--n", type=int, default=121)
    g.add_argument("--out", default="grid.npy")
    a = ap.parse_args()
    if a.cmd == "convergence":
        convergence(a.study, a.out)
    elif a.cmd == "samples":
        samples(a.run, a.out, [int(v) for v in a.steps.split(",") if v])
    elif a.cmd == "pca":
        pca(a.runs, a.out, a.step, a.n)
    elif a.cmd == "density":
        density(a.run, a.out, [int(v) for v in a.steps.split(",") if v])
    elif a.cmd == "filter":
        filtering(a.study, a.run, a.out)
    else:
        grid(a.dim, a.lo, a.hi, a.n, a.out)


if __name__ == "__main__":
    main()

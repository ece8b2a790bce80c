#!/usr/bin/env python3
"""Figures from wgf's outputs (optional: matplotlib + numpy; never needed to build or test wgf).

  tools/plot.py convergence STUDY_DIR --out docs/convergence.png
      SymKL(ρ^40, π) against D: wgf (each instance and the median), the Euler–Maruyama + KDE baselines,
      and the reference's medians (PAPER-SPEC §9.1). STUDY_DIR is tools/studies/convergence.sh's output.
  tools/plot.py samples RUN_DIR --out docs/samples.png [--steps 0,10,40]
      Samples of ρ^k from a `wgf run` output folder (step-KKKKK-samples.npy), coloured by their exact
      log-density; the first two coordinates, or the 2-D PCA projection (fit on the last step) when D > 2.
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
    a = ap.parse_args()
    if a.cmd == "convergence":
        convergence(a.study, a.out)
    else:
        samples(a.run, a.out, [int(v) for v in a.steps.split(",") if v])


if __name__ == "__main__":
    main()

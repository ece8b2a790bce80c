#!/usr/bin/env python3
"""The posterior-sampling table of docs/VALIDATION.md from a tools/studies/posterior.sh folder (standard
library only).

  tools/studies/posterior.sh OUT                 # MALA once per dataset, JKO + SVGD at seeds 1 2 3
  tools/studies/posterior_table.py OUT           # the markdown tables
"""
import glob
import json
import os
import statistics
import sys

# PAPER-SPEC §9.3 (reference JKO-ICNN: accuracy, test log-likelihood, train seconds on its GPU) and the
# SVGD column of the seed's table (issue 9).
PUBLISHED = {
    "german": (0.6700, -0.5986, 3965, 0.65, -0.60),
    "diabetis": (0.7727, -0.4510, 7618, 0.78, -0.46),
    "twonorm": (0.9818, -0.0579, 10116, 0.98, -0.062),
    "ringnorm": (0.7399, -0.4994, 1971, 0.74, -0.50),
    "banana": (0.5613, -0.6910, 1102, 0.54, -0.69),
    "splice": (0.8347, -0.3661, 5091, 0.85, -0.355),
    "waveform": (0.7810, -0.4868, 1897, 0.765, -0.465),
    "image": (0.8182, -0.4441, 3794, 0.815, -0.44),
}
ROW_ORDER = {"diabetis": "exact", "twonorm": "exact", "ringnorm": "exact"}  # the others: unverified


def load(path):
    with open(path) as f:
        return json.load(f)["datasets"][0]


def spread(values, fmt):
    if not values:
        return "—"
    m = statistics.mean(values)
    if len(values) == 1:
        return fmt.format(m)
    return (fmt + " ({}–{})").format(m, fmt.format(min(values)), fmt.format(max(values)))


def main(out):
    datasets = [d for d in PUBLISHED if os.path.isfile(os.path.join(out, "mala-" + d, "summary.json"))]
    print("| dataset | split | MALA acc / log-lik (R̂, s) | wgf JKO acc | wgf JKO log-lik | JKO s | wgf SVGD acc | "
          "wgf SVGD log-lik | SVGD s | reference JKO (§9.3) | published SVGD | wgf JKO ≥ reference? | MALA ≥ reference? |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ed_rows = []
    for d in datasets:
        mala = load(os.path.join(out, "mala-" + d, "summary.json"))["mala"]
        runs = [load(p) for p in sorted(glob.glob(os.path.join(out, "seed*-" + d, "summary.json")))]
        jko = [r["jko"] for r in runs if "jko" in r]
        svgd = [r["svgd"] for r in runs if "svgd" in r]
        ref = PUBLISHED[d]
        ja = [r["accuracy"] for r in jko]
        jl = [r["log_lik"] for r in jko]
        def verdict(acc, ll):
            return ("acc ✓" if acc >= ref[0] - 5e-5 else "acc ✗") + ", " + ("ll ✓" if ll >= ref[1] - 5e-5 else "ll ✗")

        met = verdict(statistics.mean(ja), statistics.mean(jl)) if ja else "—"
        exact = verdict(mala["accuracy"], mala["log_lik"])
        print(f"| {d} | {ROW_ORDER.get(d, 'unverified')} | {mala['accuracy']:.4f} / {mala['log_lik']:.4f} "
              f"({mala['max_rhat']:.3f}, {mala['seconds']:.0f}) | {spread(ja, '{:.4f}')} | {spread(jl, '{:.4f}')} | "
              f"{spread([r['train_seconds'] for r in jko], '{:.0f}')} | "
              f"{spread([r['accuracy'] for r in svgd], '{:.4f}')} | {spread([r['log_lik'] for r in svgd], '{:.4f}')} | "
              f"{spread([r['seconds'] for r in svgd], '{:.0f}')} | {ref[0]:.4f} / {ref[1]:.4f} ({ref[2]} s) | "
              f"{ref[3]} / {ref[4]} | {met} | {exact} |")
        ed_rows.append((d, [r["vs_mala"] for r in jko if "vs_mala" in r], [r["vs_mala"] for r in svgd if "vs_mala" in r]))
    print()
    print("| dataset | energy distance to MALA: wgf JKO | wgf SVGD | max mean error (MALA sd): JKO | SVGD | "
          "max sd error (relative): JKO | SVGD |")
    print("|---|---|---|---|---|---|---|")
    for d, j, s in ed_rows:
        print(f"| {d} | {spread([x['energy_distance'] for x in j], '{:.4f}')} | "
              f"{spread([x['energy_distance'] for x in s], '{:.4f}')} | "
              f"{spread([x['mean_error_sd'] for x in j], '{:.2f}')} | {spread([x['mean_error_sd'] for x in s], '{:.2f}')} | "
              f"{spread([x['std_error'] for x in j], '{:.2f}')} | {spread([x['std_error'] for x in s], '{:.2f}')} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

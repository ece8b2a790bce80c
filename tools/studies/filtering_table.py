#!/usr/bin/env python3
"""The filtering table of docs/VALIDATION.md from a `wgf filter` output folder (standard library only).

  build/default/tools/wgf filter --runs 15 --out OUT        # the study (about 3 minutes per run on 2 cores)
  tools/studies/filtering_table.py OUT                      # the markdown table, wgf's and the reference's rows
  tools/studies/filtering_table.py OUT --runs               # one line per run: SymKL of every method, times, blocks
"""
import json
import math
import statistics
import sys

# PAPER-SPEC §9.4: SymKL at t = 5 against Chang–Cooper, 15 runs: mean, median, worst, train seconds.
REFERENCE = {
    "reference JKO-ICNN": (0.0579, 0.0170, 0.5675, 13627),
    "reference dual JKO": (0.0444, 0.0346, 0.0917, 6993),
    "reference BBF 100": (0.1255, 0.1212, 0.1877, 0.1),
    "reference BBF 1000": (0.0418, 0.0400, 0.0610, 0.4),
    "reference BBF 10000": (0.0136, 0.0128, 0.0316, 3.2),
    "reference BBF 50000": (0.0058, 0.0043, 0.0210, 16.0),
}


def log10_mean_ci(v):
    logs = [math.log10(x) for x in v]
    m = statistics.mean(logs)
    half = 1.96 * statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else float("nan")
    return f"{m:.2f} ± {half:.2f}"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    s = json.load(open(sys.argv[1] + "/summary.json"))
    runs = s["runs"]
    rows = []
    if all("jko" in r for r in runs):
        v = [r["jko"]["sym_kl"] for r in runs]
        t = statistics.mean(r["jko"]["train_seconds"] + r["jko"]["eval_seconds"] for r in runs)
        rows.append(("**wgf JKO filter**", v, t))
    for i, b in enumerate(runs[0].get("bbf", [])):
        v = [r["bbf"][i]["sym_kl"] for r in runs]
        t = statistics.mean(r["bbf"][i]["seconds"] for r in runs)
        rows.append((f"wgf BBF {b['particles']}", v, t))
    if "--runs" in sys.argv:
        for r in runs:
            cells = [f"run {r['run']:2d}", f"CC mean {r['chang_cooper']['mean']:+.3f}"]
            if "jko" in r:
                j = r["jko"]
                worst = max((b.get("sym_kl_after_update", 0) for b in j["blocks"]), default=0)
                acc = min(b["accept_independent"] for b in j["blocks"])
                ess = min(b["ess_fraction"] for b in j["blocks"])
                cells.append(f"jko {j['sym_kl']:.4f} ({j['train_seconds']:.0f} s, worst block {worst:.4f}, "
                             f"min ESS {ess:.2f}, min indep. acceptance {acc:.3f}, inverse failures {j['inverse_failures']})")
            cells += [f"bbf{b['particles']} {b['sym_kl']:.4f}" for b in r.get("bbf", [])]
            print("  ".join(cells))
        return
    print(f"| method ({len(runs)} runs) | median | mean | worst | log10 mean ± 95% CI | time per run (s) |")
    print("|---|---|---|---|---|---|")
    for name, v, t in rows:
        print(f"| {name} | {statistics.median(v):.4f} | {statistics.mean(v):.4f} | {max(v):.4f} | {log10_mean_ci(v)} | {t:.1f} |")
    for name, (mean, median, worst, t) in REFERENCE.items():
        print(f"| {name} | {median:.4f} | {mean:.4f} | {worst:.4f} | | {t:g} (their machine) |")


if __name__ == "__main__":
    main()

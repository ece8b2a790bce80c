#!/usr/bin/env python3
"""The convergence table of docs/VALIDATION.md from tools/studies/convergence.sh's outputs (stdlib only).

Medians over the instances found, per D: wgf's SymKL and energy distance at t = 4 with training time,
the EM + KDE baselines', and the reference's medians (PAPER-SPEC §9.1); the mode-occupancy floor
(SymKL between the laws of the most likely component under the simulated flow and under π: the
largest EM run's particles, and wgf's samples), a lower bound of the exact flow's SymKL at t = 4;
then one line per instance, beside the reference's own result on the same instance (its stored
per-run results, reference_convergence_runs.json; instance i is the reference's run i)."""
import glob, json, os, statistics, sys

REF_RUNS = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_convergence_runs.json")))["runs"]

def ref_sym(d, name, method="ICNN_jko"):
    """The reference's SymKL on instance D<d>-i<i> (None when not in its table)."""
    run = int(name[name.index("-i") + 2:])
    runs = REF_RUNS.get(str(d), {}).get(method, [])
    return runs[run]["kl_train"] + runs[run]["kl_target"] if run < len(runs) and runs[run] else None

REF_ICNN = {2: 0.0558, 4: 0.145, 6: 0.342, 8: 0.406, 10: 0.297, 12: 0.489}
REF_EM = {2: (0.233, 0.096, 0.0664), 4: (1.37, 0.625, 0.369), 6: (3.87, 2.33, 1.54), 8: (8.00, 5.14, 3.74),
          10: (10.5, 7.20, 5.51), 12: (17.6, 12.6, 9.89)}

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")

def g2(v):
    return "—" if v != v else f"{v:.2g}"  # NaN (no runs): a dash

def main(out):
    rows = {}
    for path in glob.glob(os.path.join(out, "D*-i*", "summary.json")):
        name = os.path.basename(os.path.dirname(path))
        d = int(name[1:name.index("-")])
        s = json.load(open(path))
        m = s["outputs"][-1]["metrics"]
        r = rows.setdefault(d, {"sym": [], "energy": [], "train": [], "em": {}, "mode": [], "em_mode": [], "inst": []})
        r["sym"].append(m["sym_kl"]); r["energy"].append(m["energy_distance"])
        r["mode"].append(m.get("mode_sym_kl"))
        inst = {"name": name, "sym": m["sym_kl"], "fwd": m["kl_model_target"], "rev": m["kl_target_model"],
                "mode": m.get("mode_sym_kl"), "em_mode": None, "train": s["training"]["seconds"]}
        r["inst"].append(inst)
        r["train"].append(s["training"]["seconds"])
        em = os.path.join(out, name + "-em.json")
        if os.path.exists(em) and os.path.getsize(em) > 0:
            runs = json.load(open(em))["runs"]
            largest = max(runs, key=lambda run: run["particles"])
            r["em_mode"].append(largest.get("mode_sym_kl"))
            inst["em_mode"] = largest.get("mode_sym_kl")
            for run in runs:
                e = r["em"].setdefault(run["particles"], {"sym": [], "energy": [], "secs": []})
                e["sym"].append(run["sym_kl"]); e["energy"].append(run["energy_distance"])
                e["secs"].append(run["simulate_seconds"] + run["estimate_seconds"])
    print("| D | runs | wgf SymKL | wgf energy | wgf train s | reference ICNN SymKL | "
          "EM 1k / 10k / 50k SymKL (wgf) | EM s (wgf) | EM 1k / 10k / 50k SymKL (reference) | mode floor (EM / wgf) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in sorted(rows):
        r = rows[d]
        em = " / ".join(f"{med(r['em'][p]['sym']):.3g}" if p in r["em"] else "—" for p in (1000, 10000, 50000))
        ems = " / ".join(f"{med(r['em'][p]['secs']):.0f}" if p in r["em"] else "—" for p in (1000, 10000, 50000))
        ref = " / ".join(f"{v:.3g}" for v in REF_EM.get(d, ()))
        print(f"| {d} | {len(r['sym'])} | {med(r['sym']):.3g} | {med(r['energy']):.3g} | {med(r['train']):.0f} | "
              f"{REF_ICNN.get(d, float('nan'))} | {em} | {ems} | {ref} | {g2(med(r['em_mode']))} / {g2(med(r['mode']))} |")
    print()
    print("| instance | wgf SymKL | KL(ρ‖π) | KL(π‖ρ) | reference ICNN SymKL | mode floor EM / wgf | train s |")
    print("|---|---|---|---|---|---|---|")
    f = lambda v: "—" if v is None else f"{v:.3g}"
    for d in sorted(rows):
        for i in sorted(rows[d]["inst"], key=lambda i: i["name"]):
            print(f"| {i['name']} | {f(i['sym'])} | {f(i['fwd'])} | {f(i['rev'])} | {f(ref_sym(d, i['name']))} | "
                  f"{f(i['em_mode'])} / {f(i['mode'])} | "
                  f"{i['train']:.0f} |")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "convergence-study")

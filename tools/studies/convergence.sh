#!/usr/bin/env bash
# The convergence study (PAPER-SPEC §7.1, issue 7): for each D and instance, train wgf's flow with
# examples/convergence.toml, the D-specific target (K = D/2 + 4 centres in [−5, 5]^D: instance i is
# the reference's own run i, drawn as it draws them, so that every row compares with its stored
# per-run result) and wgf's fast settings for two CPU cores (W = 128, a carried pool of 262144
# points, 400 iterations per step; at D >= 8, 800 and twice the reference's learning rates, as measured
# in docs/VALIDATION.md, "Mass trapped at the saddles"), then run the Euler–Maruyama + KDE baselines on
# the same instance (PARTICLES="" skips them). Extra options override the fast settings.
#   tools/studies/convergence.sh OUT_DIR "2 4 6 8 10 12" "0 1 2 3 4" [extra wgf run options...]
# Writes OUT_DIR/D<d>-i<i>/summary.json (wgf run) and OUT_DIR/D<d>-i<i>-em.json (wgf em);
# tools/studies/convergence_table.py OUT_DIR prints the table of docs/VALIDATION.md.
set -euo pipefail
out=${1:?out dir}; dims=${2:-"2 4 6 8 10 12"}; instances=${3:-"0 1 2 3 4"}; shift 3 || true
here=$(cd "$(dirname "$0")/../.." && pwd)
wgf=${WGF:-$here/build/default/tools/wgf}
particles=${PARTICLES-1000,10000,50000}  # PARTICLES="" skips the baselines
mkdir -p "$out"
fast=(--set network.width=128 --set training.pool_size=262144 --set training.carry_pool=true)
for d in $dims; do
  k=$(( d / 2 + 4 ))  # 5, 6, 7, 8, 9, 10 for D = 2 … 12 (PAPER-SPEC §7.1)
  case $d in 2) key=venus;; 4) key=earth;; 6) key=mars;; 8) key=saturn;; 10) key=jupiter;; 12) key=uran;;
    *) echo "D = $d is not in the reference's table (2, 4, …, 12)" >&2; exit 2;; esac
  per_d=(--set training.iterations=400)  # D >= 8: 800 iterations and lr x 2 (see the header)
  if [ "$d" -ge 8 ]; then per_d=(--set training.iterations=800 --set 'training.lr_schedule=[[20,1e-2],[20,4e-3]]'); fi
  for i in $instances; do
    run="$out/D$d-i$i"
    common=(--set flow.dim=$d --set potential.components=$k --set "potential.reference_key=\"$key\"" --set potential.reference_run=$i --set flow.seed=$i)
    echo "== D=$d instance $i: wgf run"
    "$wgf" run "$here/examples/convergence.toml" "${common[@]}" "${fast[@]}" "${per_d[@]}" --set "output.dir=\"$run\"" \
        --set output.at_steps=[40] --set output.samples=0 --set output.metric_samples=8192 --quiet "$@"
    python3 -c "import json,sys; m=json.load(open('$run/summary.json'))['outputs'][-1]['metrics']; print('   SymKL', m['sym_kl'], 'energy', m['energy_distance'])"
    if [ -n "$particles" ]; then
      echo "== D=$d instance $i: wgf em ($particles particles)"
      "$wgf" em "$here/examples/convergence.toml" "${common[@]}" --particles "$particles" --seed "$i" --json "$out/D$d-i$i-em.json"
    fi
  done
done

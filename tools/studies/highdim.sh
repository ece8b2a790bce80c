#!/usr/bin/env bash
# PAPER-SPEC §7.2 (issue 7): convergence to a 10-component "cube" mixture in D = 13, 32, 64 from
# ρ⁰ = N(0, 16 I), τ = 0.1, with the reference's step counts and learning-rate schedules, a per-step
# KL(ρ^k‖π) on a fixed test batch, and 4000 samples of the model and of π at the end for the PCA
# figure (tools/plot.py pca). The network and iteration counts are wgf's fast settings for two CPU
# cores (the reference: W = 512/1024, 1000/1000/300 iterations, batch 1024/512/512; GPU hours):
#   tools/studies/highdim.sh OUT_DIR [dims] [extra wgf run options...]
#   tools/plot.py pca OUT_DIR/D13 OUT_DIR/D32 OUT_DIR/D64 --out docs/highdim_pca.png
set -euo pipefail
out=${1:?out dir}; dims=${2:-"13 32 64"}; shift 2 || true
here=$(cd "$(dirname "$0")/../.." && pwd)
wgf=${WGF:-$here/build/default/tools/wgf}
mkdir -p "$out"
for d in $dims; do
  case $d in
    13) steps=50; span=5; sched="[[10, 5e-3], [20, 2e-3], [20, 5e-4]]"; pre=4e-3; it=${IT13:-200}; batch=512 ;;
    32) steps=70; span=3; sched="[[10, 5e-3], [20, 2e-3], [30, 5e-4], [10, 1e-4]]"; pre=5e-3; it=${IT32:-60}; batch=256 ;;
    64) steps=30; span=3; sched="[[10, 5e-3], [10, 1e-3], [10, 2e-4]]"; pre=5e-3; it=${IT64:-40}; batch=256 ;;
    *) echo "highdim.sh: D must be 13, 32 or 64" >&2; exit 2 ;;
  esac
  echo "== D=$d: $steps steps, $it iterations of $batch points per step"
  "$wgf" run "$here/examples/mixture_highdim.toml" --set flow.dim=$d --set flow.steps=$steps \
      --set potential.span=$span --set potential.seed=$(( 7000 + d )) --set "training.lr_schedule=$sched" \
      --set training.pretrain_lr=$pre --set training.iterations=$it --set training.batch=$batch \
      --set network.width=128 --set training.pool_size=$(( 64 * batch )) --set training.carry_pool=true \
      --set "output.dir=\"$out/D$d\"" --set "output.at_steps=[$steps]" --set output.samples=4000 \
      --set output.metric_samples=4096 --set output.step_kl_samples=$batch --quiet "$@"
  python3 -c "import json; s=json.load(open('$out/D$d/summary.json')); m=s['outputs'][-1]['metrics']; print('   SymKL', m['sym_kl'], 'energy', m['energy_distance'], 'mode SymKL', m.get('mode_sym_kl'), 'train s', s['training']['seconds'])"
done

#!/usr/bin/env bash
# The posterior-sampling study of docs/VALIDATION.md (PAPER-SPEC §7.4, issue 9): for every dataset, one
# long MALA reference (the ground truth), then wgf's JKO flow and SVGD at each seed, compared with it.
#   tools/studies/posterior.sh OUT [DATASETS] [SEEDS]        then  tools/studies/posterior_table.py OUT
# Environment: WGF (the tool, default build/host/tools/wgf), THREADS (per run, default 2), START (laplace,
# the default, or prior; below), EXTRA (more `wgf posterior` options for the JKO runs). The other JKO
# settings are `wgf posterior`'s defaults, the fast configuration of docs/VALIDATION.md.
set -euo pipefail
out=${1:?usage: tools/studies/posterior.sh OUT [DATASETS] [SEEDS]}
datasets=${2:-"german diabetis twonorm ringnorm banana splice waveform image"}
seeds=${3:-"1 2 3"}
wgf=${WGF:-build/host/tools/wgf}
threads=${THREADS:-2}
start=${START:-laplace}
mkdir -p "$out"
for d in $datasets; do
    # MALA: 64 chains x (2000 warm-up + 2000 draws), full data, double; splice (D = 61, unscaled
    # features coded 1-4) mixes slowest and gets 4000 + 6000.
    mala=""
    [ "$d" = splice ] && mala="--mala-warmup 4000 --mala-draws 6000"
    [ -f "$out/mala-$d/$d/mala-samples.npy" ] ||
        "$wgf" posterior --datasets "$d" --out "$out/mala-$d" --no-jko --svgd-particles 0 --threads "$threads" \
            --seed 1000 --quiet $mala
    # START=laplace (the default, `wgf posterior`'s): the flow in the Laplace frame, where the
    # posterior's covariance is ≈ I, 5 steps of τ = 4 (t = 20) on every dataset. START=prior (the
    # reference's ρ⁰): the flow's time follows the posterior, t ≈ 5 λ_max(posterior covariance), so that the slowest direction
    # (relaxation rate 1/λ_max for a near-Gaussian posterior) is within e^{-5} (docs/VALIDATION.md).
    # λ_max ≈ 0.1 (log α) on german, twonorm, ringnorm, waveform, splice: t = 0.5 (5 steps of 0.1);
    # 0.38 on diabetis: t = 2; 0.65 on banana: t = 3.2.
    if [ "$start" = laplace ]; then
        flow="--start laplace --steps 5 --tau 4"
    else
        flow="--start prior --steps 5 --tau 0.1"
        [ "$d" = diabetis ] && flow="--start prior --steps 10 --tau 0.2"
        [ "$d" = banana ] && flow="--start prior --steps 16 --tau 0.2"
    fi
    for s in $seeds; do
        [ -f "$out/seed$s-$d/summary.json" ] ||
            "$wgf" posterior --datasets "$d" --out "$out/seed$s-$d" --reference-dir "$out/mala-$d" \
                --threads "$threads" --seed "$s" --quiet $flow ${EXTRA:-}
    done
done

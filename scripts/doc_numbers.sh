#!/usr/bin/env bash
# Re-run every number that docs/sweeps.md quotes (thresholds, the warning x corridor grid,
# the Sobol ranking), writing folders under results/doc-numbers/ and the printed answers to
# results/doc-numbers/*.txt. Run from anywhere, in the project's venv (about 15-25 minutes
# on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/doc-numbers
rm -rf "$out"
mkdir -p "$out"
for p in rotational brigade permanent; do
    simulate threshold "scenarios/$p.yaml" --vary warning.days=0:30 \
        --target "p_beat_fa_lithuania>=0.9" -n 500 --tolerance 0.5 --yes \
        > "$out/threshold-$p.txt" 2>&1
done
{ time simulate sweep sweeps/warning_vs_corridor.yaml --out "$out/warning_vs_corridor" -q --yes; } \
    > "$out/warning_vs_corridor.txt" 2>&1
{ time simulate sweep sweeps/sensitivity.yaml --out "$out/sensitivity" -q --yes; } \
    > "$out/sensitivity.txt" 2>&1
echo "done: $out"

#!/usr/bin/env bash
# Regenerate the README's figures from a real run (seed and replications from the scenario
# files: 20261123, 2,000). Writes results/examples/postures/, which is committed: the
# README's table and figures both come from it. Run from anywhere, in the project's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf results/examples/postures
simulate scenarios/rotational.yaml scenarios/brigade.yaml scenarios/permanent.yaml \
    --out results/examples/postures --quiet
simulate plot results/examples/postures --kind reinforced --kind buildup --kind phases --kind map --format png

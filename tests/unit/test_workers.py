"""Worker processes start warm and light: they import the model, not the CLI."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# the generated `simulate` script, reduced to what matters: it imports the entry module,
# then (guarded) runs a pool; multiprocessing re-runs this file in every worker
SCRIPT = """
import sys
from {module} import {function}

def loaded(_):
    heavy = ("tripwire.cli", "typer", "matplotlib", "pyarrow", "tripwire.runner")
    return [m for m in heavy if m in sys.modules]

if __name__ == "__main__":
    from tripwire.backends import LocalBackend
    backend = LocalBackend(2)
    print(backend.pool.submit(loaded, 0).result())
    backend.close()
"""


def test_the_simulate_script_keeps_the_cli_out_of_the_workers(tmp_path):
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = entry["simulate"].split(":")
    script = tmp_path / "simulate_like.py"
    script.write_text(SCRIPT.format(module=module, function=function))
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    # the fork server preloaded the model; nothing of the CLI came with the script
    assert proc.stdout.strip() == "['tripwire.runner']", proc.stdout + proc.stderr


def test_the_cli_starts_without_the_plotting_library():
    """Every command pays the CLI's import time; matplotlib is loaded only to draw."""
    code = "import sys, tripwire.cli; print('matplotlib' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "False", proc.stderr

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


FORKED = """
import os

from tripwire.backends import LocalBackend


def main():
    parent = LocalBackend(1)
    print("parent", parent.pool.submit(abs, -3).result(), flush=True)
    pid = os.fork()
    if pid == 0:  # a process forked after a pool ran here: a library user, a test harness
        code = 1
        try:
            child = LocalBackend(1)
            print("child", child.pool.submit(abs, -4).result(), flush=True)
            child.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    print("status", os.waitstatus_to_exitcode(status), flush=True)
    parent.close()


if __name__ == "__main__":
    main()
"""


def test_a_forked_process_starts_its_own_pool(tmp_path):
    """A child forked after a pool ran must not reuse the parent's forkserver record.

    Without the fork hook in tripwire.backends the child's pool fails with
    ChildProcessError (the server is its parent's child, not its own): CI found this when
    the pipeline fuzz forked pytest after an earlier test had run a pool.
    """
    script = tmp_path / "forked.py"
    script.write_text(FORKED)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.split() == ["parent", "3", "child", "4", "status", "0"], (
        proc.stdout + proc.stderr
    )

"""Peak memory and wall time of a command, each run in a fresh process.

    python -m benchmarks.peak CMD ARGS...   # runs CMD; prints the largest process's peak RSS, KB

The figure is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` once every descendant has been
waited for: the peak resident memory of the largest single process (the coordinator or a
worker), not a sum.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mb(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """(peak RSS in MB of the largest process, wall seconds) of ``cmd`` run afresh."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.peak", *cmd],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return int(proc.stdout.split()[-1]) / 1024, time.perf_counter() - t0


if __name__ == "__main__":
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)

"""Peak memory of a sweep against its number of replications (run on demand, not in CI).

    python -m benchmarks.sweep_memory            # 10^3, 10^4 (and 3x10^4) replications
    python -m benchmarks.sweep_memory --long     # adds 10^5

Each size runs `simulate sweep` in a fresh process; the figure reported is the peak
resident memory of the largest process (the coordinator or a worker), from getrusage.
Results stream to Parquet parts, so the coordinator should stay flat as replications grow.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _one(replications: int, workers: int) -> None:
    """Child mode: run one sweep and print the peak RSS (KB) of its largest process."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tripwire",
                "sweep",
                str(ROOT / "scenarios" / "brigade.yaml"),
                "--vary",
                "suwalki.closure_probability=0,1",
                "-n",
                str(replications // 2),
                "--workers",
                str(workers),
                "--out",
                str(Path(tmp) / "s"),
                "-q",
            ],
            check=True,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
    # every descendant has been waited for: the largest one's peak
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def peak_mb(replications: int, workers: int) -> tuple[float, float]:
    """(peak RSS in MB of the largest process, wall seconds) of one sweep, run afresh."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.sweep_memory",
            "--one",
            str(replications),
            "--workers",
            str(workers),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(proc.stdout.split()[-1]) / 1024, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--long", action="store_true", help="include 10^5 replications")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        _one(args.one, args.workers)
        return
    sizes = [1_000, 10_000, 30_000] + ([100_000] if args.long else [])
    print(
        f"# sweep peak memory - {platform.node()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("| replications | peak RSS, MB | vs smallest | wall, s |")
    print("|---:|---:|---:|---:|")
    base = None
    for n in sizes:
        mb, wall = peak_mb(n, args.workers)
        base = base or mb
        print(f"| {n:,} | {mb:.0f} | {mb / base:.2f} | {wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()

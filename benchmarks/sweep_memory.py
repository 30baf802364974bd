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
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.peak import ROOT, peak_mb


def peak_of_sweep(replications: int, workers: int, tmp: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one sweep of ``replications``, run afresh."""
    cmd = [
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
        str(tmp / f"s{replications}"),
        "-q",
    ]
    return peak_mb(cmd)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--long", action="store_true", help="include 10^5 replications")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    sizes = [1_000, 10_000, 30_000] + ([100_000] if args.long else [])
    print(
        f"# sweep peak memory - {platform.node()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("| replications | peak RSS, MB | vs smallest | wall, s |")
    print("|---:|---:|---:|---:|")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            mb, wall = peak_of_sweep(n, args.workers, Path(tmp))
            base = base or mb
            print(f"| {n:,} | {mb:.0f} | {mb / base:.2f} | {wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()

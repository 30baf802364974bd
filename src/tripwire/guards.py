"""Resource guards: a batch that would run for days or fill the disk is refused up front.

The estimate is measured, not guessed: a few replications of each scenario are run here
(seconds per replication on this machine) and their records sized as Arrow columns (an
upper bound on the Parquet bytes, which compress). A run writes its rows twice for a moment
(the chunk parts, then the joined table), which the disk estimate includes.

The limits are ``TRIPWIRE_MAX_HOURS`` (default 24 h of wall time) and the free space of the
result folder's file system; ``--yes`` runs anyway.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from tripwire.model import compile_plan, simulate
from tripwire.runner import replication_seed
from tripwire.scenario import Scenario

DEFAULT_MAX_HOURS = 24.0
CALIBRATION_SECONDS = 1.0  # at most this long measuring, per scenario


@dataclass(frozen=True)
class Estimate:
    seconds: float
    bytes: float
    free_bytes: float
    max_hours: float

    @property
    def too_long(self) -> bool:
        return self.seconds > self.max_hours * 3600

    @property
    def too_big(self) -> bool:
        return self.bytes > 0.9 * self.free_bytes

    @property
    def duration(self) -> str:
        return _duration(self.seconds)

    def describe(self, what: str, workers: int) -> str:
        return (
            f"{what} would take about {self.duration} on {workers} worker(s) and "
            f"write up to {_size(self.bytes)} ({_size(self.free_bytes)} free)"
        )


def max_hours() -> float:
    raw = os.environ.get("TRIPWIRE_MAX_HOURS")
    try:
        value = float(raw) if raw else DEFAULT_MAX_HOURS
    except ValueError:
        value = DEFAULT_MAX_HOURS
    return value if value > 0 and math.isfinite(value) else DEFAULT_MAX_HOURS


def _free_bytes(folder: Path) -> float:
    p = folder.resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return float(shutil.disk_usage(p).free)


def measure(s: Scenario, buildup: bool) -> tuple[float, float]:
    """(seconds, Arrow bytes) per replication of ``s``, from a few replications here."""
    plan = compile_plan(s)
    rows, spent, k = [], 0.0, 0
    while k < 3 and spent < CALIBRATION_SECONDS:
        t0 = time.perf_counter()
        rows.append(simulate(plan, replication_seed(0, k), buildup))
        spent += time.perf_counter() - t0
        k += 1
    size = pa.Table.from_pylist(rows).nbytes / len(rows)
    return spent / len(rows), float(size)


def estimate(
    scenarios: Sequence[Scenario],
    replications: int,
    workers: int,
    folder: Path,
    buildup: bool,
    copies: int = 2,
) -> Estimate:
    """Wall time and disk of ``replications`` of every scenario on ``workers`` workers."""
    seconds, size = 0.0, 0.0
    for s in scenarios:
        sec, nbytes = measure(s, buildup)
        seconds += sec * replications
        size += nbytes * replications * copies
    return Estimate(seconds / max(workers, 1), size, _free_bytes(folder), max_hours())


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def _size(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    return f"{nbytes:.1f} TB"  # pragma: no cover - the loop returns

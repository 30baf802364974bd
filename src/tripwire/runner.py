"""Batches of replications: seeds, chunking and local process pools.

One ``numpy.random.SeedSequence(seed)`` per batch; replication ``i`` uses its ``i``-th spawned
child whatever the chunking or the number of workers, so a batch's table is identical for
any ``--workers``. Every scenario of a comparison uses the same children: common random
numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tripwire.backends import make_backend, stream
from tripwire.model import Plan, compile_plan, simulate
from tripwire.model.outcome import FORMATIONS_KEY
from tripwire.model.theatre import simulate_with_formations
from tripwire.scenario import Scenario

Row = dict[str, Any]


@dataclass(frozen=True)
class Chunk:
    """A contiguous range of replications of one scenario: the unit of work."""

    scenario: str  # name
    spec: str  # scenario as JSON (cheap to pickle, re-validated in the worker)
    seed: int
    start: int
    stop: int
    buildup: bool = False  # record strength on the build-up grid (runs, not sweeps)
    formations: bool = False  # attach the closure table's rows (runs, not sweeps)


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of replication ``index``: ``SeedSequence(seed).spawn(n)[index]``."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


@lru_cache(maxsize=8)
def _plan(spec: str) -> Plan:
    return compile_plan(Scenario.model_validate_json(spec))


def run_chunk(chunk: Chunk) -> tuple[Chunk, list[Row]]:
    """Simulate one chunk (in a worker process or inline)."""
    plan = _plan(chunk.spec)
    rows = []
    for i in range(chunk.start, chunk.stop):
        seed = replication_seed(chunk.seed, i)
        if chunk.formations:  # the closure table travels with the row, under FORMATIONS_KEY
            row, frows = simulate_with_formations(plan, seed, chunk.buildup)
            row[FORMATIONS_KEY] = [{"replication": i, **fr} for fr in frows]
        else:
            row = simulate(plan, seed, chunk.buildup)
        rows.append({"replication": i, "seed": chunk.seed, **row})
    return chunk, rows


def chunk_size(replications: int, workers: int) -> int:
    """Chunks of 10-100 replications, about four per worker per scenario: enough chunks to
    balance the workers, each large enough that dispatch costs little (the measurements
    behind it are in docs/architecture.md, "What the execution rests on")."""
    return max(10, min(100, math.ceil(replications / (4 * max(workers, 1)))))


def make_chunks(
    scenarios: Sequence[Scenario],
    replications: int,
    seed: int,
    size: int,
    buildup: bool = False,
    first: int = 0,
    formations: bool = False,
) -> list[Chunk]:
    """Chunks of replications ``first .. replications - 1`` of every scenario."""
    out = []
    for s in scenarios:
        spec = s.model_dump_json(by_alias=True)
        for start in range(first, replications, size):
            stop = min(start + size, replications)
            out.append(Chunk(s.name, spec, seed, start, stop, buildup, formations))
    return out


def execute(chunks: Sequence[Chunk], workers: int) -> Iterator[tuple[Chunk, list[Row]]]:
    """Run chunks inline (``workers == 1``) or on local processes, yielding each as it
    finishes. A failing chunk raises; on interruption the backend is shut down."""
    backend = make_backend(workers)
    try:
        for _, result in stream(backend, run_chunk, chunks):
            if isinstance(result, Exception):
                raise result
            yield result
    finally:
        backend.close()


def run_batch(
    scenarios: Sequence[Scenario],
    replications: int,
    seed: int,
    workers: int = 1,
    on_chunk: Callable[[Chunk, list[Row]], None] | None = None,
    buildup: bool = False,
    first: int = 0,
    keep: bool = True,
    size: int | None = None,
    skip: Callable[[Chunk], bool] | None = None,
    formations: bool = False,
) -> dict[str, list[Row]]:
    """Run replications ``first .. replications - 1`` of every scenario; return rows per
    scenario in replication order (a later stage of a sequential run starts at ``first``).
    With ``keep=False`` rows only go to ``on_chunk`` (which writes them) and the lists stay
    empty, so memory does not grow with the batch. ``size`` fixes the chunk size (default
    :func:`chunk_size`); chunks for which ``skip`` is true are not run (a resumed run's
    finished chunks)."""
    size = size or chunk_size(replications - first, workers)
    chunks = make_chunks(scenarios, replications, seed, size, buildup, first, formations)
    if skip is not None:
        chunks = [c for c in chunks if not skip(c)]
    rows: dict[str, list[Row]] = {s.name: [] for s in scenarios}
    for chunk, part in execute(chunks, workers):
        if keep:
            rows[chunk.scenario].extend(part)
        if on_chunk is not None:
            on_chunk(chunk, part)
    for name in rows:
        rows[name].sort(key=lambda r: r["replication"])
    return rows


def to_table(rows: Sequence[Row]) -> dict[str, np.ndarray]:
    """Rows -> columns (numpy arrays), the form the summaries take."""
    if not rows:
        return {}
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}

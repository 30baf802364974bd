"""The tripwire benchmark: run on demand, never in the test suite.

    python -m benchmarks                 # quick profile (a few minutes on 2 cores)
    python -m benchmarks --profile full  # speedup on 10,000 replications, memory up to 10^5
    python -m benchmarks --profile long  # adds a sweep of 10^6 replications

Measures, in one run on the current machine, and writes ``benchmarks/RESULTS.md``:

1. replications per second of each shipped scenario on one worker and on all cores, as a
   whole ``simulate`` process (start-up included), and the parallel speedup;
2. the SimPy bound: the rate SimPy alone reaches on the model's events, each timeout priced
   at a bare timeout loop's event rate and every other event at a bare resource loop's
   (both measured here; the model's events counted by type), and the model's efficiency =
   its in-process rate on one core / that bound;
3. the peak memory of a batch at 10^3, 10^4 (and 10^5) replications;
4. the overhead of the batch machinery: the same model function run through tripwire's
   runner and through EMA Workbench's evaluators on the same batch (``pip install -e
   '.[bench]'``; skipped with a note when EMA Workbench is not installed);
5. the peak memory and time of the join of a run's parts and of the summary phase that
   follows it, each alone, at 10^3, 10^5 and 10^6 replications, on tables built from 10^4
   simulated brigade replications (``benchmarks/summary_phase.py`` says how).

Times vary with the machine and its load: every figure is a median over repeats with its
range, and absolute times are quoted only with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from simpy.events import Initialize

from benchmarks.peak import ROOT, peak_mb
from tripwire import __version__
from tripwire.loader import load_scenario
from tripwire.model import compile_plan
from tripwire.model.theatre import play, simulate
from tripwire.runner import replication_seed, run_batch

SHIPPED = ["rotational", "brigade", "permanent", "baltic_request", "suwalki_cut"]
SUMMARY_SIZES = [1_000, 100_000, 1_000_000]  # the summary phase (section 5), every profile
SUMMARY_REPEATS = 3  # summary processes per table (section 5): median and range
PROFILES: dict[str, dict[str, Any]] = {
    # replications per whole-process rate, speedup batch, memory sizes, sweep memory, EMA batch
    "quick": {"rate_n": 600, "speedup_n": 2_000, "memory": [1_000, 10_000], "ema_n": 300},
    "full": {
        "rate_n": 2_000,
        "speedup_n": 10_000,
        "memory": [1_000, 10_000, 100_000],
        "ema_n": 1_000,
    },
    "long": {
        "rate_n": 2_000,
        "speedup_n": 10_000,
        "memory": [1_000, 10_000, 100_000],
        "ema_n": 1_000,
        "sweep": 1_000_000,
    },
}
REPEATS = 3
SPEEDUP_PAIRS = 4  # the speedup is a ratio of two drifting rates: pairs, both orders
BOUND_REPEATS = 5  # the efficiency is a ratio of two drifting rates: more repeats
OVERHEAD_REPEATS = 6  # two engines within noise of each other: more repeats, both orders

# what the sections measured, for the closing "against the targets" table
FOUND: dict[str, Any] = {}


def median_range(values: list[float], fmt: str = "{:.0f}") -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "tripwire": __version__,
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- SimPy bound


def timeout_loop(n: int) -> float:
    """Events per second of one process yielding ``n`` timeouts."""
    env = simpy.Environment()

    def proc(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1)

    env.process(proc(env))
    t0 = time.perf_counter()
    env.run()
    return next(env._eid) / (time.perf_counter() - t0)  # type: ignore[attr-defined]


def resource_loop(n: int, users: int = 8, capacity: int = 2) -> tuple[float, float]:
    """``users`` processes taking turns on a capacity-limited resource (request, hold for a
    timeout, release), ``n`` turns in all: (events per second, seconds per turn). A turn is
    one timeout and two resource events (the request granted, the release)."""
    env = simpy.Environment()
    res = simpy.Resource(env, capacity)

    def user(env: simpy.Environment, turns: int):  # type: ignore[no-untyped-def]
        for _ in range(turns):
            with res.request() as req:
                yield req
                yield env.timeout(1)

    for _ in range(users):
        env.process(user(env, n // users))
    t0 = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - t0
    return next(env._eid) / seconds, seconds / (n // users * users)  # type: ignore[attr-defined]


def process_loop(n: int) -> float:
    """Seconds per turn of a parent starting ``n`` child processes one after another, each
    yielding one timeout, and waiting for each to end. A turn is one timeout and two process
    events (the child's start, its end)."""
    env = simpy.Environment()

    def child(env: simpy.Environment):  # type: ignore[no-untyped-def]
        yield env.timeout(1)

    def parent(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.process(child(env))

    env.process(parent(env))
    t0 = time.perf_counter()
    env.run()
    return (time.perf_counter() - t0) / n


def other_event_seconds(timeout_rate: float, turn_seconds: float) -> float:
    """Seconds per non-timeout event of a loop whose turn is one timeout and two other
    events: the turn less its timeout, halved."""
    return max(turn_seconds - 1 / timeout_rate, 0.0) / 2


def event_mix(plan: Any, reps: int) -> dict[str, float]:
    """SimPy events scheduled per replication of ``plan`` (counted, not estimated), by kind:
    ``timeout`` (timeouts, plain events, conditions), ``process`` (a process starting or
    ending) and ``other`` (resource requests and releases). Counted by wrapping
    ``Environment.schedule`` for these replications only."""
    counts = dict.fromkeys(("timeout", "process", "other"), 0)
    # plain events and conditions are priced as timeouts: the cheapest scheduled event, so
    # this can only raise the bound (never flatter the efficiency)
    kinds = {
        simpy.Timeout: "timeout",
        simpy.Event: "timeout",
        simpy.events.Condition: "timeout",
        simpy.events.AnyOf: "timeout",
        simpy.events.AllOf: "timeout",
        simpy.Process: "process",
        Initialize: "process",
    }
    original = simpy.Environment.schedule

    def counting(self, event, priority=1, delay=0):  # type: ignore[no-untyped-def]
        counts[kinds.get(type(event), "other")] += 1
        return original(self, event, priority, delay)

    simpy.Environment.schedule = counting  # type: ignore[method-assign]
    try:
        for i in range(reps):
            play(plan, replication_seed(7, i))
    finally:
        simpy.Environment.schedule = original  # type: ignore[method-assign]
    return {k: v / reps for k, v in counts.items()}


def inprocess_rate(plan: Any, reps: int) -> float:
    """Replications per second of the model function alone, on this core."""
    t0 = time.perf_counter()
    for i in range(reps):
        simulate(plan, replication_seed(7, i))
    return reps / (time.perf_counter() - t0)


def bound_section(out: list[str], scenarios: list[str]) -> None:
    out += [
        "## 2. SimPy bound and efficiency (one core, in-process)",
        "",
        "The bound is the rate SimPy alone would reach on this model's events. Three bare "
        "loops are measured in this run: a timeout loop (one process yielding timeouts) "
        "prices a timeout; a resource loop (8 processes taking turns on 2 slots: request, "
        "hold for a timeout, release) prices a resource event as (time per turn - one "
        "timeout) / 2; a process loop (a parent starting children that each yield one "
        "timeout) prices a process start or end the same way. The model's events are "
        "counted by kind (timeouts, with plain events and conditions priced as timeouts, the "
        "cheapest event, which can only raise the bound; process starts and ends; resource "
        "requests and releases), so bound = 1 / (sum of count x price), and efficiency = "
        "the model's "
        "in-process rate (seeding, drawing and recording included) / bound. The last two "
        "columns price every event at one loop's average event cost instead, for "
        "reference. The CPU speed of this machine drifts, so each repeat measures the loops "
        "right before the model and the efficiency is computed per repeat "
        f"(median (range) of {BOUND_REPEATS}).",
        "",
        "| scenario | events / replication: timeouts + process + other | model, rep/s "
        "| timeout loop, M events/s | resource loop, M events/s (per resource event, us) "
        "| process event, us | bound, rep/s "
        "| **efficiency** | all priced as timeouts | all priced as resource events |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in scenarios:
        plan = compile_plan(load_scenario(ROOT / "scenarios" / f"{name}.yaml").scenario)
        mix = event_mix(plan, 100)
        n_t, n_p, n_o = mix["timeout"], mix["process"], mix["other"]
        ev = n_t + n_p + n_o
        t_rates, r_rates, o_cost, p_cost, rates = [], [], [], [], []
        for _ in range(BOUND_REPEATS):
            t_rates.append(timeout_loop(200_000))
            r_rate, turn = resource_loop(200_000)
            r_rates.append(r_rate)
            o_cost.append(other_event_seconds(t_rates[-1], turn))
            p_cost.append(other_event_seconds(t_rates[-1], process_loop(100_000)))
            rates.append(inprocess_rate(plan, 150))
        bounds = [1 / (n_t / t + n_p * p + n_o * o) for t, p, o in zip(t_rates, p_cost, o_cost)]
        eff = [m / b for m, b in zip(rates, bounds)]
        eff_t = [m * ev / t for m, t in zip(rates, t_rates)]
        eff_r = [m * ev / r for m, r in zip(rates, r_rates)]
        FOUND.setdefault("efficiency", {})[name] = eff
        out.append(
            f"| {name} | {n_t:,.0f} + {n_p:,.0f} + {n_o:,.0f} | {median_range(rates)} "
            f"| {median_range([t / 1e6 for t in t_rates], '{:.2f}')} "
            f"| {median_range([r / 1e6 for r in r_rates], '{:.2f}')} "
            f"({median_range([o * 1e6 for o in o_cost], '{:.1f}')}) "
            f"| {median_range([p * 1e6 for p in p_cost], '{:.1f}')} "
            f"| {median_range(bounds)} | **{median_range(eff, '{:.2f}')}** "
            f"| {median_range(eff_t, '{:.2f}')} | {median_range(eff_r, '{:.2f}')} |"
        )
        print(out[-1], flush=True)
    out.append("")


# --------------------------------------------------------------------------- whole process


def whole_run(scenario: str, n: int, workers: int, tmp: Path) -> float:
    """Replications per second of ``simulate SCENARIO -n N --workers W`` as a process."""
    out = tmp / f"{scenario}-{n}-{workers}-{time.perf_counter_ns()}"
    cmd = [
        sys.executable,
        "-m",
        "tripwire",
        "run",
        str(ROOT / "scenarios" / f"{scenario}.yaml"),
        "-n",
        str(n),
        "--workers",
        str(workers),
        "--out",
        str(out),
        "-q",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return n / (time.perf_counter() - t0)


def rate_section(out: list[str], scenarios: list[str], n: int, speedup_n: int) -> None:
    cores = os.cpu_count() or 1
    out += [
        "## 1. Replications per second, whole `simulate` process (start-up included)",
        "",
        f"| scenario | replications | 1 worker, rep/s | {cores} workers, rep/s | speedup |",
        "|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name in scenarios:
            one = whole_run(name, n, 1, Path(tmp))
            many = whole_run(name, n, cores, Path(tmp))
            out.append(f"| {name} | {n:,} | {one:.0f} | {many:.0f} | {many / one:.2f} |")
            print(out[-1], flush=True)
        ones: list[float] = []
        manys: list[float] = []
        for k in range(SPEEDUP_PAIRS):  # pairs, run back to back, which goes first alternating
            for workers in (1, cores) if k % 2 == 0 else (cores, 1):
                rate = whole_run("brigade", speedup_n, workers, Path(tmp))
                (ones if workers == 1 else manys).append(rate)
    speedups = [m / o for m, o in zip(manys, ones)]  # one ratio per pair: CPU drift cancels
    FOUND["speedup"] = (speedup_n, cores, speedups)
    out += [
        "",
        f"Parallel speedup, brigade, {speedup_n:,} replications, {cores} workers vs 1, whole "
        f"process (start-up and summary included), one ratio per pair of runs made back to "
        f"back, which goes first alternating (median (range) of {SPEEDUP_PAIRS}): "
        f"**{median_range(speedups, '{:.2f}')}** "
        f"({median_range(ones)} vs {median_range(manys)} rep/s).",
        "",
    ]
    print(out[-2], flush=True)


# --------------------------------------------------------------------------- memory


def memory_section(out: list[str], sizes: list[int], sweep: int | None) -> None:
    cores = os.cpu_count() or 1
    out += [
        "## 3. Peak memory of a batch",
        "",
        "`simulate scenarios/brigade.yaml -n N` (all cores), each size in a fresh process; "
        "peak RSS of the largest process (coordinator or worker).",
        "",
        "| replications | peak RSS, MB | vs smallest | wall, s |",
        "|---:|---:|---:|---:|",
    ]
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            cmd = [
                sys.executable,
                "-m",
                "tripwire",
                "run",
                str(ROOT / "scenarios" / "brigade.yaml"),
                "-n",
                str(n),
                "--workers",
                str(cores),
                "--out",
                str(Path(tmp) / f"r{n}"),
                "-q",
            ]
            mb, wall = peak_mb(cmd)
            base = base or mb
            out.append(f"| {n:,} | {mb:.0f} | {mb / base:.2f} | {wall:.0f} |")
            FOUND.setdefault("memory", []).append((f"{n:,}", mb))
            print(out[-1], flush=True)
        if sweep:
            from benchmarks.sweep_memory import peak_of_sweep

            mb, wall = peak_of_sweep(sweep, cores, Path(tmp))
            out.append(f"| sweep, {sweep:,} | {mb:.0f} | {mb / (base or mb):.2f} | {wall:.0f} |")
            FOUND.setdefault("memory", []).append((f"sweep {sweep:,}", mb))
            print(out[-1], flush=True)
    out.append("")


# --------------------------------------------------------------------------- EMA Workbench

_PLAN: Any = None


def ema_model_function(rep: int = 0) -> dict[str, float]:
    """The model function both batch engines run: one brigade replication."""
    global _PLAN
    if _PLAN is None:
        _PLAN = compile_plan(load_scenario(ROOT / "scenarios" / "brigade.yaml").scenario)
    row = simulate(_PLAN, replication_seed(7, int(rep)))
    return {
        "ttr_theatre_h": float(row["ttr_theatre_h"]),
        "beat_fa_theatre": float(row["beat_fa_theatre"]),
    }


def overhead_section(out: list[str], n: int) -> None:
    cores = os.cpu_count() or 1
    out += ["## 4. Batch overhead: tripwire's runner vs EMA Workbench", ""]
    try:
        import ema_workbench as ema
    except ImportError:
        out += ["EMA Workbench is not installed (`pip install -e '.[bench]'`): skipped.", ""]
        return
    import contextlib
    import io
    import logging

    logging.getLogger("EMA").setLevel(logging.WARNING)
    s = load_scenario(ROOT / "scenarios" / "brigade.yaml").scenario
    plan = compile_plan(s)
    model = ema.Model("tripwire", function=ema_model_function)
    model.uncertainties = [ema.IntegerParameter("rep", 0, n - 1)]
    model.outcomes = [ema.ScalarOutcome("ttr_theatre_h"), ema.ScalarOutcome("beat_fa_theatre")]
    batch = [ema.Scenario(f"r{i}", rep=i) for i in range(n)]

    def tripwire_batch(workers: int) -> float:
        t0 = time.perf_counter()
        run_batch([s], n, 7, workers)
        return time.perf_counter() - t0

    def ema_batch(workers: int) -> float:
        evaluator = (
            ema.SequentialEvaluator(model)
            if workers == 1
            else ema.MultiprocessingEvaluator(model, n_processes=workers)
        )
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()), evaluator as ev:  # no progress bar
            ev.perform_experiments(scenarios=batch)
        return time.perf_counter() - t0

    out += [
        f"The same function (one brigade replication, seeded by its index) on the same batch "
        f"of {n:,} replications, the engines run alternately (which goes first alternates "
        "too, as the CPU speed drifts); overhead per replication = "
        "(wall x workers - replications x model time) / replications, with the model time "
        f"measured alone just before (median (range) of {OVERHEAD_REPEATS}). The ratio of walls is "
        "the robust figure; the overhead is a small difference of two noisy times.",
        "",
        "| workers | model alone, ms/rep | tripwire wall, s | EMA wall, s | EMA / tripwire "
        "| tripwire overhead, ms/rep | EMA overhead, ms/rep |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in sorted({1, cores}):
        model_ms, trip, emaw = [], [], []
        for k in range(OVERHEAD_REPEATS):  # alternate which engine goes first (CPU drift)
            model_ms.append(1e3 / inprocess_rate(plan, min(n, 200)))
            if k % 2:
                emaw.append(ema_batch(workers))
                trip.append(tripwire_batch(workers))
            else:
                trip.append(tripwire_batch(workers))
                emaw.append(ema_batch(workers))
        per = statistics.median(model_ms)
        over_t = [(w * workers - n * per / 1e3) / n * 1e3 for w in trip]
        over_e = [(w * workers - n * per / 1e3) / n * 1e3 for w in emaw]
        ratio = [e / t for e, t in zip(emaw, trip)]
        FOUND.setdefault("ema", {})[workers] = ratio
        out.append(
            f"| {workers} | {median_range(model_ms, '{:.2f}')} | {median_range(trip, '{:.2f}')} "
            f"| {median_range(emaw, '{:.2f}')} | {median_range(ratio, '{:.2f}')} "
            f"| {median_range(over_t, '{:.2f}')} | {median_range(over_e, '{:.2f}')} |"
        )
        print(out[-1], flush=True)
    out += [f"EMA Workbench version: {ema.__version__}.", ""]


# --------------------------------------------------------------------------- summary phase


def summary_section(out: list[str], sizes: list[int]) -> None:
    from benchmarks.summary_phase import BASE, build_table, measure, simulate_base
    from tripwire.results import FOOTER_CHUNKS, GROUP_BYTES, ROW_GROUP

    out += [
        "## 5. Summary phase",
        "",
        "What a run does after joining its parts (`summarise` over the joined "
        "`replications.parquet`, read a column at a time, and `summary.json` written), alone "
        "in a fresh process; peak RSS of that process. The tables are built from real rows: "
        f"`simulate scenarios/brigade.yaml -n {BASE}` once, then the chunk parts of an "
        "N-replication run written from its rows over and over (same schema, replications "
        "renumbered, chunks of `runner.chunk_size` replications) and joined by "
        "`results.consolidate` in a fresh process, as a run joins them: 'join' is that "
        "process (peak RSS, and the time of the join alone). 10^3 is its first 1,000 rows, "
        "exactly a 10^3 run's. A joined table has row groups of at least "
        f"{ROW_GROUP:,} rows, as many as keep it within {FOOTER_CHUNKS:,} column chunks, "
        f"and at most {GROUP_BYTES >> 20} MB each (`results.group_rows`): pyarrow holds "
        "about 1 kB per column chunk of an open file, and its writer as much until it "
        "closes, while the join holds one row group. 'Opening' is the memory that opening "
        "the table adds (its parsed footer); 'summary, s' times opening, summarising and "
        "writing, 'wall' the whole summary process (start-up included). The summary is "
        f"measured {SUMMARY_REPEATS} times on each table, each in a fresh process: median "
        "(range); its ratio to 10^3 is that of the medians. MB here are 2^20 bytes.",
        "",
        "Before issue 16 (the code of commit 240939f, measured once on tables built the same "
        "way, 2026-12-02, the 2 cores shared with other work), peak RSS and summary time: "
        "228 MB and 0.4 s at 10^3, 288 MB and 58 s at 10^5, 484 MB and 1,096 s at 10^6 (the "
        "build-up bands re-read every row group for each grid point). Before the row groups "
        "were sized by the footer (row groups of 2,000 rows; measured 2026-12-02, the tables "
        "then written directly in row groups of 2,000 rows, not joined): 228 MB and 0.5 s "
        "at 10^3, 272 MB and 4.2 s at 10^5, 349 MB and 31.9 s at 10^6, of which opening the "
        "table 105 MB (500 row groups x 208 columns); the join of 10^6 replications from "
        "100-row parts, measured once the same way as below: 397 MB and 269 s (10^3: "
        "199 MB). Before Arrow's C++ pool was put on the system allocator and the summaries "
        "kept to one copy of a column (the code of commit 343ffb5, measured 2026-12-02 the "
        "same way, one summary process a table): 217 MB at 10^3, 281 MB at 10^6 (x1.29); "
        "on the tables of this run's 10^3 and 10^6 (built by hand the same way): 201 and "
        "258 MB. Parquet's readers allocate from Arrow's C++ default pool whatever "
        "`pyarrow.set_memory_pool` says, and its default (mimalloc) kept about 0.45 MB for "
        "each column read; importing `tripwire` now sets `ARROW_DEFAULT_MEMORY_POOL=system` "
        "before pyarrow loads.",
        "",
        "| replications | row groups | join peak, MB | join vs 10^3 | join, s "
        "| summary peak RSS, MB | vs 10^3 | opening, MB | summary, s | wall, s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = join_base = None
    with tempfile.TemporaryDirectory() as tmp:
        src = simulate_base(BASE, Path(tmp))
        for n in sizes:
            table = Path(tmp) / f"t{n}.parquet"
            joined = build_table(src, table, n)
            runs = [measure(table) for _ in range(SUMMARY_REPEATS)]
            table.unlink()
            peaks = [float(r["peak_mb"] or 0) for r in runs]
            opens = [float(r["open_mb"]) for r in runs if r["open_mb"] is not None]
            mb, wall = (
                statistics.median(peaks),
                statistics.median(float(r["wall"] or 0) for r in runs),
            )
            opened = statistics.median(opens) if opens else None
            seconds = [float(r["seconds"] or 0) for r in runs]
            join_mb = float(joined["peak_mb"] or 0)
            base, join_base = base or mb, join_base or join_mb
            shown = "?" if opened is None else f"{opened:.0f}"
            out.append(
                f"| {n:,} | {joined['groups']:.0f} | {join_mb:.0f} | {join_mb / join_base:.2f} "
                f"| {joined['seconds']:.0f} | {median_range(peaks)} | {mb / base:.2f} | {shown} "
                f"| {median_range(seconds, '{:.1f}')} | {wall:.0f} |"
            )
            FOUND.setdefault("summary", []).append((n, mb, wall, opened))
            print(out[-1], flush=True)
    out.append("")


def targets_section(out: list[str]) -> None:
    """The targets of issue 6 against what this run measured (sections not run are left
    out)."""
    rows = []
    if "efficiency" in FOUND and "brigade" in FOUND["efficiency"]:
        eff = FOUND["efficiency"]["brigade"]
        rows.append(
            (
                "efficiency >= 0.5, brigade, one core",
                median_range(eff, "{:.2f}"),
                statistics.median(eff) >= 0.5,
            )
        )
    if "speedup" in FOUND:
        n, cores, sp = FOUND["speedup"]
        rows.append(
            (
                f"parallel speedup >= 1.8 on 2 cores, {n:,} replications ({cores} cores here)",
                median_range(sp, "{:.2f}"),
                statistics.median(sp) >= 1.8,
            )
        )
    if "memory" in FOUND:
        mem = FOUND["memory"]
        base = mem[0][1]
        worst = max(mb / base for _, mb in mem)
        rows.append(
            (
                "peak memory flat within 20 % from the smallest batch",
                " / ".join(f"{label}: {mb:.0f} MB" for label, mb in mem)
                + f" (largest x{worst:.2f})",
                worst <= 1.2,
            )
        )
    for workers, ratio in FOUND.get("ema", {}).items():
        rows.append(
            (
                f"batch overhead below EMA Workbench's ({workers} worker(s))",
                f"EMA wall / tripwire wall {median_range(ratio, '{:.2f}')}",
                statistics.median(ratio) > 1.0,
            )
        )
    if "summary" in FOUND:
        (n0, small, _, _), (n, large, wall, opened) = FOUND["summary"][0], FOUND["summary"][-1]
        footer = "" if opened is None else f"; opening the table: {opened:.0f} MB of it"
        rows.append(
            (
                f"summary phase at {n:,} within 20 % of the {n0:,} peak memory (issue 16)",
                f"{n0:,}: {small:.0f} MB / {n:,}: {large:.0f} MB (x{large / small:.2f}{footer})",
                large / small <= 1.2,
            )
        )
        rows.append(
            (
                f"summary phase at {n:,} under 2 minutes (issue 16)",
                f"{wall:.0f} s (the whole process)",
                wall < 120,
            )
        )
    if not rows:
        return
    out += [
        "## Against the targets of issues 6 and 16",
        "",
        "Each verdict is on the median of this run's repeats.",
        "",
        "| target | measured | met? |",
        "|---|---|---|",
        *[f"| {t} | {m} | {'yes' if ok else 'no'} |" for t, m, ok in rows],
        "",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=list(PROFILES), default="quick")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument(
        "--only", choices=["rates", "bound", "memory", "overhead", "summary"], nargs="*"
    )
    args = ap.parse_args()
    prof = PROFILES[args.profile]
    m = machine()
    out = [
        "# Benchmark results",
        "",
        f"`python -m benchmarks --profile {args.profile}`; machine and versions:",
        "",
        *[f"- {k}: {v}" for k, v in m.items()],
        "",
    ]
    sections: list[tuple[str, Callable[[], None]]] = [
        ("rates", lambda: rate_section(out, SHIPPED, prof["rate_n"], prof["speedup_n"])),
        ("bound", lambda: bound_section(out, SHIPPED)),
        ("memory", lambda: memory_section(out, prof["memory"], prof.get("sweep"))),
        ("overhead", lambda: overhead_section(out, prof["ema_n"])),
        ("summary", lambda: summary_section(out, SUMMARY_SIZES)),
    ]
    for name, run in sections:
        if not args.only or name in args.only:
            print(f"== {name}", flush=True)
            run()
    targets_section(out)
    text = "\n".join(out) + "\n"
    if args.only and args.out.exists():  # replace only the re-measured sections
        stamp = m["date (UTC)"]
        text = merge(args.out.read_text(), text, args.only, stamp)
    args.out.write_text(text)
    print(f"written: {args.out}")


SECTION_NUMBER = {"rates": "1", "bound": "2", "memory": "3", "overhead": "4", "summary": "5"}
TARGETS = "## Against the targets"


def _sections(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """(lines before the first section, section lines by key: its number or 'targets')."""
    head: list[str] = []
    out: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        if line.startswith("## "):
            key = "targets" if line.startswith(TARGETS) else line[3:].split(".")[0]
            out[key] = []
        (out[key] if key else head).append(line)
    return head, out


def merge(old: str, new: str, names: list[str], stamp: str) -> str:
    """``old`` RESULTS.md with the sections of ``names`` (and their rows of the targets
    table) taken from ``new``; a line in the header says what was re-measured when."""
    head, sections = _sections(old)
    _, fresh = _sections(new)
    for name in names:
        key = SECTION_NUMBER[name]
        if key in fresh:
            sections[key] = fresh[key]
    if "targets" in fresh:
        rows = {
            ln.split("|")[1]: ln for ln in fresh["targets"] if ln.startswith("| ") and "|" in ln[2:]
        }
        merged = [fresh["targets"][0]]  # the heading names every issue with targets
        for ln in sections.get("targets", fresh["targets"])[1:]:
            cell = ln.split("|")[1] if ln.startswith("| ") else None
            merged.append(rows.pop(cell, ln) if cell else ln)
        last = max(i for i, ln in enumerate(merged) if ln.startswith("| ") or i == 0)
        merged[last + 1 : last + 1] = rows.values()  # rows new to the table go last
        sections["targets"] = merged
    only = f"Re-measured with `--only {' '.join(names)}` at"
    note = (
        f"{only} {stamp} UTC: section(s) "
        + ", ".join(SECTION_NUMBER[n] for n in names)
        + " and their rows of the targets table; the rest is from the run described above."
    )
    head = [ln for ln in head if not ln.startswith(only)]  # earlier notes of others stay
    while head and not head[-1]:
        head.pop()
    order = sorted((k for k in sections if k != "targets"), key=str) + ["targets"]
    body = [ln for k in order if k in sections for ln in sections[k]]
    return "\n".join([*head, "", note, "", *body]).rstrip() + "\n"


if __name__ == "__main__":
    main()

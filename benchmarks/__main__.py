"""The tripwire benchmark: run on demand, never in the test suite.

    python -m benchmarks                 # quick profile (a few minutes on 2 cores)
    python -m benchmarks --profile full  # speedup on 10,000 replications, memory up to 10^5
    python -m benchmarks --profile long  # adds a sweep of 10^6 replications

Measures, in one run on the current machine, and writes ``benchmarks/RESULTS.md``:

1. replications per second of each shipped scenario on one worker and on all cores, as a
   whole ``simulate`` process (start-up included), and the parallel speedup;
2. the SimPy bound: SimPy's raw event rate (a bare timeout loop and a bare resource loop,
   measured here) divided by the model's events per replication (counted), and the model's
   efficiency = its in-process rate on one core / that bound;
3. the peak memory of a batch at 10^3, 10^4 (and 10^5) replications;
4. the overhead of the batch machinery: the same model function run through tripwire's
   runner and through EMA Workbench's evaluators on the same batch (``pip install -e
   '.[bench]'``; skipped with a note when EMA Workbench is not installed).

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

from benchmarks.peak import ROOT, peak_mb
from tripwire import __version__
from tripwire.loader import load_scenario
from tripwire.model import compile_plan
from tripwire.model.theatre import play, simulate
from tripwire.runner import replication_seed, run_batch

SHIPPED = ["rotational", "brigade", "permanent", "baltic_request", "suwalki_cut"]
PROFILES = {
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


def resource_loop(n: int, users: int = 8, capacity: int = 2) -> float:
    """Events per second of ``users`` processes taking turns on a capacity-limited resource
    (request, hold for a timeout, release), ``n`` turns in all."""
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
    return next(env._eid) / (time.perf_counter() - t0)  # type: ignore[attr-defined]


def events_per_replication(plan: Any, reps: int) -> float:
    """SimPy events scheduled per replication of ``plan`` (counted, not estimated)."""
    counts = [next(play(plan, replication_seed(7, i)).theatre.env._eid) for i in range(reps)]
    return float(np.mean(counts))


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
        "SimPy's raw event rate (a bare timeout loop; a bare resource loop: 8 processes taking "
        "turns on 2 slots) divided by the model's events per replication (counted by SimPy's "
        "event ids) is the bound; efficiency = the model's in-process rate / bound. The CPU "
        "speed of this machine drifts, so each repeat measures the two loops right before "
        f"the model and the efficiency is computed per repeat (median (range) of {REPEATS}).",
        "",
        "| scenario | events / replication | model, rep/s | timeout loop, M events/s "
        "| bound, rep/s | efficiency | resource loop, M events/s | bound, rep/s | efficiency |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in scenarios:
        plan = compile_plan(load_scenario(ROOT / "scenarios" / f"{name}.yaml").scenario)
        ev = events_per_replication(plan, 100)
        t_rates, r_rates, rates = [], [], []
        for _ in range(REPEATS):
            t_rates.append(timeout_loop(200_000))
            r_rates.append(resource_loop(200_000))
            rates.append(inprocess_rate(plan, 150))
        eff_t = [m * ev / t for m, t in zip(rates, t_rates)]
        eff_r = [m * ev / r for m, r in zip(rates, r_rates)]
        out.append(
            f"| {name} | {ev:,.0f} | {median_range(rates)} "
            f"| {median_range([t / 1e6 for t in t_rates], '{:.2f}')} "
            f"| {statistics.median(t_rates) / ev:.0f} | {median_range(eff_t, '{:.2f}')} "
            f"| {median_range([r / 1e6 for r in r_rates], '{:.2f}')} "
            f"| {statistics.median(r_rates) / ev:.0f} | {median_range(eff_r, '{:.2f}')} |"
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
        ones = [whole_run("brigade", speedup_n, 1, Path(tmp)) for _ in range(REPEATS)]
        manys = [whole_run("brigade", speedup_n, cores, Path(tmp)) for _ in range(REPEATS)]
    speedups = [m / o for m, o in zip(manys, ones)]
    out += [
        "",
        f"Parallel speedup, brigade, {speedup_n:,} replications, {cores} workers vs 1 "
        f"(median (range) of {REPEATS}): **{median_range(speedups, '{:.2f}')}** "
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
            print(out[-1], flush=True)
        if sweep:
            from benchmarks.sweep_memory import peak_of_sweep

            mb, wall = peak_of_sweep(sweep, cores, Path(tmp))
            out.append(f"| sweep, {sweep:,} | {mb:.0f} | {mb / (base or mb):.2f} | {wall:.0f} |")
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
        f"of {n:,} replications, the engines run alternately; overhead per replication = "
        "(wall x workers - replications x model time) / replications, with the model time "
        f"measured alone just before (median (range) of {REPEATS}). The ratio of walls is "
        "the robust figure; the overhead is a small difference of two noisy times.",
        "",
        "| workers | model alone, ms/rep | tripwire wall, s | EMA wall, s | EMA / tripwire "
        "| tripwire overhead, ms/rep | EMA overhead, ms/rep |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in sorted({1, cores}):
        model_ms, trip, emaw = [], [], []
        for _ in range(REPEATS):
            model_ms.append(1e3 / inprocess_rate(plan, min(n, 200)))
            trip.append(tripwire_batch(workers))
            emaw.append(ema_batch(workers))
        per = statistics.median(model_ms)
        over_t = [(w * workers - n * per / 1e3) / n * 1e3 for w in trip]
        over_e = [(w * workers - n * per / 1e3) / n * 1e3 for w in emaw]
        ratio = [e / t for e, t in zip(emaw, trip)]
        out.append(
            f"| {workers} | {median_range(model_ms, '{:.2f}')} | {median_range(trip, '{:.2f}')} "
            f"| {median_range(emaw, '{:.2f}')} | {median_range(ratio, '{:.2f}')} "
            f"| {median_range(over_t, '{:.2f}')} | {median_range(over_e, '{:.2f}')} |"
        )
        print(out[-1], flush=True)
    out += [f"EMA Workbench version: {ema.__version__}.", ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=list(PROFILES), default="quick")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument("--only", choices=["rates", "bound", "memory", "overhead"], nargs="*")
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
    ]
    for name, run in sections:
        if not args.only or name in args.only:
            print(f"== {name}", flush=True)
            run()
    args.out.write_text("\n".join(out) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()

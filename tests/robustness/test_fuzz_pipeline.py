"""Fuzzing the whole pipeline, everything a user can reach: mutated scenario documents
through ``simulate check``, a real ``simulate run`` with two workers, ``plot`` and ``report``
on its folder; mutated sweep files through ``simulate sweep``; mutated arguments of every
command; damaged result folders (wrong-shaped manifests and files, truncated, removed or
extra files) given to ``plot``, ``report``, ``run --resume`` and ``sweep --resume``; runs
interrupted by signals and commands racing for one folder.

Every invocation must exit 0 or 2 (1 only with a stated failure message), print no
traceback, finish within its time bound, leave no process behind and write nothing outside
its own temporary folder (tests/robustness/fuzzcases.py has the rules and the cases).

Two profiles:

* a short fixed set, in the default suite (``python -m pytest``): regression cases, one per
  kind of failure found so far;
* a long random one under the ``fuzz`` marker, on demand, a new seed each run (printed at
  the start and in every failure)::

      python -m pytest -m fuzz tests/robustness/test_fuzz_pipeline.py
      TRIPWIRE_FUZZ_SEED=20261202 TRIPWIRE_FUZZ_CASES=200 python -m pytest -m fuzz ...
      TRIPWIRE_FUZZ_SEED=20261202 TRIPWIRE_FUZZ_ONLY=17,40 python -m pytest -m fuzz ...

  ``TRIPWIRE_FUZZ_CASES`` (default 1000) cases, or only the ``TRIPWIRE_FUZZ_ONLY`` indices
  (a failure replays by itself from its seed and index); ``TRIPWIRE_FUZZ_TIMEOUT`` (default
  120) seconds per invocation; ``TRIPWIRE_FUZZ_LOG=FILE`` appends one JSON line per case
  (kind, commands, exit codes, seconds, problems).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.robustness.fuzzcases import (
    OVERLAY,
    SPEC,
    Case,
    CaseResult,
    Context,
    Step,
    build_context,
    copy_base,
    damage,
    dump,
    execute,
    new_session,
    put,
    random_case,
    register_setup,
    remember_manifests,
    special,
    standard,
)

SEED = int(os.environ.get("TRIPWIRE_FUZZ_SEED") or time.time_ns() % 10**9)
CASES = int(os.environ.get("TRIPWIRE_FUZZ_CASES", "1000"))
ONLY = os.environ.get("TRIPWIRE_FUZZ_ONLY", "")
INDICES = [int(i) for i in ONLY.split(",") if i.strip()] or list(range(CASES))
REPLAY = (
    "TRIPWIRE_FUZZ_SEED={seed} TRIPWIRE_FUZZ_ONLY={index} "
    "python -m pytest -m fuzz tests/robustness/test_fuzz_pipeline.py"
)


@pytest.fixture(scope="module")
def fuzz_ctx():
    """The session folder with the base inputs and result folders every case copies."""
    session = new_session()
    try:
        ctx = build_context(session)
        remember_manifests(ctx)
        yield ctx
    finally:
        if not os.environ.get("TRIPWIRE_FUZZ_KEEP"):
            shutil.rmtree(session, ignore_errors=True)


@pytest.fixture(scope="module")
def announce(request):
    """Print the seed before the first random case (replay needs it)."""
    line = f"tripwire pipeline fuzz: TRIPWIRE_FUZZ_SEED={SEED}, {len(INDICES)} case(s)"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print(f"\n{line}", flush=True)
    else:
        print(line, flush=True)
    return SEED


def _log(result: CaseResult, **extra: object) -> None:
    path = os.environ.get("TRIPWIRE_FUZZ_LOG")
    if not path:
        return
    record = {
        **extra,
        "kind": result.case.kind,
        "notes": result.case.notes,
        "seconds": round(result.seconds, 2),
        "steps": [
            {
                "args": r.step.args,
                "inproc": r.step.inproc,
                "code": r.code,
                "seconds": round(r.seconds, 2),
                "skipped": r.skipped,
                "problems": r.problems,
                "output": r.output[-3000:] if r.problems else "",
            }
            for r in result.results
        ],
        "problems": result.problems,
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")


def _failed(result: CaseResult) -> bool:
    return bool(result.problems or any(r.problems for r in result.results))


# -- the fixed set: regression cases, fast, in the default suite -----------------------------


def _scenario(name: str, **over: object) -> bytes:
    return dump({**OVERLAY, "name": name, **over}).encode()


def _sweep(**over: object) -> bytes:
    return dump({**SPEC, **over}).encode()


RUN = ["-n", "6", "--workers", "2", "-q"]


def _fixed() -> dict[str, Case]:
    """Regression cases, one or a few per kind of failure the fuzz has found. A command
    that fails before any work runs in process; run, sweep, plot and report on real folders,
    signals and races run as real processes."""
    two, one_or_two = frozenset({2}), frozenset({1, 2})
    high = {"triangular": {"low": 0, "mode": 3, "high": 1e300}}
    cases = [
        Case(
            "pipeline_valid_brigade",
            "scenario",
            [
                Step(["check", "ok.yaml"], inproc=True, expect=frozenset({0})),
                Step(["run", "ok.yaml", *RUN, "--out", "out"], expect=frozenset({0})),
                Step(["plot", "out"], expect=frozenset({0})),
                Step(["report", "out"], expect=frozenset({0})),
            ],
            [standard, put("ok.yaml", _scenario("ok"))],
        ),
        Case(
            "nonfinite_values_are_rejected",
            "scenario",
            [Step(["check", "f.yaml"], inproc=True, expect=two, timeout=30)],
            [
                standard,
                put(
                    "f.yaml",
                    _scenario(
                        "f",
                        horizon_days=float("inf"),
                        warning={"days": float("nan")},
                        suwalki={"closure_probability": 1e308},
                    ),
                ),
            ],
        ),
        Case(
            "huge_distribution_bound_passes_check_then_run",
            "scenario",
            [
                Step(["check", "h.yaml"], inproc=True, timeout=30),
                Step(["run", "h.yaml", *RUN, "--out", "out"], needs_ok=0, timeout=60),
            ],
            [standard, put("h.yaml", _scenario("h", warning={"days": high}))],
        ),
        Case(
            "seeds_of_2_63_and_more",
            "scenario",
            [
                Step(["check", "seed.yaml"], inproc=True, timeout=30),
                Step(["run", "seed.yaml", *RUN, "--out", "a"], needs_ok=0, timeout=60),
                Step(["run", "s.yaml", *RUN, "--seed", str(2**64), "--out", "b"], timeout=60),
            ],
            [standard, put("seed.yaml", _scenario("seed", seed=2**63))],
        ),
        Case(
            "catalogue_and_parent_files_that_are_special",
            "scenario",
            [
                Step(["check", "z.yaml"], inproc=True, expect=two, timeout=20),
                Step(["check", "p.yaml"], inproc=True, expect=two, timeout=5),
                Step(["check", "l.yaml"], inproc=True, expect=two, timeout=10),
            ],
            [
                standard,
                put("z.yaml", _scenario("z", figures_file="/dev/zero")),
                put("p.yaml", _scenario("p", assumptions_file="pipe")),
                special("pipe", "@fifo"),
                put("l.yaml", _scenario("l", extends="loop.yaml")),
                special("loop.yaml", "@loop"),
            ],
        ),
        Case(
            "sweep_sizes_beyond_memory_are_refused",
            "sweep",
            [
                Step(["sweep", "a.yaml", "-n", "4", "--out", "a", "-q"], inproc=True, expect=two),
                Step(["sweep", "b.yaml", "-n", "4", "--out", "b", "-q"], inproc=True, expect=two),
            ],
            [
                standard,
                put("a.yaml", _sweep(vary={"warning.days": "0:14:1000000000"})),
                put("b.yaml", _sweep(design="sobol", samples=10**12)),
            ],
        ),
        Case(
            "sweep_file_fields_of_wrong_types",
            "sweep",
            [
                Step(["sweep", f"{k}.yaml", "--out", k, "-q"], inproc=True, expect=two)
                for k in "abcd"
            ],
            [
                standard,
                put("a.yaml", _sweep(replications="four")),
                put("b.yaml", _sweep(seed=[1])),
                put("c.yaml", _sweep(chunk=0.5)),
                put("d.yaml", _sweep(seed=-1, design="sobol")),
            ],
        ),
        Case(
            "every_chunk_of_a_sweep_fails",
            "sweep",
            [
                Step(
                    ["sweep", "s.yaml", "--vary", "warning.days.high=1e300", "-n", "2"]
                    + ["--workers", "2", "--out", "o", "-q"],
                    timeout=90,
                )
            ],
            [standard],
        ),
        Case(
            "threshold_tolerance_and_target_out_of_range",
            "args",
            [
                Step(
                    ["threshold", "s.yaml", "--vary", "warning.days=0:14", "-n", "2"]
                    + ["--target", "p_beat_fa_lithuania>=0.5", "--tolerance", tol],
                    inproc=True,
                    timeout=60,
                )
                for tol in ("inf", "5e-324", "1e-300")
            ]
            + [
                Step(
                    ["threshold", "s.yaml", "--vary", "warning.days=0:14", "-n", "2"]
                    + ["--target", target],
                    inproc=True,
                    expect=two,
                    timeout=60,
                )
                for target in ("p_beat_fa_lithuania>=1.5", "p_beat_fa_lithuania>=nan")
            ],
            [standard],
        ),
        Case(
            "sweep_scheduler_addresses",
            "args",
            [
                Step(
                    ["sweep", "s.yaml", "--vary", "warning.days=0,1", "-n", "2", "--out", f"o{i}"]
                    + ["-q", "--scheduler", address, "--connect-timeout", "0.5"],
                    inproc=True,
                    expect=two,
                    timeout=60,
                )
                for i, address in enumerate(("tcp://127.0.0.1:1", "nonsense", "tls://127.0.0.1:1"))
            ],
            [standard],
        ),
        Case(
            "plot_and_report_to_unwritable_places",
            "args",
            [
                Step(["plot", "res", "-k", "ttr", "-f", "png", "--out", "file.txt/sub"]),
                Step(["plot", "blocked", "-k", "ttr", "-f", "png"]),  # its plots/ is a file
                # a special file of the case's own, never a system device (run as root, a
                # regression would replace it)
                Step(["report", "res", "--out", "fifo.html"], expect=one_or_two),
                Step(["report", "res", "--out", "."]),
                Step(
                    ["validate", "REGISTER.yaml", "--only", "klaipeda_2021_offload", "-n", "10"]
                    + ["--docs", "fifo.md"],
                    inproc=True,
                    timeout=15,
                ),
            ],
            [
                standard,
                copy_base("run", "res"),
                copy_base("run", "blocked"),
                put("blocked/plots", b"a file where the plots folder goes\n"),
                register_setup,
                special("fifo.md", "@fifo"),
                special("fifo.html", "@fifo"),
            ],
        ),
        Case(
            "wrong_shaped_run_manifest",
            "folder",
            [
                Step([command, folder], inproc=True, expect=two, timeout=60)
                for folder in ("a", "b")
                for command in ("plot", "report")
            ]
            + [Step(["report", "c"], inproc=True, expect=two, timeout=60)],
            [
                standard,
                copy_base("run", "a"),
                damage("a", [("manifest-raw", b'{"files": [], "complete": true, "scenarios": 5}')]),
                copy_base("run", "b"),
                damage("b", [("manifest-set", (["scenarios"], ["fz", 3]))]),
                copy_base("run", "c"),
                damage("c", [("json-set", ("comparison.json", [0], "x"))]),
            ],
        ),
        Case(
            "wrong_shaped_sweep_manifest_and_results",
            "folder",
            [
                Step(["plot", "a"], inproc=True, expect=two, timeout=60),
                Step(["report", "a"], inproc=True, expect=two, timeout=60),
                Step(["report", "b"], inproc=True, expect=two, timeout=60),
            ],
            [
                standard,
                copy_base("sweep", "a"),
                damage("a", [("manifest-set", (["spec"], 5))]),
                copy_base("sweep", "b"),
                damage(
                    "b",
                    [
                        (
                            "json-set",
                            ("sensitivity.json", ["postures", "fz", "p_beat_fa_theatre"], []),
                        )
                    ],
                ),
            ],
        ),
        Case(
            "resume_of_wrong_shaped_manifests",
            "folder",
            [
                Step(["run", "--resume", "a", "-q", "--workers", "2"], inproc=True, expect=two),
                Step(["run", "--resume", "b", "-q", "--workers", "2"], inproc=True, expect=two),
                Step(
                    ["sweep", "spec.yaml", "--resume", "c", "-q", "--workers", "2"],
                    inproc=True,
                    expect=two,
                ),
            ],
            [
                standard,
                copy_base("run_partial", "a"),
                damage("a", [("manifest-set", (["stages"], [{"first": 0, "target": 30}]))]),
                copy_base("run_partial", "b"),
                damage("b", [("manifest-set", (["resume", "files"], 7))]),
                copy_base("sweep_partial", "c"),
                damage("c", [("manifest-set", (["spec"], []))]),
            ],
        ),
        Case(
            "two_forced_runs_claim_one_folder_at_once",
            "concurrent",
            [
                Step(["run", "s.yaml", *RUN, "--out", "out", "--force"], with_next=True),
                Step(["run", "s.yaml", *RUN, "--out", "out", "--force"]),
            ],
            [standard, copy_base("run", "out")],
            post=_one_claim,
        ),
        Case(
            "no_worker_outlives_a_killed_run",
            "signal",
            [
                Step(
                    ["run", "s.yaml", "-n", "60", "--workers", "2", "--out", "out", "-q"],
                    signal="SIGKILL",
                    wait_for="out/parts/*/*.parquet",
                )
            ],
            [standard],
        ),
        Case(
            "bad_arguments_of_every_command",
            "args",
            [
                Step(args, inproc=True, expect=two, timeout=30)
                for args in (
                    ["version", "extra"],
                    ["check"],
                    ["sources"],
                    ["run", "s.yaml", "-n", "0"],
                    ["run", "s.yaml", "--workers", "0"],
                    ["sweep", "s.yaml", "--vary", "warning.days=0,1", "--design", "nope"],
                    ["threshold", "s.yaml", "--vary", "warning.days", "--target", "x>=1"],
                    ["plot", "missing"],
                    ["report", "file.txt"],
                    ["validate", "missing.yaml"],
                    ["nope"],
                )
            ],
            [standard],
        ),
        Case(
            "names_and_encodings",
            "scenario",
            [
                Step(["check", "dotdot.yaml"], inproc=True, expect=two),
                Step(["check", "slash.yaml"], inproc=True, expect=two),
                Step(["check", "latin1.yaml"], inproc=True, expect=two),
                Step(["check", "nul.yaml"], inproc=True, expect=two),
                Step(["check", "utf16.yaml"], inproc=True),
            ],
            [
                standard,
                put("dotdot.yaml", _scenario("..")),
                put("slash.yaml", _scenario("a/b")),
                put("latin1.yaml", b"description: Z\xfcrich\n" + _scenario("l")),
                put("nul.yaml", _scenario("n") + b"\x00\n"),
                put("utf16.yaml", _scenario("u").decode().encode("utf-16")),
            ],
        ),
    ]
    return {c.label: c for c in cases}


def _one_claim(results, dirs) -> list[str]:
    if results[0].code == 0 and results[1].code == 0:
        return ["both concurrent runs claimed the same --out folder (exit 0 each)"]
    return []


FIXED = _fixed()


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_pipeline_case(name, fuzz_ctx: Context):
    result = execute(FIXED[name], fuzz_ctx)
    _log(result, fixed=name)
    if _failed(result):
        pytest.fail(result.message(f"fixed pipeline case {name} failed"), pytrace=False)


# -- the random profile (on demand: -m fuzz) -------------------------------------------------


@pytest.mark.fuzz
@pytest.mark.parametrize("index", INDICES, ids=[f"seed{SEED}-{i}" for i in INDICES])
def test_random_pipeline_case(index: int, fuzz_ctx: Context, announce: int):
    case = random_case(SEED, index, fuzz_ctx)
    result = execute(case, fuzz_ctx)
    _log(result, seed=SEED, index=index)
    if _failed(result):
        header = (
            f"random pipeline case {index} of TRIPWIRE_FUZZ_SEED={SEED} failed\n"
            f"replay: {REPLAY.format(seed=SEED, index=index)}"
        )
        pytest.fail(result.message(header), pytrace=False)


def test_random_cases_replay_identically(fuzz_ctx: Context):
    """A case is a function of (seed, index) alone: what a failure message prints replays."""
    for index in (0, 1, 7):
        a, b = random_case(SEED, index, fuzz_ctx), random_case(SEED, index, fuzz_ctx)
        assert [s.args for s in a.steps] == [s.args for s in b.steps]
        assert a.notes == b.notes and a.inputs == b.inputs


def test_the_session_folder_is_outside_the_repository(fuzz_ctx: Context):
    assert not Path(fuzz_ctx.session).resolve().is_relative_to(Path(__file__).parents[2])

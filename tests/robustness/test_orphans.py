"""No process outlives the coordinator, and Ctrl-C on a Dask sweep prints no worker traceback.

Each test starts a real ``simulate`` process in its own session (like a terminal job), so its
session id is its pid and every process it starts (the fork server, the resource tracker, the
workers, Dask's workers), however deep, is found by session even after the coordinator is
gone and they have been re-parented. A failing test kills the whole process group, so it
never leaves processes behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.conftest import SCENARIOS

BRIGADE = str(SCENARIOS / "brigade.yaml")
GRACE_S = 10.0  # how long the survivors of a killed coordinator may take to exit

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="real signals, Linux")


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tripwire", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def session(leader: int) -> list[psutil.Process]:
    """The live processes of the session ``leader`` started, other than ``leader``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if (
                proc.pid != leader
                and os.getsid(proc.pid) == leader
                and proc.status() != psutil.STATUS_ZOMBIE  # exited; reaped when init gets to it
            ):
                found.append(proc)
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            continue
    return found


def cmdlines(procs: list[psutil.Process]) -> list[str]:
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid}: {' '.join(proc.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return out


def wait_for(predicate: Callable[[], bool], p: subprocess.Popen[str], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if p.poll() is not None:
            _, stderr = p.communicate()
            pytest.fail(f"simulate ended early ({p.returncode}): {stderr}")
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


def deaf_to_sigint(pid: int) -> bool:
    """SIGINT is blocked or ignored in process ``pid`` (its main thread)."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    bit = 1 << (signal.SIGINT - 1)
    return any(int(fields[k], 16) & bit for k in ("SigBlk", "SigIgn"))


def first_part(folder: Path) -> Callable[[], bool]:
    return lambda: any((folder / "parts").rglob("*.parquet"))


def gone_within(leader: int, timeout: float) -> tuple[float, list[str]]:
    """Seconds until no process of the session is left, and those left at ``timeout``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if not session(leader):
            return time.monotonic() - t0, []
        time.sleep(0.02)
    return time.monotonic() - t0, cmdlines(session(leader))


def kill_group(p: subprocess.Popen[str]) -> None:
    """Whatever a failing test left: the process group and anything else in the session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
    for proc in session(p.pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    p.communicate()


CASES = {
    "run": (["run", BRIGADE, "-n", "2000", "--workers", "2"], 2),
    "sweep": (["sweep", BRIGADE, "--vary", "warning.days=0,5", "-n", "500", "--workers", "2"], 2),
    "sweep-dask": (["sweep", BRIGADE, "--vary", "warning.days=0,5", "-n", "500"], 2),
}


@pytest.mark.parametrize("case", CASES)
def test_killing_the_coordinator_ends_every_process_it_started(tmp_path, case):
    args, workers = CASES[case]
    out = tmp_path / "out"
    dask = case.endswith("dask")
    p = start(*args, *(["--dask-local", "2"] if dask else []), "--out", str(out), "-q")
    try:
        # multiprocessing's resource tracker, the local pool's fork server, and the workers
        helpers = ["resource_tracker"] if dask else ["resource_tracker", "forkserver"]

        def busy() -> bool:
            procs = cmdlines(session(p.pid))
            return (
                all(any(h in c for c in procs) for h in helpers)
                and len(procs) >= len(helpers) + workers
                and first_part(out)()  # the workers are mid-batch
            )

        wait_for(busy, p, timeout=120)
        assert p.poll() is None
        os.kill(p.pid, signal.SIGKILL)  # the coordinator alone: no cleanup runs in it
        took, survivors = gone_within(p.pid, GRACE_S)
        assert not survivors, f"still running {GRACE_S:g} s after the coordinator died"
        print(f"{case}: every process gone {took:.2f} s after SIGKILL of the coordinator")
        p.wait(timeout=10)
        assert p.returncode == -signal.SIGKILL
    finally:
        kill_group(p)


def test_ctrl_c_on_a_dask_sweep_prints_no_worker_traceback_and_leaves_no_process(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", BRIGADE, "--vary", "warning.days=0,5", "-n", "500", "--dask-local", "2"]
    p = start(*args, "--out", str(out), "-q")
    try:
        wait_for(first_part(out), p, timeout=120)
        workers = [q for q in session(p.pid) if "spawn_main" in " ".join(q.cmdline())]
        assert len(workers) == 2  # the Dask workers, in the group that gets the signal
        # the signal reaches them: whether one prints a traceback is a race with the
        # coordinator stopping it, so check also that none can get it
        assert all(deaf_to_sigint(q.pid) for q in workers)
        os.killpg(p.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole group
        _, stderr = p.communicate(timeout=60)
        assert p.returncode == 130, stderr
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
        assert f"interrupted: finished chunks are kept; continue with --resume {out}" in stderr
        took, survivors = gone_within(p.pid, GRACE_S)
        assert not survivors
    finally:
        kill_group(p)

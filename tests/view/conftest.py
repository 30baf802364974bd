"""Stored result folders (tests/fixtures, made by `python -m tests.fixtures.make`): the plot
and report tests read these and never simulate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tripwire.folders import RunFolder, SweepFolder, open_result

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="session")
def run3() -> RunFolder:
    f = open_result(FIXTURES / "run3")
    assert isinstance(f, RunFolder)
    return f


@pytest.fixture(scope="session")
def sweep_grid() -> SweepFolder:
    f = open_result(FIXTURES / "sweep_grid")
    assert isinstance(f, SweepFolder)
    return f


@pytest.fixture(scope="session")
def sweep_sobol() -> SweepFolder:
    f = open_result(FIXTURES / "sweep_sobol")
    assert isinstance(f, SweepFolder)
    return f


@pytest.fixture
def run_copy(tmp_path: Path) -> Path:
    """A private copy of the run fixture, to damage."""
    dest = tmp_path / "run3"
    shutil.copytree(FIXTURES / "run3", dest)
    return dest

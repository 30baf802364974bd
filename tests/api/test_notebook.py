"""The notebook (docs/notebook.py, jupytext percent format) runs from start to end, as a
script in a fresh process, with real worker processes: it cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_the_notebook_runs(tmp_path):
    env = {**os.environ, "TRIPWIRE_NOTEBOOK_OUT": str(tmp_path), "MPLBACKEND": "Agg"}
    p = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "notebook.py")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "difference_of_medians_h" in p.stdout and "ttr_rmean_theatre_h" in p.stdout
    assert (tmp_path / "reinforced.png").stat().st_size > 10_000
    assert (tmp_path / "run" / "manifest.json").is_file()
    assert (tmp_path / "sweep" / "points.parquet").is_file()

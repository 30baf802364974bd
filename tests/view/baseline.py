"""Regenerate the canonical image of tests/view/test_plots.py:

    python -m tests.view.baseline

Only when a change to the build-up figure is intended; look at the new image first.
"""

from __future__ import annotations

from pathlib import Path

from tripwire.folders import open_result
from tripwire.plots import plot

HERE = Path(__file__).parent

if __name__ == "__main__":
    (path,) = plot(
        open_result(HERE.parent / "fixtures" / "run3"),
        ["buildup"],
        out=HERE / "baseline",
        formats=("png",),
    )
    print(path)

"""House style of the figures: colour-blind-safe palette, labels, footer, atomic saving.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state), so plotting
is safe in any process and never opens a window.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from tripwire import __version__
from tripwire.plotkinds import FORMATS
from tripwire.results import write_bytes

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour
# vision deficiency. Yellow is left out (invisible as a line on white).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 3)), (0, (8, 3)))
GREY = "#777777"
SEQUENTIAL = "cividis"  # perceptually uniform and colour-blind safe, for heatmaps

RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "tripwire",  # deterministic SVG ids
    "svg.fonttype": "none",  # text stays text in SVG (searchable, small)
}


def style() -> AbstractContextManager[None]:
    """The house rcParams, for building and saving a figure."""
    return mpl.rc_context(RC)  # type: ignore[arg-type]


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def linestyle(i: int) -> str | tuple[int, tuple[int, ...]]:
    return LINESTYLES[i % len(LINESTYLES)]  # type: ignore[return-value]


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def footer(
    fig: Figure, scenarios: Sequence[str], replications: int, seed: int, folder: str
) -> None:
    """The provenance line every figure carries: what was run, how often, with which seed."""
    text = (
        f"scenarios: {', '.join(scenarios)}  |  {replications:,} replications each  |  "
        f"seed {seed}  |  tripwire {__version__}  |  {folder}"
    )
    fig.supxlabel(text, fontsize=7, color=GREY, x=0.01, ha="left")


def save(fig: Figure, folder: Path, stem: str, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write ``folder/stem.<fmt>`` for each format atomically; return the paths."""
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, metadata=_metadata(fmt))
        path = folder / f"{stem}.{fmt}"
        write_bytes(path, buf.getvalue())
        paths.append(path)
    return paths


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=_metadata("png"))
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, str | None]:
    """No creation date or software version in the files: same inputs, same bytes."""
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "png":
        return {"Software": None}
    return {}

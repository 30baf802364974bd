"""A finished folder's summary and comparison as flat CSV (``simulate export``).

Run folder: ``summary.csv`` (tidy: scenario, area, metric, value, lo, hi, the same table as
the API's ``Results.summary``), ``comparison.csv`` (tidy paired differences, as
``Results.compare()``, when several scenarios were run) and ``phases.csv`` (posture,
country, phase, mean, p10, p50, p90 hours of the formations that decided each
time-to-reinforce). Sweep folder: ``points.csv`` and ``comparison.csv`` (the Parquet
tables as they are). Written to ``FOLDER/csv/`` unless another folder is given; every file
is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from tripwire.atomic import write_text
from tripwire.folders import RunFolder, SweepFolder, open_result


def export_csv(folder: Path, out: Path | None = None) -> list[Path]:
    """Write the CSV files of ``folder`` (module docstring); returns their paths."""
    from tripwire import api

    f = open_result(folder)
    dest = out or folder / "csv"
    written: list[Path] = []

    def put(name: str, frame: object) -> None:
        path = dest / name
        write_text(path, frame.to_csv(index=False))  # type: ignore[attr-defined]
        written.append(path)

    res = api.open(folder)
    if isinstance(f, RunFolder):
        assert isinstance(res, api.Results)
        put("summary.csv", res.summary)
        if f.comparisons:
            put("comparison.csv", res.compare())
        put("phases.csv", _phases_frame(f))
    else:
        assert isinstance(f, SweepFolder) and isinstance(res, api.SweepResults)
        put("points.csv", res.points)
        put("comparison.csv", res.compare())
    return written


def _phases_frame(f: RunFolder) -> object:
    import pandas as pd

    from tripwire.phases import PHASES
    from tripwire.plot_story import folder_phases

    rows = []
    for s, block in folder_phases(f).items():
        for c, cp in block.items():
            for p in PHASES:
                e = cp["phases_h"][p]
                rows.append(
                    {
                        "scenario": s,
                        "posture": f.posture(s),
                        "country": c,
                        "phase": p,
                        "decided_by_a_formation": cp["decided_by_a_formation"],
                        "replications": cp["replications"],
                        **{k: e[k] for k in ("mean", "p10", "p50", "p90")},
                    }
                )
    return pd.DataFrame(rows)

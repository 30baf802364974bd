"""tripwire as a Python library: load a scenario, run, sweep, search a threshold, open a
result folder, and get pandas DataFrames.

    import tripwire
    r = tripwire.run(["scenarios/rotational.yaml", "scenarios/brigade.yaml"],
                     replications=200, overrides={"warning.days": 5})
    r.summary                      # tidy: scenario, area, metric, value, lo, hi
    r.compare()                    # tidy paired differences
    r.replications                 # one row per (scenario, replication)
    r.plot("reinforced")           # a matplotlib Figure

Every call goes through the same experiment layer as ``simulate`` (:mod:`tripwire.campaign`):
the same folders, manifests, checksums and numbers. Errors are
:class:`~tripwire.errors.TripwireError` (bad input, a folder in use, a failed batch).
"""

from __future__ import annotations

import builtins
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tripwire.columns as C
from tripwire import campaign
from tripwire.errors import UsageError
from tripwire.folders import RunFolder, SweepFolder, open_result
from tripwire.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]


def _paths(scenarios: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(scenarios, str | os.PathLike):
        return [Path(scenarios)]
    out = [Path(p) for p in scenarios]
    if not out:
        raise UsageError("give at least one scenario file")
    return out


def load(path: PathLike, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """The validated scenario of a YAML file, with ``overrides`` applied by dotted path
    (``{"warning.days": 5}``, ``{"countries.latvia.threat_troops": {"uniform": {"low":
    15000, "high": 25000}}}``, ``{"network.links.gap_rail.channels": 4}``)."""
    (ls,) = campaign.load_all([Path(path)], dict(overrides or {}))
    return ls.scenario


def run(
    scenarios: PathLike | Iterable[PathLike],
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    precision: str | None = None,
    max_replications: int = 100_000,
    force: bool = False,
    yes: bool = False,
    quiet: bool = True,
) -> Results:
    """Run a Monte Carlo batch of each scenario file (several are paired under common
    random numbers) and return its :class:`Results`.

    ``out=None`` writes to a new temporary folder (kept: ``Results.folder``); ``workers``
    defaults to every core (one process where worker processes cannot start, with a
    one-line note). ``overrides`` apply to every scenario. ``precision`` (e.g.
    ``"p_beat_fa_theatre=0.01"``) adds replications until that CI half-width is reached.
    """
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="tripwire-run-"))
    r = campaign.run(
        _paths(scenarios),
        replications=replications,
        seed=seed,
        workers=workers or os.cpu_count() or 1,
        out_dir=folder,
        force=force,
        yes=yes,
        precision=precision,
        max_replications=max_replications,
        overrides=dict(overrides) if overrides else None,
        command="tripwire.run(...)",
        reporter=campaign.Silent(echo=not quiet),
    )
    return Results(RunFolder_open(r.folder))


def resume(folder: PathLike, workers: int | None = None, quiet: bool = True) -> Results:
    """Continue an interrupted run in ``folder`` (a complete one is just opened)."""
    r = campaign.run(
        None,
        workers=workers or os.cpu_count() or 1,
        resume=Path(folder),
        command="tripwire.resume(...)",
        reporter=campaign.Silent(echo=not quiet),
    )
    return Results(RunFolder_open(r.folder))


def sweep(
    scenarios: PathLike | Iterable[PathLike],
    vary: Mapping[str, Any] | Sequence[str],
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: PathLike | None = None,
    *,
    chunk: int | None = None,
    dask_local: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    yes: bool = False,
    quiet: bool = True,
) -> SweepResults:
    """Run a parameter sweep, as ``simulate sweep``: ``vary`` maps dotted paths to a range
    ``"LOW:HIGH[:N]"`` or a list of values (or gives ``"PATH=SPEC"`` texts); ``design``:
    grid (default), lhs, sobol or morris."""
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="tripwire-sweep-"))
    r = campaign.sweep(
        _paths(scenarios),
        vary=dict(vary) if isinstance(vary, Mapping) else list(vary),
        design=design,
        samples=samples,
        replications=replications,
        seed=seed,
        workers=workers or os.cpu_count() or 1,
        chunk=chunk,
        scheduler=scheduler,
        dask_local=dask_local,
        out_dir=folder,
        force=force,
        yes=yes,
        command="tripwire.sweep(...)",
        reporter=campaign.Silent(echo=not quiet),
    )
    opened = open_result(r.folder)
    assert isinstance(opened, SweepFolder)
    return SweepResults(opened, r.failures)


def threshold(
    scenario: PathLike,
    vary: str,
    target: str,
    replications: int | None = None,
    seed: int | None = None,
    tolerance: float | None = None,
    workers: int | None = None,
    *,
    yes: bool = False,
    quiet: bool = True,
) -> dict[str, Any]:
    """The smallest value of one parameter (``vary="warning.days=0:30"``) at which a
    metric meets ``target`` (``"p_beat_fa_lithuania>=0.9"``), as ``simulate threshold``:
    a dict with ``estimate`` and ``conservative`` (value, bracket, metric, CI) and every
    evaluation."""
    t = campaign.threshold(
        Path(scenario),
        vary,
        target,
        replications=replications,
        seed=seed,
        tolerance=tolerance,
        workers=workers or os.cpu_count() or 1,
        yes=yes,
        reporter=campaign.Silent(echo=not quiet),
    )
    return t.result


def open(folder: PathLike) -> Results | SweepResults:  # noqa: A001 - the public name
    """The results of a finished run or sweep folder (files checked against the manifest)."""
    f = open_result(Path(folder))
    return Results(f) if isinstance(f, RunFolder) else SweepResults(f, [])


def RunFolder_open(path: Path) -> RunFolder:  # noqa: N802 - internal helper
    f = open_result(path)
    assert isinstance(f, RunFolder)
    return f


def _estimate_rows(prefix: dict[str, Any], metric: str, e: Any) -> dict[str, Any]:
    if isinstance(e, Mapping):
        return {
            **prefix,
            "metric": metric,
            "value": e.get("value"),
            "lo": e.get("lo"),
            "hi": e.get("hi"),
        }
    return {**prefix, "metric": metric, "value": e, "lo": None, "hi": None}


_COLUMNS = ["scenario", "area", "metric", "value", "lo", "hi"]


@dataclass
class Results:
    """A finished run: its folder, DataFrames, tidy summaries and figures."""

    run: RunFolder

    @property
    def folder(self) -> Path:
        return self.run.path

    @property
    def scenarios(self) -> list[str]:
        return self.run.scenarios

    def _frame(self, rel: str) -> pd.DataFrame:
        import pandas as pd
        import pyarrow.parquet as pq

        frames = []
        for s in self.scenarios:
            df = pq.read_table(self.run.file(f"{s}/{rel}")).to_pandas()
            df.insert(0, "scenario", s)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def replications(self) -> pd.DataFrame:
        """One row per (scenario, replication): every column of replications.parquet
        (docs/glossary.md), with the scenario's name first."""
        return self._frame("replications.parquet")

    @cached_property
    def formations(self) -> pd.DataFrame:
        """The closure table: one row per (scenario, replication, formation)."""
        return self._frame("formations.parquet")

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Tidy summary: columns scenario, area, metric, value, lo, hi (95 % CI; NaN where a
        bound lies beyond the horizon or there is none). Metrics: ``ttr_p10_h``,
        ``ttr_p50_h``, ``ttr_p90_h``, ``p_reinforced_by_<t>``, ``p_beat_fa``, ``p_hold``,
        ``fait_accompli_h``, ``censored_share`` and, per country, ``required_mean``,
        ``in_place_at_attack_mean``."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for s, summ in self.run.summaries.items():
            for area, a in summ["areas"].items():
                key = {"scenario": s, "area": area}
                for q, e in a["ttr_h"].items():
                    rows.append(_estimate_rows(key, C.TIDY_TTR(q=q), e))
                for cp, e in a["p_reinforced_by"].items():
                    rows.append(_estimate_rows(key, C.TIDY_P_REINFORCED_BY(checkpoint=cp), e))
                for name in ("p_beat_fa", "p_hold", "fait_accompli_h"):
                    if name in a:
                        rows.append(_estimate_rows(key, name, a[name]))
                rows.append(_estimate_rows(key, "censored_share", a["censored_share"]))
                for name, col in (
                    ("required_troops_mean", "required_mean"),
                    ("in_place_at_attack_mean", "in_place_at_attack_mean"),
                ):
                    if name in a:
                        rows.append(_estimate_rows(key, col, a[name]))
        df = pd.DataFrame(rows, columns=_COLUMNS)
        for c in ("value", "lo", "hi"):
            df[c] = pd.to_numeric(df[c])
        return df

    def compare(self) -> pd.DataFrame:
        """Tidy paired differences (b - a, common random numbers): columns a, b, area,
        metric, value, lo, hi. Metrics: ``difference_of_medians_h``,
        ``median_of_differences_h``, ``p_beat_fa_difference``, ``p_hold_difference``,
        ``p_b_earlier``, ``p_b_later``."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for c in self.run.comparisons:
            for area, x in c["areas"].items():
                key = {"a": c["a"], "b": c["b"], "area": area}
                for name in (
                    "difference_of_medians_h",
                    "median_of_differences_h",
                    "p_beat_fa_difference",
                    "p_hold_difference",
                    "p_b_earlier",
                    "p_b_later",
                ):
                    if name in x:
                        rows.append(_estimate_rows(key, name, x[name]))
        df = pd.DataFrame(rows, columns=["a", "b", "area", "metric", "value", "lo", "hi"])
        for col in ("value", "lo", "hi"):
            df[col] = pd.to_numeric(df[col])
        return df

    def plot(self, kind: str = "reinforced") -> Figure:
        """One figure of ``simulate plot`` (reinforced, ttr, buildup, bottlenecks)."""
        from tripwire.plots import figure

        return figure(self.run, kind)

    def __repr__(self) -> str:
        return (
            f"Results({str(self.folder)!r}: {', '.join(self.scenarios)}, "
            f"{self.run.replications} replications each)"
        )


@dataclass
class SweepResults:
    """A finished sweep: points (one row per posture and point), comparisons, indices."""

    sweep: SweepFolder
    failures: builtins.list[dict[str, Any]]

    @property
    def folder(self) -> Path:
        return self.sweep.path

    @cached_property
    def points(self) -> pd.DataFrame:
        import pyarrow.parquet as pq

        return pq.read_table(self.sweep.file("points.parquet")).to_pandas()

    @cached_property
    def replications(self) -> pd.DataFrame:
        import pyarrow.parquet as pq

        return pq.read_table(self.sweep.file("replications.parquet")).to_pandas()

    def compare(self) -> pd.DataFrame:
        import pyarrow.parquet as pq

        return pq.read_table(self.sweep.file("comparison.parquet")).to_pandas()

    @property
    def sensitivity(self) -> dict[str, Any]:
        return self.sweep.sensitivity

    def plot(self, kind: str = "response", **options: Any) -> Figure:
        """One figure of ``simulate plot`` for sweeps (response, heatmap, sensitivity);
        ``options``: x, y, metric."""
        from tripwire.plots import Options, figure

        return figure(self.sweep, kind, Options(**options))

    def __repr__(self) -> str:
        return f"SweepResults({str(self.folder)!r}: factors {', '.join(self.sweep.factors)})"


__all__ = [
    "Results",
    "SweepResults",
    "load",
    "open",
    "resume",
    "run",
    "sweep",
    "threshold",
]

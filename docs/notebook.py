# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # tripwire from Python
#
# A notebook in jupytext's percent format: open it in Jupyter with jupytext, or run it as
# a script (`python docs/notebook.py`). The test suite runs it (`tests/api/test_notebook.py`),
# so it cannot rot. It goes: load a scenario, run postures, read the results as pandas
# DataFrames, compare them, plot, sweep a parameter, and hand the model to EMA Workbench.
#
# Everything is written under one folder (`TRIPWIRE_NOTEBOOK_OUT`, by default a new
# temporary one). Replications are kept small so that it runs in well under a minute; use
# the scenario files' 2,000 for numbers worth quoting.

# %%
import os
import tempfile
from pathlib import Path

import tripwire

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
SCENARIOS = HERE.parent / "scenarios"
OUT = Path(os.environ.get("TRIPWIRE_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="notebook-"))
print(tripwire.__version__, OUT)

# %% [markdown]
# ## Load a scenario and change one value
#
# `load` validates the file; `overrides` set any value by its dotted path (a number, or a
# distribution written as in a file).

# %%
brigade = tripwire.load(SCENARIOS / "brigade.yaml", {"warning.days": 7})
print(
    brigade.posture, "| warning:", brigade.warning.days, "| horizon:", brigade.horizon_days, "days"
)

# %% [markdown]
# ## Run two postures, paired
#
# Several scenarios share their replications' seeds (common random numbers), so their
# difference is the posture's, not noise.

# %%
results = tripwire.run(
    [SCENARIOS / "rotational.yaml", SCENARIOS / "brigade.yaml"],
    replications=100,
    seed=20261123,
    out=OUT / "run",
)
print(results)

# %% [markdown]
# ## The results as DataFrames
#
# `summary` is tidy: one row per scenario, area and metric, with its 95 % interval.

# %%
s = results.summary
theatre = s[(s.area == "theatre") & s.metric.isin(["ttr_p50_h", "p_beat_fa", "p_hold"])]
print(theatre.to_string(index=False))

# %%
reps = results.replications
print(reps.groupby("scenario")[["ttr_lithuania_h", "fait_accompli_lithuania_h"]].median())

# %% [markdown]
# ## Paired comparison: brigade - rotational

# %%
c = results.compare()
print(c[c.metric == "difference_of_medians_h"].to_string(index=False))

# %% [markdown]
# ## A figure

# %%
fig = results.plot("reinforced")
fig.savefig(OUT / "reinforced.png")
print(len(fig.axes), "panels")

# %% [markdown]
# ## A sweep: warning time

# %%
sweep = tripwire.sweep(
    [SCENARIOS / "rotational.yaml", SCENARIOS / "permanent.yaml"],
    {"warning.days": [0, 10, 20]},
    replications=30,
    out=OUT / "sweep",
)
print(sweep.points[["posture", "x.warning.days", "p_beat_fa_lithuania", "p_hold_theatre"]])

# %% [markdown]
# ## EMA Workbench
#
# `tripwire.ema.model` wraps a scenario as an EMA model: uncertainties over the ranges
# given (or every distribution of the scenario), outcomes per area, a fixed seed.

# %%
import logging  # noqa: E402

import ema_workbench as ema  # noqa: E402

import tripwire.ema  # noqa: E402

logging.getLogger("EMA").setLevel(logging.WARNING)
model = tripwire.ema.model(
    SCENARIOS / "brigade.yaml",
    {"warning.days": (0, 20), "pool.theatre_share": (0.05, 0.4)},
    outcomes=["ttr_rmean_theatre_h", "p_hold_lithuania"],
    replications=20,
    seed=7,
)
with ema.SequentialEvaluator(model) as evaluator:
    experiments, outcomes = evaluator.perform_experiments(scenarios=6)
experiments["ttr_rmean_theatre_h"] = outcomes["ttr_rmean_theatre_h"]
print(experiments[["warning.days", "pool.theatre_share", "ttr_rmean_theatre_h"]].round(2))

"""Shared helpers: a minimal analytic theatre built in code, and paths of shipped files."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import settings

from tripwire.model import compile_plan, simulate
from tripwire.runner import replication_seed
from tripwire.scenario import Scenario

os.environ["COLUMNS"] = "200"  # wide tables in CliRunner output (rich reads it at start)

# Property tests are deterministic by default (the same examples every run, so CI cannot
# flake); HYPOTHESIS_PROFILE=explore draws new examples each run to look for more.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHIPPED = ["rotational", "brigade", "permanent", "baltic_request", "suwalki_cut"]


def country(node: str, required: float) -> dict[str, Any]:
    return {
        "node": node,
        "required_troops": required,
        "fait_accompli_unopposed_hours": 48,
        "reception_hours": 0,
    }


def link(id_: str, src: str, dst: str, **kw: Any) -> dict[str, Any]:
    base = {
        "id": id_,
        "from": src,
        "to": dst,
        "mode": "rail",
        "transit_hours": 0,
        "service_hours": 0,
        "channels": None,
        "items_per_load": 100,
        "troops_per_load": 100,
    }
    return {**base, **kw}


def mini(**over: Any) -> dict[str, Any]:
    """A theatre where everything is deterministic and only Lithuania needs troops.

    origin --rail (1 link 'main')--> lt ; lv and ee reached by instant roads from lt;
    required: lithuania as given, the others 0.
    """
    d: dict[str, Any] = {
        "name": "mini",
        "posture": "test",
        "scenario_date": "2026-12-31",
        "replications": 5,
        "seed": 1,
        "horizon_days": 60,
        "checkpoints_hours": [24],
        "routing": "static",
        "warning": {"days": 0, "decision_delay_hours": 0},
        "countries": {
            "estonia": country("ee", 0),
            "latvia": country("lv", 0),
            "lithuania": country("lt", 1000),
        },
        "network": {
            "nodes": {
                n: {"kind": k}
                for n, k in [
                    ("origin", "origin"),
                    ("lt", "country"),
                    ("lv", "country"),
                    ("ee", "country"),
                ]
            },
            "links": [
                link("main", "origin", "lt", channels=1, service_hours=2, transit_hours=10),
                link("lt_lv", "lt", "lv", mode="road"),
                link("lv_ee", "lv", "ee", mode="road"),
            ],
        },
        "suwalki": {"closure_probability": 0, "closure_hours": 0},
        "equipment_items_per_troop": {"light": 0, "mechanised": 0, "armoured": 1},
        "units": [
            {
                "name": "A",
                "troops": 1000,
                "type": "armoured",
                "origin": "origin",
                "destination": "lithuania",
                "readiness_hours": 0,
            }
        ],
    }
    return _deep_update(d, over)


def _deep_update(d: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(d)
    for k, v in over.items():
        d[k] = _deep_update(d[k], v) if isinstance(v, dict) and isinstance(d.get(k), dict) else v
    return d


def run_one(data: dict[str, Any], rep: int = 0, seed: int = 1) -> dict[str, Any]:
    """Validate a scenario dict and simulate replication ``rep``."""
    plan = compile_plan(Scenario.model_validate(data))
    return simulate(plan, replication_seed(seed, rep))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def same_table(a: Any, b: Any) -> bool:
    """Two pyarrow tables hold the same columns and values (NaN equal to NaN)."""
    if a.schema != b.schema or a.num_rows != b.num_rows:
        return False
    for name in a.column_names:
        ca, cb = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        if pa.types.is_list(ca.type):  # build-up trajectories: compare the flat values
            ca, cb = ca.flatten(), cb.flatten()
        x = ca.to_numpy(zero_copy_only=False)
        y = cb.to_numpy(zero_copy_only=False)
        if x.dtype.kind == "f":
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True

"""Sweep designs: parameter paths, value specs, and the points of a design.

A parameter is named by its dotted path in the scenario as written in YAML, after
``extends`` and references are resolved: ``warning.days``, ``suwalki.closure_probability``,
``countries.estonia.threat_troops.uniform.high``. A list item is named by its index or by
its ``id``/``name``: ``network.links.gap_rail.channels`` or ``network.links[8].channels``.
Setting a path that holds a distribution to a number makes it a fixed value.

Every point is re-validated as a whole scenario (pydantic ``model_copy`` would not).
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError
from scipy.stats import qmc

from tripwire.distributions import Distribution
from tripwire.errors import UsageError

DESIGNS = ("grid", "lhs", "sobol", "morris")
MAX_GRID_VALUES = 1_000  # grid values of one factor, at most
MAX_DESIGN_POINTS = 10_000  # points of a design, at most
_WHY_POINTS = (
    "each point is a whole scenario, validated and kept in memory before the sweep's time "
    "and disk estimate can run"
)
_DIST_KINDS = ("uniform", "triangular", "normal", "lognormal", "exponential", "choice")


class SweepError(UsageError):
    """A sweep that cannot be run (bad path, range or design), with a user-facing message."""


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a dotted path and either explicit values or a range."""

    path: str
    values: tuple[float, ...] | None = None  # grid values
    low: float | None = None
    high: float | None = None
    n: int | None = None  # grid points of a range
    integer: bool = False
    dist: Any = None  # a Distribution: continuous designs sample it by inverse transform

    def size(self) -> int:
        """Number of grid values (without building them)."""
        return len(self.values) if self.values is not None else self.n or 5

    def grid(self) -> list[float]:
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        n = self.n or 5
        if self.dist is not None:  # n equal-probability quantiles of the distribution
            return [float(v) for v in self.dist.ppf((np.arange(n) + 0.5) / n)]
        vals = np.linspace(self.low, self.high, n).tolist()
        return [round(v) for v in vals] if self.integer else vals

    def bounds(self) -> tuple[float, float]:
        if self.low is not None and self.high is not None:
            return self.low, self.high
        assert self.values is not None
        return min(self.values), max(self.values)


def parse_factor(text: str) -> Factor:
    """``path=a:b[:n]`` (a range, n grid points) or ``path=v1,v2,...`` (values)."""
    if "=" not in text:
        raise SweepError(f"--vary {text!r}: expected PATH=LOW:HIGH[:N] or PATH=V1,V2,...")
    path, spec = (s.strip() for s in text.split("=", 1))
    return factor_from(path, spec)


def factor_from(path: str, spec: Any) -> Factor:
    """A factor from a CLI string or a sweep-file entry (list, mapping or string)."""
    where = f"vary {path}"
    try:
        if isinstance(spec, list | tuple):
            values = tuple(float(v) for v in spec)
            return _check(Factor(path, values=values), where)
        if isinstance(spec, Mapping) and len(spec) == 1 and next(iter(spec)) in _DIST_KINDS:
            d: Any = TypeAdapter(Distribution).validate_python(dict(spec))
            lo, hi = float(d.ppf(np.array([0.0]))[0]), float(d.ppf(np.array([1.0 - 1e-12]))[0])
            return Factor(path, low=lo, high=hi, dist=d)
        if isinstance(spec, Mapping):
            if "values" in spec:
                return _check(Factor(path, values=tuple(float(v) for v in spec["values"])), where)
            n = spec.get("n")
            return _check(
                Factor(
                    path,
                    low=float(spec["low"]),
                    high=float(spec["high"]),
                    n=int(n) if n is not None else None,
                ),
                where,
            )
        text = str(spec)
        if ":" in text:
            parts = text.split(":")
            if len(parts) not in (2, 3):
                raise ValueError
            n = int(parts[2]) if len(parts) == 3 else None
            return _check(Factor(path, low=float(parts[0]), high=float(parts[1]), n=n), where)
        return _check(Factor(path, values=tuple(float(v) for v in text.split(","))), where)
    except ValidationError as exc:  # a bad distribution
        msg = "; ".join(e["msg"] for e in exc.errors())
        raise SweepError(f"{where}: invalid distribution {spec!r}: {msg}") from None
    except (KeyError, ValueError, TypeError):
        raise SweepError(
            f"{where}: expected LOW:HIGH[:N], V1,V2,... or {{low, high, n}}, got {spec!r}"
        ) from None


def _check(f: Factor, where: str) -> Factor:
    if f.size() > MAX_GRID_VALUES:
        raise SweepError(
            f"{where}: {f.size():,} grid values; at most {MAX_GRID_VALUES:,} per factor "
            f"({_WHY_POINTS})"
        )
    if f.values is not None:
        if not f.values or any(not math.isfinite(v) for v in f.values):
            raise SweepError(f"{where}: needs at least one finite value")
        return f
    assert f.low is not None and f.high is not None
    if not (math.isfinite(f.low) and math.isfinite(f.high)):
        raise SweepError(f"{where}: range bounds must be finite")
    if f.low >= f.high:
        raise SweepError(
            f"{where}: empty or inverted range {f.low:g}:{f.high:g} (low must be below high)"
        )
    if f.n is not None and f.n < 1:
        raise SweepError(f"{where}: a range needs at least 1 point, got {f.n}")
    return f


# --- paths ----------------------------------------------------------------------------------


def path_step(obj: Any, key: str) -> tuple[Any, str | int]:
    """One step of a dotted parameter path into ``obj``: a mapping key, a list index, or a
    list item's id or name (``KeyError`` if none). Sweeps and overrides share it."""
    if isinstance(obj, Mapping):
        if key in obj:
            return obj[key], key
        raise KeyError(key)
    if isinstance(obj, list):
        if key.isdigit() and int(key) < len(obj):
            return obj[int(key)], int(key)
        for i, item in enumerate(obj):
            if isinstance(item, Mapping) and key in (item.get("id"), item.get("name")):
                return item, i
    raise KeyError(key)


def _split(path: str) -> list[str]:
    return [p for p in path.replace("[", ".").replace("]", "").split(".") if p]


def leaf_paths(data: Any, prefix: str = "") -> Iterator[str]:
    """Every numeric leaf and every distribution-valued field, as dotted paths."""
    if isinstance(data, Mapping):
        if "kind" in data and prefix:
            yield prefix  # a distribution: settable as a whole
        for k, v in data.items():
            yield from leaf_paths(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            name = v.get("id") or v.get("name") if isinstance(v, Mapping) else None
            yield from leaf_paths(v, f"{prefix}.{name}" if name else f"{prefix}[{i}]")
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield prefix


def resolve_path(data: Any, path: str) -> list[str | int]:
    """The concrete key sequence of ``path`` in ``data``; SweepError with near matches."""
    keys: list[str | int] = []
    obj = data
    for part in _split(path):
        try:
            obj, k = path_step(obj, part)
        except KeyError:
            near = difflib.get_close_matches(path, list(leaf_paths(data)), n=5, cutoff=0.5)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise SweepError(f"unknown parameter path {path!r}{hint}") from None
        keys.append(k)
    if isinstance(obj, Mapping) and "kind" not in obj or isinstance(obj, list):
        raise SweepError(f"parameter path {path!r} names a block, not a value")
    return keys


def current_value(data: Any, path: str) -> Any:
    obj = data
    for k in resolve_path(data, path):
        obj = obj[k]
    return obj


def with_values(data: Mapping[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """A deep copy of scenario ``data`` with each path set to its value."""
    out = copy.deepcopy(dict(data))
    for path, value in values.items():
        keys = resolve_path(out, path)
        obj: Any = out
        for k in keys[:-1]:
            obj = obj[k]
        old = obj[keys[-1]]
        obj[keys[-1]] = (
            int(round(value)) if isinstance(old, int) and not isinstance(old, bool) else value
        )
    return out


# --- designs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """The points of a sweep: one mapping path -> value per point."""

    kind: str
    factors: tuple[Factor, ...]
    points: tuple[dict[str, float], ...]
    problem: dict[str, Any] | None = None  # SALib problem (sobol, morris)
    samples: np.ndarray | None = None


def design_size(kind: str, factors: Sequence[Factor], samples: int) -> int:
    """The number of points of a design, counted before it is built (grid: the product of
    the factors' grid sizes; lhs: samples; sobol: samples x (factors + 2); morris:
    samples x (factors + 1))."""
    if kind == "grid":
        return math.prod(f.size() for f in factors)
    per = {"lhs": 1, "sobol": len(factors) + 2, "morris": len(factors) + 1}[kind]
    return max(samples, 0) * per


def make_design(kind: str, factors: Sequence[Factor], samples: int, seed: int) -> Design:
    """Points of a full factorial grid, a Latin hypercube, a Sobol (Saltelli) or a Morris
    design. Continuous designs take each factor's range (values: their min and max)."""
    if kind not in DESIGNS:
        raise SweepError(f"unknown design {kind!r} (designs: {', '.join(DESIGNS)})")
    if not factors:
        raise SweepError("a sweep needs at least one --vary parameter")
    paths = [f.path for f in factors]
    if len(set(paths)) != len(paths):
        raise SweepError(f"a parameter is varied twice: {paths}")
    count = design_size(kind, factors, samples)
    if count > MAX_DESIGN_POINTS:
        how = (
            " x ".join(f"{f.size():,}" for f in factors) + " grid values"
            if kind == "grid"
            else f"--samples {samples:,} with {len(factors)} factor(s)"
        )
        raise SweepError(
            f"design {kind}: {how} make {count:,} points; at most {MAX_DESIGN_POINTS:,} "
            f"({_WHY_POINTS}). Use fewer values or samples"
        )
    if kind == "grid":
        grids = [f.grid() for f in factors]
        mesh = np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(factors), -1).T
        pts = mesh
        problem = None
    else:
        if samples < 1:
            raise SweepError(f"design {kind} needs --samples of at least 1, got {samples}")
        # a factor given as a distribution is sampled on [0, 1] and mapped by its quantiles
        bounds = [(0.0, 1.0) if f.dist is not None else f.bounds() for f in factors]
        for f, (lo, hi) in zip(factors, bounds):
            if lo >= hi:
                raise SweepError(f"vary {f.path}: design {kind} needs a range with low < high")
        problem = {"num_vars": len(factors), "names": paths, "bounds": [list(b) for b in bounds]}
        if kind == "lhs":
            unit = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(seed)).random(
                samples
            )
            pts = qmc.scale(unit, [b[0] for b in bounds], [b[1] for b in bounds])
        elif kind == "sobol":
            from SALib.sample import sobol as sobol_sample

            pts = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
        else:
            from SALib.sample import morris as morris_sample

            pts = morris_sample.sample(problem, samples, num_levels=4, seed=seed)
    if len(pts) == 0:
        raise SweepError("the design has zero points")
    raw = np.array(pts, dtype=float)  # in the problem's space (SALib analyses need it)
    if kind != "grid":
        pts = raw.copy()
        for i, f in enumerate(factors):
            if f.dist is not None:
                pts[:, i] = f.dist.ppf(np.clip(pts[:, i], 0.0, 1.0 - 1e-12))
    points = tuple({p: float(v) for p, v in zip(paths, row)} for row in pts)
    return Design(kind, tuple(factors), points, problem, raw)

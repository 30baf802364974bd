"""Probability distributions for uncertain scenario inputs.

Every distribution is sampled by inverse transform: one uniform number in, one value out.
That has two consequences the rest of the model relies on:

* a draw consumes exactly one uniform whatever the distribution (a fixed value too), so
  changing one parameter from fixed to uniform does not shift the draws of anything else
  in the same stream (common random numbers survive sweeps);
* ``ppf`` is non-decreasing in ``u``, so under common random numbers a distribution shifted
  to the right gives a value at least as large in every replication (monotone couplings,
  which the property tests use).

In YAML a distribution is written as a bare number (fixed) or as a one-key mapping:
``{uniform: {low: 1, high: 2}}``, ``{triangular: {low, mode, high}}``,
``{normal: {mean, sd, low, high}}`` (truncated), ``{lognormal: {median, sigma}}``,
``{exponential: {mean}}``, ``{choice: {values: [...], weights: [...]}}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    model_validator,
)
from scipy.special import ndtr, ndtri

_KINDS = ("fixed", "uniform", "triangular", "normal", "lognormal", "exponential", "choice")


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def low(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def extremes(self) -> tuple[float, float]:
        """The smallest and the largest value a draw can take (``ppf`` at 0 and 1, as
        clipped there; inf when the arithmetic overflows)."""
        with np.errstate(over="ignore", invalid="ignore"):
            v = np.asarray(self.ppf(np.array([0.0, 1.0])), dtype=float)
        return float(v[0]), float(v[1])

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values, consuming exactly ``size`` uniforms from ``rng``."""
        return self.ppf(rng.random(size))

    def draw(self, rng: np.random.Generator) -> float:
        """Draw one value as a Python float (SimPy arithmetic is faster on floats)."""
        return float(self.ppf(np.array([rng.random()]))[0])


class Fixed(_Dist):
    """A known value. Still consumes one uniform per draw (see module docstring)."""

    kind: Literal["fixed"] = "fixed"
    value: float = Field(allow_inf_nan=False)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    def draw(self, rng: np.random.Generator) -> float:  # the scalar path of ppf
        rng.random()
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def low(self) -> float:
        return self.value


class Uniform(_Dist):
    """Uniform on [low, high]."""

    kind: Literal["uniform"] = "uniform"
    low_: float = Field(alias="low", allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.low_ > self.high:
            raise ValueError(f"low ({self.low_}) must not exceed high ({self.high})")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low_ + (self.high - self.low_) * u

    def draw(self, rng: np.random.Generator) -> float:  # ppf's arithmetic, on a float
        return self.low_ + (self.high - self.low_) * rng.random()

    @property
    def mean(self) -> float:
        return 0.5 * (self.low_ + self.high)

    @property
    def low(self) -> float:
        return self.low_


class Triangular(_Dist):
    """Triangular with minimum ``low``, most likely ``mode`` and maximum ``high``."""

    kind: Literal["triangular"] = "triangular"
    low_: float = Field(alias="low", allow_inf_nan=False)
    mode: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low_ <= self.mode <= self.high:
            raise ValueError(
                f"expected low <= mode <= high, got {self.low_}, {self.mode}, {self.high}"
            )
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, c, b = self.low_, self.mode, self.high
        if b == a:
            return np.full(np.shape(u), a, dtype=float)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    def draw(self, rng: np.random.Generator) -> float:  # ppf's arithmetic, on a float
        u = rng.random()
        a, c, b = self.low_, self.mode, self.high
        if b == a:
            return a
        if u < (c - a) / (b - a):
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1.0 - u) * (b - a) * (b - c))

    @property
    def mean(self) -> float:
        return (self.low_ + self.mode + self.high) / 3.0

    @property
    def low(self) -> float:
        return self.low_


def _open_bound(side: float) -> Callable[[Any], Any]:
    """Null (or absent) is an open bound, -inf or +inf: JSON has no infinity, and a scenario
    goes to the workers as JSON (``Scenario.model_dump_json``, see
    :func:`tripwire.runner.make_chunks`), so an open bound is written as null and read back
    as infinite."""
    return lambda value: side if value is None else value


def _not_nan(value: float) -> float:
    """NaN is no bound (every comparison with it is false): refused."""
    if math.isnan(value):
        raise ValueError("a bound must be a number, or null (or left out) for none, not NaN")
    return value


def _write_open_bound(value: float) -> float | None:
    return None if math.isinf(value) else value


LowBound = Annotated[
    float,
    BeforeValidator(_open_bound(-math.inf)),
    AfterValidator(_not_nan),
    PlainSerializer(_write_open_bound, when_used="json"),
]
HighBound = Annotated[
    float,
    BeforeValidator(_open_bound(math.inf)),
    AfterValidator(_not_nan),
    PlainSerializer(_write_open_bound, when_used="json"),
]


class Normal(_Dist):
    """Normal(mean, sd) truncated to [low, high] (defaults, or null: unbounded).

    In JSON an open bound is null (JSON has no infinity); it reads back as infinite."""

    kind: Literal["normal"] = "normal"
    mu: float = Field(alias="mean", allow_inf_nan=False)
    sd: float = Field(gt=0, allow_inf_nan=False)
    low_: LowBound = Field(default=-math.inf, alias="low")
    high: HighBound = math.inf

    @model_validator(mode="after")
    def _order(self) -> Normal:
        if self.low_ >= self.high:
            raise ValueError(f"low ({self.low_}) must be below high ({self.high})")
        a, b = self._cdf_bounds()
        if b - a < 1e-12:
            raise ValueError("the truncation interval holds no probability mass")
        return self

    def _cdf_bounds(self) -> tuple[float, float]:
        a = float(ndtr((self.low_ - self.mu) / self.sd))
        b = float(ndtr((self.high - self.mu) / self.sd))
        return a, b

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, b = self._cdf_bounds()
        p = np.clip(a + u * (b - a), 1e-300, 1 - 1e-16)
        return np.clip(self.mu + self.sd * ndtri(p), self.low_, self.high)

    @property
    def mean(self) -> float:
        a, b = self._cdf_bounds()
        alpha, beta = (self.low_ - self.mu) / self.sd, (self.high - self.mu) / self.sd
        phi = lambda x: 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
        return self.mu + self.sd * (phi(alpha) - phi(beta)) / (b - a)

    @property
    def low(self) -> float:
        return self.low_


class LogNormal(_Dist):
    """Lognormal given by its median and the standard deviation ``sigma`` of its log."""

    kind: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0, allow_inf_nan=False)
    sigma: float = Field(ge=0, allow_inf_nan=False)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        p = np.clip(u, 1e-16, 1 - 1e-16)
        return self.median * np.exp(self.sigma * ndtri(p))

    @property
    def mean(self) -> float:
        return self.median * math.exp(0.5 * self.sigma**2)

    @property
    def low(self) -> float:
        return 0.0


class Exponential(_Dist):
    """Exponential with the given mean."""

    kind: Literal["exponential"] = "exponential"
    mean_: float = Field(alias="mean", gt=0, allow_inf_nan=False)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.minimum(np.asarray(u), 1 - 1e-16))

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def low(self) -> float:
        return 0.0


class Choice(_Dist):
    """A discrete choice among ``values`` with ``weights`` (default: equal)."""

    kind: Literal["choice"] = "choice"
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if any(not math.isfinite(v) for v in self.values):
            raise ValueError("values must be finite numbers")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 or not math.isfinite(w) for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative with a positive sum")
        return self

    def _cum(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        c = np.cumsum(w / w.sum())
        c[-1] = 1.0
        return c

    def ppf(self, u: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self._cum(), u, side="right")
        return np.asarray(self.values, dtype=float)[np.minimum(idx, len(self.values) - 1)]

    @property
    def mean(self) -> float:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return float(np.dot(self.values, w / w.sum()))

    @property
    def low(self) -> float:
        return min(self.values)


def _normalise(value: Any) -> Any:
    """Turn the YAML forms (a number, or ``{kind: {params}}``) into tagged dicts."""
    if isinstance(value, bool):
        return value  # let pydantic reject it
    if isinstance(value, int | float):
        return {"kind": "fixed", "value": value}
    if isinstance(value, dict) and len(value) == 1:
        ((key, params),) = value.items()
        if key in _KINDS and isinstance(params, dict):
            return {"kind": key, **params}
        if key == "fixed" and isinstance(params, int | float):
            return {"kind": "fixed", "value": params}
    return value


def _tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("kind")
    if isinstance(value, _Dist):
        return value.kind  # type: ignore[attr-defined,no-any-return]
    return None


_TaggedUnion = Annotated[
    Annotated[Fixed, Tag("fixed")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[LogNormal, Tag("lognormal")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Choice, Tag("choice")],
    Discriminator(
        _tag,
        custom_error_type="distribution",
        custom_error_message=(
            "expected a number or one of {fixed, uniform, triangular, normal, lognormal, "
            "exponential, choice} with its parameters, e.g. {uniform: {low: 1, high: 2}}"
        ),
    ),
]

Distribution = Annotated[_TaggedUnion, BeforeValidator(_normalise)]
"""A pydantic field type accepting every YAML distribution form."""

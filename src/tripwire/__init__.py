"""tripwire: reinforcement timing on NATO's Baltic flank, simulated.

The Python API (:mod:`tripwire.api`), imported on first use so that worker processes,
which import only the model, stay light:

* :func:`load` (path, overrides) -> the validated scenario;
* :func:`run` (scenarios, replications, seed, workers, out, overrides) -> :class:`Results`;
* :func:`sweep`, :func:`threshold`, :func:`resume`, mirroring ``simulate``;
* :func:`open` (folder) -> :class:`Results` or :class:`SweepResults`;
* :class:`TripwireError`: every error a user can cause.
"""

from typing import Any

__version__ = "0.1.0"

_API = ("load", "run", "sweep", "threshold", "resume", "open", "Results", "SweepResults")
__all__ = ["TripwireError", "__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from tripwire import api

        return getattr(api, name)
    if name == "TripwireError":
        from tripwire.errors import TripwireError

        return TripwireError
    raise AttributeError(f"module 'tripwire' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

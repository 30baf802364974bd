"""tripwire: reinforcement timing on NATO's Baltic flank, simulated.

The Python API (:mod:`tripwire.api`), imported on first use so that worker processes,
which import only the model, stay light:

* :func:`load` (path, overrides) -> the validated scenario;
* :func:`run` (scenarios, replications, seed, workers, out, overrides) -> :class:`Results`;
* :func:`sweep`, :func:`threshold`, :func:`resume`, mirroring ``simulate``;
* :func:`open` (folder) -> :class:`Results` or :class:`SweepResults`;
* :class:`TripwireError`: every error a user can cause.
"""

import os
from typing import Any

# Arrow's C++ default memory pool is chosen from this variable once, when pyarrow loads, and
# Parquet's readers allocate from it whatever pyarrow.set_memory_pool says. Its default,
# mimalloc, kept what each read freed: summarising a 10^6-replication table grew by about
# 0.45 MB a column read; the system allocator returns it (benchmarks/RESULTS.md, section
# 5). Set here, before any tripwire module imports pyarrow; a value the user set wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

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

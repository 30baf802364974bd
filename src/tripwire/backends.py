"""Where chunks run: local processes or a Dask cluster, behind one small interface.

Both give futures with ``.result()`` and a ``wait_any`` over a set of them, so the sweep
loop (submit, collect as they finish, retry a failed chunk once) is written once. The
numbers do not depend on the backend: each replication's seed is fixed by its index.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as cf_wait
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BackendError(RuntimeError):
    """The execution engine cannot be reached or started (user-facing message)."""


class Backend(Protocol):
    workers: int
    label: str

    def submit(self, fn: Callable[..., Any], arg: Any) -> Any: ...
    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]: ...
    def close(self) -> None: ...


class _Lazy:
    """A future that computes when first asked (so the inline backend streams results)."""

    def __init__(self, fn: Callable[..., Any], arg: Any, order: int) -> None:
        self.fn, self.arg, self.order = fn, arg, order
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        if not self._done:
            try:
                self._value = self.fn(self.arg)
            except Exception as exc:  # noqa: BLE001 - re-raised by result()
                self._error = exc
            self._done = True

    def result(self) -> Any:
        self.run()
        if self._error is not None:
            raise self._error
        return self._value


class InlineBackend:
    """Runs chunks one by one in this process (one worker), in submission order."""

    label = "inline"

    def __init__(self) -> None:
        self.workers = 1
        self._count = 0

    def submit(self, fn: Callable[..., Any], arg: Any) -> Any:
        self._count += 1
        return _Lazy(fn, arg, self._count)

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        first = min(pending, key=lambda f: f.order)
        first.run()
        return {first}, set(pending) - {first}

    def close(self) -> None:
        pass


class LocalBackend:
    """A local process pool (forkserver: safe with threads, imports once)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.label = f"local processes x{workers}"
        ctx = multiprocessing.get_context("forkserver")
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def submit(self, fn: Callable[..., Any], arg: Any) -> Any:
        return self.pool.submit(fn, arg)

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        done, rest = cf_wait(pending, return_when=FIRST_COMPLETED)
        return set(done), set(rest)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend:
    """A Dask distributed client: an existing scheduler, or a LocalCluster on loopback."""

    def __init__(
        self,
        scheduler: str | None = None,
        local_workers: int | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the install
            raise BackendError("Dask is not installed: pip install 'tripwire[dask]'") from None
        self.cluster = None
        try:
            if scheduler is not None:
                self.client = Client(scheduler, timeout=timeout_s)
                self.label = f"dask {scheduler}"
            else:
                n = local_workers or 1
                self.cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=50,
                )
                self.client = Client(self.cluster, timeout=timeout_s)
                self.label = f"dask LocalCluster x{n}"
        except (OSError, TimeoutError) as exc:
            target = scheduler or "a LocalCluster"
            raise BackendError(
                f"cannot connect to {target} within {timeout_s:g} s: {exc}"
            ) from None
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def submit(self, fn: Callable[..., Any], arg: Any) -> Any:
        return self.client.submit(fn, arg, pure=False)

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        done, rest = wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done), set(rest)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_backend(
    workers: int,
    scheduler: str | None = None,
    dask_local: int | None = None,
    timeout_s: float = 10.0,
) -> Backend:
    """The backend a sweep asked for: ``--scheduler``, ``--dask-local N`` or local processes."""
    if scheduler is not None or dask_local is not None:
        return DaskBackend(scheduler=scheduler, local_workers=dask_local, timeout_s=timeout_s)
    return InlineBackend() if workers <= 1 else LocalBackend(workers)


def stream(
    backend: Backend, fn: Callable[[T], R], items: Iterable[T], retries: int = 0
) -> Iterator[tuple[T, R | Exception]]:
    """Run ``fn`` over ``items`` on ``backend`` and yield ``(item, result)`` as each finishes.

    At most four items per worker are in flight, so the queue (and memory) does not grow
    with the number of items. An item whose call raises is resubmitted up to ``retries``
    times, then yielded with its exception instead of a result; the caller decides.
    """
    queue = iter(items)
    window = 4 * max(backend.workers, 1)
    pending: dict[Any, T] = {}
    tries: dict[int, int] = {}

    def top_up() -> None:
        while len(pending) < window:
            item = next(queue, _END)
            if item is _END:
                return
            pending[backend.submit(fn, item)] = item  # type: ignore[assignment]

    top_up()
    while pending:
        done, _ = backend.wait_any(set(pending))
        for fut in done:
            item = pending.pop(fut)
            try:
                result: R | Exception = fut.result()
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                tries[id(item)] = tries.get(id(item), 0) + 1
                if tries[id(item)] <= retries:
                    pending[backend.submit(fn, item)] = item
                    continue
                result = exc
            yield item, result
        top_up()


_END = object()

"""Where chunks run: local processes or a Dask cluster, behind one small interface.

Both give futures with ``.result()`` and a ``wait_any`` over a set of them, so the sweep
loop (submit, collect as they finish, retry a failed chunk once) is written once. The
numbers do not depend on the backend: each replication's seed is fixed by its index.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as cf_wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import resource_tracker
from typing import Any, Protocol, TypeVar

from tripwire.errors import RunFailed

T = TypeVar("T")
R = TypeVar("R")


class BackendError(RunFailed, RuntimeError):
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


def _worker_init() -> None:
    """Workers leave Ctrl-C to the coordinator: a terminal sends SIGINT to the whole process
    group, and a worker dying of it mid-chunk would only turn a clean stop into errors.
    And they do not outlive the coordinator (see :func:`_exit_with_coordinator`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_coordinator()


def _exit_with_coordinator() -> None:
    """End this worker process as soon as the coordinator that started it is gone.

    A coordinator killed outright (SIGKILL, the out-of-memory killer) runs no cleanup, and
    nothing else ends its workers: each holds the write end of the task queue it reads, so
    it never sees it close and waits for work forever; and with them live the fork server
    (it exits when the last holder of its liveness pipe is gone, and the workers hold one)
    and the resource tracker (likewise, when its pipe closes; the workers hold it too).
    (Dask's workers already watch their nanny, in the coordinator, the same way.)
    ``multiprocessing.parent_process().sentinel`` is a pipe whose
    only write end the coordinator holds, for this worker alone: it reads as closed the
    moment the coordinator dies, however it dies, and is already closed if it died before
    this ran, so there is no race. A daemon thread waits on it and ends the process; the
    fork server and the resource tracker then see their pipes close and exit too.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: nothing to watch
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)  # no cleanup: nobody is left to receive a result

    threading.Thread(target=watch, name="exit with the coordinator", daemon=True).start()


def _without_sigint(start: Callable[[], T]) -> T:
    """``start()`` run in a thread that blocks SIGINT, for a Dask LocalCluster.

    Its worker processes are started from threads the cluster creates, and a signal mask is
    inherited by new threads and kept across fork and exec: so the workers are born with
    SIGINT blocked and never see the Ctrl-C a terminal sends to the whole process group
    (where each printed a KeyboardInterrupt traceback), like the local pool's workers. The
    coordinator stops them when it handles the Ctrl-C. Workers the nanny restarts later are
    started from the same threads, so they are born the same way. The main thread's mask is
    not changed: it still gets Ctrl-C, even while the cluster is starting.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        return start()
    # Started later from the cluster's thread, multiprocessing's resource tracker would
    # unblock SIGINT there (it blocks it around the tracker's launch, then unblocks).
    resource_tracker.ensure_running()
    box: dict[str, Any] = {}

    def run() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            box["value"] = start()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="start the Dask cluster", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Job:
    """A submitted call; its future is replaced when the pool is restarted."""

    def __init__(self, fn: Callable[..., Any], arg: Any, future: Future[Any]) -> None:
        self.fn, self.arg, self.future = fn, arg, future

    def result(self) -> Any:
        return self.future.result()


def _broken(f: Future[Any]) -> bool:
    return f.done() and not f.cancelled() and isinstance(f.exception(), BrokenProcessPool)


# Imported once by the fork server, which then forks every worker warm: a worker's first
# replication does not wait for numpy, scipy, pydantic and SimPy to be imported again.
# (The `simulate` script that multiprocessing re-runs in each worker is import-free: see
# tripwire.launch.)
FORKSERVER_PRELOAD = ["tripwire.runner"]


def _forget_inherited_forkserver() -> None:
    """In a child made by ``os.fork()``, drop the parent's forkserver.

    The standard library keeps one forkserver per process, remembered by pid and socket.
    A forked child inherits that record, but the server is the parent's child, not its
    own: the child's next pool would fail with ``ChildProcessError`` when it checks the
    server. Forgetting the record makes the child start a forkserver of its own (the
    parent's keeps running; its liveness pipe's copy is closed here so the parent's
    server still ends with the parent).
    """
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)  # the stdlib's one per process
    if server is None:
        return
    if server._forkserver_pid is None:
        return
    if server._forkserver_alive_fd is not None:
        with contextlib.suppress(OSError):
            os.close(server._forkserver_alive_fd)
    server._forkserver_address = None
    server._forkserver_alive_fd = None
    server._forkserver_pid = None
    server._inherited_fds = None
    server._lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_inherited_forkserver)


@contextmanager
def main_hidden() -> Iterator[None]:
    """While local workers start, hide the main program from multiprocessing.

    A worker started by the forkserver (or spawn) method re-runs the program's main module
    by its path or name before it runs any task, unless that module has neither. The tasks
    sent to workers are tripwire's own functions and data, so the main program is never
    needed there; hidden, a script with no ``if __name__ == "__main__":`` guard (a notebook
    exported as a script, a few lines typed into ``python -``) is not re-run in every
    worker, and a program read from standard input, which has no file to re-run, works."""
    main = sys.modules.get("__main__")
    saved: dict[str, Any] = {
        k: main.__dict__[k] for k in ("__file__", "__spec__") if main and k in main.__dict__
    }
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


class LocalBackend:
    """A local process pool (forkserver: safe with threads, imports once).

    A worker that dies (killed, out of memory) breaks a ``ProcessPoolExecutor`` and every
    call in flight with it. The backend then starts a new pool and resubmits the calls that
    had not finished, up to ``max_restarts`` times: a chunk's result is only used once it
    has arrived whole, and its replications are fixed by their seeds, so nothing is lost or
    counted twice.
    """

    def __init__(
        self,
        workers: int,
        max_restarts: int = 3,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.workers = workers
        self.label = f"local processes x{workers}"
        self.max_restarts = max_restarts
        self.restarts = 0
        self.notify = notify or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_worker_init
        )

    def submit(self, fn: Callable[..., Any], arg: Any) -> Any:
        try:
            with main_hidden():  # a worker this submit starts must not re-run the program
                future = self.pool.submit(fn, arg)
        except BrokenProcessPool as exc:  # broke since the last wait: restarted there
            future = Future()
            future.set_exception(exc)
        return _Job(fn, arg, future)

    def wait_any(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        while True:
            by_future = {job.future: job for job in pending}
            done, _ = cf_wait(by_future, return_when=FIRST_COMPLETED)
            if not any(_broken(f) for f in done):
                finished = {by_future[f] for f in done}
                return finished, set(pending) - finished
            self._restart([job for job in pending if not job.future.done() or _broken(job.future)])

    def _restart(self, jobs: list[_Job]) -> None:
        """Replace a broken pool and resubmit ``jobs`` (the calls that had not finished)."""
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise BackendError(
                f"worker processes died {self.restarts} times (killed, or out of memory?); "
                "finished chunks are kept"
            )
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        self.notify(
            f"note: a worker process died; started new workers and resubmitted {len(jobs)} "
            f"unfinished chunk(s) (restart {self.restarts} of at most {self.max_restarts})"
        )
        with main_hidden():
            for job in jobs:
                job.future = self.pool.submit(job.fn, job.arg)

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
                self.cluster = _without_sigint(
                    lambda: LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        silence_logs=50,
                    )
                )
                self.client = Client(self.cluster, timeout=timeout_s)
                self.label = f"dask LocalCluster x{n}"
        except (OSError, TimeoutError) as exc:
            target = scheduler or "a LocalCluster"
            raise BackendError(
                f"cannot connect to {target} within {timeout_s:g} s: {exc}"
            ) from None
        except (TypeError, ValueError) as exc:  # e.g. tls:// with no TLS configuration
            target = scheduler or "a LocalCluster"
            raise BackendError(f"cannot connect to {target}: {exc}") from None
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

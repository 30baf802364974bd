"""What every ``simulate`` command shares: the typer app, the consoles, the progress bar,
the reporter a campaign talks to, and the one mapping of errors to messages and exit codes
(:data:`tripwire.errors.EXIT_CODES`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tripwire.errors import TripwireError, exit_code

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="tripwire: how fast can NATO reinforce Estonia, Latvia and Lithuania?\n\n"
    "`simulate FILE...` runs the scenarios (short for `simulate run FILE...`).",
)


def _version(value: bool) -> None:
    if value:
        from tripwire import __version__

        out.print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """tripwire: how fast can NATO reinforce Estonia, Latvia and Lithuania?

    `simulate FILE...` runs the scenarios (short for `simulate run FILE...`)."""


def _console(stderr: bool = False) -> Console:
    """Rich console; when output is piped (no terminal, no COLUMNS), tables get 140
    columns instead of rich's 80, so they stay readable in logs and files."""
    c = Console(stderr=stderr)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c.width = 140
    return c


CORES = os.cpu_count() or 1
"""The default number of local worker processes: every core."""

out = _console()
err = _console(stderr=True)
EXIT_USAGE = 2


def fail(message: str) -> typer.Exit:
    """Print a user-facing error; the caller raises the returned exit (code 2)."""
    err.print(f"[bold red]error[/]: {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def write_failed(exc: OSError, folder: Path, resume: str) -> typer.Exit:
    """A write error while a batch runs (full disk, lost permission): name the file and the
    system's reason, say how to continue; the caller raises the returned exit (code 1)."""
    err.print(
        f"[bold red]error[/]: cannot write {exc.filename or folder}: {exc.strerror or exc}. "
        f"Finished chunks are kept; make room and continue with `{resume}`",
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(1)


def failed(exc: TripwireError) -> typer.Exit:
    """Print ``exc`` (one line per problem, then its hint) and return the exit its class
    maps to (:data:`tripwire.errors.EXIT_CODES`); the caller raises it."""
    for line in exc.lines():
        if exc.prefix:
            err.print(f"[bold red]error[/]: {line}", highlight=False, soft_wrap=True)
        else:
            err.print(line, markup=False, highlight=False, soft_wrap=True)
    if exc.hint:
        err.print(exc.hint, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(exit_code(exc))


@contextmanager
def progress_bar(total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A replications progress bar with rate and ETA on stderr; yields ``tick(k)``."""
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, disable=quiet) as progress:
        task = progress.add_task("replications", total=total, rate="")

        def tick(k: int) -> None:
            progress.advance(task, k)
            rate = progress.tasks[0].completed / max(time.monotonic() - started, 1e-9)
            progress.update(task, rate=f"{rate:.0f} rep/s")

        yield tick


class ConsoleReporter:
    """A campaign's notes, warnings and progress on the terminal (stderr)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def note(self, message: str) -> None:
        err.print(message, markup=False, highlight=False, soft_wrap=True)

    def warn(self, message: str) -> None:
        err.print(f"[bold yellow]warning[/]: {message}", highlight=False, soft_wrap=True)

    def progress(self, total: int) -> AbstractContextManager[Callable[[int], None]]:
        return progress_bar(total, self.quiet)

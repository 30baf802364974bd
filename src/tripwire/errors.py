"""Errors a user can cause, reported as messages rather than tracebacks.

Every one derives from :class:`TripwireError`; :data:`EXIT_CODES` is the one table that
says how the command line ends on each (``simulate`` prints the message, one line per
problem, and exits with that code). A library user catches ``TripwireError``.
"""

from __future__ import annotations

from dataclasses import dataclass


class TripwireError(Exception):
    """Root of every error a user can cause (bad input, a folder in use, a failed batch).

    ``hint``: an optional line printed after the message (how to continue)."""

    prefix = "error: "

    def __init__(self, message: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def lines(self) -> list[str]:
        """The message as printed, one line per problem."""
        return str(self).splitlines() or [type(self).__name__]


class UsageError(TripwireError):
    """Bad input or a refused request: a file, an option, a folder (exit 2)."""


class RunFailed(TripwireError):
    """A batch that started and could not finish; finished work is kept (exit 1)."""


class Interrupted(TripwireError):
    """Ctrl-C or SIGTERM: finished work is kept (exit 130)."""

    prefix = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<document>'}: {self.message}"


class ScenarioError(UsageError):
    """A scenario file that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


EXIT_CODES: tuple[tuple[type[TripwireError], int], ...] = (
    (Interrupted, 130),
    (RunFailed, 1),
    (TripwireError, 2),
)
"""How ``simulate`` ends on each error: the first class the error is an instance of."""


def exit_code(exc: TripwireError) -> int:
    """The command line's exit code for ``exc`` (:data:`EXIT_CODES`)."""
    return next(code for cls, code in EXIT_CODES if isinstance(exc, cls))

"""The ``simulate`` command line: parse, call one function, map errors to exit codes.

``simulate FILE...`` is short for ``simulate run FILE...``. The commands live in
:mod:`tripwire.cli_run` (run, check, sources, version), :mod:`tripwire.cli_sweep` (sweep,
threshold) and :mod:`tripwire.cli_view` (plot, report, validate); this module only
assembles them. Nothing in the package imports it: it is an entry point
(:mod:`tripwire.launch`, ``python -m tripwire``).
"""

from __future__ import annotations

import sys

from tripwire import cli_run, cli_show, cli_sweep, cli_trace, cli_view  # noqa: F401 - commands
from tripwire.cli_common import app

COMMANDS = frozenset(
    {
        "run",
        "check",
        "sources",
        "version",
        "sweep",
        "threshold",
        "plot",
        "report",
        "validate",
        "trace",
        "show",
        "export",
    }
)


def main() -> None:
    """Console entry point: ``simulate FILE...`` is ``simulate run FILE...``."""
    args = sys.argv[1:]
    if args and args[0] not in COMMANDS and not args[0].startswith("-"):
        args = ["run", *args]
    app(args=args, prog_name="simulate")


__all__ = ["app", "main"]

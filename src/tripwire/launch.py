"""The ``simulate`` console script's entry point, kept free of imports.

Local process pools start their workers from multiprocessing's fork server, and
multiprocessing runs the program's main script again in every worker (guarded by
``if __name__ == "__main__"``). The ``simulate`` script is two lines that import this module;
if they imported :mod:`tripwire.cli` instead, every worker would import the whole CLI (typer,
rich, matplotlib, scipy.stats, pyarrow: about 1.3 s and 110 MB) before its first
replication. Workers need only :mod:`tripwire.runner`, which the fork server imports once
(``backends.FORKSERVER_PRELOAD``).
"""

from __future__ import annotations


def main() -> None:
    """Run the CLI. Ctrl-C before the CLI has installed its own handling (while it is still
    importing, about a second) ends like any interrupt: exit 130, one line, no traceback."""
    try:
        from tripwire.cli import main as cli_main
    except KeyboardInterrupt:
        import sys

        sys.stderr.write("interrupted while starting; nothing was written\n")
        raise SystemExit(130) from None
    try:
        cli_main()
    except KeyboardInterrupt:  # outside a command's own handling (e.g. a lazy import)
        import sys

        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None

"""``python -m tripwire`` is the ``simulate`` command."""

from tripwire.cli import main

if __name__ == "__main__":
    main()

"""Names that become file or folder names inside a result folder.

A scenario's ``name`` becomes ``<result>/<name>/`` and a sweep's ``name`` becomes
``results/sweeps/<name>-<time>/``, so a name must stay one plain path component: no
separator, not ``.`` or ``..``, none of the names the result folder itself uses, and short
enough for every file system.
"""

from __future__ import annotations

import re

MAX_LENGTH = 100
"""Characters at most (a result folder adds a timestamp and file names below it)."""

RESERVED = frozenset({"manifest.json", "parts", "plots", "comparison.json", "report.html"})
"""Names the result folder uses for itself (case-insensitively: some file systems fold case)."""

_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_name(value: str) -> str:
    """Return ``value`` if it is a safe name, else raise ``ValueError`` saying why."""
    if not _PATTERN.fullmatch(value):
        raise ValueError(
            f"name {value!r} must start with a letter, digit or underscore and use only "
            "letters, digits, '_', '.' and '-' (it becomes a folder name)"
        )
    if len(value) > MAX_LENGTH:
        raise ValueError(f"name is {len(value)} characters long; at most {MAX_LENGTH}")
    if value.lower() in RESERVED:
        raise ValueError(
            f"name {value!r} is reserved: the result folder uses it ({', '.join(sorted(RESERVED))})"
        )
    return value

"""Atomic file writing: every file tripwire writes goes to a temporary name beside it and is
renamed into place, so a reader never sees half a file. Shared by the result folder
(:mod:`tripwire.results`) and the manifest (:mod:`tripwire.manifest`)."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` by ``write`` into a temporary file beside it, renamed into place.

    Only a regular file (or nothing) is ever replaced: renaming over a device, a pipe or a
    socket would delete it (``report --out /dev/full`` run as root replaced the device), so
    that is an ``OSError`` naming the path instead."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:  # a parent is a file: mkdir below says so
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OSError(
            errno.EEXIST,
            "exists and is not a regular file (a folder, device, pipe or socket)",
            str(path),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~UMASK)  # as an ordinary new file (mkstemp makes it 0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_FLAT_ARRAY = re.compile(r"\[[-+0-9.eEnulNaIfity,\s]*\]")  # arrays of numbers (or null)


def dumps(obj: Any) -> str:
    """Indented JSON with arrays of numbers kept on one line (curves stay readable)."""
    text = json.dumps(obj, indent=2, default=str)
    return _FLAT_ARRAY.sub(
        lambda m: "[" + re.sub(r"\s+", " ", m.group(0)[1:-1]).strip() + "]", text
    )


def write_json(path: Path, obj: Any) -> None:
    _atomic(path, lambda p: p.write_text(dumps(obj) + "\n"))


def write_bytes(path: Path, data: bytes) -> None:
    _atomic(path, lambda p: p.write_bytes(data))


def write_text(path: Path, text: str) -> None:
    _atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_yaml(path: Path, obj: Any) -> None:
    _atomic(path, lambda p: p.write_text(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)))

"""The result folder: tables, summaries, the resolved scenario, seed, version and command.

Layout of ``results/<run>/``::

    manifest.json                  what was run, by which version and command; file checksums
    comparison.json                paired differences (when several scenarios were run)
    <scenario>/replications.parquet  one row per replication
    <scenario>/formations.parquet  one row per (replication, formation): the closure table
    <scenario>/summary.json        distributions with 95 % confidence intervals
    <scenario>/scenario.resolved.yaml  the scenario exactly as simulated (references resolved)
    <scenario>/sources.json        where every parameter value came from
    parts/<scenario>/*.parquet     finished chunks while the batch runs (removed at the end):
                                   rep-<start>.parquet and form-<start>.parquet per chunk
    .claim                         while a command writes the folder (a lock, see claim;
                                   removed at the end, never listed in the manifest)

Every file is written to a temporary name and renamed into place, so a reader never sees a
half-written file, and an interrupted batch keeps every finished chunk in ``parts/``. Every
reader of a manifest goes through one model (:mod:`tripwire.manifest`), so a damaged one is
named rather than half-read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tripwire.atomic import _atomic
from tripwire.atomic import dumps as dumps  # re-exported: writers import them from here
from tripwire.atomic import write_bytes as write_bytes
from tripwire.atomic import write_json as write_json
from tripwire.atomic import write_text as write_text
from tripwire.atomic import write_yaml as write_yaml
from tripwire.errors import UsageError
from tripwire.manifest import MANIFEST as MANIFEST  # re-exported
from tripwire.manifest import RunManifest, kind_of, tripwire_manifest, why_not_tripwire
from tripwire.manifest import write as write_manifest
from tripwire.model.outcome import FORMATIONS_KEY

# Arrow's default pool (mimalloc) keeps freed memory for reuse, so a process that once read
# a large column stays large; the system allocator returns it (measured: 362 -> 290 MB peak
# for 10^4 replications, benchmarks/RESULTS.md)
pa.set_memory_pool(pa.system_memory_pool())


def give_back() -> None:
    """Return what the pool has freed to the system (for the system allocator this trims the
    C heap), so that reading 10^5 rows a part or a column at a time leaves a process no
    larger than reading 10^3 does."""
    pa.default_memory_pool().release_unused()


def write_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """One Parquet file from a list of flat records."""
    table = pa.Table.from_pylist(list(rows))
    _atomic(path, lambda p: pq.write_table(table, p))


def read_table(path: Path, columns: list[str] | None = None) -> dict[str, np.ndarray]:
    """A Parquet table (or some of its columns) as columns of numpy arrays; a column of
    equal-length lists (a build-up trajectory per row) becomes a 2-D array."""
    return _as_numpy(pq.read_table(path, columns=columns))


def _as_numpy(t: pa.Table) -> dict[str, np.ndarray]:
    out = {}
    for name in t.column_names:
        col = t.column(name)
        if pa.types.is_list(col.type) and t.num_rows:
            flat = col.combine_chunks().flatten().to_numpy(zero_copy_only=False)
            out[name] = flat.reshape(t.num_rows, -1)
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` except the manifest and the claim (a lock,
    not a result), by relative path."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json" and p != folder / CLAIM
    )
    return {str(p.relative_to(folder)): sha256(p) for p in files}


CLAIM = ".claim"  # in a result folder while a command writes it (see claim)


class FolderBusy(UsageError, ValueError):
    """Another command is writing the folder (the message names the folder and the holder)."""


class Claim:
    """The exclusive right to write a result folder, held by this process until released.

    The claim is an advisory lock (``flock``) on ``<folder>/.claim``: taking it is atomic, so
    of two commands started on one folder exactly one gets it, and the kernel drops it when
    its process ends however it ends (``kill -9``, a power cut), so a stale file never
    blocks ``--resume`` or ``--force``. Released, the file is removed."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_file(self.path, fd):
                self.path.unlink()  # while still holding it: a waiter then sees it gone
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.path.samestat(os.stat(path, follow_symlinks=False), os.fstat(fd))
    except FileNotFoundError:
        return False


def claim(folder: Path) -> Claim:
    """Claim an existing ``folder`` for writing (:class:`Claim`), or raise
    :class:`FolderBusy` naming the folder and the process holding it. An ``OSError``
    (an unwritable folder) is left to the caller."""
    path = folder / CLAIM
    for _ in range(100):  # the holder may release (and remove) it while we open it
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise FolderBusy(
                f"{folder} is being written by another simulate command{holder}; wait for "
                "it to finish, or choose another --out"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(path, fd):
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
            except BaseException:
                os.close(fd)
                raise
            return Claim(path, fd)
        os.close(fd)
    raise FolderBusy(f"{folder} is being claimed and released repeatedly; try again")


def _holder(fd: int) -> str:
    """ " (process N on HOST)" from a claim file, or "" if it says nothing usable."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except OSError:
        return ""
    if len(text) == 2 and text[0].isdigit():
        return f" (process {text[0]} on {text[1]})"
    return ""


def clear(folder: Path) -> None:
    """Remove everything in ``folder`` except its claim (``--force``, once the folder is
    claimed and found replaceable): the claim's file must stay for the lock to hold."""
    for entry in folder.iterdir():
        if entry.name == CLAIM and not entry.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def inside(folder: Path, *parts: str) -> Path:
    """``folder / parts[0] / ...``, checked to lie strictly inside ``folder`` once ``..``
    and symbolic links are resolved (on both sides); ``ValueError`` saying why if not.

    Every place that joins a scenario or sweep name to a folder goes through this, so a name
    cannot write next to, above or over the folder it belongs in."""
    if not parts:
        raise ValueError(f"nothing to join to {folder}")
    for part in parts:
        if not isinstance(part, str) or not part or "\0" in part:
            raise ValueError(f"{part!r} is not a usable file name (in {folder})")
    path = folder.joinpath(*parts)
    try:
        base, target = folder.resolve(), path.resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic-link loop
        raise ValueError(f"cannot resolve {path}: {exc}") from None
    if target == base or not target.is_relative_to(base):
        raise ValueError(f"{'/'.join(parts)!r} leads outside {folder}")
    return path


LABEL_LENGTH = 100  # a folder label longer than this is shortened (keeps file names legal)


def new_run_dir(base: Path, label: str, now: dt.datetime | None = None) -> Path:
    """A fresh folder ``base/<label>-<UTC timestamp>`` (suffixed if it exists).

    ``label`` must be a plain name (:func:`tripwire.names.check_name`, ``ValueError``
    otherwise); a long one (several long scenario names joined) is cut to
    :data:`LABEL_LENGTH` characters with a short hash of the whole, so the folder name stays
    within every file system's limit and different labels stay apart."""
    from tripwire.names import check_name

    if len(label) > LABEL_LENGTH:
        tag = hashlib.sha256(label.encode()).hexdigest()[:8]
        label = f"{label[: LABEL_LENGTH - 9].rstrip('.-')}-{tag}"
    check_name(label)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    path = inside(base, f"{label}-{stamp}")
    k = 1
    while path.exists():
        k += 1
        path = inside(base, f"{label}-{stamp}-{k}")
    return path


class NotReplaceable(UsageError, ValueError):
    """A folder that ``--force`` must not delete (the message names it and says why)."""


_TEMP = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]{8}")  # _atomic's temporary names
_RUN_PART = re.compile(r"(rep|form)-\d{9}\.parquet")  # part_path's kinds
_SWEEP_PART = re.compile(r"s\d{2}-p\d{6}-r\d{9}\.parquet")
_FIGURE = re.compile(r"[^/]+\.(png|svg)")
_WRITTEN_LATER = {"plots": _FIGURE, "csv": re.compile(r"[^/]+\.csv")}  # plot, export
SCENARIO_FILES = frozenset(  # what a run writes in <scenario>/ (module docstring)
    {
        "replications.parquet",
        "formations.parquet",
        "summary.json",
        "scenario.resolved.yaml",
        "sources.json",
    }
)
RUN_FILES = frozenset({MANIFEST, "comparison.json", "report.html"})
SWEEP_FILES = frozenset(
    {
        MANIFEST,
        "replications.parquet",
        "replications.parquet.tmp",  # finalize's table while it is written
        "points.parquet",
        "comparison.parquet",
        "sensitivity.json",
        "report.html",
    }
)


def _scenario_names(manifest: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for block in (manifest.get("scenarios"), (manifest.get("resume") or {}).get("scenarios")):
        if isinstance(block, dict):
            names.update(k for k in block if isinstance(k, str))
    return names


def _written_by_tripwire(
    rel: tuple[str, ...], is_dir: bool, kind: str, scenarios: set[str], listed: set[str]
) -> bool:
    """Whether tripwire writes the entry ``rel`` (path parts below the result folder)."""
    if not is_dir:
        if "/".join(rel) in listed:
            return True
        temp = _TEMP.fullmatch(rel[-1])
        if temp and _written_by_tripwire((*rel[:-1], temp["name"]), False, kind, scenarios, set()):
            return True
    elif any(f.startswith("/".join(rel) + "/") for f in listed):
        return True
    match rel, is_dir, kind:
        case (("parts" | "plots" | "csv"),), True, _:
            return True
        case (name,), False, "run":
            return name in RUN_FILES
        case (name,), False, "sweep":
            return name in SWEEP_FILES
        case (name,), True, "run":
            return name in scenarios
        case ("parts", "SHA256SUMS"), False, _:
            return True
        case (("plots" | "csv") as sub, name), False, _:
            return bool(_WRITTEN_LATER[sub].fullmatch(name))
        case ("parts", name), False, "sweep":
            return bool(_SWEEP_PART.fullmatch(name))
        case ("parts", name), True, "run":
            return name in scenarios
        case (scenario, name), False, "run":
            return scenario in scenarios and name in SCENARIO_FILES
        case ("parts", scenario, name), False, "run":
            return scenario in scenarios and bool(_RUN_PART.fullmatch(name))
    return False


def replaceable(folder: Path) -> int:
    """Check that ``--force`` may delete ``folder`` and return how many files it holds.

    Only a tripwire result folder is replaceable: one whose ``manifest.json`` is a tripwire
    run or sweep manifest (:func:`tripwire_manifest`) and that holds nothing but what
    tripwire writes there (the files its manifest lists, the scenario folders, ``parts/``,
    ``plots/``, the report, the summaries and tables; its ``.claim``, not counted). Raises
    :class:`NotReplaceable`
    naming the folder and the reason (the unknown entries, if that is why)."""
    if folder.is_symlink():
        raise NotReplaceable(f"{folder} is a symbolic link, not a tripwire result folder")
    manifest = tripwire_manifest(folder)
    if manifest is None:
        why = why_not_tripwire(folder)
        raise NotReplaceable(f"{folder} is not a tripwire result folder ({why})")
    kind = kind_of(manifest) or ""
    listed = {k for k in manifest.get("files") or {} if isinstance(k, str)}
    scenarios = _scenario_names(manifest)
    unknown: list[str] = []
    files = 0

    def walk(path: Path, rel: tuple[str, ...]) -> None:
        nonlocal files
        with os.scandir(path) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                here = (*rel, entry.name)
                shown = "/".join(here)
                if entry.is_symlink():
                    unknown.append(f"{shown} (a symbolic link)")
                elif here == (CLAIM,) and entry.is_file():
                    continue  # the claim of the command asking (a lock, not a result)
                elif entry.is_dir():
                    if _written_by_tripwire(here, True, kind, scenarios, listed):
                        walk(Path(entry.path), here)
                    else:
                        unknown.append(f"{shown}/")
                elif entry.is_file() and _written_by_tripwire(here, False, kind, scenarios, listed):
                    files += 1
                else:
                    unknown.append(shown)

    try:
        walk(folder, ())
    except OSError as exc:
        raise NotReplaceable(
            f"cannot list {exc.filename or folder}: {exc.strerror or exc}"
        ) from None
    if unknown:
        shown = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise NotReplaceable(f"{folder} holds what tripwire does not write there: {shown}")
    return files


LEDGER = "SHA256SUMS"  # in parts/: one "<sha256>  <relative path>" line per finished part


def write_checked(parts: Path, path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write a chunk's part atomically, then append its checksum to ``parts/SHA256SUMS``
    (the format of ``sha256sum -c``). A part without its line (interrupted in between) or
    with a different digest is not trusted on resume: its chunk runs again."""
    write_rows(path, rows)
    line = f"{sha256(path)}  {path.relative_to(parts).as_posix()}\n"
    with (parts / LEDGER).open("a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def ledger(parts: Path) -> dict[str, str]:
    """Checksums recorded in ``parts/SHA256SUMS`` by relative path (a torn last line, from
    an interrupted append, is ignored)."""
    out: dict[str, str] = {}
    try:
        text = (parts / LEDGER).read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if sep and len(digest) == 64 and name:
            out[name] = digest
    return out


def part_problem(parts: Path, path: Path, sums: Mapping[str, str]) -> str | None:
    """Why a part cannot be trusted (``None`` when its checksum matches the ledger)."""
    name = path.relative_to(parts).as_posix()
    if not path.is_file():
        return "missing"
    if name not in sums:
        return "no checksum recorded (interrupted while it was written)"
    if sha256(path) != sums[name]:
        return "checksum mismatch (changed or truncated since it was written)"
    return None


def write_part(run: Path, scenario: str, start: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write a chunk's parts: its closure-table rows (carried under ``FORMATIONS_KEY``, when
    present) to ``form-<start>.parquet`` first, then its replication rows to
    ``rep-<start>.parquet``; each is checksummed in the ledger as it is written."""
    if rows and FORMATIONS_KEY in rows[0]:
        frows = [fr for r in rows for fr in r[FORMATIONS_KEY]]
        rows = [{k: v for k, v in r.items() if k != FORMATIONS_KEY} for r in rows]
        write_checked(run / "parts", part_path(run, scenario, start, "form"), frows)
    write_checked(run / "parts", part_path(run, scenario, start), rows)


def part_path(run: Path, scenario: str, start: int, kind: str = "rep") -> Path:
    """A chunk's part: ``rep`` (replications) or ``form`` (closure table)."""
    return run / "parts" / scenario / f"{kind}-{start:09d}.parquet"


def part_files(run: Path, scenario: str, kind: str = "rep") -> list[Path]:
    """A scenario's finished chunk parts of one kind, in replication order."""
    return sorted((run / "parts" / scenario).glob(f"{kind}-*.parquet"))


ROW_GROUP = 2_000  # rows of a joined table's row group, at least; and of a read, at most
FOOTER_CHUNKS = 16_384  # column chunks (row groups x columns) of a joined table, at most
GROUP_BYTES = 64 << 20  # a joined table's row group as Arrow holds it, at most: 64 MB


def group_rows(rows: int, columns: int, row_bytes: float) -> int:
    """Rows per row group of a joined table of ``rows`` rows and ``columns`` columns, a row
    ``row_bytes`` as Arrow holds it: as many as keep the table within ``FOOTER_CHUNKS``
    column chunks, at least ``ROW_GROUP``, at most ``GROUP_BYTES`` a row group.

    pyarrow holds about 1 kB per column chunk of an open file (its parsed footer), and its
    writer about as much until it closes, so the chunk budget bounds both at about 16 MB
    (replications.parquet, 208 columns: 78 row groups, of 12,821 rows at 10^6 replications;
    formations.parquet, 22 columns: 744). The join holds one row group, so the byte cap
    bounds it (replications: about 3.8 kB a row, 17,600 rows); past that cap (about
    1.4 x 10^6 replications) the row groups stay at 64 MB and the footer grows with them."""
    groups = max(1, FOOTER_CHUNKS // max(1, columns))
    fewest = -(-rows // groups)  # the rows per group that keep the footer in its budget
    most = int(GROUP_BYTES // row_bytes) if row_bytes > 0 else fewest
    return max(ROW_GROUP, min(fewest, most))


def _joined_schema(parts: Sequence[Path]) -> tuple[pa.Schema, int]:
    """The schema the parts unify to, and their number of rows (from the footers)."""
    schema: pa.Schema | None = None
    rows = 0
    for part in parts:
        with pq.ParquetFile(part) as f:
            other, rows = f.schema_arrow, rows + f.metadata.num_rows
        if schema is None:
            schema = other
        elif other != schema:
            schema = pa.unify_schemas([schema, other])
    if schema is None:
        raise ValueError("no parts to join")
    return schema, rows


PIECE_ROWS = 1_000  # parts held for a row group are gathered into tables of this many rows


class _Held:
    """Rows read from the parts and not yet written: parts as read, gathered into one table
    per ``PIECE_ROWS`` rows or more (a part's many small arrays cost about twice their
    bytes in a C heap; one table of a thousand rows costs little more than its bytes)."""

    def __init__(self) -> None:
        self.pieces: list[pa.Table] = []  # gathered
        self.recent: list[pa.Table] = []  # as read
        self.rows = self.recent_rows = self.taken = 0

    def add(self, t: pa.Table) -> None:
        self.recent.append(t)
        self.rows += t.num_rows
        self.recent_rows += t.num_rows
        if len(self.recent) > 1 and self.recent_rows >= PIECE_ROWS:
            self.pieces.append(pa.concat_tables(self.recent).combine_chunks())
            self.recent, self.recent_rows = [], 0

    def take(self, n: int) -> pa.Table:
        """The first ``n`` rows held (no copy); the others stay."""
        joined = pa.concat_tables([*self.pieces, *self.recent])
        self.pieces, self.recent, self.recent_rows = [joined.slice(n)], [], 0
        self.rows -= n
        self.taken += 1
        return joined.slice(0, n)


def _read_part(part: Path, schema: pa.Schema) -> pa.Table:
    """A part's rows in the joined schema (a file read directly: no dataset machinery)."""
    with pq.ParquetFile(part) as f:
        t = f.read(use_threads=False)
    return t if t.schema == schema else t.select(schema.names).cast(schema)


def consolidate(parts: Sequence[Path], dest: Path) -> int:
    """Join chunk parts (in order) into one Parquet file, streaming, in row groups of
    :func:`group_rows` rows (the last one short), whatever the size of the parts: memory
    holds about one row group and the footer stays within ``FOOTER_CHUNKS`` column chunks
    (up to ``GROUP_BYTES`` a row group). Returns the number of rows."""
    schema, total = _joined_schema(parts)
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        held, size = _Held(), 0
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                t = _read_part(part, schema)
                if not size and t.num_rows:  # the first rows give the size of a row
                    size = group_rows(total, len(schema), t.nbytes / t.num_rows)
                held.add(t)
                rows += t.num_rows
                del t
                while size and held.rows >= size:  # a full row group; the rest stays held
                    writer.write_table(held.take(size), row_group_size=size)
                    give_back()
            if held.rows or not held.taken:
                writer.write_table(held.take(held.rows), row_group_size=size or ROW_GROUP)

    _atomic(dest, write)
    return rows


CACHE_BYTES = 4 << 20  # columns a ParquetColumns keeps after reading them: 4 MB at most
READ_VALUES = 25_000  # values of a column a ParquetColumns reads at a time, about


class ParquetColumns(Mapping[str, np.ndarray]):
    """A Parquet file read a column at a time (the table form the summaries take), so that
    summarising 10^6 replications holds a few columns, not the whole table.

    Read columns are kept while they add up to ``CACHE_BYTES`` at most (the most recent
    first): several of 10^5 replications, none of 10^6 as float64 (8 MB each), so a reader
    that needs a column twice should keep it itself. A list column can also be read a group
    of rows at a time (:meth:`row_groups`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = pq.ParquetFile(path)  # one reader, reused (a reader per read grows memory)
        self.names = self.file.schema_arrow.names
        self._cache: dict[str, np.ndarray] = {}
        schema = self.file.metadata.schema  # a column's first leaf, for its values per row
        self._leaves: dict[str, int] = {}
        for i in range(len(schema)):
            self._leaves.setdefault(schema.column(i).path.split(".")[0], i)

    @property
    def num_rows(self) -> int:
        """The number of rows (replications), from the file's footer: nothing is read."""
        return int(self.file.metadata.num_rows)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise KeyError(name)
        col = self._cache.get(name)
        if col is None:
            col = self._read(name)  # gives back what it freed, once
            if col.nbytes <= CACHE_BYTES:
                self._cache[name] = col
                while sum(c.nbytes for c in self._cache.values()) > CACHE_BYTES:
                    self._cache.pop(next(iter(self._cache)))  # the oldest first
        return col

    def read(self, name: str, dtype: type | None = None) -> np.ndarray:
        """Column ``name`` read afresh and never cached, so the caller owns it and may
        change it in place; with ``dtype``, converted a row group at a time as it is read
        (the same values as ``np.asarray(column, dtype)``, without the column held twice)."""
        if name not in self.names:
            raise KeyError(name)
        return self._read(name, dtype)

    def _read(self, name: str, dtype: type | None = None) -> np.ndarray:
        """A whole column, as ``_as_numpy`` gives it (then as ``dtype``, if given); a
        column of scalars without nulls is read a row group at a time into one array (a
        whole read holds the column twice)."""
        out: np.ndarray | None = None
        start = 0
        for group in self.row_groups(name):
            if group.ndim != 1 or group.dtype == object:  # lists, or nulls somewhere
                return self._whole(name, dtype)
            if out is None:
                out = np.empty(self.num_rows, dtype=dtype or group.dtype)
                first = group.dtype
            elif group.dtype != first:  # nulls in some groups only (ints as float)
                return self._whole(name, dtype)
            out[start : start + len(group)] = group
            start += len(group)
        if out is None:  # no row groups
            return self._whole(name, dtype)
        return out

    def _whole(self, name: str, dtype: type | None) -> np.ndarray:
        col = _as_numpy(self.file.read(columns=[name], use_threads=False))[name]
        give_back()
        return col if dtype is None else np.asarray(col, dtype=dtype)

    def __contains__(self, name: object) -> bool:  # without reading the column
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def row_groups(self, name: str) -> Iterator[np.ndarray]:
        """A column a group of rows at a time, as numpy: a column of equal-length lists gives
        rows x elements. One pass over every row group, read whole when it holds at most
        ``READ_VALUES`` values of the column, else in slices of that many: the transient
        memory of pyarrow's list reader grows with the slice (measured on a 10^6-row table's
        build-up column, pyarrow 26: peak RSS +8 MB for slices of 25,000 values, +14 MB for
        100,000, +36 MB for 400,000), so it stays small whatever the row groups (a joined
        table's grow to 10^4 rows and more, :func:`group_rows`)."""
        meta = self.file.metadata
        leaf = self._leaves.get(name)
        for i in range(self.file.num_row_groups):  # small reads: the allocator reuses them
            group = meta.row_group(i)
            values = group.column(leaf).num_values if leaf is not None else group.num_rows
            rows = max(1, READ_VALUES * group.num_rows // max(values, 1))  # rows a slice
            if group.num_rows <= rows:
                table = self.file.read_row_group(i, columns=[name], use_threads=False)
                yield _as_numpy(table)[name]
                continue
            batches = self.file.iter_batches(
                rows, row_groups=[i], columns=[name], use_threads=False
            )
            for batch in batches:
                yield _as_numpy(pa.Table.from_batches([batch]))[name]
        give_back()  # what the pass freed; once a pass: a trim of a large heap takes ~20 ms


def finish(run: Path, manifest: RunManifest) -> None:
    """Drop the chunk parts and write the manifest (last: its presence means complete)."""
    shutil.rmtree(run / "parts", ignore_errors=True)
    write_manifest(run, manifest.completed(checksums(run)))


def claim_new(
    folder: Path,
    force: bool,
    notify: Callable[[str], None],
    not_empty: str,
    then: Callable[[], None] | None = None,
) -> Claim:
    """Claim ``folder`` for a new run or sweep and return the claim (held until it ends).

    The claim is taken first, atomically (:func:`claim`), so of two commands given one
    folder exactly one proceeds; then the folder must be empty, or (with ``force``) a
    tripwire result folder holding only what tripwire writes (:func:`replaceable`), which
    is emptied after ``notify`` hears what is deleted; ``then`` runs last, still under the
    same guard (a sweep writes its first manifest there). A :class:`UsageError` otherwise
    (``not_empty``: what to tell the user to do with a non-empty folder); an ``OSError``
    of making or claiming the folder is left to the caller. On any failure the claim is
    released and a folder made here removed, so nothing written is left behind."""
    if folder.is_symlink() and not folder.exists():
        raise UsageError(f"{folder} is a broken symbolic link; choose another --out")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        held = claim(folder)
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    try:
        if any(p.name != CLAIM for p in folder.iterdir()):
            if not force:
                raise UsageError(f"{folder} exists and is not empty; {not_empty}")
            try:
                files = replaceable(folder)
            except NotReplaceable as exc:
                raise UsageError(f"--force: {exc}; not removed") from None
            notify(f"--force: deleting the tripwire result folder {folder} ({files} files)")
            try:
                clear(folder)
            except OSError as exc:
                raise UsageError(
                    f"--force: cannot remove {folder}: {exc.strerror or exc}"
                ) from None
        if then is not None:
            then()
    except BaseException:
        held.release()
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return held

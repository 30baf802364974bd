"""The result folder: tables, summaries, the resolved scenario, seed, version and command.

Layout of ``results/<run>/``::

    manifest.json                  what was run, by which version and command; file checksums
    comparison.json                paired differences (when several scenarios were run)
    <scenario>/replications.parquet  one row per replication
    <scenario>/summary.json        distributions with 95 % confidence intervals
    <scenario>/scenario.resolved.yaml  the scenario exactly as simulated (references resolved)
    <scenario>/sources.json        where every parameter value came from
    parts/<scenario>/*.parquet     finished chunks while the batch runs (removed at the end)

Every file is written to a temporary name and renamed into place, so a reader never sees a
half-written file, and an interrupted batch keeps every finished chunk in ``parts/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

# Arrow's default pool (mimalloc) keeps freed memory for reuse, so a process that once read
# a large column stays large; the system allocator returns it (measured: 362 -> 290 MB peak
# for 10^4 replications, benchmarks/RESULTS.md)
pa.set_memory_pool(pa.system_memory_pool())


def give_back() -> None:
    """Return what the pool has freed to the system (for the system allocator this trims the
    C heap), so that reading 10^5 rows a part or a column at a time leaves a process no
    larger than reading 10^3 does."""
    pa.default_memory_pool().release_unused()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
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
    """SHA-256 of every file below ``folder`` except the manifest, by relative path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")
    return {str(p.relative_to(folder)): sha256(p) for p in files}


def new_run_dir(base: Path, label: str, now: dt.datetime | None = None) -> Path:
    """A fresh folder ``base/<label>-<UTC timestamp>`` (suffixed if it exists)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    path = base / f"{label}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = base / f"{label}-{stamp}-{k}"
    return path


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
    write_checked(run / "parts", part_path(run, scenario, start), rows)


def part_path(run: Path, scenario: str, start: int) -> Path:
    return run / "parts" / scenario / f"rep-{start:09d}.parquet"


def part_files(run: Path, scenario: str) -> list[Path]:
    """A scenario's finished chunk parts, in replication order."""
    return sorted((run / "parts" / scenario).glob("rep-*.parquet"))


ROW_GROUP = 2_000  # rows per row group when parts are joined (bounds the buffer)


def consolidate(parts: Sequence[Path], dest: Path) -> int:
    """Join chunk parts (in order) into one Parquet file, streaming: memory holds about one
    row group, whatever the number of replications. Returns the number of rows."""
    schema = pq.read_schema(parts[0])
    for other in map(pq.read_schema, parts[1:]):
        if other != schema:
            schema = pa.unify_schemas([schema, other])
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        buffer: list[pa.Table] = []
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                t = pq.read_table(part, use_threads=False)
                buffer.append(t.select(schema.names).cast(schema))
                rows += t.num_rows
                if sum(b.num_rows for b in buffer) >= ROW_GROUP:
                    writer.write_table(pa.concat_tables(buffer), row_group_size=ROW_GROUP)
                    buffer.clear()
                    give_back()
            if buffer:
                writer.write_table(pa.concat_tables(buffer), row_group_size=ROW_GROUP)

    _atomic(dest, write)
    return rows


class ParquetColumns(Mapping[str, np.ndarray]):
    """A Parquet file read a column at a time (the table form the summaries take), so that
    summarising 10^5 replications holds a few columns, not the whole table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = pq.ParquetFile(path)  # one reader, reused (a reader per read grows memory)
        self.names = self.file.schema_arrow.names
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise KeyError(name)
        if name not in self._cache:
            if len(self._cache) >= 8:  # keep the few most recent columns
                self._cache.pop(next(iter(self._cache)))
            self._cache[name] = _as_numpy(self.file.read(columns=[name], use_threads=False))[name]
            give_back()
        return self._cache[name]

    def __contains__(self, name: object) -> bool:  # without reading the column
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def block(self, name: str, g0: int, g1: int) -> np.ndarray:
        """Elements ``g0 .. g1 - 1`` of every row of a list column, one row group at a time."""
        out = []
        for i in range(self.file.num_row_groups):  # small reads: the allocator reuses them
            group = self.file.read_row_group(i, columns=[name], use_threads=False)
            col = group.column(0).combine_chunks()
            flat = col.flatten().to_numpy(zero_copy_only=False)
            out.append(flat.reshape(len(col), -1)[:, g0:g1].copy())
        return np.concatenate(out)


def finish(run: Path, manifest: dict[str, Any]) -> None:
    """Drop the chunk parts and write the manifest (last: its presence means complete)."""
    shutil.rmtree(run / "parts", ignore_errors=True)
    manifest["files"] = checksums(run)
    manifest["complete"] = True
    write_json(run / "manifest.json", manifest)

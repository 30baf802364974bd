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
reader of a manifest goes through one shape check (:func:`read_manifest`), so a damaged one
is named rather than half-read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from tripwire.errors import UsageError
from tripwire.model.outcome import FORMATIONS_KEY
from tripwire.scenario import MAX_SEED  # manifests' seeds are checked against it

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


MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 256 << 20  # a sweep's manifest holds its spec and every checksum
SWEEP_STATUSES = ("running", "complete", "incomplete")


def manifest_kind(manifest: Any) -> str | None:
    """``"run"`` or ``"sweep"`` if ``manifest`` has the shape of what tripwire writes:

    * a run's start manifest (``simulate run``): ``tripwire_version``, ``resume`` (a
      mapping), ``stages`` (a list);
    * a complete run: ``tripwire_version``, ``complete: true``, ``files`` (checksums);
    * a sweep (:func:`tripwire.sweeprun.open_folder` and ``complete``): ``status`` (running,
      complete or incomplete), ``digest`` (SHA-256), ``spec`` (a mapping), and ``files``
      once finished.

    ``None`` for anything else."""
    if not isinstance(manifest, dict):
        return None
    files = manifest.get("files")
    if "files" in manifest and not (
        isinstance(files, dict) and all(isinstance(v, str) for v in files.values())
    ):
        return None
    digest = manifest.get("digest")
    if (
        manifest.get("status") in SWEEP_STATUSES
        and isinstance(digest, str)
        and re.fullmatch(r"[0-9a-f]{64}", digest)
        and isinstance(manifest.get("spec"), dict)
        and (manifest["status"] == "running" or files is not None)
    ):
        return "sweep"
    if not isinstance(manifest.get("tripwire_version"), str):
        return None
    if isinstance(manifest.get("resume"), dict) and isinstance(manifest.get("stages"), list):
        return "run"
    if manifest.get("complete") is True and files is not None:
        return "run"
    return None


def _load_manifest(folder: Path) -> tuple[Any, str]:
    """The parsed ``folder/manifest.json`` (any JSON value), or ``None`` and why not."""
    path = folder / MANIFEST
    try:
        if path.is_symlink():
            return None, f"its {MANIFEST} is a symbolic link"
        if not path.is_file():
            return None, f"no {MANIFEST}"
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return None, f"its {MANIFEST} is too large to be tripwire's"
        return json.loads(path.read_bytes()), ""
    except OSError as exc:
        return None, f"cannot read its {MANIFEST}: {exc.strerror or exc}"
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or absurdly nested
        return None, f"its {MANIFEST} is not JSON"


def _read_manifest(folder: Path) -> tuple[dict[str, Any] | None, str]:
    """The folder's tripwire manifest, or ``None`` and why not."""
    manifest, why = _load_manifest(folder)
    if why:
        return None, why
    if manifest_kind(manifest) is None:
        return None, f"its {MANIFEST} is not a tripwire run or sweep manifest"
    return manifest, ""


def tripwire_manifest(folder: Path) -> dict[str, Any] | None:
    """The parsed ``folder/manifest.json`` if it is a tripwire run or sweep manifest (see
    :func:`manifest_kind`), else ``None`` (missing, unreadable, not JSON, another shape)."""
    return _read_manifest(folder)[0]


class ManifestError(UsageError, ValueError):
    """A manifest a reader cannot use. ``why`` says what is wrong ("no manifest.json", "its
    manifest.json is not JSON", "its manifest.json is damaged: ..."); ``damaged`` is true
    when it is tripwire's by its keys but a field has the wrong type or value (edited or
    truncated), false when it is not tripwire's at all (or missing)."""

    def __init__(self, folder: Path | None, why: str, damaged: bool = False) -> None:
        super().__init__(f"{folder}: {why}" if folder is not None else why)
        self.folder, self.why, self.damaged = folder, why, damaged


def spec_digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of a sweep's specification as its manifest records it (the resume check
    compares it; :func:`check_manifest` checks it against the recorded ``spec``)."""
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _count(v: Any, lo: int, hi: int | None = None) -> bool:
    """An integer (not a bool) in ``lo .. hi``."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)


def _plain(name: Any) -> bool:
    from tripwire.names import check_name

    try:
        check_name(name)
    except (ValueError, TypeError):
        return False
    return isinstance(name, str)


def _relative(rel: Any) -> bool:
    """A relative path below the folder (no ``..``, not absolute), as checksums writes."""
    if not isinstance(rel, str) or not rel or "\0" in rel or rel.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def _files_problem(m: Mapping[str, Any]) -> str | None:
    files = m.get("files")
    if not isinstance(files, dict):
        return "files is not a mapping of file names to SHA-256 checksums"
    bad = [k for k, v in files.items() if not _relative(k) or not isinstance(v, str)]
    if bad:
        return f"files holds {json.dumps(bad[0], default=str)[:80]}, not a file's checksum"
    return None


def _fields(
    where: str, block: Mapping[str, Any], wants: Sequence[tuple[str, Any, str]]
) -> list[str]:
    """``"<where>KEY is not <what>"`` for each ``(KEY, test, what)`` that fails."""
    return [f"{where}{key} is not {what}" for key, ok, what in wants if not ok(block.get(key))]


def _scenario_digests(v: Any) -> bool:
    """A start manifest's ``resume.scenarios``: plain scenario names to SHA-256 digests."""
    return (
        isinstance(v, dict)
        and bool(v)
        and all(
            _plain(k) and isinstance(d, str) and bool(re.fullmatch(r"[0-9a-f]{64}", d))
            for k, d in v.items()
        )
    )


def _run_problems(m: Mapping[str, Any]) -> list[str]:
    """What a reader of a run's manifest (start or complete) would trip over."""
    if "tripwire_version" in m and not isinstance(m["tripwire_version"], str):
        return ["tripwire_version is not text"]
    complete = m.get("complete", False)
    if not isinstance(complete, bool):
        return ["complete is not true or false"]
    seed = ("seed", lambda v: _count(v, 0, MAX_SEED), f"a seed (an integer 0 to {MAX_SEED})")
    if complete:
        problems = _fields(
            "",
            m,
            [
                ("tripwire_version", lambda v: isinstance(v, str), "text"),
                (
                    "scenarios",
                    lambda v: (
                        isinstance(v, dict)
                        and bool(v)
                        and all(_plain(k) and isinstance(f, str) for k, f in v.items())
                    ),
                    "a mapping of scenario names to files",
                ),
                ("replications", lambda v: _count(v, 1), "a positive integer"),
                seed,
            ],
        )
        files = _files_problem(m)
        return problems + ([files] if files else [])
    resume = m.get("resume")
    if not isinstance(resume, dict):
        return ["resume is not a mapping (what the run was started with)"]
    problems = _fields(
        "resume.",
        resume,
        [
            (
                "files",
                lambda v: (
                    isinstance(v, list) and bool(v) and all(isinstance(f, str) and f for f in v)
                ),
                "a list of scenario files",
            ),
            ("scenarios", _scenario_digests, "a mapping of scenario names to SHA-256 digests"),
            ("replications", lambda v: _count(v, 1), "a positive integer"),
            seed,
            ("precision", lambda v: v is None or isinstance(v, str), "null or text"),
            ("max_replications", lambda v: _count(v, 1), "a positive integer"),
        ],
    )
    if not isinstance(resume.get("overrides", {}), dict):
        problems.append("resume.overrides is not a mapping of dotted paths to values")
    stages = m.get("stages")
    if not isinstance(stages, list):
        return [*problems, "stages is not a list"]
    for i, st in enumerate(stages):
        if not (
            isinstance(st, dict)
            and _count(st.get("first"), 0)
            and _count(st.get("target"), 1)
            and _count(st.get("chunk"), 1)
            and st["first"] < st["target"]
        ):
            problems.append(f"stages[{i}] is not a stage (first < target, chunk >= 1)")
            break
    return problems


def _sweep_problems(m: Mapping[str, Any]) -> list[str]:
    """What a reader of a sweep's manifest would trip over."""
    problems = _fields(
        "",
        m,
        [
            ("status", lambda v: v in SWEEP_STATUSES, f"one of {', '.join(SWEEP_STATUSES)}"),
            (
                "digest",
                lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9a-f]{64}", v)),
                "a SHA-256 digest",
            ),
            ("spec", lambda v: isinstance(v, dict), "a mapping (the sweep's specification)"),
        ],
    )
    if problems:
        return problems
    spec = m["spec"]
    problems = _fields(
        "spec.",
        spec,
        [
            ("name", lambda v: isinstance(v, str), "text"),
            (
                "postures",
                lambda v: (
                    isinstance(v, dict)
                    and bool(v)
                    and all(_plain(k) and isinstance(d, dict) for k, d in v.items())
                ),
                "a mapping of scenario names to scenarios",
            ),
            ("design", lambda v: isinstance(v, str), "text"),
            (
                "factors",
                lambda v: isinstance(v, list) and all(isinstance(f, str) for f in v),
                "a list of parameter paths",
            ),
            (
                "points",
                lambda v: isinstance(v, list) and all(isinstance(p, dict) for p in v),
                "a list of points",
            ),
            ("replications", lambda v: _count(v, 1), "a positive integer"),
            ("seed", lambda v: _count(v, 0, MAX_SEED), f"a seed (an integer 0 to {MAX_SEED})"),
            ("chunk", lambda v: _count(v, 1), "a positive integer"),
        ],
    )
    if not problems and spec_digest(spec) != m["digest"]:
        problems.append("its digest does not match its spec (edited or truncated)")
    if m["status"] != "running" or "files" in m:
        files = _files_problem(m)
        problems += [files] if files else []
    if not isinstance(m.get("failures", []), list):
        problems.append("failures is not a list")
    return problems


def check_manifest(manifest: Any, folder: Path | None = None) -> str:
    """The one shape check of a manifest every reader makes (``--resume`` of a run or a
    sweep, ``plot``, ``report``): ``"run"`` or ``"sweep"`` if ``manifest`` is tripwire's
    and holds every field those readers use with the type and range tripwire writes;
    :class:`ManifestError` naming the first few problems otherwise.

    A manifest is recognised as tripwire's by its keys (a sweep's ``spec`` and ``digest``;
    a run's ``tripwire_version``, or its ``resume`` and ``stages``), as
    :func:`manifest_kind` does; what a manifest of that kind must then hold is checked field
    by field (a sweep's ``digest`` must also match its ``spec``, so a truncated
    specification is caught)."""
    if not isinstance(manifest, dict):
        raise ManifestError(folder, f"its {MANIFEST} is not a JSON object, not tripwire's")
    if "spec" in manifest and "digest" in manifest:
        kind, problems = "sweep", _sweep_problems(manifest)
    elif "tripwire_version" in manifest or ("resume" in manifest and "stages" in manifest):
        kind, problems = "run", _run_problems(manifest)
    else:
        raise ManifestError(folder, f"its {MANIFEST} is not a tripwire run or sweep manifest")
    if problems:
        shown = "; ".join(problems[:3]) + (
            f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        raise ManifestError(folder, f"its {MANIFEST} is damaged: {shown}", damaged=True)
    return kind


def read_manifest(folder: Path) -> tuple[dict[str, Any], str]:
    """``folder/manifest.json`` and its kind (``"run"`` or ``"sweep"``), read and checked by
    :func:`check_manifest`; :class:`ManifestError` saying why not (missing, unreadable, not
    JSON, not tripwire's, damaged)."""
    manifest, why = _load_manifest(folder)
    if why:
        raise ManifestError(folder, why)
    return manifest, check_manifest(manifest, folder)


class NotReplaceable(UsageError, ValueError):
    """A folder that ``--force`` must not delete (the message names it and says why)."""


_TEMP = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]{8}")  # _atomic's temporary names
_RUN_PART = re.compile(r"(rep|form)-\d{9}\.parquet")  # part_path's kinds
_SWEEP_PART = re.compile(r"s\d{2}-p\d{6}-r\d{9}\.parquet")
_FIGURE = re.compile(r"[^/]+\.(png|svg)")
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
        case (("parts" | "plots"),), True, _:
            return True
        case (name,), False, "run":
            return name in RUN_FILES
        case (name,), False, "sweep":
            return name in SWEEP_FILES
        case (name,), True, "run":
            return name in scenarios
        case ("parts", "SHA256SUMS"), False, _:
            return True
        case ("plots", name), False, _:
            return bool(_FIGURE.fullmatch(name))
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
    manifest, why = _read_manifest(folder)
    if manifest is None:
        raise NotReplaceable(f"{folder} is not a tripwire result folder ({why})")
    kind = manifest_kind(manifest) or ""
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

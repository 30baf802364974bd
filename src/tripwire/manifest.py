"""The manifest of a result folder: one typed, versioned model, read and written here only.

A result folder's ``manifest.json`` says what was run (by which version and command, with
which seed and scenarios) and, once the work is complete, the SHA-256 of every file in the
folder. Two kinds share the model's header (``kind``, ``version``, ``tripwire_version``,
``command``):

* :class:`RunManifest` (``simulate run``): while the batch runs, ``resume`` (what it was
  started with) and ``stages`` (the planned chunks of each stage); once complete,
  ``complete: true``, the scenarios, seed, replications and ``files``.
* :class:`SweepManifest` (``simulate sweep``): ``status`` (running, complete, incomplete),
  the sweep's full specification ``spec`` and its ``digest``; once finished, ``failures``,
  run information and ``files``.

Versions: **2** (this model) writes ``kind`` and ``version``. **1** is the unmarked manifest
of tripwire before it: it is still read (its kind told from its keys, the only place that
is done) and upgraded in memory; it is never written.

Every reader goes through :func:`read` (or :func:`parse`): a manifest of the wrong shape is
a :class:`ManifestError` naming the first few fields that are wrong, never half-read, and a
manifest of a newer version is refused by name. :func:`write` writes one atomically.
:func:`tripwire_manifest` is the lenient test ``--force`` uses to recognise a folder
tripwire wrote (see :func:`kind_of`).
"""

from __future__ import annotations

import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from tripwire.atomic import write_json
from tripwire.errors import UsageError
from tripwire.names import check_name
from tripwire.scenario import MAX_SEED

MANIFEST = "manifest.json"
VERSION = 2
MAX_BYTES = 256 << 20  # a sweep's manifest holds its spec and every checksum
SWEEP_STATUSES = ("running", "complete", "incomplete")
_SHA = re.compile(r"[0-9a-f]{64}")


class ManifestError(UsageError, ValueError):
    """A manifest a reader cannot use. ``why`` says what is wrong ("no manifest.json", "its
    manifest.json is not JSON", "its manifest.json is damaged: ..."); ``damaged`` is true
    when it is tripwire's (by its ``kind``, or a version-1 manifest's keys) but a field has
    the wrong type or value (edited or truncated), false when it is not tripwire's at all,
    is missing, or is of a newer version."""

    def __init__(self, folder: Path | None, why: str, damaged: bool = False) -> None:
        super().__init__(f"{folder}: {why}" if folder is not None else why)
        self.folder, self.why, self.damaged = folder, why, damaged


# --------------------------------------------------------------------------- field types


def _sha(v: str) -> str:
    if not _SHA.fullmatch(v):
        raise ValueError("not a SHA-256 digest")
    return v


def _relative(v: str) -> str:
    """A relative path below the folder (no ``..``, not absolute), as checksums writes."""
    if not v or "\0" in v or v.startswith("/") or any(p in ("", ".", "..") for p in v.split("/")):
        raise ValueError("not a path inside the folder")
    return v


Sha256 = Annotated[str, AfterValidator(_sha)]
Name = Annotated[str, AfterValidator(check_name)]
RelPath = Annotated[str, AfterValidator(_relative)]
Count = Annotated[int, Field(ge=1)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description=f"a seed (an integer 0 to {MAX_SEED})")]
Files = Annotated[
    dict[RelPath, str],
    Field(description="a mapping of file names to SHA-256 checksums"),
]


class _Model(BaseModel):
    # strict: a count written as text, a flag as "yes" or a seed as a float is damage, not
    # something to coerce; unknown keys are damage too (what tripwire writes is all here)
    model_config = ConfigDict(strict=True, extra="forbid")


def _text(description: str = "text") -> Any:
    return Field(default="", description=description)


# --------------------------------------------------------------------------- runs


class Stage(_Model):
    """One stage of a run: replications ``first`` .. ``target - 1`` in chunks of ``chunk``."""

    first: int = Field(ge=0, description="a replication index")
    target: Count = Field(description="a positive integer")
    chunk: Count = Field(description="a positive integer")

    @model_validator(mode="after")
    def _ordered(self) -> Stage:
        if self.first >= self.target:
            raise ValueError("is not a stage (first < target)")
        return self


class Request(_Model):
    """What an interrupted run was started with (``--resume`` continues exactly this)."""

    files: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="a list of scenario files"
    )
    scenarios: dict[Name, Sha256] = Field(
        min_length=1, description="a mapping of scenario names to SHA-256 digests"
    )
    replications: Count = Field(description="a positive integer")
    seed: Seed
    precision: str | None = Field(default=None, description="null or text")
    max_replications: Count = Field(description="a positive integer")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="a mapping of dotted paths to values"
    )


class PrecisionLog(_Model):
    """How a ``--precision`` run grew: each stage's size and half-widths."""

    metric: str
    half_width: float
    max_replications: Count
    stages: list[dict[str, Any]]


class RunManifest(_Model):
    """The manifest of ``simulate run``'s folder: the start manifest while the batch runs
    (``complete`` false: ``resume`` and ``stages``), then the final one (``complete`` true:
    scenarios, seed, replications, timing and ``files``)."""

    kind: Literal["run"] = "run"
    version: int = Field(default=VERSION, description=f"a manifest version (1 to {VERSION})")
    tripwire_version: str = _text()
    command: str = _text()
    complete: bool = Field(default=False, description="true or false")
    status: Literal["running", "complete"] = "running"
    # while running
    resume: Request | None = Field(
        default=None, description="a mapping (what the run was started with)"
    )
    stages: list[Stage] = Field(default_factory=list, description="a list of stages")
    # once complete
    created_utc: str | None = None
    wall_seconds: float | None = None
    seed: Seed | None = Field(default=None, description=f"a seed (an integer 0 to {MAX_SEED})")
    replications: Count | None = Field(default=None, description="a positive integer")
    workers: Count | None = Field(default=None, description="a positive integer")
    seeding: str | None = None
    precision: PrecisionLog | None = None
    scenarios: dict[Name, str] | None = Field(
        default=None, description="a mapping of scenario names to files"
    )
    overrides: dict[str, Any] | None = None
    resumed: bool = False
    files: Files | None = Field(
        default=None, description="a mapping of file names to SHA-256 checksums"
    )

    @model_validator(mode="after")
    def _complete_or_running(self) -> RunManifest:
        if self.complete:
            missing = [
                k
                for k in ("scenarios", "replications", "seed", "files")
                if getattr(self, k) is None
            ]
            if not self.tripwire_version:
                missing.insert(0, "tripwire_version")
            if self.scenarios == {}:
                missing.append("scenarios")
            if missing:
                raise ValueError(f"a complete run lacks {', '.join(missing)}")
            if self.status != "complete":
                raise ValueError("complete is true but status is not complete")
        else:
            if self.resume is None:
                raise ValueError("resume is not a mapping (what the run was started with)")
            if self.status != "running":
                raise ValueError("status is complete but complete is not true")
        return self

    @property
    def started(self) -> Request:
        """What the run was started with (only while it runs)."""
        if self.resume is None:
            raise ValueError("a complete run's manifest has no start record")
        return self.resume

    def completed(self, files: dict[str, str]) -> RunManifest:
        """This manifest as the final one of a complete run, with the folder's checksums
        (the start record and stages dropped), checked as it will be read."""
        data = self.model_dump(exclude={"resume", "stages"})
        return RunManifest.model_validate(
            {**data, "files": files, "complete": True, "status": "complete"}
        )

    def run_names(self) -> list[str]:
        """The scenarios of the run (complete: those it ran; running: those it runs)."""
        block = self.scenarios if self.complete else self.started.scenarios
        return list(block or {})


# --------------------------------------------------------------------------- sweeps


class SweepSpec(_Model):
    """Everything that determines a sweep's numbers (the resume check compares it)."""

    name: str = Field(description="text")
    postures: dict[Name, dict[str, Any]] = Field(
        min_length=1, description="a mapping of scenario names to scenarios"
    )
    design: str = Field(description="text")
    factors: list[str] = Field(description="a list of parameter paths")
    points: list[dict[str, Any]] = Field(description="a list of points")
    replications: Count = Field(description="a positive integer")
    seed: Seed
    chunk: Count = Field(description="a positive integer")


class SweepManifest(_Model):
    """The manifest of ``simulate sweep``'s folder."""

    kind: Literal["sweep"] = "sweep"
    version: int = Field(default=VERSION, description=f"a manifest version (1 to {VERSION})")
    tripwire_version: str = _text()
    command: str = _text()
    status: Literal["running", "complete", "incomplete"] = Field(
        description=f"one of {', '.join(SWEEP_STATUSES)}"
    )
    digest: Sha256 = Field(description="a SHA-256 digest")
    spec: SweepSpec = Field(description="a mapping (the sweep's specification)")
    failures: list[dict[str, Any]] = Field(default_factory=list, description="a list")
    # once finished
    backend: str | None = None
    workers: Count | None = Field(default=None, description="a positive integer")
    points: int | None = None
    postures: list[str] | None = None
    replications_total: int | None = None
    computed_chunks: int | None = None
    reused_chunks: int | None = None
    finished_utc: str | None = None
    wall_seconds: float | None = None
    files: Files | None = Field(
        default=None, description="a mapping of file names to SHA-256 checksums"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SweepManifest:
        if spec_digest(self.spec.model_dump()) != self.digest:
            raise ValueError("its digest does not match its spec (edited or truncated)")
        if self.status != "running" and self.files is None:
            raise ValueError(f"a {self.status} sweep lacks files")
        return self

    @classmethod
    def start(cls, spec: Mapping[str, Any]) -> SweepManifest:
        """The manifest a new sweep writes first."""
        return cls(status="running", digest=spec_digest(spec), spec=SweepSpec(**spec))


Manifest = RunManifest | SweepManifest
_ADAPTER: TypeAdapter[Manifest] = TypeAdapter(
    Annotated[Manifest, Field(discriminator="kind")]  # type: ignore[arg-type]
)


def spec_digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of a sweep's specification as its manifest records it."""
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- version 1


def _v1_kind(data: Mapping[str, Any]) -> str | None:
    """The kind of an unmarked (version 1) manifest, told from its keys: a sweep's ``spec``
    and ``digest``; a run's ``tripwire_version``, or its ``resume`` and ``stages``."""
    if "spec" in data and "digest" in data:
        return "sweep"
    if "tripwire_version" in data or ("resume" in data and "stages" in data):
        return "run"
    return None


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 manifest in version 2's shape (in memory only)."""
    kind = _v1_kind(data)
    if kind is None:
        return data
    out = {**data, "kind": kind, "version": 1}
    if kind == "run" and "status" not in out:
        out["status"] = "complete" if out.get("complete") is True else "running"
    return out


# --------------------------------------------------------------------------- reading


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _field_description(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, str]:
    """The deepest field of ``model`` along ``loc`` that has a description, as (its dotted
    path, its description); ("", "") if none has."""
    found = ("", "")
    walked: list[int | str] = []
    current: Any = model
    for part in loc:
        walked.append(part)
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            continue
        info = current.model_fields.get(part)
        if info is None:
            break
        if info.description:
            found = (_loc(tuple(walked)), info.description)
        current = _inner_model(info.annotation)
    return found


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside ``annotation`` (``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            inner = _inner_model(arg)
            if inner is not None:
                return inner
    return None


def _problems(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """One plain sentence per distinct problem, naming the field by its dotted path."""
    out: list[str] = []
    kind = model.model_fields["kind"].default
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        loc = loc[1:] if loc[:1] == (kind,) else loc  # the union's tag
        where, what = _field_description(model, loc)
        whole_item = not loc or isinstance(loc[-1], int)  # a model-level check of an item
        if err["type"] == "missing":
            text = f"{_loc(loc)} is missing"
        elif err["type"] == "extra_forbidden":
            text = f"{_loc(loc)} is not a field of a tripwire manifest"
        elif err["type"] == "value_error" and (whole_item or not where):
            text = f"{_loc(loc)} {err['msg'].removeprefix('Value error, ')}".strip()
        elif where:
            text = f"{where} is not {what}"
        else:
            text = f"{_loc(loc)}: {err['msg']}"
        if text not in out:
            out.append(text)
    return out


def parse(data: Any, folder: Path | None = None) -> Manifest:
    """The manifest in ``data`` (parsed JSON), checked field by field; a
    :class:`ManifestError` naming the first few problems otherwise."""
    if not isinstance(data, dict):
        raise ManifestError(folder, f"its {MANIFEST} is not a JSON object, not tripwire's")
    if "kind" not in data and "version" not in data:
        data = _upgrade(data)
    kind, version = data.get("kind"), data.get("version")
    if kind not in ("run", "sweep"):
        raise ManifestError(folder, f"its {MANIFEST} is not a tripwire run or sweep manifest")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise ManifestError(
            folder,
            f"its {MANIFEST} is of manifest version {version}, written by a newer tripwire "
            f"(this one, {_tripwire_version()}, reads versions 1 to {VERSION}); upgrade tripwire",
        )
    try:
        manifest = _ADAPTER.validate_python(data)
        if not 1 <= manifest.version <= VERSION:
            raise ManifestError(
                folder, f"its {MANIFEST} is damaged: version is not 1 to {VERSION}", damaged=True
            )
        return manifest
    except ValidationError as exc:
        model: type[BaseModel] = RunManifest if kind == "run" else SweepManifest
        problems = _problems(exc, model)
        shown = "; ".join(problems[:3]) + (
            f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        raise ManifestError(folder, f"its {MANIFEST} is damaged: {shown}", damaged=True) from None


def _tripwire_version() -> str:
    from tripwire import __version__

    return __version__


def _load(folder: Path) -> tuple[Any, str]:
    """The parsed ``folder/manifest.json`` (any JSON value), or ``None`` and why not."""
    path = folder / MANIFEST
    try:
        if path.is_symlink():
            return None, f"its {MANIFEST} is a symbolic link"
        if not path.is_file():
            return None, f"no {MANIFEST}"
        if path.stat().st_size > MAX_BYTES:
            return None, f"its {MANIFEST} is too large to be tripwire's"
        return json.loads(path.read_bytes()), ""
    except OSError as exc:
        return None, f"cannot read its {MANIFEST}: {exc.strerror or exc}"
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or absurdly nested
        return None, f"its {MANIFEST} is not JSON"


def read(folder: Path) -> Manifest:
    """``folder/manifest.json``, read and checked (:func:`parse`); :class:`ManifestError`
    saying why not (missing, unreadable, not JSON, not tripwire's, newer, damaged)."""
    data, why = _load(folder)
    if why:
        raise ManifestError(folder, why)
    return parse(data, folder)


def write(folder: Path, manifest: Manifest) -> None:
    """Write ``folder/manifest.json`` atomically (fields left unset are not written)."""
    write_json(folder / MANIFEST, manifest.model_dump(mode="json", exclude_none=True))


# --------------------------------------------------------------------------- recognising


def kind_of(data: Any) -> str | None:
    """``"run"`` or ``"sweep"`` if ``data`` looks like what tripwire writes, for ``--force``
    deciding whether a folder is a tripwire result folder it may replace. Lenient on
    purpose (a damaged result folder can be replaced), strict on what matters: a version-2
    manifest names its kind and version; a version-1 one has the keys and types of a run
    (``tripwire_version`` and ``resume`` + ``stages``, or ``complete: true`` + ``files``)
    or a sweep (``status``, a SHA-256 ``digest``, a ``spec`` mapping, and ``files`` unless
    running). ``files``, where present, must map names to text. ``None`` otherwise."""
    if not isinstance(data, dict):
        return None
    files = data.get("files")
    if "files" in data and not (
        isinstance(files, dict) and all(isinstance(v, str) for v in files.values())
    ):
        return None
    if "kind" in data or "version" in data:
        version = data.get("version")
        ok = isinstance(version, int) and not isinstance(version, bool) and version >= 1
        return data.get("kind") if ok and data.get("kind") in ("run", "sweep") else None
    digest = data.get("digest")
    if (
        data.get("status") in SWEEP_STATUSES
        and isinstance(digest, str)
        and _SHA.fullmatch(digest)
        and isinstance(data.get("spec"), dict)
        and (data["status"] == "running" or files is not None)
    ):
        return "sweep"
    if not isinstance(data.get("tripwire_version"), str):
        return None
    if isinstance(data.get("resume"), dict) and isinstance(data.get("stages"), list):
        return "run"
    if data.get("complete") is True and files is not None:
        return "run"
    return None


def tripwire_manifest(folder: Path) -> dict[str, Any] | None:
    """The parsed ``folder/manifest.json`` if :func:`kind_of` recognises it, else ``None``
    (missing, unreadable, not JSON, another shape)."""
    data, why = _load(folder)
    return data if not why and kind_of(data) is not None else None


def why_not_tripwire(folder: Path) -> str:
    """Why :func:`tripwire_manifest` refuses ``folder`` ("" if it does not)."""
    data, why = _load(folder)
    if why:
        return why
    return "" if kind_of(data) else f"its {MANIFEST} is not a tripwire run or sweep manifest"


def json_schema() -> dict[str, Any]:
    """The JSON schema of a manifest (run or sweep, version 2), as docs/manifest.schema.json
    publishes it."""
    return _ADAPTER.json_schema()


if __name__ == "__main__":  # python -m tripwire.manifest > docs/manifest.schema.json
    print(json.dumps(json_schema(), indent=2, sort_keys=True))

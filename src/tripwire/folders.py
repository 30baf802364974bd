"""Read finished result folders (of ``simulate run`` and ``simulate sweep``), checked.

Plots and reports read only what these classes return: they never simulate. A folder is
opened only when its manifest says it is complete, and every file is checked against the
SHA-256 recorded in the manifest before it is read, so a truncated or edited file is named
instead of being half-read into a wrong figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tripwire import manifest as mf
from tripwire.errors import UsageError
from tripwire.manifest import MANIFEST, RunManifest, SweepManifest
from tripwire.results import read_table, sha256


class FolderError(UsageError):
    """A result folder that cannot be read (the message names the folder and the file)."""


@dataclass
class _Folder:
    path: Path
    manifest: RunManifest | SweepManifest
    _checked: set[str] = field(default_factory=set, repr=False)

    def file(self, rel: str) -> Path:
        """Path of ``rel`` inside the folder, after checking it against the manifest."""
        if rel not in self._checked:
            p = self.path / rel
            expected = (self.manifest.files or {}).get(rel)
            if expected is None:
                raise FolderError(f"{self.path}: {rel} is not listed in manifest.json")
            if not p.is_file():
                raise FolderError(f"{self.path}: {rel} is missing (listed in manifest.json)")
            if sha256(p) != expected:
                raise FolderError(
                    f"{self.path}: {rel} does not match its checksum in manifest.json "
                    "(truncated or modified after the run); re-run to regenerate it"
                )
            self._checked.add(rel)
        return self.path / rel

    def json(self, rel: str) -> Any:
        return json.loads(self.file(rel).read_text())

    def table(self, rel: str, columns: list[str] | None = None) -> dict[str, np.ndarray]:
        try:
            return read_table(self.file(rel), columns)
        except (OSError, pa.ArrowException) as exc:
            raise FolderError(f"{self.path}: cannot read {rel}: {exc}") from None

    def has(self, rel: str) -> bool:
        return rel in (self.manifest.files or {})

    @property
    def seed(self) -> int:
        m = self.manifest
        seed = m.spec.seed if isinstance(m, SweepManifest) else m.seed
        return -1 if seed is None else seed


@dataclass
class RunFolder(_Folder):
    """The folder of ``simulate FILE...``: one sub-folder per scenario."""

    manifest: RunManifest
    kind: str = "run"

    @property
    def scenarios(self) -> list[str]:
        return self.manifest.run_names()

    @property
    def replications(self) -> int:
        return int(self.manifest.replications or 0)

    @cached_property
    def summaries(self) -> dict[str, dict[str, Any]]:
        return {s: self.json(f"{s}/summary.json") for s in self.scenarios}

    @cached_property
    def comparisons(self) -> list[dict[str, Any]]:
        return self.json("comparison.json") if self.has("comparison.json") else []

    def sources(self, scenario: str) -> dict[str, Any]:
        out: dict[str, Any] = self.json(f"{scenario}/sources.json")
        return out

    def replications_table(
        self, scenario: str, columns: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        return self.table(f"{scenario}/replications.parquet", columns)

    def posture(self, scenario: str) -> str:
        return str(self.summaries[scenario].get("posture", scenario))


@dataclass
class SweepFolder(_Folder):
    """The folder of ``simulate sweep``: points.parquet, comparison.parquet, sensitivity."""

    manifest: SweepManifest
    kind: str = "sweep"

    @cached_property
    def spec(self) -> dict[str, Any]:
        return self.manifest.spec.model_dump()

    @property
    def factors(self) -> list[str]:
        return list(self.manifest.spec.factors)

    @property
    def scenarios(self) -> list[str]:
        return list(self.manifest.spec.postures)

    @property
    def replications(self) -> int:
        return self.manifest.spec.replications

    @cached_property
    def points(self) -> dict[str, np.ndarray]:
        return self.table("points.parquet")

    @cached_property
    def sensitivity(self) -> dict[str, Any]:
        out: dict[str, Any] = self.json("sensitivity.json")
        return out

    def posture(self, scenario: str) -> str:
        return str(self.manifest.spec.postures[scenario].get("posture", scenario))


def open_result(path: Path) -> RunFolder | SweepFolder:
    """Open a complete run or sweep folder, or raise :class:`FolderError` saying why not.

    The manifest goes through the same shape check as every other reader
    (:func:`tripwire.manifest.read`), so a damaged one is named, never half-read."""
    if not path.exists():
        raise FolderError(f"{path}: no such folder")
    if not path.is_dir():
        raise FolderError(f"{path}: not a folder (give the result folder that `simulate` printed)")
    file = path / MANIFEST
    if not file.is_file() and not file.is_symlink():
        hint = (
            "an interrupted run (only its finished chunks are in parts/)"
            if (path / "parts").exists()
            else "not a tripwire result folder"
        )
        raise FolderError(f"{path}: no manifest.json: {hint}")
    try:
        manifest = mf.read(path)
    except mf.ManifestError as exc:
        raise FolderError(f"{path}: {exc.why}") from None
    if isinstance(manifest, SweepManifest):
        if manifest.status != "complete":
            raise FolderError(
                f"{path}: the sweep is {manifest.status}; "
                f"finish it with `simulate sweep --resume {path}`"
            )
        return SweepFolder(path, manifest)
    if not manifest.complete:
        raise FolderError(
            f"{path}: the run did not complete (interrupted?); continue it with "
            f"`simulate run --resume {path}`"
        )
    return RunFolder(path, manifest)


def finite(x: float | None) -> float:
    """JSON null / None (a bound beyond the horizon) as NaN, for plotting."""
    return float("nan") if x is None else float(x)

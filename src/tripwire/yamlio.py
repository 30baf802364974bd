"""Safe YAML reading with line numbers: duplicate keys and oversized files are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tripwire.errors import Problem, ScenarioError

PathKey = tuple[str | int, ...]
MAX_FILE_BYTES = 2_000_000


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys (a silent overwrite hides mistakes)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _lines(node: yaml.Node, path: PathKey, out: dict[PathKey, int]) -> None:
    """Record the line of every key (for mappings) or item (for sequences) below ``node``."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[(*path, k.value)] = k.start_mark.line + 1
            _lines(v, (*path, k.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, (*path, i), out)


def read_yaml(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse one YAML file; return its data and a map from field path to line number."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(
                [Problem(str(path), "", f"file larger than {MAX_FILE_BYTES} bytes")]
            )
        text = path.read_text(encoding="utf-8")
    except ScenarioError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), "", f"cannot read file: {exc}")]) from None
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()  # type: ignore[no-untyped-call]
        data = loader.construct_document(node) if node is not None else None  # type: ignore[no-untyped-call]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ScenarioError([Problem(str(path), "", msg, line)]) from None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
    lines: dict[PathKey, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines

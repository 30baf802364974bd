"""Safe YAML reading with line numbers.

Hostile or broken input is rejected with a message, before it can cost much: files over
``MAX_FILE_BYTES``, nesting deeper than ``MAX_DEPTH`` (checked on the parser's event stream,
which is not recursive), documents whose aliases expand to more than ``MAX_NODES`` nodes
(the "billion laughs") or refer to themselves, duplicate keys, unhashable keys, several
documents in one file, and any tag the safe loader does not know (``!!python/object`` and
custom tags alike).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tripwire.errors import Problem, ScenarioError

PathKey = tuple[str | int, ...]
MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40  # nesting of mappings and sequences
MAX_NODES = 200_000  # nodes of the document with every alias expanded


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys (a silent overwrite hides mistakes)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name or number", key_node.start_mark
            )
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


class _Shape(Exception):
    """The document is too deep, too large once expanded, or refers to itself."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _check_depth(text: str) -> None:
    """Reject nesting deeper than ``MAX_DEPTH`` before anything recursive sees it."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Shape(f"nested deeper than {MAX_DEPTH} levels", event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(root: yaml.Node) -> None:
    """Count the nodes of ``root`` with aliases expanded (each shared node once per use,
    memoised so the count itself is cheap) and reject more than ``MAX_NODES`` or a cycle."""
    size: dict[int, int] = {}
    active: set[int] = set()

    def count(node: yaml.Node) -> int:
        key = id(node)
        if key in size:
            return size[key]
        if key in active:
            raise _Shape("an alias refers to the node that contains it", node.start_mark.line + 1)
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += count(k) + count(v)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += count(v)
        active.discard(key)
        if total > MAX_NODES:
            raise _Shape(
                f"the document expands to more than {MAX_NODES:,} values (aliases repeated "
                "too often: a 'billion laughs' document?)",
                node.start_mark.line + 1,
            )
        size[key] = total
        return total

    count(root)  # recursion is bounded by MAX_DEPTH, checked before


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
    loader = None
    try:
        _check_depth(text)
        loader = _StrictLoader(text)  # the reader checks the characters here
        node = loader.get_single_node()  # type: ignore[no-untyped-call]
        if node is not None:
            _check_expansion(node)
        data = loader.construct_document(node) if node is not None else None  # type: ignore[no-untyped-call]
    except _Shape as exc:
        raise ScenarioError([Problem(str(path), "", str(exc), exc.line)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ScenarioError([Problem(str(path), "", msg, line)]) from None
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[no-untyped-call]
    lines: dict[PathKey, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


def walk(obj: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, Any]]:
    """Every node of plain YAML data with its path (mapping keys, list positions)."""
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, (*path, i))

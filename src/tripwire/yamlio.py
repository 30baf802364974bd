"""Safe YAML reading with line numbers.

Hostile or broken input is rejected with a message, before it can cost much: anything but a
regular file (a device such as ``/dev/zero``, a FIFO, a directory: checked before reading,
which could otherwise block or never end), files over ``MAX_FILE_BYTES``, nesting deeper
than ``MAX_DEPTH``, documents of more than ``MAX_NODES`` values or whose aliases expand to
more (the "billion laughs") or refer to themselves, duplicate keys, unhashable keys, several
documents in one file, and any tag the safe loader does not know (``!!python/object`` and
custom tags alike).

Refusal is fast: depth and size are first measured on the event stream of LibYAML's C
parser when PyYAML has it (a 2 MB file in well under a second), and again while the
pure-Python composer builds the node graph (before it recurses into a deeper level or
builds one node too many), so a file is never parsed whole just to be refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from tripwire.errors import Problem, ScenarioError

PathKey = tuple[str | int, ...]
MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40  # nesting of mappings and sequences
MAX_NODES = 200_000  # nodes of the document with every alias expanded


class _Shape(Exception):
    """The document is too deep, too large once expanded, or refers to itself."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _too_deep(line: int) -> _Shape:
    return _Shape(f"nested deeper than {MAX_DEPTH} levels", line)


def _too_many(line: int) -> _Shape:
    return _Shape(
        f"the document holds more than {MAX_NODES:,} values (a scenario needs a few thousand)",
        line,
    )


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys (a silent overwrite hides mistakes), and
    nesting deeper than ``MAX_DEPTH`` or more than ``MAX_NODES`` nodes while composing (the
    composer is recursive and builds every node: both are checked before it does)."""

    _depth = 0
    _nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _too_many(self.peek_event().start_mark.line + 1)  # type: ignore[no-untyped-call]
        deeper = self.check_event(yaml.CollectionStartEvent)  # type: ignore[no-untyped-call]
        if deeper:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _too_deep(self.peek_event().start_mark.line + 1)  # type: ignore[no-untyped-call]
        try:
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            if deeper:
                self._depth -= 1


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

_FastStrictLoader: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CStrictLoader(yaml.CSafeLoader):
        """LibYAML's parser and composer (C) with the same safe, strict constructor. Used
        only for a document whose depth and size LibYAML's own event stream passed."""

    _CStrictLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
        _construct_mapping,  # type: ignore[arg-type]
    )
    _FastStrictLoader = _CStrictLoader


def _check_events(events: Iterable[yaml.Event]) -> None:
    """Reject nesting deeper than ``MAX_DEPTH`` or more than ``MAX_NODES`` values (aliases
    counted once: the expanded count is at least this), stopping at the first excess."""
    depth = nodes = 0
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _too_many(event.start_mark.line + 1)


def _quick_shape(text: str) -> bool:
    """Depth and size on LibYAML's (fast, C) event stream, when PyYAML was built with it;
    True when LibYAML read the whole stream within the limits (it may then compose it).

    A document LibYAML cannot parse goes on to the pure-Python loader, which gives its own
    message (and checks depth and size again as it composes).
    """
    if _FastStrictLoader is None:
        return False
    try:
        _check_events(yaml.parse(text, Loader=_FastStrictLoader))
    except yaml.YAMLError:
        return False
    return True


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


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


def _regular_size(path: Path, st: os.stat_result) -> int:
    """``st``'s size; ScenarioError unless it is a regular file within ``MAX_FILE_BYTES``."""
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "a special file")
        raise ScenarioError(
            [Problem(str(path), "", f"{kind}, not a regular file: expected a YAML file")]
        )
    if st.st_size > MAX_FILE_BYTES:
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "",
                    f"file larger than {MAX_FILE_BYTES} bytes ({st.st_size:,} bytes; a "
                    "scenario or catalogue is a few tens of kB)",
                )
            ]
        )
    return int(st.st_size)


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``, refused before reading (ScenarioError naming the file)
    unless it is a regular file of at most ``MAX_FILE_BYTES``: a device such as /dev/zero
    would be read until memory runs out, a FIFO would block. The file is opened without
    blocking, checked again on the open descriptor (it may have been swapped meanwhile),
    and never read beyond the cap (it may be growing)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        _regular_size(path, os.stat(path))  # before opening: opening a device can act
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            _regular_size(path, os.fstat(fh.fileno()))
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            _regular_size(path, os.stat(path))  # it grew while being read
            raise ScenarioError(
                [Problem(str(path), "", f"file larger than {MAX_FILE_BYTES} bytes (growing)")]
            )
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError([Problem(str(path), "", f"cannot read file: {exc}")]) from None


def read_yaml(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse one YAML file; return its data and a map from field path to line number."""
    text = read_text(path)
    loader = None
    try:
        fast = _quick_shape(text)  # refuses a document too deep or too large, quickly
        # LibYAML has read it all (characters included); else the pure-Python reader checks
        # the characters as the loader is made, and its composer depth and size again
        loader = _FastStrictLoader(text) if fast and _FastStrictLoader else _StrictLoader(text)
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

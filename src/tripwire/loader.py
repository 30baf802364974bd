"""Reading scenario files: YAML, ``extends``, ``edit``, references, validation, provenance.

This is the only code that reads scenario files. A scenario may ``extends:`` another file
(deep merge: mappings merge, lists and scalars replace), then ``edit:`` lists of the merged
result item by item: ``edit: {network.links: [{id: gap_rail, channels: 2}]}`` changes the
item with that ``id`` (or ``name``, or ``site``), appends one with a new key, or removes one
given ``remove: true`` (docs/scenario-files.md). Any number may be written as a
reference to a catalogue entry, ``{figure: ID}`` (``seeds/figures.yaml``: figures from the
source articles) or ``{assumption: ID}`` (public figures and labelled assumptions), with an
optional ``times: FACTOR``; the catalogue files are named by ``figures_file`` and
``assumptions_file`` keys, relative to the file that declares them.

Every problem found in a file is reported at once in a :class:`ScenarioError`, each with the
file, the field path and, where the parser knows it, the line.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tripwire.designs import path_step
from tripwire.errors import Problem, ScenarioError
from tripwire.network import HEAVY_MODES, Edge, Router
from tripwire.plausible import implausible
from tripwire.scenario import COUNTRIES, Scenario
from tripwire.yamlio import PathKey, read_yaml


@dataclass(frozen=True)
class Origin:
    """Where one parameter value came from."""

    kind: str  # "figure" | "public" | "assumption" | "note" | "setting" | "unsourced"
    ref: str | None
    detail: str


@dataclass
class LoadedScenario:
    """A validated scenario with the plain data it was built from and its provenance."""

    scenario: Scenario
    path: Path
    data: dict[str, Any]
    provenance: dict[str, Origin] = field(default_factory=dict)
    catalogue: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # implausible values (see plausible)


def dotted(path: PathKey) -> str:
    """``("units", 0, "troops")`` -> ``units[0].troops``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


_VALUE_KEYS = {
    "figure",
    "assumption",
    "kind",
    "fixed",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "exponential",
    "choice",
}
_SETTINGS = ("replications", "seed", "horizon_days", "checkpoints_hours")


def _is_block(v: Any) -> bool:
    """A mapping that merges key by key (not a distribution or a reference, which replace)."""
    return isinstance(v, dict) and not (set(v) & _VALUE_KEYS and len(v) <= 3)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if _is_block(v) and _is_block(out.get(k)) else v
    return out


Where = dict[PathKey, tuple[str, int]]  # field path -> (file, line)


def _read_tree(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], Where]:
    """Read a file and its ``extends`` parents, merged, with per-path (file, line); then
    apply the file's own ``edit``."""
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "", "expected a mapping of scenario fields")])
    where = {k: (str(path), v) for k, v in lines.items() if k[:1] != ("edit",)}
    for key in ("figures_file", "assumptions_file"):
        if key in data:
            data[key] = str(_resolve_path(path, key, data[key], lines))
    parent = data.pop("extends", None)
    has_edit = "edit" in data
    edit = data.pop("edit", None)
    if parent is not None:
        ppath = _resolve_path(path, "extends", parent, lines)
        if ppath in chain:
            raise ScenarioError(
                [Problem(str(path), "extends", "circular extends", lines.get(("extends",)))]
            )
        if not ppath.is_file():
            msg = f"extends names {parent!r}, but {ppath} does not exist"
            raise ScenarioError([Problem(str(path), "extends", msg, lines.get(("extends",)))])
        pdata, pwhere = _read_tree(ppath, (*chain, ppath))
        pwhere = _without(pwhere, _replaced(pdata, data))  # lines of values now gone
        data, where = _merge(pdata, data), {**pwhere, **where}
    if has_edit:
        data, where = _apply_edit(data, where, edit, lines, str(path))
    return data, where


def _resolve_path(path: Path, key: str, value: Any, lines: dict[PathKey, int]) -> Path:
    """A file named by ``key`` in ``path``, made absolute; a symbolic-link loop or an
    unusable name is a ScenarioError naming the file, key and line (never a traceback)."""
    try:
        return (path.parent / str(value)).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a link loop (3.11)
        raise ScenarioError(
            [Problem(str(path), key, f"cannot use {value!r}: {exc}", lines.get((key,)))]
        ) from None


_ITEM_KEYS = ("id", "name", "site")


def _item_key(item: Any) -> tuple[str, Any] | None:
    """The key of a list item: its first field of id, name, site, with the value."""
    if isinstance(item, dict):
        for k in _ITEM_KEYS:
            if k in item:
                return k, item[k]
    return None


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _line(lines: dict[PathKey, int], p: PathKey) -> int | None:
    """The line of ``p``, else of its nearest parent the parser saw."""
    for n in range(len(p), -1, -1):
        if p[:n] in lines:
            return lines[p[:n]]
    return None


def _replaced(base: Any, over: dict[Any, Any], rel: PathKey = ()) -> list[PathKey]:
    """Paths (relative to ``base``) whose old value ``_merge(base, over)`` replaces whole."""
    out: list[PathKey] = []
    for k, v in over.items():
        if _is_block(v) and isinstance(base, dict) and _is_block(base.get(k)):
            out += _replaced(base[k], v, (*rel, k))
        else:
            out.append((*rel, k))
    return out


def _without(where: Where, gone: list[PathKey]) -> Where:
    """``where`` without the entries strictly below a path in ``gone``: those values were
    replaced whole, so lines below them belong to values no longer there."""
    cut = set(gone)
    return {k: v for k, v in where.items() if not any(k[:n] in cut for n in range(1, len(k)))}


def _set_in(data: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    """``data`` with the value at ``parts`` replaced; mappings on the way are copied, so
    nothing shared (a YAML alias, a parent's data) changes."""
    out = dict(data)
    out[parts[0]] = value if len(parts) == 1 else _set_in(out[parts[0]], parts[1:], value)
    return out


def _apply_edit(  # noqa: C901 - one branch per edit operation (docs/scenario-files.md)
    data: dict[str, Any], where: Where, edit: Any, lines: dict[PathKey, int], file: str
) -> tuple[dict[str, Any], Where]:
    """Apply a file's ``edit:`` to ``data`` (its parents merged with its own keys).

    ``edit`` maps dotted paths of lists to items; each item names one list item by its key
    (the first of id, name, site it has): with ``remove: true`` that item goes, otherwise
    its fields deep-merge into the item with that key, or it is appended when none has it.
    Items apply in order. A list absent from its mapping is an empty one (the schema's
    default for optional lists). ``where`` is rebuilt for the edited lists: kept items keep
    their lines (re-indexed), the fields an edit sets point at the edit.
    """
    problems: list[Problem] = []

    def fail(p: PathKey, msg: str) -> None:
        problems.append(Problem(file, dotted(p), msg, _line(lines, p)))

    if not isinstance(edit, dict):
        fail(("edit",), "expected a mapping from list paths (network.links, units...) to items")
        raise ScenarioError(problems)
    targets: list[tuple[str, list[str], list[Any], list[Any]]] = []
    for key, items in edit.items():
        epath: PathKey = ("edit", str(key))
        parts = key.split(".") if isinstance(key, str) else []
        if not parts or not all(parts):
            fail(epath, "expected the dotted path of a list, such as network.links or units")
            continue
        holder: Any = data
        for part in parts[:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        target = holder.get(parts[-1], []) if isinstance(holder, dict) else None
        if not isinstance(holder, dict):
            fail(
                epath,
                f"no list at {key}: no mapping {'.'.join(parts[:-1])} in this file or the "
                "files it extends",
            )
        elif isinstance(target, dict):
            fail(
                epath,
                f"{key} is a mapping, not a list: a mapping already merges key by key "
                f"(set or add keys under {key} in this file)",
            )
        elif not isinstance(target, list):
            what = "null" if target is None else "a single value"
            fail(epath, f"{key} is {what}, not a list")
        elif not all(_item_key(it) for it in target):
            fail(epath, f"the items of {key} have no id, name or site to be named by")
        elif not isinstance(items, list):
            fail(epath, "expected a list of items, each with an id, name or site")
        else:
            targets.append((key, parts, target, items))

    # lines of the items of the edited lists and of the edit's items, relative to the item
    prefixes = {tuple(parts) for _, parts, _, _ in targets}
    lengths = {len(p) for p in prefixes}
    old: dict[PathKey, dict[int, Where]] = {p: {} for p in prefixes}
    for k, loc in where.items():
        for n in lengths:
            pos = k[n] if len(k) > n else None
            if isinstance(pos, int) and k[:n] in prefixes:
                old[k[:n]].setdefault(pos, {})[k[n + 1 :]] = loc
    mine: dict[PathKey, Where] = {}
    for k, ln in lines.items():
        if len(k) >= 3 and k[0] == "edit":
            mine.setdefault(k[:3], {})[k[3:]] = (file, ln)
    rebuilt: dict[PathKey, tuple[str, list[Where]]] = {}

    for key, parts, target, items in targets:
        slots: list[Any] = list(target)  # None: removed
        locs = [old[tuple(parts)].get(j, {}) for j in range(len(slots))]
        index: dict[tuple[str, Any], list[int]] = {}
        for j, it in enumerate(slots):
            named = _item_key(it)
            if _hashable(named):
                index.setdefault(named, []).append(j)  # type: ignore[arg-type]
        fields = [f for f in _ITEM_KEYS if any(n[0] == f for n in map(_item_key, slots) if n)]
        for i, item in enumerate(items):
            ipath: PathKey = ("edit", key, i)
            named = _item_key(item)
            if named is None:
                fail(ipath, "expected a mapping with an id, name or site naming the item")
                continue
            field, value = named
            if not _hashable(named) or value is None or isinstance(value, bool):
                fail((*ipath, field), f"expected the {field} of an item of {key}")
                continue
            if fields and field not in fields:
                fail((*ipath, field), f"the items of {key} are named by {fields[0]}, not {field}")
                continue
            matches = index.get(named, [])
            if len(matches) > 1:
                fail(ipath, f"{len(matches)} items of {key} have {field} {value!r}: which one?")
                continue
            if "remove" in item:
                extra = sorted(str(k) for k in item if k not in (field, "remove"))
                if item["remove"] is not True:
                    fail((*ipath, "remove"), "remove takes true (to remove the item)")
                elif extra:
                    fail(ipath, f"remove: true takes only the {field}, not {', '.join(extra)}")
                elif not matches:
                    have = [str(n[1]) for n in map(_item_key, slots) if n is not None]
                    close = difflib.get_close_matches(str(value), have, n=3)
                    hint = (
                        f"did you mean {', '.join(close)}?"
                        if close
                        else f"known: {', '.join(have[:8])}{', ...' if len(have) > 8 else ''}"
                    )
                    fail(ipath, f"no item of {key} has {field} {value!r} ({hint})")
                else:
                    slots[matches.pop()] = None
            elif matches:
                j = matches[0]
                kept = _without(locs[j], _replaced(slots[j], item))
                slots[j] = _merge(slots[j], item)
                locs[j] = {**kept, **{r: loc for r, loc in mine.get(ipath, {}).items() if r}}
            else:
                index[named] = [len(slots)]
                slots.append(dict(item))
                locs.append(mine.get(ipath, {}))
        data = _set_in(data, parts, [it for it in slots if it is not None])
        rebuilt[tuple(parts)] = key, [loc for it, loc in zip(slots, locs) if it is not None]
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))

    out: Where = {
        k: loc
        for k, loc in where.items()
        if not any(len(k) > n and isinstance(k[n], int) and k[:n] in prefixes for n in lengths)
    }
    for p, (key, locs) in rebuilt.items():
        if p not in out and ("edit", key) in lines:  # a list the edit created
            out[p] = (file, lines[("edit", key)])
        for j, item_locs in enumerate(locs):
            for r, loc in item_locs.items():
                out[(*p, j, *r)] = loc
    return data, out


def _catalogue(file: str | None, section: str, kind: str) -> dict[str, dict[str, Any]]:
    if file is None:
        return {}
    try:  # refuses anything but a regular file within the size cap before reading it
        data, _ = read_yaml(Path(file))
    except ScenarioError as exc:  # say which key named the file
        key = "figures_file" if kind == "figure" else "assumptions_file"
        raise ScenarioError(
            [Problem(p.file, p.path, f"{p.message} (named by {key})", p.line) for p in exc.problems]
        ) from None
    entries = (data or {}).get(section) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ScenarioError([Problem(file, section, f"expected a mapping '{section}:' of entries")])
    problems = []
    for key, entry in entries.items():
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            problems.append(Problem(file, f"{section}.{key}", "needs at least value and source"))
    if problems:
        raise ScenarioError(problems)
    return {k: {**v, "catalogue": kind, "file": file} for k, v in entries.items()}


def _is_ref(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and bool(obj)
        and (set(obj) <= {"figure", "times"} or set(obj) <= {"assumption", "times"})
        and ("figure" in obj or "assumption" in obj)
    )


def _resolve(
    obj: Any,
    path: PathKey,
    cats: dict[str, dict[str, dict[str, Any]]],
    used: dict[str, Origin],
    problems: list[str | tuple[PathKey, str]],
) -> Any:
    if _is_ref(obj):
        kind = "figure" if "figure" in obj else "assumption"
        ref = str(obj[kind])
        entry = cats[kind].get(ref)
        if entry is None:
            have = ", ".join(sorted(cats[kind])[:8]) or "none: no catalogue file declared"
            problems.append((path, f"unknown {kind} {ref!r} (known: {have})"))
            return None
        value = entry["value"]
        if "times" in obj:
            if not isinstance(value, int | float) or not isinstance(obj["times"], int | float):
                problems.append((path, "times applies to a numeric figure and needs a number"))
                return None
            value = value * obj["times"]
        label = kind if kind == "figure" else str(entry.get("kind", "assumption"))
        used[dotted(path)] = Origin(label, ref, str(entry["source"]))
        return value
    if isinstance(obj, dict):
        return {k: _resolve(v, (*path, k), cats, used, problems) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v, (*path, i), cats, used, problems) for i, v in enumerate(obj)]
    return obj


def _provenance(data: dict[str, Any], refs: dict[str, Origin]) -> dict[str, Origin]:
    """Origin of every numeric leaf: its reference, else the nearest ``source`` note."""
    out: dict[str, Origin] = {}

    def visit(obj: Any, path: PathKey, note: str | None) -> None:
        key = dotted(path)
        if path and path[0] in _SETTINGS:
            out[key] = Origin("setting", None, "run setting, not a model parameter")
            return
        if key in refs:
            out[key] = refs[key]
            return
        if isinstance(obj, dict):
            note = obj.get("source", note) if isinstance(obj.get("source"), str) else note
            for k, v in obj.items():
                if k not in ("source", "name", "description", "id", "kind"):
                    visit(v, (*path, k), note)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                visit(v, (*path, i), note)
        elif isinstance(obj, int | float) and not isinstance(obj, bool):
            out[key] = Origin("note", None, note) if note else Origin("unsourced", None, "")

    visit(data, (), None)
    return out


MAX_GRID_POINTS = 50_000  # build-up grid points per replication
MAX_FORMATIONS = 20_000  # formations (SimPy processes) per replication
MAX_LOADS = 100_000  # loads of one formation on one link (SimPy events per crossing)


def _semantic(s: Scenario) -> list[tuple[PathKey, str]]:  # noqa: C901 - independent checks
    """Cross-field checks pydantic cannot express: references, uniqueness, routes."""
    out: list[tuple[PathKey, str]] = []
    nodes = s.network.nodes
    near = ", ".join(sorted(nodes))

    def node(ref: str, path: PathKey) -> None:
        if ref not in nodes:
            out.append((path, f"unknown node {ref!r} (nodes: {near})"))

    for c, spec in s.countries.items():
        node(spec.node, ("countries", c, "node"))
    for i, link in enumerate(s.network.links):
        node(link.from_, ("network", "links", i, "from"))
        node(link.to, ("network", "links", i, "to"))
    for label, items in (
        ("network.links", s.network.links),
        ("units", s.units),
        ("in_place", s.in_place),
    ):
        seen: set[str] = set()
        for i, it in enumerate(items):
            key = str(getattr(it, "id", None) or getattr(it, "name", ""))
            if key in seen:
                out.append(((*label.split("."), i), f"duplicate name {key!r}"))
            seen.add(key)
    if s.pool is not None:
        tiers: set[str] = set()
        for i, t in enumerate(s.pool.tiers):
            if t.name in tiers:  # tier names key the formations' random streams
                out.append((("pool", "tiers", i, "name"), f"duplicate tier name {t.name!r}"))
            tiers.add(t.name)
    control_points = ", ".join(sorted(s.movement_control)) or "none: add movement_control"
    for i, link in enumerate(s.network.links):
        if link.control is not None and link.control not in s.movement_control:
            out.append(
                (
                    ("network", "links", i, "control"),
                    f"unknown movement-control point {link.control!r} (points: {control_points})",
                )
            )
    by_id = {lk.id: lk for lk in s.network.links}
    denials: set[str] = set()
    for i, d in enumerate(s.denial):
        if d.name in denials:
            out.append((("denial", i, "name"), f"duplicate denial name {d.name!r}"))
        denials.add(d.name)
        for j, ref in enumerate(d.links):
            if ref not in by_id:
                close = difflib.get_close_matches(ref, list(by_id), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                out.append((("denial", i, "links", j), f"unknown link {ref!r}{hint}"))
            elif by_id[ref].channels is None:
                out.append(
                    (
                        ("denial", i, "links", j),
                        f"link {ref!r} has unlimited capacity (channels: null); a denial "
                        "throttles channels, so it needs a capacity-limited link",
                    )
                )
    for i, p in enumerate(s.prepositioned):
        node(p.site, ("prepositioned", i, "site"))
    for i, cp in enumerate(s.checkpoints_hours):
        if not 0 <= cp <= s.horizon_hours:
            out.append(
                (("checkpoints_hours", i), f"{cp} h is outside [0, horizon {s.horizon_hours} h]")
            )
    points = s.horizon_hours / s.buildup_step_hours + 1
    if points > MAX_GRID_POINTS:
        out.append(
            (
                ("buildup_step_hours",),
                f"{s.buildup_step_hours:g} h over a horizon of {s.horizon_days:g} days gives "
                f"{points:,.0f} build-up points; at most {MAX_GRID_POINTS:,}",
            )
        )
    formations = sum(u.count for u in s.units)
    if s.pool is not None:
        pool = s.pool
        formations += sum(
            math.ceil(
                pool.total_troops * pool.theatre_share * t.share / pool.formation_troops - 1e-9
            )
            for t in pool.tiers
        )
    biggest = max(
        [u.troops for u in s.units] + ([s.pool.formation_troops] if s.pool is not None else []),
        default=0.0,
    )
    per_troop = max(
        s.equipment_items_per_troop.light,
        s.equipment_items_per_troop.mechanised,
        s.equipment_items_per_troop.armoured,
    )
    for i, lk in enumerate(s.network.links):
        n = max(biggest / lk.troops_per_load, biggest * per_troop / lk.items_per_load)
        if n > MAX_LOADS:
            out.append(
                (
                    ("network", "links", i, "troops_per_load"),
                    f"the largest formation ({biggest:,.0f} troops) needs {n:,.0f} loads on "
                    f"link {lk.id!r}; at most {MAX_LOADS:,} (check troops_per_load and "
                    "items_per_load)",
                )
            )
    if formations > MAX_FORMATIONS:
        where = ("pool", "formation_troops") if s.pool is not None else ("units",)
        out.append(
            (
                where,
                f"the scenario makes {formations:,} formations (units' counts plus pool "
                f"troops / formation_troops); at most {MAX_FORMATIONS:,}",
            )
        )
    if out:
        return out
    router = Router(
        [
            Edge(i, lk.from_, lk.to, lk.mode, lk.expected_hours, lk.corridor)
            for i, lk in enumerate(s.network.links)
        ]
    )
    movers: list[tuple[PathKey, str, str | None]] = [
        (("units", i), u.origin, u.destination) for i, u in enumerate(s.units)
    ]
    if s.pool is not None:
        movers.append((("pool",), s.pool.origin, None))
    for path, origin, dest in movers:
        node(origin, (*path, "origin"))
        if origin not in nodes:
            continue
        for c in [dest] if dest else list(COUNTRIES):
            target = getattr(s.countries, c).node
            if router.path(origin, target, HEAVY_MODES) is None:
                out.append(
                    (
                        (*path, "origin"),
                        f"no rail, road or sea route from {origin!r} to "
                        f"{c} (node {target!r}) even with the corridor open",
                    )
                )
    return out


def _inconsistent(s: Scenario) -> list[tuple[PathKey, str]]:
    """Timings that are legal but make the run pointless: warnings, not errors."""
    out: list[tuple[PathKey, str]] = []
    latest_attack = _highest(s.warning.days) * 24.0
    earliest_decision = s.warning.decision_delay_hours.low
    if earliest_decision > latest_attack + s.horizon_hours:
        out.append(
            (
                ("warning", "decision_delay_hours"),
                f"the decision comes at least {earliest_decision:g} h after warning, after the "
                f"horizon ends in every replication (attack at most {latest_attack:g} h after "
                f"warning, horizon {s.horizon_hours:g} h): no reinforcement can arrive",
            )
        )
    return out


def _highest(d: Any) -> float:
    """The largest value a distribution can take (inf when unbounded)."""
    for attr in ("high", "value"):
        if isinstance(getattr(d, attr, None), int | float):
            return float(getattr(d, attr))
    values = getattr(d, "values", None)
    return float(max(values)) if values else math.inf


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> list[PathKey]:
    """Set each dotted path of ``overrides`` in the resolved scenario ``data`` (in place) to
    its value: a number, a date, a string, or a distribution written as in a file
    (``{"uniform": {"low": 1, "high": 3}}``). A top-level name without dots may be a field the
    file left out (``replications``); any other path must exist. Returns the paths set; a
    ``KeyError`` names an unknown path."""
    done: list[PathKey] = []
    for text, value in overrides.items():
        parts = [p for p in text.replace("[", ".").replace("]", "").split(".") if p]
        if len(parts) == 1:
            data[parts[0]] = value
            done.append((parts[0],))
            continue
        obj: Any = data
        keys: list[str | int] = []
        try:
            for part in parts[:-1]:
                obj, k = path_step(obj, part)
                keys.append(k)
            _, last = path_step(obj, parts[-1])
        except KeyError as exc:
            raise KeyError(text, str(exc.args[0])) from None
        obj[last] = value
        done.append((*keys, last))
    return done


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> LoadedScenario:
    """Load, merge, resolve and validate a scenario file.

    Args:
        path: the scenario YAML.
        overrides: values replacing the file's after references are resolved, by dotted
            path (``{"warning.days": 5}``, ``{"network.links.gap_rail.channels": 4}``,
            ``{"seed": 7}``; see :func:`apply_overrides`); each is reported as an
            ``override`` in the provenance.

    Raises:
        ScenarioError: with every problem found, each naming file, field path and line.
    """
    path = Path(path)
    try:
        path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, an unusable name
        raise ScenarioError([Problem(str(path), "", f"cannot read the file: {exc}")]) from None
    if not path.is_file():
        raise ScenarioError([Problem(str(path), "", "no such scenario file")])
    fname = str(path)
    try:
        raw, where = _read_tree(path.resolve(), (path.resolve(),))
    except ScenarioError as exc:  # name the file as the user wrote it
        raise ScenarioError(
            [
                Problem(
                    fname if p.file == str(path.resolve()) else p.file, p.path, p.message, p.line
                )
                for p in exc.problems
            ]
        ) from None

    def problem(p: PathKey, msg: str) -> Problem:
        for n in range(len(p), -1, -1):
            if p[:n] in where:
                f, line = where[p[:n]]
                return Problem(fname if f == str(path.resolve()) else f, dotted(p), msg, line)
        return Problem(fname, dotted(p), msg)

    cats = {
        "figure": _catalogue(raw.pop("figures_file", None), "figures", "figure"),
        "assumption": _catalogue(raw.pop("assumptions_file", None), "parameters", "assumption"),
    }
    refs: dict[str, Origin] = {}
    issues: list[Any] = []
    data = _resolve(raw, (), cats, refs, issues)
    if issues:
        raise ScenarioError([problem(p, m) for p, m in issues])
    try:
        set_paths = apply_overrides(data, dict(overrides or {}))
    except KeyError as exc:
        text, step = exc.args
        raise ScenarioError(
            [Problem(fname, text, f"override: the scenario has no {step!r} on this path")]
        ) from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            [problem(tuple(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
        ) from None
    sem = _semantic(scenario)
    if sem:
        raise ScenarioError([problem(p, m) for p, m in sem])
    used = {
        r.ref: cats["figure" if r.kind == "figure" else "assumption"][r.ref]
        for r in refs.values()
        if r.ref
    }
    warnings = [problem(p, m) for p, m in implausible(data) + _inconsistent(scenario)]
    origins = _provenance(data, refs)
    for p in set_paths:  # what the caller set replaces what the file said, and says so
        key = dotted(p)
        for k in [k for k in origins if k == key or k.startswith((key + ".", key + "["))]:
            del origins[k]
        origins[key] = Origin("override", None, "set by the caller, not the file")
    return LoadedScenario(scenario, path, data, origins, used, warnings)


def _message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field (not part of the scenario schema)"
    if err["type"] in ("missing",):
        return "required field is missing"
    got = err.get("input")
    if err["type"] not in ("value_error", "distribution") and not isinstance(got, dict | list):
        msg += f" (got {got!r})"
    return msg


def validate_data(data: dict[str, Any], label: str) -> Scenario:
    """Validate plain scenario data built in code (a sweep point): schema and cross-field
    checks, problems named by ``label`` and field path (there is no file line)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            [
                Problem(label, dotted(tuple(e["loc"])), _message(e))
                for e in exc.errors(include_url=False)
            ]
        ) from None
    sem = _semantic(scenario)
    if sem:
        raise ScenarioError([Problem(label, dotted(p), m) for p, m in sem])
    return scenario

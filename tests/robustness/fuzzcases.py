"""Cases and their execution for the whole-pipeline fuzz (tests/robustness/test_fuzz_pipeline.py).

A *case* is a few files written into a fresh working folder (mutated scenario documents,
sweep files, copies of finished or interrupted result folders, damaged) and a list of
*steps*: ``simulate`` invocations, each run either as a real process (``run``, ``sweep``,
``threshold``, ``plot``, ``report``, ``validate``: where workers, signals or files matter) or
in process with typer's CliRunner (``check``, ``sources``, ``version`` and bad arguments) in
a forked child, so that a hang or a runaway allocation is bounded too.

Every step must end with exit 0 or 2 (1 only with an ``error``/``failed`` message; 130 after
an interrupt it was sent), print no ``Traceback``, finish within its time bound, leave no
process behind and write nothing outside its case folder: the repository's ``results/``,
``sweeps/``, ``scenarios/`` and top level and the session folder holding every case folder
(with the bases and decoys) are compared before and after each step.

Random cases are drawn from ``random.Random(f"{seed}:{index}")`` alone, so one case of a
long campaign replays by itself from its seed and index.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import random
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT, SCENARIOS, mini

BRIGADE = SCENARIOS / "brigade.yaml"
ROTATIONAL = SCENARIOS / "rotational.yaml"
REGISTER = SCENARIOS / "validation" / "REGISTER.yaml"
SIMULATE = Path(sys.executable).with_name("simulate")
TIMEOUT = float(os.environ.get("TRIPWIRE_FUZZ_TIMEOUT", "120"))
MEMORY = 6 * 2**30  # address-space limit of every invocation (a runaway one fails, not the box)
INPROC_MARGIN = 3 * 2**30  # ... and of an in-process one, beyond what this process holds
ORPHAN_GRACE = 5.0  # seconds a finished command's workers may take to go
NAN, INF = float("nan"), float("inf")


# -- the shipped inputs the mutations start from -------------------------------------------


def _resolved_brigade() -> dict[str, Any]:
    from tripwire.loader import load_scenario

    data = load_scenario(BRIGADE).data
    data.update(name="fzr", replications=6)
    return data


RESOLVED = _resolved_brigade()  # self-contained: every reference resolved
OVERLAY = {"extends": str(BRIGADE), "name": "fz", "replications": 6}
MINI = mini(replications=6)
MINI["name"] = "fzm"
SPEC = {
    "name": "fzsweep",
    "scenarios": ["s.yaml"],
    "design": "grid",
    "samples": 2,
    "replications": 4,
    "seed": 7,
    "chunk": 2,
    "vary": {"warning.days": "0:14:2", "suwalki.closure_probability": [0, 1]},
}


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)


def _paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*path, k))
    elif isinstance(obj, list) and len(obj) <= 100:
        for i, v in enumerate(obj):
            out += _paths(v, (*path, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        doc = doc[k]
    return doc


RESOLVED_PATHS = _paths(RESOLVED)[1:]
KEY_PATHS = [p for p in RESOLVED_PATHS if all(isinstance(k, str) for k in p)]
MINI_PATHS = _paths(MINI)[1:]
NUMERIC_PATHS = [
    ".".join(p)
    for p in KEY_PATHS
    if isinstance(_get(RESOLVED, p), int | float) and not isinstance(_get(RESOLVED, p), bool)
]

# -- value pools ---------------------------------------------------------------------------

BAD_NAMES: list[Any] = [
    "..",
    ".",
    "",
    " ",
    "manifest.json",
    "parts",
    "plots",
    "report.html",
    "x" * 300,
    "a/b",
    "a\\b",
    "con",
    "-rf",
    "--force",
    "ü",
    "名前",
    "😀",
    "\u202eevil",
    "a\nb",
    "a\x00b",
    "results",
    "../../escape",
    "~",
    "$HOME",
    "*",
    "fz fz",
    "fz2",
    5,
    None,
    True,
    [],
    {},
]
EXTREME_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    -0.0,
    0.5,
    1e-300,
    5e-324,
    1e300,
    -1e300,
    1e308,
    -1e308,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    10**400,
    NAN,
    INF,
    -INF,
]
NASTY_DISTRIBUTIONS: list[Any] = [
    {"uniform": {"low": 0, "high": INF}},
    {"uniform": {"low": -INF, "high": 0}},
    {"uniform": {"low": NAN, "high": 1}},
    {"uniform": {"low": 0, "high": 1e308}},
    {"uniform": {"low": -1e308, "high": 1e308}},
    {"uniform": {"low": 5, "high": 1}},
    {"normal": {"mean": 1e308, "sd": 1e308}},
    {"normal": {"mean": 0, "sd": 0}},
    {"normal": {"mean": 1, "sd": -1}},
    {"lognormal": {"median": 1e300, "sigma": 100}},
    {"lognormal": {"median": 0, "sigma": 1}},
    {"exponential": {"mean": 1e-320}},
    {"exponential": {"mean": 1e308}},
    {"triangular": {"low": 0, "mode": 0, "high": 0}},
    {"triangular": {"low": -1e308, "mode": 0, "high": 1e308}},
    {"triangular": {"low": 5, "mode": 1, "high": 0}},
    {"choice": {"values": [], "weights": []}},
    {"choice": {"values": [1, 2], "weights": [0, 0]}},
    {"choice": {"values": [1e308, -1e308], "weights": [1, 1]}},
    {"choice": {"values": [1], "weights": [1e308]}},
    {"fixed": 1e308},
    {"kind": "fixed", "value": 1e308},
    {"figure": "uk_estonia_times", "times": INF},
    {"figure": "uk_estonia_times", "times": -1},
    {"figure": "uk_estonia_times", "times": 1e308},
    {"figure": "no_such_figure"},
    {"assumption": "rotational_availability", "times": NAN},
    {"assumption": 5},
    {"figure": {"figure": "x"}},
]
SETTINGS: dict[str, list[Any]] = {
    "replications": [0, -1, 1, 1.5, "6", 2**31, 2**63, 10**30, NAN, INF, True, None],
    "seed": [-1, 0, 2**32, 2**63 - 1, 2**63, 2**64, 2**64 + 1, 10**40, 1.5, "x", NAN, None],
    "horizon_days": [0, -1, 1e-9, 1e-300, 0.01, 1, 1e6, 1e308, INF, NAN, 2**63, "90"],
    "checkpoints_hours": [
        [],
        [0],
        [-1],
        [NAN],
        [INF],
        [1e308],
        [24] * 1000,
        [24, 24],
        [72, 24],
        24,
    ],
    "buildup_step_hours": [0, 1e-9, 1e-3, 1e308, NAN, -1, INF],
    "scenario_date": ["2026-02-30", "0001-01-01", "9999-12-31", 20261231, "", "yesterday"],
    "routing": ["", "nope", 1, None],
}


def nasty(rng: random.Random) -> Any:
    """A value of a wrong type, out of range, non-finite, huge or odd."""
    pick = rng.randrange(9)
    if pick == 0:
        return rng.choice(EXTREME_NUMBERS)
    if pick == 1:
        return copy.deepcopy(rng.choice(NASTY_DISTRIBUTIONS))
    if pick == 2:
        return rng.choice(BAD_NAMES)
    if pick == 3:
        return rng.choice(
            ["1e400", "nan", "inf", "-inf", "0x10", "1_000", "∞", "yes", "~", "2026-12-31"]
        )
    if pick == 4:
        return random_text(rng)
    if pick == 5:
        return rng.choice([[], {}, [1, 2, 3], {"a": 1}, [[[[1]]]], [NAN], [INF, -INF]])
    if pick == 6:
        return list(range(rng.choice([1000, 50_000])))
    if pick == 7:
        return rng.choice([None, True, False])
    return rng.choice(EXTREME_NUMBERS) * rng.choice([1, -1]) if rng.random() < 0.5 else 0


def random_text(rng: random.Random, n: int | None = None) -> str:
    alphabet = (
        "abcXYZ019 ._-/\\:;,'\"$%&*?!#@{}[]()<>|~`^+=\t\u00e9\u00fc\u540d\U0001f600\u202e\u200b\x07"
    )
    return "".join(
        rng.choice(alphabet) for _ in range(n if n is not None else rng.randrange(0, 24))
    )


# -- scenario documents ----------------------------------------------------------------------

SPECIAL_TARGETS = [
    "/dev/zero",
    "/dev/null",
    "/dev/full",
    "/dev/urandom",
    "/proc/self/status",
    "@fifo",  # a named pipe in the working folder
    "@dir",  # a folder
    "@big",  # a 3 MB file
    "@self",  # the document itself
    "@missing",
    "/",
    "..",
    "@loop",  # a symbolic link to itself
]


@dataclass
class Doc:
    """A document to write: the YAML data (before byte mutations), its bytes, how it was made."""

    data: Any
    body: bytes
    notes: list[str]
    specials: list[tuple[str, str]] = field(default_factory=list)  # (file name, @-target)


VALID_SETTINGS: dict[str, list[Any]] = {
    "replications": [1, 2, 6],
    "seed": [0, 1, 2**32, 2**53, 2**63 - 1],
    "horizon_days": [0.5, 1, 3, 10, 365, 3650],
    "checkpoints_hours": [[1], [0.5, 1, 2], list(range(1, 60)), [24, 2160], [1e-3]],
    "buildup_step_hours": [0.25, 1, 100, 2000],
    "routing": ["congestion", "static"],
    "allocation": ["need", "fixed"],
    "scenario_date": ["2024-02-29", "2030-01-01", "2026-12-31"],
}
ODD_NAMES = ["ünï 😀", "a b", "x" * 100, "fz.v2", "-lead", "UPPER", "名前", "fz_fz", "1"]
FACTORS = [0, 1e-6, 1e-3, 0.1, 0.5, 2, 10, 100, 1e4, 1e6]


def _number_in(v: Any) -> float:
    """A scale for ``v``: itself if a number, else a number inside it (a distribution)."""
    if isinstance(v, bool):
        return 1.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, dict):
        for x in v.values():
            n = _number_in(x)
            if n:
                return n
    return 1.0


def valid_distribution(rng: random.Random, x: float) -> dict[str, Any]:
    x = abs(x) or 1.0
    return rng.choice(
        [
            {"fixed": x},
            {"uniform": {"low": 0, "high": 2 * x}},
            {"triangular": {"low": 0, "mode": x, "high": 3 * x}},
            {"exponential": {"mean": x}},
            {"lognormal": {"median": x, "sigma": rng.choice([0.1, 1, 3])}},
            {"normal": {"mean": x, "sd": x / 2}},
            {"choice": {"values": [0, x, 10 * x], "weights": [1, 1, 1]}},
        ]
    )


def valid_edit(rng: random.Random, doc: dict[str, Any], base: str, notes: list[str]) -> None:
    """An edit a careful user might make: in range but unusual (a zero, a tiny or huge
    factor, another distribution, another valid setting, an item removed)."""
    op = rng.choice(["scale", "scale", "dist", "setting", "setting", "name", "drop", "edit"])
    if op == "setting":
        key = rng.choice(sorted(VALID_SETTINGS))
        doc[key] = copy.deepcopy(rng.choice(VALID_SETTINGS[key]))
        notes.append(f"{key} = {_short(doc[key])}")
        return
    if op == "name":
        doc["name"] = rng.choice(ODD_NAMES)
        notes.append(f"name = {doc['name']!r}")
        return
    if op == "edit" and base == "overlay":
        links = [ln["id"] for ln in RESOLVED["network"]["links"]]
        item: dict[str, Any] = {"id": rng.choice(links)}
        item.update(
            rng.choice(
                [
                    {"channels": rng.choice([1, 2, 50])},
                    {"remove": True},
                    {"transit_hours": rng.choice([0, 0.001, 500])},
                ]
            )
        )
        doc.setdefault("edit", {}).setdefault("network.links", []).append(item)
        notes.append(f"edit network.links {item}")
        return
    if op == "drop" and base != "overlay":
        lists = [p for p in _paths(doc)[1:] if isinstance(_get(doc, p), list) and _get(doc, p)]
        if lists:
            path = rng.choice(lists)
            items = _get(doc, path)
            del items[rng.randrange(len(items))]
            notes.append(f"drop an item of {'.'.join(map(str, path))}")
        return
    source = RESOLVED if base == "overlay" else doc
    paths = KEY_PATHS if base == "overlay" else [p for p in _paths(doc)[1:] if p]
    paths = [p for p in paths if not _inside_distribution(source, p)]
    numeric = [
        p
        for p in paths
        if isinstance(_get(source, p), int | float | dict)
        and not isinstance(_get(source, p), bool)
        and (not isinstance(_get(source, p), dict) or _is_distribution(_get(source, p)))
    ]
    path = rng.choice(numeric)
    old = _get(source, path)
    if op == "dist":
        new: Any = valid_distribution(rng, _number_in(old))
    elif isinstance(old, dict):
        new = _number_in(old) * rng.choice(FACTORS)
    else:
        new = old * rng.choice(FACTORS)
        new = round(new) if isinstance(old, int) else new
    parent = doc
    for k in path[:-1]:
        if base == "overlay" and not isinstance(parent.get(k), dict):
            parent[k] = {}
        parent = parent[k]
    parent[path[-1]] = new
    notes.append(f"{'.'.join(map(str, path))} = {_short(new)}")


DIST_KINDS = {"fixed", "uniform", "triangular", "normal", "lognormal", "exponential", "choice"}


def _inside_distribution(doc: Any, path: tuple[Any, ...]) -> bool:
    """``path`` leads into a distribution or reference (an overlay would replace it whole)."""
    for i in range(1, len(path)):
        v = _get(doc, path[:i])
        if isinstance(v, dict) and _is_distribution(v):
            return True
    return False


def _is_distribution(v: dict[str, Any]) -> bool:
    """A distribution or a catalogue reference (a number written another way)."""
    return bool(v.keys() & (DIST_KINDS | {"figure", "assumption"})) or v.get("kind") in DIST_KINDS


def mutate_scenario(rng: random.Random, own_name: str = "s_fuzz.yaml") -> Doc:
    """A scenario document: one of three valid bases with one to three random edits, then
    maybe an encoding or byte-level edit. A reference to a special file (``@fifo``...) is
    written as a file name beside the document, listed in ``specials`` to be created."""
    base = rng.choice(["overlay", "overlay", "resolved", "mini"])
    notes = [f"base {base}"]
    specials: list[tuple[str, str]] = []
    if base == "overlay":
        doc: Any = copy.deepcopy(OVERLAY)
    elif base == "resolved":
        doc = copy.deepcopy(RESOLVED)
    else:
        doc = copy.deepcopy(MINI)
    valid = rng.random() < 0.5
    notes.append("valid-ish edits" if valid else "hostile edits")
    if valid and rng.random() < 0.4:  # a short horizon keeps the run fast
        doc["horizon_days"] = rng.choice([2, 5, 10])
        doc["checkpoints_hours"] = [12, 24]
        notes.append(f"horizon_days = {doc['horizon_days']}, checkpoints_hours = [12, 24]")
    for _ in range(rng.randint(1, 2) if valid else rng.randint(1, 3)):
        if valid:
            valid_edit(rng, doc, base, notes)
            continue
        op = rng.choice(
            ["value", "value", "value", "delete", "unknown", "name", "setting", "dist", "ref"]
        )
        if op == "name":
            doc["name"] = rng.choice(BAD_NAMES)
            notes.append(f"name = {doc['name']!r}")
        elif op == "setting":
            key = rng.choice(sorted(SETTINGS))
            doc[key] = rng.choice(SETTINGS[key])
            notes.append(f"{key} = {_short(doc[key])}")
        elif op == "ref":
            key = rng.choice(["figures_file", "assumptions_file", "extends"])
            target = rng.choice(SPECIAL_TARGETS)
            notes.append(f"{key} = {target}")
            if target == "@self":
                target = Path(own_name).name
            elif target.startswith("@"):
                specials.append((f"{key}.{target[1:]}", target))
                target = f"{key}.{target[1:]}"
            doc[key] = target
        else:
            _edit(rng, doc, base, op, notes)
    body = dump(doc).encode("utf-8", "surrogatepass")
    if not valid and rng.random() < 0.3:
        body = byte_mutation(rng, body, notes)
    elif valid and rng.random() < 0.1:  # an encoding a loader should read, or refuse
        op = rng.choice(["utf8-bom", "crlf", "utf16"])
        notes.append(f"bytes: {op}")
        if op == "utf8-bom":
            body = b"\xef\xbb\xbf" + body
        elif op == "crlf":
            body = body.replace(b"\n", b"\r\n")
        else:
            body = body.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    return Doc(doc, body, notes, specials)


def _edit(rng: random.Random, doc: Any, base: str, op: str, notes: list[str]) -> None:
    if base == "overlay":  # a nested override of any field of the resolved brigade
        path = rng.choice(KEY_PATHS)
        if op == "delete":
            path = rng.choice([("name",), ("replications",), ("extends",)])
        parent = doc
        for k in path[:-1]:
            if not isinstance(parent.get(k), dict):
                parent[k] = {}
            parent = parent[k]
    else:
        paths = [p for p in _paths(doc)[1:] if p] if base == "resolved" else MINI_PATHS
        path = rng.choice(paths)
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            return
    label = ".".join(str(k) for k in path)
    if op == "delete":
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, list) and len(parent) > path[-1]:
            del parent[path[-1]]
        notes.append(f"delete {label}")
    elif op == "unknown" and isinstance(parent, dict):
        key = rng.choice(["", "x", "Name", "replication", "name ", "💥", "1", "extends "])
        parent[key] = nasty(rng)
        notes.append(f"unknown key {key!r} beside {label}")
    elif op == "dist":
        parent[path[-1]] = copy.deepcopy(rng.choice(NASTY_DISTRIBUTIONS))
        notes.append(f"{label} = {_short(parent[path[-1]])}")
    else:
        parent[path[-1]] = nasty(rng)
        notes.append(f"{label} = {_short(parent[path[-1]])}")


def byte_mutation(rng: random.Random, body: bytes, notes: list[str]) -> bytes:
    """An encoding or byte-level damage of a YAML document."""
    op = rng.choice(
        [
            "utf16",
            "utf8-bom",
            "latin1",
            "invalid-utf8",
            "nul",
            "truncate",
            "crlf",
            "cr",
            "tabs",
            "dup-key",
            "two-docs",
            "huge",
            "tag",
            "control",
            "empty",
            "comment-only",
        ]
    )
    notes.append(f"bytes: {op}")
    text = body.decode("utf-8", "surrogatepass")
    pos = rng.randrange(len(body) + 1)
    if op == "utf16":
        return text.encode("utf-16", "surrogatepass")
    if op == "utf8-bom":
        return b"\xef\xbb\xbf" + body
    if op == "latin1":
        return ("description: Zürich façade ½\n" + text).encode("latin-1", "replace")
    if op == "invalid-utf8":
        return (
            body[:pos] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff"]) + body[pos:]
        )
    if op == "nul":
        return body[:pos] + b"\x00" + body[pos:]
    if op == "truncate":
        return body[:pos]
    if op == "crlf":
        return body.replace(b"\n", b"\r\n")
    if op == "cr":
        return body.replace(b"\n", b"\r")
    if op == "tabs":
        return body.replace(b"\n  ", b"\n\t")
    if op == "dup-key":
        lines = [ln for ln in text.splitlines() if ln and not ln[0].isspace()]
        return body + (rng.choice(lines) + "\n").encode() if lines else body
    if op == "two-docs":
        return body + b"---\nname: other\n"
    if op == "huge":
        return body + b"# " + b"x" * 2_100_000 + b"\n"
    if op == "tag":
        return body + rng.choice([b"x: !!python/object/apply:os.getcwd []\n", b"y: !custom 1\n"])
    if op == "control":
        return body[:pos] + rng.choice([b"\x07", b"\x1b[31m", b"\xe2\x80\xae"]) + body[pos:]
    if op == "empty":
        return b""
    return b"# nothing but a comment\n"


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


# -- sweep files -----------------------------------------------------------------------------

VARY_SPECS: list[Any] = [
    "0:14:2",
    "0:14",
    "14:0:2",
    "0:0:2",
    "0:14:0",
    "0:14:-1",
    "0:14:2.5",
    "0:14:1000000000",
    "0:14:9223372036854775808",
    "nan:1:2",
    "0:inf:2",
    "-1e308:1e308:2",
    "0:1e308:2",
    "1:2:3:4",
    "",
    ":",
    "a:b",
    "1,2",
    "1,nan",
    "1,,2",
    "1e400",
    [0, 1],
    [],
    [NAN],
    [1e308, -1e308],
    ["x"],
    [[1]],
    {"low": 0, "high": 1, "n": 2},
    {"low": 0, "high": 1, "n": 10**12},
    {"low": "x", "high": 1},
    {"values": [1, 2]},
    {"values": 5},
    {"uniform": {"low": 0, "high": 14}},
    {"uniform": {"low": 0, "high": INF}},
    {"normal": {"mean": 0, "sd": 1e308}},
    {"lognormal": {"median": 1e300, "sigma": 50}},
    {"exponential": {"mean": 5e-324}},
    None,
    5,
    NAN,
    True,
]
VARY_PATHS = [
    "warning.days",
    "suwalki.closure_probability",
    "network.links.gap_rail.channels",
    "network.links[3].transit_hours",
    "countries.estonia.defence_delay_factor",
    "pool.theatre_share",
    "horizon_days",
    "seed",
    "replications",
    "name",
    "checkpoints_hours",
    "nope.nothing",
    "",
    "warning",
    "network.links[999].channels",
    "units[0].troops",
]
SPEC_VALUES: dict[str, list[Any]] = {
    "name": BAD_NAMES,
    "scenarios": [
        [],
        "s.yaml",
        ["missing.yaml"],
        [5],
        [None],
        ["s.yaml", "s.yaml"],
        ["."],
        ["/dev/null"],
        ["../../../s.yaml"],
        [str(BRIGADE)],
        [{"a": 1}],
        ["spec.yaml"],
    ],
    "design": ["", "nope", "GRID", "sobol", "morris", "lhs", 5, None, ["grid"]],
    "samples": [0, -1, 1, 2.5, "x", 10**12, 2**63, 1e308, NAN, None, True, [2]],
    "replications": [0, -1, 1, 2.5, "four", 10**12, 2**63, 1e308, NAN, INF, None, [4]],
    "seed": [-1, 2**63, 2**64, 10**40, "x", NAN, 1.5, None, [1], {"a": 1}],
    "chunk": [0, -1, 0.5, 10**9, 2**63, "x", NAN, INF, None, [2]],
    "vary": [{}, [], "warning.days=0:1", None, 5, {"warning.days": None}],
}
SMALL_SPEC_BASES: list[dict[str, Any]] = [
    {"design": "grid"},
    {"design": "lhs", "samples": 3},
    {
        "design": "sobol",
        "samples": 2,
        "vary": {"warning.days": "0:14", "pool.theatre_share": "0.05:0.4"},
    },
    {
        "design": "morris",
        "samples": 2,
        "vary": {"warning.days": "0:14", "pool.theatre_share": "0.05:0.4"},
    },
]


VALID_VARY: list[tuple[str, Any]] = [
    ("warning.days", "0:7:3"),
    ("warning.days", [0, 0.5, 30]),
    ("warning.days", {"low": 0, "high": 3, "n": 2}),
    ("warning.days", {"values": [1, 2]}),
    ("warning.days", "5:5:2"),
    ("suwalki.closure_probability", "0:1:2"),
    ("suwalki.closure_probability", [1]),
    ("network.links.gap_rail.channels", "1:6:2"),
    ("network.links[3].transit_hours", [0, 100]),
    ("pool.theatre_share", {"uniform": {"low": 0.05, "high": 0.4}}),
    ("countries.estonia.defence_delay_factor", "0:2:2"),
    ("warning.decision_delay_hours", {"triangular": {"low": 0, "mode": 10, "high": 100}}),
    ("horizon_days", [1, 2]),
    ("units[0].troops", [0, 100]),
]
VALID_SPEC: dict[str, list[Any]] = {
    "name": ODD_NAMES,
    "scenarios": [["s.yaml", "r.yaml"], ["m.yaml"], ["s.yaml", "s2.yaml"], [str(BRIGADE)]],
    "seed": [0, 2**32, 2**63 - 1],
    "chunk": [1, 3, 1000],
    "replications": [1, 2],
    "samples": [1, 2, 3],
}


def mutate_sweep(rng: random.Random) -> Doc:
    spec: dict[str, Any] = {**copy.deepcopy(SPEC), **copy.deepcopy(rng.choice(SMALL_SPEC_BASES))}
    notes = [f"design {spec['design']}"]
    if rng.random() < 0.5:
        notes.append("valid-ish edits")
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.5:
                path, value = rng.choice(VALID_VARY)
                if rng.random() < 0.5:
                    spec["vary"] = {}
                spec["vary"][path] = copy.deepcopy(value)
                notes.append(f"vary {path} = {_short(value)}")
            else:
                key = rng.choice(sorted(VALID_SPEC))
                spec[key] = copy.deepcopy(rng.choice(VALID_SPEC[key]))
                notes.append(f"{key} = {_short(spec[key])}")
        return Doc(spec, dump(spec).encode("utf-8", "surrogatepass"), notes)
    notes.append("hostile edits")
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["field", "field", "vary", "vary", "delete", "unknown"])
        if op == "field":
            key = rng.choice(sorted(SPEC_VALUES))
            spec[key] = copy.deepcopy(rng.choice(SPEC_VALUES[key]))
            notes.append(f"{key} = {_short(spec[key])}")
        elif op == "vary":
            if not isinstance(spec.get("vary"), dict):
                spec["vary"] = {}
            path = rng.choice(VARY_PATHS if rng.random() < 0.6 else NUMERIC_PATHS)
            spec["vary"][path] = copy.deepcopy(rng.choice(VARY_SPECS))
            notes.append(f"vary {path!r} = {_short(spec['vary'][path])}")
        elif op == "delete":
            key = rng.choice(sorted(spec))
            del spec[key]
            notes.append(f"delete {key}")
        else:
            key = rng.choice(["countries", "x", "", "Vary", "workers"])
            spec[key] = nasty(rng)
            notes.append(f"unknown key {key!r}")
    body = dump(spec).encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        body = byte_mutation(rng, body, notes)
    return Doc(spec, body, notes)


# -- steps and cases -------------------------------------------------------------------------


@dataclass
class Step:
    """One ``simulate`` invocation."""

    args: list[str]
    inproc: bool = False  # typer CliRunner in a forked child instead of a real process
    needs_ok: int | None = None  # run only if that earlier step exited 0
    signal: str | None = None  # send this signal while it runs: SIGINT, SIGTERM, SIGKILL, SIGHUP
    to_group: bool = False  # ... to the whole process group (a terminal's Ctrl-C)
    wait_for: str | None = None  # glob (in the working folder) to appear before the signal
    delay: float = 0.0  # seconds after the start (or after wait_for matched) to signal
    with_next: bool = False  # start together with the next step
    expect: frozenset[int] | None = None  # exact exit codes required (fixed regression cases)
    timeout: float = TIMEOUT

    def show(self) -> str:
        how = "in-process" if self.inproc else "process"
        extra = f" [{self.signal}{' to group' if self.to_group else ''} after "
        extra += f"{self.wait_for + ' + ' if self.wait_for else ''}{self.delay:.1f} s]"
        line = "simulate " + " ".join(_quote(a) for a in self.args)
        return f"{line}  ({how}{extra if self.signal else ''})"


def _quote(a: str) -> str:
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else repr(a)


Setup = Callable[["CaseDirs"], None]


@dataclass
class Case:
    label: str
    kind: str
    steps: list[Step]
    setup: list[Setup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, bytes] = field(default_factory=dict)  # file name -> bytes (shown on failure)
    post: Callable[[list[StepResult], CaseDirs], list[str]] | None = None

    def show_inputs(self, limit: int = 1200) -> str:
        out = []
        for name, body in self.inputs.items():
            text = body.decode("utf-8", "backslashreplace")
            if len(text) > limit:
                text = text[:limit] + f"\n... ({len(body)} bytes in all)"
            out.append(f"--- {name!r} ---\n{text}")
        return "\n".join(out)


@dataclass
class CaseDirs:
    case: Path  # the case's own temporary folder
    work: Path  # the working folder of every step (case/home/work)
    decoy: Path  # a folder outside the case folder that nothing may write into
    ctx: Context


@dataclass
class StepResult:
    step: Step
    code: int | None  # None: did not finish in time; negative: killed by that signal
    output: str
    seconds: float
    problems: list[str]
    skipped: bool = False


@dataclass
class CaseResult:
    case: Case
    results: list[StepResult]
    problems: list[str]
    seconds: float

    def message(self, header: str) -> str:
        lines = [header, f"kind: {self.case.kind}; " + "; ".join(self.case.notes)]
        if self.case.inputs:
            lines.append(self.case.show_inputs())
        for i, r in enumerate(self.results):
            if r.skipped:
                lines.append(f"step {i}: {r.step.show()}: skipped")
                continue
            code = "no exit (timeout)" if r.code is None else f"exit {r.code}"
            lines.append(f"step {i}: {r.step.show()}: {code} in {r.seconds:.1f} s")
            for p in r.problems:
                lines.append(f"  PROBLEM: {p}")
            if r.problems:
                lines.append(_indent(excerpt(r.output)))
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    | " + ln for ln in text.splitlines())


def excerpt(output: str, tail: int = 24) -> str:
    """The traceback (its first line and its end) if there is one, else the output's end."""
    lines = output.splitlines()
    for i, ln in enumerate(lines):
        if "Traceback" in ln:
            block = lines[i:]
            if len(block) > tail + 1:
                block = [block[0], "    ..."] + block[-tail:]
            return "\n".join(block)
    return "\n".join(lines[-tail // 2 :])


# -- the session: base folders built once ---------------------------------------------------


@dataclass
class Context:
    session: Path  # every case folder, the bases and the decoys live here
    base: Path
    listing: dict[str, list[str]] = field(default_factory=dict)  # base folder -> its files


STANDARD_FILES: dict[str, str] = {
    "s.yaml": dump(OVERLAY),
    "s2.yaml": dump({**OVERLAY, "name": "fz2", "warning": {"days": 7}}),
    "r.yaml": dump({"extends": str(ROTATIONAL), "name": "fzrot", "replications": 6}),
    "m.yaml": dump(MINI),
    "bad.yaml": dump({**OVERLAY, "horizon_days": -5, "warning": {"days": "soon"}}),
    "spec.yaml": dump(SPEC),
    "file.txt": "a regular file, not a folder\n",
}


def write_standard(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in STANDARD_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "precious").mkdir(exist_ok=True)
    (folder / "precious" / "thesis.tex").write_text("not a tripwire file\n")
    (folder / "emptydir").mkdir(exist_ok=True)


def _register_copy(folder: Path) -> Path:
    """REGISTER.yaml with its scenario paths made absolute (it reads them relative to itself)."""
    text = REGISTER.read_text(encoding="utf-8")
    text = re.sub(
        r"^(\s+scenario: )(\S+\.yaml)$",
        lambda m: m.group(1) + str(REGISTER.parent / m.group(2)),
        text,
        flags=re.M,
    )
    f = folder / "REGISTER.yaml"
    f.write_text(text, encoding="utf-8")
    return f


def build_context(session: Path) -> Context:
    """Write the base inputs and make four result folders to copy and damage: a finished
    run of two scenarios, an interrupted run, a finished sweep and an interrupted sweep
    (in this process, one worker; the interruptions are a KeyboardInterrupt raised in the
    third chunk, as a Ctrl-C would)."""
    from typer.testing import CliRunner

    import tripwire.runner as runner_mod
    import tripwire.sweeprun as sweeprun_mod
    from tripwire.cli import app

    base = session / "base"
    write_standard(base)
    _register_copy(base)
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(base)
    try:

        def ok(args: list[str], want: int = 0) -> None:
            r = runner.invoke(app, args)
            assert r.exit_code == want, (args, r.output, r.exception)

        ok(["run", "s.yaml", "s2.yaml", "-n", "6", "--workers", "1", "--out", "run", "-q"])
        ok(["sweep", "spec.yaml", "--workers", "1", "--out", "sweep", "-q"])
        for mod, args in (
            (runner_mod, ["run", "s.yaml", "s2.yaml", "-n", "30", "--out", "run_partial"]),
            (sweeprun_mod, ["sweep", "spec.yaml", "--out", "sweep_partial"]),
        ):
            real, calls = mod.run_chunk, {"n": 0}

            def third_interrupts(chunk: Any, real: Any = real, calls: Any = calls) -> Any:
                calls["n"] += 1
                if calls["n"] == 3:
                    raise KeyboardInterrupt
                return real(chunk)

            mod.run_chunk = third_interrupts
            try:
                ok([*args, "--workers", "1", "-q"], 130)
            finally:
                mod.run_chunk = real
    finally:
        os.chdir(old)
    ctx = Context(session, base)
    for name in ("run", "run_partial", "sweep", "sweep_partial"):
        root = base / name
        ctx.listing[name] = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    return ctx


# -- watching what is written where -----------------------------------------------------------


def tree(root: Path, recursive: bool = True, skip: Path | None = None) -> dict[str, Any]:
    """Every entry below ``root`` (a file as size and mtime, a link as its target)."""
    out: dict[str, Any] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        if skip is not None:
            dirnames[:] = [d for d in dirnames if Path(dirpath, d) != skip]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            try:
                if p.is_symlink():
                    out[rel] = ("link", os.readlink(p))
                elif p.is_dir():
                    out[rel] = None
                else:
                    st = p.stat()
                    out[rel] = (st.st_size, st.st_mtime_ns)
            except OSError:
                out[rel] = "unreadable"
        if not recursive:
            break
    return out


DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]


def devices() -> dict[str, Any]:
    """The system's device nodes, which no case may touch (as root, an atomic write to one
    would replace it with a file)."""
    out: dict[str, Any] = {}
    for d in DEVICES:
        try:
            st = os.lstat(d)
            out[d] = ("char device", st.st_rdev) if stat.S_ISCHR(st.st_mode) else "NOT a device"
        except OSError:
            out[d] = "missing"
    return out


def snapshot(dirs: CaseDirs) -> dict[str, dict[str, Any]]:
    return {
        "system devices": devices(),
        "results/": tree(ROOT / "results"),
        "sweeps/": tree(ROOT / "sweeps"),
        "scenarios/": tree(ROOT / "scenarios"),
        "repository top level": {k: None for k in tree(ROOT, recursive=False)},
        f"{dirs.ctx.session} (outside the case folder)": tree(dirs.ctx.session, skip=dirs.case),
    }


def changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for where, old in before.items():
        new = after[where]
        diff = sorted(
            [f"+{k}" for k in new.keys() - old.keys()]
            + [f"-{k}" for k in old.keys() - new.keys()]
            + [f"~{k}" for k in old.keys() & new.keys() if old[k] != new[k]]
        )
        if diff:
            shown = ", ".join(diff[:8]) + (f" (+{len(diff) - 8} more)" if len(diff) > 8 else "")
            out.append(f"wrote outside its folder, in {where}: {shown}")
    return out


# -- processes ---------------------------------------------------------------------------------


def session_pids(sid: int) -> list[tuple[int, str]]:
    """Live processes of session ``sid`` (every step starts one of its own)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] in ("Z", "X"):
                continue
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        out.append((int(d.name), cmd.strip()[:120]))
    return out


def reap(sid: int, grace: float) -> list[str]:
    """Wait up to ``grace`` seconds for the processes a step left to go; kill and name any
    that stay (orphaned workers)."""
    end = time.monotonic() + grace
    left = session_pids(sid)
    while left and time.monotonic() < end:
        time.sleep(0.1)
        left = session_pids(sid)
    for pid, _ in left:
        _kill(pid)
    if not left:
        return []
    shown = "; ".join(f"{pid} {cmd}" for pid, cmd in left[:4])
    return [f"{len(left)} process(es) still running {grace:g} s after it ended: {shown}"]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TRIPWIRE_MAX_HOURS", None)
    env["_TYPER_STANDARD_TRACEBACK"] = "1"  # a plain traceback, short enough to report
    return env


def start_process(step: Step, dirs: CaseDirs, n: int) -> tuple[subprocess.Popen[bytes], Path]:
    """A real ``simulate`` process in a session of its own; its output goes to a file (a
    pipe would stay open, and the wait with it, for as long as an orphaned worker lives)."""
    log = dirs.case / f".out-{n}.txt"
    with log.open("wb") as f:
        p = subprocess.Popen(
            [str(SIMULATE), *step.args],
            cwd=dirs.work,
            stdin=subprocess.DEVNULL,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_limits,
            env=_env(),
        )
    return p, log


def finish_process(
    p: subprocess.Popen[bytes], log: Path, step: Step, work: Path, started: float
) -> tuple[int | None, str, list[str]]:
    problems: list[str] = []
    if step.signal:
        deadline = started + min(step.timeout, 60)
        if step.wait_for:
            while p.poll() is None and not list(work.glob(step.wait_for)):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        time.sleep(step.delay)
        if p.poll() is None:
            sig = getattr(signal, step.signal)
            with contextlib.suppress(ProcessLookupError):
                if step.to_group:
                    os.killpg(p.pid, sig)
                else:
                    os.kill(p.pid, sig)
    remaining = max(0.1, started + step.timeout - time.monotonic())
    try:
        code: int | None = p.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        for pid, _ in session_pids(p.pid):
            _kill(pid)
        p.wait()
        code = None
    problems += reap(p.pid, ORPHAN_GRACE)
    output = log.read_bytes()
    log.unlink()
    if len(output) > 400_000:
        output = output[:100_000] + b"\n[...]\n" + output[-300_000:]
    return code, output.decode("utf-8", "replace"), problems


def run_inproc(step: Step, dirs: CaseDirs, n: int) -> tuple[int | None, str, list[str]]:
    """The command through typer's CliRunner in a forked child of this process (which has
    tripwire imported already): no interpreter start-up, yet bounded in time and memory."""
    result = dirs.case / f".inproc-{n}.json"
    # the child starts as large as this process: its limit is what it has plus a margin
    room = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    room += INPROC_MARGIN
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.setsid()
            resource.setrlimit(resource.RLIMIT_AS, (room, room))
            fd = os.open(os.devnull, os.O_RDONLY)
            os.dup2(fd, 0)
            os.chdir(dirs.work)
            from typer.testing import CliRunner

            from tripwire.cli import app

            r = CliRunner().invoke(app, step.args, catch_exceptions=True)
            tb = ""
            if r.exception is not None and not isinstance(r.exception, SystemExit):
                assert r.exc_info is not None
                tb = "".join(traceback.format_exception(*r.exc_info))
            payload = {"code": r.exit_code, "output": r.output[-200_000:], "traceback": tb}
            result.write_text(json.dumps(payload))
        except BaseException:  # noqa: BLE001 - reported through the missing result
            code = 70
        finally:
            os._exit(code)
    started = time.monotonic()
    status = None
    while time.monotonic() - started < step.timeout:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        for q, _ in session_pids(pid):
            _kill(q)
        os.waitpid(pid, 0)
        return None, "", reap(pid, 1.0)
    problems = reap(pid, ORPHAN_GRACE)
    if not result.is_file():
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        why = f"killed by signal {sig}" if sig else "no result (out of memory?)"
        return (-sig if sig else 70), "", [*problems, f"the in-process child died: {why}"]
    payload = json.loads(result.read_text())
    result.unlink()
    output = payload["output"]
    if payload["traceback"]:
        problems.append("uncaught exception (would be a traceback from the command line)")
        output += "\n" + payload["traceback"]
    return payload["code"], output, problems


ERROR_LINE = re.compile(r"(?im)^\s*(error|failed)\b")


def judge(step: Step, code: int | None, output: str) -> list[str]:
    """The rules every invocation obeys."""
    problems = []
    if code is None:
        return [f"hang: no exit within {step.timeout:g} s"]
    if "Traceback" in output:
        problems.append("printed a Traceback")
    if step.expect is not None:
        if code not in step.expect:
            problems.append(f"exit {code}, expected {sorted(step.expect)}")
        return problems
    allowed = {0, 2}
    if step.signal:  # stopped cleanly (130), or by the signal itself (say, after the work)
        allowed |= {130, -getattr(signal, step.signal)}
    if code in allowed:
        return problems
    if code == 1:
        validated = (
            step.args[:1] == ["validate"] and "validation against the public record" in output
        )
        if not (ERROR_LINE.search(output) or validated):
            problems.append("exit 1 without a stated failure message")
        return problems
    if code < 0:
        problems.append(f"killed by signal {-code}")
    else:
        problems.append(f"exit code {code} (allowed: 0, 2, or 1 with a message)")
    return problems


def execute(case: Case, ctx: Context) -> CaseResult:
    started = time.monotonic()
    case_dir = ctx.session / f"case-{case.label}"
    shutil.rmtree(case_dir, ignore_errors=True)
    decoy = ctx.session / "decoys" / case.label
    decoy.mkdir(parents=True, exist_ok=True)
    (decoy / "keep.txt").write_text("nothing may write here\n")
    dirs = CaseDirs(case_dir, case_dir / "home" / "work", decoy, ctx)
    dirs.work.mkdir(parents=True)
    results: list[StepResult] = []
    problems: list[str] = []
    try:
        for fn in case.setup:
            fn(dirs)
        i = 0
        while i < len(case.steps):
            group = [i]
            while case.steps[group[-1]].with_next and group[-1] + 1 < len(case.steps):
                group.append(group[-1] + 1)
            results += _run_group([case.steps[j] for j in group], results, dirs)
            i = group[-1] + 1
        if case.post is not None:
            problems += case.post(results, dirs)
    finally:
        shutil.rmtree(case_dir, ignore_errors=True)
        shutil.rmtree(decoy, ignore_errors=True)
    return CaseResult(case, results, problems, time.monotonic() - started)


def _run_group(steps: list[Step], done: list[StepResult], dirs: CaseDirs) -> list[StepResult]:
    out: list[StepResult] = []
    todo = []
    for step in steps:
        if step.needs_ok is not None and done[step.needs_ok].code != 0:
            out.append(StepResult(step, None, "", 0.0, [], skipped=True))
        else:
            todo.append(step)
    if not todo:
        return out
    before = snapshot(dirs)
    t0 = time.monotonic()
    if len(todo) == 1 and todo[0].inproc:
        code, output, problems = run_inproc(todo[0], dirs, len(done))
        runs = [(todo[0], code, output, problems, time.monotonic() - t0)]
    else:
        procs = [
            (s, *start_process(s, dirs, len(done) + k), time.monotonic())
            for k, s in enumerate(todo)
        ]
        runs = []
        for s, p, log, t in procs:
            code, output, problems = finish_process(p, log, s, dirs.work, t)
            runs.append((s, code, output, problems, time.monotonic() - t))
    written = changes(before, snapshot(dirs))
    for s, code, output, problems, secs in runs:
        problems = problems + judge(s, code, output) + written
        out.append(StepResult(s, code, output, secs, problems))
    order = {id(s): k for k, s in enumerate(steps)}
    return sorted(out, key=lambda r: order[id(r.step)])


# -- setup helpers -----------------------------------------------------------------------------


def standard(dirs: CaseDirs) -> None:
    write_standard(dirs.work)
    (dirs.work / "decoy").symlink_to(dirs.decoy)


def put(name: str, body: bytes) -> Setup:
    def fn(dirs: CaseDirs) -> None:
        p = dirs.work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)

    return fn


def special(name: str, target: str) -> Setup:
    """``name`` as a special file: @fifo, @dir, @big, @loop, @missing, or a link to a path."""

    def fn(dirs: CaseDirs) -> None:
        p = dirs.work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() or p.is_symlink():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        if target == "@fifo":
            os.mkfifo(p)
        elif target == "@dir":
            p.mkdir()
        elif target == "@big":
            p.write_bytes(b"# big\n" + b"a: 1\n" * 700_000)
        elif target == "@loop":
            p.symlink_to(p.name)
        elif target == "@missing":
            pass
        elif target == "@decoy":
            p.symlink_to(dirs.decoy)
        else:
            p.symlink_to(target)

    return fn


def copy_base(name: str, dst: str) -> Setup:
    def fn(dirs: CaseDirs) -> None:
        shutil.copytree(dirs.ctx.base / name, dirs.work / dst, symlinks=True)

    return fn


# -- damaged result folders ---------------------------------------------------------------------

JSON_NASTY: list[Any] = [
    None,
    [],
    {},
    "",
    "x",
    0,
    -1,
    1.5,
    2**64,
    10**400,
    1e308,
    NAN,
    INF,
    True,
    [[[]]],
    {"files": {}},
    ["a", 1, None],
    "../../../../etc",
    {"a": {"b": {"c": [1, {"d": None}]}}},
]


def _json_paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _json_paths(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            out += _json_paths(v, (*path, i))
    return out


def reshape_json(obj: Any, rng: random.Random, notes: list[str], edits: int) -> Any:
    """Wrong-shaped JSON: values of other types at random places, keys removed or added,
    containers turned into the other kind."""
    for _ in range(edits):
        paths = _json_paths(obj)
        path = rng.choice(paths)
        op = rng.choice(["replace", "replace", "delete", "add", "flip"])
        if not path:
            if op == "replace":
                obj = copy.deepcopy(rng.choice(JSON_NASTY))
                notes.append(f"whole document = {_short(obj)}")
            continue
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        label = "/".join(str(k) for k in path)
        if op == "replace":
            parent[key] = copy.deepcopy(rng.choice(JSON_NASTY))
            notes.append(f"{label} = {_short(parent[key])}")
        elif op == "delete":
            del parent[key]
            notes.append(f"delete {label}")
        elif op == "add" and isinstance(parent, dict):
            new = rng.choice(["extra", "", "files", "complete", "0"])
            parent[new] = copy.deepcopy(rng.choice(JSON_NASTY))
            notes.append(f"add {label}/../{new!r}")
        else:
            v = parent[key]
            if isinstance(v, dict):
                parent[key] = [[k, x] for k, x in v.items()]
            elif isinstance(v, list):
                parent[key] = {str(i): x for i, x in enumerate(v)}
            else:
                parent[key] = [v]
            notes.append(f"flip the container at {label}")
    return obj


def _rewrite_checksum(folder: Path, rel: str) -> None:
    """Make the manifest agree with a file edited on purpose (so the reader goes on to use
    the wrong-shaped content instead of stopping at the checksum)."""
    from tripwire.results import sha256

    mf = folder / "manifest.json"
    try:
        m = json.loads(mf.read_text())
        if isinstance(m, dict) and isinstance(m.get("files"), dict) and rel in m["files"]:
            m["files"][rel] = sha256(folder / rel)
            mf.write_text(json.dumps(m))
    except (OSError, ValueError):
        pass


def damage(folder_name: str, ops: list[tuple[str, Any]]) -> Setup:
    """Apply damage ops (drawn at generation) to the copy ``work/folder_name``."""

    def fn(dirs: CaseDirs) -> None:
        folder = dirs.work / folder_name
        for op, arg in ops:
            _damage_one(folder, op, arg, dirs)

    return fn


def _damage_one(folder: Path, op: str, arg: Any, dirs: CaseDirs) -> None:
    mf = folder / "manifest.json"
    if op == "manifest-shape":
        seed, edits = arg
        try:
            m = json.loads(mf.read_text())
        except (OSError, ValueError):
            return
        m = reshape_json(m, random.Random(seed), [], edits)
        mf.write_text(json.dumps(m))
    elif op == "manifest-set":  # a named field to a given value
        keys, value = arg
        try:
            m = json.loads(mf.read_text())
            node = m
            for k in keys[:-1]:
                node = node[k]
            node[keys[-1]] = value
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return
        mf.write_text(json.dumps(m))
    elif op == "manifest-raw":
        mf.write_bytes(arg)
    elif op == "json-shape":
        rel, seed, edits = arg
        p = folder / rel
        try:
            obj = json.loads(p.read_text())
        except (OSError, ValueError):
            return
        p.write_text(json.dumps(reshape_json(obj, random.Random(seed), [], edits)))
        _rewrite_checksum(folder, rel)
    elif op == "json-set":  # a named field of a result file to a given value
        rel, keys, value = arg
        p = folder / rel
        try:
            obj = json.loads(p.read_text())
            node = obj
            for k in keys[:-1]:
                node = node[k]
            node[keys[-1]] = value
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return
        p.write_text(json.dumps(obj))
        _rewrite_checksum(folder, rel)
    elif op == "parquet-shape":
        rel, how = arg
        _reshape_parquet(folder / rel, how)
        _rewrite_checksum(folder, rel)
    elif op == "truncate":
        rel, frac = arg
        p = folder / rel
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            p.write_bytes(data[: int(len(data) * frac)])
    elif op == "flip-byte":
        rel, frac = arg
        p = folder / rel
        if p.is_file() and not p.is_symlink() and p.stat().st_size:
            data = bytearray(p.read_bytes())
            data[int((len(data) - 1) * frac)] ^= 0xFF
            p.write_bytes(bytes(data))
    elif op == "delete":
        p = folder / arg
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()
    elif op == "replace":  # a file or folder replaced by a special one
        rel, target = arg
        special(f"{folder.name}/{rel}", target)(dirs)
    elif op == "extra":
        rel, body = arg
        p = folder / rel
        if p.exists() and p.is_dir():
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        if body is None:
            p.mkdir(exist_ok=True)
        else:
            p.write_bytes(body)


def _reshape_parquet(path: Path, how: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        t = pq.read_table(path)
    except Exception:  # noqa: BLE001 - already damaged: leave it
        return
    if how == "drop-column" and t.num_columns > 1:
        t = t.drop_columns([t.column_names[len(t.column_names) // 2]])
    elif how == "empty":
        t = t.slice(0, 0)
    elif how == "rename":
        t = t.rename_columns([f"{c}_x" for c in t.column_names])
    elif how == "strings":
        name = next((c for c in t.column_names if pa.types.is_floating(t.column(c).type)), None)
        if name is not None:
            i = t.column_names.index(name)
            t = t.set_column(i, name, pa.array(["x"] * t.num_rows))
    elif how == "nan":
        for i, name in enumerate(t.column_names):
            if pa.types.is_floating(t.column(i).type):
                t = t.set_column(i, name, pa.array([float("nan")] * t.num_rows, pa.float64()))
    elif how == "duplicate-rows":
        t = pa.concat_tables([t, t])
    elif how == "one-row":
        t = t.slice(0, 1)
    pq.write_table(t, path)


MANIFEST_RAW: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"complete"',
    b"1e999",
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b'{"files": {}, "complete": true}',
    b'{"files": [], "complete": true, "scenarios": 5}',
    b'{"files": {"x": 1}, "complete": true, "scenarios": {"fz": 1}, "replications": "x"}',
    b'{"spec": {}, "status": "complete", "files": {}}',
    b'{"spec": null, "status": "running"}',
    b'{"resume": [], "stages": {}}',
    b'{"resume": {"files": 7}, "stages": []}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    b"NaN",
    b'{"complete": true, "files": {"../../x": "0"}, "scenarios": {"../..": "x"}}',
]


def damage_ops(rng: random.Random, base: str, listing: list[str], notes: list[str]) -> list[Any]:
    ops: list[Any] = []
    files = [f for f in listing if "." in Path(f).name] or listing
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(
            [
                "manifest-shape",
                "manifest-shape",
                "manifest-shape",
                "manifest-raw",
                "json-shape",
                "parquet-shape",
                "truncate",
                "flip-byte",
                "delete",
                "replace",
                "extra",
            ]
        )
        if op == "manifest-shape":
            arg: Any = (rng.randrange(2**32), rng.randint(1, 4))
            reshape_json(_manifest_of(base), random.Random(arg[0]), notes, arg[1])
        elif op == "manifest-raw":
            arg = rng.choice(MANIFEST_RAW)
            notes.append(f"manifest.json = {_short(arg[:80])}")
        elif op == "json-shape":
            js = [f for f in files if f.endswith(".json") and f != "manifest.json"]
            if not js:
                continue
            arg = (rng.choice(js), rng.randrange(2**32), rng.randint(1, 3))
            notes.append(f"wrong-shaped {arg[0]} (checksum updated)")
        elif op == "parquet-shape":
            pqs = [f for f in files if f.endswith(".parquet")]
            if not pqs:
                continue
            how = rng.choice(
                ["drop-column", "empty", "rename", "strings", "nan", "duplicate-rows", "one-row"]
            )
            arg = (rng.choice(pqs), how)
            notes.append(f"{arg[0]}: {how} (checksum updated)")
        elif op in ("truncate", "flip-byte"):
            arg = (rng.choice(files), rng.choice([0.0, 0.1, 0.5, 0.99]))
            notes.append(f"{op} {arg[0]} at {arg[1]}")
        elif op == "delete":
            arg = rng.choice(listing)
            notes.append(f"delete {arg}")
        elif op == "replace":
            arg = (
                rng.choice(listing),
                rng.choice(["@fifo", "@dir", "@loop", "@missing"]),
            )
            notes.append(f"{arg[0]} -> {arg[1]}")
        else:
            rel = rng.choice(
                [
                    "extra.txt",
                    "plots",
                    "report.html",
                    "parts/fz/rep-999.parquet",
                    "parts/zz/rep-0.parquet",
                    "fz/extra.json",
                    "sub/manifest.json",
                    ".hidden",
                    "ü 😀.parquet",
                    "points.parquet.tmp",
                ]
            )
            body = rng.choice(
                [None, b"", b"garbage", b"PAR1" + bytes(50) + b"PAR1", b'{"files": {}}']
            )
            arg = (rel, body)
            notes.append(f"extra {'folder' if body is None else 'file'} {rel}")
        ops.append((op, arg))
    return ops


_MANIFESTS: dict[str, Any] = {}


def _manifest_of(base: str) -> Any:
    return copy.deepcopy(_MANIFESTS.get(base, {}))


def remember_manifests(ctx: Context) -> None:
    for name in ctx.listing:
        _MANIFESTS[name] = json.loads((ctx.base / name / "manifest.json").read_text())


# -- CLI argument grammar ------------------------------------------------------------------------
#
# Each command is a list of items (a positional or an option) with good values and bad
# ones. An argument list starts valid (good values, optional items drawn with their
# probability) and gets zero to two faults: an item given a bad value.

BIG = ["9223372036854775807", "9223372036854775808", "18446744073709551616", str(10**30)]
HUGE = set(BIG) | {"1e3", "warning.days=0:14:1000000000", "horizon_days=0:1e9"}
BAD_INTS = ["0", "-1", "2.5", "1e3", "x", "", "nan", " 3", "0x10", "٣", *BIG]
BAD_SEEDS = ["-1", "x", "2.5", "9223372036854775808", "18446744073709551616", str(10**40)]
GOOD_SEEDS = ["0", "7", "4294967296", "9223372036854775807"]
BAD_WORKERS = ["0", "-1", "x", "2.0", ""]
BAD_FILES = ["bad.yaml", "missing.yaml", ".", "emptydir", "file.txt", "/dev/null", "spec.yaml"]
BAD_FILES += ["REGISTER.yaml", "-s.yaml", "", "decoy", "precious/thesis.tex", "run", "fifo.yaml"]
BAD_FILES += ["/dev/zero", "dangling.yaml", "loop.yaml"]
# never a system device as a place to write: run as root, a regression would replace it
# (the special files written to are the case's own: fifo.yaml, dangling.yaml)
BAD_OUTS = ["file.txt", "file.txt/sub", "precious", ".", "..", ""]
BAD_OUTS += ["decoy", "x" * 300, "a\nb", "-q", "run", "sweep", "run_partial"]
BAD_OUTS += ["dangling.yaml", "fifo.yaml"]
BAD_FOLDERS = ["missing", "file.txt", ".", "emptydir", "precious", "", "decoy"]
BAD_FOLDERS += ["run_partial", "sweep_partial", "fifo.yaml", "loop.yaml", "dangling.yaml"]
BAD_PRECISIONS = [
    "x=1",
    "p_beat_fa_theatre=",
    "=0.1",
    "p_beat_fa_theatre=nan",
    "p_beat_fa_theatre=inf",
]
BAD_PRECISIONS += ["p_beat_fa_theatre=-1", "p_beat_fa_theatre=0", "p_beat_fa_theatre=1e-300"]
BAD_PRECISIONS += ["ttr_median_mars_h=5", "p_beat_fa_theatre", "p_beat_fa_theatre=1e308", "a=1=2"]
GOOD_VARIES = ["warning.days=0:14:2", "warning.days=0,7", "suwalki.closure_probability=0,1"]
GOOD_VARIES += ["network.links.gap_rail.channels=1:6:2", "pool.theatre_share=0.05:0.4:2"]
BAD_VARIES = ["warning.days=14:0", "warning.days=0:0", "warning.days=nan:1", "warning.days=0:inf"]
BAD_VARIES += ["warning.days=-1e308:1e308", "nope.path=0:1", "warning.days", "=0:1", ""]
BAD_VARIES += ["seed=0:10", "replications=1:5", "name=1,2", "horizon_days=0:1e9"]
BAD_VARIES += ["warning.days=0:14:1000000000", "warning.days=0:14:0", "warning.days=0:14:-1"]
BAD_VARIES += ["warning.days=1e308,2", "warning.days=0:14:2.5", "suwalki.closure_probability=-1:2"]
BAD_VARIES += ["checkpoints_hours=1:2", "warning.days=1,,2", "network.links[999].channels=1:2"]
GOOD_THRESHOLD_VARIES = ["warning.days=0:14", "suwalki.closure_probability=0:1"]
GOOD_THRESHOLD_VARIES += ["network.links.gap_rail.channels=1:6"]
GOOD_TARGETS = ["p_beat_fa_lithuania>=0.5", "ttr_median_theatre_h<=300"]
GOOD_TARGETS += ["p_reinforced_theatre_by_72h>=0.2", "censored_theatre<=0.5"]
BAD_TARGETS = ["p_beat_fa_lithuania>=1.5", "p_beat_fa_lithuania>=-0.5", "p_beat_fa_lithuania>=nan"]
# a negative hours target is a real question (reinforced before the attack, docs/model.md)
GOOD_TARGETS += ["ttr_median_theatre_h<=-5"]
BAD_TARGETS += ["ttr_median_theatre_h<=inf", "p_beat_fa_mars>=0.5"]
BAD_TARGETS += [">=0.5", "p_beat_fa_lithuania", "p_beat_fa_lithuania==0.5", "p_beat_fa_lithuania>="]
BAD_TARGETS += [
    "p_beat_fa_lithuania>=1e308",
    "p_beat_fa_lithuania > = 0.5",
    "",
    "censored_theatre<=2",
]
BAD_TOLERANCES = ["0", "-1", "nan", "inf", "1e-300", "5e-324", "1e308", "x", "-inf"]
KINDS = [
    "reinforced",
    "ttr",
    "buildup",
    "bottlenecks",
    "map",
    "phases",
    "response",
    "heatmap",
    "sensitivity",
]
PLOT_OUTS = ["file.txt", "file.txt/sub", "x" * 300, "fifo.yaml", "run/manifest.json"]
REPORT_OUTS = ["file.txt", "file.txt/r.html", "emptydir", "."]
REPORT_OUTS += ["x" * 300 + ".html"]
REPORT_OUTS += ["run/manifest.json", "fifo.yaml", "dangling.yaml"]
SCHEDULERS = ["tcp://127.0.0.1:1", "127.0.0.1:1", "", "nonsense", "tcp://[::1]:1"]
SCHEDULERS += ["inproc://nope", "tcp://127.0.0.1:99999", "tls://127.0.0.1:1", "tcp://127.0.0.1"]
SCHEDULERS += ["tcp://127.0.0.1:-1", ":::", "tcp://", "unix:///nope"]
JUNK = ["--nope", "-z", "--", "", " ", "-", "--=", "—quiet", "\x00", "--out=", "-nn", "--help"]


@dataclass(frozen=True)
class Item:
    """A positional (``opt`` None) or an option; ``good``/``bad`` values (a list of tokens
    each; ``[[]]`` for a flag); included with probability ``p`` when not a fault."""

    opt: str | None
    good: list[list[str]]
    bad: list[list[str]]
    p: float = 1.0


def _v(values: list[str]) -> list[list[str]]:
    return [[v] for v in values]


FLAG: list[list[str]] = [[]]
GRAMMAR: dict[str, list[Item]] = {
    "version": [Item(None, FLAG, _v(["extra", "-n", "1", *JUNK]), 0)],
    "check": [
        Item(
            None, _v(["s.yaml", "m.yaml", "r.yaml", "REGISTER.yaml", str(BRIGADE)]), _v(BAD_FILES)
        ),
        Item(None, _v(["s2.yaml", "m.yaml"]), _v(BAD_FILES), 0.3),
    ],
    "sources": [
        Item(None, _v(["s.yaml", "m.yaml", str(BRIGADE)]), _v(BAD_FILES) + [["s.yaml", "m.yaml"]]),
        Item("--unsourced", FLAG, _v(["x"]), 0.5),
    ],
    "run": [
        Item(
            None,
            [["s.yaml"], ["s.yaml", "r.yaml"], ["m.yaml"], ["s.yaml", "s2.yaml"]],
            _v(BAD_FILES) + [["s.yaml", "s.yaml"], ["s.yaml", "bad.yaml"]],
        ),
        Item("-n", _v(["1", "2", "6", "12"]), _v(BAD_INTS), 0.8),
        Item("--seed", _v(GOOD_SEEDS), _v(BAD_SEEDS), 0.3),
        Item("--workers", _v(["1", "2"]), _v(BAD_WORKERS), 0.9),
        Item("--out", _v(["out", "res/deep/x", "emptydir", "ünï 😀"]), _v(BAD_OUTS), 0.8),
        Item("--resume", _v(["run_partial"]), _v(BAD_FOLDERS + ["run", "sweep"]), 0.08),
        Item("--force", FLAG, _v(["yes"]), 0.1),
        Item("--plot", FLAG, _v(["all"]), 0.1),
        Item("-q", FLAG, _v(["-qq"]), 0.9),
        Item(
            "--precision",
            _v(["p_beat_fa_theatre=0.3", "ttr_median_theatre_h=200"]),
            _v(BAD_PRECISIONS),
            0.1,
        ),
        Item("--max-replications", _v(["6", "12", "30"]), _v(BAD_INTS), 0.1),
    ],
    "sweep": [
        Item(
            None,
            [["spec.yaml"], ["s.yaml"], ["s.yaml", "r.yaml"]],
            _v(BAD_FILES) + [["m.yaml", "spec.yaml"], ["spec.yaml", "spec.yaml"]],
        ),
        Item("--vary", _v(GOOD_VARIES), _v(BAD_VARIES), 0.5),
        Item("--design", _v(["grid", "lhs", "sobol", "morris"]), _v(["GRID", "nope", ""]), 0.2),
        Item("--samples", _v(["1", "2", "3"]), _v(BAD_INTS), 0.2),
        Item("-n", _v(["1", "2", "4"]), _v(BAD_INTS), 0.95),
        Item("--seed", _v(GOOD_SEEDS), _v(BAD_SEEDS), 0.2),
        Item("--workers", _v(["1", "2"]), _v(BAD_WORKERS), 0.9),
        Item("--chunk", _v(["1", "2", "5"]), _v(BAD_INTS), 0.2),
        Item(
            "--scheduler",
            [],
            [
                [v, "--connect-timeout", t]
                for v in SCHEDULERS
                for t in ["0.5", "1", "0", "-1", "x", "nan", "0.05"]
            ],
            0,
        ),
        Item("--dask-local", _v(["1"]), _v(["0", "-1", "x"]), 0.02),
        Item("--resume", _v(["sweep_partial"]), _v(BAD_FOLDERS + ["sweep", "run"]), 0.08),
        Item("--out", _v(["sw", "res/deep/x", "emptydir"]), _v(BAD_OUTS), 0.8),
        Item("-q", FLAG, _v(["-qq"]), 0.9),
        Item("--plot", FLAG, _v(["all"]), 0.1),
        Item("--force", FLAG, _v(["yes"]), 0.05),
    ],
    "threshold": [
        Item(None, _v(["s.yaml", "m.yaml"]), _v(BAD_FILES)),
        Item("--vary", _v(GOOD_THRESHOLD_VARIES), _v(BAD_VARIES)),
        Item("--target", _v(GOOD_TARGETS), _v(BAD_TARGETS)),
        Item("-n", _v(["2", "4"]), _v(BAD_INTS), 0.9),
        Item("--tolerance", _v(["0.5", "2", "7"]), _v(BAD_TOLERANCES), 0.5),
        Item("--seed", _v(GOOD_SEEDS), _v(BAD_SEEDS), 0.2),
        Item("--workers", _v(["1", "2"]), _v(BAD_WORKERS), 0.8),
    ],
    "plot": [
        Item(None, _v(["run", "sweep"]), _v(BAD_FOLDERS)),
        Item("-k", _v(KINDS), _v(["nope", "", "TTR"]), 0.3),
        Item(
            "--x",
            _v(["warning.days", "suwalki.closure_probability"]),
            _v(["nope", "", "x.warning.days", "point", "replication"]),
            0.15,
        ),
        Item(
            "--y",
            _v(["suwalki.closure_probability", "warning.days"]),
            _v(["nope", "", "point"]),
            0.1,
        ),
        Item(
            "--metric",
            _v(["p_beat_fa_theatre", "ttr_median_lithuania_h", "p_beat_fa_estonia"]),
            _v(["nope", "", "replication", "x.warning.days", "point", "posture"]),
            0.15,
        ),
        Item("--out", _v(["plots2", "a/b/c"]), _v(PLOT_OUTS), 0.3),
        Item("-f", _v(["png", "svg"]), _v(["pdf", "", "PNG"]), 0.3),
    ],
    "report": [
        Item(None, _v(["run", "sweep"]), _v(BAD_FOLDERS)),
        Item("--out", _v(["r.html", "a/b/c.html"]), _v(REPORT_OUTS), 0.4),
    ],
    "validate": [
        Item(
            None,
            _v(["REGISTER.yaml"]),
            _v(["missing.yaml", "s.yaml", "/dev/null", "emptydir", "bad.yaml", "file.txt"])
            + _v(["reg_bad.yaml", "fifo.yaml"]),
            0.9,
        ),
        Item(
            "--only",
            _v(["klaipeda_2021_offload", "riga_2019_sea_leg"]),
            _v(["nope", "", "KLAIPEDA_2021_OFFLOAD"]),
        ),
        Item("-n", _v(["10", "12"]), _v(["9", "0", "x", "-1"]), 0.8),
        Item("--workers", _v(["1", "2"]), _v(BAD_WORKERS), 0.5),
        Item(
            "--docs",
            _v(["docs.md"]),
            _v(["nodocs.md", "emptydir", "file.txt/sub", "fifo.yaml"]),
            0.2,
        ),
    ],
}


def _opt(rng: random.Random, p: float, *tokens: str) -> list[str]:
    return list(tokens) if rng.random() < p else []


def cli_args(rng: random.Random, command: str) -> tuple[list[str], list[str]]:
    """A valid argument list for ``command`` with zero to two faults; the faults named."""
    items = GRAMMAR[command]
    n = rng.choice([0, 1, 1, 1, 2])
    badable = [i for i, it in enumerate(items) if it.bad]
    faults = set(rng.sample(badable, min(n, len(badable))))
    args, notes = [command], []
    for i, it in enumerate(items):
        if i in faults:
            value = rng.choice(it.bad)
            notes.append(f"fault: {it.opt or 'argument'} {_short(' '.join(value))}")
        elif it.good and rng.random() < it.p:
            value = rng.choice(it.good)
        else:
            continue
        args += ([it.opt] if it.opt else []) + value
    if command == "sweep" and "--vary" not in args and args[1:2] != ["spec.yaml"]:
        args += ["--vary", rng.choice(GOOD_VARIES)]  # scenario files need a factor
    designs = ("lhs", "sobol", "morris")
    if command == "sweep" and any(d in args for d in designs) and "--samples" not in args:
        args += ["--samples", "2"]  # not the default 64 samples: minutes, not a fault
    if command == "run" and "--precision" in args and "--max-replications" not in args:
        args += ["--max-replications", "12"]
    if rng.random() < 0.1:
        args.insert(rng.randrange(1, len(args) + 1), rng.choice(JUNK))
        notes.append("fault: junk token")
    if not notes:
        notes.append("no fault")
    return args, notes


def mutate_tokens(rng: random.Random, args: list[str]) -> list[str]:
    """Token-level damage of an argument list (after the command name)."""
    args = list(args)
    for _ in range(rng.randint(1, 2)):
        if len(args) < 2:
            break
        i = rng.randrange(1, len(args))
        op = rng.choice(["drop", "dup", "swap", "junk", "equals", "garbage-value"])
        if op == "drop":
            del args[i]
        elif op == "dup":
            args.insert(i, args[i])
        elif op == "swap" and i + 1 < len(args):
            args[i], args[i + 1] = args[i + 1], args[i]
        elif op == "junk":
            args.insert(i, rng.choice(JUNK))
        elif op == "equals" and args[i].startswith("--") and i + 1 < len(args):
            args[i : i + 2] = [f"{args[i]}={args[i + 1]}"]
        else:
            args[i] = random_text(rng, rng.randint(0, 12))
    return args


def tame(args: list[str]) -> list[str]:
    """No ``--yes`` beside a huge size (that would only run for hours, a hang by design)."""
    if "--yes" in args and any(a in HUGE for a in args):
        args = [a for a in args if a != "--yes"]
    return args


def _nul_free(args: list[str]) -> list[str]:
    return [a.replace("\x00", "\\0") for a in args]  # exec cannot pass NUL in an argument


# -- random cases -----------------------------------------------------------------------------

KIND_WEIGHTS = {
    "scenario": 30,
    "sweep": 14,
    "args": 32,
    "folder": 16,
    "signal": 4,
    "concurrent": 4,
}
INPROC_COMMANDS = {"check", "sources", "version"}


def random_case(seed: int, index: int, ctx: Context) -> Case:
    rng = random.Random(f"{seed}:{index}")
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    label = f"{seed}-{index}"
    return GENERATORS[kind](rng, label, ctx)


def gen_scenario(rng: random.Random, label: str, ctx: Context) -> Case:
    name = rng.choice(
        ["s_fuzz.yaml"] * 6
        + ["with space.yaml", "ünï cödé 😀.yaml", "-dash.yaml", "x" * 240 + ".yaml", "noext"]
        + [".hidden.yaml", "semi;colon$(x).yaml", "sub/dir/deep.yaml"]
    )
    doc = mutate_scenario(rng, name)
    folder = Path(name).parent
    setup: list[Setup] = [standard, put(name, doc.body)]
    setup += [special(str(folder / f), target) for f, target in doc.specials]
    if rng.random() < 0.08:
        how = rng.choice(["@fifo", "@dir", "@loop", "/dev/zero", "/dev/null", "@missing", "link"])
        if how == "link":
            setup += [put("target.yaml", doc.body), special(name, "target.yaml")]
        else:
            setup.append(special(name, how))
        doc.notes.append(f"the file itself: {how}")
    arg = name if not name.startswith("-") or rng.random() < 0.5 else f"./{name}"
    steps = [Step(["check", arg], inproc=True, timeout=60)]
    if rng.random() < 0.3:
        steps.append(
            Step(["sources", arg, *_opt(rng, 0.5, "--unsourced")], inproc=True, timeout=60)
        )
    steps.append(Step(["run", arg, "-n", "6", "--workers", "2", "--out", "out", "-q"], needs_ok=0))
    steps.append(Step(["plot", "out"], needs_ok=len(steps) - 1))
    steps.append(Step(["report", "out"], needs_ok=len(steps) - 2))
    return Case(label, "scenario", steps, setup, doc.notes, {name: doc.body})


def gen_sweep(rng: random.Random, label: str, ctx: Context) -> Case:
    doc = mutate_sweep(rng)
    args = ["sweep", "sw.yaml", "-n", "4", "--out", "sw", "-q", "--workers", "2"]
    if rng.random() < 0.2:
        extra, notes = cli_args(rng, "sweep")
        args += [a for a in extra[2:] if a not in ("--out", "--resume", "-n")][:4]
        doc.notes += [f"options {' '.join(extra[2:][:4])}"]
    steps = [Step(tame(args))]
    if rng.random() < 0.3:
        steps.append(Step(["plot", "sw"], needs_ok=0))
        steps.append(Step(["report", "sw"], needs_ok=0))
    return Case(
        label,
        "sweep",
        steps,
        [standard, put("sw.yaml", doc.body)],
        doc.notes,
        {"sw.yaml": doc.body},
    )


def gen_args(rng: random.Random, label: str, ctx: Context) -> Case:
    command = rng.choice(
        ["run", "run", "run", "check", "check", "sources", "sweep", "sweep", "sweep"]
        + ["threshold", "threshold", "plot", "plot", "plot", "report", "report", "validate"]
        + ["validate", "version", "none", "shorthand"]
    )
    setup: list[Setup] = [standard, register_setup, _arg_specials]
    if command == "none":
        args = rng.choice([[], ["--help"], ["--version"], ["-x"], ["nope"], [""], ["--"]])
        return Case(label, "args", [Step(args, inproc=rng.random() < 0.5)], setup, ["no command"])
    shorthand = command == "shorthand"  # `simulate FILE ...` is `simulate run FILE ...`
    args, notes = cli_args(rng, "run" if shorthand else command)
    if shorthand:
        args = args[1:]
        notes.insert(0, "shorthand")
    if rng.random() < 0.1:
        args = mutate_tokens(rng, args)
        notes.append("tokens mutated")
    used = set(args)
    for name in ("run", "sweep", "run_partial", "sweep_partial"):
        if name in used:
            setup.append(copy_base(name, name))
    if "docs.md" in used:
        setup.append(lambda d: shutil.copy(ROOT / "docs" / "validation.md", d.work / "docs.md"))
    inproc = command in INPROC_COMMANDS
    return Case(label, "args", [Step(tame(_nul_free(args)), inproc=inproc)], setup, notes)


def _arg_specials(dirs: CaseDirs) -> None:
    """The special files the argument pools name."""
    w = dirs.work
    os.mkfifo(w / "fifo.yaml")
    (w / "dangling.yaml").symlink_to("nowhere/at/all.yaml")
    (w / "loop.yaml").symlink_to("loop.yaml")
    (w / "reg_bad.yaml").write_text(
        "verdict_rule: x\nreplications: 1e400\nseed: -1\nrecords: [{id: 5, scenario: /dev/zero}]\n"
    )


def register_setup(dirs: CaseDirs) -> None:
    """The validation register, readable from the working folder."""
    _register_copy(dirs.work)


def gen_folder(rng: random.Random, label: str, ctx: Context) -> Case:
    base = rng.choice(["run", "run", "sweep", "sweep", "run_partial", "sweep_partial"])
    notes = [f"copy of {base}"]
    ops = damage_ops(rng, base, ctx.listing[base], notes)
    setup = [standard, copy_base(base, "res"), damage("res", ops)]
    sweep = base.startswith("sweep")
    what = rng.choice(["plot", "plot", "report", "report", "resume", "resume"])
    if what == "plot":
        args = ["plot", "res"]
        if rng.random() < 0.3:
            args += ["-k", rng.choice(KINDS), "-f", rng.choice(["png", "svg"])]
        if rng.random() < 0.15:
            args += ["--out", rng.choice(PLOT_OUTS)]
        steps = [Step(args)]
    elif what == "report":
        steps = [Step(["report", "res", *_opt(rng, 0.15, "--out", rng.choice(REPORT_OUTS))])]
    else:
        if sweep:
            args = ["sweep", "spec.yaml", "--resume", "res", "-q", "--workers", "2"]
        else:
            args = ["run", "--resume", "res", "-q", "--workers", "2"]
        steps = [Step(args), Step([rng.choice(["plot", "report"]), "res"], needs_ok=0)]
    return Case(label, "folder", steps, setup, notes)


def gen_signal(rng: random.Random, label: str, ctx: Context) -> Case:
    sig, group = rng.choice(
        [("SIGINT", True), ("SIGINT", True), ("SIGINT", False), ("SIGTERM", False)]
        + [("SIGTERM", False), ("SIGKILL", False), ("SIGHUP", False), ("SIGKILL", True)]
    )
    wait = rng.random() < 0.6
    delay = rng.uniform(0, 2) if wait else rng.uniform(0.3, 6)
    if rng.random() < 0.5:
        n = rng.choice(["30", "40", "60"])
        first = Step(["run", "s.yaml", "-n", n, "--workers", "2", "--out", "out", "-q"])
        resume = Step(["run", "--resume", "out", "-q", "--workers", "2"])
        parts = "out/parts/*/*.parquet"
    else:
        args = ["sweep", "spec.yaml", "-n", "4", "--chunk", "1", "--workers", "2", "-q"]
        first = Step([*args, "--out", "out"])
        resume = Step([*args, "--resume", "out"])
        parts = "out/parts/*.parquet"
    first.signal, first.to_group, first.delay = sig, group, delay
    first.wait_for = parts if wait else None
    steps = [first, resume, Step([rng.choice(["plot", "report"]), "out"], needs_ok=1)]
    notes = [f"{sig}{' to the group' if group else ''}, then resume"]
    return Case(label, "signal", steps, [standard], notes)


def _no_double_claim(
    i: int, j: int, folder: str
) -> Callable[[list[StepResult], CaseDirs], list[str]]:
    def post(results: list[StepResult], dirs: CaseDirs) -> list[str]:
        if results[i].code == 0 and results[j].code == 0:
            return [f"both concurrent commands (steps {i} and {j}) claimed {folder}, exit 0 each"]
        return []

    return post


def gen_concurrent(rng: random.Random, label: str, ctx: Context) -> Case:
    variant = rng.choice(["runs", "forced runs", "sweeps", "resumes", "plot+report"])
    setup: list[Setup] = [standard]
    post = None
    if variant == "runs":
        a = Step(
            ["run", "s.yaml", "-n", "12", "--workers", "2", "--out", "out", "-q"], with_next=True
        )
        b = Step(
            [
                "run",
                rng.choice(["s.yaml", "r.yaml"]),
                "-n",
                "12",
                "--workers",
                "2",
                "--out",
                "out",
                "-q",
            ]
        )
        steps, post = [a, b], _no_double_claim(0, 1, "out")
    elif variant == "forced runs":
        setup.append(copy_base("run", "out"))
        args = ["run", "s.yaml", "-n", "6", "--workers", "2", "--out", "out", "-q", "--force"]
        steps, post = [Step(args, with_next=True), Step(list(args))], _no_double_claim(0, 1, "out")
    elif variant == "sweeps":
        args = ["sweep", "spec.yaml", "-n", "4", "--workers", "2", "--out", "out", "-q"]
        steps, post = [Step(args, with_next=True), Step(list(args))], _no_double_claim(0, 1, "out")
    elif variant == "resumes":
        setup.append(copy_base("run_partial", "out"))
        args = ["run", "--resume", "out", "-q", "--workers", "2"]
        steps = [Step(args, with_next=True), Step(list(args))]
    else:
        setup.append(copy_base("run", "out"))
        steps = [Step(["plot", "out"], with_next=True), Step(["report", "out"])]
    steps.append(Step(["report", "out"]))  # the folder is readable afterwards (or refused)
    return Case(label, "concurrent", steps, setup, [variant], post=post)


GENERATORS: dict[str, Callable[[random.Random, str, Context], Case]] = {
    "scenario": gen_scenario,
    "sweep": gen_sweep,
    "args": gen_args,
    "folder": gen_folder,
    "signal": gen_signal,
    "concurrent": gen_concurrent,
}


def new_session() -> Path:
    return Path(tempfile.mkdtemp(prefix="tripwire-fuzz-"))

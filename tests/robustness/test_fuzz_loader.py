"""Fuzzing the scenario loader: whatever the document, the answer is a scenario that runs or
a list of problems, never an exception of another kind (which the CLI would show as a
traceback).

The default run tries a bounded number of documents per test; set
``TRIPWIRE_FUZZ_EXAMPLES`` (e.g. 2000) for a longer campaign:

    TRIPWIRE_FUZZ_EXAMPLES=2000 python -m pytest tests/robustness -k fuzz
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SCENARIOS
from tripwire.errors import ScenarioError
from tripwire.loader import load_scenario
from tripwire.model import compile_plan, simulate
from tripwire.runner import replication_seed

EXAMPLES = int(os.environ.get("TRIPWIRE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# a valid, self-contained document: the brigade scenario with every reference resolved
BASE: dict[str, Any] = load_scenario(SCENARIOS / "brigade.yaml").data


def _nested(depth: int) -> Any:
    x: Any = 1
    for _ in range(depth):
        x = [x]
    return x


NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e-300, 1e300, -1e300, 2**63, "1e400", "", " ", "∞", "😀"]),
    st.text(max_size=20),
    st.lists(st.integers(-5, 5), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(-3, 3), max_size=3),
    st.builds(_nested, st.integers(30, 60)),
    st.just(list(range(50_000))),
    st.just({"triangular": {"low": 5, "mode": 1, "high": 0}}),
    st.just({"normal": {"mean": 1, "sd": -1}}),
    st.just({"choice": {"values": [1, 2], "weights": [1]}}),
    st.just({"figure": "no_such_figure"}),
    st.just({"uniform": {"low": float("nan"), "high": 1}}),
)


def _paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*path, k))
    elif isinstance(obj, list) and len(obj) <= 100:  # not into an inserted huge list
        for i, v in enumerate(obj):
            out += _paths(v, (*path, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The base document with one to three random edits, as YAML text."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["replace", "replace", "delete", "unknown key"]))
        if op == "replace":
            parent[path[-1]] = copy.deepcopy(draw(NASTY))
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = copy.deepcopy(draw(NASTY))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
    if draw(st.booleans()):  # a duplicated top-level key, which YAML itself would allow
        line = draw(st.sampled_from([ln for ln in text.splitlines() if ln and ln[0] != " "]))
        text = f"{text}{line}\n"
    return text


def outcome(text: str | bytes) -> str:
    """Load ``text`` as a scenario file; a valid one must also compile and run."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "fuzz.yaml"
        f.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            ls = load_scenario(f)
        except ScenarioError as exc:
            assert exc.problems, "a rejection names at least one problem"
            for p in exc.problems:
                assert p.file == str(f)
                assert p.message.strip()
            return "rejected"
    simulate(compile_plan(ls.scenario), replication_seed(1, 0))
    return "accepted"


@FUZZ
@given(mutated())
def test_fuzz_mutated_scenarios_load_or_are_rejected_with_messages(text):
    outcome(text)


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_fuzz_random_documents_are_rejected_with_messages(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    assert outcome(text) == "rejected"


@FUZZ
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_fuzz_random_bytes_and_text_are_rejected_with_messages(blob):
    assert outcome(blob) == "rejected"


def test_the_fuzz_base_document_is_valid():
    """The mutations start from a document that loads and runs (else they prove nothing)."""
    assert outcome(yaml.safe_dump(BASE, sort_keys=False)) == "accepted"

"""Output columns are declared once (tripwire.columns): the writer writes exactly the
declared columns with the declared types, the glossary lists every one, and no other
module spells a declared column family out as a string of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

import tripwire.columns as C
from tests.conftest import ROOT, SCENARIOS
from tripwire.loader import load_scenario
from tripwire.model import compile_plan
from tripwire.runner import run_batch

ARROW = {
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "list<float32>": pa.list_(pa.float32()),
}


def _declared(name: str, columns: tuple[C.Column, ...]) -> C.Column:
    for col in columns:
        rx = re.escape(col.pattern)
        for f in col.fields:
            rx = rx.replace(re.escape("{" + f + "}"), r"[A-Za-z0-9_.\-]+")
        if re.fullmatch(rx, name):
            return col
    raise AssertionError(f"{name} is not declared in tripwire.columns")


@pytest.mark.parametrize("name", ["brigade", "suwalki_cut"])
def test_the_writer_writes_exactly_the_declared_columns_with_their_types(name):
    s = load_scenario(SCENARIOS / f"{name}.yaml").scenario
    plan = compile_plan(s)
    rows = run_batch([s], 3, 11, workers=1, buildup=True, formations=True)[s.name]
    row = {k: v for k, v in rows[0].items() if k != "formation_rows"}
    expected = C.replication_columns(
        [lk.id for lk in plan.links],
        s.checkpoints_hours,
        [d.name for d in s.denial],
        race=s.adversary == "race",
    )
    assert sorted(row) == sorted(expected)
    table = pa.Table.from_pylist([{k: r[k] for k in row} for r in rows])
    for field in table.schema:
        col = _declared(field.name, C.REPLICATION)
        want = ARROW[col.dtype]
        got = field.type
        ok = got == want or (want == pa.float64() and got in (pa.int64(), pa.null()))
        assert ok, (field.name, got, want)  # an int or all-NaN float is still a number
    forms = rows[0]["formation_rows"]
    assert forms and all(tuple(f) == C.FORMATION_NAMES for f in forms), list(forms[0])


def test_the_glossary_lists_every_declared_column():
    text = (ROOT / "docs" / "glossary.md").read_text()
    shown = set(re.findall(r"`([a-z_<>]+)`", text))
    missing = []
    for col in C.REPLICATION + C.POINT:
        name = col.shown
        prefix = name.rsplit("<", 1)[0] if "<" in name else name
        # the glossary groups families (`route_<link>_loads`, `_troops`, ...): the family
        # is listed if its full name or its suffix after the last field is
        if name not in shown and not any(
            s.startswith(prefix) or name.endswith(s) for s in shown if len(s) > 3
        ):
            missing.append(name)
    assert not missing, missing


FAMILIES = sorted(
    {
        col.pattern.split("{")[0]
        for col in C.REPLICATION + C.POINT
        if "{" in col.pattern and len(col.pattern.split("{")[0]) > 3
    }
)


def test_no_module_spells_a_declared_column_family_itself():
    """f"ttr_{a}_h" and the like appear only in tripwire/columns.py."""
    src = ROOT / "src" / "tripwire"
    found = []
    for path in sorted(src.rglob("*.py")):
        if path.name == "columns.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for fam in FAMILIES:
                if re.search(r"""f["']""" + re.escape(fam) + r"\{", line):
                    found.append(f"{Path(path).relative_to(src)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_a_column_name_is_formatted_one_way():
    assert C.STRENGTH(country="latvia", t=72.0) == "strength_latvia_72h"
    assert C.P_REINFORCED_BY(area="theatre", t=240) == "p_reinforced_theatre_by_240h"
    assert C.TTR(area="theatre") == "ttr_theatre_h" and C.TTR.shown == "ttr_<area>_h"
    assert C.per_area(C.HOLD) == ("hold_estonia", "hold_latvia", "hold_lithuania", "hold_theatre")

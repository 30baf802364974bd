"""``edit:`` in scenario files: change, add or remove one list item by its id, name or site."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import SCENARIOS
from tripwire.cli import app
from tripwire.errors import ScenarioError
from tripwire.loader import LoadedScenario, load_scenario

BRIGADE = SCENARIOS / "brigade.yaml"
THEATRE = SCENARIOS / "common" / "theatre.yaml"
BASE = load_scenario(BRIGADE)
LINKS = [lk.id for lk in BASE.scenario.network.links]
UNITS = [u.name for u in BASE.scenario.units]


def write(tmp_path: Path, body: str, name: str = "edited.yaml", parent: Path = BRIGADE) -> Path:
    """A scenario file extending ``parent`` (absolute path) with ``body``."""
    f = tmp_path / name
    f.write_text(f"extends: {parent}\n{body}", encoding="utf-8")
    return f


def line_of(f: Path, needle: str) -> int:
    """1-based line of the first line of ``f`` containing ``needle``."""
    lines = f.read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, 1) if needle in ln)


def link(ls: LoadedScenario, id_: str):
    (found,) = [lk for lk in ls.scenario.network.links if lk.id == id_]
    return found


def problems(f: Path):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    return exc.value.problems


def test_change_one_link_by_id_leaves_every_other_link_alone(tmp_path):
    f = write(tmp_path, "edit:\n  network.links:\n    - {id: de_pl_rail, channels: 2}\n")
    ls = load_scenario(f)
    assert BASE.scenario.network.links[0].id == "de_pl_rail"
    assert BASE.scenario.network.links[0].channels != 2  # the shipped value is not the edit
    assert link(ls, "de_pl_rail").channels == 2
    assert [lk.id for lk in ls.scenario.network.links] == LINKS  # same order
    before = BASE.scenario.network.links
    after = ls.scenario.network.links
    assert after[0] == before[0].model_copy(update={"channels": 2})
    assert after[1:] == before[1:]
    # nothing else changed
    assert ls.scenario.model_dump(exclude={"network"}) == BASE.scenario.model_dump(
        exclude={"network"}
    )


def test_an_edit_deep_merges_mappings_and_replaces_a_distribution_whole(tmp_path):
    body = (
        "edit:\n"
        "  network.links:\n"
        "    - {id: de_pl_road, transit_hours: {triangular: {low: 10, mode: 20, high: 40}}}\n"
        "  pool.tiers:\n"
        "    - {name: tier2, readiness_days: 30}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    th = link(ls, "de_pl_road").transit_hours
    assert (th.kind, th.mean) == ("triangular", pytest.approx(70 / 3))
    assert ls.scenario.pool is not None and BASE.scenario.pool is not None
    tiers = {t.name: t for t in ls.scenario.pool.tiers}
    assert tiers["tier2"].readiness_days.mean == 30
    assert tiers["tier1"] == BASE.scenario.pool.tiers[0]


def test_an_edit_may_use_references(tmp_path):
    body = (
        "edit:\n  network.links:\n    - {id: de_pl_rail, channels: {assumption: sestokai_ramps}}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    assert link(ls, "de_pl_rail").channels == 3
    origin = ls.provenance["network.links[0].channels"]
    assert (origin.kind, origin.ref) == ("public", "sestokai_ramps")


def test_a_new_id_appends_a_link(tmp_path):
    body = (
        "edit:\n"
        "  network.links:\n"
        "    - {id: rail_baltica, from: poland_staging, to: lithuania, mode: rail, channels: 2,\n"
        "       transit_hours: 12, service_hours: 2, items_per_load: 300, troops_per_load: 400}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    assert [lk.id for lk in ls.scenario.network.links] == [*LINKS, "rail_baltica"]
    new = link(ls, "rail_baltica")
    assert (new.from_, new.to, new.mode, new.channels) == ("poland_staging", "lithuania", "rail", 2)
    assert ls.scenario.network.links[:-1] == BASE.scenario.network.links


def test_remove_a_unit_by_name(tmp_path):
    body = "edit:\n  units:\n    - {name: US ABCT in Poland, remove: true}\n"
    ls = load_scenario(write(tmp_path, body))
    assert [u.name for u in ls.scenario.units] == [n for n in UNITS if n != "US ABCT in Poland"]
    assert ls.scenario.units[0] == BASE.scenario.units[0]


def test_change_by_site(tmp_path):
    body = "edit:\n  prepositioned:\n    - {site: latvia, sets: 3}\n"
    ls = load_scenario(write(tmp_path, body, parent=SCENARIOS / "permanent.yaml"))
    assert {p.site: p.sets for p in ls.scenario.prepositioned} == {
        "estonia": 1,
        "latvia": 3,
        "lithuania": 1,
    }


def test_an_absent_list_is_an_empty_one(tmp_path):
    """brigade.yaml has no pre-positioned equipment (the schema's default, an empty list)."""
    assert "prepositioned" not in BASE.data or not BASE.data["prepositioned"]
    body = (
        "edit:\n"
        "  prepositioned:\n"
        "    - {site: lithuania, sets: 1, troops_per_set: 4000, draw_hours: 24}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    assert [(p.site, p.sets) for p in ls.scenario.prepositioned] == [("lithuania", 1)]


def test_a_misspelt_list_is_an_unknown_field_at_the_edits_line(tmp_path):
    f = write(tmp_path, "edit:\n  unitz:\n    - {name: VJTF, count: 2}\n")
    (p,) = problems(f)
    assert (p.file, p.path, p.line) == (str(f), "unitz", line_of(f, "unitz:"))
    assert "unknown field" in p.message


def test_items_of_one_edit_apply_in_order(tmp_path):
    body = (
        "edit:\n"
        "  units:\n"
        "    - {name: VJTF, remove: true}\n"
        "    - {name: VJTF, troops: 5000, type: light, origin: germany, readiness_hours: 72}\n"
        "    - {name: VJTF, count: 2}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    assert [u.name for u in ls.scenario.units] == [*UNITS[1:], "VJTF"]
    vjtf = ls.scenario.units[-1]
    assert (vjtf.troops, vjtf.type, vjtf.count) == (5000, "light", 2)


def test_edit_applies_after_the_files_own_keys(tmp_path):
    """A file that sets a list and edits it: the edit acts on that file's list."""
    body = (
        "units:\n"
        "  - {name: a, troops: 100, type: light, origin: germany, readiness_hours: 1}\n"
        "  - {name: b, troops: 200, type: light, origin: germany, readiness_hours: 1}\n"
        "edit:\n"
        "  units:\n"
        "    - {name: a, troops: 150}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    assert [(u.name, u.troops) for u in ls.scenario.units] == [("a", 150), ("b", 200)]


def test_edits_in_an_extends_chain_apply_parent_first(tmp_path):
    parent = write(
        tmp_path,
        "name: parent\n"
        "edit:\n"
        "  network.links:\n"
        "    - {id: de_pl_rail, channels: 2}\n"
        "    - {id: gap_road, channels: 1}\n"
        "    - {id: spare, from: germany, to: poland_staging, mode: road, channels: 1,\n"
        "       transit_hours: 40, service_hours: 1, items_per_load: 40, troops_per_load: 300}\n",
        name="parent.yaml",
    )
    child = write(
        tmp_path,
        "name: child\n"
        "edit:\n"
        "  network.links:\n"
        "    - {id: de_pl_rail, channels: 5}\n"  # over the parent's edit
        "    - {id: spare, remove: true}\n",  # an item the parent's edit added
        name="child.yaml",
        parent=parent,
    )
    p, c = load_scenario(parent), load_scenario(child)
    assert link(p, "de_pl_rail").channels == 2 and link(p, "spare").channels == 1
    assert link(c, "de_pl_rail").channels == 5
    assert link(c, "gap_road").channels == 1  # the parent's edit kept
    assert [lk.id for lk in c.scenario.network.links] == LINKS
    assert c.scenario.name == "child"


def test_a_file_without_extends_can_edit_its_own_lists(tmp_path):
    data = dict(BASE.data)
    data["edit"] = {"units": [{"name": "VJTF", "count": 3}]}
    f = tmp_path / "flat.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    ls = load_scenario(f)
    assert ls.scenario.units[0].count == 3
    assert "edit" not in ls.data


def test_edit_never_reaches_the_schema_or_the_data(tmp_path):
    ls = load_scenario(write(tmp_path, "edit: {}\n"))
    assert "edit" not in ls.data
    assert ls.scenario == BASE.scenario


def test_problems_in_edited_items_name_the_lines_of_the_edit(tmp_path):
    body = (
        "edit:\n"
        "  network.links:\n"
        "    - {id: de_pl_road,\n"
        "       channels: 0}\n"
        "    - {id: extra, from: germany, to: nowhere, mode: rail, channels: 1,\n"
        "       transit_hours: 1, service_hours: 1, items_per_load: 1, troops_per_load: 1}\n"
    )
    f = write(tmp_path, body)
    (p,) = problems(f)
    assert (p.file, p.path, p.line) == (
        str(f),
        "network.links[1].channels",
        line_of(f, "channels: 0"),
    )
    # fix the schema error: the semantic check on the appended link names the edit's line
    f.write_text(f.read_text().replace("channels: 0", "channels: 1"))
    (p,) = problems(f)
    assert (p.file, p.path) == (str(f), f"network.links[{len(LINKS)}].to")
    assert p.line == line_of(f, "id: extra")


def test_kept_items_keep_their_lines_after_a_removal(tmp_path):
    """Removing an item shifts the later ones; their problems still name their own lines."""
    parent = write(
        tmp_path,
        "units:\n"
        "  - {name: a, troops: 100, type: light, origin: germany, readiness_hours: 1}\n"
        "  - {name: b, troops: 100, type: light, origin: germany, readiness_hours: 1}\n"
        "  - {name: c, troops: 100, type: light, origin: germany,\n"
        "     readiness_hours: -1}\n",
        name="parent.yaml",
    )
    child = write(
        tmp_path,
        "edit:\n  units:\n    - {name: a, remove: true}\n    - {name: b, troops: 50}\n",
        name="child.yaml",
        parent=parent,
    )
    (p,) = problems(child)
    assert (p.file, p.path) == (str(parent), "units[1].readiness_hours")
    assert p.line == line_of(parent, "readiness_hours: -1")
    # an edited field's problem names the child; an untouched field of it, the parent
    child.write_text(child.read_text().replace("troops: 50", "troops: -5"))
    found = {p.path: (p.file, p.line) for p in problems(child)}
    assert found["units[0].troops"] == (str(child), line_of(child, "troops: -5"))


def test_an_untouched_field_of_an_edited_item_keeps_the_parents_line(tmp_path):
    parent = write(
        tmp_path,
        "units:\n"
        "  - name: a\n"
        "    troops: 100\n"
        "    type: light\n"
        "    origin: nowhere\n"
        "    readiness_hours: 1\n",
        name="parent.yaml",
    )
    child = write(
        tmp_path, "edit:\n  units:\n    - {name: a, troops: 50}\n", name="c.yaml", parent=parent
    )
    (p,) = problems(child)
    assert (p.file, p.path, p.line) == (str(parent), "units[0].origin", line_of(parent, "nowhere"))


def test_a_list_replaced_by_extends_drops_the_parents_lines(tmp_path):
    """A field missing from a child's list is reported in the child, not at the line where
    the parent's (replaced) list had it."""
    f = write(tmp_path, "units:\n  - name: X\n    troops: 100\n    type: light\n")
    found = {p.path: (p.file, p.line) for p in problems(f)}
    assert found["units[0].origin"] == (str(f), line_of(f, "name: X"))


ERRORS = [
    # (label, edit body, expected path, marker on the expected line, words of the message)
    ("not a mapping", "edit: [units]\n", "edit", "edit:", "mapping"),
    ("null", "edit:\n", "edit", "edit:", "mapping"),
    (
        "a mapping, not a list",
        "edit:\n  network.nodes:\n    - {id: germany, kind: origin}\n",
        "edit.network.nodes",
        "network.nodes:",
        "mapping, not a list",
    ),
    (
        "a scalar, not a list",
        "edit:\n  horizon_days:\n    - {id: x}\n",
        "edit.horizon_days",
        "horizon_days:",
        "horizon_days is a single value, not a list",
    ),
    (
        "no such mapping",
        "edit:\n  poool.tiers:\n    - {name: tier1, share: 0.1}\n",
        "edit.poool.tiers",
        "poool.tiers:",
        "no list at poool.tiers: no mapping poool",
    ),
    (
        "a null mapping",
        "pool: null\nedit:\n  pool.tiers:\n    - {name: tier1, share: 0.1}\n",
        "edit.pool.tiers",
        "pool.tiers:",
        "no mapping pool",
    ),
    (
        "a null list",
        "units: null\nedit:\n  units:\n    - {name: VJTF, count: 2}\n",
        "edit.units",
        "  units:",
        "units is null, not a list",
    ),
    (
        "a list of numbers",
        "edit:\n  checkpoints_hours:\n    - {id: x}\n",
        "edit.checkpoints_hours",
        "checkpoints_hours:",
        "no id, name or site",
    ),
    (
        "items not a list",
        "edit:\n  network.links: {id: de_pl_rail, channels: 2}\n",
        "edit.network.links",
        "network.links:",
        "list of items",
    ),
    (
        "item without a key",
        "edit:\n  network.links:\n    - {channels: 2}\n",
        "edit.network.links[0]",
        "channels: 2",
        "id, name or site",
    ),
    (
        "item not a mapping",
        "edit:\n  units:\n    - VJTF\n",
        "edit.units[0]",
        "- VJTF",
        "id, name or site",
    ),
    (
        "key not a name",
        "edit:\n  units:\n    - {name: [VJTF], count: 2}\n",
        "edit.units[0].name",
        "count: 2",
        "expected the name",
    ),
    (
        "the wrong key field",
        "edit:\n  units:\n    - {id: VJTF, count: 2}\n",
        "edit.units[0].id",
        "count: 2",
        "named by name, not id",
    ),
    (
        "remove with other fields",
        "edit:\n  network.links:\n    - {id: gap_road, remove: true, channels: 2}\n",
        "edit.network.links[0]",
        "gap_road",
        "only the id, not channels",
    ),
    (
        "remove an unknown id",
        "edit:\n  network.links:\n    - {id: gap_raod, remove: true}\n",
        "edit.network.links[0]",
        "gap_raod",
        "no item of network.links has id 'gap_raod'",
    ),
    (
        "remove not true",
        "edit:\n  network.links:\n    - id: gap_road\n      remove: yes please\n",
        "edit.network.links[0].remove",
        "remove:",
        "remove takes true",
    ),
    (
        "two items with the key",
        "units:\n"
        "  - {name: a, troops: 1, type: light, origin: germany, readiness_hours: 1}\n"
        "  - {name: a, troops: 2, type: light, origin: germany, readiness_hours: 1}\n"
        "edit:\n  units:\n    - {name: a, troops: 3}\n",
        "edit.units[0]",
        "troops: 3",
        "2 items of units have name 'a'",
    ),
]


@pytest.mark.parametrize("label,body,path,marker,words", ERRORS, ids=[e[0] for e in ERRORS])
def test_a_bad_edit_names_file_path_and_line(tmp_path, label, body, path, marker, words):
    f = write(tmp_path, body)
    (p,) = problems(f)
    assert p.file == str(f), label
    assert p.path == path, label
    assert p.line == line_of(f, marker), label
    assert words in p.message, (label, p.message)


def test_every_bad_edit_item_is_reported_at_once(tmp_path):
    body = (
        "edit:\n"
        "  network.links:\n"
        "    - {channels: 2}\n"
        "    - {id: nope, remove: true}\n"
        "  units:\n"
        "    - {name: VJTF, remove: false}\n"
        "  network.nodes:\n"
        "    - {id: riga_port, remove: true}\n"
    )
    f = write(tmp_path, body)
    assert {p.path for p in problems(f)} == {
        "edit.network.links[0]",
        "edit.network.links[1]",
        "edit.units[0].remove",
        "edit.network.nodes",
    }


def test_a_bad_edit_in_a_parent_names_the_parent(tmp_path):
    parent = write(tmp_path, "edit:\n  units:\n    - {name: Nobody, remove: true}\n", name="p.yaml")
    child = write(tmp_path, "name: child\n", name="c.yaml", parent=parent)
    (p,) = problems(child)
    assert (p.file, p.path, p.line) == (str(parent), "edit.units[0]", line_of(parent, "Nobody"))


def test_provenance_after_editing_links_in_a_file_that_extends(tmp_path):
    body = (
        "edit:\n"
        "  network.links:\n"
        "    - {id: de_pl_rail, remove: true}\n"
        "    - {id: de_pl_road, channels: 5}\n"
        "    - {id: extra, from: germany, to: poland_staging, mode: road, channels: 1,\n"
        "       transit_hours: 40, service_hours: 1, items_per_load: 40, troops_per_load: 300}\n"
    )
    ls = load_scenario(write(tmp_path, body))
    ids = [lk.id for lk in ls.scenario.network.links]
    assert ids == [*LINKS[1:], "extra"]
    prov = ls.provenance
    road, gap_rail, extra = ids.index("de_pl_road"), ids.index("gap_rail"), ids.index("extra")
    # an edited number keeps its item's source note; references still name their entry
    assert prov[f"network.links[{road}].channels"].kind == "note"
    assert "transporters" in prov[f"network.links[{road}].channels"].detail
    assert prov[f"network.links[{gap_rail}].channels"].ref == "sestokai_ramps"
    assert prov[f"network.links[{extra}].channels"].kind == "unsourced"
    assert f"network.links[{len(ids)}].channels" not in prov


def test_simulate_check_exits_2_naming_a_bad_edit(tmp_path):
    f = write(tmp_path, "edit:\n  network.links:\n    - {id: gap_raod, remove: true}\n")
    r = CliRunner().invoke(app, ["check", str(f)])
    assert r.exit_code == 2, r.output
    out = r.output.replace("\n", "")
    assert f"{f}:{line_of(f, 'gap_raod')}: edit.network.links[0]: no item of network.links" in out
    assert "Traceback" not in r.output


def test_simulate_check_accepts_a_good_edit(tmp_path):
    f = write(tmp_path, "edit:\n  network.links:\n    - {id: gap_road, remove: true}\n")
    r = CliRunner().invoke(app, ["check", str(f)])
    assert r.exit_code == 0, r.output
    assert f"{len(LINKS) - 1} links" in r.output


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(0, 3), max_size=2),
    st.just({"uniform": {"low": 1, "high": 2}}),
    st.just({"assumption": "sestokai_ramps"}),
)
ITEMS = st.dictionaries(
    st.sampled_from(["id", "name", "site", "remove", "channels", "troops", "count", "sets"]),
    st.one_of(VALUES, st.sampled_from([*LINKS[:3], *UNITS, "estonia", "new"])),
    max_size=4,
)
EDITS = st.one_of(
    VALUES,
    st.dictionaries(
        st.one_of(
            st.sampled_from(
                ["network.links", "units", "in_place", "pool.tiers", "network.nodes", "seed"]
            ),
            st.text(max_size=8),
        ),
        st.one_of(st.lists(st.one_of(ITEMS, VALUES), max_size=4), VALUES),
        max_size=3,
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_any_edit_loads_or_is_rejected_with_messages(edit):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "fuzz.yaml"
        f.write_text(yaml.safe_dump({"extends": str(BRIGADE), "edit": edit}), encoding="utf-8")
        try:
            load_scenario(f)
        except ScenarioError as exc:
            assert exc.problems
            assert all(p.file in (str(f), str(BRIGADE), str(THEATRE)) for p in exc.problems)
            assert all(p.message.strip() for p in exc.problems)

"""The `map` figure shows the network in words, on its coordinates, with what each route
carried and how long loads waited; route labels name places, not ids."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from matplotlib import colormaps
from matplotlib.image import imread
from pydantic import ValidationError

from tests.conftest import SCENARIOS
from tripwire import api
from tripwire.folders import RunFolder, open_result
from tripwire.loader import load_scenario
from tripwire.plot_map import LW_MAX, LW_MIN, MIN_USE, _places, route_label
from tripwire.plots import figure, plot
from tripwire.plotstyle import SEQUENTIAL
from tripwire.scenario import Node

POSTURES = ("rotational", "permanent")  # permanent also flies and ships from the UK


@pytest.fixture(scope="module")
def mapped(tmp_path_factory) -> RunFolder:
    """A real small run of two shipped postures (their nodes have coordinates)."""
    out = tmp_path_factory.mktemp("map") / "result"
    api.run(
        [SCENARIOS / f"{p}.yaml" for p in POSTURES], replications=16, seed=3, workers=1, out=out
    )
    f = open_result(out)
    assert isinstance(f, RunFolder)
    return f


@pytest.fixture(scope="module")
def fig(mapped):
    return figure(mapped, "map")


def texts(fig) -> list[str]:
    """Every text on the figure (titles, labels, legends, ticks, colorbar, footer)."""
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def flat(s: str) -> str:
    return " ".join(s.split())


def network(f: RunFolder, scenario: str) -> dict:
    return yaml.safe_load(f.file(f"{scenario}/scenario.resolved.yaml").read_text())


def maps(fig):
    return [a for a in fig.axes if a.get_xlabel() == "longitude, °E"]


def route_lines(ax) -> dict[str, object]:
    return {
        str(ln.get_gid()).split(":")[1]: ln
        for ln in ax.get_lines()
        if str(ln.get_gid()).startswith("route:")
    }


def test_every_place_is_named_in_words_and_no_id_is_shown(mapped, fig):
    shown = flat(" ".join(texts(fig)))
    data = network(mapped, POSTURES[0])
    nodes, links = data["network"]["nodes"], data["network"]["links"]
    assert len(nodes) == 18
    for node in nodes.values():
        assert node["label"] and flat(node["label"]) in shown  # readable name, on the map
    ids = [lk["id"] for lk in links] + [n for n in nodes if "_" in n]
    assert ids and not [i for i in ids if i in shown]  # no internal id anywhere


def test_panels_axes_title_and_footer(mapped, fig):
    panels = maps(fig)
    assert len(panels) == 2 * len(POSTURES)  # whole network and the enlarged area, per posture
    for ax in panels:
        assert ax.get_ylabel() == "latitude, °N"
        assert all(t.get_text().endswith("°") for t in ax.get_xticklabels())
    titles = [ax.get_title(loc="left") for ax in panels]
    for s in POSTURES:
        p = mapped.posture(s)
        assert f"{p}: whole network" in titles
        assert f"{p}: around the destinations, enlarged" in titles
    title = fig.get_suptitle()
    assert "what each route carried" in title and "no coastlines" in title
    t = "\n".join(texts(fig))
    assert f"seed {mapped.seed}" in t and f"{mapped.replications:,} replications each" in t
    # the enlarged panel frames the Baltic states, the whole one reaches the UK
    whole, part = panels[0], panels[1]
    cos0 = whole.get_xticks()[1] / float(whole.get_xticklabels()[1].get_text().rstrip("°"))
    assert whole.get_xlim()[0] / cos0 < -1.5 and part.get_xlim()[0] / cos0 > 19


def test_nodes_sit_at_their_coordinates(mapped, fig):
    nodes = network(mapped, POSTURES[0])["network"]["nodes"]
    ax = maps(fig)[1]
    labels = {str(t.get_gid())[len("label:") :]: t for t in ax.texts if t.get_gid()}
    cos0 = math.cos(math.radians(np.mean([n["lat_deg"] for n in nodes.values()])))
    for nid in ("klaipeda", "riga_port", "amari", "estonia", "suwalki_pl"):
        x, y = labels[nid].xy  # the annotated point
        assert y == pytest.approx(nodes[nid]["lat_deg"])
        assert x == pytest.approx(nodes[nid]["lon_deg"] * cos0)


def test_legend_modes_widths_and_marks(fig):
    side = [a for a in fig.axes if a.get_legend() is not None and not a.axison]
    assert len(side) == 1
    legend = [flat(t.get_text()) for t in side[0].get_legend().get_texts()]
    for m in ("rail", "road", "sea", "air"):
        assert m in legend
    assert "Troops moved, troops per replication (mean; line width)" in legend
    assert any(s.replace(",", "").isdigit() for s in legend)  # width steps, in troops
    assert "Suwalki corridor (routes the cut closes)" in legend
    assert any(s.startswith("denial zone") for s in legend)
    assert any(s.startswith("route not used") for s in legend)
    assert "destination area" in legend and "air base" in legend
    (cax,) = side[0].child_axes
    assert cax.get_xlabel().startswith("mean wait for the link, hours")


def test_widths_follow_troops_and_colours_follow_waits(mapped, fig):
    worst_of_all = []
    for s, ax in zip(POSTURES, maps(fig)[::2]):
        routes = mapped.summaries[s]["routes"]
        lines = route_lines(ax)
        assert set(lines) == set(routes)
        used = {k: r for k, r in routes.items() if r["p_used"] >= MIN_USE}
        assert used and len(used) < len(routes)
        order = sorted(used, key=lambda k: used[k]["troops_mean"])
        widths = [lines[k].get_linewidth() for k in order]
        assert widths == sorted(widths) and widths[0] >= LW_MIN and widths[-1] <= LW_MAX
        for k in set(routes) - set(used):
            assert lines[k].get_linewidth() < LW_MIN and str(lines[k].get_gid()).endswith("unused")
        # the longer the mean wait, the warmer (lighter) the colour
        waits = {k: r["wait_h_mean"]["value"] for k, r in used.items()}
        lightness = {k: sum(lines[k].get_color()[:3]) for k in used}
        by_wait = sorted(used, key=lambda k: waits[k])
        assert [lightness[k] for k in by_wait] == sorted(lightness[k] for k in by_wait)
        worst = by_wait[-1]
        worst_of_all.append((waits[worst], lines[worst].get_color()))
    # one scale for every posture: the longest wait of all is the top of the scale
    assert np.allclose(max(worst_of_all)[1], colormaps[SEQUENTIAL](1.0))


def test_corridor_and_denial_zones_are_marked(mapped, fig):
    for s, part in zip(POSTURES, maps(fig)[1::2]):
        assert [ln for ln in part.get_lines() if ln.get_gid() == "corridor"]  # the shaded band
        p = mapped.summaries[s]["corridor"]["p_closed"]["value"]
        notes = [flat(t.get_text()) for t in part.texts if t.get_gid() == "corridor-note"]
        assert notes == [f"Suwalki corridor: cut in {100 * p:.0f}% of replications"]
        rings = [ln for ln in part.get_lines() if ln.get_gid() == "denial"]
        data = network(mapped, s)
        denied = {lid for d in data["denial"] for lid in d["links"]}
        assert len(rings) == len(denied) == 2
        by_gid = {t.get_gid(): t.get_text() for t in part.texts}
        for d in data["denial"]:
            (lk,) = [lk for lk in data["network"]["links"] if lk["id"] in d["links"]]
            note = f"{lk['mode']} denial zone, P {100 * d['probability']:.0f}%"
            assert note in by_gid[f"label:{lk['to']}"]


def test_the_picture_is_written(mapped, tmp_path):
    (png, svg) = plot(mapped, ["map"], out=tmp_path)
    img = imread(png)
    assert img.shape[0] > 800 and img.shape[1] > 1800
    text = svg.read_text()
    assert "Klaipeda port" in text and "longitude, °E" in text


def test_a_folder_without_coordinates_gets_a_schematic_that_says_so(run3):
    fig = figure(run3, "map")  # written before nodes had coordinates
    assert "this folder's scenario gives no coordinates" in fig.get_suptitle()
    t = flat(" ".join(texts(fig)))
    assert "longitude" not in t and "Port of Klaipeda quays" in t  # descriptions as names
    assert len([a for a in fig.axes if a.axison]) == len(run3.scenarios)


def test_a_node_without_coordinates_is_placed_beside_its_neighbours():
    nodes = {
        "a": {"kind": "origin", "lat_deg": 54.0, "lon_deg": 20.0},
        "b": {"kind": "port", "lat_deg": 56.0, "lon_deg": 24.0},
        "c": {"kind": "staging"},
    }
    links = [{"from": "a", "to": "c"}, {"from": "c", "to": "b"}]
    places, geographic = _places(nodes, links)
    assert geographic and places["a"].given and not places["c"].given
    assert 54 < places["c"].lat < 57 and 20 < places["c"].lon < 25
    assert places["c"].label == "c"


def test_node_coordinates_are_validated():
    assert Node(kind="port", lat_deg=55.7, lon_deg=21.1, label="Klaipeda port").lat_deg == 55.7
    with pytest.raises(ValidationError, match="less than or equal to 90"):
        Node(kind="port", lat_deg=95, lon_deg=21.1)
    with pytest.raises(ValidationError, match="less than or equal to 180"):
        Node(kind="port", lat_deg=55, lon_deg=181)
    with pytest.raises(ValidationError, match="give both or neither"):
        Node(kind="port", lat_deg=55)
    with pytest.raises(ValidationError):
        Node(kind="port", label="")


def test_route_label_names_places_not_ids():
    s = load_scenario(SCENARIOS / "brigade.yaml").scenario
    links = {lk.id: lk for lk in s.network.links}
    nodes = s.network.nodes
    assert route_label(links["berth_klaipeda"], nodes) == "Klaipeda anchorage – Klaipeda port (sea)"
    assert route_label(links["gap_rail"], nodes) == (
        "Budzisko (Suwalki gap) – Kaunas-Vilnius area (Rukla) (rail)"
    )
    raw = {"id": "x", "from": "a", "to": "b_c", "mode": "road"}
    assert route_label(raw, {"a": {"kind": "port", "description": "Port A"}}) == (
        "Port A – b c (road)"
    )
    for lk in s.network.links:  # every shipped link reads in words
        label = route_label(lk, nodes)
        assert lk.id not in label and "_" not in label

"""Each plot kind, built from a stored result folder, shows what the folder holds."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.image import imread
from matplotlib.testing.compare import compare_images

from tripwire.plots import Options, PlotError, figure, plot
from tripwire.plotstyle import OKABE_ITO
from tripwire.scenario import COUNTRIES

from .conftest import FIXTURES

BASELINE = FIXTURES.parent / "view" / "baseline"


def texts(fig) -> str:
    """Every piece of text on a figure (titles, labels, legends, ticks, footer)."""
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def footer_ok(fig, folder) -> None:
    t = texts(fig)
    assert f"seed {folder.seed}" in t
    assert f"{folder.replications:,} replications each" in t
    assert ", ".join(folder.scenarios) in t


def legend_labels(ax) -> list[str]:
    leg = ax.get_legend()
    assert leg is not None, f"no legend on {ax.get_title()!r}"
    return [t.get_text() for t in leg.get_texts()]


def test_reinforced_curves_are_the_summary_curves(run3):
    fig = figure(run3, "reinforced")
    axes = fig.axes
    assert [a.get_title() for a in axes] == [
        "Theatre (all three states)",
        "Lithuania",
        "Latvia",
        "Estonia",
    ]
    for ax, area in zip(axes, ["theatre", "lithuania", "latvia", "estonia"]):
        steps = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]
        ttr = [ln for ln in steps if ln.get_linestyle() != ":"]
        fa = [ln for ln in steps if ln.get_linestyle() == ":"]
        assert len(ttr) == 3 and len(fa) == 3  # one of each per posture
        for ln, name, col in zip(ttr, run3.scenarios, OKABE_ITO):
            curve = np.array(run3.summaries[name]["areas"][area]["curve"])
            assert ln.get_label().startswith(run3.posture(name))
            np.testing.assert_allclose(ln.get_xdata(), curve[:, 0] / 24)
            np.testing.assert_allclose(ln.get_ydata(), curve[:, 1])
            assert ln.get_color() == col
        # beside it, the race: P(capital reached by t), the summary's Kaplan-Meier curve
        for ln, name, col in zip(fa, run3.scenarios, OKABE_ITO):
            curve = np.array(run3.summaries[name]["areas"][area]["fa_curve"])
            assert "capital reached" in ln.get_label() and "P hold" in ln.get_label()
            np.testing.assert_allclose(ln.get_ydata(), curve[:, 1])
            assert ln.get_color() == col
        labels = legend_labels(ax)
        assert len(labels) == 6 and sum("P beat f.a." in s for s in labels) == 3
        assert ax.get_ylim() == (0.0, 1.0)
    assert "days after attack start" in axes[2].get_xlabel()
    assert "P reinforced (solid), P capital reached (dotted)" in axes[0].get_ylabel()
    # with the race there is no clock window to shade
    assert "fait accompli (10-90% of runs)" not in texts(fig)
    footer_ok(fig, run3)


def test_ttr_violins_show_the_reinforced_replications(run3):
    fig = figure(run3, "ttr")
    theatre = fig.axes[0]
    assert theatre.get_title() == "Theatre (all three states)"
    bodies = [c for c in theatre.collections if isinstance(c, PolyCollection)]
    assert len(bodies) == 3
    (medians,) = [c for c in theatre.collections if c.get_gid() == "medians"]
    for seg, name in zip(medians.get_segments(), run3.scenarios):
        t = run3.replications_table(name, ["ttr_theatre_h"])["ttr_theatre_h"]
        assert seg[0][1] == pytest.approx(np.median(t[np.isfinite(t)]) / 24)
    assert [t.get_text() for t in theatre.get_xticklabels()] == [
        run3.posture(s) for s in run3.scenarios
    ]
    assert "days after attack start" in theatre.get_ylabel()
    # the legend is the figure's, outside the panels (inside, it covered the violins)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [run3.posture(s) for s in run3.scenarios]
    footer_ok(fig, run3)


def test_buildup_bands_and_required_line(run3):
    fig = figure(run3, "buildup")
    axes = np.array(fig.axes).reshape(3, 3)
    for i, name in enumerate(run3.scenarios):
        b = run3.summaries[name]["buildup"]
        for j, c in enumerate(COUNTRIES):
            ax = axes[i, j]
            own = [ln for ln in ax.get_lines() if ln.get_label().endswith(": median")]
            assert len(own) == 1 and own[0].get_label() == f"{run3.posture(name)}: median"
            np.testing.assert_allclose(own[0].get_ydata(), np.array(b["countries"][c]["p50"]) / 1e3)
            np.testing.assert_allclose(own[0].get_xdata(), np.array(b["hours"]) / 24)
            req = [ln for ln in ax.get_lines() if ln.get_label().startswith("required")]
            assert req and req[0].get_ydata()[0] == pytest.approx(
                b["countries"][c]["required"]["p50"] / 1e3
            )
            # the other two postures' medians for context, in grey
            assert sum(ln.get_color() == "#BBBBBB" for ln in ax.get_lines()) == 2
    assert [a.get_title() for a in axes[0]] == ["Estonia", "Latvia", "Lithuania"]
    assert all("thousands" in a.get_ylabel() for a in axes[:, 0])
    assert all(a.get_xlabel() == "days after attack start" for a in axes[2])
    assert "required (median; grey: 10-90%)" in legend_labels(axes[0, 2])
    footer_ok(fig, run3)


def test_bottlenecks_routes_and_corridor(run3):
    fig = figure(run3, "bottlenecks")
    wait, troops, corridor = fig.axes[:3]
    labels = [t.get_text() for t in wait.get_yticklabels()]
    assert 0 < len(labels) <= 16
    # in words: "<from> – <to> (<mode>)", never an internal id
    assert all(" – " in s and s.endswith(")") and "_" not in s for s in labels)
    assert labels[0].endswith("(sea)")  # the longest queue of the shipped theatre: a berth
    assert len(wait.patches) == 3 * len(labels) and len(troops.patches) == 3 * len(labels)
    heights = [p.get_height() for p in corridor.patches]
    expected = [100 * run3.summaries[s]["corridor"]["p_closed"]["value"] for s in run3.scenarios]
    np.testing.assert_allclose(heights, expected)
    assert "hours" not in troops.get_xlabel() and "thousands" in troops.get_xlabel()
    assert "wait per load, h" in wait.get_xlabel()
    assert "%" in corridor.get_ylabel()
    assert legend_labels(wait) == [run3.posture(s) for s in run3.scenarios]
    footer_ok(fig, run3)


def test_response_lines_per_posture_and_panel(sweep_grid):
    fig = figure(sweep_grid, "response", Options(x="warning.days", metric="p_beat_fa_lithuania"))
    assert [a.get_title() for a in fig.axes] == [
        "suwalki.closure_probability = 0",
        "suwalki.closure_probability = 1",
    ]
    p = sweep_grid.points
    for ax, closure in zip(fig.axes, (0.0, 1.0)):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == [
            sweep_grid.posture(s) for s in sweep_grid.scenarios
        ]
        for ln, s in zip(lines, sweep_grid.scenarios):
            sel = (p["posture"] == s) & (p["x.suwalki.closure_probability"] == closure)
            order = np.argsort(p["x.warning.days"][sel])
            np.testing.assert_allclose(ln.get_xdata(), p["x.warning.days"][sel][order])
            np.testing.assert_allclose(ln.get_ydata(), p["p_beat_fa_lithuania"][sel][order])
        assert ax.get_xlabel() == "warning.days"
    assert "Lithuania reinforced before the fait accompli" in fig.axes[0].get_ylabel()
    footer_ok(fig, sweep_grid)


def test_heatmap_cells_hold_the_metric(sweep_grid):
    fig = figure(sweep_grid, "heatmap", Options("warning.days", "suwalki.closure_probability"))
    meshes = [c for ax in fig.axes[:2] for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 2  # one panel per posture (the third axes is the colour bar)
    p = sweep_grid.points
    for mesh, s in zip(meshes, sweep_grid.scenarios):
        z = np.asarray(mesh.get_array()).reshape(2, 4)  # closure (rows) x warning (columns)
        sel = p["posture"] == s
        for j in np.nonzero(sel)[0]:
            iy = int(p["x.suwalki.closure_probability"][j])
            ix = [0, 5, 10, 15].index(p["x.warning.days"][j])
            assert z[iy, ix] == pytest.approx(p["p_beat_fa_theatre"][j])
    ax0 = fig.axes[0]
    assert [t.get_text() for t in ax0.get_xticklabels()] == ["0", "5", "10", "15"]
    assert ax0.get_ylabel() == "suwalki.closure_probability"
    colorbar = fig.axes[-1]
    assert "fait accompli" in colorbar.get_ylabel()
    footer_ok(fig, sweep_grid)


def test_sensitivity_bars_ranked(sweep_sobol):
    fig = figure(sweep_sobol, "sensitivity")
    ax = fig.axes[0]
    r = sweep_sobol.sensitivity["postures"]["brigade"]["p_beat_fa_theatre"]
    assert [t.get_text() for t in ax.get_yticklabels()] == r["ranking"][::-1]
    assert len(ax.patches) == 2 * len(sweep_sobol.factors)  # ST and S1 per factor
    st = sorted(p.get_width() for p in ax.patches[: len(sweep_sobol.factors)])
    assert st == pytest.approx(sorted(v["ST"] for v in r["indices"].values()))
    assert legend_labels(ax) == ["total index ST", "first-order S1"]
    assert "Sobol index" in ax.get_xlabel()
    footer_ok(fig, sweep_sobol)


def test_plot_errors_are_explained(run3, sweep_grid, sweep_sobol):
    with pytest.raises(PlotError, match="does not fit a run folder"):
        figure(run3, "heatmap")
    with pytest.raises(PlotError, match="needs a grid design; this sweep is sobol"):
        figure(sweep_sobol, "heatmap")
    with pytest.raises(PlotError, match="unknown metric 'p_win'.*p_beat_fa_theatre"):
        figure(sweep_grid, "response", Options(metric="p_win"))
    with pytest.raises(PlotError, match="'pool.theatre_share' was not varied"):
        figure(sweep_grid, "response", Options(x="pool.theatre_share"))
    with pytest.raises(PlotError, match="must be different"):
        figure(sweep_grid, "heatmap", Options("warning.days", "warning.days"))


def test_plot_writes_png_and_svg_deterministically(run3, tmp_path):
    paths = plot(run3, out=tmp_path / "a")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        f"{k}.{e}"
        for k in ("reinforced", "ttr", "buildup", "bottlenecks", "map", "phases")
        for e in ("png", "svg")
    )
    img = imread(tmp_path / "a" / "reinforced.png")
    assert img.shape[0] > 600 and img.shape[1] > 1000
    svg = (tmp_path / "a" / "buildup.svg").read_text()
    assert "Build-up of combat-ready NATO combat power" in svg  # text stays text
    again = plot(run3, ["buildup"], out=tmp_path / "b")
    assert again[0].read_bytes() == (tmp_path / "a" / "buildup.png").read_bytes()


def test_buildup_matches_the_canonical_image(run3, tmp_path):
    """Image comparison with tolerance: regenerate the baseline with
    ``python -m tests.view.baseline`` when a figure is changed on purpose."""
    (png,) = plot(run3, ["buildup"], out=tmp_path, formats=("png",))
    diff = compare_images(str(BASELINE / "buildup.png"), str(png), tol=6)
    assert diff is None, diff

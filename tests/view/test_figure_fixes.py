"""Figure defects found by using the tool, fixed and kept fixed (issue 18): the violin
legend no longer covers the theatre's violins, the tornado names both its colours, the
theatre panel carries the fait-accompli band, the heatmap title fits."""

from __future__ import annotations

from matplotlib.colors import to_hex

from tripwire.plots import figure
from tripwire.plotstyle import style


def test_the_violin_legend_is_outside_the_panels(run3):
    with style():
        fig = figure(run3, "ttr")
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [run3.posture(s) for s in run3.scenarios]


def test_the_tornado_legend_names_both_colours(sweep_grid):
    with style():
        fig = figure(sweep_grid, "sensitivity")
    legend = fig.axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["metric rises with the factor (rho > 0)", "falls (rho < 0)"]
    colours = {to_hex(h.get_facecolor()) for h in legend.legend_handles}
    assert len(colours) == 2


def test_the_theatre_panel_has_the_fait_accompli_too(run3):
    """With the adversary clock the shaded 10-90 % band now covers the theatre (its first
    capital) as well as each state; with the race (this folder) every panel, the theatre
    included, has each posture's dotted P(capital reached)."""
    from tripwire.plots import _fait_accompli

    band = _fait_accompli(run3)
    assert set(band) == {"estonia", "latvia", "lithuania", "theatre"}
    lo, hi = band["theatre"]
    assert lo <= hi and hi <= min(band[c][1] for c in ("estonia", "latvia", "lithuania"))
    with style():
        fig = figure(run3, "reinforced")
    theatre = next(ax for ax in fig.axes if ax.get_title().startswith("Theatre"))
    dotted = [ln for ln in theatre.get_lines() if "capital reached" in ln.get_label()]
    assert len(dotted) == len(run3.scenarios)


def test_the_heatmap_title_fits_the_figure(sweep_grid):
    with style():
        fig = figure(sweep_grid, "heatmap")
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent()  # noqa: SLF001 - the title's drawn extent
    width = fig.get_size_inches()[0] * fig.dpi
    assert box.x0 >= 0 and box.x1 <= width

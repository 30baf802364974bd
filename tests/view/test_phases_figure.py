"""The ``phases`` figure, checked for content: one panel per state, one bar per posture,
stacked in the phases' order with the summary's means (in days), a legend naming every
phase, units on the axis, and the share of runs no formation decided."""

from __future__ import annotations

import pytest
from matplotlib.patches import Rectangle

from tripwire.phases import PHASES
from tripwire.plot_story import PHASE_COLOURS, folder_phases
from tripwire.plots import figure
from tripwire.plotstyle import style


@pytest.fixture(scope="module")
def fig(run3):
    with style():
        return figure(run3, "phases")


def test_panels_axes_and_legend(fig, run3):
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["Estonia", "Latvia", "Lithuania"]
    for ax in panels:
        assert ax.get_xlabel() == "days from warning (mean)"
    assert [t.get_text() for t in panels[0].get_yticklabels()] == [
        run3.posture(s) for s in run3.scenarios
    ]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == list(PHASES)
    assert "Where the time goes" in fig._suptitle.get_text()  # noqa: SLF001


def test_bars_are_the_summarys_mean_phases_in_days(fig, run3):
    data = folder_phases(run3)
    panels = [ax for ax in fig.axes if ax.get_title()]
    colour_of = {v.lower(): k for k, v in PHASE_COLOURS.items()}
    for ax, c in zip(panels, ("estonia", "latvia", "lithuania"), strict=True):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        for y, s in enumerate(run3.scenarios):
            row = sorted(
                (b for b in bars if abs(b.get_y() + b.get_height() / 2 - y) < 1e-9),
                key=lambda b: b.get_x(),
            )
            means = data[s][c]["phases_h"]
            want = [(p, means[p]["mean"] / 24) for p in PHASES if (means[p]["mean"] or 0) > 0]
            assert len(row) == len(want)
            left = 0.0
            for bar, (p, days) in zip(row, want, strict=True):
                from matplotlib.colors import to_hex

                assert colour_of[to_hex(bar.get_facecolor()).lower()] == p
                assert bar.get_x() == pytest.approx(left) and bar.get_width() == pytest.approx(days)
                left += days

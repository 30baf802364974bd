"""The plain-words headline (tripwire.headline), checked against a stored folder: every
number in a sentence is the summary's or the comparison's, rounded as documented."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tripwire.folders import open_result
from tripwire.headline import sentences

FOLDER = ROOT / "results" / "examples" / "postures"


def _days(h: float) -> str:
    d = abs(h) / 24
    return f"{d:.1f}" if d < 10 else f"{d:.0f}"


@pytest.fixture(scope="module")
def stored():
    f = open_result(FOLDER)
    return f, sentences(f.summaries, f.comparisons)


def test_one_median_sentence_per_posture_with_the_summarys_numbers(stored):
    f, lines = stored
    for n, line in zip(f.scenarios, lines, strict=False):
        e = f.summaries[n]["areas"]["theatre"]["ttr_h"]["p50"]
        assert f"the {f.posture(n)} posture reaches the theatre requirement" in line
        want = f"median of {_days(e['value'])} days after the attack (95% CI {_days(e['lo'])} to"
        assert want in line and line.endswith(f"{_days(e['hi'])} days).")


def test_comparison_sentences_carry_the_paired_difference(stored):
    f, lines = stored
    for comp in f.comparisons:
        d = comp["areas"]["theatre"]["difference_of_medians_h"]
        a, b = f.posture(comp["a"]), f.posture(comp["b"])
        line = next(
            x for x in lines if x.startswith(f"The {b} posture reaches it") and f"the {a} p" in x
        )
        word = "sooner" if d["value"] < 0 else "later"
        assert f"about {_days(d['value'])} days {word} than the {a} posture" in line
        assert f"95% CI {_days(d['hi'])} to {_days(d['lo'])} days" in line


def test_the_chances_are_the_summarys(stored):
    f, lines = stored
    hold = next(x for x in lines if "holds every capital" in x)
    beat = next(x for x in lines if "before the fait accompli" in x)
    for n in f.scenarios:
        a = f.summaries[n]["areas"]["theatre"]
        assert f"{f.posture(n)} {100 * a['p_hold']['value']:.0f}%" in hold
        assert f"{f.posture(n)} {100 * a['p_beat_fa']['value']:.0f}%" in beat
    if all(f.summaries[n]["areas"]["theatre"]["p_hold"]["value"] < 0.5 for n in f.scenarios):
        assert hold.startswith("No posture holds every capital")


def test_the_dominant_delay_is_the_longest_weighted_phase(stored):
    f, lines = stored
    delay = [x for x in lines if x.startswith("The dominant delay is")]
    phases = [f.summaries[n].get("phases") for n in f.scenarios]
    if not all(phases):
        assert not delay  # a folder summarised before phases: no sentence, nothing invented
        return
    (line,) = delay
    totals: dict[str, float] = {}
    for block in phases:
        for cp in block.values():
            for p, e in cp["phases_h"].items():
                totals[p] = totals.get(p, 0.0) + cp["decided_by_a_formation"] * (e["mean"] or 0)
    top = max(totals, key=lambda p: totals[p])
    share = 100 * totals[top] / sum(totals.values())
    assert re.match(rf"The dominant delay is {top}: {share:.0f}% of", line)

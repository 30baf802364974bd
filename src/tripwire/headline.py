"""The answer in plain words: a few sentences generated from a run's summaries.

Every number in a sentence is read from ``summary.json`` or ``comparison.json`` (never
computed anew), rounded as stated: times to whole days (hours / 24), probabilities to
whole percent. The CLI prints these sentences after its tables and the HTML report opens
with them.

Sentences, in order:

1. per posture, the median time-to-reinforce of the theatre (all three states) with its
   95 % CI, or that it is beyond the horizon;
2. per pair compared, the paired difference of medians (b - a) of the theatre, when its
   CI excludes zero ("about N days sooner/later (CI ...)"), else that they do not differ
   measurably;
3. the chance that no capital is reached within the horizon (the combat race), per
   posture: "no posture holds every capital in most runs" when every P(hold) < 50 %;
4. the chance of being reinforced before the fait accompli, likewise;
5. the dominant delay: the phase with the longest mean among the formations that
   decided each state's time-to-reinforce, taken over every posture and state (where
   phases were summarised).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tripwire.phases import PHASES


def _days(h: float | None) -> str:
    """Hours as days: one decimal below 10 days, whole days above."""
    if h is None:
        return "beyond the horizon"
    d = abs(h) / 24
    return f"{d:.1f}" if d < 10 else f"{d:.0f}"


def _pct(p: float | None) -> str:
    return "n/a" if p is None else f"{100 * p:.0f}%"


def _ci_days(e: Mapping[str, float | None]) -> str:
    lo, hi = e.get("lo"), e.get("hi")
    if lo is None or hi is None:
        return "CI open-ended"
    return f"95% CI {_days(lo)} to {_days(hi)}"


def _median_sentence(posture: str, s: Mapping[str, Any]) -> str:
    e = s["areas"]["theatre"]["ttr_h"]["p50"]
    if e["value"] is None:
        return (
            f"With these assumptions, the {posture} posture does not reach the theatre requirement "
            f"within the horizon ({s['horizon_hours'] / 24:g} days) in at least half the runs."
        )
    return (
        f"With these assumptions, the {posture} posture reaches the theatre requirement (all three "
        f"states) in a median of {_days(e['value'])} days after the attack "
        f"({_ci_days(e)} days)."
    )


def _comparison_sentence(c: Mapping[str, Any], postures: Mapping[str, str]) -> str:
    a, b = postures.get(c["a"], c["a"]), postures.get(c["b"], c["b"])
    d = c["areas"]["theatre"]["difference_of_medians_h"]
    v, lo, hi = d["value"], d["lo"], d["hi"]
    if v is None or lo is None or hi is None or lo <= 0 <= hi:
        return f"The {b} and {a} postures do not differ measurably in the theatre's median."
    word = "sooner" if v < 0 else "later"
    near, far = (hi, lo) if v < 0 else (lo, hi)
    return (
        f"The {b} posture reaches it about {_days(v)} days {word} than the {a} posture "
        f"(paired difference of medians, 95% CI {_days(near)} to {_days(far)} days)."
    )


def _chance_sentence(
    key: str, summaries: Mapping[str, Mapping[str, Any]], postures: Mapping[str, str]
) -> str | None:
    what = {
        "p_hold": "holds every capital (no capital reached within the horizon)",
        "p_beat_fa": "is reinforced before the fait accompli in every state",
    }[key]
    got = {
        n: s["areas"]["theatre"][key]["value"]
        for n, s in summaries.items()
        if key in s["areas"]["theatre"]
    }
    if not got:
        return None
    shown = "; ".join(f"{postures[n]} {_pct(p)}" for n, p in got.items())
    if all(p is not None and p < 0.5 for p in got.values()):
        lead = f"No posture {what} in most runs"
    else:
        lead = f"The chance that a posture {what}"
    return f"{lead} ({shown})."


def _delay_sentence(summaries: Mapping[str, Mapping[str, Any]]) -> str | None:
    totals = dict.fromkeys(PHASES, 0.0)
    deciding = 0
    for s in summaries.values():
        for cp in (s.get("phases") or {}).values():
            k = cp["decided_by_a_formation"]
            deciding += k
            for p in PHASES:
                totals[p] += k * (cp["phases_h"][p]["mean"] or 0.0)
    if not deciding:
        return None
    top = max(PHASES, key=lambda p: totals[p])
    share = totals[top] / sum(totals.values())
    return (
        f"The dominant delay is {top}: {share * 100:.0f}% of the time from warning to "
        "combat-ready of the formations that decided each state's time-to-reinforce "
        "(all postures and states)."
    )


def sentences(
    summaries: Mapping[str, Mapping[str, Any]], comparisons: Sequence[Mapping[str, Any]] = ()
) -> list[str]:
    """The plain-words headline of a run (module docstring)."""
    postures = {n: str(s.get("posture", n)) for n, s in summaries.items()}
    out = [_median_sentence(postures[n], s) for n, s in summaries.items()]
    out += [_comparison_sentence(c, postures) for c in comparisons]
    for key in ("p_hold", "p_beat_fa"):
        line = _chance_sentence(key, summaries, postures)
        if line:
            out.append(line)
    delay = _delay_sentence(summaries)
    if delay:
        out.append(delay)
    return out

"""Face validity: which assumption that no source pins down could flip a headline conclusion?

For each such assumption, the three shipped postures are run at a low and a high value
(everything else as shipped; common random numbers; one ``simulate sweep`` per assumption)
and the two headline conclusions are re-checked:

* ordering: permanent bases reinforce the theatre faster than rotational battlegroups, and
  the forward brigade no slower (median of paired differences, sign-test 95 % CI);
* failure: no posture holds the theatre (no capital reached, the combat race) in half of
  the runs;
* bases help: permanent bases raise P(hold theatre) over the rotational posture (paired
  difference, its 95 % CI above zero).

    python -m tests.validation.face        # prints the table of docs/validation.md
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
from pathlib import Path

from tripwire.results import read_table

ROOT = Path(__file__).parents[2]
POSTURES = [f"scenarios/{n}.yaml" for n in ("rotational", "brigade", "permanent")]
REPS = 300

# (path, low, high, what it is)
ASSUMPTIONS = [
    ("warning.days", 0, 14, "strategic warning, days (shipped: triangular 0-3-14)"),
    ("warning.decision_delay_hours", 6, 120, "political decision, hours (shipped: lognormal)"),
    ("pool.theatre_share", 0.05, 0.4, "share of the 300,000 sent to the Baltics (0.2)"),
    ("suwalki.closure_probability", 0, 1, "corridor cut (0.3)"),
    ("countries.lithuania.threat_troops", 15000, 60000, "threat to Lithuania (25,000-40,000)"),
    (
        "countries.lithuania.host_nation_effectiveness",
        0.25,
        1.0,
        "weight of Lithuanian troops (assumption)",
    ),
    ("combat.weights.armoured", 1.0, 2.5, "combat power of an armoured soldier (1.5)"),
    ("combat.weights.light", 0.2, 0.8, "combat power of a light-infantry soldier (0.4)"),
    ("combat.attrition.attacker_loss_per_day", 0.015, 0.066, "attacker loss/day (0.035)"),
    ("combat.attrition.defender_loss_per_day", 0.01, 0.035, "defender loss/day (0.019)"),
    ("combat.advance.0.km_per_day", 8, 30, "advance at 3-4.26:1, km/day (16)"),
    ("combat.advance.3.from_ratio", 9, 36, "ratio for a road march (18)"),
    ("countries.latvia.axis_km", 250, 350, "Terehova to Riga, km (300, unverified)"),
    ("denial.lithuania_air.probability", 0, 1, "airlift into Lithuania denied (0.5)"),
    ("denial.klaipeda_sea.probability", 0, 1, "offloading at Klaipeda denied (0.3)"),
    ("movement_control.lithuania.hours", 0, 48, "movement control entering Lithuania (2-6-24 h)"),
    ("marry_up.equipment_share", 0.7, 1.0, "equipment share for combat-ready (0.9)"),
    ("wartime_factor", 0.5, 2.0, "moves after the attack vs the peacetime record (1)"),
    ("network.links.de_pl_rail.channels", 3, 24, "German railhead trains a day (9)"),
]


def sweep(path: str, low: float, high: float, out: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "tripwire",
        "sweep",
        *POSTURES,
        "--vary",
        f"{path}={low},{high}",
        "-n",
        str(REPS),
        "--out",
        str(out),
        "-q",
    ]
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def rows() -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (path, low, high, what) in enumerate(ASSUMPTIONS):
            folder = Path(tmp) / f"s{k}"
            sweep(path, low, high, folder)
            pts = read_table(folder / "points.parquet")
            cmp = read_table(folder / "comparison.parquet")
            for value in (low, high):
                r = {"path": path, "what": what, "value": value}
                for j in range(len(pts["point"])):
                    if float(pts[f"x.{path}"][j]) == float(value):
                        name = str(pts["posture"][j])
                        r[f"med_{name}"] = float(pts["ttr_median_theatre_h"][j])
                        r[f"beat_{name}"] = float(pts["p_beat_fa_theatre"][j])
                        r[f"hold_{name}"] = float(pts["p_hold_theatre"][j])
                for j in range(len(cmp["point"])):
                    if float(cmp[f"x.{path}"][j]) == float(value):
                        b = str(cmp["b"][j])
                        r[f"diff_{b}"] = (
                            float(cmp["ttr_median_diff_theatre_h"][j]),
                            float(cmp["ttr_median_diff_theatre_h_lo"][j]),
                            float(cmp["ttr_median_diff_theatre_h_hi"][j]),
                        )
                        if str(cmp["a"][j]) == "rotational":
                            r[f"hold_diff_{b}"] = (
                                float(cmp["p_hold_diff_theatre"][j]),
                                float(cmp["p_hold_diff_theatre_lo"][j]),
                                float(cmp["p_hold_diff_theatre_hi"][j]),
                            )
                d_perm, d_brig = r["diff_permanent"], r["diff_brigade"]
                r["ordering"] = d_perm[2] < 0 and not d_brig[1] > 0
                r["failure"] = (
                    max(r[f"hold_{n}"] for n in ("rotational", "brigade", "permanent")) < 0.5
                )
                r["bases_help"] = r["hold_diff_permanent"][1] > 0
                out.append(r)
    return out


def fmt_h(v: float) -> str:
    return "> horizon" if math.isnan(v) else f"{v:.0f}"


def table(rs: list[dict]) -> str:
    lines = [
        "| assumption | value | median TTR, h (rot / brig / perm) | P(hold) (rot / brig / perm) "
        "| perm - rot, h [95% CI] | perm - rot, P(hold) points [95% CI] | ordering holds "
        "| failure holds | bases help |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rs:
        d = r["diff_permanent"]
        lines.append(
            f"| `{r['path']}` | {r['value']:g} | "
            + " / ".join(fmt_h(r[f"med_{n}"]) for n in ("rotational", "brigade", "permanent"))
            + " | "
            + " / ".join(
                f"{100 * r[f'hold_{n}']:.0f}%" for n in ("rotational", "brigade", "permanent")
            )
            + f" | {fmt_h(d[0])} [{fmt_h(d[1])}, {fmt_h(d[2])}] | "
            + "{:+.0f} [{:+.0f}, {:+.0f}]".format(*(100 * v for v in r["hold_diff_permanent"]))
            + " | "
            + ("yes" if r["ordering"] else "**no**")
            + " | "
            + ("yes" if r["failure"] else "**no**")
            + " | "
            + ("yes" if r["bases_help"] else "**no**")
            + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(rows()))

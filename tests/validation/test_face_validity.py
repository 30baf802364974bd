"""Face validity (docs/validation.md): the posture ordering survives every assumption at
its low and high value but one; "NATO usually cannot hold" flips with two weeks of warning,
a small Lithuanian threat or full host-nation effectiveness; permanent bases raise P(hold)
except against the largest threat.

Re-run: ``python -m pytest -m validation tests/validation/test_face_validity.py -s``
(``python -m tests.validation.face`` prints the table).
"""

from __future__ import annotations

import pytest

from .face import rows, table

pytestmark = [pytest.mark.validation, pytest.mark.slow]


def test_which_assumption_flips_a_conclusion():
    rs = rows()
    print("\n" + table(rs))
    # the ordering fails only where the rotational posture never reinforces the theatre
    # within the horizon (5 % of the pool): the paired median difference is unbounded
    assert [(r["path"], r["value"]) for r in rs if not r["ordering"]] == [
        ("pool.theatre_share", 0.05)
    ]
    flips = [(r["path"], r["value"]) for r in rs if not r["failure"]]
    assert flips == [
        ("warning.days", 14),
        ("countries.lithuania.threat_troops", 15000),
        ("countries.lithuania.host_nation_effectiveness", 1.0),
    ]
    # permanent bases raise P(hold) except where nothing holds (a threat of 60,000)
    assert [(r["path"], r["value"]) for r in rs if not r["bases_help"]] == [
        ("countries.lithuania.threat_troops", 60000)
    ]

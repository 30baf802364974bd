"""Face validity (docs/validation.md): the posture ordering survives every assumption at
its low and high value; the "NATO usually fails to beat the fait accompli" conclusion
flips only with two weeks of warning.

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
    assert all(r["ordering"] for r in rs)
    flips = [(r["path"], r["value"]) for r in rs if not r["failure"]]
    assert flips == [("warning.days", 14)]

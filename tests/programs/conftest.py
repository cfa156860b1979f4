"""Fixtures of the programme tests."""

from __future__ import annotations

from datetime import date

import pytest

from rhip.programs import enrollment as enrol
from rhip.security.service import system_principal
from tests.programs.support import ON, add_condition


@pytest.fixture
def enrolled(db, county):
    """The small county with 张丽's hypertension (I10 since 2019) and everyone's enrolments as of 1 March 2026."""
    add_condition(db, county.residents["zhang"], "I10", date(2019, 4, 2))
    with db.unit_of_work() as s:
        enrol.recompute(s, system_principal("test"), list(county.residents.values()), on=ON)
    return county

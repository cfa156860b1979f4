"""Helpers shared by the tests of per-person rules (programmes, contracts): a second registration of the small
county's 张丽, and the MPI index that links the two."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from rhip.mpi.bulk import index_registry
from rhip.mpi.models import MpiLink
from rhip.mpi.service import params
from tests.factories import V11, resident_row


def second_registration(db, county) -> int:
    """张丽 registered a second time (a homophone of the name, same birth date and phone) in her village."""
    with db.unit_of_work() as s:
        r = resident_row("张莉", "2", date(1958, 3, 14), V11, 9, phone="13812345678")
        s.add(r)
        s.flush()
        county.residents["zhang2"] = r.id
        return r.id


def index_and_check_linked(db, county) -> None:
    """Index the registry (MPI) and check the two registrations of 张丽 are one person."""
    with db.engine.begin() as conn:
        index_registry(conn, params())
    with db.read_only() as s:
        person = dict(s.execute(select(MpiLink.resident_id, MpiLink.person_id)).all())
    assert person[county.residents["zhang"]] == person[county.residents["zhang2"]]

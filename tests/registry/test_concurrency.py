"""Concurrent writers: every registration succeeds once, with its own health-record number."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy import select

from rhip.kit.pagination import PageRequest
from rhip.registry import service
from rhip.registry.models import Resident
from rhip.security.service import system_principal
from tests.factories import V21


def test_concurrent_registrations_in_one_village(db, county):
    who = system_principal("test")

    def register(i: int) -> int:
        with db.unit_of_work() as s:
            # a search first (read, then audit write), as a user does before registering someone
            service.search_residents(s, who, service.ResidentQuery(village_code=V21), PageRequest(1, 5))
            r = service.create_resident(s, who, {"name": "并发" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯"[i // 10], "sex": "1", "birth_date": date(1990, 1, 1 + i % 28),
                                                  "village_code": V21})
            return r.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(register, range(40)))
    assert len(set(ids)) == 40
    with db.read_only() as s:
        numbers = list(s.scalars(select(Resident.record_no).where(Resident.village_code == V21)))
    assert len(numbers) == len(set(numbers)) == 41


def test_concurrent_households_in_one_village(db, county):
    who = system_principal("test")

    def register(i: int) -> str:
        with db.unit_of_work() as s:
            hh, _ = service.create_household(s, who, {"village_code": V21, "members": [
                {"name": "户主" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯"[i // 10], "sex": "1",
                 "birth_date": date(1970, 1, 1 + i % 28), "relation_to_head": "02"}]})
            return hh.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(register, range(24)))
    assert len(set(codes)) == 24 and all(c.startswith(V21) and len(c) == 17 for c in codes)

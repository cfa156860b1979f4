"""The queries of batch deduplication over the registry (read only: nothing here writes)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rhip.registry.models import Division, Resident
from rhip.registry.repository import scope_filter
from rhip.security.rules import Scope

__all__ = ["count_residents", "resident_pages", "township_names"]

#: Columns read per resident: the valid ID number, else the number as keyed (a mistyped number still
#: carries most of its digits), and the village code standing in for the parsed address.
_COLUMNS = (Resident.id, Resident.name, Resident.id_number, Resident.id_number_raw, Resident.sex,
            Resident.birth_date, Resident.phone, Resident.address, Resident.village_code)


def count_residents(s: Session, scope: Scope) -> int:
    q = select(func.count()).select_from(Resident)
    sf = scope_filter(scope)
    return s.scalar(q if sf is None else q.where(sf))


def resident_pages(s: Session, scope: Scope, *, page: int = 20_000) -> Iterator[list[tuple]]:
    """Every resident in ``scope`` as tuples of ``_COLUMNS``, ``page`` at a time (keyset on id)."""
    sf = scope_filter(scope)
    last = 0
    while True:
        q = select(*_COLUMNS).where(Resident.id > last).order_by(Resident.id).limit(page)
        if sf is not None:
            q = q.where(sf)
        rows = [tuple(r) for r in s.execute(q).all()]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def township_names(s: Session, codes: set[str]) -> dict[str, str]:
    """9-digit township codes → names (the township's division row has the code padded to 12 digits)."""
    if not codes:
        return {}
    full = {c.ljust(12, "0"): c for c in codes}
    rows = s.execute(select(Division.code, Division.name).where(Division.code.in_(list(full)))).all()
    return {full[code]: name for code, name in rows}

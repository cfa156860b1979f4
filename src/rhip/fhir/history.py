"""Storage of superseded resource versions (see docs/decisions/0004-resource-history.md).

The live row of a resource is its current version. Before a row is changed or deleted, the version it holds
is rendered to FHIR JSON (by the type's mapper) and appended to ``resource_history``; a delete also appends a
tombstone (the next version number, no resource). Inserts store nothing here, so bulk loads pay nothing.

Registry writes (``PATCH /api/residents/{id}``) supersede the Patient too: this module registers a hook with
``registry.service`` when it is imported (``fhir.service`` imports it, and the app mounts ``fhir``).
"""

from __future__ import annotations

import functools
from datetime import datetime

import orjson
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rhip.fhir.mappers.patient import PatientMapper
from rhip.fhir.models import ResourceHistory
from rhip.kit import clock
from rhip.kit.errors import PreconditionFailed
from rhip.registry import service as registry_service
from rhip.security.service import Principal

H = ResourceHistory


def supersede(s: Session, who: Principal, rtype: str, resource: dict, *, updated_at: datetime, resident_id: int
              ) -> None:
    """Keep ``resource`` (the version about to be replaced). Two writers replacing the same version: the
    second one fails here (unique version) and gets 412, as with a stale If-Match."""
    version = int(resource["meta"]["versionId"])
    _append(s, rtype, int(resource["id"]), version, {
        "last_updated": updated_at, "method": "POST" if version == 1 else "PUT", "resident_id": resident_id,
        "resource": orjson.dumps(resource).decode(), "recorded_by": who.username})


_CHECKED = "rhip.history.ids_checked"


def forget_id_check(s: Session, rtype: str) -> None:
    """After a delete, the next new row of that type must be checked again (see ``first_free_id``)."""
    s.info.get(_CHECKED, (None, set()))[1].discard(rtype)


def tombstone(s: Session, who: Principal, rtype: str, rid: int, version: int, *, resident_id: int) -> datetime:
    """Record a delete as version ``version`` (one more than the deleted one). Returns its time."""
    now = clock.now()
    forget_id_check(s, rtype)
    _append(s, rtype, rid, version, {"last_updated": now, "method": "DELETE", "resident_id": resident_id,
                                     "resource": None, "recorded_by": who.username})
    return now


def _append(s: Session, rtype: str, rid: int, version: int, values: dict) -> None:
    try:
        with s.begin_nested():
            s.execute(insert(H).values(resource_type=rtype, resource_id=rid, version_id=version,
                                       recorded_at=clock.now(), **values))
    except IntegrityError:
        raise PreconditionFailed(version + 1) from None


def tombstone_of(s: Session, rtype: str, rid: int) -> ResourceHistory | None:
    return s.scalar(select(H).where(H.resource_type == rtype, H.resource_id == rid, H.method == "DELETE")
                    .order_by(H.version_id.desc()).limit(1))


def version(s: Session, rtype: str, rid: int, vid: int) -> ResourceHistory | None:
    return s.scalar(select(H).where(H.resource_type == rtype, H.resource_id == rid, H.version_id == vid))


def versions(s: Session, rtype: str, rid: int, *, offset: int, limit: int, since: datetime | None = None
             ) -> tuple[list[ResourceHistory], int]:
    """Stored versions (made at or after ``since``, when given), newest first, and how many there are."""
    where = (H.resource_type == rtype, H.resource_id == rid) + ((H.last_updated >= since,) if since else ())
    total = s.scalar(select(func.count()).select_from(H).where(*where))
    rows = list(s.scalars(select(H).where(*where).order_by(H.version_id.desc()).offset(offset).limit(limit)))
    return rows, total


_MAX_DELETED = select(func.max(H.resource_id)).where(H.resource_type == bindparam("rtype"))


@functools.cache
def _max_id(model):
    return select(func.max(model.id))


def first_free_id(s: Session, rtype: str, model) -> int | None:
    """SQLite gives a new row max(id) + 1, so a new record could take the id of a deleted one (whose history
    and tombstone remain). Returns the id to use instead when that could happen, else None. PostgreSQL
    sequences never reuse ids."""
    if s.get_bind().dialect.name != "sqlite":
        return None
    tx, checked = s.info.get(_CHECKED, (None, set()))
    if tx is not s.get_transaction():
        checked = set()
        s.info[_CHECKED] = (s.get_transaction(), checked)
    if rtype in checked:  # once per transaction: after one new row, max(id) is past every deleted id
        return None
    checked.add(rtype)
    deleted = s.scalar(_MAX_DELETED, {"rtype": rtype})
    if deleted is None:
        return None
    live = s.scalar(_max_id(model)) or 0
    return deleted + 1 if deleted >= live else None


def as_resource(row: ResourceHistory) -> dict | None:
    return orjson.loads(row.resource) if row.resource is not None else None


def _patient_superseded(s: Session, who: Principal, resident) -> None:
    supersede(s, who, "Patient", PatientMapper.to_fhir(resident), updated_at=resident.updated_at,
              resident_id=resident.id)


if _patient_superseded not in registry_service.BEFORE_RESIDENT_UPDATE:
    registry_service.BEFORE_RESIDENT_UPDATE.append(_patient_superseded)

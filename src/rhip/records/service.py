"""Record use cases: create-or-update by source, read, search. Scope and audit are the patient's:
a record can be written or read only by someone whose scope covers the resident it belongs to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rhip.kit import clock
from rhip.kit.errors import FieldError, NotFound, OutOfScope, ValidationFailed
from rhip.kit.pagination import Page, PageRequest
from rhip.records import repository as repo
from rhip.records.rules import validate_against_birth, validate_record
from rhip.registry import repository as registry_repo
from rhip.registry.models import Organization, Practitioner
from rhip.security.service import Principal, audit


def _resident_in_scope(s: Session, who: Principal, resident_id: int, action: str, field: str):
    r = registry_repo.get_resident(s, resident_id)
    if r is None:
        raise ValidationFailed([FieldError(field, "reference.unknown", f"居民{resident_id}不存在",
                                           f"Patient/{resident_id} does not exist")])
    if not who.scope.covers(r.village_code):
        raise OutOfScope(resident_id, action=action, resident_ids=[resident_id])
    return r


def upsert(s: Session, who: Principal, resource_type: str, fields: dict, components: list[dict] | None = None
           ) -> tuple[object, bool]:
    """Create the record, or update the one with the same (source system, source id). Returns (row, created)."""
    who.require("resident.write")
    model = repo.MODELS[resource_type]
    action = f"{resource_type.lower()}.write"
    resident = _resident_in_scope(s, who, fields["resident_id"], action, "subject")
    errors = validate_record(resource_type, fields, components or [])
    errors += validate_against_birth(resource_type, fields, resident.birth_date)
    if fields.get("encounter_id") is not None:
        enc = repo.get(s, repo.MODELS["Encounter"], fields["encounter_id"])
        if enc is None or enc.resident_id != fields["resident_id"]:
            errors.append(FieldError("encounter", "reference.unknown",
                                     f"就诊记录{fields['encounter_id']}不存在或不属于该居民",
                                     f"Encounter/{fields['encounter_id']} does not exist or belongs to another "
                                     f"patient"))
    if fields.get("result_ids"):  # DiagnosticReport.result: Observations of the same patient
        owners = repo.observation_owners(s, fields["result_ids"])
        errors += [FieldError(f"DiagnosticReport.result[{i}]", "reference.unknown",
                              f"检验/检查结果{oid}不存在或不属于该居民",
                              f"Observation/{oid} does not exist or belongs to another patient")
                   for i, oid in enumerate(fields["result_ids"]) if owners.get(oid) != fields["resident_id"]]
    if fields.get("org_id") is not None and s.get(Organization, fields["org_id"]) is None:
        errors.append(FieldError("organization", "reference.unknown", f"机构{fields['org_id']}不存在",
                                 f"Organization/{fields['org_id']} does not exist"))
    if fields.get("practitioner_id") is not None and s.get(Practitioner, fields["practitioner_id"]) is None:
        errors.append(FieldError("practitioner", "reference.unknown", f"医务人员{fields['practitioner_id']}不存在",
                                 f"Practitioner/{fields['practitioner_id']} does not exist"))
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    row = repo.by_source(s, model, fields["source_system"], fields["source_id"])
    created = row is None
    if created:
        row = model(**fields, version=1, created_at=now, updated_at=now)
        s.add(row)
    else:
        if row.resident_id != fields["resident_id"]:
            raise ValidationFailed([FieldError("identifier", "source.other_patient",
                                               "该来源记录已属于另一居民", "this source record belongs to another "
                                                                           "patient; it cannot be moved")])
        for k, v in fields.items():
            setattr(row, k, v)
        row.version += 1
        row.updated_at = now
    s.flush()
    if components is not None and resource_type == "Observation":
        repo.replace_components(s, row.id, components)
        s.flush()
    audit(s, who, f"{resource_type.lower()}.{'create' if created else 'update'}", resident_ids=[row.resident_id],
          detail={"id": row.id, "source": f"{row.source_system}|{row.source_id}"})
    return row, created


def get(s: Session, who: Principal, resource_type: str, rid: int):
    who.require("resident.read")
    row = repo.get(s, repo.MODELS[resource_type], rid)
    if row is None:
        raise NotFound(resource_type, resource_type, rid)
    r = registry_repo.get_resident(s, row.resident_id)
    if not who.scope.covers(r.village_code):
        raise OutOfScope(rid, action=f"{resource_type.lower()}.read", resident_ids=[row.resident_id])
    audit(s, who, f"{resource_type.lower()}.read", resident_ids=[row.resident_id], detail={"id": rid})
    return row


def search(s: Session, who: Principal, resource_type: str, f: repo.RecordFilter, page: PageRequest) -> Page:
    who.require("resident.read")
    rows, total = repo.search(s, resource_type, f, who.scope, offset=page.offset, limit=page.page_size)
    audit(s, who, f"{resource_type.lower()}.search", resident_ids=[r.resident_id for r in rows],
          detail={"count": len(rows), "total": total})
    return Page(rows, total, page.page, page.page_size)


def search_keyset(s: Session, who: Principal, resource_type: str, f: repo.RecordFilter, count: int, *,
                  after: tuple | None = None, before: tuple | None = None) -> tuple[list, int, bool]:
    """One page of at most ``count`` rows after (or before) a cursor, the total, and whether more rows lie in
    that direction. Only the rows returned are audited."""
    who.require("resident.read")
    rows, total = repo.search(s, resource_type, f, who.scope, offset=0, limit=count + 1, after=after,
                              before=before)
    more = len(rows) > count
    if more:
        rows = rows[1:] if before is not None else rows[:count]
    audit(s, who, f"{resource_type.lower()}.search", resident_ids=[r.resident_id for r in rows],
          detail={"count": len(rows), "total": total})
    return rows, total, more


def everything(s: Session, who: Principal, resident_id: int, limit: int) -> dict[str, list]:
    """Every record of one resident, by type (newest first), at most ``limit + 1`` rows per type (the caller
    refuses more than ``limit``). One audit event for all of them, against the resident, with the count of each
    type: $everything reads one person's whole record, and the trail says so in one line."""
    who.require("resident.read")
    r = registry_repo.get_resident(s, resident_id)
    if r is None:
        raise NotFound("居民", "resident", resident_id)
    if not who.scope.covers(r.village_code):
        raise OutOfScope(resident_id, action="resident.everything", resident_ids=[resident_id])
    f = repo.RecordFilter(resident_id=resident_id)
    out = {rtype: repo.search(s, rtype, f, who.scope, offset=0, limit=limit + 1)[0] for rtype in repo.MODELS}
    audit(s, who, "resident.everything", resident_ids=[resident_id],
          detail={rtype: len(rows) for rtype, rows in out.items() if rows})
    return out

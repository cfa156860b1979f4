"""Record use cases: create-or-update by source, read, search. Scope and audit are the patient's:
a record can be written or read only by someone whose scope covers the resident it belongs to."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from rhip.kit import clock, events
from rhip.kit.errors import Conflict, FieldError, NotFound, OutOfScope, PreconditionFailed, ValidationFailed
from rhip.kit.pagination import Page, PageRequest
from rhip.records import repository as repo
from rhip.records.rules import validate_against_birth, validate_record
from rhip.registry import repository as registry_repo
from rhip.registry.models import Organization, Practitioner
from rhip.security.service import Principal, audit

# Types whose new rows are inserted with one direct INSERT … RETURNING (no ORM unit of work); a
# DiagnosticReport goes through the ORM for its ordered result rows.
DIRECT_INSERT = {"Encounter", "Condition", "Observation", "Immunization", "AllergyIntolerance",
                 "MedicationRequest", "MedicationStatement", "DocumentReference"}


def _resident_in_scope(s: Session, who: Principal, resident_id: int, action: str, field: str):
    cache = s.info.get(_CACHE)
    r = cache.residents.get(resident_id) if cache is not None else None
    if r is None:
        r = registry_repo.get_resident(s, resident_id)
        if r is not None and cache is not None:
            cache.residents[resident_id] = r
    if r is None:
        raise ValidationFailed([FieldError(field, "reference.unknown", f"居民{resident_id}不存在",
                                           f"Patient/{resident_id} does not exist")])
    if not who.scope.covers(r.village_code):
        raise OutOfScope(resident_id, action=action, resident_ids=[resident_id])
    return r


_CACHE = "rhip.records.write_cache"


@dataclass(slots=True)
class _WriteCache:
    """Lookups a run of writes repeats (see ``bulk_writes``)."""

    known: set = field(default_factory=set)  # ("org", id) / ("practitioner", id) known to exist
    residents: dict = field(default_factory=dict)  # id → Resident (held: the session's identity map is weak)
    encounters: dict = field(default_factory=dict)  # encounter id → its resident
    sources: dict = field(default_factory=dict)  # (type, source system, source id) → row id, or None if absent
    postgresql: bool = False
    ids: dict = field(default_factory=dict)  # model → ids taken from its sequence, not used yet (PostgreSQL)
    next_id: dict = field(default_factory=dict)  # model → the id its next row gets (SQLite, see _take_id)
    pending: dict = field(default_factory=dict)  # model → rows (dicts) to insert
    components: list = field(default_factory=list)  # observation components to insert


@contextmanager
def bulk_writes(s: Session):
    """Within the block — one transaction writing many records, e.g. a FHIR transaction Bundle — the lookups
    that repeat (organizations, practitioners, encounters, rows by source identifier) are cached, and
    ``prefetch_sources`` can look up many source identifiers in one query.

    New records are inserted together (one multi-row INSERT per table) when the block ends or before
    anything else reads — call ``flush_pending`` before work other than creating records — with ids known in
    advance (see ``_take_id``). A failing block inserts nothing."""
    if _CACHE in s.info:
        yield
        return
    s.info[_CACHE] = _WriteCache(postgresql=s.get_bind().dialect.name == "postgresql")
    try:
        yield
        flush_pending(s)
    finally:
        s.info.pop(_CACHE, None)


def flush_pending(s: Session) -> None:
    """Insert the records waiting in ``bulk_writes`` (encounters first: the others may refer to them)."""
    cache = s.info.get(_CACHE)
    if cache is None or not (cache.pending or cache.components):
        return
    for model in sorted(cache.pending, key=lambda m: m is not repo.MODELS["Encounter"]):
        repo.insert_rows(s, model, cache.pending[model])
    if cache.components:
        repo.insert_component_rows(s, cache.components)
    cache.pending.clear()
    cache.components = []


def _take_id(s: Session, cache: _WriteCache, model) -> int | None:
    """The id of a new row that will be inserted later. PostgreSQL: from the table's sequence, taken in
    blocks. SQLite: None for the first new row of a table in the block (insert it now: SQLite gives it
    max(id) + 1), then one more each time — after that first insert this transaction holds SQLite's write
    lock, so no one else can take those ids."""
    if cache.postgresql:
        free = cache.ids.get(model)
        if not free:
            free = cache.ids[model] = repo.next_ids(s, model, 64)
        return free.pop()
    nid = cache.next_id.get(model)
    if nid is not None:
        cache.next_id[model] = nid + 1
    return nid


def remember_resident(s: Session, resident) -> None:
    """Inside ``bulk_writes``: a resident just created, whom the records that follow will refer to."""
    cache = s.info.get(_CACHE)
    if cache is not None:
        cache.residents[resident.id] = resident


def prefetch_sources(s: Session, resource_type: str, keys: list[tuple[str, str]]) -> None:
    """Inside ``bulk_writes``: find the rows of many (source system, source id) at once."""
    cache = s.info.get(_CACHE)
    if cache is None or not keys:
        return
    found = repo.ids_by_source(s, repo.MODELS[resource_type], keys)
    for k in keys:
        cache.sources[(resource_type, *k)] = found.get(k)


def _exists(s: Session, cache: _WriteCache | None, kind: str, model, rid: int) -> bool:
    if cache is not None and (kind, rid) in cache.known:
        return True
    ok = s.get(model, rid) is not None
    if ok and cache is not None:
        cache.known.add((kind, rid))
    return ok


def _encounter_owner(s: Session, cache: _WriteCache | None, eid: int) -> int | None:
    if cache is not None and eid in cache.encounters:
        return cache.encounters[eid]
    enc = repo.get(s, repo.MODELS["Encounter"], eid)
    if enc is not None and cache is not None:
        cache.encounters[eid] = enc.resident_id
    return enc.resident_id if enc is not None else None


def _by_source(s: Session, cache: _WriteCache | None, resource_type: str, model, fields: dict):
    key = (resource_type, fields["source_system"], fields["source_id"])
    if cache is not None and key in cache.sources:
        rid = cache.sources[key]
        if rid is None:
            return None
        flush_pending(s)  # the row may have been created earlier in this block and still be waiting
        return repo.get(s, model, rid)
    return repo.by_source(s, model, fields["source_system"], fields["source_id"])


def upsert(s: Session, who: Principal, resource_type: str, fields: dict, components: list[dict] | None = None, *,
           before_change: Callable[[object], None] | None = None, expected_version: int | None = None,
           new_id: Callable[[], int | None] | None = None) -> tuple[object, bool]:
    """Create the record, or update the one with the same (source system, source id). Returns (row, created);
    a created row is not attached to the session (it was inserted directly; read it again to change it).

    ``before_change(row)`` runs on an existing row before it is changed (the FHIR layer keeps the superseded
    version); ``expected_version`` (If-Match) refuses the update when the row has moved on; ``new_id()`` may
    name the id of a new row (else the database assigns it)."""
    who.require("resident.write")
    cache = s.info.get(_CACHE)
    if resource_type not in DIRECT_INSERT:
        flush_pending(s)  # e.g. a DiagnosticReport checks its result Observations in the table
    model = repo.MODELS[resource_type]
    action = f"{resource_type.lower()}.write"
    resident = _resident_in_scope(s, who, fields["resident_id"], action, "subject")
    errors = validate_record(resource_type, fields, components or [])
    errors += validate_against_birth(resource_type, fields, resident.birth_date)
    if fields.get("encounter_id") is not None:
        if _encounter_owner(s, cache, fields["encounter_id"]) != fields["resident_id"]:
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
    if fields.get("org_id") is not None and not _exists(s, cache, "org", Organization, fields["org_id"]):
        errors.append(FieldError("organization", "reference.unknown", f"机构{fields['org_id']}不存在",
                                 f"Organization/{fields['org_id']} does not exist"))
    if fields.get("practitioner_id") is not None and not _exists(s, cache, "practitioner", Practitioner,
                                                                 fields["practitioner_id"]):
        errors.append(FieldError("practitioner", "reference.unknown", f"医务人员{fields['practitioner_id']}不存在",
                                 f"Practitioner/{fields['practitioner_id']} does not exist"))
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    row = _by_source(s, cache, resource_type, model, fields)
    created = row is None
    if created and resource_type in DIRECT_INSERT:
        values = {**fields, "version": 1, "created_at": now, "updated_at": now}
        if new_id is not None and (nid := new_id()) is not None:
            values["id"] = nid
        if cache is not None:
            nid = _take_id(s, cache, model) if "id" not in values else None
            if nid is None:  # SQLite: the first new row of this table in the block goes in now
                values["id"] = repo.insert_row(s, model, values)
                cache.next_id[model] = values["id"] + 1
                row = repo.stored_row(model, values)
            else:
                values["id"] = nid
                row = repo.stored_row(model, values)
                cache.pending.setdefault(model, []).append(vars(row))
            if components and resource_type == "Observation":
                cache.components += repo.component_rows(row.id, components)
        else:
            values["id"] = repo.insert_row(s, model, values)
            row = repo.stored_row(model, values)  # what was stored, for the caller to render
            if components and resource_type == "Observation":
                repo.insert_components(s, row.id, components)
    elif created:
        row = model(**fields, version=1, created_at=now, updated_at=now)
        if new_id is not None and (nid := new_id()) is not None:
            row.id = nid
        s.add(row)
        s.flush()
    else:
        flush_pending(s)
        if row.resident_id != fields["resident_id"]:
            raise ValidationFailed([FieldError("identifier", "source.other_patient",
                                               "该来源记录已属于另一居民", "this source record belongs to another "
                                                                           "patient; it cannot be moved")])
        if expected_version is not None and expected_version != row.version:
            raise PreconditionFailed(row.version)
        if before_change is not None:
            before_change(row)
        for k, v in fields.items():
            setattr(row, k, v)
        row.version += 1
        row.updated_at = now
        s.flush()
        if components is not None and resource_type == "Observation":
            repo.replace_components(s, row.id, components)
            s.flush()
    if cache is not None:
        cache.sources[(resource_type, row.source_system, row.source_id)] = row.id
        if resource_type == "Encounter":
            cache.encounters[row.id] = row.resident_id
    audit(s, who, f"{resource_type.lower()}.{'create' if created else 'update'}", resident_ids=[row.resident_id],
          detail={"id": row.id, "source": f"{row.source_system}|{row.source_id}"})
    if resource_type == "Condition":  # a diagnosis may enrol the resident in a programme (or end one)
        events.publish(s, who, events.FACTS_CHANGED, resident_ids=[row.resident_id])
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


def delete(s: Session, who: Principal, resource_type: str, rid: int, *,
           before_delete: Callable[[object], None] | None = None, expected_version: int | None = None) -> object:
    """Delete a record nothing else refers to (an Encounter with its Conditions or Observations, an Observation
    that is a DiagnosticReport's result, … is refused with 409 naming them). Its own parts (an Observation's
    components, a report's result list) go with it. ``before_delete(row)`` keeps what is deleted."""
    who.require("resident.write")
    row = repo.get(s, repo.MODELS[resource_type], rid)
    if row is None:
        raise NotFound(resource_type, resource_type, rid)
    _resident_in_scope(s, who, row.resident_id, f"{resource_type.lower()}.delete", "subject")
    if expected_version is not None and expected_version != row.version:
        raise PreconditionFailed(row.version)
    refs = repo.referenced_by(s, repo.MODELS[resource_type].__table__, rid)
    if refs:
        names = "; ".join(", ".join(ids) + (" …" if more else "") for _, ids, more in refs)
        raise Conflict("record.referenced", f"{resource_type}/{rid}仍被其他记录引用，不能删除：{names}",
                       f"{resource_type}/{rid} is still referenced and cannot be deleted: {names}")
    if before_delete is not None:
        before_delete(row)
    s.delete(row)
    s.flush()
    audit(s, who, f"{resource_type.lower()}.delete", resident_ids=[row.resident_id],
          detail={"id": rid, "source": f"{row.source_system}|{row.source_id}", "version": row.version})
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


def everything(s: Session, who: Principal, resident_id: int, limit: int):
    """The resident and every record of theirs: (resident, type → (rows newest first, their parts by record id),
    see ``repository.everything_rows``), at most ``limit + 1`` rows per type (the caller refuses more than
    ``limit``). One audit event for the whole read, against the resident, with the count of each type:
    $everything reads one person's whole record, and the trail says so in one line."""
    who.require("resident.read")
    r = registry_repo.get_resident(s, resident_id)
    if r is None:
        raise NotFound("居民", "resident", resident_id)
    if not who.scope.covers(r.village_code):
        raise OutOfScope(resident_id, action="resident.everything", resident_ids=[resident_id])
    out = repo.everything_rows(s, resident_id, limit + 1)
    audit(s, who, "resident.everything", resident_ids=[resident_id],
          detail={rtype: len(rows) for rtype, (rows, _) in out.items() if rows})
    return r, out

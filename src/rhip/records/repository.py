"""All record queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from types import SimpleNamespace

from sqlalchemy import Date, and_, bindparam, func, literal, or_, select, text
from sqlalchemy.orm import Session

from rhip.records.models import Condition, Encounter, Observation, ObservationComponent
from rhip.records.models_immunization import AllergyIntolerance, Immunization
from rhip.records.models_medication import MedicationRequest, MedicationStatement
from rhip.records.models_reports import DiagnosticReport, DiagnosticReportResult, DocumentReference
from rhip.registry.models import Resident
from rhip.registry.repository import scope_filter
from rhip.security.rules import Scope

MODELS = {"Encounter": Encounter, "Condition": Condition, "Observation": Observation, "Immunization": Immunization,
          "AllergyIntolerance": AllergyIntolerance, "MedicationRequest": MedicationRequest,
          "MedicationStatement": MedicationStatement, "DiagnosticReport": DiagnosticReport,
          "DocumentReference": DocumentReference}
TIME_COLUMN = {"Encounter": Encounter.period_start, "Condition": Condition.recorded_date,
               "Observation": Observation.effective_at, "Immunization": Immunization.occurrence_date,
               "AllergyIntolerance": AllergyIntolerance.recorded_date,
               "MedicationRequest": MedicationRequest.authored_on,
               "MedicationStatement": MedicationStatement.effective_start,
               "DiagnosticReport": DiagnosticReport.effective_at, "DocumentReference": DocumentReference.date}
# the columns a code search (code, vaccine-code, DocumentReference type) looks at, where not code / code_system
CODE_COLUMNS = {"Immunization": ("vaccine_code", "vaccine_system"), "DocumentReference": ("type_code", "type_system")}
DATE_TYPES = {"Condition", "Immunization", "AllergyIntolerance", "MedicationStatement"}  # their time column is a date, not a datetime


def by_source(s: Session, model, source_system: str, source_id: str):
    return s.scalar(select(model).where(model.source_system == source_system, model.source_id == source_id))


def referenced_by(s: Session, table, rid: int, limit: int = 10) -> list[tuple[str, list[str], bool]]:
    """What refers to row ``rid`` of ``table``, from the foreign keys the schema declares: [(kind, ids, more)].
    A record is named as ``Type/id`` (a link table such as a report's result list names the record that owns
    it); parts deleted with their owner (``ON DELETE CASCADE``) do not count."""
    from rhip.kit.db import Base

    types = {m.__tablename__: t for t, m in MODELS.items()}
    out = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or fk.ondelete == "CASCADE":
                continue
            owner_col, kind = None, other.name
            if other.name in types:
                owner_col, kind = other.c.id, types[other.name]
            else:
                for ofk in other.foreign_keys:
                    if ofk.column.table.name in types and ofk.ondelete == "CASCADE":
                        owner_col, kind = ofk.parent, types[ofk.column.table.name]
            if owner_col is None:
                n = s.scalar(select(func.count()).select_from(other).where(fk.parent == rid))
                if n:
                    out.append((kind, [f"{n} row(s) of {kind}"], False))
                continue
            ids = s.scalars(select(owner_col).where(fk.parent == rid).distinct().order_by(owner_col)
                            .limit(limit + 1)).all()
            if ids:
                out.append((kind, [f"{kind}/{i}" for i in ids[:limit]], len(ids) > limit))
    return out


@cache
def _ids_by_source_statement(model):
    return select(model.id, model.source_id).where(model.source_system == bindparam("system"),
                                                   model.source_id.in_(bindparam("sids", expanding=True)))


def ids_by_source(s: Session, model, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(source system, source id) → row id, for the keys that exist."""
    out: dict[tuple[str, str], int] = {}
    by_system: dict[str, list[str]] = {}
    for system, sid in keys:
        by_system.setdefault(system, []).append(sid)
    for system, sids in by_system.items():
        for i in range(0, len(sids), 500):
            for rid, sid in s.execute(_ids_by_source_statement(model), {"system": system, "sids": sids[i:i + 500]}):
                out[(system, sid)] = rid
    return out


@cache
def _insert_returning_id(model, columns: frozenset):
    table = model.__table__
    return table.insert().returning(table.c.id)


def insert_row(s: Session, model, values: dict) -> int:
    """One INSERT … RETURNING id, the statement built once per column set and the values bound as parameters
    (no ORM unit of work, no per-call statement construction)."""
    return s.execute(_insert_returning_id(model, frozenset(values)), values).scalar_one()


@cache
def _blank(model) -> dict:
    return {c.key: None for c in model.__table__.columns}


def stored_row(model, values: dict) -> SimpleNamespace:
    """A plain read-only stand-in for a row just inserted (every column, unset ones None): renders like the row
    without the cost of an ORM instance."""
    return SimpleNamespace(**{**_blank(model), **values})


_COMPONENT_INSERT = ObservationComponent.__table__.insert()


def component_rows(observation_id: int, comps: list[dict]) -> list[dict]:
    return [{**_blank(ObservationComponent), "observation_id": observation_id, "seq": i + 1, **c}
            for i, c in enumerate(comps)]


def insert_components(s: Session, observation_id: int, comps: list[dict]) -> None:
    s.execute(_COMPONENT_INSERT, component_rows(observation_id, comps))


def insert_component_rows(s: Session, rows: list[dict]) -> None:
    s.execute(_COMPONENT_INSERT, rows)


def insert_rows(s: Session, model, rows: list[dict]) -> None:
    """Many rows with every column given (ids included) in one executemany (a multi-row INSERT)."""
    s.execute(model.__table__.insert(), rows)


def next_ids(s: Session, model, n: int) -> list[int]:
    """``n`` ids from the table's sequence (PostgreSQL), in one round trip; returned last-first for pop()."""
    table = model.__tablename__
    ids = s.scalars(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
                    {"n": n}).all()
    return sorted(ids, reverse=True)


def get(s: Session, model, rid: int):
    return s.get(model, rid)


_C = ObservationComponent
# Plain rows, not ORM objects: read-only output, and the cheaper load matters on every Observation search.
_COMPONENTS = (select(_C.observation_id, _C.seq, _C.code_system, _C.code, _C.display, _C.value, _C.unit)
               .order_by(_C.observation_id, _C.seq))


def components(s: Session, observation_ids: list[int]) -> dict[int, list]:
    """Observation id → its components in order (rows with the component's columns as attributes)."""
    out: dict[int, list] = {}
    if observation_ids:
        for c in s.execute(_COMPONENTS.where(_C.observation_id.in_(observation_ids))):
            out.setdefault(c.observation_id, []).append(c)
    return out


def observation_owners(s: Session, observation_ids: list[int]) -> dict[int, int]:
    """Observation id → the resident it belongs to (absent when the observation does not exist)."""
    return dict(s.execute(select(Observation.id, Observation.resident_id)
                          .where(Observation.id.in_(set(observation_ids)))).all())


def replace_components(s: Session, observation_id: int, comps: list[dict]) -> None:
    for old in s.scalars(select(ObservationComponent).where(ObservationComponent.observation_id == observation_id)):
        s.delete(old)
    s.flush()
    for i, c in enumerate(comps):
        s.add(ObservationComponent(observation_id=observation_id, seq=i + 1, **c))


@dataclass(slots=True)
class RecordFilter:
    resident_id: int | None = None
    encounter_id: int | None = None
    code_system: str | None = None
    codes: list[str] = field(default_factory=list)
    time_from: datetime | None = None
    time_to: datetime | None = None  # exclusive
    category: str | None = None
    status: str | None = None
    intent: str | None = None  # MedicationRequest
    updated_from: datetime | None = None  # _lastUpdated
    updated_to: datetime | None = None  # exclusive
    sort_by_updated: bool = False  # _sort=_lastUpdated (else the clinical time)
    ascending: bool = False


NO_DATE = date(1, 1, 1)  # where a record has no date (Condition, AllergyIntolerance): sorts as the oldest


def sort_key(resource_type: str, f: RecordFilter):
    """What a search is ordered by (then id): the clinical time, or updated_at for _sort=_lastUpdated. An empty
    date counts as ``NO_DATE``, so that both engines order such rows alike (last when newest first) and keyset
    paging has a value on every row."""
    model = MODELS[resource_type]
    col = model.updated_at if f.sort_by_updated else TIME_COLUMN[resource_type]
    return func.coalesce(col, literal(NO_DATE, Date)) if col.nullable else col


def sort_value(resource_type: str, f: RecordFilter, row):
    """The sort value of a row (what ``sort_key`` computes in SQL)."""
    value = row.updated_at if f.sort_by_updated else getattr(row, TIME_COLUMN[resource_type].key)
    return NO_DATE if value is None else value


def search(s: Session, resource_type: str, f: RecordFilter, scope: Scope, *, offset: int, limit: int,
           after: tuple | None = None, before: tuple | None = None) -> tuple[list, int]:
    """Rows and the total count. ``after``/``before`` = (sort value, id) of a row: keyset paging, which stays
    stable while rows are added (``offset`` is then ignored)."""
    model = MODELS[resource_type]
    c = []
    sf = scope_filter(scope)
    if sf is not None:
        c.append(model.resident_id.in_(select(Resident.id).where(sf)))
    if f.resident_id is not None:
        c.append(model.resident_id == f.resident_id)
    if f.encounter_id is not None and hasattr(model, "encounter_id"):
        c.append(model.encounter_id == f.encounter_id)
    if f.codes:
        code_col, system_col = CODE_COLUMNS.get(resource_type, ("code", "code_system"))
        c.append(getattr(model, code_col).in_(f.codes))
        if f.code_system:
            c.append(getattr(model, system_col) == f.code_system)
    tcol = TIME_COLUMN[resource_type]
    on_date = resource_type in DATE_TYPES
    if f.time_from is not None:
        c.append(tcol >= (f.time_from.date() if on_date else f.time_from))
    if f.time_to is not None:
        c.append(tcol < (f.time_to.date() if on_date else f.time_to))
    if f.category and hasattr(model, "category"):
        c.append(model.category == f.category)
    if f.status:
        status_col = model.clinical_status if resource_type in ("Condition", "AllergyIntolerance") else model.status
        c.append(status_col == f.status)
    if f.intent and hasattr(model, "intent"):
        c.append(model.intent == f.intent)
    if f.updated_from is not None:
        c.append(model.updated_at >= f.updated_from)
    if f.updated_to is not None:
        c.append(model.updated_at < f.updated_to)
    if limit == 0:  # a count only (_summary=count)
        return [], s.scalar(select(func.count()).select_from(model).where(*c))
    key = sort_key(resource_type, f)
    cursor = after if after is not None else before
    if cursor is not None:
        value, last_id = cursor
        descending = f.ascending if before is not None else not f.ascending
        beyond = (or_(key < value, and_(key == value, model.id < last_id)) if descending
                  else or_(key > value, and_(key == value, model.id > last_id)))
        order = (key.desc(), model.id.desc()) if descending else (key.asc(), model.id.asc())
        rows = list(s.scalars(select(model).where(*c, beyond).order_by(*order).limit(limit)))
        if before is not None:
            rows.reverse()
        return rows, s.scalar(select(func.count()).select_from(model).where(*c))
    order = (key.asc(), model.id.asc()) if f.ascending else (key.desc(), model.id.desc())
    rows = s.scalars(select(model).where(*c).order_by(*order).offset(offset).limit(limit)).all()
    total = len(rows) if offset == 0 and len(rows) < limit else s.scalar(select(func.count()).select_from(model)
                                                                        .where(*c))
    return list(rows), total


def by_condition(s: Session, resource_type: str, conditions: list, scope: Scope, *, limit: int) -> list:
    """Rows of one type matching ``conditions`` within ``scope``, by id (for _include/_revinclude)."""
    model = MODELS[resource_type]
    c = list(conditions)
    sf = scope_filter(scope)
    if sf is not None:
        c.append(model.resident_id.in_(select(Resident.id).where(sf)))
    return list(s.scalars(select(model).where(*c).order_by(model.id).limit(limit)))


def by_ids(s: Session, resource_type: str, ids: list[int], scope: Scope) -> list:
    if not ids:
        return []
    return by_condition(s, resource_type, [MODELS[resource_type].id.in_(ids)], scope, limit=len(ids))


_R = DiagnosticReportResult


def everything_rows(s: Session, resident_id: int, limit: int) -> dict[str, tuple[list, dict[int, list]]]:
    """Every record of one resident for $everything: type → (rows newest first, at most ``limit`` of them; the
    rows' parts by record id: Observation components, DiagnosticReport result Observation ids).

    Plain rows (the table's columns as attributes), not ORM objects: the output is read-only, and building and
    tracking a few hundred ORM instances cost more than the queries. One query per type, one for each kind of
    part (by the records' ids: a join by resident let PostgreSQL choose a scan of the whole parts table)."""
    out: dict[str, tuple[list, dict[int, list]]] = {}
    for rtype, model in MODELS.items():
        key = sort_key(rtype, RecordFilter())
        rows = s.execute(select(*model.__table__.c).where(model.resident_id == resident_id)
                         .order_by(key.desc(), model.id.desc()).limit(limit)).all()
        out[rtype] = (rows, {})
    if obs := [r.id for r in out["Observation"][0]]:  # by the ids just read: the primary keys' indexes
        out["Observation"][1].update(components(s, obs))
    if reports := [r.id for r in out["DiagnosticReport"][0]]:
        parts = out["DiagnosticReport"][1]
        for report_id, oid in s.execute(select(_R.report_id, _R.observation_id).where(_R.report_id.in_(reports))
                                        .order_by(_R.report_id, _R.seq)):
            parts.setdefault(report_id, []).append(oid)
    return out

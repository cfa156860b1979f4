"""Registry use cases. Each runs in the caller's transaction (never commits) and audits what it touches."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from rhip.kit import clock, events
from rhip.kit.errors import FieldError, NotFound, OutOfScope, PreconditionFailed, ValidationFailed
from rhip.kit.idcard import SEX_LABELS, check_id_number, normalize
from rhip.kit.pagination import Page, PageRequest
from rhip.registry import repository as repo
from rhip.registry.models import Household, Resident
from rhip.registry.rules import (
    STATUSES, birth_range_for_tag, derived_tags, normalize_name, normalize_phone, household_code, record_number, validate_resident,
)
from rhip.security.service import Principal, audit


def today() -> date:
    return clock.now().date()


@dataclass(slots=True)
class ResidentQuery:
    q: str | None = None
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    household_id: int | None = None
    village_code: str | None = None
    record_no: str | None = None
    status: str | None = None
    sex: str | None = None
    tag: str | None = None
    birth_from: date | None = None
    birth_to: date | None = None
    resident_id: int | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    sort: str = "name"


def _filter_from(query: ResidentQuery, on: date) -> tuple[repo.ResidentFilter, list[FieldError]]:
    f = repo.ResidentFilter(household_id=query.household_id, village_code=query.village_code, status=query.status,
                            sex=query.sex, record_no=query.record_no, birth_from=query.birth_from,
                            birth_to=query.birth_to, resident_id=query.resident_id,
                            updated_from=query.updated_from, updated_to=query.updated_to)
    errors: list[FieldError] = []
    if query.id_number:
        _set_id_filter(f, query.id_number)
    if query.name:
        f.name = normalize_name(query.name)
        f.name_prefix = f.name.endswith("*")
        f.name = f.name.rstrip("*") or None
    if query.phone:
        f.phone = normalize_phone(query.phone)
    if query.q:
        text = normalize(query.q)
        if text.isdigit() and len(text) == 17:
            f.record_no = text
        elif len(text) in (15, 18) and text[:-1].isdigit():
            _set_id_filter(f, text)
        elif text.isdigit() and len(text) >= 7:
            f.phone = normalize_phone(text)
        else:
            f.name = normalize_name(query.q).rstrip("*")
            f.name_prefix = True
    if query.tag:
        if query.tag in ("elderly65", "child0_6"):
            lo, hi = birth_range_for_tag(query.tag, on)
            f.birth_from = max(d for d in (lo, f.birth_from) if d) if (lo or f.birth_from) else None
            f.birth_to = min(d for d in (hi, f.birth_to) if d) if (hi or f.birth_to) else None
        elif query.tag == "disabled":
            f.disabled = True
        elif query.tag == "poor":
            f.poverty_registered = True
        elif query.tag == "fp_special":
            f.fp_special_family = True
        else:
            errors.append(FieldError("tag", "tag.unknown", f"标签“{query.tag}”不存在",
                                     f"tag '{query.tag}' does not exist"))
    if query.sex is not None and query.sex not in SEX_LABELS:
        errors.append(FieldError("sex", "sex.code", f"性别代码“{query.sex}”无效，应为0、1、2或9",
                                 f"sex code '{query.sex}' is not valid; use 0, 1, 2 or 9 (GB/T 2261.1)"))
    if query.status is not None and query.status not in STATUSES:
        errors.append(FieldError("status", "status.code", f"状态“{query.status}”无效",
                                 f"status '{query.status}' is not one of {', '.join(STATUSES)}"))
    if f.village_code and not (f.village_code.isdigit() and len(f.village_code) in (6, 9, 12)):
        errors.append(FieldError("village", "village_code.format", "区划代码应为6、9或12位数字",
                                 "division code must have 6, 9 or 12 digits"))
    return f, errors


def _set_id_filter(f: repo.ResidentFilter, text: str) -> None:
    """A valid number is searched in its canonical form (a 15-digit number finds its 18-digit upgrade); an
    invalid one among the registrations that were loaded with exactly that faulty number."""
    chk = check_id_number(text)
    if chk.valid:
        f.id_number = chk.normalized
    else:
        f.id_number_raw = normalize(text)


def search_residents(s: Session, who: Principal, query: ResidentQuery, page: PageRequest) -> Page[Resident]:
    who.require("resident.read")
    on = today()
    f, errors = _filter_from(query, on)
    sort = query.sort or "name"
    descending = sort.startswith("-")
    sort_key = sort.lstrip("-")
    if sort_key not in repo.SORTABLE:
        errors.append(FieldError("sort", "sort.unknown", f"不能按“{sort_key}”排序",
                                 f"cannot sort by '{sort_key}'; use one of {', '.join(repo.SORTABLE)}"))
    if errors:
        raise ValidationFailed(errors)
    rows, total = repo.search_residents(s, f, who.scope, sort=sort_key, descending=descending, offset=page.offset,
                                        limit=page.page_size)
    audit(s, who, "resident.search", resident_ids=[r.id for r in rows],
          detail={"query": {k: v for k, v in asdict(query).items() if v is not None}, "page": page.page, "total": total})
    return Page(rows, total, page.page, page.page_size)


def search_residents_keyset(s: Session, who: Principal, query: ResidentQuery, count: int, *,
                            after: tuple | None = None, before: tuple | None = None
                            ) -> tuple[list[Resident], int, bool]:
    """One page of at most ``count`` residents after (or before) a cursor = (sort value, id) of a row, the
    total, and whether more rows lie in that direction. Only the rows returned are audited."""
    who.require("resident.read")
    f, errors = _filter_from(query, today())
    sort = query.sort or "name"
    if sort.lstrip("-") not in repo.SORTABLE:
        errors.append(FieldError("sort", "sort.unknown", f"不能按“{sort.lstrip('-')}”排序",
                                 f"cannot sort by '{sort.lstrip('-')}'"))
    if errors:
        raise ValidationFailed(errors)
    rows, total = repo.search_residents(s, f, who.scope, sort=sort.lstrip("-"), descending=sort.startswith("-"),
                                        offset=0, limit=count + 1, after=after, before=before)
    more = len(rows) > count
    if more:
        rows = rows[1:] if before is not None else rows[:count]
    audit(s, who, "resident.search", resident_ids=[r.id for r in rows],
          detail={"query": {k: v for k, v in asdict(query).items() if v is not None}, "count": len(rows),
                  "total": total})
    return rows, total, more


def _in_scope(who: Principal, resident: Resident | None, resident_id: int, action: str) -> Resident:
    if resident is None:
        raise NotFound("居民", "resident", resident_id)
    if not who.scope.covers(resident.village_code):
        raise OutOfScope(resident_id, action=action, resident_ids=[resident_id])
    return resident


def resident_in_scope(s: Session, who: Principal, resident_id: int | None, action: str) -> Resident:
    """The registration, if it exists and the user's scope covers its village (404 otherwise, the refusal
    audited under ``action``). Not audited as a read: the caller audits what it does with it."""
    return _in_scope(who, repo.get_resident(s, resident_id) if resident_id else None, resident_id, action)


def get_resident(s: Session, who: Principal, resident_id: int, *, action: str = "resident.read") -> Resident:
    who.require("resident.read")
    resident = _in_scope(who, repo.get_resident(s, resident_id), resident_id, action)
    audit(s, who, action, resident_ids=[resident.id])
    return resident


def tags_of(r: Resident, on: date | None = None) -> list[str]:
    return derived_tags(birth_date=r.birth_date, on=on or today(), disability=r.disability,
                        poverty_registered=r.poverty_registered, fp_special_family=r.fp_special_family)


def _check_village(s: Session, who: Principal, code: str, errors: list[FieldError], field: str = "village_code") -> None:
    div = repo.get_division(s, code)
    if div is None or div.level != "village":
        errors.append(FieldError(field, "village_code.unknown", f"村级区划“{code}”不存在",
                                 f"village {code} does not exist"))
    elif not who.scope.covers(code):
        errors.append(FieldError(field, "village_code.out_of_scope", f"村“{div.name}”不在您的服务范围内",
                                 f"village {div.name} ({code}) is outside your scope"))


def _check_unique_id(s: Session, id_number: str | None, field: str, errors: list[FieldError],
                     exclude_id: int | None = None) -> None:
    if not id_number:
        return
    others = repo.residents_with_id_number(s, id_number, exclude_id=exclude_id)
    if others:
        errors.append(FieldError(field, "id_number.duplicate",
                                 f"该身份证号已登记（健康档案编号 {others[0].record_no}），请勿重复建档",
                                 f"this ID number is already registered (health record {others[0].record_no})"))


def _new_resident(s: Session, clean: dict, *, source: str, household_id: int | None = None) -> Resident:
    now = clock.now()
    seq = repo.allocate_number(s, clean["village_code"], "record")
    r = Resident(record_no=record_number(clean["village_code"], seq), source=source, version=1, created_at=now,
                 updated_at=now, ethnicity=clean.pop("ethnicity", None) or "01", **clean)
    if household_id is not None:
        r.household_id = household_id
    s.add(r)
    return r


def create_resident(s: Session, who: Principal, data: dict, *, source: str = "api") -> Resident:
    who.require("resident.write")
    clean, errors = validate_resident(data, today=today())
    if not errors:
        _check_village(s, who, clean["village_code"], errors)
        _check_unique_id(s, clean.get("id_number"), "id_number", errors)
        if clean.get("household_id") is not None:
            hh = repo.get_household(s, clean["household_id"])
            if hh is None or not who.scope.covers(hh.village_code):
                errors.append(FieldError("household_id", "household.unknown", f"户“{clean['household_id']}”不存在",
                                         f"household {clean['household_id']} does not exist"))
    if errors:
        raise ValidationFailed(errors)
    r = _new_resident(s, clean, source=source)
    s.flush()
    audit(s, who, "resident.create", resident_ids=[r.id], detail={"record_no": r.record_no})
    _mpi_match(s, who, r, created=True)
    events.publish(s, who, events.FACTS_CHANGED, resident_ids=[r.id])  # a birth, an elderly person: programmes
    return r


def create_residents(s: Session, who: Principal, items: list[dict], *, source: str = "api") -> list | None:
    """Register several residents at once — e.g. the new Patients of one FHIR transaction — with the outcome of
    ``create_resident`` for each in turn (numbers in order per village, MPI matching in order, so a later one
    can match an earlier one), but one query per check, numbers allocated per village in one block, one INSERT
    and one notification.

    Returns None, having written nothing, when any of them would be refused (or has a household): the caller
    then creates them one by one, which raises the exact error of the first refused one."""
    who.require("resident.write")
    on = today()
    cleans: list[dict] = []
    seen: set[str] = set()
    for data in items:
        clean, errors = validate_resident(data, today=on)
        if errors or clean.get("household_id") is not None:
            return None
        _check_village(s, who, clean["village_code"], errors)
        if errors or (clean.get("id_number") and clean["id_number"] in seen):
            return None
        if clean.get("id_number"):
            seen.add(clean["id_number"])
        cleans.append(clean)
    if repo.registered_id_numbers(s, sorted(seen)):
        return None
    per_village: dict[str, int] = {}
    for clean in cleans:
        per_village[clean["village_code"]] = per_village.get(clean["village_code"], 0) + 1
    next_seq = {v: repo.allocate_number(s, v, "record", n) for v, n in sorted(per_village.items())}
    now = clock.now()
    rows = []
    for clean in cleans:
        village = clean["village_code"]
        seq, next_seq[village] = next_seq[village], next_seq[village] + 1
        rows.append({**clean, "record_no": record_number(village, seq), "source": source, "version": 1,
                     "created_at": now, "updated_at": now, "ethnicity": clean.get("ethnicity") or "01"})
    people = repo.insert_residents(s, rows)
    for r in people:
        audit(s, who, "resident.create", resident_ids=[r.id], detail={"record_no": r.record_no})
    from rhip.mpi.write_batch import on_residents_created

    on_residents_created(s, who, people)
    events.publish(s, who, events.FACTS_CHANGED, resident_ids=[r.id for r in people])
    return people


def _mpi_match(s: Session, who: Principal, r: Resident, *, created: bool) -> None:
    """Every write of a person goes through the master patient index (match, link or queue for review)."""
    from rhip.mpi.service import on_resident_written

    on_resident_written(s, who, r, created=created)


# Called as hook(session, principal, resident) before a resident's row changes (the FHIR layer keeps the
# superseded Patient version for vread/_history; registered by rhip.fhir.history).
BEFORE_RESIDENT_UPDATE: list = []


UPDATABLE = ("name", "id_number", "sex", "birth_date", "ethnicity", "phone", "phone2", "relation_to_head",
             "village_code", "address", "hukou_local", "usual_local", "status", "status_date", "disability",
             "disability_grade", "poverty_registered", "fp_special_family")


def update_resident(s: Session, who: Principal, resident_id: int, changes: dict, *, expected_version: int | None
                    ) -> Resident:
    who.require("resident.write")
    r = _in_scope(who, repo.get_resident(s, resident_id), resident_id, "resident.update")
    changes = {k: v for k, v in changes.items() if k in UPDATABLE}
    # Cross-field rules see the merged record: the ID number must agree with sex and birth date after the change.
    merged = {k: getattr(r, k) for k in UPDATABLE}
    if r.id_number_status == "invalid":
        merged["id_number"] = None
    merged.update(changes)
    clean, errors = validate_resident(merged, today=today())
    if "village_code" in changes and not errors:
        _check_village(s, who, clean["village_code"], errors)
    if "id_number" in changes and not errors:
        _check_unique_id(s, clean.get("id_number"), "id_number", errors, exclude_id=r.id)
    if errors:
        raise ValidationFailed(errors)
    if expected_version is not None and expected_version != r.version:
        raise PreconditionFailed(r.version)
    values = {k: v for k, v in clean.items() if k in changes or k in ("id_number_raw", "id_number_status")
              and "id_number" in changes}
    changed = sorted(k for k, v in values.items() if getattr(r, k) != v)
    if not changed:
        return r
    for hook in BEFORE_RESIDENT_UPDATE:
        hook(s, who, r)
    values["updated_at"] = clock.now()
    if repo.bump_version(s, r.id, r.version, values) != 1:
        s.refresh(r)
        raise PreconditionFailed(r.version)
    s.refresh(r)
    audit(s, who, "resident.update", resident_ids=[r.id], detail={"fields": changed, "version": r.version})
    if set(changed) & {"name", "id_number", "sex", "birth_date", "phone", "phone2", "village_code"}:
        _mpi_match(s, who, r, created=False)
    if {"status", "status_date", "birth_date"} & set(changed):  # death, moving out, age: programmes follow
        events.publish(s, who, events.FACTS_CHANGED, resident_ids=[r.id])
    return r


def create_household(s: Session, who: Principal, data: dict) -> tuple[Household, list[Resident]]:
    """A household and all its members in one transaction: one bad member rejects the whole household."""
    who.require("resident.write")
    errors: list[FieldError] = []
    village = data.get("village_code") or ""
    _check_village(s, who, village, errors)
    members = data.get("members") or []
    if not members:
        errors.append(FieldError("members", "members.required", "户内至少登记一名成员",
                                 "a household needs at least one member"))
    heads = [i for i, m in enumerate(members) if m.get("relation_to_head") == "02"]
    if members and len(heads) != 1:
        errors.append(FieldError("members", "members.head", f"户内须有且只有一名户主（当前{len(heads)}名）",
                                 f"a household needs exactly one head (relation 02); got {len(heads)}"))
    cleaned = []
    seen_ids: dict[str, int] = {}
    for i, m in enumerate(members):
        m = {**m, "village_code": village, "address": m.get("address") or data.get("address")}
        if m.get("relation_to_head") is None:
            errors.append(FieldError(f"members[{i}].relation_to_head", "relation.required", "须填写与户主关系",
                                     "relation to the head of household is required"))
        clean, errs = validate_resident(m, today=today())
        errors.extend(FieldError(f"members[{i}].{e.field}", e.code, e.message_zh, e.message_en) for e in errs)
        if not errs:
            _check_unique_id(s, clean.get("id_number"), f"members[{i}].id_number", errors)
            if clean.get("id_number") in seen_ids:
                errors.append(FieldError(f"members[{i}].id_number", "id_number.duplicate",
                                         f"与第{seen_ids[clean['id_number']] + 1}名成员身份证号相同",
                                         f"same ID number as member {seen_ids[clean['id_number']] + 1}"))
            elif clean.get("id_number"):
                seen_ids[clean["id_number"]] = i
        cleaned.append(clean)
    if errors:
        raise ValidationFailed(errors)
    hh = Household(code=household_code(village, repo.allocate_number(s, village, "household")), village_code=village, address=data.get("address"),
                   created_at=clock.now())
    s.add(hh)
    s.flush()
    people = [_new_resident(s, clean, source="api", household_id=hh.id) for clean in cleaned]
    s.flush()
    hh.head_resident_id = people[heads[0]].id
    audit(s, who, "household.create", resident_ids=[p.id for p in people], detail={"household": hh.code})
    for p in people:
        _mpi_match(s, who, p, created=True)
    return hh, people


def get_household(s: Session, who: Principal, household_id: int) -> tuple[Household, list[Resident]]:
    who.require("resident.read")
    hh = repo.get_household(s, household_id)
    if hh is None:
        raise NotFound("户", "household", household_id)
    if not who.scope.covers(hh.village_code):
        raise OutOfScope(household_id, action="household.read", resident_ids=[])
    members = repo.household_members(s, household_id)
    audit(s, who, "household.read", resident_ids=[m.id for m in members], detail={"household": hh.code})
    return hh, members


"""Contract use cases: sign, read, search, renew, transfer, terminate, expire. Each runs in the caller's
transaction (never commits), checks the permission and the user's scope (the resident's village), and
audits what it touches. Key populations and fulfilment are in ``contracts.populations`` and
``contracts.fulfilment``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rhip.contracts import fulfilment as ful
from rhip.contracts import populations as pop
from rhip.contracts import repository as repo
from rhip.contracts import rules, rules_person
from rhip.contracts.models import Contract, ContractPackage
from rhip.kit import clock
from rhip.kit.errors import Conflict, FieldError, NotFound, OutOfScope, PreconditionFailed, ValidationFailed
from rhip.kit.pagination import Page, PageRequest
from rhip.mpi import repository as mpi_repo
from rhip.registry import repository as reg_repo
from rhip.registry.service import resident_in_scope
from rhip.registry.models import Practitioner, Resident, Team
from rhip.security.service import Principal, audit


def today() -> date:
    return clock.now().date()


@dataclass
class ContractView:
    contract: Contract
    resident: Resident
    packages: list[ContractPackage]
    team: Team | None = None
    doctor: Practitioner | None = None
    fulfilment: rules.Fulfilment | None = None
    status_on: str = ""
    populations: list[str] = field(default_factory=list)


def _resident(s: Session, who: Principal, resident_id: int | None, action: str) -> Resident:
    return resident_in_scope(s, who, resident_id, action)


def _contract(s: Session, who: Principal, contract_id: int, action: str) -> tuple[Contract, Resident]:
    c = repo.get_contract(s, contract_id)
    if c is None:
        raise NotFound("签约", "contract", contract_id)
    r = reg_repo.get_resident(s, c.resident_id)
    if r is None or not who.scope.covers(r.village_code):
        # The contract's existence is not disclosed outside the user's scope.
        raise OutOfScope(contract_id, action=action, resident_ids=[c.resident_id])
    return c, r


def _team_and_doctor(s: Session, resident: Resident, team_id: int | None, doctor_id: int | None,
                     errors: list[FieldError]) -> tuple[Team | None, Practitioner | None]:
    team = reg_repo.get_team(s, team_id) if team_id else None
    if team is None:
        errors.append(FieldError("team_id", "team.unknown", f"家庭医生团队“{team_id}”不存在",
                                 f"family-doctor team {team_id} does not exist"))
        return None, None
    if not team.active:
        errors.append(FieldError("team_id", "team.inactive", f"团队“{team.name}”已停用", f"team {team.name} is inactive"))
    if resident.village_code not in repo.team_village_codes(s, team.id):
        village = reg_repo.division_names(s, {resident.village_code}).get(resident.village_code, resident.village_code)
        errors.append(FieldError("team_id", "team.village",
                                 f"居民所在村“{village}”不在团队“{team.name}”的服务范围内，请选择服务该村的团队",
                                 f"the resident's village {village} ({resident.village_code}) is not served by team "
                                 f"{team.name}; choose a team that serves it"))
    members = repo.team_member_ids(s, team.id)
    doctor = reg_repo.get_practitioner(s, doctor_id) if doctor_id else None
    if doctor is None:
        errors.append(FieldError("doctor_id", "doctor.unknown", f"责任医生“{doctor_id}”不存在",
                                 f"responsible doctor {doctor_id} does not exist"))
    elif doctor.id not in members:
        errors.append(FieldError("doctor_id", "doctor.not_in_team",
                                 f"{doctor.name}不是团队“{team.name}”的成员，责任医生须为签约团队成员",
                                 f"{doctor.name} is not a member of team {team.name}; the responsible doctor must "
                                 "belong to the team"))
    return team, doctor


def _consent(data: dict, errors: list[FieldError]) -> None:
    errors.extend(rules.check_consent(data.get("consent_method"), data.get("consent_witness")))
    if data.get("consent_date") is None:
        errors.append(FieldError("consent_date", "consent_date.required", "请填写知情同意日期",
                                 "the date of consent is required"))


def _already_signed(s: Session, existing: Contract) -> Conflict:
    team = reg_repo.get_team(s, existing.team_id)
    name = team.name if team else str(existing.team_id)
    return Conflict("contract.already_signed",
                    f"该居民已与“{name}”签约（{existing.start_date.isoformat()}至{existing.end_date.isoformat()}），"
                    "同一时间只能有一份有效签约；请续约、转签或先解约",
                    f"the resident already has an active contract with {name} ({existing.start_date.isoformat()} to "
                    f"{existing.end_date.isoformat()}); one active contract at a time: renew, transfer or terminate it",
                    "resident_id")


def _check_person(s: Session, resident_id: int) -> None:
    """One contract in force per person: refuse when another registration of the person (MPI) has one."""
    reg = mpi_repo.registrations_of_same_person(s, [resident_id]).get(resident_id)
    if reg is None:
        return
    others = [o for o in reg.others if repo.active_contract(s, o) is not None]
    refusal = rules_person.may_sign(reg.replaced_by, others)
    if refusal is not None:
        raise Conflict(refusal.code, refusal.zh, refusal.en, "resident_id")


def on_merge(s: Session, who: Principal, survivor_id: int, merged_id: int) -> Contract | None:
    """Registration ``merged_id`` was merged into ``survivor_id``: if both have a contract in force, the merged
    one's is terminated today (``merged``); returns it."""
    mine, theirs = repo.active_contract(s, merged_id), repo.active_contract(s, survivor_id)
    if not rules_person.end_on_merge(mine is not None, theirs is not None):
        return None
    on = today()
    ended = on if on >= mine.start_date else mine.start_date - timedelta(days=1)
    _end(s, mine, {"status": "terminated", "ended_on": ended, "end_reason": rules_person.MERGED,
                   "end_note": f"档案合并到{survivor_id}，签约以该档案为准"})
    audit(s, who, "contract.terminate", resident_ids=[merged_id, survivor_id],
          detail={"contract": mine.id, "reason": rules_person.MERGED, "survivor": survivor_id, "kept": theirs.id})
    return mine


def _insert(s: Session, c: Contract, package_rows: list[tuple[str, int, int]]) -> Contract:
    """Insert a contract; the partial unique index refuses a second active contract of the same resident
    (two people signing the same resident at the same moment)."""
    try:
        with s.begin_nested():
            s.add(c)
            s.flush()
    except IntegrityError:
        existing = repo.active_contract(s, c.resident_id)
        if existing is not None:
            raise _already_signed(s, existing) from None
        raise
    repo.add_packages(s, c.id, package_rows)
    s.flush()
    return c


def _package_rows(cat: rules.Catalogue, codes: list[str], *, charge: bool = True) -> list[tuple[str, int, int]]:
    return [(code, round(cat.packages[code].price * 100), round(cat.packages[code].personal * 100) if charge else 0)
            for code in codes]


def sign(s: Session, who: Principal, data: dict, *, source: str = "api") -> Contract:
    """Sign a resident with a team: ``resident_id, team_id, doctor_id, packages, start_date?, end_date?,
    consent_date, consent_method, consent_witness?``."""
    who.require("contract.write")
    resident = _resident(s, who, data.get("resident_id"), "contract.create")
    on = today()
    errors: list[FieldError] = []
    if resident.status != "alive":
        errors.append(FieldError("resident_id", "resident.not_alive", "该居民已死亡或迁出，不能签约",
                                 "the resident has died or moved away and cannot sign"))
    team, doctor = _team_and_doctor(s, resident, data.get("team_id"), data.get("doctor_id"), errors)
    cat = rules.catalogue_on(data.get("start_date") or on)
    term, term_errors = rules.check_term(data.get("start_date"), data.get("end_date"), today=on, params=cat.params,
                                         consent_date=data.get("consent_date"))
    errors += term_errors
    _consent(data, errors)
    codes = list(data.get("packages") or [])
    populations = {m.population for m in pop.classify_resident(s, resident, on)}
    errors += rules.check_packages(cat, codes, populations)
    existing = repo.active_contract(s, resident.id)
    if existing is not None and not errors:
        raise _already_signed(s, existing)
    if errors:
        raise ValidationFailed(errors)
    _check_person(s, resident.id)
    now = clock.now()
    rows = _package_rows(cat, codes)
    c = Contract(resident_id=resident.id, team_id=team.id, doctor_id=doctor.id, catalogue_version=cat.version,
                 start_date=term.start, end_date=term.end, status="active", consent_date=data["consent_date"],
                 consent_method=data["consent_method"], consent_witness=(data.get("consent_witness") or None),
                 fee_fen=sum(p for _, _, p in rows), source=source, version=1, created_by=who.username,
                 created_at=now, updated_at=now)
    _insert(s, c, rows)
    pop.store(s, [resident.id], on)
    audit(s, who, "contract.create", resident_ids=[resident.id],
          detail={"contract": c.id, "team": team.code, "doctor": doctor.id, "packages": codes,
                  "start": term.start, "end": term.end})
    return c


def _check_version(c: Contract, expected: int | None) -> None:
    if expected is not None and expected != c.version:
        raise PreconditionFailed(c.version)


def _end(s: Session, c: Contract, values: dict) -> None:
    values["updated_at"] = clock.now()
    if repo.bump_version(s, c.id, c.version, values) != 1:
        s.refresh(c)
        raise PreconditionFailed(c.version)
    s.refresh(c)


def renew(s: Session, who: Principal, contract_id: int, data: dict, *, expected_version: int | None) -> Contract:
    """Renew for another term: from the day after the old end (or today when it has lapsed), same team,
    packages as given (default: the same), with a new consent."""
    who.require("contract.write")
    old, resident = _contract(s, who, contract_id, "contract.renew")
    _check_version(old, expected_version)
    on = today()
    if old.status not in ("active", "expired"):
        raise Conflict("contract.not_renewable",
                       f"该签约状态为“{rules.STATUSES[old.status][0]}”，不能续约",
                       f"a {old.status} contract cannot be renewed", "status")
    other = repo.active_contract(s, resident.id)
    if other is not None and other.id != old.id:
        raise _already_signed(s, other)
    cat_old = rules.catalogue_version(old.catalogue_version)
    window = cat_old.params["renew_window_days"]
    if (old.end_date - on).days > window:
        opens = old.end_date - timedelta(days=window)
        raise ValidationFailed([FieldError("start_date", "renew.too_early",
                                           f"签约到期日为{old.end_date.isoformat()}，{opens.isoformat()}起方可续约",
                                           f"the contract ends on {old.end_date.isoformat()}; it can be renewed from "
                                           f"{opens.isoformat()}")])
    errors: list[FieldError] = []
    if resident.status != "alive":
        errors.append(FieldError("resident_id", "resident.not_alive", "该居民已死亡或迁出，不能续约",
                                 "the resident has died or moved away and cannot renew"))
    start = old.end_date + timedelta(days=1) if old.end_date >= on else on
    cat = rules.catalogue_on(start)
    team, doctor = _team_and_doctor(s, resident, old.team_id, data.get("doctor_id") or old.doctor_id, errors)
    term, term_errors = rules.check_term(start, data.get("end_date"), today=on,
                                         params={**cat.params, "max_advance_days": window + 1},
                                         consent_date=data.get("consent_date"))
    errors += term_errors
    _consent(data, errors)
    codes = list(data.get("packages") or [p.package_code for p in repo.packages_of(s, [old.id]).get(old.id, [])])
    populations = {m.population for m in pop.classify_resident(s, resident, on)}
    errors += rules.check_packages(cat, codes, populations)
    if errors:
        raise ValidationFailed(errors)
    _check_person(s, resident.id)
    _end(s, old, {"status": "renewed"} if old.end_date >= on else {"status": "expired"})
    now = clock.now()
    rows = _package_rows(cat, codes)
    new = Contract(resident_id=resident.id, team_id=team.id, doctor_id=doctor.id, catalogue_version=cat.version,
                   start_date=term.start, end_date=term.end, status="active", consent_date=data["consent_date"],
                   consent_method=data["consent_method"], consent_witness=data.get("consent_witness") or None,
                   fee_fen=sum(p for _, _, p in rows), previous_id=old.id, source=data.get("source") or "api",
                   version=1, created_by=who.username, created_at=now, updated_at=now)
    _insert(s, new, rows)
    audit(s, who, "contract.renew", resident_ids=[resident.id],
          detail={"contract": new.id, "previous": old.id, "packages": codes, "start": term.start, "end": term.end})
    return new


def transfer(s: Session, who: Principal, contract_id: int, data: dict, *, expected_version: int | None) -> Contract:
    """Move the rest of the term to another team (the resident moved within the county, or asked): the old
    contract ends the day before ``effective_date``, a new one runs to the same end date, same packages,
    nothing charged again."""
    who.require("contract.write")
    old, resident = _contract(s, who, contract_id, "contract.transfer")
    _check_version(old, expected_version)
    on = today()
    if rules.status_on(old.status, old.end_date, on) != "active":
        raise Conflict("contract.not_active", f"该签约状态为“{rules.STATUSES[rules.status_on(old.status, old.end_date, on)][0]}”，"
                       "只能转签有效签约", "only an active contract can be transferred", "status")
    errors: list[FieldError] = []
    reason = (data.get("reason") or "").strip()
    if not reason:
        errors.append(FieldError("reason", "reason.required", "请填写转签原因", "give the reason for the transfer"))
    if data.get("team_id") == old.team_id:
        errors.append(FieldError("team_id", "team.same", "新团队与原团队相同", "the new team is the current team"))
    team, doctor = _team_and_doctor(s, resident, data.get("team_id"), data.get("doctor_id"), errors)
    effective = data.get("effective_date") or max(on, old.start_date)
    if not old.start_date <= effective <= old.end_date:
        errors.append(FieldError("effective_date", "effective_date.range",
                                 f"转签生效日期应在原签约期内（{old.start_date.isoformat()}至{old.end_date.isoformat()}）",
                                 f"the transfer must take effect within the contract "
                                 f"({old.start_date.isoformat()} to {old.end_date.isoformat()})"))
    cat = rules.catalogue_version(old.catalogue_version)
    if effective < on - timedelta(days=cat.params["max_backdate_days"]):
        errors.append(FieldError("effective_date", "effective_date.too_early",
                                 f"转签生效日期{effective.isoformat()}早于今天超过{cat.params['max_backdate_days']}天",
                                 f"effective date {effective.isoformat()} is more than "
                                 f"{cat.params['max_backdate_days']} days in the past"))
    if data.get("consent_method"):
        _consent(data, errors)
    if errors:
        raise ValidationFailed(errors)
    _end(s, old, {"status": "transferred", "ended_on": effective - timedelta(days=1), "end_reason": "transfer",
                  "end_note": reason[:200]})
    old_packages = repo.packages_of(s, [old.id]).get(old.id, [])
    now = clock.now()
    new = Contract(resident_id=resident.id, team_id=team.id, doctor_id=doctor.id,
                   catalogue_version=old.catalogue_version, start_date=effective, end_date=old.end_date,
                   status="active", consent_date=data.get("consent_date") or old.consent_date,
                   consent_method=data.get("consent_method") or old.consent_method,
                   consent_witness=(data.get("consent_witness") if data.get("consent_method") else old.consent_witness),
                   fee_fen=0, previous_id=old.id, source=data.get("source") or "api", version=1,
                   created_by=who.username, created_at=now, updated_at=now)
    _insert(s, new, [(p.package_code, p.price_fen, 0) for p in old_packages])
    audit(s, who, "contract.transfer", resident_ids=[resident.id],
          detail={"contract": new.id, "previous": old.id, "from_team": old.team_id, "to_team": team.id,
                  "reason": reason, "effective": effective})
    return new


def terminate(s: Session, who: Principal, contract_id: int, data: dict, *, expected_version: int | None) -> Contract:
    """End a contract early: ``reason`` (a TERMINATION_REASONS code), ``note`` (required for "other"),
    ``date`` (the last day in force; default today)."""
    who.require("contract.write")
    c, resident = _contract(s, who, contract_id, "contract.terminate")
    _check_version(c, expected_version)
    on = today()
    if c.status != "active":
        raise Conflict("contract.not_active", f"该签约状态为“{rules.STATUSES[c.status][0]}”，不能解约",
                       f"a {c.status} contract cannot be terminated", "status")
    errors: list[FieldError] = []
    reason, note = data.get("reason"), (data.get("note") or "").strip() or None
    if reason not in rules.TERMINATION_REASONS:
        errors.append(FieldError("reason", "reason.unknown", "请选择解约原因",
                                 f"reason must be one of {', '.join(rules.TERMINATION_REASONS)}"))
    elif reason == "other" and not note:
        errors.append(FieldError("note", "note.required", "解约原因为“其他”时须说明", "explain the 'other' reason"))
    last_day = data.get("date") or on
    cat = rules.catalogue_version(c.catalogue_version)
    if last_day > c.end_date:
        errors.append(FieldError("date", "date.after_end", f"解约日期晚于签约到期日{c.end_date.isoformat()}",
                                 f"the termination date is after the contract's end {c.end_date.isoformat()}"))
    if last_day < on - timedelta(days=cat.params["max_backdate_days"]):
        errors.append(FieldError("date", "date.too_early",
                                 f"解约日期{last_day.isoformat()}早于今天超过{cat.params['max_backdate_days']}天",
                                 f"termination date {last_day.isoformat()} is more than "
                                 f"{cat.params['max_backdate_days']} days in the past"))
    if errors:
        raise ValidationFailed(errors)
    ended = last_day if last_day >= c.start_date else c.start_date - timedelta(days=1)
    _end(s, c, {"status": "terminated", "ended_on": ended, "end_reason": reason, "end_note": note})
    audit(s, who, "contract.terminate", resident_ids=[resident.id],
          detail={"contract": c.id, "reason": reason, "note": note, "last_day": ended})
    return c


def expire(s: Session, who: Principal, on: date | None = None, *, batch: int = 5000) -> dict[str, int]:
    """The expiry job: active contracts of residents who died or moved away are terminated as of that day
    (their status date), then active contracts past their end date become expired. Safe to re-run."""
    who.require("contract.write")
    on = on or today()
    now = clock.now()
    expired = ended = 0
    touched: list[int] = []
    while pairs := repo.active_contracts_of_gone_residents(s, batch):
        for c, r in pairs:
            reason = "deceased" if r.status == "deceased" else "moved_out"
            last = min(r.status_date or on, c.end_date)
            c.status, c.end_reason, c.version, c.updated_at = "terminated", reason, c.version + 1, now
            c.ended_on = last if last >= c.start_date else c.start_date - timedelta(days=1)
            touched.append(r.id)
        ended += len(pairs)
        s.flush()
    while rows := repo.contracts_to_expire(s, on, batch):
        for c in rows:
            c.status, c.version, c.updated_at = "expired", c.version + 1, now
            touched.append(c.resident_id)
        expired += len(rows)
        s.flush()
    if touched:
        audit(s, who, "contract.expire", resident_ids=touched,
              detail={"as_of": on, "expired": expired, "terminated": ended})
    return {"expired": expired, "terminated": ended}


# ------------------------------------------------------------------ reading

def _views(s: Session, pairs: list[tuple[Contract, Resident]], on: date, *, with_fulfilment: bool = True
           ) -> list[ContractView]:
    ids = [c.id for c, _ in pairs]
    packages = repo.packages_of(s, ids)
    teams = {t: reg_repo.get_team(s, t) for t in {c.team_id for c, _ in pairs}}
    doctors = {d: reg_repo.get_practitioner(s, d) for d in {c.doctor_id for c, _ in pairs}}
    pops = repo.populations_of(s, [r.id for _, r in pairs])
    fulfil = ful.for_contracts(s, [(c, [p.package_code for p in packages.get(c.id, [])]) for c, _ in pairs], on) \
        if with_fulfilment else {}
    return [ContractView(c, r, packages.get(c.id, []), teams.get(c.team_id), doctors.get(c.doctor_id),
                         fulfil.get(c.id), rules.status_on(c.status, c.end_date, on),
                         [k.population for k in pops.get(r.id, [])]) for c, r in pairs]


def get(s: Session, who: Principal, contract_id: int, *, on: date | None = None) -> ContractView:
    who.require("contract.read")
    c, r = _contract(s, who, contract_id, "contract.read")
    audit(s, who, "contract.read", resident_ids=[r.id], detail={"contract": c.id})
    return _views(s, [(c, r)], on or today())[0]


def view(s: Session, c: Contract, *, on: date | None = None) -> ContractView:
    """The view of a contract the caller just wrote (authorised and audited by that use case)."""
    return _views(s, [(c, reg_repo.get_resident(s, c.resident_id))], on or today())[0]


@dataclass(slots=True)
class ContractQuery:
    team_id: int | None = None
    doctor_id: int | None = None
    status: str | None = None
    resident_id: int | None = None
    village_code: str | None = None
    population: str | None = None
    in_force_on: date | None = None


def search(s: Session, who: Principal, query: ContractQuery, page: PageRequest, *, on: date | None = None
           ) -> Page[ContractView]:
    who.require("contract.read")
    errors = []
    if query.status and query.status not in rules.STATUSES:
        errors.append(FieldError("status", "status.unknown", f"签约状态“{query.status}”不存在",
                                 f"status '{query.status}' is not one of {', '.join(rules.STATUSES)}"))
    if query.population and query.population not in rules.POPULATION_ORDER:
        errors.append(FieldError("population", "population.unknown", f"重点人群“{query.population}”不存在",
                                 f"key population '{query.population}' is not one of "
                                 f"{', '.join(rules.POPULATION_ORDER)}"))
    if query.village_code and not (query.village_code.isdigit() and len(query.village_code) in (9, 12)):
        errors.append(FieldError("village", "village_code.format", "区划代码应为9或12位数字",
                                 "division code must have 9 or 12 digits"))
    if errors:
        raise ValidationFailed(errors)
    on = on or today()
    f = repo.ContractFilter(team_id=query.team_id, doctor_id=query.doctor_id, resident_id=query.resident_id,
                            village_code=query.village_code, population=query.population,
                            in_force_on=query.in_force_on, status=query.status, status_on=on)
    pairs, total = repo.search_contracts(s, f, who.scope, offset=page.offset, limit=page.page_size)
    views = _views(s, pairs, on)
    audit(s, who, "contract.search", resident_ids=[r.id for _, r in pairs],
          detail={"query": {k: getattr(query, k) for k in query.__slots__ if getattr(query, k) is not None},
                  "page": page.page, "total": total})
    return Page(views, total, page.page, page.page_size)


def of_resident(s: Session, who: Principal, resident_id: int, *, on: date | None = None) -> list[ContractView]:
    """A resident's contracts, newest first (the console's contract panel)."""
    who.require("contract.read")
    r = _resident(s, who, resident_id, "contract.read")
    rows = repo.contracts_of_resident(s, r.id)
    audit(s, who, "contract.read", resident_ids=[r.id], detail={"contracts": [c.id for c in rows]})
    return _views(s, [(c, r) for c in rows], on or today())

"""Console pages for family-doctor contracts (Chinese by default, English available, usable on a phone).

- ``/console/contracts`` — list (masked ID numbers) filtered by team, status, key population, village;
  fulfilment and 签而不约 per contract.
- ``/console/contracts/new`` — sign a contract: find the resident, then team, doctor, packages, consent.
- ``/console/contracts/{id}`` — one contract with its fulfilment and history; renew and terminate forms.
- ``/console/residents/{id}/contracts`` — a resident's contract panel with key populations and reasons.

Routes only adapt HTTP to ``contracts.service`` (permission, scope, audit) like the JSON API; every POST
form carries the session's CSRF token (``web.support.checked_form``). Mounted before the console's
catch-all route.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from rhip.contracts import populations as pop
from rhip.contracts import repository as repo
from rhip.contracts import rules, service
from rhip.kit.errors import FieldError, NotFound, RhipError, ValidationFailed
from rhip.kit.http import DbSession
from rhip.kit.pagination import PageRequest
from rhip.registry import repository as reg_repo
from rhip.registry import service as reg_service
from rhip.registry.rules import TEAM_ROLES, age_on
from rhip.security.service import Principal
from rhip.web.support import (
    Console, FormStr, FormUser, blank_to_none, error_message, field_errors, guarded, render, request_lang, to_int,
)

router = APIRouter(prefix="/console", include_in_schema=False)
FormList = Annotated[list[str] | None, Form()]
FLASH = {"signed": ("签约成功", "contract signed"), "renewed": ("续约成功", "contract renewed"),
         "terminated": ("已解约", "contract terminated"),
         "transferred": ("已转签至新团队，以下为新签约", "transferred to the new team: this is the new contract")}


def _labels(lang: str) -> dict[str, Any]:
    i = 0 if lang == "zh" else 1
    cat = rules.catalogue_on(service.today())
    return {
        "CONTRACT_STATUSES": {k: v[i] for k, v in rules.STATUSES.items()},
        "CONSENT_METHODS": {k: v[i] for k, v in rules.CONSENT_METHODS.items()},
        "TERMINATION_REASONS": {k: v[i] for k, v in rules.TERMINATION_REASONS.items()},
        "POPULATIONS": {k: rules.population_label(k, lang) for k in rules.POPULATION_ORDER},
        "SERVICE_TYPES": {k: (t.name_zh if lang == "zh" else t.name_en) for k, t in cat.service_types.items()},
        "PACKAGE_NAMES": {k: (p.name_zh if lang == "zh" else p.name_en) for k, p in cat.packages.items()},
        "tr": lambda zh, en: zh if lang == "zh" else en,
    }


def _page(request: Request, name: str, ctx: dict, status_code: int = 200) -> Response:
    return render(request, name, {**_labels(request_lang(request)), **ctx}, status_code=status_code)


def _date(value: str | None, field: str, errors: list[FieldError]) -> date | None:
    value = blank_to_none(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "date.format", "日期格式应为YYYY-MM-DD", "dates are written YYYY-MM-DD"))
        return None


def _teams_in_scope(s: Session, who: Principal) -> list:
    teams, _ = reg_repo.list_teams(s, org_id=None, village_code=None, offset=0, limit=1000)
    if who.scope.everything:
        return teams
    villages = reg_repo.team_villages(s, [t.id for t in teams])
    return [t for t in teams if any(who.scope.covers(v) for v in villages.get(t.id, []))]


# ---------------------------------------------------------------- list

@router.get("/contracts")
@guarded
def contracts(request: Request, s: DbSession, who: Console, team: str | None = None, status: str | None = None,
              population: str | None = None, village: str | None = None, page: str | None = None,
              msg: str | None = None):
    who.require("contract.read")
    lang = request_lang(request)
    # no status asked at all → the contracts in force; "全部" (an empty value) → every status
    form = {"team": to_int(team, minimum=1), "status": "active" if status is None else blank_to_none(status),
            "population": blank_to_none(population),
            "village": blank_to_none(village)}
    query = service.ContractQuery(team_id=form["team"], status=form["status"], population=form["population"],
                                  village_code=form["village"])
    ctx: dict[str, Any] = {"form": form, "teams": _teams_in_scope(s, who), "result": None, "message": None,
                           "flash": FLASH.get(msg or "", (None, None))[0 if lang == "zh" else 1]}
    try:
        ctx["result"] = service.search(s, who, query, PageRequest(to_int(page, 1, minimum=1),
                                                                   request.app.state.settings.page_size_default))
    except ValidationFailed as err:
        ctx["message"] = error_message(err, lang)
        return _page(request, "contracts/list.html", ctx, status_code=422)
    return _page(request, "contracts/list.html", ctx)


# ---------------------------------------------------------------- sign

def _sign_context(s: Session, who: Principal, resident_id: int | None, q: str | None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"resident": None, "candidates": [], "q": q or "", "teams": [], "populations": [],
                           "today": service.today().isoformat()}
    if resident_id:
        r = reg_service.get_resident(s, who, resident_id, action="contract.sign_form")  # scope + audit
        on = service.today()
        ctx["resident"] = r
        ctx["age"] = age_on(r.birth_date, on)
        ctx["village"] = reg_repo.division_names(s, {r.village_code}).get(r.village_code, r.village_code)
        ctx["populations"] = pop.classify_resident(s, r, on)
        ctx["active"] = repo.active_contract(s, r.id)
        teams = repo.teams_serving(s, r.village_code)
        members = reg_repo.team_members(s, [t.id for t in teams])
        ctx["teams"] = [{"team": t, "members": members.get(t.id, [])} for t in teams]
        eligible = {m.population for m in ctx["populations"]}
        cat = rules.catalogue_on(on)
        ctx["packages"] = [{"p": p, "eligible": not p.for_populations or bool(eligible & set(p.for_populations))}
                           for p in cat.packages.values()]
    elif q:
        result = reg_service.search_residents(s, who, reg_service.ResidentQuery(q=q, status="alive"),
                                              PageRequest(1, 10))
        ctx["candidates"] = result.items
    return ctx


@router.get("/contracts/new")
@guarded
def sign_form(request: Request, s: DbSession, who: Console, resident: str | None = None, q: str | None = None):
    who.require("contract.write")
    ctx = _sign_context(s, who, to_int(resident, minimum=1), blank_to_none(q))
    ctx.update(form={"packages": ["basic"], "consent_method": "written", "consent_date": ctx["today"],
                     "start_date": ctx["today"]}, errors={}, message=None)
    return _page(request, "contracts/sign.html", ctx)


@router.post("/contracts")
@guarded
def sign(request: Request, s: DbSession, who: FormUser, resident_id: FormStr = "", team_doctor: FormStr = "",
         packages: FormList = None, start_date: FormStr = "", consent_date: FormStr = "", consent_method: FormStr = "",
         consent_witness: FormStr = ""):
    who.require("contract.write")
    lang = request_lang(request)
    errors: list[FieldError] = []
    form = {"resident_id": to_int(resident_id, minimum=1), "team_doctor": team_doctor, "packages": packages or [],
            "start_date": start_date, "consent_date": consent_date, "consent_method": consent_method,
            "consent_witness": consent_witness}
    team_id, _, doctor_id = team_doctor.partition(":")
    data = {"resident_id": form["resident_id"], "team_id": to_int(team_id), "doctor_id": to_int(doctor_id),
            "packages": form["packages"], "start_date": _date(start_date, "start_date", errors),
            "consent_date": _date(consent_date, "consent_date", errors),
            "consent_method": consent_method, "consent_witness": consent_witness}
    if not team_doctor:
        errors.append(FieldError("team_doctor", "team.required", "请选择团队和责任医生", "choose a team and a doctor"))
    try:
        if errors:
            raise ValidationFailed(errors)
        c = service.sign(s, who, data, source="console")
    except RhipError as err:
        if err.http_status not in (409, 422):
            raise
        # the use case refused before writing anything: the page is rendered in the same transaction
        ctx = _sign_context(s, who, form["resident_id"], None)
        errs = field_errors(err, lang)
        if "team_id" in errs or "doctor_id" in errs:
            errs["team_doctor"] = errs.pop("team_id", []) + errs.pop("doctor_id", [])
        ctx.update(form=form, errors=errs, message=error_message(err, lang))
        return _page(request, "contracts/sign.html", ctx, status_code=err.http_status)
    return RedirectResponse(f"/console/contracts/{c.id}?msg=signed", status_code=303)


# ---------------------------------------------------------------- one contract

def _detail(request: Request, s: Session, who: Principal, contract_id: int, *, msg: str | None = None,
            errors: dict | None = None, message: str | None = None, action: str | None = None,
            status_code: int = 200) -> Response:
    v = service.get(s, who, contract_id)
    lang = request_lang(request)
    history = [h for h in repo.contracts_of_resident(s, v.resident.id) if h.id != v.contract.id]
    teams = {t: reg_repo.get_team(s, t) for t in {h.team_id for h in history}}
    on = service.today()
    members = reg_repo.team_members(s, [v.contract.team_id]).get(v.contract.team_id, [])
    others = [t for t in repo.teams_serving(s, v.resident.village_code) if t.id != v.contract.team_id]
    other_members = reg_repo.team_members(s, [t.id for t in others])
    cat = rules.catalogue_on(on)
    return _page(request, "contracts/detail.html", {
        "v": v, "c": v.contract, "r": v.resident, "age": age_on(v.resident.birth_date, on), "history": history,
        "history_teams": teams, "members": members, "TEAM_ROLES": TEAM_ROLES, "today": on.isoformat(),
        "transfer_teams": [{"team": t, "members": other_members.get(t.id, [])} for t in others],
        "renewable": v.contract.status in ("active", "expired") and
        (v.contract.end_date - on).days <= rules.catalogue_version(v.contract.catalogue_version).params["renew_window_days"],
        "packages": list(cat.packages.values()), "current_codes": [p.package_code for p in v.packages],
        "flash": FLASH.get(msg or "", (None, None))[0 if lang == "zh" else 1],
        "errors": errors or {}, "message": message, "action": action,
    }, status_code=status_code)


def _contract_id(contract_id: str) -> int:
    cid = to_int(contract_id, minimum=1)
    if cid is None:
        raise NotFound("签约", "contract", contract_id)
    return cid


@router.get("/contracts/{contract_id}")
@guarded
def contract_detail(request: Request, s: DbSession, who: Console, contract_id: str, msg: str | None = None):
    who.require("contract.read")
    return _detail(request, s, who, _contract_id(contract_id), msg=msg)


def _action(request: Request, s: Session, who: Principal, contract_id: str, action: str, data: dict,
            version: str | None, errors: list[FieldError]) -> Response:
    who.require("contract.write")
    cid = _contract_id(contract_id)
    try:
        if errors:
            raise ValidationFailed(errors)
        if action == "renew":
            c = service.renew(s, who, cid, data, expected_version=to_int(version))
            return RedirectResponse(f"/console/contracts/{c.id}?msg=renewed", status_code=303)
        if action == "transfer":
            c = service.transfer(s, who, cid, data, expected_version=to_int(version))
            return RedirectResponse(f"/console/contracts/{c.id}?msg=transferred", status_code=303)
        c = service.terminate(s, who, cid, data, expected_version=to_int(version))
        return RedirectResponse(f"/console/contracts/{c.id}?msg=terminated", status_code=303)
    except RhipError as err:
        if err.http_status not in (409, 412, 422):
            raise
        lang = request_lang(request)
        return _detail(request, s, who, cid, errors=field_errors(err, lang), message=error_message(err, lang),
                       action=action, status_code=err.http_status)


@router.post("/contracts/{contract_id}/renew")
@guarded
def renew(request: Request, s: DbSession, who: FormUser, contract_id: str, packages: FormList = None,
          consent_date: FormStr = "", consent_method: FormStr = "", consent_witness: FormStr = "",
          version: FormStr = ""):
    errors: list[FieldError] = []
    data = {"packages": packages or None, "consent_method": consent_method, "consent_witness": consent_witness,
            "consent_date": _date(consent_date, "consent_date", errors), "source": "console"}
    return _action(request, s, who, contract_id, "renew", data, version, errors)


@router.post("/contracts/{contract_id}/terminate")
@guarded
def terminate(request: Request, s: DbSession, who: FormUser, contract_id: str, reason: FormStr = "",
              note: FormStr = "", last_day: FormStr = "", version: FormStr = ""):
    errors: list[FieldError] = []
    data = {"reason": reason, "note": note, "date": _date(last_day, "date", errors)}
    return _action(request, s, who, contract_id, "terminate", data, version, errors)


@router.post("/contracts/{contract_id}/transfer")
@guarded
def transfer(request: Request, s: DbSession, who: FormUser, contract_id: str, team_doctor: FormStr = "",
             reason: FormStr = "", effective_date: FormStr = "", version: FormStr = ""):
    """转签: the rest of the term moves to another team serving the resident's village."""
    errors: list[FieldError] = []
    team_id, _, doctor_id = team_doctor.partition(":")
    if not team_doctor:
        errors.append(FieldError("team_doctor", "team.required", "请选择新团队和责任医生",
                                 "choose the new team and doctor"))
    data = {"team_id": to_int(team_id), "doctor_id": to_int(doctor_id), "reason": reason,
            "effective_date": _date(effective_date, "effective_date", errors), "source": "console"}
    return _action(request, s, who, contract_id, "transfer", data, version, errors)


# ---------------------------------------------------------------- a resident's panel

@router.get("/residents/{resident_id}/contracts")
@guarded
def resident_panel(request: Request, s: DbSession, who: Console, resident_id: str):
    rid = to_int(resident_id, minimum=1)
    if rid is None:
        raise NotFound("居民", "resident", resident_id)
    views = service.of_resident(s, who, rid)  # scope + audit
    r, members = pop.of_resident(s, who, rid)
    on = service.today()
    return _page(request, "contracts/resident.html", {
        "r": r, "age": age_on(r.birth_date, on), "views": views, "memberships": members,
        "active": next((v for v in views if v.contract.status == "active"), None)})

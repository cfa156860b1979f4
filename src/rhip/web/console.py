"""The console (控制台): server-rendered pages for staff, Chinese by default, English available.

Routes only adapt HTTP to the services, exactly like the JSON API: every resident read goes through
``registry.service`` (scope check and audit), sign-in through ``security.service``. Plumbing (i18n,
rendering, CSRF, error pages, the signed-in user) is in ``web.support``.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from rhip.kit.errors import FieldError, NotFound, OutOfScope, RhipError, ValidationFailed
from rhip.kit.http import DbSession, client_addr
from rhip.kit.pagination import Page, PageRequest
from rhip.registry import repository as reg_repo
from rhip.registry import service as reg_service
from rhip.registry.rules import ORG_KINDS, age_on
from rhip.security import repository as sec_repo
from rhip.security import service as sec
from rhip.security.deps import SESSION_COOKIE
from rhip.security.rules import Scope
from rhip.web.support import (
    AUDIT_PAGE_SIZE, Console, ConsolePageError, ConsoleRedirect, FLASH_KEYS, FormStr, FormUser,
    LOGIN_CSRF_COOKIE, Translator, USERS_PAGE_SIZE, WEB_DIR, on_page_error, on_redirect, blank_to_none,
    cookie_secure, error_message, field_errors, guarded, render, request_lang, safe_next, to_int, tokens_equal,
)

router = APIRouter(prefix="/console", include_in_schema=False)


# ---------------------------------------------------------------- sign-in, sign-out, own password

def _login_page(request: Request, *, next_url: str | None = None, error: str | None = None, username: str = "",
                status_code: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not token or len(token) < 20 or len(token) > 64:
        token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"csrf_token": token, "next": safe_next(next_url) or "",
                                              "error": error, "username": username}, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=2 * 3600, path="/console/login", httponly=True,
                        samesite="lax", secure=cookie_secure(request))
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    return _login_page(request, next_url=next)


@router.post("/login")
def login(request: Request, s: DbSession, username: FormStr = "", password: FormStr = "", csrf_token: FormStr = "",
          next: FormStr = ""):
    t = Translator(request_lang(request))
    username = username.strip()
    if not tokens_equal(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, next_url=next, error=t("login.csrf"), username=username, status_code=403)
    try:
        user = sec.authenticate(s, username, password)
    except RhipError as err:
        # The failed attempt is audited in the request's transaction, which is committed with the failure count
        # that locks the account after repeated failures (the page below is an answer, not an error). Not in a
        # transaction of its own: on SQLite that one would wait for the write lock this one holds.
        anonymous = sec.Principal(None, username[:64] or "-", None, username[:64], Scope(), channel="console",
                                  client_addr=client_addr(request))
        sec.audit(s, anonymous, "login", outcome="denied", detail={"username": username[:128], "reason": err.code})
        message = t("login.failed") if err.code == "not_authenticated" else error_message(err, t.lang)
        return _login_page(request, next_url=next, error=message, username=username, status_code=err.http_status)
    minutes = request.app.state.settings.session_minutes
    token, ws = sec.open_session(s, user, minutes=minutes, client_addr=client_addr(request))
    who = sec.principal_for(s, user, channel="console", client_addr=client_addr(request), csrf_token=ws.csrf_token)
    sec.audit(s, who, "login", detail={"username": user.username})
    target = "/console/password" if user.must_change_password else (safe_next(next) or "/console/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=minutes * 60, path="/", httponly=True, samesite="lax",
                        secure=cookie_secure(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login", httponly=True, samesite="lax",
                           secure=cookie_secure(request))
    return response


@router.post("/logout")
def logout(request: Request, s: DbSession, who: FormUser):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sec.close_session(s, token)
    sec.audit(s, who, "logout")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request))
    return response


@router.get("/password")
def password_form(request: Request, who: Console):
    return render(request, "password.html", {"errors": {}, "forced": who.must_change_password})


@router.post("/password")
@guarded
def change_password(request: Request, s: DbSession, who: FormUser, old_password: FormStr = "",
                    new_password: FormStr = "", new_password2: FormStr = ""):
    lang = request_lang(request)
    try:
        if new_password != new_password2:
            raise ValidationFailed([FieldError("new_password2", "password.repeat", "两次输入的新密码不一致",
                                               "the two new passwords differ")])
        sec.change_own_password(s, who.user_id, old_password, new_password,
                                keep_session_token=request.cookies.get(SESSION_COOKIE))
    except ValidationFailed as err:
        sec.audit(s, who, "password.change", outcome="denied", detail={"reasons": [e.code for e in err.errors]})
        return render(request, "password.html", {"errors": field_errors(err, lang), "message": error_message(err, lang),
                                                 "forced": who.must_change_password}, status_code=422)
    sec.audit(s, who, "password.change")
    return RedirectResponse("/console/?msg=password_changed", status_code=303)


# ---------------------------------------------------------------- home

def scope_names(s: Session, scope: Scope, t: Translator) -> list[str]:
    if scope.everything:
        return [t("scope.everything")]
    codes = {p.ljust(12, "0") for p in scope.prefixes}
    names = reg_repo.division_names(s, codes)
    return [names.get(c, c) for c in sorted(codes)]


@router.get("/")
@guarded
def home(request: Request, s: DbSession, who: Console, msg: str | None = None):
    t = Translator(request_lang(request))
    counts = reg_repo.count_residents(s, who.scope)  # counts are not person data: no audit
    from rhip.mpi.service import summary as mpi_summary  # county-wide counts, no person data

    return render(request, "home.html", {
        "scope_names": scope_names(s, who.scope, t), "counts": counts, "total": sum(counts.values()),
        "flash": msg if msg in FLASH_KEYS else None, "mpi": mpi_summary(s) if who.can("resident.read") else None,
    })


# ---------------------------------------------------------------- residents

def villages_in_scope(s: Session, scope: Scope) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(township name, [(village code, village name)])] for the village select."""
    villages, _ = reg_repo.list_divisions(s, parent=None, level="village", offset=0, limit=20000)
    townships, _ = reg_repo.list_divisions(s, parent=None, level="township", offset=0, limit=5000)
    township_names = {d.code: d.name for d in townships}
    groups: dict[str, list[tuple[str, str]]] = {}
    for v in villages:
        if scope.covers(v.code):
            groups.setdefault(v.parent_code or "", []).append((v.code, v.name))
    return [(township_names.get(code, code), items) for code, items in groups.items()]


SORT_COLUMNS = ("record_no", "name", "birth_date")


@router.get("/residents")
@guarded
def residents(request: Request, s: DbSession, who: Console, q: str | None = None, village: str | None = None,
              tag: str | None = None, status: str | None = None, household: str | None = None,
              sort: str | None = None, page: str | None = None):
    who.require("resident.read")
    lang = request_lang(request)
    page_size = request.app.state.settings.page_size_default
    form = {"q": blank_to_none(q), "village": blank_to_none(village), "tag": blank_to_none(tag),
            "status": blank_to_none(status), "household": to_int(household, minimum=1),
            "sort": blank_to_none(sort) or "name"}
    query = reg_service.ResidentQuery(q=form["q"], village_code=form["village"], tag=form["tag"],
                                      status=form["status"], household_id=form["household"], sort=form["sort"])
    ctx: dict[str, Any] = {"form": form, "villages": villages_in_scope(s, who.scope), "result": None, "rows": [],
                           "errors": {}, "message": None, "sort_columns": SORT_COLUMNS}
    try:
        result = reg_service.search_residents(s, who, query, PageRequest(to_int(page, 1, minimum=1), page_size))
    except ValidationFailed as err:
        ctx.update(errors=field_errors(err, lang), message=error_message(err, lang))
        return render(request, "residents.html", ctx, status_code=422)
    on = reg_service.today()
    names = reg_repo.division_names(s, {r.village_code for r in result.items})
    ctx["result"] = result
    ctx["rows"] = [{"r": r, "age": age_on(r.birth_date, on), "tags": reg_service.tags_of(r, on),
                    "village": names.get(r.village_code, r.village_code)} for r in result.items]
    return render(request, "residents.html", ctx)


@router.get("/residents/{resident_id}")
@guarded
def resident_detail(request: Request, s: DbSession, who: Console, resident_id: str):
    rid = to_int(resident_id, minimum=1)
    if rid is None:
        raise NotFound("居民", "resident", resident_id)
    r = reg_service.get_resident(s, who, rid)  # checks the scope, audits resident.read
    on = reg_service.today()
    household, members, household_hidden = None, [], False
    if r.household_id is not None:
        try:
            household, members = reg_service.get_household(s, who, r.household_id)  # audits household.read
        except OutOfScope as err:
            # The resident is in scope but the household is not: show the resident, record the refusal.
            # (This request's transaction commits, so the denied event is written with it.)
            action, ids = err.audit
            sec.audit(s, who, action, outcome="denied", resident_ids=ids,
                      detail={"path": request.url.path, "household_id": r.household_id})
            household_hidden = True
    names = reg_repo.division_names(s, {r.village_code} | ({household.village_code} if household else set()))
    others = [{"r": m, "age": age_on(m.birth_date, on)} for m in members if m.id != r.id]
    return render(request, "resident.html", {
        "r": r, "age": age_on(r.birth_date, on), "tags": reg_service.tags_of(r, on),
        "village": names.get(r.village_code, r.village_code), "household": household, "members": others,
        "household_hidden": household_hidden,
    })


# ---------------------------------------------------------------- organizations and teams

def _page_no(page: str | None) -> int:
    return to_int(page, 1, minimum=1)


@router.get("/organizations")
@guarded
def organizations(request: Request, s: DbSession, who: Console, kind: str | None = None, page: str | None = None):
    who.require("registry.read")
    kind = kind if kind in ORG_KINDS else None
    pr = PageRequest(_page_no(page), request.app.state.settings.page_size_default)
    rows, total = reg_repo.list_organizations(s, kind=kind, tier=None, division=None, medical_community_id=None,
                                              offset=pr.offset, limit=pr.page_size)
    names = reg_repo.division_names(s, {o.division_code for o in rows})
    communities = {}
    for mc_id in {o.medical_community_id for o in rows if o.medical_community_id}:
        mc = reg_repo.get_medical_community(s, mc_id)
        communities[mc_id] = mc.name if mc else str(mc_id)
    items = [{"o": o, "division": names.get(o.division_code, o.division_code),
              "community": communities.get(o.medical_community_id, "")} for o in rows]
    return render(request, "organizations.html", {"items": items, "page": Page(rows, total, pr.page, pr.page_size),
                                                  "kind": kind})


@router.get("/teams")
@guarded
def teams(request: Request, s: DbSession, who: Console, page: str | None = None):
    who.require("registry.read")
    pr = PageRequest(_page_no(page), request.app.state.settings.page_size_default)
    rows, total = reg_repo.list_teams(s, org_id=None, village_code=None, offset=pr.offset, limit=pr.page_size)
    ids = [tm.id for tm in rows]
    members = reg_repo.team_members(s, ids)
    villages = reg_repo.team_villages(s, ids)
    names = reg_repo.division_names(s, {code for codes in villages.values() for code in codes})
    orgs = {oid: reg_repo.get_organization(s, oid) for oid in {tm.org_id for tm in rows}}
    items = [{"team": tm, "org": orgs[tm.org_id].name if orgs.get(tm.org_id) else "",
              "members": members.get(tm.id, []),
              "villages": [names.get(c, c) for c in villages.get(tm.id, [])]} for tm in rows]
    return render(request, "teams.html", {"items": items, "page": Page(rows, total, pr.page, pr.page_size)})


# ---------------------------------------------------------------- audit trail

@router.get("/audit")
@guarded
def audit_trail(request: Request, s: DbSession, who: Console, username: str | None = None,
                action: str | None = None, resident: str | None = None, page: str | None = None):
    who.require("audit.read")
    form = {"username": blank_to_none(username), "action": blank_to_none(action), "resident": blank_to_none(resident)}
    resident_id = to_int(form["resident"], minimum=1) if form["resident"] else None
    pr = PageRequest(_page_no(page), AUDIT_PAGE_SIZE)
    if form["resident"] and resident_id is None:
        rows, total = [], 0  # not a resident id: nothing can match
    else:
        rows, total = sec_repo.audit_page(s, resident_id=resident_id, username=form["username"],
                                          action=form["action"], offset=pr.offset, limit=pr.page_size)
    subjects = sec_repo.audit_subjects(s, [e.id for e in rows])
    items = [{"e": e, "residents": subjects.get(e.id, [])} for e in rows]
    return render(request, "audit.html", {"items": items, "form": form,
                                          "page": Page(rows, total, pr.page, pr.page_size)})


# ---------------------------------------------------------------- users

def _users_page(request: Request, s: Session, *, page: int = 1, form: dict | None = None,
                errors: dict | None = None, message: str | None = None, created: str | None = None,
                status_code: int = 200) -> Response:
    pr = PageRequest(page, USERS_PAGE_SIZE)
    rows, total = sec_repo.list_users(s, offset=pr.offset, limit=pr.page_size)
    scopes = sec_repo.scopes_of_users(s, [u.id for u in rows])
    items = [{"u": u, "scope": [sc.division_code or f"org:{sc.org_id}" for sc in scopes.get(u.id, [])]}
             for u in rows]
    return render(request, "users.html", {
        "items": items, "page": Page(rows, total, pr.page, pr.page_size), "errors": errors or {},
        "message": message, "created": created,
        "form": form or {"username": "", "display_name": "", "role": "village_doctor", "divisions": ""},
    }, status_code=status_code)


@router.get("/users")
@guarded
def users(request: Request, s: DbSession, who: Console, page: str | None = None, created: str | None = None):
    who.require("users.manage")
    return _users_page(request, s, page=_page_no(page), created=blank_to_none(created))


def split_codes(text: str) -> list[str]:
    for sep in "，,、;；\n\t":
        text = text.replace(sep, " ")
    return list(dict.fromkeys(part for part in text.split() if part))


@router.post("/users")
@guarded
def create_user(request: Request, s: DbSession, who: FormUser, username: FormStr = "", display_name: FormStr = "",
                role: FormStr = "", password: FormStr = "", divisions: FormStr = ""):
    who.require("users.manage")
    lang = request_lang(request)
    form = {"username": username.strip(), "display_name": display_name.strip(), "role": role, "divisions": divisions}
    try:
        errors = []
        if not password:
            errors.append(FieldError("password", "password.required", "请设置初始密码", "set an initial password"))
        if errors:
            raise ValidationFailed(errors)
        user = sec.create_user(s, username=form["username"], display_name=form["display_name"], role=role,
                               password=password, division_codes=split_codes(divisions), must_change_password=True)
    except RhipError as err:
        if not err.errors and err.http_status not in (409, 422):
            raise
        return _users_page(request, s, form=form, errors=field_errors(err, lang),
                           message=error_message(err, lang), status_code=err.http_status)
    sec.audit(s, who, "user.create", detail={"username": user.username, "role": user.role})
    return RedirectResponse("/console/users?" + urlencode({"created": user.username}), status_code=303)


# ---------------------------------------------------------------- anything else under /console

@router.get("/{rest:path}")
def not_found(request: Request, who: Console, rest: str):
    t = Translator(request_lang(request))
    return render(request, "error.html", {"status": 404, "message": t("error.404.message"), "errors": {}},
                  status_code=404)


def mount_console(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    app.add_exception_handler(ConsoleRedirect, on_redirect)
    app.add_exception_handler(ConsolePageError, on_page_error)
    app.include_router(router)

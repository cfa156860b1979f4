"""Security API: sign-in for scripts, who am I, users, tokens, the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rhip.kit.http import DbSession
from rhip.kit.pagination import Page, PageRequest
from rhip.security import repository as repo
from rhip.security import schemas as sc
from rhip.security import service as sec
from rhip.security.deps import Who
from rhip.security.rules import ROLES

router = APIRouter(prefix="/api", tags=["security 安全"])


def _page(items, p: Page) -> dict:
    return {"items": items, "total": p.total, "page": p.page, "page_size": p.page_size, "pages": p.pages}


@router.get("/me", response_model=sc.MeOut, summary="当前用户")
def me(who: Who):
    return sc.MeOut(username=who.username, display_name=who.display_name, role=who.role,
                    role_label=ROLES[who.role][0], must_change_password=who.must_change_password,
                    scope_everything=who.scope.everything, scope=sorted(who.scope.prefixes),
                    permissions=sorted(who.permissions))


@router.get("/users", summary="用户列表")
def list_users(s: DbSession, who: Who, page: Annotated[int, Query(ge=1)] = 1,
               page_size: Annotated[int, Query(ge=1, le=200)] = 50):
    who.require("users.manage")
    pr = PageRequest(page, page_size)
    rows, total = repo.list_users(s, offset=pr.offset, limit=page_size)
    items = [sc.UserOut.model_validate(u, from_attributes=True) for u in rows]
    return _page(items, Page(rows, total, page, page_size))


@router.post("/users", response_model=sc.UserOut, status_code=201, summary="创建用户")
def create_user(body: sc.UserIn, s: DbSession, who: Who):
    who.require("users.manage")
    u = sec.create_user(s, username=body.username, display_name=body.display_name, role=body.role,
                        password=body.password, division_codes=body.divisions, org_ids=body.organizations,
                        practitioner_id=body.practitioner_id, org_id=body.org_id,
                        must_change_password=body.password is not None)
    sec.audit(s, who, "user.create", detail={"username": u.username, "role": u.role})
    return sc.UserOut.model_validate(u, from_attributes=True)


@router.post("/users/{username}/tokens", response_model=sc.TokenOut, status_code=201, summary="为系统账户签发API令牌")
def create_token(username: str, body: sc.TokenIn, s: DbSession, who: Who):
    who.require("users.manage")
    token, row = sec.create_token(s, username, body.name, days=body.days)
    sec.audit(s, who, "token.create", detail={"username": username, "name": body.name, "prefix": row.prefix})
    return sc.TokenOut(token=token, prefix=row.prefix, name=row.name, expires_at=row.expires_at)


@router.get("/audit", summary="审计日志 The audit trail")
def list_audit(s: DbSession, who: Who, resident: int | None = None, username: str | None = None,
               action: str | None = None, page: Annotated[int, Query(ge=1)] = 1,
               page_size: Annotated[int, Query(ge=1, le=200)] = 50):
    who.require("audit.read")
    pr = PageRequest(page, page_size)
    rows, total = repo.audit_page(s, resident_id=resident, username=username, action=action, offset=pr.offset,
                                  limit=page_size)
    subjects = repo.audit_subjects(s, [e.id for e in rows])
    items = [sc.AuditOut(id=e.id, at=e.at, username=e.username, role=e.role, action=e.action, outcome=e.outcome,
                         client_addr=e.client_addr, channel=e.channel, resident_ids=subjects.get(e.id, []),
                         detail=e.detail) for e in rows]
    return _page(items, Page(rows, total, page, page_size))

"""Security use cases. Each function runs inside the caller's transaction and never commits."""

from __future__ import annotations

import hashlib
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rhip.kit import clock
from rhip.kit.errors import Conflict, FieldError, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from rhip.security import repository as repo
from rhip.security.models import ApiToken, User, WebSession
from rhip.security.passwords import burn_time, hash_password, needs_rehash, verify_password
from rhip.security.rules import (
    LOCK_AFTER_FAILURES, LOCK_MINUTES, PERMISSIONS, ROLES, Scope, division_prefix, password_problems,
)


def now() -> datetime:
    return clock.now()


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, with what role and scope, from where."""

    user_id: int | None
    username: str
    role: str
    display_name: str
    scope: Scope
    channel: str = "api"  # api | console | cli
    client_addr: str | None = None
    must_change_password: bool = False
    csrf_token: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"当前角色（{ROLES[self.role][0]}）无此权限：{permission}",
                            f"your role ({self.role}) lacks the permission {permission}")


def system_principal(reason: str = "cli") -> Principal:
    """The platform acting for itself (CLI jobs run by an operator on the server)."""
    return Principal(None, f"system:{reason}", "administrator", "系统", Scope(everything=True), channel="cli",
                     permissions=PERMISSIONS["administrator"])


def resolve_scope(s: Session, user: User) -> Scope:
    if user.role == "administrator":
        return Scope(everything=True)
    codes: set[str] = set()
    org_ids: list[int] = []
    for row in repo.scope_rows(s, user.id):
        if row.division_code:
            codes.add(row.division_code)
        if row.org_id:
            org_ids.append(row.org_id)
    if user.org_id and not codes and not org_ids and user.role != "village_doctor":
        org_ids.append(user.org_id)
    codes.update(repo.org_division_codes(s, org_ids))
    if user.practitioner_id and user.role in ("village_doctor", "township_staff"):
        codes.update(repo.team_villages_of_practitioner(s, user.practitioner_id))
    return Scope(everything=False, prefixes=frozenset(division_prefix(c) for c in codes))


def principal_for(s: Session, user: User, *, channel: str, client_addr: str | None,
                  csrf_token: str | None = None) -> Principal:
    return Principal(user.id, user.username, user.role, user.display_name, resolve_scope(s, user), channel,
                     client_addr, user.must_change_password, csrf_token, PERMISSIONS.get(user.role, frozenset()))


# ---------------------------------------------------------------- audit

def audit(s: Session, who: Principal, action: str, *, outcome: str = "ok", resident_ids: list[int] | None = None,
          detail: dict | None = None) -> int:
    """Append one audit event (and its subjects) inside the caller's transaction. Inside ``batched_audit``
    the event is collected instead (returns 0) and written with the others of its kind at the end."""
    batch = s.info.get(_BATCH)
    if batch is not None and batch[0] is who:
        ids_, details = batch[1].setdefault((action, outcome), (set(), []))
        ids_.update(resident_ids or [])
        if detail:
            details.append(detail)
        return 0
    ids = sorted(set(resident_ids or []))
    return repo.insert_audit(s, {
        "at": clock.now(), "user_id": who.user_id, "username": who.username, "role": who.role,
        "action": action, "outcome": outcome, "client_addr": who.client_addr, "channel": who.channel,
        "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        "resident_count": len(ids),
    }, ids)


_BATCH = "rhip.audit_batch"


@contextmanager
def batched_audit(s: Session, who: Principal, **context):
    """Within the block, ``who``'s audit events are collected and, when the block succeeds, written as one
    event per (action, outcome) with all its subjects and every detail (``{"items": [...], **context}``).
    For one all-or-nothing unit such as a FHIR transaction: if it fails, nothing was written anyway."""
    if s.info.get(_BATCH) is not None:  # already batching (nested): the outer block writes
        yield
        return
    collected: dict = {}
    s.info[_BATCH] = (who, collected)
    try:
        yield
    finally:
        s.info.pop(_BATCH, None)
    for (action, outcome), (ids, details) in collected.items():
        audit(s, who, action, outcome=outcome, resident_ids=list(ids),
              detail={**context, "count": len(details), "items": details} if details else context or None)


# ---------------------------------------------------------------- users

def _validate_user_fields(s: Session, *, username: str | None, role: str | None, password: str | None,
                          division_codes: list[str], errors: list[FieldError]) -> None:
    if username is not None and not (2 <= len(username) <= 64 and username.replace("_", "").replace(".", "")
                                     .replace("-", "").isalnum()):
        errors.append(FieldError("username", "username.format", "用户名须为2–64位字母、数字或 _ . -",
                                 "user name must be 2–64 letters, digits or _ . -"))
    if role is not None and role not in ROLES:
        errors.append(FieldError("role", "role.unknown", f"角色“{role}”不存在",
                                 f"role '{role}' does not exist; use one of {', '.join(ROLES)}"))
    if password is not None:
        for zh, en in password_problems(password, username or ""):
            errors.append(FieldError("password", "password.weak", zh, en))
    missing = set(division_codes) - repo.divisions_exist(s, division_codes)
    for code in sorted(missing):
        errors.append(FieldError("divisions", "division.unknown", f"区划“{code}”不存在", f"division {code} does not exist"))


def create_user(s: Session, *, username: str, display_name: str, role: str, password: str | None,
                division_codes: list[str] = (), org_ids: list[int] = (), practitioner_id: int | None = None,
                org_id: int | None = None, must_change_password: bool = False) -> User:
    errors: list[FieldError] = []
    _validate_user_fields(s, username=username, role=role, password=password, division_codes=list(division_codes),
                          errors=errors)
    if errors:
        raise ValidationFailed(errors)
    if repo.user_by_username(s, username):
        raise Conflict("username.taken", f"用户名“{username}”已存在", f"user name '{username}' is taken", "username")
    user = User(username=username, display_name=display_name or username, role=role,
                password_hash=hash_password(password) if password else None, practitioner_id=practitioner_id,
                org_id=org_id, active=True, must_change_password=must_change_password, failed_logins=0,
                created_at=now())
    s.add(user)
    s.flush()
    repo.replace_scope(s, user.id, division_codes, org_ids)
    s.flush()
    return user


def set_password(s: Session, username: str, password: str, *, must_change: bool = False) -> User:
    user = repo.user_by_username(s, username)
    if not user:
        raise NotFound("用户", "user", username)
    errors = [FieldError("password", "password.weak", zh, en) for zh, en in password_problems(password, username)]
    if errors:
        raise ValidationFailed(errors)
    _store_password(user, password, must_change=must_change)
    return user


def _store_password(user: User, password: str, *, must_change: bool) -> None:
    """A new password: hashed, and any failed-sign-in count or lock cleared."""
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None


def authenticate(s: Session, username: str, password: str) -> User:
    """Check a password; count failures and lock the account for a while after too many."""
    user = repo.user_by_username(s, username)
    if user is None or not user.active:
        burn_time(password)
        raise NotAuthenticated()
    t = now()
    if user.locked_until and user.locked_until > t:
        raise Forbidden(f"登录失败次数过多，账户已锁定至{user.locked_until:%H:%M}",
                        f"too many failed sign-ins; the account is locked until {user.locked_until:%H:%M}")
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= LOCK_AFTER_FAILURES:
            user.locked_until = t + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        raise NotAuthenticated()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = t
    return user


# ---------------------------------------------------------------- sessions and tokens

def open_session(s: Session, user: User, *, minutes: int, client_addr: str | None) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    ws = WebSession(token_hash=sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                    created_at=now(), expires_at=now() + timedelta(minutes=minutes), client_addr=client_addr)
    s.add(ws)
    return token, ws


def session_user(s: Session, token: str) -> tuple[User, WebSession] | None:
    ws = repo.session_by_hash(s, sha256(token))
    if ws is None or ws.expires_at <= now():
        return None
    user = repo.user_by_id(s, ws.user_id)
    if user is None or not user.active:
        return None
    return user, ws


def close_session(s: Session, token: str) -> None:
    ws = repo.session_by_hash(s, sha256(token))
    if ws is not None:
        s.delete(ws)


def create_token(s: Session, username: str, name: str, *, days: int | None = 365) -> tuple[str, ApiToken]:
    user = repo.user_by_username(s, username)
    if not user:
        raise NotFound("用户", "user", username)
    token = "rhip_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:12], token_hash=sha256(token), created_at=now(),
                   expires_at=now() + timedelta(days=days) if days else None)
    s.add(row)
    s.flush()
    return token, row


def token_user(s: Session, token: str) -> User | None:
    found = repo.token_and_user(s, sha256(token))
    t = now()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or (row.expires_at and row.expires_at <= t) or not user.active:
        return None
    if row.last_used_at is None or t - row.last_used_at > timedelta(minutes=5):
        repo.touch_token(s, row.id, t)  # coarse, so that a busy system does not write on every call
    return user


# ---------------------------------------------------------------- own account (console)

def change_own_password(s: Session, user_id: int, old: str, new: str, *, keep_session_token: str | None = None
                        ) -> User:
    """A signed-in user changes their own password: the current one must be right, the new one strong.

    Clears ``must_change_password``. The user's other console sessions are ended (the one given by
    ``keep_session_token`` stays open).
    """
    user = repo.user_by_id(s, user_id)
    if user is None or not user.active:
        raise NotAuthenticated()
    errors: list[FieldError] = []
    if not verify_password(user.password_hash, old or ""):
        errors.append(FieldError("old_password", "password.wrong", "原密码不正确", "the current password is wrong"))
    if not new:
        errors.append(FieldError("new_password", "password.required", "请填写新密码", "enter a new password"))
    else:
        if new == old:
            errors.append(FieldError("new_password", "password.unchanged", "新密码不能与原密码相同",
                                     "the new password must differ from the current one"))
        errors.extend(FieldError("new_password", "password.weak", zh, en)
                      for zh, en in password_problems(new, user.username))
    if errors:
        raise ValidationFailed(errors)
    _store_password(user, new, must_change=False)
    s.flush()
    repo.delete_sessions_of_user(s, user.id, keep_hash=sha256(keep_session_token) if keep_session_token else None)
    return user

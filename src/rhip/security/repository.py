"""All security queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from rhip.registry.models import Division, Organization, TeamMember, TeamVillage
from rhip.security.models import ApiToken, AuditEvent, AuditSubject, User, UserScope, WebSession


def user_by_username(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))


def user_by_id(s: Session, user_id: int) -> User | None:
    return s.get(User, user_id)


def list_users(s: Session, *, offset: int, limit: int) -> tuple[list[User], int]:
    total = s.scalar(select(func.count()).select_from(User))
    rows = s.scalars(select(User).order_by(User.username).offset(offset).limit(limit)).all()
    return list(rows), total


def scope_rows(s: Session, user_id: int) -> list[UserScope]:
    return list(s.scalars(select(UserScope).where(UserScope.user_id == user_id)))


def replace_scope(s: Session, user_id: int, division_codes: Iterable[str], org_ids: Iterable[int]) -> None:
    for row in scope_rows(s, user_id):
        s.delete(row)
    s.flush()
    for code in division_codes:
        s.add(UserScope(user_id=user_id, division_code=code))
    for oid in org_ids:
        s.add(UserScope(user_id=user_id, org_id=oid))


def org_division_codes(s: Session, org_ids: Iterable[int]) -> list[str]:
    ids = list(org_ids)
    if not ids:
        return []
    return list(s.scalars(select(Organization.division_code).where(Organization.id.in_(ids))))


def team_villages_of_practitioner(s: Session, practitioner_id: int) -> list[str]:
    q = (select(TeamVillage.division_code)
         .join(TeamMember, TeamMember.team_id == TeamVillage.team_id)
         .where(TeamMember.practitioner_id == practitioner_id))
    return list(s.scalars(q))


def divisions_exist(s: Session, codes: Iterable[str]) -> set[str]:
    codes = list(codes)
    if not codes:
        return set()
    return set(s.scalars(select(Division.code).where(Division.code.in_(codes))))


def session_by_hash(s: Session, token_hash: str) -> WebSession | None:
    return s.get(WebSession, token_hash)


def token_by_hash(s: Session, token_hash: str) -> ApiToken | None:
    return s.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def token_and_user(s: Session, token_hash: str) -> tuple[ApiToken, User] | None:
    """A bearer token and its user in one query (every API call starts with this)."""
    row = s.execute(_TOKEN_AND_USER, {"token_hash": token_hash}).first()
    return (row[0], row[1]) if row else None


_TOKEN_AND_USER = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                   .where(ApiToken.token_hash == bindparam("token_hash")))


def touch_token(s: Session, token_id: int, now: datetime) -> None:
    s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


_EVENT, _SUBJECT = AuditEvent.__table__, AuditSubject.__table__
# Built once: an audit row is written on every read, so its statements should cost no compiling.
_INSERT_EVENT = _EVENT.insert().returning(_EVENT.c.id)
_INSERT_SUBJECTS = _SUBJECT.insert()
_EVENT_COLUMNS = ("at", "user_id", "username", "role", "action", "outcome", "client_addr", "channel", "detail",
                  "resident_count")
# PostgreSQL: the event and its subjects in one statement (one round trip instead of two).
_INSERT_EVENT_WITH_SUBJECTS_PG = text(
    f"WITH e AS (INSERT INTO audit_event ({', '.join(_EVENT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _EVENT_COLUMNS)}) RETURNING id) "
    "INSERT INTO audit_subject (event_id, resident_id) SELECT e.id, r FROM e, unnest(CAST(:ids AS bigint[])) AS r "
    "RETURNING event_id").bindparams(bindparam("at", type_=DateTime()))


def insert_audit(s: Session, values: dict, resident_ids: list[int]) -> int:
    if resident_ids and s.get_bind().dialect.name == "postgresql":
        return s.execute(_INSERT_EVENT_WITH_SUBJECTS_PG, {**values, "ids": list(resident_ids)}).scalar()
    event_id = s.execute(_INSERT_EVENT, values).scalar_one()
    if resident_ids:
        s.execute(_INSERT_SUBJECTS, [{"event_id": event_id, "resident_id": rid} for rid in resident_ids])
    return event_id


def audit_page(s: Session, *, resident_id: int | None, username: str | None, action: str | None,
               offset: int, limit: int) -> tuple[list[AuditEvent], int]:
    q = select(AuditEvent)
    if resident_id is not None:
        q = q.where(AuditEvent.id.in_(select(AuditSubject.event_id).where(AuditSubject.resident_id == resident_id)))
    if username:
        q = q.where(AuditEvent.username == username)
    if action:
        q = q.where(AuditEvent.action == action)
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(AuditEvent.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def audit_subjects(s: Session, event_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if not event_ids:
        return out
    for ev, rid in s.execute(select(AuditSubject.event_id, AuditSubject.resident_id)
                             .where(AuditSubject.event_id.in_(event_ids))):
        out.setdefault(ev, []).append(rid)
    return out


def delete_sessions_of_user(s: Session, user_id: int, *, keep_hash: str | None = None) -> int:
    """End a user's console sessions (all but ``keep_hash``), e.g. after a password change."""
    from sqlalchemy import delete

    q = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_hash is not None:
        q = q.where(WebSession.token_hash != keep_hash)
    return s.execute(q).rowcount


def scopes_of_users(s: Session, user_ids: list[int]) -> dict[int, list[UserScope]]:
    out: dict[int, list[UserScope]] = {}
    if not user_ids:
        return out
    for row in s.scalars(select(UserScope).where(UserScope.user_id.in_(user_ids)).order_by(UserScope.id)):
        out.setdefault(row.user_id, []).append(row)
    return out

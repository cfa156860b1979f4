"""Security tables: users, their scope, console sessions, API tokens, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of

BigId = BigInteger().with_variant(Integer(), "sqlite")


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id; None for token-only system users
    role: Mapped[str] = mapped_column(String(32))  # see rules.ROLES
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserScope(Base):
    """An org unit a user serves: a division (any level, covering everything below it) or an organization."""

    __tablename__ = "user_scope"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    __table_args__ = (
        CheckConstraint("(division_code IS NULL) <> (org_id IS NULL)", name="one_target"),
    )


class WebSession(Base):
    """Server-side console session; the cookie carries a random token whose SHA-256 is stored here."""

    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    client_addr: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """Bearer token for a system (HIS, LIS, …) or a script; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the migration)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))  # e.g. resident.search, resident.read, resident.create
    outcome: Mapped[str] = mapped_column(String(12))  # ok | denied | error
    client_addr: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(12))  # api | console | cli
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: query, fields changed, reason
    resident_count: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (CheckConstraint(one_of("outcome", ("ok", "denied", "error")), name="outcome"),)


class AuditSubject(Base):
    """Which residents an audit event touched (one row per resident, so "who saw person X" is one query)."""

    __tablename__ = "audit_subject"
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    __table_args__ = (Index("ix_audit_subject_resident_id", "resident_id"),)

"""Superseded versions of FHIR resources (vread and _history). The live row of a resource is its current
version; this table keeps only the versions it replaced, and a tombstone for a delete. Append-only: database
triggers refuse UPDATE and DELETE (see migration 0006)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of

BigId = BigInteger().with_variant(Integer(), "sqlite")
METHODS = ("POST", "PUT", "DELETE")


class ResourceHistory(Base):
    __tablename__ = "resource_history"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[int] = mapped_column(BigId)
    version_id: Mapped[int] = mapped_column(Integer)
    last_updated: Mapped[datetime] = mapped_column(DateTime)  # meta.lastUpdated of that version
    method: Mapped[str] = mapped_column(String(8))  # how that version came to be: POST (v1), PUT, DELETE
    resident_id: Mapped[int] = mapped_column(BigId)  # whose data it is (scope and audit), kept after a delete
    resource: Mapped[str | None] = mapped_column(Text)  # the version's FHIR JSON; NULL for a delete (tombstone)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # when it was superseded
    recorded_by: Mapped[str | None] = mapped_column(String(64))  # username of who superseded it
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "version_id", name="uq_resource_history_version"),
        # type history and _since: a type's versions newest first (migration 0011)
        Index("ix_resource_history_type_updated", "resource_type", "last_updated", "resource_id", "version_id",
              "resident_id"),
        CheckConstraint(one_of("method", METHODS), name="method"),
    )

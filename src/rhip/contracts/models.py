"""Contract tables. At most one active contract per resident is enforced by a partial unique index."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of
from rhip.registry.models import BigId

CONTRACT_STATUSES = ("active", "renewed", "transferred", "terminated", "expired")
CONSENT_METHODS = ("written", "e_signature", "verbal_witnessed")


class Contract(Base):
    """家庭医生签约服务协议. ``status`` 'active' = in force or starting later; the others are ended.
    In force on a day D: ``start_date <= D <= coalesce(ended_on, end_date)``."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))  # 责任医生, a member of the team
    catalogue_version: Mapped[str] = mapped_column(String(16))  # packages.json version the packages come from
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)  # last day in force when ended early (transfer, termination)
    status: Mapped[str] = mapped_column(String(12))
    consent_date: Mapped[date] = mapped_column(Date)
    consent_method: Mapped[str] = mapped_column(String(20))
    consent_witness: Mapped[str | None] = mapped_column(String(64))
    fee_fen: Mapped[int] = mapped_column(Integer, default=0)  # paid by the resident, in fen (0.01 yuan)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"))  # renewed or transferred from
    end_reason: Mapped[str | None] = mapped_column(String(20))  # termination reason code, or "transfer"
    end_note: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | console | synth
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("uq_contract_active_resident", "resident_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        Index("ix_contract_resident_start", "resident_id", "start_date"),
        Index("ix_contract_team_status", "team_id", "status"),
        Index("ix_contract_status_end", "status", "end_date"),
        Index("ix_contract_previous_id", "previous_id"),
        CheckConstraint(one_of("status", CONTRACT_STATUSES), name="status"),
        CheckConstraint(one_of("consent_method", CONSENT_METHODS), name="consent_method"),
        CheckConstraint("end_date >= start_date", name="dates"),
    )


class ContractPackage(Base):
    """The packages of a contract, with the price and the resident's share as signed."""

    __tablename__ = "contract_package"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True)
    package_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    price_fen: Mapped[int] = mapped_column(Integer)
    personal_fen: Mapped[int] = mapped_column(Integer)


class KeyPopulation(Base):
    """A resident's membership of a key population (重点人群) as last classified, with the reason."""

    __tablename__ = "key_population"
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), primary_key=True)
    population: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[date | None] = mapped_column(Date)
    reason_zh: Mapped[str] = mapped_column(String(120))
    reason_en: Mapped[str] = mapped_column(String(160))
    as_of: Mapped[date] = mapped_column(Date)  # the date the classification was made for
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_key_population_population", "population", "resident_id"),)


class ClassificationRun(Base):
    """Bookkeeping of classification runs: the incremental run re-classifies residents whose registry
    entry or conditions changed since the last run's start (its watermark)."""

    __tablename__ = "key_population_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    as_of: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(12))  # full | changed
    residents: Mapped[int] = mapped_column(Integer)

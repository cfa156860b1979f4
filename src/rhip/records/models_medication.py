"""Medication tables: prescriptions/orders (MedicationRequest) and what a patient takes or took
(MedicationStatement).

The medication is a coded concept. The platform's own system is ``urn:rhip:cs:drug`` (:data:`DRUG_SYSTEM`):
codes of the national medical-insurance drug classification and codes (国家医保药品分类与代码, which cover the
national essential-medicines list, 国家基本药物目录), or platform short codes where a source has none. Any
other system is accepted and kept as sent, with its code and display.

Dosage is kept as its text plus one structured dose (value, unit), a frequency (``frequency`` times per
``period`` ``period_unit``, unit h, d or wk) and the route as text. Statuses and intents follow FHIR R4's
required value sets.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of
from rhip.records.models import BigId, _Sourced

DRUG_SYSTEM = "urn:rhip:cs:drug"
MEDICATION_REQUEST_STATUSES = ("active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft",
                               "unknown")
MEDICATION_REQUEST_INTENTS = ("proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                              "instance-order", "option")
MEDICATION_STATEMENT_STATUSES = ("active", "completed", "entered-in-error", "intended", "stopped", "on-hold",
                                 "unknown", "not-taken")
PERIOD_UNITS = ("h", "d", "wk")


class _Dosage:
    """Medication and dosage columns shared by requests and statements."""

    code_system: Mapped[str] = mapped_column(String(64))  # urn:rhip:cs:drug or the source's system
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None] = mapped_column(String(200))
    dosage_text: Mapped[str | None] = mapped_column(String(500))  # e.g. 每日1次，每次1片，口服
    dose_value: Mapped[float | None] = mapped_column(Float)
    dose_unit: Mapped[str | None] = mapped_column(String(24))  # mg, 片, ml …
    frequency: Mapped[int | None] = mapped_column(Integer)  # times per period
    period: Mapped[float | None] = mapped_column(Float)
    period_unit: Mapped[str | None] = mapped_column(String(4))  # h | d | wk
    route: Mapped[str | None] = mapped_column(String(64))  # 口服, 静脉滴注 … (text)
    reason_code: Mapped[str | None] = mapped_column(String(16))  # ICD-10
    reason_text: Mapped[str | None] = mapped_column(String(200))


class MedicationRequest(_Dosage, _Sourced, Base):
    """A prescription or medication order (处方/医嘱). ``practitioner_id`` is the requester (开方医生),
    ``org_id`` the requesting organization when the requester is one."""

    __tablename__ = "medication_request"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    status: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str] = mapped_column(String(16))
    authored_on: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_medication_request_source"),
        Index("ix_medication_request_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_medication_request_resident_code_time", "resident_id", "code", "authored_on"),
        CheckConstraint(one_of("status", MEDICATION_REQUEST_STATUSES), name="status"),
        CheckConstraint(one_of("intent", MEDICATION_REQUEST_INTENTS), name="intent"),
        CheckConstraint(one_of("period_unit", PERIOD_UNITS), name="period_unit"),
        CheckConstraint("dose_value > 0", name="dose_value"),
        CheckConstraint("frequency >= 1", name="frequency"),
    )


class MedicationStatement(_Dosage, _Sourced, Base):
    """A medication the patient takes, took or intends to take (用药史), over ``effective_start`` –
    ``effective_end``. ``practitioner_id`` / ``org_id`` is the information source, ``encounter_id`` the
    context."""

    __tablename__ = "medication_statement"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    status: Mapped[str] = mapped_column(String(16))
    effective_start: Mapped[date] = mapped_column(Date)
    effective_end: Mapped[date | None] = mapped_column(Date)
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_medication_statement_source"),
        Index("ix_medication_statement_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_medication_statement_resident_code_start", "resident_id", "code", "effective_start"),
        CheckConstraint(one_of("status", MEDICATION_STATEMENT_STATUSES), name="status"),
        CheckConstraint(one_of("period_unit", PERIOD_UNITS), name="period_unit"),
        CheckConstraint("dose_value > 0", name="dose_value"),
        CheckConstraint("frequency >= 1", name="frequency"),
        CheckConstraint("effective_end IS NULL OR effective_end >= effective_start", name="effective_order"),
    )

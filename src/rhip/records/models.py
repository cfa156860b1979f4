"""Record tables. Codes: encounter status/class and observation status per FHIR R4; diagnoses ICD-10;
observations LOINC where one exists."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of

BigId = BigInteger().with_variant(Integer(), "sqlite")

ENCOUNTER_KINDS = ("outpatient", "emergency", "inpatient", "home_visit", "followup", "physical_exam")
ENCOUNTER_STATUSES = ("planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                      "entered-in-error", "unknown")
OBSERVATION_STATUSES = ("registered", "preliminary", "final", "amended", "corrected", "cancelled",
                        "entered-in-error", "unknown")


class _Sourced:
    """Columns every record has: who it is about, who is responsible, where it came from, its version."""

    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    source_system: Mapped[str] = mapped_column(String(64))  # e.g. "his:CH411530", "rhip"
    source_id: Mapped[str] = mapped_column(String(64))  # the record's id in that system
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Encounter(_Sourced, Base):
    __tablename__ = "encounter"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(String(200))
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_encounter_source"),
        Index("ix_encounter_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_encounter_resident_start", "resident_id", "period_start"),
        CheckConstraint(one_of("kind", ENCOUNTER_KINDS), name="kind"),
        CheckConstraint(one_of("status", ENCOUNTER_STATUSES), name="status"),
    )


class Condition(_Sourced, Base):
    __tablename__ = "condition"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    code_system: Mapped[str] = mapped_column(String(64))  # ICD-10 (国家临床版 2.0 in hospitals)
    code: Mapped[str] = mapped_column(String(16))
    display: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(24))  # problem-list-item | encounter-diagnosis
    clinical_status: Mapped[str | None] = mapped_column(String(16))  # active | recurrence | relapse | inactive | …
    verification_status: Mapped[str | None] = mapped_column(String(20))  # unconfirmed | provisional | confirmed | …
    onset_date: Mapped[date | None] = mapped_column(Date)
    recorded_date: Mapped[date | None] = mapped_column(Date)
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_condition_source"),
        Index("ix_condition_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_condition_resident_code", "resident_id", "code"),
    )


class Observation(_Sourced, Base):
    __tablename__ = "observation"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(24))  # vital-signs | laboratory | exam | survey …
    code_system: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None] = mapped_column(String(200))
    effective_at: Mapped[datetime] = mapped_column(DateTime)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(24))  # UCUM
    value_text: Mapped[str | None] = mapped_column(String(500))
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)
    interpretation: Mapped[str | None] = mapped_column(String(8))  # v3 ObservationInterpretation: N, H, L, HH, LL, A
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_observation_source"),
        Index("ix_observation_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_observation_resident_code_time", "resident_id", "code", "effective_at"),
        CheckConstraint(one_of("status", OBSERVATION_STATUSES), name="status"),
    )


class ObservationComponent(Base):
    """Components of an observation, e.g. systolic and diastolic of a blood pressure."""

    __tablename__ = "observation_component"
    observation_id: Mapped[int] = mapped_column(ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_system: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(24))
